/* The every-type table of test_codec_real (see codec_rows.h). Expected
 * values come from the CQL literals' meaning (dates, times and varints
 * computed independently of the codec), never from the codec itself. */
#include "codec_rows.h"

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "proto/types.h"

const char codec_create_udt[] =
    "CREATE TYPE " CODEC_KS ".address (street text, zip int, phones list<text>)";

const char codec_create_all_types[] =
    "CREATE TABLE " CODEC_KS ".all_types (id int PRIMARY KEY, a_ascii ascii, a_bigint bigint, "
    "a_blob blob, a_boolean boolean, a_date date, a_decimal decimal, a_double double, "
    "a_duration duration, a_float float, a_inet4 inet, a_inet6 inet, a_int int, "
    "a_smallint smallint, a_text text, a_time time, a_timestamp timestamp, "
    "a_timeuuid timeuuid, a_tinyint tinyint, a_uuid uuid, a_varint varint, "
    "a_varint_neg varint, a_list list<int>, a_set set<text>, a_map map<text, bigint>, "
    "a_tuple tuple<int, text, double>, a_udt frozen<address>, "
    "a_nested map<text, frozen<list<int>>>, a_vec_f vector<float, 3>, "
    "a_vec_t vector<text, 2>)";

#define ALL_COLUMNS                                                                           \
  "(id, a_ascii, a_bigint, a_blob, a_boolean, a_date, a_decimal, a_double, a_duration, "      \
  "a_float, a_inet4, a_inet6, a_int, a_smallint, a_text, a_time, a_timestamp, a_timeuuid, "   \
  "a_tinyint, a_uuid, a_varint, a_varint_neg, a_list, a_set, a_map, a_tuple, a_udt, "         \
  "a_nested, a_vec_f, a_vec_t)"

const char codec_insert_all_types[] =
    "INSERT INTO " CODEC_KS ".all_types " ALL_COLUMNS
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?)";

const char codec_literal_row_a[] =
    "INSERT INTO " CODEC_KS ".all_types " ALL_COLUMNS
    " VALUES (1, 'plain ascii ~!', -1234567890123456789, 0xcafebabe00ff, true, '2024-02-29', "
    "12345.6789, 2.718281828459045, 1y2mo3d4h5m6s7ms8us9ns, 3.14159, '192.168.1.77', "
    "'2001:db8::ff00:42:8329', -2000000000, -12345, 'h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 "
    "\xe6\x97\xa5\xe6\x9c\xac', '13:45:30.123456789', '2024-02-29 13:45:30.123+0000', "
    "e7e9c6a0-d6c0-11ee-8c90-0800200c9a66, 99, 123e4567-e89b-42d3-a456-556642440000, "
    "123456789012345678901234567890, -98765432109876543210987654321, [1, 2, 3, -4], "
    "{'alpha', 'beta', 'gamma'}, {'x': 1, 'y': -9000000000}, (7, 'seven', 7.5), "
    "{street: 'Main St', zip: 12345, phones: ['555-1234', '555-9876']}, "
    "{'k0': [], 'k1': [1, 2], 'k2': [3]}, [1.5, -2.25, 3.0], ['hello', 'w\xc3\xb6rld'])";

/* codec_row_b's values (id 8 instead of 3), as the server parses them. */
const char codec_literal_row_b[] =
    "INSERT INTO " CODEC_KS ".all_types " ALL_COLUMNS
    " VALUES (8, 'edge\x01\x7f', -9223372036854775808, 0x00017f80feff, false, '-5877641-06-23', "
    "-4.2E+4, NaN, -1mo2d3ns, -Infinity, '255.255.255.255', '::1', -2147483648, -32768, "
    "'\xf0\x9f\x98\x80 emoji', '23:59:59.999999999', '1969-12-31 23:59:59.999+0000', "
    "00000000-0000-1000-8000-000000000000, -128, ffffffff-ffff-4fff-bfff-ffffffffffff, "
    "9223372036854775807, -9223372036854775808, [], {''}, {'': 9223372036854775807}, "
    "(-2147483648, null, -0.5), {street: null, zip: -1, phones: []}, "
    "{'z': [-2147483648]}, [-0.0, 3.4028235E38, 0.001], ['', '\xc3\xbc'])";

/* ------------------------------------------------------------ row values */

/* 123456789012345678901234567890 and -98765432109876543210987654321 as
 * minimal two's complement (Python: int.to_bytes(13, 'big', signed=True)). */
static const uint8_t big_varint[] = {0x01, 0x8e, 0xe9, 0x0f, 0xf6, 0xc3, 0x73,
                                     0xe0, 0xee, 0x4e, 0x3f, 0x0a, 0xd2};
static const uint8_t big_neg_varint[] = {0xfe, 0xc0, 0xdf, 0x26, 0x3d, 0x00, 0x07,
                                         0x62, 0xc7, 0x1e, 0x38, 0xf3, 0x4f};
static const uint8_t blob_a[] = {0xca, 0xfe, 0xba, 0xbe, 0x00, 0xff};
static const int32_t list_a[] = {1, 2, 3, -4};
static const char *const set_a[] = {"alpha", "beta", "gamma"};
static const char *const map_keys_a[] = {"x", "y"};
static const int64_t map_values_a[] = {1, -9000000000};
static const char *const phones_a[] = {"555-1234", "555-9876"};
static const char *const nested_keys_a[] = {"k0", "k1", "k2"};
static const int32_t nested_k1[] = {1, 2}, nested_k2[] = {3};
static const int32_t *const nested_lists_a[] = {NULL, nested_k1, nested_k2};
static const size_t nested_lens_a[] = {0, 2, 1};

const codec_row codec_row_a = {
    .id = 1,
    .ascii = "plain ascii ~!",
    .bigint = -1234567890123456789,
    .blob = {blob_a, sizeof blob_a},
    .boolean = true,
    .date = 2147483648u + 19782u, /* 2024-02-29 */
    .decimal_scale = 4,
    .decimal_unscaled = 123456789,
    .decimal_text = "12345.6789",
    .dbl = 2.718281828459045,
    .duration = {14, 3, 14706007008009}, /* 4h5m6s7ms8us9ns */
    .flt = 3.14159f,
    .inet4 = {.addr = {192, 168, 1, 77}, .addr_len = 4},
    .inet6 = {.addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00, 0x42, 0x83,
                       0x29},
              .addr_len = 16},
    .i32 = -2000000000,
    .i16 = -12345,
    .i8 = 99,
    .text = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac",
    .time_ns = 49530123456789,
    .timestamp_ms = 1709214330123,
    .timeuuid = {0xe7, 0xe9, 0xc6, 0xa0, 0xd6, 0xc0, 0x11, 0xee, 0x8c, 0x90, 0x08, 0x00, 0x20,
                 0x0c, 0x9a, 0x66},
    .uuid = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x42, 0xd3, 0xa4, 0x56, 0x55, 0x66, 0x42, 0x44,
             0x00, 0x00},
    .varint = {big_varint, sizeof big_varint, 0},
    .varint_neg = {big_neg_varint, sizeof big_neg_varint, 0},
    .list = list_a,
    .list_n = 4,
    .set = {set_a, 3},
    .map_keys = {map_keys_a, 2},
    .map_values = map_values_a,
    .tuple_i = 7,
    .tuple_s = "seven",
    .tuple_d = 7.5,
    .udt_street = "Main St",
    .udt_zip = 12345,
    .udt_phones = {phones_a, 2},
    .nested_keys = {nested_keys_a, 3},
    .nested_lists = nested_lists_a,
    .nested_lens = nested_lens_a,
    .vec_f = {1.5f, -2.25f, 3.0f},
    .vec_t = {"hello", "w\xc3\xb6rld"},
};

static const uint8_t blob_b[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
static const char *const set_b[] = {""};
static const char *const map_keys_b[] = {""};
static const int64_t map_values_b[] = {INT64_MAX};
static const char *const nested_keys_b[] = {"z"};
static const int32_t nested_z[] = {INT32_MIN};
static const int32_t *const nested_lists_b[] = {nested_z};
static const size_t nested_lens_b[] = {1};

const codec_row codec_row_b = {
    .id = 3,
    .ascii = "edge\x01\x7f",
    .bigint = INT64_MIN,
    .blob = {blob_b, sizeof blob_b},
    .boolean = false,
    .date = 0, /* the earliest date there is */
    .decimal_scale = -3,
    .decimal_unscaled = -42,
    .decimal_text = "-4.2E+4",
    .dbl = NAN,
    .duration = {-1, -2, -3},
    .flt = -INFINITY,
    .inet4 = {.addr = {255, 255, 255, 255}, .addr_len = 4},
    .inet6 = {.addr = {[15] = 1}, .addr_len = 16}, /* ::1 */
    .i32 = INT32_MIN,
    .i16 = INT16_MIN,
    .i8 = INT8_MIN,
    .text = "\xf0\x9f\x98\x80 emoji",
    .time_ns = 86399999999999, /* 23:59:59.999999999 */
    .timestamp_ms = -1,
    .timeuuid = {0, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0, 0, 0, 0, 0},
    .uuid = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x4f, 0xff, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff,
             0xff, 0xff},
    .varint = {NULL, 0, INT64_MAX},
    .varint_neg = {NULL, 0, INT64_MIN},
    .list = NULL,
    .list_n = 0,
    .set = {set_b, 1},
    .map_keys = {map_keys_b, 1},
    .map_values = map_values_b,
    .tuple_i = INT32_MIN,
    .tuple_s = NULL,
    .tuple_d = -0.5,
    .udt_street = NULL,
    .udt_zip = -1,
    .udt_phones = {NULL, 0},
    .nested_keys = {nested_keys_b, 1},
    .nested_lists = nested_lists_b,
    .nested_lens = nested_lens_b,
    .vec_f = {-0.0f, FLT_MAX, 1e-3f},
    .vec_t = {"", "\xc3\xbc"},
};

/* ------------------------------------------------------------ binding */

static void write_text(cqlmux_wbuf *b, const char *s) {
  if (s)
    cqlmux_value_write_bytes(b, s, strlen(s));
  else
    cqlmux_value_write_null(b);
}

static void write_varint(cqlmux_wbuf *b, const codec_varint *v) {
  if (v->raw)
    cqlmux_value_write_bytes(b, v->raw, v->raw_len);
  else
    cqlmux_value_write_varint(b, v->i64);
}

static void write_text_collection(cqlmux_wbuf *b, codec_strings s) {
  size_t mark = cqlmux_value_begin(b);
  cqlmux_write_i32(b, (int32_t)s.n);
  for (size_t i = 0; i < s.n; i++) write_text(b, s.items[i]);
  cqlmux_value_end(b, mark);
}

static void write_int_list(cqlmux_wbuf *b, const int32_t *v, size_t n) {
  size_t mark = cqlmux_value_begin(b);
  cqlmux_write_i32(b, (int32_t)n);
  for (size_t i = 0; i < n; i++) cqlmux_value_write_int(b, v[i]);
  cqlmux_value_end(b, mark);
}

static void bind_collections(cqlmux_wbuf *b, const codec_row *w) {
  write_int_list(b, w->list, w->list_n);
  write_text_collection(b, w->set);
  size_t mark = cqlmux_value_begin(b);
  cqlmux_write_i32(b, (int32_t)w->map_keys.n);
  for (size_t i = 0; i < w->map_keys.n; i++) {
    write_text(b, w->map_keys.items[i]);
    cqlmux_value_write_bigint(b, w->map_values[i]);
  }
  cqlmux_value_end(b, mark);
}

static void bind_composites(cqlmux_wbuf *b, const codec_row *w) {
  size_t mark = cqlmux_value_begin(b);
  cqlmux_value_write_int(b, w->tuple_i);
  write_text(b, w->tuple_s);
  cqlmux_value_write_double(b, w->tuple_d);
  cqlmux_value_end(b, mark);

  mark = cqlmux_value_begin(b);
  write_text(b, w->udt_street);
  cqlmux_value_write_int(b, w->udt_zip);
  write_text_collection(b, w->udt_phones);
  cqlmux_value_end(b, mark);

  mark = cqlmux_value_begin(b);
  cqlmux_write_i32(b, (int32_t)w->nested_keys.n);
  for (size_t i = 0; i < w->nested_keys.n; i++) {
    write_text(b, w->nested_keys.items[i]);
    write_int_list(b, w->nested_lists[i], w->nested_lens[i]);
  }
  cqlmux_value_end(b, mark);

  cqlmux_value_write_float_vector(b, w->vec_f, 3);
  mark = cqlmux_value_begin(b);
  for (size_t i = 0; i < 2; i++) {
    size_t elem = cqlmux_value_vector_elem_begin(b);
    cqlmux_write_raw(b, w->vec_t[i], strlen(w->vec_t[i]));
    cqlmux_value_vector_elem_end(b, elem);
  }
  cqlmux_value_end(b, mark);
}

void codec_bind_row(cqlmux_wbuf *b, const codec_row *w) {
  cqlmux_value_write_int(b, w->id);
  write_text(b, w->ascii);
  cqlmux_value_write_bigint(b, w->bigint);
  cqlmux_value_write_bytes(b, w->blob.data, w->blob.len);
  cqlmux_value_write_boolean(b, w->boolean);
  cqlmux_value_write_date(b, w->date);
  cqlmux_value_write_decimal(b, w->decimal_scale, w->decimal_unscaled);
  cqlmux_value_write_double(b, w->dbl);
  cqlmux_value_write_duration(b, w->duration);
  cqlmux_value_write_float(b, w->flt);
  cqlmux_value_write_inet(b, &w->inet4);
  cqlmux_value_write_inet(b, &w->inet6);
  cqlmux_value_write_int(b, w->i32);
  cqlmux_value_write_smallint(b, w->i16);
  write_text(b, w->text);
  cqlmux_value_write_time(b, w->time_ns);
  cqlmux_value_write_bigint(b, w->timestamp_ms);
  cqlmux_value_write_uuid(b, w->timeuuid);
  cqlmux_value_write_tinyint(b, w->i8);
  cqlmux_value_write_uuid(b, w->uuid);
  write_varint(b, &w->varint);
  write_varint(b, &w->varint_neg);
  bind_collections(b, w);
  bind_composites(b, w);
}

/* ------------------------------------------------------------ cells */

uint32_t codec_column(const cqlmux_rows *rows, const char *name) {
  cr_assert_not_null(rows->meta.columns, "rows without metadata");
  for (int32_t i = 0; i < rows->meta.columns_count; i++) {
    cqlmux_slice n = rows->meta.columns[i].name;
    if (n.len == strlen(name) && memcmp(n.data, name, n.len) == 0) return (uint32_t)i;
  }
  cr_assert_fail("no column %s in the result", name);
  return 0;
}

cqlmux_bytes codec_cell(const cqlmux_rows *rows, uint32_t row, const char *name) {
  cqlmux_bytes v;
  cr_assert_eq(cqlmux_rows_cell(rows, row, codec_column(rows, name), &v), CQLMUX_OK);
  return v;
}

static const cqlmux_typedesc *column_type(const cqlmux_rows *rows, const char *name) {
  return rows->meta.columns[codec_column(rows, name)].type;
}

static void expect_slice(cqlmux_slice got, const void *want, size_t len, const char *what) {
  cr_assert_eq(got.len, len, "%s: %zu bytes, want %zu", what, got.len, len);
  cr_assert(len == 0 || memcmp(got.data, want, len) == 0, "%s: wrong bytes", what);
}

static void expect_text(cqlmux_bytes v, const char *want, const char *what) {
  cqlmux_slice s;
  if (!want) {
    cr_assert_eq(cqlmux_value_get_text(v, &s), CQLMUX_ERR_NULL_VALUE, "%s: not null", what);
    return;
  }
  cr_assert_eq(cqlmux_value_get_text(v, &s), CQLMUX_OK, "%s", what);
  expect_slice(s, want, strlen(want), what);
}

static void expect_int(cqlmux_bytes v, int32_t want, const char *what) {
  int32_t got;
  cr_assert_eq(cqlmux_value_get_int(v, &got), CQLMUX_OK, "%s", what);
  cr_assert_eq(got, want, "%s: %d, want %d", what, got, want);
}

static void expect_bigint(cqlmux_bytes v, int64_t want, const char *what) {
  int64_t got;
  cr_assert_eq(cqlmux_value_get_bigint(v, &got), CQLMUX_OK, "%s", what);
  cr_assert_eq(got, want, "%s: %lld, want %lld", what, (long long)got, (long long)want);
}

/* Same value and sign, NaN equal to NaN. */
static void expect_double(double got, double want, const char *what) {
  if (isnan(want)) {
    cr_assert(isnan(got), "%s: %g, want NaN", what, got);
    return;
  }
  cr_assert(got == want && !signbit(got) == !signbit(want), "%s: %g, want %g", what, got, want);
}

static void expect_inet(cqlmux_bytes v, const cqlmux_inet *want, const char *what) {
  cqlmux_inet got;
  cr_assert_eq(cqlmux_value_get_inet(v, &got), CQLMUX_OK, "%s", what);
  cr_assert_eq(got.addr_len, want->addr_len, "%s", what);
  cr_assert(memcmp(got.addr, want->addr, want->addr_len) == 0, "%s: wrong address", what);
}

static void expect_varint(cqlmux_bytes v, const codec_varint *want, const char *what) {
  int64_t got;
  if (want->raw) {
    cqlmux_slice raw;
    cr_assert_eq(cqlmux_value_get_varint_raw(v, &raw), CQLMUX_OK, "%s", what);
    expect_slice(raw, want->raw, want->raw_len, what);
    cr_assert_eq(cqlmux_value_get_varint(v, &got), CQLMUX_ERR_OVERSIZED, "%s fits 64 bits", what);
    return;
  }
  cr_assert_eq(cqlmux_value_get_varint(v, &got), CQLMUX_OK, "%s", what);
  cr_assert_eq(got, want->i64, "%s: %lld", what, (long long)got);
}

static void expect_decimal(cqlmux_bytes v, const codec_row *w) {
  cqlmux_decimal d;
  int64_t unscaled;
  char text[64];
  size_t len;
  cr_assert_eq(cqlmux_value_get_decimal(v, &d), CQLMUX_OK);
  cr_assert_eq(d.scale, w->decimal_scale);
  cr_assert_eq(cqlmux_decimal_unscaled_i64(&d, &unscaled), CQLMUX_OK);
  cr_assert_eq(unscaled, w->decimal_unscaled);
  cr_assert_eq(cqlmux_decimal_to_string(&d, text, sizeof text, &len), CQLMUX_OK);
  cr_assert_str_eq(text, w->decimal_text);
}

/* ------------------------------------------------------------ scalars */

static void check_numbers(const cqlmux_rows *rows, uint32_t r, const codec_row *w) {
  int16_t i16;
  int8_t i8;
  float f;
  double d;
  expect_int(codec_cell(rows, r, "id"), w->id, "id");
  expect_bigint(codec_cell(rows, r, "a_bigint"), w->bigint, "a_bigint");
  expect_int(codec_cell(rows, r, "a_int"), w->i32, "a_int");
  cr_assert_eq(cqlmux_value_get_smallint(codec_cell(rows, r, "a_smallint"), &i16), CQLMUX_OK);
  cr_assert_eq(i16, w->i16);
  cr_assert_eq(cqlmux_value_get_tinyint(codec_cell(rows, r, "a_tinyint"), &i8), CQLMUX_OK);
  cr_assert_eq(i8, w->i8);
  cr_assert_eq(cqlmux_value_get_float(codec_cell(rows, r, "a_float"), &f), CQLMUX_OK);
  expect_double(f, w->flt, "a_float");
  cr_assert_eq(cqlmux_value_get_double(codec_cell(rows, r, "a_double"), &d), CQLMUX_OK);
  expect_double(d, w->dbl, "a_double");
  expect_decimal(codec_cell(rows, r, "a_decimal"), w);
  expect_varint(codec_cell(rows, r, "a_varint"), &w->varint, "a_varint");
  expect_varint(codec_cell(rows, r, "a_varint_neg"), &w->varint_neg, "a_varint_neg");
}

static void check_time_and_ids(const cqlmux_rows *rows, uint32_t r, const codec_row *w) {
  uint32_t date;
  int64_t i64;
  cqlmux_duration dur;
  const uint8_t *uuid;
  cr_assert_eq(cqlmux_value_get_date(codec_cell(rows, r, "a_date"), &date), CQLMUX_OK);
  cr_assert_eq(date, w->date);
  cr_assert_eq(cqlmux_value_get_time(codec_cell(rows, r, "a_time"), &i64), CQLMUX_OK);
  cr_assert_eq(i64, w->time_ns);
  cr_assert_eq(cqlmux_value_get_timestamp(codec_cell(rows, r, "a_timestamp"), &i64), CQLMUX_OK);
  cr_assert_eq(i64, w->timestamp_ms, "a_timestamp %lld", (long long)i64);
  cr_assert_eq(cqlmux_value_get_duration(codec_cell(rows, r, "a_duration"), &dur), CQLMUX_OK);
  cr_assert(dur.months == w->duration.months && dur.days == w->duration.days &&
                dur.nanoseconds == w->duration.nanoseconds,
            "a_duration %d %d %lld", dur.months, dur.days, (long long)dur.nanoseconds);
  cr_assert_eq(cqlmux_value_get_timeuuid(codec_cell(rows, r, "a_timeuuid"), &uuid), CQLMUX_OK);
  cr_assert(memcmp(uuid, w->timeuuid, 16) == 0, "a_timeuuid");
  cr_assert_eq(cqlmux_value_get_uuid(codec_cell(rows, r, "a_uuid"), &uuid), CQLMUX_OK);
  cr_assert(memcmp(uuid, w->uuid, 16) == 0, "a_uuid");
  expect_inet(codec_cell(rows, r, "a_inet4"), &w->inet4, "a_inet4");
  expect_inet(codec_cell(rows, r, "a_inet6"), &w->inet6, "a_inet6");
}

static void check_bytes_and_text(const cqlmux_rows *rows, uint32_t r, const codec_row *w) {
  cqlmux_slice s;
  bool b;
  cr_assert_eq(cqlmux_value_get_ascii(codec_cell(rows, r, "a_ascii"), &s), CQLMUX_OK);
  expect_slice(s, w->ascii, strlen(w->ascii), "a_ascii");
  cr_assert_eq(cqlmux_value_get_blob(codec_cell(rows, r, "a_blob"), &s), CQLMUX_OK);
  expect_slice(s, w->blob.data, w->blob.len, "a_blob");
  expect_text(codec_cell(rows, r, "a_text"), w->text, "a_text");
  cr_assert_eq(cqlmux_value_get_boolean(codec_cell(rows, r, "a_boolean"), &b), CQLMUX_OK);
  cr_assert_eq(b, w->boolean);
}

/* ------------------------------------------------------------ composites */

static cqlmux_value_iter open_iter(const cqlmux_typedesc *t, cqlmux_bytes v, const char *what) {
  cqlmux_value_iter it;
  int rc = cqlmux_value_iter_init(&it, t, v);
  cr_assert_eq(rc, CQLMUX_OK, "%s: iter_init %s", what, cqlmux_strerror(rc));
  return it;
}

static cqlmux_bytes next_elem(cqlmux_value_iter *it, const cqlmux_typedesc **type,
                              const char *what) {
  cqlmux_bytes e;
  int rc = cqlmux_value_iter_next(it, &e, type);
  cr_assert_eq(rc, 1, "%s: element %u: %d", what, it->index, rc);
  return e;
}

static void end_iter(cqlmux_value_iter *it, const char *what) {
  cqlmux_bytes e;
  int rc = cqlmux_value_iter_next(it, &e, NULL);
  cr_assert_eq(rc, 0, "%s: more elements than expected (%d)", what, rc);
}

static void expect_int_list(const cqlmux_typedesc *t, cqlmux_bytes v, const int32_t *want,
                            size_t n, const char *what) {
  cqlmux_value_iter it = open_iter(t, v, what);
  cr_assert_eq(cqlmux_value_iter_size(&it), n, "%s: size", what);
  for (size_t i = 0; i < n; i++) expect_int(next_elem(&it, NULL, what), want[i], what);
  end_iter(&it, what);
}

static void expect_texts(const cqlmux_typedesc *t, cqlmux_bytes v, codec_strings want,
                         const char *what) {
  cqlmux_value_iter it = open_iter(t, v, what);
  cr_assert_eq(cqlmux_value_iter_size(&it), want.n, "%s: size", what);
  for (size_t i = 0; i < want.n; i++) expect_text(next_elem(&it, NULL, what), want.items[i], what);
  end_iter(&it, what);
}

static void check_collections(const cqlmux_rows *rows, uint32_t r, const codec_row *w) {
  cqlmux_bytes list = codec_cell(rows, r, "a_list");
  if (w->list_n == 0)
    cr_assert_eq(list.len, CQLMUX_VALUE_NULL, "an empty non-frozen list reads back as null");
  else
    expect_int_list(column_type(rows, "a_list"), list, w->list, w->list_n, "a_list");
  expect_texts(column_type(rows, "a_set"), codec_cell(rows, r, "a_set"), w->set, "a_set");

  cqlmux_value_iter it =
      open_iter(column_type(rows, "a_map"), codec_cell(rows, r, "a_map"), "a_map");
  cr_assert_eq(cqlmux_value_iter_size(&it), w->map_keys.n);
  for (size_t i = 0; i < w->map_keys.n; i++) {
    expect_text(next_elem(&it, NULL, "a_map"), w->map_keys.items[i], "a_map key");
    expect_bigint(next_elem(&it, NULL, "a_map"), w->map_values[i], "a_map value");
  }
  end_iter(&it, "a_map");

  it = open_iter(column_type(rows, "a_nested"), codec_cell(rows, r, "a_nested"), "a_nested");
  cr_assert_eq(cqlmux_value_iter_size(&it), w->nested_keys.n);
  for (size_t i = 0; i < w->nested_keys.n; i++) {
    const cqlmux_typedesc *lt;
    expect_text(next_elem(&it, NULL, "a_nested"), w->nested_keys.items[i], "a_nested key");
    cqlmux_bytes l = next_elem(&it, &lt, "a_nested");
    expect_int_list(lt, l, w->nested_lists[i], w->nested_lens[i], "a_nested list");
  }
  end_iter(&it, "a_nested");
}

static void check_tuple_and_udt(const cqlmux_rows *rows, uint32_t r, const codec_row *w) {
  double d;
  const cqlmux_typedesc *t;
  cqlmux_value_iter it =
      open_iter(column_type(rows, "a_tuple"), codec_cell(rows, r, "a_tuple"), "a_tuple");
  expect_int(next_elem(&it, NULL, "a_tuple"), w->tuple_i, "a_tuple.0");
  expect_text(next_elem(&it, NULL, "a_tuple"), w->tuple_s, "a_tuple.1");
  cr_assert_eq(cqlmux_value_get_double(next_elem(&it, NULL, "a_tuple"), &d), CQLMUX_OK);
  expect_double(d, w->tuple_d, "a_tuple.2");
  end_iter(&it, "a_tuple");

  it = open_iter(column_type(rows, "a_udt"), codec_cell(rows, r, "a_udt"), "a_udt");
  expect_text(next_elem(&it, NULL, "a_udt"), w->udt_street, "a_udt.street");
  expect_int(next_elem(&it, NULL, "a_udt"), w->udt_zip, "a_udt.zip");
  cqlmux_bytes phones = next_elem(&it, &t, "a_udt");
  expect_texts(t, phones, w->udt_phones, "a_udt.phones");
  end_iter(&it, "a_udt");
}

static void check_vectors(const cqlmux_rows *rows, uint32_t r, const codec_row *w) {
  cqlmux_value_iter it =
      open_iter(column_type(rows, "a_vec_f"), codec_cell(rows, r, "a_vec_f"), "a_vec_f");
  cr_assert_eq(cqlmux_value_iter_size(&it), 3);
  for (size_t i = 0; i < 3; i++) {
    float f;
    cr_assert_eq(cqlmux_value_get_float(next_elem(&it, NULL, "a_vec_f"), &f), CQLMUX_OK);
    expect_double(f, w->vec_f[i], "a_vec_f element");
  }
  end_iter(&it, "a_vec_f");
  codec_strings texts = {w->vec_t, 2};
  expect_texts(column_type(rows, "a_vec_t"), codec_cell(rows, r, "a_vec_t"), texts, "a_vec_t");
}

void codec_check_row(const cqlmux_rows *rows, uint32_t r, const codec_row *want) {
  check_numbers(rows, r, want);
  check_time_and_ids(rows, r, want);
  check_bytes_and_text(rows, r, want);
  check_collections(rows, r, want);
  check_tuple_and_udt(rows, r, want);
  check_vectors(rows, r, want);
}

void codec_check_null_row(const cqlmux_rows *rows, uint32_t r) {
  cr_assert_eq(rows->meta.columns_count, CODEC_ALL_TYPES_COLUMNS);
  uint32_t id = codec_column(rows, "id");
  for (uint32_t c = 0; c < CODEC_ALL_TYPES_COLUMNS; c++) {
    cqlmux_bytes v;
    cr_assert_eq(cqlmux_rows_cell(rows, r, c, &v), CQLMUX_OK);
    if (c == id) continue;
    cr_assert_eq(v.len, CQLMUX_VALUE_NULL, "column %u is not null", c);
    cr_assert_null(v.data);
  }
  int32_t i;
  cqlmux_value_iter it;
  cr_assert_eq(cqlmux_value_get_int(codec_cell(rows, r, "a_int"), &i), CQLMUX_ERR_NULL_VALUE);
  cqlmux_bytes list = codec_cell(rows, r, "a_list");
  cr_assert_eq(cqlmux_value_iter_init(&it, column_type(rows, "a_list"), list),
               CQLMUX_ERR_NULL_VALUE);
}

void codec_check_empty_row(const cqlmux_rows *rows, uint32_t r) {
  static const char *const empty[] = {"a_ascii", "a_text", "a_blob", "a_int", "a_bigint"};
  cqlmux_slice s;
  int32_t i;
  int64_t l;
  cr_assert_eq(cqlmux_value_get_ascii(codec_cell(rows, r, "a_ascii"), &s), CQLMUX_OK);
  cr_assert_eq(s.len, 0);
  cr_assert_eq(cqlmux_value_get_text(codec_cell(rows, r, "a_text"), &s), CQLMUX_OK);
  cr_assert_eq(s.len, 0);
  cr_assert_eq(cqlmux_value_get_blob(codec_cell(rows, r, "a_blob"), &s), CQLMUX_OK);
  cr_assert_eq(s.len, 0);
  cr_assert_eq(cqlmux_value_get_int(codec_cell(rows, r, "a_int"), &i), CQLMUX_ERR_EMPTY_VALUE);
  cr_assert_eq(cqlmux_value_get_bigint(codec_cell(rows, r, "a_bigint"), &l),
               CQLMUX_ERR_EMPTY_VALUE);
  for (int32_t c = 0; c < rows->meta.columns_count; c++) {
    cqlmux_slice name = rows->meta.columns[c].name;
    bool is_empty = false;
    for (size_t k = 0; k < sizeof empty / sizeof empty[0]; k++)
      is_empty |= name.len == strlen(empty[k]) && memcmp(name.data, empty[k], name.len) == 0;
    bool is_id = name.len == 2 && memcmp(name.data, "id", 2) == 0;
    cqlmux_bytes v;
    cr_assert_eq(cqlmux_rows_cell(rows, r, (uint32_t)c, &v), CQLMUX_OK);
    if (!is_id)
      cr_assert_eq(v.len, is_empty ? 0 : CQLMUX_VALUE_NULL, "column %.*s", (int)name.len,
                   (const char *)name.data);
  }
}

void codec_check_same_cells(const cqlmux_rows *rows, uint32_t r1, uint32_t r2) {
  uint32_t id = codec_column(rows, "id");
  for (uint32_t c = 0; c < (uint32_t)rows->meta.columns_count; c++) {
    cqlmux_bytes a, b;
    cr_assert_eq(cqlmux_rows_cell(rows, r1, c, &a), CQLMUX_OK);
    cr_assert_eq(cqlmux_rows_cell(rows, r2, c, &b), CQLMUX_OK);
    if (c == id) continue;
    const cqlmux_slice *name = &rows->meta.columns[c].name;
    cr_assert(a.len == b.len && (a.len <= 0 || memcmp(a.data, b.data, (size_t)a.len) == 0),
              "column %.*s differs between rows %u and %u", (int)name->len,
              (const char *)name->data, r1, r2);
  }
}

/* ------------------------------------------------------------ types */

typedef struct want_type {
  const char *name;
  const cqlmux_typedesc *type;
} want_type;

static const cqlmux_typedesc *native(uint16_t id) { return cqlmux_type_native(id); }

static const cqlmux_typedesc *udt_type(cqlmux_arena *a) {
  static const char *const names[] = {"street", "zip", "phones"};
  cqlmux_slice fields[3];
  for (size_t i = 0; i < 3; i++) fields[i] = cqlmux_slice_from_cstr(names[i]);
  const cqlmux_typedesc *types[] = {native(CQLMUX_TYPE_TEXT), native(CQLMUX_TYPE_INT),
                                    cqlmux_type_new_list(a, native(CQLMUX_TYPE_TEXT))};
  return cqlmux_type_new_udt(a, cqlmux_slice_from_cstr(CODEC_KS),
                             cqlmux_slice_from_cstr("address"), 3, fields, types);
}

static void fill_composite_types(cqlmux_arena *a, want_type *w) {
  const cqlmux_typedesc *tuple[] = {native(CQLMUX_TYPE_INT), native(CQLMUX_TYPE_TEXT),
                                    native(CQLMUX_TYPE_DOUBLE)};
  w[0] = (want_type){"a_list", cqlmux_type_new_list(a, native(CQLMUX_TYPE_INT))};
  w[1] = (want_type){"a_set", cqlmux_type_new_set(a, native(CQLMUX_TYPE_TEXT))};
  w[2] = (want_type){"a_map", cqlmux_type_new_map(a, native(CQLMUX_TYPE_TEXT),
                                                   native(CQLMUX_TYPE_BIGINT))};
  w[3] = (want_type){"a_tuple", cqlmux_type_new_tuple(a, 3, tuple)};
  w[4] = (want_type){"a_udt", udt_type(a)};
  w[5] = (want_type){"a_nested",
                     cqlmux_type_new_map(a, native(CQLMUX_TYPE_TEXT),
                                         cqlmux_type_new_list(a, native(CQLMUX_TYPE_INT)))};
  w[6] = (want_type){"a_vec_f", cqlmux_type_new_vector(a, native(CQLMUX_TYPE_FLOAT), 3)};
  w[7] = (want_type){"a_vec_t", cqlmux_type_new_vector(a, native(CQLMUX_TYPE_TEXT), 2)};
}

/* The native columns and their types, side by side. */
static const char *const native_names[] = {
    "id", "a_ascii", "a_bigint", "a_blob", "a_boolean", "a_date", "a_decimal", "a_double",
    "a_duration", "a_float", "a_inet4", "a_inet6", "a_int", "a_smallint", "a_text", "a_time",
    "a_timestamp", "a_timeuuid", "a_tinyint", "a_uuid", "a_varint", "a_varint_neg"};

static const uint16_t native_ids[] = {
    CQLMUX_TYPE_INT, CQLMUX_TYPE_ASCII, CQLMUX_TYPE_BIGINT, CQLMUX_TYPE_BLOB,
    CQLMUX_TYPE_BOOLEAN, CQLMUX_TYPE_DATE, CQLMUX_TYPE_DECIMAL, CQLMUX_TYPE_DOUBLE,
    CQLMUX_TYPE_DURATION, CQLMUX_TYPE_FLOAT, CQLMUX_TYPE_INET, CQLMUX_TYPE_INET,
    CQLMUX_TYPE_INT, CQLMUX_TYPE_SMALLINT, CQLMUX_TYPE_TEXT, CQLMUX_TYPE_TIME,
    CQLMUX_TYPE_TIMESTAMP, CQLMUX_TYPE_TIMEUUID, CQLMUX_TYPE_TINYINT, CQLMUX_TYPE_UUID,
    CQLMUX_TYPE_VARINT, CQLMUX_TYPE_VARINT};

#define NATIVE_COLUMNS (sizeof native_ids / sizeof native_ids[0])
_Static_assert(sizeof native_names / sizeof native_names[0] == NATIVE_COLUMNS,
               "one type per native column");

static const want_type *find_type(const want_type *w, size_t n, cqlmux_slice name) {
  for (size_t i = 0; i < n; i++)
    if (strlen(w[i].name) == name.len && memcmp(w[i].name, name.data, name.len) == 0)
      return &w[i];
  return NULL;
}

/* The vector columns came as a custom class string, parsed by the codec. */
static void check_vector_class(const cqlmux_typedesc *t, int32_t elem_size) {
  static const char cls[] = "org.apache.cassandra.db.marshal.VectorType(";
  cr_assert_eq(t->id, CQLMUX_TYPE_VECTOR);
  cr_assert_geq(t->custom.len, sizeof cls - 1, "vector without its class string");
  cr_assert(memcmp(t->custom.data, cls, sizeof cls - 1) == 0, "class %.*s", (int)t->custom.len,
            (const char *)t->custom.data);
  cr_assert_eq(t->children[0]->fixed_size, elem_size);
}

void codec_check_types(const cqlmux_column_spec *specs, int32_t n) {
  cqlmux_arena a;
  cqlmux_arena_init(&a, NULL, NULL, 0);
  want_type want[NATIVE_COLUMNS + 8];
  for (size_t i = 0; i < NATIVE_COLUMNS; i++)
    want[i] = (want_type){native_names[i], native(native_ids[i])};
  fill_composite_types(&a, want + NATIVE_COLUMNS);
  cr_assert_eq(n, CODEC_ALL_TYPES_COLUMNS);
  for (int32_t i = 0; i < n; i++) {
    const want_type *w = find_type(want, NATIVE_COLUMNS + 8, specs[i].name);
    cr_assert_not_null(w, "unexpected column %.*s", (int)specs[i].name.len,
                       (const char *)specs[i].name.data);
    cr_assert(cqlmux_type_equal(specs[i].type, w->type), "column %s: type id 0x%04x", w->name,
              specs[i].type->id);
    cr_assert(strlen(CODEC_KS) == specs[i].keyspace.len &&
                  memcmp(specs[i].keyspace.data, CODEC_KS, specs[i].keyspace.len) == 0,
              "column %s keyspace", w->name);
    if (strcmp(w->name, "a_vec_f") == 0) check_vector_class(specs[i].type, 4);
    if (strcmp(w->name, "a_vec_t") == 0) check_vector_class(specs[i].type, -1);
  }
  cqlmux_arena_free(&a);
}

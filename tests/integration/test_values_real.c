/* Every CQL 5.0 type through the PUBLIC API only, against a REAL Cassandra
 * started by tools/cassandra-local: a prepared INSERT bound with the
 * statement binds and the value builder, then a SELECT read back with the
 * type descriptors, value readers and iterators, over protocol v4 and v5.
 *
 * Rows per protocol version v (ids v*100 + ...):
 *   +1  row_a bound          +2  row_b (edge values) bound
 *   +3  only the id: every other column null
 *   +4  empty ascii, text, blob, int and bigint (0 bytes, not null)
 *   +9  row_a written as CQL literals: its cells must be byte for byte
 *       those of +1, so the builder agrees with the server's own encoding.
 * Environment: CQLMUX_TEST_HOST, CQLMUX_TEST_PORT (default 127.0.0.1:9042). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlmux.h"

#define KS "cqlmux_values"

static const char create_ks[] = "CREATE KEYSPACE IF NOT EXISTS " KS " WITH replication = "
                                "{'class': 'SimpleStrategy', 'replication_factor': 1}";
static const char create_udt[] =
    "CREATE TYPE IF NOT EXISTS " KS ".address (street text, zip int, phones list<text>)";
static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS " KS ".all_types (id int PRIMARY KEY, a_ascii ascii, "
    "a_bigint bigint, a_blob blob, a_boolean boolean, a_date date, a_decimal decimal, "
    "a_double double, a_duration duration, a_float float, a_inet4 inet, a_inet6 inet, "
    "a_int int, a_smallint smallint, a_text text, a_time time, a_timestamp timestamp, "
    "a_timeuuid timeuuid, a_tinyint tinyint, a_uuid uuid, a_varint varint, "
    "a_varint_neg varint, a_list list<int>, a_set set<text>, a_map map<text, bigint>, "
    "a_tuple tuple<int, text, double>, a_udt frozen<address>, "
    "a_nested map<text, frozen<list<int>>>, a_vec_f vector<float, 3>, "
    "a_vec_t vector<text, 2>, a_deep frozen<list<frozen<tuple<text, frozen<address>>>>>)";

#define COLUMNS                                                                              \
  "(id, a_ascii, a_bigint, a_blob, a_boolean, a_date, a_decimal, a_double, a_duration, "     \
  "a_float, a_inet4, a_inet6, a_int, a_smallint, a_text, a_time, a_timestamp, a_timeuuid, "  \
  "a_tinyint, a_uuid, a_varint, a_varint_neg, a_list, a_set, a_map, a_tuple, a_udt, "        \
  "a_nested, a_vec_f, a_vec_t, a_deep)"
#define NCOLUMNS 31

static const char insert_cql[] =
    "INSERT INTO " KS ".all_types " COLUMNS " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char select_cql[] = "SELECT * FROM " KS ".all_types WHERE id = ?";

/* row_a as literals; %d is the id. */
static const char literal_row_a[] =
    "INSERT INTO " KS ".all_types " COLUMNS
    " VALUES (%d, 'plain ascii ~!', -1234567890123456789, 0xcafebabe00ff, true, '2024-02-29', "
    "12345.6789, 2.718281828459045, 1y2mo3d4h5m6s7ms8us9ns, 3.14159, '192.168.1.77', "
    "'2001:db8::ff00:42:8329', -2000000000, -12345, 'h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 "
    "\xe6\x97\xa5\xe6\x9c\xac', '13:45:30.123456789', '2024-02-29 13:45:30.123+0000', "
    "e7e9c6a0-d6c0-11ee-8c90-0800200c9a66, 99, 123e4567-e89b-42d3-a456-556642440000, "
    "123456789012345678901234567890, -98765432109876543210987654321, [1, 2, 3, -4], "
    "{'alpha', 'beta', 'gamma'}, {'x': 1, 'y': -9000000000}, (7, 'seven', 7.5), "
    "{street: 'Main St', zip: 12345, phones: ['555-1234', '555-9876']}, "
    "{'k0': [], 'k1': [1, 2], 'k2': [3]}, [1.5, -2.25, 3.0], ['hello', 'w\xc3\xb6rld'], "
    "[('first', {street: 'A', zip: 1, phones: []}), "
    "('second', {street: null, zip: 2, phones: ['x']})])";

/* ------------------------------------------------------------ expected rows */

typedef struct strings {
  const char *const *items; /* NULL item: a null element */
  size_t n;
} strings;

typedef struct row {
  const char *ascii;
  int64_t bigint;
  const uint8_t *blob;
  size_t blob_len;
  int boolean;
  uint32_t date;
  int64_t decimal_unscaled;
  int32_t decimal_scale;
  const char *decimal_text;
  double dbl;
  int32_t dur_months, dur_days;
  int64_t dur_nanos;
  float flt;
  uint8_t inet4[4], inet6[16];
  int32_t i32;
  int16_t i16;
  int8_t i8;
  const char *text;
  int64_t time_ns, timestamp_ms;
  uint8_t timeuuid[16], uuid[16];
  const uint8_t *varint; /* bytes when set, else varint_i64 */
  size_t varint_len;
  int64_t varint_i64;
  const uint8_t *varint_neg;
  size_t varint_neg_len;
  int64_t varint_neg_i64;
  const int32_t *list; /* list_n 0: binds an empty list, reads back null */
  size_t list_n;
  strings set, map_keys;
  const int64_t *map_values;
  int32_t tuple_i;
  const char *tuple_s;
  double tuple_d;
  const char *udt_street;
  int32_t udt_zip;
  strings udt_phones;
  strings nested_keys;
  const int32_t *const *nested_lists;
  const size_t *nested_lens;
  float vec_f[3];
  const char *vec_t[2];
  strings deep_names; /* a_deep: (name, {street, zip = index + 1, phones}) */
  strings deep_streets;
  const strings *deep_phones;
} row;

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
static const char *const deep_names_a[] = {"first", "second"};
static const char *const deep_streets_a[] = {"A", NULL};
static const char *const deep_phones_x[] = {"x"};
static const strings deep_phones_a[] = {{NULL, 0}, {deep_phones_x, 1}};

static const row row_a = {
    .ascii = "plain ascii ~!",
    .bigint = -1234567890123456789,
    .blob = blob_a,
    .blob_len = sizeof blob_a,
    .boolean = 1,
    .date = 2147483648u + 19782u, /* 2024-02-29 */
    .decimal_unscaled = 123456789,
    .decimal_scale = 4,
    .decimal_text = "12345.6789",
    .dbl = 2.718281828459045,
    .dur_months = 14,
    .dur_days = 3,
    .dur_nanos = 14706007008009, /* 4h5m6s7ms8us9ns */
    .flt = 3.14159f,
    .inet4 = {192, 168, 1, 77},
    .inet6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00, 0x42, 0x83, 0x29},
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
    .varint = big_varint,
    .varint_len = sizeof big_varint,
    .varint_neg = big_neg_varint,
    .varint_neg_len = sizeof big_neg_varint,
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
    .deep_names = {deep_names_a, 2},
    .deep_streets = {deep_streets_a, 2},
    .deep_phones = deep_phones_a,
};

static const uint8_t blob_b[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
static const char *const set_b[] = {""};
static const char *const map_keys_b[] = {""};
static const int64_t map_values_b[] = {INT64_MAX};
static const char *const nested_keys_b[] = {"z"};
static const int32_t nested_z[] = {INT32_MIN};
static const int32_t *const nested_lists_b[] = {nested_z};
static const size_t nested_lens_b[] = {1};

static const row row_b = {
    .ascii = "edge\x01\x7f",
    .bigint = INT64_MIN,
    .blob = blob_b,
    .blob_len = sizeof blob_b,
    .boolean = 0,
    .date = 0, /* the earliest date there is */
    .decimal_unscaled = -42,
    .decimal_scale = -3,
    .decimal_text = "-4.2E+4",
    .dbl = NAN,
    .dur_months = -1,
    .dur_days = -2,
    .dur_nanos = -3,
    .flt = -INFINITY,
    .inet4 = {255, 255, 255, 255},
    .inet6 = {[15] = 1}, /* ::1 */
    .i32 = INT32_MIN,
    .i16 = INT16_MIN,
    .i8 = INT8_MIN,
    .text = "\xf0\x9f\x98\x80 emoji",
    .time_ns = 86399999999999, /* 23:59:59.999999999 */
    .timestamp_ms = -1,
    .timeuuid = {0, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0, 0, 0, 0, 0},
    .uuid = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x4f, 0xff, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff,
             0xff, 0xff},
    .varint_i64 = INT64_MAX,
    .varint_neg_i64 = INT64_MIN,
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
    .deep_names = {NULL, 0},
    .deep_streets = {NULL, 0},
    .deep_phones = NULL,
};

/* ------------------------------------------------------------ session helpers */

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static const char *message(cqlmux_future *f) {
  const char *m = cqlmux_future_error_message(f);
  return m ? m : "";
}

static cqlmux_config *test_config(int version) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_not_null(c);
  cqlmux_config_set_contact_points(c, env_or("CQLMUX_TEST_HOST", "127.0.0.1"));
  cqlmux_config_set_port(c, atoi(env_or("CQLMUX_TEST_PORT", "9042")));
  cqlmux_config_set_protocol_version(c, version);
  cqlmux_config_set_request_timeout(c, 30000);
  cqlmux_config_set_log_level(c, CQLMUX_LOG_ERROR);
  return c;
}

/* A connected session made from c, which it frees. */
static cqlmux_session *connect_with(cqlmux_config *c, int version) {
  cqlmux_session *s = NULL;
  cr_assert_eq(cqlmux_session_new(c, &s), CQLMUX_OK);
  cqlmux_config_free(c);
  cqlmux_future *f = cqlmux_session_connect(s);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "connect: %s", message(f));
  cqlmux_future_free(f);
  cr_assert_eq(cqlmux_session_protocol_version(s), version);
  return s;
}

static cqlmux_session *open_session(int version) {
  return connect_with(test_config(version), version);
}

static void exec_ok(cqlmux_session *s, const char *cql) {
  cqlmux_future *f = cqlmux_session_query(s, cql);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s: %s", cql, message(f));
  cqlmux_future_free(f);
}

static cqlmux_prepared *prepare(cqlmux_session *s, const char *cql) {
  cqlmux_future *f = cqlmux_session_prepare(s, cql);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "prepare %s: %s", cql, message(f));
  cqlmux_prepared *p = cqlmux_future_take_prepared(f);
  cr_assert_not_null(p);
  cqlmux_future_free(f);
  return p;
}

static void execute_ok(cqlmux_session *s, const cqlmux_statement *st) {
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "execute: %s", message(f));
  cqlmux_future_free(f);
}

/* The one row with this id; the caller frees the future. */
static cqlmux_future *select_row(cqlmux_session *s, const cqlmux_prepared *select, int32_t id) {
  cqlmux_statement *st = cqlmux_statement_new_prepared(select);
  cr_assert_eq(cqlmux_statement_bind_int32(st, 0, id), CQLMUX_OK);
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cqlmux_statement_free(st);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "select %d: %s", id, message(f));
  cr_assert_eq(cqlmux_result_row_count(cqlmux_future_result(f)), 1, "row %d", id);
  cr_assert_eq(cqlmux_result_column_count(cqlmux_future_result(f)), NCOLUMNS);
  return f;
}

/* ------------------------------------------------------------ binding */

#define OK(call) cr_assert_eq((call), CQLMUX_OK, "%s", #call)

static void add_text_or_null(cqlmux_builder *b, const char *s) {
  OK(s ? cqlmux_builder_add_text(b, s, strlen(s)) : cqlmux_builder_add_null(b));
}

static void add_text_collection(cqlmux_builder *b, cqlmux_type kind, strings s) {
  OK(cqlmux_builder_begin_collection(b, kind));
  for (size_t i = 0; i < s.n; i++) add_text_or_null(b, s.items[i]);
  OK(cqlmux_builder_end(b));
}

static void add_int_list(cqlmux_builder *b, const int32_t *v, size_t n) {
  OK(cqlmux_builder_begin_collection(b, CQLMUX_TYPE_LIST));
  for (size_t i = 0; i < n; i++) OK(cqlmux_builder_add_int32(b, v[i]));
  OK(cqlmux_builder_end(b));
}

static void add_address(cqlmux_builder *b, const char *street, int32_t zip, strings phones) {
  OK(cqlmux_builder_begin_udt(b));
  add_text_or_null(b, street);
  OK(cqlmux_builder_add_int32(b, zip));
  add_text_collection(b, CQLMUX_TYPE_LIST, phones);
  OK(cqlmux_builder_end(b));
}

/* Binds what b holds to slot i, then empties b for the next value. */
static void bind_built(cqlmux_statement *st, size_t i, cqlmux_builder *b) {
  OK(cqlmux_statement_bind_builder(st, i, b));
  cqlmux_builder_reset(b);
}

static void bind_scalars(cqlmux_statement *st, const row *w) {
  OK(cqlmux_statement_bind_ascii(st, 1, w->ascii, strlen(w->ascii)));
  OK(cqlmux_statement_bind_int64(st, 2, w->bigint));
  OK(cqlmux_statement_bind_blob(st, 3, w->blob, w->blob_len));
  OK(cqlmux_statement_bind_bool(st, 4, w->boolean));
  OK(cqlmux_statement_bind_date(st, 5, w->date));
  OK(cqlmux_statement_bind_decimal_int64(st, 6, w->decimal_unscaled, w->decimal_scale));
  OK(cqlmux_statement_bind_double(st, 7, w->dbl));
  OK(cqlmux_statement_bind_duration(st, 8, w->dur_months, w->dur_days, w->dur_nanos));
  OK(cqlmux_statement_bind_float(st, 9, w->flt));
  OK(cqlmux_statement_bind_inet(st, 10, w->inet4, 4));
  OK(cqlmux_statement_bind_inet(st, 11, w->inet6, 16));
  OK(cqlmux_statement_bind_int32(st, 12, w->i32));
  OK(cqlmux_statement_bind_int16(st, 13, w->i16));
  OK(cqlmux_statement_bind_text(st, 14, w->text, strlen(w->text)));
  OK(cqlmux_statement_bind_time(st, 15, w->time_ns));
  OK(cqlmux_statement_bind_int64(st, 16, w->timestamp_ms));
  OK(cqlmux_statement_bind_uuid(st, 17, w->timeuuid));
  OK(cqlmux_statement_bind_int8(st, 18, w->i8));
  OK(cqlmux_statement_bind_uuid(st, 19, w->uuid));
  OK(w->varint ? cqlmux_statement_bind_varint_bytes(st, 20, w->varint, w->varint_len)
               : cqlmux_statement_bind_varint(st, 20, w->varint_i64));
  OK(w->varint_neg
         ? cqlmux_statement_bind_varint_bytes(st, 21, w->varint_neg, w->varint_neg_len)
         : cqlmux_statement_bind_varint(st, 21, w->varint_neg_i64));
}

static void bind_collections(cqlmux_statement *st, const row *w, cqlmux_builder *b) {
  add_int_list(b, w->list, w->list_n);
  bind_built(st, 22, b);
  add_text_collection(b, CQLMUX_TYPE_SET, w->set);
  bind_built(st, 23, b);
  OK(cqlmux_builder_begin_collection(b, CQLMUX_TYPE_MAP));
  for (size_t i = 0; i < w->map_keys.n; i++) {
    add_text_or_null(b, w->map_keys.items[i]);
    OK(cqlmux_builder_add_int64(b, w->map_values[i]));
  }
  OK(cqlmux_builder_end(b));
  bind_built(st, 24, b);
  OK(cqlmux_builder_begin_tuple(b));
  OK(cqlmux_builder_add_int32(b, w->tuple_i));
  add_text_or_null(b, w->tuple_s);
  OK(cqlmux_builder_add_double(b, w->tuple_d));
  OK(cqlmux_builder_end(b));
  bind_built(st, 25, b);
  add_address(b, w->udt_street, w->udt_zip, w->udt_phones);
  bind_built(st, 26, b);
}

static void bind_nested(cqlmux_statement *st, const row *w, cqlmux_builder *b) {
  OK(cqlmux_builder_begin_collection(b, CQLMUX_TYPE_MAP));
  for (size_t i = 0; i < w->nested_keys.n; i++) {
    add_text_or_null(b, w->nested_keys.items[i]);
    add_int_list(b, w->nested_lists[i], w->nested_lens[i]);
  }
  OK(cqlmux_builder_end(b));
  bind_built(st, 27, b);
  OK(cqlmux_builder_begin_vector(b, 4)); /* float: fixed size, elements bare */
  for (size_t i = 0; i < 3; i++) OK(cqlmux_builder_add_float(b, w->vec_f[i]));
  OK(cqlmux_builder_end(b));
  bind_built(st, 28, b);
  OK(cqlmux_builder_begin_vector(b, 0)); /* text: length-prefixed elements */
  for (size_t i = 0; i < 2; i++) OK(cqlmux_builder_add_text(b, w->vec_t[i], strlen(w->vec_t[i])));
  OK(cqlmux_builder_end(b));
  bind_built(st, 29, b);
  OK(cqlmux_builder_begin_collection(b, CQLMUX_TYPE_LIST));
  for (size_t i = 0; i < w->deep_names.n; i++) {
    OK(cqlmux_builder_begin_tuple(b));
    add_text_or_null(b, w->deep_names.items[i]);
    add_address(b, w->deep_streets.items[i], (int32_t)i + 1, w->deep_phones[i]);
    OK(cqlmux_builder_end(b));
  }
  OK(cqlmux_builder_end(b));
  bind_built(st, 30, b);
}

static void insert_row(cqlmux_session *s, const cqlmux_prepared *insert, int32_t id,
                       const row *w) {
  cqlmux_statement *st = cqlmux_statement_new_prepared(insert);
  cqlmux_builder *b = cqlmux_builder_new();
  cr_assert(st && b);
  OK(cqlmux_statement_bind_int32(st, 0, id));
  bind_scalars(st, w);
  bind_collections(st, w, b);
  bind_nested(st, w, b);
  execute_ok(s, st);
  cqlmux_builder_free(b);
  cqlmux_statement_free(st);
}

/* ------------------------------------------------------------ reading */

static cqlmux_value col(const cqlmux_result *r, const char *name) {
  int c = cqlmux_result_column_index(r, name);
  cr_assert_geq(c, 0, "no column %s", name);
  cqlmux_value v;
  OK(cqlmux_result_get_value(r, 0, (size_t)c, &v));
  return v;
}

static void expect_text(cqlmux_value v, const char *want, const char *what) {
  const char *s;
  size_t n;
  if (!want) {
    cr_assert(cqlmux_value_is_null(&v), "%s: want null", what);
    return;
  }
  int rc = cqlmux_value_as_text(&v, &s, &n);
  cr_assert_eq(rc, CQLMUX_OK, "%s: %s", what, cqlmux_strerror(rc));
  cr_assert(n == strlen(want) && memcmp(s, want, n) == 0, "%s: '%.*s', want '%s'", what, (int)n,
            s, want);
}

static void expect_int32(cqlmux_value v, int32_t want, const char *what) {
  int32_t x;
  OK(cqlmux_value_as_int32(&v, &x));
  cr_assert_eq(x, want, "%s: %d, want %d", what, x, want);
}

static void expect_same_double(double got, double want, const char *what) {
  cr_assert(isnan(want) ? isnan(got) : memcmp(&got, &want, sizeof got) == 0,
            "%s: %.17g, want %.17g", what, got, want);
}

static cqlmux_value next_elem(cqlmux_iterator *it, const char *what) {
  cqlmux_value e;
  int rc = cqlmux_iterator_next(it, &e);
  cr_assert_eq(rc, 1, "%s: element %zu: %d", what, cqlmux_iterator_index(it), rc);
  return e;
}

static void expect_end(cqlmux_iterator *it, const char *what) {
  cqlmux_value e;
  cr_assert_eq(cqlmux_iterator_next(it, &e), 0, "%s: more elements than expected", what);
}

static void check_scalar_numbers(const cqlmux_result *r, const row *w) {
  int64_t i64;
  int16_t i16;
  int8_t i8;
  int b;
  float f;
  double d;
  cqlmux_value v = col(r, "a_bigint");
  OK(cqlmux_value_as_int64(&v, &i64));
  cr_assert_eq(i64, w->bigint);
  v = col(r, "a_boolean");
  OK(cqlmux_value_as_bool(&v, &b));
  cr_assert_eq(b, w->boolean);
  v = col(r, "a_double");
  OK(cqlmux_value_as_double(&v, &d));
  expect_same_double(d, w->dbl, "a_double");
  v = col(r, "a_float");
  OK(cqlmux_value_as_float(&v, &f));
  expect_same_double(f, w->flt, "a_float");
  expect_int32(col(r, "a_int"), w->i32, "a_int");
  v = col(r, "a_smallint");
  OK(cqlmux_value_as_int16(&v, &i16));
  cr_assert_eq(i16, w->i16);
  v = col(r, "a_tinyint");
  OK(cqlmux_value_as_int8(&v, &i8));
  cr_assert_eq(i8, w->i8);
}

static void expect_varint(cqlmux_value v, const uint8_t *bytes, size_t len, int64_t i64,
                          const char *what) {
  const uint8_t *p;
  size_t n;
  int64_t x;
  if (bytes) {
    OK(cqlmux_value_as_varint_bytes(&v, &p, &n));
    cr_assert(n == len && memcmp(p, bytes, n) == 0, "%s bytes", what);
    cr_assert_eq(cqlmux_value_as_varint(&v, &x), CQLMUX_ERR_OVERSIZED, "%s", what);
  } else {
    OK(cqlmux_value_as_varint(&v, &x));
    cr_assert_eq(x, i64, "%s", what);
  }
}

static void check_big_numbers(const cqlmux_result *r, const row *w) {
  const uint8_t *p;
  size_t n;
  int32_t scale;
  char text[64];
  cqlmux_value v = col(r, "a_decimal");
  OK(cqlmux_value_as_decimal(&v, &p, &n, &scale));
  cr_assert_eq(scale, w->decimal_scale);
  OK(cqlmux_value_as_decimal_string(&v, text, sizeof text, &n));
  cr_assert_str_eq(text, w->decimal_text);
  expect_varint(col(r, "a_varint"), w->varint, w->varint_len, w->varint_i64, "a_varint");
  expect_varint(col(r, "a_varint_neg"), w->varint_neg, w->varint_neg_len, w->varint_neg_i64,
                "a_varint_neg");
}

static void check_time_and_ids(const cqlmux_result *r, const row *w) {
  uint32_t date;
  int64_t i64;
  int32_t months, days;
  uint8_t bytes[16];
  size_t n;
  cqlmux_value v = col(r, "a_date");
  OK(cqlmux_value_as_date(&v, &date));
  cr_assert_eq(date, w->date);
  v = col(r, "a_duration");
  OK(cqlmux_value_as_duration(&v, &months, &days, &i64));
  cr_assert(months == w->dur_months && days == w->dur_days && i64 == w->dur_nanos,
            "a_duration %d %d %lld", months, days, (long long)i64);
  v = col(r, "a_inet4");
  OK(cqlmux_value_as_inet(&v, bytes, &n));
  cr_assert(n == 4 && memcmp(bytes, w->inet4, 4) == 0, "a_inet4");
  v = col(r, "a_inet6");
  OK(cqlmux_value_as_inet(&v, bytes, &n));
  cr_assert(n == 16 && memcmp(bytes, w->inet6, 16) == 0, "a_inet6");
  v = col(r, "a_time");
  OK(cqlmux_value_as_time(&v, &i64));
  cr_assert_eq(i64, w->time_ns);
  v = col(r, "a_timestamp");
  OK(cqlmux_value_as_timestamp(&v, &i64));
  cr_assert_eq(i64, w->timestamp_ms);
  v = col(r, "a_timeuuid");
  OK(cqlmux_value_as_uuid(&v, bytes));
  cr_assert(memcmp(bytes, w->timeuuid, 16) == 0, "a_timeuuid");
  v = col(r, "a_uuid");
  OK(cqlmux_value_as_uuid(&v, bytes));
  cr_assert(memcmp(bytes, w->uuid, 16) == 0, "a_uuid");
}

static void check_bytes_and_text(const cqlmux_result *r, const row *w) {
  const uint8_t *p;
  size_t n;
  expect_text(col(r, "a_ascii"), w->ascii, "a_ascii");
  expect_text(col(r, "a_text"), w->text, "a_text");
  cqlmux_value v = col(r, "a_blob");
  OK(cqlmux_value_as_blob(&v, &p, &n));
  cr_assert(n == w->blob_len && memcmp(p, w->blob, n) == 0, "a_blob");
}

static void expect_int_list(cqlmux_value v, const int32_t *want, size_t n, const char *what) {
  cqlmux_iterator it;
  OK(cqlmux_value_iterate(&v, &it));
  cr_assert_eq(cqlmux_iterator_size(&it), n, "%s: size", what);
  for (size_t i = 0; i < n; i++) expect_int32(next_elem(&it, what), want[i], what);
  expect_end(&it, what);
}

static void expect_texts(cqlmux_value v, strings want, const char *what) {
  cqlmux_iterator it;
  OK(cqlmux_value_iterate(&v, &it));
  cr_assert_eq(cqlmux_iterator_size(&it), want.n, "%s: size", what);
  for (size_t i = 0; i < want.n; i++) expect_text(next_elem(&it, what), want.items[i], what);
  expect_end(&it, what);
}

static void expect_address(cqlmux_value v, const char *street, int32_t zip, strings phones,
                           const char *what) {
  cqlmux_value f;
  OK(cqlmux_value_field(&v, "street", &f));
  expect_text(f, street, what);
  OK(cqlmux_value_field(&v, "zip", &f));
  expect_int32(f, zip, what);
  OK(cqlmux_value_field(&v, "phones", &f));
  expect_texts(f, phones, what);
}

static void check_collections(const cqlmux_result *r, const row *w) {
  cqlmux_value v = col(r, "a_list"), k, x;
  if (w->list_n == 0)
    cr_assert(cqlmux_value_is_null(&v), "an empty non-frozen list reads back as null");
  else
    expect_int_list(v, w->list, w->list_n, "a_list");
  expect_texts(col(r, "a_set"), w->set, "a_set");
  cqlmux_iterator it;
  v = col(r, "a_map");
  OK(cqlmux_value_iterate(&v, &it));
  cr_assert_eq(cqlmux_iterator_size(&it), w->map_keys.n);
  for (size_t i = 0; i < w->map_keys.n; i++) {
    int64_t i64;
    cr_assert_eq(cqlmux_iterator_next_pair(&it, &k, &x), 1);
    expect_text(k, w->map_keys.items[i], "a_map key");
    OK(cqlmux_value_as_int64(&x, &i64));
    cr_assert_eq(i64, w->map_values[i], "a_map value");
  }
  cr_assert_eq(cqlmux_iterator_next_pair(&it, &k, &x), 0);
  v = col(r, "a_nested");
  OK(cqlmux_value_iterate(&v, &it));
  for (size_t i = 0; i < w->nested_keys.n; i++) {
    cr_assert_eq(cqlmux_iterator_next_pair(&it, &k, &x), 1);
    expect_text(k, w->nested_keys.items[i], "a_nested key");
    expect_int_list(x, w->nested_lists[i], w->nested_lens[i], "a_nested list");
  }
  cr_assert_eq(cqlmux_iterator_next_pair(&it, &k, &x), 0);
}

static void check_tuple_and_udt(const cqlmux_result *r, const row *w) {
  cqlmux_iterator it;
  double d;
  cqlmux_value v = col(r, "a_tuple"), e;
  OK(cqlmux_value_iterate(&v, &it));
  expect_int32(next_elem(&it, "a_tuple"), w->tuple_i, "a_tuple.0");
  expect_text(next_elem(&it, "a_tuple"), w->tuple_s, "a_tuple.1");
  e = next_elem(&it, "a_tuple");
  OK(cqlmux_value_as_double(&e, &d));
  expect_same_double(d, w->tuple_d, "a_tuple.2");
  expect_end(&it, "a_tuple");
  expect_address(col(r, "a_udt"), w->udt_street, w->udt_zip, w->udt_phones, "a_udt");
}

static void check_vectors_and_deep(const cqlmux_result *r, const row *w) {
  cqlmux_iterator it, t;
  cqlmux_value v = col(r, "a_vec_f"), e;
  OK(cqlmux_value_iterate(&v, &it));
  cr_assert_eq(cqlmux_iterator_size(&it), 3);
  for (size_t i = 0; i < 3; i++) {
    float f;
    e = next_elem(&it, "a_vec_f");
    OK(cqlmux_value_as_float(&e, &f));
    expect_same_double(f, w->vec_f[i], "a_vec_f");
  }
  expect_end(&it, "a_vec_f");
  strings texts = {w->vec_t, 2};
  expect_texts(col(r, "a_vec_t"), texts, "a_vec_t");
  v = col(r, "a_deep");
  OK(cqlmux_value_iterate(&v, &it));
  cr_assert_eq(cqlmux_iterator_size(&it), w->deep_names.n, "a_deep size");
  for (size_t i = 0; i < w->deep_names.n; i++) {
    e = next_elem(&it, "a_deep");
    OK(cqlmux_value_iterate(&e, &t));
    expect_text(next_elem(&t, "a_deep tuple"), w->deep_names.items[i], "a_deep name");
    expect_address(next_elem(&t, "a_deep tuple"), w->deep_streets.items[i], (int32_t)i + 1,
                   w->deep_phones[i], "a_deep address");
    expect_end(&t, "a_deep tuple");
  }
  expect_end(&it, "a_deep");
}

static void check_row(const cqlmux_result *r, const row *w) {
  check_scalar_numbers(r, w);
  check_big_numbers(r, w);
  check_time_and_ids(r, w);
  check_bytes_and_text(r, w);
  check_collections(r, w);
  check_tuple_and_udt(r, w);
  check_vectors_and_deep(r, w);
}

/* ------------------------------------------------------------ types */

static void expect_kind(const cqlmux_result *r, const char *name, cqlmux_type kind) {
  int c = cqlmux_result_column_index(r, name);
  cr_assert_geq(c, 0);
  cr_assert_eq(cqlmux_data_type_kind(cqlmux_result_column_data_type(r, (size_t)c)), kind,
               "%s: kind 0x%x", name,
               cqlmux_data_type_kind(cqlmux_result_column_data_type(r, (size_t)c)));
}

static void check_types(const cqlmux_result *r) {
  static const struct {
    const char *name;
    cqlmux_type kind;
  } kinds[] = {
      {"id", CQLMUX_TYPE_INT},          {"a_ascii", CQLMUX_TYPE_ASCII},
      {"a_decimal", CQLMUX_TYPE_DECIMAL}, {"a_duration", CQLMUX_TYPE_DURATION},
      {"a_timeuuid", CQLMUX_TYPE_TIMEUUID}, {"a_list", CQLMUX_TYPE_LIST},
      {"a_set", CQLMUX_TYPE_SET},       {"a_map", CQLMUX_TYPE_MAP},
      {"a_tuple", CQLMUX_TYPE_TUPLE},   {"a_udt", CQLMUX_TYPE_UDT},
      {"a_vec_f", CQLMUX_TYPE_VECTOR},  {"a_vec_t", CQLMUX_TYPE_VECTOR},
      {"a_deep", CQLMUX_TYPE_LIST}};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    expect_kind(r, kinds[i].name, kinds[i].kind);
  size_t n;
  const cqlmux_data_type *udt = col(r, "a_udt").type;
  const char *s = cqlmux_data_type_keyspace(udt, &n);
  cr_assert(n == strlen(KS) && memcmp(s, KS, n) == 0);
  s = cqlmux_data_type_name(udt, &n);
  cr_assert(n == 7 && memcmp(s, "address", 7) == 0);
  cr_assert_eq(cqlmux_data_type_child_count(udt), 3);
  s = cqlmux_data_type_field_name(udt, 2, &n);
  cr_assert(n == 6 && memcmp(s, "phones", 6) == 0);
  const cqlmux_data_type *vec = col(r, "a_vec_f").type;
  cr_assert_eq(cqlmux_data_type_dimension(vec), 3);
  cr_assert_eq(cqlmux_data_type_kind(cqlmux_data_type_child(vec, 0)), CQLMUX_TYPE_FLOAT);
  const cqlmux_data_type *nested = col(r, "a_nested").type;
  cr_assert_eq(cqlmux_data_type_kind(cqlmux_data_type_child(nested, 1)), CQLMUX_TYPE_LIST);
  const cqlmux_data_type *deep = cqlmux_data_type_child(col(r, "a_deep").type, 0);
  cr_assert_eq(cqlmux_data_type_kind(deep), CQLMUX_TYPE_TUPLE);
  cr_assert_eq(cqlmux_data_type_kind(cqlmux_data_type_child(deep, 1)), CQLMUX_TYPE_UDT);
}

/* ------------------------------------------------------------ null, empty, literal */

static void check_null_row(const cqlmux_result *r, int32_t id) {
  int32_t i32;
  cqlmux_iterator it;
  expect_int32(col(r, "id"), id, "id");
  for (size_t c = 0; c < NCOLUMNS; c++) {
    cqlmux_value v;
    OK(cqlmux_result_get_value(r, 0, c, &v));
    size_t n;
    const char *name = cqlmux_result_column_name(r, c, &n);
    if (n == 2 && memcmp(name, "id", 2) == 0) continue;
    cr_assert(cqlmux_value_is_null(&v), "column %.*s is not null", (int)n, name);
  }
  cqlmux_value v = col(r, "a_int");
  cr_assert_eq(cqlmux_value_as_int32(&v, &i32), CQLMUX_ERR_NULL_VALUE);
  v = col(r, "a_map");
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_ERR_NULL_VALUE);
}

static void insert_empty_row(cqlmux_session *s, const cqlmux_prepared *insert, int32_t id) {
  cqlmux_statement *st = cqlmux_statement_new_prepared(insert);
  OK(cqlmux_statement_bind_int32(st, 0, id));
  OK(cqlmux_statement_bind_ascii(st, 1, "", 0));
  OK(cqlmux_statement_bind_serialized(st, 2, NULL, 0)); /* bigint, empty */
  OK(cqlmux_statement_bind_blob(st, 3, NULL, 0));
  OK(cqlmux_statement_bind_serialized(st, 12, NULL, 0)); /* int, empty */
  OK(cqlmux_statement_bind_text(st, 14, "", 0));
  execute_ok(s, st); /* unbound slots go as "not set": null in a new row */
  cqlmux_statement_free(st);
}

static void check_empty_row(const cqlmux_result *r) {
  int32_t i32;
  int64_t i64;
  const uint8_t *p;
  size_t n;
  expect_text(col(r, "a_ascii"), "", "a_ascii");
  expect_text(col(r, "a_text"), "", "a_text");
  cqlmux_value v = col(r, "a_blob");
  OK(cqlmux_value_as_blob(&v, &p, &n));
  cr_assert_eq(n, 0);
  v = col(r, "a_int");
  cr_assert_not(cqlmux_value_is_null(&v));
  cr_assert_eq(cqlmux_value_as_int32(&v, &i32), CQLMUX_ERR_EMPTY_VALUE);
  v = col(r, "a_bigint");
  cr_assert_eq(cqlmux_value_as_int64(&v, &i64), CQLMUX_ERR_EMPTY_VALUE);
  v = col(r, "a_double");
  cr_assert(cqlmux_value_is_null(&v), "never bound: null");
}

/* Every cell but id holds the same bytes in both results. */
static void check_same_cells(const cqlmux_result *a, const cqlmux_result *b) {
  for (size_t c = 1; c < NCOLUMNS; c++) {
    const uint8_t *pa, *pb;
    int32_t na, nb;
    size_t len;
    const char *name = cqlmux_result_column_name(a, c, &len);
    OK(cqlmux_result_get_serialized(a, 0, c, &pa, &na));
    OK(cqlmux_result_get_serialized(b, 0, c, &pb, &nb));
    cr_assert(na == nb && (na <= 0 || memcmp(pa, pb, (size_t)na) == 0),
              "column %.*s: bound and literal bytes differ", (int)len, name);
  }
}

/* ------------------------------------------------------------ the test */

static void round_trip_every_type(int version) {
  cqlmux_session *s = open_session(version);
  exec_ok(s, create_ks);
  exec_ok(s, create_udt);
  exec_ok(s, create_table);
  cqlmux_prepared *insert = prepare(s, insert_cql), *select = prepare(s, select_cql);
  cr_assert_eq(cqlmux_prepared_parameter_count(insert), NCOLUMNS);
  int32_t base = version * 100;
  char literal[sizeof literal_row_a + 16];
  snprintf(literal, sizeof literal, literal_row_a, base + 9);
  insert_row(s, insert, base + 1, &row_a);
  insert_row(s, insert, base + 2, &row_b);
  cqlmux_statement *only_id = cqlmux_statement_new_prepared(insert);
  OK(cqlmux_statement_bind_int32(only_id, 0, base + 3));
  execute_ok(s, only_id);
  cqlmux_statement_free(only_id);
  insert_empty_row(s, insert, base + 4);
  exec_ok(s, literal);

  cqlmux_future *a = select_row(s, select, base + 1);
  check_types(cqlmux_future_result(a));
  check_row(cqlmux_future_result(a), &row_a);
  cqlmux_future *lit = select_row(s, select, base + 9);
  check_same_cells(cqlmux_future_result(a), cqlmux_future_result(lit));
  cqlmux_future_free(lit);
  cqlmux_future_free(a);
  cqlmux_future *f = select_row(s, select, base + 2);
  check_row(cqlmux_future_result(f), &row_b);
  cqlmux_future_free(f);
  f = select_row(s, select, base + 3);
  check_null_row(cqlmux_future_result(f), base + 3);
  cqlmux_future_free(f);
  f = select_row(s, select, base + 4);
  check_empty_row(cqlmux_future_result(f));
  cqlmux_future_free(f);

  cqlmux_prepared_free(insert);
  cqlmux_prepared_free(select);
  cqlmux_session_free(s);
}

Test(values_real, every_type_round_trips_over_v5, .timeout = 120) { round_trip_every_type(5); }

Test(values_real, every_type_round_trips_over_v4, .timeout = 120) { round_trip_every_type(4); }

/* ------------------------------------- client timestamps (issue 15, 3) */

static const char create_stamps[] =
    "CREATE TABLE IF NOT EXISTS " KS ".stamps (id int PRIMARY KEY, v int, tu timeuuid, "
    "u uuid, d date, t time, ts timestamp)";

static int64_t wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One result row of a query with one bigint/timestamp column. */
static int64_t query_int64(cqlmux_session *s, const char *cql) {
  cqlmux_future *f = cqlmux_session_query(s, cql);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s: %s", cql, message(f));
  cr_assert_eq(cqlmux_result_row_count(cqlmux_future_result(f)), 1, "%s", cql);
  int64_t out;
  OK(cqlmux_result_get_int64(cqlmux_future_result(f), 0, 0, &out));
  cqlmux_future_free(f);
  return out;
}

typedef struct {
  int64_t next; /* handed out, then advanced */
  int calls;
} recording_generator;

/* Runs on the submitting thread (the test's). */
static int64_t record_timestamp(void *p) {
  recording_generator *g = p;
  g->calls++;
  return g->next++;
}

/* Ids of rows no earlier run wrote: a run writes them with timestamps
 * from 2017 and 2020, which any earlier write of the same cell, made at
 * the current time, would shadow. Above the fixed ids of the other tests. */
static int32_t fresh_id(void) {
  uint8_t u[16];
  OK(cqlmux_uuid_v4(u));
  uint32_t r = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
  return (int32_t)((r & 0x3fffffff) | 0x10000);
}

static int64_t writetime_of(cqlmux_session *s, int32_t id) {
  char cql[96];
  snprintf(cql, sizeof cql, "SELECT writetime(v) FROM " KS ".stamps WHERE id = %d", (int)id);
  return query_int64(s, cql);
}

static void insert_v(cqlmux_session *s, int32_t id, int64_t explicit_timestamp) {
  cqlmux_statement *st = cqlmux_statement_new("INSERT INTO " KS ".stamps (id, v) VALUES (?, 1)", 1);
  OK(cqlmux_statement_bind_int32(st, 0, id));
  if (explicit_timestamp) OK(cqlmux_statement_set_timestamp(st, explicit_timestamp));
  execute_ok(s, st);
  cqlmux_statement_free(st);
}

static void stamps_table(cqlmux_session *s) {
  exec_ok(s, create_ks);
  exec_ok(s, create_stamps);
}

Test(values_real, writetime_is_the_generators_timestamp, .timeout = 120) {
  recording_generator gen = {.next = INT64_C(1600000000123456)};
  cqlmux_config *c = test_config(5);
  OK(cqlmux_config_set_timestamp_generator(c, record_timestamp, &gen));
  cqlmux_session *s = connect_with(c, 5);
  stamps_table(s);
  int32_t id = fresh_id();
  int calls = gen.calls;
  int64_t expected = gen.next;
  insert_v(s, id, 0);
  cr_assert_eq(gen.calls, calls + 1, "one timestamp per request");
  cr_assert_eq(writetime_of(s, id), expected);
  /* An explicit timestamp wins and the generator is not asked. */
  calls = gen.calls;
  insert_v(s, id + 1, INT64_C(1500000000000001));
  cr_assert_eq(gen.calls, calls);
  cr_assert_eq(writetime_of(s, id + 1), INT64_C(1500000000000001));
  /* A batch without one takes the generator's. */
  cqlmux_statement *member =
      cqlmux_statement_new("INSERT INTO " KS ".stamps (id, v) VALUES (?, 3)", 1);
  OK(cqlmux_statement_bind_int32(member, 0, id + 2));
  cqlmux_batch *b = cqlmux_batch_new(CQLMUX_BATCH_LOGGED);
  OK(cqlmux_batch_add(b, member));
  expected = gen.next;
  cqlmux_future *f = cqlmux_session_batch(s, b);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "batch: %s", message(f));
  cqlmux_future_free(f);
  cqlmux_batch_free(b);
  cqlmux_statement_free(member);
  cr_assert_eq(writetime_of(s, id + 2), expected);
  cqlmux_session_free(s);
}

/* The built-in generator is on by default: a write's time is the client's
 * wall clock at submit, to the microsecond (same host as the server here, so
 * this shows the value is sane, while the exact value is shown above); and
 * with the generator off the server stamps it, to the millisecond. */
Test(values_real, default_and_server_side_timestamps_are_the_current_time, .timeout = 120) {
  for (int off = 0; off <= 1; off++) {
    cqlmux_config *c = test_config(5);
    if (off) OK(cqlmux_config_set_timestamp_generator(c, NULL, NULL));
    cqlmux_session *s = connect_with(c, 5);
    stamps_table(s);
    int32_t id = fresh_id();
    int64_t before = wall_us();
    insert_v(s, id, 0);
    int64_t after = wall_us();
    int64_t written = writetime_of(s, id);
    /* Cassandra stamps from its millisecond clock (then +1 us per write
     * within the same millisecond): the bracket starts at that millisecond. */
    if (off) before -= before % 1000;
    cr_assert(written >= before && written <= after, "off=%d: %lld not in [%lld, %lld]", off,
              (long long)written, (long long)before, (long long)after);
    cqlmux_session_free(s);
  }
}

/* ---------------------------- timeuuid, uuid, date, time (issue 15, 7) */

Test(values_real, v1_uuids_are_timeuuids_whose_time_cassandra_reads_the_same, .timeout = 120) {
  cqlmux_session *s = open_session(5);
  stamps_table(s);
  cqlmux_prepared *insert = prepare(s, "INSERT INTO " KS ".stamps (id, tu, u) VALUES (?, ?, ?)");
  cqlmux_prepared *select =
      prepare(s, "SELECT toTimestamp(tu), tu, u FROM " KS ".stamps WHERE id = ?");
  for (int32_t id = 20; id < 30; id++) {
    uint8_t tu[16], u[16], back[16];
    OK(cqlmux_session_uuid_v1(s, tu));
    OK(cqlmux_uuid_v4(u));
    cqlmux_statement *st = cqlmux_statement_new_prepared(insert);
    OK(cqlmux_statement_bind_int32(st, 0, id));
    OK(cqlmux_statement_bind_uuid(st, 1, tu));
    OK(cqlmux_statement_bind_uuid(st, 2, u));
    execute_ok(s, st);
    cqlmux_statement_free(st);
    st = cqlmux_statement_new_prepared(select);
    OK(cqlmux_statement_bind_int32(st, 0, id));
    cqlmux_future *f = cqlmux_session_execute(s, st);
    cqlmux_statement_free(st);
    cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", message(f));
    const cqlmux_result *r = cqlmux_future_result(f);
    int64_t server_ms, client_ms;
    OK(cqlmux_result_get_int64(r, 0, 0, &server_ms));
    OK(cqlmux_uuid_v1_timestamp(tu, &client_ms));
    cr_assert_eq(server_ms, client_ms, "toTimestamp of the v1 UUID");
    OK(cqlmux_result_get_uuid(r, 0, 1, back));
    cr_assert_arr_eq(back, tu, 16);
    OK(cqlmux_result_get_uuid(r, 0, 2, back));
    cr_assert_arr_eq(back, u, 16);
    cqlmux_future_free(f);
  }
  cqlmux_prepared_free(insert);
  cqlmux_prepared_free(select);
  cqlmux_session_free(s);
}

/* The server's own reading of CQL literals equals the helpers' conversion
 * of the same calendar values; and the helpers' values bound read back. */
Test(values_real, temporal_helpers_agree_with_cql_literals, .timeout = 120) {
  cqlmux_session *s = open_session(5);
  stamps_table(s);
  exec_ok(s, "INSERT INTO " KS ".stamps (id, d, t, ts, u) VALUES (40, '1969-07-20', '20:17:40', "
             "'1969-07-20 20:17:40+0000', 123E4567-E89B-42D3-A456-556642440000)");
  struct tm tm = {.tm_year = 69, .tm_mon = 6, .tm_mday = 20, .tm_hour = 20, .tm_min = 17,
                  .tm_sec = 40};
  uint32_t days;
  int64_t ns, ms;
  OK(cqlmux_date_from_tm(&tm, &days));
  OK(cqlmux_time_from_tm(&tm, &ns));
  OK(cqlmux_timestamp_from_tm(&tm, &ms));
  cqlmux_prepared *insert = prepare(s, "INSERT INTO " KS ".stamps (id, d, t, ts) VALUES (?, ?, ?, ?)");
  cqlmux_statement *st = cqlmux_statement_new_prepared(insert);
  OK(cqlmux_statement_bind_int32(st, 0, 41));
  OK(cqlmux_statement_bind_date(st, 1, days));
  OK(cqlmux_statement_bind_time(st, 2, ns));
  OK(cqlmux_statement_bind_int64(st, 3, ms));
  execute_ok(s, st);
  cqlmux_statement_free(st);
  cqlmux_prepared_free(insert);
  uint8_t parsed[16];
  OK(cqlmux_uuid_parse("123e4567-e89b-42d3-a456-556642440000", 36, parsed, NULL));
  for (int id = 40; id <= 41; id++) {
    char cql[128];
    snprintf(cql, sizeof cql, "SELECT d, t, ts, u FROM " KS ".stamps WHERE id = %d", id);
    cqlmux_future *f = cqlmux_session_query(s, cql);
    cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", message(f));
    const cqlmux_result *r = cqlmux_future_result(f);
    cqlmux_value v;
    uint32_t got_days;
    int64_t got_ns, got_ms;
    OK(cqlmux_result_get_value(r, 0, 0, &v));
    OK(cqlmux_value_as_date(&v, &got_days));
    OK(cqlmux_result_get_value(r, 0, 1, &v));
    OK(cqlmux_value_as_time(&v, &got_ns));
    OK(cqlmux_result_get_value(r, 0, 2, &v));
    OK(cqlmux_value_as_timestamp(&v, &got_ms));
    cr_assert_eq(got_days, days, "row %d", id);
    cr_assert_eq(got_ns, ns, "row %d", id);
    cr_assert_eq(got_ms, ms, "row %d", id);
    struct tm back;
    OK(cqlmux_timestamp_to_tm(got_ms, &back));
    cr_assert(back.tm_year == 69 && back.tm_mon == 6 && back.tm_mday == 20 &&
              back.tm_hour == 20 && back.tm_min == 17 && back.tm_sec == 40 && back.tm_wday == 0,
              "1969-07-20 was a Sunday");
    if (id == 40) {
      uint8_t u[16];
      OK(cqlmux_result_get_uuid(r, 0, 3, u));
      cr_assert_arr_eq(u, parsed, 16, "the server's reading of the text equals ours");
    }
    cqlmux_future_free(f);
  }
  cqlmux_session_free(s);
}

/* CQL value codecs: byte-exact vectors from the spec, round trips for every
 * type, composites nested in each other, vectors, and bad lengths. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "proto/values.h"

static cqlmux_wbuf b;
static cqlmux_arena arena;

static void setup(void) {
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_arena_init(&arena, NULL, NULL, 0);
}

static void teardown(void) {
  cqlmux_wbuf_free(&b);
  cqlmux_arena_free(&arena);
}

TestSuite(proto_values, .init = setup, .fini = teardown);

#define N(id) cqlmux_type_native(id)

static cqlmux_bytes bytes_of(const void *p, int32_t n) {
  cqlmux_bytes v = {p, n};
  return v;
}

/* The [value] just written to b (starting at offset at). */
static cqlmux_bytes written(size_t at) {
  cqlmux_reader r = cqlmux_reader_make(b.data + at, b.len - at);
  cqlmux_bytes v;
  cr_assert_eq(b.error, 0);
  cr_assert_eq(cqlmux_read_value(&r, &v), CQLMUX_OK);
  cr_assert_eq(cqlmux_reader_remaining(&r), 0);
  return v;
}

/* ------------------------------------------------------------ varint */

static const struct {
  int64_t v;
  uint8_t enc[2];
  size_t n;
} spec_varints[] = {
    {0, {0x00}, 1},    {1, {0x01}, 1},         {127, {0x7F}, 1},  {128, {0x00, 0x80}, 2},
    {129, {0x00, 0x81}, 2}, {-1, {0xFF}, 1}, {-128, {0x80}, 1}, {-129, {0xFF, 0x7F}, 2},
};

Test(proto_values, varint_spec_examples_encode_byte_exact) {
  for (size_t i = 0; i < sizeof spec_varints / sizeof spec_varints[0]; i++) {
    uint8_t out[8];
    size_t n = cqlmux_varint_from_i64(spec_varints[i].v, out);
    cr_assert_eq(n, spec_varints[i].n, "value %lld", (long long)spec_varints[i].v);
    cr_assert_arr_eq(out, spec_varints[i].enc, n);
    int64_t back;
    cr_assert_eq(cqlmux_varint_to_i64(spec_varints[i].enc, spec_varints[i].n, &back), CQLMUX_OK);
    cr_assert_eq(back, spec_varints[i].v);
    /* and as a [value] */
    cqlmux_wbuf_reset(&b);
    cqlmux_value_write_varint(&b, spec_varints[i].v);
    cr_assert_eq(b.len, 4 + spec_varints[i].n);
    cr_assert_arr_eq(b.data + 4, spec_varints[i].enc, spec_varints[i].n);
    int64_t got;
    cr_assert_eq(cqlmux_value_get_varint(written(0), &got), CQLMUX_OK);
    cr_assert_eq(got, spec_varints[i].v);
  }
}

Test(proto_values, varint_limits_redundant_bytes_and_oversize) {
  static const int64_t edge[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, 32767, 32768, -32768,
                                 -32769, 0x7FFFFFFF, (int64_t)0x80000000LL};
  for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
    uint8_t out[8];
    int64_t back;
    size_t n = cqlmux_varint_from_i64(edge[i], out);
    cr_assert_eq(cqlmux_varint_to_i64(out, n, &back), CQLMUX_OK);
    cr_assert_eq(back, edge[i]);
  }
  uint8_t out[8];
  cr_assert_eq(cqlmux_varint_from_i64(INT64_MAX, out), 8);
  cr_assert_eq(cqlmux_varint_from_i64(32768, out), 3);

  const uint8_t padded[] = {0x00, 0x00, 0x00, 0x01}; /* non-minimal 1 */
  const uint8_t neg_padded[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80};
  const uint8_t big[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}; /* 2^64 */
  int64_t v;
  cr_assert_eq(cqlmux_varint_to_i64(padded, sizeof padded, &v), CQLMUX_OK);
  cr_assert_eq(v, 1);
  cr_assert_eq(cqlmux_varint_to_i64(neg_padded, sizeof neg_padded, &v), CQLMUX_OK);
  cr_assert_eq(v, -128);
  v = 42;
  cr_assert_eq(cqlmux_varint_to_i64(big, sizeof big, &v), CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(v, 42, "untouched on failure");
  cr_assert_eq(cqlmux_varint_to_i64(big, 0, &v), CQLMUX_ERR_MALFORMED);

  cqlmux_slice raw;
  cr_assert_eq(cqlmux_value_get_varint_raw(bytes_of(big, sizeof big), &raw), CQLMUX_OK);
  cr_assert_eq(raw.len, sizeof big);
  cr_assert_eq(cqlmux_value_get_varint(bytes_of(big, sizeof big), &v), CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(cqlmux_value_get_varint(bytes_of(NULL, 0), &v), CQLMUX_ERR_EMPTY_VALUE);
  cr_assert_eq(cqlmux_value_get_varint(bytes_of(NULL, -1), &v), CQLMUX_ERR_NULL_VALUE);
}

/* ------------------------------------------------------------ decimal */

static void check_decimal_string(int32_t scale, int64_t unscaled, const char *want) {
  uint8_t u[8];
  cqlmux_decimal d = {scale, {u, cqlmux_varint_from_i64(unscaled, u)}};
  char buf[128];
  size_t len;
  cr_assert_eq(cqlmux_decimal_to_string(&d, buf, sizeof buf, &len), CQLMUX_OK);
  cr_assert_str_eq(buf, want, "scale %d unscaled %lld", scale, (long long)unscaled);
  cr_assert_eq(len, strlen(want));
}

Test(proto_values, decimal_to_string_follows_java_bigdecimal) {
  check_decimal_string(2, 12345, "123.45");
  check_decimal_string(0, 12345, "12345");
  check_decimal_string(-2, 12345, "1.2345E+6");
  check_decimal_string(7, 1, "1E-7");
  check_decimal_string(6, 1, "0.000001");
  check_decimal_string(1, -5, "-0.5");
  check_decimal_string(2, 0, "0.00");
  check_decimal_string(-2, 0, "0E+2");
  check_decimal_string(10, 123, "1.23E-8");
  check_decimal_string(3, -123456, "-123.456");
  check_decimal_string(0, INT64_MIN, "-9223372036854775808");
  check_decimal_string(0, 1000000000, "1000000000");
  check_decimal_string(9, 1000000000, "1.000000000");
}

Test(proto_values, decimal_beyond_64_bits) {
  /* 2^80 = 1208925819614629174706176 */
  const uint8_t u[] = {0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  cqlmux_decimal d = {3, {u, sizeof u}};
  char buf[128];
  size_t len;
  cr_assert_eq(cqlmux_decimal_to_string(&d, buf, sizeof buf, &len), CQLMUX_OK);
  cr_assert_str_eq(buf, "1208925819614629174706.176");
  const uint8_t neg[] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* -2^80 */
  d.unscaled.data = neg;
  cr_assert_eq(cqlmux_decimal_to_string(&d, buf, sizeof buf, &len), CQLMUX_OK);
  cr_assert_str_eq(buf, "-1208925819614629174706.176");
  cr_assert_eq(cqlmux_decimal_to_string(&d, buf, 20, &len), CQLMUX_ERR_BUFFER_TOO_SMALL);
  int64_t x;
  cr_assert_eq(cqlmux_decimal_unscaled_i64(&d, &x), CQLMUX_ERR_OVERSIZED);
}

Test(proto_values, decimal_value_roundtrip) {
  cqlmux_value_write_decimal(&b, 2, -12345);
  /* [int 9] [int scale 2] [varint -12345 = 0xCF 0xC7] */
  const uint8_t want[] = {0, 0, 0, 6, 0, 0, 0, 2, 0xCF, 0xC7};
  cr_assert_eq(b.len, sizeof want);
  cr_assert_arr_eq(b.data, want, sizeof want);
  cqlmux_decimal d;
  cr_assert_eq(cqlmux_value_get_decimal(written(0), &d), CQLMUX_OK);
  cr_assert_eq(d.scale, 2);
  int64_t u;
  cr_assert_eq(cqlmux_decimal_unscaled_i64(&d, &u), CQLMUX_OK);
  cr_assert_eq(u, -12345);
  const uint8_t short_dec[] = {0, 0, 0, 1};
  cr_assert_eq(cqlmux_value_get_decimal(bytes_of(short_dec, 4), &d), CQLMUX_ERR_MALFORMED);
}

/* ------------------------------------------------------------ scalars */

Test(proto_values, fixed_size_getters_check_exact_length) {
  const uint8_t raw[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  int32_t i32 = 7;
  int64_t i64;
  int16_t i16;
  int8_t i8;
  bool bo;
  cr_assert_eq(cqlmux_value_get_int(bytes_of(raw, 4), &i32), CQLMUX_OK);
  cr_assert_eq(i32, 0x01020304);
  i32 = 7;
  cr_assert_eq(cqlmux_value_get_int(bytes_of(raw, 3), &i32), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_get_int(bytes_of(raw, 5), &i32), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_get_int(bytes_of(raw, 0), &i32), CQLMUX_ERR_EMPTY_VALUE);
  cr_assert_eq(cqlmux_value_get_int(bytes_of(NULL, -1), &i32), CQLMUX_ERR_NULL_VALUE);
  cr_assert_eq(i32, 7, "untouched on failure");
  cr_assert_eq(cqlmux_value_get_bigint(bytes_of(raw, 8), &i64), CQLMUX_OK);
  cr_assert_eq(i64, 0x0102030405060708LL);
  cr_assert_eq(cqlmux_value_get_bigint(bytes_of(raw, 4), &i64), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_get_smallint(bytes_of(raw, 2), &i16), CQLMUX_OK);
  cr_assert_eq(i16, 0x0102);
  cr_assert_eq(cqlmux_value_get_smallint(bytes_of(raw, 4), &i16), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_get_tinyint(bytes_of(raw, 2), &i8), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_get_boolean(bytes_of(raw, 2), &bo), CQLMUX_ERR_MALFORMED);
}

Test(proto_values, scalar_roundtrips) {
  cqlmux_value_write_boolean(&b, true);
  bool bo = false;
  cr_assert_eq(cqlmux_value_get_boolean(written(0), &bo), CQLMUX_OK);
  cr_assert(bo);

  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_tinyint(&b, -5);
  int8_t i8;
  cr_assert_eq(cqlmux_value_get_tinyint(written(0), &i8), CQLMUX_OK);
  cr_assert_eq(i8, -5);

  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_smallint(&b, -300);
  int16_t i16;
  cr_assert_eq(cqlmux_value_get_smallint(written(0), &i16), CQLMUX_OK);
  cr_assert_eq(i16, -300);

  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_int(&b, INT32_MIN);
  int32_t i32;
  cr_assert_eq(cqlmux_value_get_int(written(0), &i32), CQLMUX_OK);
  cr_assert_eq(i32, INT32_MIN);

  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_bigint(&b, -1234567890123LL);
  int64_t i64;
  cr_assert_eq(cqlmux_value_get_bigint(written(0), &i64), CQLMUX_OK);
  cr_assert_eq(i64, -1234567890123LL);
  cr_assert_eq(cqlmux_value_get_timestamp(written(0), &i64), CQLMUX_OK);

  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_float(&b, 1.5f);
  const uint8_t f15[] = {0, 0, 0, 4, 0x3F, 0xC0, 0, 0};
  cr_assert_arr_eq(b.data, f15, sizeof f15);
  float f;
  cr_assert_eq(cqlmux_value_get_float(written(0), &f), CQLMUX_OK);
  cr_assert_float_eq(f, 1.5f, 0);

  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_double(&b, -2.25);
  double d;
  cr_assert_eq(cqlmux_value_get_double(written(0), &d), CQLMUX_OK);
  cr_assert_float_eq(d, -2.25, 0);

  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_double(&b, NAN);
  cr_assert_eq(cqlmux_value_get_double(written(0), &d), CQLMUX_OK);
  cr_assert(isnan(d));
}

Test(proto_values, time_date_and_their_ranges) {
  cqlmux_value_write_time(&b, 86399999999999LL);
  int64_t t;
  cr_assert_eq(cqlmux_value_get_time(written(0), &t), CQLMUX_OK);
  cr_assert_eq(t, 86399999999999LL);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_time(&b, 86400000000000LL);
  cr_assert_eq(b.error, CQLMUX_ERR_INVALID_ARGUMENT);
  const uint8_t neg[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  cr_assert_eq(cqlmux_value_get_time(bytes_of(neg, 8), &t), CQLMUX_ERR_MALFORMED);

  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_date(&b, 2147483648u); /* 1970-01-01 */
  const uint8_t epoch[] = {0, 0, 0, 4, 0x80, 0, 0, 0};
  cr_assert_arr_eq(b.data, epoch, sizeof epoch);
  uint32_t days;
  cr_assert_eq(cqlmux_value_get_date(written(0), &days), CQLMUX_OK);
  cr_assert_eq(cqlmux_date_to_epoch_days(days), 0);
  cr_assert_eq(cqlmux_date_to_epoch_days(0), -2147483648LL);
}

Test(proto_values, uuid_timeuuid_inet) {
  const uint8_t v4[16] = {0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4,
                          0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00};
  const uint8_t v1[16] = {0x5f, 0x2c, 0x6a, 0x36, 0x84, 0x5a, 0x11, 0xee,
                          0xbe, 0x56, 0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
  const uint8_t *p;
  cqlmux_value_write_uuid(&b, v4);
  cr_assert_eq(cqlmux_value_get_uuid(written(0), &p), CQLMUX_OK);
  cr_assert_arr_eq(p, v4, 16);
  cr_assert_eq(cqlmux_value_get_timeuuid(written(0), &p), CQLMUX_ERR_MALFORMED, "not version 1");
  cr_assert_eq(cqlmux_value_get_timeuuid(bytes_of(v1, 16), &p), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_get_uuid(bytes_of(v1, 15), &p), CQLMUX_ERR_MALFORMED);

  cqlmux_inet a4 = {{127, 0, 0, 1}, 4, 0}, a6 = {{0x20, 0x01, 0x0d, 0xb8}, 16, 0}, got;
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_inet(&b, &a4);
  cr_assert_eq(b.len, 8);
  cr_assert_eq(cqlmux_value_get_inet(written(0), &got), CQLMUX_OK);
  cr_assert_eq(got.addr_len, 4);
  cr_assert_arr_eq(got.addr, a4.addr, 4);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_inet(&b, &a6);
  cr_assert_eq(cqlmux_value_get_inet(written(0), &got), CQLMUX_OK);
  cr_assert_eq(got.addr_len, 16);
  cr_assert_arr_eq(got.addr, a6.addr, 16);
  cr_assert_eq(cqlmux_value_get_inet(bytes_of(v4, 5), &got), CQLMUX_ERR_MALFORMED);
  cqlmux_inet bad = {{0}, 5, 0};
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_inet(&b, &bad);
  cr_assert_eq(b.error, CQLMUX_ERR_INVALID_ARGUMENT);
}

Test(proto_values, text_ascii_blob_and_empty_vs_null) {
  cqlmux_slice s;
  const char *ok[] = {"", "plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    cr_assert_eq(cqlmux_value_get_text(bytes_of(ok[i], (int32_t)strlen(ok[i])), &s), CQLMUX_OK,
                 "case %zu", i);
  const char *bad[] = {"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xe2\x82",
                       "\xf8\x88\x80\x80\x80", "\xe0\x80\xaf"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(cqlmux_value_get_text(bytes_of(bad[i], (int32_t)strlen(bad[i])), &s),
                 CQLMUX_ERR_MALFORMED, "case %zu", i);
  cr_assert_eq(cqlmux_value_get_ascii(bytes_of("abc", 3), &s), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_get_ascii(bytes_of("caf\xc3\xa9", 5), &s), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_get_blob(bytes_of("\xff\x00", 2), &s), CQLMUX_OK);
  cr_assert_eq(s.len, 2);

  /* empty and null stay distinct all the way through a [value] */
  cqlmux_value_write_bytes(&b, "", 0);
  cqlmux_value_write_null(&b);
  cqlmux_value_write_unset(&b);
  const uint8_t want[] = {0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};
  cr_assert_arr_eq(b.data, want, sizeof want);
  cqlmux_reader r = cqlmux_reader_make(b.data, b.len);
  cqlmux_bytes v;
  cr_assert_eq(cqlmux_read_value(&r, &v), CQLMUX_OK);
  cr_assert_eq(v.len, 0);
  cr_assert_eq(cqlmux_value_get_text(v, &s), CQLMUX_OK);
  cr_assert_eq(s.len, 0);
  cr_assert_eq(cqlmux_read_value(&r, &v), CQLMUX_OK);
  cr_assert_eq(v.len, CQLMUX_VALUE_NULL);
  cr_assert_eq(cqlmux_value_get_text(v, &s), CQLMUX_ERR_NULL_VALUE);
}

Test(proto_values, duration) {
  cqlmux_duration d = {1, 2, 3000000000LL}, got;
  cqlmux_value_write_duration(&b, d);
  /* zigzag vints: 1 -> 0x02, 2 -> 0x04, 3e9 -> 6e9 (0x165A0BC00, 33 bits: 4 extra bytes) */
  const uint8_t want[] = {0, 0, 0, 7, 0x02, 0x04, 0xF1, 0x65, 0xA0, 0xBC, 0x00};
  cr_assert_eq(b.len, sizeof want);
  cr_assert_arr_eq(b.data, want, sizeof want);
  cr_assert_eq(cqlmux_value_get_duration(written(0), &got), CQLMUX_OK);
  cr_assert(got.months == 1 && got.days == 2 && got.nanoseconds == 3000000000LL);

  cqlmux_duration neg = {-1, 0, -5};
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_duration(&b, neg);
  cr_assert_eq(cqlmux_value_get_duration(written(0), &got), CQLMUX_OK);
  cr_assert(got.months == -1 && got.days == 0 && got.nanoseconds == -5);

  cqlmux_duration mixed = {1, -1, 0};
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_duration(&b, mixed);
  cr_assert_eq(b.error, CQLMUX_ERR_INVALID_ARGUMENT);

  const uint8_t mixed_raw[] = {0x02, 0x01, 0x00};                    /* 1, -1, 0 */
  const uint8_t months_big[] = {0xF1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}; /* 2^31 */
  const uint8_t trailing[] = {0x02, 0x04, 0x06, 0x00};
  const uint8_t cut[] = {0x02, 0x04};
  cr_assert_eq(cqlmux_value_get_duration(bytes_of(mixed_raw, 3), &got), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_get_duration(bytes_of(months_big, 7), &got), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_get_duration(bytes_of(trailing, 4), &got), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_get_duration(bytes_of(cut, 2), &got), CQLMUX_ERR_MALFORMED);
}

/* ------------------------------------------------------------ composites */

Test(proto_values, list_with_null_and_empty_elements) {
  const cqlmux_typedesc *lt = cqlmux_type_new_list(&arena, N(CQLMUX_TYPE_INT));
  size_t m = cqlmux_value_begin(&b);
  cqlmux_write_i32(&b, 3);
  cqlmux_value_write_int(&b, 10);
  cqlmux_value_write_null(&b);
  cqlmux_value_write_empty(&b);
  cqlmux_value_end(&b, m);
  const uint8_t want[] = {0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 10,
                          0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
  cr_assert_eq(b.len, sizeof want);
  cr_assert_arr_eq(b.data, want, sizeof want);

  cqlmux_value_iter it;
  cqlmux_bytes e;
  const cqlmux_typedesc *et;
  int32_t i32;
  cr_assert_eq(cqlmux_value_iter_init(&it, lt, written(0)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_size(&it), 3);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, &et), 1);
  cr_assert_eq(et, N(CQLMUX_TYPE_INT));
  cr_assert_eq(cqlmux_value_get_int(e, &i32), CQLMUX_OK);
  cr_assert_eq(i32, 10);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, &et), 1);
  cr_assert_eq(e.len, CQLMUX_VALUE_NULL);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, &et), 1);
  cr_assert_eq(e.len, 0);
  cr_assert_eq(cqlmux_value_get_int(e, &i32), CQLMUX_ERR_EMPTY_VALUE);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, &et), 0);
  cr_assert_eq(cqlmux_value_validate(lt, written(0)), CQLMUX_OK);
}

Test(proto_values, collection_headers_and_trailing_bytes) {
  const cqlmux_typedesc *lt = cqlmux_type_new_list(&arena, N(CQLMUX_TYPE_INT));
  const cqlmux_typedesc *mt = cqlmux_type_new_map(&arena, N(CQLMUX_TYPE_INT), N(CQLMUX_TYPE_INT));
  cqlmux_value_iter it;
  cqlmux_bytes e;
  const uint8_t negative[] = {0xFF, 0xFF, 0xFF, 0xFE};
  const uint8_t too_many[] = {0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
  const uint8_t map_too_many[] = {0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t trailing[] = {0, 0, 0, 1, 0, 0, 0, 0, 0x99};
  const uint8_t elem_cut[] = {0, 0, 0, 1, 0, 0, 0, 5, 1, 2};
  const uint8_t bad_len[] = {0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE};
  cr_assert_eq(cqlmux_value_iter_init(&it, lt, bytes_of(negative, 4)), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_iter_init(&it, lt, bytes_of(too_many, 8)), CQLMUX_ERR_TRUNCATED);
  cr_assert_eq(cqlmux_value_iter_init(&it, mt, bytes_of(map_too_many, 20)), CQLMUX_ERR_TRUNCATED);
  cr_assert_eq(cqlmux_value_iter_init(&it, lt, bytes_of(trailing, 9)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 1);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_iter_init(&it, lt, bytes_of(elem_cut, 10)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), CQLMUX_ERR_TRUNCATED);
  cr_assert_eq(cqlmux_value_iter_init(&it, lt, bytes_of(bad_len, 8)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_iter_init(&it, lt, bytes_of(NULL, -1)), CQLMUX_ERR_NULL_VALUE);
  cr_assert_eq(cqlmux_value_iter_init(&it, lt, bytes_of(NULL, 0)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 0, "empty collection: no elements");
  cr_assert_eq(cqlmux_value_iter_init(&it, N(CQLMUX_TYPE_INT), bytes_of(trailing, 4)),
               CQLMUX_ERR_INVALID_ARGUMENT);
}

/* tuple<int, udt{tags: list<map<text,int>>, ids: set<int>}, text> */
static const cqlmux_typedesc *nested_type(void) {
  const cqlmux_typedesc *m = cqlmux_type_new_map(&arena, N(CQLMUX_TYPE_TEXT), N(CQLMUX_TYPE_INT));
  const cqlmux_typedesc *ft[2] = {cqlmux_type_new_list(&arena, m),
                              cqlmux_type_new_set(&arena, N(CQLMUX_TYPE_INT))};
  cqlmux_slice names[2] = {cqlmux_slice_from_cstr("tags"), cqlmux_slice_from_cstr("ids")};
  const cqlmux_typedesc *udt = cqlmux_type_new_udt(&arena, cqlmux_slice_from_cstr("ks"),
                                               cqlmux_slice_from_cstr("info"), 2, names, ft);
  const cqlmux_typedesc *tk[3] = {N(CQLMUX_TYPE_INT), udt, N(CQLMUX_TYPE_TEXT)};
  return cqlmux_type_new_tuple(&arena, 3, tk);
}

static void write_nested_value(void) {
  size_t tup = cqlmux_value_begin(&b);
  cqlmux_value_write_int(&b, 7);
  size_t udt = cqlmux_value_begin(&b);
  {
    size_t list = cqlmux_value_begin(&b);
    cqlmux_write_i32(&b, 2);
    for (int k = 0; k < 2; k++) {
      size_t map = cqlmux_value_begin(&b);
      cqlmux_write_i32(&b, 1);
      cqlmux_value_write_bytes(&b, k ? "b" : "a", 1);
      cqlmux_value_write_int(&b, 100 + k);
      cqlmux_value_end(&b, map);
    }
    cqlmux_value_end(&b, list);
    size_t set = cqlmux_value_begin(&b);
    cqlmux_write_i32(&b, 2);
    cqlmux_value_write_int(&b, 1);
    cqlmux_value_write_int(&b, 2);
    cqlmux_value_end(&b, set);
  }
  cqlmux_value_end(&b, udt);
  cqlmux_value_write_bytes(&b, "end", 3);
  cqlmux_value_end(&b, tup);
}

Test(proto_values, collections_in_udt_in_tuple_roundtrip) {
  const cqlmux_typedesc *t = nested_type();
  cr_assert_not_null(t);
  write_nested_value();
  cqlmux_bytes v = written(0);
  cr_assert_eq(cqlmux_value_validate(t, v), CQLMUX_OK);

  cqlmux_value_iter tup, udt, list, map, set;
  cqlmux_bytes e, f, g, h;
  const cqlmux_typedesc *et, *ft, *gt, *ht;
  int32_t i32;
  cqlmux_slice s;
  cr_assert_eq(cqlmux_value_iter_init(&tup, t, v), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&tup, &e, &et), 1);
  cr_assert_eq(cqlmux_value_get_int(e, &i32), CQLMUX_OK);
  cr_assert_eq(i32, 7);
  cr_assert_eq(cqlmux_value_iter_next(&tup, &e, &et), 1);
  cr_assert_eq(et->id, CQLMUX_TYPE_UDT);
  cr_assert_eq(cqlmux_value_iter_init(&udt, et, e), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&udt, &f, &ft), 1);
  cr_assert_eq(ft->id, CQLMUX_TYPE_LIST);
  cr_assert_eq(cqlmux_value_iter_init(&list, ft, f), CQLMUX_OK);
  for (int k = 0; k < 2; k++) {
    cr_assert_eq(cqlmux_value_iter_next(&list, &g, &gt), 1);
    cr_assert_eq(cqlmux_value_iter_init(&map, gt, g), CQLMUX_OK);
    cr_assert_eq(cqlmux_value_iter_size(&map), 1);
    cr_assert_eq(cqlmux_value_iter_next(&map, &h, &ht), 1);
    cr_assert_eq(ht, N(CQLMUX_TYPE_TEXT));
    cr_assert_eq(cqlmux_value_get_text(h, &s), CQLMUX_OK);
    cr_assert_eq(s.data[0], k ? 'b' : 'a');
    cr_assert_eq(cqlmux_value_iter_next(&map, &h, &ht), 1);
    cr_assert_eq(ht, N(CQLMUX_TYPE_INT));
    cr_assert_eq(cqlmux_value_get_int(h, &i32), CQLMUX_OK);
    cr_assert_eq(i32, 100 + k);
    cr_assert_eq(cqlmux_value_iter_next(&map, &h, &ht), 0);
  }
  cr_assert_eq(cqlmux_value_iter_next(&list, &g, &gt), 0);
  cr_assert_eq(cqlmux_value_iter_next(&udt, &f, &ft), 1);
  cr_assert_eq(cqlmux_value_iter_init(&set, ft, f), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_size(&set), 2);
  cr_assert_eq(cqlmux_value_iter_next(&udt, &f, &ft), 0);
  cr_assert_eq(cqlmux_value_iter_next(&tup, &e, &et), 1);
  cr_assert_eq(cqlmux_value_get_text(e, &s), CQLMUX_OK);
  cr_assert_eq(s.len, 3);
  cr_assert_eq(cqlmux_value_iter_next(&tup, &e, &et), 0);
}

Test(proto_values, every_truncation_of_a_nested_value_is_caught) {
  const cqlmux_typedesc *t = nested_type();
  write_nested_value();
  cqlmux_bytes full = written(0);
  for (int32_t cut = 1; cut < full.len; cut++) {
    int rc = cqlmux_value_validate(t, bytes_of(full.data, cut));
    /* a cut between tuple fields is a legal tuple with fewer fields */
    if (rc == CQLMUX_OK) {
      cqlmux_value_iter it;
      cqlmux_bytes e;
      cr_assert_eq(cqlmux_value_iter_init(&it, t, bytes_of(full.data, cut)), CQLMUX_OK);
      while (cqlmux_value_iter_next(&it, &e, NULL) == 1) continue;
      cr_assert_lt(it.index, 3, "cut %d", cut);
      continue;
    }
    cr_assert(rc == CQLMUX_ERR_TRUNCATED || rc == CQLMUX_ERR_MALFORMED, "cut %d rc %d", cut, rc);
  }
}

Test(proto_values, udt_with_missing_trailing_fields_and_too_many_fields) {
  const cqlmux_typedesc *ft[2] = {N(CQLMUX_TYPE_INT), N(CQLMUX_TYPE_TEXT)};
  cqlmux_slice names[2] = {cqlmux_slice_from_cstr("a"), cqlmux_slice_from_cstr("b")};
  const cqlmux_typedesc *u = cqlmux_type_new_udt(&arena, cqlmux_slice_from_cstr("ks"),
                                             cqlmux_slice_from_cstr("u"), 2, names, ft);
  size_t m = cqlmux_value_begin(&b);
  cqlmux_value_write_int(&b, 1);
  cqlmux_value_end(&b, m);
  cqlmux_value_iter it;
  cqlmux_bytes e;
  cr_assert_eq(cqlmux_value_iter_init(&it, u, written(0)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 1);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 0);
  cr_assert_eq(it.index, 1, "one field present, the other missing");
  cr_assert_eq(cqlmux_value_validate(u, written(0)), CQLMUX_OK);

  cqlmux_wbuf_reset(&b);
  m = cqlmux_value_begin(&b);
  cqlmux_value_write_int(&b, 1);
  cqlmux_value_write_bytes(&b, "x", 1);
  cqlmux_value_write_int(&b, 3);
  cqlmux_value_end(&b, m);
  cr_assert_eq(cqlmux_value_validate(u, written(0)), CQLMUX_ERR_MALFORMED);
}

/* ------------------------------------------------------------ vectors */

Test(proto_values, vector_of_float_is_packed_without_lengths) {
  const cqlmux_typedesc *vt = cqlmux_type_new_vector(&arena, N(CQLMUX_TYPE_FLOAT), 3);
  const float fv[3] = {1.0f, -2.0f, 0.5f};
  cqlmux_value_write_float_vector(&b, fv, 3);
  const uint8_t want[] = {0, 0, 0, 12, 0x3F, 0x80, 0, 0, 0xC0, 0, 0, 0, 0x3F, 0, 0, 0};
  cr_assert_eq(b.len, sizeof want);
  cr_assert_arr_eq(b.data, want, sizeof want);
  cqlmux_value_iter it;
  cqlmux_bytes e;
  float f;
  cr_assert_eq(cqlmux_value_iter_init(&it, vt, written(0)), CQLMUX_OK);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 1);
    cr_assert_eq(e.len, 4);
    cr_assert_eq(cqlmux_value_get_float(e, &f), CQLMUX_OK);
    cr_assert_float_eq(f, fv[i], 0);
  }
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 0);
  cr_assert_eq(cqlmux_value_validate(vt, written(0)), CQLMUX_OK);
  /* wrong size: MALFORMED; empty: EMPTY_VALUE */
  cr_assert_eq(cqlmux_value_iter_init(&it, vt, bytes_of(want + 4, 8)), CQLMUX_ERR_MALFORMED);
  const uint8_t thirteen[13] = {0};
  cr_assert_eq(cqlmux_value_iter_init(&it, vt, bytes_of(thirteen, 13)), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_value_iter_init(&it, vt, bytes_of(NULL, 0)), CQLMUX_ERR_EMPTY_VALUE);
}

Test(proto_values, vector_of_text_prefixes_each_element_with_unsigned_vint) {
  const cqlmux_typedesc *vt = cqlmux_type_new_vector(&arena, N(CQLMUX_TYPE_TEXT), 2);
  size_t m = cqlmux_value_begin(&b);
  size_t e0 = cqlmux_value_vector_elem_begin(&b);
  cqlmux_write_raw(&b, "abc", 3);
  cqlmux_value_vector_elem_end(&b, e0);
  size_t e1 = cqlmux_value_vector_elem_begin(&b);
  cqlmux_value_vector_elem_end(&b, e1); /* empty string */
  cqlmux_value_end(&b, m);
  const uint8_t want[] = {0, 0, 0, 5, 0x03, 'a', 'b', 'c', 0x00};
  cr_assert_eq(b.len, sizeof want);
  cr_assert_arr_eq(b.data, want, sizeof want);
  cqlmux_value_iter it;
  cqlmux_bytes e;
  cqlmux_slice s;
  cr_assert_eq(cqlmux_value_iter_init(&it, vt, written(0)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 1);
  cr_assert_eq(cqlmux_value_get_text(e, &s), CQLMUX_OK);
  cr_assert_eq(s.len, 3);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 1);
  cr_assert_eq(e.len, 0);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 0);
  cr_assert_eq(cqlmux_value_validate(vt, written(0)), CQLMUX_OK);
  /* truncated element, trailing bytes */
  const uint8_t cut[] = {0x03, 'a', 'b', 'c', 0x05, 'x'};
  const uint8_t extra[] = {0x01, 'a', 0x01, 'b', 0x00};
  cr_assert_eq(cqlmux_value_validate(vt, bytes_of(cut, sizeof cut)), CQLMUX_ERR_TRUNCATED);
  cr_assert_eq(cqlmux_value_validate(vt, bytes_of(extra, sizeof extra)), CQLMUX_ERR_MALFORMED);
}

Test(proto_values, long_variable_vector_element_gets_a_two_byte_length) {
  const cqlmux_typedesc *vt = cqlmux_type_new_vector(&arena, N(CQLMUX_TYPE_BLOB), 1);
  uint8_t blob[300];
  for (size_t i = 0; i < sizeof blob; i++) blob[i] = (uint8_t)i;
  size_t m = cqlmux_value_begin(&b);
  size_t e0 = cqlmux_value_vector_elem_begin(&b);
  cqlmux_write_raw(&b, blob, sizeof blob);
  cqlmux_value_vector_elem_end(&b, e0);
  cqlmux_value_end(&b, m);
  cr_assert_eq(b.len, 4 + 2 + 300);
  cr_assert_eq(b.data[4], 0x81); /* 300 = 0x12C: one extra byte, high bits 0x01 */
  cr_assert_eq(b.data[5], 0x2C);
  cqlmux_value_iter it;
  cqlmux_bytes e;
  cr_assert_eq(cqlmux_value_iter_init(&it, vt, written(0)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, NULL), 1);
  cr_assert_eq(e.len, 300);
  cr_assert_arr_eq(e.data, blob, 300);
}

Test(proto_values, vector_of_smallint_is_variable_like_cassandra) {
  const cqlmux_typedesc *vt = cqlmux_type_new_vector(&arena, N(CQLMUX_TYPE_SMALLINT), 2);
  cr_assert_eq(vt->fixed_size, -1);
  size_t m = cqlmux_value_begin(&b);
  for (int16_t k = 1; k <= 2; k++) {
    size_t e = cqlmux_value_vector_elem_begin(&b);
    cqlmux_value_put_smallint(&b, k);
    cqlmux_value_vector_elem_end(&b, e);
  }
  cqlmux_value_end(&b, m);
  const uint8_t want[] = {0, 0, 0, 6, 0x02, 0x00, 0x01, 0x02, 0x00, 0x02};
  cr_assert_arr_eq(b.data, want, sizeof want);
  cr_assert_eq(cqlmux_value_validate(vt, written(0)), CQLMUX_OK);
}

Test(proto_values, vector_of_lists_nests_collections) {
  const cqlmux_typedesc *vt =
      cqlmux_type_new_vector(&arena, cqlmux_type_new_list(&arena, N(CQLMUX_TYPE_INT)), 2);
  size_t m = cqlmux_value_begin(&b);
  for (int k = 0; k < 2; k++) {
    size_t e = cqlmux_value_vector_elem_begin(&b);
    cqlmux_write_i32(&b, 1);
    cqlmux_value_write_int(&b, k);
    cqlmux_value_vector_elem_end(&b, e);
  }
  cqlmux_value_end(&b, m);
  cr_assert_eq(cqlmux_value_validate(vt, written(0)), CQLMUX_OK);
  cqlmux_value_iter it, inner;
  cqlmux_bytes e, x;
  const cqlmux_typedesc *et;
  int32_t i32;
  cr_assert_eq(cqlmux_value_iter_init(&it, vt, written(0)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, &et), 1);
  cr_assert_eq(e.len, 12);
  cr_assert_eq(cqlmux_value_iter_next(&it, &e, &et), 1);
  cr_assert_eq(cqlmux_value_iter_init(&inner, et, e), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iter_next(&inner, &x, NULL), 1);
  cr_assert_eq(cqlmux_value_get_int(x, &i32), CQLMUX_OK);
  cr_assert_eq(i32, 1);
}

Test(proto_values, validate_checks_scalars_inside_composites) {
  const cqlmux_typedesc *lt = cqlmux_type_new_list(&arena, N(CQLMUX_TYPE_TEXT));
  size_t m = cqlmux_value_begin(&b);
  cqlmux_write_i32(&b, 1);
  cqlmux_value_write_bytes(&b, "\xc0\x80", 2);
  cqlmux_value_end(&b, m);
  cr_assert_eq(cqlmux_value_validate(lt, written(0)), CQLMUX_ERR_MALFORMED);
  const cqlmux_typedesc *li = cqlmux_type_new_list(&arena, N(CQLMUX_TYPE_INT));
  cqlmux_wbuf_reset(&b);
  m = cqlmux_value_begin(&b);
  cqlmux_write_i32(&b, 1);
  cqlmux_value_write_smallint(&b, 1);
  cqlmux_value_end(&b, m);
  cr_assert_eq(cqlmux_value_validate(li, written(0)), CQLMUX_ERR_MALFORMED);
}

Test(proto_values, checked_per_type_writers) {
  const uint8_t v1[16] = {0x5f, 0x2c, 0x6a, 0x36, 0x84, 0x5a, 0x11, 0xee};
  const uint8_t v4[16] = {0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4};
  cqlmux_slice s;
  int64_t i64;
  const uint8_t *p;
  cqlmux_value_write_text(&b, "caf\xc3\xa9", 5);
  cr_assert_eq(cqlmux_value_get_text(written(0), &s), CQLMUX_OK);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_ascii(&b, "abc", 3);
  cr_assert_eq(cqlmux_value_get_ascii(written(0), &s), CQLMUX_OK);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_blob(&b, "\xff", 1);
  cr_assert_eq(cqlmux_value_get_blob(written(0), &s), CQLMUX_OK);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_timestamp(&b, -1);
  cr_assert_eq(cqlmux_value_get_timestamp(written(0), &i64), CQLMUX_OK);
  cr_assert_eq(i64, -1);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_counter(&b, 5);
  cr_assert_eq(cqlmux_value_get_bigint(written(0), &i64), CQLMUX_OK);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_timeuuid(&b, v1);
  cr_assert_eq(cqlmux_value_get_timeuuid(written(0), &p), CQLMUX_OK);
  cqlmux_wbuf_reset(&b);
  const uint8_t big[9] = {0x01};
  cqlmux_value_write_varint_raw(&b, big, sizeof big);
  cr_assert_eq(cqlmux_value_get_varint(written(0), &i64), CQLMUX_ERR_OVERSIZED);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_decimal_raw(&b, 1, big, sizeof big);
  cqlmux_decimal d;
  cr_assert_eq(cqlmux_value_get_decimal(written(0), &d), CQLMUX_OK);
  cr_assert_eq(d.unscaled.len, 9);

  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_text(&b, "\xc0\x80", 2);
  cr_assert_eq(b.error, CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_ascii(&b, "\x80", 1);
  cr_assert_eq(b.error, CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_timeuuid(&b, v4);
  cr_assert_eq(b.error, CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_varint_raw(&b, big, 0);
  cr_assert_eq(b.error, CQLMUX_ERR_INVALID_ARGUMENT);
}

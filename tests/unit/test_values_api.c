/* The public value API: every type built with cqlmux_builder, put in a
 * RESULT body by the codec's response encoder, decoded into a
 * cqlmux_result as a session would, and read back with the public type
 * descriptors, value readers and iterators. Statement binds are checked
 * to produce the builder's bytes. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "api/result.h"
#include "api/statement.h"
#include "proto/opcode.h"
#include "proto/response.h"
#include "proto/types.h"
#include "proto/values.h"
#include "unit/value_table.h"

#define S(lit) ((cqlmux_slice){(const uint8_t *)(lit), sizeof(lit) - 1})
#define N(id) cqlmux_type_native(id)
static cqlmux_value next_elem(cqlmux_iterator *it) {
  cqlmux_value e;
  int rc = cqlmux_iterator_next(it, &e);
  cr_assert_eq(rc, 1, "element %zu: %d", cqlmux_iterator_index(it), rc);
  return e;
}

static void expect_end(cqlmux_iterator *it) {
  cqlmux_value e;
  cr_assert_eq(cqlmux_iterator_next(it, &e), 0);
}

static void expect_text(const cqlmux_value *v, const char *want) {
  const char *s;
  size_t n;
  int rc = cqlmux_value_as_text(v, &s, &n);
  cr_assert_eq(rc, CQLMUX_OK, "as_text: %s", cqlmux_strerror(rc));
  cr_assert(n == strlen(want) && memcmp(s, want, n) == 0, "text %.*s, want %s", (int)n, s, want);
}

static void expect_int32(const cqlmux_value *v, int32_t want) {
  int32_t x;
  cr_assert_eq(cqlmux_value_as_int32(v, &x), CQLMUX_OK);
  cr_assert_eq(x, want);
}

static const uint8_t uuid4[16] = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x42, 0xd3,
                                  0xa4, 0x56, 0x55, 0x66, 0x42, 0x44, 0x00, 0x00};
static const uint8_t uuid1[16] = {0xe7, 0xe9, 0xc6, 0xa0, 0xd6, 0xc0, 0x11, 0xee,
                                  0x8c, 0x90, 0x08, 0x00, 0x20, 0x0c, 0x9a, 0x66};
/* 123456789012345678901234567890 as minimal two's complement. */
static const uint8_t big_varint[] = {0x01, 0x8e, 0xe9, 0x0f, 0xf6, 0xc3, 0x73,
                                     0xe0, 0xee, 0x4e, 0x3f, 0x0a, 0xd2};
static const uint8_t ip4[4] = {192, 168, 1, 77};
static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29};

/* ------------------------------------------------------------ scalars */

static void build_scalars(table *t) {
  cqlmux_builder_add_ascii(column(t, "ascii", N(CQLMUX_TYPE_ASCII)), "plain ~!", 8);
  cqlmux_builder_add_int64(column(t, "bigint", N(CQLMUX_TYPE_BIGINT)), INT64_MIN);
  cqlmux_builder_add_blob(column(t, "blob", N(CQLMUX_TYPE_BLOB)), "\x00\xff\x7f", 3);
  cqlmux_builder_add_bool(column(t, "boolean", N(CQLMUX_TYPE_BOOLEAN)), 42);
  cqlmux_builder_add_int64(column(t, "counter", N(CQLMUX_TYPE_COUNTER)), -7);
  cqlmux_builder_add_date(column(t, "date", N(CQLMUX_TYPE_DATE)), 2147483648u + 19782u);
  cqlmux_builder_add_decimal_int64(column(t, "decimal", N(CQLMUX_TYPE_DECIMAL)), 123456789, 4);
  cqlmux_builder_add_double(column(t, "double", N(CQLMUX_TYPE_DOUBLE)), 2.718281828459045);
  cqlmux_builder_add_duration(column(t, "duration", N(CQLMUX_TYPE_DURATION)), 14, 3,
                              14706007008009);
  cqlmux_builder_add_float(column(t, "float", N(CQLMUX_TYPE_FLOAT)), -INFINITY);
  cqlmux_builder_add_inet(column(t, "inet4", N(CQLMUX_TYPE_INET)), ip4, 4);
  cqlmux_builder_add_inet(column(t, "inet6", N(CQLMUX_TYPE_INET)), ip6, 16);
  cqlmux_builder_add_int32(column(t, "int", N(CQLMUX_TYPE_INT)), INT32_MIN);
  cqlmux_builder_add_int16(column(t, "smallint", N(CQLMUX_TYPE_SMALLINT)), -12345);
  cqlmux_builder_add_text(column(t, "text", N(CQLMUX_TYPE_TEXT)), "h\xc3\xa9llo \xe2\x9c\x93",
                          10);
  cqlmux_builder_add_time(column(t, "time", N(CQLMUX_TYPE_TIME)), 86399999999999);
  cqlmux_builder_add_int64(column(t, "timestamp", N(CQLMUX_TYPE_TIMESTAMP)), 1709214330123);
  cqlmux_builder_add_uuid(column(t, "timeuuid", N(CQLMUX_TYPE_TIMEUUID)), uuid1);
  cqlmux_builder_add_int8(column(t, "tinyint", N(CQLMUX_TYPE_TINYINT)), INT8_MIN);
  cqlmux_builder_add_uuid(column(t, "uuid", N(CQLMUX_TYPE_UUID)), uuid4);
  cqlmux_builder_add_varint(column(t, "varint", N(CQLMUX_TYPE_VARINT)), -129);
  cqlmux_builder_add_varint_bytes(column(t, "varint_big", N(CQLMUX_TYPE_VARINT)), big_varint,
                                  sizeof big_varint);
  cqlmux_builder_add_decimal(column(t, "decimal_big", N(CQLMUX_TYPE_DECIMAL)), big_varint,
                             sizeof big_varint, -3);
}

static void check_numbers(const cqlmux_result *r) {
  int8_t i8;
  int16_t i16;
  int64_t i64;
  float f;
  double d;
  int b;
  cqlmux_value v = value_at(r, 1);
  cr_assert_eq(cqlmux_value_as_int64(&v, &i64), CQLMUX_OK);
  cr_assert_eq(i64, INT64_MIN);
  v = value_at(r, 3);
  cr_assert_eq(cqlmux_value_as_bool(&v, &b), CQLMUX_OK);
  cr_assert_eq(b, 1, "any non-zero binds as true, reads as 1");
  v = value_at(r, 4);
  cr_assert_eq(cqlmux_value_as_int64(&v, &i64), CQLMUX_OK);
  cr_assert_eq(i64, -7);
  v = value_at(r, 7);
  cr_assert_eq(cqlmux_value_as_double(&v, &d), CQLMUX_OK);
  cr_assert_eq(d, 2.718281828459045);
  v = value_at(r, 9);
  cr_assert_eq(cqlmux_value_as_float(&v, &f), CQLMUX_OK);
  cr_assert(isinf(f) && f < 0);
  v = value_at(r, 12);
  expect_int32(&v, INT32_MIN);
  v = value_at(r, 13);
  cr_assert_eq(cqlmux_value_as_int16(&v, &i16), CQLMUX_OK);
  cr_assert_eq(i16, -12345);
  v = value_at(r, 18);
  cr_assert_eq(cqlmux_value_as_int8(&v, &i8), CQLMUX_OK);
  cr_assert_eq(i8, INT8_MIN);
  v = value_at(r, 20);
  cr_assert_eq(cqlmux_value_as_varint(&v, &i64), CQLMUX_OK);
  cr_assert_eq(i64, -129);
  cr_assert_eq(v.length, 2, "minimal varint encoding");
}

static void check_big_numbers(const cqlmux_result *r) {
  const uint8_t *p;
  size_t n;
  int32_t scale;
  int64_t i64;
  char text[64];
  cqlmux_value v = value_at(r, 6);
  cr_assert_eq(cqlmux_value_as_decimal(&v, &p, &n, &scale), CQLMUX_OK);
  cr_assert_eq(scale, 4);
  cr_assert_eq(cqlmux_varint_to_i64(p, n, &i64), CQLMUX_OK);
  cr_assert_eq(i64, 123456789);
  cr_assert_eq(cqlmux_value_as_decimal_string(&v, text, sizeof text, &n), CQLMUX_OK);
  cr_assert_str_eq(text, "12345.6789");
  cr_assert_eq(n, 10);
  v = value_at(r, 21);
  cr_assert_eq(cqlmux_value_as_varint(&v, &i64), CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(cqlmux_value_as_varint_bytes(&v, &p, &n), CQLMUX_OK);
  cr_assert(n == sizeof big_varint && memcmp(p, big_varint, n) == 0);
  v = value_at(r, 22);
  cr_assert_eq(cqlmux_value_as_decimal(&v, &p, &n, &scale), CQLMUX_OK);
  cr_assert_eq(scale, -3);
  cr_assert(n == sizeof big_varint && memcmp(p, big_varint, n) == 0);
  cr_assert_eq(cqlmux_value_as_decimal_string(&v, text, sizeof text, &n), CQLMUX_OK);
  cr_assert_str_eq(text, "1.23456789012345678901234567890E+32");
}

static void check_time_and_ids(const cqlmux_result *r) {
  uint32_t date;
  int64_t i64;
  int32_t months, days;
  uint8_t bytes[16];
  size_t n;
  cqlmux_value v = value_at(r, 5);
  cr_assert_eq(cqlmux_value_as_date(&v, &date), CQLMUX_OK);
  cr_assert_eq(date, 2147483648u + 19782u);
  v = value_at(r, 8);
  cr_assert_eq(cqlmux_value_as_duration(&v, &months, &days, &i64), CQLMUX_OK);
  cr_assert(months == 14 && days == 3 && i64 == 14706007008009);
  v = value_at(r, 10);
  cr_assert_eq(cqlmux_value_as_inet(&v, bytes, &n), CQLMUX_OK);
  cr_assert(n == 4 && memcmp(bytes, ip4, 4) == 0);
  v = value_at(r, 11);
  cr_assert_eq(cqlmux_value_as_inet(&v, bytes, &n), CQLMUX_OK);
  cr_assert(n == 16 && memcmp(bytes, ip6, 16) == 0);
  v = value_at(r, 15);
  cr_assert_eq(cqlmux_value_as_time(&v, &i64), CQLMUX_OK);
  cr_assert_eq(i64, 86399999999999);
  v = value_at(r, 16);
  cr_assert_eq(cqlmux_value_as_timestamp(&v, &i64), CQLMUX_OK);
  cr_assert_eq(i64, 1709214330123);
  cr_assert_eq(cqlmux_value_as_int64(&v, &i64), CQLMUX_OK, "timestamp reads as int64 too");
  v = value_at(r, 17);
  cr_assert_eq(cqlmux_value_as_uuid(&v, bytes), CQLMUX_OK);
  cr_assert_arr_eq(bytes, uuid1, 16);
  v = value_at(r, 19);
  cr_assert_eq(cqlmux_value_as_uuid(&v, bytes), CQLMUX_OK);
  cr_assert_arr_eq(bytes, uuid4, 16);
}

static void check_bytes_and_text(const cqlmux_result *r) {
  const uint8_t *p;
  size_t n;
  cqlmux_value v = value_at(r, 0);
  expect_text(&v, "plain ~!");
  v = value_at(r, 2);
  cr_assert_eq(cqlmux_value_as_blob(&v, &p, &n), CQLMUX_OK);
  cr_assert(n == 3 && memcmp(p, "\x00\xff\x7f", 3) == 0);
  v = value_at(r, 14);
  expect_text(&v, "h\xc3\xa9llo \xe2\x9c\x93");
}

static void check_type_mismatches(const cqlmux_result *r) {
  int32_t i32;
  int64_t i64;
  const char *s;
  size_t n;
  uint8_t u[16];
  cqlmux_value text = value_at(r, 14), i = value_at(r, 12), smallint = value_at(r, 13);
  cr_assert_eq(cqlmux_value_as_int32(&text, &i32), CQLMUX_ERR_TYPE_MISMATCH);
  cr_assert_eq(cqlmux_value_as_int32(&smallint, &i32), CQLMUX_ERR_TYPE_MISMATCH,
               "no silent widening");
  cr_assert_eq(cqlmux_value_as_int64(&i, &i64), CQLMUX_ERR_TYPE_MISMATCH);
  cr_assert_eq(cqlmux_value_as_text(&i, &s, &n), CQLMUX_ERR_TYPE_MISMATCH);
  cr_assert_eq(cqlmux_value_as_uuid(&text, u), CQLMUX_ERR_TYPE_MISMATCH);
  cr_assert_eq(cqlmux_value_as_int32(&i, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_value_as_int32(NULL, &i32), CQLMUX_ERR_INVALID_ARGUMENT);
}

Test(values_api, every_scalar_type_round_trips_through_a_result) {
  for (uint8_t version = 4; version <= 5; version++) {
    table t;
    table_init(&t);
    build_scalars(&t);
    const cqlmux_result *r = table_result(&t, version);
    cr_assert_eq(cqlmux_result_column_count(r), 23);
    cr_assert_eq(cqlmux_data_type_kind(cqlmux_result_column_data_type(r, 8)),
                 CQLMUX_TYPE_DURATION, "v%d: duration type", version);
    check_numbers(r);
    check_big_numbers(r);
    check_time_and_ids(r);
    check_bytes_and_text(r);
    check_type_mismatches(r);
    table_free(&t);
  }
}

/* ------------------------------------------------------------ null and empty */

Test(values_api, null_and_empty_are_distinct) {
  table t;
  table_init(&t);
  const cqlmux_typedesc *list_int = cqlmux_type_new_list(&t.arena, N(CQLMUX_TYPE_INT));
  cqlmux_builder_add_null(column(&t, "int_null", N(CQLMUX_TYPE_INT)));
  cqlmux_builder_add_serialized(column(&t, "int_empty", N(CQLMUX_TYPE_INT)), NULL, 0);
  cqlmux_builder_add_text(column(&t, "text_empty", N(CQLMUX_TYPE_TEXT)), "", 0);
  cqlmux_builder_add_null(column(&t, "text_null", N(CQLMUX_TYPE_TEXT)));
  cqlmux_builder_add_blob(column(&t, "blob_empty", N(CQLMUX_TYPE_BLOB)), NULL, 0);
  cqlmux_builder *l = column(&t, "list_nulls", list_int);
  cqlmux_builder_begin_collection(l, CQLMUX_TYPE_LIST);
  cqlmux_builder_add_null(l);
  cqlmux_builder_add_serialized(l, NULL, 0);
  cqlmux_builder_add_int32(l, 5);
  cqlmux_builder_end(l);
  cqlmux_builder *e = column(&t, "list_empty", list_int);
  cqlmux_builder_begin_collection(e, CQLMUX_TYPE_LIST);
  cqlmux_builder_end(e);
  cqlmux_builder_add_null(column(&t, "list_null", list_int));
  const cqlmux_result *r = table_result(&t, 5);

  int32_t i32;
  const char *s;
  size_t n;
  const uint8_t *p;
  cqlmux_value v = value_at(r, 0);
  cr_assert(cqlmux_value_is_null(&v));
  cr_assert_null(v.data);
  cr_assert_eq(v.length, -1);
  cr_assert_eq(cqlmux_value_as_int32(&v, &i32), CQLMUX_ERR_NULL_VALUE);
  v = value_at(r, 1);
  cr_assert_not(cqlmux_value_is_null(&v));
  cr_assert_eq(v.length, 0);
  cr_assert_eq(cqlmux_value_as_int32(&v, &i32), CQLMUX_ERR_EMPTY_VALUE);
  v = value_at(r, 2);
  cr_assert_eq(cqlmux_value_as_text(&v, &s, &n), CQLMUX_OK);
  cr_assert(n == 0 && s != NULL);
  v = value_at(r, 3);
  cr_assert_eq(cqlmux_value_as_text(&v, &s, &n), CQLMUX_ERR_NULL_VALUE);
  v = value_at(r, 4);
  cr_assert_eq(cqlmux_value_as_blob(&v, &p, &n), CQLMUX_OK);
  cr_assert(n == 0 && p != NULL);

  cqlmux_iterator it;
  v = value_at(r, 5);
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_OK);
  cr_assert_eq(cqlmux_iterator_size(&it), 3);
  cqlmux_value el = next_elem(&it);
  cr_assert(cqlmux_value_is_null(&el));
  cr_assert_eq(cqlmux_value_as_int32(&el, &i32), CQLMUX_ERR_NULL_VALUE);
  el = next_elem(&it);
  cr_assert_eq(cqlmux_value_as_int32(&el, &i32), CQLMUX_ERR_EMPTY_VALUE);
  el = next_elem(&it);
  expect_int32(&el, 5);
  expect_end(&it);
  v = value_at(r, 6);
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_OK);
  cr_assert_eq(cqlmux_iterator_size(&it), 0);
  expect_end(&it);
  v = value_at(r, 7);
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_ERR_NULL_VALUE);
  table_free(&t);
}

/* ------------------------------------------------------------ nesting */

/* udt point_set { name text, tags map<text, frozen<list<int>>>, at vector<float, 2> } */
static const cqlmux_typedesc *nested_udt(cqlmux_arena *a) {
  static const cqlmux_slice fields[] = {S("name"), S("tags"), S("at")};
  const cqlmux_typedesc *types[] = {
      N(CQLMUX_TYPE_TEXT),
      cqlmux_type_new_map(a, N(CQLMUX_TYPE_TEXT), cqlmux_type_new_list(a, N(CQLMUX_TYPE_INT))),
      cqlmux_type_new_vector(a, N(CQLMUX_TYPE_FLOAT), 2)};
  return cqlmux_type_new_udt(a, S("ks"), S("point_set"), 3, fields, types);
}

/* tuple<int, frozen<point_set>, set<uuid>> */
static const cqlmux_typedesc *nested_tuple(cqlmux_arena *a) {
  const cqlmux_typedesc *types[] = {N(CQLMUX_TYPE_INT), nested_udt(a),
                                    cqlmux_type_new_set(a, N(CQLMUX_TYPE_UUID))};
  return cqlmux_type_new_tuple(a, 3, types);
}

static void build_int_list(cqlmux_builder *b, const int32_t *v, size_t n) {
  cr_assert_eq(cqlmux_builder_begin_collection(b, CQLMUX_TYPE_LIST), CQLMUX_OK);
  for (size_t i = 0; i < n; i++) cr_assert_eq(cqlmux_builder_add_int32(b, v[i]), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK);
}

static void build_nested(cqlmux_builder *b) {
  static const int32_t one[] = {1, 2}, two[] = {-3};
  cr_assert_eq(cqlmux_builder_begin_tuple(b), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_add_int32(b, 7), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_begin_udt(b), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_add_text(b, "corners", 7), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_begin_collection(b, CQLMUX_TYPE_MAP), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_add_text(b, "a", 1), CQLMUX_OK);
  build_int_list(b, one, 2);
  cr_assert_eq(cqlmux_builder_add_text(b, "b", 1), CQLMUX_OK);
  build_int_list(b, two, 1);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_begin_vector(b, 4), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_add_float(b, 0.5f), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_add_float(b, -1.25f), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK); /* udt */
  cr_assert_eq(cqlmux_builder_begin_collection(b, CQLMUX_TYPE_SET), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_add_uuid(b, uuid4), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK); /* tuple */
}

static void check_nested_types(const cqlmux_data_type *tuple) {
  size_t n;
  cr_assert_eq(cqlmux_data_type_kind(tuple), CQLMUX_TYPE_TUPLE);
  cr_assert_eq(cqlmux_data_type_child_count(tuple), 3);
  cr_assert_null(cqlmux_data_type_child(tuple, 3));
  const cqlmux_data_type *udt = cqlmux_data_type_child(tuple, 1);
  cr_assert_eq(cqlmux_data_type_kind(udt), CQLMUX_TYPE_UDT);
  const char *s = cqlmux_data_type_keyspace(udt, &n);
  cr_assert(n == 2 && memcmp(s, "ks", 2) == 0);
  s = cqlmux_data_type_name(udt, &n);
  cr_assert(n == 9 && memcmp(s, "point_set", 9) == 0);
  s = cqlmux_data_type_field_name(udt, 1, &n);
  cr_assert(n == 4 && memcmp(s, "tags", 4) == 0);
  cr_assert_null(cqlmux_data_type_field_name(udt, 3, &n));
  cr_assert_null(cqlmux_data_type_field_name(tuple, 0, &n), "tuples have no field names");
  cr_assert_eq(cqlmux_data_type_names_are_hex(udt), 0);
  const cqlmux_data_type *map = cqlmux_data_type_child(udt, 1);
  cr_assert_eq(cqlmux_data_type_kind(map), CQLMUX_TYPE_MAP);
  cr_assert_eq(cqlmux_data_type_kind(cqlmux_data_type_child(map, 0)), CQLMUX_TYPE_TEXT);
  const cqlmux_data_type *list = cqlmux_data_type_child(map, 1);
  cr_assert_eq(cqlmux_data_type_kind(list), CQLMUX_TYPE_LIST);
  cr_assert_eq(cqlmux_data_type_kind(cqlmux_data_type_child(list, 0)), CQLMUX_TYPE_INT);
  const cqlmux_data_type *vec = cqlmux_data_type_child(udt, 2);
  cr_assert_eq(cqlmux_data_type_kind(vec), CQLMUX_TYPE_VECTOR);
  cr_assert_eq(cqlmux_data_type_dimension(vec), 2);
  cr_assert_eq(cqlmux_data_type_dimension(list), 0);
  cr_assert_eq(cqlmux_data_type_kind(cqlmux_data_type_child(cqlmux_data_type_child(tuple, 2), 0)),
               CQLMUX_TYPE_UUID);
  cr_assert_null(cqlmux_data_type_custom_class(vec, &n));
}

static void check_tags(const cqlmux_value *map) {
  cqlmux_iterator it, lit;
  cqlmux_value k, v;
  cr_assert_eq(cqlmux_value_iterate(map, &it), CQLMUX_OK);
  cr_assert_eq(cqlmux_iterator_size(&it), 2, "two entries");
  cr_assert_eq(cqlmux_iterator_next_pair(&it, &k, &v), 1);
  expect_text(&k, "a");
  cr_assert_eq(cqlmux_value_iterate(&v, &lit), CQLMUX_OK);
  cqlmux_value e = next_elem(&lit);
  expect_int32(&e, 1);
  e = next_elem(&lit);
  expect_int32(&e, 2);
  expect_end(&lit);
  /* key and value one by one, too */
  k = next_elem(&it);
  expect_text(&k, "b");
  v = next_elem(&it);
  cr_assert_eq(cqlmux_value_iterate(&v, &lit), CQLMUX_OK);
  e = next_elem(&lit);
  expect_int32(&e, -3);
  expect_end(&lit);
  cr_assert_eq(cqlmux_iterator_next_pair(&it, &k, &v), 0);
}

static void check_nested_values(const cqlmux_value *tuple) {
  cqlmux_iterator it, vit;
  float f;
  uint8_t u[16];
  cr_assert_eq(cqlmux_value_iterate(tuple, &it), CQLMUX_OK);
  cr_assert_eq(cqlmux_iterator_size(&it), 3);
  cqlmux_value e = next_elem(&it);
  expect_int32(&e, 7);
  cqlmux_value udt = next_elem(&it);
  cr_assert_eq(cqlmux_iterator_index(&it), 2);
  cqlmux_value field;
  cr_assert_eq(cqlmux_value_field(&udt, "name", &field), CQLMUX_OK);
  expect_text(&field, "corners");
  cr_assert_eq(cqlmux_value_field(&udt, "tags", &field), CQLMUX_OK);
  check_tags(&field);
  cr_assert_eq(cqlmux_value_field(&udt, "at", &field), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_iterate(&field, &vit), CQLMUX_OK);
  cr_assert_eq(cqlmux_iterator_size(&vit), 2);
  e = next_elem(&vit);
  cr_assert_eq(cqlmux_value_as_float(&e, &f), CQLMUX_OK);
  cr_assert_eq(f, 0.5f);
  e = next_elem(&vit);
  cr_assert_eq(cqlmux_value_as_float(&e, &f), CQLMUX_OK);
  cr_assert_eq(f, -1.25f);
  expect_end(&vit);
  cr_assert_eq(cqlmux_value_field(&udt, "nope", &field), CQLMUX_ERR_NOT_FOUND);
  cr_assert_eq(cqlmux_value_field(tuple, "name", &field), CQLMUX_ERR_TYPE_MISMATCH);
  cqlmux_value set = next_elem(&it);
  cr_assert_eq(cqlmux_value_iterate(&set, &vit), CQLMUX_OK);
  e = next_elem(&vit);
  cr_assert_eq(cqlmux_value_as_uuid(&e, u), CQLMUX_OK);
  cr_assert_arr_eq(u, uuid4, 16);
  expect_end(&vit);
  expect_end(&it);
  cr_assert_eq(cqlmux_iterator_next_pair(&it, &e, &set), CQLMUX_ERR_TYPE_MISMATCH);
}

Test(values_api, collections_in_udts_in_tuples_round_trip) {
  for (uint8_t version = 4; version <= 5; version++) {
    table t;
    table_init(&t);
    build_nested(column(&t, "nested", nested_tuple(&t.arena)));
    const cqlmux_result *r = table_result(&t, version);
    check_nested_types(cqlmux_result_column_data_type(r, 0));
    cqlmux_value v = value_at(r, 0);
    cr_assert_eq(v.type, cqlmux_result_column_data_type(r, 0));
    check_nested_values(&v);
    table_free(&t);
  }
}

Test(values_api, udt_with_omitted_trailing_fields_reads_them_as_null) {
  table t;
  table_init(&t);
  cqlmux_builder *b = column(&t, "udt", nested_udt(&t.arena));
  cqlmux_builder_begin_udt(b);
  cqlmux_builder_add_text(b, "only", 4);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK);
  const cqlmux_result *r = table_result(&t, 5);
  cqlmux_value udt = value_at(r, 0), field;
  cqlmux_iterator it;
  cr_assert_eq(cqlmux_value_iterate(&udt, &it), CQLMUX_OK);
  cr_assert_eq(cqlmux_iterator_size(&it), 3, "the type's field count");
  field = next_elem(&it);
  expect_text(&field, "only");
  expect_end(&it);
  cr_assert_eq(cqlmux_iterator_index(&it), 1, "one field present");
  cr_assert_eq(cqlmux_value_field(&udt, "at", &field), CQLMUX_OK);
  cr_assert(cqlmux_value_is_null(&field));
  cr_assert_eq(cqlmux_data_type_kind(field.type), CQLMUX_TYPE_VECTOR, "typed even when absent");
  table_free(&t);
}

/* ------------------------------------------------------------ vectors */

static void build_vectors(table *t) {
  cqlmux_arena *a = &t->arena;
  cqlmux_builder *b = column(t, "vec_f", cqlmux_type_new_vector(a, N(CQLMUX_TYPE_FLOAT), 3));
  cqlmux_builder_begin_vector(b, 4);
  cqlmux_builder_add_float(b, -0.0f);
  cqlmux_builder_add_float(b, FLT_MAX);
  cqlmux_builder_add_float(b, 1e-3f);
  cqlmux_builder_end(b);
  b = column(t, "vec_t", cqlmux_type_new_vector(a, N(CQLMUX_TYPE_TEXT), 2));
  cqlmux_builder_begin_vector(b, 0);
  cqlmux_builder_add_text(b, "", 0);
  cqlmux_builder_add_text(b, "w\xc3\xb6rld", 6);
  cqlmux_builder_end(b);
  /* smallint has no fixed size in Cassandra's sense: length-prefixed */
  b = column(t, "vec_s", cqlmux_type_new_vector(a, N(CQLMUX_TYPE_SMALLINT), 2));
  cqlmux_builder_begin_vector(b, 0);
  cqlmux_builder_add_int16(b, -2);
  cqlmux_builder_add_int16(b, 300);
  cqlmux_builder_end(b);
  b = column(t, "vec_vec",
             cqlmux_type_new_vector(a, cqlmux_type_new_vector(a, N(CQLMUX_TYPE_BIGINT), 2), 2));
  cqlmux_builder_begin_vector(b, 16);
  for (int i = 0; i < 2; i++) {
    cqlmux_builder_begin_vector(b, 8);
    cqlmux_builder_add_int64(b, 10 * i);
    cqlmux_builder_add_int64(b, 10 * i + 1);
    cqlmux_builder_end(b);
  }
  cqlmux_builder_end(b);
  b = column(t, "vec_list",
             cqlmux_type_new_vector(a, cqlmux_type_new_list(a, N(CQLMUX_TYPE_INT)), 2));
  static const int32_t l0[] = {4, 5, 6};
  cqlmux_builder_begin_vector(b, 0);
  build_int_list(b, l0, 3);
  build_int_list(b, NULL, 0);
  cqlmux_builder_end(b);
}

static void expect_float_vector(const cqlmux_value *v, const float *want, size_t n) {
  cqlmux_iterator it;
  float f;
  cr_assert_eq(cqlmux_value_iterate(v, &it), CQLMUX_OK);
  cr_assert_eq(cqlmux_iterator_size(&it), n);
  for (size_t i = 0; i < n; i++) {
    cqlmux_value e = next_elem(&it);
    cr_assert_eq(cqlmux_value_as_float(&e, &f), CQLMUX_OK);
    cr_assert(memcmp(&f, &want[i], sizeof f) == 0, "element %zu: %g", i, (double)f);
  }
  expect_end(&it);
}

static void check_vectors(const cqlmux_result *r) {
  static const float vf[] = {-0.0f, FLT_MAX, 1e-3f};
  cqlmux_value v = value_at(r, 0), e;
  cqlmux_iterator it, inner;
  int16_t i16;
  int64_t i64;
  expect_float_vector(&v, vf, 3);
  v = value_at(r, 1);
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_OK);
  e = next_elem(&it);
  expect_text(&e, "");
  e = next_elem(&it);
  expect_text(&e, "w\xc3\xb6rld");
  expect_end(&it);
  v = value_at(r, 2);
  cr_assert_eq(v.length, 2 * (1 + 2), "each smallint behind a one-byte length");
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_OK);
  e = next_elem(&it);
  cr_assert_eq(cqlmux_value_as_int16(&e, &i16), CQLMUX_OK);
  cr_assert_eq(i16, -2);
  e = next_elem(&it);
  cr_assert_eq(cqlmux_value_as_int16(&e, &i16), CQLMUX_OK);
  cr_assert_eq(i16, 300);
  v = value_at(r, 3);
  cr_assert_eq(v.length, 32, "fixed-size vectors of vectors go bare");
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_OK);
  for (int i = 0; i < 2; i++) {
    e = next_elem(&it);
    cr_assert_eq(cqlmux_value_iterate(&e, &inner), CQLMUX_OK);
    for (int j = 0; j < 2; j++) {
      cqlmux_value x = next_elem(&inner);
      cr_assert_eq(cqlmux_value_as_int64(&x, &i64), CQLMUX_OK);
      cr_assert_eq(i64, 10 * i + j);
    }
  }
  v = value_at(r, 4);
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_OK);
  e = next_elem(&it);
  cr_assert_eq(cqlmux_value_iterate(&e, &inner), CQLMUX_OK);
  cr_assert_eq(cqlmux_iterator_size(&inner), 3);
  e = next_elem(&it);
  cr_assert_eq(cqlmux_value_iterate(&e, &inner), CQLMUX_OK);
  cr_assert_eq(cqlmux_iterator_size(&inner), 0);
  expect_end(&it);
}

Test(values_api, vectors_of_fixed_and_variable_elements_round_trip) {
  for (uint8_t version = 4; version <= 5; version++) {
    table t;
    table_init(&t);
    build_vectors(&t);
    check_vectors(table_result(&t, version));
    table_free(&t);
  }
}

Test(values_api, float_vector_bytes_match_the_codec_writer) {
  static const float v[] = {1.5f, -2.25f, 3.0f};
  cqlmux_builder *b = cqlmux_builder_new();
  cqlmux_builder_begin_vector(b, 4);
  for (int i = 0; i < 3; i++) cqlmux_builder_add_float(b, v[i]);
  cqlmux_builder_end(b);
  const uint8_t *data;
  int32_t len;
  cr_assert_eq(cqlmux_builder_serialized(b, &data, &len), CQLMUX_OK);
  cqlmux_wbuf w;
  cqlmux_wbuf_init(&w, NULL, 0);
  cqlmux_value_write_float_vector(&w, v, 3);
  cr_assert_eq((size_t)len + 4, w.len);
  cr_assert_arr_eq(data, w.data + 4, (size_t)len);
  cqlmux_wbuf_free(&w);
  cqlmux_builder_free(b);
}

Test(values_api, udt_in_a_vector_has_hex_names_and_still_finds_fields) {
  table t;
  table_init(&t);
  static const cqlmux_slice fields[] = {S("x")};
  const cqlmux_typedesc *ft[] = {N(CQLMUX_TYPE_INT)};
  const cqlmux_typedesc *udt = cqlmux_type_new_udt(&t.arena, S("ks"), S("pt"), 1, fields, ft);
  cqlmux_builder *b = column(&t, "vec_udt", cqlmux_type_new_vector(&t.arena, udt, 1));
  cqlmux_builder_begin_vector(b, 0);
  cqlmux_builder_begin_udt(b);
  cqlmux_builder_add_int32(b, 99);
  cqlmux_builder_end(b);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK);
  const cqlmux_result *r = table_result(&t, 5);
  const cqlmux_data_type *elem = cqlmux_data_type_child(cqlmux_result_column_data_type(r, 0), 0);
  size_t n;
  cr_assert_eq(cqlmux_data_type_names_are_hex(elem), 1);
  const char *name = cqlmux_data_type_field_name(elem, 0, &n);
  cr_assert(n == 2 && memcmp(name, "78", 2) == 0, "'x' is 0x78");
  cqlmux_value v = value_at(r, 0), e, x;
  cqlmux_iterator it;
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_OK);
  e = next_elem(&it);
  cr_assert_eq(cqlmux_value_field(&e, "x", &x), CQLMUX_OK);
  expect_int32(&x, 99);
  table_free(&t);
}

/* ------------------------------------------------------------ builder errors */

/* The builder's bytes so far, whatever its state (tests reach inside). */
static size_t builder_len(const cqlmux_builder *b) {
  const uint8_t *d;
  int32_t n;
  return cqlmux_builder_serialized(b, &d, &n) == CQLMUX_OK ? (size_t)n : (size_t)-1;
}

Test(values_api, builder_state_errors_change_nothing) {
  cqlmux_builder *b = cqlmux_builder_new();
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_ERR_INVALID_STATE);
  const uint8_t *d;
  int32_t n;
  cr_assert_eq(cqlmux_builder_serialized(b, &d, &n), CQLMUX_ERR_INVALID_STATE, "nothing yet");
  cr_assert_eq(cqlmux_builder_begin_collection(b, CQLMUX_TYPE_TUPLE),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_begin_collection(b, CQLMUX_TYPE_MAP), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_serialized(b, &d, &n), CQLMUX_ERR_INVALID_STATE, "map open");
  cr_assert_eq(cqlmux_builder_add_text(b, "k", 1), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_ERR_INVALID_STATE, "key without value");
  cr_assert_eq(cqlmux_builder_add_int32(b, 1), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK);
  size_t len = builder_len(b);
  cr_assert_eq(len, 4 + 4 + 1 + 4 + 4);
  cr_assert_eq(cqlmux_builder_add_int32(b, 2), CQLMUX_ERR_INVALID_STATE, "value complete");
  cr_assert_eq(cqlmux_builder_begin_tuple(b), CQLMUX_ERR_INVALID_STATE);
  cr_assert_eq(cqlmux_builder_add_null(b), CQLMUX_ERR_INVALID_STATE);
  cr_assert_eq(builder_len(b), len);
  cqlmux_builder_reset(b);
  cr_assert_eq(cqlmux_builder_begin_vector(b, 4), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_ERR_INVALID_STATE, "a vector is never empty");
  cqlmux_builder_free(b);
  cr_assert_eq(cqlmux_builder_add_int32(NULL, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_end(NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_builder_free(NULL);
  cqlmux_builder_reset(NULL);
}

Test(values_api, rejected_arguments_roll_back) {
  static const uint8_t addr[5] = {1, 2, 3, 4, 5};
  cqlmux_builder *b = cqlmux_builder_new();
  cr_assert_eq(cqlmux_builder_begin_tuple(b), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_add_int32(b, 1), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_add_text(b, "\xc3\x28", 2), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_ascii(b, "caf\xc3\xa9", 5), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_time(b, -1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_time(b, 86400000000000), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_duration(b, 1, -1, 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_inet(b, addr, 5), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_varint_bytes(b, addr, 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_decimal(b, addr, 0, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_uuid(b, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_blob(b, NULL, 3), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK);
  const uint8_t *d;
  int32_t n;
  cr_assert_eq(cqlmux_builder_serialized(b, &d, &n), CQLMUX_OK);
  cr_assert_eq(n, 8, "only the int field: %d", n);
  cr_assert_arr_eq(d, ((uint8_t[]){0, 0, 0, 4, 0, 0, 0, 1}), 8);
  cqlmux_builder_free(b);
}

Test(values_api, vectors_refuse_nulls_and_wrong_sizes) {
  cqlmux_builder *b = cqlmux_builder_new();
  cr_assert_eq(cqlmux_builder_begin_vector(b, 4), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_add_null(b), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_int64(b, 1), CQLMUX_ERR_INVALID_ARGUMENT, "8 bytes, not 4");
  cr_assert_eq(cqlmux_builder_add_float(b, 1.0f), CQLMUX_OK);
  /* a nested vector of 3 floats is 12 bytes: dropped at its end */
  cr_assert_eq(cqlmux_builder_begin_vector(b, 4), CQLMUX_OK);
  for (int i = 0; i < 3; i++) cr_assert_eq(cqlmux_builder_add_float(b, 2.0f), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_builder_add_float(b, 3.0f), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_OK);
  const uint8_t *d;
  int32_t n;
  cr_assert_eq(cqlmux_builder_serialized(b, &d, &n), CQLMUX_OK);
  cr_assert_eq(n, 8);
  cr_assert_arr_eq(d, ((uint8_t[]){0x3f, 0x80, 0, 0, 0x40, 0x40, 0, 0}), 8);
  cqlmux_builder_free(b);
}

Test(values_api, nesting_too_deep_sticks_until_reset) {
  cqlmux_builder *b = cqlmux_builder_new();
  for (int i = 0; i < 64; i++) cr_assert_eq(cqlmux_builder_begin_tuple(b), CQLMUX_OK);
  cr_assert_eq(cqlmux_builder_begin_tuple(b), CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(cqlmux_builder_end(b), CQLMUX_ERR_OVERSIZED, "sticky");
  cr_assert_eq(cqlmux_builder_add_int32(b, 1), CQLMUX_ERR_OVERSIZED);
  cqlmux_builder_reset(b);
  cr_assert_eq(cqlmux_builder_add_int32(b, 1), CQLMUX_OK);
  cr_assert_eq(builder_len(b), 4);
  cqlmux_builder_free(b);
}

/* ------------------------------------------------------------ statement binds */

static void expect_slot(const cqlmux_statement *s, size_t i, const uint8_t *want, int32_t len) {
  const cqlmux_value_slot *slot = &s->values[i];
  cr_assert_eq(slot->len, len, "slot %zu: %d bytes, want %d", i, slot->len, len);
  if (len > 0)
    cr_assert_arr_eq(len <= CQLMUX_VALUE_INLINE ? slot->inline_data : slot->heap, want,
                     (size_t)len);
}

/* The scalar binds produce what the builder does for the same value. */
static void expect_like_builder(const cqlmux_statement *s, size_t i, cqlmux_builder *b) {
  const uint8_t *d;
  int32_t n;
  cr_assert_eq(cqlmux_builder_serialized(b, &d, &n), CQLMUX_OK);
  expect_slot(s, i, d, n);
  cqlmux_builder_reset(b);
}

Test(values_api, scalar_binds_encode_like_the_builder) {
  cqlmux_statement *s = cqlmux_statement_new("INSERT ...", 9);
  cqlmux_builder *b = cqlmux_builder_new();
  cr_assert_eq(cqlmux_statement_bind_ascii(s, 0, "abc", 3), CQLMUX_OK);
  cqlmux_builder_add_ascii(b, "abc", 3);
  expect_like_builder(s, 0, b);
  cr_assert_eq(cqlmux_statement_bind_inet(s, 1, ip6, 16), CQLMUX_OK);
  expect_slot(s, 1, ip6, 16);
  cr_assert_eq(cqlmux_statement_bind_date(s, 2, 0x80000001u), CQLMUX_OK);
  expect_slot(s, 2, (const uint8_t[]){0x80, 0, 0, 1}, 4);
  cr_assert_eq(cqlmux_statement_bind_time(s, 3, 1), CQLMUX_OK);
  expect_slot(s, 3, (const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 1}, 8);
  cr_assert_eq(cqlmux_statement_bind_duration(s, 4, -1, -2, -3), CQLMUX_OK);
  expect_slot(s, 4, (const uint8_t[]){0x01, 0x03, 0x05}, 3); /* zigzag vints */
  cr_assert_eq(cqlmux_statement_bind_varint(s, 5, 128), CQLMUX_OK);
  expect_slot(s, 5, (const uint8_t[]){0x00, 0x80}, 2);
  cr_assert_eq(cqlmux_statement_bind_varint_bytes(s, 6, big_varint, sizeof big_varint),
               CQLMUX_OK);
  expect_slot(s, 6, big_varint, sizeof big_varint);
  cr_assert_eq(cqlmux_statement_bind_decimal(s, 7, big_varint, sizeof big_varint, 2), CQLMUX_OK);
  cqlmux_builder_add_decimal(b, big_varint, sizeof big_varint, 2);
  expect_like_builder(s, 7, b);
  cr_assert_eq(cqlmux_statement_bind_decimal_int64(s, 8, -42, -3), CQLMUX_OK);
  expect_slot(s, 8, (const uint8_t[]){0xff, 0xff, 0xff, 0xfd, 0xd6}, 5);
  cqlmux_builder_free(b);
  cqlmux_statement_free(s);
}

Test(values_api, rejected_binds_leave_the_slot_alone) {
  cqlmux_statement *s = cqlmux_statement_new("INSERT ...", 2);
  cr_assert_eq(cqlmux_statement_bind_int32(s, 0, 7), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_ascii(s, 0, "\x80", 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_bind_text(s, 0, "\xff", 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_bind_time(s, 0, -5), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_bind_duration(s, 0, 0, 1, -1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_bind_inet(s, 0, ip4, 3), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_bind_varint_bytes(s, 0, NULL, 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_bind_date(s, 2, 1), CQLMUX_ERR_INVALID_ARGUMENT, "index");
  cr_assert_eq(cqlmux_statement_bind_date(NULL, 0, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  expect_slot(s, 0, (const uint8_t[]){0, 0, 0, 7}, 4);
  cqlmux_statement_free(s);
}

Test(values_api, bind_builder_copies_and_the_builder_is_reusable) {
  cqlmux_statement *s = cqlmux_statement_new("INSERT ...", 3);
  cqlmux_builder *b = cqlmux_builder_new();
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_LIST);
  cr_assert_eq(cqlmux_statement_bind_builder(s, 0, b), CQLMUX_ERR_INVALID_STATE, "open list");
  for (int32_t i = 0; i < 10; i++) cqlmux_builder_add_int32(b, i);
  cqlmux_builder_end(b);
  cr_assert_eq(cqlmux_statement_bind_builder(s, 0, b), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_builder(s, 3, b), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_bind_builder(s, 1, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_builder_reset(b);
  cqlmux_builder_add_null(b);
  cr_assert_eq(cqlmux_statement_bind_builder(s, 1, b), CQLMUX_OK);
  expect_slot(s, 1, NULL, CQLMUX_VALUE_NULL);
  cqlmux_builder_reset(b);
  cqlmux_builder_add_int32(b, -1); /* overwrites the builder's memory */
  cr_assert_eq(s->values[0].len, 4 + 10 * 8);
  const uint8_t *p = s->values[0].heap;
  cr_assert_arr_eq(p, ((uint8_t[]){0, 0, 0, 10, 0, 0, 0, 4, 0, 0, 0, 0}), 12, "list kept");
  cqlmux_builder_free(b);
  cqlmux_statement_free(s);
}

/* ------------------------------------------------------------ reading bad bytes */

Test(values_api, readers_check_exact_lengths_and_content) {
  table t;
  table_init(&t);
  static const uint8_t three[3] = {0, 0, 1}, v4uuid[16] = {[6] = 0x40};
  static const uint8_t bad_utf8[] = {0xc3, 0x28}, high[] = {'a', 0x80};
  static const uint8_t list_truncated[] = {0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1};
  column_raw(&t, "int3", N(CQLMUX_TYPE_INT), (cqlmux_bytes){three, 3});
  column_raw(&t, "timeuuid_v4", N(CQLMUX_TYPE_TIMEUUID), (cqlmux_bytes){v4uuid, 16});
  column_raw(&t, "text_bad", N(CQLMUX_TYPE_TEXT), (cqlmux_bytes){bad_utf8, 2});
  column_raw(&t, "ascii_high", N(CQLMUX_TYPE_ASCII), (cqlmux_bytes){high, 2});
  column_raw(&t, "list_short", cqlmux_type_new_list(&t.arena, N(CQLMUX_TYPE_INT)),
             (cqlmux_bytes){list_truncated, sizeof list_truncated});
  column_raw(&t, "inet3", N(CQLMUX_TYPE_INET), (cqlmux_bytes){three, 3});
  column_raw(&t, "vec_empty", cqlmux_type_new_vector(&t.arena, N(CQLMUX_TYPE_FLOAT), 2),
             (cqlmux_bytes){three, 0});
  column_raw(&t, "custom", cqlmux_type_new_custom(&t.arena, S("com.example.Blobby")),
             (cqlmux_bytes){three, 3});
  const cqlmux_result *r = table_result(&t, 5);
  int32_t i32;
  uint8_t u[16];
  const char *s;
  const uint8_t *p;
  size_t n;
  cqlmux_iterator it;
  cqlmux_value v = value_at(r, 0), e;
  cr_assert_eq(cqlmux_value_as_int32(&v, &i32), CQLMUX_ERR_MALFORMED);
  v = value_at(r, 1);
  cr_assert_eq(cqlmux_value_as_uuid(&v, u), CQLMUX_ERR_MALFORMED, "a timeuuid is version 1");
  v = value_at(r, 2);
  cr_assert_eq(cqlmux_value_as_text(&v, &s, &n), CQLMUX_ERR_MALFORMED);
  v = value_at(r, 3);
  cr_assert_eq(cqlmux_value_as_text(&v, &s, &n), CQLMUX_ERR_MALFORMED);
  v = value_at(r, 4);
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_OK);
  e = next_elem(&it);
  expect_int32(&e, 1);
  cr_assert_eq(cqlmux_iterator_next(&it, &e), CQLMUX_ERR_TRUNCATED);
  v = value_at(r, 5);
  cr_assert_eq(cqlmux_value_as_inet(&v, u, &n), CQLMUX_ERR_MALFORMED);
  v = value_at(r, 6);
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_ERR_EMPTY_VALUE);
  v = value_at(r, 7);
  cr_assert_eq(cqlmux_data_type_kind(v.type), CQLMUX_TYPE_CUSTOM);
  s = cqlmux_data_type_custom_class(v.type, &n);
  cr_assert(n == 18 && memcmp(s, "com.example.Blobby", 18) == 0);
  cr_assert_eq(cqlmux_value_as_blob(&v, &p, &n), CQLMUX_OK);
  cr_assert_eq(n, 3);
  cr_assert_eq(cqlmux_value_iterate(&v, &it), CQLMUX_ERR_TYPE_MISMATCH);
  table_free(&t);
}

Test(values_api, out_of_range_cells_and_columns) {
  table t;
  table_init(&t);
  cqlmux_builder_add_int32(column(&t, "a", N(CQLMUX_TYPE_INT)), 1);
  const cqlmux_result *r = table_result(&t, 4);
  cqlmux_value v;
  cr_assert_eq(cqlmux_result_get_value(r, 1, 0, &v), CQLMUX_ERR_NOT_FOUND);
  cr_assert_eq(cqlmux_result_get_value(r, 0, 1, &v), CQLMUX_ERR_NOT_FOUND);
  cr_assert_eq(cqlmux_result_get_value(r, 0, 0, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_result_get_value(NULL, 0, 0, &v), CQLMUX_ERR_NOT_FOUND);
  cr_assert_null(cqlmux_result_column_data_type(r, 1));
  cr_assert_eq(cqlmux_data_type_kind(NULL), CQLMUX_TYPE_CUSTOM);
  cr_assert_eq(cqlmux_data_type_child_count(NULL), 0);
  table_free(&t);
}

Test(values_api, decimal_string_fits_the_callers_buffer_or_says_how_much) {
  table t;
  table_init(&t);
  cqlmux_builder_add_decimal_int64(column(&t, "d", N(CQLMUX_TYPE_DECIMAL)), -42, -3);
  const cqlmux_result *r = table_result(&t, 5);
  cqlmux_value v = value_at(r, 0);
  char small[8], tiny[4];
  size_t n = 0;
  cr_assert_eq(cqlmux_value_as_decimal_string(&v, small, sizeof small, &n), CQLMUX_OK);
  cr_assert_str_eq(small, "-4.2E+4");
  cr_assert_eq(n, 7);
  memset(tiny, 'x', sizeof tiny);
  cr_assert_eq(cqlmux_value_as_decimal_string(&v, tiny, sizeof tiny, &n),
               CQLMUX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(n, 8, "the text and its NUL");
  cr_assert_eq(tiny[0], 'x', "untouched");
  table_free(&t);
}

Test(values_api, varint_string_is_exact_at_any_size) {
  static const uint8_t min_i128[16] = {0x80};
  static const uint8_t minus_one[1] = {0xff};
  static const uint8_t padded_zero[3] = {0, 0, 0};
  table t;
  table_init(&t);
  cqlmux_builder_add_varint_bytes(column(&t, "big", N(CQLMUX_TYPE_VARINT)), big_varint,
                                  sizeof big_varint);
  cqlmux_builder_add_varint_bytes(column(&t, "min", N(CQLMUX_TYPE_VARINT)), min_i128,
                                  sizeof min_i128);
  cqlmux_builder_add_varint_bytes(column(&t, "m1", N(CQLMUX_TYPE_VARINT)), minus_one, 1);
  cqlmux_builder_add_varint_bytes(column(&t, "zero", N(CQLMUX_TYPE_VARINT)), padded_zero, 3);
  cqlmux_builder_add_int32(column(&t, "int", N(CQLMUX_TYPE_INT)), 7);
  cqlmux_builder_add_null(column(&t, "null", N(CQLMUX_TYPE_VARINT)));
  const cqlmux_result *r = table_result(&t, 5);
  char text[64], tiny[8];
  size_t n = 0;
  cqlmux_value v = value_at(r, 0);
  cr_assert_eq(cqlmux_value_as_varint_string(&v, text, sizeof text, &n), CQLMUX_OK);
  cr_assert_str_eq(text, "123456789012345678901234567890");
  cr_assert_eq(n, 30);
  /* the too-small path is decimal_string's, tested above */
  cr_assert_eq(cqlmux_value_as_varint_string(&v, tiny, sizeof tiny, &n),
               CQLMUX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(n, 31, "the text and its NUL");
  v = value_at(r, 1);
  cr_assert_eq(cqlmux_value_as_varint_string(&v, text, sizeof text, &n), CQLMUX_OK);
  cr_assert_str_eq(text, "-170141183460469231731687303715884105728");
  v = value_at(r, 2);
  cr_assert_eq(cqlmux_value_as_varint_string(&v, text, sizeof text, &n), CQLMUX_OK);
  cr_assert_str_eq(text, "-1");
  v = value_at(r, 3);
  cr_assert_eq(cqlmux_value_as_varint_string(&v, text, sizeof text, &n), CQLMUX_OK);
  cr_assert_str_eq(text, "0");
  cr_assert_eq(n, 1);
  v = value_at(r, 4);
  cr_assert_eq(cqlmux_value_as_varint_string(&v, text, sizeof text, &n),
               CQLMUX_ERR_TYPE_MISMATCH);
  v = value_at(r, 5);
  cr_assert_eq(cqlmux_value_as_varint_string(&v, text, sizeof text, &n),
               CQLMUX_ERR_NULL_VALUE);
  cr_assert_eq(cqlmux_value_as_varint_string(&v, text, sizeof text, NULL),
               CQLMUX_ERR_INVALID_ARGUMENT);
  table_free(&t);
}

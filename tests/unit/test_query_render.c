/* cqlmux-query's value rendering (tools/query/render.c): real cqlmux_values
 * (built, encoded and decoded by the value-table fixture) to JSON and to
 * table/CSV cell text. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "query/render.h"
#include "unit/value_table.h"

#define S(lit) ((cqlmux_slice){(const uint8_t *)(lit), sizeof(lit) - 1})
#define N(id) cqlmux_type_native(id)

static table t;
static void setup(void) { table_init(&t); }
static void teardown(void) { table_free(&t); }
TestSuite(query_render, .init = setup, .fini = teardown);

/* Column col of the table's row rendered in style. */
static void expect(const cqlmux_result *r, size_t col, render_style style, const char *want) {
  strbuf sb = STRBUF_INIT;
  cqlmux_value v = value_at(r, col);
  int rc = render_value(&sb, &v, style);
  cr_assert_eq(rc, CQLMUX_OK, "column %zu: %s", col, cqlmux_strerror(rc));
  const char *got = sb.data ? sb.data : "";
  cr_assert_str_eq(got, want, "column %zu (%s): got [%s], want [%s]", col,
                   style == RENDER_JSON ? "json" : "text", got, want);
  strbuf_free(&sb);
}

static void expect_both(const cqlmux_result *r, size_t col, const char *json, const char *text) {
  expect(r, col, RENDER_JSON, json);
  expect(r, col, RENDER_TEXT, text);
}

Test(query_render, numbers_are_json_numbers_except_the_exact_ones) {
  static const uint8_t big[13] = {0x01, 0x8e, 0xe9, 0x0f, 0xf6, 0xc3, 0x73,
                                  0xe0, 0xee, 0x4e, 0x3f, 0x0a, 0xd2};
  cqlmux_builder_add_bool(column(&t, "bo", N(CQLMUX_TYPE_BOOLEAN)), 1);
  cqlmux_builder_add_int8(column(&t, "ti", N(CQLMUX_TYPE_TINYINT)), -128);
  cqlmux_builder_add_int16(column(&t, "si", N(CQLMUX_TYPE_SMALLINT)), 32767);
  cqlmux_builder_add_int32(column(&t, "i", N(CQLMUX_TYPE_INT)), INT32_MIN);
  cqlmux_builder_add_int64(column(&t, "bi", N(CQLMUX_TYPE_BIGINT)), INT64_MIN);
  cqlmux_builder_add_int64(column(&t, "c", N(CQLMUX_TYPE_COUNTER)), INT64_MAX);
  cqlmux_builder_add_varint_bytes(column(&t, "vi", N(CQLMUX_TYPE_VARINT)), big, sizeof big);
  cqlmux_builder_add_decimal_int64(column(&t, "dc", N(CQLMUX_TYPE_DECIMAL)), -123456789, 4);
  cqlmux_builder_add_float(column(&t, "f", N(CQLMUX_TYPE_FLOAT)), 1.1f);
  cqlmux_builder_add_double(column(&t, "d", N(CQLMUX_TYPE_DOUBLE)), NAN);
  cqlmux_builder_add_float(column(&t, "fi", N(CQLMUX_TYPE_FLOAT)), -INFINITY);
  cqlmux_builder_add_double(column(&t, "di", N(CQLMUX_TYPE_DOUBLE)), INFINITY);
  const cqlmux_result *r = table_result(&t, 5);
  expect_both(r, 0, "true", "true");
  expect_both(r, 1, "-128", "-128");
  expect_both(r, 2, "32767", "32767");
  expect_both(r, 3, "-2147483648", "-2147483648");
  expect_both(r, 4, "\"-9223372036854775808\"", "-9223372036854775808");
  expect_both(r, 5, "\"9223372036854775807\"", "9223372036854775807");
  expect_both(r, 6, "\"123456789012345678901234567890\"", "123456789012345678901234567890");
  expect_both(r, 7, "\"-12345.6789\"", "-12345.6789");
  expect_both(r, 8, "1.1", "1.1");
  expect_both(r, 9, "\"NaN\"", "NaN");
  expect_both(r, 10, "\"-Infinity\"", "-Infinity");
  expect_both(r, 11, "\"Infinity\"", "Infinity");
}

Test(query_render, text_like_scalars_are_json_strings) {
  static const uint8_t u[16] = {0xE0, 0xE8, 0xB1, 0xF2, 0x4F, 0x0C, 0x11, 0xEF,
                                0x80, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB};
  static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const uint8_t blob[2] = {0xCA, 0xFE};
  cqlmux_builder_add_text(column(&t, "t", N(CQLMUX_TYPE_TEXT)), "h\xc3\xa9 \"q\"\n", 8);
  cqlmux_builder_add_ascii(column(&t, "a", N(CQLMUX_TYPE_ASCII)), "it's", 4);
  cqlmux_builder_add_blob(column(&t, "b", N(CQLMUX_TYPE_BLOB)), blob, 2);
  cqlmux_builder_add_uuid(column(&t, "u", N(CQLMUX_TYPE_TIMEUUID)), u);
  cqlmux_builder_add_inet(column(&t, "ip", N(CQLMUX_TYPE_INET)), ip6, 16);
  cqlmux_builder_add_int64(column(&t, "ts", N(CQLMUX_TYPE_TIMESTAMP)), 1704164645678);
  cqlmux_builder_add_date(column(&t, "dt", N(CQLMUX_TYPE_DATE)), 0);
  cqlmux_builder_add_time(column(&t, "tm", N(CQLMUX_TYPE_TIME)), 1);
  cqlmux_builder_add_duration(column(&t, "du", N(CQLMUX_TYPE_DURATION)), -1, -2, -3);
  const cqlmux_result *r = table_result(&t, 4);
  expect_both(r, 0, "\"h\xc3\xa9 \\\"q\\\"\\n\"", "h\xc3\xa9 \"q\"\n");
  expect_both(r, 1, "\"it's\"", "it's");
  expect_both(r, 2, "\"0xcafe\"", "0xcafe");
  expect_both(r, 3, "\"e0e8b1f2-4f0c-11ef-8000-0123456789ab\"",
              "e0e8b1f2-4f0c-11ef-8000-0123456789ab");
  expect_both(r, 4, "\"2001:db8::1\"", "2001:db8::1");
  expect_both(r, 5, "\"2024-01-02T03:04:05.678Z\"", "2024-01-02T03:04:05.678Z");
  expect_both(r, 6, "\"-5877641-06-23\"", "-5877641-06-23");
  expect_both(r, 7, "\"00:00:00.000000001\"", "00:00:00.000000001");
  expect_both(r, 8, "\"-1mo2d3ns\"", "-1mo2d3ns");
}

Test(query_render, null_and_empty_values) {
  cqlmux_builder_add_null(column(&t, "n", N(CQLMUX_TYPE_INT)));
  column_raw(&t, "e", N(CQLMUX_TYPE_INT), (cqlmux_bytes){(const uint8_t *)"", 0});
  column_raw(&t, "et", N(CQLMUX_TYPE_TEXT), (cqlmux_bytes){(const uint8_t *)"", 0});
  const cqlmux_result *r = table_result(&t, 5);
  expect_both(r, 0, "null", "");
  expect_both(r, 1, "\"\"", "");
  expect_both(r, 2, "\"\"", "");
}

Test(query_render, collections_are_arrays_and_maps_pair_arrays) {
  cqlmux_arena *a = &t.arena;
  cqlmux_builder *b = column(&t, "l", cqlmux_type_new_list(a, N(CQLMUX_TYPE_INT)));
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_LIST);
  cqlmux_builder_add_int32(b, 1);
  cqlmux_builder_add_null(b);
  cqlmux_builder_add_int32(b, 3);
  cqlmux_builder_end(b);
  b = column(&t, "s", cqlmux_type_new_set(a, N(CQLMUX_TYPE_TEXT)));
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_SET);
  cqlmux_builder_add_text(b, "a'b", 3);
  cqlmux_builder_add_text(b, "c", 1);
  cqlmux_builder_end(b);
  b = column(&t, "m", cqlmux_type_new_map(a, N(CQLMUX_TYPE_TEXT), N(CQLMUX_TYPE_BIGINT)));
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_MAP);
  cqlmux_builder_add_text(b, "x", 1);
  cqlmux_builder_add_int64(b, 1);
  cqlmux_builder_add_text(b, "y", 1);
  cqlmux_builder_add_int64(b, -2);
  cqlmux_builder_end(b);
  b = column(&t, "v", cqlmux_type_new_vector(a, N(CQLMUX_TYPE_FLOAT), 3));
  cqlmux_builder_begin_vector(b, 4);
  cqlmux_builder_add_float(b, 1.5f);
  cqlmux_builder_add_float(b, -0.0f);
  cqlmux_builder_add_float(b, NAN);
  cqlmux_builder_end(b);
  b = column(&t, "empty", cqlmux_type_new_list(a, N(CQLMUX_TYPE_INT)));
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_LIST);
  cqlmux_builder_end(b);
  const cqlmux_result *r = table_result(&t, 5);
  expect_both(r, 0, "[1,null,3]", "[1, null, 3]");
  expect_both(r, 1, "[\"a'b\",\"c\"]", "{'a''b', 'c'}");
  expect_both(r, 2, "[[\"x\",\"1\"],[\"y\",\"-2\"]]", "{'x': 1, 'y': -2}");
  expect_both(r, 3, "[1.5,-0,\"NaN\"]", "[1.5, -0, NaN]");
  expect_both(r, 4, "[]", "[]");
}

static const cqlmux_typedesc *address_type(cqlmux_arena *a) {
  static const cqlmux_slice names[3] = {S("street"), S("zip"), S("when")};
  const cqlmux_typedesc *types[3] = {N(CQLMUX_TYPE_TEXT), N(CQLMUX_TYPE_INT),
                                     N(CQLMUX_TYPE_DATE)};
  return cqlmux_type_new_udt(a, S("ks"), S("address"), 3, names, types);
}

Test(query_render, tuples_are_arrays_and_udts_objects_with_every_field) {
  cqlmux_arena *a = &t.arena;
  const cqlmux_typedesc *tuple_types[3] = {N(CQLMUX_TYPE_INT), N(CQLMUX_TYPE_TEXT),
                                           N(CQLMUX_TYPE_TIMESTAMP)};
  cqlmux_builder *b = column(&t, "tp", cqlmux_type_new_tuple(a, 3, tuple_types));
  cqlmux_builder_begin_tuple(b);
  cqlmux_builder_add_int32(b, 7);
  cqlmux_builder_add_text(b, "x", 1);
  cqlmux_builder_add_int64(b, 0);
  cqlmux_builder_end(b);
  b = column(&t, "short", cqlmux_type_new_tuple(a, 3, tuple_types));
  cqlmux_builder_begin_tuple(b);
  cqlmux_builder_add_int32(b, 7);
  cqlmux_builder_end(b);
  b = column(&t, "ud", address_type(a));
  cqlmux_builder_begin_udt(b);
  cqlmux_builder_add_text(b, "Main \"St\"", 9);
  cqlmux_builder_add_null(b);
  cqlmux_builder_add_date(b, 2147483648u);
  cqlmux_builder_end(b);
  b = column(&t, "ud_short", address_type(a));
  cqlmux_builder_begin_udt(b);
  cqlmux_builder_add_text(b, "x", 1);
  cqlmux_builder_end(b);
  const cqlmux_result *r = table_result(&t, 5);
  expect_both(r, 0, "[7,\"x\",\"1970-01-01T00:00:00.000Z\"]",
              "(7, 'x', '1970-01-01T00:00:00.000Z')");
  expect_both(r, 1, "[7,null,null]", "(7, null, null)");
  expect_both(r, 2, "{\"street\":\"Main \\\"St\\\"\",\"zip\":null,\"when\":\"1970-01-01\"}",
              "{street: 'Main \"St\"', zip: null, when: '1970-01-01'}");
  expect_both(r, 3, "{\"street\":\"x\",\"zip\":null,\"when\":null}",
              "{street: 'x', zip: null, when: null}");
}

Test(query_render, composites_nest) {
  cqlmux_arena *a = &t.arena;
  const cqlmux_typedesc *pair[2] = {N(CQLMUX_TYPE_UUID), N(CQLMUX_TYPE_BLOB)};
  const cqlmux_typedesc *list = cqlmux_type_new_list(a, cqlmux_type_new_tuple(a, 2, pair));
  cqlmux_builder *b = column(&t, "m", cqlmux_type_new_map(a, N(CQLMUX_TYPE_INET), list));
  static const uint8_t ip[4] = {10, 0, 0, 1}, u[16] = {0};
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_MAP);
  cqlmux_builder_add_inet(b, ip, 4);
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_LIST);
  cqlmux_builder_begin_tuple(b);
  cqlmux_builder_add_uuid(b, u);
  cqlmux_builder_add_blob(b, "", 0);
  cqlmux_builder_end(b);
  cqlmux_builder_end(b);
  cqlmux_builder_end(b);
  const cqlmux_result *r = table_result(&t, 4);
  expect_both(r, 0, "[[\"10.0.0.1\",[[\"00000000-0000-0000-0000-000000000000\",\"0x\"]]]]",
              "{'10.0.0.1': [(00000000-0000-0000-0000-000000000000, 0x)]}");
}

Test(query_render, undecodable_bytes_are_an_error) {
  column_raw(&t, "i", N(CQLMUX_TYPE_INT), (cqlmux_bytes){(const uint8_t *)"abc", 3});
  column_raw(&t, "l", cqlmux_type_new_list(&t.arena, N(CQLMUX_TYPE_INT)),
             (cqlmux_bytes){(const uint8_t *)"\0\0\0\2\0\0\0\4\0\0\0\1", 12});
  const cqlmux_result *r = table_result(&t, 5);
  strbuf sb = STRBUF_INIT;
  cqlmux_value v = value_at(r, 0);
  cr_assert_eq(render_value(&sb, &v, RENDER_JSON), CQLMUX_ERR_MALFORMED);
  v = value_at(r, 1);
  cr_assert_lt(render_value(&sb, &v, RENDER_JSON), 0, "a list that claims two ints holds one");
  strbuf_free(&sb);
}

#include <criterion/criterion.h>
#include <string.h>

#include "api/prepared.h"
#include "api/result.h"
#include "api/statement.h"
#include "proto/envelope.h"
#include "proto/opcode.h"
#include "proto/request_decode.h"

/* Encodes s and decodes it back with the codec's request decoder. */
static void round_trip(const cqlmux_statement *s, uint8_t version, cqlmux_wbuf *b,
                       cqlmux_request_view *view) {
  cqlmux_wbuf_init(b, NULL, 0);
  cr_assert_eq(cqlmux_statement_encode(s, b, version, false, NULL), CQLMUX_OK);
  cqlmux_envelope env;
  cr_assert_eq(cqlmux_envelope_decode(b->data, b->len, CQLMUX_DIR_REQUEST, 1u << 20, &env),
               (int)b->len, "one whole envelope");
  cr_assert_eq(env.header.stream, 0);
  cr_assert_eq(cqlmux_request_decode(&env, view), CQLMUX_OK);
}

static void expect_value(cqlmux_values_view *v, const void *bytes, int32_t len) {
  cqlmux_slice name;
  cqlmux_bytes value;
  cr_assert(cqlmux_values_next(v, &name, &value));
  cr_assert_eq(value.len, len);
  if (len > 0) cr_assert_arr_eq(value.data, bytes, (size_t)len);
}

Test(statement, query_with_every_scalar_binding_round_trips) {
  for (uint8_t version = 4; version <= 5; version++) {
    cqlmux_statement *s = cqlmux_statement_new("INSERT INTO t (a,b,c,d,e,f,g) VALUES (?,?,?,?,?,?,?)", 8);
    cr_assert_not_null(s);
    static const uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    cr_assert_eq(cqlmux_statement_bind_int32(s, 0, -2), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_bind_int64(s, 1, 0x0102030405060708LL), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_bind_text(s, 2, "hello", 5), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_bind_double(s, 3, 1.5), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_bind_uuid(s, 4, uuid), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_bind_null(s, 5), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_bind_blob(s, 6, "", 0), CQLMUX_OK);
    /* slot 7 left unbound: "not set" */
    cr_assert_eq(cqlmux_statement_bind_int32(s, 8, 1), CQLMUX_ERR_INVALID_ARGUMENT);
    cr_assert_eq(cqlmux_statement_set_consistency(s, CQLMUX_CONSISTENCY_LOCAL_QUORUM), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_set_timestamp(s, 42), CQLMUX_OK);
    cqlmux_wbuf b;
    cqlmux_request_view v;
    round_trip(s, version, &b, &v);
    cr_assert_eq(v.header.opcode, 0x07);
    cr_assert_eq(v.u.query.params.consistency, CQLMUX_CONSISTENCY_LOCAL_QUORUM);
    cr_assert_eq(v.u.query.params.timestamp, 42);
    cr_assert_eq(v.u.query.params.page_size, 5000);
    cr_assert_eq(v.u.query.params.values.count, 8);
    cqlmux_values_view *vals = &v.u.query.params.values;
    expect_value(vals, (const uint8_t[]){0xff, 0xff, 0xff, 0xfe}, 4);
    expect_value(vals, (const uint8_t[]){1, 2, 3, 4, 5, 6, 7, 8}, 8);
    expect_value(vals, "hello", 5);
    expect_value(vals, (const uint8_t[]){0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, 8);
    expect_value(vals, uuid, 16);
    expect_value(vals, NULL, CQLMUX_VALUE_NULL);
    expect_value(vals, NULL, 0);
    expect_value(vals, NULL, CQLMUX_VALUE_NOT_SET);
    cqlmux_wbuf_free(&b);
    cqlmux_statement_free(s);
  }
}

Test(statement, rebinding_a_large_value_reuses_its_storage) {
  cqlmux_statement *s = cqlmux_statement_new("SELECT ?", 1);
  char big[300];
  memset(big, 'x', sizeof big);
  cr_assert_eq(cqlmux_statement_bind_text(s, 0, big, sizeof big), CQLMUX_OK);
  const uint8_t *first = s->values[0].heap;
  cr_assert_eq(cqlmux_statement_bind_text(s, 0, big, 200), CQLMUX_OK);
  cr_assert_eq(s->values[0].heap, first, "no reallocation when the value shrinks");
  cqlmux_statement_free(s);
}

Test(statement, prepared_statement_encodes_execute_with_v5_metadata_id) {
  static const uint8_t id[] = {0xde, 0xad, 0xbe, 0xef};
  static const uint8_t meta[] = {0x01, 0x02};
  cqlmux_prepared *p = cqlmux_prepared_new(NULL, "SELECT * FROM t WHERE k = ?", id, sizeof id,
                                           meta, sizeof meta, 1);
  cr_assert_not_null(p);
  cqlmux_statement *s = cqlmux_statement_new_prepared(p);
  cr_assert_eq(cqlmux_statement_bind_int32(s, 0, 7), CQLMUX_OK);
  cqlmux_wbuf b;
  cqlmux_request_view v;
  round_trip(s, 5, &b, &v);
  cr_assert_eq(v.header.opcode, 0x0A);
  cr_assert_eq(v.u.execute.id.len, sizeof id);
  cr_assert_arr_eq(v.u.execute.id.data, id, sizeof id);
  cr_assert_eq(v.u.execute.result_metadata_id.len, sizeof meta);
  cqlmux_wbuf_free(&b);
  round_trip(s, 4, &b, &v);
  cr_assert_eq(v.u.execute.result_metadata_id.len, 0, "v4 has no result metadata id");
  cqlmux_wbuf_free(&b);
  cqlmux_statement_free(s);
  cqlmux_prepared_free(p);
}

Test(statement, option_setters_validate) {
  cqlmux_statement *s = cqlmux_statement_new("SELECT 1", 0);
  cr_assert_eq(cqlmux_statement_set_serial_consistency(s, CQLMUX_CONSISTENCY_ONE),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_set_serial_consistency(s, CQLMUX_CONSISTENCY_LOCAL_SERIAL),
               CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_set_page_size(s, -1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_set_keyspace(s, ""), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_set_keyspace(s, "ks"), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_set_paging_state(s, "abc", 3), CQLMUX_OK);
  cqlmux_wbuf b;
  cqlmux_request_view v;
  round_trip(s, 5, &b, &v);
  cr_assert_eq(v.u.query.params.keyspace.len, 2);
  cr_assert_eq(v.u.query.params.paging_state.len, 3);
  cr_assert_eq(v.u.query.params.serial_consistency, CQLMUX_CONSISTENCY_LOCAL_SERIAL);
  cqlmux_wbuf_free(&b);
  round_trip(s, 4, &b, &v);
  cr_assert_eq(v.u.query.params.keyspace.len, 0, "v4 cannot carry a keyspace");
  cqlmux_wbuf_free(&b);
  cqlmux_statement_free(s);
  cqlmux_statement_free(NULL);
}

/* Issue 15: a keyspace passed quoted, as other drivers accept it, used to
 * be quoted again into broken CQL. */
Test(statement, a_quoted_keyspace_is_taken_as_quoted) {
  cqlmux_statement *s = cqlmux_statement_new("SELECT 1", 0);
  cr_assert_eq(cqlmux_statement_set_keyspace(s, "\"MyKs\""), CQLMUX_OK);
  cqlmux_wbuf b;
  cqlmux_request_view v;
  round_trip(s, 5, &b, &v);
  cr_assert_eq(v.u.query.params.keyspace.len, 4);
  cr_assert_arr_eq(v.u.query.params.keyspace.data, "MyKs", 4);
  cqlmux_wbuf_free(&b);
  cr_assert_eq(cqlmux_statement_set_keyspace(s, "MyKs"), CQLMUX_OK);
  round_trip(s, 5, &b, &v);
  cr_assert_arr_eq(v.u.query.params.keyspace.data, "MyKs", 4, "unquoted keeps its case");
  cqlmux_wbuf_free(&b);
  static const char *const refused[] = {"\"MyKs", "\"My\"Ks\"", "\"\"", "my ks", "ks.t",
                                        "\"a\"\"b\"",
                                        "a234567890123456789012345678901234567890123456789"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    cr_assert_eq(cqlmux_statement_set_keyspace(s, refused[i]), CQLMUX_ERR_INVALID_ARGUMENT,
                 "%s", refused[i]);
  round_trip(s, 5, &b, &v);
  cr_assert_arr_eq(v.u.query.params.keyspace.data, "MyKs", 4, "a refused name changes nothing");
  cqlmux_wbuf_free(&b);
  cqlmux_statement_free(s);
}

/* A prepared statement whose PREPARED answer (protocol v4) declares these
 * bind markers. */
static cqlmux_prepared *prepared_with_params(const char *const *names, const uint16_t *types,
                                             int32_t n) {
  cqlmux_column_spec cols[8];
  cr_assert(n <= 8);
  for (int32_t i = 0; i < n; i++)
    cols[i] = (cqlmux_column_spec){.keyspace = {(const uint8_t *)"ks", 2},
                                   .table = {(const uint8_t *)"t", 1},
                                   .name = cqlmux_slice_from_cstr(names[i]),
                                   .type = cqlmux_type_native(types[i])};
  static const uint8_t id[4] = {1, 2, 3, 4};
  cqlmux_result_msg msg = {.kind = CQLMUX_RESULT_PREPARED};
  msg.prepared.id = (cqlmux_slice){id, sizeof id};
  msg.prepared.bind_count = n;
  msg.prepared.bind_columns = cols;
  msg.prepared.result = (cqlmux_rows_metadata){.flags = CQLMUX_ROWS_FLAG_NO_METADATA,
                                               .paging_state = {NULL, -1}};
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_result_encode(&b, 4, &msg);
  cr_assert_eq(b.error, 0);
  cqlmux_prepared *p = cqlmux_prepared_new(NULL, "INSERT", id, sizeof id, NULL, 0, (size_t)n);
  cr_assert_not_null(p);
  cqlmux_prepared_describe(p, 4, b.data, b.len);
  cqlmux_wbuf_free(&b);
  return p;
}

/* Issue 15: text bound into an int marker used to succeed, and only the
 * server complained. */
Test(statement, a_prepared_bind_of_the_wrong_type_fails_naming_the_parameter) {
  static const char *const names[] = {"k", "age", "born"};
  static const uint16_t types[] = {CQLMUX_TYPE_TEXT, CQLMUX_TYPE_INT, CQLMUX_TYPE_DATE};
  cqlmux_prepared *p = prepared_with_params(names, types, 3);
  cqlmux_statement *s = cqlmux_statement_new_prepared(p);
  cr_assert_str_eq(cqlmux_statement_error_message(s), "");
  cr_assert_eq(cqlmux_statement_bind_int32(s, 1, 42), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_text(s, 1, "x", 1), CQLMUX_ERR_TYPE_MISMATCH);
  cr_assert_str_eq(cqlmux_statement_error_message(s),
                   "parameter 1 (\"age\") is int: cqlmux_statement_bind_text cannot bind it");
  cr_assert_eq(cqlmux_statement_bind_int32(s, 0, 1), CQLMUX_ERR_TYPE_MISMATCH);
  cr_assert_eq(cqlmux_statement_bind_ascii(s, 1, "x", 1), CQLMUX_ERR_TYPE_MISMATCH,
               "builder binds are checked too");
  cr_assert_eq(cqlmux_statement_bind_int32(s, 2, 1), CQLMUX_ERR_TYPE_MISMATCH);
  cr_assert_eq(cqlmux_statement_bind_date(s, 2, 1u << 31), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_ascii(s, 0, "abc", 3), CQLMUX_OK, "ascii fits text");
  cr_assert_eq(cqlmux_statement_bind_serialized(s, 0, "\0\0\0\1", 4), CQLMUX_OK,
               "serialized bytes are the caller's responsibility");
  cr_assert_eq(cqlmux_statement_bind_null(s, 2), CQLMUX_OK);
  cqlmux_wbuf b;
  cqlmux_request_view v;
  round_trip(s, 4, &b, &v);
  cqlmux_values_view values = v.u.execute.params.values;
  expect_value(&values, "\0\0\0\1", 4);
  expect_value(&values, "\0\0\0\x2a", 4); /* the failed binds left 42 */
  expect_value(&values, NULL, -1);
  cqlmux_wbuf_free(&b);
  cqlmux_statement_free(s);
  cqlmux_prepared_free(p);
}

Test(statement, a_simple_statement_binds_any_type_unchecked) {
  cqlmux_statement *s = cqlmux_statement_new("INSERT INTO t (k) VALUES (?)", 1);
  cr_assert_eq(cqlmux_statement_bind_text(s, 0, "x", 1), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_int32(s, 0, 1), CQLMUX_OK);
  cqlmux_statement_free(s);
}

Test(statement, prepared_names_follow_cql_case_rules) {
  static const char *const names[] = {"k", "Mixed", "age"};
  static const uint16_t types[] = {CQLMUX_TYPE_TEXT, CQLMUX_TYPE_INT, CQLMUX_TYPE_INT};
  cqlmux_prepared *p = prepared_with_params(names, types, 3);
  cqlmux_statement *s = cqlmux_statement_new_prepared(p);
  size_t i = 99;
  cr_assert_eq(cqlmux_statement_name_index(s, "AGE", &i), CQLMUX_OK);
  cr_assert_eq(i, 2, "unquoted folds to lower case");
  cr_assert_eq(cqlmux_statement_name_index(s, "\"Mixed\"", &i), CQLMUX_OK);
  cr_assert_eq(i, 1, "quoted is exact");
  i = 99;
  cr_assert_eq(cqlmux_statement_name_index(s, "Mixed", &i), CQLMUX_ERR_NOT_FOUND,
               "unquoted Mixed is mixed, which the statement does not have");
  cr_assert_eq(i, 99);
  cr_assert_str_eq(cqlmux_statement_error_message(s), "no parameter named Mixed");
  cr_assert_eq(cqlmux_statement_name_index(s, "\"k", &i), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_name_index(s, "", &i), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_statement_free(s);
  cqlmux_prepared_free(p);
}

Test(statement, simple_statement_bound_by_name_sends_the_names) {
  cqlmux_statement *s = cqlmux_statement_new("INSERT INTO t (a, b) VALUES (:b, :a)", 2);
  size_t ia, ib, again;
  cr_assert_eq(cqlmux_statement_name_index(s, "A", &ia), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_int32(s, ia, 1), CQLMUX_OK);
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cr_assert_eq(cqlmux_statement_encode(s, &b, 4, false, NULL),
               CQLMUX_ERR_INVALID_ARGUMENT, "a slot without a name cannot go with names");
  cqlmux_wbuf_free(&b);
  cr_assert_eq(cqlmux_statement_name_index(s, "b", &ib), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_name_index(s, "a", &again), CQLMUX_OK);
  cr_assert_eq(again, ia);
  cr_assert_neq(ia, ib);
  cr_assert_eq(cqlmux_statement_bind_int32(s, ib, 2), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_name_index(s, "c", &again), CQLMUX_ERR_NOT_FOUND);
  cqlmux_request_view v;
  round_trip(s, 4, &b, &v);
  cqlmux_values_view values = v.u.query.params.values;
  cr_assert(values.named);
  for (int n = 0; n < 2; n++) {
    cqlmux_slice name;
    cqlmux_bytes value;
    cr_assert(cqlmux_values_next(&values, &name, &value));
    cr_assert_eq(name.len, 1);
    cr_assert_eq(value.data[3], name.data[0] == 'a' ? 1 : 2);
  }
  cqlmux_wbuf_free(&b);
  cqlmux_statement_free(s);
}

/* A ROWS result of `rows` int rows, with a paging state when `state`. */
static void paged_result(cqlmux_result *r, cqlmux_wbuf *body, int32_t rows, const char *state) {
  cqlmux_column_spec col = {.keyspace = {(const uint8_t *)"ks", 2},
                            .table = {(const uint8_t *)"t", 1},
                            .name = {(const uint8_t *)"c", 1},
                            .type = cqlmux_type_native(CQLMUX_TYPE_INT)};
  cqlmux_rows_metadata meta = {.columns_count = 1, .paging_state = {NULL, -1}, .columns = &col};
  if (state) {
    meta.flags = CQLMUX_ROWS_FLAG_HAS_MORE_PAGES;
    meta.paging_state = (cqlmux_bytes){(const uint8_t *)state, (int32_t)strlen(state)};
  }
  static const uint8_t cells[3][4] = {{0, 0, 0, 1}, {0, 0, 0, 2}, {0, 0, 0, 3}};
  cqlmux_bytes v[3] = {{cells[0], 4}, {cells[1], 4}, {cells[2], 4}};
  cqlmux_wbuf_init(body, NULL, 0);
  cqlmux_rows_encode(body, 4, &meta, rows, v);
  cr_assert_eq(body->error, 0);
  cqlmux_result_init(r, NULL);
  cr_assert_eq(cqlmux_result_fill(r, 4, CQLMUX_OP_RESULT, body->data, body->len, NULL, NULL),
               CQLMUX_OK);
}

Test(statement, next_page_keeps_values_and_options_and_takes_the_state) {
  cqlmux_statement *s = cqlmux_statement_new("SELECT c FROM t WHERE p = ?", 1);
  cqlmux_statement_bind_int32(s, 0, 5);
  cqlmux_statement_set_page_size(s, 3);
  cqlmux_statement_set_consistency(s, CQLMUX_CONSISTENCY_QUORUM);
  cqlmux_result r;
  cqlmux_wbuf body;
  paged_result(&r, &body, 3, "state-1");
  cr_assert_eq(cqlmux_statement_set_next_page(s, &r), CQLMUX_OK);
  size_t row, rows = 0;
  cqlmux_row_iterator it;
  cr_assert_eq(cqlmux_result_rows(&r, &it), CQLMUX_OK);
  while (cqlmux_row_iterator_next(&it, &row)) {
    int32_t c;
    cr_assert_eq(row, rows);
    cr_assert_eq(cqlmux_result_get_int32(&r, row, 0, &c), CQLMUX_OK);
    cr_assert_eq(c, (int32_t)++rows);
  }
  cr_assert_eq(rows, 3);
  cr_assert_eq(cqlmux_row_iterator_next(&it, &row), 0, "stays at the end");
  cqlmux_result_clear(&r);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
  cqlmux_wbuf b;
  cqlmux_request_view v;
  round_trip(s, 4, &b, &v);
  cr_assert_eq(v.u.query.params.paging_state.len, 7);
  cr_assert_arr_eq(v.u.query.params.paging_state.data, "state-1", 7);
  cr_assert_eq(v.u.query.params.page_size, 3);
  cr_assert_eq(v.u.query.params.consistency, CQLMUX_CONSISTENCY_QUORUM);
  cqlmux_values_view values = v.u.query.params.values;
  expect_value(&values, "\0\0\0\5", 4);
  cqlmux_wbuf_free(&b);
  paged_result(&r, &body, 1, NULL);
  cr_assert_eq(cqlmux_statement_set_next_page(s, &r), CQLMUX_ERR_NOT_FOUND, "the last page");
  cr_assert_null(cqlmux_session_execute_next_page(NULL, s, &r));
  cqlmux_result_clear(&r);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
  cr_assert_eq(cqlmux_row_iterator_next(NULL, &row), 0);
  cr_assert_eq(cqlmux_result_rows(NULL, &it), CQLMUX_OK);
  cr_assert_eq(cqlmux_row_iterator_next(&it, &row), 0, "no result walks no rows");
  cqlmux_statement_free(s);
}

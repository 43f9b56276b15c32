#include <criterion/criterion.h>
#include <string.h>

#include "api/prepared.h"
#include "api/statement.h"
#include "proto/envelope.h"
#include "proto/request_decode.h"

/* Encodes s and decodes it back with the codec's request decoder. */
static void round_trip(const cqlmux_statement *s, uint8_t version, cqlmux_wbuf *b,
                       cqlmux_request_view *view) {
  cqlmux_wbuf_init(b, NULL, 0);
  cr_assert_eq(cqlmux_statement_encode(s, b, version, false), CQLMUX_OK);
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

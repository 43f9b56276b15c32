/* Batches (issue 15): members, values and options as they go on the wire. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/batch.h"
#include "api/prepared.h"
#include "api/statement.h"
#include "proto/envelope.h"
#include "proto/request_decode.h"

static void decode(const cqlmux_batch *batch, uint8_t version, cqlmux_wbuf *b,
                   cqlmux_request_view *view) {
  cqlmux_wbuf_init(b, NULL, 0);
  cr_assert_eq(cqlmux_batch_encode(batch, b, version, false, NULL), CQLMUX_OK);
  cqlmux_envelope env;
  cr_assert_eq(cqlmux_envelope_decode(b->data, b->len, CQLMUX_DIR_REQUEST, 1u << 20, &env),
               (int)b->len);
  cr_assert_eq(cqlmux_request_decode(&env, view), CQLMUX_OK);
  cr_assert_eq(view->header.opcode, CQLMUX_OP_BATCH);
}

static int32_t int_value(cqlmux_values_view *v) {
  cqlmux_slice name;
  cqlmux_bytes value;
  cr_assert(cqlmux_values_next(v, &name, &value));
  cr_assert_eq(value.len, 4);
  return (int32_t)cqlmux_load_u32(value.data);
}

Test(batch, mixed_members_carry_their_values_and_the_batch_options) {
  static const uint8_t id[] = {9, 8, 7};
  cqlmux_prepared *p = cqlmux_prepared_new(NULL, "INSERT INTO t (k) VALUES (?)", id, sizeof id,
                                           NULL, 0, 1);
  cqlmux_statement *simple = cqlmux_statement_new("INSERT INTO t (k, v) VALUES (?, ?)", 2);
  cqlmux_statement *prepared = cqlmux_statement_new_prepared(p);
  cqlmux_statement_bind_int32(simple, 0, 1);
  cqlmux_statement_bind_int32(simple, 1, 2);
  cqlmux_statement_bind_int32(prepared, 0, 3);
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_UNLOGGED);
  cr_assert_eq(cqlmux_batch_add(batch, simple), CQLMUX_OK);
  cr_assert_eq(cqlmux_batch_add(batch, prepared), CQLMUX_OK);
  cr_assert_eq(cqlmux_batch_count(batch), 2);
  cr_assert_eq(cqlmux_batch_set_consistency(batch, CQLMUX_CONSISTENCY_QUORUM), CQLMUX_OK);
  cr_assert_eq(cqlmux_batch_set_serial_consistency(batch, CQLMUX_CONSISTENCY_LOCAL_SERIAL),
               CQLMUX_OK);
  cr_assert_eq(cqlmux_batch_set_timestamp(batch, 1234567), CQLMUX_OK);
  cr_assert_eq(cqlmux_batch_set_keyspace(batch, "\"Ks1\""), CQLMUX_OK);
  cqlmux_wbuf b;
  cqlmux_request_view v;
  decode(batch, 5, &b, &v);
  cqlmux_batch_view bv = v.u.batch;
  cr_assert_eq(bv.type, CQLMUX_BATCH_UNLOGGED);
  cr_assert_eq(bv.count, 2);
  cr_assert_eq(bv.consistency, CQLMUX_CONSISTENCY_QUORUM);
  cr_assert_eq(bv.serial_consistency, CQLMUX_CONSISTENCY_LOCAL_SERIAL);
  cr_assert_eq(bv.timestamp, 1234567);
  cr_assert_eq(bv.keyspace.len, 3);
  cr_assert_arr_eq(bv.keyspace.data, "Ks1", 3);
  cqlmux_batch_statement_view m;
  cr_assert(cqlmux_batch_next(&bv, &m));
  cr_assert_eq(m.kind, CQLMUX_BATCH_KIND_QUERY);
  cr_assert_eq(m.values.count, 2);
  cr_assert_eq(int_value(&m.values), 1);
  cr_assert_eq(int_value(&m.values), 2);
  cr_assert(cqlmux_batch_next(&bv, &m));
  cr_assert_eq(m.kind, CQLMUX_BATCH_KIND_PREPARED);
  cr_assert_eq(m.query_or_id.len, sizeof id);
  cr_assert_eq(int_value(&m.values), 3);
  cr_assert_not(cqlmux_batch_next(&bv, &m));
  cqlmux_wbuf_free(&b);
  decode(batch, 4, &b, &v);
  cr_assert_eq(v.u.batch.keyspace.len, 0, "v4 cannot carry a keyspace");
  cqlmux_wbuf_free(&b);
  cqlmux_statement_bind_int32(prepared, 0, 4); /* members are read at each execution */
  decode(batch, 4, &b, &v);
  bv = v.u.batch;
  cr_assert(cqlmux_batch_next(&bv, &m) && cqlmux_batch_next(&bv, &m));
  cr_assert_eq(int_value(&m.values), 4);
  cqlmux_wbuf_free(&b);
  cqlmux_batch_free(batch);
  cqlmux_statement_free(simple);
  cqlmux_statement_free(prepared);
  cqlmux_prepared_free(p);
}

Test(batch, what_cannot_be_encoded_is_refused) {
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_COUNTER);
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cr_assert_eq(cqlmux_batch_encode(batch, &b, 5, false, NULL), CQLMUX_ERR_INVALID_ARGUMENT,
               "an empty batch");
  cqlmux_statement *named = cqlmux_statement_new("UPDATE c SET n = n + :d WHERE k = :k", 2);
  size_t i;
  cr_assert_eq(cqlmux_statement_name_index(named, "d", &i), CQLMUX_OK);
  cr_assert_eq(cqlmux_batch_add(batch, named), CQLMUX_OK);
  cr_assert_eq(cqlmux_batch_encode(batch, &b, 5, false, NULL), CQLMUX_ERR_INVALID_ARGUMENT,
               "a member bound by name");
  cr_assert_eq(b.len, 0);
  cqlmux_batch_clear(batch);
  cr_assert_eq(cqlmux_batch_count(batch), 0);
  cr_assert_null(cqlmux_batch_new(3));
  cr_assert_eq(cqlmux_batch_add(batch, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_batch_set_serial_consistency(batch, CQLMUX_CONSISTENCY_ONE),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_batch_set_keyspace(batch, "a b"), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_wbuf_free(&b);
  cqlmux_statement_free(named);
  cqlmux_batch_free(batch);
  cqlmux_batch_free(NULL);
}

/* Statements and results against the mock server (issue 15): what a real
 * Cassandra cannot be made to send on demand. */
#include <criterion/criterion.h>
#include <string.h>

#include "cqlmux.h"
#include "mock/mock.h"
#include "proto/opcode.h"
#include "session_fixture.h"

static cqlmux_session *connect_to(cqlmux_mock *m) {
  return session_fixture_connect(session_fixture_config(m, NULL));
}

/* A CL TWO write that finds one replica alive: the server says 2 required,
 * 1 alive. block_for used to read 0 and `required` was not there at all. */
Test(statements_mock, unavailable_exposes_required_and_alive) {
  cqlmux_mock *m = session_fixture_mock(false);
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, "INSERT INTO t (k) VALUES (1)");
  p.error_code = 0x1000;
  p.block_for = 2; /* the mock sends it as `required` */
  p.alive = 1;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  cqlmux_session *s = connect_to(m);
  cqlmux_statement *st = cqlmux_statement_new("INSERT INTO t (k) VALUES (1)", 0);
  cqlmux_statement_set_consistency(st, CQLMUX_CONSISTENCY_TWO);
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_SERVER);
  cqlmux_server_error e;
  cr_assert_eq(cqlmux_future_server_error(f, &e), CQLMUX_OK);
  cr_assert_eq(e.code, 0x1000);
  cr_assert_eq(e.consistency, CQLMUX_CONSISTENCY_TWO);
  cr_assert_eq(e.required, 2);
  cr_assert_eq(e.alive, 1);
  cr_assert_eq(e.block_for, 2);
  cqlmux_future_free(f);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A batch whose second member the server rejects: the batch fails as a
 * whole with the server's error (code and message; Cassandra names the
 * offending statement in its message, it sends no member index), and the
 * request the server saw is one BATCH with both members. */
Test(statements_mock, a_batch_with_a_bad_member_gets_the_servers_error) {
  cqlmux_mock *m = session_fixture_mock(false);
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, "INSERT INTO missing (k) VALUES (?)");
  p.error_code = 0x2200;
  p.error_message = "unconfigured table missing";
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  cqlmux_session *s = connect_to(m);
  cqlmux_statement *good = cqlmux_statement_new("INSERT INTO t (k) VALUES (?)", 1);
  cqlmux_statement *bad = cqlmux_statement_new("INSERT INTO missing (k) VALUES (?)", 1);
  cqlmux_statement_bind_int32(good, 0, 1);
  cqlmux_statement_bind_int32(bad, 0, 2);
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_LOGGED);
  cqlmux_batch_add(batch, good);
  cqlmux_batch_add(batch, bad);
  cqlmux_batch_set_consistency(batch, CQLMUX_CONSISTENCY_QUORUM);
  cqlmux_future *f = cqlmux_session_batch(s, batch);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_SERVER);
  cqlmux_server_error e;
  cr_assert_eq(cqlmux_future_server_error(f, &e), CQLMUX_OK);
  cr_assert_eq(e.code, 0x2200);
  cr_assert(strstr(cqlmux_future_error_message(f), "unconfigured table missing"), "%s",
            cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  cqlmux_batch_clear(batch);
  cqlmux_batch_add(batch, good);
  f = cqlmux_session_batch(s, batch);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cr_assert_eq(cqlmux_result_kind_of(cqlmux_future_result(f)), CQLMUX_RESULT_VOID);
  cqlmux_future_free(f);
  size_t batches = 0;
  cqlmux_mock_request r;
  for (size_t i = 0; cqlmux_mock_request_at(m, i, &r) == CQLMUX_OK; i++) {
    if (r.opcode != CQLMUX_OP_BATCH) continue;
    cr_assert_eq(r.consistency, CQLMUX_CONSISTENCY_QUORUM);
    cr_assert_eq(r.values, batches == 0 ? 2 : 1, "members in the batch");
    batches++;
  }
  cr_assert_eq(batches, 2);
  cqlmux_batch_free(batch);
  cqlmux_statement_free(good);
  cqlmux_statement_free(bad);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(statements_mock, a_batch_that_cannot_be_encoded_fails_its_future) {
  cqlmux_mock *m = session_fixture_mock(false);
  cqlmux_session *s = connect_to(m);
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_LOGGED);
  cqlmux_future *f = cqlmux_session_batch(s, batch);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_INVALID_ARGUMENT, "no members");
  cqlmux_future_free(f);
  cqlmux_batch_free(batch);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* The fault suite against the mock server (issue 16): what a server can do
 * to a session, each scenario with exact counts by outcome (submitted ==
 * completed) and, where the session must heal, the time it took (printed,
 * never asserted). Faults already proven elsewhere are not repeated here:
 * `make check-faults` runs those suites too (doc/reliability.md lists which
 * scenario lives where). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cqlmux.h"
#include "faults_fixture.h"
#include "mock/mock.h"
#include "net/session_fixture.h"
#include "proto/envelope.h"

/* Requests answered normally before and after a fault, and requests held
 * unanswered on the connection when it strikes. */
enum { BEFORE = 20, HELD = 100, AFTER = 100 };

static void fault_on_query(cqlmux_mock *m, cqlmux_mock_fault_kind kind, const char *query,
                           uint32_t arg, uint64_t times) {
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, kind);
  f.opcode = CQLMUX_OP_QUERY;
  f.query = query;
  f.arg = arg;
  f.times = times;
  /* The first matching request triggers it (a CLOSE triggered NOW would
   * close the connections open when it is added, answering nothing). */
  f.trigger = CQLMUX_MOCK_AFTER_REQUESTS;
  f.after = 0;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
}

static void wait_seen(cqlmux_mock *m, const char *query, size_t n) {
  cqlmux_mock_filter q = {CQLMUX_MOCK_ANY, CQLMUX_MOCK_ANY, CQLMUX_OP_QUERY, query};
  cr_assert_eq(cqlmux_mock_wait_requests(m, &q, n, 30000), CQLMUX_OK, "the mock saw %zu of %zu",
               cqlmux_mock_request_count(m, &q), n);
}

/* Submits n copies of `cql`, tallied in a fresh tally, and waits for them. */
static void run_and_expect_all(cqlmux_session *s, const char *cql, int n, int code) {
  faults_tally t = {0};
  for (int i = 0; i < n; i++) faults_submit(s, cql, &t);
  faults_wait_completed(&t, n, 60);
  faults_expect e[] = {{code, n}};
  faults_assert_exactly(&t, e, 1);
}

/* Submits one probe after another until one succeeds; returns the seconds
 * it took. Every probe completes (waited on); the failed ones may only be
 * the errors of a session without a ready connection. */
static double seconds_until_a_request_succeeds(cqlmux_session *s, unsigned bound_s) {
  double start = faults_now_s();
  faults_tally probes = {0};
  int submitted = 0;
  for (;;) {
    cqlmux_future *f = cqlmux_session_query(s, "SELECT probe");
    cr_assert_not_null(f);
    int rc = cqlmux_future_wait(f);
    cqlmux_future_free(f);
    faults_tally_record(&probes, rc);
    submitted++;
    if (rc == CQLMUX_OK) break;
    cr_assert(rc == CQLMUX_ERR_NO_HOSTS || rc == CQLMUX_ERR_CONNECTION_CLOSED,
              "a probe failed with %s", cqlmux_strerror(rc));
    cr_assert_lt(faults_now_s() - start, bound_s, "not recovered after %u s", bound_s);
    usleep(10000); /* paces the probes; the loop ends on success, not on time */
  }
  double took = faults_now_s() - start;
  cr_assert_eq(atomic_load(&probes.completed), submitted);
  cr_log_info("recovered after %.3f s, %d probes (%d NO_HOSTS, %d CONNECTION_CLOSED)", took,
              submitted, faults_count(&probes, CQLMUX_ERR_NO_HOSTS),
              faults_count(&probes, CQLMUX_ERR_CONNECTION_CLOSED));
  return took;
}

/* A single-node session on v`version` that reconnects quickly (base 100 ms)
 * and never retries (the counts are those of one attempt each). */
static cqlmux_session *single_node_session(cqlmux_mock *m, int version) {
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_config_set_protocol_version(c, version);
  cqlmux_config_set_reconnect(c, 100, 1000);
  cqlmux_config_set_retry_policy(c, cqlmux_retry_policy_fallthrough());
  cqlmux_config_set_request_timeout(c, 60000);
  return session_fixture_connect(c);
}

/* A fault that kills the connection on the answer to "SELECT poison",
 * while HELD requests wait unanswered on the same connection: the poisoned
 * request and every held one fail with `error` (the reason the connection
 * closed, its message containing `reason`), nothing else fails, the
 * session replaces the connection by itself and then completes everything. */
static void connection_fault(int version, cqlmux_mock_fault_kind kind, uint32_t arg, int error,
                             const char *reason) {
  cqlmux_mock *m = session_fixture_mock(false);
  fault_on_query(m, CQLMUX_MOCK_NO_RESPONSE, "SELECT held*", 0, 0);
  fault_on_query(m, kind, "SELECT poison", arg, 1);
  cqlmux_session *s = single_node_session(m, version);
  cr_assert_eq(cqlmux_session_protocol_version(s), version);
  run_and_expect_all(s, "SELECT before", BEFORE, CQLMUX_OK);
  size_t connections = cqlmux_mock_connection_count(m, 0); /* control + pool */

  faults_tally t = {0};
  for (int i = 0; i < HELD; i++) faults_submit(s, "SELECT held", &t);
  wait_seen(m, "SELECT held", HELD);
  cqlmux_future *poison = cqlmux_session_query(s, "SELECT poison");
  int rc = cqlmux_future_wait(poison);
  cr_log_info("poisoned request: %s: %s", cqlmux_strerror(rc),
              cqlmux_future_error_message(poison));
  cr_assert_eq(rc, error, "%s", cqlmux_future_error_message(poison));
  cr_assert_not_null(strstr(cqlmux_future_error_message(poison), reason), "%s",
                     cqlmux_future_error_message(poison));
  cqlmux_future_free(poison);
  faults_wait_completed(&t, HELD, 30);
  faults_expect e[] = {{error, HELD}};
  faults_assert_exactly(&t, e, 1);

  seconds_until_a_request_succeeds(s, 30);
  run_and_expect_all(s, "SELECT after", AFTER, CQLMUX_OK);
  cr_assert_eq(cqlmux_mock_connection_count(m, 0), connections + 1, "one new connection");
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(faults_mock, server_closes_mid_response_v4, .timeout = 60) {
  connection_fault(4, CQLMUX_MOCK_TRUNCATED, 0, CQLMUX_ERR_CONNECTION_CLOSED, "");
}

Test(faults_mock, server_closes_mid_frame_v5, .timeout = 60) {
  connection_fault(5, CQLMUX_MOCK_TRUNCATED, 0, CQLMUX_ERR_CONNECTION_CLOSED, "");
}

Test(faults_mock, server_closes_instead_of_answering, .timeout = 60) {
  connection_fault(5, CQLMUX_MOCK_CLOSE, 0, CQLMUX_ERR_CONNECTION_CLOSED, "");
}

Test(faults_mock, server_resets_instead_of_answering, .timeout = 60) {
  connection_fault(5, CQLMUX_MOCK_CLOSE, 1, CQLMUX_ERR_CONNECTION_CLOSED, "");
}

/* doc/errors.md: network bytes that fail to decode reach requests as
 * PROTOCOL, the message naming the decoder's verdict. */
Test(faults_mock, an_unknown_opcode_v5, .timeout = 60) {
  connection_fault(5, CQLMUX_MOCK_MALFORMED, 1, CQLMUX_ERR_PROTOCOL, "");
}

Test(faults_mock, bad_payload_crc32, .timeout = 60) {
  connection_fault(5, CQLMUX_MOCK_BAD_CRC, 0, CQLMUX_ERR_PROTOCOL, "checksum");
}

Test(faults_mock, bad_header_crc24, .timeout = 60) {
  connection_fault(5, CQLMUX_MOCK_BAD_CRC, 1, CQLMUX_ERR_PROTOCOL, "checksum");
}

/* The library's limit on an envelope body is CQLMUX_ENVELOPE_MAX_BODY; one
 * byte more is refused before anything is allocated for it (2^31 is in
 * tests/net/test_session_faults.c). */
Test(faults_mock, an_envelope_one_byte_over_the_max_v4, .timeout = 60) {
  connection_fault(4, CQLMUX_MOCK_OVERSIZED, CQLMUX_ENVELOPE_MAX_BODY + 1, CQLMUX_ERR_OVERSIZED,
                   "");
}

Test(faults_mock, an_envelope_one_byte_over_the_max_v5, .timeout = 60) {
  connection_fault(5, CQLMUX_MOCK_OVERSIZED, CQLMUX_ENVELOPE_MAX_BODY + 1, CQLMUX_ERR_OVERSIZED,
                   "");
}

/* A RESULT whose body does not decode inside an intact envelope (v4: no
 * frame checksum to say more): the stream ids and lengths are still in
 * step, so only that request fails, with PROTOCOL, and the connection
 * keeps serving the others (doc/errors.md). */
Test(faults_mock, an_undecodable_result_body_fails_only_its_request, .timeout = 60) {
  cqlmux_mock *m = session_fixture_mock(false);
  fault_on_query(m, CQLMUX_MOCK_MALFORMED, "SELECT poison", 0, 1);
  cqlmux_session *s = single_node_session(m, 4);
  run_and_expect_all(s, "SELECT before", BEFORE, CQLMUX_OK);
  size_t connections = cqlmux_mock_connection_count(m, 0);
  run_and_expect_all(s, "SELECT poison", 1, CQLMUX_ERR_PROTOCOL);
  run_and_expect_all(s, "SELECT after", AFTER, CQLMUX_OK);
  cr_assert_eq(cqlmux_mock_connection_count(m, 0), connections, "no new connection");
  cr_assert_eq(cqlmux_mock_open_connections(m, 0), connections);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

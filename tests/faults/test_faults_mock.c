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

/* ================================================================ server errors */

/* Every CQL error code of the protocol spec, and one it does not define:
 * each request fails with CQLMUX_ERR_SERVER carrying exactly the code sent,
 * and none of them costs the connection. */
Test(faults_mock, every_error_code_reaches_its_request_and_keeps_the_connection,
     .timeout = 60) {
  static const int32_t codes[] = {0x0000, 0x000A, 0x0100, 0x1000, 0x1001, 0x1002, 0x1003,
                                  0x1100, 0x1200, 0x1300, 0x1400, 0x1500, 0x1600, 0x1700,
                                  0x2000, 0x2100, 0x2200, 0x2300, 0x2400, 0x2500, 0x7777};
  enum { CODES = sizeof codes / sizeof codes[0], EACH = 10 };
  cqlmux_mock *m = session_fixture_mock(false);
  char cql[CODES][32];
  for (int i = 0; i < CODES; i++) {
    snprintf(cql[i], sizeof cql[i], "SELECT error_%04x", (unsigned)codes[i]);
    cqlmux_mock_prime p;
    cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, cql[i]);
    p.error_code = codes[i];
    p.keyspace = "ks"; /* 0x1400 function failure, 0x2400 already exists */
    p.table = "t";
    p.function = "f";
    p.arg_types = "int";
    cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  }
  cqlmux_session *s = single_node_session(m, 5);
  size_t connections = cqlmux_mock_connection_count(m, 0);
  faults_tally t = {0};
  for (int i = 0; i < CODES; i++) {
    for (int n = 0; n < EACH; n++) {
      cqlmux_future *f = cqlmux_session_query(s, cql[i]);
      int rc = cqlmux_future_wait(f);
      faults_tally_record(&t, rc);
      cqlmux_server_error e;
      cr_assert_eq(cqlmux_future_server_error(f, &e), CQLMUX_OK, "0x%04x: %s", (unsigned)codes[i],
                   cqlmux_future_error_message(f));
      cr_assert_eq(e.code, codes[i], "sent 0x%04x, got 0x%04x", (unsigned)codes[i],
                   (unsigned)e.code);
      cqlmux_future_free(f);
    }
  }
  faults_expect e[] = {{CQLMUX_ERR_SERVER, CODES * EACH}};
  faults_assert_exactly(&t, e, 1);
  run_and_expect_all(s, "SELECT after", AFTER, CQLMUX_OK);
  cr_assert_eq(cqlmux_mock_connection_count(m, 0), connections, "no connection was replaced");
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ================================================================ prepared ids */

static int execute_prepared(cqlmux_session *s, const cqlmux_prepared *p, int n) {
  faults_tally t = {0};
  for (int i = 0; i < n; i++) {
    cqlmux_statement *st = cqlmux_statement_new_prepared(p);
    cr_assert_not_null(st);
    cr_assert_eq(cqlmux_statement_bind_int32(st, 0, i), CQLMUX_OK);
    cqlmux_future *f = cqlmux_session_execute(s, st);
    cqlmux_statement_free(st);
    cr_assert_eq(cqlmux_future_set_callback(f, faults_tally_callback, &t), CQLMUX_OK);
  }
  faults_wait_completed(&t, n, 60);
  return faults_count(&t, CQLMUX_OK);
}

/* A node restart forgets every prepared id: the session's next EXECUTEs
 * get UNPREPARED, re-prepare and run, without the application noticing;
 * the same once more without a restart (the node just forgot). */
Test(faults_mock, a_restart_that_loses_prepared_ids_is_invisible_to_the_application,
     .timeout = 90) {
  enum { N = 200 };
  const char *q = "SELECT v FROM ks.t WHERE k = ?";
  cqlmux_mock *m = session_fixture_mock(false);
  const cqlmux_mock_column param = {"k", "int"};
  cqlmux_mock_prime pr;
  cqlmux_mock_prime_init(&pr, CQLMUX_MOCK_RESULT_VOID, q);
  pr.param_count = 1;
  pr.params = &param;
  cr_assert_eq(cqlmux_mock_prime_add(m, &pr), CQLMUX_OK);
  cqlmux_session *s = single_node_session(m, 5);
  cqlmux_future *pf = cqlmux_session_prepare(s, q);
  cr_assert_eq(cqlmux_future_wait(pf), CQLMUX_OK, "%s", cqlmux_future_error_message(pf));
  cqlmux_prepared *p = cqlmux_future_take_prepared(pf);
  cqlmux_future_free(pf);
  cr_assert_not_null(p);
  cr_assert_eq(execute_prepared(s, p, N), N);

  double restarted = faults_now_s();
  cr_assert_eq(cqlmux_mock_node_restart(m, 0, 200), CQLMUX_OK);
  seconds_until_a_request_succeeds(s, 30);
  cr_log_info("node restart (down 200 ms) -> first success %.3f s", faults_now_s() - restarted);
  cr_assert_eq(execute_prepared(s, p, N), N, "every EXECUTE after the restart succeeded");

  cr_assert_eq(cqlmux_mock_node_forget_prepared(m, 0), CQLMUX_OK);
  cr_assert_eq(execute_prepared(s, p, N), N, "every EXECUTE after the node forgot succeeded");

  /* The library re-prepared: after the restart on its own when it
   * reconnected (or on UNPREPARED), after the forgetting on UNPREPARED;
   * either way the node saw more PREPAREs than the application's one. */
  cqlmux_mock_filter prepares = {CQLMUX_MOCK_ANY, CQLMUX_MOCK_ANY, CQLMUX_OP_PREPARE, q};
  size_t unprepared = 0, total = cqlmux_mock_request_count(m, NULL);
  for (size_t i = 0; i < total; i++) {
    cqlmux_mock_request r;
    cqlmux_mock_request_at(m, i, &r);
    if (r.opcode == CQLMUX_OP_EXECUTE && r.error_code == 0x2500) unprepared++;
  }
  cr_log_info("%zu UNPREPARED answers, %zu PREPAREs of the text", unprepared,
              cqlmux_mock_request_count(m, &prepares));
  cr_assert_geq(unprepared, 1, "the forgotten id was answered UNPREPARED");
  cr_assert_geq(cqlmux_mock_request_count(m, &prepares), 3);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ================================================================ refused / all down */

/* UP: up with a ready connection; DOWN: down or reconnecting (a poll may
 * land on either while the schedule runs). */
static bool host_state_is(cqlmux_session *s, size_t index, cqlmux_host_state state) {
  cqlmux_host_info h[8];
  size_t n = cqlmux_session_hosts(s, h, 8);
  if (index >= n) return false;
  if (state == CQLMUX_HOST_UP) return h[index].state == CQLMUX_HOST_UP && h[index].connections;
  return h[index].state != CQLMUX_HOST_UP;
}

static void wait_all_hosts(cqlmux_session *s, size_t count, cqlmux_host_state state) {
  for (int i = 0; i < 3000; i++) {
    size_t in_state = 0;
    for (size_t h = 0; h < count; h++) in_state += host_state_is(s, h, state);
    if (in_state == count) return;
    usleep(10000);
  }
  cr_assert_fail("the hosts did not reach state %d", (int)state);
}

/* The node refuses connections and drops the open ones: requests fail at
 * once (NO_HOSTS: nothing waits for a connection that may never come);
 * once it listens again the session reconnects on its schedule. */
Test(faults_mock, refused_connections_then_recovery, .timeout = 90) {
  cqlmux_mock *m = session_fixture_mock(false);
  cqlmux_session *s = single_node_session(m, 5);
  run_and_expect_all(s, "SELECT before", BEFORE, CQLMUX_OK);
  cqlmux_mock_fault refuse;
  cqlmux_mock_fault_init(&refuse, CQLMUX_MOCK_REFUSE);
  int refuse_id;
  cr_assert_eq(cqlmux_mock_fault_add(m, &refuse, &refuse_id), CQLMUX_OK);
  cqlmux_mock_fault close_all;
  cqlmux_mock_fault_init(&close_all, CQLMUX_MOCK_CLOSE);
  cr_assert_eq(cqlmux_mock_fault_add(m, &close_all, NULL), CQLMUX_OK);
  wait_all_hosts(s, 1, CQLMUX_HOST_DOWN);
  run_and_expect_all(s, "SELECT during", 50, CQLMUX_ERR_NO_HOSTS);

  cr_assert_eq(cqlmux_mock_fault_clear(m, refuse_id), CQLMUX_OK);
  seconds_until_a_request_succeeds(s, 30);
  run_and_expect_all(s, "SELECT after", AFTER, CQLMUX_OK);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* Every node of a 3-node cluster stops, then all come back: meanwhile
 * requests fail at once with NO_HOSTS; afterwards the session uses all
 * three again without being told. */
Test(faults_mock, all_nodes_down_then_back, .timeout = 120) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.nodes_per_dc[0] = 3;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_config_set_reconnect(c, 100, 1000);
  cqlmux_config_set_retry_policy(c, cqlmux_retry_policy_fallthrough());
  cqlmux_session *s = session_fixture_connect(c);
  wait_all_hosts(s, 3, CQLMUX_HOST_UP);
  run_and_expect_all(s, "SELECT before", 300, CQLMUX_OK);

  for (int n = 0; n < 3; n++) cr_assert_eq(cqlmux_mock_node_stop(m, n), CQLMUX_OK);
  wait_all_hosts(s, 3, CQLMUX_HOST_DOWN);
  run_and_expect_all(s, "SELECT during", 100, CQLMUX_ERR_NO_HOSTS);

  for (int n = 0; n < 3; n++) cr_assert_eq(cqlmux_mock_node_start(m, n), CQLMUX_OK);
  double started = faults_now_s();
  seconds_until_a_request_succeeds(s, 60);
  wait_all_hosts(s, 3, CQLMUX_HOST_UP);
  cr_log_info("all 3 nodes UP again %.3f s after they listened", faults_now_s() - started);
  cqlmux_mock_log_clear(m);
  run_and_expect_all(s, "SELECT after", 300, CQLMUX_OK);
  for (int n = 0; n < 3; n++) {
    cqlmux_mock_filter q = {n, CQLMUX_MOCK_ANY, CQLMUX_OP_QUERY, "SELECT after"};
    cr_assert_gt(cqlmux_mock_request_count(m, &q), 0, "node %d is used again", n);
  }
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ================================================================ events */

/* 1,000 topology and status events within a second while 5,000 requests
 * run: every request completes OK and the session still works. (The bound
 * on the refreshes they cost is tests/cluster/test_cluster_mock.c.) */
Test(faults_mock, an_event_storm_under_load_loses_no_request, .timeout = 90) {
  enum { N = 5000, EVENTS = 1000 };
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.nodes_per_dc[0] = 3;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  cqlmux_session *s = session_fixture_connect(session_fixture_config(m, NULL));
  wait_all_hosts(s, 3, CQLMUX_HOST_UP);
  faults_tally t = {0};
  for (int i = 0; i < N / 2; i++) faults_submit(s, "SELECT storm", &t);
  double start = faults_now_s();
  for (int i = 0; i < EVENTS; i++) {
    cqlmux_mock_event ev = {.type = i % 2 ? CQLMUX_MOCK_EVENT_STATUS : CQLMUX_MOCK_EVENT_TOPOLOGY,
                            .change = i % 2 ? "UP" : "NEW_NODE",
                            .about_node = i % 3};
    cr_assert_geq(cqlmux_mock_push_event(m, CQLMUX_MOCK_ANY, &ev), 1);
  }
  cr_log_info("%d events pushed in %.3f s", EVENTS, faults_now_s() - start);
  for (int i = 0; i < N / 2; i++) faults_submit(s, "SELECT storm", &t);
  faults_wait_completed(&t, N, 60);
  faults_expect e[] = {{CQLMUX_OK, N}};
  faults_assert_exactly(&t, e, 1);
  run_and_expect_all(s, "SELECT after", AFTER, CQLMUX_OK);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ================================================================ client close */

/* The application frees its session while 10,000 requests wait on the
 * server (which never answers): every one completes exactly once, with
 * SHUTDOWN, before cqlmux_session_free returns. */
Test(faults_mock, freeing_the_session_with_10000_in_flight_completes_each_once,
     .timeout = 90) {
  enum { N = 10000 };
  cqlmux_mock *m = session_fixture_mock(false);
  fault_on_query(m, CQLMUX_MOCK_NO_RESPONSE, "SELECT held*", 0, 0);
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_config_set_max_requests_per_connection(c, 16384);
  cqlmux_config_set_watermarks(c, 100, 50);
  cqlmux_config_set_request_timeout(c, 60000);
  cqlmux_session *s = session_fixture_connect(c);
  faults_tally t = {0};
  for (int i = 0; i < N; i++) faults_submit(s, "SELECT held", &t);
  wait_seen(m, "SELECT held", N); /* all on the wire, none answered */
  cr_assert_eq(atomic_load(&t.completed), 0);
  cqlmux_session_free(s);
  /* No wait: free joins the callback workers, so all ran already. */
  faults_expect e[] = {{CQLMUX_ERR_SHUTDOWN, N}};
  faults_assert_exactly(&t, e, 1);
  cqlmux_mock_free(m);
}

/* ================================================================ secrets */

/* Log lines seen at TRACE level, checked for the secret as they come (the
 * callback runs on library threads: any of them may log). */
typedef struct secret_watch {
  const char *secret;
  atomic_int lines;
  atomic_int leaks;
} secret_watch;

static void watch_log(cqlmux_log_level level, const char *message, void *user_data) {
  (void)level;
  secret_watch *w = user_data;
  atomic_fetch_add(&w->lines, 1);
  if (strstr(message, w->secret)) atomic_fetch_add(&w->leaks, 1);
}

static cqlmux_session *session_with_password(cqlmux_mock *m, const char *password,
                                             secret_watch *w, int expect) {
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_config_set_credentials(c, "cassandra", password);
  cqlmux_config_set_log_level(c, CQLMUX_LOG_TRACE);
  cqlmux_config_set_log_callback(c, watch_log, w);
  cqlmux_config_set_reconnect(c, 100, 1000);
  cqlmux_session *s = NULL;
  cr_assert_eq(cqlmux_session_new(c, &s), CQLMUX_OK);
  cqlmux_config_free(c);
  cqlmux_future *f = cqlmux_session_connect(s);
  cr_assert_eq(cqlmux_future_wait(f), expect, "%s", cqlmux_future_error_message(f));
  if (expect != CQLMUX_OK)
    cr_assert_null(strstr(cqlmux_future_error_message(f), w->secret), "error text: %s",
                   cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return s;
}

/* A wrong password, then the right one through a connection fault and its
 * reconnection (a second authentication): neither password appears in any
 * log line (TRACE), error text or the metrics exposition. */
Test(faults_mock, secrets_reach_no_log_error_text_or_metrics, .timeout = 60) {
  static const char right[] = "Right-Pa55-7f3c", wrong[] = "Wrong-Pa55-91ab";
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.username = "cassandra";
  cfg.password = right;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);

  secret_watch bad = {.secret = wrong};
  cqlmux_session *s = session_with_password(m, wrong, &bad, CQLMUX_ERR_AUTH);
  cqlmux_session_free(s);
  cr_assert_gt(atomic_load(&bad.lines), 0, "TRACE logging produced nothing to check");
  cr_assert_eq(atomic_load(&bad.leaks), 0, "the wrong password reached a log line");

  secret_watch good = {.secret = right};
  s = session_with_password(m, right, &good, CQLMUX_OK);
  fault_on_query(m, CQLMUX_MOCK_CLOSE, "SELECT poison", 0, 1);
  run_and_expect_all(s, "SELECT poison", 1, CQLMUX_ERR_CONNECTION_CLOSED);
  seconds_until_a_request_succeeds(s, 30);
  run_and_expect_all(s, "SELECT after", AFTER, CQLMUX_OK);
  static char text[1 << 16];
  cr_assert_eq(cqlmux_session_metrics_prometheus(s, text, sizeof text, NULL), CQLMUX_OK);
  cr_assert_null(strstr(text, right), "the password is in the metrics");
  cqlmux_session_free(s);
  cr_assert_eq(atomic_load(&good.leaks), 0, "the password reached a log line");
  cqlmux_mock_connection mc;
  size_t authenticated = 0;
  for (size_t i = 0; i < cqlmux_mock_connection_count(m, 0); i++)
    if (cqlmux_mock_connection_at(m, i, &mc) == CQLMUX_OK && mc.authenticated) authenticated++;
  cr_assert_geq(authenticated, 3, "control, pool and the pool's replacement authenticated");
  cqlmux_mock_free(m);
}

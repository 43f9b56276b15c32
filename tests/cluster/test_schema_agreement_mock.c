/* Schema agreement after a schema change (lib/api/schema_agreement.c) on a
 * 3-node mock cluster: the future of a statement answered with
 * SCHEMA_CHANGE completes only once every UP node reports the
 * coordinator's schema version, or when the configured wait runs out;
 * DOWN nodes are not waited for; a wait of 0 asks nothing. A node "behind"
 * is the mock reporting another schema version for it
 * (cqlmux_mock_node_schema_behind), as a node gossip has not reached yet.
 * Against a real cluster: tests/integration/test_cluster_real.c. */
#include "config.h"

#include "cluster_fixture.h"

#define DDL "CREATE TABLE ks.t2 (k int PRIMARY KEY)"
#define LOCAL_VERSION "SELECT schema_version FROM system.local WHERE key='local'"
#define PEER_VERSIONS "SELECT peer, rpc_address, schema_version FROM system.peers"

static cqlmux_mock *start_three_nodes(void) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.nodes_per_dc[0] = 3;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_SCHEMA_CHANGE, "CREATE TABLE*");
  p.change = "CREATED";
  p.target = "TABLE";
  p.keyspace = "ks";
  p.table = "t2";
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  return m;
}

/* A session whose contact point is node 0, waiting up to wait_ms for
 * agreement; host events into log when given. */
static cqlmux_session *session_waiting(cqlmux_mock *m, unsigned wait_ms, event_log *log) {
  cqlmux_config *c = cluster_config(m, 0);
  cr_assert_eq(cqlmux_config_set_schema_agreement_wait(c, wait_ms), CQLMUX_OK);
  if (log) cqlmux_config_set_host_listener(c, record_event, log);
  return connect_session(c);
}

static size_t asked(cqlmux_mock *m, const char *query) {
  cqlmux_mock_filter f = CQLMUX_MOCK_FILTER_ANY;
  f.opcode = CQLMUX_OP_QUERY;
  f.query = query;
  return cqlmux_mock_request_count(m, &f);
}

/* The DDL, coordinated by node 0 (so the check asks node 0). */
static cqlmux_future *run_ddl(cqlmux_mock *m, cqlmux_session *s) {
  char address[64];
  node_address(m, 0, address, sizeof address);
  cqlmux_statement *st = cqlmux_statement_new(DDL, 0);
  cr_assert_eq(cqlmux_statement_set_host(st, address), CQLMUX_OK);
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cqlmux_statement_free(st);
  return f;
}

static void assert_schema_change(cqlmux_future *f) {
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  const cqlmux_result *r = cqlmux_future_result(f);
  cr_assert_not_null(r);
  cr_assert_eq(cqlmux_result_row_count(r), 0, "the DDL's own result, not the check's rows");
}

Test(schema_agreement_mock, a_schema_change_completes_once_every_up_node_has_the_version,
     .timeout = 60) {
  cqlmux_mock *m = start_three_nodes();
  cr_assert_eq(cqlmux_mock_node_schema_behind(m, 2, true), CQLMUX_OK);
  cqlmux_session *s = session_waiting(m, 60000, NULL);
  cqlmux_future *f = run_ddl(m, s);
  /* Two rounds seen with node 2 behind: the future is held. */
  WAIT_UNTIL(asked(m, PEER_VERSIONS) >= 2, 20);
  cr_assert_geq(asked(m, PEER_VERSIONS), 2);
  cr_assert_eq(cqlmux_future_ready(f), 0, "held while node 2 reports another version");
  cr_assert_eq(cqlmux_future_schema_in_agreement(f), 0, "pending");
  cr_assert_eq(cqlmux_mock_node_schema_behind(m, 2, false), CQLMUX_OK);
  assert_schema_change(f);
  cr_assert_eq(cqlmux_future_schema_in_agreement(f), 1);
  cr_assert_geq(asked(m, LOCAL_VERSION), 2, "a round asks system.local, then system.peers");
  cqlmux_future_free(f);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(schema_agreement_mock, the_wait_ends_with_the_result_and_no_agreement, .timeout = 60) {
  cqlmux_mock *m = start_three_nodes();
  cr_assert_eq(cqlmux_mock_node_schema_behind(m, 1, true), CQLMUX_OK);
  cqlmux_session *s = session_waiting(m, 300, NULL);
  cqlmux_future *f = run_ddl(m, s);
  assert_schema_change(f);
  cr_assert_eq(cqlmux_future_schema_in_agreement(f), 0, "node 1 never caught up");
  cr_assert_geq(asked(m, PEER_VERSIONS), 1);
  cqlmux_future_free(f);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(schema_agreement_mock, a_down_node_is_not_waited_for, .timeout = 60) {
  cqlmux_mock *m = start_three_nodes();
  event_log log;
  event_log_init(&log);
  cqlmux_session *s = session_waiting(m, 60000, &log);
  char address[64];
  node_address(m, 2, address, sizeof address);
  size_t from = event_count(&log);
  cr_assert_eq(cqlmux_mock_node_stop(m, 2), CQLMUX_OK);
  cr_assert_geq(wait_event(&log, from, CQLMUX_HOST_EVENT_DOWN, address, 30), 0);
  cr_assert_eq(cqlmux_mock_node_schema_behind(m, 2, true), CQLMUX_OK);
  cqlmux_future *f = run_ddl(m, s);
  assert_schema_change(f);
  cr_assert_eq(cqlmux_future_schema_in_agreement(f), 1, "the DOWN node is left out");
  cqlmux_future_free(f);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(schema_agreement_mock, a_wait_of_zero_asks_nothing, .timeout = 60) {
  cqlmux_mock *m = start_three_nodes();
  cqlmux_session *s = session_waiting(m, 0, NULL);
  cqlmux_future *f = run_ddl(m, s);
  assert_schema_change(f);
  cr_assert_eq(cqlmux_future_schema_in_agreement(f), 0, "not checked");
  cr_assert_eq(asked(m, LOCAL_VERSION), 0);
  cqlmux_future_free(f);
  /* Not a schema change: nothing to agree on. */
  f = cqlmux_session_query(s, "SELECT release_version FROM system.local");
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK);
  cr_assert_eq(cqlmux_future_schema_in_agreement(f), 1);
  cqlmux_future_free(f);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* Freeing the session while a check waits between rounds completes the
 * held future once, with the DDL's result, unsettled. */
Test(schema_agreement_mock, freeing_the_session_mid_check_completes_the_future, .timeout = 60) {
  cqlmux_mock *m = start_three_nodes();
  cr_assert_eq(cqlmux_mock_node_schema_behind(m, 1, true), CQLMUX_OK);
  cqlmux_session *s = session_waiting(m, 60000, NULL);
  cqlmux_future *f = run_ddl(m, s);
  WAIT_UNTIL(asked(m, PEER_VERSIONS) >= 1, 20);
  cr_assert_geq(asked(m, PEER_VERSIONS), 1);
  cqlmux_session_free(s);
  cr_assert(cqlmux_future_ready(f), "completed by the session's end");
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cr_assert_eq(cqlmux_future_schema_in_agreement(f), 0);
  cqlmux_future_free(f);
  cqlmux_mock_free(m);
}

Test(schema_agreement_mock, the_wait_is_bounded_in_the_config) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_schema_agreement_wait(c, 600000), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_schema_agreement_wait(c, 600001), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_schema_agreement_wait(NULL, 10), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_config_free(c);
}

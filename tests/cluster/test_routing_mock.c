/* Routing and recovery against a mock cluster: DC-aware plans, allow/deny
 * lists, per-request hosts, custom policies, every retry decision of the
 * default policy (with the node sequence the mock recorded and the
 * metrics), IGNORE and fallthrough policies, re-prepare on UNPREPARED and
 * prepares in the background. The real-cluster side is in
 * tests/integration/test_cluster_real.c. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "cluster_fixture.h"
#include "proto/opcode.h"

static cqlmux_mock *start_mock(int dcs, int nodes_per_dc) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.dc_count = dcs;
  for (int i = 0; i < dcs; i++) cfg.nodes_per_dc[i] = nodes_per_dc;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  return m;
}

/* Requests with this exact text (any opcode matching `opcode`) per node. */
static size_t count_on(cqlmux_mock *m, int node, int opcode, const char *query) {
  cqlmux_mock_filter f = CQLMUX_MOCK_FILTER_ANY;
  f.node = node;
  f.opcode = opcode;
  f.query = query;
  return cqlmux_mock_request_count(m, &f);
}

/* The nodes that received `query`, in arrival order, into nodes[]. */
static size_t node_sequence(cqlmux_mock *m, const char *query, int *nodes, size_t cap) {
  size_t n = 0, total = cqlmux_mock_request_count(m, NULL);
  for (size_t i = 0; i < total; i++) {
    cqlmux_mock_request r;
    if (cqlmux_mock_request_at(m, i, &r) != CQLMUX_OK || !r.query) continue;
    if ((r.opcode == CQLMUX_OP_QUERY || r.opcode == CQLMUX_OP_EXECUTE) &&
        !strcmp(r.query, query) && n < cap)
      nodes[n++] = r.node;
  }
  return n;
}

/* Waits (bounded) until the session has a ready connection to `address`:
 * REMOTE pools open in the background after connect. */
static void wait_connected(cqlmux_session *s, const char *address) {
  cqlmux_host_info h;
  memset(&h, 0, sizeof h);
  WAIT_UNTIL(find_host(s, address, &h) && h.connections > 0, 30);
  cr_assert_gt(h.connections, 0, "%s has a ready connection", address);
}

/* Restarts mock node `node` and waits for the session to see it DOWN, then
 * UP again (the listener runs late: events of connect may still come). */
static void restart_and_wait(cqlmux_mock *m, event_log *log, int node) {
  char a[64];
  node_address(m, node, a, sizeof a);
  int up = wait_event(log, 0, CQLMUX_HOST_EVENT_UP, a, 30);
  cr_assert_geq(up, 0, "%s was UP", a);
  cr_assert_eq(cqlmux_mock_node_restart(m, node, 50), CQLMUX_OK); /* forgets its ids */
  int down = wait_event(log, (size_t)up + 1, CQLMUX_HOST_EVENT_DOWN, a, 30);
  cr_assert_geq(down, 0, "%s went DOWN", a);
  cr_assert_geq(wait_event(log, (size_t)down + 1, CQLMUX_HOST_EVENT_UP, a, 30), 0,
                "%s came back UP", a);
}

/* A session on mock node 0 whose host events go to *log; `config` (may be
 * NULL) adjusts the config first. */
static cqlmux_session *session_with_log(cqlmux_mock *m, event_log *log,
                                        void (*config)(cqlmux_config *)) {
  cqlmux_config *c = cluster_config(m, 0);
  if (config) config(c);
  event_log_init(log);
  cqlmux_config_set_host_listener(c, record_event, log);
  return connect_session(c);
}

static int run(cqlmux_session *s, cqlmux_statement *st) {
  cqlmux_future *f = cqlmux_session_execute(s, st);
  int rc = cqlmux_future_wait(f);
  cqlmux_future_free(f);
  return rc;
}

static cqlmux_metrics metrics_of(cqlmux_session *s) {
  cqlmux_metrics m;
  cr_assert_eq(cqlmux_session_metrics(s, &m), CQLMUX_OK);
  return m;
}

/* ================================================================ plans */

Test(routing_mock, dc_aware_never_touches_dc2_while_dc1_has_an_up_host, .timeout = 90) {
  cqlmux_mock *m = start_mock(2, 3);
  cqlmux_config *c = cluster_config(m, 0);
  cqlmux_config_set_remote_hosts_per_dc(c, 3); /* dc2 hosts get pools: only plans keep them out */
  event_log log;
  event_log_init(&log);
  cqlmux_config_set_host_listener(c, record_event, &log);
  cqlmux_session *s = connect_session(c);
  const char *q = "SELECT * FROM ks.dc_aware";
  cqlmux_statement *st = cqlmux_statement_new(q, 0);
  for (int i = 0; i < 300; i++) cr_assert_eq(run(s, st), CQLMUX_OK);
  for (int node = 0; node < 3; node++)
    cr_assert_gt(count_on(m, node, CQLMUX_OP_QUERY, q), 0, "dc1 node %d is in the rotation", node);
  for (int node = 3; node < 6; node++)
    cr_assert_eq(count_on(m, node, CQLMUX_OP_QUERY, q), 0, "dc2 node %d untouched", node);

  /* dc1 goes down: LOCAL_ONE never leaves it, ONE does. */
  for (int node = 3; node < 6; node++) {
    char a[64];
    node_address(m, node, a, sizeof a);
    wait_connected(s, a);
  }
  size_t from = event_count(&log);
  for (int node = 0; node < 3; node++) cqlmux_mock_node_stop(m, node);
  for (int node = 0; node < 3; node++) {
    char a[64];
    node_address(m, node, a, sizeof a);
    cr_assert_geq(wait_event(&log, from, CQLMUX_HOST_EVENT_DOWN, a, 30), 0, "%s DOWN", a);
  }
  cqlmux_statement_set_consistency(st, CQLMUX_CONSISTENCY_LOCAL_ONE);
  cr_assert_eq(run(s, st), CQLMUX_ERR_NO_HOSTS);
  cqlmux_statement_set_consistency(st, CQLMUX_CONSISTENCY_ONE);
  cr_assert_eq(run(s, st), CQLMUX_OK);
  size_t remote = 0;
  for (int node = 3; node < 6; node++) remote += count_on(m, node, CQLMUX_OP_QUERY, q);
  cr_assert_eq(remote, 1, "ONE went to dc2 once dc1 was down");
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(routing_mock, remote_for_local_consistency_when_the_config_allows_it, .timeout = 90) {
  cqlmux_mock *m = start_mock(2, 1);
  cqlmux_config *c = cluster_config(m, 0);
  cqlmux_config_set_remote_hosts_per_dc(c, 1);
  cqlmux_config_set_remote_for_local_consistency(c, 1);
  event_log log;
  event_log_init(&log);
  cqlmux_config_set_host_listener(c, record_event, &log);
  cqlmux_session *s = connect_session(c);
  char a[64], remote[64];
  node_address(m, 0, a, sizeof a);
  node_address(m, 1, remote, sizeof remote);
  wait_connected(s, remote);
  size_t from = event_count(&log);
  cqlmux_mock_node_stop(m, 0);
  cr_assert_geq(wait_event(&log, from, CQLMUX_HOST_EVENT_DOWN, a, 30), 0);
  const char *q = "SELECT * FROM ks.local_cl";
  cqlmux_statement *st = cqlmux_statement_new(q, 0);
  cqlmux_statement_set_consistency(st, CQLMUX_CONSISTENCY_LOCAL_QUORUM);
  cr_assert_eq(run(s, st), CQLMUX_OK);
  cr_assert_eq(count_on(m, 1, CQLMUX_OP_QUERY, q), 1);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

static cqlmux_host_distance distance_of(cqlmux_session *s, const char *address) {
  cqlmux_host_info h;
  cr_assert(find_host(s, address, &h), "%s known", address);
  return h.distance;
}

Test(routing_mock, allow_and_deny_lists_of_hosts_are_honoured, .timeout = 60) {
  cqlmux_mock *m = start_mock(1, 3);
  char a0[64], a1[64], a2[64], ip2[48];
  node_address(m, 0, a0, sizeof a0);
  node_address(m, 1, a1, sizeof a1);
  node_address(m, 2, a2, sizeof a2);
  uint16_t port;
  cqlmux_mock_node_address(m, 2, ip2, sizeof ip2, &port);
  cqlmux_config *c = cluster_config(m, 0);
  char allow[160];
  snprintf(allow, sizeof allow, "%s, %s", a0, ip2); /* "ip:port" and plain "ip" */
  cr_assert_eq(cqlmux_config_set_host_filter(c, allow, NULL), CQLMUX_OK);
  cqlmux_session *s = connect_session(c);
  cr_assert_eq(distance_of(s, a0), CQLMUX_HOST_LOCAL);
  cr_assert_eq(distance_of(s, a1), CQLMUX_HOST_IGNORED);
  cr_assert_eq(distance_of(s, a2), CQLMUX_HOST_LOCAL);
  const char *q = "SELECT * FROM ks.filtered";
  cqlmux_statement *st = cqlmux_statement_new(q, 0);
  for (int i = 0; i < 60; i++) cr_assert_eq(run(s, st), CQLMUX_OK);
  cr_assert_eq(count_on(m, 1, CQLMUX_OP_QUERY, q), 0);
  cr_assert_eq(count_on(m, 0, CQLMUX_OP_QUERY, q) + count_on(m, 2, CQLMUX_OP_QUERY, q), 60);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);

  /* Deny: the denied host only. */
  c = cluster_config(m, 0);
  cr_assert_eq(cqlmux_config_set_host_filter(c, NULL, a2), CQLMUX_OK);
  s = connect_session(c);
  cr_assert_eq(distance_of(s, a1), CQLMUX_HOST_LOCAL);
  cr_assert_eq(distance_of(s, a2), CQLMUX_HOST_IGNORED);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(routing_mock, a_denied_data_center_gets_no_connection, .timeout = 60) {
  cqlmux_mock *m = start_mock(3, 1);
  cqlmux_config *c = cluster_config(m, 0);
  cqlmux_config_set_remote_hosts_per_dc(c, 1);
  cr_assert_eq(cqlmux_config_set_dc_filter(c, NULL, "dc3"), CQLMUX_OK);
  cqlmux_session *s = connect_session(c);
  char a[3][64];
  for (int i = 0; i < 3; i++) node_address(m, i, a[i], sizeof a[i]);
  cr_assert_eq(distance_of(s, a[1]), CQLMUX_HOST_REMOTE);
  cr_assert_eq(distance_of(s, a[2]), CQLMUX_HOST_IGNORED);
  cr_assert_eq(cqlmux_mock_connection_count(m, 2), 0, "no connection to dc3");
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(routing_mock, a_statement_pinned_to_a_host_runs_there_only, .timeout = 60) {
  cqlmux_mock *m = start_mock(1, 3);
  cqlmux_session *s = connect_session(cluster_config(m, 0));
  char a2[64];
  node_address(m, 2, a2, sizeof a2);
  const char *q = "SELECT * FROM system.local";
  cqlmux_statement *st = cqlmux_statement_new(q, 0);
  cr_assert_eq(cqlmux_statement_set_host(st, a2), CQLMUX_OK);
  cqlmux_mock_log_clear(m);
  for (int i = 0; i < 20; i++) {
    cqlmux_future *f = cqlmux_session_execute(s, st);
    cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK);
    char where[64];
    cr_assert_eq(cqlmux_future_coordinator(f, where, sizeof where), 1);
    cr_assert_str_eq(where, a2);
    cqlmux_future_free(f);
  }
  cr_assert_eq(count_on(m, 2, CQLMUX_OP_QUERY, q), 20);
  cr_assert_eq(cqlmux_statement_set_host(st, "10.9.9.9"), CQLMUX_OK);
  cr_assert_eq(run(s, st), CQLMUX_ERR_NO_HOSTS, "an unknown host fails, no other is tried");
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A custom policy: only the host whose address is user_data. */
typedef struct only_state {
  int done;
} only_state;

static void only_new_plan(void *ud, const cqlmux_plan_request *r, const cqlmux_host_info *hosts,
                          size_t count, void *state) {
  (void)ud, (void)r, (void)hosts, (void)count;
  ((only_state *)state)->done = 0;
}

static long only_next(void *ud, const cqlmux_host_info *hosts, size_t count, void *state) {
  only_state *st = state;
  if (st->done) return -1;
  st->done = 1;
  for (size_t i = 0; i < count; i++)
    if (!strcmp(hosts[i].address, ud)) return (long)i;
  return -1;
}

Test(routing_mock, a_custom_load_balancing_policy_chooses_the_hosts, .timeout = 60) {
  cqlmux_mock *m = start_mock(1, 3);
  char a1[64];
  node_address(m, 1, a1, sizeof a1);
  cqlmux_config *c = cluster_config(m, 0);
  cqlmux_load_balancing lb = {only_new_plan, only_next, a1};
  cr_assert_eq(cqlmux_config_set_load_balancing(c, &lb), CQLMUX_OK);
  cqlmux_session *s = connect_session(c);
  const char *q = "SELECT * FROM ks.custom";
  cqlmux_statement *st = cqlmux_statement_new(q, 0);
  for (int i = 0; i < 30; i++) cr_assert_eq(run(s, st), CQLMUX_OK);
  cr_assert_eq(count_on(m, 1, CQLMUX_OP_QUERY, q), 30);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ================================================================ retries */

typedef struct retry_case {
  const char *name;
  int32_t code;
  const char *write_type;
  int received, block_for;
  bool data_present;
  bool idempotent;
  size_t attempts;          /* requests the mock must see */
  bool same_node;           /* all on one node (else all distinct) */
  cqlmux_retry_reason reason;
} retry_case;

static const retry_case retry_cases[] = {
    {"read timeout, data missing", 0x1200, NULL, 2, 2, false, false, 2, true,
     CQLMUX_RETRY_REASON_READ_TIMEOUT},
    {"read timeout, data present", 0x1200, NULL, 2, 2, true, true, 1, true, 0},
    {"read timeout, too few replicas", 0x1200, NULL, 1, 2, false, true, 1, true, 0},
    {"unavailable", 0x1000, NULL, 0, 2, false, false, 2, false,
     CQLMUX_RETRY_REASON_UNAVAILABLE},
    {"write timeout SIMPLE", 0x1100, "SIMPLE", 1, 2, false, false, 1, true, 0},
    {"write timeout SIMPLE idempotent", 0x1100, "SIMPLE", 1, 2, false, true, 2, false,
     CQLMUX_RETRY_REASON_WRITE_TIMEOUT},
    {"write timeout BATCH_LOG", 0x1100, "BATCH_LOG", 1, 2, false, false, 2, true,
     CQLMUX_RETRY_REASON_WRITE_TIMEOUT},
    {"write timeout UNLOGGED_BATCH", 0x1100, "UNLOGGED_BATCH", 1, 2, false, false, 1, true, 0},
    {"write timeout COUNTER idempotent", 0x1100, "COUNTER", 1, 2, false, true, 2, false,
     CQLMUX_RETRY_REASON_WRITE_TIMEOUT},
    {"overloaded", 0x1001, NULL, 0, 0, false, false, 1, true, 0},
    {"overloaded idempotent", 0x1001, NULL, 0, 0, false, true, 3, false,
     CQLMUX_RETRY_REASON_OVERLOADED},
    {"is bootstrapping", 0x1002, NULL, 0, 0, false, false, 1, true, 0},
    {"is bootstrapping idempotent", 0x1002, NULL, 0, 0, false, true, 3, false,
     CQLMUX_RETRY_REASON_OVERLOADED},
    {"truncate error idempotent", 0x1003, NULL, 0, 0, false, true, 3, false,
     CQLMUX_RETRY_REASON_OVERLOADED},
    {"syntax error idempotent", 0x2000, NULL, 0, 0, false, true, 1, true, 0},
    {"invalid idempotent", 0x2200, NULL, 0, 0, false, true, 1, true, 0},
    {"read failure idempotent", 0x1300, NULL, 1, 2, false, true, 1, true, 0},
};

/* A retried request's message names every node it tried, in order (the
 * first too, which is logged only once the first retry happens), each but
 * the last with why it was left: " (2 attempts: A [read_timeout], A)". */
static void check_attempts_named(cqlmux_mock *m, const retry_case *rc, const char *msg,
                                 const int *nodes, size_t n) {
  const char *at = strstr(msg, "attempts:");
  cr_assert_not_null(at, "%s: %s", rc->name, msg);
  for (size_t k = 0; k < n; k++) {
    char addr[64];
    uint16_t port;
    cr_assert_eq(cqlmux_mock_node_address(m, nodes[k], addr, sizeof addr, &port), CQLMUX_OK);
    at = strstr(at, addr);
    cr_assert_not_null(at, "%s: attempt %zu (%s) not named in order: %s", rc->name, k, addr, msg);
    at += strlen(addr);
    char why[48];
    snprintf(why, sizeof why, " [%s],", cqlmux_retry_reason_name(rc->reason));
    if (k + 1 < n)
      cr_assert(strstr(at, why) == strchr(at, ' '), "%s: attempt %zu left without %s: %s",
                rc->name, k, why, msg);
  }
}

static void check_retry_case(cqlmux_mock *m, cqlmux_session *s, const retry_case *rc, int i) {
  char q[96];
  snprintf(q, sizeof q, "SELECT * FROM ks.retry_case_%d", i);
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, q);
  p.error_code = rc->code;
  p.write_type = rc->write_type;
  p.received = rc->received;
  p.block_for = rc->block_for;
  p.data_present = rc->data_present;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  cqlmux_metrics before = metrics_of(s);
  cqlmux_statement *st = cqlmux_statement_new(q, 0);
  cqlmux_statement_set_idempotent(st, rc->idempotent);
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_SERVER, "%s", rc->name);
  cqlmux_server_error e;
  cr_assert_eq(cqlmux_future_server_error(f, &e), CQLMUX_OK);
  cr_assert_eq(e.code, rc->code, "%s: the last attempt's error", rc->name);
  char msg[768];
  snprintf(msg, sizeof msg, "%s", cqlmux_future_error_message(f));
  if (rc->attempts > 1) {
    char expect[32];
    snprintf(expect, sizeof expect, "(%zu attempts:", rc->attempts);
    cr_assert(strstr(msg, expect), "%s: the message names the attempts: %s", rc->name, msg);
  }
  cr_assert_eq(cqlmux_future_coordinator(f, NULL, 0), rc->attempts, "%s", rc->name);
  cqlmux_future_free(f);
  cqlmux_statement_free(st);

  int nodes[8];
  size_t n = node_sequence(m, q, nodes, 8);
  cr_assert_eq(n, rc->attempts, "%s: %zu requests, expected %zu", rc->name, n, rc->attempts);
  if (n > 1) check_attempts_named(m, rc, msg, nodes, n);
  for (size_t k = 1; k < n; k++)
    for (size_t j = 0; j < k; j++)
      cr_assert(rc->same_node ? nodes[k] == nodes[j] : nodes[k] != nodes[j],
                "%s: attempt %zu on node %d, attempt %zu on node %d", rc->name, j, nodes[j], k,
                nodes[k]);
  cqlmux_metrics after = metrics_of(s);
  cr_assert_eq(after.retries - before.retries, rc->attempts - 1, "%s", rc->name);
  if (rc->attempts > 1)
    cr_assert_eq(after.retries_by_reason[rc->reason] - before.retries_by_reason[rc->reason],
                 rc->attempts - 1, "%s counted as %s", rc->name,
                 cqlmux_retry_reason_name(rc->reason));
}

Test(routing_mock, the_default_retry_policy_decides_as_documented, .timeout = 120) {
  cqlmux_mock *m = start_mock(1, 3);
  cqlmux_session *s = connect_session(cluster_config(m, 0));
  for (size_t i = 0; i < sizeof retry_cases / sizeof *retry_cases; i++)
    check_retry_case(m, s, &retry_cases[i], (int)i);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A connection that closes after the request was sent: idempotent
 * requests go on to the next host, others fail. */
static void close_on(cqlmux_mock *m, const char *q) {
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_CLOSE);
  f.query = q;
  f.times = 1;
  f.trigger = CQLMUX_MOCK_AFTER_REQUESTS;
  f.after = 0;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
}

Test(routing_mock, a_connection_closed_after_sending_is_retried_only_when_idempotent,
     .timeout = 90) {
  cqlmux_mock *m = start_mock(1, 3);
  cqlmux_session *s = connect_session(cluster_config(m, 0));
  const char *q1 = "SELECT * FROM ks.closed_idempotent";
  close_on(m, q1);
  cqlmux_metrics before = metrics_of(s);
  cqlmux_statement *st = cqlmux_statement_new(q1, 0);
  cqlmux_statement_set_idempotent(st, 1);
  cr_assert_eq(run(s, st), CQLMUX_OK);
  cqlmux_statement_free(st);
  int nodes[8];
  cr_assert_eq(node_sequence(m, q1, nodes, 8), 2);
  cr_assert_neq(nodes[0], nodes[1]);
  cqlmux_metrics after = metrics_of(s);
  cr_assert_eq(after.retries_by_reason[CQLMUX_RETRY_REASON_CONNECTION] -
                   before.retries_by_reason[CQLMUX_RETRY_REASON_CONNECTION],
               1);

  const char *q2 = "SELECT * FROM ks.closed_not_idempotent";
  close_on(m, q2);
  st = cqlmux_statement_new(q2, 0);
  int rc = run(s, st);
  cr_assert(rc <= -300 && rc > -400, "a connection error: %d", rc);
  cr_assert_eq(node_sequence(m, q2, nodes, 8), 1);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A policy that ignores every error. */
static cqlmux_retry_decision ignore_all(const cqlmux_retry_policy *p,
                                        const cqlmux_retry_request *r) {
  (void)p, (void)r;
  return CQLMUX_RETRY_IGNORE;
}

Test(routing_mock, ignore_and_fallthrough_policies, .timeout = 60) {
  cqlmux_mock *m = start_mock(1, 2);
  cqlmux_config *c = cluster_config(m, 0);
  cr_assert_eq(cqlmux_config_set_retry_policy(c, cqlmux_retry_policy_fallthrough()), CQLMUX_OK);
  cqlmux_session *s = connect_session(c);
  const char *q = "SELECT * FROM ks.unavailable";
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, q);
  p.error_code = 0x1000;
  p.block_for = 2;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  cqlmux_statement *st = cqlmux_statement_new(q, 0);
  cr_assert_eq(run(s, st), CQLMUX_ERR_SERVER);
  int nodes[4];
  cr_assert_eq(node_sequence(m, q, nodes, 4), 1, "fallthrough never retries");

  /* A statement's own policy wins over the session's. */
  static const cqlmux_retry_policy ignoring = {ignore_all, NULL, NULL};
  cqlmux_retry_policy logged;
  cr_assert_eq(cqlmux_retry_policy_logging(&logged, &ignoring), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_set_retry_policy(st, &logged), CQLMUX_OK);
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK);
  const cqlmux_result *r = cqlmux_future_result(f);
  cr_assert_not_null(r);
  cr_assert_eq(cqlmux_result_kind_of(r), CQLMUX_RESULT_VOID);
  cqlmux_future_free(f);
  cr_assert_eq(metrics_of(s).ignored_errors, 1);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ================================================================ prepared */

static cqlmux_prepared *prepare(cqlmux_session *s, const char *cql) {
  cqlmux_future *f = cqlmux_session_prepare(s, cql);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cqlmux_prepared *p = cqlmux_future_take_prepared(f);
  cqlmux_future_free(f);
  cr_assert_not_null(p);
  return p;
}

static void prime_select(cqlmux_mock *m, const char *q) {
  static const cqlmux_mock_column cols[] = {{"v", "int"}};
  static const cqlmux_mock_column params[] = {{"k", "int"}};
  static const char *const cells[] = {"7"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, q);
  p.column_count = 1, p.columns = cols, p.row_count = 1, p.cells = cells;
  p.param_count = 1, p.params = params;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
}

/* Closing waits for every request, the session's background PREPAREs too. */
static void close_and_wait(cqlmux_session *s) {
  cqlmux_future *closed = cqlmux_session_close(s);
  cr_assert_eq(cqlmux_future_wait(closed), CQLMUX_OK);
  cqlmux_future_free(closed);
}

static void execute_prepared_ok(cqlmux_session *s, cqlmux_prepared *p) {
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  cqlmux_statement_bind_int32(st, 0, 1);
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  const cqlmux_result *r = cqlmux_future_result(f);
  cr_assert_eq(cqlmux_result_row_count(r), 1);
  cqlmux_future_free(f);
  cqlmux_statement_free(st);
}

/* The opcodes node `node` saw for `q`, in order, as a string: P E ... and
 * 'u' for an EXECUTE answered UNPREPARED (any, on a node with one statement). */
static void opcodes_on(cqlmux_mock *m, int node, const char *q, char *out, size_t cap) {
  size_t n = 0, total = cqlmux_mock_request_count(m, NULL);
  for (size_t i = 0; i < total && n + 1 < cap; i++) {
    cqlmux_mock_request r;
    if (cqlmux_mock_request_at(m, i, &r) != CQLMUX_OK || r.node != node) continue;
    /* A node that forgot an id no longer knows its text. */
    bool forgotten = r.opcode == CQLMUX_OP_EXECUTE && r.error_code == 0x2500;
    if (!forgotten && (!r.query || strcmp(r.query, q))) continue;
    if (r.opcode == CQLMUX_OP_PREPARE) out[n++] = 'P';
    if (r.opcode == CQLMUX_OP_EXECUTE) out[n++] = r.error_code == 0x2500 ? 'u' : 'E';
  }
  out[n] = '\0';
}

/* Not on UP: an EXECUTE after a restart must recover by itself. */
static void not_on_up(cqlmux_config *c) { cqlmux_config_set_prepare_on_hosts(c, 1, 0); }

Test(routing_mock, an_unprepared_answer_is_reprepared_and_executed_again, .timeout = 60) {
  cqlmux_mock *m = start_mock(1, 1);
  const char *q = "SELECT v FROM ks.t WHERE k = ?";
  prime_select(m, q);
  event_log log;
  cqlmux_session *s = session_with_log(m, &log, not_on_up);
  cqlmux_prepared *p = prepare(s, q);
  cqlmux_mock_log_clear(m);
  restart_and_wait(m, &log, 0);
  cqlmux_metrics before = metrics_of(s);
  execute_prepared_ok(s, p);
  char ops[16];
  opcodes_on(m, 0, q, ops, sizeof ops);
  cr_assert_str_eq(ops, "uPE", "EXECUTE (UNPREPARED), PREPARE, EXECUTE: %s", ops);
  cqlmux_metrics after = metrics_of(s);
  cr_assert_eq(after.retries_by_reason[CQLMUX_RETRY_REASON_UNPREPARED] -
                   before.retries_by_reason[CQLMUX_RETRY_REASON_UNPREPARED],
               1);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* Only on UP: what a node gets after a restart comes from that rule. */
static void only_on_up(cqlmux_config *c) { cqlmux_config_set_prepare_on_hosts(c, 0, 1); }

Test(routing_mock, a_host_that_comes_back_gets_the_statements_prepared_again, .timeout = 60) {
  cqlmux_mock *m = start_mock(1, 2);
  const char *q = "SELECT v FROM ks.t WHERE k = ?";
  prime_select(m, q);
  event_log log;
  cqlmux_session *s = session_with_log(m, &log, only_on_up);
  cqlmux_prepared *p = prepare(s, q);
  char a1[64];
  node_address(m, 1, a1, sizeof a1);
  cqlmux_mock_log_clear(m);
  restart_and_wait(m, &log, 1);
  cqlmux_mock_filter prepares = CQLMUX_MOCK_FILTER_ANY;
  prepares.node = 1, prepares.opcode = CQLMUX_OP_PREPARE, prepares.query = q;
  cr_assert_eq(cqlmux_mock_wait_requests(m, &prepares, 1, 30000), CQLMUX_OK,
               "the node that came back got the statement");
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  cqlmux_statement_bind_int32(st, 0, 1);
  cr_assert_eq(cqlmux_statement_set_host(st, a1), CQLMUX_OK);
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  char ops[16];
  opcodes_on(m, 1, q, ops, sizeof ops);
  cr_assert_str_eq(ops, "PE", "prepared on UP, so the EXECUTE needs no recovery: %s", ops);
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* The PREPARE's future completes once every UP host has answered its own
 * PREPARE (the mock records a request before it answers it), so the first
 * EXECUTE finds the statement wherever its plan sends it. */
Test(routing_mock, a_prepare_completes_once_every_up_host_has_it, .timeout = 60) {
  cqlmux_mock *m = start_mock(1, 3);
  const char *q = "SELECT v FROM ks.t WHERE k = ?";
  prime_select(m, q);
  cqlmux_session *s = connect_session(cluster_config(m, 0));
  cqlmux_prepared *p = prepare(s, q);
  for (int node = 0; node < 3; node++)
    cr_assert_eq(count_on(m, node, CQLMUX_OP_PREPARE, q), 1, "node %d prepared it", node);
  for (int node = 0; node < 3; node++) {
    char address[64];
    node_address(m, node, address, sizeof address);
    cqlmux_statement *st = cqlmux_statement_new_prepared(p);
    cr_assert_eq(cqlmux_statement_bind_int32(st, 0, 1), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_set_host(st, address), CQLMUX_OK);
    cqlmux_future *f = cqlmux_session_execute(s, st);
    cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
    cr_assert_eq(cqlmux_future_coordinator(f, NULL, 0), 1, "node %d: no UNPREPARED round", node);
    cqlmux_future_free(f);
    cqlmux_statement_free(st);
  }
  close_and_wait(s);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);

  /* Off: only the node that got the request. */
  cqlmux_mock_log_clear(m);
  cqlmux_config *c = cluster_config(m, 0);
  cqlmux_config_set_prepare_on_hosts(c, 0, 1);
  s = connect_session(c);
  p = prepare(s, q);
  close_and_wait(s);
  cr_assert_eq(count_on(m, CQLMUX_MOCK_ANY, CQLMUX_OP_PREPARE, q), 1);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ================================================================ speculative execution */

typedef struct completions {
  atomic_int calls;
} completions;

static void count_completion(cqlmux_future *f, void *ud) {
  (void)f;
  atomic_fetch_add(&((completions *)ud)->calls, 1);
}

static uint64_t in_flight_of(cqlmux_session *s) { return metrics_of(s).in_flight; }

Test(routing_mock, a_slow_node_is_overtaken_by_a_speculative_execution, .timeout = 120) {
  cqlmux_mock *m = start_mock(1, 2);
  const char *q = "SELECT * FROM ks.speculative";
  cqlmux_mock_fault slow;
  cqlmux_mock_fault_init(&slow, CQLMUX_MOCK_DELAY);
  slow.node = 0;
  slow.query = q;
  slow.delay_ms = 3000;
  cr_assert_eq(cqlmux_mock_fault_add(m, &slow, NULL), CQLMUX_OK);
  cqlmux_config *c = cluster_config(m, 0);
  cr_assert_eq(cqlmux_config_set_speculative_execution(c, 100, 1), CQLMUX_OK);
  cqlmux_session *s = connect_session(c);
  char a1[64];
  node_address(m, 1, a1, sizeof a1);
  enum { N = 8 };
  completions done[N];
  cqlmux_future *f[N];
  cqlmux_statement *st = cqlmux_statement_new(q, 0);
  cqlmux_statement_set_idempotent(st, 1);
  for (int i = 0; i < N; i++) {
    atomic_init(&done[i].calls, 0);
    f[i] = cqlmux_session_execute(s, st);
    cr_assert_eq(cqlmux_future_set_callback(f[i], count_completion, &done[i]), CQLMUX_OK);
  }
  unsigned overtaken = 0;
  for (int i = 0; i < N; i++) {
    cr_assert_eq(cqlmux_future_wait(f[i]), CQLMUX_OK, "%s", cqlmux_future_error_message(f[i]));
    char where[64];
    unsigned attempts = cqlmux_future_coordinator(f[i], where, sizeof where);
    /* Answered by node 1 either first hand or as the extra execution. */
    cr_assert_str_eq(where, a1, "request %d answered by %s", i, where);
    overtaken += attempts == 2;
  }
  cr_assert_gt(overtaken, 0, "the rotation sent some requests to the slow node first");
  cqlmux_metrics mid = metrics_of(s);
  cr_assert_geq(mid.speculative_executions, overtaken);
  /* The slow answers still come; their streams return then, and nothing
   * completes twice. */
  WAIT_UNTIL(in_flight_of(s) == 0, 30);
  cr_assert_eq(in_flight_of(s), 0, "every stream id came back");
  for (int i = 0; i < N; i++) {
    cr_assert_eq(atomic_load(&done[i].calls), 1, "request %d completed once", i);
    cqlmux_future_free(f[i]);
  }
  cr_assert_eq(metrics_of(s).requests, mid.requests, "no late completion counted");

  /* Not idempotent: never speculated. */
  cqlmux_statement_set_idempotent(st, 0);
  for (int i = 0; i < 2; i++) cr_assert_eq(run(s, st), CQLMUX_OK);
  cr_assert_eq(metrics_of(s).speculative_executions, mid.speculative_executions);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ================================================================ token-aware */

/* 2 DCs x 3 nodes. rk3 has 3 replicas per DC (the case: every
 * local node is a replica); rk1 one per DC, where only the owner counts.
 * The mock computes each request's token from the bound key and the
 * replicas from its own ring and Murmur3 (tests/mock), independently of
 * the library's token map. */
static cqlmux_mock *start_replicated_mock(void) {
  cqlmux_mock_keyspace ks[2];
  const char *names[2] = {"rk3", "rk1"};
  for (int i = 0; i < 2; i++) {
    cqlmux_mock_keyspace_init(&ks[i], names[i]);
    ks[i].network_topology = true;
    ks[i].dc_count = 2;
    ks[i].dc_names[0] = "dc1", ks[i].dc_names[1] = "dc2";
    ks[i].dc_factors[0] = ks[i].dc_factors[1] = i == 0 ? 3 : 1;
  }
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.dc_count = 2;
  cfg.nodes_per_dc[0] = cfg.nodes_per_dc[1] = 3;
  cfg.keyspaces = ks;
  cfg.keyspace_count = 2;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  return m;
}

static void prime_routed(cqlmux_mock *m, const char *q, const char *keyspace) {
  static const cqlmux_mock_column cols[] = {{"v", "int"}};
  static const cqlmux_mock_column params[] = {{"k", "int"}};
  static const uint16_t pk[] = {0};
  static const char *const cells[] = {"7"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, q);
  p.keyspace = keyspace, p.table = "t";
  p.column_count = 1, p.columns = cols, p.row_count = 1, p.cells = cells;
  p.param_count = 1, p.params = params;
  p.pk_count = 1, p.pk_indexes = pk;
  p.prepared_everywhere = true;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
}

/* Every EXECUTE of q the mock recorded went to a local replica of its key. */
static void assert_on_local_replicas(cqlmux_mock *m, const char *q, const char *keyspace,
                                     size_t expected) {
  size_t seen = 0, on_replica = 0, total = cqlmux_mock_request_count(m, NULL);
  for (size_t i = 0; i < total; i++) {
    cqlmux_mock_request r;
    if (cqlmux_mock_request_at(m, i, &r) != CQLMUX_OK || r.opcode != CQLMUX_OP_EXECUTE ||
        !r.query || strcmp(r.query, q))
      continue;
    cr_assert(r.has_token, "the mock read the bound key");
    int nodes[8];
    int n = cqlmux_mock_replicas(m, keyspace, r.token, nodes, 8);
    cr_assert_gt(n, 0);
    seen++;
    for (int k = 0; k < n && k < 8; k++) on_replica += nodes[k] == r.node && r.node < 3;
  }
  cr_assert_eq(seen, expected);
  cr_assert_eq(on_replica, seen, "%s: %zu of %zu requests on a local replica", keyspace,
               on_replica, seen);
}

Test(routing_mock, token_aware_requests_land_on_a_local_replica, .timeout = 90) {
  cqlmux_mock *m = start_replicated_mock();
  const char *q3 = "SELECT v FROM rk3.t WHERE k = ?", *q1 = "SELECT v FROM rk1.t WHERE k = ?";
  prime_routed(m, q3, "rk3");
  prime_routed(m, q1, "rk1");
  cqlmux_session *s = connect_session(cluster_config(m, 0));
  cqlmux_prepared *p3 = prepare(s, q3), *p1 = prepare(s, q1);
  enum { KEYS = 300 };
  for (int k = 0; k < KEYS; k++) {
    cqlmux_prepared *p = k % 2 ? p1 : p3;
    cqlmux_statement *st = cqlmux_statement_new_prepared(p);
    cqlmux_statement_bind_int32(st, 0, k);
    cr_assert_eq(run(s, st), CQLMUX_OK);
    cqlmux_statement_free(st);
  }
  assert_on_local_replicas(m, q3, "rk3", KEYS / 2);
  assert_on_local_replicas(m, q1, "rk1", KEYS / 2);

  /* Off: the same keys spread over dc1 by rotation, mostly off the owner. */
  cqlmux_session_free(s);
  cqlmux_mock_log_clear(m);
  cqlmux_config *c = cluster_config(m, 0);
  cr_assert_eq(cqlmux_config_set_token_aware(c, 0, 1), CQLMUX_OK);
  s = connect_session(c);
  cqlmux_prepared_free(p1);
  p1 = prepare(s, q1);
  for (int k = 0; k < 30; k++) {
    cqlmux_statement *st = cqlmux_statement_new_prepared(p1);
    cqlmux_statement_bind_int32(st, 0, k);
    cr_assert_eq(run(s, st), CQLMUX_OK);
    cqlmux_statement_free(st);
  }
  size_t owner = 0, total = cqlmux_mock_request_count(m, NULL);
  for (size_t i = 0; i < total; i++) {
    cqlmux_mock_request r;
    if (cqlmux_mock_request_at(m, i, &r) != CQLMUX_OK || r.opcode != CQLMUX_OP_EXECUTE) continue;
    int nodes[2];
    owner += cqlmux_mock_replicas(m, "rk1", r.token, nodes, 2) > 0 && nodes[0] == r.node;
  }
  cr_assert_lt(owner, 30, "round robin alone does not follow the owner");
  cqlmux_prepared_free(p1);
  cqlmux_prepared_free(p3);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A key set by hand routes a simple statement (no prepared metadata). */
Test(routing_mock, a_routing_key_set_by_hand_routes_a_simple_statement, .timeout = 60) {
  cqlmux_mock *m = start_replicated_mock();
  cqlmux_session *s = connect_session(cluster_config(m, 0));
  unsigned on_owner = 0;
  for (int32_t k = 0; k < 40; k++) {
    uint8_t key[4] = {(uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
    cqlmux_statement *st = cqlmux_statement_new("SELECT v FROM rk1.t WHERE k = 1", 0);
    cr_assert_eq(cqlmux_statement_set_routing_key(st, key, sizeof key), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_set_keyspace(st, "rk1"), CQLMUX_OK);
    cqlmux_future *f = cqlmux_session_execute(s, st);
    cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK);
    char where[64], owner_address[64];
    cqlmux_future_coordinator(f, where, sizeof where);
    int nodes[2];
    cr_assert_eq(cqlmux_mock_replicas(m, "rk1", cqlmux_mock_token(key, sizeof key), nodes, 2), 2);
    node_address(m, nodes[0] < 3 ? nodes[0] : nodes[1], owner_address, sizeof owner_address);
    on_owner += !strcmp(where, owner_address);
    cqlmux_future_free(f);
    cqlmux_statement_free(st);
  }
  cr_assert_eq(on_owner, 40, "every key to its dc1 replica");
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ================================================================ before sending */

/* A policy that tries the hosts in the order of the addresses in user_data
 * (a NULL-terminated array). */
typedef struct ordered_state {
  int next;
} ordered_state;

static void ordered_new_plan(void *ud, const cqlmux_plan_request *r,
                             const cqlmux_host_info *hosts, size_t count, void *state) {
  (void)ud, (void)r, (void)hosts, (void)count;
  ((ordered_state *)state)->next = 0;
}

static long ordered_next(void *ud, const cqlmux_host_info *hosts, size_t count, void *state) {
  const char *const *order = ud;
  ordered_state *st = state;
  for (; order[st->next]; st->next++)
    for (size_t i = 0; i < count; i++)
      if (!strcmp(hosts[i].address, order[st->next])) {
        st->next++;
        return (long)i;
      }
  return -1;
}

/* The connection to node 0 fails while one request is on the wire (sent:
 * not idempotent, so its error goes to the caller) and another waits in the
 * connection's queue above the high watermark (never sent: it goes to the
 * next host of its plan, whatever the statement). The waiting request is
 * made deterministic by holding node 0's answers and allowing one request
 * in flight per connection, one connection per host. */
Test(routing_mock, a_request_never_sent_goes_to_the_next_host_one_sent_is_not_retried,
     .timeout = 60) {
  cqlmux_mock *m = start_mock(1, 2);
  char a0[64], a1[64];
  node_address(m, 0, a0, sizeof a0);
  node_address(m, 1, a1, sizeof a1);
  const char *order[] = {a0, a1, NULL};
  const char *held = "SELECT * FROM ks.held", *waiting = "SELECT * FROM ks.waiting";
  cqlmux_mock_fault hold;
  cqlmux_mock_fault_init(&hold, CQLMUX_MOCK_NO_RESPONSE);
  hold.node = 0;
  hold.query = held;
  cr_assert_eq(cqlmux_mock_fault_add(m, &hold, NULL), CQLMUX_OK);
  cqlmux_config *c = cluster_config(m, 0);
  cqlmux_load_balancing lb = {ordered_new_plan, ordered_next, (void *)order};
  cr_assert_eq(cqlmux_config_set_load_balancing(c, &lb), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_connections_per_host(c, 1, 1), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_max_requests_per_connection(c, 1), CQLMUX_OK);
  cqlmux_session *s = connect_session(c);

  cqlmux_statement *st_held = cqlmux_statement_new(held, 0);
  cqlmux_future *f_held = cqlmux_session_execute(s, st_held);
  cqlmux_mock_filter seen = CQLMUX_MOCK_FILTER_ANY;
  seen.node = 0, seen.query = held;
  cr_assert_eq(cqlmux_mock_wait_requests(m, &seen, 1, 30000), CQLMUX_OK, "held on node 0");
  cqlmux_statement *st_waiting = cqlmux_statement_new(waiting, 0);
  cqlmux_future *f_waiting = cqlmux_session_execute(s, st_waiting);
  WAIT_UNTIL(metrics_of(s).queued == 1, 30);
  cr_assert_eq(metrics_of(s).queued, 1, "the second request waits, unsent");
  cqlmux_metrics before = metrics_of(s);

  cqlmux_mock_fault close;
  cqlmux_mock_fault_init(&close, CQLMUX_MOCK_CLOSE);
  close.node = 0;
  cr_assert_eq(cqlmux_mock_fault_add(m, &close, NULL), CQLMUX_OK);

  int rc = cqlmux_future_wait(f_held);
  cr_assert(rc <= -300 && rc > -400, "sent, not idempotent: the connection error (%d)", rc);
  cr_assert_eq(cqlmux_future_wait(f_waiting), CQLMUX_OK, "%s",
               cqlmux_future_error_message(f_waiting));
  char where[64];
  cr_assert_eq(cqlmux_future_coordinator(f_waiting, where, sizeof where), 2);
  cr_assert_str_eq(where, a1);
  int nodes[4];
  cr_assert_eq(node_sequence(m, waiting, nodes, 4), 1, "node 0 never received it");
  cr_assert_eq(nodes[0], 1);
  cr_assert_eq(node_sequence(m, held, nodes, 4), 1, "the sent one was not sent again");
  cqlmux_metrics after = metrics_of(s);
  cr_assert_eq(after.retries_by_reason[CQLMUX_RETRY_REASON_UNSENT] -
                   before.retries_by_reason[CQLMUX_RETRY_REASON_UNSENT],
               1);
  cqlmux_future_free(f_held);
  cqlmux_future_free(f_waiting);
  cqlmux_statement_free(st_held);
  cqlmux_statement_free(st_waiting);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

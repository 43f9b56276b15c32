/* The metrics API against a REAL Cassandra (tools/cassandra-local; run by
 * tools/test-all in its single-node phase): the counters move as requests
 * succeed and fail, per session and per host, and the Prometheus text
 * carries them. No timing is asserted.
 * Environment: CQLMUX_TEST_HOST, CQLMUX_TEST_PORT. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cqlmux.h"

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static cqlmux_session *connect_real(void) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_not_null(c);
  cr_assert_eq(cqlmux_config_set_contact_points(c, env_or("CQLMUX_TEST_HOST", "127.0.0.1")),
               CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_port(c, atoi(env_or("CQLMUX_TEST_PORT", "9042"))), CQLMUX_OK);
  cqlmux_config_set_log_level(c, CQLMUX_LOG_ERROR);
  cqlmux_session *s = NULL;
  cr_assert_eq(cqlmux_session_new(c, &s), CQLMUX_OK);
  cqlmux_config_free(c);
  cqlmux_future *f = cqlmux_session_connect(s);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "connect: %s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return s;
}

static int run(cqlmux_session *s, const char *cql) {
  cqlmux_future *f = cqlmux_session_query(s, cql);
  cr_assert_not_null(f);
  int rc = cqlmux_future_wait(f);
  cqlmux_future_free(f);
  return rc;
}

Test(metrics_real, counters_move_with_requests, .timeout = 120) {
  cqlmux_session *s = connect_real();
  cqlmux_metrics before, after;
  cr_assert_eq(cqlmux_session_metrics(s, &before), CQLMUX_OK);
  cr_assert_eq(before.connections_open, 1);
  cr_assert_gt(before.bytes_out, 0, "the handshake was counted");
  cr_assert_gt(before.bytes_in, 0);

  for (int i = 0; i < 50; i++)
    cr_assert_eq(run(s, "SELECT release_version FROM system.local"), CQLMUX_OK);
  cqlmux_future *pf = cqlmux_session_prepare(s, "SELECT cluster_name FROM system.local WHERE key = ?");
  cr_assert_eq(cqlmux_future_wait(pf), CQLMUX_OK);
  cqlmux_prepared *p = cqlmux_future_take_prepared(pf);
  cqlmux_future_free(pf);
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  cr_assert_eq(cqlmux_statement_bind_text(st, 0, "local", 5), CQLMUX_OK);
  for (int i = 0; i < 20; i++) {
    cqlmux_future *f = cqlmux_session_execute(s, st);
    cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK);
    const cqlmux_result *r = cqlmux_future_result(f);
    cr_assert_eq(cqlmux_result_row_count(r), 1);
    cr_assert_eq(cqlmux_result_column_type(r, 0), CQLMUX_TYPE_TEXT,
                 "columns known even when the server skips them");
    cqlmux_future_free(f);
  }
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
  /* A server error: an unknown table. */
  cr_assert_eq(run(s, "SELECT * FROM system.no_such_table_here"), CQLMUX_ERR_SERVER);

  /* Gauges are published by the I/O thread just after it completes a
   * request: wait for the last one to land. */
  for (int i = 0; i < 500; i++) {
    cr_assert_eq(cqlmux_session_metrics(s, &after), CQLMUX_OK);
    if (after.in_flight == 0) break;
    usleep(10000);
  }
  cr_assert_eq(after.requests - before.requests, 50 + 1 + 20 + 1);
  cr_assert_eq(after.errors - before.errors, 1);
  cr_assert_eq(after.errors_by_kind[CQLMUX_METRICS_ERR_SERVER_OTHER] -
                   before.errors_by_kind[CQLMUX_METRICS_ERR_SERVER_OTHER], 1);
  cr_assert_gt(after.bytes_out, before.bytes_out + 72 * 9, "every request's header at least");
  cr_assert_gt(after.bytes_in, before.bytes_in + 72 * 9);
  cr_assert_eq(after.in_flight, 0);
  cr_assert_eq(after.queued, 0);
  cr_assert_eq(after.timeouts, 0);
  cr_assert_eq(after.latency.count, after.requests);
  cr_assert_gt(after.latency.p50_us, 0);
  cr_assert_leq(after.latency.p50_us, after.latency.p99_us);
  cr_assert_leq(after.latency.p99_us, after.latency.max_us);

  cr_assert_eq(cqlmux_session_host_count(s), 1);
  cqlmux_metrics host;
  char address[64];
  cr_assert_eq(cqlmux_session_host_metrics(s, 0, &host, address, sizeof address), CQLMUX_OK);
  char want[64];
  snprintf(want, sizeof want, "%s:%s", env_or("CQLMUX_TEST_HOST", "127.0.0.1"),
           env_or("CQLMUX_TEST_PORT", "9042"));
  cr_assert_str_eq(address, want);
  cr_assert_eq(host.requests, after.requests, "one host: all of the session's requests");
  cr_assert_eq(host.connections_open, 1);

  size_t len = 0;
  cqlmux_session_metrics_prometheus(s, NULL, 0, &len);
  char *text = malloc(len + 1);
  cr_assert_eq(cqlmux_session_metrics_prometheus(s, text, len + 1, NULL), CQLMUX_OK);
  char line[128];
  snprintf(line, sizeof line, "\ncqlmux_session_requests_total %llu\n",
           (unsigned long long)after.requests);
  cr_assert_not_null(strstr(text, line), "%s", line);
  snprintf(line, sizeof line, "\ncqlmux_host_connections_open{host=\"%s\"} 1\n", want);
  cr_assert_not_null(strstr(text, line), "%s", line);
  free(text);
  cqlmux_session_free(s);
}

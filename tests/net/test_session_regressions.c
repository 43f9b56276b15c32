/* Regression tests for defects found in review of the connection and
 * session layers; each test names what used to go wrong. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pthread.h>
#include <unistd.h>

#include "api/session.h"
#include "cqlmux.h"
#include "mock/mock.h"
#include "session_fixture.h"

static atomic_int done;
static void cb(cqlmux_future *f, void *ud) {
  (void)ud;
  cqlmux_future_free(f);
  atomic_fetch_add(&done, 1);
}

/* Small requests around one >= 256 KiB request in the same loop batch:
 * the eager flush clears flush_scheduled while flush_task is still queued,
 * so the next small request posts the same task node again. */
Test(regressions, eager_flush_double_posts_flush_task, .timeout = 60) {
  cqlmux_mock *m = session_fixture_mock(true);
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_config_set_request_timeout(c, 3000);
  cqlmux_config_set_max_requests_per_connection(c, 4096);
  cqlmux_config_set_queue_size(c, 100000);
  cqlmux_session *s = session_fixture_connect(c);
  static char blob[300 * 1024];
  memset(blob, 'x', sizeof blob);
  cqlmux_statement *big = cqlmux_statement_new("INSERT INTO t (k, v) VALUES (1, ?)", 1);
  cqlmux_statement_bind_blob(big, 0, blob, sizeof blob);
  int submitted = 0;
  for (int round = 0; round < 40; round++) {
    for (int i = 0; i < 30; i++) {
      cqlmux_future *q = cqlmux_session_query(s, "SELECT x FROM t");
      cqlmux_future_set_callback(q, cb, NULL);
      submitted++;
    }
    cqlmux_future *q = cqlmux_session_execute(s, big);
    cqlmux_future_set_callback(q, cb, NULL);
    submitted++;
    for (int i = 0; i < 30; i++) {
      cqlmux_future *q2 = cqlmux_session_query(s, "SELECT x FROM t");
      cqlmux_future_set_callback(q2, cb, NULL);
      submitted++;
    }
  }
  for (int i = 0; i < 1500 && atomic_load(&done) < submitted; i++) usleep(10000);
  cr_assert_eq(atomic_load(&done), submitted, "%d of %d futures completed (timeout is 3 s)",
               atomic_load(&done), submitted);
  cqlmux_statement_free(big);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A contact point that accepts TCP but never answers, listed first: the
 * control connection's attempt there times out and it moves on to the
 * good one; the session connects and stays usable. (Once, the silent
 * node's late report closed a session that was already CONNECTED.) */
Test(regressions, last_failed_slot_closes_a_connected_session, .timeout = 30) {
  cqlmux_mock *m = session_fixture_mock(false);
  char addr[64];
  uint16_t port;
  cr_assert_eq(cqlmux_mock_node_address(m, 0, addr, sizeof addr, &port), CQLMUX_OK);
  cqlmux_config *c = session_fixture_config(m, NULL);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert_eq(bind(ls, (struct sockaddr *)&sin, sizeof sin), 0);
  cr_assert_eq(listen(ls, 16), 0);
  socklen_t sl = sizeof sin;
  getsockname(ls, (struct sockaddr *)&sin, &sl);
  char points[200];
  snprintf(points, sizeof points, "127.0.0.1:%u, %s:%u", ntohs(sin.sin_port), addr, port);
  cqlmux_config_set_contact_points(c, points);
  cqlmux_config_set_connect_timeout(c, 1000);
  cqlmux_session *s = session_fixture_connect(c);
  cqlmux_future *q = cqlmux_session_query(s, "SELECT x FROM t");
  cr_assert_eq(cqlmux_future_wait(q), CQLMUX_OK, "before: %s", cqlmux_future_error_message(q));
  cqlmux_future_free(q);
  q = cqlmux_session_query(s, "SELECT x FROM t");
  int rc = cqlmux_future_wait(q);
  cr_assert_eq(rc, CQLMUX_OK, "after the dead node reported: %d %s", rc,
               cqlmux_future_error_message(q));
  cqlmux_future_free(q);
  cqlmux_session_free(s);
  close(ls);
  cqlmux_mock_free(m);
}

/* A rows result borrows the connection's receive buffer, whose allocator
 * pointer points into the session's config copy. */
Test(regressions, future_with_rows_freed_after_session_free, .timeout = 30) {
  cqlmux_mock *m = session_fixture_mock(false);
  session_fixture_prime_cell(m, "SELECT v FROM t", "int", "7");
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_session *s = session_fixture_connect(c);
  cqlmux_future *q = cqlmux_session_query(s, "SELECT v FROM t");
  cr_assert_eq(cqlmux_future_wait(q), CQLMUX_OK, "%s", cqlmux_future_error_message(q));
  int32_t v;
  cr_assert_eq(cqlmux_result_get_int32(cqlmux_future_result(q), 0, 0, &v), CQLMUX_OK);
  cqlmux_session_free(s);
  cqlmux_future_free(q); /* the documented "futures outlive the session" case */
  cqlmux_mock_free(m);
}

static void prime_int(cqlmux_mock *m, const char *cql, const char *value) {
  static const cqlmux_mock_column col = {"v", "int"};
  const char *cells[1] = {value};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, cql);
  p.column_count = 1;
  p.columns = &col;
  p.row_count = 1;
  p.cells = cells;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
}

/* release_socket rewinds the receive buffer even while held results borrow
 * it: after a reconnect new bytes overwrite a future the app still holds. */
Test(regressions, reconnect_overwrites_borrowed_receive_buffer, .timeout = 30) {
  cqlmux_mock *m = session_fixture_mock(false);
  prime_int(m, "SELECT a", "7");
  prime_int(m, "SELECT b", "8");
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_WRONG_STREAM);
  f.opcode = CQLMUX_OP_QUERY;
  f.query = "SELECT bad";
  f.arg = 31000;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_session *s = session_fixture_connect(c);
  cqlmux_future *a = cqlmux_session_query(s, "SELECT a");
  cr_assert_eq(cqlmux_future_wait(a), CQLMUX_OK);
  int32_t v = 0;
  cr_assert_eq(cqlmux_result_get_int32(cqlmux_future_result(a), 0, 0, &v), CQLMUX_OK);
  cr_assert_eq(v, 7);
  cqlmux_future *bad = cqlmux_session_query(s, "SELECT bad");
  cqlmux_future_wait(bad);
  cqlmux_future_free(bad);
  cr_assert_eq(cqlmux_mock_wait_connections(m, 0, 2, false, 5000), CQLMUX_OK);
  cqlmux_future *b = NULL;
  for (int i = 0; i < 100; i++) {
    b = cqlmux_session_query(s, "SELECT b");
    if (cqlmux_future_wait(b) == CQLMUX_OK) break;
    cqlmux_future_free(b);
    b = NULL;
    usleep(20000);
  }
  cr_assert_not_null(b);
  cr_assert_eq(cqlmux_result_get_int32(cqlmux_future_result(a), 0, 0, &v), CQLMUX_OK);
  cr_assert_eq(v, 7, "the held result now reads %d", v);
  cqlmux_future_free(b);
  cqlmux_future_free(a);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* The split counters (admitted / settled, budget charged / released) are
 * read one after the other: between an admitting thread's add and its read
 * of `settled`, other threads may admit, send, answer and settle requests,
 * so the read sees more settled than the add saw admitted. The difference
 * wrapped to a huge load and an idle connection refused the request with
 * BUSY. The interleaving is a few instructions wide; these tests put the
 * counters in the state it leaves behind and keep them there. */
static void query_n_expect_ok(cqlmux_session *s, int n) {
  for (int i = 0; i < n; i++) {
    cqlmux_future *q = cqlmux_session_query(s, "SELECT x FROM t");
    int rc = cqlmux_future_wait(q);
    cr_assert_eq(rc, CQLMUX_OK, "request %d: %d %s", i, rc, cqlmux_future_error_message(q));
    cqlmux_future_free(q);
  }
}

static cqlmux_session *connected_session(cqlmux_mock *m, size_t memory_budget) {
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_config_set_max_requests_per_connection(c, 64);
  if (memory_budget) cqlmux_config_set_memory_budget(c, memory_budget);
  return session_fixture_connect(c);
}

Test(regressions, a_settle_seen_before_its_admit_is_not_a_full_connection, .timeout = 30) {
  cqlmux_mock *m = session_fixture_mock(true);
  cqlmux_session *s = connected_session(m, 0);
  cqlmux_conn_stats *st = (cqlmux_conn_stats *)cqlmux_connection_stats(session_fixture_only_connection(s));
  query_n_expect_ok(s, 3);
  atomic_fetch_add(&st->settled, 1); /* one settle ahead of every admit's read */
  query_n_expect_ok(s, 20);
  cr_assert_eq(atomic_load(&st->busy_rejections), 0, "no request was refused");
  atomic_fetch_sub(&st->settled, 1);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(regressions, budget_released_seen_before_its_charge_is_not_an_exhausted_budget,
     .timeout = 30) {
  cqlmux_mock *m = session_fixture_mock(true);
  cqlmux_session *s = connected_session(m, 1 << 20);
  query_n_expect_ok(s, 3);
  /* Bytes released (and copied to the submitters' line) that the next
   * charge's add did not include. */
  atomic_fetch_add(&s->budget.released, 4096);
  atomic_fetch_add(&s->budget.released_seen, 4096);
  query_n_expect_ok(s, 20);
  atomic_fetch_sub(&s->budget.released, 4096);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* Sessions under sustained load against the mock server's null mode: the
 * patterns of tools/cqlmux-bench, asserting that no request is ever lost
 * (every future completes, exactly once) and that the metrics account for
 * every one of them. No timing is asserted. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cqlmux.h"
#include "mock/mock.h"
#include "session_fixture.h"

static cqlmux_mock *start_null_mock(void) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.null_mode = true;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  return m;
}

static _Atomic long allocations;

static void *counted_malloc(size_t size, void *user_data) {
  (void)user_data;
  atomic_fetch_add(&allocations, 1);
  return malloc(size);
}

static void *counted_realloc(void *p, size_t size, void *user_data) {
  (void)user_data;
  atomic_fetch_add(&allocations, 1);
  return realloc(p, size);
}

static void counted_free(void *p, void *user_data) {
  (void)user_data;
  free(p);
}

static const cqlmux_allocator counting = {counted_malloc, counted_realloc, counted_free, NULL};

static cqlmux_session *connect_to(cqlmux_mock *m, unsigned max_requests) {
  cqlmux_config *c = session_fixture_config(m, &counting);
  cr_assert_eq(cqlmux_config_set_max_requests_per_connection(c, max_requests), CQLMUX_OK);
  return session_fixture_connect(c);
}

typedef struct load {
  cqlmux_session *session;
  cqlmux_prepared *prepared;
  atomic_int issued;
  atomic_int completed;
  atomic_int ok;
  int total;
} load;

static void issue_next(load *l);

/* Callback worker: count, then keep the slot busy (as the benchmark does). */
static void on_done(cqlmux_future *f, void *user_data) {
  load *l = user_data;
  if (cqlmux_future_error(f) == CQLMUX_OK) atomic_fetch_add(&l->ok, 1);
  cqlmux_future_free(f);
  atomic_fetch_add(&l->completed, 1);
  issue_next(l);
}

/* A request completed by the time its callback is set runs the callback
 * inline, inside issue_next: that callback asks for the next request, and
 * issue_next loops instead of nesting (nesting would keep every finished
 * request of the chain alive until the chain unwinds). */
static _Thread_local bool tl_issuing;
static _Thread_local int tl_again;

static void issue_next(load *l) {
  if (tl_issuing) {
    tl_again++;
    return;
  }
  tl_issuing = true;
  tl_again = 1;
  while (tl_again > 0) {
    tl_again--;
    if (atomic_fetch_add(&l->issued, 1) >= l->total) continue;
    /* One statement per call: statements are single-threaded objects. */
    cqlmux_statement *st = cqlmux_statement_new_prepared(l->prepared);
    cr_assert_not_null(st);
    cr_assert_eq(cqlmux_statement_bind_text(st, 0, "key0", 4), CQLMUX_OK);
    cqlmux_future *f = cqlmux_session_execute(l->session, st);
    cqlmux_statement_free(st);
    cr_assert_not_null(f);
    cr_assert_eq(cqlmux_future_set_callback(f, on_done, l), CQLMUX_OK);
  }
  tl_issuing = false;
}

static void wait_completed(atomic_int *counter, int target, unsigned seconds) {
  for (unsigned i = 0; i < seconds * 100 && atomic_load(counter) < target; i++) usleep(10000);
  cr_assert_eq(atomic_load(counter), target, "completed %d of %d", atomic_load(counter), target);
}

/* 4,096 requests kept in flight on one connection, re-issued from the
 * callbacks: the write buffer repeatedly passes the eager-flush size while a
 * flush task is queued. */
Test(session_load, constant_concurrency_loses_no_request, .timeout = 120) {
  cqlmux_mock *m = start_null_mock();
  cqlmux_session *s = connect_to(m, 8192);
  cqlmux_future *pf = cqlmux_session_prepare(s, "SELECT * FROM ks.t WHERE k = ?");
  cr_assert_eq(cqlmux_future_wait(pf), CQLMUX_OK);
  load l = {.session = s, .prepared = cqlmux_future_take_prepared(pf), .total = 100000};
  cqlmux_future_free(pf);
  cr_assert_not_null(l.prepared);
  for (int i = 0; i < 4096; i++) issue_next(&l);
  wait_completed(&l.completed, l.total, 60);
  cr_assert_eq(atomic_load(&l.ok), l.total);

  cqlmux_metrics mt;
  cr_assert_eq(cqlmux_session_metrics(s, &mt), CQLMUX_OK);
  cr_assert_eq(mt.requests, (uint64_t)l.total + 1, "the executions and the PREPARE");
  cr_assert_eq(mt.errors, 0);
  cr_assert_eq(mt.in_flight, 0);
  cr_assert_eq(mt.queued, 0);
  cr_assert_eq(mt.connections_open, 1);
  cr_assert_gt(mt.bytes_out, (uint64_t)l.total * 20);
  cr_assert_gt(mt.bytes_in, (uint64_t)l.total * 50);
  cr_assert_eq(mt.latency.count, mt.requests);
  cr_assert_leq(mt.latency.p50_us, mt.latency.p99_us);
  cr_assert_leq(mt.latency.p99_us, mt.latency.max_us);
  cqlmux_session_free(s);
  cqlmux_prepared_free(l.prepared);
  cqlmux_mock_free(m);
}

/* After a warm-up, requests on one connection allocate nothing: futures live
 * in pooled calls, small results are copied into the call, buffers are
 * reused. Counted through the allocator hook (statements use libc's and are
 * not counted). */
Test(session_load, steady_state_allocates_nothing_per_request, .timeout = 120) {
  cqlmux_mock *m = start_null_mock();
  cqlmux_session *s = connect_to(m, 1024);
  cqlmux_future *pf = cqlmux_session_prepare(s, "SELECT * FROM ks.t WHERE k = ?");
  cr_assert_eq(cqlmux_future_wait(pf), CQLMUX_OK);
  load l = {.session = s, .prepared = cqlmux_future_take_prepared(pf), .total = 20000};
  cqlmux_future_free(pf);
  for (int i = 0; i < 256; i++) issue_next(&l);
  wait_completed(&l.completed, l.total, 60);
  long before = atomic_load(&allocations);
  atomic_store(&l.issued, 0);
  atomic_store(&l.completed, 0);
  for (int i = 0; i < 256; i++) issue_next(&l);
  wait_completed(&l.completed, l.total, 60);
  long during = atomic_load(&allocations) - before;
  cr_assert_eq(atomic_load(&l.ok), 2 * l.total);
  cr_assert_lt(during, 10, "%ld allocations for %d requests", during, l.total);
  cqlmux_session_free(s);
  cqlmux_prepared_free(l.prepared);
  cqlmux_mock_free(m);
}

static void count_done(cqlmux_future *f, void *user_data) {
  load *l = user_data;
  if (cqlmux_future_error(f) == CQLMUX_OK) atomic_fetch_add(&l->ok, 1);
  cqlmux_future_free(f);
  atomic_fetch_add(&l->completed, 1);
}

/* One thread submits 8,000 requests of ~300 bytes at once: 2.4 MB reach the
 * loop in one go, far past the eager-flush size. */
Test(session_load, one_large_burst_loses_no_request, .timeout = 120) {
  cqlmux_mock *m = start_null_mock();
  cqlmux_session *s = connect_to(m, 16384);
  char cql[320];
  memset(cql, 0, sizeof cql);
  int n = snprintf(cql, sizeof cql, "SELECT * FROM ks.t WHERE k = '");
  memset(cql + n, 'x', 280);
  strcat(cql, "'");
  load l = {.session = s, .total = 8000};
  for (int i = 0; i < l.total; i++) {
    cqlmux_future *f = cqlmux_session_query(s, cql);
    cr_assert_not_null(f);
    cr_assert_eq(cqlmux_future_set_callback(f, count_done, &l), CQLMUX_OK);
  }
  wait_completed(&l.completed, l.total, 60);
  cr_assert_eq(atomic_load(&l.ok), l.total);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

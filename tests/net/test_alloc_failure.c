/* Allocation failure across a whole session (issue 16 item 6): a
 * connect-query-prepare-page-close cycle against the in-process mock, run
 * once to count the allocations it makes through the allocator hook, then
 * once for every N from 1 to that count with allocation N (and only that
 * one) failing. Allocations made on the session's own threads (I/O,
 * callback workers, resolver) count as much as the application thread's.
 *
 * Each run must end with success or a clean error: every future completes
 * within a bound, with CQLMUX_OK or a documented error code; results that
 * do arrive are right; and once everything is freed no block allocated
 * through the hook is still live (LSan checks the rest in the ASan build).
 * No timing is asserted: the bounds only turn a hang into a failure. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <execinfo.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cqlmux.h"
#include "mock/mock.h"
#include "session_fixture.h"

/* ---- the failing allocator ---- */

/* Counts allocation attempts (malloc, and realloc, which can fail as well)
 * and live blocks; attempt number fail_at (1-based, 0 = none) returns NULL.
 * Called concurrently from every thread of the session. */
typedef struct failing_alloc {
  cqlmux_allocator hook;
  _Atomic long attempts;
  _Atomic long live;
  _Atomic long fail_at;
  _Atomic int injected;
} failing_alloc;

/* Whether this attempt is the one to fail. Relaxed: the counter only has
 * to hand each attempt a distinct number; nothing is published through it. */
static bool should_fail(failing_alloc *a) {
  long n = atomic_fetch_add_explicit(&a->attempts, 1, memory_order_relaxed) + 1;
  if (n != atomic_load_explicit(&a->fail_at, memory_order_relaxed)) return false;
  atomic_store(&a->injected, 1);
  if (getenv("ALLOC_FAILURE_TRACE")) {
    void *frames[32];
    backtrace_symbols_fd(frames, backtrace(frames, 32), STDERR_FILENO);
  }
  return true;
}

static void *failing_malloc(size_t size, void *user_data) {
  failing_alloc *a = user_data;
  if (should_fail(a)) return NULL;
  void *p = malloc(size);
  if (p) atomic_fetch_add(&a->live, 1);
  return p;
}

static void *failing_realloc(void *ptr, size_t size, void *user_data) {
  failing_alloc *a = user_data;
  if (should_fail(a)) return NULL;
  void *p = realloc(ptr, size);
  if (p && !ptr) atomic_fetch_add(&a->live, 1);
  return p;
}

static void failing_free(void *ptr, void *user_data) {
  failing_alloc *a = user_data;
  if (ptr) atomic_fetch_sub(&a->live, 1);
  free(ptr);
}

static void failing_alloc_reset(failing_alloc *a, long fail_at) {
  a->hook = (cqlmux_allocator){failing_malloc, failing_realloc, failing_free, a};
  atomic_store(&a->attempts, 0);
  atomic_store(&a->live, 0);
  atomic_store(&a->fail_at, fail_at);
  atomic_store(&a->injected, 0);
}

/* ---- the cycle ---- */

#define PAGED_QUERY "SELECT v FROM paged WHERE k = ?"
#define ROW_QUERY "SELECT v FROM one WHERE k = 1"
#define PAGED_ROWS 5
#define PAGE_SIZE 2

/* Steps of the cycle, in order; a run stops at the first that fails. */
typedef enum step {
  STEP_CONFIG,
  STEP_SESSION_NEW,
  STEP_CONNECT,
  STEP_QUERY,
  STEP_PREPARE,
  STEP_PAGES,
  STEP_CLOSE,
  STEP_NONE, /* every step succeeded */
  STEP_COUNT
} step;

static const char *const step_names[STEP_COUNT] = {
    "config", "session_new", "connect", "query", "prepare", "pages", "close", "none"};

typedef struct outcome {
  step failed_step;
  int error;
} outcome;

/* The message of the first future that failed, for the failure report. */
static char last_message[256]; /* reset per run */

/* Every code a run may end with: what running out of memory can turn into
 * on each path. Anything else (a server error, a protocol error from the
 * mock, which answers correctly) would be a bug. */
static bool is_clean_error(int code) {
  switch (code) {
  case CQLMUX_ERR_NOMEM:
  case CQLMUX_ERR_CONNECTION_CLOSED:
  case CQLMUX_ERR_CONNECT_FAILED:
  case CQLMUX_ERR_NO_HOSTS:
  case CQLMUX_ERR_BUSY:
  case CQLMUX_ERR_SHUTDOWN:
  case CQLMUX_ERR_TIMEOUT:
  case CQLMUX_ERR_CONNECT_TIMEOUT:
    return true;
  default:
    return false;
  }
}

/* The N of the run in progress, for the hang report. */
static volatile sig_atomic_t current_n;

static void on_hang(int sig) {
  (void)sig;
  char msg[96];
  int len = snprintf(msg, sizeof msg, "allocation-failure run N=%ld hung\n", (long)current_n);
  if (write(STDERR_FILENO, msg, (size_t)len) < 0) _exit(3);
  abort();
}

/* A bound far above what any step needs, so a hang fails the run
 * instead of stalling the suite: seconds per run (the alarm) and per wait. */
#define RUN_BOUND_S 60
#define WAIT_BOUND_US (30u * 1000000u)

/* Waits for f and frees it; the code it completed with. A future that does
 * not complete within the bound fails the test. */
static int finish(cqlmux_future *f, long n) {
  if (!f) return CQLMUX_ERR_NOMEM;
  int rc = cqlmux_future_wait_timed(f, WAIT_BOUND_US);
  cr_assert_neq(rc, CQLMUX_ERR_NOT_READY, "N=%ld: a future never completed", n);
  cr_assert_eq(rc, cqlmux_future_error(f), "N=%ld", n);
  if (rc != CQLMUX_OK && !last_message[0])
    snprintf(last_message, sizeof last_message, "%s", cqlmux_future_error_message(f));
  return rc;
}

static void check_one_row(const cqlmux_result *r, long n) {
  cr_assert_eq(cqlmux_result_row_count(r), 1, "N=%ld", n);
  int32_t v = 0;
  cr_assert_eq(cqlmux_result_get_int32(r, 0, 0, &v), CQLMUX_OK, "N=%ld", n);
  cr_assert_eq(v, 42, "N=%ld", n);
}

/* Reads every page of the prepared query; each row's value must be its
 * index over the whole result, so a lost or repeated page shows. */
static int read_pages(cqlmux_session *s, const cqlmux_prepared *p, long n) {
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  if (!st) return CQLMUX_ERR_NOMEM;
  cqlmux_statement_bind_int32(st, 0, 7);
  cqlmux_statement_set_page_size(st, PAGE_SIZE);
  int rc = CQLMUX_OK, seen = 0;
  cqlmux_future *f = cqlmux_session_execute(s, st);
  while (f) {
    rc = finish(f, n);
    if (rc != CQLMUX_OK) break;
    const cqlmux_result *r = cqlmux_future_result(f);
    for (size_t row = 0; row < cqlmux_result_row_count(r); row++, seen++) {
      int32_t v = -1;
      cr_assert_eq(cqlmux_result_get_int32(r, row, 0, &v), CQLMUX_OK, "N=%ld", n);
      cr_assert_eq(v, seen, "N=%ld: row %d", n, seen);
    }
    if (!cqlmux_result_has_more_pages(r)) break;
    cqlmux_future *next = cqlmux_session_execute_next_page(s, st, r);
    if (!next) rc = CQLMUX_ERR_NOMEM;
    cqlmux_future_free(f);
    f = next;
  }
  if (f) cqlmux_future_free(f);
  else if (rc == CQLMUX_OK) rc = CQLMUX_ERR_NOMEM; /* the first execute */
  cqlmux_statement_free(st);
  if (rc == CQLMUX_OK) cr_assert_eq(seen, PAGED_ROWS, "N=%ld", n);
  return rc;
}

/* Query, prepare and page through a connected session; the first failure. */
static outcome use_session(cqlmux_session *s, long n) {
  cqlmux_future *f = cqlmux_session_query(s, ROW_QUERY);
  int rc = finish(f, n);
  if (rc == CQLMUX_OK) check_one_row(cqlmux_future_result(f), n);
  cqlmux_future_free(f);
  if (rc != CQLMUX_OK) return (outcome){STEP_QUERY, rc};

  f = cqlmux_session_prepare(s, PAGED_QUERY);
  rc = finish(f, n);
  cqlmux_prepared *p = rc == CQLMUX_OK ? cqlmux_future_take_prepared(f) : NULL;
  cqlmux_future_free(f);
  if (rc != CQLMUX_OK) return (outcome){STEP_PREPARE, rc};
  cr_assert_not_null(p, "N=%ld: a prepare that succeeded hands over its statement", n);
  cr_assert_eq(cqlmux_prepared_parameter_count(p), 1, "N=%ld", n);

  rc = read_pages(s, p, n);
  cqlmux_prepared_free(p);
  if (rc != CQLMUX_OK) return (outcome){STEP_PAGES, rc};
  return (outcome){STEP_NONE, CQLMUX_OK};
}

/* A config through the failing allocator; NULL and *rc set when a call of
 * its own runs out of memory. */
static cqlmux_config *make_config(cqlmux_mock *m, failing_alloc *a, int *rc) {
  char addr[64];
  uint16_t port;
  cr_assert_eq(cqlmux_mock_node_address(m, 0, addr, sizeof addr, &port), CQLMUX_OK);
  cqlmux_config *c = cqlmux_config_new_with_allocator(&a->hook);
  *rc = c ? cqlmux_config_set_contact_points(c, addr) : CQLMUX_ERR_NOMEM;
  if (*rc == CQLMUX_OK) *rc = cqlmux_config_set_port(c, port);
  if (*rc == CQLMUX_OK) *rc = cqlmux_config_set_log_level(c, CQLMUX_LOG_NONE);
  if (*rc == CQLMUX_OK) *rc = cqlmux_config_set_connections_per_host(c, 1, 1);
  if (*rc == CQLMUX_OK) return c;
  cqlmux_config_free(c);
  return NULL;
}

/* One whole cycle with allocation `n` failing (0: none). */
static outcome run_cycle(cqlmux_mock *m, failing_alloc *a, long n) {
  failing_alloc_reset(a, n);
  current_n = n;
  alarm(RUN_BOUND_S);
  int rc;
  outcome o = {STEP_NONE, CQLMUX_OK};
  last_message[0] = '\0';
  cqlmux_session *s = NULL;
  cqlmux_config *c = make_config(m, a, &rc);
  if (!c) o = (outcome){STEP_CONFIG, rc};
  else if ((rc = cqlmux_session_new(c, &s)) != CQLMUX_OK) o = (outcome){STEP_SESSION_NEW, rc};
  cqlmux_config_free(c);
  if (s) {
    cqlmux_future *f = cqlmux_session_connect(s);
    rc = finish(f, n);
    cqlmux_future_free(f);
    o = rc == CQLMUX_OK ? use_session(s, n) : (outcome){STEP_CONNECT, rc};
    f = cqlmux_session_close(s);
    rc = finish(f, n);
    cqlmux_future_free(f);
    if (o.failed_step == STEP_NONE && rc != CQLMUX_OK) o = (outcome){STEP_CLOSE, rc};
    cqlmux_session_free(s);
  }
  alarm(0);
  cr_assert_eq(atomic_load(&a->live), 0, "N=%ld: %ld blocks leaked (failed at %s)", n,
               atomic_load(&a->live), step_names[o.failed_step]);
  if (o.failed_step != STEP_NONE)
    cr_assert(is_clean_error(o.error), "N=%ld: %s ended with %d (%s): %s", n,
              step_names[o.failed_step], o.error, cqlmux_strerror(o.error), last_message);
  return o;
}

static cqlmux_mock *primed_mock(void) {
  cqlmux_mock *m = session_fixture_mock(false);
  session_fixture_prime_cell(m, ROW_QUERY, "int", "42");
  static const cqlmux_mock_column col = {"v", "int"};
  static const cqlmux_mock_column param = {"k", "int"};
  static const char *const cells[PAGED_ROWS] = {"0", "1", "2", "3", "4"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, PAGED_QUERY);
  p.column_count = 1;
  p.columns = &col;
  p.row_count = PAGED_ROWS;
  p.cells = cells;
  p.param_count = 1;
  p.params = &param;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  return m;
}

/* The sweep. The count can differ by a few between runs (the order in
 * which the session's threads interleave is not fixed), so it is taken as
 * the largest of three clean runs, and runs whose N lies beyond their own
 * count simply fail nothing. */
Test(alloc_failure, every_allocation_of_a_cycle_fails_cleanly, .timeout = 1200) {
  signal(SIGALRM, on_hang);
  cqlmux_mock *m = primed_mock();
  failing_alloc a;
  long total = 0, least = -1;
  for (int i = 0; i < 3; i++) {
    outcome o = run_cycle(m, &a, 0);
    cr_assert_eq(o.failed_step, STEP_NONE, "the clean run failed at %s: %s",
                 step_names[o.failed_step], cqlmux_strerror(o.error));
    long count = atomic_load(&a.attempts);
    if (count > total) total = count;
    if (least < 0 || count < least) least = count;
  }
  cr_assert_gt(total, 0);

  long by_step[STEP_COUNT] = {0}, injected = 0, first = 1;
  /* ALLOC_FAILURE_ONLY=N runs that one N (ALLOC_FAILURE_TRACE=1 prints
   * where the failed allocation was made): to study one failure. */
  const char *only = getenv("ALLOC_FAILURE_ONLY");
  if (only) first = total = atol(only);
  for (long n = first; n <= total; n++) {
    outcome o = run_cycle(m, &a, n);
    by_step[o.failed_step]++;
    injected += atomic_load(&a.injected);
  }
  if (!only) cr_assert_geq(injected, least, "every N up to the smallest count failed an allocation");
  fprintf(stderr, "alloc_failure: %ld allocations per cycle (least %ld), %ld failures injected;"
                  " runs ending at config %ld, session_new %ld, connect %ld, query %ld,"
                  " prepare %ld, pages %ld, close %ld, success %ld\n",
          total, least, injected, by_step[STEP_CONFIG], by_step[STEP_SESSION_NEW],
          by_step[STEP_CONNECT], by_step[STEP_QUERY], by_step[STEP_PREPARE], by_step[STEP_PAGES],
          by_step[STEP_CLOSE], by_step[STEP_NONE]);
  cqlmux_mock_free(m);
}

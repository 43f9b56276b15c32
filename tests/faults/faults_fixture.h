/* Shared by the fault suites (tests/faults/): outcome tallies by error code,
 * exact-count assertions over them, and a monotonic clock for the recovery
 * figures the suites print (never assert). */
#ifndef CQLMUX_TESTS_FAULTS_FIXTURE_H
#define CQLMUX_TESTS_FAULTS_FIXTURE_H

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "cqlmux.h"

/* Error codes run from 0 (OK) down to CQLMUX_ERR_SERVER (-400). */
#define FAULTS_CODES 401

/* Every completion of a group of requests, by outcome. Callbacks run on a
 * callback worker: the counters are atomics (seq_cst, the default: a test
 * reads `completed` and then the bins, so the bins must not lag it). */
typedef struct faults_tally {
  atomic_int completed;
  atomic_int by_code[FAULTS_CODES];
  atomic_int out_of_range; /* a code outside 0..-400: never expected */
} faults_tally;

static inline void faults_tally_record(faults_tally *t, int rc) {
  if (rc <= 0 && rc > -FAULTS_CODES)
    atomic_fetch_add(&t->by_code[-rc], 1);
  else
    atomic_fetch_add(&t->out_of_range, 1);
  atomic_fetch_add(&t->completed, 1); /* last: a reader that sees it sees the bin */
}

/* The callback of a tallied request: records and frees the future. Runs
 * on a callback worker (or the I/O thread with 0 workers). */
static inline void faults_tally_callback(cqlmux_future *f, void *user_data) {
  faults_tally_record(user_data, cqlmux_future_error(f));
  cqlmux_future_free(f);
}

static inline int faults_count(faults_tally *t, int code) {
  return atomic_load(&t->by_code[-code]);
}

/* Submits `cql` with its completion tallied in t. */
static inline void faults_submit(cqlmux_session *s, const char *cql, faults_tally *t) {
  cqlmux_future *f = cqlmux_session_query(s, cql);
  cr_assert_not_null(f);
  cr_assert_eq(cqlmux_future_set_callback(f, faults_tally_callback, t), CQLMUX_OK);
}

/* Waits (bounded, polling) until t->completed reaches `target`, then
 * asserts it is exactly that: a bound on a hang, not a timing. */
static inline void faults_wait_completed(faults_tally *t, int target, unsigned seconds) {
  for (unsigned i = 0; i < seconds * 100 && atomic_load(&t->completed) < target; i++)
    usleep(10000);
  cr_assert_eq(atomic_load(&t->completed), target, "completed %d of %d",
               atomic_load(&t->completed), target);
}

/* One expected bin: `count` completions with `code`. */
typedef struct faults_expect {
  int code;
  int count;
} faults_expect;

/* Asserts the tally holds exactly the expected bins and nothing else:
 * submitted == completed, by outcome. */
static inline void faults_assert_exactly(faults_tally *t, const faults_expect *e, size_t n) {
  int expected_total = 0;
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(faults_count(t, e[i].code), e[i].count, "%d completions with %s, expected %d",
                 faults_count(t, e[i].code), cqlmux_strerror(e[i].code), e[i].count);
    expected_total += e[i].count;
  }
  cr_assert_eq(atomic_load(&t->out_of_range), 0);
  cr_assert_eq(atomic_load(&t->completed), expected_total, "%d completions of other outcomes",
               atomic_load(&t->completed) - expected_total);
}

/* Prints every non-empty bin (for the log, and for doc/reliability.md). */
static inline void faults_log_tally(const char *what, faults_tally *t) {
  for (int i = 0; i < FAULTS_CODES; i++) {
    int n = atomic_load(&t->by_code[i]);
    if (n) cr_log_info("%s: %d x %s", what, n, cqlmux_strerror(-i));
  }
}

static inline double faults_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif

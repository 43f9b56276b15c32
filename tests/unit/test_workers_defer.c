/* Deferred worker wake-ups (runtime/workers.h), as the I/O threads use them:
 * tasks pushed with deferral on all run once the thread flushes, once it
 * has pushed CQLMUX_WORKERS_DEFER_MAX of them, when the ring fills, or when
 * deferral is turned off. No timing is asserted: only that every task runs,
 * exactly once, and that flushing wakes a sleeping worker. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/intrusive.h"
#include "runtime/spin_window.h"
#include "runtime/workers.h"
#include "rt_util.h"

typedef struct counted {
  cqlmux_task task;
  _Atomic int *runs;
} counted;

static void count_run(cqlmux_task *task, int status) {
  counted *c = cqlmux_container_of(task, counted, task);
  cr_assert_eq(status, CQLMUX_OK);
  atomic_fetch_add(c->runs, 1);
}

static counted *tasks(size_t n, _Atomic int *runs) {
  counted *t = calloc(n, sizeof *t);
  cr_assert_not_null(t);
  for (size_t i = 0; i < n; i++) {
    cqlmux_task_init(&t[i].task, count_run);
    t[i].runs = runs;
  }
  return t;
}

/* Lets the worker fall asleep (it has nothing to do), so that a task can
 * only run if someone wakes it. */
static void let_workers_sleep(void) { usleep(20000); }

Test(workers_defer, a_flush_wakes_the_sleeping_worker) {
  cqlmux_workers *w = NULL;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 1, 64, &w), CQLMUX_OK);
  _Atomic int runs = 0;
  counted *t = tasks(3, &runs);
  let_workers_sleep();
  uint64_t signals = cqlmux_workers_signals(w);
  cqlmux_workers_defer_wakeups(true);
  for (int i = 0; i < 3; i++) cqlmux_workers_submit(w, &t[i].task);
  cqlmux_workers_flush_wakeups();
  cr_assert(rt_wait_int_at_least(&runs, 3, 20000));
  cr_assert_leq(cqlmux_workers_signals(w) - signals, 1, "one wake-up for the batch: %llu", (unsigned long long)(cqlmux_workers_signals(w) - signals));
  cqlmux_workers_defer_wakeups(false);
  cqlmux_workers_free(w);
  cr_assert_eq(atomic_load(&runs), 3);
  free(t);
}

Test(workers_defer, every_defer_max_tasks_wake_without_a_flush) {
  cqlmux_workers *w = NULL;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 1, 1024, &w), CQLMUX_OK);
  _Atomic int runs = 0;
  counted *t = tasks(CQLMUX_WORKERS_DEFER_MAX, &runs);
  let_workers_sleep();
  cqlmux_workers_defer_wakeups(true);
  for (int i = 0; i < CQLMUX_WORKERS_DEFER_MAX; i++) cqlmux_workers_submit(w, &t[i].task);
  cr_assert(rt_wait_int_at_least(&runs, CQLMUX_WORKERS_DEFER_MAX, 20000));
  cqlmux_workers_defer_wakeups(false);
  cqlmux_workers_free(w);
  free(t);
}

Test(workers_defer, turning_deferral_off_wakes) {
  cqlmux_workers *w = NULL;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 2, 64, &w), CQLMUX_OK);
  _Atomic int runs = 0;
  counted *t = tasks(2, &runs);
  let_workers_sleep();
  cqlmux_workers_defer_wakeups(true);
  cqlmux_workers_submit(w, &t[0].task);
  cqlmux_workers_submit(w, &t[1].task);
  cqlmux_workers_defer_wakeups(false);
  cr_assert(rt_wait_int_at_least(&runs, 2, 20000));
  cqlmux_workers_free(w);
  free(t);
}

/* A ring of 4 slots and 10,000 tasks pushed with deferral on and no flush:
 * the full ring wakes the worker, so the producer is never stuck. */
Test(workers_defer, a_full_ring_never_waits_for_an_unwoken_worker, .timeout = 60) {
  cqlmux_workers *w = NULL;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 1, 4, &w), CQLMUX_OK);
  enum { N = 10000 };
  _Atomic int runs = 0;
  counted *t = tasks(N, &runs);
  cqlmux_workers_defer_wakeups(true);
  for (int i = 0; i < N; i++) cqlmux_workers_submit(w, &t[i].task);
  cqlmux_workers_defer_wakeups(false);
  cr_assert(rt_wait_int_at_least(&runs, N, 30000));
  cqlmux_workers_free(w);
  cr_assert_eq(atomic_load(&runs), N);
  free(t);
}

/* What a flush reports: NONE when nothing was pushed since the last one
 * (and for a pool without threads, which runs tasks inline); otherwise
 * whether a sleeping worker had to be woken or one was awake, which depends
 * on timing and so is only checked to be one of the two. */
Test(workers_defer, a_flush_reports_whether_tasks_were_handed_over) {
  cqlmux_workers *w = NULL;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 1, 64, &w), CQLMUX_OK);
  _Atomic int runs = 0;
  counted *t = tasks(2, &runs);
  cqlmux_workers_defer_wakeups(true);
  cr_assert_eq(cqlmux_workers_flush_wakeups(), CQLMUX_HANDOFF_NONE);
  cqlmux_workers_submit(w, &t[0].task);
  cqlmux_handoff h = cqlmux_workers_flush_wakeups();
  cr_assert(h == CQLMUX_HANDOFF_WOKE || h == CQLMUX_HANDOFF_AWAKE, "handoff %d", (int)h);
  cr_assert_eq(cqlmux_workers_flush_wakeups(), CQLMUX_HANDOFF_NONE, "a flush resets");
  cr_assert(rt_wait_int_at_least(&runs, 1, 20000));

  cqlmux_workers *inline_pool = NULL;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 0, 0, &inline_pool), CQLMUX_OK);
  cqlmux_workers_submit(inline_pool, &t[1].task);
  cr_assert_eq(atomic_load(&runs), 2, "no threads: the task ran inline");
  cr_assert_eq(cqlmux_workers_flush_wakeups(), CQLMUX_HANDOFF_NONE);
  cqlmux_workers_defer_wakeups(false);
  cqlmux_workers_free(inline_pool);
  cqlmux_workers_free(w);
  free(t);
}

/* The learned watch (runtime/spin_window.h): twice the average gap plus the
 * floor, within the ceiling; off while gaps average over the ceiling, and
 * back once short gaps return. Pure arithmetic: deterministic. */
Test(spin_window, follows_the_average_gap_within_its_bounds) {
  cqlmux_spin_window w;
  cqlmux_spin_window_init(&w, 5, 50);
  cr_assert_eq(cqlmux_spin_window_us(&w), 15, "starts at 2 x floor + floor");
  for (int i = 0; i < 64; i++) cqlmux_spin_window_record(&w, 10);
  cr_assert_eq(cqlmux_spin_window_us(&w), 25, "2 x 10 + 5: %llu",
               (unsigned long long)cqlmux_spin_window_us(&w));
  for (int i = 0; i < 64; i++) cqlmux_spin_window_record(&w, 30);
  cr_assert_eq(cqlmux_spin_window_us(&w), 50, "capped at the ceiling");
  cqlmux_spin_window_record(&w, UINT64_MAX); /* one very long pause: a bounded step */
  cr_assert_leq(cqlmux_spin_window_gap_us(&w), 8 * 50);
  for (int i = 0; i < 64; i++) cqlmux_spin_window_record(&w, 1000);
  cr_assert_eq(cqlmux_spin_window_us(&w), 0, "long gaps: no watching");
  int steps = 0;
  while (cqlmux_spin_window_us(&w) == 0 && steps < 1000) {
    cqlmux_spin_window_record(&w, 2);
    steps++;
  }
  cr_assert_lt(steps, 64, "short gaps bring the watch back within a few dozen (%d)", steps);
  cr_assert_gt(cqlmux_spin_window_us(&w), 0);
}

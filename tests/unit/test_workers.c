/* The callback worker pool: exactly-once execution, inline mode, wake-up
 * economy, the full-ring policy, and stop. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

#include "runtime/intrusive.h"
#include "runtime/thread_role.h"
#include "runtime/workers.h"
#include "rt_util.h"

typedef struct counted_task {
  cqlmux_task task;
  _Atomic int runs;
  _Atomic int on_worker;
  _Atomic int *gate; /* when set: wait for it before returning */
} counted_task;

static void counted_run(cqlmux_task *task, int status) {
  counted_task *t = cqlmux_container_of(task, counted_task, task);
  cr_assert_eq(status, CQLMUX_OK);
  if (cqlmux_thread_get_role() == CQLMUX_THREAD_WORKER) atomic_store(&t->on_worker, 1);
  if (t->gate) cr_assert(rt_wait_flag(t->gate, 20000), "gate never opened");
  atomic_fetch_add(&t->runs, 1);
}

static counted_task *make_tasks(size_t n, _Atomic int *gate) {
  counted_task *t = calloc(n, sizeof *t);
  cr_assert(t);
  for (size_t i = 0; i < n; i++) {
    cqlmux_task_init(&t[i].task, counted_run);
    t[i].gate = gate;
  }
  return t;
}

typedef struct submitter {
  cqlmux_workers *w;
  counted_task *tasks;
  size_t n;
} submitter;

static void *submit_all(void *arg) {
  submitter *s = arg;
  for (size_t i = 0; i < s->n; i++) cqlmux_workers_submit(s->w, &s->tasks[i].task);
  return NULL;
}

Test(workers, every_task_runs_exactly_once_on_a_worker, .timeout = 60) {
  enum { N = 100000, PRODUCERS = 2 };
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_workers *w;
  cr_assert_eq(cqlmux_workers_new(&a.hook, NULL, 3, 256, &w), CQLMUX_OK);
  counted_task *tasks = make_tasks(N, NULL);
  submitter s[PRODUCERS];
  pthread_t th[PRODUCERS];
  for (int i = 0; i < PRODUCERS; i++) {
    s[i] = (submitter){w, tasks + i * (N / PRODUCERS), N / PRODUCERS};
    pthread_create(&th[i], NULL, submit_all, &s[i]);
  }
  for (int i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
  cqlmux_workers_stop(w);
  for (size_t i = 0; i < N; i++) {
    cr_assert_eq(atomic_load(&tasks[i].runs), 1, "task %zu ran %d times", i,
                 atomic_load(&tasks[i].runs));
    cr_assert(atomic_load(&tasks[i].on_worker));
  }
  cr_log_info("workers: %d tasks, %llu wake-up signals", N,
              (unsigned long long)cqlmux_workers_signals(w));
  cqlmux_workers_free(w);
  cr_assert_eq(atomic_load(&a.live), 0);
  free(tasks);
}

Test(workers, zero_threads_runs_inline_before_submit_returns) {
  cqlmux_workers *w;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 0, 16, &w), CQLMUX_OK);
  counted_task *t = make_tasks(1, NULL);
  cqlmux_workers_submit(w, &t->task);
  cr_assert_eq(atomic_load(&t->runs), 1);
  cr_assert_eq(atomic_load(&t->on_worker), 0);
  cr_assert_eq(cqlmux_workers_depth(w), 0);
  cqlmux_workers_submit(NULL, &t->task); /* NULL pool: inline too */
  cr_assert_eq(atomic_load(&t->runs), 2);
  cqlmux_workers_free(w);
  free(t);
}

Test(workers, busy_pool_is_not_signalled_per_task, .timeout = 60) {
  enum { M = 2, N = 10000 };
  cqlmux_workers *w;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, M, 16384, &w), CQLMUX_OK);
  _Atomic int gate = 0;
  counted_task *blockers = make_tasks(M, &gate);
  counted_task *tasks = make_tasks(N, NULL);
  for (int i = 0; i < M; i++) cqlmux_workers_submit(w, &blockers[i].task);
  /* Both workers now hold a blocker, or will as soon as they wake: either
   * way they are busy, not asleep, while the burst is submitted. */
  for (size_t i = 0; i < N; i++) cqlmux_workers_submit(w, &tasks[i].task);
  cr_assert_geq(cqlmux_workers_depth(w), N - M);
  uint64_t signals = cqlmux_workers_signals(w);
  atomic_store(&gate, 1);
  cqlmux_workers_stop(w);
  for (size_t i = 0; i < N; i++) cr_assert_eq(atomic_load(&tasks[i].runs), 1);
  cr_log_info("busy pool: %d submissions, %llu signals", N + M, (unsigned long long)signals);
  cr_assert_leq(signals, 2 * M, "a busy pool was signalled %llu times",
                (unsigned long long)signals);
  cqlmux_workers_free(w);
  free(blockers);
  free(tasks);
}

/* A task that, on a worker, submits `n` more into a ring that cannot hold
 * them: the overflow must run inline on that worker. */
typedef struct fanout_task {
  cqlmux_task task;
  cqlmux_workers *w;
  counted_task *children;
  size_t n;
  _Atomic int done;
} fanout_task;

static void fanout_run(cqlmux_task *task, int status) {
  (void)status;
  fanout_task *f = cqlmux_container_of(task, fanout_task, task);
  for (size_t i = 0; i < f->n; i++) cqlmux_workers_submit(f->w, &f->children[i].task);
  atomic_store(&f->done, 1);
}

Test(workers, full_ring_on_a_worker_runs_inline) {
  cqlmux_workers *w;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 1, 2, &w), CQLMUX_OK);
  fanout_task f = {.w = w, .children = make_tasks(50, NULL), .n = 50};
  cqlmux_task_init(&f.task, fanout_run);
  cqlmux_workers_submit(w, &f.task);
  cr_assert(rt_wait_flag(&f.done, 20000));
  cqlmux_workers_stop(w);
  for (size_t i = 0; i < f.n; i++) {
    cr_assert_eq(atomic_load(&f.children[i].runs), 1);
    cr_assert(atomic_load(&f.children[i].on_worker), "child %zu left the worker thread", i);
  }
  cqlmux_workers_free(w);
  free(f.children);
}

static void *open_gate_later(void *arg) {
  rt_sleep_us(20000);
  atomic_store((_Atomic int *)arg, 1);
  return NULL;
}

Test(workers, full_ring_on_another_thread_waits_for_space) {
  cqlmux_workers *w;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 1, 2, &w), CQLMUX_OK);
  _Atomic int gate = 0;
  counted_task *blocker = make_tasks(1, &gate);
  counted_task *tasks = make_tasks(10, NULL);
  cqlmux_workers_submit(w, &blocker->task);
  pthread_t opener;
  pthread_create(&opener, NULL, open_gate_later, &gate);
  /* The ring holds 2; these submits must wait for the worker, never drop. */
  for (size_t i = 0; i < 10; i++) cqlmux_workers_submit(w, &tasks[i].task);
  pthread_join(opener, NULL);
  cqlmux_workers_stop(w);
  for (size_t i = 0; i < 10; i++) {
    cr_assert_eq(atomic_load(&tasks[i].runs), 1);
    cr_assert(atomic_load(&tasks[i].on_worker));
  }
  cqlmux_workers_free(w);
  free(blocker);
  free(tasks);
}

Test(workers, stop_drains_queued_tasks_then_submit_runs_inline) {
  cqlmux_workers *w;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 2, 4096, &w), CQLMUX_OK);
  _Atomic int gate = 0;
  counted_task *blockers = make_tasks(2, &gate);
  counted_task *tasks = make_tasks(1000, NULL);
  for (int i = 0; i < 2; i++) cqlmux_workers_submit(w, &blockers[i].task);
  for (size_t i = 0; i < 1000; i++) cqlmux_workers_submit(w, &tasks[i].task);
  pthread_t opener;
  pthread_create(&opener, NULL, open_gate_later, &gate);
  cqlmux_workers_stop(w);
  pthread_join(opener, NULL);
  for (size_t i = 0; i < 1000; i++) cr_assert_eq(atomic_load(&tasks[i].runs), 1);
  counted_task *late = make_tasks(1, NULL);
  cqlmux_workers_submit(w, &late->task);
  cr_assert_eq(atomic_load(&late->runs), 1);
  cr_assert_eq(atomic_load(&late->on_worker), 0);
  cqlmux_workers_stop(w); /* idempotent */
  cqlmux_workers_free(w);
  cqlmux_workers_free(NULL);
  free(blockers);
  free(tasks);
  free(late);
}

Test(workers, allocation_failure_leaves_nothing) {
  for (long fail_at = 1; fail_at <= 3; fail_at++) {
    rt_counting_alloc a;
    rt_counting_alloc_init(&a);
    atomic_store(&a.fail_at, fail_at);
    cqlmux_workers *w = NULL;
    cr_assert_eq(cqlmux_workers_new(&a.hook, NULL, 2, 16, &w), CQLMUX_ERR_NOMEM);
    cr_assert_null(w);
    cr_assert_eq(atomic_load(&a.live), 0, "leak when allocation %ld fails", fail_at);
  }
}

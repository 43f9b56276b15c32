/* The runtime end to end: futures completed by I/O threads, callbacks on the
 * worker pool (or inline), callbacks that submit more work and free their
 * futures, and both shutdown modes with 10,000 requests in flight, on both
 * backends. Requests are simulated by timers standing for server answers. */
#include <config.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"
#include "net/runtime.h"
#include "runtime/intrusive.h"
#include "runtime/thread_role.h"
#include "rt_util.h"

#ifdef HAVE_SYS_EPOLL_H
#define BACKEND_COUNT 2
#else
#define BACKEND_COUNT 1
#endif

#define BACKEND_TEST(name)                                                              \
  ParameterizedTestParameters(runtime, name) {                                          \
    static cqlmux_io_backend backends[] = {CQLMUX_IO_BACKEND_POLL, CQLMUX_IO_BACKEND_EPOLL}; \
    return cr_make_param_array(cqlmux_io_backend, backends, BACKEND_COUNT);              \
  }                                                                                     \
  ParameterizedTest(cqlmux_io_backend *backend, runtime, name, .timeout = 60)

typedef struct harness {
  cqlmux_runtime *rt;
  rt_counting_alloc alloc;
  _Atomic long callbacks;
  _Atomic long completions;
  _Atomic long ok;
  _Atomic long shutdown;
  _Atomic long submitted;
  _Atomic long payloads_live;
  _Atomic int callback_role; /* cqlmux_thread_role seen by callbacks, OR-ed as bits */
  int chain_depth;           /* follow-ups each callback submits */
} harness;

/* One simulated request; the harness's memory, not the library's. */
typedef struct request {
  cqlmux_task task;
  cqlmux_timer timer;
  cqlmux_loop *loop;
  cqlmux_future *future;
  uint64_t delay_us;
  harness *h;
} request;

typedef struct slot {
  harness *h;
  _Atomic int calls;
  int depth;
  int free_in_callback;
  cqlmux_future *future; /* for the test to free when not freed inside */
} slot;

static void payload_free(void *p) {
  atomic_fetch_sub(&((harness *)p)->payloads_live, 1);
}

static void finish(request *r, int status) {
  harness *h = r->h;
  atomic_fetch_add(&h->completions, 1);
  atomic_fetch_add(status == CQLMUX_OK ? &h->ok : &h->shutdown, 1);
  if (status == CQLMUX_OK) atomic_fetch_add(&h->payloads_live, 1);
  cr_assert_eq(cqlmux_future_complete(r->future, status, NULL, status == CQLMUX_OK ? h : NULL,
                                      status == CQLMUX_OK ? payload_free : NULL),
               CQLMUX_OK);
  cqlmux_future_release(r->future);
  cqlmux_loop_release(r->loop);
  free(r);
}

static void on_answer(cqlmux_timer *t, int status) {
  finish(cqlmux_container_of(t, request, timer), status);
}

static void on_send(cqlmux_task *task, int status) {
  request *r = cqlmux_container_of(task, request, task);
  if (status == CQLMUX_OK) {
    cqlmux_timer_init(&r->timer, on_answer, NULL);
    status = cqlmux_loop_timer_start(r->loop, &r->timer, r->delay_us);
  }
  if (status != CQLMUX_OK) finish(r, status);
}

/* What the session's execute will do: a future now, the work on a loop. */
static cqlmux_future *submit(harness *h, uint64_t delay_us) {
  request *r = calloc(1, sizeof *r);
  r->h = h;
  r->delay_us = delay_us;
  r->loop = cqlmux_runtime_next_loop(h->rt);
  r->future = cqlmux_runtime_future_new(h->rt);
  cr_assert_not_null(r->future); /* one reference for the caller, one for the request */
  cqlmux_task_init(&r->task, on_send);
  cqlmux_loop_hold(r->loop);
  atomic_fetch_add(&h->submitted, 1);
  cqlmux_future *f = r->future; /* r may be gone as soon as it is posted */
  cqlmux_loop_post(r->loop, &r->task);
  return f;
}

static void on_complete(cqlmux_future *f, void *ud);

static void submit_with_callback(harness *h, slot *s, uint64_t delay_us) {
  cqlmux_future *f = submit(h, delay_us);
  s->future = f;
  cr_assert_eq(cqlmux_future_set_callback(f, on_complete, s), CQLMUX_OK);
}

static void on_complete(cqlmux_future *f, void *ud) {
  slot *s = ud;
  harness *h = s->h;
  atomic_fetch_or(&h->callback_role, 1 << cqlmux_thread_get_role());
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_WOULD_DEADLOCK);
  int err = cqlmux_future_error(f);
  cr_assert(err == CQLMUX_OK || err == CQLMUX_ERR_SHUTDOWN, "unexpected %d", err);
  if (err == CQLMUX_OK) cr_assert_eq(cqlmux_future_payload(f), h);
  if (err == CQLMUX_OK && s->depth > 0) {
    /* A callback may submit new work. */
    slot *next = calloc(1, sizeof *next);
    *next = (slot){.h = h, .depth = s->depth - 1, .free_in_callback = 1};
    submit_with_callback(h, next, 100);
  }
  atomic_fetch_add(&s->calls, 1);
  atomic_fetch_add(&h->callbacks, 1);
  if (s->free_in_callback) {
    cqlmux_future_free(f);
    if (s->depth < h->chain_depth) free(s); /* follow-up slots belong to the callback */
  }
}

static void harness_start(harness *h, cqlmux_io_backend backend, unsigned io, unsigned cb) {
  memset(h, 0, sizeof *h);
  rt_counting_alloc_init(&h->alloc);
  cqlmux_runtime_config cfg;
  cqlmux_runtime_config_defaults(&cfg);
  cfg.io_threads = io;
  cfg.callback_threads = cb;
  cfg.backend = backend;
  cfg.allocator = &h->alloc.hook;
  cfg.completion_capacity = 1024;
  cr_assert_eq(cqlmux_runtime_new(&cfg, &h->rt), CQLMUX_OK);
  cr_assert_eq(cqlmux_runtime_loop_count(h->rt), io);
  cr_assert_eq(cqlmux_workers_threads(cqlmux_runtime_workers(h->rt)), cb);
}

/* Free what the test still owns and check nothing leaked. */
static void harness_finish(harness *h, slot *slots, size_t n) {
  cqlmux_runtime_free(h->rt);
  for (size_t i = 0; i < n; i++)
    if (!slots[i].free_in_callback) cqlmux_future_free(slots[i].future);
  cr_assert_eq(atomic_load(&h->completions), atomic_load(&h->submitted));
  cr_assert_eq(atomic_load(&h->callbacks), atomic_load(&h->submitted),
               "%ld callbacks for %ld requests", atomic_load(&h->callbacks),
               atomic_load(&h->submitted));
  cr_assert_eq(atomic_load(&h->payloads_live), 0);
  cr_assert_eq(atomic_load(&h->alloc.live), 0, "%ld blocks leaked",
               atomic_load(&h->alloc.live));
}

static slot *submit_many(harness *h, size_t n, int depth, uint64_t max_delay_us) {
  slot *slots = calloc(n, sizeof *slots);
  uint64_t rng = 4242;
  h->chain_depth = depth;
  for (size_t i = 0; i < n; i++) {
    slots[i] = (slot){.h = h, .depth = depth, .free_in_callback = (int)(i % 2)};
    submit_with_callback(h, &slots[i], rt_rand(&rng) % max_delay_us);
  }
  return slots;
}

static void check_slots(slot *slots, size_t n) {
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(atomic_load(&slots[i].calls), 1, "request %zu: %d callbacks", i,
                 atomic_load(&slots[i].calls));
}

BACKEND_TEST(graceful_shutdown_answers_ten_thousand_in_flight) {
  enum { N = 10000 };
  harness h;
  harness_start(&h, *backend, 2, 2);
  slot *slots = submit_many(&h, N, 0, 20000);
  cqlmux_runtime_shutdown(h.rt, CQLMUX_STOP_GRACEFUL);
  check_slots(slots, N);
  cr_assert_eq(atomic_load(&h.ok), N, "graceful shutdown failed %ld requests",
               atomic_load(&h.shutdown));
  /* Workers, or the submitting thread when the answer beat set_callback. */
  int roles = atomic_load(&h.callback_role);
  cr_assert(roles & (1 << CQLMUX_THREAD_WORKER));
  cr_assert_not(roles & (1 << CQLMUX_THREAD_IO), "a callback ran on an I/O thread");
  harness_finish(&h, slots, N);
  free(slots);
}

BACKEND_TEST(immediate_shutdown_completes_ten_thousand_in_flight_once) {
  enum { N = 10000 };
  harness h;
  harness_start(&h, *backend, 2, 2);
  slot *slots = submit_many(&h, N, 0, 20000);
  cr_assert(rt_wait_count_at_least(&h.callbacks, N / 10, 20000));
  cqlmux_runtime_shutdown(h.rt, CQLMUX_STOP_IMMEDIATE);
  check_slots(slots, N);
  cr_log_info("immediate shutdown: %ld answered, %ld SHUTDOWN", atomic_load(&h.ok),
              atomic_load(&h.shutdown));
  cr_assert_eq(atomic_load(&h.ok) + atomic_load(&h.shutdown), N);
  harness_finish(&h, slots, N);
  free(slots);
}

BACKEND_TEST(callbacks_submit_follow_ups_during_shutdown) {
  enum { N = 2000, DEPTH = 3 };
  harness h;
  harness_start(&h, *backend, 2, 3);
  slot *slots = submit_many(&h, N, DEPTH, 5000);
  cr_assert(rt_wait_count_at_least(&h.callbacks, N, 20000));
  /* Follow-ups are now being submitted from callbacks as we stop. */
  cqlmux_runtime_shutdown(h.rt, CQLMUX_STOP_IMMEDIATE);
  check_slots(slots, N);
  cr_log_info("chains: %ld requests in all (%ld answered, %ld SHUTDOWN)",
              atomic_load(&h.submitted), atomic_load(&h.ok), atomic_load(&h.shutdown));
  cr_assert_gt(atomic_load(&h.submitted), N);
  harness_finish(&h, slots, N);
  free(slots);
}

BACKEND_TEST(zero_callback_threads_run_callbacks_on_the_io_thread) {
  enum { N = 2000 };
  harness h;
  harness_start(&h, *backend, 1, 0);
  slot *slots = submit_many(&h, N, 1, 2000);
  cqlmux_runtime_shutdown(h.rt, CQLMUX_STOP_GRACEFUL);
  check_slots(slots, N);
  int roles = atomic_load(&h.callback_role);
  cr_assert(roles & (1 << CQLMUX_THREAD_IO));
  cr_assert_not(roles & (1 << CQLMUX_THREAD_WORKER));
  cr_assert_eq(atomic_load(&h.submitted), 2 * N); /* every follow-up got in */
  harness_finish(&h, slots, N);
  free(slots);
}

/* Blocking on a future from an I/O thread is refused. */
typedef struct wait_probe {
  cqlmux_task task;
  cqlmux_future *pending;
  _Atomic int rc;
  _Atomic int done;
} wait_probe;

static void probe_wait(cqlmux_task *task, int status) {
  wait_probe *p = cqlmux_container_of(task, wait_probe, task);
  (void)status;
  atomic_store(&p->rc, cqlmux_future_wait(p->pending));
  atomic_store(&p->done, 1);
}

BACKEND_TEST(wait_on_an_io_thread_returns_would_deadlock) {
  harness h;
  harness_start(&h, *backend, 1, 1);
  wait_probe p = {.pending = cqlmux_runtime_future_new(h.rt)};
  cqlmux_task_init(&p.task, probe_wait);
  cqlmux_loop_post(cqlmux_runtime_loop(h.rt, 0), &p.task);
  cr_assert(rt_wait_flag(&p.done, 20000));
  cr_assert_eq(atomic_load(&p.rc), CQLMUX_ERR_WOULD_DEADLOCK);
  cqlmux_future_complete(p.pending, CQLMUX_ERR_SHUTDOWN, NULL, NULL, NULL);
  cqlmux_future_release(p.pending);
  cqlmux_future_free(p.pending);
  harness_finish(&h, NULL, 0);
}

Test(runtime, loops_are_handed_out_in_turn_and_config_is_checked) {
  cqlmux_runtime_config cfg;
  cqlmux_runtime_config_defaults(&cfg);
  cqlmux_runtime *rt;
  cfg.io_threads = 0;
  cr_assert_eq(cqlmux_runtime_new(&cfg, &rt), CQLMUX_ERR_INVALID_ARGUMENT);
  cfg.io_threads = 3;
  cfg.backend = (cqlmux_io_backend)9;
  cr_assert_eq(cqlmux_runtime_new(&cfg, &rt), CQLMUX_ERR_INVALID_ARGUMENT);
  cfg.backend = CQLMUX_IO_BACKEND_DEFAULT;
  cr_assert_eq(cqlmux_runtime_new(&cfg, &rt), CQLMUX_OK);
  cqlmux_loop *first = cqlmux_runtime_next_loop(rt);
  cr_assert_neq(cqlmux_runtime_next_loop(rt), first);
  cr_assert_neq(cqlmux_runtime_next_loop(rt), first);
  cr_assert_eq(cqlmux_runtime_next_loop(rt), first);
  cr_assert_eq(cqlmux_workers_depth(cqlmux_runtime_workers(rt)), 0);
  cr_assert_not_null(cqlmux_runtime_logger(rt));
  cr_assert_not_null(cqlmux_runtime_allocator(rt));
  cqlmux_runtime_shutdown(rt, CQLMUX_STOP_GRACEFUL);
  cqlmux_runtime_shutdown(rt, CQLMUX_STOP_IMMEDIATE); /* idempotent */
  cqlmux_runtime_free(rt);
  cqlmux_runtime_free(NULL);
}

Test(runtime, allocation_failures_leave_nothing_running) {
  for (long fail_at = 1; fail_at <= 12; fail_at++) {
    rt_counting_alloc a;
    rt_counting_alloc_init(&a);
    atomic_store(&a.fail_at, fail_at);
    cqlmux_runtime_config cfg;
    cqlmux_runtime_config_defaults(&cfg);
    cfg.io_threads = 2;
    cfg.callback_threads = 2;
    cfg.allocator = &a.hook;
    cfg.log_level = CQLMUX_LOG_NONE; /* the failures are expected */
    cqlmux_runtime *rt = NULL;
    int rc = cqlmux_runtime_new(&cfg, &rt);
    if (rc == CQLMUX_OK) {
      cqlmux_runtime_free(rt);
    } else {
      cr_assert_eq(rc, CQLMUX_ERR_NOMEM);
      cr_assert_null(rt);
    }
    cr_assert_eq(atomic_load(&a.live), 0, "leak when allocation %ld fails", fail_at);
  }
}

static void ignore_log(cqlmux_log_level level, const char *message, void *ud) {
  (void)level;
  (void)message;
  (void)ud;
}

Test(runtime, built_from_the_session_config_outlives_it) {
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_config *c = cqlmux_config_new_with_allocator(&a.hook);
  cr_assert_eq(cqlmux_config_set_io_threads(c, 3), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_callback_threads(c, 0), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_io_backend(c, CQLMUX_IO_BACKEND_POLL), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_log_callback(c, ignore_log, &a), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_log_level(c, CQLMUX_LOG_NONE), CQLMUX_OK);
  cqlmux_runtime_config rc;
  cqlmux_config_runtime(c, &rc);
  cqlmux_runtime *rt;
  cr_assert_eq(cqlmux_runtime_new(&rc, &rt), CQLMUX_OK);
  cqlmux_config_free(c); /* the runtime kept what it needs */
  cr_assert_eq(cqlmux_runtime_loop_count(rt), 3);
  cr_assert_eq(cqlmux_loop_backend(cqlmux_runtime_loop(rt, 2)), CQLMUX_IO_BACKEND_POLL);
  cr_assert_eq(cqlmux_workers_threads(cqlmux_runtime_workers(rt)), 0);
  cr_assert_gt(atomic_load(&a.live), 0, "the runtime allocates through the config's hook");
  cqlmux_runtime_free(rt);
  cr_assert_eq(atomic_load(&a.live), 0, "%ld blocks leaked", atomic_load(&a.live));
}

/* ---------------------------------------------- the thread-start callback */

#define HOOK_IO 2
#define HOOK_CB 3

typedef struct hook_record {
  int target_cpu;                     /* each thread pins itself here */
  _Atomic int seen[2];                /* per kind: bit `index` set on each call */
  _Atomic int calls[2];
  _Atomic int pin_failures;
  _Atomic int could_block;            /* the hook ran where blocking is allowed */
  _Atomic int bad_calls;              /* unknown kind or index out of range */
  _Atomic int misnamed;               /* the thread's name disagrees with (kind, index) */
  pthread_t threads[HOOK_IO + HOOK_CB]; /* io 0..1, then callback 0..2 */
  _Atomic int threads_recorded;
} hook_record;

static void on_thread_start(cqlmux_thread_kind kind, unsigned index, void *ud) {
  /* No cr_assert here: a failure on a library thread would longjmp into the
   * test thread's stack. Everything is recorded and asserted by the test. */
  hook_record *r = ud;
  int k = kind == CQLMUX_THREAD_KIND_IO ? 0 : 1;
  if ((kind != CQLMUX_THREAD_KIND_IO && kind != CQLMUX_THREAD_KIND_CALLBACK) ||
      index >= (k == 0 ? HOOK_IO : HOOK_CB)) {
    atomic_fetch_add(&r->bad_calls, 1);
    atomic_fetch_add(&r->threads_recorded, 1);
    return;
  }
  if (cqlmux_thread_may_block()) atomic_fetch_add(&r->could_block, 1);
#if defined(__GLIBC__)
  char name[16], want[16];
  snprintf(want, sizeof want, "cqlmux-%s-%u", k == 0 ? "io" : "cb", index);
  if (pthread_getname_np(pthread_self(), name, sizeof name) != 0 || strcmp(name, want) != 0)
    atomic_fetch_add(&r->misnamed, 1);
#endif
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(r->target_cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
    atomic_fetch_add(&r->pin_failures, 1);
  r->threads[(k == 0 ? 0 : HOOK_IO) + index] = pthread_self();
  atomic_fetch_or(&r->seen[k], 1 << index);
  atomic_fetch_add(&r->calls[k], 1);
  atomic_fetch_add(&r->threads_recorded, 1);
}

static int first_allowed_cpu(void) {
  cpu_set_t set;
  cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &set)) return cpu;
  cr_assert_fail("no CPU in this process's affinity mask");
  return -1;
}

Test(runtime, every_thread_runs_the_start_callback_once_and_can_pin_itself) {
  static hook_record r;
  r.target_cpu = first_allowed_cpu();
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_io_threads(c, HOOK_IO), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_callback_threads(c, HOOK_CB), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_thread_start_callback(NULL, on_thread_start, &r),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_thread_start_callback(c, on_thread_start, &r), CQLMUX_OK);
  cqlmux_runtime_config rc;
  cqlmux_config_runtime(c, &rc);
  cqlmux_runtime *rt;
  cr_assert_eq(cqlmux_runtime_new(&rc, &rt), CQLMUX_OK);
  cqlmux_config_free(c); /* rc pointed into it; the runtime kept what it needs */
  cr_assert(rt_wait_int_at_least(&r.threads_recorded, HOOK_IO + HOOK_CB, 5000),
            "only %d threads ran the callback", atomic_load(&r.threads_recorded));
  cr_assert_eq(atomic_load(&r.bad_calls), 0, "a kind or index out of range");
  cr_assert_eq(atomic_load(&r.misnamed), 0, "thread names match the callback's kind and index");
  cr_assert_eq(atomic_load(&r.calls[0]), HOOK_IO, "once per I/O thread");
  cr_assert_eq(atomic_load(&r.calls[1]), HOOK_CB, "once per callback worker");
  cr_assert_eq(atomic_load(&r.seen[0]), (1 << HOOK_IO) - 1, "I/O indexes 0 .. n-1");
  cr_assert_eq(atomic_load(&r.seen[1]), (1 << HOOK_CB) - 1, "worker indexes 0 .. n-1");
  cr_assert_eq(atomic_load(&r.could_block), 0, "it runs on the library's threads");
  cr_assert_eq(atomic_load(&r.pin_failures), 0);
  for (int i = 0; i < HOOK_IO + HOOK_CB; i++) {
    cr_assert_not(pthread_equal(r.threads[i], pthread_self()));
    cpu_set_t set;
    cr_assert_eq(pthread_getaffinity_np(r.threads[i], sizeof set, &set), 0);
    cr_assert_eq(CPU_COUNT(&set), 1, "thread %d keeps the affinity its callback set", i);
    cr_assert(CPU_ISSET(r.target_cpu, &set));
  }
  cqlmux_runtime_free(rt);
  cqlmux_config *d = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_thread_start_callback(d, on_thread_start, &r), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_thread_start_callback(d, NULL, &r), CQLMUX_OK, "NULL clears");
  cqlmux_config_runtime(d, &rc);
  cr_assert_null(rc.thread_start.start);
  cr_assert_null(rc.thread_start.user_data);
  cqlmux_config_free(d);
}

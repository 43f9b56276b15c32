/* Futures: states, waits, callbacks set before and after completion, frees
 * from inside callbacks and before completion, and exactly-once under
 * races. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/future.h"
#include "runtime/thread_role.h"
#include "runtime/workers.h"
#include "rt_util.h"

static _Atomic int payloads_freed;

static void count_payload_free(void *payload) {
  atomic_fetch_add(&payloads_freed, 1);
  free(payload);
}

Test(future, pending_state) {
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  cr_assert_not_null(f);
  cr_assert_eq(cqlmux_future_ready(f), 0);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_ERR_NOT_READY);
  cr_assert_null(cqlmux_future_error_message(f));
  cr_assert_null(cqlmux_future_payload(f));
  cr_assert_eq(cqlmux_future_wait_timed(f, 0), CQLMUX_ERR_NOT_READY);
  cr_assert_eq(cqlmux_future_wait_timed(f, 2000), CQLMUX_ERR_NOT_READY);
  cqlmux_future_free(f);
  cqlmux_future_release(f); /* the completer's reference: never completed */
}

Test(future, null_arguments) {
  cr_assert_eq(cqlmux_future_wait(NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_future_wait_timed(NULL, 5), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_future_ready(NULL), 0);
  cr_assert_eq(cqlmux_future_error(NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_null(cqlmux_future_error_message(NULL));
  cr_assert_eq(cqlmux_future_set_callback(NULL, NULL, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  cr_assert_eq(cqlmux_future_set_callback(f, NULL, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_future_free(NULL);
  cqlmux_future_free(f);
  cqlmux_future_release(f);
}

Test(future, error_completion_carries_code_and_message) {
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  char msg[] = "node 10.0.0.1 did not answer";
  cr_assert_eq(cqlmux_future_complete(f, CQLMUX_ERR_TIMEOUT, msg, NULL, NULL), CQLMUX_OK);
  msg[0] = 'X'; /* the future kept a copy */
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_TIMEOUT);
  cr_assert_eq(cqlmux_future_wait_timed(f, 0), CQLMUX_ERR_TIMEOUT);
  cr_assert_eq(cqlmux_future_ready(f), 1);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_ERR_TIMEOUT);
  cr_assert_str_eq(cqlmux_future_error_message(f), "node 10.0.0.1 did not answer");
  cr_assert_eq(cqlmux_future_complete(f, CQLMUX_OK, NULL, NULL, NULL), CQLMUX_ERR_INVALID_STATE);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_ERR_TIMEOUT);
  cqlmux_future_release(f);
  cqlmux_future_free(f);
}

Test(future, error_without_message_uses_strerror) {
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  cqlmux_future_complete(f, CQLMUX_ERR_SHUTDOWN, NULL, NULL, NULL);
  cr_assert_str_eq(cqlmux_future_error_message(f), cqlmux_strerror(CQLMUX_ERR_SHUTDOWN));
  cqlmux_future_release(f);
  cqlmux_future_free(f);
}

Test(future, success_payload_freed_once_with_last_reference) {
  atomic_store(&payloads_freed, 0);
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_future *f = cqlmux_future_new(&a.hook, NULL);
  int *payload = malloc(sizeof *payload);
  *payload = 42;
  cr_assert_eq(cqlmux_future_complete(f, CQLMUX_OK, "ignored", payload, count_payload_free),
               CQLMUX_OK);
  cr_assert_null(cqlmux_future_error_message(f));
  cr_assert_eq(*(int *)cqlmux_future_payload(f), 42);
  cqlmux_future_release(f);
  cr_assert_eq(atomic_load(&payloads_freed), 0);
  cqlmux_future_free(f);
  cr_assert_eq(atomic_load(&payloads_freed), 1);
  cr_assert_eq(atomic_load(&a.live), 0);
}

typedef struct cb_record {
  _Atomic int calls;
  _Atomic int role;
  pthread_t thread;
  _Atomic int wait_rc;
  _Atomic int timed_rc;
  int free_inside;
} cb_record;

static void record_cb(cqlmux_future *f, void *ud) {
  cb_record *r = ud;
  r->thread = pthread_self();
  atomic_store(&r->role, (int)cqlmux_thread_get_role());
  atomic_store(&r->wait_rc, cqlmux_future_wait(f));
  atomic_store(&r->timed_rc, cqlmux_future_wait_timed(f, 10));
  cr_assert_neq(cqlmux_future_ready(f), 0, "callback ran before completion");
  if (r->free_inside) cqlmux_future_free(f);
  atomic_fetch_add(&r->calls, 1);
}

Test(future, callback_set_after_completion_runs_inline_on_caller) {
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  cqlmux_future_complete(f, CQLMUX_OK, NULL, NULL, NULL);
  cb_record r = {0};
  cr_assert_eq(cqlmux_future_set_callback(f, record_cb, &r), CQLMUX_OK);
  cr_assert_eq(atomic_load(&r.calls), 1);
  cr_assert(pthread_equal(r.thread, pthread_self()));
  cr_assert_eq(atomic_load(&r.wait_rc), CQLMUX_ERR_WOULD_DEADLOCK);
  cr_assert_eq(atomic_load(&r.timed_rc), CQLMUX_ERR_WOULD_DEADLOCK);
  cr_assert_eq(cqlmux_future_set_callback(f, record_cb, &r), CQLMUX_ERR_INVALID_STATE);
  cr_assert_eq(atomic_load(&r.calls), 1);
  /* Outside the callback this thread may block again. */
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK);
  cqlmux_future_release(f);
  cqlmux_future_free(f);
}

Test(future, callback_set_before_completion_runs_once_on_a_worker) {
  cqlmux_workers *w;
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 2, 64, &w), CQLMUX_OK);
  cqlmux_future *f = cqlmux_future_new(NULL, w);
  cb_record r = {0};
  cr_assert_eq(cqlmux_future_set_callback(f, record_cb, &r), CQLMUX_OK);
  cr_assert_eq(cqlmux_future_set_callback(f, record_cb, &r), CQLMUX_ERR_INVALID_STATE);
  cr_assert_eq(atomic_load(&r.calls), 0);
  cqlmux_future_complete(f, CQLMUX_ERR_CONNECTION_CLOSED, NULL, NULL, NULL);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_CONNECTION_CLOSED);
  cqlmux_future_release(f);
  cqlmux_workers_stop(w);
  cr_assert_eq(atomic_load(&r.calls), 1);
  cr_assert_eq(atomic_load(&r.role), CQLMUX_THREAD_WORKER);
  cr_assert_eq(atomic_load(&r.wait_rc), CQLMUX_ERR_WOULD_DEADLOCK);
  cqlmux_future_free(f);
  cqlmux_workers_free(w);
}

Test(future, free_inside_callback_and_free_before_completion) {
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_workers *w;
  cr_assert_eq(cqlmux_workers_new(&a.hook, NULL, 1, 64, &w), CQLMUX_OK);
  /* Freed inside its own callback. */
  cqlmux_future *f1 = cqlmux_future_new(&a.hook, w);
  cb_record r1 = {.free_inside = 1};
  cqlmux_future_set_callback(f1, record_cb, &r1);
  /* Freed (detached) before completion; its callback still runs and frees
   * again, which is ignored. */
  cqlmux_future *f2 = cqlmux_future_new(&a.hook, w);
  cb_record r2 = {.free_inside = 1};
  cqlmux_future_set_callback(f2, record_cb, &r2);
  cqlmux_future_free(f2);
  atomic_store(&payloads_freed, 0);
  cqlmux_future_complete(f1, CQLMUX_OK, NULL, malloc(8), count_payload_free);
  cqlmux_future_complete(f2, CQLMUX_ERR_TIMEOUT, "late", malloc(8), count_payload_free);
  cqlmux_future_release(f1);
  cqlmux_future_release(f2);
  cqlmux_workers_stop(w);
  cr_assert_eq(atomic_load(&r1.calls), 1);
  cr_assert_eq(atomic_load(&r2.calls), 1);
  cr_assert_eq(atomic_load(&payloads_freed), 2);
  cqlmux_workers_free(w);
  cr_assert_eq(atomic_load(&a.live), 0);
}

static void *complete_after_delay(void *arg) {
  rt_sleep_us(20000);
  cqlmux_future_complete(arg, CQLMUX_ERR_SERVER, "overloaded", NULL, NULL);
  cqlmux_future_release(arg);
  return NULL;
}

static void *waiter(void *arg) {
  return (void *)(intptr_t)cqlmux_future_wait(arg);
}

Test(future, blocking_waiters_wake_on_completion) {
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  pthread_t waiters[4], completer;
  for (int i = 0; i < 4; i++) pthread_create(&waiters[i], NULL, waiter, f);
  pthread_create(&completer, NULL, complete_after_delay, f);
  cr_assert_eq(cqlmux_future_wait_timed(f, 10u * 1000 * 1000), CQLMUX_ERR_SERVER);
  for (int i = 0; i < 4; i++) {
    void *rc;
    pthread_join(waiters[i], &rc);
    cr_assert_eq((int)(intptr_t)rc, CQLMUX_ERR_SERVER);
  }
  pthread_join(completer, NULL);
  cr_assert_str_eq(cqlmux_future_error_message(f), "overloaded");
  cqlmux_future_free(f);
}

/* ------------------------------------------------------------------ races */

typedef struct race_slot {
  cqlmux_future *f;
  _Atomic int calls;
  _Atomic int go;
} race_slot;

static void race_cb(cqlmux_future *f, void *ud) {
  race_slot *s = ud;
  atomic_fetch_add(&s->calls, 1);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_ERR_TIMEOUT);
  cqlmux_future_free(f); /* every future is freed inside its callback */
}

typedef struct race_args {
  race_slot *slots;
  size_t n;
} race_args;

static void *race_complete(void *arg) {
  race_args *ra = arg;
  for (size_t i = 0; i < ra->n; i++) {
    race_slot *s = &ra->slots[i];
    while (!atomic_load(&s->go)) {
    }
    cqlmux_future_complete(s->f, CQLMUX_ERR_TIMEOUT, NULL, NULL, NULL);
    cqlmux_future_release(s->f);
  }
  return NULL;
}

static void run_callback_race(unsigned worker_threads) {
  enum { N = 20000 };
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_workers *w;
  cr_assert_eq(cqlmux_workers_new(&a.hook, NULL, worker_threads, 1024, &w), CQLMUX_OK);
  race_slot *slots = calloc(N, sizeof *slots);
  for (size_t i = 0; i < N; i++) slots[i].f = cqlmux_future_new(&a.hook, w);
  race_args ra = {slots, N};
  pthread_t completer;
  pthread_create(&completer, NULL, race_complete, &ra);
  for (size_t i = 0; i < N; i++) {
    /* Release the completer and set the callback at about the same time:
     * some land before completion, some after. */
    atomic_store(&slots[i].go, 1);
    cr_assert_eq(cqlmux_future_set_callback(slots[i].f, race_cb, &slots[i]), CQLMUX_OK);
  }
  pthread_join(completer, NULL);
  cqlmux_workers_stop(w);
  for (size_t i = 0; i < N; i++)
    cr_assert_eq(atomic_load(&slots[i].calls), 1, "future %zu: callback ran %d times", i,
                 atomic_load(&slots[i].calls));
  cqlmux_workers_free(w);
  cr_assert_eq(atomic_load(&a.live), 0);
  free(slots);
}

Test(future, callback_runs_exactly_once_when_racing_completion_workers, .timeout = 60) {
  run_callback_race(2);
}

Test(future, callback_runs_exactly_once_when_racing_completion_inline, .timeout = 60) {
  run_callback_race(0);
}

static void *race_wait(void *arg) {
  race_args *ra = arg;
  for (size_t i = 0; i < ra->n; i++) {
    cr_assert_eq(cqlmux_future_wait(ra->slots[i].f), CQLMUX_ERR_TIMEOUT);
    atomic_fetch_add(&ra->slots[i].calls, 1);
  }
  return NULL;
}

Test(future, waits_never_miss_a_racing_completion, .timeout = 60) {
  enum { N = 20000 };
  race_slot *slots = calloc(N, sizeof *slots);
  for (size_t i = 0; i < N; i++) {
    slots[i].f = cqlmux_future_new(NULL, NULL);
    atomic_store(&slots[i].go, 1);
  }
  race_args ra = {slots, N};
  pthread_t completer, w;
  pthread_create(&w, NULL, race_wait, &ra);
  pthread_create(&completer, NULL, race_complete, &ra);
  pthread_join(completer, NULL);
  pthread_join(w, NULL);
  for (size_t i = 0; i < N; i++) {
    cr_assert_eq(atomic_load(&slots[i].calls), 1);
    cqlmux_future_free(slots[i].f);
  }
  free(slots);
}

Test(future, allocation_failure_returns_null) {
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  atomic_store(&a.fail_at, 1);
  cr_assert_null(cqlmux_future_new(&a.hook, NULL));
  atomic_store(&a.fail_at, 0);
  /* A message copy that fails falls back to the generic description. */
  cqlmux_future *f = cqlmux_future_new(&a.hook, NULL);
  atomic_store(&a.fail_at, atomic_load(&a.total) + 1);
  cqlmux_future_complete(f, CQLMUX_ERR_AUTH, "bad credentials", NULL, NULL);
  cr_assert_str_eq(cqlmux_future_error_message(f), cqlmux_strerror(CQLMUX_ERR_AUTH));
  cqlmux_future_release(f);
  cqlmux_future_free(f);
  cr_assert_eq(atomic_load(&a.live), 0);
}

/* An embedded future: the object holding it is its payload, given back when
 * the last reference goes; then it is armed again for another use, with no
 * allocation but the error message's copy. */
typedef struct holder {
  cqlmux_future future;
  _Atomic int recycled;
} holder;

static void recycle_holder(void *payload) { atomic_fetch_add(&((holder *)payload)->recycled, 1); }

Test(future, embedded_future_is_reused_without_allocating) {
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  holder h;
  cqlmux_future_embed_init(&h.future, &a.hook);
  atomic_init(&h.recycled, 0);
  for (int use = 0; use < 3; use++) {
    cqlmux_future_embed_arm(&h.future, NULL);
    cqlmux_future *f = &h.future;
    cr_assert_eq(cqlmux_future_ready(f), 0);
    cr_assert_eq(cqlmux_future_error(f), CQLMUX_ERR_NOT_READY);
    int error = use == 1 ? CQLMUX_ERR_TIMEOUT : CQLMUX_OK;
    cr_assert_eq(cqlmux_future_complete(f, error, "late", &h, recycle_holder), CQLMUX_OK);
    cqlmux_future_release(f); /* the library's reference */
    cr_assert_eq(cqlmux_future_error(f), error);
    if (use == 1) cr_assert_str_eq(cqlmux_future_error_message(f), "late");
    cr_assert_eq(cqlmux_future_payload(f), &h);
    cr_assert_eq(atomic_load(&h.recycled), use, "still held by the caller");
    cqlmux_future_free(f);
    cr_assert_eq(atomic_load(&h.recycled), use + 1, "the last reference gives the holder back");
  }
  cr_assert_eq(atomic_load(&a.live), 0, "the message copy is freed with its use");
  cr_assert_eq(atomic_load(&a.total), 1, "only the one error message was allocated");
  cqlmux_future_embed_destroy(&h.future);
}

static void embedded_cb(cqlmux_future *f, void *ud) {
  atomic_fetch_add((_Atomic int *)ud, 1);
  cqlmux_future_free(f);
}

Test(future, embedded_future_callback_runs_on_a_worker_then_recycles) {
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_workers *w = NULL;
  cr_assert_eq(cqlmux_workers_new(&a.hook, NULL, 1, 16, &w), CQLMUX_OK);
  holder h;
  _Atomic int calls = 0;
  cqlmux_future_embed_init(&h.future, &a.hook);
  atomic_init(&h.recycled, 0);
  for (int use = 0; use < 100; use++) {
    cqlmux_future_embed_arm(&h.future, w);
    cr_assert_eq(cqlmux_future_set_callback(&h.future, embedded_cb, &calls), CQLMUX_OK);
    cqlmux_future_complete(&h.future, CQLMUX_OK, NULL, &h, recycle_holder);
    cqlmux_future_release(&h.future);
    for (int i = 0; i < 5000 && atomic_load(&h.recycled) <= use; i++) usleep(1000);
    cr_assert_eq(atomic_load(&h.recycled), use + 1);
  }
  cr_assert_eq(atomic_load(&calls), 100);
  cqlmux_workers_free(w);
  cqlmux_future_embed_destroy(&h.future);
}

/* ------------------------------------------------- sleeping on the state word
 *
 * A waiting thread sleeps on the future's state word (a futex on Linux; the
 * striped condition variables when built with CQLMUX_FUTURE_PORTABLE_WAIT,
 * as test_future_portable is). These hold for both. */

#include "runtime/clock.h"

Test(future, timed_wait_expires_on_time_then_completion_is_seen) {
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  uint64_t t0 = cqlmux_clock_now_us();
  cr_assert_eq(cqlmux_future_wait_timed(f, 30000), CQLMUX_ERR_NOT_READY);
  uint64_t waited = cqlmux_clock_now_us() - t0;
  cr_assert_geq(waited, 30000, "returned after %llu us, before the deadline",
                (unsigned long long)waited);
  cr_assert_lt(waited, 5u * 1000 * 1000, "slept %llu us", (unsigned long long)waited);
  /* The thread that timed out left WAITERS set: completion wakes nobody and
   * a later wait returns at once. */
  cqlmux_future_complete(f, CQLMUX_OK, NULL, NULL, NULL);
  cr_assert_eq(cqlmux_future_wait_timed(f, 30000), CQLMUX_OK);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK);
  cqlmux_future_release(f);
  cqlmux_future_free(f);
}

static void *timed_waiter(void *arg) {
  return (void *)(intptr_t)cqlmux_future_wait_timed(arg, 10u * 1000 * 1000);
}

Test(future, timed_wait_is_woken_by_completion_well_before_its_deadline) {
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  pthread_t t;
  uint64_t t0 = cqlmux_clock_now_us();
  pthread_create(&t, NULL, timed_waiter, f);
  rt_sleep_us(20000); /* most likely asleep by now; either way it must see DONE */
  cqlmux_future_complete(f, CQLMUX_ERR_TIMEOUT, "slow", NULL, NULL);
  void *rc;
  pthread_join(t, &rc);
  cr_assert_eq((int)(intptr_t)rc, CQLMUX_ERR_TIMEOUT);
  cr_assert_lt(cqlmux_clock_now_us() - t0, 5u * 1000 * 1000, "woken, not timed out");
  cqlmux_future_release(f);
  cqlmux_future_free(f);
}

Test(future, wait_after_completion_returns_at_once) {
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  cqlmux_future_complete(f, CQLMUX_ERR_BUSY, NULL, NULL, NULL);
  uint64_t t0 = cqlmux_clock_now_us();
  for (int i = 0; i < 1000; i++) {
    cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_BUSY);
    cr_assert_eq(cqlmux_future_wait_timed(f, 1000000), CQLMUX_ERR_BUSY);
  }
  cr_assert_lt(cqlmux_clock_now_us() - t0, 1000000);
  cqlmux_future_release(f);
  cqlmux_future_free(f);
}

/* Many threads on one future, half of them with deadlines far away, half of
 * them with deadlines that pass first: every untimed or far waiter sees the
 * completion, every near one times out and none hangs. */
typedef struct many_arg {
  cqlmux_future *f;
  uint64_t timeout_us; /* 0: untimed */
  _Atomic int *asleep;
} many_arg;

static void *many_waiter(void *arg) {
  many_arg *a = arg;
  atomic_fetch_add(a->asleep, 1);
  int rc = a->timeout_us ? cqlmux_future_wait_timed(a->f, a->timeout_us) : cqlmux_future_wait(a->f);
  return (void *)(intptr_t)rc;
}

Test(future, many_waiters_all_wake_and_near_deadlines_expire, .timeout = 60) {
  enum { N = 24 };
  cqlmux_future *f = cqlmux_future_new(NULL, NULL);
  _Atomic int asleep = 0;
  many_arg args[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    args[i] = (many_arg){f, i % 3 == 0 ? 0 : i % 3 == 1 ? 20u * 1000 * 1000 : 5000, &asleep};
    pthread_create(&t[i], NULL, many_waiter, &args[i]);
  }
  cr_assert(rt_wait_int_at_least(&asleep, N, 10000));
  rt_sleep_us(50000); /* the 5 ms waiters have timed out */
  cqlmux_future_complete(f, CQLMUX_ERR_SERVER, "late", NULL, NULL);
  for (int i = 0; i < N; i++) {
    void *rc;
    pthread_join(t[i], &rc);
    int want = args[i].timeout_us == 5000 ? CQLMUX_ERR_NOT_READY : CQLMUX_ERR_SERVER;
    cr_assert_eq((int)(intptr_t)rc, want, "waiter %d (timeout %llu us)", i,
                 (unsigned long long)args[i].timeout_us);
  }
  cqlmux_future_release(f);
  cqlmux_future_free(f);
}

/* Many futures, each with its own waiter, completed in a burst from another
 * thread: on the portable path futures share condition variables, so a
 * broadcast for one must not be taken for another's. */
Test(future, waiters_of_many_futures_each_see_their_own, .timeout = 60) {
  enum { N = 64 };
  cqlmux_future *fs[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    fs[i] = cqlmux_future_new(NULL, NULL);
    pthread_create(&t[i], NULL, waiter, fs[i]);
  }
  rt_sleep_us(20000);
  for (int i = 0; i < N; i += 2) cqlmux_future_complete(fs[i], CQLMUX_ERR_TIMEOUT, NULL, NULL, NULL);
  for (int i = 0; i < N; i += 2) {
    void *rc;
    pthread_join(t[i], &rc);
    cr_assert_eq((int)(intptr_t)rc, CQLMUX_ERR_TIMEOUT);
  }
  for (int i = 1; i < N; i += 2) cr_assert_eq(cqlmux_future_ready(fs[i]), 0);
  for (int i = 1; i < N; i += 2) cqlmux_future_complete(fs[i], CQLMUX_ERR_BUSY, NULL, NULL, NULL);
  for (int i = 1; i < N; i += 2) {
    void *rc;
    pthread_join(t[i], &rc);
    cr_assert_eq((int)(intptr_t)rc, CQLMUX_ERR_BUSY);
  }
  for (int i = 0; i < N; i++) {
    cqlmux_future_release(fs[i]);
    cqlmux_future_free(fs[i]);
  }
}

/* An embedded future waited on by another thread, recycled and waited on
 * again: arming clears the WAITERS of the previous use. */
static void *wait_then_free(void *arg) {
  int rc = cqlmux_future_wait(arg);
  cqlmux_future_free(arg);
  return (void *)(intptr_t)rc;
}

Test(future, embedded_future_waited_on_across_reuses, .timeout = 60) {
  holder h;
  cqlmux_future_embed_init(&h.future, NULL);
  atomic_init(&h.recycled, 0);
  for (int use = 0; use < 200; use++) {
    cqlmux_future_embed_arm(&h.future, NULL);
    pthread_t t;
    pthread_create(&t, NULL, wait_then_free, &h.future);
    if (use % 2) rt_sleep_us(200); /* sometimes asleep, sometimes not yet */
    int error = use % 3 ? CQLMUX_OK : CQLMUX_ERR_TIMEOUT;
    cr_assert_eq(cqlmux_future_complete(&h.future, error, NULL, &h, recycle_holder), CQLMUX_OK);
    cqlmux_future_release(&h.future);
    void *rc;
    pthread_join(t, &rc);
    cr_assert_eq((int)(intptr_t)rc, error);
    cr_assert_eq(atomic_load(&h.recycled), use + 1);
  }
  cqlmux_future_embed_destroy(&h.future);
}

/* Sizes that pooled calls depend on (one per request in flight). */
Test(future, future_is_small) {
  cr_assert_leq(sizeof(cqlmux_future), 88, "cqlmux_future is %zu bytes", sizeof(cqlmux_future));
}

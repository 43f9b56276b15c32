#include "runtime/future.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/clock.h"
#include "runtime/intrusive.h"
#include "runtime/thread_role.h"

/* How a waiting thread sleeps. On Linux, on the state word itself (a
 * futex): the future needs no lock or condition variable of its own, and a
 * completion issues the wake-up system call only when WAITERS says a thread
 * may be asleep. Elsewhere (or when CQLMUX_FUTURE_PORTABLE_WAIT is defined,
 * which a test does to exercise it on Linux), on one of a few condition
 * variables shared by all futures, picked by the future's address. */
#if defined(__linux__) && !defined(CQLMUX_FUTURE_PORTABLE_WAIT)
#define FUTURE_FUTEX 1
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#define FUTURE_FUTEX 0
#include <errno.h>
#include <pthread.h>
#endif

enum {
  FUT_COMPLETING = 1u << 0,
  FUT_DONE = 1u << 1,
  FUT_CB_CLAIM = 1u << 2,
  FUT_CB_SET = 1u << 3,
  FUT_WAITERS = 1u << 4,
  FUT_FREED = 1u << 5,
  FUT_EMBEDDED = 1u << 6
};

/* A plain future and the copy of its allocator, in one block. */
typedef struct plain_future {
  cqlmux_future future;
  cqlmux_allocator alloc;
} plain_future;

/* ------------------------------------------------------- sleeping, waking */

#if FUTURE_FUTEX

/* The kernel reads the state word as a plain 32-bit integer. */
_Static_assert(sizeof(_Atomic unsigned) == sizeof(uint32_t), "futex word is 32 bits");

/* Sleeps while the state word still equals `seen`: returns when woken, when
 * the word already differs (or changes before the kernel queues us), on a
 * signal, or spuriously; false only when `deadline` (absolute,
 * CLOCK_MONOTONIC; NULL = none) has passed. FUTEX_WAIT_BITSET takes an
 * absolute deadline on CLOCK_MONOTONIC (without FUTEX_CLOCK_REALTIME), the
 * clock of cqlmux_clock_deadline. */
static bool word_sleep(cqlmux_future *f, unsigned seen, const struct timespec *deadline) {
  long rc = syscall(SYS_futex, (uint32_t *)&f->state, FUTEX_WAIT_BITSET_PRIVATE, seen, deadline,
                    NULL, FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

static void word_wake_all(cqlmux_future *f) {
  syscall(SYS_futex, (uint32_t *)&f->state, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Sleep until DONE or until `deadline` (NULL = none). Returns is_done().
 *
 * No wake-up is lost: WAITERS is set (one read-modify-write) before the
 * state is checked, and the kernel queues us only if the word still holds
 * the value we saw. A completion's DONE either comes before our RMW (we see
 * it and do not sleep) or after it, in which case complete() sees WAITERS
 * and wakes every sleeper after DONE changed the word: a sleeper queued
 * before is woken, one arriving after finds the word changed. */
static bool sleep_until_done(cqlmux_future *f, const struct timespec *deadline) {
  /* acquire: as in is_done(), for the DONE we may see here. */
  unsigned s = atomic_fetch_or_explicit(&f->state, FUT_WAITERS, memory_order_acquire) | FUT_WAITERS;
  while (!(s & FUT_DONE)) {
    bool in_time = word_sleep(f, s, deadline);
    s = atomic_load_explicit(&f->state, memory_order_acquire); /* as in is_done() */
    if (!in_time) break;
  }
  return s & FUT_DONE;
}

/* Called by complete() after setting DONE, when WAITERS was set. */
static void wake_waiters(cqlmux_future *f) { word_wake_all(f); }

#else /* portable: striped condition variables */

/* Futures hash onto these; a completion broadcasts on its stripe, so the
 * waiters of other futures on it wake up, see their future still pending
 * and sleep again. 64 stripes keep that rare for the few threads that block
 * at once. */
#define WAIT_STRIPES 64

static struct wait_stripe {
  pthread_mutex_t lock;
  pthread_cond_t cond;
} stripes[WAIT_STRIPES];

static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;

/* Timed waits use CLOCK_MONOTONIC deadlines. */
static void stripes_init(void) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  for (size_t i = 0; i < WAIT_STRIPES; i++) {
    pthread_mutex_init(&stripes[i].lock, NULL);
    pthread_cond_init(&stripes[i].cond, &attr);
  }
  pthread_condattr_destroy(&attr);
}

static struct wait_stripe *stripe_of(const cqlmux_future *f) {
  uintptr_t a = (uintptr_t)f;
  a ^= a >> 12; /* futures in one pooled slab differ in the middle bits */
  return &stripes[(a >> 4) % WAIT_STRIPES];
}

/* Sleep until DONE or until `deadline` (NULL = none). Returns is_done().
 * WAITERS is set under the stripe's mutex, so a completer that sees it
 * broadcasts only once we are inside pthread_cond_wait. */
static bool sleep_until_done(cqlmux_future *f, const struct timespec *deadline) {
  pthread_once(&stripes_once, stripes_init);
  struct wait_stripe *w = stripe_of(f);
  pthread_mutex_lock(&w->lock);
  /* acquire: as in is_done(). */
  unsigned s = atomic_fetch_or_explicit(&f->state, FUT_WAITERS, memory_order_acquire);
  int rc = 0;
  while (!(s & FUT_DONE) && rc != ETIMEDOUT) {
    rc = deadline ? pthread_cond_timedwait(&w->cond, &w->lock, deadline)
                  : pthread_cond_wait(&w->cond, &w->lock);
    s = atomic_load_explicit(&f->state, memory_order_acquire); /* as in is_done() */
  }
  pthread_mutex_unlock(&w->lock);
  return s & FUT_DONE;
}

static void wake_waiters(cqlmux_future *f) {
  /* The waiter that set WAITERS initialized the stripes; pthread_once is
   * what makes that initialization visible on this thread. */
  pthread_once(&stripes_once, stripes_init);
  struct wait_stripe *w = stripe_of(f);
  pthread_mutex_lock(&w->lock);
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

#endif

/* ------------------------------------------------------------- life cycle */

static void run_callback(cqlmux_task *task, int status) {
  (void)status; /* workers never cancel: always CQLMUX_OK */
  cqlmux_future *f = cqlmux_container_of(task, cqlmux_future, task);
  cqlmux_thread_enter_callback();
  f->callback(f, f->callback_data);
  cqlmux_thread_leave_callback();
  cqlmux_future_release(f);
}

cqlmux_future *cqlmux_future_new(const cqlmux_allocator *alloc, cqlmux_workers *workers) {
  if (!alloc) alloc = cqlmux_default_allocator();
  plain_future *p = cqlmux_mem_calloc(alloc, 1, sizeof *p);
  if (!p) return NULL;
  p->alloc = *alloc;
  cqlmux_future *f = &p->future;
  atomic_init(&f->state, 0);
  atomic_init(&f->refs, 2);
  f->alloc = &p->alloc;
  f->workers = workers;
  cqlmux_task_init(&f->task, run_callback);
  return f;
}

void cqlmux_future_embed_init(cqlmux_future *f, const cqlmux_allocator *alloc) {
  memset(f, 0, sizeof *f);
  atomic_init(&f->state, FUT_EMBEDDED);
  f->alloc = alloc ? alloc : cqlmux_default_allocator();
  cqlmux_task_init(&f->task, run_callback);
}

void cqlmux_future_embed_arm(cqlmux_future *f, cqlmux_workers *workers) {
  /* relaxed: the future is not shared yet; the hand-off to another thread
   * (the post to an I/O loop: an MPSC push, seq_cst) publishes these. */
  atomic_store_explicit(&f->state, FUT_EMBEDDED, memory_order_relaxed);
  atomic_store_explicit(&f->refs, 2, memory_order_relaxed);
  f->workers = workers;
  f->callback = NULL;
  f->callback_data = NULL;
  f->error = CQLMUX_OK;
  f->message = NULL;
  f->payload = NULL;
  f->payload_free = NULL;
}

/* Nothing to release: the future owns no lock or other resource. Kept so
 * that owners need not know. */
void cqlmux_future_embed_destroy(cqlmux_future *f) { (void)f; }

static void destroy(cqlmux_future *f) {
  /* relaxed: EMBEDDED does not change during a use; the last reference's
   * acquire (release()) already ordered everything before. */
  bool embedded = atomic_load_explicit(&f->state, memory_order_relaxed) & FUT_EMBEDDED;
  cqlmux_mem_free(f->alloc, f->message);
  f->message = NULL;
  if (embedded) {
    /* Gives back the object holding f: f is not touched after this (its
     * allocator may go with the object's owner). */
    if (f->payload_free) f->payload_free(f->payload);
    return;
  }
  if (f->payload && f->payload_free) f->payload_free(f->payload);
  plain_future *p = cqlmux_container_of(f, plain_future, future);
  cqlmux_allocator alloc = p->alloc; /* it lives in the block being freed */
  cqlmux_mem_free(&alloc, p);
}

void cqlmux_future_retain(cqlmux_future *f) {
  /* relaxed: the caller holds a reference, so the count cannot reach zero
   * concurrently; nothing is published by taking one. */
  atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void cqlmux_future_release(cqlmux_future *f) {
  /* acq_rel: release publishes this thread's writes to whoever frees;
   * acquire (on the last decrement) makes every other thread's writes
   * visible before destroy() reads the payload and message. */
  if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) destroy(f);
}

static char *copy_message(const cqlmux_allocator *alloc, const char *message) {
  if (!message) return NULL;
  size_t len = strlen(message) + 1;
  char *copy = cqlmux_mem_malloc(alloc, len);
  if (copy) memcpy(copy, message, len);
  return copy; /* NULL on NOMEM: the message falls back to cqlmux_strerror */
}

int cqlmux_future_complete(cqlmux_future *f, int error, const char *message, void *payload,
                           cqlmux_payload_free_fn payload_free) {
  /* relaxed: only the read-modify-write's atomicity matters; it elects the
   * single completer. */
  unsigned old = atomic_fetch_or_explicit(&f->state, FUT_COMPLETING, memory_order_relaxed);
  if (old & FUT_COMPLETING) return CQLMUX_ERR_INVALID_STATE;
  f->error = error;
  f->message = error != CQLMUX_OK ? copy_message(f->alloc, message) : NULL;
  f->payload = payload;
  f->payload_free = payload_free;
  /* acq_rel: release publishes the result to readers that acquire DONE;
   * acquire pairs with set_callback's release of CB_SET, so the callback
   * fields are visible when we dispatch. */
  old = atomic_fetch_or_explicit(&f->state, FUT_DONE, memory_order_acq_rel);
  /* A waiter may return as soon as DONE is set, but f stays valid through
   * the wake-up: our caller holds a reference. */
  if (old & FUT_WAITERS) wake_waiters(f);
  if (old & FUT_CB_SET) {
    cqlmux_future_retain(f); /* dropped by run_callback */
    cqlmux_workers_submit(f->workers, &f->task);
  }
  return CQLMUX_OK;
}

int cqlmux_future_set_callback(cqlmux_future *f, cqlmux_future_callback callback,
                               void *user_data) {
  if (!f || !callback) return CQLMUX_ERR_INVALID_ARGUMENT;
  /* relaxed: the RMW only elects one caller; publication is by CB_SET. */
  unsigned old = atomic_fetch_or_explicit(&f->state, FUT_CB_CLAIM, memory_order_relaxed);
  if (old & FUT_CB_CLAIM) return CQLMUX_ERR_INVALID_STATE;
  f->callback = callback;
  f->callback_data = user_data;
  /* acq_rel: release publishes the callback fields to complete(); acquire
   * pairs with complete's release of DONE, so the result is visible to the
   * callback we may run below. */
  old = atomic_fetch_or_explicit(&f->state, FUT_CB_SET, memory_order_acq_rel);
  if (old & FUT_DONE) {
    cqlmux_future_retain(f); /* dropped by run_callback */
    run_callback(&f->task, CQLMUX_OK);
  }
  return CQLMUX_OK;
}

static bool is_done(const cqlmux_future *f) {
  /* acquire: pairs with complete's release of DONE; the result fields may be
   * read after this returns true. */
  return atomic_load_explicit(&f->state, memory_order_acquire) & FUT_DONE;
}

static int wait_common(cqlmux_future *f, const uint64_t *timeout_us) {
  if (!f) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (!cqlmux_thread_may_block()) return CQLMUX_ERR_WOULD_DEADLOCK;
  if (is_done(f)) return f->error;
  if (timeout_us && *timeout_us == 0) return CQLMUX_ERR_NOT_READY;
  struct timespec deadline;
  if (timeout_us) deadline = cqlmux_clock_deadline(*timeout_us);
  return sleep_until_done(f, timeout_us ? &deadline : NULL) ? f->error : CQLMUX_ERR_NOT_READY;
}

int cqlmux_future_wait(cqlmux_future *f) { return wait_common(f, NULL); }

int cqlmux_future_wait_timed(cqlmux_future *f, uint64_t timeout_us) {
  return wait_common(f, &timeout_us);
}

int cqlmux_future_ready(const cqlmux_future *f) { return f && is_done(f); }

int cqlmux_future_error(const cqlmux_future *f) {
  if (!f) return CQLMUX_ERR_INVALID_ARGUMENT;
  return is_done(f) ? f->error : CQLMUX_ERR_NOT_READY;
}

const char *cqlmux_future_error_message(const cqlmux_future *f) {
  if (!f || !is_done(f) || f->error == CQLMUX_OK) return NULL;
  return f->message ? f->message : cqlmux_strerror(f->error);
}

void *cqlmux_future_payload(const cqlmux_future *f) { return is_done(f) ? f->payload : NULL; }

void *cqlmux_future_payload_of(const cqlmux_future *f, cqlmux_payload_free_fn kind) {
  return is_done(f) && f->payload_free == kind ? f->payload : NULL;
}

void cqlmux_future_free(cqlmux_future *f) {
  if (!f) return;
  /* relaxed: only elects the first call; the reference drop orders memory. */
  unsigned old = atomic_fetch_or_explicit(&f->state, FUT_FREED, memory_order_relaxed);
  if (old & FUT_FREED) return;
  cqlmux_future_release(f);
}

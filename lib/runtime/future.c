#include "runtime/future.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/clock.h"
#include "runtime/intrusive.h"
#include "runtime/thread_role.h"

enum {
  FUT_COMPLETING = 1u << 0,
  FUT_DONE = 1u << 1,
  FUT_CB_CLAIM = 1u << 2,
  FUT_CB_SET = 1u << 3,
  FUT_WAITERS = 1u << 4,
  FUT_FREED = 1u << 5
};

static pthread_once_t condattr_once = PTHREAD_ONCE_INIT;
static pthread_condattr_t condattr;

/* Timed waits use CLOCK_MONOTONIC deadlines. */
static void condattr_init(void) {
  pthread_condattr_init(&condattr);
  pthread_condattr_setclock(&condattr, CLOCK_MONOTONIC);
}

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
  cqlmux_future *f = cqlmux_mem_calloc(alloc, 1, sizeof *f);
  if (!f) return NULL;
  pthread_once(&condattr_once, condattr_init);
  atomic_init(&f->state, 0);
  atomic_init(&f->refs, 2);
  f->alloc = *alloc;
  f->workers = workers;
  cqlmux_task_init(&f->task, run_callback);
  pthread_mutex_init(&f->mutex, NULL);
  pthread_cond_init(&f->cond, &condattr);
  return f;
}

void cqlmux_future_embed_init(cqlmux_future *f, const cqlmux_allocator *alloc) {
  if (!alloc) alloc = cqlmux_default_allocator();
  memset(f, 0, sizeof *f);
  pthread_once(&condattr_once, condattr_init);
  f->alloc = *alloc;
  f->embedded = true;
  cqlmux_task_init(&f->task, run_callback);
  pthread_mutex_init(&f->mutex, NULL);
  pthread_cond_init(&f->cond, &condattr);
}

void cqlmux_future_embed_arm(cqlmux_future *f, cqlmux_workers *workers) {
  /* relaxed: the future is not shared yet; the hand-off to another thread
   * (the post to an I/O loop: an MPSC push, seq_cst) publishes these. */
  atomic_store_explicit(&f->state, 0, memory_order_relaxed);
  atomic_store_explicit(&f->refs, 2, memory_order_relaxed);
  f->workers = workers;
  f->callback = NULL;
  f->callback_data = NULL;
  f->error = CQLMUX_OK;
  f->message = NULL;
  f->payload = NULL;
  f->payload_free = NULL;
}

void cqlmux_future_embed_destroy(cqlmux_future *f) {
  pthread_cond_destroy(&f->cond);
  pthread_mutex_destroy(&f->mutex);
}

static void destroy(cqlmux_future *f) {
  cqlmux_allocator alloc = f->alloc;
  cqlmux_mem_free(&alloc, f->message);
  f->message = NULL;
  if (f->embedded) {
    /* Gives back the object holding f: f is not touched after this. */
    if (f->payload_free) f->payload_free(f->payload);
    return;
  }
  if (f->payload && f->payload_free) f->payload_free(f->payload);
  pthread_cond_destroy(&f->cond);
  pthread_mutex_destroy(&f->mutex);
  cqlmux_mem_free(&alloc, f);
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
  f->message = error != CQLMUX_OK ? copy_message(&f->alloc, message) : NULL;
  f->payload = payload;
  f->payload_free = payload_free;
  /* acq_rel: release publishes the result to readers that acquire DONE;
   * acquire pairs with set_callback's release of CB_SET, so the callback
   * fields are visible when we dispatch. */
  old = atomic_fetch_or_explicit(&f->state, FUT_DONE, memory_order_acq_rel);
  if (old & FUT_WAITERS) {
    pthread_mutex_lock(&f->mutex);
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mutex);
  }
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

/* Sleep until DONE or until `deadline` (NULL = none). Returns is_done(). */
static bool sleep_until_done(cqlmux_future *f, const struct timespec *deadline) {
  pthread_mutex_lock(&f->mutex);
  /* acquire: as in is_done(). The flag is set under the mutex, so a completer
   * that sees it broadcasts only once we are inside pthread_cond_wait. */
  unsigned s = atomic_fetch_or_explicit(&f->state, FUT_WAITERS, memory_order_acquire);
  int rc = 0;
  while (!(s & FUT_DONE) && rc == 0) {
    rc = deadline ? pthread_cond_timedwait(&f->cond, &f->mutex, deadline)
                  : pthread_cond_wait(&f->cond, &f->mutex);
    s = atomic_load_explicit(&f->state, memory_order_acquire); /* as in is_done() */
  }
  pthread_mutex_unlock(&f->mutex);
  return s & FUT_DONE;
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

void cqlmux_future_free(cqlmux_future *f) {
  if (!f) return;
  /* relaxed: only elects the first call; the reference drop orders memory. */
  unsigned old = atomic_fetch_or_explicit(&f->state, FUT_FREED, memory_order_relaxed);
  if (old & FUT_FREED) return;
  cqlmux_future_release(f);
}

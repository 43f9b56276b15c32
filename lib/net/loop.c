#include <config.h>

#include "net/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#ifdef HAVE_SYS_EVENTFD_H
#include <sys/eventfd.h>
#endif

#include "net/loop_backend.h"
#include "runtime/alloc.h"
#include "runtime/clock.h"
#include "runtime/colocation.h"
#include "runtime/intrusive.h"
#include "runtime/mpsc.h"
#include "runtime/spin_window.h"
#include "runtime/thread_role.h"
#include "runtime/workers.h"

/* Tasks run per turn before the loop polls its descriptors again, so that a
 * flood of posts cannot starve I/O. */
#define LOOP_TASK_BATCH 1024
/* Bounds of the watch for posts after a hand-off (watch_for_posts). */
#define LOOP_WATCH_MIN_US 5
#define LOOP_WATCH_MAX_US 50

struct cqlmux_loop {
  /* Shared with other threads, grouped by who writes them so that a post
   * does not bounce a line the loop writes on every turn: the queue keeps its
   * producers' tail and its consumer's head on separate lines; the flags
   * producers read on every post are written only around sleeps and stops. */
  cqlmux_mpsc queue;
  char pad0_[CQLMUX_CACHE_LINE]; /* a line between groups: the heap aligns to 16 only */
  _Atomic bool sleeping;     /* the loop is (about to be) blocked in wait */
  _Atomic bool wake_pending; /* a producer was granted the write for this sleep */
  _Atomic bool closing;      /* posts are refused */
  _Atomic int stop_mode;     /* 0 or a cqlmux_stop_mode */
  _Atomic uint64_t wakeups;  /* written by the producer that wakes the loop */
  /* Written by holders on any thread (the driver's per-request holds are
   * local_holds, below) or by the loop per sleep. */
  char pad1_[CQLMUX_CACHE_LINE];
  _Atomic size_t holds;
  _Atomic uint64_t sleeps;
  /* Loop thread only. */
  size_t local_holds; /* cqlmux_loop_hold_here */
  /* Completions went to an awake callback worker at handoff_us and no post
   * has run since (watch_for_posts). */
  bool handoff_pending;
  uint64_t handoff_us;
  bool poll_skipped; /* the last poll_io ran the watch's posts without polling */
  cqlmux_spin_window post_window;
  const cqlmux_backend_ops *backend;
  void *backend_state;
  int wake_read_fd;
  int wake_write_fd; /* == wake_read_fd for an eventfd */
  cqlmux_io_watch wake_watch;
  cqlmux_timer_heap timers;
  uint64_t now_us;
  cqlmux_loop_stop_handler stop_handlers; /* list head (sentinel) */
  bool finishing;
  bool finished;
  bool started;
  pthread_t thread;
  unsigned index;
  cqlmux_thread_hook thread_start;
  const cqlmux_allocator *alloc;
  const cqlmux_logger *logger;
};

static _Thread_local const cqlmux_loop *current_loop;

/* ------------------------------------------------------------------ backends */

static const cqlmux_backend_ops *find_backend(cqlmux_io_backend id) {
  if (id == CQLMUX_IO_BACKEND_DEFAULT) id = cqlmux_loop_default_backend();
#ifdef HAVE_SYS_EPOLL_H
  if (id == CQLMUX_IO_BACKEND_EPOLL) return &cqlmux_backend_epoll;
#endif
  if (id == CQLMUX_IO_BACKEND_POLL) return &cqlmux_backend_poll;
  return NULL;
}

bool cqlmux_loop_backend_available(cqlmux_io_backend backend) {
  return find_backend(backend) != NULL;
}

cqlmux_io_backend cqlmux_loop_default_backend(void) {
#ifdef CQLMUX_DEFAULT_BACKEND_EPOLL
  return CQLMUX_IO_BACKEND_EPOLL;
#else
  return CQLMUX_IO_BACKEND_POLL;
#endif
}

/* ------------------------------------------------------------------ wake-up */

static void wake_write(cqlmux_loop *loop) {
  /* An eventfd adds 8-byte counters; a pipe just needs a byte. A full pipe
   * (EAGAIN) is already readable, which is all a wake-up needs. */
  static const uint64_t one = 1;
  size_t len = loop->wake_read_fd == loop->wake_write_fd ? sizeof one : 1;
  while (write(loop->wake_write_fd, &one, len) < 0 && errno == EINTR) {
  }
  /* relaxed: a statistic. */
  atomic_fetch_add_explicit(&loop->wakeups, 1, memory_order_relaxed);
}

/* Wake the loop if it sleeps and nobody has yet. Any thread. */
static void loop_notify(cqlmux_loop *loop) {
  /* seq_cst: the caller's preceding seq_cst write (queue push, stop_mode,
   * holds) and this load pair with the loop's store of `sleeping` and its
   * re-check (Dekker): one of the two sides sees the other. */
  if (!atomic_load(&loop->sleeping)) return;
  if (atomic_exchange(&loop->wake_pending, true)) return;
  wake_write(loop);
}

static void wake_drain(cqlmux_io_watch *w, unsigned events) {
  (void)events;
  cqlmux_loop *loop = w->user_data;
  /* One read of an eventfd returns and resets its whole counter, so it is
   * drained by the first success; a pipe holds a byte per write and is read
   * until EAGAIN. */
  bool eventfd = loop->wake_read_fd == loop->wake_write_fd;
  uint64_t buf[16];
  for (;;) {
    ssize_t n = read(loop->wake_read_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0 && !eventfd) continue;
    return; /* drained, or EAGAIN */
  }
}

static int set_nonblocking_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int wake_open(cqlmux_loop *loop) {
#ifdef HAVE_SYS_EVENTFD_H
  if (loop->backend->wake_with_eventfd) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return CQLMUX_ERR_INVALID_STATE;
    loop->wake_read_fd = loop->wake_write_fd = fd;
    return CQLMUX_OK;
  }
#endif
  int fds[2];
  if (pipe(fds) < 0) return CQLMUX_ERR_INVALID_STATE;
  if (set_nonblocking_cloexec(fds[0]) < 0 || set_nonblocking_cloexec(fds[1]) < 0) {
    close(fds[0]);
    close(fds[1]);
    return CQLMUX_ERR_INVALID_STATE;
  }
  loop->wake_read_fd = fds[0];
  loop->wake_write_fd = fds[1];
  return CQLMUX_OK;
}

static void wake_close(cqlmux_loop *loop) {
  if (loop->wake_read_fd < 0) return;
  if (loop->wake_write_fd != loop->wake_read_fd) close(loop->wake_write_fd);
  close(loop->wake_read_fd);
  loop->wake_read_fd = loop->wake_write_fd = -1;
}

/* ------------------------------------------------------------------ creation */

static void loop_release_resources(cqlmux_loop *loop) {
  if (loop->backend_state) loop->backend->destroy(loop->backend_state);
  wake_close(loop);
  cqlmux_timer_heap_destroy(&loop->timers);
  cqlmux_mem_free(loop->alloc, loop);
}

static void loop_init_fields(cqlmux_loop *loop, const cqlmux_loop_config *config) {
  cqlmux_mpsc_init(&loop->queue);
  atomic_init(&loop->sleeping, false);
  atomic_init(&loop->wake_pending, false);
  atomic_init(&loop->closing, false);
  atomic_init(&loop->stop_mode, 0);
  atomic_init(&loop->holds, 0);
  atomic_init(&loop->wakeups, 0);
  atomic_init(&loop->sleeps, 0);
  loop->wake_read_fd = loop->wake_write_fd = -1;
  loop->alloc = config->alloc;
  loop->logger = config->logger;
  loop->index = config->index;
  loop->thread_start = config->thread_start;
  cqlmux_timer_heap_init(&loop->timers, config->alloc);
  loop->stop_handlers.prev = loop->stop_handlers.next = &loop->stop_handlers;
  loop->now_us = cqlmux_clock_now_us();
  cqlmux_spin_window_init(&loop->post_window, LOOP_WATCH_MIN_US, LOOP_WATCH_MAX_US);
}

int cqlmux_loop_new(const cqlmux_loop_config *config, cqlmux_loop **out) {
  const cqlmux_backend_ops *backend = find_backend(config->backend);
  if (!backend) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_loop *loop = cqlmux_mem_calloc(config->alloc, 1, sizeof *loop);
  if (!loop) return CQLMUX_ERR_NOMEM;
  loop_init_fields(loop, config);
  loop->backend = backend;
  int rc = backend->init(&loop->backend_state, loop->alloc);
  if (rc == CQLMUX_OK) rc = wake_open(loop);
  if (rc == CQLMUX_OK) {
    cqlmux_io_watch_init(&loop->wake_watch, loop->wake_read_fd, wake_drain, loop);
    rc = cqlmux_loop_watch(loop, &loop->wake_watch, CQLMUX_IO_READ);
  }
  if (rc != CQLMUX_OK) {
    cqlmux_log(loop->logger, CQLMUX_LOG_ERROR, "I/O loop %u: cannot set up the %s backend: %s",
               loop->index, backend->name, cqlmux_strerror(rc));
    loop_release_resources(loop);
    return rc;
  }
  *out = loop;
  return CQLMUX_OK;
}

/* ------------------------------------------------------------------ tasks */

/* The first post to run after a hand-off ends its gap (watch_for_posts). */
static void note_post(cqlmux_loop *loop) {
  if (!loop->handoff_pending) return;
  loop->handoff_pending = false;
  cqlmux_spin_window_record(&loop->post_window, cqlmux_clock_now_us() - loop->handoff_us);
}

/* Run up to a batch of queued tasks with `status`. True when more may be
 * waiting (batch full, or a producer is mid-push), so the loop must not
 * block. */
static bool run_tasks(cqlmux_loop *loop, int status, size_t limit) {
  for (size_t i = 0; i < limit; i++) {
    cqlmux_mpsc_node *node;
    cqlmux_mpsc_result r = cqlmux_mpsc_pop(&loop->queue, &node);
    if (r == CQLMUX_MPSC_EMPTY) return false;
    if (r == CQLMUX_MPSC_RETRY) return true;
    if (i == 0) note_post(loop);
    cqlmux_task *task = cqlmux_container_of(node, cqlmux_task, node);
    task->run(task, status);
  }
  return true;
}

/* Cancel everything queued, waiting out half-done pushes. */
static void cancel_tasks(cqlmux_loop *loop) {
  while (run_tasks(loop, CQLMUX_ERR_SHUTDOWN, SIZE_MAX)) sched_yield();
}

int cqlmux_loop_post(cqlmux_loop *loop, cqlmux_task *task) {
  if (atomic_load(&loop->closing)) {
    task->run(task, CQLMUX_ERR_SHUTDOWN);
    return CQLMUX_ERR_SHUTDOWN;
  }
  cqlmux_mpsc_push(&loop->queue, &task->node);
  loop_notify(loop);
  return CQLMUX_OK;
}

void cqlmux_loop_hold(cqlmux_loop *loop) {
  /* relaxed: holds are only compared with zero after a release; the
   * release's seq_cst decrement orders that. */
  atomic_fetch_add_explicit(&loop->holds, 1, memory_order_relaxed);
}

void cqlmux_loop_release(cqlmux_loop *loop) {
  /* seq_cst: a graceful stop may be waiting for zero; see loop_notify. */
  if (atomic_fetch_sub(&loop->holds, 1) == 1 && atomic_load(&loop->stop_mode) != 0)
    loop_notify(loop);
}

void cqlmux_loop_hold_here(cqlmux_loop *loop) { loop->local_holds++; }

/* No wake-up at zero: this runs on the loop thread, which checks
 * should_finish before it next sleeps. */
void cqlmux_loop_release_here(cqlmux_loop *loop) { loop->local_holds--; }

/* ------------------------------------------------------------------ timers */

/* Fire timers due by now. Timers armed during this pass (even with delay 0)
 * wait for the next turn, so a timer that re-arms itself cannot spin here. */
static void run_due_timers(cqlmux_loop *loop) {
  uint64_t first_new_seq = loop->timers.next_seq;
  for (;;) {
    cqlmux_timer *t = cqlmux_timer_heap_peek(&loop->timers);
    if (!t || t->deadline_us > loop->now_us || t->seq >= first_new_seq) return;
    cqlmux_timer_heap_remove(&loop->timers, t);
    t->fn(t, CQLMUX_OK);
  }
}

/* Milliseconds until the next timer, rounded up (never early); -1 if none. */
static int next_timeout_ms(const cqlmux_loop *loop) {
  cqlmux_timer *t = cqlmux_timer_heap_peek(&loop->timers);
  if (!t) return -1;
  if (t->deadline_us <= loop->now_us) return 0;
  uint64_t ms = (t->deadline_us - loop->now_us + 999) / 1000;
  return ms > INT_MAX ? INT_MAX : (int)ms;
}

int cqlmux_loop_timer_start(cqlmux_loop *loop, cqlmux_timer *timer, uint64_t delay_us) {
  cqlmux_timer_heap_remove(&loop->timers, timer);
  if (loop->finishing) return CQLMUX_ERR_SHUTDOWN;
  uint64_t deadline = loop->now_us + delay_us;
  if (deadline < loop->now_us) deadline = UINT64_MAX;
  return cqlmux_timer_heap_insert(&loop->timers, timer, deadline);
}

void cqlmux_loop_timer_stop(cqlmux_loop *loop, cqlmux_timer *timer) {
  cqlmux_timer_heap_remove(&loop->timers, timer);
}

uint64_t cqlmux_loop_now_us(const cqlmux_loop *loop) { return loop->now_us; }

uint64_t cqlmux_loop_thread_now_us(void) {
  return current_loop ? current_loop->now_us : cqlmux_clock_now_us();
}

/* ------------------------------------------------------------------ watches */

void cqlmux_io_watch_init(cqlmux_io_watch *w, int fd, cqlmux_io_fn fn, void *user_data) {
  w->fd = fd;
  w->events = 0;
  w->fn = fn;
  w->user_data = user_data;
  w->slot = 0;
  w->active = false;
}

int cqlmux_loop_watch(cqlmux_loop *loop, cqlmux_io_watch *w, unsigned events) {
  if (loop->finishing) return CQLMUX_ERR_SHUTDOWN;
  unsigned old = w->events;
  w->events = events & (CQLMUX_IO_READ | CQLMUX_IO_WRITE);
  int rc = loop->backend->watch(loop->backend_state, w);
  if (rc != CQLMUX_OK) {
    w->events = old;
    return rc;
  }
  w->active = true;
  return CQLMUX_OK;
}

void cqlmux_loop_unwatch(cqlmux_loop *loop, cqlmux_io_watch *w) {
  if (!w->active) return;
  loop->backend->unwatch(loop->backend_state, w);
  w->active = false;
}

/* ------------------------------------------------------------------ stop handlers */

void cqlmux_loop_add_stop_handler(cqlmux_loop *loop, cqlmux_loop_stop_handler *h) {
  cqlmux_loop_stop_handler *head = &loop->stop_handlers;
  h->prev = head->prev;
  h->next = head;
  head->prev->next = h;
  head->prev = h;
}

void cqlmux_loop_remove_stop_handler(cqlmux_loop *loop, cqlmux_loop_stop_handler *h) {
  (void)loop;
  if (!h->next) return;
  h->prev->next = h->next;
  h->next->prev = h->prev;
  h->prev = h->next = NULL;
}

static void run_stop_handlers(cqlmux_loop *loop) {
  cqlmux_loop_stop_handler *head = &loop->stop_handlers;
  while (head->next != head) {
    cqlmux_loop_stop_handler *h = head->next;
    cqlmux_loop_remove_stop_handler(loop, h);
    h->fn(h);
  }
}

/* ------------------------------------------------------------------ running */

static bool should_finish(cqlmux_loop *loop) {
  /* seq_cst loads: part of the Dekker handshake with stop/release (loop_notify). */
  int mode = atomic_load(&loop->stop_mode);
  if (mode == CQLMUX_STOP_IMMEDIATE) return true;
  return mode == CQLMUX_STOP_GRACEFUL && loop->local_holds == 0 &&
         atomic_load(&loop->holds) == 0 && cqlmux_mpsc_is_empty(&loop->queue);
}

/* Announce sleep, then re-check everything a producer may have changed
 * before it could see the announcement. Returns the timeout to use. */
static int prepare_sleep(cqlmux_loop *loop, int timeout_ms) {
  if (timeout_ms == 0) return 0;
  /* A new sleep may be woken once. Reset before announcing: a producer that
   * sees this sleep announced then finds the flag clear (seq_cst order). */
  atomic_store(&loop->wake_pending, false);
  atomic_store(&loop->sleeping, true); /* seq_cst: see loop_notify */
  if (!cqlmux_mpsc_is_empty(&loop->queue) || should_finish(loop)) {
    atomic_store(&loop->sleeping, false);
    return 0;
  }
  /* relaxed: a statistic. */
  atomic_fetch_add_explicit(&loop->sleeps, 1, memory_order_relaxed);
  return timeout_ms;
}

/* Completions handed to a worker that was awake start a gap, which the
 * next post ends; a hand-off with the previous gap still open ends it as a
 * miss (nothing was posted in between). So do completions that woke a
 * worker while this thread runs co-located with the pool (light load,
 * runtime/colocation.h): the worker then waits on this CPU, and the first
 * yield of watch_for_posts hands it the CPU at once, not after a wake-up
 * from idle elsewhere. */
static void note_handoff(cqlmux_loop *loop, cqlmux_handoff handoff) {
  if (handoff == CQLMUX_HANDOFF_NONE) return;
  if (handoff == CQLMUX_HANDOFF_WOKE && cqlmux_colocation_pinned() == CQLMUX_COLOCATION_NONE)
    return;
  uint64_t now = cqlmux_clock_now_us();
  if (loop->handoff_pending) cqlmux_spin_window_record(&loop->post_window, now - loop->handoff_us);
  loop->handoff_pending = true;
  loop->handoff_us = now;
}

/* After completions went to a callback worker that was awake, its
 * callbacks often post their next requests within microseconds (a caller
 * with one request in flight sends the next from the answer's callback).
 * Blocking first would make each such post pay an eventfd write and this
 * thread a wake-up, the two most expensive steps of a request at low
 * concurrency on a virtual machine; watching the queue for a while, as long
 * as such posts have recently taken (runtime/spin_window.h), catches them.
 * Not after waking a sleeping worker on another CPU: its wake-up takes
 * longer than the window (see note_handoff). Yields between looks: the
 * worker may share this CPU. True when a post came. */
static bool watch_for_posts(cqlmux_loop *loop) {
  if (!loop->handoff_pending) return false;
  uint64_t window = cqlmux_spin_window_us(&loop->post_window);
  if (window == 0) return false;
  uint64_t until = loop->handoff_us + window;
  while (cqlmux_mpsc_is_empty(&loop->queue)) {
    if (cqlmux_clock_now_us() >= until) return false;
    sched_yield();
  }
  return true;
}

static void poll_io(cqlmux_loop *loop, int timeout_ms) {
  /* Completions of this turn's timers and tasks reach their workers before
   * the loop may block (wake-ups are deferred on I/O threads: workers.h). */
  note_handoff(loop, cqlmux_workers_flush_wakeups());
  /* Posts caught by the watch run first, without a poll: the descriptors
   * were polled a moment ago, and the answers to what they send are what
   * this thread waits for next (a system call saved per hand-off; on the
   * virtual machines measured here each one costs microseconds). Never
   * twice in a row: callbacks that answer each completion with a post (a
   * request failed at once, retried at once) would otherwise keep the
   * descriptors unpolled. */
  if (timeout_ms != 0 && watch_for_posts(loop)) {
    if (!loop->poll_skipped) {
      loop->poll_skipped = true;
      return;
    }
    timeout_ms = 0;
  }
  loop->poll_skipped = false;
  loop->backend->wait(loop->backend_state, prepare_sleep(loop, timeout_ms));
  /* wake_pending stays set until the next sleep: a producer that still saw
   * `sleeping` just before this store must not write again. */
  atomic_store(&loop->sleeping, false);
  loop->now_us = cqlmux_clock_now_us();
  loop->backend->dispatch(loop->backend_state);
  note_handoff(loop, cqlmux_workers_flush_wakeups());
}

/* Fail everything still pending and leave the loop unusable for new work. */
static void loop_finish(cqlmux_loop *loop) {
  atomic_store(&loop->closing, true);
  loop->finishing = true;
  cancel_tasks(loop);
  run_stop_handlers(loop);
  cqlmux_timer *t;
  while ((t = cqlmux_timer_heap_pop(&loop->timers)) != NULL) t->fn(t, CQLMUX_ERR_SHUTDOWN);
  cancel_tasks(loop);
  loop->finished = true;
}

static void loop_run(cqlmux_loop *loop) {
  for (;;) {
    loop->now_us = cqlmux_clock_now_us();
    run_due_timers(loop);
    bool more = run_tasks(loop, CQLMUX_OK, LOOP_TASK_BATCH);
    if (should_finish(loop)) break;
    poll_io(loop, more ? 0 : next_timeout_ms(loop));
  }
  loop_finish(loop);
}

static void *loop_main(void *arg) {
  cqlmux_loop *loop = arg;
  current_loop = loop;
  cqlmux_thread_begin(CQLMUX_THREAD_IO, loop->index, &loop->thread_start);
  cqlmux_workers_defer_wakeups(true);
  cqlmux_log(loop->logger, CQLMUX_LOG_DEBUG, "I/O loop %u running (%s)", loop->index,
             loop->backend->name);
  loop_run(loop);
  cqlmux_workers_defer_wakeups(false); /* wakes for what finishing completed */
  cqlmux_log(loop->logger, CQLMUX_LOG_DEBUG, "I/O loop %u stopped", loop->index);
  return NULL;
}

int cqlmux_loop_start(cqlmux_loop *loop) {
  if (loop->started || loop->finished) return CQLMUX_ERR_INVALID_STATE;
  if (pthread_create(&loop->thread, NULL, loop_main, loop) != 0) {
    cqlmux_log(loop->logger, CQLMUX_LOG_ERROR, "cannot start I/O thread %u", loop->index);
    return CQLMUX_ERR_INVALID_STATE;
  }
  loop->started = true;
  return CQLMUX_OK;
}

void cqlmux_loop_stop(cqlmux_loop *loop, cqlmux_stop_mode mode) {
  atomic_store(&loop->closing, true);
  int cur = atomic_load(&loop->stop_mode);
  while (cur < (int)mode && !atomic_compare_exchange_weak(&loop->stop_mode, &cur, (int)mode)) {
  }
  loop_notify(loop);
}

void cqlmux_loop_join(cqlmux_loop *loop) {
  if (!loop->started) return;
  pthread_join(loop->thread, NULL);
  loop->started = false;
}

void cqlmux_loop_free(cqlmux_loop *loop) {
  if (!loop) return;
  if (loop->started) {
    cqlmux_loop_stop(loop, CQLMUX_STOP_IMMEDIATE);
    cqlmux_loop_join(loop);
  }
  if (!loop->finished) loop_finish(loop);
  cancel_tasks(loop); /* posts that raced with the stop */
  cqlmux_loop_unwatch(loop, &loop->wake_watch);
  loop_release_resources(loop);
}

/* ------------------------------------------------------------------ accessors */

bool cqlmux_loop_on_thread(const cqlmux_loop *loop) { return current_loop == loop; }

uint64_t cqlmux_loop_wakeups(cqlmux_loop *loop) {
  /* relaxed: a statistic. */
  return atomic_load_explicit(&loop->wakeups, memory_order_relaxed);
}

uint64_t cqlmux_loop_sleeps(cqlmux_loop *loop) {
  /* relaxed: a statistic. */
  return atomic_load_explicit(&loop->sleeps, memory_order_relaxed);
}

cqlmux_io_backend cqlmux_loop_backend(const cqlmux_loop *loop) { return loop->backend->id; }

const cqlmux_allocator *cqlmux_loop_allocator(const cqlmux_loop *loop) { return loop->alloc; }

const cqlmux_logger *cqlmux_loop_logger(const cqlmux_loop *loop) { return loop->logger; }

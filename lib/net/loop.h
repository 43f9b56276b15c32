/* The I/O loop: one thread, one epoll (or poll(2)) instance, and everything
 * that thread owns: file-descriptor watches, timers, and a submission queue.
 *
 * Threads. A loop runs on its own thread (cqlmux_loop_start). Functions
 * marked "loop thread" may be called only from that thread: from a watch,
 * timer, task or stop-handler callback, or before start / after join when no
 * thread runs the loop. Functions marked "any thread" are safe anywhere.
 *
 * Submission. cqlmux_loop_post() pushes a task on the loop's MPSC queue
 * (runtime/mpsc.h) and wakes the loop only if it sleeps and no wake-up is
 * already pending: the loop publishes `sleeping` before blocking and then
 * re-checks the queue; a producer pushes and then reads `sleeping` (both
 * seq_cst, a Dekker handshake), so either the loop sees the task or the
 * producer sees the sleeper. `wake_pending` (cleared just before each sleep
 * is announced, set by the one producer that writes) makes a burst of posts
 * cost at most one eventfd (or pipe) write per sleep of the loop, and none
 * while it is awake. cqlmux_loop_wakeups() counts the writes.
 *
 * Every task posted runs exactly once: on the loop thread with CQLMUX_OK, or
 * with CQLMUX_ERR_SHUTDOWN: inline on the posting thread when the loop is
 * already closing, on the loop thread when it stops with the task queued, or
 * on the thread calling cqlmux_loop_free() for a task that raced with the
 * stop.
 *
 * Stopping. cqlmux_loop_stop() closes the loop to new posts, then:
 *   graceful:  keeps running until the queue is empty and no holds remain
 *              (cqlmux_loop_hold_here: one per in-flight request), then finishes;
 *   immediate: finishes at once.
 * Finishing (on the loop thread): queued tasks run with SHUTDOWN, each stop
 * handler runs once (connections fail their in-flight requests and close),
 * armed timers fire with SHUTDOWN, and the thread exits.
 */
#ifndef CQLMUX_NET_LOOP_H
#define CQLMUX_NET_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"
#include "runtime/log.h"
#include "runtime/task.h"
#include "runtime/thread_role.h"
#include "runtime/timer_heap.h"

typedef struct cqlmux_loop cqlmux_loop;

typedef enum cqlmux_stop_mode {
  CQLMUX_STOP_GRACEFUL = 1, /* finish in-flight work (holds), then stop */
  CQLMUX_STOP_IMMEDIATE = 2 /* fail pending work with CQLMUX_ERR_SHUTDOWN now */
} cqlmux_stop_mode;

/* Readiness bits of a watch. */
enum {
  CQLMUX_IO_READ = 1u << 0,
  CQLMUX_IO_WRITE = 1u << 1,
  CQLMUX_IO_ERROR = 1u << 2 /* error or hang-up; reported even if not asked for */
};

typedef struct cqlmux_io_watch cqlmux_io_watch;

/* Runs on the loop thread when `watch->fd` is ready for `events` (level
 * triggered: again on the next turn if the condition persists). May call any
 * function of its loop: change or remove any watch, this one included, and
 * free this one after cqlmux_loop_unwatch(); must not block. Nothing is
 * borrowed beyond the call. */
typedef void (*cqlmux_io_fn)(cqlmux_io_watch *watch, unsigned events);

struct cqlmux_io_watch {
  int fd;
  unsigned events; /* CQLMUX_IO_READ | CQLMUX_IO_WRITE currently asked for */
  cqlmux_io_fn fn;
  void *user_data;
  size_t slot;     /* backend bookkeeping */
  bool active;     /* registered with the loop */
};

/* Runs once on the loop thread when the loop finishes (see above), after it
 * has been removed from the loop (or on the thread freeing a loop that never
 * started). It must fail what it owns with CQLMUX_ERR_SHUTDOWN and unwatch
 * its descriptors; watches and timers can no longer be added
 * (CQLMUX_ERR_SHUTDOWN). It may free the handler. */
typedef struct cqlmux_loop_stop_handler {
  struct cqlmux_loop_stop_handler *prev;
  struct cqlmux_loop_stop_handler *next;
  void (*fn)(struct cqlmux_loop_stop_handler *handler);
  void *user_data;
} cqlmux_loop_stop_handler;

typedef struct cqlmux_loop_config {
  cqlmux_io_backend backend;      /* CQLMUX_IO_BACKEND_DEFAULT: the build's */
  const cqlmux_allocator *alloc;  /* borrowed; NULL = libc */
  const cqlmux_logger *logger;    /* borrowed; NULL = default */
  unsigned index;                 /* for the thread name and log lines */
  cqlmux_thread_hook thread_start; /* run on the loop's thread as it starts */
} cqlmux_loop_config;

/* Whether this build and platform have `backend` (DEFAULT always). */
bool cqlmux_loop_backend_available(cqlmux_io_backend backend);

/* The backend DEFAULT stands for in this build. */
cqlmux_io_backend cqlmux_loop_default_backend(void);

/* ---------------------------------------------------------------- lifetime */

/* A loop, not yet running. CQLMUX_OK with *out set, or
 * CQLMUX_ERR_INVALID_ARGUMENT (backend unavailable), CQLMUX_ERR_NOMEM, or
 * CQLMUX_ERR_INVALID_STATE (the OS refused an epoll/eventfd/pipe), with
 * nothing left allocated. */
int cqlmux_loop_new(const cqlmux_loop_config *config, cqlmux_loop **out);

/* Start the loop's thread. CQLMUX_OK or CQLMUX_ERR_INVALID_STATE. */
int cqlmux_loop_start(cqlmux_loop *loop);

/* Request a stop (see above); a later IMMEDIATE upgrades a GRACEFUL one.
 * Any thread, including the loop's own. Returns at once. */
void cqlmux_loop_stop(cqlmux_loop *loop, cqlmux_stop_mode mode);

/* Wait for the loop's thread to exit (after stop). Not from the loop thread. */
void cqlmux_loop_join(cqlmux_loop *loop);

/* Free a loop that is joined or was never started. A never-started loop
 * finishes first (tasks, stop handlers, timers get SHUTDOWN). Watches are
 * forgotten; the loop never closes the descriptors. Accepts NULL. */
void cqlmux_loop_free(cqlmux_loop *loop);

/* ---------------------------------------------------------------- any thread */

/* Queue `task` to run on the loop thread. CQLMUX_OK, or CQLMUX_ERR_SHUTDOWN
 * when the loop is closing: the task has then already run with that status,
 * on this thread. Either way the task is consumed. */
int cqlmux_loop_post(cqlmux_loop *loop, cqlmux_task *task);

/* Keep a graceful stop waiting until the matching release. */
void cqlmux_loop_hold(cqlmux_loop *loop);
void cqlmux_loop_release(cqlmux_loop *loop);

/* The same, on the loop's own thread only (or on a loop that is not
 * running): a plain count that only that thread reads, so the per-request
 * holds (one from a request's write to its answer) cost no atomic
 * read-modify-write, which at thousands of requests in flight showed as ~5 %
 * of the I/O thread's samples. */
void cqlmux_loop_hold_here(cqlmux_loop *loop);
void cqlmux_loop_release_here(cqlmux_loop *loop);

/* True on the loop's own thread. */
bool cqlmux_loop_on_thread(const cqlmux_loop *loop);

/* Statistics: eventfd/pipe writes made to wake this loop, and how many
 * times it went to sleep (blocked with a non-zero timeout). */
uint64_t cqlmux_loop_wakeups(cqlmux_loop *loop);
uint64_t cqlmux_loop_sleeps(cqlmux_loop *loop);

cqlmux_io_backend cqlmux_loop_backend(const cqlmux_loop *loop);
const cqlmux_allocator *cqlmux_loop_allocator(const cqlmux_loop *loop);
const cqlmux_logger *cqlmux_loop_logger(const cqlmux_loop *loop);

/* ---------------------------------------------------------------- loop thread */

void cqlmux_io_watch_init(cqlmux_io_watch *watch, int fd, cqlmux_io_fn fn, void *user_data);

/* Watch (or change the interest of) a non-blocking descriptor. `events` may
 * be 0 (only errors are reported). CQLMUX_OK, CQLMUX_ERR_NOMEM,
 * CQLMUX_ERR_INVALID_STATE (the OS refused, e.g. a closed descriptor), or
 * CQLMUX_ERR_SHUTDOWN (the loop is finishing). */
int cqlmux_loop_watch(cqlmux_loop *loop, cqlmux_io_watch *watch, unsigned events);

/* Stop watching; no-op when not watched. Call it before closing the fd.
 * Pending events of this turn are discarded, so the struct may be freed
 * right after. */
void cqlmux_loop_unwatch(cqlmux_loop *loop, cqlmux_io_watch *watch);

/* Arm (or re-arm) `timer` to fire `delay_us` after the loop's current time.
 * CQLMUX_OK, CQLMUX_ERR_NOMEM, or CQLMUX_ERR_SHUTDOWN (loop finishing); the
 * timer is disarmed on failure. */
int cqlmux_loop_timer_start(cqlmux_loop *loop, cqlmux_timer *timer, uint64_t delay_us);

/* Disarm; the callback will not run. No-op when not armed. O(log n). */
void cqlmux_loop_timer_stop(cqlmux_loop *loop, cqlmux_timer *timer);

/* The loop's time (monotonic microseconds), refreshed once per turn. */
uint64_t cqlmux_loop_now_us(const cqlmux_loop *loop);

/* On a loop thread, that loop's time (no clock read: on virtual machines a
 * clock read costs ~30-80 ns, a visible share of a request); elsewhere the
 * clock. For timestamps where "when this turn began" is close enough. */
uint64_t cqlmux_loop_thread_now_us(void);

void cqlmux_loop_add_stop_handler(cqlmux_loop *loop, cqlmux_loop_stop_handler *handler);
void cqlmux_loop_remove_stop_handler(cqlmux_loop *loop, cqlmux_loop_stop_handler *handler);

#endif

/* The callback worker pool: M threads running completion tasks.
 *
 * Tasks (future callbacks, mostly) arrive through a bounded MPMC ring
 * (runtime/ring.h explains the choice). A worker out of work first watches
 * the ring for a learned while (runtime/spin_window.h), yielding the CPU
 * between looks, then sleeps on its own semaphore; a producer posts only
 * when it can claim a sleeping worker's slot, so a busy pool costs no
 * syscall and no lock per task, and a wake-up one futex wake and one wait.
 *
 * With 0 threads there is no ring: cqlmux_workers_submit() runs the task at
 * once on the calling thread (the I/O thread, for completions it decodes).
 *
 * When the ring is full: a worker thread runs the task itself (it is a
 * callback thread anyway, and waiting for space it would have to free itself
 * could deadlock); any other thread backs off (yield, then short sleeps)
 * until a worker frees a slot. Workers never wait on I/O threads (callbacks
 * must not block), so the wait always ends. Reaching this is the last line of
 * backpressure: the connection layer pauses reading sockets well before it,
 * when cqlmux_workers_depth() crosses its threshold.
 */
#ifndef CQLMUX_RUNTIME_WORKERS_H
#define CQLMUX_RUNTIME_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"
#include "runtime/log.h"
#include "runtime/task.h"
#include "runtime/thread_role.h"

typedef struct cqlmux_workers cqlmux_workers;

/* Start `threads` workers (0 = run tasks inline) around a ring of at least
 * `capacity` slots. `alloc` and `logger` are borrowed and must outlive the
 * pool. Returns CQLMUX_OK with *out set, or CQLMUX_ERR_NOMEM /
 * CQLMUX_ERR_INVALID_ARGUMENT / CQLMUX_ERR_INVALID_STATE (a thread could not
 * be created), leaving *out untouched and nothing running. */
int cqlmux_workers_new(const cqlmux_allocator *alloc, const cqlmux_logger *logger,
                       unsigned threads, size_t capacity, cqlmux_workers **out);

/* The same, and each worker runs `hook` (copied; NULL = none) as it starts,
 * with its index 0 .. threads - 1. */
int cqlmux_workers_new_hooked(const cqlmux_allocator *alloc, const cqlmux_logger *logger,
                              unsigned threads, size_t capacity, const cqlmux_thread_hook *hook,
                              cqlmux_workers **out);

/* Run `task` (with status CQLMUX_OK) on a worker, or inline when the pool has
 * no threads or has stopped, or when `workers` is NULL. Any thread. */
void cqlmux_workers_submit(cqlmux_workers *workers, cqlmux_task *task);

/* Deferred wake-ups, for the I/O threads. A thread that turns deferral on
 * still pushes every task at once, but wakes a sleeping worker only every
 * CQLMUX_WORKERS_DEFER_MAX tasks and when it calls
 * cqlmux_workers_flush_wakeups() (an I/O loop does, after each dispatch of
 * its descriptors and before it blocks). Without it, a worker faster than
 * the I/O thread falls asleep after nearly every completion and each one
 * costs a futex wake-up (two system calls and a context switch); with it,
 * one per batch. A full ring flushes first, so nothing waits on a worker
 * that was never woken. Thread-local; any pool. */
#define CQLMUX_WORKERS_DEFER_MAX 32
void cqlmux_workers_defer_wakeups(bool on);

/* What a flush found: no task pushed since the last one; a sleeping worker
 * had to be woken; or the tasks went to a worker that was awake (running or
 * watching the ring), whose callbacks may post their next requests back
 * within microseconds (the I/O loop watches for them: loop.c). */
typedef enum cqlmux_handoff {
  CQLMUX_HANDOFF_NONE,
  CQLMUX_HANDOFF_WOKE,
  CQLMUX_HANDOFF_AWAKE
} cqlmux_handoff;
cqlmux_handoff cqlmux_workers_flush_wakeups(void);

/* Light-load co-location (runtime/colocation.h), for a pool fed by one I/O
 * thread: while its flushes keep finding the workers asleep, or the pool
 * uses under half a CPU while its flushes carry full batches, that thread
 * pins itself to its CPU and the workers follow it there; otherwise, once
 * it keeps finding them awake, completions queue up, or the workers are
 * busy more than half of their time, all are released. Off by default; set
 * before the I/O thread starts. */
void cqlmux_workers_colocate(cqlmux_workers *workers, bool on);

/* Workers asleep, or announced and about to be (approximate; with nothing
 * queued, the next hand-off has to wake one when this is not 0). */
unsigned cqlmux_workers_sleeping(cqlmux_workers *workers);

/* Completions queued and not yet taken by a worker (approximate). */
size_t cqlmux_workers_depth(cqlmux_workers *workers);

unsigned cqlmux_workers_threads(const cqlmux_workers *workers);

/* How many times a producer woke a sleeping worker (a statistic). */
uint64_t cqlmux_workers_signals(cqlmux_workers *workers);

/* Run every queued task, then join the threads. Tasks submitted afterwards
 * run inline on the submitting thread. Idempotent; not from a worker. */
void cqlmux_workers_stop(cqlmux_workers *workers);

/* Stop (if needed) and free. Accepts NULL. */
void cqlmux_workers_free(cqlmux_workers *workers);

#endif

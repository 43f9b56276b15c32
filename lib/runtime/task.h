/* A unit of deferred work, embedded in the object it belongs to.
 *
 * The same task type travels on both queue kinds: posted to an I/O loop
 * (net/loop.h, through its MPSC queue) or submitted to the callback workers
 * (runtime/workers.h, through the completion ring).
 *
 * Contract: a task handed to a queue runs exactly once. `status` is
 * CQLMUX_OK when it runs normally, or CQLMUX_ERR_SHUTDOWN when its loop
 * stopped before running it; in both cases `run` owns the task again and may
 * free or reuse it.
 *
 * Thread: a posted task runs on its loop's thread with CQLMUX_OK; with
 * CQLMUX_ERR_SHUTDOWN it may run on the posting thread or the thread freeing
 * the loop (net/loop.h says when). A submitted task runs on a callback worker,
 * or inline on the submitting thread when the pool has no threads or has
 * stopped (runtime/workers.h).
 * May call: anything that does not block. On the loop thread with CQLMUX_OK,
 * also the loop-thread functions of that loop (watches, timers); with
 * CQLMUX_ERR_SHUTDOWN only thread-safe functions, since it may be elsewhere.
 * Borrowed data: none; the task is the callee's again once it runs. */
#ifndef CQLMUX_RUNTIME_TASK_H
#define CQLMUX_RUNTIME_TASK_H

#include "runtime/intrusive.h"
#include "runtime/mpsc.h"

typedef struct cqlmux_task cqlmux_task;
typedef void (*cqlmux_task_fn)(cqlmux_task *task, int status);

struct cqlmux_task {
  cqlmux_mpsc_node node; /* link in a loop's submission queue */
  cqlmux_task_fn run;
};

static inline void cqlmux_task_init(cqlmux_task *task, cqlmux_task_fn run) {
  task->run = run;
}

#endif

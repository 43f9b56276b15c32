/* A unit of deferred work, embedded in the object it belongs to.
 *
 * The same task type travels on both queue kinds: posted to an I/O loop
 * (net/loop.h, through its MPSC queue) or submitted to the callback workers
 * (runtime/workers.h, through the completion ring).
 *
 * Contract: a task handed to a queue runs exactly once. `status` is
 * CQLMUX_OK when it runs normally, or CQLMUX_ERR_SHUTDOWN when its loop
 * stopped before running it; in both cases `run` owns the task again and may
 * free or reuse it. */
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

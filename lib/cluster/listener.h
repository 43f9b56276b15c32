/* Host events to the application's listener: in order, one at a time, on
 * a callback worker (runtime/workers.h; inline on the reporting thread when
 * the session has no workers).
 *
 * Events are appended under a mutex; a flush with events waiting and no
 * drain active submits the drain task, which runs callbacks until the
 * queue is empty.
 * So a single drain is ever active: calls never overlap and keep the order
 * in which the changes were appended. */
#ifndef CQLMUX_CLUSTER_LISTENER_H
#define CQLMUX_CLUSTER_LISTENER_H

#include <pthread.h>
#include <stdbool.h>

#include "cqlmux.h"
#include "runtime/alloc.h"
#include "runtime/task.h"
#include "runtime/workers.h"

typedef struct cqlmux_listener_event {
  struct cqlmux_listener_event *next;
  cqlmux_host_event event;
  cqlmux_host_info info;
} cqlmux_listener_event;

typedef struct cqlmux_listener_queue {
  cqlmux_host_listener fn;     /* NULL: events are dropped at once */
  void *user_data;
  const cqlmux_allocator *alloc;
  cqlmux_workers *workers;
  pthread_mutex_t lock;
  cqlmux_listener_event *head, *tail;
  bool draining;               /* the drain task is submitted or running */
  cqlmux_task drain_task;
} cqlmux_listener_queue;

void cqlmux_listener_init(cqlmux_listener_queue *q, cqlmux_host_listener fn, void *user_data,
                          const cqlmux_allocator *alloc, cqlmux_workers *workers);

/* Queues one event (a copy of info) without running anything, so that a
 * caller may push under its own lock to keep its order. Any thread. Out of
 * memory drops it. */
void cqlmux_listener_push_deferred(cqlmux_listener_queue *q, cqlmux_host_event event,
                                   const cqlmux_host_info *info);

/* Starts the drain if events wait and none runs. Call it after the pushes,
 * with no lock held: with no callback threads the listener runs here. */
void cqlmux_listener_flush(cqlmux_listener_queue *q);

/* Frees what is left (the workers are stopped). */
void cqlmux_listener_destroy(cqlmux_listener_queue *q);

#endif

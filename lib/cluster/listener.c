#include "cluster/listener.h"

#include <string.h>

#include "runtime/intrusive.h"

static void drain(cqlmux_task *task, int status) {
  (void)status; /* with SHUTDOWN too: the workers run what was queued before they stop */
  cqlmux_listener_queue *q = cqlmux_container_of(task, cqlmux_listener_queue, drain_task);
  for (;;) {
    pthread_mutex_lock(&q->lock);
    cqlmux_listener_event *e = q->head;
    if (e) {
      q->head = e->next;
      if (!q->head) q->tail = NULL;
    } else {
      q->draining = false;
    }
    pthread_mutex_unlock(&q->lock);
    if (!e) return;
    q->fn(e->event, &e->info, q->user_data);
    cqlmux_mem_free(q->alloc, e);
  }
}

void cqlmux_listener_init(cqlmux_listener_queue *q, cqlmux_host_listener fn, void *user_data,
                          const cqlmux_allocator *alloc, cqlmux_workers *workers) {
  memset(q, 0, sizeof *q);
  q->fn = fn;
  q->user_data = user_data;
  q->alloc = alloc;
  q->workers = workers;
  pthread_mutex_init(&q->lock, NULL);
  cqlmux_task_init(&q->drain_task, drain);
}

void cqlmux_listener_push_deferred(cqlmux_listener_queue *q, cqlmux_host_event event,
                                   const cqlmux_host_info *info) {
  if (!q->fn) return;
  cqlmux_listener_event *e = cqlmux_mem_malloc(q->alloc, sizeof *e);
  if (!e) return;
  e->next = NULL;
  e->event = event;
  e->info = *info;
  pthread_mutex_lock(&q->lock);
  if (q->tail)
    q->tail->next = e;
  else
    q->head = e;
  q->tail = e;
  pthread_mutex_unlock(&q->lock);
}

void cqlmux_listener_flush(cqlmux_listener_queue *q) {
  if (!q->fn) return;
  pthread_mutex_lock(&q->lock);
  bool start = q->head && !q->draining;
  if (start) q->draining = true;
  pthread_mutex_unlock(&q->lock);
  if (start) cqlmux_workers_submit(q->workers, &q->drain_task);
}

void cqlmux_listener_destroy(cqlmux_listener_queue *q) {
  for (cqlmux_listener_event *e = q->head, *next; e; e = next) {
    next = e->next;
    cqlmux_mem_free(q->alloc, e);
  }
  q->head = q->tail = NULL;
  pthread_mutex_destroy(&q->lock);
}

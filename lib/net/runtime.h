/* The runtime: the I/O loops and the callback worker pool of one session,
 * created, run and shut down together (the hybrid threading model).
 *
 * It lives in lib/net because it owns the I/O loops (net/loop.h); the pieces
 * it ties together are in lib/runtime. The session (lib/api) owns one.
 *
 *   application threads --post--> loop k (MPSC queue) --complete future-->
 *   worker ring (bounded MPMC) --> callback worker (or inline, M = 0)
 *
 * Shutdown order, for either mode:
 *   1. every loop is stopped (closed to posts; graceful: drains its holds)
 *      and joined: pending work fails with CQLMUX_ERR_SHUTDOWN;
 *   2. the workers run every queued callback (callbacks that post to a loop
 *      get SHUTDOWN inline), then are joined;
 *   3. posts that raced with step 1 run with SHUTDOWN when the loops are
 *      freed, on the thread calling cqlmux_runtime_free().
 * No thread of the runtime survives cqlmux_runtime_shutdown().
 */
#ifndef CQLMUX_NET_RUNTIME_H
#define CQLMUX_NET_RUNTIME_H

#include <stddef.h>

#include "cqlmux.h"
#include "net/loop.h"
#include "runtime/future.h"
#include "runtime/log.h"
#include "runtime/workers.h"

/* Completion ring slots when the config says 0: twice the session config's
 * default read-pause bound (completion_queue_bound, 16384), so that I/O
 * threads stop reading sockets well before the ring is full. */
#define CQLMUX_DEFAULT_COMPLETION_CAPACITY 32768

typedef struct cqlmux_runtime cqlmux_runtime;

typedef struct cqlmux_runtime_config {
  unsigned io_threads;          /* 1 .. CQLMUX_MAX_IO_THREADS */
  unsigned callback_threads;    /* 0 .. CQLMUX_MAX_CALLBACK_THREADS; 0 = inline */
  bool light_load_colocation;   /* runtime/colocation.h; used with one I/O thread */
  cqlmux_io_backend backend;
  size_t completion_capacity;   /* 0 = CQLMUX_DEFAULT_COMPLETION_CAPACITY */
  const cqlmux_allocator *allocator; /* copied; NULL = libc */
  cqlmux_log_callback log_callback;  /* NULL = stderr */
  void *log_user_data;
  cqlmux_log_level log_level;
  cqlmux_thread_hook thread_start; /* run by every I/O and callback thread as it starts */
} cqlmux_runtime_config;

/* 1 I/O thread, 1 callback thread, no co-location, default backend and capacity, libc,
 * stderr at WARN. */
void cqlmux_runtime_config_defaults(cqlmux_runtime_config *config);

/* Create and start every thread. CQLMUX_OK with *out set, or
 * CQLMUX_ERR_INVALID_ARGUMENT, CQLMUX_ERR_NOMEM, CQLMUX_ERR_INVALID_STATE (a
 * thread or OS object could not be created), with nothing left running. */
int cqlmux_runtime_new(const cqlmux_runtime_config *config, cqlmux_runtime **out);

unsigned cqlmux_runtime_loop_count(const cqlmux_runtime *rt);

/* Loop `index` (< loop_count). */
cqlmux_loop *cqlmux_runtime_loop(cqlmux_runtime *rt, unsigned index);

/* The loops in turn: where to place the next connection. Any thread. */
cqlmux_loop *cqlmux_runtime_next_loop(cqlmux_runtime *rt);

cqlmux_workers *cqlmux_runtime_workers(cqlmux_runtime *rt);

/* The copy of the configured allocator; lives as long as the runtime. */
const cqlmux_allocator *cqlmux_runtime_allocator(const cqlmux_runtime *rt);
const cqlmux_logger *cqlmux_runtime_logger(const cqlmux_runtime *rt);

/* A pending future whose callback (if set before completion) runs on this
 * runtime's workers. NULL when memory runs out. Any thread. */
cqlmux_future *cqlmux_runtime_future_new(cqlmux_runtime *rt);

/* Stop and join everything (see the order above). Idempotent. Not from a
 * runtime thread. */
void cqlmux_runtime_shutdown(cqlmux_runtime *rt, cqlmux_stop_mode mode);

/* Shut down immediately if still running, then free. Accepts NULL. */
void cqlmux_runtime_free(cqlmux_runtime *rt);

#endif

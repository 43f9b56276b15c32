/* The connection pool of one host (reference: "Connection Pooling").
 *
 * Size. `core` connections are kept open; when every ready connection is
 * at or above the high watermark and the pool is below `max`, ONE more is
 * opened (the next only once that one is ready or failed). A connection
 * beyond core with nothing in flight for the idle timeout is closed.
 * Connections are spread over the I/O loops.
 *
 * Selection (submitting threads, lock-free): least loaded (default), round
 * robin or random among the ready connections.
 *
 * Failure. A failed connection is reopened on the host's reconnection
 * schedule (cluster/reconnect.h). When the last ready connection of a host
 * fails the host is DOWN: one connection at a time then probes it on that
 * schedule until one gets through (UP), and the pool refills to core.
 *
 * Threads. Submitters read `slots[i].ready` and the connection loads
 * (atomics). Everything else (opening, closing, counts, the schedule) is
 * decided under `lock` from the connection events (on the connections'
 * loop threads), the pool's timer (its home loop) and the cluster (control
 * loop); actions a loop thread must take (restart, close) are posted to
 * that loop as tasks, always after the lock is released (a post to a
 * stopping loop runs the task at once, on the posting thread, and the task
 * takes the lock). Connection objects live as long as the pool, so a
 * request posted to a slot that has just been closed fails with "closed,
 * not sent" and is sent elsewhere rather than touching freed memory. */
#ifndef CQLMUX_CLUSTER_POOL_H
#define CQLMUX_CLUSTER_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/reconnect.h"
#include "net/connection.h"

typedef struct cqlmux_cluster cqlmux_cluster;
typedef struct cqlmux_host cqlmux_host;

typedef enum cqlmux_slot_state {
  CQLMUX_SLOT_EMPTY = 0, /* no connection (never opened, or closed) */
  CQLMUX_SLOT_OPENING,   /* connecting / handshaking */
  CQLMUX_SLOT_READY,
  CQLMUX_SLOT_CLOSING    /* closed on purpose (idle, removed host): waiting for on_closed */
} cqlmux_slot_state;

typedef struct cqlmux_pool_slot {
  struct cqlmux_pool *pool;
  /* Created on first open (under the lock), reused after, freed with the
   * pool. Atomic because metrics read it for any slot; submitters read it
   * after `ready` (acquire) and use the relaxed cqlmux_pool_slot_conn. */
  _Atomic(cqlmux_connection *) conn;
  atomic_bool ready;            /* submitters may pick it */
  cqlmux_slot_state state;      /* under pool lock */
  bool growth;                  /* opened by a scale-up */
  bool first_attempt;           /* one of the core slots' first attempts */
  bool started;                 /* conn's start task was used (reopen: open_task) */
  bool start_pending;           /* to start or reopen once the lock is released */
  bool close_pending;           /* close_task to post once the lock is released */
  bool close_posted;            /* close_task is queued */
  cqlmux_task open_task;        /* restart on the connection's loop */
  cqlmux_task close_task;       /* close on the connection's loop */
  cqlmux_timer idle_timer;      /* on the connection's loop */
  unsigned last_admitted;       /* idle check: admissions seen at the last tick */
  uint64_t idle_since_us;
} cqlmux_pool_slot;

typedef struct cqlmux_pool {
  cqlmux_cluster *cluster;
  cqlmux_host *host;
  cqlmux_loop *home;            /* the loop of the pool's timer */
  unsigned core, max;           /* by the host's distance */
  cqlmux_pool_slot *slots;      /* max of them */
  atomic_uint ready_count;      /* slots ready */
  atomic_uint used_slots;       /* slots ever opened (a prefix): what pick scans */
  atomic_bool growing;          /* a scale-up is under way */
  atomic_uint rotation;         /* round robin / random state */
  bool open;                    /* under lock: false once closed (removed host, shutdown) */
  unsigned first_pending;       /* core slots whose first attempt is not over */
  cqlmux_reconnect schedule;    /* under lock */
  cqlmux_timer refill_timer;    /* on home: reopen slots after failures */
  bool refill_pending;          /* refill_task posted or refill_timer armed */
  uint64_t refill_delay_us;     /* for refill_task */
  cqlmux_task refill_task;      /* arms refill_timer on home */
  bool try_now_posted;
  /* Under lock: a connection object could not be allocated; flush_deferred
   * posts the refill it scheduled and lets connect count the attempt. */
  bool refill_to_post;
  bool connect_to_check;
  cqlmux_task try_now_task;     /* fires refill_timer at once */
  cqlmux_task grow_task;        /* opens one more connection (home) */
  pthread_mutex_t lock;
  /* Counters for the metrics (relaxed). */
  atomic_ulong scale_ups, scale_downs, reconnects;
} cqlmux_pool;

/* The slot's connection, or NULL before its first open. Any thread. */
static inline cqlmux_connection *cqlmux_pool_slot_conn(const cqlmux_pool_slot *slot) {
  /* relaxed: published before `ready` is set (release), and a reader that
   * did not see `ready` only reads statistics through it, which are atomic. */
  return atomic_load_explicit(&((cqlmux_pool_slot *)slot)->conn, memory_order_relaxed);
}

/* Prepares a pool (nothing opened); NOMEM. Any thread. */
int cqlmux_pool_init(cqlmux_pool *p, cqlmux_cluster *cluster, cqlmux_host *host, unsigned core,
                     unsigned max, cqlmux_loop *home);

/* Opens the core connections (first attempt at once). Any thread. */
void cqlmux_pool_start(cqlmux_pool *p);

/* A ready connection by the configured selection, never `avoid`; NULL
 * when none is ready. Starts a scale-up when every ready connection is at
 * or above the high watermark. Any thread, lock-free. */
cqlmux_connection *cqlmux_pool_pick(cqlmux_pool *p, const cqlmux_connection *avoid);

/* The host is reported UP by the server: a DOWN host is probed at once
 * and its schedule starts over. Any thread. */
void cqlmux_pool_try_now(cqlmux_pool *p);

/* Stops the pool: no more opening; each connection closes once it has
 * nothing in flight. Any thread. */
void cqlmux_pool_close(cqlmux_pool *p);

/* Opens a closed pool again (its host came back to the cluster). Any thread. */
void cqlmux_pool_reopen(cqlmux_pool *p);

/* Ready connections, and requests in flight on them. Any thread. */
unsigned cqlmux_pool_ready(const cqlmux_pool *p);
unsigned cqlmux_pool_in_flight(const cqlmux_pool *p);

/* Frees the connections (loops joined, or never started). */
void cqlmux_pool_destroy(cqlmux_pool *p);

#endif

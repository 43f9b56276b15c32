#include "cluster/pool.h"

#include <stdio.h>
#include <string.h>

#include "cluster/cluster_internal.h"
#include "cluster/host.h"
#include "runtime/clock.h"

/* How often a pool being closed looks again for its busy connections to
 * become idle. */
#define DRAIN_CHECK_US 100000u
/* Shortest idle check period (short idle timeouts, in tests). */
#define IDLE_TICK_MIN_US 5000u

static void on_ready(cqlmux_connection *conn, void *owner);
static void on_closed(cqlmux_connection *conn, int error, const char *message, void *owner);
static const cqlmux_conn_events pool_events = {on_ready, on_closed, NULL};

static void on_open_task(cqlmux_task *task, int status);
static void on_close_task(cqlmux_task *task, int status);
static void on_idle_tick(cqlmux_timer *timer, int status);
static void on_refill_task(cqlmux_task *task, int status);
static bool schedule_refill_locked(cqlmux_pool *p);
static bool first_outcome_locked(cqlmux_pool *p, cqlmux_pool_slot *slot);
static void on_try_now_task(cqlmux_task *task, int status);
static void on_refill_timer(cqlmux_timer *timer, int status);
static void on_grow_task(cqlmux_task *task, int status);

static const cqlmux_conn_settings *settings_of(const cqlmux_pool *p) { return p->cluster->cfg.conn; }

static void count(atomic_ulong *counter) {
  /* relaxed: a statistic. */
  atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

int cqlmux_pool_init(cqlmux_pool *p, cqlmux_cluster *cluster, cqlmux_host *host, unsigned core,
                     unsigned max, cqlmux_loop *home) {
  memset(p, 0, sizeof *p);
  p->cluster = cluster;
  p->host = host;
  p->home = home;
  p->core = core;
  p->max = max < core ? core : max;
  p->slots = cqlmux_mem_calloc(cluster->alloc, p->max, sizeof *p->slots);
  if (!p->slots) return CQLMUX_ERR_NOMEM;
  for (unsigned i = 0; i < p->max; i++) {
    cqlmux_pool_slot *slot = &p->slots[i];
    slot->pool = p;
    cqlmux_task_init(&slot->open_task, on_open_task);
    cqlmux_task_init(&slot->close_task, on_close_task);
    cqlmux_timer_init(&slot->idle_timer, on_idle_tick, slot);
  }
  cqlmux_task_init(&p->refill_task, on_refill_task);
  cqlmux_task_init(&p->try_now_task, on_try_now_task);
  cqlmux_task_init(&p->grow_task, on_grow_task);
  cqlmux_timer_init(&p->refill_timer, on_refill_timer, p);
  cqlmux_reconnect_init(&p->schedule, cluster->cfg.reconnect_base_us,
                        cluster->cfg.reconnect_cap_us,
                        (uint64_t)(uintptr_t)host ^ cqlmux_clock_now_us());
  pthread_mutex_init(&p->lock, NULL);
  p->open = true;
  return CQLMUX_OK;
}

/* ================================================================ opening */

/* Slots opening or ready (lock held). */
static unsigned slots_in_use_locked(const cqlmux_pool *p) {
  unsigned n = 0;
  for (unsigned i = 0; i < p->max; i++) n += p->slots[i].state != CQLMUX_SLOT_EMPTY;
  return n;
}

static cqlmux_pool_slot *empty_slot_locked(cqlmux_pool *p) {
  for (unsigned i = 0; i < p->max; i++)
    if (p->slots[i].state == CQLMUX_SLOT_EMPTY) return &p->slots[i];
  return NULL;
}

/* The host's name for TLS identity: the address without its port. */
static void tls_name(const cqlmux_host *h, char *out, size_t cap) {
  char text[64];
  cqlmux_endpoint_format(&h->endpoint, text, sizeof text);
  char *colon = strrchr(text, ':');
  if (colon) *colon = '\0';
  size_t skip = text[0] == '[';
  if (skip && colon && colon[-1] == ']') colon[-1] = '\0';
  snprintf(out, cap, "%s", text + skip);
}

/* Marks one connection of `slot` to start (lock held; flush_deferred
 * starts it). A slot's connection object is made on its first use, on the
 * next loop in turn, and reused after. */
static void open_slot_locked(cqlmux_pool *p, cqlmux_pool_slot *slot, bool growth) {
  unsigned index = (unsigned)(slot - p->slots);
  /* relaxed: a pick that reads the old bound skips a slot that is not
   * ready yet anyway; the slot's ready flag orders the rest. */
  if (index >= atomic_load_explicit(&p->used_slots, memory_order_relaxed))
    atomic_store_explicit(&p->used_slots, index + 1, memory_order_relaxed);
  slot->state = CQLMUX_SLOT_OPENING;
  slot->growth = growth;
  if (cqlmux_pool_slot_conn(slot)) {
    slot->start_pending = true;
    return;
  }
  cqlmux_cluster *c = p->cluster;
  char name[64];
  tls_name(p->host, name, sizeof name);
  cqlmux_connection *conn = NULL;
  int rc = cqlmux_connection_new(cqlmux_runtime_next_loop(c->cfg.runtime), settings_of(p),
                                 &pool_events, slot, &p->host->endpoint,
                                 p->host->tls_name[0] ? p->host->tls_name : name, &conn);
  /* release: a metrics reader that sees the pointer sees the object. */
  if (rc == CQLMUX_OK) atomic_store_explicit(&slot->conn, conn, memory_order_release);
  if (rc != CQLMUX_OK) {
    slot->state = CQLMUX_SLOT_EMPTY;
    slot->growth = false;
    if (growth) atomic_store_explicit(&p->growing, false, memory_order_relaxed);
    /* A failed attempt like any other: connect must not wait for it, and
     * the refill tries again later. */
    if (first_outcome_locked(p, slot)) p->connect_to_check = true;
    if (schedule_refill_locked(p)) p->refill_to_post = true;
    cqlmux_log(c->logger, CQLMUX_LOG_ERROR, "%s: no memory for a connection", p->host->address);
    return;
  }
  char keyspace[256];
  cqlmux_cluster_keyspace(c, keyspace, sizeof keyspace);
  if (keyspace[0]) cqlmux_connection_use_keyspace(cqlmux_pool_slot_conn(slot), keyspace);
  slot->start_pending = true;
}

/* What open_slot_locked left for after the lock when it ran out of memory. */
static void flush_failed_opens(cqlmux_pool *p) {
  pthread_mutex_lock(&p->lock);
  bool post_refill = p->refill_to_post, check = p->connect_to_check;
  p->refill_to_post = p->connect_to_check = false;
  pthread_mutex_unlock(&p->lock);
  if (post_refill) cqlmux_loop_post(p->home, &p->refill_task);
  if (check) cqlmux_cluster_check_connected(p->cluster);
}

/* Posts what the locked sections decided: starts, reopens and closes, one
 * at a time, each with the lock released. */
static void flush_deferred(cqlmux_pool *p) {
  for (;;) {
    cqlmux_pool_slot *slot = NULL;
    bool start = false, fresh = false;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < p->max && !slot; i++) {
      cqlmux_pool_slot *s = &p->slots[i];
      if (s->start_pending) {
        s->start_pending = false;
        slot = s, start = true, fresh = !s->started;
        s->started = true;
      } else if (s->close_pending) {
        s->close_pending = false;
        slot = s;
      }
    }
    pthread_mutex_unlock(&p->lock);
    if (!slot) {
      flush_failed_opens(p);
      return;
    }
    cqlmux_loop *loop = cqlmux_connection_loop(cqlmux_pool_slot_conn(slot));
    if (fresh)
      cqlmux_connection_start(cqlmux_pool_slot_conn(slot));
    else
      cqlmux_loop_post(loop, start ? &slot->open_task : &slot->close_task);
  }
}

/* Reopens a closed connection on its own loop, with the session's version. */
static void on_open_task(cqlmux_task *task, int status) {
  cqlmux_pool_slot *slot = cqlmux_container_of(task, cqlmux_pool_slot, open_task);
  if (status != CQLMUX_OK) {
    pthread_mutex_lock(&slot->pool->lock);
    slot->state = CQLMUX_SLOT_EMPTY;
    pthread_mutex_unlock(&slot->pool->lock);
    return;
  }
  cqlmux_connection_restart(cqlmux_pool_slot_conn(slot), cqlmux_cluster_version(slot->pool->cluster));
}

void cqlmux_pool_start(cqlmux_pool *p) {
  pthread_mutex_lock(&p->lock);
  p->first_pending = p->core;
  for (unsigned i = 0; i < p->core; i++) {
    p->slots[i].first_attempt = true;
    open_slot_locked(p, &p->slots[i], false);
  }
  pthread_mutex_unlock(&p->lock);
  flush_deferred(p);
}

/* ================================================================ refill */

/* Arms the refill after the next delay of the schedule, unless one is
 * already pending: a burst of failures advances the schedule once. Returns
 * whether it did (the delay is then in p->refill_delay_us): the caller then
 * posts refill_task once the lock is released. */
static bool schedule_refill_locked(cqlmux_pool *p) {
  if (p->refill_pending || !p->open) return false;
  p->refill_pending = true;
  p->refill_delay_us = cqlmux_reconnect_next_delay_us(&p->schedule);
  return true;
}

static void on_refill_task(cqlmux_task *task, int status) {
  cqlmux_pool *p = cqlmux_container_of(task, cqlmux_pool, refill_task);
  pthread_mutex_lock(&p->lock);
  uint64_t delay = p->refill_delay_us;
  if (status != CQLMUX_OK) p->refill_pending = false;
  pthread_mutex_unlock(&p->lock);
  if (status == CQLMUX_OK) cqlmux_loop_timer_start(p->home, &p->refill_timer, delay);
}

static void on_try_now_task(cqlmux_task *task, int status) {
  cqlmux_pool *p = cqlmux_container_of(task, cqlmux_pool, try_now_task);
  pthread_mutex_lock(&p->lock);
  p->try_now_posted = false;
  bool go = status == CQLMUX_OK && p->open;
  if (go) p->refill_pending = true;
  pthread_mutex_unlock(&p->lock);
  /* Re-arming replaces a later firing the schedule had set. */
  if (go) cqlmux_loop_timer_start(p->home, &p->refill_timer, 0);
}

/* The refill: a DOWN host gets one probe connection; an UP one gets its
 * missing core connections. */
static void on_refill_timer(cqlmux_timer *timer, int status) {
  cqlmux_pool *p = timer->user_data;
  pthread_mutex_lock(&p->lock);
  p->refill_pending = false;
  if (status != CQLMUX_OK || !p->open) {
    pthread_mutex_unlock(&p->lock);
    return;
  }
  unsigned ready = atomic_load_explicit(&p->ready_count, memory_order_relaxed);
  unsigned in_use = slots_in_use_locked(p);
  unsigned wanted = ready == 0 ? 1 : p->core;
  bool probe = ready == 0 && in_use == 0;
  while (in_use < wanted) {
    cqlmux_pool_slot *slot = empty_slot_locked(p);
    if (!slot) break;
    open_slot_locked(p, slot, false);
    in_use++;
  }
  if (probe) {
    count(&p->reconnects);
    atomic_store_explicit(&p->host->state, CQLMUX_HOST_RECONNECTING, memory_order_relaxed);
  }
  pthread_mutex_unlock(&p->lock);
  flush_deferred(p);
  if (probe)
    cqlmux_log(p->cluster->logger, CQLMUX_LOG_DEBUG, "%s: reconnecting", p->host->address);
}

void cqlmux_pool_try_now(cqlmux_pool *p) {
  pthread_mutex_lock(&p->lock);
  bool post = p->open && !p->try_now_posted &&
              atomic_load_explicit(&p->ready_count, memory_order_relaxed) == 0;
  if (post) {
    cqlmux_reconnect_reset(&p->schedule);
    p->try_now_posted = true;
  }
  pthread_mutex_unlock(&p->lock);
  if (post) cqlmux_loop_post(p->home, &p->try_now_task);
}

/* ================================================================ growth */

static void on_grow_task(cqlmux_task *task, int status) {
  cqlmux_pool *p = cqlmux_container_of(task, cqlmux_pool, grow_task);
  pthread_mutex_lock(&p->lock);
  cqlmux_pool_slot *slot = status == CQLMUX_OK && p->open ? empty_slot_locked(p) : NULL;
  if (slot)
    open_slot_locked(p, slot, true);
  else
    atomic_store_explicit(&p->growing, false, memory_order_relaxed);
  pthread_mutex_unlock(&p->lock);
  flush_deferred(p);
}

/* Every ready connection is at or above the high watermark: one more, if
 * the pool may grow and no growth is under way. */
static void grow(cqlmux_pool *p, unsigned ready) {
  if (ready >= p->max || atomic_load_explicit(&p->growing, memory_order_relaxed)) return;
  bool expected = false;
  /* relaxed: the flag only elects the one thread that posts the task; the
   * task's post and run order the rest. */
  if (atomic_compare_exchange_strong_explicit(&p->growing, &expected, true, memory_order_relaxed,
                                              memory_order_relaxed))
    cqlmux_loop_post(p->home, &p->grow_task);
}

/* ================================================================ picking */

static bool slot_ready(const cqlmux_pool_slot *slot) {
  /* acquire: pairs with the release store in on_ready, so the connection
   * pointer and object are seen complete. */
  return atomic_load_explicit(&slot->ready, memory_order_acquire);
}

/* Slots a pick looks at. */
static unsigned used_slots(const cqlmux_pool *p) {
  return atomic_load_explicit(&p->used_slots, memory_order_relaxed);
}

static cqlmux_pool_slot *least_loaded(cqlmux_pool *p, const cqlmux_connection *avoid,
                                      unsigned *best_load, unsigned *ready) {
  cqlmux_pool_slot *best = NULL;
  unsigned n = used_slots(p);
  for (unsigned i = 0; i < n; i++) {
    cqlmux_pool_slot *slot = &p->slots[i];
    if (!slot_ready(slot)) continue;
    (*ready)++;
    if (cqlmux_pool_slot_conn(slot) == avoid) continue;
    unsigned load = cqlmux_connection_load(cqlmux_pool_slot_conn(slot));
    if (!best || load < *best_load) best = slot, *best_load = load;
  }
  return best;
}

/* Round robin or random: the first ready slot from a starting point. */
static cqlmux_pool_slot *from_start(cqlmux_pool *p, const cqlmux_connection *avoid, unsigned start,
                                    unsigned *ready) {
  cqlmux_pool_slot *chosen = NULL;
  unsigned n = used_slots(p);
  for (unsigned i = 0; n && i < n; i++) {
    cqlmux_pool_slot *slot = &p->slots[(start + i) % n];
    if (!slot_ready(slot)) continue;
    (*ready)++;
    if (!chosen && cqlmux_pool_slot_conn(slot) != avoid) chosen = slot;
  }
  return chosen;
}

static unsigned random_start(cqlmux_pool *p) {
  /* relaxed: a counter scrambled into a start index; no ordering needed. */
  unsigned x = atomic_fetch_add_explicit(&p->rotation, 0x9e3779b9u, memory_order_relaxed);
  x ^= x >> 16, x *= 0x7feb352du, x ^= x >> 15;
  return x;
}

cqlmux_connection *cqlmux_pool_pick(cqlmux_pool *p, const cqlmux_connection *avoid) {
  unsigned ready = 0, load = 0;
  cqlmux_pool_slot *slot;
  switch (p->cluster->cfg.selection) {
  case CQLMUX_SELECT_ROUND_ROBIN:
    /* relaxed: a rotation counter. */
    slot = from_start(p, avoid, atomic_fetch_add_explicit(&p->rotation, 1, memory_order_relaxed),
                      &ready);
    break;
  case CQLMUX_SELECT_RANDOM: slot = from_start(p, avoid, random_start(p), &ready); break;
  default: slot = least_loaded(p, avoid, &load, &ready); break;
  }
  if (!slot) return NULL;
  /* Least loaded: the best is saturated, so all are. Otherwise the chosen
   * one stands for the rest (they are loaded in turn). */
  if (p->cluster->cfg.selection != CQLMUX_SELECT_LEAST_LOADED)
    load = cqlmux_connection_load(cqlmux_pool_slot_conn(slot));
  if (load >= settings_of(p)->high_watermark) grow(p, ready);
  return cqlmux_pool_slot_conn(slot);
}

/* ================================================================ outcomes */

/* Counts a core slot's first outcome for connect (lock held); true when it
 * was the last one. */
static bool first_outcome_locked(cqlmux_pool *p, cqlmux_pool_slot *slot) {
  if (!slot->first_attempt) return false;
  slot->first_attempt = false;
  return --p->first_pending == 0;
}

static uint64_t idle_tick_us(const cqlmux_pool *p) {
  uint64_t t = p->cluster->cfg.idle_timeout_us / 4;
  return t < IDLE_TICK_MIN_US ? IDLE_TICK_MIN_US : t;
}

/* Connection event; on the connection's loop thread. */
static void on_ready(cqlmux_connection *conn, void *owner) {
  cqlmux_pool_slot *slot = owner;
  cqlmux_pool *p = slot->pool;
  if (!cqlmux_cluster_accept_negotiation(p->cluster, conn)) {
    /* Reopened with the session's version through on_closed. */
    cqlmux_connection_close(conn, CQLMUX_ERR_UNSUPPORTED_VERSION,
                            "negotiated another protocol version or compression than the "
                            "session's other connections");
    return;
  }
  pthread_mutex_lock(&p->lock);
  if (!p->open) {
    /* The pool closed while this one was connecting: nothing is on it. */
    slot->state = CQLMUX_SLOT_CLOSING;
    first_outcome_locked(p, slot);
    pthread_mutex_unlock(&p->lock);
    cqlmux_connection_close(conn, CQLMUX_OK, "pool closed");
    return;
  }
  slot->state = CQLMUX_SLOT_READY;
  if (slot->growth) {
    slot->growth = false;
    count(&p->scale_ups);
    atomic_store_explicit(&p->growing, false, memory_order_relaxed);
  }
  bool settled = first_outcome_locked(p, slot);
  cqlmux_reconnect_reset(&p->schedule);
  slot->last_admitted = 0;
  slot->idle_since_us = cqlmux_loop_now_us(cqlmux_connection_loop(conn));
  atomic_fetch_add_explicit(&p->ready_count, 1, memory_order_relaxed);
  /* release: publishes the ready connection to submitters (slot_ready). */
  atomic_store_explicit(&slot->ready, true, memory_order_release);
  /* The host is back: fill the rest of core at once. */
  unsigned in_use = slots_in_use_locked(p);
  while (p->open && in_use < p->core) {
    cqlmux_pool_slot *other = empty_slot_locked(p);
    if (!other) break;
    open_slot_locked(p, other, false);
    in_use++;
  }
  pthread_mutex_unlock(&p->lock);
  flush_deferred(p);
  cqlmux_loop_timer_start(cqlmux_connection_loop(conn), &slot->idle_timer, idle_tick_us(p));
  cqlmux_cluster_host_up(p->cluster, p->host);
  if (settled) cqlmux_cluster_check_connected(p->cluster);
}

/* Connection event; on the connection's loop thread. */
static void on_closed(cqlmux_connection *conn, int error, const char *message, void *owner) {
  cqlmux_pool_slot *slot = owner;
  cqlmux_pool *p = slot->pool;
  cqlmux_loop_timer_stop(cqlmux_connection_loop(conn), &slot->idle_timer);
  pthread_mutex_lock(&p->lock);
  bool was_ready = slot->state == CQLMUX_SLOT_READY;
  bool on_purpose = slot->state == CQLMUX_SLOT_CLOSING || error == CQLMUX_ERR_SHUTDOWN;
  if (was_ready) {
    atomic_store_explicit(&slot->ready, false, memory_order_relaxed);
    atomic_fetch_sub_explicit(&p->ready_count, 1, memory_order_relaxed);
  }
  if (slot->growth) atomic_store_explicit(&p->growing, false, memory_order_relaxed);
  slot->growth = false;
  slot->state = CQLMUX_SLOT_EMPTY;
  bool settled = first_outcome_locked(p, slot);
  bool down = false, scheduled = false;
  uint64_t delay = 0;
  unsigned attempt = 0;
  if (!on_purpose && p->open) {
    down = atomic_load_explicit(&p->ready_count, memory_order_relaxed) == 0;
    scheduled = schedule_refill_locked(p);
    delay = p->refill_delay_us;
    attempt = p->schedule.attempts;
  }
  pthread_mutex_unlock(&p->lock);
  if (scheduled) cqlmux_loop_post(p->home, &p->refill_task);
  /* Logged outside the lock: the log callback is the application's. The
   * reconnection tests read these lines (tests/cluster). */
  if (!on_purpose)
    cqlmux_log(p->cluster->logger, CQLMUX_LOG_DEBUG, "%s: connection closed: %s",
               p->host->address, message ? message : cqlmux_strerror(error));
  if (scheduled)
    cqlmux_log(p->cluster->logger, CQLMUX_LOG_DEBUG, "%s: reconnection %u in %llu us",
               p->host->address, attempt, (unsigned long long)delay);
  if (down) cqlmux_cluster_host_down(p->cluster, p->host);
  if (settled) cqlmux_cluster_check_connected(p->cluster);
}

/* ================================================================ shrinking */

/* Closes the slot's connection on purpose if nothing is on it; with
 * only_above_core, only while the pool has more than core ready. On the
 * connection's loop thread. True when closed. */
static bool close_if_idle(cqlmux_pool_slot *slot, bool only_above_core) {
  cqlmux_pool *p = slot->pool;
  if (cqlmux_connection_load(cqlmux_pool_slot_conn(slot)) != 0) return false;
  pthread_mutex_lock(&p->lock);
  bool close = slot->state == CQLMUX_SLOT_READY &&
               (!only_above_core ||
                atomic_load_explicit(&p->ready_count, memory_order_relaxed) > p->core);
  if (close) {
    slot->state = CQLMUX_SLOT_CLOSING;
    atomic_store_explicit(&slot->ready, false, memory_order_relaxed);
    atomic_fetch_sub_explicit(&p->ready_count, 1, memory_order_relaxed);
    if (only_above_core) count(&p->scale_downs);
  }
  pthread_mutex_unlock(&p->lock);
  /* A request admitted just now reaches a closed connection: it fails as
   * not sent and its session sends it elsewhere. */
  if (close) cqlmux_connection_close(cqlmux_pool_slot_conn(slot), CQLMUX_OK, "idle connection closed");
  return close;
}

static void on_idle_tick(cqlmux_timer *timer, int status) {
  cqlmux_pool_slot *slot = timer->user_data;
  cqlmux_pool *p = slot->pool;
  if (status != CQLMUX_OK) return;
  cqlmux_loop *loop = cqlmux_connection_loop(cqlmux_pool_slot_conn(slot));
  uint64_t now = cqlmux_loop_now_us(loop);
  /* relaxed: a statistic compared with its previous value. */
  unsigned admitted =
      atomic_load_explicit(&cqlmux_connection_stats(cqlmux_pool_slot_conn(slot))->admitted, memory_order_relaxed);
  bool closing_pool = !p->open;
  if (admitted != slot->last_admitted || cqlmux_connection_load(cqlmux_pool_slot_conn(slot)) != 0) {
    slot->last_admitted = admitted;
    slot->idle_since_us = now;
  } else if (closing_pool || now - slot->idle_since_us >= p->cluster->cfg.idle_timeout_us) {
    if (close_if_idle(slot, !closing_pool)) return;
  }
  cqlmux_loop_timer_start(loop, &slot->idle_timer, closing_pool ? DRAIN_CHECK_US : idle_tick_us(p));
}

static void on_close_task(cqlmux_task *task, int status) {
  cqlmux_pool_slot *slot = cqlmux_container_of(task, cqlmux_pool_slot, close_task);
  pthread_mutex_lock(&slot->pool->lock);
  slot->close_posted = false;
  pthread_mutex_unlock(&slot->pool->lock);
  if (status != CQLMUX_OK) return;
  if (!close_if_idle(slot, false))
    cqlmux_loop_timer_start(cqlmux_connection_loop(cqlmux_pool_slot_conn(slot)), &slot->idle_timer,
                            DRAIN_CHECK_US);
}

void cqlmux_pool_close(cqlmux_pool *p) {
  pthread_mutex_lock(&p->lock);
  p->open = false;
  for (unsigned i = 0; i < p->max; i++) {
    cqlmux_pool_slot *slot = &p->slots[i];
    if (slot->state != CQLMUX_SLOT_READY || slot->close_posted) continue;
    slot->close_posted = true;
    slot->close_pending = true;
  }
  pthread_mutex_unlock(&p->lock);
  flush_deferred(p);
}

void cqlmux_pool_reopen(cqlmux_pool *p) {
  pthread_mutex_lock(&p->lock);
  p->open = true;
  pthread_mutex_unlock(&p->lock);
  cqlmux_pool_try_now(p);
}

/* ================================================================ reading */

unsigned cqlmux_pool_ready(const cqlmux_pool *p) {
  /* relaxed: a gauge. */
  return atomic_load_explicit(&p->ready_count, memory_order_relaxed);
}

unsigned cqlmux_pool_in_flight(const cqlmux_pool *p) {
  unsigned n = 0, used = used_slots(p);
  for (unsigned i = 0; i < used; i++) {
    const cqlmux_pool_slot *slot = &p->slots[i];
    if (!slot_ready(slot)) continue;
    /* relaxed: a gauge. */
    n += atomic_load_explicit(&cqlmux_connection_stats(cqlmux_pool_slot_conn(slot))->in_flight,
                              memory_order_relaxed);
  }
  return n;
}

void cqlmux_pool_destroy(cqlmux_pool *p) {
  if (!p->slots) return;
  for (unsigned i = 0; i < p->max; i++) cqlmux_connection_free(cqlmux_pool_slot_conn(&p->slots[i]));
  cqlmux_mem_free(p->cluster->alloc, p->slots);
  p->slots = NULL;
  pthread_mutex_destroy(&p->lock);
}

#include "cluster/cluster.h"

#include <stdio.h>
#include <string.h>

#include "cluster/cluster_internal.h"
#include "runtime/clock.h"

/* Addresses one contact point name may resolve to. */
#define MAX_ADDRESSES_PER_NAME 16

int cqlmux_cluster_new(const cqlmux_cluster_config *config, cqlmux_cluster **out) {
  const cqlmux_allocator *alloc = config->alloc;
  cqlmux_cluster *c = cqlmux_mem_calloc(alloc, 1, sizeof *c);
  if (!c) return CQLMUX_ERR_NOMEM;
  c->cfg = *config;
  c->alloc = alloc;
  c->logger = cqlmux_runtime_logger(config->runtime);
  c->control_loop = cqlmux_runtime_loop(config->runtime, 0);
  pthread_mutex_init(&c->lock, NULL);
  pthread_mutex_init(&c->keyspace_lock, NULL);
  pthread_mutex_init(&c->schema_lock, NULL);
  snprintf(c->local_dc, sizeof c->local_dc, "%s", config->local_dc ? config->local_dc : "");
  snprintf(c->keyspace, sizeof c->keyspace, "%s", config->keyspace ? config->keyspace : "");
  c->cfg.local_dc = NULL, c->cfg.keyspace = NULL; /* copied above */
  c->contacts = cqlmux_mem_calloc(alloc, config->contact_count, sizeof *c->contacts);
  cqlmux_control_init(&c->control, c);
  cqlmux_listener_init(&c->listener, config->listener, config->listener_user_data, alloc,
                       cqlmux_runtime_workers(config->runtime));
  int rc = c->contacts ? CQLMUX_OK : CQLMUX_ERR_NOMEM;
  if (rc == CQLMUX_OK) {
    memcpy(c->contacts, config->contacts, config->contact_count * sizeof *c->contacts);
    c->cfg.contacts = c->contacts;
    pthread_mutex_lock(&c->lock);
    rc = cqlmux_cluster_publish_locked(c); /* the empty list */
    pthread_mutex_unlock(&c->lock);
  }
  if (rc != CQLMUX_OK) {
    cqlmux_cluster_free(c);
    return rc;
  }
  *out = c;
  return CQLMUX_OK;
}

/* ================================================================ connect */

/* The resolver's result, handed to the control loop. */
static void on_resolved(cqlmux_task *task, int status) {
  cqlmux_cluster *c = cqlmux_container_of(task, cqlmux_cluster, resolved_task);
  if (status != CQLMUX_OK) return;
  if (!c->contact_endpoints || !c->contact_names) {
    /* resolve_main could not allocate its tables: nothing was resolved. */
    cqlmux_cluster_report_connect(c, CQLMUX_ERR_NOMEM, "out of memory resolving contact points");
    return;
  }
  if (c->contact_endpoint_count == 0) {
    char message[1100];
    snprintf(message, sizeof message, "no contact point resolves: %s", c->resolve_errors);
    cqlmux_cluster_report_connect(c, CQLMUX_ERR_RESOLVE, message);
    return;
  }
  snprintf(c->control.errors, sizeof c->control.errors, "%s", c->resolve_errors);
  cqlmux_control_start(&c->control, c->contact_endpoints, c->contact_endpoint_count);
}

/* getaddrinfo may block for seconds: it runs here, on a thread of its own,
 * never on the application's thread nor an I/O thread. */
static void *resolve_main(void *arg) {
  cqlmux_cluster *c = arg;
  size_t cap = c->cfg.contact_count * MAX_ADDRESSES_PER_NAME;
  c->contact_endpoints = cqlmux_mem_calloc(c->alloc, cap, sizeof *c->contact_endpoints);
  c->contact_names = cqlmux_mem_calloc(c->alloc, cap, sizeof *c->contact_names);
  size_t n = 0;
  uint64_t seed = cqlmux_clock_now_us() ^ (uint64_t)(uintptr_t)c;
  for (size_t i = 0; c->contact_endpoints && c->contact_names && i < c->cfg.contact_count; i++) {
    char err[300];
    int got = cqlmux_contact_resolve(&c->contacts[i], c->contact_endpoints + n,
                                     MAX_ADDRESSES_PER_NAME, seed + i, err, sizeof err);
    if (got < 0) {
      cqlmux_log(c->logger, CQLMUX_LOG_WARN, "contact point %s", err);
      size_t used = strlen(c->resolve_errors);
      snprintf(c->resolve_errors + used, sizeof c->resolve_errors - used, "%s%s", used ? "; " : "",
               err);
      continue;
    }
    for (int k = 0; k < got; k++) c->contact_names[n + (size_t)k] = c->contacts[i].name;
    n += (size_t)got;
  }
  c->contact_endpoint_count = n;
  /* The post publishes the endpoints to the control loop (the loop's queue
   * orders them before the task runs). */
  cqlmux_task_init(&c->resolved_task, on_resolved);
  cqlmux_loop_post(c->control_loop, &c->resolved_task);
  return NULL;
}

int cqlmux_cluster_connect(cqlmux_cluster *c) {
  if (pthread_create(&c->resolver, NULL, resolve_main, c) != 0) return CQLMUX_ERR_INVALID_STATE;
  c->resolver_started = true;
  return CQLMUX_OK;
}

void cqlmux_cluster_report_connect(cqlmux_cluster *c, int error, const char *message) {
  pthread_mutex_lock(&c->lock);
  bool first = !c->connect_reported;
  c->connect_reported = true;
  pthread_mutex_unlock(&c->lock);
  if (first) c->cfg.on_connected(c->cfg.owner, error, message);
}

void cqlmux_cluster_control_ready(cqlmux_cluster *c) {
  pthread_mutex_lock(&c->lock);
  c->control_ready_once = true;
  pthread_mutex_unlock(&c->lock);
  cqlmux_cluster_check_connected(c);
}

/* Connect is done once the control connection is up and every LOCAL pool
 * has its core connections or has failed its first attempts. */
void cqlmux_cluster_check_connected(cqlmux_cluster *c) {
  pthread_mutex_lock(&c->lock);
  bool done = c->control_ready_once && !c->connect_reported;
  unsigned ready = 0, local = 0;
  for (size_t i = 0; done && i < c->all_count; i++) {
    cqlmux_host *h = c->all[i];
    if (!h->has_pool || h->removed) continue;
    pthread_mutex_lock(&h->pool.lock);
    bool settled = h->pool.first_pending == 0;
    pthread_mutex_unlock(&h->pool.lock);
    bool is_local = atomic_load_explicit(&h->distance, memory_order_relaxed) == CQLMUX_HOST_LOCAL;
    if (is_local && !settled) done = false;
    local += is_local;
    ready += cqlmux_pool_ready(&h->pool);
  }
  char dc[64];
  memcpy(dc, c->local_dc, sizeof dc);
  pthread_mutex_unlock(&c->lock);
  if (!done) return;
  if (ready > 0) {
    cqlmux_cluster_report_connect(c, CQLMUX_OK, NULL);
    return;
  }
  char message[200];
  if (local == 0)
    snprintf(message, sizeof message, "no host in the local data center \"%s\"", dc);
  else
    snprintf(message, sizeof message, "no connection to any host of data center \"%s\" succeeded",
             dc);
  cqlmux_cluster_report_connect(c, CQLMUX_ERR_NO_HOSTS, message);
}

/* ================================================================ requests */

const cqlmux_host_list *cqlmux_cluster_hosts(const cqlmux_cluster *c) {
  /* acquire: pairs with the release in cqlmux_cluster_publish_locked. */
  return atomic_load_explicit(&((cqlmux_cluster *)c)->published, memory_order_acquire);
}

unsigned cqlmux_cluster_random(cqlmux_cluster *c) {
  /* xorshift32 per thread, seeded from the clock and the thread's own
   * address: plans on different threads draw independently, no sharing. */
  static _Thread_local uint32_t state;
  if (!state) state = (uint32_t)(cqlmux_clock_now_us() ^ (uintptr_t)&state ^ (uintptr_t)c) | 1u;
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

uint8_t cqlmux_cluster_version(const cqlmux_cluster *c) {
  /* relaxed: set once (compare-exchange) before any request is encoded for
   * it; the session reads it after its connect future (which orders it). */
  return (uint8_t)atomic_load_explicit(&c->version, memory_order_relaxed);
}

bool cqlmux_cluster_lz4(const cqlmux_cluster *c) {
  return atomic_load_explicit(&c->lz4, memory_order_relaxed);
}

bool cqlmux_cluster_accept_negotiation(cqlmux_cluster *c, cqlmux_connection *conn) {
  unsigned none = 0;
  unsigned version = cqlmux_connection_version(conn);
  bool lz4 = cqlmux_connection_compressed(conn);
  /* seq_cst: the first connection sets both; lz4 is stored before any other
   * connection can see the version as set and compare against it. */
  if (atomic_compare_exchange_strong(&c->version, &none, version)) {
    atomic_store(&c->lz4, lz4);
    return true;
  }
  return version == atomic_load(&c->version) && lz4 == atomic_load(&c->lz4);
}

/* ================================================================ keyspace */

void cqlmux_cluster_keyspace(cqlmux_cluster *c, char *out, size_t cap) {
  pthread_mutex_lock(&c->keyspace_lock);
  snprintf(out, cap, "%s", c->keyspace);
  pthread_mutex_unlock(&c->keyspace_lock);
}

void cqlmux_cluster_use_keyspace(cqlmux_cluster *c, const char *keyspace) {
  pthread_mutex_lock(&c->keyspace_lock);
  snprintf(c->keyspace, sizeof c->keyspace, "%s", keyspace);
  pthread_mutex_unlock(&c->keyspace_lock);
  /* Connections opened from now on start there (open_slot_locked reads it);
   * these switch. */
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < c->all_count; i++) {
    cqlmux_host *h = c->all[i];
    if (!h->has_pool) continue;
    pthread_mutex_lock(&h->pool.lock);
    for (unsigned j = 0; j < h->pool.max; j++)
      if (cqlmux_pool_slot_conn(&h->pool.slots[j]))
        cqlmux_connection_use_keyspace(cqlmux_pool_slot_conn(&h->pool.slots[j]), keyspace);
    pthread_mutex_unlock(&h->pool.lock);
  }
  pthread_mutex_unlock(&c->lock);
}

/* ================================================================ hosts */

size_t cqlmux_cluster_describe(cqlmux_cluster *c, cqlmux_host_info *out, size_t cap) {
  pthread_mutex_lock(&c->lock);
  const cqlmux_host_list *l = cqlmux_cluster_hosts(c);
  for (unsigned i = 0; i < l->count && i < cap; i++) cqlmux_host_describe(l->hosts[i], &out[i]);
  size_t n = l->count;
  pthread_mutex_unlock(&c->lock);
  return n;
}

uint64_t cqlmux_cluster_refreshes(const cqlmux_cluster *c) {
  /* relaxed: a statistic. */
  return atomic_load_explicit(&c->refreshes, memory_order_relaxed);
}

/* Tells the listener (cluster lock not held: the listener may run inline). */
void cqlmux_cluster_announce(cqlmux_cluster *c, cqlmux_host *h, cqlmux_host_event event) {
  cqlmux_host_info info;
  pthread_mutex_lock(&c->lock);
  bool tell = true;
  if (event == CQLMUX_HOST_REMOVED) h->announced_up = false;
  if (event == CQLMUX_HOST_EVENT_UP || event == CQLMUX_HOST_EVENT_DOWN) {
    bool up = event == CQLMUX_HOST_EVENT_UP;
    /* UP and DOWN alternate, DOWN only after an UP, nothing after REMOVED. */
    tell = h->announced_up != up && !h->removed;
    h->announced_up = up;
  }
  if (tell) cqlmux_host_describe(h, &info);
  /* Pushed under the lock so events keep the order of the changes. */
  if (tell) cqlmux_listener_push_deferred(&c->listener, event, &info);
  pthread_mutex_unlock(&c->lock);
  cqlmux_listener_flush(&c->listener);
}

void cqlmux_cluster_host_up(cqlmux_cluster *c, cqlmux_host *h) {
  /* relaxed: a state read by reports and the control connection; the
   * exchange tells which ready connection brought the host back (one of
   * them, even when several become ready at once). */
  int was = atomic_exchange_explicit(&h->state, CQLMUX_HOST_UP, memory_order_relaxed);
  cqlmux_cluster_announce(c, h, CQLMUX_HOST_EVENT_UP);
  if (was != CQLMUX_HOST_UP && c->cfg.on_host_up) c->cfg.on_host_up(c->cfg.owner, h);
}

void cqlmux_cluster_host_down(cqlmux_cluster *c, cqlmux_host *h) {
  if (cqlmux_pool_ready(&h->pool) > 0) return; /* a connection came back meanwhile */
  atomic_store_explicit(&h->state, CQLMUX_HOST_DOWN, memory_order_relaxed);
  cqlmux_cluster_announce(c, h, CQLMUX_HOST_EVENT_DOWN);
}

/* ================================================================ ending */

void cqlmux_cluster_stop(cqlmux_cluster *c) {
  /* release: connection events that see it (acquire) stop reconnecting. */
  atomic_store_explicit(&c->stopping, true, memory_order_release);
  /* Its post must reach a live loop. */
  if (c->resolver_started) pthread_join(c->resolver, NULL);
  c->resolver_started = false;
}

static void free_hosts(cqlmux_cluster *c) {
  for (size_t i = 0; i < c->all_count; i++) {
    cqlmux_host *h = c->all[i];
    if (h->has_pool) cqlmux_pool_destroy(&h->pool);
    cqlmux_mem_free(c->alloc, h->tokens);
    cqlmux_mem_free(c->alloc, h);
  }
  cqlmux_mem_free(c->alloc, c->all);
  cqlmux_host_list *l = atomic_load_explicit(&c->published, memory_order_relaxed);
  cqlmux_mem_free(c->alloc, l);
  for (cqlmux_host_list *r = c->retired, *next; r; r = next) {
    next = r->retired_next;
    cqlmux_mem_free(c->alloc, r);
  }
}

void cqlmux_cluster_free(cqlmux_cluster *c) {
  if (!c) return;
  cqlmux_cluster_stop(c);
  cqlmux_control_destroy(&c->control);
  free_hosts(c);
  cqlmux_cluster_free_token_maps(c);
  cqlmux_cluster_free_schema(c);
  cqlmux_listener_destroy(&c->listener);
  cqlmux_mem_free(c->alloc, c->contact_endpoints);
  cqlmux_mem_free(c->alloc, c->contact_names);
  cqlmux_mem_free(c->alloc, c->contacts);
  pthread_mutex_destroy(&c->lock);
  pthread_mutex_destroy(&c->keyspace_lock);
  pthread_mutex_destroy(&c->schema_lock);
  cqlmux_mem_free(c->alloc, c);
}

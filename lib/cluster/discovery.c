/* Applying what the control connection read: hosts added, updated and
 * removed, their distances, their pools, and the published list. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cluster/cluster_internal.h"

/* What changed, to act on once the cluster lock is released. */
typedef struct changes {
  cqlmux_host **added, **removed, **revived;
  size_t added_count, removed_count, revived_count;
} changes;

/* The address to connect to for a reported one (the user's translator). */
static void translate(cqlmux_cluster *c, const cqlmux_endpoint *reported, cqlmux_endpoint *out) {
  *out = *reported;
  if (!c->cfg.translate) return;
  c->cfg.translate((const struct sockaddr *)&reported->addr, reported->addr_len, &out->addr,
                   c->cfg.translate_user_data);
  out->addr_len = out->addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                  : sizeof(struct sockaddr_in);
}

static void copy_description(cqlmux_cluster *c, cqlmux_host *h, const cqlmux_node_desc *d) {
  memcpy(h->host_id, d->host_id, 16);
  h->has_host_id = true;
  memcpy(h->datacenter, d->datacenter, sizeof h->datacenter);
  memcpy(h->rack, d->rack, sizeof h->rack);
  memcpy(h->release_version, d->release_version, sizeof h->release_version);
  if (d->token_count != h->token_count ||
      (d->token_count && memcmp(d->tokens, h->tokens, d->token_count * sizeof *d->tokens))) {
    int64_t *tokens =
        d->token_count ? cqlmux_mem_malloc(c->alloc, d->token_count * sizeof *tokens) : NULL;
    if (d->token_count && !tokens) return; /* keeps the old tokens */
    if (tokens) memcpy(tokens, d->tokens, d->token_count * sizeof *tokens);
    cqlmux_mem_free(c->alloc, h->tokens);
    h->tokens = tokens;
    h->token_count = d->token_count;
  }
}

/* Finds or makes the host a row describes (lock held). `at` is where the
 * control connection reached it (the local row), else NULL. */
static cqlmux_host *host_for(cqlmux_cluster *c, const cqlmux_node_desc *d,
                             const cqlmux_endpoint *at, bool *is_new) {
  *is_new = false;
  cqlmux_host *h = cqlmux_cluster_find_id_locked(c, d->host_id);
  if (h) return h;
  cqlmux_endpoint target;
  if (at)
    target = *at;
  else
    translate(c, &d->endpoint, &target);
  h = cqlmux_cluster_find_locked(c, &target);
  if (h) return h;
  h = cqlmux_cluster_add_host_locked(c, &target);
  if (!h) return NULL;
  h->reported = d->has_address ? d->endpoint : target;
  for (size_t i = 0; i < c->contact_endpoint_count; i++)
    if (c->contact_endpoints[i].addr_len == target.addr_len &&
        !memcmp(&c->contact_endpoints[i].addr, &target.addr, target.addr_len))
      snprintf(h->tls_name, sizeof h->tls_name, "%s", c->contact_names[i]);
  *is_new = true;
  return h;
}

/* REMOTE hosts of `dc` already chosen (lock held). */
static unsigned remote_in_dc(const cqlmux_cluster *c, const char *dc) {
  unsigned n = 0;
  for (size_t i = 0; i < c->all_count; i++) {
    const cqlmux_host *h = c->all[i];
    n += !h->removed && !strcmp(h->datacenter, dc) &&
         atomic_load_explicit(&h->distance, memory_order_relaxed) == CQLMUX_HOST_REMOTE;
  }
  return n;
}

/* A new host's distance, and its pool when it gets one (lock held). */
static int place(cqlmux_cluster *c, cqlmux_host *h) {
  cqlmux_host_distance d = CQLMUX_HOST_IGNORED;
  if (!cqlmux_cluster_host_allowed(c, h))
    d = CQLMUX_HOST_IGNORED;
  else if (!strcmp(h->datacenter, c->local_dc))
    d = CQLMUX_HOST_LOCAL;
  else if (remote_in_dc(c, h->datacenter) < c->cfg.remote_hosts_per_dc)
    d = CQLMUX_HOST_REMOTE;
  atomic_store_explicit(&h->distance, d, memory_order_relaxed);
  if (d == CQLMUX_HOST_IGNORED) {
    /* No pool to say otherwise: taken as up until the cluster says DOWN. */
    atomic_store_explicit(&h->state, CQLMUX_HOST_UP, memory_order_relaxed);
    return CQLMUX_OK;
  }
  unsigned k = d == CQLMUX_HOST_LOCAL ? 0 : 1;
  int rc = cqlmux_pool_init(&h->pool, c, h, c->cfg.core[k], c->cfg.max[k],
                            cqlmux_runtime_next_loop(c->cfg.runtime));
  if (rc == CQLMUX_OK) h->has_pool = true;
  return rc;
}

static void note(cqlmux_cluster *c, cqlmux_host ***list, size_t *n, cqlmux_host *h) {
  cqlmux_host **grown = cqlmux_mem_realloc(c->alloc, *list, (*n + 1) * sizeof **list);
  if (!grown) return;
  *list = grown;
  grown[(*n)++] = h;
}

static void apply_row(cqlmux_cluster *c, const cqlmux_node_desc *d, const cqlmux_endpoint *at,
                      changes *ch) {
  bool is_new;
  cqlmux_host *h = host_for(c, d, at, &is_new);
  if (!h) return;
  if (h->seen) return; /* the same node twice (a stale peers row): the first wins */
  h->seen = true;
  copy_description(c, h, d);
  if (is_new) {
    note(c, &ch->added, &ch->added_count, h);
  } else if (h->removed) {
    h->removed = false;
    note(c, &ch->revived, &ch->revived_count, h);
  }
}

/* Marks, places and publishes under the lock; returns what to act on. */
static void apply_locked(cqlmux_cluster *c, const cqlmux_node_desc *local,
                         const cqlmux_endpoint *control_endpoint, const cqlmux_node_desc *peers,
                         size_t peer_count, changes *ch) {
  for (size_t i = 0; i < c->all_count; i++) c->all[i]->seen = false;
  if (!c->local_dc[0]) snprintf(c->local_dc, sizeof c->local_dc, "%s", local->datacenter);
  apply_row(c, local, control_endpoint, ch);
  for (size_t i = 0; i < peer_count; i++) apply_row(c, &peers[i], NULL, ch);
  for (size_t i = 0; i < c->all_count; i++) {
    cqlmux_host *h = c->all[i];
    if (h->seen || h->removed) continue;
    h->removed = true;
    note(c, &ch->removed, &ch->removed_count, h);
  }
  /* Local hosts first, so that REMOTE slots go to hosts in other DCs only. */
  for (size_t i = 0; i < ch->added_count; i++)
    if (place(c, ch->added[i]) != CQLMUX_OK)
      cqlmux_log(c->logger, CQLMUX_LOG_ERROR, "%s: no memory for its pool", ch->added[i]->address);
  if (cqlmux_cluster_publish_locked(c) != CQLMUX_OK)
    cqlmux_log(c->logger, CQLMUX_LOG_ERROR, "no memory to publish the new topology");
  else
    cqlmux_cluster_rebuild_token_map_locked(c);
}

void cqlmux_cluster_apply_topology(cqlmux_cluster *c, const cqlmux_node_desc *local,
                                   const cqlmux_endpoint *control_endpoint,
                                   const cqlmux_node_desc *peers, size_t peer_count) {
  changes ch;
  memset(&ch, 0, sizeof ch);
  pthread_mutex_lock(&c->lock);
  apply_locked(c, local, control_endpoint, peers, peer_count, &ch);
  pthread_mutex_unlock(&c->lock);
  /* relaxed: a statistic. */
  atomic_fetch_add_explicit(&c->refreshes, 1, memory_order_relaxed);
  for (size_t i = 0; i < ch.added_count; i++) {
    cqlmux_host *h = ch.added[i];
    cqlmux_log(c->logger, CQLMUX_LOG_INFO, "host %s added (dc %s, rack %s)", h->address,
               h->datacenter, h->rack);
    cqlmux_cluster_announce(c, h, CQLMUX_HOST_ADDED);
    if (h->has_pool) cqlmux_pool_start(&h->pool);
  }
  for (size_t i = 0; i < ch.revived_count; i++) {
    cqlmux_cluster_announce(c, ch.revived[i], CQLMUX_HOST_ADDED);
    if (ch.revived[i]->has_pool) cqlmux_pool_reopen(&ch.revived[i]->pool);
  }
  for (size_t i = 0; i < ch.removed_count; i++) {
    cqlmux_host *h = ch.removed[i];
    cqlmux_log(c->logger, CQLMUX_LOG_INFO, "host %s removed", h->address);
    if (h->has_pool) cqlmux_pool_close(&h->pool);
    cqlmux_cluster_announce(c, h, CQLMUX_HOST_REMOVED);
  }
  cqlmux_mem_free(c->alloc, ch.added);
  cqlmux_mem_free(c->alloc, ch.revived);
  cqlmux_mem_free(c->alloc, ch.removed);
  cqlmux_cluster_check_connected(c);
}

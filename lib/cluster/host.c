#include "cluster/host.h"

#include <stdio.h>
#include <string.h>

#include "cluster/cluster_internal.h"

void cqlmux_host_describe(const cqlmux_host *h, cqlmux_host_info *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->address, sizeof out->address, "%s", h->address);
  snprintf(out->datacenter, sizeof out->datacenter, "%s", h->datacenter);
  snprintf(out->rack, sizeof out->rack, "%s", h->rack);
  snprintf(out->release_version, sizeof out->release_version, "%s", h->release_version);
  if (h->has_host_id) memcpy(out->host_id, h->host_id, 16);
  /* relaxed: values for a report. */
  out->state = (cqlmux_host_state)atomic_load_explicit(&h->state, memory_order_relaxed);
  out->distance = (cqlmux_host_distance)atomic_load_explicit(&h->distance, memory_order_relaxed);
  out->token_count = h->token_count;
  if (h->has_pool) {
    out->connections = cqlmux_pool_ready(&h->pool);
    out->in_flight = cqlmux_pool_in_flight(&h->pool);
  }
}

static bool same_endpoint(const cqlmux_endpoint *a, const cqlmux_endpoint *b) {
  return a->addr_len == b->addr_len && memcmp(&a->addr, &b->addr, a->addr_len) == 0;
}

cqlmux_host *cqlmux_cluster_find_locked(cqlmux_cluster *c, const cqlmux_endpoint *ep) {
  for (size_t i = 0; i < c->all_count; i++)
    if (same_endpoint(&c->all[i]->reported, ep) || same_endpoint(&c->all[i]->endpoint, ep))
      return c->all[i];
  return NULL;
}

cqlmux_host *cqlmux_cluster_find_id_locked(cqlmux_cluster *c, const uint8_t id[16]) {
  for (size_t i = 0; i < c->all_count; i++)
    if (c->all[i]->has_host_id && memcmp(c->all[i]->host_id, id, 16) == 0) return c->all[i];
  return NULL;
}

static int keep_host_locked(cqlmux_cluster *c, cqlmux_host *h) {
  if (c->all_count == c->all_cap) {
    size_t cap = c->all_cap ? c->all_cap * 2 : 8;
    cqlmux_host **all = cqlmux_mem_realloc(c->alloc, c->all, cap * sizeof *all);
    if (!all) return CQLMUX_ERR_NOMEM;
    c->all = all, c->all_cap = cap;
  }
  c->all[c->all_count++] = h;
  return CQLMUX_OK;
}

cqlmux_host *cqlmux_cluster_add_host_locked(cqlmux_cluster *c, const cqlmux_endpoint *ep) {
  cqlmux_host *h = cqlmux_mem_calloc(c->alloc, 1, sizeof *h);
  if (!h) return NULL;
  h->cluster = c;
  h->endpoint = *ep;
  h->reported = *ep;
  cqlmux_endpoint_format(ep, h->address, sizeof h->address);
  atomic_init(&h->state, CQLMUX_HOST_DOWN);
  atomic_init(&h->distance, CQLMUX_HOST_IGNORED);
  if (keep_host_locked(c, h) != CQLMUX_OK) {
    cqlmux_mem_free(c->alloc, h);
    return NULL;
  }
  return h;
}

int cqlmux_cluster_publish_locked(cqlmux_cluster *c) {
  size_t live = 0;
  for (size_t i = 0; i < c->all_count; i++) live += !c->all[i]->removed;
  /* One block: the list, its host pointers, then their descriptions. */
  size_t infos_at = sizeof(cqlmux_host_list) + live * sizeof(cqlmux_host *);
  infos_at = (infos_at + _Alignof(cqlmux_host_info) - 1) & ~(_Alignof(cqlmux_host_info) - 1);
  cqlmux_host_list *l = cqlmux_mem_malloc(c->alloc, infos_at + live * sizeof(cqlmux_host_info));
  if (!l) return CQLMUX_ERR_NOMEM;
  l->retired_next = NULL;
  l->infos = (cqlmux_host_info *)(void *)((char *)l + infos_at);
  l->count = 0;
  /* By distance, so that a plan rotates within one distance evenly. */
  for (int d = CQLMUX_HOST_LOCAL; d <= CQLMUX_HOST_IGNORED; d++) {
    unsigned before = l->count;
    for (size_t i = 0; i < c->all_count; i++) {
      cqlmux_host *h = c->all[i];
      if (!h->removed && atomic_load_explicit(&h->distance, memory_order_relaxed) == d)
        l->hosts[l->count++] = h;
    }
    if (d == CQLMUX_HOST_LOCAL) l->local_count = l->count - before;
    if (d == CQLMUX_HOST_REMOTE) l->remote_count = l->count - before;
  }
  for (unsigned i = 0; i < l->count; i++) cqlmux_host_describe(l->hosts[i], &l->infos[i]);
  /* release: submitters that load the list (acquire) see the hosts and
   * their pools complete. */
  cqlmux_host_list *old = atomic_exchange_explicit(&c->published, l, memory_order_acq_rel);
  if (old) {
    old->retired_next = c->retired;
    c->retired = old;
  }
  return CQLMUX_OK;
}

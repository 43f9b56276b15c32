/* The cluster's token map: rebuilt on the control loop whenever the hosts
 * or the keyspaces change, published by an atomic pointer swap, read by
 * submitters without locks (see token_map.h). */
#include <string.h>

#include "cluster/cluster_internal.h"
#include "cluster/token_map.h"

const cqlmux_token_map *cqlmux_cluster_token_map(const cqlmux_cluster *c) {
  /* acquire: pairs with the release in publish_map, so a submitter that
   * sees the map sees its arrays written. */
  return atomic_load_explicit(&((cqlmux_cluster *)c)->token_map, memory_order_acquire);
}

/* Old maps are kept until the session is freed, as host lists are: a
 * submitter may still be walking one (rebuilds are rare: a topology or
 * keyspace change). */
static void publish_map(cqlmux_cluster *c, cqlmux_token_map *m) {
  /* release: the map's contents before the pointer (see above). */
  cqlmux_token_map *old = atomic_exchange_explicit(&c->token_map, m, memory_order_release);
  if (old) {
    old->retired_next = c->retired_maps;
    c->retired_maps = old;
  }
}

int cqlmux_cluster_rebuild_token_map_locked(cqlmux_cluster *c) {
  const cqlmux_host_list *l = cqlmux_cluster_hosts(c);
  cqlmux_token_map *m;
  int rc = cqlmux_token_map_build(c->alloc, l->hosts, l->count, c->keyspaces, c->keyspace_count,
                                  &m);
  if (rc != CQLMUX_OK) {
    cqlmux_log(c->logger, CQLMUX_LOG_ERROR, "no memory to rebuild the token map; keeping the old");
    return rc;
  }
  publish_map(c, m);
  return CQLMUX_OK;
}

static bool same_keyspaces(const cqlmux_keyspace_desc *a, size_t an, const cqlmux_keyspace_desc *b,
                           size_t bn) {
  if (an != bn) return false;
  for (size_t i = 0; i < an; i++)
    if (strcmp(a[i].name, b[i].name) ||
        !cqlmux_replication_equal(&a[i].replication, &b[i].replication))
      return false;
  return true;
}

void cqlmux_cluster_set_keyspaces(cqlmux_cluster *c, cqlmux_keyspace_desc *descs, size_t n) {
  pthread_mutex_lock(&c->lock);
  bool changed = !same_keyspaces(c->keyspaces, c->keyspace_count, descs, n);
  if (changed) {
    cqlmux_mem_free(c->alloc, c->keyspaces);
    c->keyspaces = descs, c->keyspace_count = n;
    cqlmux_cluster_rebuild_token_map_locked(c);
  }
  pthread_mutex_unlock(&c->lock);
  if (!changed) cqlmux_mem_free(c->alloc, descs);
}

void cqlmux_cluster_free_token_maps(cqlmux_cluster *c) {
  cqlmux_token_map_free(atomic_load_explicit(&c->token_map, memory_order_relaxed));
  for (cqlmux_token_map *r = c->retired_maps, *next; r; r = next) {
    next = r->retired_next;
    cqlmux_token_map_free(r);
  }
  cqlmux_mem_free(c->alloc, c->keyspaces);
}

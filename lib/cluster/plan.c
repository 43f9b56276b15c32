#include "cluster/plan.h"

#include <stdio.h>
#include <string.h>

#include "cluster/cluster_internal.h"
#include "cluster/token_map.h"

/* ------------------------------------------------------------ token-aware */

static bool is_local(const cqlmux_host *h) {
  /* relaxed: distances change on the control loop; a plan built across a
   * change may use either value, both are safe. */
  return atomic_load_explicit(&h->distance, memory_order_relaxed) == CQLMUX_HOST_LOCAL;
}

static bool given_as_replica(const cqlmux_plan *p, const cqlmux_host *h) {
  for (unsigned i = 0; i < p->replica_count; i++)
    if (p->replicas[i] == h) return (p->replicas_given >> i) & 1u;
  return false;
}

static void start_replicas(cqlmux_cluster *c, const cqlmux_route *r, cqlmux_plan *p) {
  p->replicas = NULL;
  p->replica_count = 0;
  if (!c->cfg.token_aware || !r->has_token || !r->keyspace || !r->keyspace_len) return;
  const cqlmux_token_map *m = cqlmux_cluster_token_map(c);
  if (!m) return;
  cqlmux_host *const *replicas;
  size_t n = cqlmux_token_map_replicas(m, r->keyspace, r->keyspace_len, r->token, &replicas);
  if (n > CQLMUX_PLAN_MAX_REPLICAS) n = CQLMUX_PLAN_MAX_REPLICAS;
  p->replicas = n ? replicas : NULL;
  p->replica_count = (uint8_t)n;
}

/* The next LOCAL replica not given yet, in rotation from p->start
 * (shuffled or round robin: the rotation start is random or a counter). */
static cqlmux_host *next_replica(cqlmux_plan *p) {
  while (p->replica_step < p->replica_count) {
    unsigned i = (p->start + p->replica_step++) % p->replica_count;
    cqlmux_host *h = p->replicas[i];
    if (!is_local(h)) continue;
    p->replicas_given |= 1u << i;
    return h;
  }
  return NULL;
}

/* ------------------------------------------------------- DC-aware round robin */

static cqlmux_host *next_dc_aware(cqlmux_plan *p) {
  const cqlmux_host_list *l = p->hosts;
  unsigned local = l->local_count, remote = p->local_only ? 0 : l->remote_count;
  while (p->step < local + remote) {
    unsigned k = p->step++;
    cqlmux_host *h = k < local ? l->hosts[(p->start + k) % local]
                               : l->hosts[local + (p->start + k - local) % remote];
    if (!given_as_replica(p, h)) return h;
  }
  return NULL;
}

/* ---------------------------------------------------- the application's policy */

static void start_custom(cqlmux_cluster *c, const cqlmux_route *r, cqlmux_plan *p) {
  const cqlmux_load_balancing *lb = &c->cfg.load_balancing;
  char keyspace[256];
  size_t n = r->keyspace_len < sizeof keyspace - 1 ? r->keyspace_len : sizeof keyspace - 1;
  if (r->keyspace) memcpy(keyspace, r->keyspace, n);
  keyspace[n] = '\0';
  cqlmux_plan_request req = {.keyspace = r->keyspace ? keyspace : NULL,
                             .token = r->token,
                             .has_token = r->has_token,
                             .consistency = r->consistency};
  memset(p->user, 0, sizeof p->user);
  lb->new_plan(lb->user_data, &req, p->hosts->infos, p->hosts->count, p->user);
}

static cqlmux_host *next_custom(cqlmux_cluster *c, cqlmux_plan *p) {
  const cqlmux_load_balancing *lb = &c->cfg.load_balancing;
  /* Bounded: a policy that never says -1 cannot hold a request forever. */
  while (!p->custom_done && p->step++ < 4 * p->hosts->count + 4) {
    long i = lb->next_host(lb->user_data, p->hosts->infos, p->hosts->count, p->user);
    if (i < 0 || (unsigned long)i >= p->hosts->count) break;
    cqlmux_host *h = p->hosts->hosts[i];
    if (!given_as_replica(p, h)) return h;
  }
  p->custom_done = true;
  return NULL;
}

/* ------------------------------------------------------------------ plans */

static bool local_consistency(cqlmux_consistency cl) {
  return cl == CQLMUX_CONSISTENCY_LOCAL_ONE || cl == CQLMUX_CONSISTENCY_LOCAL_QUORUM ||
         cl == CQLMUX_CONSISTENCY_LOCAL_SERIAL;
}

/* Where the next plan starts: a counter per submitting thread, not one
 * shared atomic (a locked add on a line every submitter writes cost ~10 %
 * of a request's CPU at 4,096 in flight). Each thread's counter starts at a
 * point of its own, so threads do not rotate in step; each still cycles
 * through every host evenly. */
static unsigned next_rotation(void) {
  static _Thread_local unsigned rotation;
  static _Thread_local bool seeded;
  if (!seeded) {
    rotation = (unsigned)((uintptr_t)&rotation >> 6) * 2654435761u;
    seeded = true;
  }
  return rotation++;
}

void cqlmux_plan_start(cqlmux_cluster *c, const cqlmux_route *r, cqlmux_plan *p) {
  p->hosts = cqlmux_cluster_hosts(c);
  p->pinned = r->pinned;
  p->replicas_given = 0;
  p->replica_step = 0;
  p->step = 0;
  p->custom_done = false;
  p->local_only = local_consistency(r->consistency) && !c->cfg.remote_for_local_consistency;
  p->start = next_rotation();
  if (p->pinned) return;
  start_replicas(c, r, p);
  if (p->replica_count && c->cfg.shuffle_replicas) p->start = cqlmux_cluster_random(c);
  if (c->cfg.load_balancing.next_host) start_custom(c, r, p);
}

cqlmux_host *cqlmux_plan_next(cqlmux_cluster *c, cqlmux_plan *p) {
  if (p->pinned) {
    cqlmux_host *h = p->pinned;
    p->pinned = NULL;
    p->step = ~0u; /* nothing after it */
    return h;
  }
  if (p->step == ~0u) return NULL;
  cqlmux_host *h = next_replica(p);
  if (h) return h;
  return c->cfg.load_balancing.next_host ? next_custom(c, p) : next_dc_aware(p);
}

/* ------------------------------------------------------------------ lookup */

cqlmux_host *cqlmux_cluster_find_address(cqlmux_cluster *c, const char *address) {
  const cqlmux_host_list *l = cqlmux_cluster_hosts(c);
  size_t n = strlen(address);
  for (unsigned i = 0; i < l->count; i++) {
    const char *a = l->hosts[i]->address;
    /* "ip" matches "ip:port"; IPv6 hosts print as "[ip]:port". */
    if (!strcmp(a, address)) return l->hosts[i];
    if (!strncmp(a, address, n) && a[n] == ':') return l->hosts[i];
    if (a[0] == '[' && !strncmp(a + 1, address, n) && a[n + 1] == ']') return l->hosts[i];
  }
  return NULL;
}

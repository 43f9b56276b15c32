/* A node of the cluster as the session knows it: where to connect, what
 * the cluster says of it (host id, data center, rack, version, tokens),
 * its distance and state, its pool and its request metrics.
 *
 * Life. Hosts are created by the cluster (control loop) and never freed
 * before the session: a host that leaves the cluster is marked removed,
 * its pool drains and closes, and the object stays (a snapshot a submitter
 * still holds may point to it). A node that comes back with the same host
 * id gets its old object back.
 *
 * Threads. Submitters read `distance`, `state`, the pool and the metrics
 * (atomics, lock-free). The descriptive strings and tokens change only on
 * the control loop, under the cluster's lock, and are read under it. */
#ifndef CQLMUX_CLUSTER_HOST_H
#define CQLMUX_CLUSTER_HOST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/contact.h"
#include "cluster/pool.h"
#include "cqlmux.h"
#include "net/socket.h"
#include "runtime/intrusive.h"
#include "runtime/request_metrics.h"

struct cqlmux_host {
  cqlmux_cluster *cluster;
  cqlmux_endpoint endpoint;  /* where to connect (after address translation) */
  cqlmux_endpoint reported;  /* the address the cluster reports (events name it) */
  char address[64];          /* endpoint as "ip:port" */
  char tls_name[CQLMUX_CONTACT_NAME_MAX]; /* contact point's name, for TLS identity; or "" */
  /* Under the cluster lock. */
  uint8_t host_id[16];
  bool has_host_id;
  char datacenter[64];
  char rack[64];
  char release_version[32];
  int64_t *tokens;
  size_t token_count;
  bool removed;
  bool seen;                 /* in the topology being applied */
  bool announced_up;         /* the listener was last told UP */
  /* Any thread. */
  atomic_int distance;       /* cqlmux_host_distance */
  atomic_int state;          /* cqlmux_host_state */
  bool has_pool;             /* set before the pool starts; never cleared */
  cqlmux_pool pool;
  char pad_[CQLMUX_CACHE_LINE]; /* submitters read the above; completions write below */
  cqlmux_metrics_block metrics;
};

/* An immutable list of the hosts in use, published by the cluster with an
 * atomic pointer swap; submitters read it without locks. Old lists are kept
 * until the session is freed (topology changes are rare; each costs one
 * small array), so no reader can see one freed. */
typedef struct cqlmux_host_list {
  struct cqlmux_host_list *retired_next;
  unsigned count;
  unsigned local_count;   /* hosts[0 .. local_count): LOCAL */
  unsigned remote_count;  /* then REMOTE ones; then IGNORED to count */
  cqlmux_host_info *infos; /* hosts[i] described at publication (custom policies read them) */
  cqlmux_host *hosts[];
} cqlmux_host_list;

/* Copies h into *out (cluster lock held by the caller, or h not shared yet). */
void cqlmux_host_describe(const cqlmux_host *h, cqlmux_host_info *out);

#endif

/* The cluster's state, shared by the files of lib/cluster (not by lib/api,
 * which uses cluster.h). */
#ifndef CQLMUX_CLUSTER_INTERNAL_H
#define CQLMUX_CLUSTER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "cluster/cluster.h"
#include "cluster/control.h"
#include "cluster/keyspaces.h"
#include "cluster/listener.h"
#include "cluster/token_map.h"
#include "proto/arena.h"
#include "runtime/log.h"

struct cqlmux_cluster {
  cqlmux_cluster_config cfg;          /* contacts, local_dc, keyspace point into this struct */
  cqlmux_contact *contacts;
  const cqlmux_allocator *alloc;
  const cqlmux_logger *logger;
  cqlmux_loop *control_loop;

  /* Published hosts (see cqlmux_host_list): release store, acquire loads. */
  _Atomic(cqlmux_host_list *) published;
  /* The token map (replicas.c): release store, acquire loads. */
  _Atomic(cqlmux_token_map *) token_map;
  atomic_uint version;                /* negotiated protocol version, 0 until known */
  atomic_bool lz4;
  atomic_bool stopping;
  atomic_ulong refreshes;
  atomic_uint_least64_t schema_version; /* of `schema`: see schema_publish.c */

  pthread_mutex_t schema_lock;        /* a leaf lock: `schema` only */
  struct cqlmux_schema *schema;       /* published snapshot (one reference), or NULL */

  /* Lock order: lock, then a pool's lock, then keyspace_lock or the
   * listener's; a pool's lock is never held while taking `lock`. */
  pthread_mutex_t lock;               /* everything below */
  cqlmux_host **all;                  /* every host ever made (freed with the cluster) */
  size_t all_count, all_cap;
  cqlmux_host_list *retired;          /* lists replaced since, freed with the cluster */
  cqlmux_token_map *retired_maps;     /* maps replaced since, freed with the cluster */
  cqlmux_keyspace_desc *keyspaces;    /* system_schema.keyspaces as last read */
  size_t keyspace_count;
  char local_dc[64];
  pthread_mutex_t keyspace_lock;      /* a leaf lock: taken under a pool's lock */
  char keyspace[256];                 /* under keyspace_lock */
  bool connect_reported;
  bool control_ready_once;

  /* Resolving the contact points (resolver thread). */
  pthread_t resolver;
  bool resolver_started;
  cqlmux_task resolved_task;
  cqlmux_endpoint *contact_endpoints; /* the resolver's result, for the control loop */
  const char **contact_names;         /* the contact's name of each, for TLS identity */
  size_t contact_endpoint_count;
  char resolve_errors[1024];

  cqlmux_control control;
  cqlmux_listener_queue listener;
};

/* Hosts (host.c). Control loop. */

/* The host at `ep`, or NULL. Lock held. */
cqlmux_host *cqlmux_cluster_find_locked(cqlmux_cluster *c, const cqlmux_endpoint *ep);
/* The host with this host id, or NULL. Lock held. */
cqlmux_host *cqlmux_cluster_find_id_locked(cqlmux_cluster *c, const uint8_t id[16]);
/* A new host at `ep` (kept in c->all); NULL on NOMEM. Lock held. */
cqlmux_host *cqlmux_cluster_add_host_locked(cqlmux_cluster *c, const cqlmux_endpoint *ep);
/* Publishes the hosts not removed as the new list. Lock held. NOMEM keeps the old. */
int cqlmux_cluster_publish_locked(cqlmux_cluster *c);

/* The topology the control connection read: `local` (1 row, the control
 * node) and the peers. Adds, updates and removes hosts, opens and closes
 * pools, tells the listener, publishes the list. Control loop. */
void cqlmux_cluster_apply_topology(cqlmux_cluster *c, const cqlmux_node_desc *local,
                                   const cqlmux_endpoint *control_endpoint,
                                   const cqlmux_node_desc *peers, size_t peer_count);
/* The control connection is up for the first time (connect may finish). */
void cqlmux_cluster_control_ready(cqlmux_cluster *c);

/* Tells the listener of a host event (no lock held). */
void cqlmux_cluster_announce(cqlmux_cluster *c, cqlmux_host *h, cqlmux_host_event event);

/* Whether the allow/deny lists let h be used (filter.c). Lock held. */
bool cqlmux_cluster_host_allowed(const cqlmux_cluster *c, const cqlmux_host *h);

/* Connect's outcome, once (cluster.c). Any thread. */
void cqlmux_cluster_report_connect(cqlmux_cluster *c, int error, const char *message);
/* Re-checks whether connect can complete (every LOCAL pool settled). */
void cqlmux_cluster_check_connected(cqlmux_cluster *c);

/* A connection became ready: true when its version and compression are
 * the session's (the first ready connection sets them). Any thread. */
bool cqlmux_cluster_accept_negotiation(cqlmux_cluster *c, cqlmux_connection *conn);

/* Host state changes, with the listener told (pool.c calls these with the
 * pool lock held; they take no pool lock). */
void cqlmux_cluster_host_up(cqlmux_cluster *c, cqlmux_host *h);
void cqlmux_cluster_host_down(cqlmux_cluster *c, cqlmux_host *h);

/* Token map (replicas.c). Control loop. */

/* Builds the map of the published hosts and the keyspaces, and publishes
 * it; NOMEM keeps the old one. Lock held. */
int cqlmux_cluster_rebuild_token_map_locked(cqlmux_cluster *c);
/* The keyspaces read from system_schema.keyspaces (descs: taken, freed by
 * the cluster); rebuilds the map when they changed. Lock not held. */
void cqlmux_cluster_set_keyspaces(cqlmux_cluster *c, cqlmux_keyspace_desc *descs, size_t n);
/* At the end (cqlmux_cluster_free). */
void cqlmux_cluster_free_token_maps(cqlmux_cluster *c);

/* Schema snapshots (schema_publish.c). */

/* Makes s (its builder's reference, taken over) the current snapshot and
 * drops the cluster's reference to the previous one. Control loop. */
void cqlmux_cluster_publish_schema(cqlmux_cluster *c, struct cqlmux_schema *s);
/* At the end (cqlmux_cluster_free). */
void cqlmux_cluster_free_schema(cqlmux_cluster *c);

/* The keyspace new connections start in ("" none): copied under the lock. */
void cqlmux_cluster_keyspace(cqlmux_cluster *c, char *out, size_t cap);

#endif

/* The cluster layer: what a session knows of its cluster and how a request
 * finds a connection. It sits between lib/api (the session) and lib/net
 * (connections):
 *
 *   contact.c    contact points: parsed in the config, resolved on a thread
 *   control.c    the control connection: system.local / peers_v2, REGISTER,
 *                events, failover to another host
 *   topology.c   rows of system.local / peers into host descriptions
 *   host.c       hosts, their distance and state, the published host list
 *   pool.c       one pool per host: core..max connections, scale up/down
 *   reconnect.c  per-host schedule: 0, 1 s, 2 s ... 60 s, jittered
 *   listener.c   host events to the application, in order, on a worker
 *   keyspaces.c  rows of system_schema.keyspaces into replication settings
 *   token_map.c  replicas per token range and keyspace; murmur3.c tokens
 *   replicas.c   the published token map, rebuilt on topology/schema change
 *   schema*.c    system_schema rows into schema snapshots, published for
 *                the application (refcounted: held across refreshes)
 *
 * Threads. The control connection and every topology change run on the
 * control loop (I/O loop 0). Hosts are published as an immutable list
 * (cqlmux_host_list) by an atomic pointer swap; submitters only read it.
 * Pools act on their connections' loops (see pool.h). The host listener
 * runs on a callback worker. */
#ifndef CQLMUX_CLUSTER_CLUSTER_H
#define CQLMUX_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/contact.h"
#include "cluster/host.h"
#include "cluster/token_map.h"
#include "cqlmux.h"
#include "net/connection.h"
#include "net/runtime.h"

typedef struct cqlmux_cluster cqlmux_cluster;

/* Called once when connect finishes: CQLMUX_OK (the control connection is
 * up and every LOCAL host's pool has its core connections or has failed its
 * first attempt), or the error when no host could be reached, with a
 * message naming each address tried. Runs on an I/O thread (or the thread
 * freeing the session); must not block. */
typedef void (*cqlmux_cluster_connected_fn)(void *owner, int error, const char *message);

typedef struct cqlmux_cluster_config {
  cqlmux_runtime *runtime;
  const cqlmux_allocator *alloc;       /* outlives the cluster (the runtime's may not) */
  const cqlmux_conn_settings *conn;    /* shared by every connection; outlives the cluster */
  const cqlmux_contact *contacts;      /* copied */
  size_t contact_count;
  const char *local_dc;                /* NULL or "": the first node's */
  unsigned core[2], max[2];            /* per distance: LOCAL, REMOTE */
  unsigned remote_hosts_per_dc;
  cqlmux_connection_selection selection;
  uint64_t idle_timeout_us;
  uint64_t reconnect_base_us, reconnect_cap_us;
  uint64_t debounce_us;
  bool schema_metadata;                /* read tables, columns, views, types too */
  uint64_t schema_delay_us;            /* SCHEMA_CHANGE debounce */
  cqlmux_address_translator translate;
  void *translate_user_data;
  cqlmux_host_listener listener;
  void *listener_user_data;
  const char *keyspace;                /* "" or NULL: none */
  /* Query plans (cluster/plan.h). */
  bool token_aware, shuffle_replicas, remote_for_local_consistency;
  cqlmux_load_balancing load_balancing; /* next_host NULL: DC-aware round robin */
  /* Allow/deny lists (comma-separated; NULL: no list), copied. */
  const char *allow_hosts, *deny_hosts, *allow_dcs, *deny_dcs;
  /* A host became UP (its first connection is ready): on that connection's
   * I/O thread, no lock held. May be NULL. */
  void (*on_host_up)(void *owner, cqlmux_host *host);
  cqlmux_cluster_connected_fn on_connected;
  void *owner;
} cqlmux_cluster_config;

int cqlmux_cluster_new(const cqlmux_cluster_config *config, cqlmux_cluster **out);

/* Starts connecting (resolver thread, then control connection, then pools).
 * Any thread; returns at once. */
int cqlmux_cluster_connect(cqlmux_cluster *c);

/* The published hosts (never NULL after new; may be empty). Any thread. */
const cqlmux_host_list *cqlmux_cluster_hosts(const cqlmux_cluster *c);

/* A uniformly random 32-bit number (per-thread generator). Any thread. */
unsigned cqlmux_cluster_random(cqlmux_cluster *c);

/* The token map of the hosts and keyspaces last read (token_map.h), or
 * NULL before the first topology. Borrowed: valid until the cluster is
 * freed. Any thread, lock-free. */
const cqlmux_token_map *cqlmux_cluster_token_map(const cqlmux_cluster *c);

/* The protocol version and compression every connection must use (the
 * first connection's); 0 until one is ready. Any thread. */
uint8_t cqlmux_cluster_version(const cqlmux_cluster *c);
bool cqlmux_cluster_lz4(const cqlmux_cluster *c);

/* Every connection switches to `keyspace`, and new ones start there. */
void cqlmux_cluster_use_keyspace(cqlmux_cluster *c, const char *keyspace);

/* Copies of the hosts (see cqlmux_session_hosts). Any thread. */
size_t cqlmux_cluster_describe(cqlmux_cluster *c, cqlmux_host_info *out, size_t cap);

/* The current schema snapshot, held for the caller (release with
 * cqlmux_schema_release), or NULL before the first read or with schema
 * metadata off. Any thread (a short leaf lock). */
const struct cqlmux_schema *cqlmux_cluster_schema(cqlmux_cluster *c);
/* The version of that snapshot (0: none yet). Any thread, lock-free. */
uint64_t cqlmux_cluster_schema_version(const cqlmux_cluster *c);

/* Topology refreshes done (re-reads of system.peers). */
uint64_t cqlmux_cluster_refreshes(const cqlmux_cluster *c);

/* Stops reconnecting and waits for the resolver thread (which may still be
 * in getaddrinfo). Any thread but the runtime's; the runtime is shut down
 * after it. */
void cqlmux_cluster_stop(cqlmux_cluster *c);

/* Frees everything; the runtime must be freed already (its loops may run
 * raced tasks that point into the cluster as they are freed). */
void cqlmux_cluster_free(cqlmux_cluster *c);

#endif

/* The token map: which hosts hold the data of a token, per keyspace.
 *
 * Built from the hosts (their tokens, data centers and racks) and the
 * keyspaces' replication (keyspaces.h), once per topology or keyspace
 * change, off the hot path; immutable afterwards, so any thread reads it
 * without locks. For each keyspace it holds, per token range of the ring,
 * the replica list, primary first then in ring order: a lookup is a binary
 * search over the ring plus a pointer, no allocation.
 *
 * Ring. Each host token ends a range: token t belongs to the range of the
 * first ring token >= t, wrapping past the largest to the smallest (as
 * Cassandra's TokenMetadata does). Two hosts claiming one token (a stale
 * peers row during a move): the one listed first keeps it.
 *
 * Strategies (what Cassandra does, and our choices where it has none):
 *   SimpleStrategy   the first replication_factor distinct hosts walking
 *                    the ring from the range's owner; a factor above the
 *                    host count gives every host.
 *   NetworkTopology  per data center with a factor: walking the ring from
 *                    the owner, a host of that DC is taken if its rack has
 *                    no replica of that DC yet; a host of an already used
 *                    rack is taken only while the DC has fewer racks than
 *                    its factor (the first such hosts met fill the gap), as
 *                    Cassandra's NetworkTopologyStrategy walk does. A DC's
 *                    factor above its host count gives every host of it; a
 *                    DC named but without known hosts adds none.
 *                    The list merges the DCs in ring order.
 *   Everywhere       every host, from the owner in ring order.
 *   LocalStrategy    no replicas: each node holds its own copy (system
 *                    keyspaces), so any host will do; the lookup returns 0
 *                    and the caller falls back to its plan.
 *   unknown class, or a NetworkTopology keyspace naming more DCs than
 *   CQLMUX_REPLICATION_MAX_DCS: no replicas (0), as for an unknown keyspace.
 *
 * Hosts are borrowed: hosts live as long as the session (host.h). */
#ifndef CQLMUX_CLUSTER_TOKEN_MAP_H
#define CQLMUX_CLUSTER_TOKEN_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/keyspaces.h"
#include "runtime/alloc.h"

typedef struct cqlmux_host cqlmux_host;

/* One placement of replicas, shared by the keyspaces that replicate alike:
 * the replicas of ring range i are replicas[offsets[i] .. offsets[i + 1]). */
typedef struct cqlmux_replica_table {
  cqlmux_replication replication;
  uint32_t *offsets;         /* ring_count + 1 entries */
  cqlmux_host **replicas;    /* NULL when the strategy places none */
} cqlmux_replica_table;

typedef struct cqlmux_token_map_keyspace {
  const char *name;          /* into names */
  size_t name_len;
  const cqlmux_replica_table *table;
} cqlmux_token_map_keyspace;

typedef struct cqlmux_token_map {
  struct cqlmux_token_map *retired_next; /* the cluster's list of replaced maps */
  cqlmux_allocator alloc;
  size_t ring_count;
  int64_t *tokens;           /* sorted ascending, distinct */
  cqlmux_host **owners;      /* owners[i] owns the range ending at tokens[i] */
  size_t table_count;
  cqlmux_replica_table *tables;
  size_t keyspace_count;
  cqlmux_token_map_keyspace *keyspaces; /* sorted by (length, bytes) */
  char *names;
} cqlmux_token_map;

/* Builds a map of `hosts` (tokens, datacenter and rack read now: the
 * caller holds the cluster lock, or the hosts are not shared) and
 * `keyspaces` (copied). A host listed twice counts once. Returns OK with
 * *out set, or NOMEM (*out untouched). */
int cqlmux_token_map_build(const cqlmux_allocator *alloc, cqlmux_host *const *hosts,
                           size_t host_count, const cqlmux_keyspace_desc *keyspaces,
                           size_t keyspace_count, cqlmux_token_map **out);

/* The replicas of `token` in `keyspace` (not NUL-terminated; keyspace_len
 * bytes), primary first then in ring order, in *replicas_out (borrowed
 * from the map). Returns their count; 0 (and *replicas_out untouched) for
 * a NULL map, an empty ring, an unknown keyspace, or a strategy without
 * replicas. Any thread; no lock, no allocation. */
size_t cqlmux_token_map_replicas(const cqlmux_token_map *m, const char *keyspace,
                                 size_t keyspace_len, int64_t token,
                                 cqlmux_host *const **replicas_out);

/* Ring tokens (host tokens, without duplicates). */
size_t cqlmux_token_map_ring_size(const cqlmux_token_map *m);

/* Accepts NULL. */
void cqlmux_token_map_free(cqlmux_token_map *m);

#endif

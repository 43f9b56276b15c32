/* Keyspaces and their replication, as system_schema.keyspaces describes
 * them: the input of the token map (token_map.h).
 *
 * The `replication` column is a map<text, text>:
 *   {'class': 'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': '3'}
 *   {'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'dc1': '3', 'dc2': '2'}
 * A factor may be written "3/1" (transient replication: all/transient);
 * every one of the 3 holds data, so the number before the slash counts.
 *
 * Pure: decodes a ROWS result already parsed by lib/proto; any thread. */
#ifndef CQLMUX_CLUSTER_KEYSPACES_H
#define CQLMUX_CLUSTER_KEYSPACES_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/response.h"
#include "runtime/alloc.h"

/* Data centers one NetworkTopologyStrategy keyspace may name; a keyspace
 * naming more is taken as UNKNOWN (no token awareness for it). */
#define CQLMUX_REPLICATION_MAX_DCS 16
#define CQLMUX_KEYSPACE_NAME_MAX 256

typedef enum cqlmux_replication_class {
  CQLMUX_REPLICATION_UNKNOWN = 0, /* a class we do not know, or none: no replicas */
  CQLMUX_REPLICATION_SIMPLE,      /* replication_factor hosts in ring order */
  CQLMUX_REPLICATION_NETWORK,     /* NetworkTopologyStrategy: per-DC factors, racks */
  CQLMUX_REPLICATION_LOCAL,       /* LocalStrategy: each node's own data, no replicas */
  CQLMUX_REPLICATION_EVERYWHERE   /* EverywhereStrategy: every host */
} cqlmux_replication_class;

typedef struct cqlmux_dc_factor {
  char datacenter[64];
  unsigned factor;
} cqlmux_dc_factor;

typedef struct cqlmux_replication {
  cqlmux_replication_class cls;
  unsigned factor;                 /* replication_factor (SimpleStrategy) */
  size_t dc_count;                 /* the other options: per-DC factors */
  cqlmux_dc_factor dcs[CQLMUX_REPLICATION_MAX_DCS];
  bool too_many_dcs;
} cqlmux_replication;

typedef struct cqlmux_keyspace_desc {
  char name[CQLMUX_KEYSPACE_NAME_MAX];
  cqlmux_replication replication;
} cqlmux_keyspace_desc;

/* Takes one option of the replication map into r (zeroed first by the
 * caller). 'class' picks the strategy by its class name (with or without
 * the org.apache.cassandra.locator. package); 'replication_factor' is the
 * SimpleStrategy factor; any other key is a data center's factor (the map
 * may list them before 'class'). A value that is not a number counts 0. */
void cqlmux_replication_option(cqlmux_replication *r, const char *key, size_t key_len,
                               const char *value, size_t value_len);

/* Whether a and b place replicas the same way (keyspaces that do share one
 * replica table in the token map). */
bool cqlmux_replication_equal(const cqlmux_replication *a, const cqlmux_replication *b);

/* Decodes the rows of `SELECT keyspace_name, replication FROM
 * system_schema.keyspaces`: *out gets *count descriptions (free with
 * cqlmux_mem_free). A row without a name or whose replication is not a
 * map<text, text> is skipped (its keyspace stays unknown: no token
 * awareness). Returns OK, NOMEM, or MALFORMED when keyspace_name is not
 * among the columns. */
int cqlmux_keyspaces_decode(const cqlmux_allocator *alloc, const cqlmux_rows *rows,
                            cqlmux_keyspace_desc **out, size_t *count);

#endif

/* Keyspaces of the mock cluster: their replication as system_schema serves
 * it, and the replicas of a token under it (the mock's own placement, so a
 * test can check the driver's choice of node against it). */
#include "config.h"

#include "mock/mock_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cqlmux_mock_keyspace_init(cqlmux_mock_keyspace *ks, const char *name) {
  memset(ks, 0, sizeof *ks);
  ks->name = name;
  ks->replication_factor = 1;
  ks->durable_writes = true;
}

static bool factor_valid(int rf) { return rf >= 0 && rf <= CQLMUX_MOCK_MAX_NODES; }

static bool keyspace_valid(const cqlmux_mock_keyspace *ks) {
  if (!ks || !ks->name || !ks->name[0] || strlen(ks->name) >= 64) return false;
  if (!ks->network_topology) return factor_valid(ks->replication_factor);
  if (ks->dc_count < 0 || ks->dc_count > CQLMUX_MOCK_MAX_DCS) return false;
  for (int d = 0; d < ks->dc_count; d++)
    if (!ks->dc_names[d] || !factor_valid(ks->dc_factors[d])) return false;
  return true;
}

static void keyspace_release(cqlmux_mock_keyspace *ks) {
  mock_free((void *)ks->name);
  for (int d = 0; d < ks->dc_count; d++) mock_free((void *)ks->dc_names[d]);
  memset(ks, 0, sizeof *ks);
}

static void keyspace_copy(cqlmux_mock_keyspace *dst, const cqlmux_mock_keyspace *src) {
  *dst = *src;
  dst->name = mock_xstrdup(src->name);
  for (int d = 0; d < src->dc_count; d++) dst->dc_names[d] = mock_xstrdup(src->dc_names[d]);
}

const cqlmux_mock_keyspace *mock_keyspace_find(cqlmux_mock *m, const char *name) {
  for (int i = 0; i < m->keyspace_count; i++)
    if (!strcmp(m->keyspaces[i].name, name)) return &m->keyspaces[i];
  return NULL;
}

int mock_keyspaces_init(cqlmux_mock *m) {
  if (m->cfg.keyspace_count < 0 || m->cfg.keyspace_count > CQLMUX_MOCK_MAX_KEYSPACES ||
      (m->cfg.keyspace_count && !m->cfg.keyspaces))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < m->cfg.keyspace_count; i++) {
    const cqlmux_mock_keyspace *ks = &m->cfg.keyspaces[i];
    if (!keyspace_valid(ks)) return CQLMUX_ERR_INVALID_ARGUMENT;
    cqlmux_mock_keyspace *slot = (cqlmux_mock_keyspace *)mock_keyspace_find(m, ks->name);
    if (slot) keyspace_release(slot); /* a later definition replaces it */
    else slot = &m->keyspaces[m->keyspace_count++];
    keyspace_copy(slot, ks);
  }
  /* The caller's array may go away: the copies are ours. */
  m->cfg.keyspaces = NULL;
  m->cfg.keyspace_count = 0;
  return CQLMUX_OK;
}

void mock_keyspaces_free(cqlmux_mock *m) {
  for (int i = 0; i < m->keyspace_count; i++) keyspace_release(&m->keyspaces[i]);
  m->keyspace_count = 0;
}

/* A new schema version (the same on every node): drivers that compare
 * versions after a schema change see the cluster agree on a new one. */
static void schema_version_bump(cqlmux_mock *m) {
  for (int i = 15; i >= 8 && ++m->schema_version[i] == 0; i--) continue;
}

int cqlmux_mock_keyspace_set(cqlmux_mock *m, const cqlmux_mock_keyspace *ks) {
  if (!m || !keyspace_valid(ks)) return CQLMUX_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&m->mu);
  cqlmux_mock_keyspace *slot = (cqlmux_mock_keyspace *)mock_keyspace_find(m, ks->name);
  bool created = slot == NULL;
  if (created && m->keyspace_count == CQLMUX_MOCK_MAX_KEYSPACES) {
    pthread_mutex_unlock(&m->mu);
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  if (created) slot = &m->keyspaces[m->keyspace_count++];
  else keyspace_release(slot);
  keyspace_copy(slot, ks);
  schema_version_bump(m);
  pthread_mutex_unlock(&m->mu);
  cqlmux_mock_event ev = {.type = CQLMUX_MOCK_EVENT_SCHEMA,
                          .change = created ? "CREATED" : "UPDATED",
                          .target = "KEYSPACE",
                          .keyspace = ks->name};
  return cqlmux_mock_push_event(m, CQLMUX_MOCK_ANY, &ev);
}

/* ------------------------------------------------------------ replication */

/* Cassandra 5.0's replication map as a CQL map literal, keys in the
 * bytewise order a map<text,text> keeps them in. */
void mock_keyspace_replication_text(const cqlmux_mock_keyspace *ks, char *buf, size_t cap) {
  if (!ks->network_topology) {
    snprintf(buf, cap,
             "{'class': 'org.apache.cassandra.locator.SimpleStrategy', "
             "'replication_factor': '%d'}",
             ks->replication_factor);
    return;
  }
  const char *keys[CQLMUX_MOCK_MAX_DCS + 1];
  int factors[CQLMUX_MOCK_MAX_DCS + 1];
  int n = 0;
  keys[n] = "class";
  factors[n++] = -1;
  for (int d = 0; d < ks->dc_count; d++) {
    int at = n++;
    while (at > 0 && strcmp(keys[at - 1], ks->dc_names[d]) > 0) {
      keys[at] = keys[at - 1];
      factors[at] = factors[at - 1];
      at--;
    }
    keys[at] = ks->dc_names[d];
    factors[at] = ks->dc_factors[d];
  }
  size_t used = (size_t)snprintf(buf, cap, "{");
  for (int i = 0; i < n && used < cap; i++) {
    if (factors[i] < 0)
      used += (size_t)snprintf(buf + used, cap - used,
                               "%s'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy'",
                               i ? ", " : "");
    else
      used += (size_t)snprintf(buf + used, cap - used, "%s'%s': '%d'", i ? ", " : "", keys[i],
                               factors[i]);
  }
  if (used < cap) snprintf(buf + used, cap - used, "}");
}

typedef struct ring_entry {
  int64_t token;
  int node;
} ring_entry;

static int ring_cmp(const void *a, const void *b) {
  const ring_entry *x = a, *y = b;
  if (x->token != y->token) return x->token < y->token ? -1 : 1;
  return x->node - y->node;
}

/* Every token of every node still in the cluster, sorted. */
static size_t ring_build(cqlmux_mock *m, ring_entry **out) {
  size_t n = 0;
  for (int i = 0; i < m->node_count; i++)
    if (!m->nodes[i].removed) n += (size_t)m->nodes[i].token_count;
  ring_entry *ring = mock_xcalloc(n ? n : 1, sizeof *ring);
  size_t k = 0;
  for (int i = 0; i < m->node_count; i++)
    for (int t = 0; !m->nodes[i].removed && t < m->nodes[i].token_count; t++)
      ring[k++] = (ring_entry){m->nodes[i].tokens[t], i};
  qsort(ring, n, sizeof *ring, ring_cmp);
  *out = ring;
  return n;
}

/* The replication factor the keyspace gives a node's DC. */
static int dc_factor(const cqlmux_mock_keyspace *ks, const char *dc) {
  for (int d = 0; d < ks->dc_count; d++)
    if (!strcmp(ks->dc_names[d], dc)) return ks->dc_factors[d];
  return 0;
}

/* Walks the ring clockwise from the token's owner (the first ring token at
 * or after it, wrapping), taking each node the strategy still wants. */
static int place(cqlmux_mock *m, const cqlmux_mock_keyspace *ks, int64_t token, int *nodes,
                 int cap) {
  ring_entry *ring;
  size_t n = ring_build(m, &ring);
  size_t start = 0;
  while (start < n && ring[start].token < token) start++;
  bool taken[CQLMUX_MOCK_MAX_NODES] = {false};
  int per_dc[CQLMUX_MOCK_MAX_NODES] = {0}; /* by the index of the DC's first node */
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    const mock_node *node = &m->nodes[ring[(start + i) % n].node];
    if (taken[node->index]) continue;
    int dc_key = node->index;
    for (int j = 0; j < node->index; j++)
      if (!strcmp(m->nodes[j].dc, node->dc)) {
        dc_key = j;
        break;
      }
    int want = ks->network_topology ? dc_factor(ks, node->dc) : ks->replication_factor;
    int have = ks->network_topology ? per_dc[dc_key] : found;
    if (have >= want) continue;
    taken[node->index] = true;
    per_dc[dc_key]++;
    if (found < cap) nodes[found] = node->index;
    found++;
  }
  mock_free(ring);
  return found;
}

int cqlmux_mock_replicas(cqlmux_mock *m, const char *keyspace, int64_t token, int *nodes,
                         int cap) {
  if (!m || !keyspace || cap < 0 || (cap && !nodes)) return CQLMUX_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&m->mu);
  const cqlmux_mock_keyspace *ks = mock_keyspace_find(m, keyspace);
  int rc = ks ? place(m, ks, token, nodes, cap) : CQLMUX_ERR_NOT_FOUND;
  pthread_mutex_unlock(&m->mu);
  return rc;
}

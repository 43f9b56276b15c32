#include "cluster/token_map.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/host.h"

/* ================================================================ building */

/* What a replica walk needs to know about the hosts, by index. */
typedef struct walk_ctx {
  const cqlmux_token_map *m;
  size_t host_count;
  cqlmux_host **hosts;       /* distinct hosts */
  uint32_t *owner_index;     /* ring position -> host index */
  uint32_t *host_dc;         /* host index -> dc index */
  uint32_t *host_rack;       /* host index -> rack index (racks of one DC are distinct) */
  size_t dc_count, rack_count;
  uint32_t *dc_hosts;        /* dc index -> hosts in it */
  uint32_t *dc_racks;        /* dc index -> racks in it */
  char (*dc_names)[64];
  uint32_t *taken;           /* host index -> walk number that took it */
  uint32_t *rack_used;       /* rack index -> walk number that used it */
  uint32_t walk;             /* current walk number (starts at 1) */
} walk_ctx;

typedef struct ring_slot {
  int64_t token;
  uint32_t host;
} ring_slot;

static int compare_slots(const void *a, const void *b) {
  const ring_slot *x = a, *y = b;
  if (x->token != y->token) return x->token < y->token ? -1 : 1;
  /* Equal tokens: the host listed first wins (see token_map.h). */
  return x->host < y->host ? -1 : x->host > y->host;
}

/* Index of name in names[0..*count), added when absent. */
static uint32_t intern(char (*names)[64], size_t *count, const char *name) {
  for (size_t i = 0; i < *count; i++)
    if (!strcmp(names[i], name)) return (uint32_t)i;
  memcpy(names[*count], name, 64);
  names[*count][63] = '\0';
  return (uint32_t)(*count)++;
}

/* Data centers and racks as indexes (rack names are per DC). */
static void index_locations(walk_ctx *w, char (*rack_names)[64]) {
  for (size_t i = 0; i < w->host_count; i++) {
    const cqlmux_host *h = w->hosts[i];
    w->host_dc[i] = intern(w->dc_names, &w->dc_count, h->datacenter);
    /* A rack's name qualified by its DC's index: 64 bytes fit both. */
    char qualified[64];
    size_t n = strnlen(h->rack, 50);
    memcpy(qualified, h->rack, n);
    qualified[n] = '\0';
    char *p = qualified + n;
    *p++ = '\x1f';
    for (uint32_t d = w->host_dc[i] + 1; d; d /= 10) *p++ = (char)('0' + d % 10);
    *p = '\0';
    size_t before = w->rack_count;
    w->host_rack[i] = intern(rack_names, &w->rack_count, qualified);
    w->dc_hosts[w->host_dc[i]]++;
    if (w->rack_count > before) w->dc_racks[w->host_dc[i]]++;
  }
}

/* The ring: every host's tokens, sorted, one owner per token. */
static int build_ring(cqlmux_token_map *m, walk_ctx *w) {
  size_t total = 0;
  for (size_t i = 0; i < w->host_count; i++) total += w->hosts[i]->token_count;
  ring_slot *slots = cqlmux_mem_calloc(&m->alloc, total ? total : 1, sizeof *slots);
  if (!slots) return CQLMUX_ERR_NOMEM;
  size_t n = 0;
  for (size_t i = 0; i < w->host_count; i++)
    for (size_t t = 0; t < w->hosts[i]->token_count; t++)
      slots[n++] = (ring_slot){w->hosts[i]->tokens[t], (uint32_t)i};
  qsort(slots, n, sizeof *slots, compare_slots);
  m->tokens = cqlmux_mem_calloc(&m->alloc, n ? n : 1, sizeof *m->tokens);
  m->owners = cqlmux_mem_calloc(&m->alloc, n ? n : 1, sizeof *m->owners);
  w->owner_index = cqlmux_mem_calloc(&m->alloc, n ? n : 1, sizeof *w->owner_index);
  int rc = m->tokens && m->owners && w->owner_index ? CQLMUX_OK : CQLMUX_ERR_NOMEM;
  for (size_t i = 0; rc == CQLMUX_OK && i < n; i++) {
    if (m->ring_count && m->tokens[m->ring_count - 1] == slots[i].token) continue;
    m->tokens[m->ring_count] = slots[i].token;
    m->owners[m->ring_count] = w->hosts[slots[i].host];
    w->owner_index[m->ring_count++] = slots[i].host;
  }
  cqlmux_mem_free(&m->alloc, slots);
  return rc;
}

/* Takes host h into out[*n] unless this walk took it already. */
static bool take(walk_ctx *w, uint32_t h, cqlmux_host **out, uint32_t *n) {
  if (w->taken[h] == w->walk) return false;
  w->taken[h] = w->walk;
  out[(*n)++] = w->hosts[h];
  return true;
}

/* SimpleStrategy (and Everywhere with factor = host count). */
static uint32_t walk_simple(walk_ctx *w, size_t start, size_t factor, cqlmux_host **out) {
  uint32_t n = 0;
  if (factor > w->host_count) factor = w->host_count;
  for (size_t k = 0; k < w->m->ring_count && n < factor; k++)
    take(w, w->owner_index[(start + k) % w->m->ring_count], out, &n);
  return n;
}

/* One data center's progress in a NetworkTopologyStrategy walk. */
typedef struct dc_fill {
  size_t left;         /* replicas still wanted */
  long rack_repeats;   /* hosts of used racks still allowed */
} dc_fill;

static bool nts_accepts(walk_ctx *w, dc_fill *f, uint32_t h) {
  if (f->left == 0 || w->taken[h] == w->walk) return false;
  if (w->rack_used[w->host_rack[h]] != w->walk) {
    w->rack_used[w->host_rack[h]] = w->walk;
    return true;
  }
  if (f->rack_repeats <= 0) return false;
  f->rack_repeats--;
  return true;
}

static uint32_t walk_network(walk_ctx *w, const cqlmux_replication *r, size_t start,
                             dc_fill *fill, cqlmux_host **out) {
  size_t to_fill = 0;
  for (size_t d = 0; d < w->dc_count; d++) fill[d] = (dc_fill){0, 0};
  for (size_t i = 0; i < r->dc_count; i++) {
    size_t d = 0;
    while (d < w->dc_count && strcmp(w->dc_names[d], r->dcs[i].datacenter)) d++;
    if (d == w->dc_count || r->dcs[i].factor == 0 || fill[d].left) continue;
    size_t factor = r->dcs[i].factor;
    fill[d].left = factor < w->dc_hosts[d] ? factor : w->dc_hosts[d];
    fill[d].rack_repeats = (long)factor - (long)w->dc_racks[d];
    to_fill++;
  }
  uint32_t n = 0;
  for (size_t k = 0; k < w->m->ring_count && to_fill; k++) {
    uint32_t h = w->owner_index[(start + k) % w->m->ring_count];
    dc_fill *f = &fill[w->host_dc[h]];
    if (!nts_accepts(w, f, h)) continue;
    take(w, h, out, &n);
    if (--f->left == 0) to_fill--;
  }
  return n;
}

/* Most replicas one range can have under r. */
static size_t max_replicas(const walk_ctx *w, const cqlmux_replication *r) {
  switch (r->too_many_dcs ? CQLMUX_REPLICATION_UNKNOWN : r->cls) {
  case CQLMUX_REPLICATION_SIMPLE: return r->factor < w->host_count ? r->factor : w->host_count;
  case CQLMUX_REPLICATION_EVERYWHERE: return w->host_count;
  case CQLMUX_REPLICATION_NETWORK: {
    size_t sum = 0;
    for (size_t i = 0; i < r->dc_count; i++) sum += r->dcs[i].factor;
    return sum < w->host_count ? sum : w->host_count;
  }
  default: return 0;
  }
}

static uint32_t walk_one(walk_ctx *w, const cqlmux_replication *r, size_t start, dc_fill *fill,
                         cqlmux_host **out) {
  w->walk++;
  if (r->cls == CQLMUX_REPLICATION_NETWORK) return walk_network(w, r, start, fill, out);
  return walk_simple(w, start, r->cls == CQLMUX_REPLICATION_SIMPLE ? r->factor : w->host_count,
                     out);
}

static int build_table(cqlmux_token_map *m, walk_ctx *w, dc_fill *fill,
                       cqlmux_replica_table *t) {
  size_t per_range = m->ring_count ? max_replicas(w, &t->replication) : 0;
  t->offsets = cqlmux_mem_calloc(&m->alloc, m->ring_count + 1, sizeof *t->offsets);
  if (!t->offsets) return CQLMUX_ERR_NOMEM;
  if (per_range == 0) return CQLMUX_OK;
  if (m->ring_count * per_range > UINT32_MAX) return CQLMUX_ERR_NOMEM;
  t->replicas = cqlmux_mem_calloc(&m->alloc, m->ring_count * per_range, sizeof *t->replicas);
  if (!t->replicas) return CQLMUX_ERR_NOMEM;
  for (size_t i = 0; i < m->ring_count; i++)
    t->offsets[i + 1] =
        t->offsets[i] + walk_one(w, &t->replication, i, fill, t->replicas + t->offsets[i]);
  return CQLMUX_OK;
}

static int compare_names(const char *a, size_t an, const char *b, size_t bn) {
  if (an != bn) return an < bn ? -1 : 1;
  return memcmp(a, b, an);
}

static int compare_keyspaces(const void *a, const void *b) {
  const cqlmux_token_map_keyspace *x = a, *y = b;
  return compare_names(x->name, x->name_len, y->name, y->name_len);
}

/* One table per distinct replication; each keyspace points to its own. */
static int build_keyspaces(cqlmux_token_map *m, walk_ctx *w, const cqlmux_keyspace_desc *ks,
                           size_t n) {
  m->tables = cqlmux_mem_calloc(&m->alloc, n ? n : 1, sizeof *m->tables);
  m->keyspaces = cqlmux_mem_calloc(&m->alloc, n ? n : 1, sizeof *m->keyspaces);
  m->names = cqlmux_mem_calloc(&m->alloc, n ? n : 1, CQLMUX_KEYSPACE_NAME_MAX);
  dc_fill *fill = cqlmux_mem_calloc(&m->alloc, w->dc_count + 1, sizeof *fill);
  int rc = m->tables && m->keyspaces && m->names && fill ? CQLMUX_OK : CQLMUX_ERR_NOMEM;
  for (size_t i = 0; rc == CQLMUX_OK && i < n; i++) {
    size_t t = 0;
    while (t < m->table_count && !cqlmux_replication_equal(&m->tables[t].replication,
                                                           &ks[i].replication))
      t++;
    if (t == m->table_count) {
      m->tables[t].replication = ks[i].replication;
      m->table_count++;
      rc = build_table(m, w, fill, &m->tables[t]);
    }
    char *name = m->names + i * CQLMUX_KEYSPACE_NAME_MAX;
    size_t len = strnlen(ks[i].name, CQLMUX_KEYSPACE_NAME_MAX - 1);
    memcpy(name, ks[i].name, len);
    m->keyspaces[m->keyspace_count++] = (cqlmux_token_map_keyspace){name, len, &m->tables[t]};
  }
  cqlmux_mem_free(&m->alloc, fill);
  if (rc == CQLMUX_OK)
    qsort(m->keyspaces, m->keyspace_count, sizeof *m->keyspaces, compare_keyspaces);
  return rc;
}

/* The walk's scratch arrays, and the distinct hosts. */
static int walk_init(walk_ctx *w, const cqlmux_allocator *a, cqlmux_host *const *hosts,
                     size_t n) {
  memset(w, 0, sizeof *w);
  size_t cap = n ? n : 1;
  w->hosts = cqlmux_mem_calloc(a, cap, sizeof *w->hosts);
  w->host_dc = cqlmux_mem_calloc(a, cap, sizeof *w->host_dc);
  w->host_rack = cqlmux_mem_calloc(a, cap, sizeof *w->host_rack);
  w->dc_hosts = cqlmux_mem_calloc(a, cap, sizeof *w->dc_hosts);
  w->dc_racks = cqlmux_mem_calloc(a, cap, sizeof *w->dc_racks);
  w->dc_names = cqlmux_mem_calloc(a, cap, sizeof *w->dc_names);
  w->taken = cqlmux_mem_calloc(a, cap, sizeof *w->taken);
  w->rack_used = cqlmux_mem_calloc(a, cap, sizeof *w->rack_used);
  char (*rack_names)[64] = cqlmux_mem_calloc(a, cap, sizeof *rack_names);
  if (!w->hosts || !w->host_dc || !w->host_rack || !w->dc_hosts || !w->dc_racks ||
      !w->dc_names || !w->taken || !w->rack_used || !rack_names) {
    cqlmux_mem_free(a, rack_names);
    return CQLMUX_ERR_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    while (k < w->host_count && w->hosts[k] != hosts[i]) k++;
    if (k == w->host_count) w->hosts[w->host_count++] = hosts[i];
  }
  index_locations(w, rack_names);
  cqlmux_mem_free(a, rack_names);
  return CQLMUX_OK;
}

static void walk_free(walk_ctx *w, const cqlmux_allocator *a) {
  cqlmux_mem_free(a, w->hosts);
  cqlmux_mem_free(a, w->owner_index);
  cqlmux_mem_free(a, w->host_dc);
  cqlmux_mem_free(a, w->host_rack);
  cqlmux_mem_free(a, w->dc_hosts);
  cqlmux_mem_free(a, w->dc_racks);
  cqlmux_mem_free(a, w->dc_names);
  cqlmux_mem_free(a, w->taken);
  cqlmux_mem_free(a, w->rack_used);
}

int cqlmux_token_map_build(const cqlmux_allocator *alloc, cqlmux_host *const *hosts,
                           size_t host_count, const cqlmux_keyspace_desc *keyspaces,
                           size_t keyspace_count, cqlmux_token_map **out) {
  cqlmux_token_map *m = cqlmux_mem_calloc(alloc, 1, sizeof *m);
  if (!m) return CQLMUX_ERR_NOMEM;
  m->alloc = alloc ? *alloc : *cqlmux_default_allocator();
  walk_ctx w;
  int rc = walk_init(&w, &m->alloc, hosts, host_count);
  w.m = m;
  if (rc == CQLMUX_OK) rc = build_ring(m, &w);
  if (rc == CQLMUX_OK) rc = build_keyspaces(m, &w, keyspaces, keyspace_count);
  walk_free(&w, &m->alloc);
  if (rc != CQLMUX_OK) {
    cqlmux_token_map_free(m);
    return rc;
  }
  *out = m;
  return CQLMUX_OK;
}

void cqlmux_token_map_free(cqlmux_token_map *m) {
  if (!m) return;
  cqlmux_allocator a = m->alloc;
  for (size_t i = 0; i < m->table_count; i++) {
    cqlmux_mem_free(&a, m->tables[i].offsets);
    cqlmux_mem_free(&a, m->tables[i].replicas);
  }
  cqlmux_mem_free(&a, m->tables);
  cqlmux_mem_free(&a, m->keyspaces);
  cqlmux_mem_free(&a, m->names);
  cqlmux_mem_free(&a, m->tokens);
  cqlmux_mem_free(&a, m->owners);
  cqlmux_mem_free(&a, m);
}

/* ================================================================ lookups */

static const cqlmux_replica_table *find_keyspace(const cqlmux_token_map *m, const char *name,
                                                 size_t len) {
  size_t lo = 0, hi = m->keyspace_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const cqlmux_token_map_keyspace *k = &m->keyspaces[mid];
    int c = compare_names(k->name, k->name_len, name, len);
    if (c == 0) return k->table;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* The range holding token: the first ring token >= it, else the first. */
static size_t range_of(const cqlmux_token_map *m, int64_t token) {
  size_t lo = 0, hi = m->ring_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->tokens[mid] < token)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo == m->ring_count ? 0 : lo;
}

size_t cqlmux_token_map_replicas(const cqlmux_token_map *m, const char *keyspace,
                                 size_t keyspace_len, int64_t token,
                                 cqlmux_host *const **replicas_out) {
  if (!m || m->ring_count == 0 || !keyspace) return 0;
  const cqlmux_replica_table *t = find_keyspace(m, keyspace, keyspace_len);
  if (!t || !t->replicas) return 0;
  size_t i = range_of(m, token);
  size_t n = t->offsets[i + 1] - t->offsets[i];
  if (n) *replicas_out = t->replicas + t->offsets[i];
  return n;
}

size_t cqlmux_token_map_ring_size(const cqlmux_token_map *m) { return m ? m->ring_count : 0; }

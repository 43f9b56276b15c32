#include "cluster/keyspaces.h"

#include <string.h>

#include "cluster/topology.h"
#include "proto/types.h"
#include "proto/values.h"

static bool is(const char *s, size_t n, const char *word) {
  return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* The class name without its package (any dotted prefix). */
static cqlmux_replication_class class_named(const char *s, size_t n) {
  for (size_t i = n; i > 0; i--)
    if (s[i - 1] == '.') {
      s += i, n -= i;
      break;
    }
  if (is(s, n, "SimpleStrategy")) return CQLMUX_REPLICATION_SIMPLE;
  if (is(s, n, "NetworkTopologyStrategy")) return CQLMUX_REPLICATION_NETWORK;
  if (is(s, n, "LocalStrategy")) return CQLMUX_REPLICATION_LOCAL;
  if (is(s, n, "EverywhereStrategy")) return CQLMUX_REPLICATION_EVERYWHERE;
  return CQLMUX_REPLICATION_UNKNOWN;
}

/* The leading decimal number ("3", or "3/1" for transient replication);
 * 0 when there is none. Capped far above any real factor. */
static unsigned factor_of(const char *s, size_t n) {
  unsigned v = 0;
  for (size_t i = 0; i < n && s[i] >= '0' && s[i] <= '9' && v < 100000; i++)
    v = v * 10 + (unsigned)(s[i] - '0');
  return v;
}

void cqlmux_replication_option(cqlmux_replication *r, const char *key, size_t key_len,
                               const char *value, size_t value_len) {
  if (is(key, key_len, "class")) {
    r->cls = class_named(value, value_len);
    return;
  }
  if (is(key, key_len, "replication_factor")) {
    r->factor = factor_of(value, value_len);
    return;
  }
  if (r->dc_count == CQLMUX_REPLICATION_MAX_DCS || key_len >= sizeof r->dcs[0].datacenter) {
    r->too_many_dcs = true;
    return;
  }
  cqlmux_dc_factor *dc = &r->dcs[r->dc_count++];
  memcpy(dc->datacenter, key, key_len);
  dc->datacenter[key_len] = '\0';
  dc->factor = factor_of(value, value_len);
}

bool cqlmux_replication_equal(const cqlmux_replication *a, const cqlmux_replication *b) {
  if (a->cls != b->cls || a->too_many_dcs != b->too_many_dcs) return false;
  switch (a->cls) {
  case CQLMUX_REPLICATION_SIMPLE: return a->factor == b->factor;
  case CQLMUX_REPLICATION_NETWORK: break;
  default: return true;
  }
  if (a->dc_count != b->dc_count) return false;
  /* The same factor for each DC, whatever the map's order. */
  for (size_t i = 0; i < a->dc_count; i++) {
    bool found = false;
    for (size_t j = 0; j < b->dc_count && !found; j++)
      found = !strcmp(a->dcs[i].datacenter, b->dcs[j].datacenter) &&
              a->dcs[i].factor == b->dcs[j].factor;
    if (!found) return false;
  }
  return true;
}

/* The replication map of one row into r; false when it is not a readable
 * map<text, text>. */
static bool decode_replication(const cqlmux_rows *rows, int32_t row, int col,
                               cqlmux_replication *r) {
  const cqlmux_typedesc *type = rows->meta.columns[col].type;
  if (type->id != CQLMUX_TYPE_MAP) return false;
  cqlmux_bytes v;
  cqlmux_value_iter it;
  if (cqlmux_rows_cell(rows, (uint32_t)row, (uint32_t)col, &v) != CQLMUX_OK ||
      cqlmux_value_iter_init(&it, type, v) != CQLMUX_OK)
    return false;
  cqlmux_bytes key, value;
  const cqlmux_typedesc *et;
  int got;
  while ((got = cqlmux_value_iter_next(&it, &key, &et)) == 1) {
    if (cqlmux_value_iter_next(&it, &value, &et) != 1) return false;
    cqlmux_slice k, s;
    if (cqlmux_value_get_text(key, &k) != CQLMUX_OK ||
        cqlmux_value_get_text(value, &s) != CQLMUX_OK)
      return false;
    cqlmux_replication_option(r, (const char *)k.data, k.len, (const char *)s.data, s.len);
  }
  return got == 0;
}

static bool decode_row(const cqlmux_rows *rows, int32_t row, int name_col, int repl_col,
                       cqlmux_keyspace_desc *d) {
  cqlmux_bytes v;
  cqlmux_slice name;
  memset(d, 0, sizeof *d);
  if (cqlmux_rows_cell(rows, (uint32_t)row, (uint32_t)name_col, &v) != CQLMUX_OK ||
      cqlmux_value_get_text(v, &name) != CQLMUX_OK || name.len == 0 ||
      name.len >= sizeof d->name)
    return false;
  memcpy(d->name, name.data, name.len);
  return repl_col >= 0 && decode_replication(rows, row, repl_col, &d->replication);
}

int cqlmux_keyspaces_decode(const cqlmux_allocator *alloc, const cqlmux_rows *rows,
                            cqlmux_keyspace_desc **out, size_t *count) {
  *out = NULL, *count = 0;
  int name_col = rows->meta.columns ? cqlmux_topology_column(rows, "keyspace_name") : -1;
  if (name_col < 0) return CQLMUX_ERR_MALFORMED;
  if (rows->rows_count <= 0) return CQLMUX_OK;
  int repl_col = cqlmux_topology_column(rows, "replication");
  cqlmux_keyspace_desc *descs = cqlmux_mem_calloc(alloc, (size_t)rows->rows_count, sizeof *descs);
  if (!descs) return CQLMUX_ERR_NOMEM;
  size_t n = 0;
  for (int32_t r = 0; r < rows->rows_count; r++)
    n += decode_row(rows, r, name_col, repl_col, &descs[n]);
  *out = descs, *count = n;
  return CQLMUX_OK;
}

#include "cluster/topology.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlmux.h"
#include "proto/values.h"

/* Column indexes of one table's result (-1: absent). */
typedef struct columns {
  int address;   /* rpc_address (local, peers) or native_address (peers_v2) */
  int fallback;  /* broadcast_address (local) or peer (peers, peers_v2) */
  int port;      /* native_port (peers_v2) */
  int host_id, datacenter, rack, release_version, tokens;
} columns;

int cqlmux_topology_column(const cqlmux_rows *rows, const char *name) {
  size_t n = strlen(name);
  for (int i = 0; i < rows->meta.columns_count; i++) {
    const cqlmux_slice *s = &rows->meta.columns[i].name;
    if (s->len == n && memcmp(s->data, name, n) == 0) return i;
  }
  return -1;
}

static void find_columns(const cqlmux_rows *rows, cqlmux_topology_table table, columns *c) {
  bool local = table == CQLMUX_TOPOLOGY_LOCAL;
  c->address = cqlmux_topology_column(rows, table == CQLMUX_TOPOLOGY_PEERS_V2 ? "native_address"
                                                                  : "rpc_address");
  c->fallback = cqlmux_topology_column(rows, local ? "broadcast_address" : "peer");
  c->port = table == CQLMUX_TOPOLOGY_PEERS_V2 ? cqlmux_topology_column(rows, "native_port") : -1;
  c->host_id = cqlmux_topology_column(rows, "host_id");
  c->datacenter = cqlmux_topology_column(rows, "data_center");
  c->rack = cqlmux_topology_column(rows, "rack");
  c->release_version = cqlmux_topology_column(rows, "release_version");
  c->tokens = cqlmux_topology_column(rows, "tokens");
}

static cqlmux_bytes cell(const cqlmux_rows *rows, int32_t row, int col) {
  cqlmux_bytes v = {NULL, -1};
  if (col >= 0) cqlmux_rows_cell(rows, (uint32_t)row, (uint32_t)col, &v);
  return v;
}

static bool unspecified(const cqlmux_inet *a) {
  for (unsigned i = 0; i < a->addr_len; i++)
    if (a->addr[i]) return false;
  return true;
}

/* The row's address: the preferred column unless null or 0.0.0.0 / ::. */
static bool row_address(const cqlmux_rows *rows, int32_t r, const columns *c, cqlmux_inet *out) {
  if (cqlmux_value_get_inet(cell(rows, r, c->address), out) == CQLMUX_OK && !unspecified(out))
    return true;
  return cqlmux_value_get_inet(cell(rows, r, c->fallback), out) == CQLMUX_OK && !unspecified(out);
}

void cqlmux_topology_endpoint(const cqlmux_inet *a, int port, cqlmux_endpoint *ep) {
  memset(ep, 0, sizeof *ep);
  if (a->addr_len == 4) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ep->addr;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    memcpy(&in->sin_addr, a->addr, 4);
    ep->addr_len = sizeof *in;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep->addr;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    memcpy(&in6->sin6_addr, a->addr, 16);
    ep->addr_len = sizeof *in6;
  }
}

/* Copies a text cell (NUL-terminated, truncated to cap); false when null. */
static bool text_cell(const cqlmux_rows *rows, int32_t r, int col, char *out, size_t cap) {
  cqlmux_slice s;
  out[0] = '\0';
  if (cqlmux_value_get_text(cell(rows, r, col), &s) != CQLMUX_OK) return false;
  size_t n = s.len < cap - 1 ? s.len : cap - 1;
  memcpy(out, s.data, n);
  out[n] = '\0';
  return true;
}

/* tokens set<text>: Murmur3 tokens as decimal text. Others (random or
 * byte-ordered partitioners) are not numbers and are left out. */
static int decode_tokens(const cqlmux_allocator *alloc, const cqlmux_rows *rows, int32_t r, int col,
                         cqlmux_node_desc *d) {
  if (col < 0) return CQLMUX_OK;
  cqlmux_bytes v = cell(rows, r, col);
  const cqlmux_typedesc *type = rows->meta.columns[col].type;
  cqlmux_value_iter it;
  if (v.len < 0 || cqlmux_value_iter_init(&it, type, v) != CQLMUX_OK) return CQLMUX_OK;
  uint32_t n = cqlmux_value_iter_size(&it);
  if (n == 0) return CQLMUX_OK;
  d->tokens = cqlmux_mem_calloc(alloc, n, sizeof *d->tokens);
  if (!d->tokens) return CQLMUX_ERR_NOMEM;
  cqlmux_bytes e;
  const cqlmux_typedesc *et;
  /* 1 per element, 0 at the end, negative on a malformed value. */
  while (cqlmux_value_iter_next(&it, &e, &et) == 1 && d->token_count < n) {
    cqlmux_slice s;
    char text[32];
    if (cqlmux_value_get_text(e, &s) != CQLMUX_OK || s.len == 0 || s.len >= sizeof text) continue;
    memcpy(text, s.data, s.len);
    text[s.len] = '\0';
    char *end;
    errno = 0;
    long long t = strtoll(text, &end, 10);
    if (*end == '\0' && errno == 0) d->tokens[d->token_count++] = t;
  }
  return CQLMUX_OK;
}

/* One row; false (with the reason) when a required cell is missing. */
static bool decode_row(const cqlmux_rows *rows, int32_t r, const columns *c,
                       cqlmux_topology_table table, int default_port, cqlmux_node_desc *d,
                       const char **missing) {
  cqlmux_inet addr;
  d->has_address = row_address(rows, r, c, &addr);
  if (!d->has_address && table != CQLMUX_TOPOLOGY_LOCAL) return *missing = "address", false;
  int32_t port = default_port;
  if (c->port >= 0 && cqlmux_value_get_int(cell(rows, r, c->port), &port) != CQLMUX_OK)
    port = default_port;
  if (port < 1 || port > 65535) return *missing = "native_port (out of range)", false;
  if (d->has_address) cqlmux_topology_endpoint(&addr, port, &d->endpoint);
  const uint8_t *id;
  if (cqlmux_value_get_uuid(cell(rows, r, c->host_id), &id) != CQLMUX_OK)
    return *missing = "host_id", false;
  memcpy(d->host_id, id, 16);
  if (!text_cell(rows, r, c->datacenter, d->datacenter, sizeof d->datacenter))
    return *missing = "data_center", false;
  text_cell(rows, r, c->rack, d->rack, sizeof d->rack);
  text_cell(rows, r, c->release_version, d->release_version, sizeof d->release_version);
  return true;
}

int cqlmux_topology_decode(const cqlmux_allocator *alloc, cqlmux_topology_table table,
                           const cqlmux_rows *rows, int default_port, cqlmux_node_desc **out,
                           size_t *count, size_t *skipped, char *why, size_t why_cap) {
  columns c;
  *out = NULL, *count = 0;
  if (skipped) *skipped = 0;
  if (!rows->meta.columns) return CQLMUX_ERR_MALFORMED;
  find_columns(rows, table, &c);
  if (c.host_id < 0 || c.datacenter < 0 || (c.address < 0 && c.fallback < 0))
    return CQLMUX_ERR_MALFORMED;
  if (rows->rows_count <= 0) return CQLMUX_OK;
  cqlmux_node_desc *descs = cqlmux_mem_calloc(alloc, (size_t)rows->rows_count, sizeof *descs);
  if (!descs) return CQLMUX_ERR_NOMEM;
  size_t n = 0;
  for (int32_t r = 0; r < rows->rows_count; r++) {
    const char *missing = NULL;
    cqlmux_node_desc *d = &descs[n];
    memset(d, 0, sizeof *d);
    if (!decode_row(rows, r, &c, table, default_port, d, &missing)) {
      if (skipped && (*skipped)++ == 0)
        snprintf(why, why_cap, "row %d has no usable %s", (int)r, missing);
      continue;
    }
    if (decode_tokens(alloc, rows, r, c.tokens, d) != CQLMUX_OK) {
      cqlmux_node_descs_free(alloc, descs, n);
      return CQLMUX_ERR_NOMEM;
    }
    n++;
  }
  *out = descs, *count = n;
  return CQLMUX_OK;
}

void cqlmux_node_descs_free(const cqlmux_allocator *alloc, cqlmux_node_desc *descs, size_t count) {
  if (!descs) return;
  for (size_t i = 0; i < count; i++) cqlmux_mem_free(alloc, descs[i].tokens);
  cqlmux_mem_free(alloc, descs);
}

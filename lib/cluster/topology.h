/* The rows of system.local and system.peers(_v2) as node descriptions.
 *
 * Pure: decodes a ROWS result already parsed by lib/proto, looks columns up
 * by name (so `SELECT *` works whatever the server's column order), and
 * checks each row. A peer row missing a required column (an address,
 * host_id, data_center) is skipped and reported, never trusted.
 *
 * Addresses: system.local reports rpc_address (broadcast_address when that
 * is 0.0.0.0); peers_v2 reports native_address and native_port; peers
 * reports rpc_address (the port is then the session's). A 0.0.0.0 or ::
 * address means "every interface" on that node: the peer column is used
 * instead. */
#ifndef CQLMUX_CLUSTER_TOPOLOGY_H
#define CQLMUX_CLUSTER_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/socket.h"
#include "proto/response.h"
#include "runtime/alloc.h"

typedef enum cqlmux_topology_table {
  CQLMUX_TOPOLOGY_LOCAL,
  CQLMUX_TOPOLOGY_PEERS_V2,
  CQLMUX_TOPOLOGY_PEERS
} cqlmux_topology_table;

typedef struct cqlmux_node_desc {
  cqlmux_endpoint endpoint; /* reported address and native port */
  bool has_address;         /* false for LOCAL rows without a usable address */
  uint8_t host_id[16];
  char datacenter[64];
  char rack[64];
  char release_version[32];
  int64_t *tokens;          /* owned (cqlmux_node_desc_clear) */
  size_t token_count;
} cqlmux_node_desc;

/* Decodes every row of `rows` from `table`. *out gets an array of *count
 * descriptions (free with cqlmux_node_descs_free). default_port: the native
 * port when the table has none. skipped (if not NULL) gets the number of
 * rows dropped; a message for the first is written to why. Returns OK, NOMEM
 * or MALFORMED (not a result of that table: a required column is absent
 * from the metadata). */
int cqlmux_topology_decode(const cqlmux_allocator *alloc, cqlmux_topology_table table,
                           const cqlmux_rows *rows, int default_port, cqlmux_node_desc **out,
                           size_t *count, size_t *skipped, char *why, size_t why_cap);

/* The index of the column called `name` in rows' metadata, or -1. */
int cqlmux_topology_column(const cqlmux_rows *rows, const char *name);

/* An [inet] address and a port as an endpoint. */
void cqlmux_topology_endpoint(const cqlmux_inet *address, int port, cqlmux_endpoint *out);

void cqlmux_node_descs_free(const cqlmux_allocator *alloc, cqlmux_node_desc *descs, size_t count);

#endif

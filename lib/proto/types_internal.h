/* Shared between types.c ([option] trees) and types_class.c (Java class
 * strings); not for other modules. */
#ifndef CQLMUX_PROTO_TYPES_INTERNAL_H
#define CQLMUX_PROTO_TYPES_INTERNAL_H

#include "proto/types.h"

/* One decode: the arena plus the scratch node that stands in for nodes the
 * arena had no room for. Every parser fills a node only after its children
 * are parsed, and a parent reads a child right after that child returns, so
 * a single scratch node is never read after being overwritten. */
typedef struct cqlmux_type_ctx {
  cqlmux_arena *arena;
  cqlmux_typedesc scratch;
} cqlmux_type_ctx;

/* A zeroed node of kind id (fixed_size -1), from the arena or the scratch. */
cqlmux_typedesc *cqlmux_type_ctx_node(cqlmux_type_ctx *c, uint16_t id);

/* An array of n entries from the arena, or NULL when counting. */
void *cqlmux_type_ctx_array(cqlmux_type_ctx *c, size_t n, size_t size);

int cqlmux_type_ctx_decode(cqlmux_type_ctx *c, cqlmux_reader *r, unsigned depth,
                           const cqlmux_typedesc **out);

/* The static native nodes, indexed by id - 1 (0x000A is a placeholder). */
extern const cqlmux_typedesc cqlmux_type_native_nodes[CQLMUX_TYPE_DURATION];

/* cqlmux_type_ctx_decode at depth 0, with the common case inline: a native
 * id needs no node and no call (most columns of most results). */
static inline int cqlmux_type_ctx_decode_top(cqlmux_type_ctx *c, cqlmux_reader *r,
                                             const cqlmux_typedesc **out) {
  if (cqlmux_reader_remaining(r) >= 2) {
    uint16_t id = cqlmux_load_u16(r->pos);
    if (id >= CQLMUX_TYPE_ASCII && id <= CQLMUX_TYPE_DURATION && id != 0x000A) {
      *out = &cqlmux_type_native_nodes[id - 1];
      r->pos += 2;
      return CQLMUX_OK;
    }
  }
  return cqlmux_type_ctx_decode(c, r, 0, out);
}
int cqlmux_type_ctx_parse_class(cqlmux_type_ctx *c, cqlmux_slice s, unsigned depth,
                                const cqlmux_typedesc **out);

/* fixed_size of a vector of dim elements of elem (Cassandra: fixed only if
 * the element is). */
int32_t cqlmux_type_vector_fixed_size(const cqlmux_typedesc *elem, uint32_t dim);

/* Compares two names either of which may be hex-encoded. */
bool cqlmux_type_name_equal(cqlmux_slice a, bool a_hex, cqlmux_slice b, bool b_hex);

#endif

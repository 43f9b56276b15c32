/* The public value builder (include/cqlmux.h "building values"): one CQL
 * value, composites nested, written with the codec's value writers
 * (proto/values.h) into a growable buffer.
 *
 * The buffer holds the value as a [value]: a 4-byte length (-1 for null),
 * then the bytes. Every element is framed by what encloses it: a [value]
 * inside a collection, tuple or UDT (and at the top), a bare body inside a
 * vector of fixed-size elements, an [unsigned vint] length then the body
 * inside a vector of variable-size ones. A failed argument check rolls the
 * buffer back to where the element started, so the builder is as before
 * the call; buffer errors (NOMEM, OVERSIZED) stay in the wbuf, sticky.
 *
 * Owned by the application, one thread at a time; allocates with the C
 * library's allocator, like statements. */
#ifndef CQLMUX_API_BUILDER_H
#define CQLMUX_API_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"
#include "proto/types.h"
#include "proto/wire.h"

/* Composites nest no deeper than a decoded type may. */
#define CQLMUX_BUILDER_MAX_DEPTH CQLMUX_TYPE_MAX_DEPTH

/* How an element sits in its parent. */
typedef enum cqlmux_builder_frame {
  CQLMUX_FRAME_VALUE,         /* [int] length, then the body */
  CQLMUX_FRAME_VECTOR_BARE,   /* exactly `fixed` bytes of body */
  CQLMUX_FRAME_VECTOR_VARIABLE /* [unsigned vint] length, then the body */
} cqlmux_builder_frame;

typedef struct cqlmux_builder_elem {
  cqlmux_builder_frame frame;
  size_t start; /* buffer length before the element: where a rollback returns */
  size_t mark;  /* what cqlmux_value_begin / vector_elem_begin returned */
  size_t fixed; /* CQLMUX_FRAME_VECTOR_BARE: the element's required size */
} cqlmux_builder_elem;

/* An open composite. */
typedef struct cqlmux_builder_level {
  cqlmux_builder_elem elem; /* the composite itself, as an element of its parent */
  uint16_t kind;            /* cqlmux_type: LIST, SET, MAP, TUPLE, UDT, VECTOR */
  uint32_t count;           /* elements added so far (maps: keys and values) */
  size_t count_at;          /* collections: offset of the [int] count to patch */
  size_t fixed;             /* vectors: element size, 0 = length-prefixed */
} cqlmux_builder_level;

struct cqlmux_builder {
  cqlmux_wbuf w;    /* w.error is the sticky error */
  bool complete;    /* the top-level value is there */
  unsigned depth;   /* open composites */
  cqlmux_builder_level levels[CQLMUX_BUILDER_MAX_DEPTH];
};

#endif

/* Public values (include/cqlmux.h "Values"): the bridge between the public
 * opaque type descriptors and borrowed values, and the codec's type trees
 * and value slices (lib/proto/types.h, lib/proto/values.h).
 *
 * A cqlmux_data_type is never defined: a pointer to one is a pointer to a
 * const cqlmux_typedesc node, converted at the API boundary by the two
 * functions below. Reading values allocates nothing and touches nothing but
 * the result's bytes and metadata, so any thread may read concurrently. */
#ifndef CQLMUX_API_VALUE_H
#define CQLMUX_API_VALUE_H

#include "cqlmux.h"
#include "proto/types.h"
#include "proto/wire.h"

static inline const cqlmux_data_type *cqlmux_data_type_of(const cqlmux_typedesc *t) {
  return (const cqlmux_data_type *)(const void *)t;
}

static inline const cqlmux_typedesc *cqlmux_typedesc_of(const cqlmux_data_type *t) {
  return (const cqlmux_typedesc *)(const void *)t;
}

/* The public value for a codec slice of type t. */
static inline cqlmux_value cqlmux_value_make(const cqlmux_typedesc *t, cqlmux_bytes b) {
  cqlmux_value v = {cqlmux_data_type_of(t), b.len >= 0 ? b.data : NULL, b.len};
  return v;
}

#endif

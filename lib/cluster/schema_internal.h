/* What schema.c lends schema_decode.c to build a snapshot: the string pool
 * and the record arrays. Builder side only (one thread, not shared). */
#ifndef CQLMUX_CLUSTER_SCHEMA_INTERNAL_H
#define CQLMUX_CLUSTER_SCHEMA_INTERNAL_H

#include "cluster/schema.h"

/* A NUL-terminated copy of n bytes in s's pool; NULL (and
 * s->out_of_memory set) when the allocator fails. */
const char *cqlmux_schema_strdup(cqlmux_schema *s, const char *text, size_t n);

/* A new zeroed record at the end of a (which may move its items); NULL
 * (and s->out_of_memory set) when the allocator fails. */
void *cqlmux_schema_array_push(cqlmux_schema *s, cqlmux_schema_array *a);

void cqlmux_schema_array_free(cqlmux_schema *s, cqlmux_schema_array *a);

#endif

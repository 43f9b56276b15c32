/* A prepared statement as the server described it: its id, the v5 result
 * metadata id, and how many values it takes. Immutable once built, so any
 * thread may read it; owned by the application (cqlmux_prepared_free). */
#ifndef CQLMUX_API_PREPARED_H
#define CQLMUX_API_PREPARED_H

#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"

struct cqlmux_prepared {
  cqlmux_allocator alloc;
  uint8_t *id;
  size_t id_len;
  uint8_t *result_metadata_id; /* v5; NULL before */
  size_t result_metadata_id_len;
  size_t parameter_count;
  char *cql;                   /* the text, to prepare again on UNPREPARED */
};

/* Copies the given fields into a new prepared statement; NULL on NOMEM. */
cqlmux_prepared *cqlmux_prepared_new(const cqlmux_allocator *alloc, const char *cql,
                                     const uint8_t *id, size_t id_len,
                                     const uint8_t *result_metadata_id,
                                     size_t result_metadata_id_len, size_t parameter_count);

#endif

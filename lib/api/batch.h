/* Batches (include/cqlmux.h "Batches"): borrowed member statements and the
 * options of one BATCH request, encoded at submit time.
 *
 * Owned by the application, one thread at a time; allocates with the C
 * library's allocator, like statements. */
#ifndef CQLMUX_API_BATCH_H
#define CQLMUX_API_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/request_extras.h"
#include "cqlmux.h"
#include "proto/wire.h"
#include "runtime/timestamp.h"

struct cqlmux_batch {
  cqlmux_batch_type type;
  const cqlmux_statement **members;
  size_t count, cap;
  cqlmux_consistency consistency;
  bool has_serial_consistency;
  cqlmux_consistency serial_consistency;
  bool has_timestamp;
  int64_t timestamp;
  unsigned timeout_ms; /* 0: the session's */
  bool idempotent;
  char *keyspace;      /* as Cassandra names it (api/identifier.h); v5 only */
  cqlmux_request_extras extras; /* the batch's tracing and custom payload */
};

/* Encodes the batch as one BATCH envelope with stream id 0 into out; a
 * batch without a timestamp of its own gets one from stamps (NULL: none).
 * Only reads the batch and its members. Errors: INVALID_ARGUMENT (no
 * members, a member bound by name), NOMEM (the member table), and those
 * of cqlmux_request_batch. */
int cqlmux_batch_encode(const cqlmux_batch *b, cqlmux_wbuf *out, uint8_t version, bool compress,
                        const cqlmux_timestamp_source *stamps);

#endif

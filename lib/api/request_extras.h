/* What a statement or batch asks of the envelope rather than of the query:
 * tracing (the TRACING flag) and a custom payload (the CUSTOM_PAYLOAD flag
 * and its [bytes map] before the message). Shared by statements and
 * batches; owned by them, one thread at a time, read only while encoding.
 *
 * Entries are copied in (name and value in one block each), so the
 * caller's buffers are free once an add returns. The count is bounded by
 * CQLMUX_CUSTOM_PAYLOAD_MAX_ENTRIES; a name added again replaces its value,
 * as the map on the wire has one value per name. */
#ifndef CQLMUX_API_REQUEST_EXTRAS_H
#define CQLMUX_API_REQUEST_EXTRAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/envelope.h"
#include "proto/request.h"

typedef struct cqlmux_request_extras {
  cqlmux_payload_entry *payload; /* payload_count entries; each key's block holds its value */
  uint16_t payload_count;
  bool tracing;
} cqlmux_request_extras;

/* Adds (or replaces) one custom payload entry. INVALID_ARGUMENT for an
 * empty or over-long name (more than a [string]'s 65,535 bytes) or a
 * value over INT32_MAX bytes, BUFFER_TOO_SMALL when the map is full, NOMEM;
 * `why` (cap bytes) then says which. */
int cqlmux_request_extras_add_payload(cqlmux_request_extras *x, const char *name,
                                      const void *value, size_t length, char *why, size_t cap);

/* Sets the header's TRACING flag and custom payload from x; the header
 * borrows x's entries until the encoding is done. */
void cqlmux_request_extras_apply(const cqlmux_request_extras *x, cqlmux_request_header *h);

/* Frees the entries (x itself is the caller's). */
void cqlmux_request_extras_free(cqlmux_request_extras *x);

#endif

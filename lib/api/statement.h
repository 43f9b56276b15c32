/* Statements: the application's query text or prepared reference, bound
 * values and options, encoded into a request envelope at submit time.
 *
 * A statement belongs to the application and is used by one thread at a
 * time; the library reads it only during cqlmux_session_execute. Values are
 * stored per slot, so rebinding reuses a slot's storage and a statement
 * executed in a loop allocates nothing after its first round. */
#ifndef CQLMUX_API_STATEMENT_H
#define CQLMUX_API_STATEMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cqlmux.h"
#include "proto/wire.h"

/* Fixed-size CQL values (up to uuid) fit inline. */
#define CQLMUX_VALUE_INLINE 16

typedef struct cqlmux_value_slot {
  int32_t len;         /* bytes, CQLMUX_VALUE_NULL or CQLMUX_VALUE_NOT_SET */
  uint8_t inline_data[CQLMUX_VALUE_INLINE];
  uint8_t *heap;       /* larger values; capacity kept for reuse */
  size_t heap_cap;
} cqlmux_value_slot;

struct cqlmux_statement {
  char *cql;
  size_t cql_len;
  const cqlmux_prepared *prepared;
  size_t value_count;
  cqlmux_value_slot *values;
  cqlmux_consistency consistency;
  bool has_serial_consistency;
  cqlmux_consistency serial_consistency;
  int32_t page_size;         /* <= 0: no paging */
  uint8_t *paging_state;
  size_t paging_state_len;
  bool has_timestamp;
  int64_t timestamp;
  unsigned timeout_ms;       /* 0: the session's */
  bool idempotent;
  char *keyspace;
  cqlmux_builder *scratch;   /* encodes scalar binds (api/builder.c); NULL until used */
};

/* Encodes the statement as one QUERY or EXECUTE envelope with stream id 0
 * (the I/O thread patches the real id) into out. A value never bound goes
 * as "not set". Errors: those of the request encoders (lib/proto/request.h). */
int cqlmux_statement_encode(const cqlmux_statement *s, cqlmux_wbuf *out, uint8_t version,
                            bool compress);

#endif

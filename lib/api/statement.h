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

#include "api/config.h"
#include "api/request_extras.h"
#include "cqlmux.h"
#include "proto/request.h"
#include "proto/wire.h"
#include "runtime/timestamp.h"

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
  char *host;                /* cqlmux_statement_set_host, or NULL */
  const cqlmux_retry_policy *retry_policy; /* NULL: the session's */
  bool has_speculative;      /* else the session's policy */
  cqlmux_speculative speculative;
  uint8_t *routing_key;      /* set by hand (cqlmux_statement_set_routing_key); NULL: none */
  size_t routing_key_len;
  cqlmux_builder *scratch;   /* encodes scalar binds (api/builder.c); NULL until used */
  char **names;              /* simple statements bound by name: one per slot
                                (NULL = unnamed yet); NULL until the first name */
  cqlmux_request_extras extras; /* tracing, custom payload (api/request_extras.h) */
  char error[160];           /* why the last failed bind failed (cqlmux_statement_error_message) */
};

/* The bytes of a bound value (slot->len >= 0). */
const uint8_t *cqlmux_value_slot_bytes(const cqlmux_value_slot *slot);

/* The CQL types a bind function writes; the macro spells the list. */
typedef struct cqlmux_bind_kind {
  const char *function; /* the public name, for the message */
  const uint16_t *types;
  size_t count;
} cqlmux_bind_kind;
#define CQLMUX_BIND_KIND(fn, ...)                                                   \
  (&(const cqlmux_bind_kind){fn, (const uint16_t[]){__VA_ARGS__},                  \
                             sizeof((const uint16_t[]){__VA_ARGS__}) / sizeof(uint16_t)})

/* For a prepared statement whose markers are known: CQLMUX_OK when bind
 * kind k can fill marker `index`, else TYPE_MISMATCH with a message naming
 * the marker (its position, name and type) in s->error. Simple statements,
 * unknown markers and out-of-range indexes pass (the bind itself checks
 * the index). */
int cqlmux_statement_check_bind(cqlmux_statement *s, size_t index, const cqlmux_bind_kind *k);

/* Fills *p for s: values (and names, for a statement bound by name) into
 * the caller's arrays of s->value_count entries, which p then borrows, as
 * it borrows s. INVALID_ARGUMENT when some values have names and others
 * not. Only reads s, so two threads may encode one statement at once. */
int cqlmux_statement_params(const cqlmux_statement *s, uint8_t version, cqlmux_bytes *values,
                            cqlmux_slice *names, cqlmux_query_params *p);

/* Encodes the statement as one QUERY or EXECUTE envelope with stream id 0
 * (the I/O thread patches the real id) into out. A value never bound goes
 * as "not set". A statement without a timestamp of its own gets one from
 * stamps (NULL: none), asked only then. Errors: those of the request
 * encoders (lib/proto/request.h). */
int cqlmux_statement_encode(const cqlmux_statement *s, cqlmux_wbuf *out, uint8_t version,
                            bool compress, const cqlmux_timestamp_source *stamps);

#endif

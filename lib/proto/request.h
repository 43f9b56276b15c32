/* Request encoders (spec section 4.1): each appends one whole envelope,
 * header and body, to the caller's cqlmux_wbuf (typically a connection's
 * write buffer, or a v5 frame writer's output between begin and end).
 *
 * Every encoder returns CQLMUX_OK, or an error after which the wbuf is back
 * to the length it had on entry with its error cleared, so other envelopes
 * already in it stay intact:
 *   INVALID_ARGUMENT  a field the version cannot carry (keyspace or
 *                     now_in_seconds before v5, a NOT_SET value before v4),
 *                     a version outside 3..5, or a value length below -2;
 *   OVERSIZED         a string longer than its length prefix allows, or the
 *                     wbuf's growth limit;
 *   NOMEM, COMPRESSION.
 * A wbuf that already holds an error is left alone and that error returned.
 *
 * Borrowed inputs (slices, value arrays) are only read during the call.
 */
#ifndef CQLMUX_PROTO_REQUEST_H
#define CQLMUX_PROTO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/envelope.h"
#include "proto/opcode.h"
#include "proto/wire.h"

/* Header fields shared by every request. */
typedef struct cqlmux_request_header {
  uint8_t version;   /* 3, 4 or 5 */
  int16_t stream;    /* >= 0 */
  uint8_t flags;     /* CQLMUX_FLAG_TRACING, CQLMUX_FLAG_USE_BETA; the
                        COMPRESSION and CUSTOM_PAYLOAD bits are set by the
                        encoder, never by the caller */
  bool compress;     /* v3/v4 only: LZ4 the body when that shrinks it (the
                        connection negotiated lz4). Ignored for STARTUP and
                        OPTIONS, which are never compressed; an error on v5,
                        whose frames are compressed instead. */
  const cqlmux_payload_entry *custom_payload; /* QUERY, PREPARE, EXECUTE, BATCH */
  uint16_t custom_payload_count;
} cqlmux_request_header;

/* QUERY/EXECUTE <query_parameters>. A flag goes on the wire exactly when its
 * field is present, as noted per field. */
typedef struct cqlmux_query_params {
  cqlmux_consistency consistency;
  const cqlmux_bytes *values;   /* VALUES when value_count > 0; each value may
                                   be CQLMUX_VALUE_NULL or (v4+) NOT_SET */
  uint16_t value_count;
  const cqlmux_slice *names;    /* NAMES_FOR_VALUES when non-NULL: one per value */
  bool skip_metadata;           /* SKIP_METADATA */
  bool has_page_size;           /* PAGE_SIZE */
  int32_t page_size;
  bool has_paging_state;        /* PAGING_STATE ([bytes]) */
  cqlmux_slice paging_state;
  bool has_serial_consistency;  /* SERIAL_CONSISTENCY */
  cqlmux_consistency serial_consistency;
  bool has_timestamp;           /* DEFAULT_TIMESTAMP, microseconds */
  int64_t timestamp;
  bool has_keyspace;            /* v5: KEYSPACE */
  cqlmux_slice keyspace;
  bool has_now_in_seconds;      /* v5: NOW_IN_SECONDS */
  int32_t now_in_seconds;
} cqlmux_query_params;

/* STARTUP options. NULL strings are left out, except cql_version. */
typedef struct cqlmux_startup_option {
  const char *key;
  const char *value;
} cqlmux_startup_option;

typedef struct cqlmux_startup {
  const char *cql_version;      /* NULL: "3.0.0" */
  const char *compression;      /* "lz4" or NULL */
  const char *driver_name;
  const char *driver_version;
  bool throw_on_overload;       /* THROW_ON_OVERLOAD=1 (v5 servers) */
  const cqlmux_startup_option *extra;
  size_t extra_count;
} cqlmux_startup;

/* One BATCH member: a query string (kind QUERY) or a prepared id (PREPARED). */
typedef struct cqlmux_batch_statement {
  uint8_t kind;                 /* CQLMUX_BATCH_KIND_QUERY / _PREPARED */
  cqlmux_slice query_or_id;
  const cqlmux_bytes *values;
  uint16_t value_count;
  const cqlmux_slice *names;    /* one per value when the batch has names_for_values */
} cqlmux_batch_statement;

typedef struct cqlmux_batch_msg {
  cqlmux_batch_type type;
  const cqlmux_batch_statement *statements;
  uint16_t count;
  cqlmux_consistency consistency;
  bool names_for_values;        /* NAMES_FOR_VALUES (the spec warns servers ignore it) */
  bool has_serial_consistency;
  cqlmux_consistency serial_consistency;
  bool has_timestamp;
  int64_t timestamp;
  bool has_keyspace;            /* v5 */
  cqlmux_slice keyspace;
  bool has_now_in_seconds;      /* v5 */
  int32_t now_in_seconds;
} cqlmux_batch_msg;

int cqlmux_request_startup(cqlmux_wbuf *b, const cqlmux_request_header *h,
                           const cqlmux_startup *s);
int cqlmux_request_options(cqlmux_wbuf *b, const cqlmux_request_header *h);
int cqlmux_request_auth_response(cqlmux_wbuf *b, const cqlmux_request_header *h,
                                 cqlmux_bytes token);
int cqlmux_request_query(cqlmux_wbuf *b, const cqlmux_request_header *h, cqlmux_slice query,
                         const cqlmux_query_params *p);
/* keyspace: v5 only; has_keyspace false leaves it (and the v5 flag) out. */
int cqlmux_request_prepare(cqlmux_wbuf *b, const cqlmux_request_header *h, cqlmux_slice query,
                           bool has_keyspace, cqlmux_slice keyspace);
/* result_metadata_id: written in v5 only (ignored before). */
int cqlmux_request_execute(cqlmux_wbuf *b, const cqlmux_request_header *h, cqlmux_slice id,
                           cqlmux_slice result_metadata_id, const cqlmux_query_params *p);
int cqlmux_request_batch(cqlmux_wbuf *b, const cqlmux_request_header *h, const cqlmux_batch_msg *batch);
/* events: "TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE". */
int cqlmux_request_register(cqlmux_wbuf *b, const cqlmux_request_header *h,
                            const cqlmux_slice *events, uint16_t count);

#endif

/* Response bodies of the CQL native protocol v4/v5 (spec section 4.2 and 8):
 * decoders for the client, encoders for the mock server and tests.
 *
 * A body is what follows the envelope header and the optional tracing id,
 * warnings and custom payload (the envelope codec strips those).
 *
 * Ownership. Decoding copies nothing: every slice in a decoded struct
 * points into the body bytes, so WHOEVER OWNS THE BODY MUST KEEP IT ALIVE
 * (and unchanged) as long as the decoded struct is used. RESULT decoding
 * also needs memory for type trees, column specs and the cell index: it
 * takes it from a cqlmux_arena, in one block (none if the arena's initial
 * buffer is big enough), and the result is valid until that arena is reset
 * or freed. Nothing else allocates.
 *
 * Lists inside responses (string lists, the v5 failure reason map, the
 * SUPPORTED multimap) are kept as their raw wire bytes plus a count, fully
 * validated, and walked with the *_next iterators. To encode, fill `items`
 * instead; encoders use items when it is set and the raw bytes otherwise,
 * so a decoded struct re-encodes as it came.
 *
 * Errors from decoders: TRUNCATED (a length or count runs past the end),
 * MALFORMED (an invalid field), OVERSIZED (a body over 4 GiB), NOMEM
 * (arena), UNSUPPORTED_VERSION (version not 4 or 5). On failure the output is
 * untouched and the arena holds nothing new. Bytes after a complete body are
 * ignored, as the spec asks of clients. Encoders set b->error instead.
 *
 * Pure: no I/O, no threads, no global state; safe from any thread.
 */
#ifndef CQLMUX_PROTO_RESPONSE_H
#define CQLMUX_PROTO_RESPONSE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/arena.h"
#include "proto/opcode.h"
#include "proto/types.h"
#include "proto/wire.h"

/* ------------------------------------------------------------ shared lists */

typedef struct cqlmux_string_list {
  uint16_t count;
  cqlmux_slice raw;           /* the count [string]s as on the wire */
  const cqlmux_slice *items;  /* encoding only: count entries, used instead of raw */
} cqlmux_string_list;

int cqlmux_string_list_decode(cqlmux_reader *r, cqlmux_string_list *out);
void cqlmux_string_list_encode(cqlmux_wbuf *b, const cqlmux_string_list *l);
/* Walks a decoded list: start with r = cqlmux_reader_make(l.raw...);
 * returns 1 with *out, 0 at the end. */
int cqlmux_string_list_next(cqlmux_reader *r, cqlmux_slice *out);

/* ------------------------------------------------------------ ERROR */

typedef enum cqlmux_cql_error {
  CQLMUX_CQL_SERVER_ERROR = 0x0000,
  CQLMUX_CQL_PROTOCOL_ERROR = 0x000A,
  CQLMUX_CQL_BAD_CREDENTIALS = 0x0100,
  CQLMUX_CQL_UNAVAILABLE = 0x1000,
  CQLMUX_CQL_OVERLOADED = 0x1001,
  CQLMUX_CQL_IS_BOOTSTRAPPING = 0x1002,
  CQLMUX_CQL_TRUNCATE_ERROR = 0x1003,
  CQLMUX_CQL_WRITE_TIMEOUT = 0x1100,
  CQLMUX_CQL_READ_TIMEOUT = 0x1200,
  CQLMUX_CQL_READ_FAILURE = 0x1300,
  CQLMUX_CQL_FUNCTION_FAILURE = 0x1400,
  CQLMUX_CQL_WRITE_FAILURE = 0x1500,
  CQLMUX_CQL_CDC_WRITE_FAILURE = 0x1600,
  CQLMUX_CQL_CAS_WRITE_UNKNOWN = 0x1700,
  CQLMUX_CQL_SYNTAX_ERROR = 0x2000,
  CQLMUX_CQL_UNAUTHORIZED = 0x2100,
  CQLMUX_CQL_INVALID = 0x2200,
  CQLMUX_CQL_CONFIG_ERROR = 0x2300,
  CQLMUX_CQL_ALREADY_EXISTS = 0x2400,
  CQLMUX_CQL_UNPREPARED = 0x2500
} cqlmux_cql_error;

/* One entry of a v5 <reasonmap>: a replica and why it failed. */
typedef struct cqlmux_failure_reason {
  cqlmux_inet endpoint; /* [inetaddr]: port 0 */
  uint16_t code;
} cqlmux_failure_reason;

typedef struct cqlmux_reason_map {
  int32_t count;
  cqlmux_slice raw;                   /* count <endpoint><failurecode> pairs */
  const cqlmux_failure_reason *items; /* encoding only */
} cqlmux_reason_map;

int cqlmux_reason_map_next(cqlmux_reader *r, cqlmux_failure_reason *out);

/* The details of every error code; fields a code does not carry stay 0 /
 * empty (contentions: -1). */
typedef struct cqlmux_error_body {
  int32_t code; /* cqlmux_cql_error; unknown codes decode with only the message */
  cqlmux_slice message;
  uint16_t consistency; /* cqlmux_consistency: unavailable, timeouts, failures, CAS unknown */
  int32_t required, alive;    /* unavailable */
  int32_t received, block_for; /* timeouts, failures, CAS unknown */
  bool data_present;          /* read timeout, read failure */
  cqlmux_slice write_type;    /* write timeout, write failure: "SIMPLE", "BATCH", "CAS" ... */
  int32_t contentions;        /* write timeout of type CAS, v5 only; else -1 */
  int32_t num_failures;       /* read/write failure: v4 <numfailures>, v5 reasons.count */
  cqlmux_reason_map reasons;  /* read/write failure, v5 only */
  cqlmux_slice keyspace;      /* function failure, already exists */
  cqlmux_slice name;          /* function failure: function; already exists: table ("" for a keyspace) */
  cqlmux_string_list arg_types; /* function failure */
  cqlmux_slice unprepared_id; /* unprepared */
} cqlmux_error_body;

int cqlmux_error_decode(int version, const uint8_t *body, size_t len, cqlmux_error_body *out);
void cqlmux_error_encode(cqlmux_wbuf *b, int version, const cqlmux_error_body *e);

/* ------------------------------------------------------------ SUPPORTED */

typedef struct cqlmux_supported_entry {
  cqlmux_slice key;
  cqlmux_string_list values;
} cqlmux_supported_entry;

/* A [string multimap]. */
typedef struct cqlmux_supported {
  uint16_t count;
  cqlmux_slice raw;
  const cqlmux_supported_entry *items; /* encoding only */
} cqlmux_supported;

int cqlmux_supported_decode(const uint8_t *body, size_t len, cqlmux_supported *out);
void cqlmux_supported_encode(cqlmux_wbuf *b, const cqlmux_supported *s);
int cqlmux_supported_next(cqlmux_reader *r, cqlmux_supported_entry *out);
/* The values of key, or CQLMUX_ERR_NOT_FOUND. */
int cqlmux_supported_find(const cqlmux_supported *s, const char *key, cqlmux_string_list *out);

/* ------------------------------------------------------------ RESULT */


#define CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC 0x0001
#define CQLMUX_ROWS_FLAG_HAS_MORE_PAGES 0x0002
#define CQLMUX_ROWS_FLAG_NO_METADATA 0x0004
#define CQLMUX_ROWS_FLAG_METADATA_CHANGED 0x0008 /* v5 */

typedef struct cqlmux_column_spec {
  cqlmux_slice keyspace, table; /* the global ones when the flag says so */
  cqlmux_slice name;
  const cqlmux_typedesc *type;
} cqlmux_column_spec;

typedef struct cqlmux_rows_metadata {
  int32_t flags;
  int32_t columns_count;
  cqlmux_bytes paging_state;    /* len -1 unless HAS_MORE_PAGES */
  cqlmux_slice new_metadata_id; /* data NULL unless METADATA_CHANGED (v5) */
  cqlmux_slice global_keyspace, global_table;
  const cqlmux_column_spec *columns; /* columns_count entries; NULL with NO_METADATA */
} cqlmux_rows_metadata;

/* Rows: cells are [bytes] slices into the body, validated and indexed at
 * decode time, so any cell is reached in O(1). */
typedef struct cqlmux_rows {
  cqlmux_rows_metadata meta;
  int32_t rows_count;
  const uint8_t *content; /* <rows_content> */
  size_t content_len;
  const uint32_t *cells; /* rows_count * columns_count offsets into content */
} cqlmux_rows;

/* Cell (row, col); CQLMUX_ERR_NOT_FOUND when out of range. */
int cqlmux_rows_cell(const cqlmux_rows *rows, uint32_t row, uint32_t col, cqlmux_bytes *out);

static inline cqlmux_bytes cqlmux_rows_cell_at(const cqlmux_rows *rows, size_t index) {
  const uint8_t *p = rows->content + rows->cells[index];
  cqlmux_bytes v = {NULL, (int32_t)cqlmux_load_u32(p)};
  if (v.len >= 0) v.data = p + 4;
  return v;
}

typedef struct cqlmux_prepared_msg {
  cqlmux_slice id;
  cqlmux_slice result_metadata_id; /* v5 */
  int32_t flags;                   /* of the bind metadata: GLOBAL_TABLES_SPEC */
  int32_t bind_count;
  int32_t pk_count;
  const uint8_t *pk_raw;     /* pk_count big-endian [short]s */
  const uint16_t *pk_items;  /* encoding only */
  cqlmux_slice global_keyspace, global_table;
  const cqlmux_column_spec *bind_columns; /* bind_count entries */
  cqlmux_rows_metadata result;
} cqlmux_prepared_msg;

/* Bind marker index of the i-th partition key column (i < pk_count). */
static inline uint16_t cqlmux_prepared_pk_index(const cqlmux_prepared_msg *p, int32_t i) {
  return p->pk_items ? p->pk_items[i] : cqlmux_load_u16(p->pk_raw + 2 * i);
}

typedef enum cqlmux_schema_change_type {
  CQLMUX_SCHEMA_UNKNOWN_CHANGE = 0,
  CQLMUX_SCHEMA_CREATED,
  CQLMUX_SCHEMA_UPDATED,
  CQLMUX_SCHEMA_DROPPED
} cqlmux_schema_change_type;

typedef enum cqlmux_schema_target {
  CQLMUX_TARGET_UNKNOWN = 0, /* options not decoded */
  CQLMUX_TARGET_KEYSPACE,
  CQLMUX_TARGET_TABLE,
  CQLMUX_TARGET_TYPE,
  CQLMUX_TARGET_FUNCTION,
  CQLMUX_TARGET_AGGREGATE
} cqlmux_schema_target;

typedef struct cqlmux_schema_change {
  cqlmux_slice change_type, target; /* as received */
  int change;                       /* cqlmux_schema_change_type */
  int target_kind;                  /* cqlmux_schema_target */
  cqlmux_slice keyspace;
  cqlmux_slice name;                /* table, type, function or aggregate */
  cqlmux_string_list arg_types;     /* function, aggregate */
} cqlmux_schema_change;

int cqlmux_schema_change_decode(cqlmux_reader *r, cqlmux_schema_change *out);
void cqlmux_schema_change_encode(cqlmux_wbuf *b, const cqlmux_schema_change *s);

typedef struct cqlmux_result_msg {
  int32_t kind; /* CQLMUX_RESULT_* */
  union {
    cqlmux_rows rows;
    cqlmux_slice keyspace; /* SET_KEYSPACE */
    cqlmux_prepared_msg prepared;
    cqlmux_schema_change schema_change;
  };
} cqlmux_result_msg;

/* arena is needed for ROWS and PREPARED (NULL is INVALID_ARGUMENT then). */
int cqlmux_result_decode(int version, const uint8_t *body, size_t len, cqlmux_arena *arena,
                         cqlmux_result_msg *out);
/* The <metadata> of a ROWS body alone, at p (after the kind): into out
 * (slices into p, column specs in arena; out may be NULL), with the bytes
 * it took in *consumed. */
int cqlmux_rows_metadata_decode(int version, const uint8_t *p, size_t len, cqlmux_arena *arena,
                                cqlmux_rows_metadata *out, size_t *consumed);
/* The <rows_count><rows_content> of a ROWS body, at p (after its metadata),
 * for rows->meta.columns_count columns (set by the caller, with the rest of
 * rows->meta, which is left as it is): the cell index goes to arena. */
int cqlmux_rows_content_decode(const uint8_t *p, size_t len, cqlmux_arena *arena,
                               cqlmux_rows *rows);
/* ROWS re-encodes meta, rows_count and the content bytes as they are. */
void cqlmux_result_encode(cqlmux_wbuf *b, int version, const cqlmux_result_msg *r);

/* Encodes rows metadata (per m->flags: global spec or per-column ks/table,
 * paging state, v5 new metadata id, no column specs with NO_METADATA). */
void cqlmux_rows_metadata_encode(cqlmux_wbuf *b, int version, const cqlmux_rows_metadata *m);
/* A whole ROWS result body from cell values, row-major
 * (rows_count * m->columns_count entries). */
void cqlmux_rows_encode(cqlmux_wbuf *b, int version, const cqlmux_rows_metadata *m,
                        int32_t rows_count, const cqlmux_bytes *cells);

/* ------------------------------------------------------------ EVENT */

typedef enum cqlmux_event_kind {
  CQLMUX_EVENT_UNKNOWN = 0, /* an event type this codec does not know: rest not decoded */
  CQLMUX_EVENT_TOPOLOGY_CHANGE,
  CQLMUX_EVENT_STATUS_CHANGE,
  CQLMUX_EVENT_SCHEMA_CHANGE
} cqlmux_event_kind;

typedef struct cqlmux_event {
  int kind;             /* cqlmux_event_kind */
  cqlmux_slice type;    /* as received */
  cqlmux_slice change;  /* NEW_NODE, REMOVED_NODE, UP, DOWN (topology, status) */
  cqlmux_inet address;  /* topology, status */
  cqlmux_schema_change schema;
} cqlmux_event;

int cqlmux_event_decode(const uint8_t *body, size_t len, cqlmux_event *out);
void cqlmux_event_encode(cqlmux_wbuf *b, const cqlmux_event *e);

/* ------------------------------------------------------------ any response */

typedef struct cqlmux_response {
  uint8_t opcode; /* cqlmux_opcode */
  union {
    cqlmux_error_body error;     /* ERROR */
    cqlmux_slice authenticator;  /* AUTHENTICATE: the IAuthenticator class */
    cqlmux_supported supported;  /* SUPPORTED */
    cqlmux_result_msg result;        /* RESULT */
    cqlmux_event event;          /* EVENT */
    cqlmux_bytes token;          /* AUTH_CHALLENGE, AUTH_SUCCESS: may be null */
  };
} cqlmux_response;

/* Decodes the body of a response with this opcode (READY has none; a
 * request opcode is MALFORMED). arena as for cqlmux_result_decode. */
int cqlmux_response_decode(int version, uint8_t opcode, const uint8_t *body, size_t len,
                           cqlmux_arena *arena, cqlmux_response *out);
/* Encodes the body of r (not the envelope). */
void cqlmux_response_encode(cqlmux_wbuf *b, int version, const cqlmux_response *r);

#endif

/* Request decoders: the server's side of request.h, used by round-trip tests
 * and by the mock CQL server.
 *
 * cqlmux_request_decode checks a whole request body against its opcode and
 * version in one pass and returns views: every string, id and value is a
 * slice into the envelope body, and repeated parts (values, batch members,
 * option maps) are checked readers walked with the *_next helpers below,
 * which cannot fail. Nothing is allocated and nothing is copied; the views
 * live as long as the body does.
 */
#ifndef CQLMUX_PROTO_REQUEST_DECODE_H
#define CQLMUX_PROTO_REQUEST_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/envelope.h"
#include "proto/wire.h"

/* A checked run of `count` values, each preceded by a [string] name when
 * `named`. */
typedef struct cqlmux_values_view {
  uint16_t count;
  bool named;
  cqlmux_reader items;
} cqlmux_values_view;

/* Takes the next value off v (name left empty when not named). Returns false
 * once every value has been taken. */
bool cqlmux_values_next(cqlmux_values_view *v, cqlmux_slice *name, cqlmux_bytes *value);

typedef struct cqlmux_query_params_view {
  uint16_t consistency;
  uint32_t flags;             /* CQLMUX_QUERY_FLAG_*; v4's byte has no v5 bits */
  cqlmux_values_view values;  /* count 0 without VALUES */
  int32_t page_size;          /* the fields below are zero when their flag is off */
  cqlmux_bytes paging_state;
  uint16_t serial_consistency;
  int64_t timestamp;
  cqlmux_slice keyspace;
  int32_t now_in_seconds;
} cqlmux_query_params_view;

typedef struct cqlmux_batch_statement_view {
  uint8_t kind;               /* CQLMUX_BATCH_KIND_* */
  cqlmux_slice query_or_id;
  cqlmux_values_view values;
} cqlmux_batch_statement_view;

typedef struct cqlmux_batch_view {
  uint8_t type;               /* cqlmux_batch_type */
  uint16_t count;
  cqlmux_reader statements;   /* checked: walk with cqlmux_batch_next */
  uint16_t consistency;
  uint32_t flags;             /* CQLMUX_BATCH_FLAG_* */
  uint16_t serial_consistency;
  int64_t timestamp;
  cqlmux_slice keyspace;
  int32_t now_in_seconds;
} cqlmux_batch_view;

/* Takes the next member off b; false once all have been taken. */
bool cqlmux_batch_next(cqlmux_batch_view *b, cqlmux_batch_statement_view *out);

typedef struct cqlmux_request_view {
  cqlmux_envelope_header header;
  cqlmux_body_prefix prefix;  /* custom payload, if flagged */
  size_t trailing;            /* body bytes after the message (the spec lets
                                 senders append fields; decoders skip them) */
  union {
    cqlmux_list_view startup;         /* STARTUP: [string map] */
    cqlmux_bytes auth_token;          /* AUTH_RESPONSE: [bytes] */
    struct {
      cqlmux_slice query;
      cqlmux_query_params_view params;
    } query;                          /* QUERY */
    struct {
      cqlmux_slice query;
      uint32_t flags;                 /* v5: CQLMUX_PREPARE_FLAG_* */
      cqlmux_slice keyspace;
    } prepare;                        /* PREPARE */
    struct {
      cqlmux_slice id;
      cqlmux_slice result_metadata_id; /* v5 only */
      cqlmux_query_params_view params;
    } execute;                        /* EXECUTE */
    cqlmux_batch_view batch;          /* BATCH */
    cqlmux_list_view events;          /* REGISTER: [string list] */
  } u;                                /* OPTIONS has no body */
} cqlmux_request_view;

/* Decodes the request in env (a request envelope, already decompressed:
 * INVALID_ARGUMENT if it still carries the v4 COMPRESSION flag). Returns
 * CQLMUX_OK, TRUNCATED (a field runs past the body), MALFORMED (a response
 * opcode, a negative length, a batch type or member kind out of range, a
 * NOT_SET value before v4). *out is written only on success. */
int cqlmux_request_decode(const cqlmux_envelope *env, cqlmux_request_view *out);

#endif

/* Protocol constants of the CQL native protocol v4/v5: opcodes, consistency
 * levels, envelope header flags, and the flag bits of QUERY/EXECUTE, BATCH
 * and PREPARE bodies. Shared by the request and response codecs; no code. */
#ifndef CQLMUX_PROTO_OPCODE_H
#define CQLMUX_PROTO_OPCODE_H

#include "cqlmux.h"

/* Envelope opcodes (spec section 2.4). 0x04 was CREDENTIALS in v1 and is
 * unused since. */
typedef enum cqlmux_opcode {
  CQLMUX_OP_ERROR = 0x00,
  CQLMUX_OP_STARTUP = 0x01,
  CQLMUX_OP_READY = 0x02,
  CQLMUX_OP_AUTHENTICATE = 0x03,
  CQLMUX_OP_OPTIONS = 0x05,
  CQLMUX_OP_SUPPORTED = 0x06,
  CQLMUX_OP_QUERY = 0x07,
  CQLMUX_OP_RESULT = 0x08,
  CQLMUX_OP_PREPARE = 0x09,
  CQLMUX_OP_EXECUTE = 0x0A,
  CQLMUX_OP_REGISTER = 0x0B,
  CQLMUX_OP_EVENT = 0x0C,
  CQLMUX_OP_BATCH = 0x0D,
  CQLMUX_OP_AUTH_CHALLENGE = 0x0E,
  CQLMUX_OP_AUTH_RESPONSE = 0x0F,
  CQLMUX_OP_AUTH_SUCCESS = 0x10
} cqlmux_opcode;

/* [consistency] (spec section 3) is a [short] holding a cqlmux_consistency,
 * which include/cqlmux.h defines because applications choose it. */

/* Protocol versions this codec speaks (v3 headers are recognised so that a
 * server's downgrade answer can be read; requests are v4 or v5). */
#define CQLMUX_PROTO_V3 3
#define CQLMUX_PROTO_V4 4
#define CQLMUX_PROTO_V5 5
#define CQLMUX_PROTO_MIN_KNOWN 3
#define CQLMUX_PROTO_MAX_KNOWN 5

/* Envelope header: version byte bit 7 set = response (server to client). */
#define CQLMUX_ENVELOPE_DIRECTION_RESPONSE 0x80u
#define CQLMUX_ENVELOPE_VERSION_MASK 0x7Fu
#define CQLMUX_ENVELOPE_HEADER_SIZE 9

/* Envelope header flags (spec section 2.2). COMPRESSION is only valid in v4
 * (and older): v5 compresses whole frames instead. */
#define CQLMUX_FLAG_COMPRESSION 0x01u
#define CQLMUX_FLAG_TRACING 0x02u
#define CQLMUX_FLAG_CUSTOM_PAYLOAD 0x04u
#define CQLMUX_FLAG_WARNING 0x08u
#define CQLMUX_FLAG_USE_BETA 0x10u

/* QUERY / EXECUTE <flags> (spec section 4.1.4). A [byte] in v4, an [int] in
 * v5; KEYSPACE and NOW_IN_SECONDS exist only in v5. */
#define CQLMUX_QUERY_FLAG_VALUES 0x0001u
#define CQLMUX_QUERY_FLAG_SKIP_METADATA 0x0002u
#define CQLMUX_QUERY_FLAG_PAGE_SIZE 0x0004u
#define CQLMUX_QUERY_FLAG_PAGING_STATE 0x0008u
#define CQLMUX_QUERY_FLAG_SERIAL_CONSISTENCY 0x0010u
#define CQLMUX_QUERY_FLAG_DEFAULT_TIMESTAMP 0x0020u
#define CQLMUX_QUERY_FLAG_NAMES_FOR_VALUES 0x0040u
#define CQLMUX_QUERY_FLAG_KEYSPACE 0x0080u
#define CQLMUX_QUERY_FLAG_NOW_IN_SECONDS 0x0100u

/* BATCH <flags> (spec section 4.1.7). A [byte] in v4, an [int] in v5. */
#define CQLMUX_BATCH_FLAG_SERIAL_CONSISTENCY 0x0010u
#define CQLMUX_BATCH_FLAG_DEFAULT_TIMESTAMP 0x0020u
#define CQLMUX_BATCH_FLAG_NAMES_FOR_VALUES 0x0040u
#define CQLMUX_BATCH_FLAG_KEYSPACE 0x0080u
#define CQLMUX_BATCH_FLAG_NOW_IN_SECONDS 0x0100u

/* BATCH <type>: cqlmux_batch_type, in include/cqlmux.h. */

/* BATCH member <kind>. */
#define CQLMUX_BATCH_KIND_QUERY 0
#define CQLMUX_BATCH_KIND_PREPARED 1

/* PREPARE <flags> (v5 only, an [int]). */
#define CQLMUX_PREPARE_FLAG_KEYSPACE 0x0001u

#endif

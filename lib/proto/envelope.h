/* CQL envelopes: the 9-byte header plus body of every message (called a
 * "frame" up to protocol v4, an "envelope" since v5 wraps them in frames).
 *
 *   version (bit 7 = response) | flags | stream (int16) | opcode | length (int32)
 *
 * All big-endian. Pure code, no I/O: decoders return slices into the caller's
 * input, encoders append to a caller's cqlmux_wbuf.
 *
 * Compression: in v4 (and v3) a single envelope body may be LZ4-compressed,
 * announced by CQLMUX_FLAG_COMPRESSION; the compressed body is a 4-byte
 * big-endian uncompressed length followed by one LZ4 block. In v5 envelopes
 * are never compressed on their own (the outer frame is, see frame_v5.h): the
 * encoders here refuse to set the flag on a v5 envelope, and decoders ignore
 * the flag on v5 as the spec says (section 2.4.1.2).
 */
#ifndef CQLMUX_PROTO_ENVELOPE_H
#define CQLMUX_PROTO_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/opcode.h"
#include "proto/wire.h"

/* The spec's own cap on a body (sections 2.5 / 2.4.1.5): 256 MB. */
#define CQLMUX_ENVELOPE_MAX_BODY (256u * 1024u * 1024u)

/* Which side sent the envelope: decoders check the version byte's bit 7 and
 * that the opcode is one that side may send. */
typedef enum cqlmux_direction {
  CQLMUX_DIR_REQUEST = 0,  /* client to server */
  CQLMUX_DIR_RESPONSE = 1  /* server to client */
} cqlmux_direction;

typedef struct cqlmux_envelope_header {
  uint8_t version;   /* 3..5, direction bit removed */
  uint8_t flags;     /* CQLMUX_FLAG_* */
  int16_t stream;
  uint8_t opcode;    /* cqlmux_opcode */
  bool response;
  uint32_t length;   /* body bytes */
} cqlmux_envelope_header;

/* A decoded envelope: `body` points at header.length bytes of the input. */
typedef struct cqlmux_envelope {
  cqlmux_envelope_header header;
  const uint8_t *body;
} cqlmux_envelope;

/* Whether `dir` may send `opcode` (0x04 and values above 0x10 are nobody's). */
bool cqlmux_opcode_valid(uint8_t opcode, cqlmux_direction dir);

/* Parses and checks the header at p (n bytes available). Checks, in order:
 * TRUNCATED (n < 9), UNSUPPORTED_VERSION (version not 3..5), MALFORMED
 * (direction bit differs from `dir`, or an opcode `dir` cannot send),
 * OVERSIZED (length > max_body; a max_body above CQLMUX_ENVELOPE_MAX_BODY
 * counts as that cap). *out is written only on success. */
int cqlmux_envelope_header_parse(const uint8_t *p, size_t n, cqlmux_direction dir,
                                 uint32_t max_body, cqlmux_envelope_header *out);

/* Writes the 9 header bytes for h (direction bit from h->response). */
void cqlmux_envelope_header_store(uint8_t out[CQLMUX_ENVELOPE_HEADER_SIZE],
                                  const cqlmux_envelope_header *h);

/* Decodes one whole envelope from the front of in[0..len). Returns the bytes
 * it spans (> 0) with *out set, 0 when more bytes are needed (the header or
 * body is incomplete; out untouched), or a negative error from
 * cqlmux_envelope_header_parse (checked as soon as the 9 header bytes are
 * there, so a bad or oversized header fails before its body arrives). */
int cqlmux_envelope_decode(const uint8_t *in, size_t len, cqlmux_direction dir,
                           uint32_t max_body, cqlmux_envelope *out);

/* ---- encoding: header, then the caller appends the body, then finish ---- */

/* Appends a header whose length is patched by cqlmux_envelope_finish.
 * Returns the envelope's offset in b (SIZE_MAX once b->error is set). */
size_t cqlmux_envelope_begin(cqlmux_wbuf *b, const cqlmux_envelope_header *h);

/* Patches the length of the envelope begun at `start` from b->len. Returns
 * CQLMUX_OK, b->error, or OVERSIZED (body > CQLMUX_ENVELOPE_MAX_BODY; b->error
 * is then set too). */
int cqlmux_envelope_finish(cqlmux_wbuf *b, size_t start);

/* v4 per-envelope LZ4: replaces the body of the finished envelope at `start`
 * (which must be the last thing in b) by its compressed form and sets
 * CQLMUX_FLAG_COMPRESSION. Compresses in place, using b's spare capacity as
 * scratch, so a reused wbuf does not allocate. INVALID_ARGUMENT on a v5
 * envelope, COMPRESSION if LZ4 fails, NOMEM/OVERSIZED from growing b. */
int cqlmux_envelope_compress_v4(cqlmux_wbuf *b, size_t start);

/* If env carries CQLMUX_FLAG_COMPRESSION and is v3/v4, decompresses its body
 * into `scratch` (reset first, grown through its allocator, reused across
 * calls) and sets *out to the same header with the flag cleared and the new
 * length; otherwise *out = *env. The declared uncompressed length must not
 * exceed max_body (OVERSIZED); a body under 4 bytes is TRUNCATED; an LZ4
 * block that fails or yields another length is COMPRESSION. */
int cqlmux_envelope_decompress_v4(const cqlmux_envelope *env, cqlmux_wbuf *scratch,
                                  uint32_t max_body, cqlmux_envelope *out);

/* ---- the body prefix (spec section 4 / 2.2 flags) ---- */

/* A [bytes map] entry of a custom payload. */
typedef struct cqlmux_payload_entry {
  cqlmux_slice key;
  cqlmux_bytes value;  /* [bytes]: len >= -1 */
} cqlmux_payload_entry;

/* Writes a custom payload [bytes map]; a value below -1 sets b->error to
 * INVALID_ARGUMENT. */
void cqlmux_write_custom_payload(cqlmux_wbuf *b, const cqlmux_payload_entry *e, uint16_t n);

/* What a server puts before a response message; empty parts are left out. */
typedef struct cqlmux_response_prefix {
  const uint8_t *tracing_id;            /* 16 bytes, or NULL */
  const cqlmux_slice *warnings;
  uint16_t warning_count;
  const cqlmux_payload_entry *custom_payload;
  uint16_t custom_payload_count;
} cqlmux_response_prefix;

/* For servers (the mock): begins a response envelope of `version` (3..5) on
 * `stream` and writes the prefix, setting the TRACING, WARNING and
 * CUSTOM_PAYLOAD flags for the parts present (`prefix` may be NULL). The
 * caller appends the message and calls cqlmux_envelope_finish. Returns the
 * envelope's offset, or SIZE_MAX with b->error set (INVALID_ARGUMENT for a
 * payload value below -1, OVERSIZED, NOMEM). */
size_t cqlmux_response_begin(cqlmux_wbuf *b, uint8_t version, int16_t stream, uint8_t opcode,
                             const cqlmux_response_prefix *prefix);

/* What precedes the message in a body, per the header flags:
 * responses: [tracing uuid if TRACING][warnings if WARNING][payload if CUSTOM_PAYLOAD]
 * requests:  [payload if CUSTOM_PAYLOAD]  (a request's TRACING flag asks for
 *            tracing and adds nothing to its body). */
typedef struct cqlmux_body_prefix {
  const uint8_t *tracing_id;       /* 16 bytes, or NULL */
  cqlmux_list_view warnings;       /* [string list]; count 0 when absent */
  cqlmux_list_view custom_payload; /* [bytes map]; count 0 when absent */
  cqlmux_slice raw;                /* every prefix byte: the front of the body */
} cqlmux_body_prefix;

/* The header flags that put a prefix in front of a response's message. */
#define CQLMUX_FLAGS_RESPONSE_PREFIX \
  (CQLMUX_FLAG_TRACING | CQLMUX_FLAG_WARNING | CQLMUX_FLAG_CUSTOM_PAYLOAD)

/* Reads the prefix of an (uncompressed) envelope body and sets *rest to the
 * message that follows, all slices into env->body. TRUNCATED / MALFORMED on a
 * bad prefix; out and rest are written only on success. */
int cqlmux_envelope_body_prefix(const cqlmux_envelope *env, cqlmux_body_prefix *out,
                                cqlmux_reader *rest);

/* Points p (parsed from p->raw) at a copy of its raw bytes starting at
 * `copy`: the prefix then outlives the envelope it was read from. */
void cqlmux_body_prefix_move(cqlmux_body_prefix *p, const uint8_t *copy);

#endif

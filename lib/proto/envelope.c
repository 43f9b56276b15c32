#include "proto/envelope.h"

#include <lz4.h>
#include <string.h>

/* Bit i set: opcode i is sent by that side (spec section 2.4). */
#define REQUEST_OPCODES                                                              \
  ((1u << CQLMUX_OP_STARTUP) | (1u << CQLMUX_OP_OPTIONS) | (1u << CQLMUX_OP_QUERY) | \
   (1u << CQLMUX_OP_PREPARE) | (1u << CQLMUX_OP_EXECUTE) | (1u << CQLMUX_OP_REGISTER) | \
   (1u << CQLMUX_OP_BATCH) | (1u << CQLMUX_OP_AUTH_RESPONSE))
#define RESPONSE_OPCODES                                                              \
  ((1u << CQLMUX_OP_ERROR) | (1u << CQLMUX_OP_READY) | (1u << CQLMUX_OP_AUTHENTICATE) | \
   (1u << CQLMUX_OP_SUPPORTED) | (1u << CQLMUX_OP_RESULT) | (1u << CQLMUX_OP_EVENT) |   \
   (1u << CQLMUX_OP_AUTH_CHALLENGE) | (1u << CQLMUX_OP_AUTH_SUCCESS))

/* An LZ4 block cannot expand more than 255:1 (each extra match-length byte
 * adds at most 255 output bytes), so a declared length beyond that is a lie
 * and is refused before allocating for it. */
#define LZ4_MAX_RATIO 255u

static uint32_t clamp_max(uint32_t max_body) {
  return max_body > CQLMUX_ENVELOPE_MAX_BODY ? CQLMUX_ENVELOPE_MAX_BODY : max_body;
}

bool cqlmux_opcode_valid(uint8_t opcode, cqlmux_direction dir) {
  if (opcode > CQLMUX_OP_AUTH_SUCCESS) return false;
  uint32_t set = dir == CQLMUX_DIR_RESPONSE ? RESPONSE_OPCODES : REQUEST_OPCODES;
  return (set >> opcode) & 1u;
}

int cqlmux_envelope_header_parse(const uint8_t *p, size_t n, cqlmux_direction dir,
                                 uint32_t max_body, cqlmux_envelope_header *out) {
  if (n < CQLMUX_ENVELOPE_HEADER_SIZE) return CQLMUX_ERR_TRUNCATED;
  uint8_t version = p[0] & CQLMUX_ENVELOPE_VERSION_MASK;
  bool response = (p[0] & CQLMUX_ENVELOPE_DIRECTION_RESPONSE) != 0;
  if (version < CQLMUX_PROTO_MIN_KNOWN || version > CQLMUX_PROTO_MAX_KNOWN)
    return CQLMUX_ERR_UNSUPPORTED_VERSION;
  if (response != (dir == CQLMUX_DIR_RESPONSE)) return CQLMUX_ERR_MALFORMED;
  if (!cqlmux_opcode_valid(p[4], dir)) return CQLMUX_ERR_MALFORMED;
  uint32_t length = cqlmux_load_u32(p + 5);
  if (length > clamp_max(max_body)) return CQLMUX_ERR_OVERSIZED;
  out->version = version;
  out->flags = p[1];
  out->stream = (int16_t)cqlmux_load_u16(p + 2);
  out->opcode = p[4];
  out->response = response;
  out->length = length;
  return CQLMUX_OK;
}

void cqlmux_envelope_header_store(uint8_t out[CQLMUX_ENVELOPE_HEADER_SIZE],
                                  const cqlmux_envelope_header *h) {
  out[0] = (uint8_t)((h->version & CQLMUX_ENVELOPE_VERSION_MASK) |
                     (h->response ? CQLMUX_ENVELOPE_DIRECTION_RESPONSE : 0u));
  out[1] = h->flags;
  cqlmux_store_u16(out + 2, (uint16_t)h->stream);
  out[4] = h->opcode;
  cqlmux_store_u32(out + 5, h->length);
}

int cqlmux_envelope_decode(const uint8_t *in, size_t len, cqlmux_direction dir,
                           uint32_t max_body, cqlmux_envelope *out) {
  cqlmux_envelope_header h;
  int rc = cqlmux_envelope_header_parse(in, len, dir, max_body, &h);
  if (rc == CQLMUX_ERR_TRUNCATED) return 0;
  if (rc) return rc;
  if (len - CQLMUX_ENVELOPE_HEADER_SIZE < h.length) return 0;
  out->header = h;
  out->body = in + CQLMUX_ENVELOPE_HEADER_SIZE;
  return (int)(CQLMUX_ENVELOPE_HEADER_SIZE + h.length);
}

size_t cqlmux_envelope_begin(cqlmux_wbuf *b, const cqlmux_envelope_header *h) {
  uint8_t *p = cqlmux_wbuf_reserve(b, CQLMUX_ENVELOPE_HEADER_SIZE);
  if (!p) return SIZE_MAX;
  cqlmux_envelope_header_store(p, h);
  return (size_t)(p - b->data);
}

int cqlmux_envelope_finish(cqlmux_wbuf *b, size_t start) {
  if (b->error) return b->error;
  size_t body = b->len - start - CQLMUX_ENVELOPE_HEADER_SIZE;
  if (body > CQLMUX_ENVELOPE_MAX_BODY) {
    b->error = CQLMUX_ERR_OVERSIZED;
    return b->error;
  }
  cqlmux_store_u32(b->data + start + 5, (uint32_t)body);
  return CQLMUX_OK;
}

/* The compressed form is written past the end of b, then moved over the body
 * (memmove: the two overlap when the body barely shrinks). A body that LZ4
 * does not shrink is left as it is, without the flag: the spec lets a sender
 * skip compression of any envelope (v4 section 5). */
int cqlmux_envelope_compress_v4(cqlmux_wbuf *b, size_t start) {
  if (b->error) return b->error;
  if (start > b->len || b->len - start < CQLMUX_ENVELOPE_HEADER_SIZE)
    return CQLMUX_ERR_INVALID_ARGUMENT;
  if ((b->data[start] & CQLMUX_ENVELOPE_VERSION_MASK) >= CQLMUX_PROTO_V5)
    return CQLMUX_ERR_INVALID_ARGUMENT;
  size_t body_len = b->len - start - CQLMUX_ENVELOPE_HEADER_SIZE;
  if (body_len > CQLMUX_ENVELOPE_MAX_BODY) return CQLMUX_ERR_OVERSIZED;
  int bound = LZ4_compressBound((int)body_len);
  size_t end = b->len;
  uint8_t *tmp = cqlmux_wbuf_reserve(b, 4 + (size_t)bound);
  if (!tmp) return b->error;
  uint8_t *body = b->data + start + CQLMUX_ENVELOPE_HEADER_SIZE;
  int clen = LZ4_compress_default((const char *)body, (char *)tmp + 4, (int)body_len, bound);
  b->len = end;
  if (clen <= 0) return CQLMUX_ERR_COMPRESSION;
  if (4 + (size_t)clen >= body_len) return CQLMUX_OK;
  cqlmux_store_u32(tmp, (uint32_t)body_len);
  memmove(body, tmp, 4 + (size_t)clen);
  b->len = start + CQLMUX_ENVELOPE_HEADER_SIZE + 4 + (size_t)clen;
  b->data[start + 1] |= CQLMUX_FLAG_COMPRESSION;
  cqlmux_store_u32(b->data + start + 5, 4u + (uint32_t)clen);
  return CQLMUX_OK;
}

int cqlmux_envelope_decompress_v4(const cqlmux_envelope *env, cqlmux_wbuf *scratch,
                                  uint32_t max_body, cqlmux_envelope *out) {
  if (!(env->header.flags & CQLMUX_FLAG_COMPRESSION) || env->header.version >= CQLMUX_PROTO_V5) {
    *out = *env;
    return CQLMUX_OK;
  }
  if (env->header.length < 4) return CQLMUX_ERR_TRUNCATED;
  uint32_t ulen = cqlmux_load_u32(env->body);
  size_t clen = env->header.length - 4u;
  if (ulen > clamp_max(max_body)) return CQLMUX_ERR_OVERSIZED;
  if (ulen / LZ4_MAX_RATIO > clen || clen > (size_t)LZ4_MAX_INPUT_SIZE)
    return CQLMUX_ERR_COMPRESSION;
  cqlmux_wbuf_reset(scratch);
  uint8_t *dst = cqlmux_wbuf_reserve(scratch, ulen);
  if (!dst) return scratch->error;
  int got = LZ4_decompress_safe((const char *)env->body + 4, (char *)dst, (int)clen, (int)ulen);
  if (got < 0 || (uint32_t)got != ulen) return CQLMUX_ERR_COMPRESSION;
  *out = *env;
  out->header.flags = (uint8_t)(env->header.flags & ~CQLMUX_FLAG_COMPRESSION);
  out->header.length = ulen;
  out->body = dst;
  return CQLMUX_OK;
}

int cqlmux_envelope_body_prefix(const cqlmux_envelope *env, cqlmux_body_prefix *out,
                                cqlmux_reader *rest) {
  cqlmux_reader r = cqlmux_reader_make(env->body, env->header.length);
  cqlmux_body_prefix p;
  memset(&p, 0, sizeof p);
  uint8_t flags = env->header.flags;
  int rc = CQLMUX_OK;
  if (env->header.response && (flags & CQLMUX_FLAG_TRACING))
    rc = cqlmux_read_uuid(&r, &p.tracing_id);
  if (rc == CQLMUX_OK && env->header.response && (flags & CQLMUX_FLAG_WARNING))
    rc = cqlmux_read_string_list(&r, &p.warnings);
  if (rc == CQLMUX_OK && (flags & CQLMUX_FLAG_CUSTOM_PAYLOAD))
    rc = cqlmux_read_bytes_map(&r, &p.custom_payload);
  if (rc) return rc;
  p.raw.data = env->body;
  p.raw.len = (size_t)(r.pos - env->body);
  *out = p;
  *rest = r;
  return CQLMUX_OK;
}

/* The same offset from `copy` as q has from `from` (NULL stays NULL). */
static const uint8_t *moved(const uint8_t *q, const uint8_t *from, const uint8_t *copy) {
  return q ? copy + (q - from) : NULL;
}

void cqlmux_body_prefix_move(cqlmux_body_prefix *p, const uint8_t *copy) {
  const uint8_t *from = p->raw.data;
  p->tracing_id = moved(p->tracing_id, from, copy);
  p->warnings.items.pos = moved(p->warnings.items.pos, from, copy);
  p->warnings.items.end = moved(p->warnings.items.end, from, copy);
  p->custom_payload.items.pos = moved(p->custom_payload.items.pos, from, copy);
  p->custom_payload.items.end = moved(p->custom_payload.items.end, from, copy);
  p->raw.data = copy;
}

void cqlmux_write_custom_payload(cqlmux_wbuf *b, const cqlmux_payload_entry *e, uint16_t n) {
  cqlmux_write_u16(b, n);
  for (uint16_t i = 0; i < n; i++) {
    cqlmux_write_string(b, (const char *)e[i].key.data, e[i].key.len);
    if (e[i].value.len < CQLMUX_VALUE_NULL && !b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    cqlmux_write_bytes(b, e[i].value);
  }
}

size_t cqlmux_response_begin(cqlmux_wbuf *b, uint8_t version, int16_t stream, uint8_t opcode,
                             const cqlmux_response_prefix *prefix) {
  static const cqlmux_response_prefix none;
  const cqlmux_response_prefix *p = prefix ? prefix : &none;
  cqlmux_envelope_header h = {.version = version, .stream = stream, .opcode = opcode,
                              .response = true};
  if (p->tracing_id) h.flags |= CQLMUX_FLAG_TRACING;
  if (p->warning_count) h.flags |= CQLMUX_FLAG_WARNING;
  if (p->custom_payload_count) h.flags |= CQLMUX_FLAG_CUSTOM_PAYLOAD;
  size_t at = cqlmux_envelope_begin(b, &h);
  if (p->tracing_id) cqlmux_write_uuid(b, p->tracing_id);
  if (p->warning_count) {
    cqlmux_write_u16(b, p->warning_count);
    for (uint16_t i = 0; i < p->warning_count; i++)
      cqlmux_write_string(b, (const char *)p->warnings[i].data, p->warnings[i].len);
  }
  if (p->custom_payload_count) cqlmux_write_custom_payload(b, p->custom_payload, p->custom_payload_count);
  return b->error ? SIZE_MAX : at;
}

/* Lists shared by several responses, the small responses (READY,
 * AUTHENTICATE, SUPPORTED, AUTH_CHALLENGE, AUTH_SUCCESS) and the dispatch
 * over opcodes. */
#include "proto/response.h"

#include <string.h>

/* ------------------------------------------------------------ [string list] */

int cqlmux_string_list_decode(cqlmux_reader *r, cqlmux_string_list *out) {
  cqlmux_list_view v;
  int rc = cqlmux_read_string_list(r, &v);
  if (rc) return rc;
  out->count = v.count;
  out->raw.data = v.items.pos;
  out->raw.len = cqlmux_reader_remaining(&v.items);
  out->items = NULL;
  return CQLMUX_OK;
}

void cqlmux_string_list_encode(cqlmux_wbuf *b, const cqlmux_string_list *l) {
  cqlmux_write_u16(b, l->count);
  if (!l->items) {
    cqlmux_write_raw(b, l->raw.data, l->raw.len);
    return;
  }
  for (uint16_t i = 0; i < l->count; i++)
    cqlmux_write_string(b, (const char *)l->items[i].data, l->items[i].len);
}

int cqlmux_string_list_next(cqlmux_reader *r, cqlmux_slice *out) {
  if (cqlmux_reader_remaining(r) == 0) return 0;
  int rc = cqlmux_read_string(r, out);
  return rc ? rc : 1;
}

int cqlmux_reason_map_next(cqlmux_reader *r, cqlmux_failure_reason *out) {
  if (cqlmux_reader_remaining(r) == 0) return 0;
  cqlmux_reader p = *r;
  cqlmux_failure_reason v;
  int rc = cqlmux_read_inetaddr(&p, &v.endpoint);
  if (!rc) rc = cqlmux_read_u16(&p, &v.code);
  if (rc) return rc;
  *out = v;
  *r = p;
  return 1;
}

/* ------------------------------------------------------------ SUPPORTED */

int cqlmux_supported_next(cqlmux_reader *r, cqlmux_supported_entry *out) {
  if (cqlmux_reader_remaining(r) == 0) return 0;
  cqlmux_reader p = *r;
  cqlmux_supported_entry e;
  int rc = cqlmux_read_string(&p, &e.key);
  if (!rc) rc = cqlmux_string_list_decode(&p, &e.values);
  if (rc) return rc;
  *out = e;
  *r = p;
  return 1;
}

int cqlmux_supported_decode(const uint8_t *body, size_t len, cqlmux_supported *out) {
  cqlmux_reader r = cqlmux_reader_make(body, len);
  cqlmux_supported_entry e;
  uint16_t n;
  if (cqlmux_read_u16(&r, &n)) return CQLMUX_ERR_TRUNCATED;
  const uint8_t *start = r.pos;
  for (uint16_t i = 0; i < n; i++) {
    int rc = cqlmux_supported_next(&r, &e);
    if (rc != 1) return rc ? rc : CQLMUX_ERR_TRUNCATED;
  }
  out->count = n;
  out->raw.data = start;
  out->raw.len = (size_t)(r.pos - start);
  out->items = NULL;
  return CQLMUX_OK;
}

void cqlmux_supported_encode(cqlmux_wbuf *b, const cqlmux_supported *s) {
  cqlmux_write_u16(b, s->count);
  if (!s->items) {
    cqlmux_write_raw(b, s->raw.data, s->raw.len);
    return;
  }
  for (uint16_t i = 0; i < s->count; i++) {
    cqlmux_write_string(b, (const char *)s->items[i].key.data, s->items[i].key.len);
    cqlmux_string_list_encode(b, &s->items[i].values);
  }
}

int cqlmux_supported_find(const cqlmux_supported *s, const char *key, cqlmux_string_list *out) {
  size_t klen = strlen(key);
  if (s->items) {
    for (uint16_t i = 0; i < s->count; i++)
      if (s->items[i].key.len == klen && memcmp(s->items[i].key.data, key, klen) == 0) {
        *out = s->items[i].values;
        return CQLMUX_OK;
      }
    return CQLMUX_ERR_NOT_FOUND;
  }
  cqlmux_reader r = cqlmux_reader_make(s->raw.data, s->raw.len);
  cqlmux_supported_entry e;
  while (cqlmux_supported_next(&r, &e) == 1)
    if (e.key.len == klen && memcmp(e.key.data, key, klen) == 0) {
      *out = e.values;
      return CQLMUX_OK;
    }
  return CQLMUX_ERR_NOT_FOUND;
}

/* ------------------------------------------------------------ dispatch */

static int decode_body(int version, uint8_t opcode, const uint8_t *body, size_t len,
                       cqlmux_arena *arena, cqlmux_response *out) {
  cqlmux_reader r = cqlmux_reader_make(body, len);
  switch (opcode) {
  case CQLMUX_OP_ERROR: return cqlmux_error_decode(version, body, len, &out->error);
  case CQLMUX_OP_READY: return CQLMUX_OK;
  case CQLMUX_OP_AUTHENTICATE: return cqlmux_read_string(&r, &out->authenticator);
  case CQLMUX_OP_SUPPORTED: return cqlmux_supported_decode(body, len, &out->supported);
  case CQLMUX_OP_RESULT: return cqlmux_result_decode(version, body, len, arena, &out->result);
  case CQLMUX_OP_EVENT: return cqlmux_event_decode(body, len, &out->event);
  case CQLMUX_OP_AUTH_CHALLENGE:
  case CQLMUX_OP_AUTH_SUCCESS: return cqlmux_read_bytes(&r, &out->token);
  default: return CQLMUX_ERR_MALFORMED;
  }
}

int cqlmux_response_decode(int version, uint8_t opcode, const uint8_t *body, size_t len,
                           cqlmux_arena *arena, cqlmux_response *out) {
  if (version < CQLMUX_PROTO_MIN_KNOWN || version > CQLMUX_PROTO_V5)
    return CQLMUX_ERR_UNSUPPORTED_VERSION;
  cqlmux_response tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.opcode = opcode;
  int rc = decode_body(version, opcode, body, len, arena, &tmp);
  if (rc == CQLMUX_OK) *out = tmp;
  return rc;
}

void cqlmux_response_encode(cqlmux_wbuf *b, int version, const cqlmux_response *r) {
  switch (r->opcode) {
  case CQLMUX_OP_ERROR: cqlmux_error_encode(b, version, &r->error); return;
  case CQLMUX_OP_READY: return;
  case CQLMUX_OP_AUTHENTICATE:
    cqlmux_write_string(b, (const char *)r->authenticator.data, r->authenticator.len);
    return;
  case CQLMUX_OP_SUPPORTED: cqlmux_supported_encode(b, &r->supported); return;
  case CQLMUX_OP_RESULT: cqlmux_result_encode(b, version, &r->result); return;
  case CQLMUX_OP_EVENT: cqlmux_event_encode(b, &r->event); return;
  case CQLMUX_OP_AUTH_CHALLENGE:
  case CQLMUX_OP_AUTH_SUCCESS: cqlmux_write_bytes(b, r->token); return;
  default:
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
}

/* ERROR bodies: <code><message> then the details of each code (spec
 * section 8). v4 and v5 differ in read/write failures (<numfailures> vs
 * <reasonmap>) and in CAS write timeouts (v5 adds <contentions>). */
#include <string.h>

#include "proto/response.h"

/* <cl><received><blockfor>, shared by timeouts, failures, CAS unknown. */
static int decode_ack_counts(cqlmux_reader *r, cqlmux_error_body *e) {
  int rc = cqlmux_read_u16(r, &e->consistency);
  if (!rc) rc = cqlmux_read_i32(r, &e->received);
  if (!rc) rc = cqlmux_read_i32(r, &e->block_for);
  return rc;
}

static int decode_reasons(cqlmux_reader *r, int version, cqlmux_error_body *e) {
  int32_t n;
  if (cqlmux_read_i32(r, &n)) return CQLMUX_ERR_TRUNCATED;
  e->num_failures = n;
  if (version < CQLMUX_PROTO_V5) return CQLMUX_OK;
  if (n < 0) return CQLMUX_ERR_MALFORMED;
  /* each entry: [inetaddr] (1 + 4 or 16) and a [short] */
  if ((uint64_t)n * 7 > cqlmux_reader_remaining(r)) return CQLMUX_ERR_TRUNCATED;
  const uint8_t *start = r->pos;
  cqlmux_failure_reason fr;
  for (int32_t i = 0; i < n; i++) {
    int rc = cqlmux_reason_map_next(r, &fr);
    if (rc != 1) return rc ? rc : CQLMUX_ERR_TRUNCATED;
  }
  e->reasons.count = n;
  e->reasons.raw.data = start;
  e->reasons.raw.len = (size_t)(r->pos - start);
  return CQLMUX_OK;
}

static bool is_cas(cqlmux_slice write_type) {
  return write_type.len == 3 && memcmp(write_type.data, "CAS", 3) == 0;
}

static int decode_write_timeout(cqlmux_reader *r, int version, cqlmux_error_body *e) {
  int rc = decode_ack_counts(r, e);
  if (!rc) rc = cqlmux_read_string(r, &e->write_type);
  if (rc || version < CQLMUX_PROTO_V5 || !is_cas(e->write_type)) return rc;
  uint16_t c;
  rc = cqlmux_read_u16(r, &c);
  if (!rc) e->contentions = c;
  return rc;
}

static int decode_read_timeout(cqlmux_reader *r, cqlmux_error_body *e) {
  uint8_t present;
  int rc = decode_ack_counts(r, e);
  if (!rc) rc = cqlmux_read_u8(r, &present);
  if (!rc) e->data_present = present != 0;
  return rc;
}

static int decode_read_failure(cqlmux_reader *r, int version, cqlmux_error_body *e) {
  uint8_t present;
  int rc = decode_ack_counts(r, e);
  if (!rc) rc = decode_reasons(r, version, e);
  if (!rc) rc = cqlmux_read_u8(r, &present);
  if (!rc) e->data_present = present != 0;
  return rc;
}

static int decode_details(cqlmux_reader *r, int version, cqlmux_error_body *e) {
  int rc;
  switch (e->code) {
  case CQLMUX_CQL_UNAVAILABLE:
    rc = cqlmux_read_u16(r, &e->consistency);
    if (!rc) rc = cqlmux_read_i32(r, &e->required);
    if (!rc) rc = cqlmux_read_i32(r, &e->alive);
    return rc;
  case CQLMUX_CQL_WRITE_TIMEOUT: return decode_write_timeout(r, version, e);
  case CQLMUX_CQL_READ_TIMEOUT: return decode_read_timeout(r, e);
  case CQLMUX_CQL_READ_FAILURE: return decode_read_failure(r, version, e);
  case CQLMUX_CQL_WRITE_FAILURE:
    rc = decode_ack_counts(r, e);
    if (!rc) rc = decode_reasons(r, version, e);
    if (!rc) rc = cqlmux_read_string(r, &e->write_type);
    return rc;
  case CQLMUX_CQL_CAS_WRITE_UNKNOWN: return decode_ack_counts(r, e);
  case CQLMUX_CQL_FUNCTION_FAILURE:
    rc = cqlmux_read_string(r, &e->keyspace);
    if (!rc) rc = cqlmux_read_string(r, &e->name);
    if (!rc) rc = cqlmux_string_list_decode(r, &e->arg_types);
    return rc;
  case CQLMUX_CQL_ALREADY_EXISTS:
    rc = cqlmux_read_string(r, &e->keyspace);
    if (!rc) rc = cqlmux_read_string(r, &e->name);
    return rc;
  case CQLMUX_CQL_UNPREPARED: return cqlmux_read_short_bytes(r, &e->unprepared_id);
  default: return CQLMUX_OK; /* no details, or a code from a newer server */
  }
}

int cqlmux_error_decode(int version, const uint8_t *body, size_t len, cqlmux_error_body *out) {
  if (version < CQLMUX_PROTO_MIN_KNOWN || version > CQLMUX_PROTO_V5)
    return CQLMUX_ERR_UNSUPPORTED_VERSION;
  cqlmux_reader r = cqlmux_reader_make(body, len);
  cqlmux_error_body e;
  memset(&e, 0, sizeof e);
  e.contentions = -1;
  int rc = cqlmux_read_i32(&r, &e.code);
  if (!rc) rc = cqlmux_read_string(&r, &e.message);
  if (!rc) rc = decode_details(&r, version, &e);
  if (rc == CQLMUX_OK) *out = e;
  return rc;
}

/* ------------------------------------------------------------ encode */

static void encode_ack_counts(cqlmux_wbuf *b, const cqlmux_error_body *e) {
  cqlmux_write_u16(b, e->consistency);
  cqlmux_write_i32(b, e->received);
  cqlmux_write_i32(b, e->block_for);
}

static void encode_reasons(cqlmux_wbuf *b, int version, const cqlmux_error_body *e) {
  if (version < CQLMUX_PROTO_V5) {
    cqlmux_write_i32(b, e->num_failures);
    return;
  }
  cqlmux_write_i32(b, e->reasons.count);
  if (!e->reasons.items) {
    cqlmux_write_raw(b, e->reasons.raw.data, e->reasons.raw.len);
    return;
  }
  for (int32_t i = 0; i < e->reasons.count; i++) {
    const cqlmux_failure_reason *fr = &e->reasons.items[i];
    if (fr->endpoint.addr_len != 4 && fr->endpoint.addr_len != 16) {
      if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
      return;
    }
    cqlmux_write_u8(b, fr->endpoint.addr_len);
    cqlmux_write_raw(b, fr->endpoint.addr, fr->endpoint.addr_len);
    cqlmux_write_u16(b, fr->code);
  }
}

static void write_slice(cqlmux_wbuf *b, cqlmux_slice s) {
  cqlmux_write_string(b, (const char *)s.data, s.len);
}

void cqlmux_error_encode(cqlmux_wbuf *b, int version, const cqlmux_error_body *e) {
  cqlmux_write_i32(b, e->code);
  write_slice(b, e->message);
  switch (e->code) {
  case CQLMUX_CQL_UNAVAILABLE:
    cqlmux_write_u16(b, e->consistency);
    cqlmux_write_i32(b, e->required);
    cqlmux_write_i32(b, e->alive);
    return;
  case CQLMUX_CQL_WRITE_TIMEOUT:
    encode_ack_counts(b, e);
    write_slice(b, e->write_type);
    if (version >= CQLMUX_PROTO_V5 && is_cas(e->write_type))
      cqlmux_write_u16(b, (uint16_t)(e->contentions < 0 ? 0 : e->contentions));
    return;
  case CQLMUX_CQL_READ_TIMEOUT:
    encode_ack_counts(b, e);
    cqlmux_write_u8(b, e->data_present);
    return;
  case CQLMUX_CQL_READ_FAILURE:
    encode_ack_counts(b, e);
    encode_reasons(b, version, e);
    cqlmux_write_u8(b, e->data_present);
    return;
  case CQLMUX_CQL_WRITE_FAILURE:
    encode_ack_counts(b, e);
    encode_reasons(b, version, e);
    write_slice(b, e->write_type);
    return;
  case CQLMUX_CQL_CAS_WRITE_UNKNOWN: encode_ack_counts(b, e); return;
  case CQLMUX_CQL_FUNCTION_FAILURE:
    write_slice(b, e->keyspace);
    write_slice(b, e->name);
    cqlmux_string_list_encode(b, &e->arg_types);
    return;
  case CQLMUX_CQL_ALREADY_EXISTS:
    write_slice(b, e->keyspace);
    write_slice(b, e->name);
    return;
  case CQLMUX_CQL_UNPREPARED:
    cqlmux_write_short_bytes(b, e->unprepared_id.data, e->unprepared_id.len);
    return;
  default: return;
  }
}

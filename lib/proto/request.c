#include "proto/request.h"

#include <string.h>

#include "proto/envelope.h"

/* One request being encoded: where the wbuf stood on entry (to roll back to)
 * and where the envelope starts. */
typedef struct encoding {
  cqlmux_wbuf *b;
  const cqlmux_request_header *h;
  size_t entry;
  size_t start;
  bool compressible;
} encoding;

static void fail(cqlmux_wbuf *b, int code) {
  if (!b->error) b->error = code;
}

/* Checks the header, writes it and, where allowed, the custom payload. */
static int begin(encoding *e, cqlmux_wbuf *b, const cqlmux_request_header *h, uint8_t opcode) {
  e->b = b;
  e->h = h;
  e->entry = b->len;
  e->compressible = opcode != CQLMUX_OP_STARTUP && opcode != CQLMUX_OP_OPTIONS;
  if (b->error) return b->error;
  bool payload_ok = opcode == CQLMUX_OP_QUERY || opcode == CQLMUX_OP_PREPARE ||
                    opcode == CQLMUX_OP_EXECUTE || opcode == CQLMUX_OP_BATCH;
  if (h->version < CQLMUX_PROTO_V3 || h->version > CQLMUX_PROTO_V5 || h->stream < 0 ||
      (h->custom_payload_count && !payload_ok) ||
      (h->compress && e->compressible && h->version >= CQLMUX_PROTO_V5))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_envelope_header eh = {
      .version = h->version,
      .flags = (uint8_t)(h->flags & ~(CQLMUX_FLAG_COMPRESSION | CQLMUX_FLAG_CUSTOM_PAYLOAD)),
      .stream = h->stream,
      .opcode = opcode,
      .response = false,
      .length = 0,
  };
  if (h->custom_payload_count) eh.flags |= CQLMUX_FLAG_CUSTOM_PAYLOAD;
  e->start = cqlmux_envelope_begin(b, &eh);
  if (h->custom_payload_count)
    cqlmux_write_custom_payload(b, h->custom_payload, h->custom_payload_count);
  return b->error;
}

/* Patches the length, compresses if asked, or rolls back on any failure. */
static int finish(encoding *e) {
  cqlmux_wbuf *b = e->b;
  int rc = b->error;
  if (rc == CQLMUX_OK) rc = cqlmux_envelope_finish(b, e->start);
  if (rc == CQLMUX_OK && e->h->compress && e->compressible)
    rc = cqlmux_envelope_compress_v4(b, e->start);
  if (rc) {
    b->len = e->entry;
    b->error = CQLMUX_OK;
  }
  return rc;
}

/* Runs begin; on failure rolls back unless the wbuf was already failed. */
static int start(encoding *e, cqlmux_wbuf *b, const cqlmux_request_header *h, uint8_t opcode) {
  int prior = b->error;
  int rc = begin(e, b, h, opcode);
  if (rc && !prior) {
    b->len = e->entry;
    b->error = CQLMUX_OK;
  }
  return rc;
}

static void write_slice_string(cqlmux_wbuf *b, cqlmux_slice s) {
  cqlmux_write_string(b, (const char *)s.data, s.len);
}

static void write_value(cqlmux_wbuf *b, uint8_t version, cqlmux_bytes v) {
  if (v.len == CQLMUX_VALUE_NOT_SET && version < CQLMUX_PROTO_V4)
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_write_bytes(b, v);
}

static void write_values(cqlmux_wbuf *b, uint8_t version, const cqlmux_bytes *values,
                         const cqlmux_slice *names, uint16_t n) {
  cqlmux_write_u16(b, n);
  for (uint16_t i = 0; i < n; i++) {
    if (names) write_slice_string(b, names[i]);
    write_value(b, version, values[i]);
  }
}

/* <flags> of QUERY/EXECUTE/BATCH: a [byte] before v5, an [int] from v5. */
static void write_flags(cqlmux_wbuf *b, uint8_t version, uint32_t flags) {
  if (version >= CQLMUX_PROTO_V5)
    cqlmux_write_i32(b, (int32_t)flags);
  else
    cqlmux_write_u8(b, (uint8_t)flags);
}

static uint32_t query_flags(const cqlmux_query_params *p) {
  uint32_t f = 0;
  if (p->value_count) f |= CQLMUX_QUERY_FLAG_VALUES;
  if (p->value_count && p->names) f |= CQLMUX_QUERY_FLAG_NAMES_FOR_VALUES;
  if (p->skip_metadata) f |= CQLMUX_QUERY_FLAG_SKIP_METADATA;
  if (p->has_page_size) f |= CQLMUX_QUERY_FLAG_PAGE_SIZE;
  if (p->has_paging_state) f |= CQLMUX_QUERY_FLAG_PAGING_STATE;
  if (p->has_serial_consistency) f |= CQLMUX_QUERY_FLAG_SERIAL_CONSISTENCY;
  if (p->has_timestamp) f |= CQLMUX_QUERY_FLAG_DEFAULT_TIMESTAMP;
  if (p->has_keyspace) f |= CQLMUX_QUERY_FLAG_KEYSPACE;
  if (p->has_now_in_seconds) f |= CQLMUX_QUERY_FLAG_NOW_IN_SECONDS;
  return f;
}

/* <query_parameters> (spec 4.1.4), fields in the spec's order. */
static void write_query_params(cqlmux_wbuf *b, uint8_t version, const cqlmux_query_params *p) {
  uint32_t f = query_flags(p);
  if (version < CQLMUX_PROTO_V5 && (p->has_keyspace || p->has_now_in_seconds))
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_write_u16(b, (uint16_t)p->consistency);
  write_flags(b, version, f);
  if (f & CQLMUX_QUERY_FLAG_VALUES)
    write_values(b, version, p->values, (f & CQLMUX_QUERY_FLAG_NAMES_FOR_VALUES) ? p->names : NULL,
                 p->value_count);
  if (p->has_page_size) cqlmux_write_i32(b, p->page_size);
  if (p->has_paging_state) {
    if (p->paging_state.len > INT32_MAX) fail(b, CQLMUX_ERR_OVERSIZED);
    cqlmux_bytes ps = {p->paging_state.data, (int32_t)p->paging_state.len};
    cqlmux_write_bytes(b, ps);
  }
  if (p->has_serial_consistency) cqlmux_write_u16(b, (uint16_t)p->serial_consistency);
  if (p->has_timestamp) cqlmux_write_i64(b, p->timestamp);
  if (p->has_keyspace) write_slice_string(b, p->keyspace);
  if (p->has_now_in_seconds) cqlmux_write_i32(b, p->now_in_seconds);
}

static void write_cstring(cqlmux_wbuf *b, const char *s) {
  if (!s) {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
    return;
  }
  cqlmux_write_string(b, s, strlen(s));
}

static void write_option(cqlmux_wbuf *b, const char *key, const char *value) {
  write_cstring(b, key);
  write_cstring(b, value);
}

int cqlmux_request_startup(cqlmux_wbuf *b, const cqlmux_request_header *h,
                           const cqlmux_startup *s) {
  encoding e;
  int rc = start(&e, b, h, CQLMUX_OP_STARTUP);
  if (rc) return rc;
  size_t n = 1 + (s->compression != NULL) + (s->driver_name != NULL) +
             (s->driver_version != NULL) + s->throw_on_overload + s->extra_count;
  if (n > UINT16_MAX) fail(b, CQLMUX_ERR_OVERSIZED);
  cqlmux_write_u16(b, (uint16_t)n);
  write_option(b, "CQL_VERSION", s->cql_version ? s->cql_version : "3.0.0");
  if (s->compression) write_option(b, "COMPRESSION", s->compression);
  if (s->driver_name) write_option(b, "DRIVER_NAME", s->driver_name);
  if (s->driver_version) write_option(b, "DRIVER_VERSION", s->driver_version);
  if (s->throw_on_overload) write_option(b, "THROW_ON_OVERLOAD", "1");
  for (size_t i = 0; i < s->extra_count && !b->error; i++)
    write_option(b, s->extra[i].key, s->extra[i].value);
  return finish(&e);
}

int cqlmux_request_options(cqlmux_wbuf *b, const cqlmux_request_header *h) {
  encoding e;
  int rc = start(&e, b, h, CQLMUX_OP_OPTIONS);
  return rc ? rc : finish(&e);
}

int cqlmux_request_auth_response(cqlmux_wbuf *b, const cqlmux_request_header *h,
                                 cqlmux_bytes token) {
  encoding e;
  int rc = start(&e, b, h, CQLMUX_OP_AUTH_RESPONSE);
  if (rc) return rc;
  if (token.len < CQLMUX_VALUE_NULL) fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_write_bytes(b, token);
  return finish(&e);
}

int cqlmux_request_query(cqlmux_wbuf *b, const cqlmux_request_header *h, cqlmux_slice query,
                         const cqlmux_query_params *p) {
  encoding e;
  int rc = start(&e, b, h, CQLMUX_OP_QUERY);
  if (rc) return rc;
  cqlmux_write_long_string(b, (const char *)query.data, query.len);
  write_query_params(b, h->version, p);
  return finish(&e);
}

int cqlmux_request_prepare(cqlmux_wbuf *b, const cqlmux_request_header *h, cqlmux_slice query,
                           bool has_keyspace, cqlmux_slice keyspace) {
  encoding e;
  int rc = start(&e, b, h, CQLMUX_OP_PREPARE);
  if (rc) return rc;
  cqlmux_write_long_string(b, (const char *)query.data, query.len);
  if (h->version >= CQLMUX_PROTO_V5) {
    cqlmux_write_i32(b, has_keyspace ? (int32_t)CQLMUX_PREPARE_FLAG_KEYSPACE : 0);
    if (has_keyspace) write_slice_string(b, keyspace);
  } else if (has_keyspace) {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
  }
  return finish(&e);
}

int cqlmux_request_execute(cqlmux_wbuf *b, const cqlmux_request_header *h, cqlmux_slice id,
                           cqlmux_slice result_metadata_id, const cqlmux_query_params *p) {
  encoding e;
  int rc = start(&e, b, h, CQLMUX_OP_EXECUTE);
  if (rc) return rc;
  cqlmux_write_short_bytes(b, id.data, id.len);
  if (h->version >= CQLMUX_PROTO_V5)
    cqlmux_write_short_bytes(b, result_metadata_id.data, result_metadata_id.len);
  write_query_params(b, h->version, p);
  return finish(&e);
}

static void write_batch_statement(cqlmux_wbuf *b, uint8_t version, bool names,
                                  const cqlmux_batch_statement *s) {
  cqlmux_write_u8(b, s->kind);
  if (s->kind == CQLMUX_BATCH_KIND_QUERY)
    cqlmux_write_long_string(b, (const char *)s->query_or_id.data, s->query_or_id.len);
  else if (s->kind == CQLMUX_BATCH_KIND_PREPARED)
    cqlmux_write_short_bytes(b, s->query_or_id.data, s->query_or_id.len);
  else
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
  if (names && s->value_count && !s->names) fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
  if (!b->error) write_values(b, version, s->values, names ? s->names : NULL, s->value_count);
}

static uint32_t batch_flags(const cqlmux_batch_msg *p) {
  uint32_t f = 0;
  if (p->has_serial_consistency) f |= CQLMUX_BATCH_FLAG_SERIAL_CONSISTENCY;
  if (p->has_timestamp) f |= CQLMUX_BATCH_FLAG_DEFAULT_TIMESTAMP;
  if (p->names_for_values) f |= CQLMUX_BATCH_FLAG_NAMES_FOR_VALUES;
  if (p->has_keyspace) f |= CQLMUX_BATCH_FLAG_KEYSPACE;
  if (p->has_now_in_seconds) f |= CQLMUX_BATCH_FLAG_NOW_IN_SECONDS;
  return f;
}

int cqlmux_request_batch(cqlmux_wbuf *b, const cqlmux_request_header *h, const cqlmux_batch_msg *p) {
  encoding e;
  int rc = start(&e, b, h, CQLMUX_OP_BATCH);
  if (rc) return rc;
  if (h->version < CQLMUX_PROTO_V5 && (p->has_keyspace || p->has_now_in_seconds))
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
  if (p->type > CQLMUX_BATCH_COUNTER) fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_write_u8(b, (uint8_t)p->type);
  cqlmux_write_u16(b, p->count);
  for (uint16_t i = 0; i < p->count && !b->error; i++)
    write_batch_statement(b, h->version, p->names_for_values, &p->statements[i]);
  cqlmux_write_u16(b, (uint16_t)p->consistency);
  write_flags(b, h->version, batch_flags(p));
  if (p->has_serial_consistency) cqlmux_write_u16(b, (uint16_t)p->serial_consistency);
  if (p->has_timestamp) cqlmux_write_i64(b, p->timestamp);
  if (p->has_keyspace) write_slice_string(b, p->keyspace);
  if (p->has_now_in_seconds) cqlmux_write_i32(b, p->now_in_seconds);
  return finish(&e);
}

int cqlmux_request_register(cqlmux_wbuf *b, const cqlmux_request_header *h,
                            const cqlmux_slice *events, uint16_t count) {
  encoding e;
  int rc = start(&e, b, h, CQLMUX_OP_REGISTER);
  if (rc) return rc;
  cqlmux_write_u16(b, count);
  for (uint16_t i = 0; i < count; i++) write_slice_string(b, events[i]);
  return finish(&e);
}

#include "proto/request_decode.h"

#include <string.h>

/* Flag bits each version's <flags> field can carry. */
#define QUERY_FLAGS_V4 0x7Fu
#define BATCH_FLAGS_V4 0x70u

/* Reads a [value], refusing NOT_SET before v4 (it appeared in v4). */
static int read_value(cqlmux_reader *r, uint8_t version, cqlmux_bytes *out) {
  cqlmux_reader probe = *r;
  int rc = cqlmux_read_value(&probe, out);
  if (rc) return rc;
  if (out->len == CQLMUX_VALUE_NOT_SET && version < CQLMUX_PROTO_V4) return CQLMUX_ERR_MALFORMED;
  *r = probe;
  return CQLMUX_OK;
}

/* Checks <n> then n ([name])<value> and records them as a view. */
static int read_values(cqlmux_reader *r, uint8_t version, bool named, cqlmux_values_view *out) {
  uint16_t n;
  int rc = cqlmux_read_u16(r, &n);
  if (rc) return rc;
  const uint8_t *start = r->pos;
  for (uint16_t i = 0; i < n; i++) {
    cqlmux_slice name;
    cqlmux_bytes v;
    if (named && (rc = cqlmux_read_string(r, &name))) return rc;
    if ((rc = read_value(r, version, &v))) return rc;
  }
  out->count = n;
  out->named = named;
  out->items.pos = start;
  out->items.end = r->pos;
  return CQLMUX_OK;
}

bool cqlmux_values_next(cqlmux_values_view *v, cqlmux_slice *name, cqlmux_bytes *value) {
  if (cqlmux_reader_remaining(&v->items) == 0) return false;
  name->data = NULL;
  name->len = 0;
  if (v->named) cqlmux_read_string(&v->items, name);
  cqlmux_read_value(&v->items, value);
  return true;
}

/* <flags>: a [byte] before v5, an [int] from v5; masked to the version's set. */
static int read_flags(cqlmux_reader *r, uint8_t version, uint32_t v4_mask, uint32_t *out) {
  if (version >= CQLMUX_PROTO_V5) return cqlmux_read_u32(r, out);
  uint8_t f;
  int rc = cqlmux_read_u8(r, &f);
  if (rc == CQLMUX_OK) *out = f & v4_mask;
  return rc;
}

static int read_query_params(cqlmux_reader *r, uint8_t version, cqlmux_query_params_view *p) {
  memset(p, 0, sizeof *p);
  int rc = cqlmux_read_u16(r, &p->consistency);
  if (rc == CQLMUX_OK) rc = read_flags(r, version, QUERY_FLAGS_V4, &p->flags);
  uint32_t f = p->flags;
  if (rc == CQLMUX_OK && (f & CQLMUX_QUERY_FLAG_VALUES))
    rc = read_values(r, version, (f & CQLMUX_QUERY_FLAG_NAMES_FOR_VALUES) != 0, &p->values);
  if (rc == CQLMUX_OK && (f & CQLMUX_QUERY_FLAG_PAGE_SIZE)) rc = cqlmux_read_i32(r, &p->page_size);
  if (rc == CQLMUX_OK && (f & CQLMUX_QUERY_FLAG_PAGING_STATE))
    rc = cqlmux_read_bytes(r, &p->paging_state);
  if (rc == CQLMUX_OK && (f & CQLMUX_QUERY_FLAG_SERIAL_CONSISTENCY))
    rc = cqlmux_read_u16(r, &p->serial_consistency);
  if (rc == CQLMUX_OK && (f & CQLMUX_QUERY_FLAG_DEFAULT_TIMESTAMP))
    rc = cqlmux_read_i64(r, &p->timestamp);
  if (rc == CQLMUX_OK && (f & CQLMUX_QUERY_FLAG_KEYSPACE)) rc = cqlmux_read_string(r, &p->keyspace);
  if (rc == CQLMUX_OK && (f & CQLMUX_QUERY_FLAG_NOW_IN_SECONDS))
    rc = cqlmux_read_i32(r, &p->now_in_seconds);
  return rc;
}

/* <kind><string_or_id><n>[<name>]<value>... */
static int read_batch_statement(cqlmux_reader *r, uint8_t version, bool named,
                                cqlmux_batch_statement_view *s) {
  int rc = cqlmux_read_u8(r, &s->kind);
  if (rc) return rc;
  if (s->kind == CQLMUX_BATCH_KIND_QUERY)
    rc = cqlmux_read_long_string(r, &s->query_or_id);
  else if (s->kind == CQLMUX_BATCH_KIND_PREPARED)
    rc = cqlmux_read_short_bytes(r, &s->query_or_id);
  else
    return CQLMUX_ERR_MALFORMED;
  return rc ? rc : read_values(r, version, named, &s->values);
}

bool cqlmux_batch_next(cqlmux_batch_view *b, cqlmux_batch_statement_view *out) {
  if (cqlmux_reader_remaining(&b->statements) == 0) return false;
  bool named = (b->flags & CQLMUX_BATCH_FLAG_NAMES_FOR_VALUES) != 0;
  /* The members were checked with the version they were decoded with; NOT_SET
   * passed that check, so reading them as v5 here is the same walk. */
  read_batch_statement(&b->statements, CQLMUX_PROTO_V5, named, out);
  return true;
}

static int read_batch_options(cqlmux_reader *r, uint8_t version, cqlmux_batch_view *b) {
  int rc = cqlmux_read_u16(r, &b->consistency);
  if (rc == CQLMUX_OK) rc = read_flags(r, version, BATCH_FLAGS_V4, &b->flags);
  uint32_t f = b->flags;
  if (rc == CQLMUX_OK && (f & CQLMUX_BATCH_FLAG_SERIAL_CONSISTENCY))
    rc = cqlmux_read_u16(r, &b->serial_consistency);
  if (rc == CQLMUX_OK && (f & CQLMUX_BATCH_FLAG_DEFAULT_TIMESTAMP))
    rc = cqlmux_read_i64(r, &b->timestamp);
  if (rc == CQLMUX_OK && (f & CQLMUX_BATCH_FLAG_KEYSPACE)) rc = cqlmux_read_string(r, &b->keyspace);
  if (rc == CQLMUX_OK && (f & CQLMUX_BATCH_FLAG_NOW_IN_SECONDS))
    rc = cqlmux_read_i32(r, &b->now_in_seconds);
  return rc;
}

/* Members assumed named or not, then the options; the NAMES_FOR_VALUES flag
 * read at the end must agree with the assumption. */
static int read_batch_as(cqlmux_reader *r, uint8_t version, bool named, cqlmux_batch_view *b) {
  const uint8_t *start = r->pos;
  for (uint16_t i = 0; i < b->count; i++) {
    cqlmux_batch_statement_view s;
    int rc = read_batch_statement(r, version, named, &s);
    if (rc) return rc;
  }
  b->statements.pos = start;
  b->statements.end = r->pos;
  int rc = read_batch_options(r, version, b);
  if (rc) return rc;
  return ((b->flags & CQLMUX_BATCH_FLAG_NAMES_FOR_VALUES) != 0) == named ? CQLMUX_OK
                                                                          : CQLMUX_ERR_MALFORMED;
}

/* <type><n><query_1>...<query_n><consistency><flags>[...]. The members come
 * before the flag saying whether their values are named (the spec admits
 * this makes the flag unusable, CASSANDRA-10246), so they are read unnamed
 * first and, if that does not hold together, named. */
static int read_batch(cqlmux_reader *r, uint8_t version, cqlmux_batch_view *b) {
  cqlmux_batch_view v;
  memset(&v, 0, sizeof v);
  int rc = cqlmux_read_u8(r, &v.type);
  if (rc == CQLMUX_OK) rc = cqlmux_read_u16(r, &v.count);
  if (rc) return rc;
  if (v.type > CQLMUX_BATCH_COUNTER) return CQLMUX_ERR_MALFORMED;
  cqlmux_reader probe = *r;
  cqlmux_batch_view tried = v;
  rc = read_batch_as(&probe, version, false, &tried);
  if (rc) {
    probe = *r;
    tried = v;
    if (read_batch_as(&probe, version, true, &tried)) return rc;
  }
  *b = tried;
  *r = probe;
  return CQLMUX_OK;
}

static int read_prepare(cqlmux_reader *r, uint8_t version, cqlmux_request_view *v) {
  int rc = cqlmux_read_long_string(r, &v->u.prepare.query);
  if (rc || version < CQLMUX_PROTO_V5) return rc;
  rc = cqlmux_read_u32(r, &v->u.prepare.flags);
  if (rc == CQLMUX_OK && (v->u.prepare.flags & CQLMUX_PREPARE_FLAG_KEYSPACE))
    rc = cqlmux_read_string(r, &v->u.prepare.keyspace);
  return rc;
}

static int read_execute(cqlmux_reader *r, uint8_t version, cqlmux_request_view *v) {
  int rc = cqlmux_read_short_bytes(r, &v->u.execute.id);
  if (rc == CQLMUX_OK && version >= CQLMUX_PROTO_V5)
    rc = cqlmux_read_short_bytes(r, &v->u.execute.result_metadata_id);
  return rc ? rc : read_query_params(r, version, &v->u.execute.params);
}

static int read_message(cqlmux_reader *r, const cqlmux_envelope_header *h,
                        cqlmux_request_view *v) {
  uint8_t version = h->version;
  int rc;
  switch (h->opcode) {
    case CQLMUX_OP_STARTUP:
      return cqlmux_read_string_map(r, &v->u.startup);
    case CQLMUX_OP_OPTIONS:
      return CQLMUX_OK;
    case CQLMUX_OP_AUTH_RESPONSE:
      return cqlmux_read_bytes(r, &v->u.auth_token);
    case CQLMUX_OP_QUERY:
      rc = cqlmux_read_long_string(r, &v->u.query.query);
      return rc ? rc : read_query_params(r, version, &v->u.query.params);
    case CQLMUX_OP_PREPARE:
      return read_prepare(r, version, v);
    case CQLMUX_OP_EXECUTE:
      return read_execute(r, version, v);
    case CQLMUX_OP_BATCH:
      return read_batch(r, version, &v->u.batch);
    case CQLMUX_OP_REGISTER:
      return cqlmux_read_string_list(r, &v->u.events);
    default:
      return CQLMUX_ERR_MALFORMED;
  }
}

int cqlmux_request_decode(const cqlmux_envelope *env, cqlmux_request_view *out) {
  const cqlmux_envelope_header *h = &env->header;
  if ((h->flags & CQLMUX_FLAG_COMPRESSION) && h->version < CQLMUX_PROTO_V5)
    return CQLMUX_ERR_INVALID_ARGUMENT;
  if (h->response || !cqlmux_opcode_valid(h->opcode, CQLMUX_DIR_REQUEST))
    return CQLMUX_ERR_MALFORMED;
  cqlmux_request_view v;
  memset(&v, 0, sizeof v);
  v.header = *h;
  cqlmux_reader r;
  int rc = cqlmux_envelope_body_prefix(env, &v.prefix, &r);
  if (rc == CQLMUX_OK) rc = read_message(&r, h, &v);
  if (rc) return rc;
  v.trailing = cqlmux_reader_remaining(&r);
  *out = v;
  return CQLMUX_OK;
}

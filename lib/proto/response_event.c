/* EVENT bodies and the schema change description they share with RESULT
 * (spec sections 4.2.5.5 and 4.2.6). */
#include <string.h>

#include "proto/response.h"

static bool slice_is(cqlmux_slice s, const char *lit) {
  size_t n = strlen(lit);
  return s.len == n && memcmp(s.data, lit, n) == 0;
}

static int change_of(cqlmux_slice s) {
  if (slice_is(s, "CREATED")) return CQLMUX_SCHEMA_CREATED;
  if (slice_is(s, "UPDATED")) return CQLMUX_SCHEMA_UPDATED;
  if (slice_is(s, "DROPPED")) return CQLMUX_SCHEMA_DROPPED;
  return CQLMUX_SCHEMA_UNKNOWN_CHANGE;
}

static int target_of(cqlmux_slice s) {
  if (slice_is(s, "KEYSPACE")) return CQLMUX_TARGET_KEYSPACE;
  if (slice_is(s, "TABLE")) return CQLMUX_TARGET_TABLE;
  if (slice_is(s, "TYPE")) return CQLMUX_TARGET_TYPE;
  if (slice_is(s, "FUNCTION")) return CQLMUX_TARGET_FUNCTION;
  if (slice_is(s, "AGGREGATE")) return CQLMUX_TARGET_AGGREGATE;
  return CQLMUX_TARGET_UNKNOWN;
}

/* <change_type><target><options>; options per target. */
int cqlmux_schema_change_decode(cqlmux_reader *r, cqlmux_schema_change *out) {
  cqlmux_reader p = *r;
  cqlmux_schema_change s;
  memset(&s, 0, sizeof s);
  int rc = cqlmux_read_string(&p, &s.change_type);
  if (!rc) rc = cqlmux_read_string(&p, &s.target);
  if (rc) return rc;
  s.change = change_of(s.change_type);
  s.target_kind = target_of(s.target);
  switch (s.target_kind) {
  case CQLMUX_TARGET_KEYSPACE: rc = cqlmux_read_string(&p, &s.keyspace); break;
  case CQLMUX_TARGET_TABLE:
  case CQLMUX_TARGET_TYPE:
    rc = cqlmux_read_string(&p, &s.keyspace);
    if (!rc) rc = cqlmux_read_string(&p, &s.name);
    break;
  case CQLMUX_TARGET_FUNCTION:
  case CQLMUX_TARGET_AGGREGATE:
    rc = cqlmux_read_string(&p, &s.keyspace);
    if (!rc) rc = cqlmux_read_string(&p, &s.name);
    if (!rc) rc = cqlmux_string_list_decode(&p, &s.arg_types);
    break;
  default: break; /* a target from a newer server: options unknown, skipped */
  }
  if (rc) return rc;
  *out = s;
  *r = p;
  return CQLMUX_OK;
}

static void write_slice(cqlmux_wbuf *b, cqlmux_slice s) {
  cqlmux_write_string(b, (const char *)s.data, s.len);
}

void cqlmux_schema_change_encode(cqlmux_wbuf *b, const cqlmux_schema_change *s) {
  write_slice(b, s->change_type);
  write_slice(b, s->target);
  switch (target_of(s->target)) {
  case CQLMUX_TARGET_KEYSPACE: write_slice(b, s->keyspace); return;
  case CQLMUX_TARGET_TABLE:
  case CQLMUX_TARGET_TYPE:
    write_slice(b, s->keyspace);
    write_slice(b, s->name);
    return;
  case CQLMUX_TARGET_FUNCTION:
  case CQLMUX_TARGET_AGGREGATE:
    write_slice(b, s->keyspace);
    write_slice(b, s->name);
    cqlmux_string_list_encode(b, &s->arg_types);
    return;
  default:
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
}

/* ------------------------------------------------------------ EVENT */

int cqlmux_event_decode(const uint8_t *body, size_t len, cqlmux_event *out) {
  cqlmux_reader r = cqlmux_reader_make(body, len);
  cqlmux_event e;
  memset(&e, 0, sizeof e);
  int rc = cqlmux_read_string(&r, &e.type);
  if (rc) return rc;
  if (slice_is(e.type, "TOPOLOGY_CHANGE") || slice_is(e.type, "STATUS_CHANGE")) {
    e.kind = slice_is(e.type, "STATUS_CHANGE") ? CQLMUX_EVENT_STATUS_CHANGE
                                               : CQLMUX_EVENT_TOPOLOGY_CHANGE;
    rc = cqlmux_read_string(&r, &e.change);
    if (!rc) rc = cqlmux_read_inet(&r, &e.address);
  } else if (slice_is(e.type, "SCHEMA_CHANGE")) {
    e.kind = CQLMUX_EVENT_SCHEMA_CHANGE;
    rc = cqlmux_schema_change_decode(&r, &e.schema);
  }
  if (rc == CQLMUX_OK) *out = e;
  return rc;
}

void cqlmux_event_encode(cqlmux_wbuf *b, const cqlmux_event *e) {
  static const char *const names[] = {NULL, "TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"};
  if (e->kind <= CQLMUX_EVENT_UNKNOWN || e->kind > CQLMUX_EVENT_SCHEMA_CHANGE) {
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
  cqlmux_write_string(b, names[e->kind], strlen(names[e->kind]));
  if (e->kind == CQLMUX_EVENT_SCHEMA_CHANGE) {
    cqlmux_schema_change_encode(b, &e->schema);
    return;
  }
  write_slice(b, e->change);
  cqlmux_write_inet(b, &e->address);
}

#include "api/batch.h"

#include <string.h>

#include "api/identifier.h"
#include "api/prepared.h"
#include "api/statement.h"
#include "proto/request.h"
#include "runtime/alloc.h"

/* Like statements: created without a session (see statement.c). */
#define BATCH_ALLOC NULL

cqlmux_batch *cqlmux_batch_new(cqlmux_batch_type type) {
  if (type > CQLMUX_BATCH_COUNTER) return NULL;
  cqlmux_batch *b = cqlmux_mem_calloc(BATCH_ALLOC, 1, sizeof *b);
  if (!b) return NULL;
  b->type = type;
  b->consistency = CQLMUX_CONSISTENCY_ONE;
  return b;
}

void cqlmux_batch_free(cqlmux_batch *b) {
  if (!b) return;
  cqlmux_mem_free(BATCH_ALLOC, b->members);
  cqlmux_mem_free(BATCH_ALLOC, b->keyspace);
  cqlmux_request_extras_free(&b->extras);
  cqlmux_mem_free(BATCH_ALLOC, b);
}

int cqlmux_batch_add(cqlmux_batch *b, const cqlmux_statement *s) {
  if (!b || !s || b->count == UINT16_MAX) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (b->count == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 8;
    if (cap > UINT16_MAX) cap = UINT16_MAX;
    const cqlmux_statement **m = cqlmux_mem_realloc(BATCH_ALLOC, b->members, cap * sizeof *m);
    if (!m) return CQLMUX_ERR_NOMEM;
    b->members = m;
    b->cap = cap;
  }
  b->members[b->count++] = s;
  return CQLMUX_OK;
}

void cqlmux_batch_clear(cqlmux_batch *b) {
  if (b) b->count = 0;
}

size_t cqlmux_batch_count(const cqlmux_batch *b) { return b ? b->count : 0; }

int cqlmux_batch_set_consistency(cqlmux_batch *b, cqlmux_consistency c) {
  if (!b || c < CQLMUX_CONSISTENCY_ANY || c > CQLMUX_CONSISTENCY_LOCAL_ONE)
    return CQLMUX_ERR_INVALID_ARGUMENT;
  b->consistency = c;
  return CQLMUX_OK;
}

int cqlmux_batch_set_serial_consistency(cqlmux_batch *b, cqlmux_consistency c) {
  if (!b || (c != CQLMUX_CONSISTENCY_SERIAL && c != CQLMUX_CONSISTENCY_LOCAL_SERIAL))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  b->has_serial_consistency = true;
  b->serial_consistency = c;
  return CQLMUX_OK;
}

int cqlmux_batch_set_timestamp(cqlmux_batch *b, int64_t microseconds) {
  if (!b) return CQLMUX_ERR_INVALID_ARGUMENT;
  b->has_timestamp = true;
  b->timestamp = microseconds;
  return CQLMUX_OK;
}

int cqlmux_batch_set_timeout(cqlmux_batch *b, unsigned ms) {
  if (!b) return CQLMUX_ERR_INVALID_ARGUMENT;
  b->timeout_ms = ms;
  return CQLMUX_OK;
}

int cqlmux_batch_set_idempotent(cqlmux_batch *b, int idempotent) {
  if (!b) return CQLMUX_ERR_INVALID_ARGUMENT;
  b->idempotent = idempotent != 0;
  return CQLMUX_OK;
}

int cqlmux_batch_set_keyspace(cqlmux_batch *b, const char *keyspace) {
  return b ? cqlmux_keyspace_replace(&b->keyspace, keyspace) : CQLMUX_ERR_INVALID_ARGUMENT;
}

int cqlmux_batch_set_tracing(cqlmux_batch *b, int on) {
  if (!b) return CQLMUX_ERR_INVALID_ARGUMENT;
  b->extras.tracing = on != 0;
  return CQLMUX_OK;
}

int cqlmux_batch_add_custom_payload(cqlmux_batch *b, const char *name, const void *value,
                                    size_t length) {
  if (!b) return CQLMUX_ERR_INVALID_ARGUMENT;
  return cqlmux_request_extras_add_payload(&b->extras, name, value, length, NULL, 0);
}

/* ------------------------------------------------------------------ encoding */

/* One member on the wire: its text or prepared id, and its values (into
 * the caller's table: the member's share of it). */
static int member_to_wire(const cqlmux_statement *s, uint8_t version, cqlmux_bytes *values,
                          cqlmux_batch_statement *out) {
  cqlmux_query_params params;
  /* A member bound by name has names for every value; BATCH has none. */
  if (s->names) return CQLMUX_ERR_INVALID_ARGUMENT;
  int rc = cqlmux_statement_params(s, version, values, NULL, &params);
  if (rc) return rc;
  out->values = values;
  out->value_count = (uint16_t)s->value_count;
  out->names = NULL;
  if (s->prepared) {
    out->kind = CQLMUX_BATCH_KIND_PREPARED;
    out->query_or_id = (cqlmux_slice){s->prepared->id, s->prepared->id_len};
  } else {
    out->kind = CQLMUX_BATCH_KIND_QUERY;
    out->query_or_id = (cqlmux_slice){(const uint8_t *)s->cql, s->cql_len};
  }
  return CQLMUX_OK;
}

static void batch_options(const cqlmux_batch *b, uint8_t version, cqlmux_batch_msg *msg) {
  memset(msg, 0, sizeof *msg);
  msg->type = b->type;
  msg->count = (uint16_t)b->count;
  msg->consistency = b->consistency;
  msg->has_serial_consistency = b->has_serial_consistency;
  msg->serial_consistency = b->serial_consistency;
  msg->has_timestamp = b->has_timestamp;
  msg->timestamp = b->timestamp;
  msg->has_keyspace = b->keyspace != NULL && version >= 5;
  if (msg->has_keyspace)
    msg->keyspace = (cqlmux_slice){(const uint8_t *)b->keyspace, strlen(b->keyspace)};
}

int cqlmux_batch_encode(const cqlmux_batch *b, cqlmux_wbuf *out, uint8_t version, bool compress,
                        const cqlmux_timestamp_source *stamps) {
  if (b->count == 0) return CQLMUX_ERR_INVALID_ARGUMENT;
  size_t total_values = 0;
  for (size_t i = 0; i < b->count; i++) total_values += b->members[i]->value_count;
  /* One block: the wire members, then every member's values. */
  cqlmux_batch_statement *wire = cqlmux_mem_malloc(
      BATCH_ALLOC, b->count * sizeof *wire + total_values * sizeof(cqlmux_bytes));
  if (!wire) return CQLMUX_ERR_NOMEM;
  cqlmux_bytes *values = (cqlmux_bytes *)(wire + b->count);
  int rc = CQLMUX_OK;
  for (size_t i = 0; i < b->count && rc == CQLMUX_OK; i++) {
    rc = member_to_wire(b->members[i], version, values, &wire[i]);
    values += b->members[i]->value_count;
  }
  if (rc == CQLMUX_OK) {
    cqlmux_batch_msg msg;
    batch_options(b, version, &msg);
    cqlmux_timestamp_source_fill(stamps, &msg.has_timestamp, &msg.timestamp);
    msg.statements = wire;
    cqlmux_request_header h = {.version = version, .stream = 0, .compress = compress};
    cqlmux_request_extras_apply(&b->extras, &h);
    rc = cqlmux_request_batch(out, &h, &msg);
  }
  cqlmux_mem_free(BATCH_ALLOC, wire);
  return rc;
}

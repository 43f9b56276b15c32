#include "api/statement.h"

#include <stdio.h>
#include <string.h>

#include "api/identifier.h"
#include "api/prepared.h"
#include "proto/request.h"
#include "proto/values.h"
#include "runtime/alloc.h"

/* Statements are created without a session, so they use the C library's
 * allocator (documented in cqlmux.h); nothing per request comes from here. */
#define STATEMENT_ALLOC NULL

static cqlmux_statement *statement_alloc(size_t value_count) {
  cqlmux_statement *s = cqlmux_mem_calloc(STATEMENT_ALLOC, 1, sizeof *s);
  if (!s) return NULL;
  s->value_count = value_count;
  s->consistency = CQLMUX_CONSISTENCY_ONE;
  s->page_size = 5000;
  if (value_count) {
    s->values = cqlmux_mem_calloc(STATEMENT_ALLOC, value_count, sizeof *s->values);
    if (!s->values) {
      cqlmux_statement_free(s);
      return NULL;
    }
    for (size_t i = 0; i < value_count; i++) s->values[i].len = CQLMUX_VALUE_NOT_SET;
  }
  return s;
}

cqlmux_statement *cqlmux_statement_new(const char *cql, size_t value_count) {
  if (!cql || value_count > UINT16_MAX) return NULL;
  cqlmux_statement *s = statement_alloc(value_count);
  if (!s) return NULL;
  s->cql_len = strlen(cql);
  s->cql = cqlmux_mem_malloc(STATEMENT_ALLOC, s->cql_len + 1);
  if (!s->cql) {
    cqlmux_statement_free(s);
    return NULL;
  }
  memcpy(s->cql, cql, s->cql_len + 1);
  return s;
}

cqlmux_statement *cqlmux_statement_new_prepared(const cqlmux_prepared *prepared) {
  if (!prepared) return NULL;
  cqlmux_statement *s = statement_alloc(prepared->parameter_count);
  if (s) s->prepared = prepared;
  return s;
}

void cqlmux_statement_free(cqlmux_statement *s) {
  if (!s) return;
  for (size_t i = 0; s->names && i < s->value_count; i++)
    cqlmux_mem_free(STATEMENT_ALLOC, s->names[i]);
  cqlmux_mem_free(STATEMENT_ALLOC, s->names);
  for (size_t i = 0; s->values && i < s->value_count; i++)
    cqlmux_mem_free(STATEMENT_ALLOC, s->values[i].heap);
  cqlmux_mem_free(STATEMENT_ALLOC, s->values);
  cqlmux_mem_free(STATEMENT_ALLOC, s->cql);
  cqlmux_mem_free(STATEMENT_ALLOC, s->paging_state);
  cqlmux_mem_free(STATEMENT_ALLOC, s->keyspace);
  cqlmux_mem_free(STATEMENT_ALLOC, s->host);
  cqlmux_mem_free(STATEMENT_ALLOC, s->routing_key);
  cqlmux_builder_free(s->scratch);
  cqlmux_request_extras_free(&s->extras);
  cqlmux_mem_free(STATEMENT_ALLOC, s);
}

/* ------------------------------------------------------------------ checks */

static const char *type_name(uint16_t id) {
  switch (id) {
  case CQLMUX_TYPE_ASCII: return "ascii";
  case CQLMUX_TYPE_BIGINT: return "bigint";
  case CQLMUX_TYPE_BLOB: return "blob";
  case CQLMUX_TYPE_BOOLEAN: return "boolean";
  case CQLMUX_TYPE_COUNTER: return "counter";
  case CQLMUX_TYPE_DECIMAL: return "decimal";
  case CQLMUX_TYPE_DOUBLE: return "double";
  case CQLMUX_TYPE_FLOAT: return "float";
  case CQLMUX_TYPE_INT: return "int";
  case CQLMUX_TYPE_TIMESTAMP: return "timestamp";
  case CQLMUX_TYPE_UUID: return "uuid";
  case CQLMUX_TYPE_TEXT: return "text";
  case CQLMUX_TYPE_VARINT: return "varint";
  case CQLMUX_TYPE_TIMEUUID: return "timeuuid";
  case CQLMUX_TYPE_INET: return "inet";
  case CQLMUX_TYPE_DATE: return "date";
  case CQLMUX_TYPE_TIME: return "time";
  case CQLMUX_TYPE_SMALLINT: return "smallint";
  case CQLMUX_TYPE_TINYINT: return "tinyint";
  case CQLMUX_TYPE_DURATION: return "duration";
  case CQLMUX_TYPE_LIST: return "list";
  case CQLMUX_TYPE_MAP: return "map";
  case CQLMUX_TYPE_SET: return "set";
  case CQLMUX_TYPE_UDT: return "user-defined type";
  case CQLMUX_TYPE_TUPLE: return "tuple";
  case CQLMUX_TYPE_VECTOR: return "vector";
  default: return "custom";
  }
}

int cqlmux_statement_check_bind(cqlmux_statement *s, size_t index, const cqlmux_bind_kind *k) {
  const cqlmux_column_spec *param = s ? cqlmux_prepared_param(s->prepared, index) : NULL;
  if (!param) return CQLMUX_OK;
  for (size_t i = 0; i < k->count; i++)
    if (k->types[i] == param->type->id) return CQLMUX_OK;
  snprintf(s->error, sizeof s->error, "parameter %zu (\"%.*s\") is %s: %s cannot bind it",
           index, (int)(param->name.len < 64 ? param->name.len : 64),
           (const char *)param->name.data, type_name(param->type->id), k->function);
  return CQLMUX_ERR_TYPE_MISMATCH;
}

const char *cqlmux_statement_error_message(const cqlmux_statement *s) {
  return s ? s->error : "";
}

/* ------------------------------------------------------------------ names */

/* Longest value name taken: a CQL identifier has no limit, but names
 * longer than this are not ones a schema uses. */
#define VALUE_NAME_MAX 256

static int name_not_found(cqlmux_statement *s, const char *name) {
  snprintf(s->error, sizeof s->error, "no parameter named %.100s", name);
  return CQLMUX_ERR_NOT_FOUND;
}

/* Prepared: the first marker the server calls `name`. */
static int prepared_name_index(cqlmux_statement *s, const char *name, const char *given,
                               size_t *index) {
  size_t n = strlen(name);
  for (size_t i = 0; i < s->value_count; i++) {
    const cqlmux_column_spec *param = cqlmux_prepared_param(s->prepared, i);
    if (param && param->name.len == n && memcmp(param->name.data, name, n) == 0) {
      *index = i;
      return CQLMUX_OK;
    }
  }
  return name_not_found(s, given);
}

/* Simple: the slot already given that name, or the first one without. */
static int simple_name_index(cqlmux_statement *s, const char *name, const char *given,
                             size_t *index) {
  if (s->value_count == 0) return name_not_found(s, given);
  if (!s->names &&
      !(s->names = cqlmux_mem_calloc(STATEMENT_ALLOC, s->value_count, sizeof *s->names)))
    return CQLMUX_ERR_NOMEM;
  size_t free_slot = s->value_count;
  for (size_t i = 0; i < s->value_count; i++) {
    if (s->names[i] && strcmp(s->names[i], name) == 0) {
      *index = i;
      return CQLMUX_OK;
    }
    if (!s->names[i] && free_slot == s->value_count) free_slot = i;
  }
  if (free_slot == s->value_count) return name_not_found(s, given);
  size_t n = strlen(name) + 1;
  if (!(s->names[free_slot] = cqlmux_mem_malloc(STATEMENT_ALLOC, n))) return CQLMUX_ERR_NOMEM;
  memcpy(s->names[free_slot], name, n);
  *index = free_slot;
  return CQLMUX_OK;
}

int cqlmux_statement_name_index(cqlmux_statement *s, const char *name, size_t *index) {
  char folded[VALUE_NAME_MAX + 1];
  if (!s || !index || !cqlmux_value_name(name, folded, sizeof folded))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  return s->prepared ? prepared_name_index(s, folded, name, index)
                     : simple_name_index(s, folded, name, index);
}

/* ------------------------------------------------------------------ binding */

/* Returns where a value of len bytes goes in slot index, or NULL. */
static uint8_t *slot_storage(cqlmux_statement *s, size_t index, size_t len, int *rc) {
  if (!s || index >= s->value_count || len > INT32_MAX) {
    *rc = CQLMUX_ERR_INVALID_ARGUMENT;
    return NULL;
  }
  cqlmux_value_slot *slot = &s->values[index];
  if (len <= CQLMUX_VALUE_INLINE) {
    slot->len = (int32_t)len;
    return slot->inline_data;
  }
  if (len > slot->heap_cap) {
    uint8_t *p = cqlmux_mem_realloc(STATEMENT_ALLOC, slot->heap, len);
    if (!p) {
      *rc = CQLMUX_ERR_NOMEM;
      return NULL;
    }
    slot->heap = p;
    slot->heap_cap = len;
  }
  slot->len = (int32_t)len;
  return slot->heap;
}

const uint8_t *cqlmux_value_slot_bytes(const cqlmux_value_slot *slot) {
  return slot->len <= CQLMUX_VALUE_INLINE ? slot->inline_data : slot->heap;
}

static int bind_copy(cqlmux_statement *s, size_t index, const void *data, size_t len) {
  int rc = CQLMUX_OK;
  uint8_t *dst = slot_storage(s, index, len, &rc);
  if (!dst) return rc;
  if (len) memcpy(dst, data, len);
  return CQLMUX_OK;
}

/* Integers go big-endian, in exactly their type's width. */
static int bind_be(cqlmux_statement *s, size_t index, uint64_t v, size_t width) {
  uint8_t buf[8];
  for (size_t i = 0; i < width; i++) buf[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
  return bind_copy(s, index, buf, width);
}

static int bind_marker(cqlmux_statement *s, size_t index, int32_t marker) {
  if (!s || index >= s->value_count) return CQLMUX_ERR_INVALID_ARGUMENT;
  s->values[index].len = marker;
  return CQLMUX_OK;
}

int cqlmux_statement_bind_null(cqlmux_statement *s, size_t index) {
  return bind_marker(s, index, CQLMUX_VALUE_NULL);
}

int cqlmux_statement_bind_unset(cqlmux_statement *s, size_t index) {
  return bind_marker(s, index, CQLMUX_VALUE_NOT_SET);
}

int cqlmux_statement_bind_bool(cqlmux_statement *s, size_t index, int value) {
  int rc = cqlmux_statement_check_bind(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_bool", CQLMUX_TYPE_BOOLEAN));
  if (rc) return rc;
  return bind_be(s, index, value ? 1 : 0, 1);
}

int cqlmux_statement_bind_int8(cqlmux_statement *s, size_t index, int8_t value) {
  int rc = cqlmux_statement_check_bind(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_int8", CQLMUX_TYPE_TINYINT));
  if (rc) return rc;
  return bind_be(s, index, (uint8_t)value, 1);
}

int cqlmux_statement_bind_int16(cqlmux_statement *s, size_t index, int16_t value) {
  int rc = cqlmux_statement_check_bind(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_int16", CQLMUX_TYPE_SMALLINT));
  if (rc) return rc;
  return bind_be(s, index, (uint16_t)value, 2);
}

int cqlmux_statement_bind_int32(cqlmux_statement *s, size_t index, int32_t value) {
  int rc = cqlmux_statement_check_bind(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_int32", CQLMUX_TYPE_INT));
  if (rc) return rc;
  return bind_be(s, index, (uint32_t)value, 4);
}

int cqlmux_statement_bind_int64(cqlmux_statement *s, size_t index, int64_t value) {
  int rc = cqlmux_statement_check_bind(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_int64", CQLMUX_TYPE_BIGINT, CQLMUX_TYPE_COUNTER, CQLMUX_TYPE_TIMESTAMP, CQLMUX_TYPE_TIME));
  if (rc) return rc;
  return bind_be(s, index, (uint64_t)value, 8);
}

int cqlmux_statement_bind_float(cqlmux_statement *s, size_t index, float value) {
  int rc = cqlmux_statement_check_bind(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_float", CQLMUX_TYPE_FLOAT));
  if (rc) return rc;
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bind_be(s, index, bits, 4);
}

int cqlmux_statement_bind_double(cqlmux_statement *s, size_t index, double value) {
  int rc = cqlmux_statement_check_bind(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_double", CQLMUX_TYPE_DOUBLE));
  if (rc) return rc;
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bind_be(s, index, bits, 8);
}

int cqlmux_statement_bind_text(cqlmux_statement *s, size_t index, const char *text,
                               size_t length) {
  int rc = cqlmux_statement_check_bind(
      s, index,
      CQLMUX_BIND_KIND("cqlmux_statement_bind_text", CQLMUX_TYPE_TEXT, CQLMUX_TYPE_ASCII));
  if (rc) return rc;
  cqlmux_slice checked;
  if ((!text && length) || length > INT32_MAX ||
      cqlmux_value_get_text((cqlmux_bytes){(const uint8_t *)text, (int32_t)length}, &checked))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  return bind_copy(s, index, text, length);
}

int cqlmux_statement_bind_blob(cqlmux_statement *s, size_t index, const void *data,
                               size_t length) {
  /* Custom types travel as the bytes their class serializes. */
  int rc = cqlmux_statement_check_bind(
      s, index,
      CQLMUX_BIND_KIND("cqlmux_statement_bind_blob", CQLMUX_TYPE_BLOB, CQLMUX_TYPE_CUSTOM));
  return rc ? rc : cqlmux_statement_bind_serialized(s, index, data, length);
}

int cqlmux_statement_bind_uuid(cqlmux_statement *s, size_t index, const uint8_t uuid[16]) {
  int rc = cqlmux_statement_check_bind(
      s, index,
      CQLMUX_BIND_KIND("cqlmux_statement_bind_uuid", CQLMUX_TYPE_UUID, CQLMUX_TYPE_TIMEUUID));
  if (rc) return rc;
  if (!uuid) return CQLMUX_ERR_INVALID_ARGUMENT;
  return bind_copy(s, index, uuid, 16);
}

int cqlmux_statement_bind_serialized(cqlmux_statement *s, size_t index, const void *data,
                                     size_t length) {
  if (!data && length) return CQLMUX_ERR_INVALID_ARGUMENT;
  return bind_copy(s, index, data, length);
}

/* ------------------------------------------------------------------ options */

static bool consistency_valid(cqlmux_consistency c) {
  return c >= CQLMUX_CONSISTENCY_ANY && c <= CQLMUX_CONSISTENCY_LOCAL_ONE;
}

int cqlmux_statement_set_consistency(cqlmux_statement *s, cqlmux_consistency c) {
  if (!s || !consistency_valid(c)) return CQLMUX_ERR_INVALID_ARGUMENT;
  s->consistency = c;
  return CQLMUX_OK;
}

int cqlmux_statement_set_serial_consistency(cqlmux_statement *s, cqlmux_consistency c) {
  if (!s || (c != CQLMUX_CONSISTENCY_SERIAL && c != CQLMUX_CONSISTENCY_LOCAL_SERIAL))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  s->has_serial_consistency = true;
  s->serial_consistency = c;
  return CQLMUX_OK;
}

int cqlmux_statement_set_page_size(cqlmux_statement *s, int32_t rows) {
  if (!s || rows < 0) return CQLMUX_ERR_INVALID_ARGUMENT;
  s->page_size = rows;
  return CQLMUX_OK;
}

/* Replaces *field with a copy of bytes (NULL clears it); NOMEM keeps it. */
static int replace_bytes(uint8_t **field, size_t *field_len, const void *bytes, size_t length) {
  uint8_t *copy = NULL;
  if (bytes) {
    copy = cqlmux_mem_malloc(STATEMENT_ALLOC, length ? length : 1);
    if (!copy) return CQLMUX_ERR_NOMEM;
    memcpy(copy, bytes, length);
  }
  cqlmux_mem_free(STATEMENT_ALLOC, *field);
  *field = copy;
  *field_len = copy ? length : 0;
  return CQLMUX_OK;
}

int cqlmux_statement_set_paging_state(cqlmux_statement *s, const void *state, size_t length) {
  if (!s || (!state && length) || length > INT32_MAX) return CQLMUX_ERR_INVALID_ARGUMENT;
  return replace_bytes(&s->paging_state, &s->paging_state_len, state, length);
}

int cqlmux_statement_set_routing_key(cqlmux_statement *s, const void *key, size_t length) {
  if (!s || (key && length == 0) || (!key && length)) return CQLMUX_ERR_INVALID_ARGUMENT;
  return replace_bytes(&s->routing_key, &s->routing_key_len, key, length);
}

int cqlmux_statement_set_next_page(cqlmux_statement *s, const cqlmux_result *r) {
  const uint8_t *state;
  size_t length;
  if (!s || !r) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (!cqlmux_result_has_more_pages(r) || cqlmux_result_paging_state(r, &state, &length))
    return CQLMUX_ERR_NOT_FOUND;
  return cqlmux_statement_set_paging_state(s, state, length);
}

cqlmux_future *cqlmux_session_execute_next_page(cqlmux_session *session, cqlmux_statement *s,
                                                const cqlmux_result *r) {
  if (!session || cqlmux_statement_set_next_page(s, r) != CQLMUX_OK) return NULL;
  return cqlmux_session_execute(session, s);
}

int cqlmux_statement_set_timestamp(cqlmux_statement *s, int64_t microseconds) {
  if (!s) return CQLMUX_ERR_INVALID_ARGUMENT;
  s->has_timestamp = true;
  s->timestamp = microseconds;
  return CQLMUX_OK;
}

int cqlmux_statement_set_timeout(cqlmux_statement *s, unsigned ms) {
  if (!s) return CQLMUX_ERR_INVALID_ARGUMENT;
  s->timeout_ms = ms;
  return CQLMUX_OK;
}

int cqlmux_statement_set_idempotent(cqlmux_statement *s, int idempotent) {
  if (!s) return CQLMUX_ERR_INVALID_ARGUMENT;
  s->idempotent = idempotent != 0;
  return CQLMUX_OK;
}

int cqlmux_statement_set_host(cqlmux_statement *s, const char *address) {
  if (!s || (address && (!*address || strlen(address) >= 64))) return CQLMUX_ERR_INVALID_ARGUMENT;
  char *copy = NULL;
  if (address) {
    size_t n = strlen(address) + 1;
    if (!(copy = cqlmux_mem_malloc(STATEMENT_ALLOC, n))) return CQLMUX_ERR_NOMEM;
    memcpy(copy, address, n);
  }
  cqlmux_mem_free(STATEMENT_ALLOC, s->host);
  s->host = copy;
  return CQLMUX_OK;
}

int cqlmux_statement_set_retry_policy(cqlmux_statement *s, const cqlmux_retry_policy *policy) {
  if (!s || (policy && !policy->decide)) return CQLMUX_ERR_INVALID_ARGUMENT;
  s->retry_policy = policy;
  return CQLMUX_OK;
}

int cqlmux_statement_set_speculative_execution(cqlmux_statement *s, unsigned delay_ms,
                                              unsigned max_extra) {
  if (!s || max_extra > CQLMUX_MAX_SPECULATIVE) return CQLMUX_ERR_INVALID_ARGUMENT;
  s->has_speculative = true;
  s->speculative = (cqlmux_speculative){delay_ms, max_extra};
  return CQLMUX_OK;
}

int cqlmux_statement_set_keyspace(cqlmux_statement *s, const char *keyspace) {
  return s ? cqlmux_keyspace_replace(&s->keyspace, keyspace) : CQLMUX_ERR_INVALID_ARGUMENT;
}

int cqlmux_statement_set_tracing(cqlmux_statement *s, int on) {
  if (!s) return CQLMUX_ERR_INVALID_ARGUMENT;
  s->extras.tracing = on != 0;
  return CQLMUX_OK;
}

int cqlmux_statement_add_custom_payload(cqlmux_statement *s, const char *name, const void *value,
                                        size_t length) {
  if (!s) return CQLMUX_ERR_INVALID_ARGUMENT;
  return cqlmux_request_extras_add_payload(&s->extras, name, value, length, s->error,
                                           sizeof s->error);
}

/* ------------------------------------------------------------------ encoding */

static cqlmux_slice text_slice(const char *p, size_t n) {
  cqlmux_slice sl = {(const uint8_t *)p, n};
  return sl;
}

/* names: the caller's array of value_count entries, filled here. */
static int fill_names(const cqlmux_statement *s, cqlmux_slice *names, cqlmux_query_params *p) {
  for (size_t i = 0; i < s->value_count; i++) {
    /* NAMES_FOR_VALUES names every value or none. */
    if (!s->names[i]) return CQLMUX_ERR_INVALID_ARGUMENT;
    names[i] = text_slice(s->names[i], strlen(s->names[i]));
  }
  p->names = names;
  return CQLMUX_OK;
}

/* values: the caller's array of value_count entries, filled here (the
 * statement itself is only read, so two threads may encode it at once). */
static void fill_params(const cqlmux_statement *s, uint8_t version, cqlmux_bytes *values,
                        cqlmux_query_params *p) {
  memset(p, 0, sizeof *p);
  p->consistency = s->consistency;
  for (size_t i = 0; i < s->value_count; i++) {
    const cqlmux_value_slot *slot = &s->values[i];
    values[i].len = slot->len;
    values[i].data = slot->len >= 0 ? cqlmux_value_slot_bytes(slot) : NULL;
  }
  p->values = values;
  p->value_count = (uint16_t)s->value_count;
  p->has_page_size = s->page_size > 0;
  p->page_size = s->page_size;
  p->has_paging_state = s->paging_state != NULL;
  p->paging_state = (cqlmux_slice){s->paging_state, s->paging_state_len};
  p->has_serial_consistency = s->has_serial_consistency;
  p->serial_consistency = s->serial_consistency;
  p->has_timestamp = s->has_timestamp;
  p->timestamp = s->timestamp;
  p->has_keyspace = s->keyspace != NULL && version >= 5;
  if (p->has_keyspace) p->keyspace = text_slice(s->keyspace, strlen(s->keyspace));
}

int cqlmux_statement_params(const cqlmux_statement *s, uint8_t version, cqlmux_bytes *values,
                            cqlmux_slice *names, cqlmux_query_params *p) {
  fill_params(s, version, values, p);
  /* The columns come from the prepared statement (api/prepared.h). */
  p->skip_metadata = s->prepared && s->prepared->result_meta;
  return s->names ? fill_names(s, names, p) : CQLMUX_OK;
}

static int encode_request(const cqlmux_statement *s, const cqlmux_query_params *params,
                          cqlmux_wbuf *out, const cqlmux_request_header *h) {
  if (!s->prepared) return cqlmux_request_query(out, h, text_slice(s->cql, s->cql_len), params);
  const cqlmux_prepared *p = s->prepared;
  cqlmux_slice id = {p->id, p->id_len};
  cqlmux_slice meta;
  cqlmux_prepared_metadata_id(p, &meta); /* current after an ALTER (v5) */
  return cqlmux_request_execute(out, h, id, meta, params);
}

int cqlmux_statement_encode(const cqlmux_statement *s, cqlmux_wbuf *out, uint8_t version,
                            bool compress, const cqlmux_timestamp_source *stamps) {
  cqlmux_request_header h = {.version = version, .stream = 0, .compress = compress};
  cqlmux_request_extras_apply(&s->extras, &h);
  /* Most statements have few values: those (and their names) fit on the
   * stack; more take one block for both. */
  cqlmux_bytes local[64];
  cqlmux_slice local_names[64];
  cqlmux_bytes *values = local;
  cqlmux_slice *names = local_names;
  if (s->value_count > sizeof local / sizeof local[0]) {
    values = cqlmux_mem_malloc(STATEMENT_ALLOC, s->value_count * (sizeof *values + sizeof *names));
    if (!values) return CQLMUX_ERR_NOMEM;
    names = (cqlmux_slice *)(values + s->value_count);
  }
  cqlmux_query_params params;
  int rc = cqlmux_statement_params(s, version, values, names, &params);
  cqlmux_timestamp_source_fill(stamps, &params.has_timestamp, &params.timestamp);
  if (rc == CQLMUX_OK) rc = encode_request(s, &params, out, &h);
  if (values != local) cqlmux_mem_free(STATEMENT_ALLOC, values);
  return rc;
}

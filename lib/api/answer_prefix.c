#include "api/answer_prefix.h"

#include <string.h>

#include "api/call.h"
#include "cqlmux.h"

void cqlmux_answer_prefix_log_warnings(const cqlmux_body_prefix *p, const cqlmux_logger *log,
                                       const char *host) {
  cqlmux_reader items = p->warnings.items;
  for (uint16_t i = 0; i < p->warnings.count; i++) {
    cqlmux_slice text;
    if (cqlmux_read_string(&items, &text) != CQLMUX_OK) return; /* checked when parsed */
    cqlmux_log(log, CQLMUX_LOG_WARN, "server warning from %s: %.*s", host, (int)text.len,
               (const char *)text.data);
  }
}

/* The prefix of a completed request's answer, or NULL (none, or no answer). */
static const cqlmux_body_prefix *prefix_of(const cqlmux_future *f) {
  const cqlmux_call *call = f ? cqlmux_future_call(f) : NULL;
  return call ? call->result.prefix : NULL;
}

/* The items of the answer's warnings (or custom payload, `payload`), from
 * the index-th on. NOT_READY, INVALID_ARGUMENT (NULL, index out of range)
 * or OK. */
static int items_from(const cqlmux_future *f, size_t index, bool payload, cqlmux_reader *out) {
  if (!f) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (!cqlmux_future_ready(f)) return CQLMUX_ERR_NOT_READY;
  const cqlmux_body_prefix *p = prefix_of(f);
  const cqlmux_list_view *list = !p ? NULL : payload ? &p->custom_payload : &p->warnings;
  if (!list || index >= list->count) return CQLMUX_ERR_INVALID_ARGUMENT;
  *out = list->items;
  /* The list was checked whole when the answer was parsed. */
  for (size_t i = 0; i < index; i++) {
    cqlmux_slice skip;
    cqlmux_bytes value;
    cqlmux_read_string(out, &skip);
    if (payload) cqlmux_read_bytes(out, &value);
  }
  return CQLMUX_OK;
}

size_t cqlmux_future_warning_count(const cqlmux_future *f) {
  const cqlmux_body_prefix *p = prefix_of(f);
  return p ? p->warnings.count : 0;
}

int cqlmux_future_warning(const cqlmux_future *f, size_t index, const char **text,
                          size_t *length) {
  cqlmux_reader items;
  int rc = items_from(f, index, false, &items);
  if (rc != CQLMUX_OK) return rc;
  cqlmux_slice s = {NULL, 0};
  cqlmux_read_string(&items, &s);
  if (text) *text = (const char *)s.data;
  if (length) *length = s.len;
  return CQLMUX_OK;
}

size_t cqlmux_future_custom_payload_count(const cqlmux_future *f) {
  const cqlmux_body_prefix *p = prefix_of(f);
  return p ? p->custom_payload.count : 0;
}

int cqlmux_future_custom_payload_entry(const cqlmux_future *f, size_t index, const char **name,
                                       size_t *name_length, const uint8_t **value,
                                       int32_t *value_length) {
  cqlmux_reader items;
  int rc = items_from(f, index, true, &items);
  if (rc != CQLMUX_OK) return rc;
  cqlmux_slice key = {NULL, 0};
  cqlmux_bytes v = {NULL, -1};
  cqlmux_read_string(&items, &key);
  cqlmux_read_bytes(&items, &v);
  if (name) *name = (const char *)key.data;
  if (name_length) *name_length = key.len;
  if (value) *value = v.len < 0 ? NULL : v.data;
  if (value_length) *value_length = v.len < 0 ? -1 : v.len;
  return CQLMUX_OK;
}

int cqlmux_future_tracing_id(const cqlmux_future *f, uint8_t out[16]) {
  if (!f || !out) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (!cqlmux_future_ready(f)) return CQLMUX_ERR_NOT_READY;
  const cqlmux_body_prefix *p = prefix_of(f);
  if (!p || !p->tracing_id) return CQLMUX_ERR_NOT_FOUND;
  memcpy(out, p->tracing_id, 16);
  return CQLMUX_OK;
}

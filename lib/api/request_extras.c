#include "api/request_extras.h"

#include <stdio.h>
#include <string.h>

#include "cqlmux.h"
#include "proto/opcode.h"
#include "runtime/alloc.h"

/* Like statements and batches: no session, the C library's allocator. */
#define EXTRAS_ALLOC NULL

static int refuse(char *why, size_t cap, int error, const char *text) {
  if (why && cap) snprintf(why, cap, "%s", text);
  return error;
}

static int find_entry(const cqlmux_request_extras *x, const char *name, size_t n) {
  for (uint16_t i = 0; i < x->payload_count; i++)
    if (x->payload[i].key.len == n && memcmp(x->payload[i].key.data, name, n) == 0) return i;
  return -1;
}

/* One block: the name, then the value (never NUL-terminated on the wire). */
static int fill_entry(cqlmux_payload_entry *e, const char *name, size_t n, const void *value,
                      size_t length) {
  uint8_t *block = cqlmux_mem_malloc(EXTRAS_ALLOC, n + length + 1);
  if (!block) return CQLMUX_ERR_NOMEM;
  memcpy(block, name, n);
  if (length) memcpy(block + n, value, length);
  e->key = (cqlmux_slice){block, n};
  e->value = (cqlmux_bytes){block + n, (int32_t)length};
  return CQLMUX_OK;
}

int cqlmux_request_extras_add_payload(cqlmux_request_extras *x, const char *name,
                                      const void *value, size_t length, char *why, size_t cap) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > UINT16_MAX)
    return refuse(why, cap, CQLMUX_ERR_INVALID_ARGUMENT,
                  "a custom payload name must have 1 to 65535 bytes");
  if ((!value && length) || length > INT32_MAX)
    return refuse(why, cap, CQLMUX_ERR_INVALID_ARGUMENT,
                  "a custom payload value must be 0 to 2147483647 bytes (NULL only when empty)");
  int at = find_entry(x, name, n);
  if (at < 0 && x->payload_count == CQLMUX_CUSTOM_PAYLOAD_MAX_ENTRIES)
    return refuse(why, cap, CQLMUX_ERR_BUFFER_TOO_SMALL,
                  "the custom payload already has its maximum number of entries");
  if (at < 0 && !x->payload) {
    x->payload = cqlmux_mem_calloc(EXTRAS_ALLOC, CQLMUX_CUSTOM_PAYLOAD_MAX_ENTRIES,
                                   sizeof *x->payload);
    if (!x->payload) return refuse(why, cap, CQLMUX_ERR_NOMEM, "no memory for the payload");
  }
  cqlmux_payload_entry e;
  if (fill_entry(&e, name, n, value, length) != CQLMUX_OK)
    return refuse(why, cap, CQLMUX_ERR_NOMEM, "no memory for the payload entry");
  if (at >= 0) {
    cqlmux_mem_free(EXTRAS_ALLOC, (void *)x->payload[at].key.data);
    x->payload[at] = e;
  } else {
    x->payload[x->payload_count++] = e;
  }
  return CQLMUX_OK;
}

void cqlmux_request_extras_apply(const cqlmux_request_extras *x, cqlmux_request_header *h) {
  if (x->tracing) h->flags |= CQLMUX_FLAG_TRACING;
  h->custom_payload = x->payload;
  h->custom_payload_count = x->payload_count;
}

void cqlmux_request_extras_free(cqlmux_request_extras *x) {
  for (uint16_t i = 0; i < x->payload_count; i++)
    cqlmux_mem_free(EXTRAS_ALLOC, (void *)x->payload[i].key.data);
  cqlmux_mem_free(EXTRAS_ALLOC, x->payload);
  x->payload = NULL;
  x->payload_count = 0;
}

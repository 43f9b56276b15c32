/* libFuzzer harness: every response body decoder (RESULT above all), v4 and
 * v5. Input: one mode byte (bit 0: version 4 or 5; bits 1-2: the arena
 * starts with no buffer, 64 bytes or 4 KiB), one opcode byte, then the body.
 *
 * Checks beyond "no crash": failures are TRUNCATED or MALFORMED only; every
 * decoded slice lies inside the body; every list walks exactly its count;
 * cells validate or fail cleanly against their column types; and a decoded
 * response re-encodes to bytes that decode and re-encode to themselves. */
#include <stddef.h>
#include <stdint.h>

#include "proto/response.h"
#include "proto/values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *body_lo, *body_hi;

static void check(int ok) {
  if (!ok) __builtin_trap();
}

static void check_in_body(const void *p, size_t n) {
  const uint8_t *q = p;
  check(n == 0 || (q >= body_lo && q <= body_hi && n <= (size_t)(body_hi - q)));
}

static void walk_strings(const cqlmux_string_list *l) {
  cqlmux_reader r = cqlmux_reader_make(l->raw.data, l->raw.len);
  cqlmux_slice s;
  for (uint16_t i = 0; i < l->count; i++) {
    check(cqlmux_string_list_next(&r, &s) == 1);
    check_in_body(s.data, s.len);
  }
  check(cqlmux_string_list_next(&r, &s) == 0);
}

static void walk_error(const cqlmux_error_body *e) {
  check_in_body(e->message.data, e->message.len);
  walk_strings(&e->arg_types);
  cqlmux_reader r = cqlmux_reader_make(e->reasons.raw.data, e->reasons.raw.len);
  cqlmux_failure_reason fr;
  for (int32_t i = 0; i < e->reasons.count; i++) check(cqlmux_reason_map_next(&r, &fr) == 1);
  check(cqlmux_reason_map_next(&r, &fr) == 0);
}

static void walk_supported(const cqlmux_supported *s) {
  cqlmux_reader r = cqlmux_reader_make(s->raw.data, s->raw.len);
  cqlmux_supported_entry e;
  for (uint16_t i = 0; i < s->count; i++) {
    check(cqlmux_supported_next(&r, &e) == 1);
    walk_strings(&e.values);
  }
  check(cqlmux_supported_next(&r, &e) == 0);
}

static void walk_rows(const cqlmux_rows *rows) {
  size_t cols = (size_t)rows->meta.columns_count;
  size_t n = (size_t)rows->rows_count * cols;
  check_in_body(rows->content, rows->content_len);
  for (size_t i = 0; i < n; i++) {
    cqlmux_bytes c = cqlmux_rows_cell_at(rows, i);
    check(c.len >= CQLMUX_VALUE_NULL);
    if (c.len > 0) check_in_body(c.data, (size_t)c.len);
    if (rows->meta.columns) {
      int rc = cqlmux_value_validate(rows->meta.columns[i % cols].type, c);
      check(rc == CQLMUX_OK || rc == CQLMUX_ERR_TRUNCATED || rc == CQLMUX_ERR_MALFORMED);
    }
  }
}

static void walk(const cqlmux_response *r) {
  switch (r->opcode) {
  case CQLMUX_OP_ERROR: walk_error(&r->error); break;
  case CQLMUX_OP_SUPPORTED: walk_supported(&r->supported); break;
  case CQLMUX_OP_EVENT: walk_strings(&r->event.schema.arg_types); break;
  case CQLMUX_OP_RESULT:
    if (r->result.kind == CQLMUX_RESULT_ROWS) walk_rows(&r->result.rows);
    if (r->result.kind == CQLMUX_RESULT_SCHEMA_CHANGE) walk_strings(&r->result.schema_change.arg_types);
    if (r->result.kind == CQLMUX_RESULT_PREPARED)
      for (int32_t i = 0; i < r->result.prepared.pk_count; i++)
        check(cqlmux_prepared_pk_index(&r->result.prepared, i) < r->result.prepared.bind_count);
    break;
  default: break;
  }
}

/* decode(encode(r)) re-encodes to the same bytes. */
static void check_reencode(int version, const cqlmux_response *r, cqlmux_arena *a) {
  cqlmux_wbuf b1, b2;
  cqlmux_wbuf_init(&b1, NULL, 0);
  cqlmux_wbuf_init(&b2, NULL, 0);
  cqlmux_response_encode(&b1, version, r);
  if (!b1.error) {
    cqlmux_response back;
    check(cqlmux_response_decode(version, r->opcode, b1.data, b1.len, a, &back) == CQLMUX_OK);
    cqlmux_response_encode(&b2, version, &back);
    check(!b2.error && b2.len == b1.len);
    for (size_t i = 0; i < b1.len; i++) check(b1.data[i] == b2.data[i]);
  }
  cqlmux_wbuf_free(&b1);
  cqlmux_wbuf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned char buf[4096];
  static const size_t caps[4] = {0, 64, sizeof buf, 0};
  if (size < 2) return 0;
  int version = 4 + (data[0] & 1);
  size_t cap = caps[(data[0] >> 1) & 3];
  uint8_t opcode = (uint8_t)(data[1] % 0x11);
  body_lo = data + 2;
  body_hi = data + size;
  cqlmux_arena a;
  cqlmux_arena_init(&a, NULL, cap ? buf : NULL, cap);
  cqlmux_response r;
  int rc = cqlmux_response_decode(version, opcode, data + 2, size - 2, &a, &r);
  check(rc == CQLMUX_OK || rc == CQLMUX_ERR_TRUNCATED || rc == CQLMUX_ERR_MALFORMED);
  if (rc == CQLMUX_OK) {
    walk(&r);
    check_reencode(version, &r, &a);
  } else {
    check(cqlmux_arena_mark(&a) == 0);
  }
  cqlmux_arena_free(&a);
  return 0;
}

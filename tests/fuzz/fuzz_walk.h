/* Shared by the codec's fuzz harnesses: takes a decoded envelope through
 * everything that reads a body (v4 LZ4, the body prefix, the request
 * decoders) and walks every view they return. The views promise that walking
 * them cannot fail; a broken promise traps, which libFuzzer reports. */
#ifndef CQLMUX_FUZZ_WALK_H
#define CQLMUX_FUZZ_WALK_H

#include "proto/envelope.h"
#include "proto/request_decode.h"

/* Limit for bodies and decompressed sizes: big enough for the seeds, small
 * enough that a lying length costs no real memory. */
#define FUZZ_MAX_BODY (1u << 20)

static void fuzz_check(int ok) {
  if (!ok) __builtin_trap();
}

static void fuzz_walk_list(cqlmux_list_view v, int fields, int bytes_second) {
  for (uint16_t i = 0; i < v.count; i++) {
    cqlmux_slice s;
    cqlmux_bytes b;
    fuzz_check(cqlmux_read_string(&v.items, &s) == 0);
    if (fields == 2 && bytes_second) fuzz_check(cqlmux_read_bytes(&v.items, &b) == 0);
    if (fields == 2 && !bytes_second) fuzz_check(cqlmux_read_string(&v.items, &s) == 0);
  }
  fuzz_check(cqlmux_reader_remaining(&v.items) == 0);
}

static void fuzz_walk_values(cqlmux_values_view v) {
  cqlmux_slice name;
  cqlmux_bytes value;
  for (uint16_t i = 0; i < v.count; i++) {
    fuzz_check(cqlmux_values_next(&v, &name, &value));
    fuzz_check(value.len >= CQLMUX_VALUE_NOT_SET);
  }
  fuzz_check(!cqlmux_values_next(&v, &name, &value));
}

static void fuzz_walk_request(const cqlmux_request_view *v) {
  cqlmux_batch_view b;
  cqlmux_batch_statement_view s;
  switch (v->header.opcode) {
    case CQLMUX_OP_STARTUP:
      fuzz_walk_list(v->u.startup, 2, 0);
      break;
    case CQLMUX_OP_REGISTER:
      fuzz_walk_list(v->u.events, 1, 0);
      break;
    case CQLMUX_OP_QUERY:
      fuzz_walk_values(v->u.query.params.values);
      break;
    case CQLMUX_OP_EXECUTE:
      fuzz_walk_values(v->u.execute.params.values);
      break;
    case CQLMUX_OP_BATCH:
      b = v->u.batch;
      for (uint16_t i = 0; i < b.count; i++) {
        fuzz_check(cqlmux_batch_next(&b, &s));
        fuzz_walk_values(s.values);
      }
      fuzz_check(!cqlmux_batch_next(&b, &s));
      break;
    default:
      break;
  }
}

static void fuzz_walk_envelope(const cqlmux_envelope *env, cqlmux_wbuf *scratch) {
  cqlmux_envelope plain;
  if (cqlmux_envelope_decompress_v4(env, scratch, FUZZ_MAX_BODY, &plain)) return;
  fuzz_check(plain.header.length <= FUZZ_MAX_BODY);
  cqlmux_body_prefix p;
  cqlmux_reader rest;
  if (cqlmux_envelope_body_prefix(&plain, &p, &rest) == 0) {
    fuzz_walk_list(p.warnings, 1, 0);
    fuzz_walk_list(p.custom_payload, 2, 1);
    fuzz_check(rest.end == plain.body + plain.header.length);
  }
  if (plain.header.response) return;
  cqlmux_request_view v;
  if (cqlmux_request_decode(&plain, &v) == 0) {
    fuzz_check(v.trailing <= plain.header.length);
    fuzz_walk_request(&v);
  }
}

#endif

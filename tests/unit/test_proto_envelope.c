/* Envelope header, body prefix and v4 per-envelope LZ4. */
#include <criterion/criterion.h>
#include <lz4.h>
#include <string.h>

#include "proto/envelope.h"

static cqlmux_wbuf buf;

static void setup(void) { cqlmux_wbuf_init(&buf, NULL, 0); }
static void teardown(void) { cqlmux_wbuf_free(&buf); }

TestSuite(proto_envelope, .init = setup, .fini = teardown);

Test(proto_envelope, header_bytes_match_the_spec_layout) {
  cqlmux_envelope_header h = {.version = 4, .flags = CQLMUX_FLAG_TRACING, .stream = 0x0102,
                              .opcode = CQLMUX_OP_QUERY, .length = 5};
  uint8_t out[9];
  cqlmux_envelope_header_store(out, &h);
  const uint8_t want[] = {0x04, 0x02, 0x01, 0x02, 0x07, 0x00, 0x00, 0x00, 0x05};
  cr_assert_arr_eq(out, want, 9);

  h.response = true;
  h.version = 5;
  h.stream = -1;
  h.opcode = CQLMUX_OP_EVENT;
  cqlmux_envelope_header_store(out, &h);
  const uint8_t want_event[] = {0x85, 0x02, 0xFF, 0xFF, 0x0C, 0x00, 0x00, 0x00, 0x05};
  cr_assert_arr_eq(out, want_event, 9);

  cqlmux_envelope_header got;
  cr_assert_eq(cqlmux_envelope_header_parse(out, 9, CQLMUX_DIR_RESPONSE, 100, &got), 0);
  cr_assert_eq(got.version, 5);
  cr_assert(got.response);
  cr_assert_eq(got.stream, -1);
  cr_assert_eq(got.opcode, CQLMUX_OP_EVENT);
  cr_assert_eq(got.flags, CQLMUX_FLAG_TRACING);
  cr_assert_eq(got.length, 5);
}

static int parse(const uint8_t *p, cqlmux_direction dir, uint32_t max) {
  cqlmux_envelope_header h;
  memset(&h, 0x5A, sizeof h);
  int rc = cqlmux_envelope_header_parse(p, 9, dir, max, &h);
  if (rc) cr_assert_eq(h.version, 0x5A, "out untouched on failure");
  return rc;
}

Test(proto_envelope, header_checks) {
  uint8_t h[9] = {0x84, 0, 0, 1, CQLMUX_OP_RESULT, 0, 0, 0x10, 0x00};
  cr_assert_eq(parse(h, CQLMUX_DIR_RESPONSE, 4096), 0);
  cr_assert_eq(parse(h, CQLMUX_DIR_RESPONSE, 4095), CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(parse(h, CQLMUX_DIR_REQUEST, 4096), CQLMUX_ERR_MALFORMED, "direction bit");
  h[0] = 0x83;
  cr_assert_eq(parse(h, CQLMUX_DIR_RESPONSE, 4096), 0, "v3 answers are readable");
  h[0] = 0x82;
  cr_assert_eq(parse(h, CQLMUX_DIR_RESPONSE, 4096), CQLMUX_ERR_UNSUPPORTED_VERSION);
  h[0] = 0x86;
  cr_assert_eq(parse(h, CQLMUX_DIR_RESPONSE, 4096), CQLMUX_ERR_UNSUPPORTED_VERSION);
  h[0] = 0x85;
  h[4] = 0x04;
  cr_assert_eq(parse(h, CQLMUX_DIR_RESPONSE, 4096), CQLMUX_ERR_MALFORMED, "no opcode 4");
  h[4] = 0x11;
  cr_assert_eq(parse(h, CQLMUX_DIR_RESPONSE, 4096), CQLMUX_ERR_MALFORMED);
  h[4] = CQLMUX_OP_QUERY;
  cr_assert_eq(parse(h, CQLMUX_DIR_RESPONSE, 4096), CQLMUX_ERR_MALFORMED, "servers send no QUERY");
  h[0] = 0x05;
  cr_assert_eq(parse(h, CQLMUX_DIR_REQUEST, 4096), 0);
  h[4] = CQLMUX_OP_RESULT;
  cr_assert_eq(parse(h, CQLMUX_DIR_REQUEST, 4096), CQLMUX_ERR_MALFORMED);
  /* A 4 GiB length is capped by the spec's 256 MB even with a larger limit. */
  uint8_t big[9] = {0x84, 0, 0, 1, CQLMUX_OP_RESULT, 0xFF, 0xFF, 0xFF, 0xFF};
  cr_assert_eq(parse(big, CQLMUX_DIR_RESPONSE, UINT32_MAX), CQLMUX_ERR_OVERSIZED);
}

Test(proto_envelope, every_opcode_belongs_to_one_side) {
  for (int op = 0; op < 256; op++) {
    bool req = cqlmux_opcode_valid((uint8_t)op, CQLMUX_DIR_REQUEST);
    bool resp = cqlmux_opcode_valid((uint8_t)op, CQLMUX_DIR_RESPONSE);
    bool known = op <= 0x10 && op != 0x04;
    cr_assert_eq(req || resp, known, "opcode %d", op);
    cr_assert(!(req && resp), "opcode %d on both sides", op);
  }
}

Test(proto_envelope, decode_waits_for_the_whole_envelope) {
  const uint8_t env[] = {0x84, 0, 0, 7, CQLMUX_OP_READY, 0, 0, 0, 2, 0xAA, 0xBB, 0xCC};
  for (size_t n = 0; n < 11; n++) {
    cqlmux_envelope e;
    cr_assert_eq(cqlmux_envelope_decode(env, n, CQLMUX_DIR_RESPONSE, 100, &e), 0, "prefix %zu", n);
  }
  cqlmux_envelope e;
  cr_assert_eq(cqlmux_envelope_decode(env, sizeof env, CQLMUX_DIR_RESPONSE, 100, &e), 11);
  cr_assert_eq(e.body, env + 9);
  cr_assert_eq(e.header.stream, 7);
  /* A bad header fails without waiting for its body. */
  cr_assert_eq(cqlmux_envelope_decode(env, 9, CQLMUX_DIR_RESPONSE, 1, &e), CQLMUX_ERR_OVERSIZED);
}

/* ------------------------------------------------------------ body prefix */

static const uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* A RESULT Void with every prefix element. */
static size_t build_full_response(uint8_t flags) {
  cqlmux_envelope_header h = {.version = 5, .flags = flags, .stream = 3,
                              .opcode = CQLMUX_OP_RESULT, .response = true};
  size_t at = cqlmux_envelope_begin(&buf, &h);
  if (flags & CQLMUX_FLAG_TRACING) cqlmux_write_uuid(&buf, uuid);
  if (flags & CQLMUX_FLAG_WARNING) {
    cqlmux_write_u16(&buf, 2);
    cqlmux_write_string(&buf, "w1", 2);
    cqlmux_write_string(&buf, "w22", 3);
  }
  if (flags & CQLMUX_FLAG_CUSTOM_PAYLOAD) {
    cqlmux_write_u16(&buf, 1);
    cqlmux_write_string(&buf, "k", 1);
    cqlmux_write_bytes(&buf, (cqlmux_bytes){(const uint8_t *)"vv", 2});
  }
  cqlmux_write_i32(&buf, 1); /* kind Void */
  cr_assert_eq(cqlmux_envelope_finish(&buf, at), 0);
  return at;
}

Test(proto_envelope, response_prefix_in_spec_order) {
  build_full_response(CQLMUX_FLAG_TRACING | CQLMUX_FLAG_WARNING | CQLMUX_FLAG_CUSTOM_PAYLOAD);
  cqlmux_envelope e;
  cr_assert_eq(cqlmux_envelope_decode(buf.data, buf.len, CQLMUX_DIR_RESPONSE, 1000, &e),
               (int)buf.len);
  cqlmux_body_prefix p;
  cqlmux_reader rest;
  cr_assert_eq(cqlmux_envelope_body_prefix(&e, &p, &rest), 0);
  cr_assert_arr_eq(p.tracing_id, uuid, 16);
  cr_assert_eq(p.warnings.count, 2);
  cqlmux_slice s;
  cr_assert_eq(cqlmux_read_string(&p.warnings.items, &s), 0);
  cr_assert_eq(memcmp(s.data, "w1", 2), 0);
  cr_assert_eq(p.custom_payload.count, 1);
  int32_t kind;
  cr_assert_eq(cqlmux_read_i32(&rest, &kind), 0);
  cr_assert_eq(kind, 1);
  cr_assert_eq(cqlmux_reader_remaining(&rest), 0);
}

/* raw spans the prefix exactly (body start to the message), and a prefix
 * moved onto a copy of raw reads the same from the copy, with the original
 * bytes gone. */
Test(proto_envelope, a_prefix_moved_onto_a_copy_of_its_bytes_reads_the_same) {
  build_full_response(CQLMUX_FLAG_TRACING | CQLMUX_FLAG_WARNING | CQLMUX_FLAG_CUSTOM_PAYLOAD);
  cqlmux_envelope e;
  cqlmux_envelope_decode(buf.data, buf.len, CQLMUX_DIR_RESPONSE, 1000, &e);
  cqlmux_body_prefix p;
  cqlmux_reader rest;
  cr_assert_eq(cqlmux_envelope_body_prefix(&e, &p, &rest), 0);
  cr_assert_eq(p.raw.data, e.body);
  cr_assert_eq(p.raw.len, (size_t)(rest.pos - e.body));
  cr_assert_eq(p.raw.len, 16 + (2 + 4 + 5) + (2 + 3 + 6));
  uint8_t copy[64];
  memcpy(copy, p.raw.data, p.raw.len);
  cqlmux_body_prefix_move(&p, copy);
  memset(buf.data, 0xEE, buf.len);
  cr_assert_eq(p.raw.data, copy);
  cr_assert_arr_eq(p.tracing_id, uuid, 16);
  cqlmux_slice s;
  cr_assert_eq(cqlmux_read_string(&p.warnings.items, &s), 0);
  cr_assert_eq(cqlmux_read_string(&p.warnings.items, &s), 0);
  cr_assert_eq(s.len, 3);
  cr_assert_eq(memcmp(s.data, "w22", 3), 0);
  cr_assert_eq(cqlmux_reader_remaining(&p.warnings.items), 0);
  cqlmux_bytes v;
  cr_assert_eq(cqlmux_read_string(&p.custom_payload.items, &s), 0);
  cr_assert_eq(cqlmux_read_bytes(&p.custom_payload.items, &v), 0);
  cr_assert_eq(v.len, 2);
  cr_assert_eq(memcmp(v.data, "vv", 2), 0);
}

Test(proto_envelope, prefix_elements_absent_without_their_flags) {
  build_full_response(CQLMUX_FLAG_WARNING);
  cqlmux_envelope e;
  cqlmux_envelope_decode(buf.data, buf.len, CQLMUX_DIR_RESPONSE, 1000, &e);
  cqlmux_body_prefix p;
  cqlmux_reader rest;
  cr_assert_eq(cqlmux_envelope_body_prefix(&e, &p, &rest), 0);
  cr_assert_null(p.tracing_id);
  cr_assert_eq(p.warnings.count, 2);
  cr_assert_eq(p.custom_payload.count, 0);
  cr_assert_eq(cqlmux_reader_remaining(&rest), 4);
}

Test(proto_envelope, request_tracing_flag_adds_no_uuid) {
  cqlmux_envelope_header h = {.version = 4,
                              .flags = CQLMUX_FLAG_TRACING | CQLMUX_FLAG_CUSTOM_PAYLOAD,
                              .opcode = CQLMUX_OP_QUERY};
  size_t at = cqlmux_envelope_begin(&buf, &h);
  cqlmux_write_u16(&buf, 0);
  cqlmux_write_long_string(&buf, "q", 1);
  cqlmux_envelope_finish(&buf, at);
  cqlmux_envelope e;
  cr_assert_gt(cqlmux_envelope_decode(buf.data, buf.len, CQLMUX_DIR_REQUEST, 1000, &e), 0);
  cqlmux_body_prefix p;
  cqlmux_reader rest;
  cr_assert_eq(cqlmux_envelope_body_prefix(&e, &p, &rest), 0);
  cr_assert_null(p.tracing_id);
  cr_assert_eq(cqlmux_reader_remaining(&rest), 5);
}

Test(proto_envelope, every_truncated_prefix_is_rejected) {
  uint8_t flags = CQLMUX_FLAG_TRACING | CQLMUX_FLAG_WARNING | CQLMUX_FLAG_CUSTOM_PAYLOAD;
  build_full_response(flags);
  size_t prefix_len = buf.len - 9 - 4;
  for (size_t n = 0; n < prefix_len; n++) {
    cqlmux_envelope e = {.header = {.version = 5, .flags = flags, .response = true,
                                    .opcode = CQLMUX_OP_RESULT, .length = (uint32_t)n},
                         .body = buf.data + 9};
    cqlmux_body_prefix p;
    cqlmux_reader rest;
    cr_assert_eq(cqlmux_envelope_body_prefix(&e, &p, &rest), CQLMUX_ERR_TRUNCATED, "len %zu", n);
  }
}

/* ------------------------------------------------------------- v4 LZ4 */

static size_t build_v4_result(size_t body_len, uint8_t fill_mod) {
  cqlmux_envelope_header h = {.version = 4, .stream = 9, .opcode = CQLMUX_OP_RESULT,
                              .response = true};
  size_t at = cqlmux_envelope_begin(&buf, &h);
  uint8_t *p = cqlmux_wbuf_reserve(&buf, body_len);
  for (size_t i = 0; i < body_len; i++) p[i] = (uint8_t)(i % fill_mod);
  cr_assert_eq(cqlmux_envelope_finish(&buf, at), 0);
  return at;
}

Test(proto_envelope, lz4_v4_round_trip) {
  cqlmux_write_raw(&buf, "prefix", 6); /* another envelope already in the buffer */
  size_t at = build_v4_result(10000, 7);
  cr_assert_eq(cqlmux_envelope_compress_v4(&buf, at), 0);
  cr_assert(buf.data[at + 1] & CQLMUX_FLAG_COMPRESSION);
  cr_assert_lt(buf.len - at, 1000, "a repetitive body shrinks");
  cr_assert_eq(memcmp(buf.data, "prefix", 6), 0);
  cr_assert_eq(cqlmux_load_u32(buf.data + at + 9), 10000, "4-byte BE uncompressed length");

  cqlmux_envelope e, plain;
  cr_assert_eq(cqlmux_envelope_decode(buf.data + at, buf.len - at, CQLMUX_DIR_RESPONSE, 1 << 20, &e),
               (int)(buf.len - at));
  cqlmux_wbuf scratch;
  cqlmux_wbuf_init(&scratch, NULL, 0);
  cr_assert_eq(cqlmux_envelope_decompress_v4(&e, &scratch, 1 << 20, &plain), 0);
  cr_assert_eq(plain.header.length, 10000);
  cr_assert_eq(plain.header.flags & CQLMUX_FLAG_COMPRESSION, 0);
  for (size_t i = 0; i < 10000; i++) cr_assert_eq(plain.body[i], i % 7);
  cr_assert_eq(cqlmux_envelope_decompress_v4(&e, &scratch, 9999, &plain), CQLMUX_ERR_OVERSIZED);
  cqlmux_wbuf_free(&scratch);
}

Test(proto_envelope, lz4_v4_skips_bodies_it_cannot_shrink) {
  size_t at = build_v4_result(3, 255);
  size_t before = buf.len;
  cr_assert_eq(cqlmux_envelope_compress_v4(&buf, at), 0);
  cr_assert_eq(buf.len, before);
  cr_assert_eq(buf.data[at + 1] & CQLMUX_FLAG_COMPRESSION, 0);
}

Test(proto_envelope, lz4_refused_on_v5_and_ignored_there) {
  cqlmux_envelope_header h = {.version = 5, .opcode = CQLMUX_OP_RESULT, .response = true};
  size_t at = cqlmux_envelope_begin(&buf, &h);
  cqlmux_write_i32(&buf, 1);
  cqlmux_envelope_finish(&buf, at);
  cr_assert_eq(cqlmux_envelope_compress_v4(&buf, at), CQLMUX_ERR_INVALID_ARGUMENT);

  buf.data[at + 1] = CQLMUX_FLAG_COMPRESSION; /* deprecated and ignored in v5 */
  cqlmux_envelope e, out;
  cqlmux_envelope_decode(buf.data, buf.len, CQLMUX_DIR_RESPONSE, 100, &e);
  cqlmux_wbuf scratch;
  cqlmux_wbuf_init(&scratch, NULL, 0);
  cr_assert_eq(cqlmux_envelope_decompress_v4(&e, &scratch, 100, &out), 0);
  cr_assert_eq(out.body, e.body);
  cqlmux_wbuf_free(&scratch);
}

static int decompress_body(const uint8_t *body, uint32_t len, uint32_t max) {
  cqlmux_envelope e = {.header = {.version = 4, .flags = CQLMUX_FLAG_COMPRESSION,
                                  .opcode = CQLMUX_OP_RESULT, .response = true, .length = len},
                       .body = body};
  cqlmux_envelope out;
  cqlmux_wbuf scratch;
  cqlmux_wbuf_init(&scratch, NULL, 0);
  int rc = cqlmux_envelope_decompress_v4(&e, &scratch, max, &out);
  cqlmux_wbuf_free(&scratch);
  return rc;
}

Test(proto_envelope, lz4_v4_bad_input) {
  const uint8_t short_body[] = {0, 0, 1};
  cr_assert_eq(decompress_body(short_body, 3, 100), CQLMUX_ERR_TRUNCATED);
  /* Claims 1 MiB out of a 2-byte block: over LZ4's 255:1 ceiling. */
  const uint8_t liar[] = {0, 0x10, 0, 0, 0x10, 0x41};
  cr_assert_eq(decompress_body(liar, 6, 1u << 24), CQLMUX_ERR_COMPRESSION);
  /* A valid block whose output is shorter than declared. */
  uint8_t blk[64];
  int n = LZ4_compress_default("hello", (char *)blk + 4, 5, 60);
  cqlmux_store_u32(blk, 6);
  cr_assert_eq(decompress_body(blk, 4 + (uint32_t)n, 100), CQLMUX_ERR_COMPRESSION);
  cqlmux_store_u32(blk, 5);
  cr_assert_eq(decompress_body(blk, 4 + (uint32_t)n, 100), 0);
  for (int cut = 0; cut < 4 + n; cut++) {
    int rc = decompress_body(blk, (uint32_t)cut, 100);
    cr_assert(rc == CQLMUX_ERR_TRUNCATED || rc == CQLMUX_ERR_COMPRESSION, "cut %d: %d", cut, rc);
  }
}

Test(proto_envelope, finish_rejects_bodies_over_the_spec_cap) {
  cqlmux_envelope_header h = {.version = 4, .opcode = CQLMUX_OP_QUERY};
  size_t at = cqlmux_envelope_begin(&buf, &h);
  /* Pretend a huge body was written: finish looks only at the length and
   * fails before touching the bytes. */
  buf.len = at + 9 + CQLMUX_ENVELOPE_MAX_BODY + 1;
  cr_assert_eq(cqlmux_envelope_finish(&buf, at), CQLMUX_ERR_OVERSIZED);
  buf.len = 0;
}

Test(proto_envelope, response_begin_writes_the_prefix_it_flags) {
  const cqlmux_slice warnings[] = {{(const uint8_t *)"careful", 7}};
  const cqlmux_payload_entry pe[] = {{{(const uint8_t *)"k", 1}, {NULL, CQLMUX_VALUE_NULL}}};
  cqlmux_response_prefix pre = {.tracing_id = uuid, .warnings = warnings, .warning_count = 1,
                                .custom_payload = pe, .custom_payload_count = 1};
  size_t at = cqlmux_response_begin(&buf, 5, 12, CQLMUX_OP_READY, &pre);
  cr_assert_eq(at, 0);
  cr_assert_eq(cqlmux_envelope_finish(&buf, at), 0);
  cr_assert_eq(buf.data[0], 0x85);
  cr_assert_eq(buf.data[1],
               CQLMUX_FLAG_TRACING | CQLMUX_FLAG_WARNING | CQLMUX_FLAG_CUSTOM_PAYLOAD);
  cqlmux_envelope e;
  cr_assert_eq(cqlmux_envelope_decode(buf.data, buf.len, CQLMUX_DIR_RESPONSE, 100, &e),
               (int)buf.len);
  cqlmux_body_prefix p;
  cqlmux_reader rest;
  cr_assert_eq(cqlmux_envelope_body_prefix(&e, &p, &rest), 0);
  cr_assert_arr_eq(p.tracing_id, uuid, 16);
  cr_assert_eq(p.warnings.count, 1);
  cr_assert_eq(p.custom_payload.count, 1);
  cr_assert_eq(cqlmux_reader_remaining(&rest), 0);

  cqlmux_wbuf_reset(&buf);
  at = cqlmux_response_begin(&buf, 4, 0, CQLMUX_OP_READY, NULL);
  cr_assert_eq(cqlmux_envelope_finish(&buf, at), 0);
  const uint8_t ready[] = {0x84, 0, 0, 0, CQLMUX_OP_READY, 0, 0, 0, 0};
  cr_assert_eq(buf.len, 9);
  cr_assert_arr_eq(buf.data, ready, 9);

  cqlmux_wbuf_reset(&buf);
  const cqlmux_payload_entry bad[] = {{{(const uint8_t *)"k", 1}, {NULL, CQLMUX_VALUE_NOT_SET}}};
  cqlmux_response_prefix badp = {.custom_payload = bad, .custom_payload_count = 1};
  cr_assert_eq(cqlmux_response_begin(&buf, 5, 0, CQLMUX_OP_RESULT, &badp), SIZE_MAX);
  cr_assert_eq(buf.error, CQLMUX_ERR_INVALID_ARGUMENT);
}

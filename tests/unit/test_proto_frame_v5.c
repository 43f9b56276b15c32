/* v5 frames: byte-exact vectors, packing, splitting and joining, streaming
 * decode byte by byte, corruption and truncation. Vector bytes were computed
 * with Python (zlib.crc32 with Cassandra's seed, and the spec's CRC24). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include "proto/crc.h"
#include "proto/envelope.h"
#include "proto/frame_v5.h"
#include "proto/opcode.h"

/* The OPTIONS request envelope, v5, stream 1. */
static const uint8_t options_env[] = {0x05, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00};

/* It alone in a self-contained uncompressed frame. */
static const uint8_t options_frame[] = {0x09, 0x00, 0x02, 0xa4, 0xc8, 0xc1, 0x05,
                                        0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00,
                                        0x00, 0xb5, 0x55, 0x74, 0x86};

/* The same in an LZ4-format frame; 9 bytes do not shrink, so it is sent
 * as-is with uncompressed length 0. */
static const uint8_t options_lz4_frame[] = {0x09, 0x00, 0x00, 0x00, 0x04, 0xc2, 0xb8,
                                            0x95, 0x05, 0x00, 0x00, 0x01, 0x05, 0x00,
                                            0x00, 0x00, 0x00, 0xb5, 0x55, 0x74, 0x86};

static cqlmux_wbuf out;

static void setup(void) { cqlmux_wbuf_init(&out, NULL, 0); }
static void teardown(void) { cqlmux_wbuf_free(&out); }

TestSuite(proto_frame_v5, .init = setup, .fini = teardown);

Test(proto_frame_v5, uncompressed_frame_is_byte_exact) {
  cr_assert_eq(cqlmux_frame_v5_append(&out, false, true, options_env, sizeof options_env), 0);
  cr_assert_eq(out.len, sizeof options_frame);
  cr_assert_arr_eq(out.data, options_frame, sizeof options_frame);
}

Test(proto_frame_v5, lz4_frame_sent_as_is_is_byte_exact) {
  cr_assert_eq(cqlmux_frame_v5_append(&out, true, true, options_env, sizeof options_env), 0);
  cr_assert_eq(out.len, sizeof options_lz4_frame);
  cr_assert_arr_eq(out.data, options_lz4_frame, sizeof options_lz4_frame);
}

Test(proto_frame_v5, decoding_a_plain_frame_is_zero_copy) {
  cqlmux_frame_v5_decoder d;
  cqlmux_frame_v5_decoder_init(&d, false, 1 << 20, NULL);
  cqlmux_slice envs;
  int n = cqlmux_frame_v5_decode(&d, options_frame, sizeof options_frame, &envs);
  cr_assert_eq(n, (int)sizeof options_frame);
  cr_assert_eq(envs.data, options_frame + 6, "points into the input");
  cr_assert_eq(envs.len, sizeof options_env);
  cqlmux_envelope e;
  cr_assert_eq(cqlmux_envelope_decode(envs.data, envs.len, CQLMUX_DIR_REQUEST, 100, &e), 9);
  cr_assert_eq(e.header.opcode, CQLMUX_OP_OPTIONS);
  cr_assert_eq(e.header.stream, 1);
  cqlmux_frame_v5_decoder_free(&d);
}

Test(proto_frame_v5, every_prefix_of_a_frame_needs_more) {
  for (int lz4 = 0; lz4 < 2; lz4++) {
    const uint8_t *f = lz4 ? options_lz4_frame : options_frame;
    size_t len = lz4 ? sizeof options_lz4_frame : sizeof options_frame;
    cqlmux_frame_v5_decoder d;
    cqlmux_frame_v5_decoder_init(&d, lz4, 1 << 20, NULL);
    for (size_t n = 0; n < len; n++) {
      cqlmux_slice envs = {NULL, 12345};
      cr_assert_eq(cqlmux_frame_v5_decode(&d, f, n, &envs), 0, "lz4 %d prefix %zu", lz4, n);
      cr_assert_eq(envs.len, 12345, "untouched");
    }
    cqlmux_frame_v5_decoder_free(&d);
  }
}

Test(proto_frame_v5, every_bit_flip_is_caught) {
  for (int lz4 = 0; lz4 < 2; lz4++) {
    const uint8_t *f = lz4 ? options_lz4_frame : options_frame;
    size_t len = lz4 ? sizeof options_lz4_frame : sizeof options_frame;
    size_t header = lz4 ? 8 : 6;
    for (size_t bit = 0; bit < len * 8; bit++) {
      uint8_t c[32];
      memcpy(c, f, len);
      c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      /* Flipping a padding bit changes the CRC24 input, so it too is caught. */
      cqlmux_frame_v5_decoder d;
      cqlmux_frame_v5_decoder_init(&d, lz4, 1 << 20, NULL);
      cqlmux_slice envs;
      int rc = cqlmux_frame_v5_decode(&d, c, len, &envs);
      if (bit < header * 8)
        cr_assert(rc == CQLMUX_ERR_BAD_CRC || rc == 0, "lz4 %d bit %zu: %d", lz4, bit, rc);
      else
        cr_assert_eq(rc, CQLMUX_ERR_BAD_CRC, "lz4 %d bit %zu", lz4, bit);
      cqlmux_frame_v5_decoder_free(&d);
    }
  }
}

Test(proto_frame_v5, framing_switch_rule) {
  cr_assert_eq(cqlmux_framing_after_startup(5, CQLMUX_OP_READY, false), CQLMUX_FRAMING_V5);
  cr_assert_eq(cqlmux_framing_after_startup(5, CQLMUX_OP_AUTHENTICATE, true),
               CQLMUX_FRAMING_V5_LZ4);
  cr_assert_eq(cqlmux_framing_after_startup(5, CQLMUX_OP_ERROR, false), CQLMUX_FRAMING_NONE);
  cr_assert_eq(cqlmux_framing_after_startup(4, CQLMUX_OP_READY, true), CQLMUX_FRAMING_NONE);
}

/* ------------------------------------------------- writer and decoder */

/* Appends a v5 RESULT-shaped envelope whose body is `body_len` bytes of a
 * pattern seeded by `seed` (compressible when `seed` is even). */
static void put_envelope(cqlmux_wbuf *b, int16_t stream, size_t body_len, unsigned seed) {
  cqlmux_envelope_header h = {.version = 5, .stream = stream, .opcode = CQLMUX_OP_RESULT,
                              .response = true};
  size_t at = cqlmux_envelope_begin(b, &h);
  uint8_t *p = cqlmux_wbuf_reserve(b, body_len);
  unsigned x = seed | 1u;
  for (size_t i = 0; i < body_len; i++) {
    if (seed % 2) {
      x = x * 1103515245u + 12345u;
      p[i] = (uint8_t)(x >> 16);
    } else {
      p[i] = (uint8_t)((i / 64 + seed) & 0xFF);
    }
  }
  cr_assert_eq(cqlmux_envelope_finish(b, at), 0);
}

static void check_envelope(const cqlmux_envelope *e, int16_t stream, size_t body_len,
                           unsigned seed) {
  cqlmux_wbuf ref;
  cqlmux_wbuf_init(&ref, NULL, 0);
  put_envelope(&ref, stream, body_len, seed);
  cr_assert_eq(e->header.stream, stream);
  cr_assert_eq(e->header.length, body_len, "stream %d length", stream);
  cr_assert_eq(memcmp(e->body, ref.data + 9, body_len), 0, "stream %d body", stream);
  cqlmux_wbuf_free(&ref);
}

typedef struct spec {
  size_t body_len;
  unsigned seed;
} spec;

/* Writes the envelopes through a frame writer into `out`. */
static void write_all(bool lz4, const spec *s, size_t n) {
  cqlmux_frame_v5_writer w;
  cqlmux_frame_v5_writer_init(&w, &out, lz4, NULL);
  for (size_t i = 0; i < n; i++) {
    size_t at = cqlmux_frame_v5_writer_begin(&w);
    cr_assert_neq(at, SIZE_MAX);
    put_envelope(&out, (int16_t)i, s[i].body_len, s[i].seed);
    cr_assert_eq(cqlmux_frame_v5_writer_end(&w, at), 0);
  }
  cr_assert_eq(cqlmux_frame_v5_writer_flush(&w), 0);
  cqlmux_frame_v5_writer_free(&w);
}

typedef struct frame_stats {
  size_t frames;
  size_t self_contained;
  size_t envelopes;
} frame_stats;

/* Feeds `in` to a decoder `chunk` bytes at a time through a growing receive
 * buffer (chunk 0: all at once) and checks every envelope against `s`. */
static frame_stats decode_all(bool lz4, const uint8_t *in, size_t len, size_t chunk,
                              const spec *s, size_t n) {
  frame_stats st = {0, 0, 0};
  cqlmux_frame_v5_decoder d;
  cqlmux_frame_v5_decoder_init(&d, lz4, 4u << 20, NULL);
  size_t have = 0, used = 0;
  while (used < len) {
    size_t avail = chunk ? (have + chunk < len ? have + chunk : len) : len;
    have = avail;
    for (;;) {
      cqlmux_slice envs;
      int rc = cqlmux_frame_v5_decode(&d, in + used, have - used, &envs);
      cr_assert_geq(rc, 0, "decode error %d at %zu", rc, used);
      if (rc == 0) break;
      bool sc = lz4 ? (in[used + 4] & 0x04) != 0 : (in[used + 2] & 0x02) != 0;
      st.frames++;
      st.self_contained += sc;
      used += (size_t)rc;
      size_t off = 0;
      while (off < envs.len) {
        cqlmux_envelope e;
        int k = cqlmux_envelope_decode(envs.data + off, envs.len - off, CQLMUX_DIR_RESPONSE,
                                       8u << 20, &e);
        cr_assert_gt(k, 0);
        cr_assert_lt(st.envelopes, n);
        check_envelope(&e, (int16_t)st.envelopes, s[st.envelopes].body_len,
                       s[st.envelopes].seed);
        st.envelopes++;
        off += (size_t)k;
      }
    }
    cr_assert(chunk || used == len, "all-at-once decode left %zu bytes", len - used);
  }
  cr_assert_eq(st.envelopes, n);
  cr_assert_not(d.joining);
  cqlmux_frame_v5_decoder_free(&d);
  return st;
}

Test(proto_frame_v5, small_envelopes_share_one_frame) {
  spec s[10];
  for (size_t i = 0; i < 10; i++) s[i] = (spec){20 + i * 3, (unsigned)i};
  for (int lz4 = 0; lz4 < 2; lz4++) {
    cqlmux_wbuf_reset(&out);
    write_all(lz4, s, 10);
    frame_stats st = decode_all(lz4, out.data, out.len, 0, s, 10);
    cr_assert_eq(st.frames, 1, "lz4 %d", lz4);
    cr_assert_eq(st.self_contained, 1);
  }
}

static void split_and_join(bool lz4, unsigned seed) {
  spec s[1] = {{1u << 20, seed}};
  write_all(lz4, s, 1);
  frame_stats st = decode_all(lz4, out.data, out.len, 0, s, 1);
  size_t expect = (9 + (1u << 20) + CQLMUX_FRAME_V5_MAX_PAYLOAD - 1) / CQLMUX_FRAME_V5_MAX_PAYLOAD;
  cr_assert_eq(st.frames, expect, "%zu frames for 1 MiB", st.frames);
  cr_assert_eq(st.self_contained, 0);
  /* The same bytes in uneven chunks. */
  decode_all(lz4, out.data, out.len, 7919, s, 1);
}

Test(proto_frame_v5, one_mib_envelope_split_and_joined_plain) { split_and_join(false, 1); }
Test(proto_frame_v5, one_mib_envelope_split_and_joined_lz4_compressible) {
  split_and_join(true, 2);
  cr_assert_lt(out.len, 1u << 19, "a compressible MiB shrinks");
}
Test(proto_frame_v5, one_mib_envelope_split_and_joined_lz4_incompressible) {
  split_and_join(true, 3);
}

Test(proto_frame_v5, mixed_sizes_keep_their_order) {
  const spec s[] = {{10, 0}, {300, 1},   {200000, 2}, {5, 3},
                    {CQLMUX_FRAME_V5_MAX_PAYLOAD - 9, 4}, {CQLMUX_FRAME_V5_MAX_PAYLOAD - 8, 5},
                    {0, 6},  {70000, 7}, {70000, 8},  {1, 9}};
  size_t n = sizeof s / sizeof s[0];
  for (int lz4 = 0; lz4 < 2; lz4++) {
    cqlmux_wbuf_reset(&out);
    write_all(lz4, s, n);
    decode_all(lz4, out.data, out.len, 0, s, n);
    decode_all(lz4, out.data, out.len, 4093, s, n);
  }
}

Test(proto_frame_v5, fed_one_byte_at_a_time) {
  const spec s[] = {{40, 0}, {150000, 1}, {12, 2}, {3000, 4}};
  for (int lz4 = 0; lz4 < 2; lz4++) {
    cqlmux_wbuf_reset(&out);
    write_all(lz4, s, 4);
    decode_all(lz4, out.data, out.len, 1, s, 4);
  }
}

Test(proto_frame_v5, writer_drops_empty_frames_and_ignores_empty_envelopes) {
  cqlmux_frame_v5_writer w;
  cqlmux_frame_v5_writer_init(&w, &out, false, NULL);
  size_t at = cqlmux_frame_v5_writer_begin(&w);
  cr_assert_eq(cqlmux_frame_v5_writer_end(&w, at), 0);
  cr_assert_eq(cqlmux_frame_v5_writer_flush(&w), 0);
  cr_assert_eq(out.len, 0);
  cr_assert_eq(cqlmux_frame_v5_writer_flush(&w), 0, "flush with nothing open");
  cr_assert_eq(cqlmux_frame_v5_writer_end(&w, 0), CQLMUX_ERR_INVALID_ARGUMENT, "end without begin");
  cqlmux_frame_v5_writer_free(&w);
}

/* ------------------------------------------------------------ bad input */

static int decode_one(bool lz4, const uint8_t *in, size_t len, cqlmux_frame_v5_decoder *d) {
  cqlmux_slice envs;
  return cqlmux_frame_v5_decode(d, in, len, &envs);
}

Test(proto_frame_v5, self_contained_payload_must_be_whole_envelopes) {
  cqlmux_frame_v5_decoder d;
  cqlmux_frame_v5_decoder_init(&d, false, 1 << 20, NULL);
  /* 8 bytes: not even a header. */
  cqlmux_frame_v5_append(&out, false, true, options_env, 8);
  cr_assert_eq(decode_one(false, out.data, out.len, &d), CQLMUX_ERR_MALFORMED);
  /* A header promising one body byte more than the payload has. */
  uint8_t env[10];
  memcpy(env, options_env, 9);
  env[8] = 2;
  cqlmux_wbuf_reset(&out);
  cqlmux_frame_v5_append(&out, false, true, env, 10);
  cr_assert_eq(decode_one(false, out.data, out.len, &d), CQLMUX_ERR_MALFORMED);
  /* An empty self-contained frame carries nothing, which is fine. */
  cqlmux_wbuf_reset(&out);
  cqlmux_frame_v5_append(&out, false, true, env, 0);
  cr_assert_eq(decode_one(false, out.data, out.len, &d), 10);
  cqlmux_frame_v5_decoder_free(&d);
}

Test(proto_frame_v5, joining_errors) {
  uint8_t part[100];
  memset(part, 0, sizeof part);
  memcpy(part, options_env, 9);
  cqlmux_store_u32(part + 5, 150); /* declares 159 bytes in total */
  cqlmux_frame_v5_decoder d;
  cqlmux_frame_v5_decoder_init(&d, false, 1000, NULL);

  /* A self-contained frame in the middle of a large envelope. */
  cqlmux_frame_v5_append(&out, false, false, part, 100);
  cqlmux_frame_v5_append(&out, false, true, options_env, 9);
  int n = decode_one(false, out.data, out.len, &d);
  cr_assert_eq(n, 110);
  cr_assert(d.joining);
  cr_assert_eq(decode_one(false, out.data + n, out.len - (size_t)n, &d), CQLMUX_ERR_MALFORMED);

  /* More bytes than declared. */
  cqlmux_frame_v5_decoder_reset(&d);
  cqlmux_wbuf_reset(&out);
  cqlmux_frame_v5_append(&out, false, false, part, 100);
  cqlmux_frame_v5_append(&out, false, false, part, 60);
  n = decode_one(false, out.data, out.len, &d);
  cr_assert_eq(decode_one(false, out.data + n, out.len - (size_t)n, &d), CQLMUX_ERR_MALFORMED);

  /* Larger than the decoder accepts. */
  cqlmux_frame_v5_decoder_free(&d);
  cqlmux_frame_v5_decoder_init(&d, false, 149, NULL);
  cqlmux_wbuf_reset(&out);
  cqlmux_frame_v5_append(&out, false, false, part, 100);
  cr_assert_eq(decode_one(false, out.data, out.len, &d), CQLMUX_ERR_OVERSIZED);
  cr_assert_not(d.joining, "an error drops the half-joined envelope");
  cr_assert_eq(d.joined.len, 0);
  cqlmux_frame_v5_decoder_free(&d);
}

Test(proto_frame_v5, header_split_across_two_frames_is_joined) {
  uint8_t env[20];
  memset(env, 7, sizeof env);
  memcpy(env, options_env, 9);
  env[4] = CQLMUX_OP_RESULT;
  env[0] = 0x85;
  cqlmux_store_u32(env + 5, 11);
  cqlmux_frame_v5_append(&out, false, false, env, 4);
  cqlmux_frame_v5_append(&out, false, false, env + 4, 16);
  cqlmux_frame_v5_decoder d;
  cqlmux_frame_v5_decoder_init(&d, false, 1000, NULL);
  cqlmux_slice envs;
  int n = cqlmux_frame_v5_decode(&d, out.data, out.len, &envs);
  cr_assert_eq(envs.len, 0);
  n = cqlmux_frame_v5_decode(&d, out.data + n, out.len - (size_t)n, &envs);
  cr_assert_gt(n, 0);
  cr_assert_eq(envs.len, 20);
  cr_assert_arr_eq(envs.data, env, 20);
  cqlmux_frame_v5_decoder_free(&d);
}

/* Hand-built LZ4 frame whose CRCs are right but whose block may not be. */
static void put_lz4_frame(const uint8_t *payload, uint32_t wire_len, uint32_t ulen) {
  uint8_t h[8];
  uint64_t v = wire_len | ((uint64_t)ulen << 17) | (1ull << 34);
  for (int i = 0; i < 5; i++) h[i] = (uint8_t)(v >> (8 * i));
  uint32_t crc = cqlmux_crc24(h, 5);
  for (int i = 0; i < 3; i++) h[5 + i] = (uint8_t)(crc >> (8 * i));
  cqlmux_write_raw(&out, h, 8);
  cqlmux_write_raw(&out, payload, wire_len);
  uint32_t c = cqlmux_crc32_v5(payload, wire_len);
  uint8_t t[4];
  for (int i = 0; i < 4; i++) t[i] = (uint8_t)(c >> (8 * i));
  cqlmux_write_raw(&out, t, 4);
}

Test(proto_frame_v5, bad_lz4_block_is_a_compression_error) {
  cqlmux_frame_v5_decoder d;
  cqlmux_frame_v5_decoder_init(&d, true, 1 << 20, NULL);
  const uint8_t junk[] = {0xF0, 0xFF, 0xFF, 0x01, 0x02};
  put_lz4_frame(junk, sizeof junk, 1000);
  cr_assert_eq(decode_one(true, out.data, out.len, &d), CQLMUX_ERR_COMPRESSION);

  /* A good block whose output length differs from the header's. */
  uint8_t blk[64];
  int n = LZ4_compress_default((const char *)options_env, (char *)blk, 9, 64);
  cqlmux_wbuf_reset(&out);
  put_lz4_frame(blk, (uint32_t)n, 10);
  cr_assert_eq(decode_one(true, out.data, out.len, &d), CQLMUX_ERR_COMPRESSION);
  cqlmux_wbuf_reset(&out);
  put_lz4_frame(blk, (uint32_t)n, 9);
  cr_assert_eq(decode_one(true, out.data, out.len, &d), (int)out.len);
  cqlmux_frame_v5_decoder_free(&d);
}

Test(proto_frame_v5, oversized_payload_is_refused_by_the_encoder) {
  static uint8_t big[CQLMUX_FRAME_V5_MAX_PAYLOAD + 1];
  cr_assert_eq(cqlmux_frame_v5_append(&out, false, true, big, sizeof big), CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(cqlmux_frame_v5_append(&out, true, true, big, sizeof big - 1), 0);
  cr_assert_lt(out.len, 2000, "zeros compress");
}

/* Counts allocations to show that steady state reuses buffers. */
static size_t allocations;
static void *count_malloc(size_t n, void *u) {
  (void)u;
  allocations++;
  return malloc(n);
}
static void *count_realloc(void *p, size_t n, void *u) {
  (void)u;
  allocations++;
  return realloc(p, n);
}
static void count_free(void *p, void *u) {
  (void)u;
  free(p);
}

Test(proto_frame_v5, steady_state_does_not_allocate) {
  const cqlmux_allocator counting = {count_malloc, count_realloc, count_free, NULL};
  for (int lz4 = 0; lz4 < 2; lz4++) {
    cqlmux_wbuf o;
    cqlmux_wbuf_init(&o, &counting, 0);
    cqlmux_frame_v5_writer w;
    cqlmux_frame_v5_writer_init(&w, &o, lz4, &counting);
    cqlmux_frame_v5_decoder d;
    cqlmux_frame_v5_decoder_init(&d, lz4, 1 << 20, &counting);
    size_t before = 0;
    for (int round = 0; round < 20; round++) {
      if (round == 10) before = allocations;
      cqlmux_wbuf_reset(&o);
      for (int i = 0; i < 50; i++) {
        size_t at = cqlmux_frame_v5_writer_begin(&w);
        put_envelope(&o, (int16_t)i, 100 + (size_t)i * 90, (unsigned)i * 2);
        cr_assert_eq(cqlmux_frame_v5_writer_end(&w, at), 0);
      }
      cr_assert_eq(cqlmux_frame_v5_writer_flush(&w), 0);
      size_t used = 0, seen = 0;
      while (used < o.len) {
        cqlmux_slice envs;
        int n = cqlmux_frame_v5_decode(&d, o.data + used, o.len - used, &envs);
        cr_assert_gt(n, 0);
        used += (size_t)n;
        for (size_t off = 0; off < envs.len; seen++) off += 9 + cqlmux_load_u32(envs.data + off + 5);
      }
      cr_assert_eq(seen, 50);
    }
    cr_assert_eq(allocations, before, "lz4 %d: %zu allocations after warm-up", lz4,
                 allocations - before);
    cqlmux_frame_v5_decoder_free(&d);
    cqlmux_frame_v5_writer_free(&w);
    cqlmux_wbuf_free(&o);
  }
}

/* libFuzzer harness: the v5 streaming frame decoder, compressed and not.
 *
 * Input: a mode byte, a chunk byte (bytes reach the decoder chunk + 1 at a
 * time), then the stream. Mode bit 0: LZ4 frames; bit 1: the envelopes are
 * responses; bit 2: the stream is not sent as is but described as records
 * [ctl][len: u16 BE][ulen: u16 BE][len bytes] that the harness wraps into
 * frames with correct CRCs (ctl bit 0: self-contained; bit 1, LZ4 only: put
 * the bytes as the compressed payload with uncompressed length ulen, else let
 * the encoder compress them), so that mutations reach what lies behind the
 * checksums. Every envelope handed out is decoded and walked as in
 * fuzz_envelope. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_walk.h"
#include "proto/crc.h"
#include "proto/frame_v5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_envelopes(cqlmux_slice envs, cqlmux_direction dir, cqlmux_wbuf *scratch) {
  size_t off = 0;
  while (off < envs.len) {
    cqlmux_envelope e;
    int n = cqlmux_envelope_decode(envs.data + off, envs.len - off, dir, UINT32_MAX, &e);
    /* The frame decoder hands out whole envelopes only: never "need more". */
    fuzz_check(n != 0);
    if (n < 0) return;
    fuzz_walk_envelope(&e, scratch);
    off += (size_t)n;
  }
}

static void put_le(cqlmux_wbuf *b, uint64_t v, size_t n) {
  uint8_t *p = cqlmux_wbuf_reserve(b, n);
  for (size_t i = 0; p && i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* An LZ4 frame around arbitrary bytes, claiming uncompressed length ulen. */
static void raw_lz4_frame(cqlmux_wbuf *b, int self_contained, const uint8_t *p, uint32_t len,
                          uint32_t ulen) {
  size_t at = b->len;
  put_le(b, len | ((uint64_t)ulen << 17) | ((uint64_t)(self_contained & 1) << 34), 5);
  if (b->error) return;
  put_le(b, cqlmux_crc24(b->data + at, 5), 3);
  cqlmux_write_raw(b, p, len);
  put_le(b, cqlmux_crc32_v5(p, len), 4);
}

static void build_frames(cqlmux_wbuf *b, int lz4, const uint8_t *data, size_t size) {
  size_t off = 0;
  while (size - off >= 5) {
    uint8_t ctl = data[off];
    uint32_t len = (uint32_t)(data[off + 1] << 8 | data[off + 2]);
    uint32_t ulen = (uint32_t)(data[off + 3] << 8 | data[off + 4]);
    off += 5;
    if (len > size - off) len = (uint32_t)(size - off);
    if (lz4 && (ctl & 2))
      raw_lz4_frame(b, ctl & 1, data + off, len, ulen);
    else
      cqlmux_frame_v5_append(b, lz4, ctl & 1, data + off, len);
    off += len;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  int lz4 = data[0] & 1;
  cqlmux_direction dir = (data[0] & 2) ? CQLMUX_DIR_RESPONSE : CQLMUX_DIR_REQUEST;
  size_t chunk = (size_t)data[1] + 1;
  cqlmux_wbuf built;
  cqlmux_wbuf_init(&built, NULL, 0);
  if (data[0] & 4) {
    build_frames(&built, lz4, data + 2, size - 2);
    data = built.data;
    size = built.len;
  } else {
    data += 2;
    size -= 2;
  }
  cqlmux_frame_v5_decoder d;
  cqlmux_frame_v5_decoder_init(&d, lz4, FUZZ_MAX_BODY, NULL);
  cqlmux_wbuf scratch;
  cqlmux_wbuf_init(&scratch, NULL, 0);
  size_t have = 0, used = 0;
  int rc = 0;
  while (rc >= 0 && have < size) {
    have = size - have < chunk ? size : have + chunk;
    for (;;) {
      cqlmux_slice envs;
      rc = cqlmux_frame_v5_decode(&d, data + used, have - used, &envs);
      if (rc <= 0) break;
      fuzz_check((size_t)rc <= have - used);
      used += (size_t)rc;
      walk_envelopes(envs, dir, &scratch);
    }
  }
  cqlmux_wbuf_free(&scratch);
  cqlmux_frame_v5_decoder_free(&d);
  cqlmux_wbuf_free(&built);
  return 0;
}

/* Microbenchmark (not a test): nanoseconds per encode of an EXECUTE with 5
 * bound values, as plain v4 envelopes and as v5 envelopes packed into frames
 * (uncompressed, with both CRCs), into a reused output buffer the way a
 * connection's I/O thread would. Usage: bench_proto_encode [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "proto/frame_v5.h"
#include "proto/request.h"

/* Envelopes encoded between two buffer resets, like one loop turn's burst. */
#define BURST 64

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const uint8_t id[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t v_int[4] = {0, 0, 0, 42};
static const uint8_t v_big[8] = {0, 0, 0, 0, 0, 0, 1, 0};
static const uint8_t v_text[] = "some text value";
static const uint8_t v_uuid[16] = {0x12, 0x34};

static cqlmux_query_params params(void) {
  static const cqlmux_bytes values[5] = {
      {v_int, 4}, {v_big, 8}, {v_text, sizeof v_text - 1}, {v_uuid, 16}, {NULL, -1}};
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_LOCAL_QUORUM,
                           .values = values,
                           .value_count = 5,
                           .skip_metadata = true,
                           .has_page_size = true,
                           .page_size = 5000};
  return p;
}

static int encode_one(cqlmux_wbuf *out, uint8_t version, int16_t stream) {
  cqlmux_request_header h = {.version = version, .stream = stream};
  cqlmux_query_params p = params();
  cqlmux_slice sid = {id, sizeof id};
  return cqlmux_request_execute(out, &h, sid, sid, &p);
}

static double bench_v4(long iters) {
  cqlmux_wbuf out;
  cqlmux_wbuf_init(&out, NULL, 0);
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    if (i % BURST == 0) cqlmux_wbuf_reset(&out);
    if (encode_one(&out, 4, (int16_t)(i & 0x7FFF))) abort();
  }
  double t = now_ns() - t0;
  cqlmux_wbuf_free(&out);
  return t / (double)iters;
}

static double bench_v5(long iters, bool lz4) {
  cqlmux_wbuf out;
  cqlmux_wbuf_init(&out, NULL, 0);
  cqlmux_frame_v5_writer w;
  cqlmux_frame_v5_writer_init(&w, &out, lz4, NULL);
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    size_t at = cqlmux_frame_v5_writer_begin(&w);
    if (encode_one(&out, 5, (int16_t)(i & 0x7FFF)) || cqlmux_frame_v5_writer_end(&w, at)) abort();
    if (i % BURST == BURST - 1) {
      if (cqlmux_frame_v5_writer_flush(&w)) abort();
      cqlmux_wbuf_reset(&out);
    }
  }
  cqlmux_frame_v5_writer_flush(&w);
  double t = now_ns() - t0;
  cqlmux_frame_v5_writer_free(&w);
  cqlmux_wbuf_free(&out);
  return t / (double)iters;
}

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 5000000;
  if (iters < BURST) iters = BURST;
  cqlmux_wbuf probe;
  cqlmux_wbuf_init(&probe, NULL, 0);
  encode_one(&probe, 4, 0);
  size_t v4_len = probe.len;
  cqlmux_wbuf_reset(&probe);
  encode_one(&probe, 5, 0);
  size_t v5_len = probe.len;
  cqlmux_wbuf_free(&probe);

  bench_v4(iters / 10); /* warm up caches and the buffer */
  printf("EXECUTE, 5 values, %ld iterations, bursts of %d\n", iters, BURST);
  printf("  v4 envelope (%zu bytes):                %6.1f ns/encode\n", v4_len, bench_v4(iters));
  printf("  v5 envelope (%zu bytes) in v5 frames:   %6.1f ns/encode\n", v5_len,
         bench_v5(iters, false));
  printf("  v5 envelope in LZ4 v5 frames:          %6.1f ns/encode\n", bench_v5(iters, true));
  return 0;
}

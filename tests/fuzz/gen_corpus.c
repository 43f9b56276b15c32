/* Writes the seed corpora of fuzz_envelope and fuzz_frame_v5: valid requests
 * of every kind (v4 plain and LZ4, v5), responses with every body prefix,
 * and v5 frame streams (packed, split, LZ4). Not a harness (no fuzz_ prefix).
 *
 *   cc -Iinclude -Ilib -I/tmp/cqlmux-fuzz/include tests/fuzz/gen_corpus.c \
 *      lib/proto/[a-z]*.c lib/runtime/alloc.c -llz4 -lz -o /tmp/gen
 *   /tmp/gen tests/fuzz/corpus
 * (tests/fuzz/run.sh leaves the generated cqlmux_version.h in /tmp/cqlmux-fuzz/include.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include "proto/envelope.h"
#include "proto/frame_v5.h"
#include "proto/request.h"

static const char *root;

static void save(const char *harness, const char *name, uint8_t mode0, int with_chunk,
                 const cqlmux_wbuf *b) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s/%s", root, harness, name);
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fputc(mode0, f);
  if (with_chunk) fputc(0xFF, f); /* 256-byte chunks */
  fwrite(b->data, 1, b->len, f);
  fclose(f);
}

#define S(lit) ((cqlmux_slice){(const uint8_t *)(lit), sizeof(lit) - 1})

static const uint8_t v42[] = {0, 0, 0, 42};
static const cqlmux_bytes vals[] = {{v42, 4}, {NULL, -1}, {NULL, -2}};
static const cqlmux_slice names[] = {S("a"), S("b"), S("c")};

/* Every request, back to back, for one version. */
static void all_requests(cqlmux_wbuf *b, uint8_t version, int compress) {
  cqlmux_request_header h = {.version = version, .stream = 1, .compress = compress};
  cqlmux_startup s = {.compression = "lz4", .driver_name = "cqlmux", .driver_version = "0"};
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE, .values = vals,
                           .value_count = 3, .has_page_size = true, .page_size = 10,
                           .has_paging_state = true, .paging_state = S("ps"),
                           .has_serial_consistency = true, .serial_consistency = 8,
                           .has_timestamp = true, .timestamp = 1,
                           .has_keyspace = version >= 5, .keyspace = S("ks"),
                           .has_now_in_seconds = version >= 5, .now_in_seconds = 2};
  const cqlmux_batch_statement st[] = {
      {.kind = 0, .query_or_id = S("INSERT INTO t (k) VALUES (?)"), .values = vals,
       .value_count = 3, .names = names},
      {.kind = 1, .query_or_id = S("\x01\x02"), .values = vals, .value_count = 1,
       .names = names}};
  cqlmux_batch_msg bt = {.type = CQLMUX_BATCH_UNLOGGED, .statements = st, .count = 2,
                     .consistency = 1, .has_timestamp = true, .timestamp = 3};
  const cqlmux_slice ev[] = {S("STATUS_CHANGE"), S("SCHEMA_CHANGE")};
  const cqlmux_payload_entry pe[] = {{S("k"), {v42, 4}}};
  cqlmux_request_startup(b, &h, &s);
  cqlmux_request_options(b, &h);
  cqlmux_request_auth_response(b, &h, (cqlmux_bytes){(const uint8_t *)"\0u\0p", 4});
  cqlmux_request_query(b, &h, S("SELECT * FROM t WHERE k = ? AND c = ? AND d = ?"), &p);
  p.names = names;
  cqlmux_request_query(b, &h, S("SELECT * FROM t WHERE k = :a"), &p);
  p.names = NULL;
  cqlmux_request_prepare(b, &h, S("SELECT * FROM t"), version >= 5, S("ks"));
  cqlmux_request_execute(b, &h, S("\xAA\xBB"), S("\xCC"), &p);
  cqlmux_request_batch(b, &h, &bt);
  bt.names_for_values = 1;
  cqlmux_request_batch(b, &h, &bt);
  cqlmux_request_register(b, &h, ev, 2);
  h.custom_payload = pe;
  h.custom_payload_count = 1;
  h.flags = CQLMUX_FLAG_TRACING;
  cqlmux_request_query(b, &h, S("SELECT 1"), &p);
  if (b->error) {
    fprintf(stderr, "encode failed: %d\n", b->error);
    exit(1);
  }
}

/* A response with tracing id, warnings and custom payload. */
static void response(cqlmux_wbuf *b, uint8_t version, size_t body_len) {
  cqlmux_envelope_header h = {.version = version, .stream = 1, .opcode = CQLMUX_OP_RESULT,
                              .response = true,
                              .flags = CQLMUX_FLAG_TRACING | CQLMUX_FLAG_WARNING |
                                       CQLMUX_FLAG_CUSTOM_PAYLOAD};
  static const uint8_t uuid[16] = {1, 2, 3};
  size_t at = cqlmux_envelope_begin(b, &h);
  cqlmux_write_uuid(b, uuid);
  cqlmux_write_u16(b, 1);
  cqlmux_write_string(b, "warn", 4);
  cqlmux_write_u16(b, 1);
  cqlmux_write_string(b, "k", 1);
  cqlmux_write_bytes(b, (cqlmux_bytes){v42, 4});
  cqlmux_write_i32(b, 1);
  uint8_t *p = cqlmux_wbuf_reserve(b, body_len);
  if (p) memset(p, 'r', body_len);
  cqlmux_envelope_finish(b, at);
}

static void frames(cqlmux_wbuf *out, int lz4, int big) {
  cqlmux_frame_v5_writer w;
  cqlmux_frame_v5_writer_init(&w, out, lz4, NULL);
  for (int i = 0; i < 3; i++) {
    size_t at = cqlmux_frame_v5_writer_begin(&w);
    cqlmux_request_header h = {.version = 5, .stream = (int16_t)i};
    cqlmux_query_params p = {.consistency = 1, .values = vals, .value_count = 3};
    cqlmux_request_execute(out, &h, S("\x01"), S("\x02"), &p);
    cqlmux_frame_v5_writer_end(&w, at);
  }
  if (big) {
    size_t at = cqlmux_frame_v5_writer_begin(&w);
    cqlmux_request_header h = {.version = 5, .stream = 9};
    static char q[140000];
    memset(q, 'q', sizeof q);
    cqlmux_query_params p = {.consistency = 1};
    cqlmux_request_query(out, &h, (cqlmux_slice){(const uint8_t *)q, sizeof q}, &p);
    cqlmux_frame_v5_writer_end(&w, at);
  }
  cqlmux_frame_v5_writer_flush(&w);
  cqlmux_frame_v5_writer_free(&w);
}

/* fuzz_frame_v5's record mode: [ctl][len u16][ulen u16][bytes]. */
static void record(cqlmux_wbuf *out, uint8_t ctl, const uint8_t *p, uint16_t len, uint16_t ulen) {
  cqlmux_write_u8(out, ctl);
  cqlmux_write_u16(out, len);
  cqlmux_write_u16(out, ulen);
  cqlmux_write_raw(out, p, len);
}

static void records(const cqlmux_wbuf *envs) {
  cqlmux_wbuf out;
  cqlmux_wbuf_init(&out, NULL, 0);
  /* The whole stream in one self-contained frame, then cut in three parts of
   * one large envelope (the first envelope only, as a large one would be). */
  record(&out, 1, envs->data, (uint16_t)envs->len, 0);
  size_t first = 9 + cqlmux_load_u32(envs->data + 5);
  record(&out, 0, envs->data, 4, 0);
  record(&out, 0, envs->data + 4, 10, 0);
  record(&out, 0, envs->data + 14, (uint16_t)(first - 14), 0);
  save("fuzz_frame_v5", "records", 4, 1, &out);
  cqlmux_wbuf_reset(&out);
  /* The same as a hand-made LZ4 frame. */
  char z[4096];
  int n = LZ4_compress_default((const char *)envs->data, z, (int)envs->len, (int)sizeof z);
  record(&out, 3, (const uint8_t *)z, (uint16_t)n, (uint16_t)envs->len);
  record(&out, 1, envs->data, (uint16_t)envs->len, 0);
  save("fuzz_frame_v5", "records_lz4", 5, 1, &out);
  cqlmux_wbuf_free(&out);
}

int main(int argc, char **argv) {
  root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  all_requests(&b, 4, 0);
  save("fuzz_envelope", "requests_v4", 0, 0, &b);
  cqlmux_wbuf_reset(&b);
  all_requests(&b, 4, 1);
  save("fuzz_envelope", "requests_v4_lz4", 0, 0, &b);
  cqlmux_wbuf_reset(&b);
  all_requests(&b, 5, 0);
  save("fuzz_envelope", "requests_v5", 0, 0, &b);
  cqlmux_wbuf_reset(&b);
  response(&b, 5, 10);
  cqlmux_wbuf r;
  cqlmux_wbuf_init(&r, NULL, 0);
  response(&r, 4, 300);
  cqlmux_envelope_compress_v4(&r, 0);
  cqlmux_write_raw(&b, r.data, r.len);
  cqlmux_wbuf_free(&r);
  save("fuzz_envelope", "responses", 1, 0, &b);

  cqlmux_wbuf_reset(&b);
  frames(&b, 0, 0);
  save("fuzz_frame_v5", "packed", 0, 1, &b);
  cqlmux_wbuf_reset(&b);
  frames(&b, 1, 0);
  save("fuzz_frame_v5", "packed_lz4", 1, 1, &b);
  cqlmux_wbuf_reset(&b);
  frames(&b, 0, 1);
  save("fuzz_frame_v5", "split", 0, 1, &b);
  cqlmux_wbuf_reset(&b);
  frames(&b, 1, 1);
  save("fuzz_frame_v5", "split_lz4", 1, 1, &b);
  cqlmux_wbuf_reset(&b);
  all_requests(&b, 5, 0);
  cqlmux_wbuf f;
  cqlmux_wbuf_init(&f, NULL, 0);
  cqlmux_frame_v5_append(&f, 0, 1, b.data, b.len);
  save("fuzz_frame_v5", "all_requests", 0, 1, &f);
  cqlmux_wbuf_reset(&f);
  cqlmux_frame_v5_append(&f, 1, 1, b.data, b.len);
  save("fuzz_frame_v5", "all_requests_lz4", 1, 1, &f);
  records(&b);
  cqlmux_wbuf_free(&f);
  cqlmux_wbuf_free(&b);
  return 0;
}

/* libFuzzer harness: the whole response path. A session of the whole
 * library connects to the in-process mock server (handshake and system
 * tables answered by the mock), sends one query the mock leaves
 * unanswered, and the input then arrives as the server's bytes on that
 * request's connection, which the mock closes right after them. Socket,
 * receive buffer, v4 envelope or v5 frame decoding, decompression-free
 * body decoding, stream matching, completion and the callback worker all
 * run as in production.
 *
 * Checked for every input: the request's future completes within a bound
 * (success or any error: the bytes are arbitrary), its callback runs
 * exactly once, and the session frees cleanly (ASan/LSan report the rest).
 *
 * Input: a mode byte, then the bytes. Mode bit 0: protocol v5 (else v4);
 * bit 1 (v5): the harness wraps the bytes into one self-contained frame
 * with correct checksums, so mutations reach the envelopes behind them;
 * bit 2: the harness writes the request's stream id into bytes 2-3 (the
 * first envelope's stream), so answers stay matched whatever id the
 * session picked. Seeds: tests/fuzz/corpus/fuzz_session/ (written by
 * tests/fuzz/gen_session_corpus.py).
 *
 * tests/fuzz/run.sh builds it with every source of lib/ and the mock's. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlmux.h"
#include "mock/mock.h"
#include "proto/frame_v5.h"
#include "proto/wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_QUERY "SELECT fuzz FROM fuzz"
/* Bounds that turn a hang into a crash; nothing waits this long normally. */
#define COMPLETION_BOUND_US (10u * 1000000u)
#define REQUEST_SEEN_BOUND_MS 10000u

static cqlmux_mock *mock;
static char mock_address[64];
static uint16_t mock_port;

static void fuzz_require(int ok, const char *what) {
  if (ok) return;
  fprintf(stderr, "fuzz_session: %s\n", what);
  __builtin_trap();
}

/* The mock lives for the whole fuzzing run: it only serves the handshake,
 * the system tables and the recording of the one query. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.lz4 = false;
  fuzz_require(cqlmux_mock_start(&cfg, &mock) == CQLMUX_OK, "mock start");
  cqlmux_mock_node_address(mock, 0, mock_address, sizeof mock_address, &mock_port);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_NO_RESPONSE);
  f.query = FUZZ_QUERY;
  fuzz_require(cqlmux_mock_fault_add(mock, &f, NULL) == CQLMUX_OK, "mock fault");
  return 0;
}

static cqlmux_session *connect_session(int version) {
  cqlmux_config *c = cqlmux_config_new();
  cqlmux_config_set_contact_points(c, mock_address);
  cqlmux_config_set_port(c, mock_port);
  cqlmux_config_set_protocol_version(c, version);
  cqlmux_config_set_log_level(c, CQLMUX_LOG_NONE);
  cqlmux_config_set_connections_per_host(c, 1, 1);
  cqlmux_session *s = NULL;
  fuzz_require(cqlmux_session_new(c, &s) == CQLMUX_OK, "session_new");
  cqlmux_config_free(c);
  cqlmux_future *f = cqlmux_session_connect(s);
  fuzz_require(cqlmux_future_wait(f) == CQLMUX_OK, "connect to the mock");
  cqlmux_future_free(f);
  return s;
}

/* The recorded query: its connection and stream. */
static void find_request(int64_t *connection, int *stream) {
  cqlmux_mock_filter q = CQLMUX_MOCK_FILTER_ANY;
  q.query = FUZZ_QUERY;
  fuzz_require(cqlmux_mock_wait_requests(mock, &q, 1, REQUEST_SEEN_BOUND_MS) == CQLMUX_OK,
               "the query reached the mock");
  size_t n = cqlmux_mock_request_count(mock, NULL);
  for (size_t i = 0; i < n; i++) {
    cqlmux_mock_request r;
    cqlmux_mock_request_at(mock, i, &r);
    if (r.query && strcmp(r.query, FUZZ_QUERY) == 0) {
      *connection = r.connection, *stream = r.stream;
      return;
    }
  }
  fuzz_require(0, "the query's record");
}

/* The server's bytes for this input, as the mode byte says. */
static void build_bytes(uint8_t mode, const uint8_t *p, size_t n, int stream, cqlmux_wbuf *out) {
  uint8_t *copy = malloc(n ? n : 1);
  memcpy(copy, p, n);
  if ((mode & 4) && n >= 4) cqlmux_store_u16(copy + 2, (uint16_t)stream);
  if ((mode & 1) && (mode & 2) && n <= CQLMUX_FRAME_V5_MAX_PAYLOAD)
    cqlmux_frame_v5_append(out, false, true, copy, n);
  else
    cqlmux_write_raw(out, copy, n);
  free(copy);
}

static void on_complete(cqlmux_future *f, void *user_data) {
  (void)f;
  atomic_fetch_add((atomic_int *)user_data, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t mode = data[0];
  cqlmux_session *s = connect_session(mode & 1 ? 5 : 4);
  cqlmux_mock_log_clear(mock);
  static atomic_int calls;
  atomic_store(&calls, 0);
  cqlmux_future *f = cqlmux_session_query(s, FUZZ_QUERY);
  fuzz_require(f != NULL, "a future");
  cqlmux_future_set_callback(f, on_complete, &calls);

  int64_t connection = 0;
  int stream = 0;
  find_request(&connection, &stream);
  cqlmux_wbuf bytes;
  cqlmux_wbuf_init(&bytes, NULL, 0);
  build_bytes(mode, data + 1, size - 1, stream, &bytes);
  fuzz_require(!bytes.error, "building the bytes");
  fuzz_require(cqlmux_mock_send_raw(mock, connection, bytes.data, bytes.len, true) == CQLMUX_OK,
               "the connection was open");
  cqlmux_wbuf_free(&bytes);

  int rc = cqlmux_future_wait_timed(f, COMPLETION_BOUND_US);
  fuzz_require(rc != CQLMUX_ERR_NOT_READY, "the request completed");
  /* FUZZ_SESSION_VERBOSE=1: what each input came to, to check the seeds. */
  if (getenv("FUZZ_SESSION_VERBOSE"))
    fprintf(stderr, "fuzz_session: mode %u stream %d: %d %s\n", mode, stream, rc,
            rc ? cqlmux_future_error_message(f) : "");
  cqlmux_future_free(f);
  cqlmux_session_free(s);
  fuzz_require(atomic_load(&calls) == 1, "the callback ran exactly once");
  return 0;
}

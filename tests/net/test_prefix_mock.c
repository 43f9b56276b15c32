/* Warnings, custom payloads and tracing (issue 15 items 4 and 5) against
 * the mock server, which sends them on demand: a prime's warnings and
 * echoed payload, a tracing id for every traced request. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cqlmux.h"
#include "mock/mock.h"
#include "proto/opcode.h"
#include "session_fixture.h"

/* ------------------------------------------------------------ log capture */

#define CAPTURE_LINES 32

typedef struct log_capture {
  pthread_mutex_t lock;
  size_t count; /* WARN lines seen (only the first CAPTURE_LINES are kept) */
  char lines[CAPTURE_LINES][512];
} log_capture;

static void capture_warnings(cqlmux_log_level level, const char *message, void *user_data) {
  log_capture *c = user_data;
  if (level != CQLMUX_LOG_WARN) return;
  pthread_mutex_lock(&c->lock);
  if (c->count < CAPTURE_LINES) snprintf(c->lines[c->count], sizeof c->lines[0], "%s", message);
  c->count++;
  pthread_mutex_unlock(&c->lock);
}

/* The WARN lines that start "server warning from": the library's other
 * warnings (none expected here) are not this test's business. */
static size_t server_warning_lines(log_capture *c, const char **out, size_t cap) {
  size_t n = 0;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < c->count && i < CAPTURE_LINES; i++)
    if (strncmp(c->lines[i], "server warning from ", 20) == 0 && n < cap) out[n++] = c->lines[i];
  pthread_mutex_unlock(&c->lock);
  return n;
}

/* ------------------------------------------------------------ helpers */

static cqlmux_session *connect_with(cqlmux_mock *m, int version, bool lz4, log_capture *log) {
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_config_set_protocol_version(c, version);
  if (lz4) cqlmux_config_set_compression(c, CQLMUX_COMPRESSION_LZ4);
  if (log) {
    cqlmux_config_set_log_callback(c, capture_warnings, log);
    cqlmux_config_set_log_level(c, CQLMUX_LOG_WARN);
  }
  return session_fixture_connect(c);
}

static cqlmux_future *execute_wait(cqlmux_session *s, const cqlmux_statement *st, int expect) {
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cr_assert_not_null(f);
  cr_assert_eq(cqlmux_future_wait(f), expect, "%s", cqlmux_future_error_message(f));
  return f;
}

/* The last request the mock recorded with this opcode. */
static cqlmux_mock_request last_request(cqlmux_mock *m, int opcode) {
  cqlmux_mock_request r, found = {.seq = 0};
  for (size_t i = 0; cqlmux_mock_request_at(m, i, &r) == CQLMUX_OK; i++)
    if (r.opcode == opcode) found = r;
  cr_assert_neq(found.seq, 0, "no request with opcode 0x%02x", opcode);
  return found;
}

static void assert_warning(const cqlmux_future *f, size_t i, const char *expected) {
  const char *text = NULL;
  size_t len = 0;
  cr_assert_eq(cqlmux_future_warning(f, i, &text, &len), CQLMUX_OK);
  cr_assert_eq(len, strlen(expected));
  cr_assert_eq(memcmp(text, expected, len), 0, "warning %zu: %.*s", i, (int)len, text);
}

static void assert_entry(const cqlmux_future *f, size_t i, const char *name, const void *value,
                         int32_t value_len) {
  const char *n = NULL;
  size_t nlen = 0;
  const uint8_t *v = NULL;
  int32_t vlen = -2;
  cr_assert_eq(cqlmux_future_custom_payload_entry(f, i, &n, &nlen, &v, &vlen), CQLMUX_OK);
  cr_assert_eq(nlen, strlen(name));
  cr_assert_eq(memcmp(n, name, nlen), 0);
  cr_assert_eq(vlen, value_len, "entry %s: %d bytes", name, vlen);
  if (value_len > 0) cr_assert_eq(memcmp(v, value, (size_t)value_len), 0);
}

/* ------------------------------------------------------------ warnings */

static const char *const two_warnings[] = {
    "Batch for [ks.t] is of size 6.02KiB, exceeding specified threshold of 5.00KiB by 1.02KiB.",
    "Read 1001 live rows and 1200 tombstone cells"};

/* Warnings on a RESULT, on each wire path (v5 frames, v4 plain, v4 LZ4
 * whose decompressed body lives in a reused scratch buffer): readable on
 * the future in the server's order, and logged once each at WARN naming
 * the host, without the statement's bound value. */
Test(prefix_mock, warnings_on_a_result_are_readable_and_logged) {
  static const struct { int version; bool lz4; } paths[] = {{5, false}, {4, false}, {4, true}};
  for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
    cqlmux_mock *m = session_fixture_mock(false);
    cqlmux_mock_prime p;
    cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, "SELECT v FROM t WHERE k = ?");
    const cqlmux_mock_column col = {"v", "int"};
    const char *cells[] = {"7"};
    p.column_count = 1, p.columns = &col, p.row_count = 1, p.cells = cells;
    p.warning_count = 2;
    p.warnings = two_warnings;
    cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
    log_capture log = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cqlmux_session *s = connect_with(m, paths[k].version, paths[k].lz4, &log);
    cqlmux_statement *st = cqlmux_statement_new("SELECT v FROM t WHERE k = ?", 1);
    cqlmux_statement_bind_text(st, 0, "secret-bound-value", 18);
    cqlmux_future *f = execute_wait(s, st, CQLMUX_OK);
    int32_t v = 0;
    cr_assert_eq(cqlmux_result_get_int32(cqlmux_future_result(f), 0, 0, &v), CQLMUX_OK);
    cr_assert_eq(v, 7, "the message after the prefix decodes");
    cr_assert_eq(cqlmux_future_warning_count(f), 2, "v%d lz4 %d", paths[k].version, paths[k].lz4);
    assert_warning(f, 0, two_warnings[0]);
    assert_warning(f, 1, two_warnings[1]);
    cr_assert_eq(cqlmux_future_warning(f, 2, NULL, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
    cr_assert_eq(cqlmux_future_custom_payload_count(f), 0);
    uint8_t id[16];
    cr_assert_eq(cqlmux_future_tracing_id(f, id), CQLMUX_ERR_NOT_FOUND);
    /* The lines were logged on the I/O thread before it completed f. */
    char addr[64], expected[2][256];
    uint16_t port;
    cqlmux_mock_node_address(m, 0, addr, sizeof addr, &port);
    for (int i = 0; i < 2; i++)
      snprintf(expected[i], sizeof expected[i], "server warning from %s:%u: %s", addr, port,
               two_warnings[i]);
    const char *lines[4];
    cr_assert_eq(server_warning_lines(&log, lines, 4), 2);
    cr_assert_str_eq(lines[0], expected[0]);
    cr_assert_str_eq(lines[1], expected[1]);
    for (size_t i = 0; i < log.count && i < CAPTURE_LINES; i++)
      cr_assert_null(strstr(log.lines[i], "secret-bound-value"), "%s", log.lines[i]);
    cqlmux_future_free(f);
    cqlmux_statement_free(st);
    cqlmux_session_free(s);
    cqlmux_mock_free(m);
  }
}

/* An ERROR answer may carry warnings too: they are on the failed future,
 * next to the server error's details. */
Test(prefix_mock, warnings_on_an_error_answer_are_readable) {
  cqlmux_mock *m = session_fixture_mock(false);
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, "SELECT bad");
  p.error_code = 0x2200;
  p.error_message = "no such column";
  p.warning_count = 1;
  p.warnings = two_warnings + 1;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  cqlmux_session *s = connect_with(m, 5, false, NULL);
  cqlmux_statement *st = cqlmux_statement_new("SELECT bad", 0);
  cqlmux_future *f = execute_wait(s, st, CQLMUX_ERR_SERVER);
  cqlmux_server_error e;
  cr_assert_eq(cqlmux_future_server_error(f, &e), CQLMUX_OK);
  cr_assert_eq(e.code, 0x2200);
  cr_assert_eq(cqlmux_future_warning_count(f), 1);
  assert_warning(f, 0, two_warnings[1]);
  cqlmux_future_free(f);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A future without an answer, or NULL, has nothing; a pending one says so. */
Test(prefix_mock, futures_without_an_answer_have_no_prefix) {
  cr_assert_eq(cqlmux_future_warning_count(NULL), 0);
  cr_assert_eq(cqlmux_future_custom_payload_count(NULL), 0);
  cr_assert_eq(cqlmux_future_warning(NULL, 0, NULL, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  uint8_t id[16];
  cr_assert_eq(cqlmux_future_tracing_id(NULL, id), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_mock *m = session_fixture_mock(false);
  cqlmux_session *s = connect_with(m, 5, false, NULL);
  cqlmux_statement *st = cqlmux_statement_new("SELECT 1", 0);
  /* A host the session does not know: failed at submission, no answer. */
  cqlmux_statement_set_host(st, "10.255.255.1:9042");
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_NO_HOSTS);
  cr_assert_eq(cqlmux_future_warning_count(f), 0);
  cr_assert_eq(cqlmux_future_tracing_id(f, id), CQLMUX_ERR_NOT_FOUND);
  cqlmux_future_free(f);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* ------------------------------------------------------------ custom payload */

static const uint8_t binary[] = {0x00, 0x01, 0xFE, 0xFF};

static void add_three_entries(int (*add)(void *, const char *, const void *, size_t), void *to) {
  cr_assert_eq(add(to, "a", "1", 1), CQLMUX_OK);
  cr_assert_eq(add(to, "bin", binary, sizeof binary), CQLMUX_OK);
  cr_assert_eq(add(to, "empty", NULL, 0), CQLMUX_OK);
  cr_assert_eq(add(to, "a", "one", 3), CQLMUX_OK, "a name added again replaces its value");
}

static int add_to_statement(void *s, const char *n, const void *v, size_t len) {
  return cqlmux_statement_add_custom_payload(s, n, v, len);
}

static int add_to_batch(void *b, const char *n, const void *v, size_t len) {
  return cqlmux_batch_add_custom_payload(b, n, v, len);
}

static void assert_three_entries(const cqlmux_future *f) {
  cr_assert_eq(cqlmux_future_custom_payload_count(f), 3);
  assert_entry(f, 0, "a", "one", 3);
  assert_entry(f, 1, "bin", binary, sizeof binary);
  assert_entry(f, 2, "empty", NULL, 0);
}

static void prime_echo(cqlmux_mock *m, cqlmux_mock_result_kind kind, const char *query) {
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, kind, query);
  p.echo_custom_payload = true;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
}

/* The statement's payload goes out with the CUSTOM_PAYLOAD flag, and what
 * the server sends back (here: the same map) is on the future, entry for
 * entry; a statement without one sends no flag and gets none. */
Test(prefix_mock, custom_payload_round_trip_on_a_statement) {
  cqlmux_mock *m = session_fixture_mock(false);
  prime_echo(m, CQLMUX_MOCK_RESULT_VOID, "INSERT INTO t (k) VALUES (1)");
  cqlmux_session *s = connect_with(m, 5, false, NULL);
  cqlmux_statement *st = cqlmux_statement_new("INSERT INTO t (k) VALUES (1)", 0);
  cqlmux_future *f = execute_wait(s, st, CQLMUX_OK);
  cr_assert_eq(cqlmux_future_custom_payload_count(f), 0);
  cr_assert_eq(last_request(m, CQLMUX_OP_QUERY).flags & CQLMUX_FLAG_CUSTOM_PAYLOAD, 0);
  cqlmux_future_free(f);
  add_three_entries(add_to_statement, st);
  f = execute_wait(s, st, CQLMUX_OK);
  cr_assert_neq(last_request(m, CQLMUX_OP_QUERY).flags & CQLMUX_FLAG_CUSTOM_PAYLOAD, 0);
  assert_three_entries(f);
  cr_assert_eq(cqlmux_future_custom_payload_entry(f, 3, NULL, NULL, NULL, NULL),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_future_free(f);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A batch carries its own payload (not its members'). */
Test(prefix_mock, custom_payload_round_trip_on_a_batch) {
  cqlmux_mock *m = session_fixture_mock(false);
  prime_echo(m, CQLMUX_MOCK_RESULT_VOID, "INSERT INTO t (k) VALUES (2)");
  cqlmux_session *s = connect_with(m, 4, true, NULL);
  cqlmux_statement *member = cqlmux_statement_new("INSERT INTO t (k) VALUES (2)", 0);
  cqlmux_statement_add_custom_payload(member, "member-only", "x", 1);
  cqlmux_batch *b = cqlmux_batch_new(CQLMUX_BATCH_UNLOGGED);
  cqlmux_batch_add(b, member);
  add_three_entries(add_to_batch, b);
  cqlmux_future *f = cqlmux_session_batch(s, b);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cr_assert_neq(last_request(m, CQLMUX_OP_BATCH).flags & CQLMUX_FLAG_CUSTOM_PAYLOAD, 0);
  assert_three_entries(f);
  cqlmux_future_free(f);
  cqlmux_batch_free(b);
  cqlmux_statement_free(member);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* The bounds, each with its error and a message; nothing changes on
 * failure. */
Test(prefix_mock, custom_payload_bounds) {
  cqlmux_statement *st = cqlmux_statement_new("SELECT 1", 0);
  cr_assert_eq(cqlmux_statement_add_custom_payload(NULL, "a", "b", 1),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_add_custom_payload(st, "", "b", 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(cqlmux_statement_error_message(st), "name"));
  cr_assert_eq(cqlmux_statement_add_custom_payload(st, NULL, "b", 1),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_add_custom_payload(st, "a", NULL, 1),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(cqlmux_statement_error_message(st), "value"));
  char name[16];
  for (int i = 0; i < CQLMUX_CUSTOM_PAYLOAD_MAX_ENTRIES; i++) {
    snprintf(name, sizeof name, "n%d", i);
    cr_assert_eq(cqlmux_statement_add_custom_payload(st, name, "v", 1), CQLMUX_OK);
  }
  cr_assert_eq(cqlmux_statement_add_custom_payload(st, "one-more", "v", 1),
               CQLMUX_ERR_BUFFER_TOO_SMALL);
  cr_assert(strstr(cqlmux_statement_error_message(st), "maximum"));
  cr_assert_eq(cqlmux_statement_add_custom_payload(st, "n0", "replaced", 8), CQLMUX_OK,
               "a full map still takes a new value for a name it has");
  cr_assert_eq(cqlmux_statement_set_tracing(NULL, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_batch_set_tracing(NULL, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_batch_add_custom_payload(NULL, "a", "b", 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_statement_free(st);
}

/* ------------------------------------------------------------ tracing */

/* set_tracing puts the TRACING flag on the request, and the answer's
 * tracing id is on the future; turned off again, neither. */
Test(prefix_mock, a_traced_statement_gets_its_tracing_id) {
  cqlmux_mock *m = session_fixture_mock(false);
  session_fixture_prime_cell(m, "SELECT v FROM t", "int", "1");
  cqlmux_session *s = connect_with(m, 5, false, NULL);
  cqlmux_statement *st = cqlmux_statement_new("SELECT v FROM t", 0);
  cr_assert_eq(cqlmux_statement_set_tracing(st, 1), CQLMUX_OK);
  cqlmux_future *f = execute_wait(s, st, CQLMUX_OK);
  cqlmux_mock_request r = last_request(m, CQLMUX_OP_QUERY);
  cr_assert_neq(r.flags & CQLMUX_FLAG_TRACING, 0);
  uint8_t id[16], expected[16];
  cqlmux_mock_tracing_id(r.seq, expected);
  cr_assert_eq(cqlmux_future_tracing_id(f, id), CQLMUX_OK);
  cr_assert_eq(memcmp(id, expected, 16), 0);
  cr_assert_eq(cqlmux_result_row_count(cqlmux_future_result(f)), 1);
  cqlmux_future_free(f);
  cqlmux_statement_set_tracing(st, 0);
  f = execute_wait(s, st, CQLMUX_OK);
  cr_assert_eq(last_request(m, CQLMUX_OP_QUERY).flags & CQLMUX_FLAG_TRACING, 0);
  cr_assert_eq(cqlmux_future_tracing_id(f, id), CQLMUX_ERR_NOT_FOUND);
  cqlmux_future_free(f);
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

#define SESSIONS_QUERY "SELECT * FROM system_traces.sessions WHERE session_id = ?"
#define EVENTS_QUERY "SELECT * FROM system_traces.events WHERE session_id = ?"
#define TRACE_ID_TEXT "4d6f636b-0000-11f0-8000-000000000001"

static const cqlmux_mock_column session_columns[] = {
    {"session_id", "uuid"}, {"duration", "int"}, {"request", "text"}};

/* The session row, with `duration` (NULL: still being written). */
static void prime_session_row(cqlmux_mock *m, const char *duration) {
  const char *cells[] = {TRACE_ID_TEXT, duration, "Execute CQL3 query"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, SESSIONS_QUERY);
  p.column_count = 3, p.columns = session_columns, p.row_count = 1, p.cells = cells;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
}

static void prime_events(cqlmux_mock *m) {
  static const cqlmux_mock_column cols[] = {{"activity", "text"}, {"source_elapsed", "int"}};
  const char *cells[] = {"Parsing SELECT", "10", "Read 1 live rows", "250"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, EVENTS_QUERY);
  p.column_count = 2, p.columns = cols, p.row_count = 2, p.cells = cells;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
}

/* Request hook: the third read of the session row finds it complete (the
 * prime added here answers this very request). */
static void complete_on_third_read(cqlmux_mock *m, const cqlmux_mock_request *req, void *data) {
  unsigned *reads = data; /* only the mock's one I/O thread touches it */
  if (req->opcode == CQLMUX_OP_QUERY && req->query && strcmp(req->query, SESSIONS_QUERY) == 0 &&
      ++*reads == 3)
    prime_session_row(m, "1234");
}

static size_t count_queries(cqlmux_mock *m, const char *query) {
  cqlmux_mock_filter filter = CQLMUX_MOCK_FILTER_ANY;
  filter.query = query;
  return cqlmux_mock_request_count(m, &filter);
}

/* The trace reader reads the session row until it has a duration (two
 * incomplete reads, then the complete one: exactly 3), then the events
 * (once), each at ONE; the trace future holds both results. With
 * `callback_threads` callback workers (0: its steps run on the I/O
 * thread). */
static void trace_after_two_incomplete_reads(unsigned callback_threads) {
  cqlmux_mock *m = session_fixture_mock(false);
  prime_session_row(m, NULL);
  prime_events(m);
  unsigned reads = 0;
  cqlmux_mock_set_request_hook(m, complete_on_third_read, &reads);
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_config_set_callback_threads(c, callback_threads);
  cqlmux_session *s = session_fixture_connect(c);
  uint8_t id[16];
  cqlmux_mock_tracing_id(1, id);
  cqlmux_future *f = cqlmux_session_trace(s, id, 10000);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cr_assert_eq(count_queries(m, SESSIONS_QUERY), 3);
  cr_assert_eq(count_queries(m, EVENTS_QUERY), 1);
  cr_assert_eq(last_request(m, CQLMUX_OP_QUERY).consistency, CQLMUX_CONSISTENCY_ONE);
  const cqlmux_result *session = cqlmux_future_trace_session(f);
  int col = cqlmux_result_column_index(session, "duration");
  int32_t duration = 0;
  cr_assert_eq(cqlmux_result_get_int32(session, 0, (size_t)col, &duration), CQLMUX_OK);
  cr_assert_eq(duration, 1234);
  uint8_t row_id[16];
  cr_assert_eq(cqlmux_result_get_uuid(session, 0, 0, row_id), CQLMUX_OK);
  cr_assert_eq(memcmp(row_id, id, 16), 0);
  const cqlmux_result *events = cqlmux_future_trace_events(f);
  cr_assert_eq(cqlmux_result_row_count(events), 2);
  const char *text;
  size_t len;
  cr_assert_eq(cqlmux_result_get_text(events, 1, 0, &text, &len), CQLMUX_OK);
  cr_assert_eq(len, strlen("Read 1 live rows"));
  cr_assert_eq(memcmp(text, "Read 1 live rows", len), 0);
  /* A trace future is not a request's: the request getters refuse it. */
  cr_assert_null(cqlmux_future_result(f));
  cr_assert_eq(cqlmux_future_warning_count(f), 0);
  cr_assert_eq(cqlmux_future_tracing_id(f, id), CQLMUX_ERR_NOT_FOUND);
  cqlmux_future_free(f);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(prefix_mock, the_trace_reader_waits_for_the_duration_then_reads_the_events) {
  trace_after_two_incomplete_reads(1);
}

Test(prefix_mock, the_trace_reader_runs_its_steps_on_the_io_thread_without_workers) {
  trace_after_two_incomplete_reads(0);
}

/* No session row within the wait: TIMEOUT, and the events are never read. */
Test(prefix_mock, the_trace_reader_gives_up_after_its_wait) {
  cqlmux_mock *m = session_fixture_mock(false);
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, SESSIONS_QUERY);
  p.column_count = 3, p.columns = session_columns;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  prime_events(m);
  cqlmux_session *s = connect_with(m, 5, false, NULL);
  uint8_t id[16];
  cqlmux_mock_tracing_id(1, id);
  cqlmux_future *f = cqlmux_session_trace(s, id, 50);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_TIMEOUT);
  cr_assert(strstr(cqlmux_future_error_message(f), "after 50 ms"), "%s",
            cqlmux_future_error_message(f));
  cr_assert_geq(count_queries(m, SESSIONS_QUERY), 1);
  cr_assert_eq(count_queries(m, EVENTS_QUERY), 0);
  cr_assert_null(cqlmux_future_trace_session(f));
  cr_assert_null(cqlmux_future_trace_events(f));
  cqlmux_future_free(f);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

/* A session freed while the reader waits on its timer: the trace future
 * still completes exactly once (SHUTDOWN), and the reader frees itself
 * with the future. */
Test(prefix_mock, a_trace_outstanding_at_session_free_completes_with_shutdown) {
  cqlmux_mock *m = session_fixture_mock(false);
  prime_session_row(m, NULL);
  cqlmux_session *s = connect_with(m, 5, false, NULL);
  uint8_t id[16];
  cqlmux_mock_tracing_id(1, id);
  cqlmux_future *f = cqlmux_session_trace(s, id, 60000);
  cr_assert_eq(cqlmux_mock_wait_requests(m, &(cqlmux_mock_filter){CQLMUX_MOCK_ANY,
                                                                  CQLMUX_MOCK_ANY,
                                                                  CQLMUX_MOCK_ANY,
                                                                  SESSIONS_QUERY},
                                         2, 10000),
               CQLMUX_OK);
  cqlmux_session_free(s);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_ERR_SHUTDOWN, "%s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  cqlmux_mock_free(m);
}

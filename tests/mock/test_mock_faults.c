/* Every fault of the mock, observed from the wire by a raw client. Timing
 * is never asserted: a delayed answer is seen to come after a later one. */
#include "config.h"

#include "mock/test_mock.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static int add_fault(cqlmux_mock *m, cqlmux_mock_fault_kind kind, const char *query) {
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, kind);
  f.query = query;
  int id = 0;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, &id), CQLMUX_OK);
  cr_assert_gt(id, 0);
  return id;
}

static void expect_closed(mock_client *c) {
  mock_reply r;
  int rc;
  do rc = mock_client_recv(c, &r, 5000);
  while (rc == CQLMUX_OK);
  cr_assert_eq(rc, CQLMUX_ERR_CONNECTION_CLOSED, "got %s", cqlmux_strerror(rc));
}

static void expect_silence(mock_client *c) {
  mock_reply r;
  cr_assert_eq(mock_client_recv(c, &r, 200), CQLMUX_ERR_TIMEOUT);
}

Test(faults, delay_reorders_answers) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  cqlmux_mock_fault f;
  int id;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_DELAY);
  f.query = "SELECT slow";
  f.delay_ms = 300;
  f.times = 1;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, &id), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 1, "SELECT slow", 1), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 2, "SELECT fast", 1), CQLMUX_OK);
  test_recv_result(&c, 2, CQLMUX_RESULT_VOID);
  test_recv_result(&c, 1, CQLMUX_RESULT_VOID);
  /* times = 1: the next one is not delayed. */
  cr_assert_eq(mock_client_query(&c, 3, "SELECT slow", 1), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 4, "SELECT fast", 1), CQLMUX_OK);
  test_recv_result(&c, 3, CQLMUX_RESULT_VOID);
  test_recv_result(&c, 4, CQLMUX_RESULT_VOID);
  cr_assert_eq(cqlmux_mock_fault_hits(m, id), 1);
  cqlmux_mock_filter q = CQLMUX_MOCK_FILTER_ANY;
  q.query = "SELECT slow";
  cr_assert_eq(cqlmux_mock_request_count(m, &q), 2);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, no_response) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 5, NULL);
  int id = add_fault(m, CQLMUX_MOCK_NO_RESPONSE, "SELECT lost");
  cr_assert_eq(mock_client_query(&c, 1, "SELECT lost", 1), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 2, "SELECT kept", 1), CQLMUX_OK);
  test_recv_result(&c, 2, CQLMUX_RESULT_VOID);
  expect_silence(&c);
  cqlmux_mock_filter q = CQLMUX_MOCK_FILTER_ANY;
  q.query = "SELECT lost";
  cr_assert_eq(cqlmux_mock_request_count(m, &q), 1);
  size_t n = cqlmux_mock_request_count(m, NULL);
  cqlmux_mock_request rec;
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(cqlmux_mock_request_at(m, i, &rec), CQLMUX_OK);
    if (rec.query && !strcmp(rec.query, "SELECT lost")) {
      cr_assert_eq(rec.fault, id);
      cr_assert_eq(rec.response_opcode, -1);
    }
  }
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, ignore_heartbeats_only) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  add_fault(m, CQLMUX_MOCK_IGNORE_HEARTBEAT, NULL);
  mock_client c;
  test_connect(m, 0, &c, 4);
  /* OPTIONS before STARTUP is part of the handshake, not a heartbeat. */
  cr_assert_eq(mock_client_options(&c, 0), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_SUPPORTED);
  cr_assert_eq(mock_client_handshake(&c, NULL, NULL, NULL, NULL), CQLMUX_OK);
  for (int16_t s = 1; s <= 3; s++) cr_assert_eq(mock_client_options(&c, s), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 9, "SELECT 1", 1), CQLMUX_OK);
  test_recv_result(&c, 9, CQLMUX_RESULT_VOID);
  expect_silence(&c);
  /* The test asserts what the client sent: three heartbeats. */
  size_t heartbeats = 0, n = cqlmux_mock_request_count(m, NULL);
  for (size_t i = 0; i < n; i++) {
    cqlmux_mock_request rec;
    cqlmux_mock_request_at(m, i, &rec);
    if (rec.opcode == CQLMUX_OP_OPTIONS && rec.after_startup) heartbeats++;
  }
  cr_assert_eq(heartbeats, 3);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, close_after_requests) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_CLOSE);
  f.opcode = CQLMUX_OP_QUERY;
  f.trigger = CQLMUX_MOCK_AFTER_REQUESTS;
  f.after = 2;
  int id;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, &id), CQLMUX_OK);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  for (int16_t s = 1; s <= 2; s++) {
    cr_assert_eq(mock_client_query(&c, s, "SELECT 1", 1), CQLMUX_OK);
    test_recv_result(&c, s, CQLMUX_RESULT_VOID);
  }
  cr_assert_eq(mock_client_query(&c, 3, "SELECT 1", 1), CQLMUX_OK);
  expect_closed(&c);
  cr_assert_eq(cqlmux_mock_wait_closed(m, 1, 5000), CQLMUX_OK);
  cqlmux_mock_connection conn;
  cr_assert_eq(cqlmux_mock_connection_get(m, 1, &conn), CQLMUX_OK);
  cr_assert(conn.closed_by_server);
  cr_assert_neq(conn.closed_us, 0);
  cr_assert_eq(cqlmux_mock_fault_hits(m, id), 1);
  cr_assert_eq(cqlmux_mock_fault_hit_count(m), 1);
  cqlmux_mock_fault_hit hit;
  cr_assert_eq(cqlmux_mock_fault_hit_at(m, 0, &hit), CQLMUX_OK);
  cr_assert_eq(hit.kind, CQLMUX_MOCK_CLOSE);
  cr_assert_eq(hit.stream, 3);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, close_by_time_and_by_command) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client a, b;
  test_ready(m, 0, &a, 4, NULL);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_CLOSE);
  f.connection = 1;
  f.trigger = CQLMUX_MOCK_AFTER_MS;
  f.after = 50;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  expect_closed(&a);

  test_ready(m, 0, &b, 5, NULL);
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_CLOSE);
  f.trigger = CQLMUX_MOCK_ON_COMMAND;
  int id;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, &id), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&b, 1, "SELECT 1", 1), CQLMUX_OK);
  test_recv_result(&b, 1, CQLMUX_RESULT_VOID);
  cr_assert_eq(cqlmux_mock_fault_fire(m, id), CQLMUX_OK);
  expect_closed(&b);
  mock_client_close(&a);
  mock_client_close(&b);
  cqlmux_mock_free(m);
}

Test(faults, close_with_reset) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_CLOSE);
  f.arg = 1;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  char byte;
  errno = 0;
  ssize_t k = read(c.fd, &byte, 1);
  cr_assert_eq(k, -1);
  cr_assert_eq(errno, ECONNRESET);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, refuse_connections) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  mock_client keep, c;
  test_ready(m, 0, &keep, 4, NULL);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_REFUSE);
  f.node = 0;
  int id;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, &id), CQLMUX_OK);
  char addr[64];
  uint16_t port;
  cqlmux_mock_node_address(m, 0, addr, sizeof addr, &port);
  cr_assert_eq(mock_client_connect(&c, addr, port, 4), -ECONNREFUSED);
  mock_client_close(&c);
  /* Other nodes and existing connections are untouched. */
  test_ready(m, 1, &c, 4, NULL);
  mock_client_close(&c);
  cr_assert_eq(mock_client_query(&keep, 1, "SELECT 1", 1), CQLMUX_OK);
  test_recv_result(&keep, 1, CQLMUX_RESULT_VOID);
  cr_assert_eq(cqlmux_mock_fault_clear(m, id), CQLMUX_OK);
  test_ready(m, 0, &c, 4, NULL);
  mock_client_close(&c);
  mock_client_close(&keep);
  cqlmux_mock_free(m);
}

/* The mock stops reading: the client's writes fill the socket buffers and
 * block; once reading resumes every request is answered. */
Test(faults, stop_reading_backpressure) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_STOP_READING);
  f.connection = 1;
  int id;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, &id), CQLMUX_OK);
  cqlmux_wbuf one;
  cqlmux_wbuf_init(&one, NULL, 0);
  cqlmux_request_header h = mock_client_header(&c, 0);
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE};
  static const char pad[2000] = "SELECT 'padding'";
  cqlmux_slice q = {(const uint8_t *)pad, sizeof pad};
  int sent = 0;
  size_t partial = 0;
  for (;;) {
    cqlmux_wbuf_reset(&one);
    h.stream = (int16_t)sent;
    cr_assert_eq(cqlmux_request_query(&one, &h, q, &p), CQLMUX_OK);
    ssize_t k = send(c.fd, one.data, one.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (k < 0) {
      cr_assert(errno == EAGAIN || errno == EWOULDBLOCK);
      break;
    }
    sent++;
    if ((size_t)k < one.len) {
      partial = (size_t)k;
      break;
    }
    cr_assert_lt(sent, 30000, "the mock kept reading");
  }
  cqlmux_mock_filter qf = CQLMUX_MOCK_FILTER_ANY;
  qf.opcode = CQLMUX_OP_QUERY;
  cr_assert_eq(cqlmux_mock_request_count(m, &qf), 0);
  cr_assert_gt(sent, 10);
  cr_assert_eq(cqlmux_mock_fault_clear(m, id), CQLMUX_OK);
  if (partial) cr_assert_eq(mock_client_send_raw(&c, one.data + partial, one.len - partial), CQLMUX_OK);
  cqlmux_wbuf_free(&one);
  for (int i = 0; i < sent; i++) test_recv_result(&c, (int16_t)i, CQLMUX_RESULT_VOID);
  cr_assert_eq(cqlmux_mock_request_count(m, &qf), (size_t)sent);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* Triggered by a request: the mock stops right after the third query and
 * leaves the last two unread until the fault is cleared. */
Test(faults, stop_reading_after_requests) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_STOP_READING);
  f.opcode = CQLMUX_OP_QUERY;
  f.trigger = CQLMUX_MOCK_AFTER_REQUESTS;
  f.after = 2;
  int id;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, &id), CQLMUX_OK);
  cqlmux_wbuf all;
  cqlmux_wbuf_init(&all, NULL, 0);
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE};
  cqlmux_slice q = {(const uint8_t *)"SELECT 1", 8};
  for (int16_t s = 1; s <= 5; s++) {
    cqlmux_request_header h = mock_client_header(&c, s);
    cr_assert_eq(cqlmux_request_query(&all, &h, q, &p), CQLMUX_OK);
  }
  cr_assert_eq(mock_client_send(&c, &all), CQLMUX_OK);
  cqlmux_wbuf_free(&all);
  for (int16_t s = 1; s <= 3; s++) test_recv_result(&c, s, CQLMUX_RESULT_VOID);
  expect_silence(&c);
  cqlmux_mock_filter qf = CQLMUX_MOCK_FILTER_ANY;
  qf.opcode = CQLMUX_OP_QUERY;
  cr_assert_eq(cqlmux_mock_request_count(m, &qf), 3);
  cr_assert_eq(cqlmux_mock_fault_clear(m, id), CQLMUX_OK);
  for (int16_t s = 4; s <= 5; s++) test_recv_result(&c, s, CQLMUX_RESULT_VOID);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, out_of_order_window) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 5, "lz4");
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_OUT_OF_ORDER);
  f.opcode = CQLMUX_OP_QUERY;
  f.arg = 10;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  for (int16_t s = 0; s < 10; s++) cr_assert_eq(mock_client_query(&c, s, "SELECT 1", 1), CQLMUX_OK);
  for (int16_t s = 9; s >= 0; s--) test_recv_result(&c, s, CQLMUX_RESULT_VOID);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

static void malformed(uint32_t arg) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_MALFORMED);
  f.query = "SELECT bad";
  f.arg = arg;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 1, "SELECT bad", 1), CQLMUX_OK);
  mock_reply r;
  if (arg == 1) {
    cr_assert_eq(mock_client_recv(&c, &r, 5000), CQLMUX_ERR_MALFORMED);
  } else {
    test_recv(&c, &r);
    cr_assert_eq(r.h.opcode, CQLMUX_OP_RESULT);
    cqlmux_arena arena;
    cqlmux_arena_init(&arena, NULL, NULL, 0);
    cqlmux_result_msg res;
    cr_assert_neq(cqlmux_result_decode(4, r.body, r.len, &arena, &res), CQLMUX_OK);
    cqlmux_arena_free(&arena);
  }
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, malformed_body) { malformed(0); }
Test(faults, malformed_opcode) { malformed(1); }

static void truncated(uint8_t version) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, version, NULL);
  add_fault(m, CQLMUX_MOCK_TRUNCATED, "SELECT * FROM system.local");
  cr_assert_eq(mock_client_query(&c, 1, "SELECT * FROM system.local", 1), CQLMUX_OK);
  expect_closed(&c);
  cr_assert_gt(mock_client_buffered(&c), 0);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, truncated_v4) { truncated(4); }
Test(faults, truncated_v5) { truncated(5); }

Test(faults, wrong_stream) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 5, NULL);
  add_fault(m, CQLMUX_MOCK_WRONG_STREAM, "SELECT 1");
  cr_assert_eq(mock_client_query(&c, 7, "SELECT 1", 1), CQLMUX_OK);
  test_recv_result(&c, 8, CQLMUX_RESULT_VOID);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

static void bad_crc(uint32_t arg, const char *compression) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 5, compression);
  cr_assert_eq(mock_client_query(&c, 1, "SELECT ok", 1), CQLMUX_OK);
  test_recv_result(&c, 1, CQLMUX_RESULT_VOID);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_BAD_CRC);
  f.query = "SELECT corrupt";
  f.arg = arg;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 2, "SELECT corrupt", 1), CQLMUX_OK);
  mock_reply r;
  cr_assert_eq(mock_client_recv(&c, &r, 5000), CQLMUX_ERR_BAD_CRC);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, bad_payload_crc) { bad_crc(0, NULL); }
Test(faults, bad_header_crc) { bad_crc(1, NULL); }
Test(faults, bad_crc_lz4) { bad_crc(0, "lz4"); }

Test(faults, push_event_after_requests) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  const char *events[] = {"STATUS_CHANGE"};
  cr_assert_eq(mock_client_register(&c, 1, events, 1), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_PUSH_EVENT);
  f.opcode = CQLMUX_OP_QUERY;
  f.trigger = CQLMUX_MOCK_AFTER_REQUESTS;
  f.after = 1;
  f.event.type = CQLMUX_MOCK_EVENT_STATUS;
  f.event.change = "DOWN";
  f.event.about_node = 1;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 2, "SELECT 1", 1), CQLMUX_OK);
  test_recv_result(&c, 2, CQLMUX_RESULT_VOID);
  cr_assert_eq(mock_client_query(&c, 3, "SELECT 1", 1), CQLMUX_OK);
  bool event = false, answer = false;
  for (int i = 0; i < 2; i++) {
    test_recv(&c, &r);
    if (r.h.opcode == CQLMUX_OP_EVENT) {
      cqlmux_event e;
      cr_assert_eq(cqlmux_event_decode(r.body, r.len, &e), CQLMUX_OK);
      cr_assert_eq(e.kind, CQLMUX_EVENT_STATUS_CHANGE);
      event = true;
    } else {
      cr_assert_eq(r.h.stream, 3);
      answer = true;
    }
  }
  cr_assert(event && answer);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* A restart closes the node's connections, refuses new ones while down,
 * forgets prepared statements, and pushes DOWN/UP to the other nodes. */
Test(faults, restart_node) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  mock_client watcher, c;
  test_ready(m, 0, &watcher, 5, "lz4");
  const char *events[] = {"STATUS_CHANGE"};
  cr_assert_eq(mock_client_register(&watcher, 1, events, 1), CQLMUX_OK);
  mock_reply r;
  test_recv(&watcher, &r);
  test_ready(m, 1, &c, 4, NULL);
  cr_assert_eq(mock_client_prepare(&c, 1, "SELECT p"), CQLMUX_OK);
  test_recv(&c, &r);
  cqlmux_arena arena;
  cqlmux_arena_init(&arena, NULL, NULL, 0);
  cqlmux_result_msg res;
  cr_assert_eq(cqlmux_result_decode(4, r.body, r.len, &arena, &res), CQLMUX_OK);
  uint8_t id[16];
  cr_assert_eq(res.prepared.id.len, 16);
  memcpy(id, res.prepared.id.data, 16);
  cqlmux_arena_free(&arena);

  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_RESTART);
  f.node = 1;
  f.query = "SELECT restart";
  f.trigger = CQLMUX_MOCK_AFTER_REQUESTS;
  f.arg = 600000; /* down until started by hand below */
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 2, "SELECT restart", 1), CQLMUX_OK);
  expect_closed(&c);
  mock_client_close(&c);
  test_recv(&watcher, &r);
  cqlmux_event e;
  cr_assert_eq(cqlmux_event_decode(r.body, r.len, &e), CQLMUX_OK);
  cr_assert_eq(memcmp(e.change.data, "DOWN", 4), 0);
  char addr[64];
  uint16_t port;
  cqlmux_mock_node_address(m, 1, addr, sizeof addr, &port);
  cr_assert_eq(mock_client_connect(&c, addr, port, 4), -ECONNREFUSED);
  mock_client_close(&c);

  cr_assert_eq(cqlmux_mock_node_start(m, 1), CQLMUX_OK);
  test_recv(&watcher, &r);
  cr_assert_eq(cqlmux_event_decode(r.body, r.len, &e), CQLMUX_OK);
  cr_assert_eq(memcmp(e.change.data, "UP", 2), 0);
  test_ready(m, 1, &c, 4, NULL);
  cr_assert_eq(mock_client_execute(&c, 3, id, sizeof id, 1), CQLMUX_OK);
  test_recv(&c, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_ERROR);
  cr_assert_eq(mock_reply_error(&r, NULL, 0), CQLMUX_CQL_UNPREPARED);
  mock_client_close(&c);
  mock_client_close(&watcher);
  cqlmux_mock_free(m);
}

Test(faults, on_command_response_fault) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_NO_RESPONSE);
  f.trigger = CQLMUX_MOCK_ON_COMMAND;
  f.opcode = CQLMUX_OP_QUERY;
  int id;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, &id), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 1, "SELECT 1", 1), CQLMUX_OK);
  test_recv_result(&c, 1, CQLMUX_RESULT_VOID);
  cr_assert_eq(cqlmux_mock_fault_fire(m, id), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 2, "SELECT 1", 1), CQLMUX_OK);
  expect_silence(&c);
  cr_assert_eq(cqlmux_mock_fault_clear(m, id), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 3, "SELECT 1", 1), CQLMUX_OK);
  test_recv_result(&c, 3, CQLMUX_RESULT_VOID);
  cr_assert_eq(cqlmux_mock_fault_fire(m, 999), CQLMUX_ERR_NOT_FOUND);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(faults, per_node_scope) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  mock_client a, b;
  test_ready(m, 0, &a, 4, NULL);
  test_ready(m, 1, &b, 4, NULL);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_NO_RESPONSE);
  f.node = 1;
  f.opcode = CQLMUX_OP_QUERY;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&a, 1, "SELECT 1", 1), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&b, 1, "SELECT 1", 1), CQLMUX_OK);
  test_recv_result(&a, 1, CQLMUX_RESULT_VOID);
  expect_silence(&b);
  mock_client_close(&a);
  mock_client_close(&b);
  cqlmux_mock_free(m);
}

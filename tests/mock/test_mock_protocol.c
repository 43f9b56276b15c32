/* The mock speaks the protocol as Cassandra 5.0 does: handshakes in v4 and
 * v5 (framed, with and without LZ4), version negotiation errors, auth, the
 * system tables and events. */
#include "config.h"

#include "mock/test_mock.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <unistd.h>

#include "proto/arena.h"

/* Decodes a RESULT body into res, arena-backed. */
static void decode_result(const mock_reply *r, cqlmux_arena *arena, cqlmux_result_msg *res) {
  cqlmux_arena_init(arena, NULL, NULL, 0);
  int rc = cqlmux_result_decode(r->h.version, r->body, r->len, arena, res);
  cr_assert_eq(rc, CQLMUX_OK, "result decode: %s", cqlmux_strerror(rc));
}

static bool cell_text_is(const cqlmux_rows *rows, uint32_t row, uint32_t col, const char *want) {
  cqlmux_bytes v;
  if (cqlmux_rows_cell(rows, row, col, &v) || v.len < 0) return false;
  return (size_t)v.len == strlen(want) && memcmp(v.data, want, (size_t)v.len) == 0;
}

static int column_index(const cqlmux_rows *rows, const char *name) {
  for (int32_t i = 0; i < rows->meta.columns_count; i++) {
    cqlmux_slice n = rows->meta.columns[i].name;
    if (n.len == strlen(name) && memcmp(n.data, name, n.len) == 0) return i;
  }
  return -1;
}

Test(protocol, options_then_startup_v4) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_connect(m, 0, &c, 4);
  cr_assert_eq(mock_client_options(&c, 3), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_SUPPORTED);
  cr_assert_eq(r.h.stream, 3);
  cr_assert_eq(r.h.version, 4);
  cqlmux_supported s;
  cr_assert_eq(cqlmux_supported_decode(r.body, r.len, &s), CQLMUX_OK);
  cqlmux_string_list versions;
  cr_assert_eq(cqlmux_supported_find(&s, "PROTOCOL_VERSIONS", &versions), CQLMUX_OK);
  cr_assert_eq(versions.count, 3);
  cqlmux_string_list comp;
  cr_assert_eq(cqlmux_supported_find(&s, "COMPRESSION", &comp), CQLMUX_OK);
  cr_assert_eq(mock_client_handshake(&c, NULL, NULL, NULL, NULL), CQLMUX_OK);
  cr_assert_not(c.framed);
  cr_assert_eq(mock_client_query(&c, 7, "INSERT INTO ks.t (k) VALUES (1)", CQLMUX_CONSISTENCY_QUORUM),
               CQLMUX_OK);
  test_recv_result(&c, 7, CQLMUX_RESULT_VOID);
  cqlmux_mock_connection conn;
  cr_assert_eq(cqlmux_mock_connection_get(m, 1, &conn), CQLMUX_OK);
  cr_assert_eq(conn.version, 4);
  cr_assert_not(conn.framed);
  cr_assert_eq(conn.requests, 3);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* v5 switches to frames right after READY, here with and without LZ4. */
static void v5_session(const char *compression) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 5, compression);
  cr_assert(c.framed);
  /* A result big enough to need several frames, and many small ones. */
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, "SELECT big");
  cqlmux_mock_column col = {"v", "text"};
  static char big[200000];
  memset(big, 'x', sizeof big - 1);
  const char *cells[] = {big};
  p.column_count = 1;
  p.columns = &col;
  p.row_count = 1;
  p.cells = cells;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  for (int16_t i = 0; i < 50; i++)
    cr_assert_eq(mock_client_query(&c, i, "SELECT key FROM system.local", 1), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 50, "SELECT big", 1), CQLMUX_OK);
  for (int16_t i = 0; i <= 50; i++) test_recv_result(&c, i, CQLMUX_RESULT_ROWS);
  /* A request bigger than a frame reaches the mock in several frames. */
  static char long_query[150000];
  memset(long_query, ' ', sizeof long_query - 1);
  memcpy(long_query, "SELECT 1", 8);
  cr_assert_eq(mock_client_query(&c, 51, long_query, 1), CQLMUX_OK);
  test_recv_result(&c, 51, CQLMUX_RESULT_VOID);
  cr_assert_eq(mock_client_options(&c, 60), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_SUPPORTED);
  cqlmux_mock_connection conn;
  cr_assert_eq(cqlmux_mock_connection_get(m, 1, &conn), CQLMUX_OK);
  cr_assert_eq(conn.version, 5);
  cr_assert(conn.framed);
  cr_assert_eq(conn.compressed, compression != NULL);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(protocol, v5_framed) { v5_session(NULL); }
Test(protocol, v5_framed_lz4) { v5_session("lz4"); }

Test(protocol, v4_lz4_compresses_every_answer_after_startup) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_connect(m, 0, &c, 4);
  cr_assert_eq(mock_client_startup(&c, 0, "lz4"), CQLMUX_OK);
  /* Read the raw READY: Cassandra compresses it already. */
  mock_reply r;
  test_recv(&c, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_READY);
  cr_assert_eq(mock_client_query(&c, 1, "SELECT * FROM system.local", 1), CQLMUX_OK);
  test_recv_result(&c, 1, CQLMUX_RESULT_ROWS);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* Asks for `asked`; expects ERROR 0x000A on stream 0 in envelope version
 * `reply`, then the connection closed. */
static void expect_version_error(cqlmux_mock *m, uint8_t asked, uint8_t reply, const char *list) {
  mock_client c;
  test_connect(m, 0, &c, 4);
  uint8_t startup[] = {asked, 0, 0, 9, CQLMUX_OP_STARTUP, 0, 0, 0, 0};
  cr_assert_eq(mock_client_send_raw(&c, startup, sizeof startup), CQLMUX_OK);
  uint8_t buf[512];
  size_t got = 0;
  for (;;) {
    ssize_t k = read(c.fd, buf + got, sizeof buf - got);
    if (k <= 0) break;
    got += (size_t)k;
  }
  size_t hdr = reply >= 3 ? 9 : 8;
  cr_assert_geq(got, hdr + 4);
  cr_assert_eq(buf[0], 0x80 | reply);
  cr_assert_eq(buf[hdr - 5], CQLMUX_OP_ERROR);
  cr_assert_eq(cqlmux_load_u32(buf + hdr), CQLMUX_CQL_PROTOCOL_ERROR);
  char want[160];
  snprintf(want, sizeof want,
           "Invalid or unsupported protocol version (%u); supported versions are (%s)", asked,
           list);
  size_t mlen = cqlmux_load_u16(buf + hdr + 4);
  cr_assert_eq(mlen, strlen(want));
  cr_assert_eq(memcmp(buf + hdr + 6, want, mlen), 0);
  mock_client_close(&c);
}

Test(protocol, version_negotiation_errors) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  expect_version_error(m, 6, 5, "3/v3, 4/v4, 5/v5");
  expect_version_error(m, 2, 2, "3/v3, 4/v4, 5/v5");
  cqlmux_mock_filter f = CQLMUX_MOCK_FILTER_ANY;
  cr_assert_eq(cqlmux_mock_request_count(m, &f), 2);
  cqlmux_mock_request req;
  cr_assert_eq(cqlmux_mock_request_at(m, 0, &req), CQLMUX_OK);
  cr_assert_eq(req.version, 6);
  cr_assert_eq(req.error_code, CQLMUX_CQL_PROTOCOL_ERROR);
  cqlmux_mock_free(m);

  /* A v4-only node (like Cassandra 3.x) answers a v5 client in v4. */
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.distinct_addresses = false;
  cfg.versions = CQLMUX_MOCK_V3 | CQLMUX_MOCK_V4;
  m = test_mock_start(1, &cfg);
  expect_version_error(m, 5, 4, "3/v3, 4/v4");
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(protocol, messages_before_startup_are_refused) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_connect(m, 0, &c, 4);
  cr_assert_eq(mock_client_query(&c, 4, "SELECT 1", 1), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  char msg[128];
  cr_assert_eq(r.h.opcode, CQLMUX_OP_ERROR);
  cr_assert_eq(r.h.stream, 4);
  cr_assert_eq(mock_reply_error(&r, msg, sizeof msg), CQLMUX_CQL_PROTOCOL_ERROR);
  cr_assert_str_eq(msg, "Unexpected message QUERY, expecting STARTUP or OPTIONS");
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

static void auth_attempt(uint8_t version, const char *password, bool ok) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.distinct_addresses = false;
  cfg.username = "cassandra";
  cfg.password = "secret";
  cqlmux_mock *m = test_mock_start(1, &cfg);
  mock_client c;
  test_connect(m, 0, &c, version);
  int32_t code = 0;
  int rc = mock_client_handshake(&c, NULL, "cassandra", password, &code);
  if (ok) {
    cr_assert_eq(rc, CQLMUX_OK);
    cr_assert_eq(mock_client_query(&c, 2, "SELECT x", 1), CQLMUX_OK);
    test_recv_result(&c, 2, CQLMUX_RESULT_VOID);
  } else {
    cr_assert_eq(rc, CQLMUX_ERR_SERVER);
    cr_assert_eq(code, CQLMUX_CQL_BAD_CREDENTIALS);
  }
  cqlmux_mock_connection conn;
  cr_assert_eq(cqlmux_mock_connection_get(m, 1, &conn), CQLMUX_OK);
  cr_assert_eq(conn.authenticated, ok);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(protocol, auth_good_v4) { auth_attempt(4, "secret", true); }
Test(protocol, auth_bad_v4) { auth_attempt(4, "wrong", false); }
Test(protocol, auth_good_v5) { auth_attempt(5, "secret", true); }
Test(protocol, auth_bad_v5) { auth_attempt(5, "wrong", false); }

/* Every node reports the same cluster: its own row in system.local and the
 * others in system.peers / peers_v2, with matching host ids and tokens. */
Test(protocol, system_tables_are_consistent) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.dc_count = 2;
  cfg.nodes_per_dc[0] = 2;
  cfg.nodes_per_dc[1] = 1;
  cfg.distinct_addresses = false;
  cqlmux_mock *m = test_mock_start(0, &cfg);
  cr_assert_eq(cqlmux_mock_node_count(m), 3);
  for (int node = 0; node < 3; node++) {
    mock_client c;
    test_ready(m, node, &c, 5, NULL);
    cr_assert_eq(mock_client_query(&c, 1, "SELECT * FROM system.local WHERE key='local'", 1),
                 CQLMUX_OK);
    cr_assert_eq(mock_client_query(&c, 2, "SELECT * FROM system.peers_v2", 1), CQLMUX_OK);
    cr_assert_eq(mock_client_query(&c, 3, "select peer, host_id, data_center FROM system.peers", 1),
                 CQLMUX_OK);
    mock_reply r;
    cqlmux_arena arena;
    cqlmux_result_msg res;
    test_recv(&c, &r);
    decode_result(&r, &arena, &res);
    cr_assert_eq(res.rows.rows_count, 1);
    const char *dc = node < 2 ? "dc1" : "dc2";
    cr_assert(cell_text_is(&res.rows, 0, (uint32_t)column_index(&res.rows, "data_center"), dc));
    cr_assert(cell_text_is(&res.rows, 0, (uint32_t)column_index(&res.rows, "release_version"),
                           "5.0.2"));
    cqlmux_bytes hid;
    cr_assert_eq(cqlmux_rows_cell(&res.rows, 0, (uint32_t)column_index(&res.rows, "host_id"), &hid),
                 CQLMUX_OK);
    uint8_t want[16];
    cqlmux_mock_node_host_id(m, node, want);
    cr_assert_eq(memcmp(hid.data, want, 16), 0);
    cqlmux_arena_free(&arena);

    test_recv(&c, &r);
    decode_result(&r, &arena, &res);
    cr_assert_eq(res.rows.rows_count, 2);
    int port_col = column_index(&res.rows, "native_port");
    cr_assert_geq(port_col, 0);
    cqlmux_arena_free(&arena);

    test_recv(&c, &r);
    decode_result(&r, &arena, &res);
    cr_assert_eq(res.rows.rows_count, 2);
    cr_assert_eq(res.rows.meta.columns_count, 3);
    cqlmux_arena_free(&arena);
    mock_client_close(&c);
  }
  cqlmux_mock_free(m);
}

/* The default layout: node i on 127.0.0.(1+i), one port for all, and
 * system.peers giving each peer's address. */
Test(protocol, distinct_addresses_share_a_port) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.nodes_per_dc[0] = 3;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  char addr[64];
  uint16_t port0, port;
  cqlmux_mock_node_address(m, 0, addr, sizeof addr, &port0);
  cr_assert_str_eq(addr, "127.0.0.1");
  cqlmux_mock_node_address(m, 2, addr, sizeof addr, &port);
  cr_assert_str_eq(addr, "127.0.0.3");
  cr_assert_eq(port, port0);
  mock_client c;
  test_ready(m, 2, &c, 4, NULL);
  cr_assert_eq(mock_client_query(&c, 1, "SELECT peer, rpc_address FROM system.peers", 1),
               CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  cqlmux_arena arena;
  cqlmux_result_msg res;
  decode_result(&r, &arena, &res);
  cr_assert_eq(res.rows.rows_count, 2);
  bool seen[3] = {false, false, false};
  for (uint32_t row = 0; row < 2; row++) {
    cqlmux_bytes v;
    cr_assert_eq(cqlmux_rows_cell(&res.rows, row, 1, &v), CQLMUX_OK);
    cr_assert_eq(v.len, 4);
    cr_assert(v.data[0] == 127 && v.data[1] == 0 && v.data[2] == 0 && v.data[3] >= 1 && v.data[3] <= 2);
    seen[v.data[3] - 1] = true;
  }
  cr_assert(seen[0] && seen[1]);
  cqlmux_arena_free(&arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(protocol, system_table_errors_as_cassandra) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.distinct_addresses = false;
  cfg.release_version = "3.11.17";
  cqlmux_mock *m = test_mock_start(1, &cfg);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  char msg[128];
  mock_reply r;
  cr_assert_eq(mock_client_query(&c, 1, "SELECT * FROM system.peers_v2", 1), CQLMUX_OK);
  test_recv(&c, &r);
  cr_assert_eq(mock_reply_error(&r, msg, sizeof msg), CQLMUX_CQL_INVALID);
  cr_assert_str_eq(msg, "unconfigured table peers_v2");
  cr_assert_eq(mock_client_query(&c, 2, "SELECT nope FROM system.local", 1), CQLMUX_OK);
  test_recv(&c, &r);
  cr_assert_eq(mock_reply_error(&r, msg, sizeof msg), CQLMUX_CQL_INVALID);
  cr_assert_str_eq(msg, "Undefined column name nope in table system.local");
  cr_assert_eq(mock_client_query(&c, 3, "SELECT keyspace_name FROM system_schema.keyspaces", 1),
               CQLMUX_OK);
  test_recv_result(&c, 3, CQLMUX_RESULT_ROWS);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* Drivers read system_virtual_schema (Cassandra 4.0+) for metadata: the
 * answer must be ROWS, empty, with the columns asked for, never VOID (the
 * DataStax Python driver cannot iterate a VOID result and gives up on the
 * connection). */
Test(protocol, virtual_schema_tables_are_empty_rows) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  const char *queries[] = {"SELECT * from system_virtual_schema.keyspaces",
                           "SELECT keyspace_name, table_name FROM system_virtual_schema.tables"};
  const int32_t want_columns[] = {1, 2};
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(mock_client_query(&c, (int16_t)(i + 1), queries[i], 1), CQLMUX_OK);
    mock_reply r;
    test_recv(&c, &r);
    cr_assert_eq(r.h.opcode, CQLMUX_OP_RESULT, "%s: opcode 0x%02x", queries[i], r.h.opcode);
    cqlmux_arena arena;
    cqlmux_result_msg res;
    decode_result(&r, &arena, &res);
    cr_assert_eq(res.kind, CQLMUX_RESULT_ROWS, "%s", queries[i]);
    cr_assert_eq(res.rows.rows_count, 0);
    cr_assert_eq(res.rows.meta.columns_count, want_columns[i]);
    const cqlmux_slice *name = &res.rows.meta.columns[0].name;
    cr_assert(name->len == 13 && !memcmp(name->data, "keyspace_name", 13));
    cqlmux_arena_free(&arena);
  }
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(protocol, register_and_events) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  const char *events[] = {"TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"};
  cr_assert_eq(mock_client_register(&c, 1, events, 3), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_READY);
  cqlmux_mock_event ev = {.type = CQLMUX_MOCK_EVENT_SCHEMA, .change = "CREATED",
                          .target = "TABLE", .keyspace = "ks", .name = "t"};
  cr_assert_eq(cqlmux_mock_push_event(m, CQLMUX_MOCK_ANY, &ev), 1);
  test_recv(&c, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_EVENT);
  cr_assert_eq(r.h.stream, -1);
  cqlmux_event e;
  cr_assert_eq(cqlmux_event_decode(r.body, r.len, &e), CQLMUX_OK);
  cr_assert_eq(e.kind, CQLMUX_EVENT_SCHEMA_CHANGE);
  cr_assert_eq(e.schema.target_kind, CQLMUX_TARGET_TABLE);

  /* Stopping node 1 pushes DOWN about it; starting it, UP. */
  cr_assert_eq(cqlmux_mock_node_stop(m, 1), CQLMUX_OK);
  test_recv(&c, &r);
  cr_assert_eq(cqlmux_event_decode(r.body, r.len, &e), CQLMUX_OK);
  cr_assert_eq(e.kind, CQLMUX_EVENT_STATUS_CHANGE);
  cr_assert_eq(e.change.len, 4);
  cr_assert_eq(memcmp(e.change.data, "DOWN", 4), 0);
  char addr[64];
  uint16_t port;
  cqlmux_mock_node_address(m, 1, addr, sizeof addr, &port);
  cr_assert_eq(e.address.port, port);
  cr_assert_eq(cqlmux_mock_node_start(m, 1), CQLMUX_OK);
  test_recv(&c, &r);
  cr_assert_eq(cqlmux_event_decode(r.body, r.len, &e), CQLMUX_OK);
  cr_assert_eq(memcmp(e.change.data, "UP", 2), 0);

  int added = -1;
  cr_assert_eq(cqlmux_mock_node_add(m, "dc1", NULL, &added), CQLMUX_OK);
  cr_assert_eq(added, 2);
  test_recv(&c, &r);
  cr_assert_eq(cqlmux_event_decode(r.body, r.len, &e), CQLMUX_OK);
  cr_assert_eq(e.kind, CQLMUX_EVENT_TOPOLOGY_CHANGE);
  cr_assert_eq(memcmp(e.change.data, "NEW_NODE", 8), 0);
  cr_assert_eq(mock_client_query(&c, 9, "SELECT peer FROM system.peers", 1), CQLMUX_OK);
  test_recv(&c, &r);
  cqlmux_arena arena;
  cqlmux_result_msg res;
  decode_result(&r, &arena, &res);
  cr_assert_eq(res.rows.rows_count, 2);
  cqlmux_arena_free(&arena);
  cr_assert_eq(cqlmux_mock_node_remove(m, 2), CQLMUX_OK);
  test_recv(&c, &r);
  cr_assert_eq(cqlmux_event_decode(r.body, r.len, &e), CQLMUX_OK);
  cr_assert_eq(memcmp(e.change.data, "REMOVED_NODE", 12), 0);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

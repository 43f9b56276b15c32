/* Several clients at once, deep pipelines answered out of order, the null
 * mode, the records and the request hook. */
#include "config.h"

#include "mock/test_mock.h"

#include <pthread.h>
#include <stdatomic.h>

#define PIPELINE 10000

/* Sends PIPELINE queries in one go and checks that each stream id comes
 * back exactly once, out of order. */
static void pipeline(uint8_t version, const char *compression) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  mock_client c;
  test_ready(m, 0, &c, version, compression);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_OUT_OF_ORDER);
  f.opcode = CQLMUX_OP_QUERY;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  cqlmux_wbuf all;
  cqlmux_wbuf_init(&all, NULL, 0);
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_LOCAL_QUORUM};
  cqlmux_slice q = {(const uint8_t *)"SELECT v FROM ks.t WHERE k = 1", 30};
  for (int i = 0; i < PIPELINE; i++) {
    cqlmux_request_header h = mock_client_header(&c, (int16_t)i);
    cr_assert_eq(cqlmux_request_query(&all, &h, q, &p), CQLMUX_OK);
  }
  cr_assert_eq(mock_client_send(&c, &all), CQLMUX_OK);
  cqlmux_wbuf_free(&all);
  static bool seen[PIPELINE];
  memset(seen, 0, sizeof seen);
  int out_of_order = 0, last = -1;
  for (int i = 0; i < PIPELINE; i++) {
    mock_reply r;
    test_recv(&c, &r);
    cr_assert_eq(r.h.opcode, CQLMUX_OP_RESULT);
    cr_assert(r.h.stream >= 0 && r.h.stream < PIPELINE);
    cr_assert_not(seen[r.h.stream], "stream %d answered twice", r.h.stream);
    seen[r.h.stream] = true;
    if (r.h.stream < last) out_of_order++;
    last = r.h.stream;
  }
  cr_assert_gt(out_of_order, 0);
  cqlmux_mock_filter qf = CQLMUX_MOCK_FILTER_ANY;
  qf.opcode = CQLMUX_OP_QUERY;
  cr_assert_eq(cqlmux_mock_request_count(m, &qf), PIPELINE);
  cqlmux_mock_request rec;
  cr_assert_eq(cqlmux_mock_request_at(m, 1, &rec), CQLMUX_OK);
  cr_assert_eq(rec.consistency, CQLMUX_CONSISTENCY_LOCAL_QUORUM);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(clients, pipeline_out_of_order_v4) { pipeline(4, NULL); }
Test(clients, pipeline_out_of_order_v5_lz4) { pipeline(5, "lz4"); }

typedef struct worker {
  cqlmux_mock *m;
  int node;
  uint8_t version;
  int ok;
} worker;

static void *run_worker(void *arg) {
  worker *w = arg;
  mock_client c;
  char addr[64];
  uint16_t port;
  cqlmux_mock_node_address(w->m, w->node, addr, sizeof addr, &port);
  if (mock_client_connect(&c, addr, port, w->version) ||
      mock_client_handshake(&c, NULL, NULL, NULL, NULL))
    return NULL;
  for (int i = 0; i < 500; i++) {
    mock_reply r;
    if (mock_client_query(&c, (int16_t)(i % 100), "SELECT 1", CQLMUX_CONSISTENCY_ONE) ||
        mock_client_recv(&c, &r, 5000) || r.h.stream != i % 100)
      break;
    w->ok++;
  }
  mock_client_close(&c);
  return NULL;
}

Test(clients, two_clients_at_once) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  worker w[2] = {{m, 0, 4, 0}, {m, 1, 5, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, run_worker, &w[i]);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  cr_assert_eq(w[0].ok, 500);
  cr_assert_eq(w[1].ok, 500);
  cqlmux_mock_filter f = CQLMUX_MOCK_FILTER_ANY;
  f.opcode = CQLMUX_OP_QUERY;
  f.node = 1;
  cr_assert_eq(cqlmux_mock_request_count(m, &f), 500);
  cr_assert_eq(cqlmux_mock_connection_count(m, CQLMUX_MOCK_ANY), 2);
  cqlmux_mock_connection conn;
  cr_assert_eq(cqlmux_mock_connection_at(m, 0, &conn), CQLMUX_OK);
  cr_assert_str_neq(conn.client_address, "");
  cqlmux_mock_free(m);
}

/* Null mode with several I/O threads: canned answers, only counted. */
Test(clients, null_mode) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.distinct_addresses = false;
  cfg.null_mode = true;
  cfg.threads = 3;
  cqlmux_mock *m = test_mock_start(1, &cfg);
  worker w[3] = {{m, 0, 4, 0}, {m, 0, 5, 0}, {m, 0, 4, 0}};
  pthread_t t[3];
  for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, run_worker, &w[i]);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 3; i++) cr_assert_eq(w[i].ok, 500);
  cr_assert_eq(cqlmux_mock_null_count(m), 1500);
  cqlmux_mock_filter f = CQLMUX_MOCK_FILTER_ANY;
  f.opcode = CQLMUX_OP_QUERY;
  cr_assert_eq(cqlmux_mock_request_count(m, &f), 0);

  mock_client c;
  test_ready(m, 0, &c, 5, "lz4");
  cr_assert_eq(mock_client_query(&c, 1, "SELECT * FROM ks.anything", 1), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  cqlmux_arena arena;
  cqlmux_arena_init(&arena, NULL, NULL, 0);
  cqlmux_result_msg res;
  cr_assert_eq(cqlmux_result_decode(5, r.body, r.len, &arena, &res), CQLMUX_OK);
  cr_assert_eq(res.kind, CQLMUX_RESULT_ROWS);
  cr_assert_eq(res.rows.rows_count, 1);
  cr_assert_eq(res.rows.meta.columns_count, 6);
  cqlmux_arena_free(&arena);
  cr_assert_eq(mock_client_prepare(&c, 2, "SELECT * FROM ks.t WHERE k = ?"), CQLMUX_OK);
  test_recv(&c, &r);
  cqlmux_arena_init(&arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(5, r.body, r.len, &arena, &res), CQLMUX_OK);
  cr_assert_eq(res.kind, CQLMUX_RESULT_PREPARED);
  cr_assert_eq(res.prepared.bind_count, 1);
  uint8_t id[16];
  memcpy(id, res.prepared.id.data, 16);
  cqlmux_arena_free(&arena);
  cr_assert_eq(mock_client_execute(&c, 3, id, sizeof id, 1), CQLMUX_OK);
  test_recv_result(&c, 3, CQLMUX_RESULT_ROWS);
  /* One bind marker per '?' (not those inside quotes): an INSERT of five. */
  cr_assert_eq(mock_client_prepare(&c, 5, "INSERT INTO ks.t (k, c1, c2, c3, c4) VALUES "
                                          "(?, ?, ?, ?, ?) USING TTL 5 -- '?'"),
               CQLMUX_OK);
  test_recv(&c, &r);
  cqlmux_arena_init(&arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(5, r.body, r.len, &arena, &res), CQLMUX_OK);
  cr_assert_eq(res.prepared.bind_count, 5);
  /* Typed as the benchmark's INSERT binds them: k text first, c5 blob last. */
  cr_assert_eq(res.prepared.bind_columns[0].type->id, CQLMUX_TYPE_TEXT);
  cr_assert_eq(res.prepared.bind_columns[1].type->id, CQLMUX_TYPE_INT);
  cr_assert_eq(res.prepared.bind_columns[4].type->id, CQLMUX_TYPE_BLOB);
  cqlmux_arena_free(&arena);
  /* System tables keep working for the client's discovery. */
  cr_assert_eq(mock_client_query(&c, 4, "SELECT * FROM system.peers", 1), CQLMUX_OK);
  test_recv(&c, &r);
  cqlmux_arena_init(&arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(5, r.body, r.len, &arena, &res), CQLMUX_OK);
  cr_assert_eq(res.rows.rows_count, 0);
  cqlmux_arena_free(&arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

typedef struct hook_state {
  atomic_int calls;
  atomic_int wrong_thread;
  pthread_t test_thread;
} hook_state;

/* Closes the connection on the third QUERY, from inside the hook. */
static void hook(cqlmux_mock *m, const cqlmux_mock_request *req, void *user_data) {
  hook_state *s = user_data;
  if (pthread_equal(pthread_self(), s->test_thread)) atomic_fetch_add(&s->wrong_thread, 1);
  if (req->opcode != CQLMUX_OP_QUERY) return;
  if (atomic_fetch_add(&s->calls, 1) + 1 == 3) {
    cqlmux_mock_fault f;
    cqlmux_mock_fault_init(&f, CQLMUX_MOCK_CLOSE);
    f.connection = req->connection;
    cqlmux_mock_fault_add(m, &f, NULL);
  }
}

Test(clients, request_hook) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  hook_state s;
  atomic_init(&s.calls, 0);
  atomic_init(&s.wrong_thread, 0);
  s.test_thread = pthread_self();
  cqlmux_mock_set_request_hook(m, hook, &s);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  for (int16_t i = 1; i <= 2; i++) {
    cr_assert_eq(mock_client_query(&c, i, "SELECT 1", 1), CQLMUX_OK);
    test_recv_result(&c, i, CQLMUX_RESULT_VOID);
  }
  cr_assert_eq(mock_client_query(&c, 3, "SELECT 1", 1), CQLMUX_OK);
  mock_reply r;
  int rc;
  do rc = mock_client_recv(&c, &r, 5000);
  while (rc == CQLMUX_OK);
  cr_assert_eq(rc, CQLMUX_ERR_CONNECTION_CLOSED);
  cr_assert_eq(atomic_load(&s.calls), 3);
  cr_assert_eq(atomic_load(&s.wrong_thread), 0);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(clients, wait_for_records) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  cqlmux_mock_filter f = CQLMUX_MOCK_FILTER_ANY;
  f.opcode = CQLMUX_OP_QUERY;
  cr_assert_eq(cqlmux_mock_wait_requests(m, &f, 1, 50), CQLMUX_ERR_TIMEOUT);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  cr_assert_eq(cqlmux_mock_wait_connections(m, 0, 1, true, 5000), CQLMUX_OK);
  cr_assert_eq(mock_client_query(&c, 5, "SELECT 1", CQLMUX_CONSISTENCY_TWO), CQLMUX_OK);
  cr_assert_eq(cqlmux_mock_wait_requests(m, &f, 1, 5000), CQLMUX_OK);
  test_recv_result(&c, 5, CQLMUX_RESULT_VOID);
  cqlmux_mock_log_clear(m);
  cr_assert_eq(cqlmux_mock_request_count(m, NULL), 0);
  cr_assert_eq(cqlmux_mock_connection_count(m, 0), 1);
  mock_client_close(&c);
  cr_assert_eq(cqlmux_mock_wait_closed(m, 1, 5000), CQLMUX_OK);
  cqlmux_mock_connection conn;
  cr_assert_eq(cqlmux_mock_connection_get(m, 1, &conn), CQLMUX_OK);
  cr_assert_not(conn.closed_by_server);
  cr_assert_eq(cqlmux_mock_open_connections(m, CQLMUX_MOCK_ANY), 0);
  cqlmux_mock_free(m);
}

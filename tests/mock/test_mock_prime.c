/* Priming: rows with typed columns, paging, void, errors with details,
 * prepared statements (per node, UNPREPARED), USE. */
#include "config.h"

#include "mock/test_mock.h"

#include "proto/arena.h"
#include "proto/values.h"

typedef struct decoded {
  mock_reply r;
  cqlmux_arena arena;
  cqlmux_result_msg res;
} decoded;

static void query_result(mock_client *c, int16_t stream, const char *q, decoded *d) {
  cr_assert_eq(mock_client_query(c, stream, q, CQLMUX_CONSISTENCY_QUORUM), CQLMUX_OK);
  test_recv(c, &d->r);
  cr_assert_eq(d->r.h.opcode, CQLMUX_OP_RESULT, "opcode 0x%02x", d->r.h.opcode);
  cqlmux_arena_init(&d->arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(c->version, d->r.body, d->r.len, &d->arena, &d->res), CQLMUX_OK);
}

static cqlmux_bytes cell(const decoded *d, uint32_t row, uint32_t col) {
  cqlmux_bytes v;
  cr_assert_eq(cqlmux_rows_cell(&d->res.rows, row, col, &v), CQLMUX_OK);
  return v;
}

Test(prime, rows_with_types) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  cqlmux_mock_column cols[] = {{"id", "int"},
                               {"name", "text"},
                               {"tags", "set<text>"},
                               {"scores", "map<text, bigint>"},
                               {"uid", "uuid"},
                               {"pair", "tuple<int, text>"},
                               {"emb", "vector<float, 3>"},
                               {"ok", "boolean"},
                               {"raw", "blob"}};
  const char *cells[] = {"1",    "alice", "{'a', 'b'}", "{'x': 10, 'y': 20}",
                         "123e4567-e89b-12d3-a456-426614174000", "(7, 'seven')",
                         "[1.5, 2.5, 3.5]", "true", "0xcafe",
                         "2",    "'it''s bob'", "{}", NULL, NULL, "(8, null)", NULL, "false", "0x"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, "SELECT * FROM ks.users");
  p.column_count = 9;
  p.columns = cols;
  p.row_count = 2;
  p.cells = cells;
  p.table = "users";
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  mock_client c;
  test_ready(m, 0, &c, 5, NULL);
  decoded d;
  query_result(&c, 1, "SELECT * FROM ks.users", &d);
  cr_assert_eq(d.res.rows.rows_count, 2);
  cr_assert_eq(d.res.rows.meta.columns_count, 9);
  cr_assert_eq(d.res.rows.meta.columns[3].type->id, CQLMUX_TYPE_MAP);
  cr_assert_eq(d.res.rows.meta.columns[6].type->id, CQLMUX_TYPE_VECTOR);
  int32_t id;
  cr_assert_eq(cqlmux_value_get_int(cell(&d, 1, 0), &id), CQLMUX_OK);
  cr_assert_eq(id, 2);
  cqlmux_slice name;
  cr_assert_eq(cqlmux_value_get_text(cell(&d, 1, 1), &name), CQLMUX_OK);
  cr_assert_eq(name.len, 8);
  cr_assert_eq(memcmp(name.data, "it's bob", 8), 0);
  cr_assert_eq(cell(&d, 1, 3).len, CQLMUX_VALUE_NULL);
  cr_assert_eq(cqlmux_value_validate(d.res.rows.meta.columns[3].type, cell(&d, 0, 3)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_validate(d.res.rows.meta.columns[5].type, cell(&d, 0, 5)), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_validate(d.res.rows.meta.columns[6].type, cell(&d, 0, 6)), CQLMUX_OK);
  cr_assert_eq(cell(&d, 0, 6).len, 12);
  cr_assert_eq(cell(&d, 1, 8).len, 0);
  cqlmux_arena_free(&d.arena);
  mock_client_close(&c);

  /* A cell that does not parse as its type is refused up front. */
  const char *bad[] = {"not-a-number"};
  cqlmux_mock_column one = {"x", "int"};
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, "SELECT bad");
  p.column_count = 1;
  p.columns = &one;
  p.row_count = 1;
  p.cells = bad;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_mock_free(m);
}

Test(prime, dates_durations_decimals) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  cqlmux_mock_column cols[] = {{"d", "date"}, {"du", "duration"}, {"dec", "decimal"},
                               {"ip", "inet"}, {"big", "varint"}, {"t", "time"}};
  const char *cells[] = {"'2024-01-31'", "1h30m", "-12.50", "::1", "300", "1000"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, "SELECT misc");
  p.column_count = 6;
  p.columns = cols;
  p.row_count = 1;
  p.cells = cells;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  decoded d;
  query_result(&c, 1, "SELECT misc", &d);
  uint32_t day;
  cr_assert_eq(cqlmux_value_get_date(cell(&d, 0, 0), &day), CQLMUX_OK);
  cr_assert_eq(day, 2147483648u + 19753u);
  cqlmux_duration du;
  cr_assert_eq(cqlmux_value_get_duration(cell(&d, 0, 1), &du), CQLMUX_OK);
  cr_assert_eq(du.nanoseconds, 5400000000000LL);
  cqlmux_decimal dec;
  cr_assert_eq(cqlmux_value_get_decimal(cell(&d, 0, 2), &dec), CQLMUX_OK);
  cr_assert_eq(dec.scale, 2);
  int64_t unscaled;
  cr_assert_eq(cqlmux_decimal_unscaled_i64(&dec, &unscaled), CQLMUX_OK);
  cr_assert_eq(unscaled, -1250);
  cr_assert_eq(cell(&d, 0, 3).len, 16);
  int64_t big;
  cr_assert_eq(cqlmux_value_get_varint(cell(&d, 0, 4), &big), CQLMUX_OK);
  cr_assert_eq(big, 300);
  cqlmux_arena_free(&d.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(prime, paging) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  cqlmux_mock_column col = {"n", "int"};
  const char *cells[] = {"0", "1", "2", "3", "4"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, "SELECT n FROM ks.t");
  p.column_count = 1;
  p.columns = &col;
  p.row_count = 5;
  p.cells = cells;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  cqlmux_slice q = {(const uint8_t *)"SELECT n FROM ks.t", 18};
  uint8_t state[64];
  size_t state_len = 0;
  int total = 0, pages = 0;
  for (;;) {
    cqlmux_wbuf b;
    cqlmux_wbuf_init(&b, NULL, 0);
    cqlmux_query_params qp = {.consistency = 1, .has_page_size = true, .page_size = 2};
    if (state_len) {
      qp.has_paging_state = true;
      qp.paging_state.data = state;
      qp.paging_state.len = state_len;
    }
    cqlmux_request_header h = mock_client_header(&c, 1);
    cr_assert_eq(cqlmux_request_query(&b, &h, q, &qp), CQLMUX_OK);
    cr_assert_eq(mock_client_send(&c, &b), CQLMUX_OK);
    cqlmux_wbuf_free(&b);
    decoded d;
    test_recv(&c, &d.r);
    cqlmux_arena_init(&d.arena, NULL, NULL, 0);
    cr_assert_eq(cqlmux_result_decode(4, d.r.body, d.r.len, &d.arena, &d.res), CQLMUX_OK);
    for (int32_t i = 0; i < d.res.rows.rows_count; i++) {
      int32_t n;
      cr_assert_eq(cqlmux_value_get_int(cell(&d, (uint32_t)i, 0), &n), CQLMUX_OK);
      cr_assert_eq(n, total++);
    }
    pages++;
    bool more = d.res.rows.meta.flags & CQLMUX_ROWS_FLAG_HAS_MORE_PAGES;
    if (more) {
      state_len = (size_t)d.res.rows.meta.paging_state.len;
      memcpy(state, d.res.rows.meta.paging_state.data, state_len);
    }
    cqlmux_arena_free(&d.arena);
    if (!more) break;
  }
  cr_assert_eq(total, 5);
  cr_assert_eq(pages, 3);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(prime, errors_with_details) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, "SELECT timeout");
  p.error_code = CQLMUX_CQL_READ_TIMEOUT;
  p.error_message = "Operation timed out - received only 1 responses.";
  p.received = 1;
  p.block_for = 2;
  p.data_present = true;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, "INSERT*");
  p.error_code = CQLMUX_CQL_WRITE_FAILURE;
  p.consistency = CQLMUX_CONSISTENCY_ALL;
  p.received = 0;
  p.block_for = 3;
  p.num_failures = 2;
  p.write_type = "BATCH";
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  for (uint8_t version = 4; version <= 5; version++) {
    mock_client c;
    test_ready(m, 0, &c, version, NULL);
    cr_assert_eq(mock_client_query(&c, 1, "SELECT timeout", CQLMUX_CONSISTENCY_QUORUM), CQLMUX_OK);
    mock_reply r;
    test_recv(&c, &r);
    cr_assert_eq(r.h.opcode, CQLMUX_OP_ERROR);
    cqlmux_error_body e;
    cr_assert_eq(cqlmux_error_decode(version, r.body, r.len, &e), CQLMUX_OK);
    cr_assert_eq(e.code, CQLMUX_CQL_READ_TIMEOUT);
    cr_assert_eq(e.consistency, CQLMUX_CONSISTENCY_QUORUM); /* the request's */
    cr_assert_eq(e.received, 1);
    cr_assert_eq(e.block_for, 2);
    cr_assert(e.data_present);
    cr_assert_eq(mock_client_query(&c, 2, "INSERT INTO ks.t (k) VALUES (1)", 1), CQLMUX_OK);
    test_recv(&c, &r);
    cr_assert_eq(cqlmux_error_decode(version, r.body, r.len, &e), CQLMUX_OK);
    cr_assert_eq(e.code, CQLMUX_CQL_WRITE_FAILURE);
    cr_assert_eq(e.consistency, CQLMUX_CONSISTENCY_ALL);
    cr_assert_eq(e.block_for, 3);
    cr_assert_eq(e.num_failures, 2);
    cr_assert_eq(e.write_type.len, 5);
    mock_client_close(&c);
  }
  cqlmux_mock_filter f = CQLMUX_MOCK_FILTER_ANY;
  f.query = "INSERT*";
  cr_assert_eq(cqlmux_mock_request_count(m, &f), 2);
  cqlmux_mock_free(m);
}

/* PREPARE is known on the node it ran on only; EXECUTE of an unknown id
 * gets UNPREPARED carrying that id. */
Test(prime, prepared_statements) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  cqlmux_mock_column cols[] = {{"k", "int"}, {"v", "text"}};
  cqlmux_mock_column params[] = {{"k", "int"}};
  const char *cells[] = {"1", "one"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, "SELECT k, v FROM ks.t WHERE k = ?");
  p.column_count = 2;
  p.columns = cols;
  p.row_count = 1;
  p.cells = cells;
  p.param_count = 1;
  p.params = params;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  mock_client a, b;
  test_ready(m, 0, &a, 5, NULL);
  test_ready(m, 1, &b, 4, NULL);
  cr_assert_eq(mock_client_prepare(&a, 1, "SELECT k, v FROM ks.t WHERE k = ?"), CQLMUX_OK);
  decoded d;
  test_recv(&a, &d.r);
  cqlmux_arena_init(&d.arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(5, d.r.body, d.r.len, &d.arena, &d.res), CQLMUX_OK);
  cr_assert_eq(d.res.kind, CQLMUX_RESULT_PREPARED);
  cr_assert_eq(d.res.prepared.bind_count, 1);
  cr_assert_eq(d.res.prepared.result.columns_count, 2);
  cr_assert_eq(d.res.prepared.result_metadata_id.len, 16);
  uint8_t id[16];
  memcpy(id, d.res.prepared.id.data, 16);
  cqlmux_arena_free(&d.arena);

  cr_assert_eq(mock_client_execute(&a, 2, id, 16, CQLMUX_CONSISTENCY_LOCAL_ONE), CQLMUX_OK);
  test_recv_result(&a, 2, CQLMUX_RESULT_ROWS);
  cr_assert_eq(mock_client_execute(&b, 2, id, 16, 1), CQLMUX_OK);
  mock_reply r;
  test_recv(&b, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_ERROR);
  cqlmux_error_body e;
  cr_assert_eq(cqlmux_error_decode(4, r.body, r.len, &e), CQLMUX_OK);
  cr_assert_eq(e.code, CQLMUX_CQL_UNPREPARED);
  cr_assert_eq(e.unprepared_id.len, 16);
  cr_assert_eq(memcmp(e.unprepared_id.data, id, 16), 0);

  /* The record names the statement behind the id. */
  cqlmux_mock_filter f = CQLMUX_MOCK_FILTER_ANY;
  f.opcode = CQLMUX_OP_EXECUTE;
  f.node = 0;
  cr_assert_eq(cqlmux_mock_request_count(m, &f), 1);
  size_t n = cqlmux_mock_request_count(m, NULL);
  for (size_t i = 0; i < n; i++) {
    cqlmux_mock_request rec;
    cqlmux_mock_request_at(m, i, &rec);
    if (rec.opcode != CQLMUX_OP_EXECUTE || rec.node != 0) continue;
    cr_assert_str_eq(rec.query, "SELECT k, v FROM ks.t WHERE k = ?");
    cr_assert_eq(rec.consistency, CQLMUX_CONSISTENCY_LOCAL_ONE);
    cr_assert_eq(rec.prepared_id_len, 16);
  }

  cr_assert_eq(cqlmux_mock_node_forget_prepared(m, 0), CQLMUX_OK);
  cr_assert_eq(mock_client_execute(&a, 3, id, 16, 1), CQLMUX_OK);
  test_recv(&a, &r);
  cr_assert_eq(mock_reply_error(&r, NULL, 0), CQLMUX_CQL_UNPREPARED);
  mock_client_close(&a);
  mock_client_close(&b);
  cqlmux_mock_free(m);
}

Test(prime, prepared_by_raw_id_everywhere) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  static const uint8_t raw[4] = {0xde, 0xad, 0xbe, 0xef};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_VOID, NULL);
  p.prepared_id = raw;
  p.prepared_id_len = sizeof raw;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  for (int node = 0; node < 2; node++) {
    mock_client c;
    test_ready(m, node, &c, 4, NULL);
    cr_assert_eq(mock_client_execute(&c, 1, raw, sizeof raw, 1), CQLMUX_OK);
    test_recv_result(&c, 1, CQLMUX_RESULT_VOID);
    mock_client_close(&c);
  }
  cqlmux_mock_free(m);
}

Test(prime, prepare_error_use_and_unprimed) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.distinct_addresses = false;
  cfg.unprimed_is_error = true;
  cqlmux_mock *m = test_mock_start(1, &cfg);
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, "SELECT oops");
  p.opcode = CQLMUX_OP_PREPARE;
  p.error_code = CQLMUX_CQL_SYNTAX_ERROR;
  p.error_message = "line 1:7 no viable alternative";
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  cr_assert_eq(mock_client_prepare(&c, 1, "SELECT oops"), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  char msg[128];
  cr_assert_eq(mock_reply_error(&r, msg, sizeof msg), CQLMUX_CQL_SYNTAX_ERROR);
  cr_assert_str_eq(msg, "line 1:7 no viable alternative");
  cr_assert_eq(mock_client_query(&c, 2, "USE \"MyKs\"", 1), CQLMUX_OK);
  decoded d;
  test_recv(&c, &d.r);
  cqlmux_arena_init(&d.arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(4, d.r.body, d.r.len, &d.arena, &d.res), CQLMUX_OK);
  cr_assert_eq(d.res.kind, CQLMUX_RESULT_SET_KEYSPACE);
  cr_assert_eq(d.res.keyspace.len, 4);
  cr_assert_eq(memcmp(d.res.keyspace.data, "MyKs", 4), 0);
  cqlmux_arena_free(&d.arena);
  cr_assert_eq(mock_client_query(&c, 3, "SELECT nothing", 1), CQLMUX_OK);
  test_recv(&c, &r);
  cr_assert_eq(mock_reply_error(&r, NULL, 0), CQLMUX_CQL_INVALID);
  mock_client_close(&c);
  cqlmux_mock_prime_clear(m);
  cqlmux_mock_free(m);
}

Test(prime, node_specific_and_later_wins) {
  cqlmux_mock *m = test_mock_start(2, NULL);
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ERROR, "SELECT x");
  p.error_code = CQLMUX_CQL_OVERLOADED;
  p.node = 1;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_SCHEMA_CHANGE, "CREATE TABLE*");
  p.change = "CREATED";
  p.target = "TABLE";
  p.keyspace = "ks";
  p.table = "t2";
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  mock_client a, b;
  test_ready(m, 0, &a, 4, NULL);
  test_ready(m, 1, &b, 4, NULL);
  cr_assert_eq(mock_client_query(&a, 1, "SELECT x", 1), CQLMUX_OK);
  test_recv_result(&a, 1, CQLMUX_RESULT_VOID);
  cr_assert_eq(mock_client_query(&b, 1, "SELECT x", 1), CQLMUX_OK);
  mock_reply r;
  test_recv(&b, &r);
  cr_assert_eq(mock_reply_error(&r, NULL, 0), CQLMUX_CQL_OVERLOADED);
  cr_assert_eq(mock_client_query(&a, 2, "CREATE TABLE ks.t2 (k int PRIMARY KEY)", 1), CQLMUX_OK);
  test_recv_result(&a, 2, CQLMUX_RESULT_SCHEMA_CHANGE);
  mock_client_close(&a);
  mock_client_close(&b);
  cqlmux_mock_free(m);
}

/* Routing: a prime's partition key declared in PREPARED (pk_indexes and
 * the global table spec), and the token of the key an EXECUTE or a BATCH
 * binds, recorded on the request. Expected tokens come from published
 * Murmur3 vectors or from keys composed here by hand. */
#include "config.h"

#include "mock/test_mock.h"

#include "proto/arena.h"

static const cqlmux_mock_column kv_params[] = {{"k", "text"}};
static const cqlmux_mock_column three_params[] = {{"a", "int"}, {"b", "text"}, {"c", "int"}};
static const cqlmux_mock_column v_column[] = {{"v", "int"}};

/* SELECT v FROM app.kv WHERE k = ? (pk 0) and a three-marker statement
 * whose partition key is (c, a): markers 2 then 0. */
static cqlmux_mock *start_primed(void) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  static const uint16_t pk_k[] = {0}, pk_ca[] = {2, 0};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, "SELECT v FROM app.kv WHERE k = ?");
  p.keyspace = "app";
  p.table = "kv";
  p.params = kv_params;
  p.param_count = 1;
  p.columns = v_column;
  p.column_count = 1;
  p.pk_indexes = pk_k;
  p.pk_count = 1;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_VOID, "UPDATE app.t SET b = ? WHERE a = ? AND c = ?");
  p.keyspace = "app";
  p.table = "t";
  p.params = three_params;
  p.param_count = 3;
  p.pk_indexes = pk_ca;
  p.pk_count = 2;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
  return m;
}

/* A PREPARED answer; `id` is a copy (the reply body is reused by the next
 * receive). */
typedef struct prepared {
  mock_reply r;
  cqlmux_arena arena;
  cqlmux_result_msg res;
  uint8_t id_buf[64];
  cqlmux_slice id;
} prepared;

static void prepare(mock_client *c, const char *q, prepared *d) {
  cr_assert_eq(mock_client_prepare(c, 1, q), CQLMUX_OK);
  test_recv(c, &d->r);
  cr_assert_eq(d->r.h.opcode, CQLMUX_OP_RESULT);
  cqlmux_arena_init(&d->arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(c->version, d->r.body, d->r.len, &d->arena, &d->res),
               CQLMUX_OK);
  cr_assert_eq(d->res.kind, CQLMUX_RESULT_PREPARED);
  cr_assert_leq(d->res.prepared.id.len, sizeof d->id_buf);
  memcpy(d->id_buf, d->res.prepared.id.data, d->res.prepared.id.len);
  d->id.data = d->id_buf;
  d->id.len = d->res.prepared.id.len;
}

static bool slice_is(cqlmux_slice s, const char *text) {
  return s.len == strlen(text) && memcmp(s.data, text, s.len) == 0;
}

static void check_pk(uint8_t version) {
  cqlmux_mock *m = start_primed();
  mock_client c;
  test_ready(m, 0, &c, version, NULL);
  prepared d;
  prepare(&c, "UPDATE app.t SET b = ? WHERE a = ? AND c = ?", &d);
  const cqlmux_prepared_msg *p = &d.res.prepared;
  cr_assert_eq(p->bind_count, 3);
  cr_assert_eq(p->pk_count, 2, "v%u: pk_count %d", version, p->pk_count);
  cr_assert_eq(cqlmux_prepared_pk_index(p, 0), 2);
  cr_assert_eq(cqlmux_prepared_pk_index(p, 1), 0);
  cr_assert(p->flags & CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC);
  cr_assert(slice_is(p->global_keyspace, "app"));
  cr_assert(slice_is(p->global_table, "t"));
  cqlmux_arena_free(&d.arena);
  /* A statement without pk= declares none, as Cassandra does when a
   * partition key column has no bind marker of its own. */
  prepare(&c, "SELECT unprimed", &d);
  cr_assert_eq(d.res.prepared.pk_count, 0);
  cqlmux_arena_free(&d.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(routing, pk_indexes_in_prepared_v4) { check_pk(4); }
Test(routing, pk_indexes_in_prepared_v5) { check_pk(5); }

Test(routing, invalid_pk_refused) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  static const uint16_t out_of_range[] = {1}, twice[] = {0, 0};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_VOID, "SELECT x WHERE k = ?");
  p.params = kv_params;
  p.param_count = 1;
  p.pk_indexes = out_of_range;
  p.pk_count = 1;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_ERR_INVALID_ARGUMENT);
  p.pk_indexes = twice;
  p.pk_count = 2;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_mock_free(m);
}

/* Executes `id` with these values and returns the request's record. */
static void execute(cqlmux_mock *m, mock_client *c, cqlmux_slice id, const cqlmux_bytes *values,
                    uint16_t n, cqlmux_mock_request *rec) {
  cqlmux_query_params qp;
  memset(&qp, 0, sizeof qp);
  qp.consistency = CQLMUX_CONSISTENCY_ONE;
  qp.values = values;
  qp.value_count = n;
  cr_assert_eq(mock_client_execute_params(c, 3, id, id, &qp), CQLMUX_OK);
  mock_reply r;
  test_recv(c, &r);
  char error[256] = "";
  if (r.h.opcode == CQLMUX_OP_ERROR) mock_reply_error(&r, error, sizeof error);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_RESULT, "EXECUTE answered %s", error);
  size_t count = cqlmux_mock_request_count(m, NULL);
  cr_assert_eq(cqlmux_mock_request_at(m, count - 1, rec), CQLMUX_OK);
  cr_assert_eq(rec->opcode, CQLMUX_OP_EXECUTE);
}

static cqlmux_bytes bytes_of(const void *p, int32_t len) {
  cqlmux_bytes b = {p, len};
  return b;
}

Test(routing, execute_records_the_token_of_its_key) {
  cqlmux_mock *m = start_primed();
  mock_client c;
  test_ready(m, 0, &c, 5, NULL);
  prepared d;
  prepare(&c, "SELECT v FROM app.kv WHERE k = ?", &d);
  cqlmux_mock_request rec;

  /* One component: the value's bytes. "123" is a published vector. */
  cqlmux_bytes key = bytes_of("123", 3);
  execute(m, &c, d.id, &key, 1, &rec);
  cr_assert(rec.has_token);
  cr_assert_eq(rec.token, -7468325962851647638LL);
  /* A null key has no token. */
  key = bytes_of(NULL, CQLMUX_VALUE_NULL);
  execute(m, &c, d.id, &key, 1, &rec);
  cr_assert_not(rec.has_token);
  cqlmux_arena_free(&d.arena);

  /* Two components, (c, a) = (9, 7): each as length, bytes, 0x00. */
  prepare(&c, "UPDATE app.t SET b = ? WHERE a = ? AND c = ?", &d);
  static const uint8_t a[] = {0, 0, 0, 7}, c9[] = {0, 0, 0, 9};
  cqlmux_bytes values[] = {bytes_of(a, 4), bytes_of("x", 1), bytes_of(c9, 4)};
  execute(m, &c, d.id, values, 3, &rec);
  static const uint8_t composite[] = {0, 4, 0, 0, 0, 9, 0, 0, 4, 0, 0, 0, 7, 0};
  cr_assert(rec.has_token);
  cr_assert_eq(rec.token, cqlmux_mock_token(composite, sizeof composite));
  /* Fewer values than the key needs: no token. */
  execute(m, &c, d.id, values, 2, &rec);
  cr_assert_not(rec.has_token);
  cqlmux_arena_free(&d.arena);

  /* Statements without a partition key, and QUERY, record none. */
  prepare(&c, "SELECT unprimed", &d);
  execute(m, &c, d.id, NULL, 0, &rec);
  cr_assert_not(rec.has_token);
  cqlmux_arena_free(&d.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* A BATCH is recorded with its first member's token: drivers route a
 * batch by its first statement. */
Test(routing, batch_records_its_first_members_token) {
  cqlmux_mock *m = start_primed();
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  prepared d;
  prepare(&c, "SELECT v FROM app.kv WHERE k = ?", &d);
  cqlmux_bytes key = bytes_of("123", 3);
  cqlmux_batch_statement members[] = {
      {CQLMUX_BATCH_KIND_PREPARED, d.id, &key, 1, NULL},
      {CQLMUX_BATCH_KIND_QUERY, {(const uint8_t *)"INSERT x", 8}, NULL, 0, NULL}};
  cqlmux_batch_msg batch;
  memset(&batch, 0, sizeof batch);
  batch.type = CQLMUX_BATCH_LOGGED;
  batch.statements = members;
  batch.count = 2;
  batch.consistency = CQLMUX_CONSISTENCY_ONE;
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_request_header h = mock_client_header(&c, 4);
  cr_assert_eq(cqlmux_request_batch(&b, &h, &batch), CQLMUX_OK);
  cr_assert_eq(mock_client_send(&c, &b), CQLMUX_OK);
  cqlmux_wbuf_free(&b);
  test_recv_result(&c, 4, CQLMUX_RESULT_VOID);
  cqlmux_mock_request rec;
  cr_assert_eq(cqlmux_mock_request_at(m, cqlmux_mock_request_count(m, NULL) - 1, &rec), CQLMUX_OK);
  cr_assert_eq(rec.opcode, CQLMUX_OP_BATCH);
  cr_assert(rec.has_token);
  cr_assert_eq(rec.token, -7468325962851647638LL);
  cqlmux_arena_free(&d.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* pk= in the scenario language. */
Test(routing, prime_line_with_pk) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  char msg[128];
  cr_assert_eq(cqlmux_mock_script(m,
                                  "prime void query=\"INSERT INTO app.t (a, c) VALUES (?, ?)\" "
                                  "params=\"a int | c text\" pk=1,0 keyspace=app table=t",
                                  msg, sizeof msg),
               CQLMUX_OK, "%s", msg);
  cr_assert_neq(cqlmux_mock_script(m, "prime void query=\"Q\" params=\"a int\" pk=1", msg,
                                   sizeof msg),
                CQLMUX_OK);
  cr_assert_neq(cqlmux_mock_script(m, "prime void query=\"Q\" params=\"a int\" pk=x", msg,
                                   sizeof msg),
                CQLMUX_OK);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  prepared d;
  prepare(&c, "INSERT INTO app.t (a, c) VALUES (?, ?)", &d);
  cr_assert_eq(d.res.prepared.pk_count, 2);
  cr_assert_eq(cqlmux_prepared_pk_index(&d.res.prepared, 0), 1);
  cr_assert_eq(cqlmux_prepared_pk_index(&d.res.prepared, 1), 0);
  cqlmux_arena_free(&d.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

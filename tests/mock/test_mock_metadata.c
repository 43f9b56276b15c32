/* v5 result metadata changes (CASSANDRA-10786): PREPARED carries a result
 * metadata id; after `alter` changes a prime's columns, an EXECUTE that
 * sends the old id gets ROWS with METADATA_CHANGED, the new id and the full
 * metadata; one that sends the current id with SKIP_METADATA gets no
 * metadata. The rows keep the cells of the columns that stay. */
#include "config.h"

#include "mock/test_mock.h"

#include "proto/arena.h"
#include "proto/values.h"

#define QUERY "SELECT * FROM app.t"

static cqlmux_mock *start_primed(void) {
  cqlmux_mock *m = test_mock_start(1, NULL);
  char msg[160];
  cr_assert_eq(cqlmux_mock_script(m,
                                  "prime rows query=\"" QUERY "\" keyspace=app table=t "
                                  "columns=\"k int | v text\" row=\"1 | 'a'\" row=\"2 | 'b'\"",
                                  msg, sizeof msg),
               CQLMUX_OK, "%s", msg);
  return m;
}

typedef struct answer {
  mock_reply r;
  cqlmux_arena arena;
  cqlmux_result_msg res;
} answer;

static void receive(mock_client *c, answer *a, int32_t kind) {
  test_recv(c, &a->r);
  cr_assert_eq(a->r.h.opcode, CQLMUX_OP_RESULT, "opcode 0x%02x", a->r.h.opcode);
  cqlmux_arena_init(&a->arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(c->version, a->r.body, a->r.len, &a->arena, &a->res),
               CQLMUX_OK);
  cr_assert_eq(a->res.kind, kind);
}

typedef struct ids {
  uint8_t id[16], md[16];
} ids;

static void prepare(mock_client *c, ids *out) {
  cr_assert_eq(mock_client_prepare(c, 1, QUERY), CQLMUX_OK);
  answer a;
  receive(c, &a, CQLMUX_RESULT_PREPARED);
  cr_assert_eq(a.res.prepared.id.len, 16);
  memcpy(out->id, a.res.prepared.id.data, 16);
  if (c->version >= 5) {
    cr_assert_eq(a.res.prepared.result_metadata_id.len, 16);
    memcpy(out->md, a.res.prepared.result_metadata_id.data, 16);
  }
  cqlmux_arena_free(&a.arena);
}

static void execute(mock_client *c, const ids *s, const uint8_t *md, bool skip, answer *a) {
  cqlmux_query_params qp;
  memset(&qp, 0, sizeof qp);
  qp.consistency = CQLMUX_CONSISTENCY_ONE;
  qp.skip_metadata = skip;
  cqlmux_slice id = {s->id, 16}, meta = {md, 16};
  cr_assert_eq(mock_client_execute_params(c, 2, id, meta, &qp), CQLMUX_OK);
  receive(c, a, CQLMUX_RESULT_ROWS);
}

static int32_t cell_int(const answer *a, uint32_t row, uint32_t col, bool *null) {
  cqlmux_bytes v;
  cr_assert_eq(cqlmux_rows_cell(&a->res.rows, row, col, &v), CQLMUX_OK);
  *null = v.len < 0;
  int32_t out = 0;
  if (!*null) cr_assert_eq(cqlmux_value_get_int(v, &out), CQLMUX_OK);
  return out;
}

static bool name_is(const answer *a, int col, const char *name) {
  cqlmux_slice s = a->res.rows.meta.columns[col].name;
  return s.len == strlen(name) && memcmp(s.data, name, s.len) == 0;
}

Test(metadata, current_id_with_skip_metadata_gets_none) {
  cqlmux_mock *m = start_primed();
  mock_client c;
  test_ready(m, 0, &c, 5, NULL);
  ids s;
  prepare(&c, &s);
  answer a;
  execute(&c, &s, s.md, true, &a);
  cr_assert_eq(a.res.rows.meta.flags & (CQLMUX_ROWS_FLAG_NO_METADATA | CQLMUX_ROWS_FLAG_METADATA_CHANGED),
               CQLMUX_ROWS_FLAG_NO_METADATA);
  cr_assert_eq(a.res.rows.meta.columns_count, 2);
  cr_assert_eq(a.res.rows.rows_count, 2);
  cqlmux_arena_free(&a.arena);
  /* Without SKIP_METADATA the metadata comes, unflagged. */
  execute(&c, &s, s.md, false, &a);
  cr_assert_eq(a.res.rows.meta.flags & (CQLMUX_ROWS_FLAG_NO_METADATA | CQLMUX_ROWS_FLAG_METADATA_CHANGED), 0);
  cr_assert(name_is(&a, 1, "v"));
  cqlmux_arena_free(&a.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(metadata, alter_then_stale_id_gets_metadata_changed) {
  cqlmux_mock *m = start_primed();
  mock_client c;
  test_ready(m, 0, &c, 5, NULL);
  ids s;
  prepare(&c, &s);
  char msg[160];
  cr_assert_eq(cqlmux_mock_script(m, "alter \"" QUERY "\" columns=\"k int | v text | w int\"", msg,
                                  sizeof msg),
               CQLMUX_OK, "%s", msg);

  /* The old id, even with SKIP_METADATA: METADATA_CHANGED, a new id, and
   * every column, the added one null in the old rows. */
  answer a;
  execute(&c, &s, s.md, true, &a);
  const cqlmux_rows_metadata *meta = &a.res.rows.meta;
  cr_assert(meta->flags & CQLMUX_ROWS_FLAG_METADATA_CHANGED);
  cr_assert_not(meta->flags & CQLMUX_ROWS_FLAG_NO_METADATA);
  cr_assert_eq(meta->new_metadata_id.len, 16);
  cr_assert_neq(memcmp(meta->new_metadata_id.data, s.md, 16), 0);
  uint8_t fresh[16];
  memcpy(fresh, meta->new_metadata_id.data, 16);
  cr_assert_eq(meta->columns_count, 3);
  cr_assert(name_is(&a, 2, "w"));
  bool null;
  cr_assert_eq(cell_int(&a, 1, 0, &null), 2);
  cr_assert_not(null);
  cell_int(&a, 1, 2, &null);
  cr_assert(null);
  cqlmux_arena_free(&a.arena);

  /* The new id with SKIP_METADATA: no metadata again. */
  execute(&c, &s, fresh, true, &a);
  cr_assert_eq(a.res.rows.meta.flags & (CQLMUX_ROWS_FLAG_NO_METADATA | CQLMUX_ROWS_FLAG_METADATA_CHANGED),
               CQLMUX_ROWS_FLAG_NO_METADATA);
  cr_assert_eq(a.res.rows.meta.columns_count, 3);
  cqlmux_arena_free(&a.arena);

  /* A new PREPARE reports the new id; the statement id stays. */
  ids again;
  prepare(&c, &again);
  cr_assert_eq(memcmp(again.md, fresh, 16), 0);
  cr_assert_eq(memcmp(again.id, s.id, 16), 0);

  /* Dropping a column: the others keep their cells. */
  cr_assert_eq(cqlmux_mock_script(m, "alter query=\"" QUERY "\" columns=\"k int | w int\"", msg,
                                  sizeof msg),
               CQLMUX_OK, "%s", msg);
  execute(&c, &s, fresh, false, &a);
  cr_assert(a.res.rows.meta.flags & CQLMUX_ROWS_FLAG_METADATA_CHANGED);
  cr_assert_eq(a.res.rows.meta.columns_count, 2);
  cr_assert(name_is(&a, 1, "w"));
  cr_assert_eq(cell_int(&a, 0, 0, &null), 1);
  cqlmux_arena_free(&a.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* v4 has no metadata ids: SKIP_METADATA alone decides. */
Test(metadata, v4_is_unaffected) {
  cqlmux_mock *m = start_primed();
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  ids s;
  prepare(&c, &s);
  cr_assert_eq(cqlmux_mock_script(m, "alter \"" QUERY "\" columns=\"k int\"", NULL, 0), CQLMUX_OK);
  answer a;
  execute(&c, &s, s.id, true, &a);
  cr_assert_eq(a.res.rows.meta.flags & (CQLMUX_ROWS_FLAG_NO_METADATA | CQLMUX_ROWS_FLAG_METADATA_CHANGED),
               CQLMUX_ROWS_FLAG_NO_METADATA);
  cr_assert_eq(a.res.rows.meta.columns_count, 1);
  cqlmux_arena_free(&a.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

Test(metadata, alter_errors) {
  cqlmux_mock *m = start_primed();
  cqlmux_mock_column col = {"k", "int"};
  cr_assert_eq(cqlmux_mock_prime_alter(m, "SELECT nothing", &col, 1), CQLMUX_ERR_NOT_FOUND);
  col.type = "no_such_type";
  cr_assert_eq(cqlmux_mock_prime_alter(m, QUERY, &col, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  char msg[160];
  cr_assert_neq(cqlmux_mock_script(m, "alter \"SELECT nothing\" columns=\"k int\"", msg, sizeof msg),
                CQLMUX_OK);
  cr_assert_str_eq(msg, "no prime for \"SELECT nothing\"");
  cr_assert_neq(cqlmux_mock_script(m, "alter \"" QUERY "\"", msg, sizeof msg), CQLMUX_OK);
  cqlmux_mock_free(m);
}

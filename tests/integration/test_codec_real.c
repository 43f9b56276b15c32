/* The codec (lib/proto) against a REAL Cassandra 5.0 started by
 * tools/cassandra-local, in four configurations: protocol v4 and v5, each
 * without and with LZ4. Through the blocking raw_client (every byte encoded
 * and decoded by the codec) each configuration:
 *   1. creates keyspace cqlmux_codec with a UDT, a table holding a column of
 *      every CQL type, a counter table, a paging table and a blob table;
 *   2. inserts rows with CQL literals (QUERY) and with bound values written
 *      by proto/values.h (PREPARE + EXECUTE), null rows and empty values;
 *   3. reads them back, checking column types and every cell;
 *   4. pages through 100 rows, 10 at a time, by QUERY and by EXECUTE;
 *   5. decodes real ERRORs: syntax, invalid, already exists, unprepared;
 *   6. round-trips a 300 KiB blob (several v5 frames each way);
 * and drops the keyspace. The configurations share the keyspace name, so
 * they run one after the other (see main).
 *
 * Environment: CQLMUX_TEST_HOST (default 127.0.0.1), CQLMUX_TEST_PORT
 * (default 9042), CQLMUX_TEST_USERNAME / CQLMUX_TEST_PASSWORD for a server
 * with authentication. No server is a failure, not a skip. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_rows.h"
#include "proto/values.h"
#include "raw_client.h"

#define TIMEOUT_SECONDS 20
#define PAGED_ROWS 100
#define PAGE_SIZE 10
#define LARGE_BLOB (300u * 1024u)
#define MAX_BOUND 64

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static bool slice_is(cqlmux_slice s, const char *text) {
  return s.len == strlen(text) && memcmp(s.data, text, s.len) == 0;
}

/* The client holds a pointer to itself (its frame writer writes into its
 * output buffer), so it is filled in place, never returned by value. */
static void connect_to(raw_client *c, uint8_t version, bool lz4) {
  const char *host = env_or("CQLMUX_TEST_HOST", "127.0.0.1");
  int port = atoi(env_or("CQLMUX_TEST_PORT", "9042"));
  int rc = raw_client_connect(c, host, port, version, lz4, TIMEOUT_SECONDS,
                              getenv("CQLMUX_TEST_USERNAME"), env_or("CQLMUX_TEST_PASSWORD", ""));
  cr_assert_eq(rc, CQLMUX_OK, "connect v%d%s: %s", version, lz4 ? "+lz4" : "", c->why);
}

static cqlmux_query_params params_one(void) {
  return (cqlmux_query_params){.consistency = CQLMUX_CONSISTENCY_ONE};
}

/* Asserts the request went through and was answered with a RESULT. */
static void expect_result(const raw_client *c, int rc, const raw_reply *r, const char *what) {
  cr_assert_eq(rc, CQLMUX_OK, "%s: %s", what, c->why);
  if (r->envelope.header.opcode == CQLMUX_OP_ERROR)
    cr_assert_fail("%s: ERROR 0x%04x: %.*s", what, r->msg.error.code,
                   (int)r->msg.error.message.len, (const char *)r->msg.error.message.data);
  cr_assert_eq(r->envelope.header.opcode, CQLMUX_OP_RESULT, "%s: opcode 0x%02x", what,
               r->envelope.header.opcode);
}

static raw_reply query(raw_client *c, const char *cql, const cqlmux_query_params *p) {
  raw_reply r;
  int rc = raw_client_query(c, cql, p, &r);
  expect_result(c, rc, &r, cql);
  return r;
}

static void query_void(raw_client *c, const char *cql) {
  cqlmux_query_params p = params_one();
  raw_reply r = query(c, cql, &p);
  cr_assert_eq(r.msg.result.kind, CQLMUX_RESULT_VOID, "%s: result kind %d", cql,
               r.msg.result.kind);
  raw_reply_free(&r);
}

static raw_reply query_rows(raw_client *c, const char *cql, int32_t want_rows) {
  cqlmux_query_params p = params_one();
  raw_reply r = query(c, cql, &p);
  cr_assert_eq(r.msg.result.kind, CQLMUX_RESULT_ROWS, "%s: result kind %d", cql,
               r.msg.result.kind);
  cr_assert_eq(r.msg.result.rows.rows_count, want_rows, "%s: %d rows", cql,
               r.msg.result.rows.rows_count);
  return r;
}

/* A DDL statement and the SCHEMA_CHANGE it must answer. */
static void schema(raw_client *c, const char *cql, int change, int target, const char *name) {
  cqlmux_query_params p = params_one();
  raw_reply r = query(c, cql, &p);
  cr_assert_eq(r.msg.result.kind, CQLMUX_RESULT_SCHEMA_CHANGE, "%s: kind %d", cql,
               r.msg.result.kind);
  const cqlmux_schema_change *s = &r.msg.result.schema_change;
  cr_assert_eq(s->change, change, "%s: change %.*s", cql, (int)s->change_type.len,
               (const char *)s->change_type.data);
  cr_assert_eq(s->target_kind, target, "%s: target %.*s", cql, (int)s->target.len,
               (const char *)s->target.data);
  cr_assert(slice_is(s->keyspace, CODEC_KS), "%s: keyspace", cql);
  if (name) cr_assert(slice_is(s->name, name), "%s: name", cql);
  raw_reply_free(&r);
}

static raw_reply prepare(raw_client *c, const char *cql) {
  raw_reply r;
  int rc = raw_client_prepare(c, cql, &r);
  expect_result(c, rc, &r, cql);
  cr_assert_eq(r.msg.result.kind, CQLMUX_RESULT_PREPARED, "%s: kind %d", cql, r.msg.result.kind);
  cr_assert_gt(r.msg.result.prepared.id.len, 0);
  if (c->version >= CQLMUX_PROTO_V5) cr_assert_gt(r.msg.result.prepared.result_metadata_id.len, 0);
  return r;
}

/* The [value]s in b, as the array EXECUTE takes (slices into b). */
static uint16_t read_values(const cqlmux_wbuf *b, cqlmux_bytes *out, uint16_t cap) {
  cr_assert_eq(b->error, CQLMUX_OK, "value writers failed: %s", cqlmux_strerror(b->error));
  cqlmux_reader rd = cqlmux_reader_make(b->data, b->len);
  uint16_t n = 0;
  while (cqlmux_reader_remaining(&rd)) {
    cr_assert_lt(n, cap);
    cr_assert_eq(cqlmux_read_value(&rd, &out[n]), CQLMUX_OK);
    n++;
  }
  return n;
}

static raw_reply execute(raw_client *c, const raw_reply *prepared, const cqlmux_wbuf *values,
                         cqlmux_query_params p, const char *what) {
  cqlmux_bytes v[MAX_BOUND];
  p.value_count = read_values(values, v, MAX_BOUND);
  p.values = v;
  const cqlmux_prepared_msg *pm = &prepared->msg.result.prepared;
  raw_reply r;
  int rc = raw_client_execute(c, pm->id, pm->result_metadata_id, &p, &r);
  expect_result(c, rc, &r, what);
  return r;
}

static void execute_void(raw_client *c, const raw_reply *prepared, const cqlmux_wbuf *values,
                         const char *what) {
  raw_reply r = execute(c, prepared, values, params_one(), what);
  cr_assert_eq(r.msg.result.kind, CQLMUX_RESULT_VOID, "%s: kind %d", what, r.msg.result.kind);
  raw_reply_free(&r);
}

/* ------------------------------------------------------------ 1. schema */

static void create_schema(raw_client *c) {
  cqlmux_query_params p = params_one();
  raw_reply r = query(c, "DROP KEYSPACE IF EXISTS " CODEC_KS, &p); /* a failed earlier run */
  raw_reply_free(&r);
  schema(c,
         "CREATE KEYSPACE " CODEC_KS
         " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
         CQLMUX_SCHEMA_CREATED, CQLMUX_TARGET_KEYSPACE, NULL);
  schema(c, codec_create_udt, CQLMUX_SCHEMA_CREATED, CQLMUX_TARGET_TYPE, "address");
  schema(c, codec_create_all_types, CQLMUX_SCHEMA_CREATED, CQLMUX_TARGET_TABLE, "all_types");
  schema(c, "CREATE TABLE " CODEC_KS ".counters (id int PRIMARY KEY, c counter)",
         CQLMUX_SCHEMA_CREATED, CQLMUX_TARGET_TABLE, "counters");
  schema(c, "CREATE TABLE " CODEC_KS ".paged (p int, c int, v text, PRIMARY KEY (p, c))",
         CQLMUX_SCHEMA_CREATED, CQLMUX_TARGET_TABLE, "paged");
  schema(c, "CREATE TABLE " CODEC_KS ".large (id int PRIMARY KEY, data blob)",
         CQLMUX_SCHEMA_CREATED, CQLMUX_TARGET_TABLE, "large");
}

/* ------------------------------------------------------------ 2. inserts */

static void check_prepared_insert(const raw_reply *r) {
  const cqlmux_prepared_msg *pm = &r->msg.result.prepared;
  cr_assert_eq(pm->bind_count, CODEC_ALL_TYPES_COLUMNS);
  cr_assert_eq(pm->pk_count, 1);
  cr_assert_eq(cqlmux_prepared_pk_index(pm, 0), 0, "id is bind marker 0");
  /* An INSERT's bind markers are named and typed after their columns. */
  codec_check_types(pm->bind_columns, pm->bind_count);
  cr_assert_eq(pm->result.columns_count, 0, "an INSERT returns no columns");
}

static void insert_bound_rows(raw_client *c) {
  raw_reply ins = prepare(c, codec_insert_all_types);
  check_prepared_insert(&ins);
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  codec_row a2 = codec_row_a;
  a2.id = 2;
  codec_bind_row(&b, &a2);
  execute_void(c, &ins, &b, "bound row 2");
  cqlmux_wbuf_reset(&b);
  codec_bind_row(&b, &codec_row_b);
  execute_void(c, &ins, &b, "bound row 3");
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_int(&b, 5);
  for (int i = 1; i < CODEC_ALL_TYPES_COLUMNS; i++) cqlmux_value_write_null(&b);
  execute_void(c, &ins, &b, "bound null row 5");
  raw_reply_free(&ins);

  raw_reply empty = prepare(c, "INSERT INTO " CODEC_KS
                               ".all_types (id, a_ascii, a_text, a_blob, a_int, a_bigint) "
                               "VALUES (?, ?, ?, ?, ?, ?)");
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_int(&b, 7);
  for (int i = 0; i < 3; i++) cqlmux_value_write_bytes(&b, "", 0);
  cqlmux_value_write_empty(&b);
  cqlmux_value_write_empty(&b);
  execute_void(c, &empty, &b, "bound empty row 7");
  raw_reply_free(&empty);

  /* NOT SET leaves the cell alone, where null would delete it. */
  raw_reply upd = prepare(c, "UPDATE " CODEC_KS ".all_types SET a_text = ? WHERE id = ?");
  cqlmux_wbuf_reset(&b);
  cqlmux_value_write_unset(&b);
  cqlmux_value_write_int(&b, 2);
  execute_void(c, &upd, &b, "unset update of row 2");
  raw_reply_free(&upd);
  cqlmux_wbuf_free(&b);
}

static void insert_rows(raw_client *c) {
  query_void(c, codec_literal_row_a);
  query_void(c, "INSERT INTO " CODEC_KS ".all_types (id) VALUES (4)");
  query_void(c, "INSERT INTO " CODEC_KS ".all_types (id, a_ascii, a_text, a_blob, a_int, a_bigint) "
                "VALUES (6, '', '', 0x, blobAsInt(0x), blobAsBigint(0x))");
  insert_bound_rows(c);
}

/* ------------------------------------------------------------ 3. select */

static void check_row_by_id(const cqlmux_rows *rows, uint32_t r) {
  int32_t id;
  cr_assert_eq(cqlmux_value_get_int(codec_cell(rows, r, "id"), &id), CQLMUX_OK);
  codec_row a = codec_row_a;
  a.id = id;
  switch (id) {
  case 1:
  case 2: codec_check_row(rows, r, &a); break;
  case 3: codec_check_row(rows, r, &codec_row_b); break;
  case 4:
  case 5: codec_check_null_row(rows, r); break;
  case 6:
  case 7: codec_check_empty_row(rows, r); break;
  default: cr_assert_fail("unexpected row id %d", id);
  }
}

static void select_rows(raw_client *c) {
  raw_reply all = query_rows(c, "SELECT * FROM " CODEC_KS ".all_types", 7);
  const cqlmux_rows *rows = &all.msg.result.rows;
  cr_assert(rows->meta.flags & CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC);
  cr_assert(slice_is(rows->meta.global_table, "all_types"));
  codec_check_types(rows->meta.columns, rows->meta.columns_count);
  for (uint32_t r = 0; r < 7; r++) check_row_by_id(rows, r);
  raw_reply_free(&all);

  raw_reply sel = prepare(c, "SELECT * FROM " CODEC_KS ".all_types WHERE id = ?");
  codec_check_types(sel.msg.result.prepared.result.columns,
                    sel.msg.result.prepared.result.columns_count);
  for (int32_t id = 1; id <= 7; id++) {
    cqlmux_wbuf b;
    cqlmux_wbuf_init(&b, NULL, 0);
    cqlmux_value_write_int(&b, id);
    raw_reply one = execute(c, &sel, &b, params_one(), "prepared SELECT by id");
    cqlmux_wbuf_free(&b);
    cr_assert_eq(one.msg.result.kind, CQLMUX_RESULT_ROWS);
    cr_assert_eq(one.msg.result.rows.rows_count, 1, "id %d", id);
    check_row_by_id(&one.msg.result.rows, 0);
    raw_reply_free(&one);
  }
  raw_reply_free(&sel);
}

static void check_counter(raw_client *c) {
  query_void(c, "UPDATE " CODEC_KS ".counters SET c = c + 5 WHERE id = 1");
  raw_reply upd = prepare(c, "UPDATE " CODEC_KS ".counters SET c = c + ? WHERE id = ?");
  cr_assert_eq(upd.msg.result.prepared.bind_columns[0].type->id, CQLMUX_TYPE_COUNTER);
  static const int64_t deltas[] = {-2, 9000000000};
  for (size_t i = 0; i < 2; i++) {
    cqlmux_wbuf b;
    cqlmux_wbuf_init(&b, NULL, 0);
    cqlmux_value_write_bigint(&b, deltas[i]);
    cqlmux_value_write_int(&b, 1);
    execute_void(c, &upd, &b, "counter update");
    cqlmux_wbuf_free(&b);
  }
  raw_reply_free(&upd);
  raw_reply r = query_rows(c, "SELECT c FROM " CODEC_KS ".counters WHERE id = 1", 1);
  cr_assert_eq(r.msg.result.rows.meta.columns[0].type->id, CQLMUX_TYPE_COUNTER);
  int64_t v;
  cr_assert_eq(cqlmux_value_get_bigint(codec_cell(&r.msg.result.rows, 0, "c"), &v), CQLMUX_OK);
  cr_assert_eq(v, 9000000003, "counter %lld", (long long)v);
  raw_reply_free(&r);
}

/* ------------------------------------------------------------ 4. paging */

/* Rows c = 0..99 of partition 0, in one unlogged BATCH whose even members
 * are literal QUERYs and odd ones a PREPARED statement with bound values. */
static void fill_paged(raw_client *c) {
  raw_reply ins = prepare(c, "INSERT INTO " CODEC_KS ".paged (p, c, v) VALUES (0, ?, ?)");
  static char queries[PAGED_ROWS][96];
  cqlmux_batch_statement members[PAGED_ROWS];
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  for (int i = 1; i < PAGED_ROWS; i += 2) {
    char text[16];
    cqlmux_value_write_int(&b, i);
    cqlmux_value_write_bytes(&b, text, (size_t)snprintf(text, sizeof text, "row %d", i));
  }
  cqlmux_bytes values[PAGED_ROWS];
  cr_assert_eq(read_values(&b, values, PAGED_ROWS), PAGED_ROWS);
  for (int i = 0; i < PAGED_ROWS; i++) {
    if (i % 2) {
      /* the pair of values written for row i starts at i - 1 */
      members[i] = (cqlmux_batch_statement){.kind = CQLMUX_BATCH_KIND_PREPARED,
                                            .query_or_id = ins.msg.result.prepared.id,
                                            .values = &values[i - 1],
                                            .value_count = 2};
      continue;
    }
    snprintf(queries[i], sizeof queries[i],
             "INSERT INTO " CODEC_KS ".paged (p, c, v) VALUES (0, %d, 'row %d')", i, i);
    members[i] = (cqlmux_batch_statement){.kind = CQLMUX_BATCH_KIND_QUERY,
                                          .query_or_id = cqlmux_slice_from_cstr(queries[i])};
  }
  cqlmux_batch batch = {.type = CQLMUX_BATCH_UNLOGGED, .statements = members,
                        .count = PAGED_ROWS, .consistency = CQLMUX_CONSISTENCY_ONE};
  raw_reply r;
  int rc = raw_client_batch(c, &batch, &r);
  expect_result(c, rc, &r, "BATCH of 100 inserts");
  cr_assert_eq(r.msg.result.kind, CQLMUX_RESULT_VOID);
  raw_reply_free(&r);
  raw_reply_free(&ins);
  cqlmux_wbuf_free(&b);
}

/* Checks one page and returns how many rows it had. */
static int32_t check_page(const cqlmux_rows *rows, int32_t first, bool skipped_metadata) {
  cr_assert_leq(rows->rows_count, PAGE_SIZE);
  cr_assert_eq(rows->meta.columns_count, 2);
  if (skipped_metadata) {
    cr_assert(rows->meta.flags & CQLMUX_ROWS_FLAG_NO_METADATA);
    cr_assert_null(rows->meta.columns);
  } else {
    cr_assert(slice_is(rows->meta.columns[0].name, "c") && slice_is(rows->meta.columns[1].name, "v"));
  }
  for (int32_t i = 0; i < rows->rows_count; i++) {
    cqlmux_bytes cv, vv;
    cqlmux_slice text;
    int32_t cn;
    char want[16];
    cr_assert_eq(cqlmux_rows_cell(rows, (uint32_t)i, 0, &cv), CQLMUX_OK);
    cr_assert_eq(cqlmux_rows_cell(rows, (uint32_t)i, 1, &vv), CQLMUX_OK);
    cr_assert_eq(cqlmux_value_get_int(cv, &cn), CQLMUX_OK);
    cr_assert_eq(cn, first + i, "row %d of the page holds c = %d", i, cn);
    cr_assert_eq(cqlmux_value_get_text(vv, &text), CQLMUX_OK);
    snprintf(want, sizeof want, "row %d", cn);
    cr_assert(slice_is(text, want));
  }
  return rows->rows_count;
}

/* Pages through partition 0 by QUERY (prepared NULL) or EXECUTE. Each
 * request carries the paging state of the previous answer, kept alive
 * until the next answer arrives. */
static void page_through(raw_client *c, const raw_reply *prepared) {
  static const char cql[] = "SELECT c, v FROM " CODEC_KS ".paged WHERE p = 0";
  cqlmux_wbuf none;
  cqlmux_wbuf_init(&none, NULL, 0);
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE, .has_page_size = true,
                           .page_size = PAGE_SIZE, .skip_metadata = prepared != NULL};
  raw_reply prev = {0};
  int32_t seen = 0, pages = 0;
  for (;;) {
    raw_reply r = prepared ? execute(c, prepared, &none, p, "paged EXECUTE") : query(c, cql, &p);
    if (pages) raw_reply_free(&prev);
    cr_assert_eq(r.msg.result.kind, CQLMUX_RESULT_ROWS);
    const cqlmux_rows *rows = &r.msg.result.rows;
    int32_t n = check_page(rows, seen, prepared != NULL);
    seen += n;
    pages++;
    if (!(rows->meta.flags & CQLMUX_ROWS_FLAG_HAS_MORE_PAGES)) {
      cr_assert_eq(rows->meta.paging_state.len, CQLMUX_VALUE_NULL);
      raw_reply_free(&r);
      break;
    }
    cr_assert_eq(n, PAGE_SIZE, "a page before the last is full");
    cr_assert_gt(rows->meta.paging_state.len, 0);
    p.has_paging_state = true;
    p.paging_state = (cqlmux_slice){rows->meta.paging_state.data,
                                    (size_t)rows->meta.paging_state.len};
    prev = r;
    cr_assert_leq(pages, PAGED_ROWS / PAGE_SIZE + 1, "paging does not end");
  }
  cr_assert_eq(seen, PAGED_ROWS);
  cr_assert_geq(pages, PAGED_ROWS / PAGE_SIZE);
  cqlmux_wbuf_free(&none);
}

static void check_paging(raw_client *c) {
  fill_paged(c);
  page_through(c, NULL);
  raw_reply sel = prepare(c, "SELECT c, v FROM " CODEC_KS ".paged WHERE p = 0");
  page_through(c, &sel);
  raw_reply_free(&sel);
}

/* ------------------------------------------------------------ 5. errors */

static raw_reply expect_error(raw_client *c, int rc, raw_reply r, int32_t code, const char *what) {
  cr_assert_eq(rc, CQLMUX_OK, "%s: %s", what, c->why);
  cr_assert_eq(r.envelope.header.opcode, CQLMUX_OP_ERROR, "%s: opcode 0x%02x", what,
               r.envelope.header.opcode);
  cr_assert_eq(r.msg.error.code, code, "%s: code 0x%04x (%.*s)", what, r.msg.error.code,
               (int)r.msg.error.message.len, (const char *)r.msg.error.message.data);
  cr_assert_gt(r.msg.error.message.len, 0, "%s: no message", what);
  return r;
}

static raw_reply query_error(raw_client *c, const char *cql, int32_t code) {
  cqlmux_query_params p = params_one();
  raw_reply r;
  int rc = raw_client_query(c, cql, &p, &r);
  return expect_error(c, rc, r, code, cql);
}

static void check_errors(raw_client *c) {
  raw_reply r = query_error(c, "SELEKT * FROM nowhere", CQLMUX_CQL_SYNTAX_ERROR);
  raw_reply_free(&r);
  r = query_error(c, "SELECT * FROM " CODEC_KS ".no_such_table", CQLMUX_CQL_INVALID);
  raw_reply_free(&r);
  r = query_error(c,
                  "CREATE KEYSPACE " CODEC_KS
                  " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
                  CQLMUX_CQL_ALREADY_EXISTS);
  cr_assert(slice_is(r.msg.error.keyspace, CODEC_KS));
  cr_assert_eq(r.msg.error.name.len, 0, "a keyspace has no table name");
  raw_reply_free(&r);
  r = query_error(c, "CREATE TABLE " CODEC_KS ".paged (p int PRIMARY KEY)",
                  CQLMUX_CQL_ALREADY_EXISTS);
  cr_assert(slice_is(r.msg.error.keyspace, CODEC_KS));
  cr_assert(slice_is(r.msg.error.name, "paged"));
  raw_reply_free(&r);

  static const uint8_t bogus[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  cqlmux_slice id = {bogus, sizeof bogus};
  cqlmux_query_params p = params_one();
  int rc = raw_client_execute(c, id, id, &p, &r);
  r = expect_error(c, rc, r, CQLMUX_CQL_UNPREPARED, "EXECUTE of a bogus id");
  cr_assert_eq(r.msg.error.unprepared_id.len, sizeof bogus);
  cr_assert(memcmp(r.msg.error.unprepared_id.data, bogus, sizeof bogus) == 0);
  raw_reply_free(&r);
}

/* ------------------------------------------------------------ 6. large */

/* Half repetitive (LZ4 shrinks it), half pseudo-random (it does not), so
 * LZ4 frames of both kinds may carry it. */
static uint8_t *make_blob(size_t n) {
  uint8_t *p = malloc(n);
  cr_assert_not_null(p);
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = i < n / 2 ? (uint8_t)(i % 251) : (uint8_t)x;
  }
  return p;
}

static void check_large_blob(raw_client *c) {
  uint8_t *blob = make_blob(LARGE_BLOB);
  raw_reply ins = prepare(c, "INSERT INTO " CODEC_KS ".large (id, data) VALUES (?, ?)");
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_value_write_int(&b, 1);
  cqlmux_value_write_bytes(&b, blob, LARGE_BLOB);
  execute_void(c, &ins, &b, "INSERT of a 300 KiB blob");
  cqlmux_wbuf_free(&b);
  raw_reply_free(&ins);

  raw_reply r = query_rows(c, "SELECT data FROM " CODEC_KS ".large WHERE id = 1", 1);
  if (c->version >= CQLMUX_PROTO_V5) {
    /* 300 KiB cannot fit a 128 KiB frame: the answer was joined. */
    cr_assert_geq(c->frames_last, 3, "the answer took %u frames", c->frames_last);
    cr_assert_eq(c->partial_frames_last, c->frames_last - 1);
  }
  cqlmux_slice got;
  cr_assert_eq(cqlmux_value_get_blob(codec_cell(&r.msg.result.rows, 0, "data"), &got), CQLMUX_OK);
  cr_assert_eq(got.len, LARGE_BLOB);
  cr_assert(memcmp(got.data, blob, LARGE_BLOB) == 0, "the blob came back different");
  raw_reply_free(&r);
  free(blob);
}

/* ------------------------------------------------------------ the tests */

static void run_config(uint8_t version, bool lz4) {
  raw_client c;
  connect_to(&c, version, lz4);
  create_schema(&c);
  insert_rows(&c);
  select_rows(&c);
  check_counter(&c);
  check_paging(&c);
  check_errors(&c);
  check_large_blob(&c);
  schema(&c, "DROP KEYSPACE " CODEC_KS, CQLMUX_SCHEMA_DROPPED, CQLMUX_TARGET_KEYSPACE, NULL);
  raw_client_close(&c);
}

Test(codec_real, v4, .timeout = 120) { run_config(CQLMUX_PROTO_V4, false); }
Test(codec_real, v4_lz4, .timeout = 120) { run_config(CQLMUX_PROTO_V4, true); }
Test(codec_real, v5, .timeout = 120) { run_config(CQLMUX_PROTO_V5, false); }
Test(codec_real, v5_lz4, .timeout = 120) { run_config(CQLMUX_PROTO_V5, true); }

/* Criterion runs tests in parallel by default; these four share one
 * keyspace, so they run one at a time (--jobs on the command line still
 * wins). */
int main(int argc, char *argv[]) {
  struct criterion_test_set *tests = criterion_initialize();
  criterion_options.jobs = 1;
  int result = 0;
  if (criterion_handle_args(argc, argv, true)) result = !criterion_run_all_tests(tests);
  criterion_finalize(tests);
  return result;
}

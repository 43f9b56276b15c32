/* The codec (lib/proto) against a REAL Cassandra 5.0 started by
 * tools/cassandra-local, in four configurations: protocol v4 and v5, each
 * without and with LZ4. Through the blocking raw_client (every byte encoded
 * and decoded by the codec) each configuration:
 *   1. creates keyspace cqlmux_codec with a UDT, a table holding a column of
 *      every CQL type, a counter table, a paging table and a blob table;
 *   2. inserts rows with CQL literals (QUERY) and the same values bound with
 *      proto/values.h writers (PREPARE + EXECUTE), null rows, empty values
 *      and a NOT SET value; literal and bound rows must match byte for byte;
 *   3. reads them back, checking column types and every cell, and sends
 *      four QUERYs pipelined (one v5 frame) to check answers by stream;
 *   4. pages through 100 rows (a BATCH of literal and prepared inserts), 10
 *      at a time, by QUERY and by EXECUTE without metadata; an aggregate's
 *      warning;
 *   5. decodes real ERRORs: syntax, invalid, already exists (keyspace and
 *      table), unavailable, unprepared;
 *   6. round-trips a 300 KiB blob (several v5 frames each way; LZ4 visibly
 *      shrinks it);
 *   7. checks query flags by their effect: default timestamp, serial
 *      consistency, tracing, v5 keyspace and now_in_seconds; the v5 result
 *      metadata id after ALTER TABLE; a custom-class column; a UDT value
 *      shorter than its type after ALTER TYPE;
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
#include <time.h>

#include "codec_rows.h"
#include "proto/values.h"
#include "raw_client.h"

#define TIMEOUT_SECONDS 20
#define PAGED_ROWS 100
#define PAGE_SIZE 10
#define LARGE_BLOB (300u * 1024u)
#define MAX_BOUND 64
#define ALL_TYPES_ROWS 8 /* ids 1 .. 8 */
/* A marshal class with no CQL type of its own: it travels as a custom type. */
#define CUSTOM_CLASS "org.apache.cassandra.db.marshal.LexicalUUIDType"

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

static raw_reply prepare_in(raw_client *c, const char *cql, const char *keyspace) {
  raw_reply r;
  int rc = raw_client_prepare(c, cql, keyspace, &r);
  expect_result(c, rc, &r, cql);
  cr_assert_eq(r.msg.result.kind, CQLMUX_RESULT_PREPARED, "%s: kind %d", cql, r.msg.result.kind);
  cr_assert_gt(r.msg.result.prepared.id.len, 0);
  if (c->version >= CQLMUX_PROTO_V5) cr_assert_gt(r.msg.result.prepared.result_metadata_id.len, 0);
  return r;
}

static raw_reply prepare(raw_client *c, const char *cql) { return prepare_in(c, cql, NULL); }

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
  schema(c, "CREATE TABLE " CODEC_KS ".paged (p int, c int, v text, PRIMARY KEY (p, c)) "
         "WITH CLUSTERING ORDER BY (c DESC)",
         CQLMUX_SCHEMA_CREATED, CQLMUX_TARGET_TABLE, "paged");
  schema(c,
         "CREATE TABLE " CODEC_KS ".large (id int PRIMARY KEY, data blob, "
         "custom '" CUSTOM_CLASS "')",
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
  query_void(c, codec_literal_row_b);
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
  case 3:
  case 8: {
    codec_row b = codec_row_b;
    b.id = id;
    codec_check_row(rows, r, &b);
    break;
  }
  case 4:
  case 5: codec_check_null_row(rows, r); break;
  case 6:
  case 7: codec_check_empty_row(rows, r); break;
  default: cr_assert_fail("unexpected row id %d", id);
  }
}

/* Where the row with this id is in rows. */
static uint32_t row_of(const cqlmux_rows *rows, int32_t id) {
  for (uint32_t r = 0; r < (uint32_t)rows->rows_count; r++) {
    int32_t got;
    cr_assert_eq(cqlmux_value_get_int(codec_cell(rows, r, "id"), &got), CQLMUX_OK);
    if (got == id) return r;
  }
  cr_assert_fail("no row %d", id);
  return 0;
}

static void select_rows(raw_client *c) {
  raw_reply all = query_rows(c, "SELECT * FROM " CODEC_KS ".all_types", ALL_TYPES_ROWS);
  const cqlmux_rows *rows = &all.msg.result.rows;
  cr_assert(rows->meta.flags & CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC);
  cr_assert(slice_is(rows->meta.global_table, "all_types"));
  codec_check_types(rows->meta.columns, rows->meta.columns_count);
  for (uint32_t r = 0; r < ALL_TYPES_ROWS; r++) check_row_by_id(rows, r);
  codec_check_same_cells(rows, row_of(rows, 1), row_of(rows, 2));
  codec_check_same_cells(rows, row_of(rows, 3), row_of(rows, 8));
  raw_reply_free(&all);

  raw_reply sel = prepare(c, "SELECT * FROM " CODEC_KS ".all_types WHERE id = ?");
  codec_check_types(sel.msg.result.prepared.result.columns,
                    sel.msg.result.prepared.result.columns_count);
  for (int32_t id = 1; id <= ALL_TYPES_ROWS; id++) {
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

/* Four QUERYs in one write (v5: one frame), an ERROR among them; each
 * answer must be filed under its own stream. */
static void check_pipeline(raw_client *c) {
  static const char *const cql[] = {
      "SELECT c FROM " CODEC_KS ".counters WHERE id = 1",
      "SELECT a_int FROM " CODEC_KS ".all_types WHERE id = 1",
      "SELEKT broken",
      "SELECT release_version FROM system.local",
  };
  raw_reply r[4];
  int rc = raw_client_query_pipelined(c, cql, 4, r);
  cr_assert_eq(rc, CQLMUX_OK, "pipeline: %s", c->why);
  if (c->version >= CQLMUX_PROTO_V5) /* how the server packed them varies with timing */
    cr_log_info("v5%s: 4 pipelined answers in %u frames, at most %u in one",
                c->lz4 ? "+lz4" : "", c->frames_last, c->most_envelopes_per_frame_last);
  int64_t counter;
  cqlmux_slice version;
  expect_result(c, CQLMUX_OK, &r[0], cql[0]);
  cr_assert_eq(cqlmux_value_get_bigint(codec_cell(&r[0].msg.result.rows, 0, "c"), &counter),
               CQLMUX_OK);
  cr_assert_eq(counter, 9000000003);
  expect_result(c, CQLMUX_OK, &r[1], cql[1]);
  cr_assert_eq(r[1].msg.result.rows.rows_count, 1);
  cr_assert_eq(r[2].envelope.header.opcode, CQLMUX_OP_ERROR);
  cr_assert_eq(r[2].msg.error.code, CQLMUX_CQL_SYNTAX_ERROR);
  expect_result(c, CQLMUX_OK, &r[3], cql[3]);
  cr_assert_eq(cqlmux_value_get_text(codec_cell(&r[3].msg.result.rows, 0, "release_version"),
                                     &version),
               CQLMUX_OK);
  cr_assert(version.len >= 4 && memcmp(version.data, "5.0.", 4) == 0, "release %.*s",
            (int)version.len, (const char *)version.data);
  for (int i = 0; i < 4; i++) raw_reply_free(&r[i]);
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
  cqlmux_batch_msg batch = {.type = CQLMUX_BATCH_UNLOGGED, .statements = members,
                        .count = PAGED_ROWS, .consistency = CQLMUX_CONSISTENCY_ONE};
  raw_reply r;
  int rc = raw_client_batch(c, &batch, &r);
  expect_result(c, rc, &r, "BATCH of 100 inserts");
  cr_assert_eq(r.msg.result.kind, CQLMUX_RESULT_VOID);
  raw_reply_free(&r);
  raw_reply_free(&ins);
  cqlmux_wbuf_free(&b);
}

/* Checks one page and returns how many rows it had. c is clustered in
 * descending order: its type still comes as a plain int. */
static int32_t check_page(const cqlmux_rows *rows, int32_t seen, bool skipped_metadata) {
  cr_assert_leq(rows->rows_count, PAGE_SIZE);
  cr_assert_eq(rows->meta.columns_count, 2);
  if (skipped_metadata) {
    cr_assert(rows->meta.flags & CQLMUX_ROWS_FLAG_NO_METADATA);
    cr_assert_null(rows->meta.columns);
  } else {
    cr_assert(slice_is(rows->meta.columns[0].name, "c"));
    cr_assert(slice_is(rows->meta.columns[1].name, "v"));
    cr_assert_eq(rows->meta.columns[0].type->id, CQLMUX_TYPE_INT);
  }
  for (int32_t i = 0; i < rows->rows_count; i++) {
    cqlmux_bytes cv, vv;
    cqlmux_slice text;
    int32_t cn;
    char want[16];
    cr_assert_eq(cqlmux_rows_cell(rows, (uint32_t)i, 0, &cv), CQLMUX_OK);
    cr_assert_eq(cqlmux_rows_cell(rows, (uint32_t)i, 1, &vv), CQLMUX_OK);
    cr_assert_eq(cqlmux_value_get_int(cv, &cn), CQLMUX_OK);
    cr_assert_eq(cn, PAGED_ROWS - 1 - (seen + i), "row %d of the page holds c = %d", i, cn);
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

/* An aggregate over every partition draws a warning, which comes in the
 * body prefix before the rows. */
static void check_warning(raw_client *c) {
  raw_reply r = query_rows(c, "SELECT COUNT(*) AS n FROM " CODEC_KS ".paged", 1);
  int64_t n;
  cr_assert_eq(cqlmux_value_get_bigint(codec_cell(&r.msg.result.rows, 0, "n"), &n), CQLMUX_OK);
  cr_assert_eq(n, PAGED_ROWS);
  cr_assert(r.envelope.header.flags & CQLMUX_FLAG_WARNING, "no warning flag");
  cr_assert_geq(r.prefix.warnings.count, 1);
  cqlmux_reader w = r.prefix.warnings.items;
  bool found = false;
  for (uint16_t i = 0; i < r.prefix.warnings.count; i++) {
    cqlmux_slice text;
    cr_assert_eq(cqlmux_read_string(&w, &text), CQLMUX_OK);
    found |= slice_is(text, "Aggregation query used without partition key");
  }
  cr_assert(found, "the aggregation warning is missing");
  raw_reply_free(&r);
}

static void check_paging(raw_client *c) {
  fill_paged(c);
  check_warning(c);
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

  /* Two replicas cannot answer in a keyspace of one. */
  cqlmux_query_params two = params_one();
  two.consistency = CQLMUX_CONSISTENCY_TWO;
  int rc = raw_client_query(c, "SELECT * FROM " CODEC_KS ".paged WHERE p = 0", &two, &r);
  r = expect_error(c, rc, r, CQLMUX_CQL_UNAVAILABLE, "a read at consistency TWO");
  cr_assert_eq(r.msg.error.consistency, CQLMUX_CONSISTENCY_TWO);
  cr_assert_eq(r.msg.error.required, 2);
  cr_assert_eq(r.msg.error.alive, 1);
  raw_reply_free(&r);

  static const uint8_t bogus[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  cqlmux_slice id = {bogus, sizeof bogus};
  cqlmux_query_params p = params_one();
  rc = raw_client_execute(c, id, id, &p, &r);
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
  size_t sent = c->sent_last;
  cqlmux_wbuf_free(&b);
  raw_reply_free(&ins);

  /* Half the blob compresses, so LZ4 (v4 envelope or v5 frames) shows. */
  if (c->lz4)
    cr_assert_lt(sent, LARGE_BLOB, "LZ4 left the INSERT at %zu bytes", sent);
  else
    cr_assert_gt(sent, LARGE_BLOB);

  raw_reply r = query_rows(c, "SELECT data FROM " CODEC_KS ".large WHERE id = 1", 1);
  cr_log_info("v%d%s: 300 KiB blob sent in %zu bytes, answered in %zu bytes, %u v5 frames",
              c->version, c->lz4 ? "+lz4" : "", sent, c->received_last, c->frames_last);
  if (c->version >= CQLMUX_PROTO_V5) {
    /* 300 KiB cannot fit a 128 KiB frame: the answer was joined. */
    cr_assert_geq(c->frames_last, 3, "the answer took %u frames", c->frames_last);
    cr_assert_eq(c->partial_frames_last, c->frames_last - 1);
  } else {
    cr_assert_eq(c->compressed_last, c->lz4, "v4 answer compression flag");
  }
  if (c->lz4)
    cr_assert_lt(c->received_last, LARGE_BLOB, "the answer was not compressed");
  else
    cr_assert_gt(c->received_last, LARGE_BLOB);
  cqlmux_slice got;
  cr_assert_eq(cqlmux_value_get_blob(codec_cell(&r.msg.result.rows, 0, "data"), &got), CQLMUX_OK);
  cr_assert_eq(got.len, LARGE_BLOB);
  cr_assert(memcmp(got.data, blob, LARGE_BLOB) == 0, "the blob came back different");
  raw_reply_free(&r);
  free(blob);
}

/* ------------------------------------------------------------ 7. flags */

static bool applied(const raw_reply *r) {
  bool b;
  cr_assert_eq(r->msg.result.kind, CQLMUX_RESULT_ROWS);
  cr_assert_eq(cqlmux_value_get_boolean(codec_cell(&r->msg.result.rows, 0, "[applied]"), &b),
               CQLMUX_OK);
  return b;
}

/* DEFAULT_TIMESTAMP, SERIAL_CONSISTENCY and the TRACING header flag, as the
 * server sees them: the recorded write time, a lightweight transaction,
 * and a tracing session id in front of the answer. */
static void check_query_flags(raw_client *c) {
  cqlmux_query_params p = params_one();
  p.has_timestamp = true;
  p.timestamp = 1234567890123456;
  raw_reply r = query(c, "INSERT INTO " CODEC_KS ".paged (p, c, v) VALUES (1, 0, 'ts')", &p);
  raw_reply_free(&r);
  r = query_rows(c, "SELECT WRITETIME(v) AS w FROM " CODEC_KS ".paged WHERE p = 1 AND c = 0", 1);
  int64_t w;
  cr_assert_eq(cqlmux_value_get_bigint(codec_cell(&r.msg.result.rows, 0, "w"), &w), CQLMUX_OK);
  cr_assert_eq(w, 1234567890123456, "write time %lld", (long long)w);
  raw_reply_free(&r);

  p = params_one();
  p.has_serial_consistency = true;
  p.serial_consistency = CQLMUX_CONSISTENCY_LOCAL_SERIAL;
  static const char lwt[] =
      "INSERT INTO " CODEC_KS ".paged (p, c, v) VALUES (1, 1, 'lwt') IF NOT EXISTS";
  r = query(c, lwt, &p);
  cr_assert(applied(&r), "the first IF NOT EXISTS applies");
  raw_reply_free(&r);
  r = query(c, lwt, &p);
  cr_assert(!applied(&r), "the second does not");
  raw_reply_free(&r);

  c->request_flags = CQLMUX_FLAG_TRACING;
  r = query_rows(c, "SELECT v FROM " CODEC_KS ".paged WHERE p = 1 AND c = 1", 1);
  c->request_flags = 0;
  cr_assert(r.envelope.header.flags & CQLMUX_FLAG_TRACING, "no tracing flag on the answer");
  cr_assert_not_null(r.prefix.tracing_id);
  raw_reply_free(&r);
}

static void expect_single_text(const raw_reply *r, const char *want) {
  cr_assert_eq(r->msg.result.kind, CQLMUX_RESULT_ROWS);
  cr_assert_eq(r->msg.result.rows.rows_count, 1);
  cqlmux_bytes v;
  cqlmux_slice s;
  cr_assert_eq(cqlmux_rows_cell(&r->msg.result.rows, 0, 0, &v), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_get_text(v, &s), CQLMUX_OK);
  cr_assert(slice_is(s, want), "got %.*s, want %s", (int)s.len, (const char *)s.data, want);
}

/* v5 only: KEYSPACE on QUERY and PREPARE resolves unqualified tables, and
 * NOW_IN_SECONDS is the clock a TTL counts from. */
static void check_v5_flags(raw_client *c) {
  cqlmux_query_params p = params_one();
  p.has_keyspace = true;
  p.keyspace = cqlmux_slice_from_cstr(CODEC_KS);
  raw_reply r = query(c, "SELECT v FROM paged WHERE p = 1 AND c = 1", &p);
  expect_single_text(&r, "lwt");
  raw_reply_free(&r);

  raw_reply sel = prepare_in(c, "SELECT v FROM paged WHERE p = ? AND c = ?", CODEC_KS);
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_value_write_int(&b, 1);
  cqlmux_value_write_int(&b, 1);
  r = execute(c, &sel, &b, params_one(), "EXECUTE prepared in a keyspace");
  expect_single_text(&r, "lwt");
  raw_reply_free(&r);
  raw_reply_free(&sel);
  cqlmux_wbuf_free(&b);

  p.has_now_in_seconds = true;
  p.now_in_seconds = (int32_t)time(NULL) + 100000;
  r = query(c, "INSERT INTO paged (p, c, v) VALUES (1, 2, 'ttl') USING TTL 1000", &p);
  raw_reply_free(&r);
  r = query_rows(c, "SELECT TTL(v) AS t FROM " CODEC_KS ".paged WHERE p = 1 AND c = 2", 1);
  int32_t ttl;
  cr_assert_eq(cqlmux_value_get_int(codec_cell(&r.msg.result.rows, 0, "t"), &ttl), CQLMUX_OK);
  cr_assert_gt(ttl, 100000, "TTL %d ignores now_in_seconds", ttl);
  raw_reply_free(&r);
}

static raw_reply execute_ids(raw_client *c, cqlmux_slice id, cqlmux_slice metadata_id,
                             const cqlmux_bytes *values, uint16_t n, const char *what) {
  cqlmux_query_params p = params_one();
  p.values = values;
  p.value_count = n;
  raw_reply r;
  int rc = raw_client_execute(c, id, metadata_id, &p, &r);
  cr_assert_eq(rc, CQLMUX_OK, "%s: %s", what, c->why);
  return r;
}

/* ALTER TABLE evicts the statements prepared on the table: the next EXECUTE
 * is UNPREPARED, naming the real id. Preparing again gives the same id and,
 * in v5, a new result metadata id; an EXECUTE still sending the old one is
 * answered with METADATA_CHANGED and the new id, one sending the new id
 * without that flag. */
static void check_metadata_change(raw_client *c) {
  static const char cql[] = "SELECT * FROM " CODEC_KS ".counters WHERE id = ?";
  raw_reply before = prepare(c, cql);
  const cqlmux_prepared_msg *old = &before.msg.result.prepared;
  cr_assert_eq(old->result.columns_count, 2);
  schema(c, "ALTER TABLE " CODEC_KS ".counters ADD extra counter", CQLMUX_SCHEMA_UPDATED,
         CQLMUX_TARGET_TABLE, "counters");
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_value_write_int(&b, 1);
  cqlmux_bytes id1;
  cr_assert_eq(read_values(&b, &id1, 1), 1);
  raw_reply r = execute_ids(c, old->id, old->result_metadata_id, &id1, 1, "EXECUTE after ALTER");
  r = expect_error(c, CQLMUX_OK, r, CQLMUX_CQL_UNPREPARED, "EXECUTE after ALTER");
  cr_assert(r.msg.error.unprepared_id.len == old->id.len &&
            memcmp(r.msg.error.unprepared_id.data, old->id.data, old->id.len) == 0);
  raw_reply_free(&r);

  raw_reply after = prepare(c, cql);
  const cqlmux_prepared_msg *now = &after.msg.result.prepared;
  cr_assert_eq(now->result.columns_count, 3);
  cr_assert(now->id.len == old->id.len && memcmp(now->id.data, old->id.data, old->id.len) == 0);
  r = execute_ids(c, now->id, old->result_metadata_id, &id1, 1, "EXECUTE with the old metadata");
  expect_result(c, CQLMUX_OK, &r, "EXECUTE with the old metadata");
  const cqlmux_rows_metadata *m = &r.msg.result.rows.meta;
  cr_assert_eq(m->columns_count, 3);
  if (c->version >= CQLMUX_PROTO_V5) {
    cr_assert(m->flags & CQLMUX_ROWS_FLAG_METADATA_CHANGED, "flags 0x%x", m->flags);
    cqlmux_slice fresh = now->result_metadata_id;
    cr_assert(m->new_metadata_id.len == fresh.len &&
              memcmp(m->new_metadata_id.data, fresh.data, fresh.len) == 0);
    cr_assert(fresh.len != old->result_metadata_id.len ||
              memcmp(fresh.data, old->result_metadata_id.data, fresh.len) != 0);
    raw_reply again = execute_ids(c, now->id, fresh, &id1, 1, "EXECUTE with the new metadata");
    expect_result(c, CQLMUX_OK, &again, "EXECUTE with the new metadata");
    cr_assert_eq(again.msg.result.rows.meta.flags & CQLMUX_ROWS_FLAG_METADATA_CHANGED, 0);
    raw_reply_free(&again);
  }
  raw_reply_free(&r);
  raw_reply_free(&after);
  raw_reply_free(&before);
  cqlmux_wbuf_free(&b);
}

/* A column of a marshal class with no CQL name: a custom [option] whose
 * class string the codec keeps, and whose values are plain bytes. */
static void check_custom_type(raw_client *c) {
  static const uint8_t uuid[16] = {0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
                                   0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};
  raw_reply ins = prepare(c, "INSERT INTO " CODEC_KS ".large (id, custom) VALUES (?, ?)");
  const cqlmux_typedesc *t = ins.msg.result.prepared.bind_columns[1].type;
  cr_assert_eq(t->id, CQLMUX_TYPE_CUSTOM);
  cr_assert(slice_is(t->custom, CUSTOM_CLASS), "class %.*s", (int)t->custom.len,
            (const char *)t->custom.data);
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_value_write_int(&b, 2);
  cqlmux_value_write_bytes(&b, uuid, sizeof uuid);
  execute_void(c, &ins, &b, "INSERT of a custom value");
  cqlmux_wbuf_free(&b);
  raw_reply_free(&ins);

  raw_reply r = query_rows(c, "SELECT custom FROM " CODEC_KS ".large WHERE id = 2", 1);
  t = r.msg.result.rows.meta.columns[0].type;
  cr_assert_eq(t->id, CQLMUX_TYPE_CUSTOM);
  cr_assert(slice_is(t->custom, CUSTOM_CLASS));
  cqlmux_bytes v = codec_cell(&r.msg.result.rows, 0, "custom");
  cr_assert_eq(cqlmux_value_validate(t, v), CQLMUX_OK);
  cr_assert(v.len == sizeof uuid && memcmp(v.data, uuid, sizeof uuid) == 0);
  raw_reply_free(&r);
}

/* A field added to a UDT after values were written: the type now has four
 * fields, the stored values three, and the walk ends after the third. */
static void check_udt_evolution(raw_client *c) {
  schema(c, "ALTER TYPE " CODEC_KS ".address ADD country text", CQLMUX_SCHEMA_UPDATED,
         CQLMUX_TARGET_TYPE, "address");
  raw_reply r = query_rows(c, "SELECT a_udt FROM " CODEC_KS ".all_types WHERE id = 1", 1);
  const cqlmux_typedesc *t = r.msg.result.rows.meta.columns[0].type;
  cr_assert_eq(t->id, CQLMUX_TYPE_UDT);
  cr_assert_eq(t->count, 4);
  cr_assert(slice_is(t->field_names[3], "country"));
  cqlmux_value_iter it;
  cqlmux_bytes e;
  cr_assert_eq(cqlmux_value_iter_init(&it, t, codec_cell(&r.msg.result.rows, 0, "a_udt")),
               CQLMUX_OK);
  while (cqlmux_value_iter_next(&it, &e, NULL) == 1) continue;
  cr_log_info("v%d%s: the old UDT value has %u fields of %u", c->version, c->lz4 ? "+lz4" : "",
              it.index, t->count);
  cr_assert_eq(it.index, 3, "%u fields", it.index);
  cr_assert_eq(cqlmux_value_validate(t, codec_cell(&r.msg.result.rows, 0, "a_udt")), CQLMUX_OK);
  raw_reply_free(&r);
}

/* ------------------------------------------------------------ the tests */

static void run_config(uint8_t version, bool lz4) {
  raw_client c;
  connect_to(&c, version, lz4);
  create_schema(&c);
  insert_rows(&c);
  select_rows(&c);
  check_counter(&c);
  check_pipeline(&c);
  check_paging(&c);
  check_errors(&c);
  check_large_blob(&c);
  check_query_flags(&c);
  if (version >= CQLMUX_PROTO_V5) check_v5_flags(&c);
  check_metadata_change(&c);
  check_custom_type(&c);
  check_udt_evolution(&c);
  schema(&c, "DROP KEYSPACE " CODEC_KS, CQLMUX_SCHEMA_DROPPED, CQLMUX_TARGET_KEYSPACE, NULL);
  raw_client_close(&c);
}

Test(codec_real, v4, .timeout = 120) { run_config(CQLMUX_PROTO_V4, false); }
Test(codec_real, v4_lz4, .timeout = 120) { run_config(CQLMUX_PROTO_V4, true); }
Test(codec_real, v5, .timeout = 120) { run_config(CQLMUX_PROTO_V5, false); }
Test(codec_real, v5_lz4, .timeout = 120) { run_config(CQLMUX_PROTO_V5, true); }

/* Runs one test at a time: see serial_main.c. */

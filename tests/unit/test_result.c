/* Where a result keeps the bytes it borrows: a small body is copied into
 * the result's arena (the connection's receive buffer is not pinned), a
 * large one keeps a reference on the buffer, a body from a reused scratch
 * buffer (buffer NULL) gets a private copy. And the columns of an answer
 * asked for with SKIP_METADATA, borrowed from the prepared statement. And
 * the arena across a pooled call's uses: results larger than the inline
 * part, growth kept for the next fill within a bound, errors in the arena. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/prepared.h"
#include "api/result.h"
#include "net/rbuf.h"
#include "proto/opcode.h"
#include "proto/types.h"
#include "rows_fixture.h"
#include "rt_util.h"

/* A ROWS body of one row with one blob cell of `cell` bytes. */
static void rows_body(cqlmux_wbuf *b, size_t cell) {
  cqlmux_column_spec col = {.keyspace = {(const uint8_t *)"ks", 2},
                            .table = {(const uint8_t *)"t", 1},
                            .name = {(const uint8_t *)"v", 1},
                            .type = cqlmux_type_native(CQLMUX_TYPE_BLOB)};
  cqlmux_rows_metadata meta = {.columns_count = 1, .paging_state = {NULL, -1}, .columns = &col};
  static uint8_t value[8192];
  memset(value, 0xab, sizeof value);
  cqlmux_bytes v = {value, (int32_t)cell};
  cqlmux_wbuf_init(b, NULL, 0);
  cqlmux_rows_encode(b, 4, &meta, 1, &v);
  cr_assert_eq(b->error, 0);
}

/* Fills r from a body placed in a fresh receive buffer. */
static cqlmux_rbuf *fill_from_buffer(cqlmux_result *r, const cqlmux_wbuf *body) {
  cqlmux_rbuf *buf = cqlmux_rbuf_new(NULL, 16384);
  memcpy(buf->data, body->data, body->len);
  buf->end = body->len;
  cr_assert_eq(cqlmux_result_fill(r, 4, CQLMUX_OP_RESULT, buf->data, body->len, buf,
                                  NULL), CQLMUX_OK);
  return buf;
}

static void assert_cell(const cqlmux_result *r, size_t len) {
  const uint8_t *data;
  int32_t n;
  cr_assert_eq(cqlmux_result_get_serialized(r, 0, 0, &data, &n), CQLMUX_OK);
  cr_assert_eq(n, (int32_t)len);
  for (size_t i = 0; i < len; i++) cr_assert_eq(data[i], 0xab);
}

Test(result, small_body_is_copied_and_does_not_pin_the_buffer) {
  cqlmux_wbuf body;
  rows_body(&body, 16);
  cr_assert_leq(body.len, CQLMUX_RESULT_SMALL_BODY);
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  cqlmux_rbuf *buf = fill_from_buffer(&r, &body);
  cr_assert(cqlmux_rbuf_exclusive(buf), "the connection may reuse its buffer at once");
  memset(buf->data, 0, buf->cap); /* overwritten by the next read */
  assert_cell(&r, 16);
  cr_assert_eq(r.arena.blocks, NULL, "copied into the inline arena");
  cqlmux_result_clear(&r);
  cqlmux_rbuf_release(buf);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

Test(result, large_body_keeps_a_reference_on_the_buffer) {
  cqlmux_wbuf body;
  rows_body(&body, 4000);
  cr_assert_gt(body.len, CQLMUX_RESULT_SMALL_BODY);
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  cqlmux_rbuf *buf = fill_from_buffer(&r, &body);
  cr_assert_not(cqlmux_rbuf_exclusive(buf), "zero copy: the result holds the buffer");
  assert_cell(&r, 4000);
  cqlmux_result_clear(&r);
  cr_assert(cqlmux_rbuf_exclusive(buf), "clear lets go of it");
  cqlmux_rbuf_release(buf);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

Test(result, body_from_scratch_gets_a_private_copy) {
  cqlmux_wbuf body;
  rows_body(&body, 4000);
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL,
                                  NULL), CQLMUX_OK);
  memset(body.data, 0, body.len); /* the scratch buffer is reused */
  assert_cell(&r, 4000);
  cqlmux_result_clear(&r);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

static const cqlmux_column_spec blob_column = {.keyspace = {(const uint8_t *)"ks", 2},
                                               .table = {(const uint8_t *)"t", 1},
                                               .name = {(const uint8_t *)"v", 1}};

/* The PREPARED answer of a statement returning one blob column "v". */
static cqlmux_result_meta *blob_meta(void) {
  cqlmux_column_spec col = blob_column;
  col.type = cqlmux_type_native(CQLMUX_TYPE_BLOB);
  static const uint8_t id[4] = {1, 2, 3, 4};
  cqlmux_result_msg msg = {.kind = CQLMUX_RESULT_PREPARED};
  msg.prepared.id = (cqlmux_slice){id, sizeof id};
  msg.prepared.result = (cqlmux_rows_metadata){.columns_count = 1, .paging_state = {NULL, -1},
                                               .columns = &col};
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_result_encode(&b, 4, &msg);
  cr_assert_eq(b.error, 0);
  cqlmux_result_meta *m = cqlmux_result_meta_new(NULL, 4, b.data, b.len);
  cqlmux_wbuf_free(&b);
  cr_assert_not_null(m);
  cr_assert_eq(m->columns_count, 1);
  return m;
}

/* A ROWS body without metadata: `columns` columns, one row of 16-byte blobs. */
static void rows_body_without_metadata(cqlmux_wbuf *b, int32_t columns) {
  cqlmux_rows_metadata meta = {.flags = CQLMUX_ROWS_FLAG_NO_METADATA, .columns_count = columns,
                               .paging_state = {NULL, -1}};
  static uint8_t value[16];
  memset(value, 0xab, sizeof value);
  cqlmux_bytes cells[2] = {{value, 16}, {value, 16}};
  cqlmux_wbuf_init(b, NULL, 0);
  cqlmux_rows_encode(b, 4, &meta, 1, cells);
  cr_assert_eq(b->error, 0);
}

Test(result, skipped_metadata_borrows_the_prepared_columns_beyond_the_prepared) {
  cqlmux_result_meta *m = blob_meta();
  cqlmux_wbuf body;
  rows_body_without_metadata(&body, 1);
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  cqlmux_result_expect_columns(&r, m);
  cqlmux_result_meta_release(m); /* the application frees the prepared statement */
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL,
                                  NULL), CQLMUX_OK);
  size_t n;
  const char *name = cqlmux_result_column_name(&r, 0, &n);
  cr_assert(name && n == 1 && name[0] == 'v');
  cr_assert_eq(cqlmux_result_column_type(&r, 0), CQLMUX_TYPE_BLOB);
  assert_cell(&r, 16);
  cqlmux_result_clear(&r);
  cqlmux_result_drop_columns(&r); /* the last reference: the columns go */
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

static unsigned refs_of(cqlmux_result_meta *m) { return atomic_load(&m->refs); }

Test(result, a_reused_result_keeps_one_reference_on_the_same_columns) {
  cqlmux_result_meta *m = blob_meta(), *other = blob_meta();
  cqlmux_wbuf body;
  rows_body_without_metadata(&body, 1);
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  for (int use = 0; use < 3; use++) { /* a pooled call running one statement */
    cqlmux_result_expect_columns(&r, m);
    cr_assert_eq(refs_of(m), 2, "the statement's and the result's, whatever the use");
    cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL, NULL),
                 CQLMUX_OK);
    assert_cell(&r, 16);
    cqlmux_result_clear(&r);
    cr_assert_eq(refs_of(m), 2, "kept across clear");
  }
  cqlmux_result_expect_columns(&r, NULL); /* reused for an unprepared statement */
  cr_assert_eq(refs_of(m), 1, "another use lets the columns go");
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL,
                                  NULL), CQLMUX_OK);
  size_t n;
  cr_assert_null(cqlmux_result_column_name(&r, 0, &n), "no stale columns");
  cqlmux_result_clear(&r);
  cqlmux_result_expect_columns(&r, other);
  cr_assert_eq(refs_of(other), 2);
  cqlmux_result_drop_columns(&r);
  cr_assert_eq(refs_of(other), 1);
  cqlmux_result_meta_release(m);
  cqlmux_result_meta_release(other);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

Test(result, skipped_metadata_of_another_shape_leaves_columns_unknown) {
  cqlmux_result_meta *m = blob_meta();
  cqlmux_wbuf body;
  rows_body_without_metadata(&body, 2); /* the table gained a column */
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  cqlmux_result_expect_columns(&r, m);
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL,
                                  NULL), CQLMUX_OK);
  cr_assert_eq(cqlmux_result_column_count(&r), 2);
  size_t n;
  cr_assert_null(cqlmux_result_column_name(&r, 0, &n), "not the prepared statement's columns");
  const uint8_t *data;
  int32_t len;
  cr_assert_eq(cqlmux_result_get_serialized(&r, 0, 1, &data, &len), CQLMUX_OK,
               "raw cells stay readable");
  cr_assert_eq(len, 16);
  cqlmux_result_clear(&r);
  cqlmux_result_drop_columns(&r);
  cqlmux_result_meta_release(m);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

Test(result, a_statement_without_result_columns_has_no_meta) {
  static const uint8_t id[4] = {1, 2, 3, 4};
  cqlmux_result_msg msg = {.kind = CQLMUX_RESULT_PREPARED};
  msg.prepared.id = (cqlmux_slice){id, sizeof id};
  msg.prepared.result = (cqlmux_rows_metadata){.flags = CQLMUX_ROWS_FLAG_NO_METADATA,
                                               .paging_state = {NULL, -1}};
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_result_encode(&b, 4, &msg);
  cr_assert_null(cqlmux_result_meta_new(NULL, 4, b.data, b.len), "an INSERT: no SKIP_METADATA");
  cqlmux_wbuf_free(&b);
}

/* ------------------------------------------- the arena across a call's uses */

/* A ROWS body with full metadata: `columns` int columns named c0, c1 ...
 * and `rows` rows of them. */
static void int_rows_body(cqlmux_wbuf *b, int32_t columns, int32_t rows) {
  rows_fixture_int_body(b, "c", columns, rows, false);
}

static void assert_int_rows(const cqlmux_result *r, int32_t columns, int32_t rows) {
  cr_assert_eq(cqlmux_result_kind_of(r), CQLMUX_RESULT_ROWS);
  cr_assert_eq(cqlmux_result_column_count(r), (size_t)columns);
  cr_assert_eq(cqlmux_result_row_count(r), (size_t)rows);
  cr_assert_eq(cqlmux_result_column_index(r, "c1"), columns > 1 ? 1 : CQLMUX_ERR_NOT_FOUND);
  for (int32_t row = 0; row < rows; row++)
    for (int32_t col = 0; col < columns; col++) {
      int32_t v;
      cr_assert_eq(cqlmux_result_get_int32(r, (size_t)row, (size_t)col, &v), CQLMUX_OK);
      cr_assert_eq(v, (row * columns + col) & 0xffff);
    }
}

Test(result, a_result_larger_than_the_inline_arena_is_whole) {
  cqlmux_wbuf body;
  int_rows_body(&body, 6, 1); /* 6 column specs: several times the inline arena */
  cr_assert_leq(body.len, CQLMUX_RESULT_SMALL_BODY);
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  cqlmux_rbuf *buf = fill_from_buffer(&r, &body);
  cr_assert(cqlmux_rbuf_exclusive(buf), "small: copied, even though the arena had to grow");
  memset(buf->data, 0, buf->cap);
  cr_assert_gt(cqlmux_arena_owned(&r.arena), 0);
  assert_int_rows(&r, 6, 1);
  cqlmux_result_clear(&r);
  cr_assert_eq(cqlmux_arena_owned(&r.arena), 0, "clear frees the growth");
  cqlmux_rbuf_release(buf);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

Test(result, a_small_body_between_the_inline_arena_and_the_copy_limit_is_copied) {
  cqlmux_wbuf body;
  rows_body(&body, 200);
  cr_assert_gt(body.len, CQLMUX_RESULT_ARENA_INLINE);
  cr_assert_leq(body.len, CQLMUX_RESULT_SMALL_BODY);
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  cqlmux_rbuf *buf = fill_from_buffer(&r, &body);
  cr_assert(cqlmux_rbuf_exclusive(buf), "the receive buffer is not pinned");
  memset(buf->data, 0, buf->cap);
  assert_cell(&r, 200);
  cqlmux_result_clear(&r);
  cqlmux_rbuf_release(buf);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

/* What a pooled call does: fill, recycle, fill again. Growth is kept, so a
 * steady stream of results larger than the inline arena allocates only on
 * the first; a result that grew past CQLMUX_RESULT_ARENA_KEEP does not
 * leave its block behind. */
Test(result, arena_growth_is_kept_across_recycling_and_bounded) {
  rt_counting_alloc c;
  rt_counting_alloc_init(&c);
  cqlmux_wbuf medium, huge;
  int_rows_body(&medium, 6, 1);
  int_rows_body(&huge, 2, 1000); /* a 2000-cell index: 8000 bytes */
  cqlmux_result r;
  cqlmux_result_init(&r, &c.hook);
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, medium.data, medium.len, NULL, NULL),
               CQLMUX_OK);
  assert_int_rows(&r, 6, 1);
  long first = atomic_load(&c.total);
  cr_assert_gt(first, 0);
  cqlmux_result_recycle(&r);
  size_t kept = cqlmux_arena_owned(&r.arena);
  cr_assert_gt(kept, 0, "the grown block is kept");
  cr_assert_leq(kept, CQLMUX_RESULT_ARENA_KEEP + 64);
  for (int use = 0; use < 10; use++) {
    cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, medium.data, medium.len, NULL, NULL),
                 CQLMUX_OK);
    assert_int_rows(&r, 6, 1);
    cqlmux_result_recycle(&r);
  }
  cr_assert_eq(atomic_load(&c.total), first, "like results reuse the kept block: no allocation");
  cr_assert_eq(cqlmux_arena_owned(&r.arena), kept);
  /* A huge one grows past the bound: its block goes on recycling, the
   * earlier one (within the bound) stays. */
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, huge.data, huge.len, NULL,
                                  NULL), CQLMUX_OK);
  assert_int_rows(&r, 2, 1000);
  cr_assert_gt(cqlmux_arena_owned(&r.arena), CQLMUX_RESULT_ARENA_KEEP);
  cqlmux_result_recycle(&r);
  cr_assert_eq(cqlmux_arena_owned(&r.arena), kept, "nothing over the bound is kept");
  cr_assert_eq(atomic_load(&c.live), 1, "the kept block only");
  cqlmux_result_clear(&r);
  cr_assert_eq(atomic_load(&c.live), 0);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&medium);
  cqlmux_wbuf_free(&huge);
}

/* An ERROR lives in the arena with its string copies. */
Test(result, error_details_and_strings_live_in_the_arena) {
  cqlmux_error_body e = {.code = CQLMUX_CQL_WRITE_TIMEOUT,
                         .message = {(const uint8_t *)"Operation timed out", 19},
                         .consistency = 4,
                         .received = 1,
                         .block_for = 2,
                         .write_type = {(const uint8_t *)"BATCH_LOG", 9},
                         .contentions = -1};
  cqlmux_wbuf body;
  cqlmux_wbuf_init(&body, NULL, 0);
  cqlmux_error_encode(&body, 4, &e);
  cr_assert_eq(body.error, 0);
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  for (int use = 0; use < 3; use++) {
    cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_ERROR, body.data, body.len, NULL,
                                    NULL), CQLMUX_OK);
    cr_assert(r.has_error && !r.has_result);
    cr_assert_eq(r.error->body.code, CQLMUX_CQL_WRITE_TIMEOUT);
    cr_assert_eq(r.error->body.block_for, 2);
    cr_assert_str_eq(r.error->write_type, "BATCH_LOG");
    cr_assert_str_eq(r.error->keyspace, "");
    char text[128];
    cqlmux_result_describe_error(&r, text, sizeof text);
    cr_assert_str_eq(text, "Cassandra error 0x1100 (write timeout): Operation timed out");
    cqlmux_result_recycle(&r);
    cr_assert_not(r.has_error);
  }
  cqlmux_result_clear(&r);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

/* The sizes a pooled call (one per request in flight) depends on. */
Test(result, result_stays_small) {
  cr_assert_leq(sizeof(cqlmux_result), 208 + CQLMUX_RESULT_ARENA_INLINE, "cqlmux_result is %zu",
                sizeof(cqlmux_result));
}

/* Issue 15: a missing result used to read as a VOID one. */
Test(result, kind_of_null_is_an_error_not_void) {
  cr_assert_eq(cqlmux_result_kind_of(NULL), CQLMUX_ERR_INVALID_ARGUMENT);
}

/* v5: an answer flagged METADATA_CHANGED (the table was altered) replaces
 * the prepared statement's columns and metadata id, once per new id. */
static void changed_rows_body(cqlmux_wbuf *b, const char *new_id) {
  cqlmux_column_spec cols[2] = {blob_column, blob_column};
  cols[0].type = cols[1].type = cqlmux_type_native(CQLMUX_TYPE_BLOB);
  cols[1].name = (cqlmux_slice){(const uint8_t *)"added", 5};
  cqlmux_rows_metadata meta = {.flags = CQLMUX_ROWS_FLAG_METADATA_CHANGED,
                               .columns_count = 2,
                               .paging_state = {NULL, -1},
                               .new_metadata_id = {(const uint8_t *)new_id, strlen(new_id)},
                               .columns = cols};
  static uint8_t value[2] = {0xab, 0xab};
  cqlmux_bytes v[2] = {{value, 2}, {value, 1}};
  cqlmux_wbuf_init(b, NULL, 0);
  cqlmux_rows_encode(b, 5, &meta, 1, v);
  cr_assert_eq(b->error, 0);
}

static void fill_changed(cqlmux_result_meta *m, const char *new_id) {
  cqlmux_wbuf body;
  changed_rows_body(&body, new_id);
  cqlmux_result r;
  cqlmux_result_init(&r, NULL);
  cqlmux_result_expect_columns(&r, m);
  cr_assert_eq(cqlmux_result_fill(&r, 5, CQLMUX_OP_RESULT, body.data, body.len, NULL,
                                  NULL), CQLMUX_OK);
  cr_assert_eq(r.rows.meta.columns_count, 2, "the answer's own columns");
  cqlmux_result_clear(&r);
  cqlmux_result_drop_columns(&r);
  cqlmux_arena_free(&r.arena);
  cqlmux_wbuf_free(&body);
}

Test(result, metadata_changed_replaces_the_prepared_columns_and_id) {
  cqlmux_prepared *p = cqlmux_prepared_new(NULL, "SELECT * FROM t", (const uint8_t *)"id", 2,
                                           (const uint8_t *)"old", 3, 0);
  p->result_meta = blob_meta();
  cqlmux_slice id;
  cqlmux_prepared_metadata_id(p, &id);
  cr_assert_eq(id.len, 3);
  fill_changed(p->result_meta, "new-id");
  cqlmux_result_meta *cur = cqlmux_result_meta_current(p->result_meta);
  cr_assert_neq(cur, p->result_meta);
  cr_assert_eq(cur->columns_count, 2);
  cqlmux_prepared_metadata_id(p, &id);
  cr_assert_eq(id.len, 6);
  cr_assert_arr_eq(id.data, "new-id", 6);
  /* The same change seen again (answers already in flight) adds nothing. */
  fill_changed(p->result_meta, "new-id");
  cr_assert_eq(cqlmux_result_meta_current(p->result_meta), cur);
  cqlmux_prepared_free(p); /* frees the chain: LeakSanitizer checks */
}

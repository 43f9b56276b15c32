/* Where a result keeps the bytes it borrows: a small body is copied into
 * the result's arena (the connection's receive buffer is not pinned), a
 * large one keeps a reference on the buffer, a body from a reused scratch
 * buffer (buffer NULL) gets a private copy. And the columns of an answer
 * asked for with SKIP_METADATA, borrowed from the prepared statement. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>

#include "api/prepared.h"
#include "api/result.h"
#include "net/rbuf.h"
#include "proto/opcode.h"
#include "proto/types.h"

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
  cr_assert_eq(cqlmux_result_fill(r, 4, CQLMUX_OP_RESULT, buf->data, body->len, buf), CQLMUX_OK);
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
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL), CQLMUX_OK);
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
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL), CQLMUX_OK);
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
    cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL),
                 CQLMUX_OK);
    assert_cell(&r, 16);
    cqlmux_result_clear(&r);
    cr_assert_eq(refs_of(m), 2, "kept across clear");
  }
  cqlmux_result_expect_columns(&r, NULL); /* reused for an unprepared statement */
  cr_assert_eq(refs_of(m), 1, "another use lets the columns go");
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL), CQLMUX_OK);
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
  cr_assert_eq(cqlmux_result_fill(&r, 4, CQLMUX_OP_RESULT, body.data, body.len, NULL), CQLMUX_OK);
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

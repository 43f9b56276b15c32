/* The columns a connection's answers repeat (lib/api/columns_memo.h): an
 * answer whose metadata bytes equal the remembered ones shares their
 * decoding (no arena block, no allocation, no reference count change for a
 * pooled result reused with them); answers with other columns, a paging
 * state, or a metadata that differs in one byte decode their own; other
 * columns replace the remembered ones only after a run of them; rows
 * truncated after a matching metadata are an error, never an over-read. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/columns_memo.h"
#include "api/prepared.h"
#include "api/result.h"
#include "proto/opcode.h"
#include "proto/types.h"
#include "rows_fixture.h"
#include "rt_util.h"

/* The number of answers with other columns that replace the memo's
 * (MEMO_REPLACE_AFTER in columns_memo.c). */
#define REPLACE_AFTER 64

static void rows_body(cqlmux_wbuf *b, const char *prefix, int32_t columns, int32_t rows,
                      bool paging) {
  rows_fixture_int_body(b, prefix, columns, rows, paging);
}

static void assert_rows(const cqlmux_result *r, const char *prefix, int32_t columns,
                        int32_t rows) {
  cr_assert_eq(cqlmux_result_kind_of(r), CQLMUX_RESULT_ROWS);
  cr_assert_eq(cqlmux_result_column_count(r), (size_t)columns);
  cr_assert_eq(cqlmux_result_row_count(r), (size_t)rows);
  char name[8];
  snprintf(name, sizeof name, "%s%d", prefix, (int)(columns - 1));
  cr_assert_eq(cqlmux_result_column_index(r, name), columns - 1, "column %s", name);
  for (int32_t i = 0; i < columns * rows; i++) {
    int32_t v;
    cr_assert_eq(cqlmux_result_get_int32(r, (size_t)(i / columns), (size_t)(i % columns), &v),
                 CQLMUX_OK);
    cr_assert_eq(v, i & 0xffff);
  }
}

static rt_counting_alloc counting;
static void *memo;

static void setup(void) {
  rt_counting_alloc_init(&counting);
  memo = NULL;
}

static void teardown(void) { cqlmux_columns_memo_free(memo); }

TestSuite(columns_memo, .init = setup, .fini = teardown);

static int fill(cqlmux_result *r, const cqlmux_wbuf *body) {
  return cqlmux_columns_memo_fill(&memo, &counting.hook, r, 4, CQLMUX_OP_RESULT, body->data,
                                  body->len, NULL, NULL);
}

/* Done with r: what it holds and its columns reference. */
static void let_go(cqlmux_result *r) {
  cqlmux_result_clear(r);
  cqlmux_result_drop_columns(r);
}

static unsigned refs_of(const cqlmux_result_meta *m) {
  return atomic_load((_Atomic unsigned *)&m->refs);
}

Test(columns_memo, repeated_columns_are_shared_and_cost_no_arena_block) {
  cqlmux_wbuf body;
  rows_body(&body, "c", 6, 1, false);
  cqlmux_result first, second;
  cqlmux_result_init(&first, &counting.hook);
  cqlmux_result_init(&second, &counting.hook);
  cr_assert_eq(fill(&first, &body), CQLMUX_OK);
  cr_assert_null(first.meta_ref, "the first answer decodes its own columns");
  cr_assert_not_null(first.arena.blocks, "6 column specs outgrow the inline arena");
  long allocations = atomic_load(&counting.total);
  cr_assert_eq(fill(&second, &body), CQLMUX_OK);
  cr_assert_eq(atomic_load(&counting.total), allocations, "a repeated answer allocated");
  cr_assert_not_null(second.meta_ref);
  cr_assert_null(second.arena.blocks, "the shared columns are not in the result's arena");
  cr_assert_eq(refs_of(second.meta_ref), 2, "the memo's reference and the result's");
  assert_rows(&first, "c", 6, 1);
  assert_rows(&second, "c", 6, 1);
  /* A pooled result reused for the same columns changes no count. */
  cqlmux_result_meta *shared = second.meta_ref;
  cqlmux_result_recycle(&second);
  cr_assert_eq(fill(&second, &body), CQLMUX_OK);
  cr_assert_eq(second.meta_ref, shared);
  cr_assert_eq(refs_of(shared), 2);
  assert_rows(&second, "c", 6, 1);
  /* The memo goes with its connection; the result keeps its columns. */
  cqlmux_columns_memo_free(memo);
  memo = NULL;
  cr_assert_eq(refs_of(shared), 1);
  assert_rows(&second, "c", 6, 1);
  let_go(&first);
  let_go(&second);
  cr_assert_eq(atomic_load(&counting.live), 0, "%ld blocks left", atomic_load(&counting.live));
  cqlmux_wbuf_free(&body);
}

Test(columns_memo, a_metadata_one_byte_apart_is_not_shared) {
  cqlmux_wbuf a, b;
  rows_body(&a, "c", 3, 2, false);
  rows_body(&b, "x", 3, 2, false); /* same lengths, other names */
  cr_assert_eq(a.len, b.len);
  cqlmux_result r;
  cqlmux_result_init(&r, &counting.hook);
  cr_assert_eq(fill(&r, &a), CQLMUX_OK);
  cqlmux_result_recycle(&r);
  cr_assert_eq(fill(&r, &b), CQLMUX_OK);
  cr_assert_null(r.meta_ref);
  assert_rows(&r, "x", 3, 2);
  cr_assert_eq(cqlmux_result_column_index(&r, "c0"), CQLMUX_ERR_NOT_FOUND);
  let_go(&r);
  cqlmux_wbuf_free(&a);
  cqlmux_wbuf_free(&b);
}

Test(columns_memo, answers_with_a_paging_state_are_never_remembered) {
  cqlmux_wbuf body;
  rows_body(&body, "c", 2, 1, true);
  cqlmux_result r;
  cqlmux_result_init(&r, &counting.hook);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(fill(&r, &body), CQLMUX_OK);
    cr_assert_null(r.meta_ref, "answer %d shared a metadata that carries a paging state", i);
    assert_rows(&r, "c", 2, 1);
    cqlmux_result_recycle(&r);
  }
  let_go(&r);
  cqlmux_wbuf_free(&body);
}

Test(columns_memo, other_columns_replace_the_remembered_ones_only_after_a_run) {
  cqlmux_wbuf a, b;
  rows_body(&a, "a", 4, 1, false);
  rows_body(&b, "b", 5, 1, false);
  cqlmux_result r;
  cqlmux_result_init(&r, &counting.hook);
  cr_assert_eq(fill(&r, &a), CQLMUX_OK); /* remembered */
  cqlmux_result_recycle(&r);
  /* Alternating with a run shorter than the bound: no allocation per
   * answer once the pooled result kept its arena block. */
  cr_assert_eq(fill(&r, &b), CQLMUX_OK);
  cqlmux_result_recycle(&r);
  long allocations = atomic_load(&counting.total);
  for (int i = 0; i < REPLACE_AFTER - 2; i++) {
    cr_assert_eq(fill(&r, &b), CQLMUX_OK);
    cr_assert_null(r.meta_ref);
    assert_rows(&r, "b", 5, 1);
    cqlmux_result_recycle(&r);
  }
  cr_assert_eq(atomic_load(&counting.total), allocations);
  cr_assert_eq(fill(&r, &a), CQLMUX_OK);
  cr_assert_not_null(r.meta_ref, "the remembered columns still match");
  assert_rows(&r, "a", 4, 1);
  cqlmux_result_recycle(&r);
  /* A full run of others replaces them. */
  for (int i = 0; i < REPLACE_AFTER; i++) {
    cr_assert_eq(fill(&r, &b), CQLMUX_OK);
    cqlmux_result_recycle(&r);
  }
  cr_assert_eq(fill(&r, &b), CQLMUX_OK);
  cr_assert_not_null(r.meta_ref, "the run's columns are remembered now");
  assert_rows(&r, "b", 5, 1);
  let_go(&r);
  cqlmux_wbuf_free(&a);
  cqlmux_wbuf_free(&b);
}

Test(columns_memo, rows_cut_short_after_a_matching_metadata_are_an_error) {
  cqlmux_wbuf body;
  rows_body(&body, "c", 3, 2, false);
  cqlmux_result r;
  cqlmux_result_init(&r, &counting.hook);
  cr_assert_eq(fill(&r, &body), CQLMUX_OK);
  cqlmux_result_recycle(&r);
  for (size_t cut = 1; cut <= 3 * 2 * 8 + 4; cut++) {
    /* A private copy of exactly the shorter length: ASan sees any read past it. */
    size_t len = body.len - cut;
    uint8_t *copy = malloc(len);
    memcpy(copy, body.data, len);
    int rc = cqlmux_columns_memo_fill(&memo, &counting.hook, &r, 4, CQLMUX_OP_RESULT, copy, len,
                                      NULL, NULL);
    cr_assert(rc == CQLMUX_ERR_TRUNCATED || rc == CQLMUX_ERR_MALFORMED,
              "cut by %zu: %d", cut, rc);
    cr_assert_eq(r.has_result, false);
    free(copy);
    cqlmux_result_recycle(&r);
  }
  cr_assert_eq(fill(&r, &body), CQLMUX_OK);
  assert_rows(&r, "c", 3, 2);
  let_go(&r);
  cqlmux_wbuf_free(&body);
}

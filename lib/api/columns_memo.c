#include "api/columns_memo.h"

#include <string.h>

#include "api/prepared.h"
#include "proto/opcode.h"
#include "proto/wire.h"
#include "runtime/alloc.h"

/* Answers in a row with other columns before those replace the memo's. */
#define MEMO_REPLACE_AFTER 64

typedef struct columns_memo {
  cqlmux_allocator alloc;
  cqlmux_result_meta *meta; /* one reference; NULL: nothing remembered yet */
  uint8_t version;          /* of the answer meta came from */
  unsigned misses;          /* answers with other columns since meta last matched */
} columns_memo;

/* <kind> ROWS with its metadata, not left out (SKIP_METADATA). */
static bool rows_with_metadata(const cqlmux_result *r, uint8_t opcode, const uint8_t *body,
                               size_t len) {
  return opcode == CQLMUX_OP_RESULT && !r->columns_omitted && len >= 4 &&
         (int32_t)cqlmux_load_u32(body) == CQLMUX_RESULT_ROWS;
}

static bool repeats(const columns_memo *memo, uint8_t version, const uint8_t *body, size_t len) {
  const cqlmux_result_meta *m = memo->meta;
  return m && memo->version == version && len - 4 >= m->metadata_len &&
         !memcmp(body + 4, m->body, m->metadata_len);
}

/* Columns worth remembering: named, and in a metadata that does not change
 * from answer to answer. */
static bool rememberable(const cqlmux_result *r) {
  const cqlmux_rows_metadata *meta = &r->rows.meta;
  return r->kind == CQLMUX_RESULT_ROWS && meta->columns && meta->columns_count > 0 &&
         !(meta->flags & (CQLMUX_ROWS_FLAG_HAS_MORE_PAGES | CQLMUX_ROWS_FLAG_METADATA_CHANGED |
                          CQLMUX_ROWS_FLAG_NO_METADATA));
}

static void remember(columns_memo *memo, uint8_t version, const uint8_t *body, size_t len) {
  if (memo->meta && ++memo->misses < MEMO_REPLACE_AFTER) return;
  cqlmux_result_meta *m = cqlmux_result_meta_from_metadata(&memo->alloc, version, body + 4, len - 4);
  if (!m) return; /* NOMEM: the answers simply decode their own columns */
  cqlmux_result_meta_release(memo->meta);
  memo->meta = m;
  memo->version = version;
  memo->misses = 0;
}

static columns_memo *memo_of(void **slot, const cqlmux_allocator *alloc) {
  if (!*slot) {
    columns_memo *memo = cqlmux_mem_calloc(alloc, 1, sizeof *memo);
    if (memo) memo->alloc = alloc ? *alloc : *cqlmux_default_allocator();
    *slot = memo;
  }
  return *slot;
}

int cqlmux_columns_memo_fill(void **slot, const cqlmux_allocator *alloc, cqlmux_result *r,
                             uint8_t version, uint8_t opcode, const uint8_t *body, size_t len,
                             cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix) {
  columns_memo *memo = rows_with_metadata(r, opcode, body, len) ? memo_of(slot, alloc) : NULL;
  if (memo && repeats(memo, version, body, len)) {
    size_t skip = 4 + memo->meta->metadata_len;
    memo->misses = 0;
    return cqlmux_result_fill_rows(r, memo->meta, body + skip, len - skip, buffer, prefix);
  }
  int rc = cqlmux_result_fill(r, version, opcode, body, len, buffer, prefix);
  if (rc == CQLMUX_OK && memo && rememberable(r)) remember(memo, version, body, len);
  return rc;
}

void cqlmux_columns_memo_free(void *memo) {
  columns_memo *m = memo;
  if (!m) return;
  cqlmux_allocator a = m->alloc;
  cqlmux_result_meta_release(m->meta);
  cqlmux_mem_free(&a, m);
}

/* RESULT bodies (spec section 4.2.5): void, rows, set_keyspace, prepared,
 * schema_change.
 *
 * Memory: one pass decodes into the arena; when the arena lacks room the
 * pass still completes (counting, see arena.h), then the arena takes one
 * block of exactly the size counted and the pass runs again. So a result
 * costs one allocation at most, and none when the arena's buffer suffices.
 * Cells are never copied or allocated one by one: the pass checks every
 * [bytes] against the body and records its offset in one index array. */
#include <string.h>

#include "proto/response.h"
#include "proto/types_internal.h"

/* ------------------------------------------------------------ metadata */

/* <col_spec_1>...<col_spec_n>: (<ksname><tablename>)?<name><type>. */
static int decode_specs(cqlmux_reader *r, cqlmux_type_ctx *c, int32_t n, bool global,
                        cqlmux_slice gks, cqlmux_slice gtable, const cqlmux_column_spec **out) {
  uint64_t min = global ? 4 : 8; /* [string]s and an [option] id */
  if ((uint64_t)n * min > cqlmux_reader_remaining(r)) return CQLMUX_ERR_TRUNCATED;
  cqlmux_column_spec *cols = n ? cqlmux_arena_alloc(c->arena, (size_t)n * sizeof *cols) : NULL;
  cqlmux_column_spec scratch; /* stands in while the arena is only counting */
  for (int32_t i = 0; i < n; i++) {
    cqlmux_column_spec *s = cols ? &cols[i] : &scratch;
    int rc = CQLMUX_OK;
    s->keyspace = gks;
    s->table = gtable;
    if (!global) {
      rc = cqlmux_read_string(r, &s->keyspace);
      if (!rc) rc = cqlmux_read_string(r, &s->table);
    }
    if (!rc) rc = cqlmux_read_string(r, &s->name);
    if (!rc) rc = cqlmux_type_ctx_decode_top(c, r, &s->type);
    if (rc) return rc;
  }
  *out = cols;
  return CQLMUX_OK;
}

static int read_count(cqlmux_reader *r, int32_t *out) {
  int rc = cqlmux_read_i32(r, out);
  if (rc == CQLMUX_OK && *out < 0) rc = CQLMUX_ERR_MALFORMED;
  return rc;
}

static int decode_global_spec(cqlmux_reader *r, int32_t flags, cqlmux_slice *ks,
                              cqlmux_slice *table) {
  if (!(flags & CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC)) return CQLMUX_OK;
  int rc = cqlmux_read_string(r, ks);
  return rc ? rc : cqlmux_read_string(r, table);
}

static int decode_rows_metadata(cqlmux_reader *r, int version, cqlmux_type_ctx *c,
                                cqlmux_rows_metadata *m) {
  memset(m, 0, sizeof *m);
  m->paging_state.len = CQLMUX_VALUE_NULL;
  int rc = cqlmux_read_i32(r, &m->flags);
  if (!rc) rc = read_count(r, &m->columns_count);
  if (!rc && (m->flags & CQLMUX_ROWS_FLAG_HAS_MORE_PAGES))
    rc = cqlmux_read_bytes(r, &m->paging_state);
  if (!rc && version >= CQLMUX_PROTO_V5 && (m->flags & CQLMUX_ROWS_FLAG_METADATA_CHANGED))
    rc = cqlmux_read_short_bytes(r, &m->new_metadata_id);
  if (rc || (m->flags & CQLMUX_ROWS_FLAG_NO_METADATA)) return rc;
  rc = decode_global_spec(r, m->flags, &m->global_keyspace, &m->global_table);
  if (rc) return rc;
  return decode_specs(r, c, m->columns_count, m->flags & CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC,
                      m->global_keyspace, m->global_table, &m->columns);
}

/* ------------------------------------------------------------ rows */

/* Checks rows_count * columns_count [bytes] and indexes them. */
static int decode_cells(cqlmux_reader *r, cqlmux_arena *a, cqlmux_rows *rows) {
  uint64_t n = (uint64_t)rows->rows_count * (uint64_t)rows->meta.columns_count;
  const uint8_t *base = r->pos, *p = r->pos, *end = r->end;
  if (n * 4 > (uint64_t)(end - p)) return CQLMUX_ERR_TRUNCATED;
  uint32_t *index = n ? cqlmux_arena_alloc(a, (size_t)n * sizeof *index) : NULL;
  for (uint64_t i = 0; i < n; i++) {
    if (end - p < 4) return CQLMUX_ERR_TRUNCATED;
    int32_t len = (int32_t)cqlmux_load_u32(p);
    if (index) index[i] = (uint32_t)(p - base);
    p += 4;
    if (len < 0) {
      if (len != CQLMUX_VALUE_NULL) return CQLMUX_ERR_MALFORMED;
    } else {
      if ((uint64_t)len > (uint64_t)(end - p)) return CQLMUX_ERR_TRUNCATED;
      p += len;
    }
  }
  rows->content = base;
  rows->content_len = (size_t)(p - base);
  rows->cells = index;
  r->pos = p;
  return CQLMUX_OK;
}

static int decode_rows(cqlmux_reader *r, int version, cqlmux_type_ctx *c, cqlmux_rows *rows) {
  int rc = decode_rows_metadata(r, version, c, &rows->meta);
  if (!rc) rc = read_count(r, &rows->rows_count);
  if (!rc) rc = decode_cells(r, c->arena, rows);
  return rc;
}

int cqlmux_rows_cell(const cqlmux_rows *rows, uint32_t row, uint32_t col, cqlmux_bytes *out) {
  if (row >= (uint32_t)rows->rows_count || col >= (uint32_t)rows->meta.columns_count)
    return CQLMUX_ERR_NOT_FOUND;
  *out = cqlmux_rows_cell_at(rows, (size_t)row * (uint32_t)rows->meta.columns_count + col);
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ prepared */

static int decode_pk_indices(cqlmux_reader *r, cqlmux_prepared_msg *p) {
  int rc = read_count(r, &p->pk_count);
  if (rc) return rc;
  if ((uint64_t)p->pk_count * 2 > cqlmux_reader_remaining(r)) return CQLMUX_ERR_TRUNCATED;
  rc = cqlmux_read_raw(r, (size_t)p->pk_count * 2, &p->pk_raw);
  for (int32_t i = 0; !rc && i < p->pk_count; i++)
    if (cqlmux_load_u16(p->pk_raw + 2 * i) >= p->bind_count) rc = CQLMUX_ERR_MALFORMED;
  return rc;
}

/* <id>[<result_metadata_id>]<metadata><result_metadata> */
static int decode_prepared(cqlmux_reader *r, int version, cqlmux_type_ctx *c, cqlmux_prepared_msg *p) {
  memset(p, 0, sizeof *p);
  int rc = cqlmux_read_short_bytes(r, &p->id);
  if (!rc && version >= CQLMUX_PROTO_V5) rc = cqlmux_read_short_bytes(r, &p->result_metadata_id);
  if (!rc) rc = cqlmux_read_i32(r, &p->flags);
  if (!rc) rc = read_count(r, &p->bind_count);
  if (!rc) rc = decode_pk_indices(r, p);
  if (!rc) rc = decode_global_spec(r, p->flags, &p->global_keyspace, &p->global_table);
  if (!rc)
    rc = decode_specs(r, c, p->bind_count, p->flags & CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC,
                      p->global_keyspace, p->global_table, &p->bind_columns);
  if (!rc) rc = decode_rows_metadata(r, version, c, &p->result);
  return rc;
}

/* ------------------------------------------------------------ result */

/* One decoding pass over `in` into arena a, writing out. */
typedef int (*decode_pass)(int version, const uint8_t *body, size_t len, cqlmux_arena *a,
                           void *out);

static int result_pass(int version, const uint8_t *body, size_t len, cqlmux_arena *a,
                       void *result) {
  cqlmux_result_msg *out = result;
  cqlmux_reader r = cqlmux_reader_make(body, len);
  cqlmux_type_ctx c;
  c.arena = a; /* the scratch node is written before any read */
  memset(out, 0, sizeof *out);
  int rc = cqlmux_read_i32(&r, &out->kind);
  if (rc) return rc;
  switch (out->kind) {
  case CQLMUX_RESULT_VOID: return CQLMUX_OK;
  case CQLMUX_RESULT_ROWS: return decode_rows(&r, version, &c, &out->rows);
  case CQLMUX_RESULT_SET_KEYSPACE: return cqlmux_read_string(&r, &out->keyspace);
  case CQLMUX_RESULT_PREPARED: return decode_prepared(&r, version, &c, &out->prepared);
  case CQLMUX_RESULT_SCHEMA_CHANGE: return cqlmux_schema_change_decode(&r, &out->schema_change);
  default: return CQLMUX_ERR_MALFORMED;
  }
}

/* Runs the pass; if the arena overflowed, grows it once and runs it again. */
static int decode_in(decode_pass pass, int version, const uint8_t *body, size_t len,
                     cqlmux_arena *a, bool can_grow, void *out) {
  size_t mark = cqlmux_arena_mark(a);
  int rc = pass(version, body, len, a, out);
  if (rc == CQLMUX_OK && cqlmux_arena_overflowed(a)) {
    rc = can_grow ? cqlmux_arena_grow(a, mark) : CQLMUX_ERR_INVALID_ARGUMENT;
    if (rc == CQLMUX_OK) {
      mark = cqlmux_arena_mark(a);
      rc = pass(version, body, len, a, out);
      if (rc == CQLMUX_OK && cqlmux_arena_overflowed(a)) rc = CQLMUX_ERR_NOMEM;
    }
  }
  if (rc) cqlmux_arena_rewind(a, mark);
  return rc;
}

/* <rows_count><rows_content> with columns_count columns (set by the caller
 * in out->meta); the rest of out->meta is left alone. */
static int rows_content_pass(int version, const uint8_t *body, size_t len, cqlmux_arena *a,
                             void *rows) {
  (void)version;
  cqlmux_rows *out = rows;
  cqlmux_reader r = cqlmux_reader_make(body, len);
  int rc = read_count(&r, &out->rows_count);
  return rc ? rc : decode_cells(&r, a, out);
}

int cqlmux_rows_content_decode(const uint8_t *p, size_t len, cqlmux_arena *arena,
                               cqlmux_rows *rows) {
  if (len > UINT32_MAX) return CQLMUX_ERR_OVERSIZED; /* cell offsets are 32-bit */
  cqlmux_rows tmp = *rows;
  int rc = decode_in(rows_content_pass, 0, p, len, arena, true, &tmp);
  if (rc == CQLMUX_OK) *rows = tmp;
  return rc;
}

/* <metadata> alone; out is a metadata_span. */
typedef struct metadata_span {
  cqlmux_rows_metadata meta;
  size_t len;
} metadata_span;

static int metadata_pass(int version, const uint8_t *body, size_t len, cqlmux_arena *a,
                         void *span) {
  metadata_span *out = span;
  cqlmux_reader r = cqlmux_reader_make(body, len);
  cqlmux_type_ctx c;
  c.arena = a;
  int rc = decode_rows_metadata(&r, version, &c, &out->meta);
  out->len = (size_t)(r.pos - body);
  return rc;
}

int cqlmux_rows_metadata_decode(int version, const uint8_t *p, size_t len, cqlmux_arena *arena,
                                cqlmux_rows_metadata *out, size_t *consumed) {
  metadata_span span;
  int rc = decode_in(metadata_pass, version, p, len, arena, true, &span);
  if (rc != CQLMUX_OK) return rc;
  if (out) *out = span.meta;
  *consumed = span.len;
  return CQLMUX_OK;
}

int cqlmux_result_decode(int version, const uint8_t *body, size_t len, cqlmux_arena *arena,
                         cqlmux_result_msg *out) {
  if (version != CQLMUX_PROTO_V4 && version != CQLMUX_PROTO_V5)
    return CQLMUX_ERR_UNSUPPORTED_VERSION;
  if (len > UINT32_MAX) return CQLMUX_ERR_OVERSIZED; /* cell offsets are 32-bit */
  cqlmux_arena none;
  if (!arena) cqlmux_arena_init(&none, NULL, NULL, 0);
  cqlmux_result_msg tmp;
  int rc = decode_in(result_pass, version, body, len, arena ? arena : &none, arena != NULL, &tmp);
  if (rc == CQLMUX_OK) *out = tmp;
  return rc;
}

/* ------------------------------------------------------------ encode */

static void write_slice(cqlmux_wbuf *b, cqlmux_slice s) {
  cqlmux_write_string(b, (const char *)s.data, s.len);
}

static void encode_specs(cqlmux_wbuf *b, int version, int32_t flags, cqlmux_slice gks,
                         cqlmux_slice gtable, int32_t n, const cqlmux_column_spec *cols) {
  if (n > 0 && !cols) {
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
  bool global = flags & CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC;
  if (global) {
    write_slice(b, gks);
    write_slice(b, gtable);
  }
  for (int32_t i = 0; i < n; i++) {
    if (!global) {
      write_slice(b, cols[i].keyspace);
      write_slice(b, cols[i].table);
    }
    write_slice(b, cols[i].name);
    cqlmux_type_encode(b, version, cols[i].type);
  }
}

void cqlmux_rows_metadata_encode(cqlmux_wbuf *b, int version, const cqlmux_rows_metadata *m) {
  cqlmux_write_i32(b, m->flags);
  cqlmux_write_i32(b, m->columns_count);
  if (m->flags & CQLMUX_ROWS_FLAG_HAS_MORE_PAGES) cqlmux_write_bytes(b, m->paging_state);
  if (version >= CQLMUX_PROTO_V5 && (m->flags & CQLMUX_ROWS_FLAG_METADATA_CHANGED))
    cqlmux_write_short_bytes(b, m->new_metadata_id.data, m->new_metadata_id.len);
  if (m->flags & CQLMUX_ROWS_FLAG_NO_METADATA) return;
  encode_specs(b, version, m->flags, m->global_keyspace, m->global_table, m->columns_count,
               m->columns);
}

void cqlmux_rows_encode(cqlmux_wbuf *b, int version, const cqlmux_rows_metadata *m,
                        int32_t rows_count, const cqlmux_bytes *cells) {
  uint64_t n = (uint64_t)(rows_count < 0 ? 0 : rows_count) * (uint64_t)(m->columns_count < 0 ? 0 : m->columns_count);
  if (rows_count < 0 || (n && !cells)) {
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
  cqlmux_write_i32(b, CQLMUX_RESULT_ROWS);
  cqlmux_rows_metadata_encode(b, version, m);
  cqlmux_write_i32(b, rows_count);
  for (uint64_t i = 0; i < n; i++) cqlmux_write_bytes(b, cells[i]);
}

static void encode_prepared(cqlmux_wbuf *b, int version, const cqlmux_prepared_msg *p) {
  cqlmux_write_short_bytes(b, p->id.data, p->id.len);
  if (version >= CQLMUX_PROTO_V5)
    cqlmux_write_short_bytes(b, p->result_metadata_id.data, p->result_metadata_id.len);
  cqlmux_write_i32(b, p->flags);
  cqlmux_write_i32(b, p->bind_count);
  cqlmux_write_i32(b, p->pk_count);
  for (int32_t i = 0; i < p->pk_count; i++) cqlmux_write_u16(b, cqlmux_prepared_pk_index(p, i));
  encode_specs(b, version, p->flags, p->global_keyspace, p->global_table, p->bind_count,
               p->bind_columns);
  cqlmux_rows_metadata_encode(b, version, &p->result);
}

void cqlmux_result_encode(cqlmux_wbuf *b, int version, const cqlmux_result_msg *r) {
  cqlmux_write_i32(b, r->kind);
  switch (r->kind) {
  case CQLMUX_RESULT_VOID: return;
  case CQLMUX_RESULT_ROWS:
    cqlmux_rows_metadata_encode(b, version, &r->rows.meta);
    cqlmux_write_i32(b, r->rows.rows_count);
    cqlmux_write_raw(b, r->rows.content, r->rows.content_len);
    return;
  case CQLMUX_RESULT_SET_KEYSPACE: write_slice(b, r->keyspace); return;
  case CQLMUX_RESULT_PREPARED: encode_prepared(b, version, &r->prepared); return;
  case CQLMUX_RESULT_SCHEMA_CHANGE: cqlmux_schema_change_encode(b, &r->schema_change); return;
  default:
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
}

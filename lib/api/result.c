#include "api/result.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/prepared.h"
#include "api/value.h"
#include "net/rbuf.h"
#include "proto/opcode.h"
#include "proto/values.h"
#include "runtime/alloc.h"

void cqlmux_result_init(cqlmux_result *r, const cqlmux_allocator *alloc) {
  r->kind = 0;
  r->has_result = r->has_error = false;
  r->buffer = NULL;
  r->copy = NULL;
  r->prefix = NULL;
  r->columns_omitted = false;
  r->meta_ref = NULL;
  cqlmux_arena_init(&r->arena, alloc, r->arena_inline, sizeof r->arena_inline);
}

void cqlmux_result_expect_columns(cqlmux_result *r, cqlmux_result_meta *m) {
  if (m != r->meta_ref) {
    if (m) cqlmux_result_meta_retain(m);
    cqlmux_result_meta_release(r->meta_ref);
    r->meta_ref = m;
  }
  r->columns_omitted = m != NULL;
}

void cqlmux_result_drop_columns(cqlmux_result *r) {
  cqlmux_result_meta_release(r->meta_ref);
  r->meta_ref = NULL;
  r->columns_omitted = false;
}

/* Lets go of everything fill took; the arena keeps one block of up to
 * `keep` bytes (0: none). The columns reference stays (meta_ref). */
static void release(cqlmux_result *r, size_t keep) {
  r->columns_omitted = false;
  cqlmux_rbuf_release(r->buffer);
  r->buffer = NULL;
  cqlmux_mem_free(r->arena.alloc, r->copy);
  r->copy = NULL;
  r->prefix = NULL; /* it lived in the arena */
  if (keep)
    cqlmux_arena_reset_keep(&r->arena, keep);
  else
    cqlmux_arena_reset(&r->arena);
  r->kind = 0;
  r->has_result = r->has_error = false;
}

void cqlmux_result_clear(cqlmux_result *r) { release(r, 0); }

void cqlmux_result_recycle(cqlmux_result *r) { release(r, CQLMUX_RESULT_ARENA_KEEP); }

/* A NUL-terminated copy of s in the arena ("" when memory runs out). */
static const char *copy_slice(cqlmux_arena *a, cqlmux_slice s) {
  char *out = cqlmux_arena_alloc_grow(a, s.len + 1);
  if (!out) return "";
  if (s.len) memcpy(out, s.data, s.len);
  out[s.len] = '\0';
  return out;
}

/* A small body is copied into the arena (next to what its decoding needs)
 * rather than pinning the receive buffer: a pinned buffer makes the
 * connection move to a freshly allocated one, and the reference is two
 * atomic operations on a line the I/O thread writes. When the arena's
 * current block lacks room the arena grows; the pooled call keeps that
 * block (cqlmux_result_recycle), so this allocates once per call, not per
 * answer. NULL when the body is not small or memory runs out.
 * On a block kept from an earlier fill, the inline arena is not in use: a
 * body that fits goes there, as it did (through the arena) when that fill
 * grew the block, which is why the block has no room counted for it (see
 * cqlmux_arena_grow). */
static const uint8_t *copy_small(cqlmux_result *r, const uint8_t *body, size_t len) {
  if (len > CQLMUX_RESULT_SMALL_BODY) return NULL;
  uint8_t *p;
  /* blocks first: no call on the common path (no block at all) */
  if (r->arena.blocks && !cqlmux_arena_on_initial(&r->arena) && len <= sizeof r->arena_inline)
    p = r->arena_inline;
  else
    p = cqlmux_arena_alloc_grow(&r->arena, len);
  if (p) memcpy(p, body, len);
  return p;
}

/* A ROWS answer without metadata (SKIP_METADATA) gets the prepared
 * statement's columns, if they still match in number; otherwise (a schema
 * change the server did not flag) its columns stay unknown and the typed
 * getters refuse them. */
static void borrow_columns(cqlmux_result *r) {
  cqlmux_rows_metadata *meta = &r->rows.meta;
  const cqlmux_result_meta *m = cqlmux_result_omitted_meta(r);
  if (meta->columns || !m) return;
  if (meta->columns_count == m->columns_count) meta->columns = m->columns;
}

/* A copy of the n bytes at p in the arena, or NULL. */
static const void *arena_copy(cqlmux_arena *a, const void *p, size_t n) {
  void *out = cqlmux_arena_alloc_grow(a, n);
  if (out) memcpy(out, p, n);
  return out;
}

/* Keeps the decoded RESULT m: rows inline, the rarer kinds in the arena. */
static int keep_result(cqlmux_result *r, const cqlmux_result_msg *m) {
  r->kind = m->kind;
  switch (m->kind) {
  case CQLMUX_RESULT_ROWS:
    r->rows = m->rows;
    borrow_columns(r);
    return CQLMUX_OK;
  case CQLMUX_RESULT_SET_KEYSPACE:
    r->keyspace = m->keyspace;
    return CQLMUX_OK;
  case CQLMUX_RESULT_PREPARED:
    r->prepared = arena_copy(&r->arena, &m->prepared, sizeof m->prepared);
    return r->prepared ? CQLMUX_OK : CQLMUX_ERR_NOMEM;
  case CQLMUX_RESULT_SCHEMA_CHANGE:
    r->schema_change = arena_copy(&r->arena, &m->schema_change, sizeof m->schema_change);
    return r->schema_change ? CQLMUX_OK : CQLMUX_ERR_NOMEM;
  default: /* VOID */
    return CQLMUX_OK;
  }
}

/* A v5 answer to an EXECUTE sent with an old result metadata id (the table
 * changed: CASSANDRA-10786) carries the new columns and id: the prepared
 * statement's columns are replaced, so later EXECUTEs send the new id and
 * read answers without metadata with the right columns. */
static void note_metadata_change(cqlmux_result *r, uint8_t version, const uint8_t *body,
                                 size_t len) {
  /* this request's, set before it was sent */
  cqlmux_result_meta *expected = cqlmux_result_omitted_meta(r);
  if (r->kind != CQLMUX_RESULT_ROWS || !r->rows.meta.new_metadata_id.data || !expected) return;
  cqlmux_result_meta *newer = cqlmux_result_meta_from_rows(r->arena.alloc, version, body, len);
  if (newer) cqlmux_result_meta_replace(expected, newer);
}

static int keep_error(cqlmux_result *r, uint8_t version, const uint8_t *body, size_t len) {
  cqlmux_result_error *e = cqlmux_arena_alloc_grow(&r->arena, sizeof *e);
  if (!e) return CQLMUX_ERR_NOMEM;
  int rc = cqlmux_error_decode(version, body, len, &e->body);
  if (rc != CQLMUX_OK) return rc;
  e->write_type = copy_slice(&r->arena, e->body.write_type);
  e->keyspace = copy_slice(&r->arena, e->body.keyspace);
  e->table = copy_slice(&r->arena, e->body.name);
  r->error = e;
  return CQLMUX_OK;
}

/* The envelope's prefix, view and bytes, into the arena: its bytes may be
 * in a buffer that is reused once the answer is handled. */
static int keep_prefix(cqlmux_result *r, const cqlmux_body_prefix *prefix) {
  cqlmux_body_prefix *p = cqlmux_arena_alloc_grow(&r->arena, sizeof *p + prefix->raw.len);
  if (!p) return CQLMUX_ERR_NOMEM;
  uint8_t *bytes = (uint8_t *)(p + 1);
  memcpy(bytes, prefix->raw.data, prefix->raw.len);
  *p = *prefix;
  cqlmux_body_prefix_move(p, bytes);
  r->prefix = p;
  return CQLMUX_OK;
}

/* Keeps the len bytes at *body alive as long as r: a small copy in the
 * arena, a reference on the receive buffer they lie in, or a private copy;
 * *body then points at what r keeps. */
static int keep_bytes(cqlmux_result *r, const uint8_t **body, size_t len, cqlmux_rbuf *buffer) {
  const uint8_t *small = copy_small(r, *body, len);
  if (small) {
    *body = small;
  } else if (buffer) {
    cqlmux_rbuf_retain(buffer);
    r->buffer = buffer;
  } else if (len) {
    r->copy = cqlmux_mem_malloc(r->arena.alloc, len);
    if (!r->copy) return CQLMUX_ERR_NOMEM;
    memcpy(r->copy, *body, len);
    *body = r->copy;
  }
  return CQLMUX_OK;
}

int cqlmux_result_fill(cqlmux_result *r, uint8_t version, uint8_t opcode, const uint8_t *body,
                       size_t len, cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix) {
  int rc = keep_bytes(r, &body, len, buffer);
  if (rc != CQLMUX_OK) return rc;
  if (opcode == CQLMUX_OP_RESULT) {
    cqlmux_result_msg msg;
    rc = cqlmux_result_decode(version, body, len, &r->arena, &msg);
    if (rc == CQLMUX_OK) rc = keep_result(r, &msg);
    if (rc == CQLMUX_OK) note_metadata_change(r, version, body, len);
    r->has_result = rc == CQLMUX_OK;
  } else if (opcode == CQLMUX_OP_ERROR) {
    rc = keep_error(r, version, body, len);
    r->has_error = rc == CQLMUX_OK;
  } else {
    rc = CQLMUX_ERR_PROTOCOL;
  }
  if (rc == CQLMUX_OK && prefix) rc = keep_prefix(r, prefix);
  /* A failed fill holds nothing, but the arena may keep a block: a pooled
   * call's next fill reuses it (see cqlmux_result_recycle). */
  if (rc != CQLMUX_OK) release(r, CQLMUX_RESULT_ARENA_KEEP);
  return rc;
}

int cqlmux_result_fill_rows(cqlmux_result *r, cqlmux_result_meta *m, const uint8_t *rows,
                            size_t len, cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix) {
  int rc = keep_bytes(r, &rows, len, buffer);
  if (rc != CQLMUX_OK) return rc;
  r->rows.meta = m->rows;
  rc = cqlmux_rows_content_decode(rows, len, &r->arena, &r->rows);
  if (rc == CQLMUX_OK && prefix) rc = keep_prefix(r, prefix);
  if (rc != CQLMUX_OK) {
    release(r, CQLMUX_RESULT_ARENA_KEEP);
    return rc;
  }
  /* A pooled call answered with the same columns as last time (the common
   * case) changes no reference count. */
  if (m != r->meta_ref) {
    cqlmux_result_meta_retain(m);
    cqlmux_result_meta_release(r->meta_ref);
    r->meta_ref = m;
  }
  r->kind = CQLMUX_RESULT_ROWS;
  r->has_result = true;
  return CQLMUX_OK;
}

static const char *error_name(int32_t code) {
  switch (code) {
  case 0x0000: return "server error";
  case 0x000A: return "protocol error";
  case 0x0100: return "bad credentials";
  case 0x1000: return "unavailable";
  case 0x1001: return "overloaded";
  case 0x1002: return "bootstrapping";
  case 0x1003: return "truncate error";
  case 0x1100: return "write timeout";
  case 0x1200: return "read timeout";
  case 0x1300: return "read failure";
  case 0x1400: return "function failure";
  case 0x1500: return "write failure";
  case 0x1600: return "CDC write failure";
  case 0x1700: return "CAS write unknown";
  case 0x2000: return "syntax error";
  case 0x2100: return "unauthorized";
  case 0x2200: return "invalid query";
  case 0x2300: return "configuration error";
  case 0x2400: return "already exists";
  case 0x2500: return "unprepared";
  default: return "unknown error";
  }
}

void cqlmux_result_describe_error(const cqlmux_result *r, char *out, size_t cap) {
  const cqlmux_error_body *e = &r->error->body;
  snprintf(out, cap, "Cassandra error 0x%04x (%s): %.*s", (unsigned)e->code, error_name(e->code),
           (int)e->message.len, (const char *)e->message.data);
}

/* ------------------------------------------------------------ public access */

int cqlmux_result_kind_of(const cqlmux_result *r) {
  return r ? (int)r->kind : CQLMUX_ERR_INVALID_ARGUMENT;
}

static const cqlmux_rows *rows_of(const cqlmux_result *r) {
  return r && r->kind == CQLMUX_RESULT_ROWS ? &r->rows : NULL;
}

size_t cqlmux_result_row_count(const cqlmux_result *r) {
  const cqlmux_rows *rows = rows_of(r);
  return rows ? (size_t)rows->rows_count : 0;
}

size_t cqlmux_result_column_count(const cqlmux_result *r) {
  const cqlmux_rows *rows = rows_of(r);
  return rows ? (size_t)rows->meta.columns_count : 0;
}

static const cqlmux_column_spec *column(const cqlmux_result *r, size_t col) {
  const cqlmux_rows *rows = rows_of(r);
  if (!rows || !rows->meta.columns || col >= (size_t)rows->meta.columns_count) return NULL;
  return &rows->meta.columns[col];
}

const char *cqlmux_result_column_name(const cqlmux_result *r, size_t col, size_t *length) {
  const cqlmux_column_spec *c = column(r, col);
  if (!c) return NULL;
  if (length) *length = c->name.len;
  return (const char *)c->name.data;
}

cqlmux_type cqlmux_result_column_type(const cqlmux_result *r, size_t col) {
  const cqlmux_column_spec *c = column(r, col);
  return c ? (cqlmux_type)c->type->id : CQLMUX_TYPE_CUSTOM;
}

const cqlmux_data_type *cqlmux_result_column_data_type(const cqlmux_result *r, size_t col) {
  const cqlmux_column_spec *c = column(r, col);
  return c ? cqlmux_data_type_of(c->type) : NULL;
}

int cqlmux_result_column_index(const cqlmux_result *r, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i < cqlmux_result_column_count(r); i++) {
    const cqlmux_column_spec *c = column(r, i);
    if (c && c->name.len == n && memcmp(c->name.data, name, n) == 0) return (int)i;
  }
  return CQLMUX_ERR_NOT_FOUND;
}

/* The cell, after checking the column's type against the accepted ones. */
static int cell(const cqlmux_result *r, size_t row, size_t col, const cqlmux_type *types,
                size_t ntypes, cqlmux_bytes *out) {
  const cqlmux_rows *rows = rows_of(r);
  if (!rows || row >= (size_t)rows->rows_count || col >= (size_t)rows->meta.columns_count)
    return CQLMUX_ERR_NOT_FOUND;
  if (types) {
    cqlmux_type t = cqlmux_result_column_type(r, col);
    bool ok = false;
    for (size_t i = 0; i < ntypes; i++) ok = ok || t == types[i];
    if (!ok) return CQLMUX_ERR_TYPE_MISMATCH;
  }
  cqlmux_bytes v = cqlmux_rows_cell_at(rows, row * (size_t)rows->meta.columns_count + col);
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  *out = v;
  return CQLMUX_OK;
}

#define ACCEPT(...) (const cqlmux_type[]){__VA_ARGS__}, sizeof((const cqlmux_type[]){__VA_ARGS__}) / sizeof(cqlmux_type)

int cqlmux_result_is_null(const cqlmux_result *r, size_t row, size_t col) {
  cqlmux_bytes v;
  return cell(r, row, col, NULL, 0, &v) == CQLMUX_ERR_NULL_VALUE;
}

int cqlmux_result_get_bool(const cqlmux_result *r, size_t row, size_t col, int *out) {
  cqlmux_bytes v;
  bool b;
  int rc = cell(r, row, col, ACCEPT(CQLMUX_TYPE_BOOLEAN), &v);
  if (rc == CQLMUX_OK && (rc = cqlmux_value_get_boolean(v, &b)) == CQLMUX_OK) *out = b;
  return rc;
}

int cqlmux_result_get_int8(const cqlmux_result *r, size_t row, size_t col, int8_t *out) {
  cqlmux_bytes v;
  int rc = cell(r, row, col, ACCEPT(CQLMUX_TYPE_TINYINT), &v);
  return rc == CQLMUX_OK ? cqlmux_value_get_tinyint(v, out) : rc;
}

int cqlmux_result_get_int16(const cqlmux_result *r, size_t row, size_t col, int16_t *out) {
  cqlmux_bytes v;
  int rc = cell(r, row, col, ACCEPT(CQLMUX_TYPE_SMALLINT), &v);
  return rc == CQLMUX_OK ? cqlmux_value_get_smallint(v, out) : rc;
}

int cqlmux_result_get_int32(const cqlmux_result *r, size_t row, size_t col, int32_t *out) {
  cqlmux_bytes v;
  int rc = cell(r, row, col, ACCEPT(CQLMUX_TYPE_INT, CQLMUX_TYPE_DATE), &v);
  return rc == CQLMUX_OK ? cqlmux_value_get_int(v, out) : rc;
}

int cqlmux_result_get_int64(const cqlmux_result *r, size_t row, size_t col, int64_t *out) {
  cqlmux_bytes v;
  int rc = cell(r, row, col,
                ACCEPT(CQLMUX_TYPE_BIGINT, CQLMUX_TYPE_COUNTER, CQLMUX_TYPE_TIMESTAMP,
                       CQLMUX_TYPE_TIME),
                &v);
  return rc == CQLMUX_OK ? cqlmux_value_get_bigint(v, out) : rc;
}

int cqlmux_result_get_float(const cqlmux_result *r, size_t row, size_t col, float *out) {
  cqlmux_bytes v;
  int rc = cell(r, row, col, ACCEPT(CQLMUX_TYPE_FLOAT), &v);
  return rc == CQLMUX_OK ? cqlmux_value_get_float(v, out) : rc;
}

int cqlmux_result_get_double(const cqlmux_result *r, size_t row, size_t col, double *out) {
  cqlmux_bytes v;
  int rc = cell(r, row, col, ACCEPT(CQLMUX_TYPE_DOUBLE), &v);
  return rc == CQLMUX_OK ? cqlmux_value_get_double(v, out) : rc;
}

int cqlmux_result_get_text(const cqlmux_result *r, size_t row, size_t col, const char **text,
                           size_t *length) {
  cqlmux_bytes v;
  int rc = cell(r, row, col, ACCEPT(CQLMUX_TYPE_TEXT, CQLMUX_TYPE_ASCII), &v);
  if (rc != CQLMUX_OK) return rc;
  *text = (const char *)v.data;
  *length = (size_t)v.len;
  return CQLMUX_OK;
}

int cqlmux_result_get_uuid(const cqlmux_result *r, size_t row, size_t col, uint8_t out[16]) {
  cqlmux_bytes v;
  const uint8_t *p;
  int rc = cell(r, row, col, ACCEPT(CQLMUX_TYPE_UUID, CQLMUX_TYPE_TIMEUUID), &v);
  if (rc == CQLMUX_OK && (rc = cqlmux_value_get_uuid(v, &p)) == CQLMUX_OK) memcpy(out, p, 16);
  return rc;
}

int cqlmux_result_get_serialized(const cqlmux_result *r, size_t row, size_t col,
                                 const uint8_t **data, int32_t *length) {
  const cqlmux_rows *rows = rows_of(r);
  if (!rows || row >= (size_t)rows->rows_count || col >= (size_t)rows->meta.columns_count)
    return CQLMUX_ERR_NOT_FOUND;
  cqlmux_bytes v = cqlmux_rows_cell_at(rows, row * (size_t)rows->meta.columns_count + col);
  *data = v.data;
  *length = v.len;
  return CQLMUX_OK;
}

int cqlmux_result_get_value(const cqlmux_result *r, size_t row, size_t col, cqlmux_value *out) {
  const cqlmux_column_spec *c = column(r, col);
  if (!out) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (!c) return CQLMUX_ERR_NOT_FOUND;
  const cqlmux_rows *rows = &r->rows; /* column() found it a rows result */
  if (row >= (size_t)rows->rows_count) return CQLMUX_ERR_NOT_FOUND;
  *out = cqlmux_value_make(c->type,
                           cqlmux_rows_cell_at(rows, row * (size_t)rows->meta.columns_count + col));
  return CQLMUX_OK;
}

int cqlmux_result_has_more_pages(const cqlmux_result *r) {
  const cqlmux_rows *rows = rows_of(r);
  return rows && (rows->meta.flags & CQLMUX_ROWS_FLAG_HAS_MORE_PAGES) ? 1 : 0;
}

int cqlmux_result_paging_state(const cqlmux_result *r, const uint8_t **state, size_t *length) {
  const cqlmux_rows *rows = rows_of(r);
  if (!rows || rows->meta.paging_state.len < 0) return CQLMUX_ERR_NOT_FOUND;
  *state = rows->meta.paging_state.data;
  *length = (size_t)rows->meta.paging_state.len;
  return CQLMUX_OK;
}

int cqlmux_result_rows(const cqlmux_result *r, cqlmux_row_iterator *it) {
  if (!it) return CQLMUX_ERR_INVALID_ARGUMENT;
  it->private_result = r;
  it->private_next = 0;
  return CQLMUX_OK;
}

int cqlmux_row_iterator_next(cqlmux_row_iterator *it, size_t *row) {
  if (!it || !row || it->private_next >= cqlmux_result_row_count(it->private_result)) return 0;
  *row = it->private_next++;
  return 1;
}

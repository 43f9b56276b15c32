/* The value builder and the statement binds that go through it (see
 * builder.h). Every byte comes from the codec's writers in
 * proto/values.h; this file only frames elements and checks arguments. */
#include "api/builder.h"

#include <string.h>

#include "api/statement.h"
#include "proto/values.h"
#include "runtime/alloc.h"

/* Like statements: no session, so the C library's allocator. */
#define BUILDER_ALLOC NULL

/* A [value] holds at most INT32_MAX bytes; 4 more for its length. */
#define BUILDER_MAX_BYTES ((size_t)INT32_MAX + 4)

cqlmux_builder *cqlmux_builder_new(void) {
  cqlmux_builder *b = cqlmux_mem_malloc(BUILDER_ALLOC, sizeof *b);
  if (!b) return NULL;
  cqlmux_wbuf_init(&b->w, BUILDER_ALLOC, BUILDER_MAX_BYTES);
  b->complete = false;
  b->depth = 0;
  return b;
}

void cqlmux_builder_free(cqlmux_builder *b) {
  if (!b) return;
  cqlmux_wbuf_free(&b->w);
  cqlmux_mem_free(BUILDER_ALLOC, b);
}

void cqlmux_builder_reset(cqlmux_builder *b) {
  if (!b) return;
  cqlmux_wbuf_reset(&b->w);
  b->complete = false;
  b->depth = 0;
}

/* ------------------------------------------------------------ framing */

static const cqlmux_builder_level *open_level(const cqlmux_builder *b) {
  return b->depth ? &b->levels[b->depth - 1] : NULL;
}

static bool in_vector(const cqlmux_builder *b) {
  const cqlmux_builder_level *l = open_level(b);
  return l && l->kind == CQLMUX_TYPE_VECTOR;
}

static int can_add(const cqlmux_builder *b) {
  if (!b) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (b->w.error) return b->w.error;
  return !b->depth && b->complete ? CQLMUX_ERR_INVALID_STATE : CQLMUX_OK;
}

/* Starts an element: checks the state, writes the frame's prefix. */
static int elem_open(cqlmux_builder *b, cqlmux_builder_elem *e) {
  int rc = can_add(b);
  if (rc) return rc;
  const cqlmux_builder_level *parent = open_level(b);
  e->start = b->w.len;
  e->fixed = 0;
  if (!parent || parent->kind != CQLMUX_TYPE_VECTOR) {
    e->frame = CQLMUX_FRAME_VALUE;
    e->mark = cqlmux_value_begin(&b->w);
  } else if (parent->fixed) {
    e->frame = CQLMUX_FRAME_VECTOR_BARE;
    e->mark = e->start;
    e->fixed = parent->fixed;
  } else {
    e->frame = CQLMUX_FRAME_VECTOR_VARIABLE;
    e->mark = cqlmux_value_vector_elem_begin(&b->w);
  }
  return b->w.error;
}

static void count_element(cqlmux_builder *b) {
  if (b->depth)
    b->levels[b->depth - 1].count++;
  else
    b->complete = true;
}

/* Finishes an element whose body has been written: fills in its length,
 * or checks its size, and rolls back an element the codec refused. */
static int elem_close(cqlmux_builder *b, const cqlmux_builder_elem *e) {
  cqlmux_wbuf *w = &b->w;
  switch (e->frame) {
  case CQLMUX_FRAME_VALUE: cqlmux_value_end(w, e->mark); break;
  case CQLMUX_FRAME_VECTOR_VARIABLE: cqlmux_value_vector_elem_end(w, e->mark); break;
  case CQLMUX_FRAME_VECTOR_BARE:
    if (!w->error && w->len - e->start != e->fixed) w->error = CQLMUX_ERR_INVALID_ARGUMENT;
    break;
  }
  if (w->error == CQLMUX_ERR_INVALID_ARGUMENT) {
    w->len = e->start;
    w->error = CQLMUX_OK;
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  if (w->error) return w->error;
  count_element(b);
  return CQLMUX_OK;
}

/* A byte length no [value] can carry sticks as OVERSIZED. */
static int check_length(cqlmux_builder *b, const void *p, size_t n) {
  if (!b || (!p && n)) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (n > INT32_MAX) {
    if (!b->w.error) b->w.error = CQLMUX_ERR_OVERSIZED;
    return CQLMUX_ERR_OVERSIZED;
  }
  return CQLMUX_OK;
}

/* An element whose body is n bytes as given. */
static int add_raw(cqlmux_builder *b, const void *p, size_t n) {
  cqlmux_builder_elem e;
  int rc = check_length(b, p, n);
  if (rc || (rc = elem_open(b, &e))) return rc;
  cqlmux_write_raw(&b->w, p, n);
  return elem_close(b, &e);
}

/* ------------------------------------------------------------ composites */

static bool is_collection(uint16_t kind) {
  return kind == CQLMUX_TYPE_LIST || kind == CQLMUX_TYPE_SET || kind == CQLMUX_TYPE_MAP;
}

static int begin(cqlmux_builder *b, uint16_t kind, size_t fixed) {
  int rc = can_add(b);
  if (rc) return rc;
  if (b->depth == CQLMUX_BUILDER_MAX_DEPTH) {
    b->w.error = CQLMUX_ERR_OVERSIZED;
    return CQLMUX_ERR_OVERSIZED;
  }
  cqlmux_builder_level *l = &b->levels[b->depth];
  if ((rc = elem_open(b, &l->elem))) return rc;
  l->kind = kind;
  l->count = 0;
  l->fixed = fixed;
  /* Collections start with their element count, known at the end. */
  l->count_at = is_collection(kind) ? cqlmux_wbuf_skip(&b->w, 4) : 0;
  if (b->w.error) return b->w.error;
  b->depth++;
  return CQLMUX_OK;
}

int cqlmux_builder_begin_collection(cqlmux_builder *b, cqlmux_type kind) {
  if (!is_collection((uint16_t)kind)) return CQLMUX_ERR_INVALID_ARGUMENT;
  return begin(b, (uint16_t)kind, 0);
}

int cqlmux_builder_begin_tuple(cqlmux_builder *b) { return begin(b, CQLMUX_TYPE_TUPLE, 0); }

int cqlmux_builder_begin_udt(cqlmux_builder *b) { return begin(b, CQLMUX_TYPE_UDT, 0); }

int cqlmux_builder_begin_vector(cqlmux_builder *b, size_t fixed_element_size) {
  if (fixed_element_size > INT32_MAX) return CQLMUX_ERR_INVALID_ARGUMENT;
  return begin(b, CQLMUX_TYPE_VECTOR, fixed_element_size);
}

int cqlmux_builder_end(cqlmux_builder *b) {
  if (!b) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (b->w.error) return b->w.error;
  if (!b->depth) return CQLMUX_ERR_INVALID_STATE;
  const cqlmux_builder_level *l = &b->levels[b->depth - 1];
  if ((l->kind == CQLMUX_TYPE_MAP && l->count % 2) ||
      (l->kind == CQLMUX_TYPE_VECTOR && l->count == 0))
    return CQLMUX_ERR_INVALID_STATE;
  if (is_collection(l->kind))
    cqlmux_store_u32(b->w.data + l->count_at,
                     l->kind == CQLMUX_TYPE_MAP ? l->count / 2 : l->count);
  b->depth--;
  return elem_close(b, &l->elem);
}

/* ------------------------------------------------------------ scalars */

int cqlmux_builder_add_null(cqlmux_builder *b) {
  int rc = can_add(b);
  if (rc) return rc;
  if (in_vector(b)) return CQLMUX_ERR_INVALID_ARGUMENT; /* vector elements are never null */
  cqlmux_value_write_null(&b->w);
  if (b->w.error) return b->w.error;
  count_element(b);
  return CQLMUX_OK;
}

int cqlmux_builder_add_bool(cqlmux_builder *b, int value) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_boolean(&b->w, value != 0);
  return elem_close(b, &e);
}

int cqlmux_builder_add_int8(cqlmux_builder *b, int8_t value) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_tinyint(&b->w, value);
  return elem_close(b, &e);
}

int cqlmux_builder_add_int16(cqlmux_builder *b, int16_t value) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_smallint(&b->w, value);
  return elem_close(b, &e);
}

int cqlmux_builder_add_int32(cqlmux_builder *b, int32_t value) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_int(&b->w, value);
  return elem_close(b, &e);
}

int cqlmux_builder_add_int64(cqlmux_builder *b, int64_t value) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_bigint(&b->w, value);
  return elem_close(b, &e);
}

int cqlmux_builder_add_float(cqlmux_builder *b, float value) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_float(&b->w, value);
  return elem_close(b, &e);
}

int cqlmux_builder_add_double(cqlmux_builder *b, double value) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_double(&b->w, value);
  return elem_close(b, &e);
}

/* Text is checked by the codec's getters, the same rules reading applies. */
static int add_checked_text(cqlmux_builder *b, const char *text, size_t length, bool ascii) {
  int rc = check_length(b, text, length);
  if (rc) return rc;
  cqlmux_bytes v = {(const uint8_t *)text, (int32_t)length};
  cqlmux_slice s;
  if (ascii ? cqlmux_value_get_ascii(v, &s) : cqlmux_value_get_text(v, &s))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  return add_raw(b, text, length);
}

int cqlmux_builder_add_text(cqlmux_builder *b, const char *text, size_t length) {
  return add_checked_text(b, text, length, false);
}

int cqlmux_builder_add_ascii(cqlmux_builder *b, const char *text, size_t length) {
  return add_checked_text(b, text, length, true);
}

int cqlmux_builder_add_blob(cqlmux_builder *b, const void *data, size_t length) {
  return add_raw(b, data, length);
}

int cqlmux_builder_add_serialized(cqlmux_builder *b, const void *data, size_t length) {
  return add_raw(b, data, length);
}

int cqlmux_builder_add_uuid(cqlmux_builder *b, const uint8_t uuid[16]) {
  if (!uuid) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_uuid(&b->w, uuid);
  return elem_close(b, &e);
}

int cqlmux_builder_add_inet(cqlmux_builder *b, const uint8_t *address, size_t length) {
  if (!address || (length != 4 && length != 16)) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_inet inet = {.addr_len = (uint8_t)length};
  memcpy(inet.addr, address, length);
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_inet(&b->w, &inet);
  return elem_close(b, &e);
}

int cqlmux_builder_add_date(cqlmux_builder *b, uint32_t days) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_date(&b->w, days);
  return elem_close(b, &e);
}

int cqlmux_builder_add_time(cqlmux_builder *b, int64_t nanoseconds) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_time(&b->w, nanoseconds); /* out of range: rolled back */
  return elem_close(b, &e);
}

int cqlmux_builder_add_duration(cqlmux_builder *b, int32_t months, int32_t days,
                                int64_t nanoseconds) {
  cqlmux_duration d = {months, days, nanoseconds};
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_duration(&b->w, d); /* mixed signs: rolled back */
  return elem_close(b, &e);
}

int cqlmux_builder_add_varint(cqlmux_builder *b, int64_t value) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_varint(&b->w, value);
  return elem_close(b, &e);
}

int cqlmux_builder_add_varint_bytes(cqlmux_builder *b, const uint8_t *data, size_t length) {
  if (length == 0) return CQLMUX_ERR_INVALID_ARGUMENT;
  return add_raw(b, data, length);
}

int cqlmux_builder_add_decimal(cqlmux_builder *b, const uint8_t *unscaled, size_t length,
                               int32_t scale) {
  if (!unscaled || length == 0) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_builder_elem e;
  int rc = check_length(b, unscaled, length);
  if (rc || (rc = elem_open(b, &e))) return rc;
  cqlmux_value_put_decimal_raw(&b->w, scale, unscaled, length);
  return elem_close(b, &e);
}

int cqlmux_builder_add_decimal_int64(cqlmux_builder *b, int64_t unscaled, int32_t scale) {
  cqlmux_builder_elem e;
  int rc = elem_open(b, &e);
  if (rc) return rc;
  cqlmux_value_put_decimal(&b->w, scale, unscaled);
  return elem_close(b, &e);
}

/* ------------------------------------------------------------ the value */

int cqlmux_builder_serialized(const cqlmux_builder *b, const uint8_t **data, int32_t *length) {
  if (!b || !data || !length) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (b->w.error) return b->w.error;
  if (b->depth || !b->complete) return CQLMUX_ERR_INVALID_STATE;
  int32_t n = (int32_t)cqlmux_load_u32(b->w.data); /* the top-level [value]'s length */
  *data = n >= 0 ? b->w.data + 4 : NULL;
  *length = n;
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ statement binds */

int cqlmux_statement_bind_builder(cqlmux_statement *s, size_t index, const cqlmux_builder *b) {
  const uint8_t *data;
  int32_t length;
  if (!s || index >= s->value_count) return CQLMUX_ERR_INVALID_ARGUMENT;
  int rc = cqlmux_builder_serialized(b, &data, &length);
  if (rc) return rc;
  if (length < 0) return cqlmux_statement_bind_null(s, index);
  return cqlmux_statement_bind_serialized(s, index, data, (size_t)length);
}

/* Scalars bound here are built in the statement's own builder, kept for
 * the next bind, so a statement rebound in a loop allocates only once. */
static int scratch(cqlmux_statement *s, size_t index, const cqlmux_bind_kind *kind,
                   cqlmux_builder **out) {
  if (!s || index >= s->value_count) return CQLMUX_ERR_INVALID_ARGUMENT;
  int rc = cqlmux_statement_check_bind(s, index, kind);
  if (rc) return rc;
  if (!s->scratch && !(s->scratch = cqlmux_builder_new())) return CQLMUX_ERR_NOMEM;
  cqlmux_builder_reset(s->scratch);
  *out = s->scratch;
  return CQLMUX_OK;
}

static int bind_built(cqlmux_statement *s, size_t index, int add_rc) {
  return add_rc ? add_rc : cqlmux_statement_bind_builder(s, index, s->scratch);
}

int cqlmux_statement_bind_ascii(cqlmux_statement *s, size_t index, const char *text,
                                size_t length) {
  cqlmux_builder *b;
  int rc = scratch(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_ascii", CQLMUX_TYPE_ASCII, CQLMUX_TYPE_TEXT),
                   &b);
  return rc ? rc : bind_built(s, index, cqlmux_builder_add_ascii(b, text, length));
}

int cqlmux_statement_bind_inet(cqlmux_statement *s, size_t index, const uint8_t *address,
                               size_t length) {
  cqlmux_builder *b;
  int rc = scratch(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_inet", CQLMUX_TYPE_INET),
                   &b);
  return rc ? rc : bind_built(s, index, cqlmux_builder_add_inet(b, address, length));
}

int cqlmux_statement_bind_date(cqlmux_statement *s, size_t index, uint32_t days) {
  cqlmux_builder *b;
  int rc = scratch(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_date", CQLMUX_TYPE_DATE),
                   &b);
  return rc ? rc : bind_built(s, index, cqlmux_builder_add_date(b, days));
}

int cqlmux_statement_bind_time(cqlmux_statement *s, size_t index, int64_t nanoseconds) {
  cqlmux_builder *b;
  int rc = scratch(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_time", CQLMUX_TYPE_TIME),
                   &b);
  return rc ? rc : bind_built(s, index, cqlmux_builder_add_time(b, nanoseconds));
}

int cqlmux_statement_bind_duration(cqlmux_statement *s, size_t index, int32_t months,
                                   int32_t days, int64_t nanoseconds) {
  cqlmux_builder *b;
  int rc = scratch(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_duration", CQLMUX_TYPE_DURATION),
                   &b);
  return rc ? rc : bind_built(s, index, cqlmux_builder_add_duration(b, months, days, nanoseconds));
}

int cqlmux_statement_bind_varint(cqlmux_statement *s, size_t index, int64_t value) {
  cqlmux_builder *b;
  int rc = scratch(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_varint", CQLMUX_TYPE_VARINT),
                   &b);
  return rc ? rc : bind_built(s, index, cqlmux_builder_add_varint(b, value));
}

int cqlmux_statement_bind_varint_bytes(cqlmux_statement *s, size_t index, const uint8_t *data,
                                       size_t length) {
  cqlmux_builder *b;
  int rc = scratch(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_varint_bytes", CQLMUX_TYPE_VARINT),
                   &b);
  return rc ? rc : bind_built(s, index, cqlmux_builder_add_varint_bytes(b, data, length));
}

int cqlmux_statement_bind_decimal(cqlmux_statement *s, size_t index, const uint8_t *unscaled,
                                  size_t length, int32_t scale) {
  cqlmux_builder *b;
  int rc = scratch(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_decimal", CQLMUX_TYPE_DECIMAL),
                   &b);
  return rc ? rc : bind_built(s, index, cqlmux_builder_add_decimal(b, unscaled, length, scale));
}

int cqlmux_statement_bind_decimal_int64(cqlmux_statement *s, size_t index, int64_t unscaled,
                                        int32_t scale) {
  cqlmux_builder *b;
  int rc = scratch(s, index, CQLMUX_BIND_KIND("cqlmux_statement_bind_decimal_int64", CQLMUX_TYPE_DECIMAL),
                   &b);
  return rc ? rc : bind_built(s, index, cqlmux_builder_add_decimal_int64(b, unscaled, scale));
}

/* The value-table fixture (value_table.h). */
#include "unit/value_table.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "proto/opcode.h"
#include "proto/response.h"
#include "proto/values.h"

#define S(lit) ((cqlmux_slice){(const uint8_t *)(lit), sizeof(lit) - 1})

void table_init(table *t) {
  memset(t, 0, sizeof *t);
  cqlmux_arena_init(&t->arena, NULL, NULL, 0);
}

static void add_spec(table *t, const char *name, const cqlmux_typedesc *type) {
  cr_assert_lt(t->n, MAX_COLUMNS);
  cr_assert_not_null(type);
  t->cols[t->n] = (cqlmux_column_spec){S("ks"), S("t"), cqlmux_slice_from_cstr(name), type};
}

/* A column whose cell the returned builder will hold. */
cqlmux_builder *column(table *t, const char *name, const cqlmux_typedesc *type) {
  add_spec(t, name, type);
  cqlmux_builder *b = cqlmux_builder_new();
  cr_assert_not_null(b);
  t->builders[t->n++] = b;
  return b;
}

void column_raw(table *t, const char *name, const cqlmux_typedesc *type,
                       cqlmux_bytes cell) {
  add_spec(t, name, type);
  t->cells[t->n++] = cell;
}

/* Encodes the row as a ROWS body for `version` and decodes it into a
 * result the way a session does. */
const cqlmux_result *table_result(table *t, uint8_t version) {
  for (int i = 0; i < t->n; i++) {
    if (!t->builders[i]) continue;
    const uint8_t *data;
    int32_t len;
    int rc = cqlmux_builder_serialized(t->builders[i], &data, &len);
    cr_assert_eq(rc, CQLMUX_OK, "column %d: %s", i, cqlmux_strerror(rc));
    t->cells[i] = (cqlmux_bytes){data, len};
  }
  cqlmux_rows_metadata m = {CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC, t->n, {NULL, -1}, {NULL, 0},
                            S("ks"), S("t"), t->cols};
  cqlmux_wbuf body;
  cqlmux_wbuf_init(&body, NULL, 0);
  cqlmux_rows_encode(&body, version, &m, 1, t->cells);
  cr_assert_eq(body.error, CQLMUX_OK);
  t->result = calloc(1, sizeof *t->result);
  cr_assert_not_null(t->result);
  cqlmux_result_init(t->result, NULL);
  int rc = cqlmux_result_fill(t->result, version, CQLMUX_OP_RESULT, body.data, body.len, NULL,
                                  NULL);
  cr_assert_eq(rc, CQLMUX_OK, "fill: %s", cqlmux_strerror(rc));
  cqlmux_wbuf_free(&body); /* the result holds its own copy */
  return t->result;
}

void table_free(table *t) {
  for (int i = 0; i < t->n; i++) cqlmux_builder_free(t->builders[i]);
  if (t->result) cqlmux_result_clear(t->result);
  free(t->result);
  cqlmux_arena_free(&t->arena);
}

cqlmux_value value_at(const cqlmux_result *r, size_t col) {
  cqlmux_value v;
  cr_assert_eq(cqlmux_result_get_value(r, 0, col, &v), CQLMUX_OK);
  return v;
}


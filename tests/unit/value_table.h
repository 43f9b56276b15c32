/* A test fixture: one row of typed columns, each cell built with a
 * cqlmux_builder (or given raw), encoded as a ROWS body by the codec's
 * response encoder and decoded into a cqlmux_result the way a session
 * does, so tests read real cqlmux_values without a server. */
#ifndef CQLMUX_TESTS_VALUE_TABLE_H
#define CQLMUX_TESTS_VALUE_TABLE_H

#include <cqlmux.h>

#include "api/result.h"
#include "proto/arena.h"
#include "proto/types.h"

#define MAX_COLUMNS 48

typedef struct table {
  cqlmux_arena arena; /* type trees */
  int n;
  cqlmux_column_spec cols[MAX_COLUMNS];
  cqlmux_bytes cells[MAX_COLUMNS];
  cqlmux_builder *builders[MAX_COLUMNS];
  cqlmux_result *result;
} table;

void table_init(table *t);
/* A column whose cell the returned builder will hold. */
cqlmux_builder *column(table *t, const char *name, const cqlmux_typedesc *type);
void column_raw(table *t, const char *name, const cqlmux_typedesc *type, cqlmux_bytes cell);
/* Encodes the row as a ROWS body for `version` and decodes it into a
 * result the way a session does; owned by the table. */
const cqlmux_result *table_result(table *t, uint8_t version);
void table_free(table *t);
/* The cell of column col (asserting it exists). */
cqlmux_value value_at(const cqlmux_result *r, size_t col);

#endif

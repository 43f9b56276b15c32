#include "rows_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/response.h"
#include "proto/types.h"

void rows_fixture_int_body(cqlmux_wbuf *b, const char *prefix, int32_t columns, int32_t rows,
                           bool paging) {
  static char names[64][8];
  cqlmux_column_spec cols[64];
  cr_assert_leq(columns, 64);
  for (int32_t i = 0; i < columns; i++) {
    snprintf(names[i], sizeof names[i], "%s%d", prefix, (int)i);
    cols[i] = (cqlmux_column_spec){.keyspace = {(const uint8_t *)"ks", 2},
                                   .table = {(const uint8_t *)"t", 1},
                                   .name = {(const uint8_t *)names[i], strlen(names[i])},
                                   .type = cqlmux_type_native(CQLMUX_TYPE_INT)};
  }
  static const uint8_t page[] = {1, 2, 3, 4};
  cqlmux_rows_metadata meta = {.columns_count = columns, .paging_state = {NULL, -1},
                               .columns = cols};
  if (paging) {
    meta.flags = CQLMUX_ROWS_FLAG_HAS_MORE_PAGES;
    meta.paging_state = (cqlmux_bytes){page, sizeof page};
  }
  size_t n = (size_t)columns * (size_t)rows;
  uint8_t(*values)[4] = calloc(n ? n : 1, 4);
  cqlmux_bytes *cells = calloc(n ? n : 1, sizeof *cells);
  for (size_t i = 0; i < n; i++) {
    values[i][3] = (uint8_t)i;
    values[i][2] = (uint8_t)(i >> 8);
    cells[i] = (cqlmux_bytes){values[i], 4};
  }
  cqlmux_wbuf_init(b, NULL, 0);
  cqlmux_rows_encode(b, 4, &meta, rows, cells);
  cr_assert_eq(b->error, 0);
  free(values);
  free(cells);
}

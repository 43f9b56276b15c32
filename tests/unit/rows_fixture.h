/* ROWS bodies for the result tests. */
#ifndef CQLMUX_TESTS_ROWS_FIXTURE_H
#define CQLMUX_TESTS_ROWS_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/wire.h"

/* A ROWS body (protocol v4) with full metadata: `columns` (at most 64) int
 * columns named <prefix>0, <prefix>1 ... of table ks.t, and `rows` rows of
 * them, cell i holding i & 0xffff; with a paging state when `paging`. b is
 * initialized here. */
void rows_fixture_int_body(cqlmux_wbuf *b, const char *prefix, int32_t columns, int32_t rows,
                           bool paging);

#endif

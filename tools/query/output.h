/* Writes query results in one of cqlmux-query's output formats:
 *   table  aligned columns under a header, then "(N rows)", like cqlsh; the
 *          rows are kept until the statement's last page so that the widths
 *          fit every row;
 *   csv    RFC 4180: a header row, then one record per row, CRLF line ends,
 *          null as an empty field and an empty string as "";
 *   json   one object per row, one per line, keys the column names.
 * One output serves one statement at a time: begin, its pages, end. */
#ifndef CQLMUX_QUERY_OUTPUT_H
#define CQLMUX_QUERY_OUTPUT_H

#include <cqlmux.h>
#include <stdio.h>

#include "strbuf.h"

typedef enum output_format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON } output_format;

typedef struct output {
  output_format format;
  FILE *out;
  size_t columns;
  char **names;     /* the statement's column names */
  int *right_align; /* per column: numbers are right-aligned in tables */
  char **cells;     /* table: rows x columns cell texts */
  size_t rows, cells_cap;
  strbuf line;
} output;

void output_init(output *o, output_format format, FILE *out);
/* Takes the statement's columns from its first page. */
void output_begin(output *o, const cqlmux_result *page);
/* Writes (or, for a table, keeps) the first `limit` rows of the page.
 * Returns CQLMUX_OK or the error of a value that does not decode; *written
 * gets the rows taken. */
int output_page(output *o, const cqlmux_result *page, size_t limit, size_t *written);
/* Ends the statement (a table is printed now). */
void output_end(output *o);
void output_free(output *o);

#endif

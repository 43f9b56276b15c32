/* The output formats of cqlmux-query (output.h). */
#include "output.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "scalar.h"

static void out_of_memory(void) {
  fputs("cqlmux-query: out of memory\n", stderr);
  exit(1);
}

static void *grow(void *p, size_t count, size_t size) {
  if (count && size > SIZE_MAX / count) out_of_memory();
  void *q = realloc(p, count * size);
  if (!q && count) out_of_memory();
  return q;
}

static char *copy_text(const char *text, size_t length) {
  char *copy = malloc(length + 1);
  if (!copy) out_of_memory();
  memcpy(copy, text, length);
  copy[length] = '\0';
  return copy;
}

void output_init(output *o, output_format format, FILE *out) {
  memset(o, 0, sizeof *o);
  o->format = format;
  o->out = out;
}

static void forget_statement(output *o) {
  for (size_t i = 0; i < o->rows * o->columns; i++) free(o->cells[i]);
  for (size_t i = 0; i < o->columns; i++) free(o->names[i]);
  free(o->cells);
  free(o->names);
  free(o->right_align);
  o->cells = NULL;
  o->names = NULL;
  o->right_align = NULL;
  o->rows = o->cells_cap = o->columns = 0;
}

static int is_number(cqlmux_type kind) {
  switch (kind) {
  case CQLMUX_TYPE_TINYINT:
  case CQLMUX_TYPE_SMALLINT:
  case CQLMUX_TYPE_INT:
  case CQLMUX_TYPE_BIGINT:
  case CQLMUX_TYPE_COUNTER:
  case CQLMUX_TYPE_VARINT:
  case CQLMUX_TYPE_DECIMAL:
  case CQLMUX_TYPE_FLOAT:
  case CQLMUX_TYPE_DOUBLE: return 1;
  default: return 0;
  }
}

/* Ends a CSV record (RFC 4180 asks for CRLF) or a JSON line. */
static void flush_line(output *o) {
  strbuf_adds(&o->line, o->format == FORMAT_CSV ? "\r\n" : "\n");
  fwrite(o->line.data, 1, o->line.len, o->out);
  strbuf_clear(&o->line);
}

void output_begin(output *o, const cqlmux_result *page) {
  forget_statement(o);
  o->columns = cqlmux_result_column_count(page);
  o->names = grow(NULL, o->columns, sizeof *o->names);
  o->right_align = grow(NULL, o->columns, sizeof *o->right_align);
  for (size_t c = 0; c < o->columns; c++) {
    size_t length = 0;
    const char *name = cqlmux_result_column_name(page, c, &length);
    o->names[c] = copy_text(name ? name : "", name ? length : 0);
    o->right_align[c] = is_number(cqlmux_data_type_kind(cqlmux_result_column_data_type(page, c)));
  }
  if (o->format != FORMAT_CSV) return;
  for (size_t c = 0; c < o->columns; c++) {
    if (c) strbuf_addc(&o->line, ',');
    scalar_csv_field(&o->line, o->names[c], strlen(o->names[c]));
  }
  flush_line(o);
}

/* ------------------------------------------------------------ one row */

static int json_row(output *o, const cqlmux_result *page, size_t row) {
  strbuf_addc(&o->line, '{');
  for (size_t c = 0; c < o->columns; c++) {
    cqlmux_value v;
    int rc = cqlmux_result_get_value(page, row, c, &v);
    if (rc) return rc;
    if (c) strbuf_addc(&o->line, ',');
    render_json_key(&o->line, o->names[c], strlen(o->names[c]));
    if ((rc = render_value(&o->line, &v, RENDER_JSON))) return rc;
  }
  strbuf_addc(&o->line, '}');
  return CQLMUX_OK;
}

/* A cell as text: CSV quotes it where needed; null is an empty field. */
static int csv_row(output *o, const cqlmux_result *page, size_t row) {
  strbuf cell = STRBUF_INIT;
  int rc = CQLMUX_OK;
  for (size_t c = 0; c < o->columns && rc == CQLMUX_OK; c++) {
    cqlmux_value v;
    if (c) strbuf_addc(&o->line, ',');
    strbuf_clear(&cell);
    if ((rc = cqlmux_result_get_value(page, row, c, &v)) || cqlmux_value_is_null(&v)) continue;
    if ((rc = render_value(&cell, &v, RENDER_TEXT)) == CQLMUX_OK)
      scalar_csv_field(&o->line, cell.data ? cell.data : "", cell.len);
  }
  strbuf_free(&cell);
  return rc;
}

static int table_row(output *o, const cqlmux_result *page, size_t row) {
  if (o->rows * o->columns + o->columns > o->cells_cap) {
    o->cells_cap = o->cells_cap ? o->cells_cap * 2 : o->columns * 64;
    o->cells = grow(o->cells, o->cells_cap, sizeof *o->cells);
  }
  char **cells = o->cells + o->rows * o->columns;
  strbuf cell = STRBUF_INIT;
  for (size_t c = 0; c < o->columns; c++) {
    cqlmux_value v;
    int rc = cqlmux_result_get_value(page, row, c, &v);
    if (rc == CQLMUX_OK && cqlmux_value_is_null(&v))
      strbuf_adds(&cell, "null");
    else if (rc == CQLMUX_OK)
      rc = render_value(&cell, &v, RENDER_TEXT);
    if (rc) {
      for (size_t k = 0; k < c; k++) free(cells[k]);
      strbuf_free(&cell);
      return rc;
    }
    cells[c] = strbuf_take(&cell);
  }
  o->rows++;
  return CQLMUX_OK;
}

int output_page(output *o, const cqlmux_result *page, size_t limit, size_t *written) {
  size_t rows = cqlmux_result_row_count(page);
  if (rows > limit) rows = limit;
  *written = 0;
  for (size_t r = 0; r < rows; r++) {
    int rc;
    if (o->format == FORMAT_TABLE) {
      rc = table_row(o, page, r);
    } else {
      rc = o->format == FORMAT_JSON ? json_row(o, page, r) : csv_row(o, page, r);
      if (rc == CQLMUX_OK) flush_line(o);
      else strbuf_clear(&o->line);
    }
    if (rc) return rc;
    (*written)++;
  }
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ the table */

/* Terminal columns of UTF-8 text: one per code point (continuation bytes
 * do not count); wide characters are not measured. */
static size_t display_width(const char *text) {
  size_t width = 0;
  for (; *text; text++) width += ((unsigned char)*text & 0xC0) != 0x80;
  return width;
}

static void pad(FILE *out, size_t n) {
  while (n--) fputc(' ', out);
}

static void print_cell(const output *o, const char *text, size_t column, size_t width) {
  size_t gap = width - display_width(text);
  fputs(column ? " | " : " ", o->out);
  if (o->right_align[column]) pad(o->out, gap);
  fputs(text, o->out);
  if (!o->right_align[column] && column + 1 < o->columns) pad(o->out, gap);
}

static void print_table(const output *o) {
  size_t *widths = grow(NULL, o->columns, sizeof *widths);
  for (size_t c = 0; c < o->columns; c++) {
    widths[c] = display_width(o->names[c]);
    for (size_t r = 0; r < o->rows; r++) {
      size_t w = display_width(o->cells[r * o->columns + c]);
      if (w > widths[c]) widths[c] = w;
    }
  }
  for (size_t c = 0; c < o->columns; c++) print_cell(o, o->names[c], c, widths[c]);
  fputc('\n', o->out);
  for (size_t c = 0; c < o->columns; c++) {
    fputs(c ? "+-" : "-", o->out);
    for (size_t i = 0; i < widths[c] + 1; i++) fputc('-', o->out);
  }
  fputc('\n', o->out);
  for (size_t r = 0; r < o->rows; r++) {
    for (size_t c = 0; c < o->columns; c++)
      print_cell(o, o->cells[r * o->columns + c], c, widths[c]);
    fputc('\n', o->out);
  }
  fprintf(o->out, "\n(%zu rows)\n", o->rows);
  free(widths);
}

void output_end(output *o) {
  if (o->format == FORMAT_TABLE && o->columns) print_table(o);
  forget_statement(o);
}

void output_free(output *o) {
  forget_statement(o);
  strbuf_free(&o->line);
}

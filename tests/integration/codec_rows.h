/* The every-type table of test_codec_real: its schema, the values of its
 * rows as C data, binding them with the value writers of proto/values.h,
 * and checking decoded cells against them with the typed getters and
 * iterators. Failures are Criterion assertions. */
#ifndef CQLMUX_TESTS_CODEC_ROWS_H
#define CQLMUX_TESTS_CODEC_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/arena.h"
#include "proto/response.h"
#include "proto/values.h"
#include "proto/wire.h"

#define CODEC_KS "cqlmux_codec"

/* DDL, in order: the UDT, the every-type table. */
extern const char codec_create_udt[];
extern const char codec_create_all_types[];
/* INSERT of every column (id first) with one bind marker each. */
extern const char codec_insert_all_types[];
#define CODEC_ALL_TYPES_COLUMNS 30

/* A varint: raw two's complement bytes when raw is set, else i64. */
typedef struct codec_varint {
  const uint8_t *raw;
  size_t raw_len;
  int64_t i64;
} codec_varint;

typedef struct codec_strings {
  const char *const *items;
  size_t n;
} codec_strings;

typedef struct codec_row {
  int32_t id;
  const char *ascii;
  int64_t bigint;
  cqlmux_slice blob;
  bool boolean;
  uint32_t date; /* wire form: epoch at 2^31 */
  int32_t decimal_scale;
  int64_t decimal_unscaled;
  const char *decimal_text; /* as cqlmux_decimal_to_string writes it */
  double dbl;               /* NaN compares with isnan */
  cqlmux_duration duration;
  float flt;
  cqlmux_inet inet4, inet6;
  int32_t i32;
  int16_t i16;
  int8_t i8;
  const char *text;
  int64_t time_ns, timestamp_ms;
  uint8_t timeuuid[16], uuid[16];
  codec_varint varint, varint_neg;
  const int32_t *list; /* n 0: Cassandra keeps no empty non-frozen collection: null */
  size_t list_n;
  codec_strings set;   /* in Cassandra's (byte) order */
  codec_strings map_keys;
  const int64_t *map_values;
  int32_t tuple_i;
  const char *tuple_s; /* NULL: a null element */
  double tuple_d;
  const char *udt_street; /* NULL: a null field */
  int32_t udt_zip;
  codec_strings udt_phones;
  codec_strings nested_keys;
  const int32_t *const *nested_lists;
  const size_t *nested_lens;
  float vec_f[3];
  const char *vec_t[2];
} codec_row;

/* Row 1 holds codec_row_a through a CQL literal (codec_literal_row_a), row
 * 2 the same values bound; row 3 holds the edge values of codec_row_b,
 * bound, and row 8 the same through a literal (codec_literal_row_b). */
extern const codec_row codec_row_a;
extern const codec_row codec_row_b;
extern const char codec_literal_row_a[];
extern const char codec_literal_row_b[];

/* Appends the CODEC_ALL_TYPES_COLUMNS bound values of row to b, as [value]s
 * in codec_insert_all_types order. */
void codec_bind_row(cqlmux_wbuf *b, const codec_row *row);

/* Index of the column called name in rows (asserts it exists). */
uint32_t codec_column(const cqlmux_rows *rows, const char *name);
cqlmux_bytes codec_cell(const cqlmux_rows *rows, uint32_t row, const char *name);

/* Asserts that the column types in specs[0..n) are those of the table. */
void codec_check_types(const cqlmux_column_spec *specs, int32_t n);

/* Asserts that row `r` of rows holds exactly the values of want. */
void codec_check_row(const cqlmux_rows *rows, uint32_t r, const codec_row *want);

/* Asserts rows r1 and r2 hold the same bytes in every column but id: the
 * codec's value writers agree with the server's reading of CQL literals. */
void codec_check_same_cells(const cqlmux_rows *rows, uint32_t r1, uint32_t r2);

/* Asserts every column but id is null. */
void codec_check_null_row(const cqlmux_rows *rows, uint32_t r);

/* Asserts ascii, text and blob are empty (len 0, decodable), int and bigint
 * empty (len 0, EMPTY_VALUE from their getters), everything else null. */
void codec_check_empty_row(const cqlmux_rows *rows, uint32_t r);

#endif

/* CQL value codecs (spec section 5 and 6, plus Cassandra 5.0 vectors).
 *
 * A value is a cqlmux_bytes: len >= 0 bytes of serialized value, len == -1
 * (CQLMUX_VALUE_NULL) for null. An empty value (len 0) is distinct from null:
 * Cassandra accepts it for most types.
 *
 * Decoding is zero-copy and validating. Typed getters check the exact
 * serialized length of their type and return:
 *   CQLMUX_OK                 *out set
 *   CQLMUX_ERR_NULL_VALUE     the value is null (len < 0)
 *   CQLMUX_ERR_EMPTY_VALUE    the value is empty and the type cannot be empty
 *                             as a C value (int, uuid ...; not text or blob)
 *   CQLMUX_ERR_MALFORMED      wrong length or invalid content
 *   CQLMUX_ERR_OVERSIZED      a varint/decimal does not fit the C type
 * and leave *out untouched on failure. Slices point into the value.
 *
 * Composite values (list, set, map, tuple, UDT, vector) are walked with a
 * cqlmux_value_iter, which hands out each element as a cqlmux_bytes slice.
 *
 * Encoding appends to a cqlmux_wbuf. cqlmux_value_put_* append the bare
 * serialized bytes (what a vector of fixed-size elements holds);
 * cqlmux_value_write_* append a [value]: an [int] length, then the bytes, as
 * a bound variable or a collection, tuple or UDT element needs. Errors are
 * sticky in the wbuf (INVALID_ARGUMENT for an out-of-range argument).
 */
#ifndef CQLMUX_PROTO_VALUES_H
#define CQLMUX_PROTO_VALUES_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/types.h"
#include "proto/wire.h"

/* ------------------------------------------------------------ decoding */

int cqlmux_value_get_boolean(cqlmux_bytes v, bool *out);
int cqlmux_value_get_tinyint(cqlmux_bytes v, int8_t *out);
int cqlmux_value_get_smallint(cqlmux_bytes v, int16_t *out);
int cqlmux_value_get_int(cqlmux_bytes v, int32_t *out);
int cqlmux_value_get_bigint(cqlmux_bytes v, int64_t *out); /* bigint, counter */
int cqlmux_value_get_float(cqlmux_bytes v, float *out);
int cqlmux_value_get_double(cqlmux_bytes v, double *out);
/* Milliseconds since the Unix epoch. */
int cqlmux_value_get_timestamp(cqlmux_bytes v, int64_t *out);
/* Nanoseconds since midnight, 0 .. 86399999999999 (else MALFORMED). */
int cqlmux_value_get_time(cqlmux_bytes v, int64_t *out);
/* Days with the epoch at 2^31 (1970-01-01 is 2147483648), as on the wire. */
int cqlmux_value_get_date(cqlmux_bytes v, uint32_t *out);
/* 16 bytes; get_timeuuid also requires a version 1 UUID. */
int cqlmux_value_get_uuid(cqlmux_bytes v, const uint8_t **out16);
int cqlmux_value_get_timeuuid(cqlmux_bytes v, const uint8_t **out16);
/* 4 or 16 address bytes; port 0. */
int cqlmux_value_get_inet(cqlmux_bytes v, cqlmux_inet *out);

/* Text types may be empty. get_ascii rejects bytes > 127, get_text invalid
 * UTF-8 (MALFORMED); get_blob takes anything. */
int cqlmux_value_get_ascii(cqlmux_bytes v, cqlmux_slice *out);
int cqlmux_value_get_text(cqlmux_bytes v, cqlmux_slice *out);
int cqlmux_value_get_blob(cqlmux_bytes v, cqlmux_slice *out);

typedef struct cqlmux_duration {
  int32_t months;
  int32_t days;
  int64_t nanoseconds;
} cqlmux_duration;

/* Three [vint]s; months and days must fit 32 bits and all three share one
 * sign (MALFORMED otherwise, trailing bytes too). */
int cqlmux_value_get_duration(cqlmux_bytes v, cqlmux_duration *out);

/* varint: two's complement, big-endian. get_varint_raw returns the bytes as
 * they are (any non-empty length); get_varint converts when the number fits
 * in 64 bits (else OVERSIZED). */
int cqlmux_value_get_varint_raw(cqlmux_bytes v, cqlmux_slice *out);
int cqlmux_value_get_varint(cqlmux_bytes v, int64_t *out);

/* decimal: an [int] scale then a varint unscaled value; the number is
 * unscaled * 10^-scale. */
typedef struct cqlmux_decimal {
  int32_t scale;
  cqlmux_slice unscaled; /* two's complement big-endian, non-empty */
} cqlmux_decimal;

int cqlmux_value_get_decimal(cqlmux_bytes v, cqlmux_decimal *out);
/* The unscaled part as an int64 when it fits (else OVERSIZED). */
int cqlmux_decimal_unscaled_i64(const cqlmux_decimal *d, int64_t *out);

/* Two's complement bytes <-> int64. to_i64 accepts any redundant sign
 * bytes; an empty input is MALFORMED. from_i64 writes the minimal encoding
 * (1..8 bytes, spec section 5.24) and returns its length. */
int cqlmux_varint_to_i64(const uint8_t *p, size_t n, int64_t *out);
size_t cqlmux_varint_from_i64(int64_t v, uint8_t out[8]);

/* Formats a decimal the way Java's BigDecimal.toString does (what cqlsh
 * shows): plain digits when the scale is >= 0 and the adjusted exponent
 * >= -6, otherwise d.dddE+n. Writes a NUL-terminated string and its length
 * (without the NUL) to *len. Needs at most
 * cqlmux_decimal_string_max(unscaled.len) bytes; with less room returns
 * CQLMUX_ERR_BUFFER_TOO_SMALL. Allocates nothing. */
int cqlmux_decimal_to_string(const cqlmux_decimal *d, char *buf, size_t cap, size_t *len);
size_t cqlmux_decimal_string_max(size_t unscaled_len);

/* Days since the Unix epoch of a wire date (negative before 1970). */
static inline int64_t cqlmux_date_to_epoch_days(uint32_t wire) { return (int64_t)wire - 2147483648LL; }

/* ------------------------------------------------------------ composites */

/* Walks the elements of a list, set, map, tuple, UDT or vector value.
 *
 * next returns 1 with an element, 0 at the end, or a negative error. A map
 * yields key, value, key, value ...; elem_type follows along. Elements of
 * collections, tuples and UDTs may be null (len -1); vector elements never
 * are. A UDT or tuple value may stop before the type's last field
 * (Cassandra omits trailing nulls): the walk then ends early, and
 * cqlmux_value_iter.index tells how many fields were present. The final
 * next (returning 0) fails with MALFORMED if bytes remain after the last
 * element. Errors: TRUNCATED (an element runs past the value), MALFORMED
 * (negative count or length, trailing bytes, more fields than the type). */
typedef struct cqlmux_value_iter {
  cqlmux_reader r;
  const cqlmux_typedesc *type;
  uint32_t count; /* elements to yield: collections 2*n for maps; tuple/UDT/vector type's count */
  uint32_t index; /* elements yielded so far */
} cqlmux_value_iter;

/* Starts a walk over value v of composite type t. A null value is
 * CQLMUX_ERR_NULL_VALUE; an empty collection, tuple or UDT value walks zero
 * elements; an empty vector is CQLMUX_ERR_EMPTY_VALUE. A collection count
 * larger than the bytes could hold is TRUNCATED. INVALID_ARGUMENT if t is not
 * composite. */
int cqlmux_value_iter_init(cqlmux_value_iter *it, const cqlmux_typedesc *t, cqlmux_bytes v);
int cqlmux_value_iter_next(cqlmux_value_iter *it, cqlmux_bytes *elem, const cqlmux_typedesc **elem_type);

/* Number of elements (list, set, vector), entries (map) or fields present
 * so far is it->index; the collection header count is it->count (halved for
 * maps). */
static inline uint32_t cqlmux_value_iter_size(const cqlmux_value_iter *it) {
  return it->type->id == CQLMUX_TYPE_MAP ? it->count / 2 : it->count;
}

/* Checks that v is a well-formed value of type t, all the way down (nested
 * composites included, up to CQLMUX_TYPE_MAX_DEPTH). Null and empty values
 * pass. Returns CQLMUX_OK or the first error found. */
int cqlmux_value_validate(const cqlmux_typedesc *t, cqlmux_bytes v);

/* ------------------------------------------------------------ encoding */

void cqlmux_value_put_boolean(cqlmux_wbuf *b, bool v);
void cqlmux_value_put_tinyint(cqlmux_wbuf *b, int8_t v);
void cqlmux_value_put_smallint(cqlmux_wbuf *b, int16_t v);
void cqlmux_value_put_int(cqlmux_wbuf *b, int32_t v);
void cqlmux_value_put_bigint(cqlmux_wbuf *b, int64_t v);
void cqlmux_value_put_float(cqlmux_wbuf *b, float v);
void cqlmux_value_put_double(cqlmux_wbuf *b, double v);
void cqlmux_value_put_time(cqlmux_wbuf *b, int64_t nanos); /* INVALID_ARGUMENT out of range */
void cqlmux_value_put_date(cqlmux_wbuf *b, uint32_t wire_days);
void cqlmux_value_put_uuid(cqlmux_wbuf *b, const uint8_t uuid[16]);
void cqlmux_value_put_inet(cqlmux_wbuf *b, const cqlmux_inet *addr);
void cqlmux_value_put_duration(cqlmux_wbuf *b, cqlmux_duration d); /* mixed signs: INVALID_ARGUMENT */
void cqlmux_value_put_varint(cqlmux_wbuf *b, int64_t v);
void cqlmux_value_put_decimal(cqlmux_wbuf *b, int32_t scale, int64_t unscaled);
/* unscaled given as two's complement bytes (n >= 1). */
void cqlmux_value_put_decimal_raw(cqlmux_wbuf *b, int32_t scale, const uint8_t *unscaled, size_t n);

void cqlmux_value_write_null(cqlmux_wbuf *b);
void cqlmux_value_write_unset(cqlmux_wbuf *b); /* [value] -2: "not set" (v4+) */
void cqlmux_value_write_empty(cqlmux_wbuf *b);
void cqlmux_value_write_boolean(cqlmux_wbuf *b, bool v);
void cqlmux_value_write_tinyint(cqlmux_wbuf *b, int8_t v);
void cqlmux_value_write_smallint(cqlmux_wbuf *b, int16_t v);
void cqlmux_value_write_int(cqlmux_wbuf *b, int32_t v);
void cqlmux_value_write_bigint(cqlmux_wbuf *b, int64_t v); /* also counter, timestamp */
void cqlmux_value_write_float(cqlmux_wbuf *b, float v);
void cqlmux_value_write_double(cqlmux_wbuf *b, double v);
void cqlmux_value_write_time(cqlmux_wbuf *b, int64_t nanos);
void cqlmux_value_write_date(cqlmux_wbuf *b, uint32_t wire_days);
void cqlmux_value_write_uuid(cqlmux_wbuf *b, const uint8_t uuid[16]);
void cqlmux_value_write_inet(cqlmux_wbuf *b, const cqlmux_inet *addr);
void cqlmux_value_write_duration(cqlmux_wbuf *b, cqlmux_duration d);
void cqlmux_value_write_varint(cqlmux_wbuf *b, int64_t v);
void cqlmux_value_write_decimal(cqlmux_wbuf *b, int32_t scale, int64_t unscaled);
/* The bytes as given (blob, or any type already serialized). */
void cqlmux_value_write_bytes(cqlmux_wbuf *b, const void *p, size_t n);
/* Per-type names for the same encodings; the checked ones refuse what the
 * matching getter would reject (INVALID_ARGUMENT). */
void cqlmux_value_write_ascii(cqlmux_wbuf *b, const char *s, size_t n); /* checked: bytes < 128 */
void cqlmux_value_write_text(cqlmux_wbuf *b, const char *s, size_t n);  /* checked: UTF-8 */
void cqlmux_value_write_blob(cqlmux_wbuf *b, const void *p, size_t n);
void cqlmux_value_write_counter(cqlmux_wbuf *b, int64_t v);
void cqlmux_value_write_timestamp(cqlmux_wbuf *b, int64_t millis);
void cqlmux_value_write_timeuuid(cqlmux_wbuf *b, const uint8_t uuid[16]); /* checked: version 1 */
/* Two's complement bytes as they are (n >= 1). */
void cqlmux_value_write_varint_raw(cqlmux_wbuf *b, const uint8_t *p, size_t n);
void cqlmux_value_write_decimal_raw(cqlmux_wbuf *b, int32_t scale, const uint8_t *unscaled,
                                    size_t n);

/* Composite values: begin reserves the [int] length and returns a mark;
 * end fills it in. In between write the body: for list/set/map an [int]
 * count (cqlmux_write_i32) then each element as a [value] (maps: key, value
 * ...); for tuple/UDT each field as a [value]; for a vector each element
 * bare when its type has a fixed size, else between
 * cqlmux_value_vector_elem_begin/end. Composites nest. */
size_t cqlmux_value_begin(cqlmux_wbuf *b);
void cqlmux_value_end(cqlmux_wbuf *b, size_t mark);

/* One variable-size vector element: its bare bytes go in between, and end
 * prefixes them with their [unsigned vint] length. */
size_t cqlmux_value_vector_elem_begin(cqlmux_wbuf *b);
void cqlmux_value_vector_elem_end(cqlmux_wbuf *b, size_t mark);

/* A whole vector<float, n> value, as a [value]. */
void cqlmux_value_write_float_vector(cqlmux_wbuf *b, const float *v, uint32_t n);

#endif

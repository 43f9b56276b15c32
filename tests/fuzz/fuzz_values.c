/* libFuzzer harness: type descriptors and value decoding over arbitrary type
 * trees. Input: one mode byte (bit 0: the type is a Java class string ended
 * by a NUL byte, else an [option]; bit 1: encode for v4 or v5), the type,
 * then the bytes of one value of that type.
 *
 * Checks beyond "no crash": a decoded type re-encodes (as an [option] and as
 * a class string) to an equal type; walking the value with the typed
 * getters and iterators agrees with cqlmux_value_validate; every element
 * slice lies inside the value; varints convert back and forth; decimals
 * format within cqlmux_decimal_string_max. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok) __builtin_trap();
}

/* Decodes with the arena's counting contract: one grow, one more pass. */
static int decode_type(cqlmux_arena *a, bool cls, const uint8_t *p, size_t n, size_t *used,
                       const cqlmux_typedesc **t) {
  for (int pass = 0; pass < 2; pass++) {
    size_t mark = cqlmux_arena_mark(a);
    cqlmux_reader r = cqlmux_reader_make(p, n);
    cqlmux_slice s = {p, n};
    int rc = cls ? cqlmux_type_parse_class(s, a, t) : cqlmux_type_decode(&r, a, t);
    *used = cls ? n : n - cqlmux_reader_remaining(&r);
    if (rc || !cqlmux_arena_overflowed(a)) return rc;
    check(pass == 0);
    check(cqlmux_arena_grow(a, mark) == CQLMUX_OK);
  }
  return CQLMUX_ERR_NOMEM;
}

static void check_varint(cqlmux_slice raw) {
  int64_t v, back;
  uint8_t enc[8];
  if (cqlmux_varint_to_i64(raw.data, raw.len, &v) != CQLMUX_OK) return;
  size_t n = cqlmux_varint_from_i64(v, enc);
  check(n <= raw.len);
  check(cqlmux_varint_to_i64(enc, n, &back) == CQLMUX_OK && back == v);
}

static void check_decimal(cqlmux_bytes v) {
  cqlmux_decimal d;
  static char buf[4096];
  size_t len;
  if (cqlmux_value_get_decimal(v, &d) != CQLMUX_OK || d.unscaled.len > 256) return;
  size_t need = cqlmux_decimal_string_max(d.unscaled.len);
  check(need <= sizeof buf);
  check(cqlmux_decimal_to_string(&d, buf, need, &len) == CQLMUX_OK);
  check(len < need && buf[len] == '\0' && strlen(buf) == len);
  check_varint(d.unscaled);
}

static int scalar(uint16_t id, cqlmux_bytes v) {
  union {
    bool b;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint32_t u32;
    float f;
    double d;
    const uint8_t *p;
    cqlmux_slice s;
    cqlmux_inet inet;
    cqlmux_duration dur;
  } o;
  switch (id) {
  case CQLMUX_TYPE_BOOLEAN: return cqlmux_value_get_boolean(v, &o.b);
  case CQLMUX_TYPE_TINYINT: return cqlmux_value_get_tinyint(v, &o.i8);
  case CQLMUX_TYPE_SMALLINT: return cqlmux_value_get_smallint(v, &o.i16);
  case CQLMUX_TYPE_INT: return cqlmux_value_get_int(v, &o.i32);
  case CQLMUX_TYPE_BIGINT:
  case CQLMUX_TYPE_COUNTER: return cqlmux_value_get_bigint(v, &o.i64);
  case CQLMUX_TYPE_TIMESTAMP: return cqlmux_value_get_timestamp(v, &o.i64);
  case CQLMUX_TYPE_TIME: return cqlmux_value_get_time(v, &o.i64);
  case CQLMUX_TYPE_DATE: return cqlmux_value_get_date(v, &o.u32);
  case CQLMUX_TYPE_FLOAT: return cqlmux_value_get_float(v, &o.f);
  case CQLMUX_TYPE_DOUBLE: return cqlmux_value_get_double(v, &o.d);
  case CQLMUX_TYPE_UUID: return cqlmux_value_get_uuid(v, &o.p);
  case CQLMUX_TYPE_TIMEUUID: return cqlmux_value_get_timeuuid(v, &o.p);
  case CQLMUX_TYPE_INET: return cqlmux_value_get_inet(v, &o.inet);
  case CQLMUX_TYPE_DURATION: return cqlmux_value_get_duration(v, &o.dur);
  case CQLMUX_TYPE_ASCII: return cqlmux_value_get_ascii(v, &o.s);
  case CQLMUX_TYPE_TEXT: return cqlmux_value_get_text(v, &o.s);
  case CQLMUX_TYPE_BLOB:
  case CQLMUX_TYPE_CUSTOM: return cqlmux_value_get_blob(v, &o.s);
  case CQLMUX_TYPE_VARINT: {
    int rc = cqlmux_value_get_varint_raw(v, &o.s);
    if (rc == CQLMUX_OK) check_varint(o.s);
    return rc;
  }
  case CQLMUX_TYPE_DECIMAL: check_decimal(v); return cqlmux_value_get_decimal(v, &(cqlmux_decimal){0});
  default: check(0); return 0;
  }
}

/* Walks v like cqlmux_value_validate, through the public getters; returns
 * OK or the first error (null and empty values are fine). */
static int walk(const cqlmux_typedesc *t, cqlmux_bytes v, const uint8_t *lo, const uint8_t *hi) {
  if (v.len > 0) check(v.data >= lo && v.data + v.len <= hi);
  if (v.len <= 0) return CQLMUX_OK;
  switch (t->id) {
  case CQLMUX_TYPE_LIST:
  case CQLMUX_TYPE_SET:
  case CQLMUX_TYPE_MAP:
  case CQLMUX_TYPE_TUPLE:
  case CQLMUX_TYPE_UDT:
  case CQLMUX_TYPE_VECTOR: break;
  default: return scalar(t->id, v);
  }
  cqlmux_value_iter it;
  cqlmux_bytes e;
  const cqlmux_typedesc *et;
  int rc = cqlmux_value_iter_init(&it, t, v);
  while (rc == CQLMUX_OK && (rc = cqlmux_value_iter_next(&it, &e, &et)) == 1) {
    check(it.index <= it.count);
    rc = walk(et, e, v.data, v.data + v.len);
  }
  return rc;
}

static void check_type_roundtrips(const cqlmux_typedesc *t, int version, cqlmux_arena *a) {
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  const cqlmux_typedesc *back;
  size_t used;
  cqlmux_type_encode(&b, version, t);
  if (!b.error) {
    check(decode_type(a, false, b.data, b.len, &used, &back) == CQLMUX_OK && used == b.len);
    check(cqlmux_type_equal(t, back));
  }
  cqlmux_wbuf_reset(&b);
  cqlmux_type_write_class(&b, t);
  if (!b.error) {
    check(decode_type(a, true, b.data, b.len, &used, &back) == CQLMUX_OK);
    check(cqlmux_type_equal(t, back));
  }
  cqlmux_wbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  bool cls = data[0] & 1;
  int version = 4 + ((data[0] >> 1) & 1);
  data++;
  size--;
  size_t tlen = size;
  if (cls) {
    const uint8_t *nul = memchr(data, 0, size);
    tlen = nul ? (size_t)(nul - data) : size;
  }
  cqlmux_arena a;
  cqlmux_arena_init(&a, NULL, NULL, 0);
  const cqlmux_typedesc *t;
  size_t used;
  int rc = decode_type(&a, cls, data, tlen, &used, &t);
  check(rc == CQLMUX_OK || rc == CQLMUX_ERR_TRUNCATED || rc == CQLMUX_ERR_MALFORMED);
  if (rc == CQLMUX_OK) {
    check_type_roundtrips(t, version, &a);
    size_t skip = cls ? (tlen < size ? tlen + 1 : tlen) : used;
    cqlmux_bytes v = {data + skip, (int32_t)(size - skip)};
    int walked = walk(t, v, v.data, v.data + v.len);
    int validated = cqlmux_value_validate(t, v);
    check((walked == CQLMUX_OK) == (validated == CQLMUX_OK));
  }
  cqlmux_arena_free(&a);
  return 0;
}

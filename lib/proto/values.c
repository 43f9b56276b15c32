/* Scalar value getters and writers (see values.h). */
#include "proto/values.h"

#include <string.h>

#define TIME_MAX_NANOS 86399999999999LL

static uint64_t load_u64(const uint8_t *p) {
  return ((uint64_t)cqlmux_load_u32(p) << 32) | cqlmux_load_u32(p + 4);
}

/* NULL_VALUE, EMPTY_VALUE, or MALFORMED unless v is exactly `want` bytes. */
static int check_len(cqlmux_bytes v, int32_t want) {
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  if (v.len == 0) return CQLMUX_ERR_EMPTY_VALUE;
  return v.len == want ? CQLMUX_OK : CQLMUX_ERR_MALFORMED;
}

/* ------------------------------------------------------------ fixed sizes */

int cqlmux_value_get_boolean(cqlmux_bytes v, bool *out) {
  int rc = check_len(v, 1);
  if (rc == CQLMUX_OK) *out = v.data[0] != 0;
  return rc;
}

int cqlmux_value_get_tinyint(cqlmux_bytes v, int8_t *out) {
  int rc = check_len(v, 1);
  if (rc == CQLMUX_OK) *out = (int8_t)v.data[0];
  return rc;
}

int cqlmux_value_get_smallint(cqlmux_bytes v, int16_t *out) {
  int rc = check_len(v, 2);
  if (rc == CQLMUX_OK) *out = (int16_t)cqlmux_load_u16(v.data);
  return rc;
}

int cqlmux_value_get_int(cqlmux_bytes v, int32_t *out) {
  int rc = check_len(v, 4);
  if (rc == CQLMUX_OK) *out = (int32_t)cqlmux_load_u32(v.data);
  return rc;
}

int cqlmux_value_get_bigint(cqlmux_bytes v, int64_t *out) {
  int rc = check_len(v, 8);
  if (rc == CQLMUX_OK) *out = (int64_t)load_u64(v.data);
  return rc;
}

int cqlmux_value_get_float(cqlmux_bytes v, float *out) {
  int rc = check_len(v, 4);
  if (rc == CQLMUX_OK) {
    uint32_t bits = cqlmux_load_u32(v.data);
    memcpy(out, &bits, sizeof *out);
  }
  return rc;
}

int cqlmux_value_get_double(cqlmux_bytes v, double *out) {
  int rc = check_len(v, 8);
  if (rc == CQLMUX_OK) {
    uint64_t bits = load_u64(v.data);
    memcpy(out, &bits, sizeof *out);
  }
  return rc;
}

int cqlmux_value_get_timestamp(cqlmux_bytes v, int64_t *out) {
  return cqlmux_value_get_bigint(v, out);
}

int cqlmux_value_get_time(cqlmux_bytes v, int64_t *out) {
  int64_t t;
  int rc = cqlmux_value_get_bigint(v, &t);
  if (rc) return rc;
  if (t < 0 || t > TIME_MAX_NANOS) return CQLMUX_ERR_MALFORMED;
  *out = t;
  return CQLMUX_OK;
}

int cqlmux_value_get_date(cqlmux_bytes v, uint32_t *out) {
  int rc = check_len(v, 4);
  if (rc == CQLMUX_OK) *out = cqlmux_load_u32(v.data);
  return rc;
}

int cqlmux_value_get_uuid(cqlmux_bytes v, const uint8_t **out16) {
  int rc = check_len(v, 16);
  if (rc == CQLMUX_OK) *out16 = v.data;
  return rc;
}

int cqlmux_value_get_timeuuid(cqlmux_bytes v, const uint8_t **out16) {
  int rc = check_len(v, 16);
  if (rc) return rc;
  if ((v.data[6] >> 4) != 1) return CQLMUX_ERR_MALFORMED;
  *out16 = v.data;
  return CQLMUX_OK;
}

int cqlmux_value_get_inet(cqlmux_bytes v, cqlmux_inet *out) {
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  if (v.len == 0) return CQLMUX_ERR_EMPTY_VALUE;
  if (v.len != 4 && v.len != 16) return CQLMUX_ERR_MALFORMED;
  memset(out, 0, sizeof *out);
  memcpy(out->addr, v.data, (size_t)v.len);
  out->addr_len = (uint8_t)v.len;
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ text */

static cqlmux_slice as_slice(cqlmux_bytes v) {
  cqlmux_slice s = {v.data, (size_t)v.len};
  return s;
}

int cqlmux_value_get_blob(cqlmux_bytes v, cqlmux_slice *out) {
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  *out = as_slice(v);
  return CQLMUX_OK;
}

int cqlmux_value_get_ascii(cqlmux_bytes v, cqlmux_slice *out) {
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  for (int32_t i = 0; i < v.len; i++)
    if (v.data[i] & 0x80) return CQLMUX_ERR_MALFORMED;
  *out = as_slice(v);
  return CQLMUX_OK;
}

/* Length of the UTF-8 sequence at p[0..n), 0 if invalid (overlong forms,
 * surrogates and code points above U+10FFFF included). */
static size_t utf8_seq(const uint8_t *p, size_t n) {
  uint8_t c = p[0];
  size_t len;
  uint32_t cp;
  if (c < 0xC2) return 0; /* continuation byte or overlong 2-byte lead */
  if (c < 0xE0) len = 2, cp = c & 0x1F;
  else if (c < 0xF0) len = 3, cp = c & 0x0F;
  else if (c < 0xF5) len = 4, cp = c & 0x07;
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3F);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return len;
}

int cqlmux_value_get_text(cqlmux_bytes v, cqlmux_slice *out) {
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  size_t i = 0, n = (size_t)v.len;
  while (i < n) {
    if (v.data[i] < 0x80) {
      i++;
      continue;
    }
    size_t k = utf8_seq(v.data + i, n - i);
    if (!k) return CQLMUX_ERR_MALFORMED;
    i += k;
  }
  *out = as_slice(v);
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ duration */

static bool duration_signs_ok(int64_t m, int64_t d, int64_t ns) {
  return (m >= 0 && d >= 0 && ns >= 0) || (m <= 0 && d <= 0 && ns <= 0);
}

int cqlmux_value_get_duration(cqlmux_bytes v, cqlmux_duration *out) {
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  if (v.len == 0) return CQLMUX_ERR_EMPTY_VALUE;
  cqlmux_reader r = cqlmux_reader_make(v.data, (size_t)v.len);
  int64_t m, d, ns;
  if (cqlmux_read_vint(&r, &m) || cqlmux_read_vint(&r, &d) || cqlmux_read_vint(&r, &ns))
    return CQLMUX_ERR_MALFORMED;
  if (cqlmux_reader_remaining(&r) || m < INT32_MIN || m > INT32_MAX || d < INT32_MIN ||
      d > INT32_MAX || !duration_signs_ok(m, d, ns))
    return CQLMUX_ERR_MALFORMED;
  out->months = (int32_t)m;
  out->days = (int32_t)d;
  out->nanoseconds = ns;
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ put (bare bytes) */

void cqlmux_value_put_boolean(cqlmux_wbuf *b, bool v) { cqlmux_write_u8(b, v ? 1 : 0); }
void cqlmux_value_put_tinyint(cqlmux_wbuf *b, int8_t v) { cqlmux_write_u8(b, (uint8_t)v); }
void cqlmux_value_put_smallint(cqlmux_wbuf *b, int16_t v) { cqlmux_write_u16(b, (uint16_t)v); }
void cqlmux_value_put_int(cqlmux_wbuf *b, int32_t v) { cqlmux_write_i32(b, v); }
void cqlmux_value_put_bigint(cqlmux_wbuf *b, int64_t v) { cqlmux_write_i64(b, v); }

void cqlmux_value_put_float(cqlmux_wbuf *b, float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  cqlmux_write_i32(b, (int32_t)bits);
}

void cqlmux_value_put_double(cqlmux_wbuf *b, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  cqlmux_write_i64(b, (int64_t)bits);
}

static void fail(cqlmux_wbuf *b, int rc) {
  if (!b->error) b->error = rc;
}

void cqlmux_value_put_time(cqlmux_wbuf *b, int64_t nanos) {
  if (nanos < 0 || nanos > TIME_MAX_NANOS) {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
    return;
  }
  cqlmux_write_i64(b, nanos);
}

void cqlmux_value_put_date(cqlmux_wbuf *b, uint32_t wire_days) {
  cqlmux_write_i32(b, (int32_t)wire_days);
}

void cqlmux_value_put_uuid(cqlmux_wbuf *b, const uint8_t uuid[16]) { cqlmux_write_raw(b, uuid, 16); }

void cqlmux_value_put_inet(cqlmux_wbuf *b, const cqlmux_inet *addr) {
  if (addr->addr_len != 4 && addr->addr_len != 16) {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
    return;
  }
  cqlmux_write_raw(b, addr->addr, addr->addr_len);
}

void cqlmux_value_put_duration(cqlmux_wbuf *b, cqlmux_duration d) {
  if (!duration_signs_ok(d.months, d.days, d.nanoseconds))
    {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
    return;
  }
  cqlmux_write_vint(b, d.months);
  cqlmux_write_vint(b, d.days);
  cqlmux_write_vint(b, d.nanoseconds);
}

void cqlmux_value_put_varint(cqlmux_wbuf *b, int64_t v) {
  uint8_t tmp[8];
  cqlmux_write_raw(b, tmp, cqlmux_varint_from_i64(v, tmp));
}

void cqlmux_value_put_decimal(cqlmux_wbuf *b, int32_t scale, int64_t unscaled) {
  cqlmux_write_i32(b, scale);
  cqlmux_value_put_varint(b, unscaled);
}

void cqlmux_value_put_decimal_raw(cqlmux_wbuf *b, int32_t scale, const uint8_t *unscaled,
                                  size_t n) {
  if (n == 0) {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
    return;
  }
  cqlmux_write_i32(b, scale);
  cqlmux_write_raw(b, unscaled, n);
}

/* ------------------------------------------------------------ write ([value]) */

void cqlmux_value_write_null(cqlmux_wbuf *b) { cqlmux_write_i32(b, CQLMUX_VALUE_NULL); }
void cqlmux_value_write_unset(cqlmux_wbuf *b) { cqlmux_write_i32(b, CQLMUX_VALUE_NOT_SET); }
void cqlmux_value_write_empty(cqlmux_wbuf *b) { cqlmux_write_i32(b, 0); }

/* [int] length then the put_* body; fixed-size types know their length. */
#define WRITE_FIXED(name, ctype, size)                      \
  void cqlmux_value_write_##name(cqlmux_wbuf *b, ctype v) { \
    cqlmux_write_i32(b, size);                              \
    cqlmux_value_put_##name(b, v);                          \
  }

WRITE_FIXED(boolean, bool, 1)
WRITE_FIXED(tinyint, int8_t, 1)
WRITE_FIXED(smallint, int16_t, 2)
WRITE_FIXED(int, int32_t, 4)
WRITE_FIXED(bigint, int64_t, 8)
WRITE_FIXED(float, float, 4)
WRITE_FIXED(double, double, 8)
WRITE_FIXED(time, int64_t, 8)
WRITE_FIXED(date, uint32_t, 4)

void cqlmux_value_write_uuid(cqlmux_wbuf *b, const uint8_t uuid[16]) {
  cqlmux_write_i32(b, 16);
  cqlmux_value_put_uuid(b, uuid);
}

void cqlmux_value_write_inet(cqlmux_wbuf *b, const cqlmux_inet *addr) {
  cqlmux_write_i32(b, addr->addr_len);
  cqlmux_value_put_inet(b, addr);
}

void cqlmux_value_write_duration(cqlmux_wbuf *b, cqlmux_duration d) {
  size_t m = cqlmux_value_begin(b);
  cqlmux_value_put_duration(b, d);
  cqlmux_value_end(b, m);
}

void cqlmux_value_write_varint(cqlmux_wbuf *b, int64_t v) {
  uint8_t tmp[8];
  size_t n = cqlmux_varint_from_i64(v, tmp);
  cqlmux_write_i32(b, (int32_t)n);
  cqlmux_write_raw(b, tmp, n);
}

void cqlmux_value_write_decimal(cqlmux_wbuf *b, int32_t scale, int64_t unscaled) {
  size_t m = cqlmux_value_begin(b);
  cqlmux_value_put_decimal(b, scale, unscaled);
  cqlmux_value_end(b, m);
}

void cqlmux_value_write_bytes(cqlmux_wbuf *b, const void *p, size_t n) {
  if (n > INT32_MAX) {
    fail(b, CQLMUX_ERR_OVERSIZED);
    return;
  }
  cqlmux_write_i32(b, (int32_t)n);
  cqlmux_write_raw(b, p, n);
}

void cqlmux_value_write_blob(cqlmux_wbuf *b, const void *p, size_t n) {
  cqlmux_value_write_bytes(b, p, n);
}

void cqlmux_value_write_ascii(cqlmux_wbuf *b, const char *s, size_t n) {
  cqlmux_slice out;
  if (n > INT32_MAX || cqlmux_value_get_ascii((cqlmux_bytes){(const uint8_t *)s, (int32_t)n}, &out)) {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
    return;
  }
  cqlmux_value_write_bytes(b, s, n);
}

void cqlmux_value_write_text(cqlmux_wbuf *b, const char *s, size_t n) {
  cqlmux_slice out;
  if (n > INT32_MAX || cqlmux_value_get_text((cqlmux_bytes){(const uint8_t *)s, (int32_t)n}, &out)) {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
    return;
  }
  cqlmux_value_write_bytes(b, s, n);
}

void cqlmux_value_write_counter(cqlmux_wbuf *b, int64_t v) { cqlmux_value_write_bigint(b, v); }

void cqlmux_value_write_timestamp(cqlmux_wbuf *b, int64_t millis) {
  cqlmux_value_write_bigint(b, millis);
}

void cqlmux_value_write_timeuuid(cqlmux_wbuf *b, const uint8_t uuid[16]) {
  if ((uuid[6] >> 4) != 1) {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
    return;
  }
  cqlmux_value_write_uuid(b, uuid);
}

void cqlmux_value_write_varint_raw(cqlmux_wbuf *b, const uint8_t *p, size_t n) {
  if (n == 0) {
    fail(b, CQLMUX_ERR_INVALID_ARGUMENT);
    return;
  }
  cqlmux_value_write_bytes(b, p, n);
}

void cqlmux_value_write_decimal_raw(cqlmux_wbuf *b, int32_t scale, const uint8_t *unscaled,
                                    size_t n) {
  size_t m = cqlmux_value_begin(b);
  cqlmux_value_put_decimal_raw(b, scale, unscaled, n);
  cqlmux_value_end(b, m);
}

/* ------------------------------------------------------------ composites */

size_t cqlmux_value_begin(cqlmux_wbuf *b) { return cqlmux_wbuf_skip(b, 4); }

void cqlmux_value_end(cqlmux_wbuf *b, size_t mark) {
  if (b->error || b->len < 4 || mark > b->len - 4) return;
  size_t n = b->len - mark - 4;
  if (n > INT32_MAX) {
    fail(b, CQLMUX_ERR_OVERSIZED);
    return;
  }
  cqlmux_store_u32(b->data + mark, (uint32_t)n);
}

size_t cqlmux_value_vector_elem_begin(cqlmux_wbuf *b) { return b->error ? SIZE_MAX : b->len; }

/* The length prefix is only known at the end: append it, then rotate it in
 * front of the element. */
void cqlmux_value_vector_elem_end(cqlmux_wbuf *b, size_t mark) {
  if (b->error || mark > b->len) return;
  size_t n = b->len - mark;
  cqlmux_write_uvint(b, n);
  if (b->error) return;
  size_t k = b->len - mark - n;
  uint8_t prefix[9];
  memcpy(prefix, b->data + mark + n, k);
  memmove(b->data + mark + k, b->data + mark, n);
  memcpy(b->data + mark, prefix, k);
}

void cqlmux_value_write_float_vector(cqlmux_wbuf *b, const float *v, uint32_t n) {
  if ((uint64_t)n * 4 > INT32_MAX) {
    fail(b, CQLMUX_ERR_OVERSIZED);
    return;
  }
  cqlmux_write_i32(b, (int32_t)(n * 4));
  uint8_t *p = cqlmux_wbuf_reserve(b, (size_t)n * 4);
  if (!p) return;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t bits;
    memcpy(&bits, &v[i], sizeof bits);
    cqlmux_store_u32(p + 4 * i, bits);
  }
}

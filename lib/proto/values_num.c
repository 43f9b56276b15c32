/* Arbitrary-precision numbers: varint and decimal (spec 5.6, 5.24). */
#include <stdio.h>
#include <string.h>

#include "proto/values.h"

/* A leading byte is redundant when it only repeats the sign of the next. */
static bool redundant_lead(uint8_t lead, uint8_t next) {
  return (lead == 0x00 && !(next & 0x80)) || (lead == 0xFF && (next & 0x80));
}

int cqlmux_varint_to_i64(const uint8_t *p, size_t n, int64_t *out) {
  if (n == 0) return CQLMUX_ERR_MALFORMED;
  while (n > 1 && redundant_lead(p[0], p[1])) {
    p++;
    n--;
  }
  if (n > 8) return CQLMUX_ERR_OVERSIZED;
  uint64_t u = (p[0] & 0x80) ? UINT64_MAX : 0;
  for (size_t i = 0; i < n; i++) u = (u << 8) | p[i];
  *out = (int64_t)u;
  return CQLMUX_OK;
}

size_t cqlmux_varint_from_i64(int64_t v, uint8_t out[8]) {
  uint64_t u = (uint64_t)v;
  size_t n = 8;
  while (n > 1 && redundant_lead((uint8_t)(u >> (8 * (n - 1))), (uint8_t)(u >> (8 * (n - 2)))))
    n--;
  for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(u >> (8 * (n - 1 - i)));
  return n;
}

int cqlmux_value_get_varint_raw(cqlmux_bytes v, cqlmux_slice *out) {
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  if (v.len == 0) return CQLMUX_ERR_EMPTY_VALUE;
  out->data = v.data;
  out->len = (size_t)v.len;
  return CQLMUX_OK;
}

int cqlmux_value_get_varint(cqlmux_bytes v, int64_t *out) {
  cqlmux_slice s;
  int rc = cqlmux_value_get_varint_raw(v, &s);
  return rc ? rc : cqlmux_varint_to_i64(s.data, s.len, out);
}

int cqlmux_value_get_decimal(cqlmux_bytes v, cqlmux_decimal *out) {
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  if (v.len == 0) return CQLMUX_ERR_EMPTY_VALUE;
  if (v.len < 5) return CQLMUX_ERR_MALFORMED; /* scale + at least one byte */
  out->scale = (int32_t)cqlmux_load_u32(v.data);
  out->unscaled.data = v.data + 4;
  out->unscaled.len = (size_t)v.len - 4;
  return CQLMUX_OK;
}

int cqlmux_decimal_unscaled_i64(const cqlmux_decimal *d, int64_t *out) {
  return cqlmux_varint_to_i64(d->unscaled.data, d->unscaled.len, out);
}

/* ------------------------------------------------------------ to string */

/* Decimal digits of n bytes of magnitude: 8n*log10(2) < 2.41n, plus one. */
static size_t max_digits(size_t n) { return n / 2 * 5 + 5; }

/* Room for the sign, "0." and up to 5 zeros, or "." and "E-" and a 64-bit
 * exponent, and the NUL. */
#define FORMAT_EXTRA 32u

size_t cqlmux_decimal_string_max(size_t unscaled_len) {
  return unscaled_len + max_digits(unscaled_len) + FORMAT_EXTRA;
}

/* Divides the big-endian magnitude mag[*start..n) by 10^9 in place and
 * returns the remainder; advances *start past new leading zeros. */
static uint32_t divide_1e9(uint8_t *mag, size_t *start, size_t n) {
  uint64_t rem = 0;
  for (size_t i = *start; i < n; i++) {
    uint64_t cur = rem << 8 | mag[i];
    mag[i] = (uint8_t)(cur / 1000000000u);
    rem = cur % 1000000000u;
  }
  while (*start < n && mag[*start] == 0) (*start)++;
  return (uint32_t)rem;
}

/* Writes the decimal digits of |unscaled| so that they end at buf[end) and
 * returns where they start. buf[0..n) is scratch for the magnitude. */
static size_t magnitude_digits(const cqlmux_slice *u, bool neg, char *buf, size_t end) {
  uint8_t *mag = (uint8_t *)buf;
  size_t n = u->len, start = 0, pos = end;
  memcpy(mag, u->data, n);
  if (neg) { /* two's complement negation: invert, add one */
    unsigned carry = 1;
    for (size_t i = n; i-- > 0;) {
      unsigned x = (uint8_t)~mag[i] + carry;
      mag[i] = (uint8_t)x;
      carry = x >> 8;
    }
  }
  while (start < n && mag[start] == 0) start++;
  while (start < n) {
    uint32_t chunk = divide_1e9(mag, &start, n);
    for (int i = 0; i < 9 && (chunk || start < n); i++) {
      buf[--pos] = (char)('0' + chunk % 10);
      chunk /= 10;
    }
  }
  if (pos == end) buf[--pos] = '0';
  return pos;
}

int cqlmux_decimal_to_string(const cqlmux_decimal *d, char *buf, size_t cap, size_t *len) {
  if (d->unscaled.len == 0) return CQLMUX_ERR_MALFORMED;
  if (cap < cqlmux_decimal_string_max(d->unscaled.len)) return CQLMUX_ERR_BUFFER_TOO_SMALL;
  bool neg = d->unscaled.data[0] & 0x80;
  size_t end = cap - 1;
  size_t from = magnitude_digits(&d->unscaled, neg, buf, end);
  size_t nd = end - from;
  int64_t scale = d->scale, adjusted = -scale + (int64_t)nd - 1;
  size_t o = 0;
  if (neg) buf[o++] = '-';
  if (scale >= 0 && adjusted >= -6) {
    if (scale == 0) {
      memmove(buf + o, buf + from, nd);
      o += nd;
    } else if ((int64_t)nd > scale) {
      size_t whole = nd - (size_t)scale;
      memmove(buf + o, buf + from, whole);
      o += whole;
      buf[o++] = '.';
      memmove(buf + o, buf + from + whole, (size_t)scale);
      o += (size_t)scale;
    } else {
      size_t zeros = (size_t)scale - nd;
      buf[o++] = '0';
      buf[o++] = '.';
      memset(buf + o, '0', zeros);
      o += zeros;
      memmove(buf + o, buf + from, nd);
      o += nd;
    }
  } else {
    buf[o++] = buf[from];
    if (nd > 1) {
      buf[o++] = '.';
      memmove(buf + o, buf + from + 1, nd - 1);
      o += nd - 1;
    }
    o += (size_t)snprintf(buf + o, cap - o, "E%c%lld", adjusted >= 0 ? '+' : '-',
                          (long long)(adjusted >= 0 ? adjusted : -adjusted));
  }
  buf[o] = '\0';
  *len = o;
  return CQLMUX_OK;
}

#include "proto/wire.h"

#include <string.h>

#include "runtime/alloc.h"

/* ------------------------------------------------------------------ reading */

int cqlmux_read_raw(cqlmux_reader *r, size_t n, const uint8_t **out) {
  if (cqlmux_reader_remaining(r) < n) return CQLMUX_ERR_TRUNCATED;
  *out = r->pos;
  r->pos += n;
  return CQLMUX_OK;
}

int cqlmux_read_u8(cqlmux_reader *r, uint8_t *out) {
  if (r->pos >= r->end) return CQLMUX_ERR_TRUNCATED;
  *out = *r->pos++;
  return CQLMUX_OK;
}

int cqlmux_read_u16(cqlmux_reader *r, uint16_t *out) {
  if (cqlmux_reader_remaining(r) < 2) return CQLMUX_ERR_TRUNCATED;
  *out = cqlmux_load_u16(r->pos);
  r->pos += 2;
  return CQLMUX_OK;
}

int cqlmux_read_u32(cqlmux_reader *r, uint32_t *out) {
  if (cqlmux_reader_remaining(r) < 4) return CQLMUX_ERR_TRUNCATED;
  *out = cqlmux_load_u32(r->pos);
  r->pos += 4;
  return CQLMUX_OK;
}

int cqlmux_read_i32(cqlmux_reader *r, int32_t *out) {
  uint32_t v;
  int rc = cqlmux_read_u32(r, &v);
  if (rc == CQLMUX_OK) *out = (int32_t)v;
  return rc;
}

int cqlmux_read_i64(cqlmux_reader *r, int64_t *out) {
  if (cqlmux_reader_remaining(r) < 8) return CQLMUX_ERR_TRUNCATED;
  uint64_t v = ((uint64_t)cqlmux_load_u32(r->pos) << 32) | cqlmux_load_u32(r->pos + 4);
  r->pos += 8;
  *out = (int64_t)v;
  return CQLMUX_OK;
}

/* Reads a length-prefixed run without moving the cursor on failure. */
static int read_prefixed(cqlmux_reader *r, size_t prefix, cqlmux_slice *out) {
  cqlmux_reader probe = *r;
  size_t n;
  if (prefix == 2) {
    uint16_t v;
    if (cqlmux_read_u16(&probe, &v)) return CQLMUX_ERR_TRUNCATED;
    n = v;
  } else {
    int32_t v;
    if (cqlmux_read_i32(&probe, &v)) return CQLMUX_ERR_TRUNCATED;
    if (v < 0) return CQLMUX_ERR_MALFORMED;
    n = (size_t)v;
  }
  const uint8_t *p;
  if (cqlmux_read_raw(&probe, n, &p)) return CQLMUX_ERR_TRUNCATED;
  out->data = p;
  out->len = n;
  *r = probe;
  return CQLMUX_OK;
}

int cqlmux_read_string(cqlmux_reader *r, cqlmux_slice *out) { return read_prefixed(r, 2, out); }

int cqlmux_read_long_string(cqlmux_reader *r, cqlmux_slice *out) {
  return read_prefixed(r, 4, out);
}

int cqlmux_read_short_bytes(cqlmux_reader *r, cqlmux_slice *out) {
  return read_prefixed(r, 2, out);
}

/* [bytes] and [value] differ only in which negative lengths are legal. */
static int read_nullable(cqlmux_reader *r, int32_t lowest_marker, cqlmux_bytes *out) {
  cqlmux_reader probe = *r;
  int32_t n;
  if (cqlmux_read_i32(&probe, &n)) return CQLMUX_ERR_TRUNCATED;
  if (n < 0) {
    if (n < lowest_marker) return CQLMUX_ERR_MALFORMED;
    out->data = NULL;
    out->len = n;
    *r = probe;
    return CQLMUX_OK;
  }
  const uint8_t *p;
  if (cqlmux_read_raw(&probe, (size_t)n, &p)) return CQLMUX_ERR_TRUNCATED;
  out->data = p;
  out->len = n;
  *r = probe;
  return CQLMUX_OK;
}

int cqlmux_read_bytes(cqlmux_reader *r, cqlmux_bytes *out) {
  return read_nullable(r, CQLMUX_VALUE_NULL, out);
}

int cqlmux_read_value(cqlmux_reader *r, cqlmux_bytes *out) {
  return read_nullable(r, CQLMUX_VALUE_NOT_SET, out);
}

int cqlmux_read_uuid(cqlmux_reader *r, const uint8_t **out16) {
  return cqlmux_read_raw(r, 16, out16);
}

int cqlmux_read_inetaddr(cqlmux_reader *r, cqlmux_inet *out) {
  cqlmux_reader probe = *r;
  uint8_t n;
  const uint8_t *p;
  if (cqlmux_read_u8(&probe, &n)) return CQLMUX_ERR_TRUNCATED;
  if (n != 4 && n != 16) return CQLMUX_ERR_MALFORMED;
  if (cqlmux_read_raw(&probe, n, &p)) return CQLMUX_ERR_TRUNCATED;
  memset(out, 0, sizeof *out);
  memcpy(out->addr, p, n);
  out->addr_len = n;
  *r = probe;
  return CQLMUX_OK;
}

int cqlmux_read_inet(cqlmux_reader *r, cqlmux_inet *out) {
  cqlmux_reader probe = *r;
  cqlmux_inet v;
  int32_t port;
  int rc = cqlmux_read_inetaddr(&probe, &v);
  if (rc) return rc;
  if (cqlmux_read_i32(&probe, &port)) return CQLMUX_ERR_TRUNCATED;
  v.port = port;
  *out = v;
  *r = probe;
  return CQLMUX_OK;
}

/* [unsigned vint]: the count of leading 1 bits of the first byte is the
 * number of extra bytes (0..8); the rest of the first byte holds the most
 * significant bits, big-endian. */
int cqlmux_read_uvint(cqlmux_reader *r, uint64_t *out) {
  if (r->pos >= r->end) return CQLMUX_ERR_TRUNCATED;
  uint8_t first = r->pos[0];
  unsigned extra = 0;
  while (extra < 8 && (first & (0x80u >> extra))) extra++;
  if (cqlmux_reader_remaining(r) < 1 + (size_t)extra) return CQLMUX_ERR_TRUNCATED;
  uint64_t v = extra == 8 ? 0 : (first & (0xffu >> extra));
  for (unsigned i = 1; i <= extra; i++) v = (v << 8) | r->pos[i];
  r->pos += 1 + extra;
  *out = v;
  return CQLMUX_OK;
}

int cqlmux_read_vint(cqlmux_reader *r, int64_t *out) {
  uint64_t z;
  int rc = cqlmux_read_uvint(r, &z);
  if (rc == CQLMUX_OK) *out = (int64_t)((z >> 1) ^ (~(z & 1) + 1));
  return rc;
}

/* Checks `count` entries of `per_entry` fields each; the field readers are
 * [string] or [bytes]. */
typedef int (*field_reader)(cqlmux_reader *r, cqlmux_slice *discard);

static int read_bytes_field(cqlmux_reader *r, cqlmux_slice *discard) {
  cqlmux_bytes v;
  int rc = cqlmux_read_bytes(r, &v);
  (void)discard;
  return rc;
}

static int read_list(cqlmux_reader *r, field_reader second, cqlmux_list_view *out) {
  cqlmux_reader probe = *r;
  uint16_t n;
  if (cqlmux_read_u16(&probe, &n)) return CQLMUX_ERR_TRUNCATED;
  const uint8_t *start = probe.pos;
  for (uint16_t i = 0; i < n; i++) {
    cqlmux_slice s;
    int rc = cqlmux_read_string(&probe, &s);
    if (rc == CQLMUX_OK && second) rc = second(&probe, &s);
    if (rc) return rc;
  }
  out->items.pos = start;
  out->items.end = probe.pos;
  out->count = n;
  *r = probe;
  return CQLMUX_OK;
}

int cqlmux_read_string_list(cqlmux_reader *r, cqlmux_list_view *out) {
  return read_list(r, NULL, out);
}

int cqlmux_read_string_map(cqlmux_reader *r, cqlmux_list_view *out) {
  return read_list(r, cqlmux_read_string, out);
}

int cqlmux_read_bytes_map(cqlmux_reader *r, cqlmux_list_view *out) {
  return read_list(r, read_bytes_field, out);
}

/* ------------------------------------------------------------------ writing */

void cqlmux_wbuf_init(cqlmux_wbuf *b, const cqlmux_allocator *alloc, size_t max) {
  memset(b, 0, sizeof *b);
  b->alloc = alloc;
  b->max = max;
}

void cqlmux_wbuf_free(cqlmux_wbuf *b) {
  if (!b->borrowed) cqlmux_mem_free(b->alloc, b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->borrowed = false;
}

void cqlmux_wbuf_use_buffer(cqlmux_wbuf *b, uint8_t *buf, size_t cap) {
  cqlmux_wbuf_free(b);
  b->data = buf;
  b->cap = buf ? cap : 0;
  b->borrowed = buf != NULL;
  b->error = 0;
}

size_t cqlmux_wbuf_capacity_for(const cqlmux_wbuf *b, size_t need) {
  size_t limit = b->max ? b->max : SIZE_MAX;
  if (need <= b->cap) return b->cap;
  size_t cap = b->cap ? b->cap : 256;
  if (cap > limit) cap = limit;
  while (cap < need && cap < limit) cap = cap > limit / 2 ? limit : cap * 2;
  return cap;
}

static int wbuf_grow(cqlmux_wbuf *b, size_t need) {
  size_t limit = b->max ? b->max : SIZE_MAX;
  if (need > limit) return CQLMUX_ERR_OVERSIZED;
  size_t cap = cqlmux_wbuf_capacity_for(b, need);
  uint8_t *p;
  if (b->borrowed) {
    /* Off the caller's buffer: it is not ours to resize. */
    p = cqlmux_mem_malloc(b->alloc, cap);
    if (p && b->len) memcpy(p, b->data, b->len);
  } else {
    p = cqlmux_mem_realloc(b->alloc, b->data, cap);
  }
  if (!p) return CQLMUX_ERR_NOMEM;
  b->data = p;
  b->cap = cap;
  b->borrowed = false;
  b->grown = true;
  return CQLMUX_OK;
}

void cqlmux_wbuf_shrink_to(cqlmux_wbuf *b, size_t cap) {
  if (!cqlmux_wbuf_owns_block(b) || cap >= b->cap || cap < b->len || cap == 0) return;
  uint8_t *p = cqlmux_mem_realloc(b->alloc, b->data, cap);
  if (!p) return;
  b->data = p;
  b->cap = cap;
}

uint8_t *cqlmux_wbuf_reserve_slow(cqlmux_wbuf *b, size_t n) {
  if (b->error) return NULL;
  if (n > SIZE_MAX - b->len) {
    b->error = CQLMUX_ERR_OVERSIZED;
    return NULL;
  }
  /* An empty wbuf has no data pointer: allocate even for n == 0 so that the
   * result is never NULL on success (and never NULL + 0). */
  if (b->len + n > b->cap || !b->data) {
    int rc = wbuf_grow(b, b->len + n);
    if (rc) {
      b->error = rc;
      return NULL;
    }
  }
  uint8_t *p = b->data + b->len;
  b->len += n;
  return p;
}

size_t cqlmux_wbuf_skip(cqlmux_wbuf *b, size_t n) {
  uint8_t *p = cqlmux_wbuf_reserve(b, n);
  return p ? (size_t)(p - b->data) : SIZE_MAX;
}

/* Copies of up to 16 bytes (ids, most bound values) as two overlapping
 * fixed-size moves, which the compiler inlines: a call to memcpy for them
 * cost more than the copy. */
static void copy_small(uint8_t *dst, const uint8_t *src, size_t n) {
  if (n >= 8) {
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + n - 8, 8);
    memcpy(dst, &a, 8);
    memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    memcpy(&a, src, 4);
    memcpy(&b, src + n - 4, 4);
    memcpy(dst, &a, 4);
    memcpy(dst + n - 4, &b, 4);
  } else {
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
  }
}

void cqlmux_write_raw(cqlmux_wbuf *b, const void *data, size_t n) {
  uint8_t *p = cqlmux_wbuf_reserve(b, n);
  if (!p || !n) return;
  if (n <= 16)
    copy_small(p, data, n);
  else
    memcpy(p, data, n);
}

void cqlmux_write_u8(cqlmux_wbuf *b, uint8_t v) {
  uint8_t *p = cqlmux_wbuf_reserve(b, 1);
  if (p) *p = v;
}

void cqlmux_write_u16(cqlmux_wbuf *b, uint16_t v) {
  uint8_t *p = cqlmux_wbuf_reserve(b, 2);
  if (p) cqlmux_store_u16(p, v);
}

void cqlmux_write_i32(cqlmux_wbuf *b, int32_t v) {
  uint8_t *p = cqlmux_wbuf_reserve(b, 4);
  if (p) cqlmux_store_u32(p, (uint32_t)v);
}

void cqlmux_write_i64(cqlmux_wbuf *b, int64_t v) {
  uint8_t *p = cqlmux_wbuf_reserve(b, 8);
  if (!p) return;
  cqlmux_store_u32(p, (uint32_t)((uint64_t)v >> 32));
  cqlmux_store_u32(p + 4, (uint32_t)v);
}

/* A length that does not fit its prefix is the caller's oversized input. */
void cqlmux_write_string(cqlmux_wbuf *b, const char *s, size_t n) {
  if (n > UINT16_MAX) {
    if (!b->error) b->error = CQLMUX_ERR_OVERSIZED;
    return;
  }
  cqlmux_write_u16(b, (uint16_t)n);
  cqlmux_write_raw(b, s, n);
}

void cqlmux_write_long_string(cqlmux_wbuf *b, const char *s, size_t n) {
  if (n > INT32_MAX) {
    if (!b->error) b->error = CQLMUX_ERR_OVERSIZED;
    return;
  }
  cqlmux_write_i32(b, (int32_t)n);
  cqlmux_write_raw(b, s, n);
}

void cqlmux_write_short_bytes(cqlmux_wbuf *b, const uint8_t *p, size_t n) {
  cqlmux_write_string(b, (const char *)p, n);
}

void cqlmux_write_bytes(cqlmux_wbuf *b, cqlmux_bytes v) {
  if (v.len < CQLMUX_VALUE_NOT_SET) {
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
  cqlmux_write_i32(b, v.len);
  if (v.len > 0) cqlmux_write_raw(b, v.data, (size_t)v.len);
}

void cqlmux_write_uuid(cqlmux_wbuf *b, const uint8_t uuid[16]) { cqlmux_write_raw(b, uuid, 16); }

void cqlmux_write_inet(cqlmux_wbuf *b, const cqlmux_inet *v) {
  if (v->addr_len != 4 && v->addr_len != 16) {
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
  cqlmux_write_u8(b, v->addr_len);
  cqlmux_write_raw(b, v->addr, v->addr_len);
  cqlmux_write_i32(b, v->port);
}

void cqlmux_write_uvint(cqlmux_wbuf *b, uint64_t v) {
  /* Value bits needed, then one byte per 7 bits up to 8 extra bytes. */
  unsigned bits = v ? 64u - (unsigned)__builtin_clzll(v) : 1u;
  unsigned extra = bits <= 7 ? 0 : bits >= 57 ? 8 : (bits - 1) / 7;
  uint8_t *p = cqlmux_wbuf_reserve(b, 1 + extra);
  if (!p) return;
  for (unsigned i = extra; i >= 1; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
  p[0] = (uint8_t)((extra == 8 ? 0 : v) | (uint8_t)~(0xffu >> extra));
}

void cqlmux_write_vint(cqlmux_wbuf *b, int64_t v) {
  cqlmux_write_uvint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

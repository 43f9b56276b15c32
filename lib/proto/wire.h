/* Wire primitives of the CQL native protocol (spec section 3, "Notations").
 *
 * Two cursor types, both pure (no I/O, no threads):
 *   - cqlmux_reader walks a borrowed byte range. Every read checks what
 *     remains first and fails with CQLMUX_ERR_TRUNCATED (or MALFORMED for an
 *     invalid value such as a negative length other than the null markers)
 *     without moving the cursor or touching the out-parameter.
 *   - cqlmux_wbuf appends to a growable buffer through the allocator hook.
 *     Its error is sticky: after the first failure every append is a no-op,
 *     so an encoder writes a whole message and checks wbuf.error once.
 *
 * Decoded strings and byte values are slices pointing into the reader's
 * input: nothing is copied, and they live as long as that input does.
 */
#ifndef CQLMUX_PROTO_WIRE_H
#define CQLMUX_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"

/* A borrowed byte range (a [string], [long string], [short bytes] ...). */
typedef struct cqlmux_slice {
  const uint8_t *data;
  size_t len;
} cqlmux_slice;

/* A [bytes] or [value]: len >= 0 is a value (possibly empty), and the two
 * negative markers are kept distinct from the empty value. */
#define CQLMUX_VALUE_NULL (-1)
#define CQLMUX_VALUE_NOT_SET (-2)
typedef struct cqlmux_bytes {
  const uint8_t *data; /* NULL when len < 0 */
  int32_t len;
} cqlmux_bytes;

/* [inet]: 4 or 16 address bytes plus a port. [inetaddr] leaves port 0. */
typedef struct cqlmux_inet {
  uint8_t addr[16];
  uint8_t addr_len; /* 4 or 16 */
  int32_t port;
} cqlmux_inet;

typedef struct cqlmux_reader {
  const uint8_t *pos;
  const uint8_t *end;
} cqlmux_reader;

/* (NULL, 0) is a valid empty range: an empty wbuf or body has no data. */
static inline cqlmux_reader cqlmux_reader_make(const uint8_t *data, size_t len) {
  cqlmux_reader r = {data, len ? data + len : data};
  return r;
}

static inline size_t cqlmux_reader_remaining(const cqlmux_reader *r) {
  return (size_t)(r->end - r->pos);
}

int cqlmux_read_u8(cqlmux_reader *r, uint8_t *out);
int cqlmux_read_u16(cqlmux_reader *r, uint16_t *out);          /* [short] */
int cqlmux_read_i32(cqlmux_reader *r, int32_t *out);           /* [int] */
int cqlmux_read_u32(cqlmux_reader *r, uint32_t *out);
int cqlmux_read_i64(cqlmux_reader *r, int64_t *out);           /* [long] */
int cqlmux_read_raw(cqlmux_reader *r, size_t n, const uint8_t **out);
int cqlmux_read_string(cqlmux_reader *r, cqlmux_slice *out);      /* [string] */
int cqlmux_read_long_string(cqlmux_reader *r, cqlmux_slice *out); /* [long string] */
int cqlmux_read_short_bytes(cqlmux_reader *r, cqlmux_slice *out); /* [short bytes] */
int cqlmux_read_bytes(cqlmux_reader *r, cqlmux_bytes *out);       /* [bytes]: -1 null */
int cqlmux_read_value(cqlmux_reader *r, cqlmux_bytes *out);       /* [value]: -1, -2 */
int cqlmux_read_uuid(cqlmux_reader *r, const uint8_t **out16);    /* [uuid] */
int cqlmux_read_inet(cqlmux_reader *r, cqlmux_inet *out);         /* [inet] */
int cqlmux_read_inetaddr(cqlmux_reader *r, cqlmux_inet *out);     /* [inetaddr] */
int cqlmux_read_uvint(cqlmux_reader *r, uint64_t *out);           /* [unsigned vint] */
int cqlmux_read_vint(cqlmux_reader *r, int64_t *out);             /* [vint] (zigzag) */

/* [string list], [string map] and [bytes map], checked whole without
 * copying: `items` covers exactly the `count` entries, each already
 * bounds-checked, so walking it with the matching reads (cqlmux_read_string,
 * or cqlmux_read_string then cqlmux_read_string / cqlmux_read_bytes) cannot
 * fail. No allocation: a count can never claim more than the input holds. */
typedef struct cqlmux_list_view {
  cqlmux_reader items;
  uint16_t count;
} cqlmux_list_view;

int cqlmux_read_string_list(cqlmux_reader *r, cqlmux_list_view *out);
int cqlmux_read_string_map(cqlmux_reader *r, cqlmux_list_view *out);
int cqlmux_read_bytes_map(cqlmux_reader *r, cqlmux_list_view *out);

/* Appending buffer. `data` is owned by the wbuf and released with
 * cqlmux_wbuf_free; cqlmux_wbuf_reset keeps the capacity for reuse. It may
 * also start on a buffer of the caller's (cqlmux_wbuf_use_buffer), e.g.
 * space inside a pooled request object, so that small contents need no
 * allocation; growing past it moves the bytes to an allocated block. */
typedef struct cqlmux_wbuf {
  uint8_t *data;
  size_t len;
  size_t cap;
  size_t max;                 /* growth limit; 0 = no limit beyond SIZE_MAX */
  const cqlmux_allocator *alloc;
  int error;                  /* first failure (NOMEM, OVERSIZED); sticky */
  bool borrowed;              /* data is the caller's: never resized or freed */
  bool grown;                 /* grew since the last reset (see cqlmux_wbuf_shrink_to) */
} cqlmux_wbuf;

void cqlmux_wbuf_init(cqlmux_wbuf *b, const cqlmux_allocator *alloc, size_t max);
/* Empties b and puts it on buf[0..cap), which stays the caller's and must
 * outlive b's use of it; frees the block b owned, if any. */
void cqlmux_wbuf_use_buffer(cqlmux_wbuf *b, uint8_t *buf, size_t cap);
/* True when b's bytes are in an allocated block (its own). */
static inline bool cqlmux_wbuf_owns_block(const cqlmux_wbuf *b) { return b->data && !b->borrowed; }
void cqlmux_wbuf_free(cqlmux_wbuf *b);
static inline void cqlmux_wbuf_reset(cqlmux_wbuf *b) {
  b->len = 0;
  b->error = 0;
  b->grown = false;
}
/* Shrinks b's own block to cap bytes (at least len; nothing for a borrowed
 * buffer or when cap is not smaller). Growing doubles, so a buffer reused
 * for like contents may leave up to half its block unused: its owner can
 * fit the block once after a growth (b->grown) instead. Keeps the block as
 * it is if the allocator fails. */
void cqlmux_wbuf_shrink_to(cqlmux_wbuf *b, size_t cap);
/* Makes room for n more bytes and returns where they go, or NULL (error set).
 * The common case (room already there) is inline: every primitive writer
 * goes through here, and the call showed as ~8% of a request's encoding. */
uint8_t *cqlmux_wbuf_reserve_slow(cqlmux_wbuf *b, size_t n);

/* The capacity the buffer has once it holds `need` bytes in all: its own
 * when they fit, else what growing (doubling) would allocate. */
size_t cqlmux_wbuf_capacity_for(const cqlmux_wbuf *b, size_t need);
static inline uint8_t *cqlmux_wbuf_reserve(cqlmux_wbuf *b, size_t n) {
  if (b->data && !b->error && n <= b->cap - b->len) { /* len <= cap always */
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
  }
  return cqlmux_wbuf_reserve_slow(b, n);
}
/* Reserves n bytes to fill in later (a length written after its body);
 * returns their offset, or SIZE_MAX on error. */
size_t cqlmux_wbuf_skip(cqlmux_wbuf *b, size_t n);

void cqlmux_write_raw(cqlmux_wbuf *b, const void *data, size_t n);
void cqlmux_write_u8(cqlmux_wbuf *b, uint8_t v);
void cqlmux_write_u16(cqlmux_wbuf *b, uint16_t v);
void cqlmux_write_i32(cqlmux_wbuf *b, int32_t v);
void cqlmux_write_i64(cqlmux_wbuf *b, int64_t v);
void cqlmux_write_string(cqlmux_wbuf *b, const char *s, size_t n);      /* [string] */
void cqlmux_write_long_string(cqlmux_wbuf *b, const char *s, size_t n); /* [long string] */
void cqlmux_write_short_bytes(cqlmux_wbuf *b, const uint8_t *p, size_t n);
void cqlmux_write_bytes(cqlmux_wbuf *b, cqlmux_bytes v);  /* [bytes]/[value] incl. markers */
void cqlmux_write_uuid(cqlmux_wbuf *b, const uint8_t uuid[16]);
void cqlmux_write_inet(cqlmux_wbuf *b, const cqlmux_inet *v);
void cqlmux_write_uvint(cqlmux_wbuf *b, uint64_t v);
void cqlmux_write_vint(cqlmux_wbuf *b, int64_t v);

/* Big-endian stores into an already reserved region (patching lengths). */
static inline void cqlmux_store_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static inline void cqlmux_store_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static inline uint16_t cqlmux_load_u16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t cqlmux_load_u32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif

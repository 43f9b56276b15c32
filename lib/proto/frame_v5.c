#include "proto/frame_v5.h"

#include <lz4.h>
#include <string.h>

#include "proto/crc.h"
#include "proto/envelope.h"
#include "proto/opcode.h"

/* A scratch or join buffer grown past this by one large envelope is released
 * afterwards instead of being kept for the connection's lifetime. */
#define KEEP_BUFFER_LIMIT (4u * CQLMUX_FRAME_V5_MAX_PAYLOAD)

#define SELF_CONTAINED_BIT_3B (1u << 17)
#define SELF_CONTAINED_BIT_5B (1ull << 34)

cqlmux_framing cqlmux_framing_after_startup(uint8_t version, uint8_t answer, bool lz4) {
  if (version < CQLMUX_PROTO_V5) return CQLMUX_FRAMING_NONE;
  if (answer != CQLMUX_OP_READY && answer != CQLMUX_OP_AUTHENTICATE) return CQLMUX_FRAMING_NONE;
  return lz4 ? CQLMUX_FRAMING_V5_LZ4 : CQLMUX_FRAMING_V5;
}

static size_t header_size(bool lz4) {
  return lz4 ? CQLMUX_FRAME_V5_LZ4_HEADER_SIZE : CQLMUX_FRAME_V5_HEADER_SIZE;
}

static void store_le(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t load_le(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i > 0; i--) v = (v << 8) | p[i - 1];
  return v;
}

/* Fills the header at h: the length fields, then the CRC24 of those bytes. */
static void store_header(uint8_t *h, bool lz4, bool self_contained, uint32_t wire_len,
                         uint32_t uncompressed_len) {
  if (lz4) {
    uint64_t v = wire_len | ((uint64_t)uncompressed_len << 17) |
                 (self_contained ? SELF_CONTAINED_BIT_5B : 0);
    store_le(h, v, 5);
    store_le(h + 5, cqlmux_crc24(h, 5), 3);
  } else {
    store_le(h, wire_len | (self_contained ? SELF_CONTAINED_BIT_3B : 0u), 3);
    store_le(h + 3, cqlmux_crc24(h, 3), 3);
  }
}

/* With LZ4, replaces payload[pstart, out->len) by its compressed form when
 * that is smaller; *wire_len and *ulen get the header's two lengths. The
 * compressed bytes are produced past the end of out, then moved down. */
static int compress_tail(cqlmux_wbuf *out, size_t pstart, uint32_t *wire_len, uint32_t *ulen) {
  size_t n = out->len - pstart;
  *wire_len = (uint32_t)n;
  *ulen = 0;
  if (n == 0) return CQLMUX_OK;
  int bound = LZ4_compressBound((int)n);
  size_t end = out->len;
  uint8_t *tmp = cqlmux_wbuf_reserve(out, (size_t)bound);
  if (!tmp) return out->error;
  int c = LZ4_compress_default((const char *)out->data + pstart, (char *)tmp, (int)n, bound);
  out->len = end;
  if (c <= 0) return CQLMUX_ERR_COMPRESSION;
  if ((size_t)c < n) {
    memmove(out->data + pstart, tmp, (size_t)c);
    out->len = pstart + (size_t)c;
    *wire_len = (uint32_t)c;
    *ulen = (uint32_t)n;
  }
  return CQLMUX_OK;
}

/* Turns [frame_start + header, out->len) of out, whose header space is
 * already reserved, into a finished frame: compression, header, trailer. */
static int seal(cqlmux_wbuf *out, size_t frame_start, bool lz4, bool self_contained) {
  if (out->error) return out->error;
  size_t pstart = frame_start + header_size(lz4);
  if (out->len - pstart > CQLMUX_FRAME_V5_MAX_PAYLOAD) return CQLMUX_ERR_OVERSIZED;
  uint32_t wire_len = (uint32_t)(out->len - pstart);
  uint32_t ulen = 0;
  if (lz4) {
    int rc = compress_tail(out, pstart, &wire_len, &ulen);
    if (rc) return rc;
  }
  store_header(out->data + frame_start, lz4, self_contained, wire_len, ulen);
  uint32_t crc = cqlmux_crc32_v5(out->data + pstart, wire_len);
  uint8_t *t = cqlmux_wbuf_reserve(out, CQLMUX_FRAME_V5_TRAILER_SIZE);
  if (!t) return out->error;
  store_le(t, crc, CQLMUX_FRAME_V5_TRAILER_SIZE);
  return CQLMUX_OK;
}

int cqlmux_frame_v5_append(cqlmux_wbuf *out, bool lz4, bool self_contained,
                           const uint8_t *payload, size_t n) {
  if (out->error) return out->error;
  if (n > CQLMUX_FRAME_V5_MAX_PAYLOAD) return CQLMUX_ERR_OVERSIZED;
  size_t start = cqlmux_wbuf_skip(out, header_size(lz4));
  cqlmux_write_raw(out, payload, n);
  if (out->error) return out->error;
  return seal(out, start, lz4, self_contained);
}

/* ------------------------------------------------------------------ writer */

void cqlmux_frame_v5_writer_init(cqlmux_frame_v5_writer *w, cqlmux_wbuf *out, bool lz4,
                                 const cqlmux_allocator *alloc) {
  w->out = out;
  w->lz4 = lz4;
  w->frame_start = SIZE_MAX;
  cqlmux_wbuf_init(&w->scratch, alloc, 0);
}

void cqlmux_frame_v5_writer_free(cqlmux_frame_v5_writer *w) { cqlmux_wbuf_free(&w->scratch); }

size_t cqlmux_frame_v5_writer_begin(cqlmux_frame_v5_writer *w) {
  if (w->frame_start == SIZE_MAX) {
    size_t at = cqlmux_wbuf_skip(w->out, header_size(w->lz4));
    if (at == SIZE_MAX) return SIZE_MAX;
    w->frame_start = at;
  }
  return w->out->error ? SIZE_MAX : w->out->len;
}

void cqlmux_frame_v5_writer_dropped(cqlmux_frame_v5_writer *w, size_t n) {
  if (w->frame_start != SIZE_MAX) w->frame_start -= n;
}

int cqlmux_frame_v5_writer_flush(cqlmux_frame_v5_writer *w) {
  cqlmux_wbuf *out = w->out;
  size_t start = w->frame_start;
  if (start == SIZE_MAX) return out->error;
  w->frame_start = SIZE_MAX;
  if (out->error) return out->error;
  if (out->len == start + header_size(w->lz4)) {
    out->len = start; /* nothing was framed: drop the reserved header */
    return CQLMUX_OK;
  }
  return seal(out, start, w->lz4, true);
}

/* The envelope at [at, out->len) no longer fits the open frame: take it out,
 * seal what precedes it, and put it back in a new frame or, when it is
 * larger than any frame, in a run of non-self-contained ones. */
static int move_to_next_frames(cqlmux_frame_v5_writer *w, size_t at) {
  cqlmux_wbuf *out = w->out;
  size_t n = out->len - at;
  cqlmux_wbuf_reset(&w->scratch);
  cqlmux_write_raw(&w->scratch, out->data + at, n);
  if (w->scratch.error) return w->scratch.error;
  out->len = at;
  int rc = cqlmux_frame_v5_writer_flush(w);
  if (rc == CQLMUX_OK && n <= CQLMUX_FRAME_V5_MAX_PAYLOAD) {
    if (cqlmux_frame_v5_writer_begin(w) != SIZE_MAX) cqlmux_write_raw(out, w->scratch.data, n);
    rc = out->error;
  }
  for (size_t off = 0; rc == CQLMUX_OK && n > CQLMUX_FRAME_V5_MAX_PAYLOAD && off < n;) {
    size_t chunk = n - off < CQLMUX_FRAME_V5_MAX_PAYLOAD ? n - off : CQLMUX_FRAME_V5_MAX_PAYLOAD;
    rc = cqlmux_frame_v5_append(out, w->lz4, false, w->scratch.data + off, chunk);
    off += chunk;
  }
  if (w->scratch.cap > KEEP_BUFFER_LIMIT) cqlmux_wbuf_free(&w->scratch);
  return rc;
}

int cqlmux_frame_v5_writer_end(cqlmux_frame_v5_writer *w, size_t at) {
  cqlmux_wbuf *out = w->out;
  if (out->error) return out->error;
  if (w->frame_start == SIZE_MAX || at > out->len || at < w->frame_start + header_size(w->lz4))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  if (out->len - (w->frame_start + header_size(w->lz4)) <= CQLMUX_FRAME_V5_MAX_PAYLOAD)
    return CQLMUX_OK;
  return move_to_next_frames(w, at);
}

/* ----------------------------------------------------------------- decoder */

void cqlmux_frame_v5_decoder_init(cqlmux_frame_v5_decoder *d, bool lz4, uint32_t max_envelope,
                                  const cqlmux_allocator *alloc) {
  d->lz4 = lz4;
  d->max_envelope = max_envelope;
  d->joining = false;
  cqlmux_wbuf_init(&d->payload, alloc, CQLMUX_FRAME_V5_MAX_PAYLOAD);
  cqlmux_wbuf_init(&d->joined, alloc, 0);
}

void cqlmux_frame_v5_decoder_reset(cqlmux_frame_v5_decoder *d) {
  d->joining = false;
  cqlmux_wbuf_reset(&d->payload);
  cqlmux_wbuf_reset(&d->joined);
}

void cqlmux_frame_v5_decoder_free(cqlmux_frame_v5_decoder *d) {
  d->joining = false;
  cqlmux_wbuf_free(&d->payload);
  cqlmux_wbuf_free(&d->joined);
}

typedef struct frame_info {
  size_t header;
  uint32_t wire_len;  /* payload bytes as sent */
  uint32_t ulen;      /* LZ4: uncompressed length, 0 = sent as-is */
  bool self_contained;
} frame_info;

static int parse_header(const uint8_t *in, size_t len, bool lz4, frame_info *f) {
  f->header = header_size(lz4);
  if (len < f->header) return CQLMUX_ERR_TRUNCATED;
  size_t covered = lz4 ? 5 : 3;
  if (cqlmux_crc24(in, covered) != (uint32_t)load_le(in + covered, 3)) return CQLMUX_ERR_BAD_CRC;
  uint64_t v = load_le(in, covered);
  f->wire_len = (uint32_t)(v & CQLMUX_FRAME_V5_MAX_PAYLOAD);
  f->ulen = lz4 ? (uint32_t)((v >> 17) & CQLMUX_FRAME_V5_MAX_PAYLOAD) : 0;
  f->self_contained = lz4 ? (v & SELF_CONTAINED_BIT_5B) != 0 : (v & SELF_CONTAINED_BIT_3B) != 0;
  return CQLMUX_OK;
}

static int inflate(cqlmux_frame_v5_decoder *d, const frame_info *f, cqlmux_slice *payload) {
  cqlmux_wbuf_reset(&d->payload);
  uint8_t *dst = cqlmux_wbuf_reserve(&d->payload, f->ulen);
  if (!dst) return d->payload.error;
  int got = LZ4_decompress_safe((const char *)payload->data, (char *)dst, (int)f->wire_len,
                                (int)f->ulen);
  if (got < 0 || (uint32_t)got != f->ulen) return CQLMUX_ERR_COMPRESSION;
  payload->data = dst;
  payload->len = f->ulen;
  return CQLMUX_OK;
}

/* A self-contained payload must be whole envelopes, back to back. */
static int check_whole_envelopes(cqlmux_slice payload) {
  size_t off = 0;
  while (off < payload.len) {
    if (payload.len - off < CQLMUX_ENVELOPE_HEADER_SIZE) return CQLMUX_ERR_MALFORMED;
    uint32_t body = cqlmux_load_u32(payload.data + off + 5);
    if (body > payload.len - off - CQLMUX_ENVELOPE_HEADER_SIZE) return CQLMUX_ERR_MALFORMED;
    off += CQLMUX_ENVELOPE_HEADER_SIZE + body;
  }
  return CQLMUX_OK;
}

/* The joined envelope's total size, once its header has arrived; 0 before. */
static uint64_t joined_total(const cqlmux_wbuf *j) {
  if (j->len < CQLMUX_ENVELOPE_HEADER_SIZE) return 0;
  return CQLMUX_ENVELOPE_HEADER_SIZE + (uint64_t)cqlmux_load_u32(j->data + 5);
}

static int join(cqlmux_frame_v5_decoder *d, cqlmux_slice payload, cqlmux_slice *envelopes) {
  cqlmux_wbuf *j = &d->joined;
  if (!d->joining) {
    if (j->cap > KEEP_BUFFER_LIMIT) cqlmux_wbuf_free(j);
    cqlmux_wbuf_reset(j);
    d->joining = true;
  }
  uint64_t total = joined_total(j);
  if (total && payload.len > total - j->len) return CQLMUX_ERR_MALFORMED;
  cqlmux_write_raw(j, payload.data, payload.len);
  if (j->error) return j->error;
  total = joined_total(j);
  if (total == 0) return CQLMUX_OK;
  if (total - CQLMUX_ENVELOPE_HEADER_SIZE > d->max_envelope) return CQLMUX_ERR_OVERSIZED;
  if (j->len > total) return CQLMUX_ERR_MALFORMED;
  if (j->len == total) {
    d->joining = false;
    envelopes->data = j->data;
    envelopes->len = j->len;
  }
  return CQLMUX_OK;
}

int cqlmux_frame_v5_decode(cqlmux_frame_v5_decoder *d, const uint8_t *in, size_t len,
                           cqlmux_slice *envelopes) {
  frame_info f;
  int rc = parse_header(in, len, d->lz4, &f);
  if (rc == CQLMUX_ERR_TRUNCATED) return 0;
  if (rc) return rc;
  size_t total = f.header + f.wire_len + CQLMUX_FRAME_V5_TRAILER_SIZE;
  if (len < total) return 0;
  cqlmux_slice payload = {in + f.header, f.wire_len};
  uint32_t sent_crc = (uint32_t)load_le(payload.data + f.wire_len, CQLMUX_FRAME_V5_TRAILER_SIZE);
  if (cqlmux_crc32_v5(payload.data, f.wire_len) != sent_crc) return CQLMUX_ERR_BAD_CRC;
  if (f.ulen) {
    rc = inflate(d, &f, &payload);
    if (rc) return rc;
  }
  cqlmux_slice found = {in, 0};
  if (f.self_contained) {
    rc = d->joining ? CQLMUX_ERR_MALFORMED : check_whole_envelopes(payload);
    found = payload;
  } else {
    rc = join(d, payload, &found);
  }
  if (rc) {
    /* Forget a half-joined envelope, so that a caller that goes on feeding
     * after an error cannot make the join buffer grow without end. */
    cqlmux_frame_v5_decoder_reset(d);
    return rc;
  }
  *envelopes = found;
  return (int)total;
}

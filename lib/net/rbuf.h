/* Reference-counted receive buffers.
 *
 * A connection reads into one rbuf and decodes every complete envelope in
 * it in place. Results that borrow bytes (rows, whose cells point into the
 * buffer) take a reference, so the bytes stay valid until the application
 * frees the future, on whatever thread it does that. When the connection
 * finds its buffer still referenced after a decoding pass it moves to a
 * fresh one (copying only the partial envelope at the end); otherwise it
 * compacts in place. Steady state allocates per read burst, not per request.
 *
 * Thread: the owning connection's I/O thread writes; references are taken
 * there and dropped anywhere. */
#ifndef CQLMUX_NET_RBUF_H
#define CQLMUX_NET_RBUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"

typedef struct cqlmux_rbuf {
  atomic_uint refs;
  cqlmux_allocator alloc; /* a copy: results may outlive the session's config */
  size_t cap;
  size_t start; /* first byte not yet decoded */
  size_t end;   /* one past the last byte read */
  uint8_t data[];
} cqlmux_rbuf;

/* A buffer of cap bytes with one reference (the caller's); NULL on NOMEM. */
cqlmux_rbuf *cqlmux_rbuf_new(const cqlmux_allocator *alloc, size_t cap);

static inline void cqlmux_rbuf_retain(cqlmux_rbuf *b) {
  /* relaxed: taking a reference needs no ordering; the retainer already
   * holds one (the connection's), so the count cannot reach zero here. */
  atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

/* Drops a reference; the last one frees the buffer. */
void cqlmux_rbuf_release(cqlmux_rbuf *b);

/* True when only the caller holds the buffer (nothing borrows from it). */
static inline int cqlmux_rbuf_exclusive(cqlmux_rbuf *b) {
  /* acquire: pairs with the release decrement of the last borrower, so its
   * reads of the bytes happen before the connection overwrites them. */
  return atomic_load_explicit(&b->refs, memory_order_acquire) == 1;
}

/* Makes room for at least `want` more bytes after `end` for the next read:
 * compacts in place when nothing borrows, otherwise (or when too small)
 * moves the undecoded tail into a new buffer of at least min_cap bytes and
 * releases the old one; a buffer grown past twice min_cap for a large frame
 * shrinks back to min_cap once the data fits. Returns the buffer to use (maybe new), or NULL on
 * NOMEM (the old one is then untouched). */
cqlmux_rbuf *cqlmux_rbuf_prepare(cqlmux_rbuf *b, size_t want, size_t min_cap);

#endif

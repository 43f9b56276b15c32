#include "net/rbuf.h"

#include <stdbool.h>
#include <string.h>

#include "runtime/alloc.h"

cqlmux_rbuf *cqlmux_rbuf_new(const cqlmux_allocator *alloc, size_t cap) {
  if (cap > SIZE_MAX - sizeof(cqlmux_rbuf)) return NULL;
  cqlmux_rbuf *b = cqlmux_mem_malloc(alloc, sizeof *b + cap);
  if (!b) return NULL;
  atomic_init(&b->refs, 1);
  b->alloc = alloc ? *alloc : *cqlmux_default_allocator();
  b->cap = cap;
  b->start = b->end = 0;
  return b;
}

void cqlmux_rbuf_release(cqlmux_rbuf *b) {
  if (!b) return;
  /* acq_rel: release publishes this holder's reads of the bytes; acquire
   * (for the last one) orders them before the free. */
  if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
    cqlmux_allocator a = b->alloc;
    cqlmux_mem_free(&a, b);
  }
}

cqlmux_rbuf *cqlmux_rbuf_prepare(cqlmux_rbuf *b, size_t want, size_t min_cap) {
  size_t pending = b->end - b->start;
  if (b->cap - b->end >= want) return b;
  /* A buffer grown for one large frame goes back to the usual size. */
  bool oversized = b->cap > 2 * min_cap && pending + want <= min_cap;
  if (!oversized && cqlmux_rbuf_exclusive(b) && pending + want <= b->cap) {
    memmove(b->data, b->data + b->start, pending);
    b->start = 0;
    b->end = pending;
    return b;
  }
  size_t cap = min_cap;
  while (cap < pending + want) {
    if (cap > SIZE_MAX / 2) return NULL;
    cap *= 2;
  }
  cqlmux_rbuf *fresh = cqlmux_rbuf_new(&b->alloc, cap);
  if (!fresh) return NULL;
  memcpy(fresh->data, b->data + b->start, pending);
  fresh->end = pending;
  cqlmux_rbuf_release(b);
  return fresh;
}

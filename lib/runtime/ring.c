#include "runtime/ring.h"

#include <stdint.h>

#include "runtime/alloc.h"

int cqlmux_ring_init(cqlmux_ring *r, const cqlmux_allocator *alloc, size_t capacity) {
  if (capacity == 0 || capacity > (SIZE_MAX >> 2) / sizeof(cqlmux_ring_cell))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  size_t cap = 2;
  while (cap < capacity) cap <<= 1;
  r->cells = cqlmux_mem_malloc(alloc, cap * sizeof *r->cells);
  if (!r->cells) return CQLMUX_ERR_NOMEM;
  for (size_t i = 0; i < cap; i++) {
    atomic_init(&r->cells[i].seq, i);
    r->cells[i].item = NULL;
  }
  r->mask = cap - 1;
  r->alloc = alloc;
  atomic_init(&r->enqueue_pos, 0);
  atomic_init(&r->dequeue_pos, 0);
  return CQLMUX_OK;
}

void cqlmux_ring_destroy(cqlmux_ring *r) {
  cqlmux_mem_free(r->alloc, r->cells);
  r->cells = NULL;
}

bool cqlmux_ring_push(cqlmux_ring *r, void *item) {
  /* relaxed: a stale position only makes the CAS below fail and retry. */
  size_t pos = atomic_load_explicit(&r->enqueue_pos, memory_order_relaxed);
  for (;;) {
    cqlmux_ring_cell *cell = &r->cells[pos & r->mask];
    /* acquire: pairs with the release store of the consumer that emptied the
     * cell on the previous lap, so our item write cannot race its read. */
    size_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
    intptr_t diff = (intptr_t)seq - (intptr_t)pos;
    if (diff == 0) {
      /* seq_cst on success: the claim must be ordered before the producer's
       * later load of the workers' idle count (workers.c handshake). */
      if (atomic_compare_exchange_weak_explicit(&r->enqueue_pos, &pos, pos + 1,
                                                memory_order_seq_cst, memory_order_relaxed)) {
        cell->item = item;
        /* release: pairs with the consumer's acquire load of seq; publishes item. */
        atomic_store_explicit(&cell->seq, pos + 1, memory_order_release);
        return true;
      }
    } else if (diff < 0) {
      return false; /* the cell still holds last lap's item: full */
    } else {
      pos = atomic_load_explicit(&r->enqueue_pos, memory_order_relaxed);
    }
  }
}

void *cqlmux_ring_pop(cqlmux_ring *r) {
  /* relaxed: a stale position only makes the CAS below fail and retry. */
  size_t pos = atomic_load_explicit(&r->dequeue_pos, memory_order_relaxed);
  for (;;) {
    cqlmux_ring_cell *cell = &r->cells[pos & r->mask];
    /* acquire: pairs with the producer's release store; makes item readable. */
    size_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
    intptr_t diff = (intptr_t)seq - (intptr_t)(pos + 1);
    if (diff == 0) {
      /* relaxed: the CAS only elects the consumer; the data is ordered by seq. */
      if (atomic_compare_exchange_weak_explicit(&r->dequeue_pos, &pos, pos + 1,
                                                memory_order_relaxed, memory_order_relaxed)) {
        void *item = cell->item;
        /* release: pairs with the next lap's producer acquire load of seq. */
        atomic_store_explicit(&cell->seq, pos + r->mask + 1, memory_order_release);
        return item;
      }
    } else if (diff < 0) {
      return NULL; /* not published yet (empty, or a producer mid-push) */
    } else {
      pos = atomic_load_explicit(&r->dequeue_pos, memory_order_relaxed);
    }
  }
}

size_t cqlmux_ring_depth(cqlmux_ring *r) {
  /* relaxed: a statistic; the two loads are not a consistent snapshot. */
  size_t out = atomic_load_explicit(&r->dequeue_pos, memory_order_relaxed);
  size_t in = atomic_load_explicit(&r->enqueue_pos, memory_order_relaxed);
  return in > out ? in - out : 0;
}

size_t cqlmux_ring_capacity(const cqlmux_ring *r) { return r->mask + 1; }

bool cqlmux_ring_has_claims(cqlmux_ring *r) {
  return atomic_load(&r->enqueue_pos) != atomic_load(&r->dequeue_pos);
}

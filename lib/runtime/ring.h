/* Bounded multi-producer multi-consumer ring of pointers (Dmitry Vyukov's
 * bounded MPMC queue). It is the completion queue: I/O threads (and any
 * thread completing a future) push, callback workers pop.
 *
 * Why a bounded ring rather than an intrusive list:
 *   - several workers consume. An intrusive lock-free MPMC list needs safe
 *     memory reclamation (the node is the future, which a callback may free
 *     at once) or suffers ABA; a ring of slots has neither problem.
 *   - any idle worker takes the next completion, so one slow callback does
 *     not hold up the completions behind it (per-worker MPSC queues would).
 *   - the bound is the point: the depth is two counters apart, free to read,
 *     and the connection layer stops reading sockets above a threshold
 *     (response-side backpressure); a full ring is an explicit, handled state
 *     (cqlmux_workers_submit) rather than unbounded memory.
 *
 * Algorithm. Each cell has a sequence number. A producer claims position p
 * by CAS on enqueue_pos when cell[p & mask].seq == p, writes the item, then
 * release-stores seq = p + 1. A consumer claims p by CAS on dequeue_pos when
 * seq == p + 1, reads the item, then release-stores seq = p + capacity,
 * handing the cell to the producer of the next lap.
 *
 * Progress: like the MPSC queue, not lock-free in the strict sense. A producer
 * preempted between its claim and its publish leaves its cell unreadable;
 * pop reports empty for that cell while cqlmux_ring_has_claims() is true, and
 * consumers must poll (not sleep) until it lands.
 */
#ifndef CQLMUX_RUNTIME_RING_H
#define CQLMUX_RUNTIME_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "cqlmux.h"
#include "runtime/intrusive.h"

typedef struct cqlmux_ring_cell {
  _Atomic size_t seq;
  void *item;
} cqlmux_ring_cell;

typedef struct cqlmux_ring {
  cqlmux_ring_cell *cells;
  size_t mask; /* capacity - 1; capacity is a power of two */
  const cqlmux_allocator *alloc;
  char pad0_[CQLMUX_CACHE_LINE];
  _Atomic size_t enqueue_pos; /* producers */
  char pad1_[CQLMUX_CACHE_LINE - sizeof(size_t)];
  _Atomic size_t dequeue_pos; /* consumers */
  char pad2_[CQLMUX_CACHE_LINE - sizeof(size_t)];
} cqlmux_ring;

/* An empty ring of at least `capacity` slots (rounded up to a power of two,
 * at least 2). Returns CQLMUX_OK, CQLMUX_ERR_INVALID_ARGUMENT (capacity 0 or
 * too large) or CQLMUX_ERR_NOMEM; on failure nothing is allocated. */
int cqlmux_ring_init(cqlmux_ring *r, const cqlmux_allocator *alloc, size_t capacity);

/* Free the slots. Items still queued are not touched. */
void cqlmux_ring_destroy(cqlmux_ring *r);

/* Append `item` (not NULL). Any thread. False when the ring is full. */
bool cqlmux_ring_push(cqlmux_ring *r, void *item);

/* The oldest published item, or NULL when none is readable. Any thread. */
void *cqlmux_ring_pop(cqlmux_ring *r);

/* Items claimed and not yet popped (approximate while others run). */
size_t cqlmux_ring_depth(cqlmux_ring *r);

size_t cqlmux_ring_capacity(const cqlmux_ring *r);

/* True when some push has claimed a slot that no pop has taken yet, even if
 * its item is not readable yet. seq_cst: the worker sleep handshake
 * (workers.c) needs it ordered after the worker's "I am idle" increment. */
bool cqlmux_ring_has_claims(cqlmux_ring *r);

#endif

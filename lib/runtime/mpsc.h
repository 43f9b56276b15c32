/* Intrusive multi-producer single-consumer queue (Dmitry Vyukov's design).
 *
 * Used for submissions (any thread -> one I/O thread) and for objects handed
 * back to the pool of the thread that owns them. The node is embedded in the
 * queued object, so pushing never allocates.
 *
 * Algorithm. `tail` is the last node pushed; `head` is the consumer's next
 * node; a `stub` node keeps the list non-empty so that push never has to
 * special-case emptiness. A push is two steps:
 *     prev = exchange(&tail, node);   -- the node is now ordered in the queue
 *     prev->next = node;              -- release store: the consumer can reach it
 * Pop walks `head->next` with acquire loads and re-inserts the stub when it
 * takes the last real node.
 *
 * Progress. Push is wait-free: one exchange and one store, whatever the other
 * threads do. Pop is not lock-free: between the two steps of a push the queue
 * is *inconsistent* (the node is past `tail` but not yet linked), and pop then
 * returns CQLMUX_MPSC_RETRY: items exist but cannot be reached until that
 * producer performs its store. A producer preempted in that window delays the
 * consumer (and everything pushed after it) until it is scheduled again; the
 * consumer must not sleep on RETRY, only poll again (yield). Nothing is lost
 * or reordered: FIFO per producer, and one total order over all pushes (the
 * order of the exchanges).
 *
 * Memory orders are on the functions in mpsc.c. The exchange on `tail` is
 * seq_cst because the I/O loop's sleep/wake handshake (net/loop.c) relies on
 * it being ordered before the producer's load of the loop's `sleeping` flag.
 */
#ifndef CQLMUX_RUNTIME_MPSC_H
#define CQLMUX_RUNTIME_MPSC_H

#include <stdatomic.h>
#include <stdbool.h>

#include "runtime/intrusive.h"

typedef struct cqlmux_mpsc_node {
  struct cqlmux_mpsc_node *_Atomic next;
} cqlmux_mpsc_node;

typedef struct cqlmux_mpsc {
  cqlmux_mpsc_node *_Atomic tail; /* producers */
  char pad_[CQLMUX_CACHE_LINE - sizeof(void *)];
  cqlmux_mpsc_node *head; /* consumer only */
  cqlmux_mpsc_node stub;
} cqlmux_mpsc;

typedef enum cqlmux_mpsc_result {
  CQLMUX_MPSC_ITEM,  /* *out is the oldest node */
  CQLMUX_MPSC_EMPTY, /* nothing was pushed that is not already popped */
  CQLMUX_MPSC_RETRY  /* a push is half-done (see above): poll again soon */
} cqlmux_mpsc_result;

/* Empty queue. Not thread-safe (nobody else may see the queue yet). */
void cqlmux_mpsc_init(cqlmux_mpsc *q);

/* Append `node` (not in any queue). Any thread; wait-free. */
void cqlmux_mpsc_push(cqlmux_mpsc *q, cqlmux_mpsc_node *node);

/* Take the oldest node. Consumer thread only. */
cqlmux_mpsc_result cqlmux_mpsc_pop(cqlmux_mpsc *q, cqlmux_mpsc_node **out);

/* True when nothing is queued, not even half-pushed. Consumer thread only.
 * The load of `tail` is seq_cst: a consumer that publishes "I am going to
 * sleep" and then sees the queue empty is guaranteed that any producer whose
 * push it missed will see that it sleeps. */
bool cqlmux_mpsc_is_empty(cqlmux_mpsc *q);

#endif

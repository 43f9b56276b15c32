#include "runtime/mpsc.h"

#include <stddef.h>

void cqlmux_mpsc_init(cqlmux_mpsc *q) {
  atomic_init(&q->stub.next, NULL);
  atomic_init(&q->tail, &q->stub);
  q->head = &q->stub;
}

void cqlmux_mpsc_push(cqlmux_mpsc *q, cqlmux_mpsc_node *node) {
  /* relaxed: the node is private until the exchange below publishes it. */
  atomic_store_explicit(&node->next, NULL, memory_order_relaxed);
  /* seq_cst: orders the push before the caller's seq_cst load of a consumer's
   * "sleeping" flag (store-load, needs seq_cst on both sides). */
  cqlmux_mpsc_node *prev = atomic_exchange(&q->tail, node);
  /* release: pairs with the consumer's acquire load of prev->next, making the
   * node's contents (and everything the producer wrote before) visible. */
  atomic_store_explicit(&prev->next, node, memory_order_release);
}

/* Take `head` when it has a successor. */
static cqlmux_mpsc_result take_head(cqlmux_mpsc *q, cqlmux_mpsc_node *head,
                                    cqlmux_mpsc_node *next, cqlmux_mpsc_node **out) {
  q->head = next;
  *out = head;
  return CQLMUX_MPSC_ITEM;
}

cqlmux_mpsc_result cqlmux_mpsc_pop(cqlmux_mpsc *q, cqlmux_mpsc_node **out) {
  cqlmux_mpsc_node *head = q->head;
  /* acquire (every load of a next link below): pairs with the release store
   * of that link in push. */
  cqlmux_mpsc_node *next = atomic_load_explicit(&head->next, memory_order_acquire);
  if (head == &q->stub) {
    if (!next) return cqlmux_mpsc_is_empty(q) ? CQLMUX_MPSC_EMPTY : CQLMUX_MPSC_RETRY;
    q->head = next;
    head = next;
    next = atomic_load_explicit(&head->next, memory_order_acquire);
  }
  if (next) return take_head(q, head, next, out);
  /* `head` is the last linked node. If it is not the tail, a producer has
   * exchanged past it and not linked yet. */
  /* relaxed: only the pointer is compared; nothing is read through it. */
  if (atomic_load_explicit(&q->tail, memory_order_relaxed) != head) return CQLMUX_MPSC_RETRY;
  /* Put the stub behind `head` so that taking `head` leaves the queue valid. */
  cqlmux_mpsc_push(q, &q->stub);
  next = atomic_load_explicit(&head->next, memory_order_acquire);
  if (next) return take_head(q, head, next, out);
  return CQLMUX_MPSC_RETRY; /* a producer slipped in before the stub */
}

bool cqlmux_mpsc_is_empty(cqlmux_mpsc *q) {
  return q->head == &q->stub && atomic_load(&q->tail) == &q->stub;
}

/* The two lock-free queues: the intrusive MPSC (submissions) and the bounded
 * MPMC ring (completions). Correctness only: every item seen exactly once,
 * FIFO per producer; no timing is asserted. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/mpsc.h"
#include "runtime/ring.h"
#include "rt_util.h"

#define TOTAL_ITEMS 1000000u

/* ------------------------------------------------------------------ MPSC */

typedef struct item {
  cqlmux_mpsc_node node;
  uint32_t producer;
  uint32_t seq;
} item;

typedef struct mpsc_producer {
  cqlmux_mpsc *q;
  item *items;
  uint32_t id;
  uint32_t count;
} mpsc_producer;

static void *mpsc_produce(void *arg) {
  mpsc_producer *p = arg;
  for (uint32_t i = 0; i < p->count; i++) {
    p->items[i].producer = p->id;
    p->items[i].seq = i;
    cqlmux_mpsc_push(p->q, &p->items[i].node);
  }
  return NULL;
}

Test(mpsc, producers_times_one_consumer_each_item_once_in_order, .timeout = 60) {
  enum { P = 4 };
  const uint32_t per = TOTAL_ITEMS / P;
  cqlmux_mpsc q;
  cqlmux_mpsc_init(&q);
  item *items = calloc(TOTAL_ITEMS, sizeof *items);
  uint8_t *seen = calloc(TOTAL_ITEMS, 1);
  cr_assert(items && seen);
  mpsc_producer prod[P];
  pthread_t th[P];
  for (uint32_t i = 0; i < P; i++) {
    prod[i] = (mpsc_producer){&q, items + (size_t)i * per, i, per};
    pthread_create(&th[i], NULL, mpsc_produce, &prod[i]);
  }
  uint32_t next_seq[P] = {0};
  size_t got = 0, retries = 0;
  while (got < (size_t)per * P) {
    cqlmux_mpsc_node *n;
    cqlmux_mpsc_result r = cqlmux_mpsc_pop(&q, &n);
    if (r == CQLMUX_MPSC_ITEM) {
      item *it = (item *)n;
      size_t idx = (size_t)(it - items);
      cr_assert_lt(idx, TOTAL_ITEMS);
      cr_assert_eq(seen[idx], 0, "item %zu seen twice", idx);
      seen[idx] = 1;
      cr_assert_eq(it->seq, next_seq[it->producer], "producer %u out of order", it->producer);
      next_seq[it->producer]++;
      got++;
    } else {
      retries += r == CQLMUX_MPSC_RETRY;
      sched_yield();
    }
  }
  for (int i = 0; i < P; i++) pthread_join(th[i], NULL);
  cqlmux_mpsc_node *n;
  cr_assert_eq(cqlmux_mpsc_pop(&q, &n), CQLMUX_MPSC_EMPTY);
  cr_assert(cqlmux_mpsc_is_empty(&q));
  for (uint32_t i = 0; i < P; i++) cr_assert_eq(next_seq[i], per);
  cr_log_info("mpsc: %zu items, %zu RETRY results", got, retries);
  free(items);
  free(seen);
}

Test(mpsc, half_done_push_reads_as_retry_then_item) {
  cqlmux_mpsc q;
  cqlmux_mpsc_init(&q);
  item a = {0}, b = {0};
  cqlmux_mpsc_node *out;
  cr_assert_eq(cqlmux_mpsc_pop(&q, &out), CQLMUX_MPSC_EMPTY);
  cqlmux_mpsc_push(&q, &a.node);
  /* Do only the first step of a push of b, as a preempted producer would. */
  atomic_store(&b.node.next, NULL);
  cqlmux_mpsc_node *prev = atomic_exchange(&q.tail, &b.node);
  cr_assert_eq(prev, &a.node);
  cr_assert_not(cqlmux_mpsc_is_empty(&q));
  cr_assert_eq(cqlmux_mpsc_pop(&q, &out), CQLMUX_MPSC_RETRY);
  cr_assert_eq(cqlmux_mpsc_pop(&q, &out), CQLMUX_MPSC_RETRY);
  atomic_store(&prev->next, &b.node); /* the second step */
  cr_assert_eq(cqlmux_mpsc_pop(&q, &out), CQLMUX_MPSC_ITEM);
  cr_assert_eq(out, &a.node);
  cr_assert_eq(cqlmux_mpsc_pop(&q, &out), CQLMUX_MPSC_ITEM);
  cr_assert_eq(out, &b.node);
  cr_assert_eq(cqlmux_mpsc_pop(&q, &out), CQLMUX_MPSC_EMPTY);
  cr_assert(cqlmux_mpsc_is_empty(&q));
}

Test(mpsc, reuse_after_drain) {
  cqlmux_mpsc q;
  cqlmux_mpsc_init(&q);
  item items[3];
  cqlmux_mpsc_node *out;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 3; i++) cqlmux_mpsc_push(&q, &items[i].node);
    for (int i = 0; i < 3; i++) {
      cr_assert_eq(cqlmux_mpsc_pop(&q, &out), CQLMUX_MPSC_ITEM);
      cr_assert_eq(out, &items[i].node);
    }
    cr_assert_eq(cqlmux_mpsc_pop(&q, &out), CQLMUX_MPSC_EMPTY);
  }
}

/* ------------------------------------------------------------------ ring */

typedef struct ring_ctx {
  cqlmux_ring ring;
  _Atomic uint8_t *seen;
  _Atomic long consumed;
  _Atomic int producers_done;
  uint32_t per_producer;
} ring_ctx;

typedef struct ring_producer {
  ring_ctx *ctx;
  uint32_t first;
} ring_producer;

static void *ring_produce(void *arg) {
  ring_producer *p = arg;
  for (uint32_t i = 0; i < p->ctx->per_producer; i++) {
    uintptr_t value = (uintptr_t)p->first + i + 1; /* never NULL */
    while (!cqlmux_ring_push(&p->ctx->ring, (void *)value)) sched_yield();
  }
  return NULL;
}

static void *ring_consume(void *arg) {
  ring_ctx *ctx = arg;
  for (;;) {
    void *v = cqlmux_ring_pop(&ctx->ring);
    if (v) {
      atomic_fetch_add(&ctx->seen[(uintptr_t)v - 1], 1);
      atomic_fetch_add(&ctx->consumed, 1);
    } else if (atomic_load(&ctx->producers_done) && !cqlmux_ring_has_claims(&ctx->ring)) {
      return NULL;
    } else {
      sched_yield();
    }
  }
}

Test(ring, producers_times_consumers_each_item_exactly_once, .timeout = 60) {
  enum { P = 3, C = 3 };
  ring_ctx ctx;
  cr_assert_eq(cqlmux_ring_init(&ctx.ring, NULL, 1024), CQLMUX_OK);
  ctx.per_producer = TOTAL_ITEMS / P;
  ctx.seen = calloc(TOTAL_ITEMS, 1);
  cr_assert(ctx.seen);
  atomic_init(&ctx.consumed, 0);
  atomic_init(&ctx.producers_done, 0);
  pthread_t prod[P], cons[C];
  ring_producer args[P];
  for (int i = 0; i < C; i++) pthread_create(&cons[i], NULL, ring_consume, &ctx);
  for (uint32_t i = 0; i < P; i++) {
    args[i] = (ring_producer){&ctx, i * ctx.per_producer};
    pthread_create(&prod[i], NULL, ring_produce, &args[i]);
  }
  for (int i = 0; i < P; i++) pthread_join(prod[i], NULL);
  atomic_store(&ctx.producers_done, 1);
  for (int i = 0; i < C; i++) pthread_join(cons[i], NULL);
  uint32_t total = ctx.per_producer * P;
  cr_assert_eq(atomic_load(&ctx.consumed), (long)total);
  for (uint32_t i = 0; i < total; i++)
    cr_assert_eq(atomic_load(&ctx.seen[i]), 1, "item %u seen %u times", i,
                 (unsigned)atomic_load(&ctx.seen[i]));
  cr_assert_eq(cqlmux_ring_depth(&ctx.ring), 0);
  cr_assert_null(cqlmux_ring_pop(&ctx.ring));
  cqlmux_ring_destroy(&ctx.ring);
  free((void *)ctx.seen);
}

Test(ring, full_then_empty_and_fifo) {
  cqlmux_ring r;
  cr_assert_eq(cqlmux_ring_init(&r, NULL, 5), CQLMUX_OK);
  cr_assert_eq(cqlmux_ring_capacity(&r), 8);
  for (uintptr_t lap = 0; lap < 3; lap++) {
    for (uintptr_t i = 1; i <= 8; i++) cr_assert(cqlmux_ring_push(&r, (void *)(i + lap * 8)));
    cr_assert_not(cqlmux_ring_push(&r, (void *)99), "ring must report full");
    cr_assert_eq(cqlmux_ring_depth(&r), 8);
    cr_assert(cqlmux_ring_has_claims(&r));
    for (uintptr_t i = 1; i <= 8; i++) cr_assert_eq((uintptr_t)cqlmux_ring_pop(&r), i + lap * 8);
    cr_assert_null(cqlmux_ring_pop(&r));
    cr_assert_not(cqlmux_ring_has_claims(&r));
  }
  cqlmux_ring_destroy(&r);
}

Test(ring, init_rejects_bad_capacity_and_reports_nomem) {
  cqlmux_ring r;
  cr_assert_eq(cqlmux_ring_init(&r, NULL, 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_ring_init(&r, NULL, SIZE_MAX), CQLMUX_ERR_INVALID_ARGUMENT);
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  atomic_store(&a.fail_at, 1);
  cr_assert_eq(cqlmux_ring_init(&r, &a.hook, 16), CQLMUX_ERR_NOMEM);
  cr_assert_eq(atomic_load(&a.live), 0);
}

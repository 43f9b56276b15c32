#include "runtime/timer_heap.h"

#include "runtime/alloc.h"

void cqlmux_timer_init(cqlmux_timer *t, cqlmux_timer_fn fn, void *user_data) {
  t->deadline_us = 0;
  t->seq = 0;
  t->heap_index = CQLMUX_TIMER_IDLE;
  t->fn = fn;
  t->user_data = user_data;
}

void cqlmux_timer_heap_init(cqlmux_timer_heap *h, const cqlmux_allocator *alloc) {
  h->items = NULL;
  h->len = 0;
  h->cap = 0;
  h->next_seq = 0;
  h->alloc = alloc;
}

void cqlmux_timer_heap_destroy(cqlmux_timer_heap *h) {
  for (size_t i = 0; i < h->len; i++) h->items[i]->heap_index = CQLMUX_TIMER_IDLE;
  cqlmux_mem_free(h->alloc, h->items);
  h->items = NULL;
  h->len = h->cap = 0;
}

static bool earlier(const cqlmux_timer *a, const cqlmux_timer *b) {
  return a->deadline_us < b->deadline_us || (a->deadline_us == b->deadline_us && a->seq < b->seq);
}

static void place(cqlmux_timer_heap *h, size_t i, cqlmux_timer *t) {
  h->items[i] = t;
  t->heap_index = i;
}

static void sift_up(cqlmux_timer_heap *h, size_t i) {
  cqlmux_timer *t = h->items[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(t, h->items[parent])) break;
    place(h, i, h->items[parent]);
    i = parent;
  }
  place(h, i, t);
}

static void sift_down(cqlmux_timer_heap *h, size_t i) {
  cqlmux_timer *t = h->items[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= h->len) break;
    if (child + 1 < h->len && earlier(h->items[child + 1], h->items[child])) child++;
    if (!earlier(h->items[child], t)) break;
    place(h, i, h->items[child]);
    i = child;
  }
  place(h, i, t);
}

int cqlmux_timer_heap_insert(cqlmux_timer_heap *h, cqlmux_timer *t, uint64_t deadline_us) {
  if (cqlmux_timer_armed(t)) return CQLMUX_ERR_INVALID_STATE;
  if (h->len == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 16;
    cqlmux_timer **items = cqlmux_mem_realloc(h->alloc, h->items, cap * sizeof *items);
    if (!items) return CQLMUX_ERR_NOMEM;
    h->items = items;
    h->cap = cap;
  }
  t->deadline_us = deadline_us;
  t->seq = h->next_seq++;
  place(h, h->len++, t);
  sift_up(h, t->heap_index);
  return CQLMUX_OK;
}

void cqlmux_timer_heap_remove(cqlmux_timer_heap *h, cqlmux_timer *t) {
  if (!cqlmux_timer_armed(t)) return;
  size_t i = t->heap_index;
  t->heap_index = CQLMUX_TIMER_IDLE;
  cqlmux_timer *last = h->items[--h->len];
  if (last == t) return;
  place(h, i, last);
  /* The moved timer may belong above or below its new slot. */
  if (i > 0 && earlier(last, h->items[(i - 1) / 2])) {
    sift_up(h, i);
  } else {
    sift_down(h, i);
  }
}

cqlmux_timer *cqlmux_timer_heap_peek(const cqlmux_timer_heap *h) {
  return h->len ? h->items[0] : NULL;
}

cqlmux_timer *cqlmux_timer_heap_pop(cqlmux_timer_heap *h) {
  cqlmux_timer *t = cqlmux_timer_heap_peek(h);
  if (t) cqlmux_timer_heap_remove(h, t);
  return t;
}

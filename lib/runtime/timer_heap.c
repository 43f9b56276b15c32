#include "runtime/timer_heap.h"

#include "runtime/alloc.h"

void cqlmux_timer_init(cqlmux_timer *t, cqlmux_timer_fn fn, void *user_data) {
  t->deadline_us = 0;
  t->seq = 0;
  t->heap_index = CQLMUX_TIMER_IDLE;
  t->lane_prev = t->lane_next = NULL;
  t->fn = fn;
  t->user_data = user_data;
}

void cqlmux_timer_heap_init(cqlmux_timer_heap *h, const cqlmux_allocator *alloc) {
  h->items = NULL;
  h->len = 0;
  h->cap = 0;
  h->next_seq = 0;
  for (int k = 0; k < CQLMUX_TIMER_LANES; k++) h->lanes[k].head = h->lanes[k].tail = NULL;
  h->lane_len = 0;
  h->alloc = alloc;
}

void cqlmux_timer_heap_destroy(cqlmux_timer_heap *h) {
  for (size_t i = 0; i < h->len; i++) h->items[i]->heap_index = CQLMUX_TIMER_IDLE;
  for (int k = 0; k < CQLMUX_TIMER_LANES; k++) {
    for (cqlmux_timer *t = h->lanes[k].head; t; t = t->lane_next) t->heap_index = CQLMUX_TIMER_IDLE;
    h->lanes[k].head = h->lanes[k].tail = NULL;
  }
  h->lane_len = 0;
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

static bool in_lane(const cqlmux_timer *t, int *lane) {
  size_t i = t->heap_index;
  if (i == CQLMUX_TIMER_IDLE || i < CQLMUX_TIMER_IN_LANE(CQLMUX_TIMER_LANES - 1)) return false;
  *lane = (int)(SIZE_MAX - 1 - i);
  return true;
}

/* The lane a deadline may end: the one whose last deadline is the latest
 * not after it, else an empty one; -1 when none. */
static int pick_lane(const cqlmux_timer_heap *h, uint64_t deadline_us) {
  int best = -1, empty = -1;
  for (int k = 0; k < CQLMUX_TIMER_LANES; k++) {
    const cqlmux_timer *tail = h->lanes[k].tail;
    if (!tail) {
      if (empty < 0) empty = k;
    } else if (tail->deadline_us <= deadline_us &&
               (best < 0 || tail->deadline_us > h->lanes[best].tail->deadline_us)) {
      best = k;
    }
  }
  return best >= 0 ? best : empty;
}

static void lane_append(cqlmux_timer_heap *h, int k, cqlmux_timer *t) {
  t->heap_index = CQLMUX_TIMER_IN_LANE(k);
  t->lane_next = NULL;
  t->lane_prev = h->lanes[k].tail;
  if (h->lanes[k].tail)
    h->lanes[k].tail->lane_next = t;
  else
    h->lanes[k].head = t;
  h->lanes[k].tail = t;
  h->lane_len++;
}

static void lane_unlink(cqlmux_timer_heap *h, int k, cqlmux_timer *t) {
  if (t->lane_prev)
    t->lane_prev->lane_next = t->lane_next;
  else
    h->lanes[k].head = t->lane_next;
  if (t->lane_next)
    t->lane_next->lane_prev = t->lane_prev;
  else
    h->lanes[k].tail = t->lane_prev;
  t->lane_prev = t->lane_next = NULL;
  h->lane_len--;
}

int cqlmux_timer_heap_insert(cqlmux_timer_heap *h, cqlmux_timer *t, uint64_t deadline_us) {
  if (cqlmux_timer_armed(t)) return CQLMUX_ERR_INVALID_STATE;
  if (h->len + h->lane_len == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 16;
    cqlmux_timer **items = cqlmux_mem_realloc(h->alloc, h->items, cap * sizeof *items);
    if (!items) return CQLMUX_ERR_NOMEM;
    h->items = items;
    h->cap = cap;
  }
  t->deadline_us = deadline_us;
  t->seq = h->next_seq++;
  /* Not before a lane's last deadline (and a later seq): its place is that
   * lane's end. */
  int k = pick_lane(h, deadline_us);
  if (k >= 0) {
    lane_append(h, k, t);
    return CQLMUX_OK;
  }
  place(h, h->len++, t);
  sift_up(h, t->heap_index);
  return CQLMUX_OK;
}

void cqlmux_timer_heap_remove(cqlmux_timer_heap *h, cqlmux_timer *t) {
  if (!cqlmux_timer_armed(t)) return;
  int k;
  if (in_lane(t, &k)) {
    lane_unlink(h, k, t);
    t->heap_index = CQLMUX_TIMER_IDLE;
    return;
  }
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
  cqlmux_timer *first = h->len ? h->items[0] : NULL;
  for (int k = 0; k < CQLMUX_TIMER_LANES; k++) {
    cqlmux_timer *head = h->lanes[k].head;
    if (head && (!first || earlier(head, first))) first = head;
  }
  return first;
}

cqlmux_timer *cqlmux_timer_heap_pop(cqlmux_timer_heap *h) {
  cqlmux_timer *t = cqlmux_timer_heap_peek(h);
  if (t) cqlmux_timer_heap_remove(h, t);
  return t;
}

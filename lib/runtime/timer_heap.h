/* Timers and the binary min-heap that orders them.
 *
 * Each I/O loop owns one heap (request timeouts, heartbeats, reconnection
 * delays); no thread per timer. The timer is embedded in its owner and
 * remembers its index in the heap, so cancelling is O(log n) with no search;
 * arming is O(log n); the next deadline is O(1). Equal deadlines fire in the
 * order they were armed. The heap's array grows geometrically and never
 * shrinks, so a steady number of timers causes no allocation.
 *
 * Not thread-safe: the owning loop's thread only. */
#ifndef CQLMUX_RUNTIME_TIMER_HEAP_H
#define CQLMUX_RUNTIME_TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"

typedef struct cqlmux_timer cqlmux_timer;

/* Runs on the loop thread: status CQLMUX_OK when the timer expires, or
 * CQLMUX_ERR_SHUTDOWN when its loop stops with the timer still armed (exactly
 * one of the two per arming; a cancelled timer never runs). The timer is
 * disarmed before the call, so the function may re-arm it (not during
 * shutdown: that returns CQLMUX_ERR_SHUTDOWN) or free it. May call any
 * function of its loop; must not block. Nothing is borrowed. */
typedef void (*cqlmux_timer_fn)(cqlmux_timer *timer, int status);

#define CQLMUX_TIMER_IDLE SIZE_MAX

struct cqlmux_timer {
  uint64_t deadline_us; /* monotonic clock, see runtime/clock.h */
  uint64_t seq;         /* arming order: breaks deadline ties */
  size_t heap_index;    /* CQLMUX_TIMER_IDLE when not armed */
  cqlmux_timer_fn fn;
  void *user_data;
};

/* A disarmed timer. */
void cqlmux_timer_init(cqlmux_timer *timer, cqlmux_timer_fn fn, void *user_data);

static inline bool cqlmux_timer_armed(const cqlmux_timer *timer) {
  return timer->heap_index != CQLMUX_TIMER_IDLE;
}

typedef struct cqlmux_timer_heap {
  cqlmux_timer **items;
  size_t len;
  size_t cap;
  uint64_t next_seq;
  const cqlmux_allocator *alloc;
} cqlmux_timer_heap;

void cqlmux_timer_heap_init(cqlmux_timer_heap *heap, const cqlmux_allocator *alloc);

/* Free the array; timers still in it are left disarmed (not called). */
void cqlmux_timer_heap_destroy(cqlmux_timer_heap *heap);

/* Arm a disarmed timer for `deadline_us`. CQLMUX_OK, or CQLMUX_ERR_NOMEM
 * (the timer stays disarmed) or CQLMUX_ERR_INVALID_STATE (already armed). */
int cqlmux_timer_heap_insert(cqlmux_timer_heap *heap, cqlmux_timer *timer, uint64_t deadline_us);

/* Disarm; no-op when not armed. O(log n). */
void cqlmux_timer_heap_remove(cqlmux_timer_heap *heap, cqlmux_timer *timer);

/* The earliest timer, or NULL. */
cqlmux_timer *cqlmux_timer_heap_peek(const cqlmux_timer_heap *heap);

/* Remove and return the earliest timer, or NULL. */
cqlmux_timer *cqlmux_timer_heap_pop(cqlmux_timer_heap *heap);

static inline size_t cqlmux_timer_heap_size(const cqlmux_timer_heap *heap) { return heap->len; }

#endif

/* Timers and the structure that orders them: a binary min-heap plus a FIFO
 * "lane".
 *
 * Each I/O loop owns one (request timeouts, heartbeats, reconnection
 * delays); no thread per timer. The timer is embedded in its owner and
 * remembers where it is, so cancelling needs no search. Equal deadlines fire
 * in the order they were armed; the next deadline is O(1).
 *
 * Lanes: most timers are request timeouts of one duration armed in
 * submission order, so their deadlines only grow. A timer whose deadline is
 * not before some lane's last one is appended to that lane (the one with the
 * latest such tail; an empty lane when none fits): a doubly linked list,
 * sorted by construction, so arming and cancelling it are O(1) and touch two
 * neighbours, where the heap costs O(log n) cache misses per cancel (and a
 * request answered in time is cancelled). A few lanes, so that timers of
 * another duration (heartbeats, a statement's own timeout) take their own
 * lane instead of closing the requests' one. Any other timer goes to the
 * heap, O(log n). The earliest timer is the earliest of the lanes' heads and
 * the heap's top.
 *
 * The heap's array is sized for every armed timer, lane included, grows
 * geometrically and never shrinks, so a steady number of timers causes no
 * allocation and arming fails (NOMEM) only when that array must grow.
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
#define CQLMUX_TIMER_LANES 4
/* heap_index of a timer in lane k (0 <= k < CQLMUX_TIMER_LANES). */
#define CQLMUX_TIMER_IN_LANE(k) (SIZE_MAX - 1 - (size_t)(k))

struct cqlmux_timer {
  uint64_t deadline_us; /* monotonic clock, see runtime/clock.h */
  uint64_t seq;         /* arming order: breaks deadline ties */
  size_t heap_index;    /* CQLMUX_TIMER_IDLE when not armed, _IN_LANE(k) in lane k */
  cqlmux_timer *lane_prev;
  cqlmux_timer *lane_next;
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
  size_t len;           /* timers in the heap */
  size_t cap;           /* room for every armed timer, lane included */
  struct {
    cqlmux_timer *head;
    cqlmux_timer *tail;
  } lanes[CQLMUX_TIMER_LANES];
  size_t lane_len;      /* timers in all lanes */
  uint64_t next_seq;
  const cqlmux_allocator *alloc;
} cqlmux_timer_heap;

void cqlmux_timer_heap_init(cqlmux_timer_heap *heap, const cqlmux_allocator *alloc);

/* Free the array; timers still in it are left disarmed (not called). */
void cqlmux_timer_heap_destroy(cqlmux_timer_heap *heap);

/* Arm a disarmed timer for `deadline_us`. CQLMUX_OK, or CQLMUX_ERR_NOMEM
 * (the timer stays disarmed) or CQLMUX_ERR_INVALID_STATE (already armed). */
int cqlmux_timer_heap_insert(cqlmux_timer_heap *heap, cqlmux_timer *timer, uint64_t deadline_us);

/* Disarm; no-op when not armed. O(1) in the lane, O(log n) in the heap. */
void cqlmux_timer_heap_remove(cqlmux_timer_heap *heap, cqlmux_timer *timer);

/* The earliest timer, or NULL. */
cqlmux_timer *cqlmux_timer_heap_peek(const cqlmux_timer_heap *heap);

/* Remove and return the earliest timer, or NULL. */
cqlmux_timer *cqlmux_timer_heap_pop(cqlmux_timer_heap *heap);

static inline size_t cqlmux_timer_heap_size(const cqlmux_timer_heap *heap) {
  return heap->len + heap->lane_len;
}

#endif

/* The timer heap: ordering (FIFO on ties), cancel from any position, many
 * timers, and the never-shrinking array. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "runtime/timer_heap.h"
#include "rt_util.h"

static void never_called(cqlmux_timer *t, int status) {
  (void)t;
  (void)status;
  cr_assert_fail("timer callbacks are not run by the heap");
}

Test(timer_heap, pops_in_deadline_order_fifo_on_ties) {
  cqlmux_timer_heap h;
  cqlmux_timer_heap_init(&h, NULL);
  static const uint64_t deadlines[] = {50, 10, 30, 10, 70, 30, 10};
  enum { N = sizeof deadlines / sizeof deadlines[0] };
  cqlmux_timer t[N];
  for (int i = 0; i < N; i++) {
    cqlmux_timer_init(&t[i], never_called, (void *)(intptr_t)i);
    cr_assert_not(cqlmux_timer_armed(&t[i]));
    cr_assert_eq(cqlmux_timer_heap_insert(&h, &t[i], deadlines[i]), CQLMUX_OK);
    cr_assert(cqlmux_timer_armed(&t[i]));
  }
  cr_assert_eq(cqlmux_timer_heap_insert(&h, &t[0], 1), CQLMUX_ERR_INVALID_STATE);
  static const int expect[] = {1, 3, 6, 2, 5, 0, 4};
  for (int i = 0; i < N; i++) {
    cqlmux_timer *p = cqlmux_timer_heap_pop(&h);
    cr_assert_eq(p, &t[expect[i]], "pop %d gave timer %d", i, (int)(intptr_t)p->user_data);
    cr_assert_not(cqlmux_timer_armed(p));
  }
  cr_assert_null(cqlmux_timer_heap_pop(&h));
  cqlmux_timer_heap_destroy(&h);
}

Test(timer_heap, cancel_removes_from_any_position) {
  cqlmux_timer_heap h;
  cqlmux_timer_heap_init(&h, NULL);
  cqlmux_timer t[64];
  for (int i = 0; i < 64; i++) {
    cqlmux_timer_init(&t[i], never_called, NULL);
    cqlmux_timer_heap_insert(&h, &t[i], (uint64_t)((i * 37) % 64));
  }
  for (int i = 0; i < 64; i += 3) cqlmux_timer_heap_remove(&h, &t[i]);
  cqlmux_timer_heap_remove(&h, &t[0]); /* not armed: no-op */
  cr_assert_eq(cqlmux_timer_heap_size(&h), 64 - 22);
  uint64_t last = 0;
  size_t popped = 0;
  cqlmux_timer *p;
  while ((p = cqlmux_timer_heap_pop(&h)) != NULL) {
    int idx = (int)(p - t);
    cr_assert_neq(idx % 3, 0, "cancelled timer %d fired", idx);
    cr_assert_geq(p->deadline_us, last);
    last = p->deadline_us;
    popped++;
  }
  cr_assert_eq(popped, 64 - 22);
  cqlmux_timer_heap_destroy(&h);
}

Test(timer_heap, many_timers_random_cancel, .timeout = 60) {
  enum { N = 200000 };
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_timer_heap h;
  cqlmux_timer_heap_init(&h, &a.hook);
  cqlmux_timer *t = calloc(N, sizeof *t);
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < N; i++) {
    cqlmux_timer_init(&t[i], never_called, NULL);
    cr_assert_eq(cqlmux_timer_heap_insert(&h, &t[i], rt_rand(&rng) % 1000000), CQLMUX_OK);
  }
  size_t cancelled = 0;
  for (size_t i = 0; i < N; i++) {
    if (rt_rand(&rng) % 2) {
      cqlmux_timer_heap_remove(&h, &t[i]);
      cancelled++;
    }
  }
  cr_assert_eq(cqlmux_timer_heap_size(&h), N - cancelled);
  long allocs_before = atomic_load(&a.total);
  /* Re-arming within the capacity reached allocates nothing. */
  for (size_t i = 0; i < N; i++)
    if (!cqlmux_timer_armed(&t[i])) cqlmux_timer_heap_insert(&h, &t[i], rt_rand(&rng) % 1000000);
  cr_assert_eq(atomic_load(&a.total), allocs_before);
  cqlmux_timer *prev = NULL, *p;
  size_t popped = 0;
  while ((p = cqlmux_timer_heap_pop(&h)) != NULL) {
    if (prev) {
      cr_assert(prev->deadline_us < p->deadline_us ||
                (prev->deadline_us == p->deadline_us && prev->seq < p->seq));
    }
    prev = p;
    popped++;
  }
  cr_assert_eq(popped, N);
  cqlmux_timer_heap_destroy(&h);
  cr_assert_eq(atomic_load(&a.live), 0);
  free(t);
}

Test(timer_heap, growth_failure_leaves_timer_disarmed) {
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  atomic_store(&a.fail_at, 1);
  cqlmux_timer_heap h;
  cqlmux_timer_heap_init(&h, &a.hook);
  cqlmux_timer t;
  cqlmux_timer_init(&t, never_called, NULL);
  cr_assert_eq(cqlmux_timer_heap_insert(&h, &t, 5), CQLMUX_ERR_NOMEM);
  cr_assert_not(cqlmux_timer_armed(&t));
  cqlmux_timer_heap_destroy(&h);
}

Test(timer_heap, destroy_disarms_remaining) {
  cqlmux_timer_heap h;
  cqlmux_timer_heap_init(&h, NULL);
  cqlmux_timer t[3];
  for (int i = 0; i < 3; i++) {
    cqlmux_timer_init(&t[i], never_called, NULL);
    cqlmux_timer_heap_insert(&h, &t[i], 1);
  }
  cqlmux_timer_heap_destroy(&h);
  for (int i = 0; i < 3; i++) cr_assert_not(cqlmux_timer_armed(&t[i]));
}

/* Deadlines that only grow (request timeouts) take a FIFO lane; a timer
 * that fits no lane's end starts another lane, and once every lane is
 * taken, the heap. Pops interleave lanes and heap in deadline order, ties in
 * arming order, and a cancel from a lane's head, middle or tail keeps it
 * linked. */
static bool lane_of(const cqlmux_timer *t, int *k) {
  for (*k = 0; *k < CQLMUX_TIMER_LANES; (*k)++)
    if (t->heap_index == CQLMUX_TIMER_IN_LANE(*k)) return true;
  return false;
}

Test(timer_heap, lanes_and_heap_pop_in_order_and_cancel_anywhere) {
  cqlmux_timer_heap h;
  cqlmux_timer_heap_init(&h, NULL);
  /* 0..4 grow: lane 0 (7 equals its tail: lane 0 too). 5 starts lane 1,
   * 6 lane 2, 8 fits lane 1's end (15 <= 20) best, 9 starts lane 3; 10 and
   * 11 fit no lane's end and every lane is taken: the heap. */
  static const uint64_t deadlines[] = {10, 20, 30, 30, 40, 15, 5, 40, 20, 3, 2, 1};
  static const int lane[] = {0, 0, 0, 0, 0, 1, 2, 0, 1, 3, -1, -1};
  enum { N = sizeof deadlines / sizeof deadlines[0] };
  cqlmux_timer t[N];
  for (int i = 0; i < N; i++) {
    cqlmux_timer_init(&t[i], never_called, NULL);
    cr_assert_eq(cqlmux_timer_heap_insert(&h, &t[i], deadlines[i]), CQLMUX_OK);
    int k;
    bool laned = lane_of(&t[i], &k);
    cr_assert_eq(laned ? k : -1, lane[i], "timer %d in lane %d, expected %d", i, laned ? k : -1,
                 lane[i]);
  }
  cr_assert_eq(cqlmux_timer_heap_size(&h), N);
  cqlmux_timer_heap_remove(&h, &t[2]); /* lane middle */
  cqlmux_timer_heap_remove(&h, &t[0]); /* lane head */
  cqlmux_timer_heap_remove(&h, &t[7]); /* lane tail */
  cqlmux_timer_heap_remove(&h, &t[7]); /* no longer armed: no-op */
  cqlmux_timer_heap_remove(&h, &t[10]); /* heap */
  cr_assert_eq(cqlmux_timer_heap_size(&h), N - 4);
  static const int expect[] = {11, 9, 6, 5, 1, 8, 3, 4};
  for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
    cqlmux_timer *p = cqlmux_timer_heap_pop(&h);
    cr_assert_eq(p, &t[expect[i]], "pop %zu gave timer %d", i, (int)(p - t));
    cr_assert_not(cqlmux_timer_armed(p));
  }
  cr_assert_null(cqlmux_timer_heap_pop(&h));
  /* Empty again: the next timer starts a lane. */
  cr_assert_eq(cqlmux_timer_heap_insert(&h, &t[0], 1), CQLMUX_OK);
  int k;
  cr_assert(lane_of(&t[0], &k));
  cqlmux_timer_heap_destroy(&h);
  cr_assert_not(cqlmux_timer_armed(&t[0]));
}

/* Helpers shared by the runtime test suites. */
#ifndef CQLMUX_TESTS_RT_UTIL_H
#define CQLMUX_TESTS_RT_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cqlmux.h"

/* An allocator that counts live blocks (through a size header) and can be
 * told to fail: allocation number `fail_at` (1-based) and every one after it
 * return NULL while fail_at != 0. Thread-safe. */
typedef struct rt_counting_alloc {
  cqlmux_allocator hook; /* pass &x.hook; user_data points back here */
  _Atomic long live;
  _Atomic long total;
  _Atomic long fail_at;
} rt_counting_alloc;

void rt_counting_alloc_init(rt_counting_alloc *a);

/* xorshift64*: deterministic and thread-local-free (state passed in). */
uint64_t rt_rand(uint64_t *state);

/* Spin (with short sleeps) until *flag becomes non-zero; false after
 * `limit_ms` so a broken test fails instead of hanging. */
bool rt_wait_flag(_Atomic int *flag, unsigned limit_ms);

/* Same for a counter reaching `target`. */
bool rt_wait_count(_Atomic long *count, long target, unsigned limit_ms);

/* Same for a counter reaching at least `target`. */
bool rt_wait_count_at_least(_Atomic long *count, long target, unsigned limit_ms);

/* Same for an int counter reaching at least `target`. */
bool rt_wait_int_at_least(_Atomic int *value, int target, unsigned limit_ms);

void rt_sleep_us(unsigned us);

#endif

#include "rt_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef union header {
  size_t size;
  max_align_t align_;
} header;

static bool should_fail(rt_counting_alloc *a) {
  long n = atomic_fetch_add(&a->total, 1) + 1;
  long at = atomic_load(&a->fail_at);
  return at != 0 && n >= at;
}

static void *counting_malloc(size_t size, void *ud) {
  rt_counting_alloc *a = ud;
  if (should_fail(a)) return NULL;
  header *h = malloc(sizeof *h + size);
  if (!h) return NULL;
  h->size = size;
  atomic_fetch_add(&a->live, 1);
  return h + 1;
}

static void counting_free(void *p, void *ud) {
  rt_counting_alloc *a = ud;
  if (!p) return;
  atomic_fetch_sub(&a->live, 1);
  free((header *)p - 1);
}

static void *counting_realloc(void *p, size_t size, void *ud) {
  rt_counting_alloc *a = ud;
  if (!p) return counting_malloc(size, ud);
  if (should_fail(a)) return NULL;
  header *h = realloc((header *)p - 1, sizeof *h + size);
  if (!h) return NULL;
  h->size = size;
  return h + 1;
}

void rt_counting_alloc_init(rt_counting_alloc *a) {
  a->hook.malloc = counting_malloc;
  a->hook.realloc = counting_realloc;
  a->hook.free = counting_free;
  a->hook.user_data = a;
  atomic_init(&a->live, 0);
  atomic_init(&a->total, 0);
  atomic_init(&a->fail_at, 0);
}

uint64_t rt_rand(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

void rt_sleep_us(unsigned us) {
  struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000};
  nanosleep(&ts, NULL);
}

bool rt_wait_flag(_Atomic int *flag, unsigned limit_ms) {
  for (unsigned waited_us = 0; !atomic_load(flag); waited_us += 200) {
    if (waited_us / 1000 >= limit_ms) return false;
    rt_sleep_us(200);
  }
  return true;
}

bool rt_wait_count(_Atomic long *count, long target, unsigned limit_ms) {
  for (unsigned waited_us = 0; atomic_load(count) != target; waited_us += 200) {
    if (waited_us / 1000 >= limit_ms) return false;
    rt_sleep_us(200);
  }
  return true;
}

bool rt_wait_int_at_least(_Atomic int *value, int target, unsigned limit_ms) {
  for (unsigned waited_us = 0; atomic_load(value) < target; waited_us += 200) {
    if (waited_us / 1000 >= limit_ms) return false;
    rt_sleep_us(200);
  }
  return true;
}

bool rt_wait_count_at_least(_Atomic long *count, long target, unsigned limit_ms) {
  for (unsigned waited_us = 0; atomic_load(count) < target; waited_us += 200) {
    if (waited_us / 1000 >= limit_ms) return false;
    rt_sleep_us(200);
  }
  return true;
}

/* The object pool (runtime/objpool.h): constructed objects reused without
 * allocation, a bounded cache, and a pool that outlives its owner until
 * every object is back. The call pool (tests/unit/test_call.c) is built on
 * it. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>

#include "rt_util.h"
#include "runtime/alloc.h"
#include "runtime/objpool.h"

typedef struct thing {
  int built;          /* set once, when built: survives the cache */
  struct thing *next; /* the pool's link */
} thing;

static atomic_int destroyed;

static void destroy_thing(void *obj, const cqlmux_allocator *alloc) {
  atomic_fetch_add(&destroyed, 1);
  cqlmux_mem_free(alloc, obj);
}

static thing *take(cqlmux_objpool *p) {
  thing *t = cqlmux_objpool_get(p);
  if (t) return t;
  t = cqlmux_mem_calloc(cqlmux_objpool_allocator(p), 1, sizeof *t);
  if (!t) {
    cqlmux_objpool_cancel(p);
    return NULL;
  }
  t->built = 1;
  return t;
}

static cqlmux_objpool *new_pool(rt_counting_alloc *a, size_t max_cached) {
  rt_counting_alloc_init(a);
  atomic_store(&destroyed, 0);
  cqlmux_objpool *p = cqlmux_objpool_new(&a->hook, max_cached, offsetof(thing, next),
                                         destroy_thing);
  cr_assert_not_null(p);
  return p;
}

Test(objpool, steady_state_allocates_nothing_and_objects_stay_built) {
  rt_counting_alloc a;
  cqlmux_objpool *p = new_pool(&a, 16);
  thing *t[16];
  for (int i = 0; i < 16; i++) cr_assert_not_null(t[i] = take(p));
  long allocs = atomic_load(&a.total);
  for (int round = 0; round < 100; round++) {
    for (int i = 0; i < 16; i++) cqlmux_objpool_put(p, t[i]);
    for (int i = 0; i < 16; i++) {
      t[i] = take(p);
      cr_assert(t[i] && t[i]->built == 1);
    }
  }
  cr_assert_eq(atomic_load(&a.total), allocs);
  for (int i = 0; i < 16; i++) cqlmux_objpool_put(p, t[i]);
  cqlmux_objpool_release(p);
  cr_assert_eq(atomic_load(&destroyed), 16);
  cr_assert_eq(atomic_load(&a.live), 0);
}

Test(objpool, the_cache_keeps_at_most_max_cached) {
  rt_counting_alloc a;
  cqlmux_objpool *p = new_pool(&a, 4);
  thing *t[10];
  for (int i = 0; i < 10; i++) t[i] = take(p);
  for (int i = 0; i < 10; i++) cqlmux_objpool_put(p, t[i]);
  cr_assert_eq(atomic_load(&destroyed), 6);
  cqlmux_objpool_release(p);
  cr_assert_eq(atomic_load(&destroyed), 10);
  cr_assert_eq(atomic_load(&a.live), 0);
}

Test(objpool, objects_returned_after_the_owner_left_free_the_pool_last) {
  rt_counting_alloc a;
  cqlmux_objpool *p = new_pool(&a, 8);
  thing *kept = take(p), *cached = take(p);
  cqlmux_objpool_put(p, cached);
  cqlmux_objpool_release(p);
  cr_assert_eq(atomic_load(&destroyed), 1, "the cache goes with the owner");
  cr_assert_gt(atomic_load(&a.live), 0, "the pool waits for the object still out");
  cqlmux_objpool_put(p, kept);
  cr_assert_eq(atomic_load(&destroyed), 2);
  cr_assert_eq(atomic_load(&a.live), 0);
}

Test(objpool, a_failed_build_is_cancelled) {
  rt_counting_alloc a;
  cqlmux_objpool *p = new_pool(&a, 8);
  atomic_store(&a.fail_at, atomic_load(&a.total) + 1);
  cr_assert_null(take(p));
  atomic_store(&a.fail_at, 0);
  cqlmux_objpool_release(p); /* nothing out: the pool goes now */
  cr_assert_eq(atomic_load(&a.live), 0);
}

static void *churn(void *arg) {
  cqlmux_objpool *p = arg;
  for (int i = 0; i < 20000; i++) {
    thing *t = take(p);
    cr_assert_not_null(t);
    cqlmux_objpool_put(p, t);
  }
  return NULL;
}

/* Objects taken and returned on several threads at once; under TSan too. */
Test(objpool, threads_share_the_pool) {
  rt_counting_alloc a;
  cqlmux_objpool *p = new_pool(&a, 2);
  pthread_t th[4];
  for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&th[i], NULL, churn, p), 0);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  cqlmux_objpool_release(p);
  cr_assert_eq(atomic_load(&a.live), 0);
}

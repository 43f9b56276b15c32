/* Per-thread object pools: reuse without allocation, slab growth, returns
 * from other threads. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/objpool.h"
#include "rt_util.h"

Test(objpool, steady_state_allocates_nothing) {
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_objpool p;
  cr_assert_eq(cqlmux_objpool_init(&p, &a.hook, 200, 16), CQLMUX_OK);
  cr_assert_eq(atomic_load(&a.total), 0);
  void *objs[40];
  for (int i = 0; i < 40; i++) {
    objs[i] = cqlmux_objpool_get(&p);
    cr_assert_not_null(objs[i]);
    cr_assert_eq((uintptr_t)objs[i] % alignof(max_align_t), 0);
    memset(objs[i], 0xab, 200);
  }
  cr_assert_eq(p.slab_count, 3);
  long allocs = atomic_load(&a.total);
  for (int round = 0; round < 100; round++) {
    for (int i = 0; i < 40; i++) cqlmux_objpool_put(&p, objs[i]);
    for (int i = 0; i < 40; i++) objs[i] = cqlmux_objpool_get(&p);
  }
  cr_assert_eq(atomic_load(&a.total), allocs);
  cr_assert_eq(p.in_use, 40);
  cqlmux_objpool_destroy(&p);
  cr_assert_eq(atomic_load(&a.live), 0);
}

Test(objpool, invalid_sizes_and_nomem) {
  cqlmux_objpool p;
  cr_assert_eq(cqlmux_objpool_init(&p, NULL, 0, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_objpool_init(&p, NULL, SIZE_MAX, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_objpool_init(&p, NULL, 1024, SIZE_MAX / 2), CQLMUX_ERR_INVALID_ARGUMENT);
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  atomic_store(&a.fail_at, 1);
  cr_assert_eq(cqlmux_objpool_init(&p, &a.hook, 1, 0), CQLMUX_OK);
  cr_assert_null(cqlmux_objpool_get(&p));
  cqlmux_objpool_destroy(&p);
  cr_assert_eq(atomic_load(&a.live), 0);
}

typedef struct remote_args {
  cqlmux_objpool *pool;
  void **objs;
  size_t n;
} remote_args;

static void *return_remotely(void *arg) {
  remote_args *r = arg;
  for (size_t i = 0; i < r->n; i++) cqlmux_objpool_put_remote(r->pool, r->objs[i]);
  return NULL;
}

Test(objpool, objects_returned_by_other_threads_are_reused) {
  enum { N = 4096, THREADS = 2 };
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_objpool p;
  cr_assert_eq(cqlmux_objpool_init(&p, &a.hook, 64, 0), CQLMUX_OK);
  void **objs = calloc(N, sizeof *objs);
  for (size_t i = 0; i < N; i++) objs[i] = cqlmux_objpool_get(&p);
  size_t slabs = p.slab_count;
  pthread_t th[THREADS];
  remote_args args[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i] = (remote_args){&p, objs + i * (N / THREADS), N / THREADS};
    pthread_create(&th[i], NULL, return_remotely, &args[i]);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  /* The owner takes them all back without a new slab. */
  for (size_t i = 0; i < N; i++) cr_assert_not_null(cqlmux_objpool_get(&p));
  cr_assert_eq(p.slab_count, slabs);
  cr_assert_eq(p.in_use, N);
  cqlmux_objpool_destroy(&p);
  cr_assert_eq(atomic_load(&a.live), 0);
  free(objs);
}

#include "runtime/objpool.h"

#include <stdalign.h>
#include <stdint.h>

#include "runtime/alloc.h"

/* A slab header, padded so that the objects after it stay max-aligned. */
typedef union slab_header {
  void *next;
  max_align_t align_;
} slab_header;

static void free_list_push(cqlmux_objpool *pool, void *obj) {
  *(void **)obj = pool->free_list;
  pool->free_list = obj;
}

int cqlmux_objpool_init(cqlmux_objpool *pool, const cqlmux_allocator *alloc, size_t obj_size,
                        size_t per_slab) {
  const size_t align = alignof(max_align_t);
  if (obj_size == 0 || obj_size > SIZE_MAX / 4) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (obj_size < sizeof(cqlmux_mpsc_node)) obj_size = sizeof(cqlmux_mpsc_node);
  obj_size = (obj_size + align - 1) / align * align;
  if (per_slab == 0) per_slab = obj_size >= 65536 ? 1 : 65536 / obj_size;
  if (per_slab > (SIZE_MAX - sizeof(slab_header)) / obj_size) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_mpsc_init(&pool->remote);
  pool->free_list = NULL;
  pool->slabs = NULL;
  pool->obj_size = obj_size;
  pool->per_slab = per_slab;
  pool->slab_count = 0;
  pool->in_use = 0;
  pool->alloc = alloc;
  return CQLMUX_OK;
}

void cqlmux_objpool_destroy(cqlmux_objpool *pool) {
  while (pool->slabs) {
    slab_header *slab = pool->slabs;
    pool->slabs = slab->next;
    cqlmux_mem_free(pool->alloc, slab);
  }
  pool->free_list = NULL;
  pool->slab_count = 0;
}

/* Move remotely returned objects to the free list. Stops early on a
 * half-done push (RETRY): those objects are reclaimed on a later call. */
static void reclaim_remote(cqlmux_objpool *pool) {
  cqlmux_mpsc_node *node;
  while (cqlmux_mpsc_pop(&pool->remote, &node) == CQLMUX_MPSC_ITEM) {
    free_list_push(pool, node);
    pool->in_use--;
  }
}

static int add_slab(cqlmux_objpool *pool) {
  slab_header *slab =
      cqlmux_mem_malloc(pool->alloc, sizeof(slab_header) + pool->per_slab * pool->obj_size);
  if (!slab) return CQLMUX_ERR_NOMEM;
  slab->next = pool->slabs;
  pool->slabs = slab;
  pool->slab_count++;
  char *objs = (char *)(slab + 1);
  for (size_t i = pool->per_slab; i-- > 0;) free_list_push(pool, objs + i * pool->obj_size);
  return CQLMUX_OK;
}

void *cqlmux_objpool_get(cqlmux_objpool *pool) {
  if (!pool->free_list) reclaim_remote(pool);
  if (!pool->free_list && add_slab(pool) != CQLMUX_OK) return NULL;
  void *obj = pool->free_list;
  pool->free_list = *(void **)obj;
  pool->in_use++;
  return obj;
}

void cqlmux_objpool_put(cqlmux_objpool *pool, void *obj) {
  free_list_push(pool, obj);
  pool->in_use--;
}

void cqlmux_objpool_put_remote(cqlmux_objpool *pool, void *obj) {
  cqlmux_mpsc_push(&pool->remote, obj);
}

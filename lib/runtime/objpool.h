/* A per-thread pool of fixed-size objects (request objects, I/O buffers).
 *
 * Each I/O thread keeps one pool per object kind, so the steady state of the
 * request path allocates nothing: objects come from a free list, and when it
 * is empty a new slab of `per_slab` objects is taken from the allocator hook
 * in one call. Slabs are kept until the pool is destroyed.
 *
 * Threads. Only the owning thread calls get/put (no atomics on that path).
 * Any other thread gives an object back with cqlmux_objpool_put_remote(),
 * a wait-free push onto an MPSC queue (runtime/mpsc.h) that the owner
 * drains into its free list when that list runs dry. So a request freed by a
 * callback worker returns to its I/O thread's pool without locks.
 *
 * Objects are aligned for any type (max_align_t) and at least as large as a
 * queue node; their content is garbage when handed out. */
#ifndef CQLMUX_RUNTIME_OBJPOOL_H
#define CQLMUX_RUNTIME_OBJPOOL_H

#include <stddef.h>

#include "cqlmux.h"
#include "runtime/mpsc.h"

typedef struct cqlmux_objpool {
  cqlmux_mpsc remote;   /* objects returned by other threads */
  void *free_list;      /* owner only: objects linked through their first word */
  void *slabs;          /* owner only: slabs linked through their header */
  size_t obj_size;      /* rounded up for alignment */
  size_t per_slab;
  size_t slab_count;
  size_t in_use;        /* owner's count: handed out minus returned locally */
  const cqlmux_allocator *alloc;
} cqlmux_objpool;

/* An empty pool of objects of `obj_size` bytes, `per_slab` per slab (0 picks
 * a slab of about 64 KiB, at least one object). CQLMUX_OK or
 * CQLMUX_ERR_INVALID_ARGUMENT (obj_size 0 or absurdly large). Allocates
 * nothing yet. */
int cqlmux_objpool_init(cqlmux_objpool *pool, const cqlmux_allocator *alloc, size_t obj_size,
                        size_t per_slab);

/* Free every slab. Objects still out become invalid; remote returns must be
 * finished (the runtime joins the other threads first). */
void cqlmux_objpool_destroy(cqlmux_objpool *pool);

/* An object, or NULL when a new slab was needed and the allocator failed.
 * Owner thread only. */
void *cqlmux_objpool_get(cqlmux_objpool *pool);

/* Return an object from the owner thread. */
void cqlmux_objpool_put(cqlmux_objpool *pool, void *obj);

/* Return an object from any other thread. Wait-free. */
void cqlmux_objpool_put_remote(cqlmux_objpool *pool, void *obj);

#endif

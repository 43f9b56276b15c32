/* A pool of constructed objects that outlives its owner.
 *
 * Objects (the session's calls, for one) are taken on application threads
 * and given back on whichever thread lets go of them, so the cache is a free
 * list under a mutex: two pointer moves inside it, uncontended in the common
 * case, and no allocation once the cache holds enough objects. A returned
 * object keeps what its owner built into it (buffers, embedded futures), so
 * the next use starts warm; the cache holds at most `max_cached` of them and
 * destroys the rest.
 *
 * Objects link through a pointer field inside them, at `link_offset`.
 *
 * Lifetime. The pool counts the objects it has handed out and lives until
 * its owner has released it AND every object is back, so an object returned
 * after its owner is gone (a future freed after its session) is still
 * destroyed safely. Destruction gets a copy of the pool's allocator: the
 * pool may be gone by then.
 *
 * Threads: every function, any thread. */
#ifndef CQLMUX_RUNTIME_OBJPOOL_H
#define CQLMUX_RUNTIME_OBJPOOL_H

#include <stddef.h>

#include "cqlmux.h"

typedef struct cqlmux_objpool cqlmux_objpool;

/* Destroys an object the pool does not keep (`alloc`: the pool's, copied). */
typedef void (*cqlmux_objpool_destroy_fn)(void *obj, const cqlmux_allocator *alloc);

/* A pool caching up to `max_cached` idle objects. NULL on NOMEM. */
cqlmux_objpool *cqlmux_objpool_new(const cqlmux_allocator *alloc, size_t max_cached,
                                   size_t link_offset, cqlmux_objpool_destroy_fn destroy);

/* The owner lets go: the cache is destroyed now, the pool once every object
 * is back. */
void cqlmux_objpool_release(cqlmux_objpool *pool);

/* An idle object, counted as out; NULL when none is cached: the caller then
 * builds one (it is counted as out already) or, failing, calls
 * cqlmux_objpool_cancel. */
void *cqlmux_objpool_get(cqlmux_objpool *pool);
void cqlmux_objpool_cancel(cqlmux_objpool *pool);

/* Gives an object back: cached, or destroyed when the cache is full or the
 * owner gone. May free the pool: do not use it after this. */
void cqlmux_objpool_put(cqlmux_objpool *pool, void *obj);

/* The allocator objects of this pool are built with. */
const cqlmux_allocator *cqlmux_objpool_allocator(const cqlmux_objpool *pool);

#endif

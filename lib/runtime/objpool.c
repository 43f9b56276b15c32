#include "runtime/objpool.h"

#include <pthread.h>
#include <stdbool.h>

#include "runtime/alloc.h"

struct cqlmux_objpool {
  pthread_mutex_t lock;
  cqlmux_allocator alloc; /* a copy: the pool must not depend on its owner */
  cqlmux_objpool_destroy_fn destroy;
  size_t link_offset;
  void *free_list;
  size_t cached;
  size_t max_cached;
  size_t out;             /* handed out, not yet returned */
  bool owner_gone;
};

static void **link_of(const cqlmux_objpool *p, void *obj) {
  return (void **)(void *)((char *)obj + p->link_offset);
}

cqlmux_objpool *cqlmux_objpool_new(const cqlmux_allocator *alloc, size_t max_cached,
                                   size_t link_offset, cqlmux_objpool_destroy_fn destroy) {
  cqlmux_objpool *p = cqlmux_mem_calloc(alloc, 1, sizeof *p);
  if (!p) return NULL;
  pthread_mutex_init(&p->lock, NULL);
  p->alloc = *alloc;
  p->destroy = destroy;
  p->link_offset = link_offset;
  p->max_cached = max_cached;
  return p;
}

/* Destroys the cache once the owner is gone, and the pool once nothing is
 * out. Lock held on entry, released on return. */
static void release_locked(cqlmux_objpool *p) {
  bool free_pool = p->owner_gone && p->out == 0;
  cqlmux_allocator alloc = p->alloc;
  cqlmux_objpool_destroy_fn destroy = p->destroy;
  size_t link_offset = p->link_offset;
  void *list = NULL;
  if (p->owner_gone) {
    list = p->free_list;
    p->free_list = NULL;
    p->cached = 0;
  }
  pthread_mutex_unlock(&p->lock);
  while (list) {
    void *next = *(void **)(void *)((char *)list + link_offset);
    destroy(list, &alloc);
    list = next;
  }
  if (free_pool) {
    pthread_mutex_destroy(&p->lock);
    cqlmux_mem_free(&alloc, p);
  }
}

void cqlmux_objpool_release(cqlmux_objpool *p) {
  pthread_mutex_lock(&p->lock);
  p->owner_gone = true;
  release_locked(p);
}

void *cqlmux_objpool_get(cqlmux_objpool *p) {
  pthread_mutex_lock(&p->lock);
  void *obj = p->free_list;
  if (obj) {
    p->free_list = *link_of(p, obj);
    p->cached--;
  }
  p->out++;
  pthread_mutex_unlock(&p->lock);
  return obj;
}

void cqlmux_objpool_cancel(cqlmux_objpool *p) {
  pthread_mutex_lock(&p->lock);
  p->out--;
  release_locked(p);
}

void cqlmux_objpool_put(cqlmux_objpool *p, void *obj) {
  cqlmux_allocator alloc = p->alloc;
  cqlmux_objpool_destroy_fn destroy = p->destroy;
  pthread_mutex_lock(&p->lock);
  bool keep = !p->owner_gone && p->cached < p->max_cached;
  if (keep) {
    *link_of(p, obj) = p->free_list;
    p->free_list = obj;
    p->cached++;
  }
  p->out--;
  release_locked(p); /* may free the pool: p is not used after this */
  if (!keep) destroy(obj, &alloc);
}

const cqlmux_allocator *cqlmux_objpool_allocator(const cqlmux_objpool *p) { return &p->alloc; }

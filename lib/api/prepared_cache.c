#include "api/prepared_cache.h"

#include <stdbool.h>
#include <string.h>

#include "runtime/alloc.h"

void cqlmux_prepared_cache_init(cqlmux_prepared_cache *c, const cqlmux_allocator *alloc) {
  c->alloc = alloc;
  pthread_mutex_init(&c->lock, NULL);
  atomic_init(&c->head, NULL);
  c->count = 0;
}

static void free_entry(const cqlmux_allocator *a, cqlmux_prepared_entry *e) {
  cqlmux_mem_free(a, e->keyspace);
  cqlmux_mem_free(a, e->cql);
  cqlmux_mem_free(a, e->id);
  cqlmux_mem_free(a, e);
}

void cqlmux_prepared_cache_destroy(cqlmux_prepared_cache *c) {
  cqlmux_prepared_entry *e = atomic_load_explicit(&c->head, memory_order_relaxed);
  while (e) {
    cqlmux_prepared_entry *next = e->next;
    free_entry(c->alloc, e);
    e = next;
  }
  pthread_mutex_destroy(&c->lock);
}

const cqlmux_prepared_entry *cqlmux_prepared_cache_first(cqlmux_prepared_cache *c) {
  /* acquire: pairs with the release push, so the entry's fields are seen. */
  return atomic_load_explicit(&c->head, memory_order_acquire);
}

const cqlmux_prepared_entry *cqlmux_prepared_cache_find(cqlmux_prepared_cache *c,
                                                        const uint8_t *id, size_t id_len) {
  for (const cqlmux_prepared_entry *e = cqlmux_prepared_cache_first(c); e; e = e->next)
    if (e->id_len == id_len && !memcmp(e->id, id, id_len)) return e;
  return NULL;
}

static bool same(const cqlmux_prepared_entry *e, const char *keyspace, const char *cql,
                 const uint8_t *id, size_t id_len) {
  return e->id_len == id_len && !memcmp(e->id, id, id_len) && !strcmp(e->keyspace, keyspace) &&
         !strcmp(e->cql, cql);
}

static char *copy_text(const cqlmux_allocator *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *copy = cqlmux_mem_malloc(a, n);
  if (copy) memcpy(copy, s, n);
  return copy;
}

const cqlmux_prepared_entry *cqlmux_prepared_cache_add(cqlmux_prepared_cache *c,
                                                       const char *keyspace, const char *cql,
                                                       const uint8_t *id, size_t id_len) {
  if (!keyspace) keyspace = "";
  pthread_mutex_lock(&c->lock);
  cqlmux_prepared_entry *e = atomic_load_explicit(&c->head, memory_order_relaxed);
  while (e && !same(e, keyspace, cql, id, id_len)) e = e->next;
  if (!e && (e = cqlmux_mem_calloc(c->alloc, 1, sizeof *e))) {
    e->keyspace = copy_text(c->alloc, keyspace);
    e->cql = copy_text(c->alloc, cql);
    e->id = cqlmux_mem_malloc(c->alloc, id_len ? id_len : 1);
    e->id_len = id_len;
    if (!e->keyspace || !e->cql || !e->id) {
      free_entry(c->alloc, e);
      e = NULL;
    } else {
      memcpy(e->id, id, id_len);
      e->next = atomic_load_explicit(&c->head, memory_order_relaxed);
      /* release: readers that load the head see the entry complete. */
      atomic_store_explicit(&c->head, e, memory_order_release);
      c->count++;
    }
  }
  pthread_mutex_unlock(&c->lock);
  return e;
}

/* The session's memory of the statements it prepared, keyed by (keyspace,
 * query text), found again by statement id: what it needs to prepare them
 * on another host (in the background after a PREPARE, on a host that comes
 * UP) and to re-prepare one a host answered UNPREPARED for.
 *
 * Entries are immutable once added and freed only with the cache, so a
 * reader may keep a pointer to one without the lock; new entries are
 * pushed at the head (the lock orders the push; `head` is read with
 * acquire). A statement prepared again under a new id (after the server
 * forgot it, or a new keyspace) adds an entry; lookups by id see both.
 * Any thread. */
#ifndef CQLMUX_API_PREPARED_CACHE_H
#define CQLMUX_API_PREPARED_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"

typedef struct cqlmux_prepared_entry {
  struct cqlmux_prepared_entry *next;
  char *keyspace;  /* "" none */
  char *cql;
  uint8_t *id;
  size_t id_len;
} cqlmux_prepared_entry;

typedef struct cqlmux_prepared_cache {
  const cqlmux_allocator *alloc;
  pthread_mutex_t lock;                   /* serializes adds */
  _Atomic(cqlmux_prepared_entry *) head;
  size_t count;                           /* under lock */
} cqlmux_prepared_cache;

void cqlmux_prepared_cache_init(cqlmux_prepared_cache *c, const cqlmux_allocator *alloc);
void cqlmux_prepared_cache_destroy(cqlmux_prepared_cache *c);

/* Remembers (keyspace, cql) as prepared under `id` (nothing when that
 * exact entry exists). The entry, or NULL on NOMEM. */
const cqlmux_prepared_entry *cqlmux_prepared_cache_add(cqlmux_prepared_cache *c,
                                                       const char *keyspace, const char *cql,
                                                       const uint8_t *id, size_t id_len);

/* The entry prepared under `id`, or NULL. */
const cqlmux_prepared_entry *cqlmux_prepared_cache_find(cqlmux_prepared_cache *c,
                                                        const uint8_t *id, size_t id_len);

/* The newest entry (walk with ->next), or NULL. */
const cqlmux_prepared_entry *cqlmux_prepared_cache_first(cqlmux_prepared_cache *c);

#endif

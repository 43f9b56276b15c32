#include "net/stream_table.h"

#include <string.h>

#include "runtime/alloc.h"

int cqlmux_stream_table_init(cqlmux_stream_table *t, int32_t capacity,
                             const cqlmux_allocator *alloc) {
  memset(t, 0, sizeof *t);
  if (capacity < 1 || capacity > CQLMUX_MAX_STREAMS) return CQLMUX_ERR_INVALID_ARGUMENT;
  t->alloc = alloc;
  t->capacity = capacity;
  t->slots = cqlmux_mem_calloc(alloc, (size_t)capacity, sizeof *t->slots);
  t->orphaned = cqlmux_mem_calloc(alloc, (size_t)capacity, sizeof *t->orphaned);
  t->free_ids = cqlmux_mem_malloc(alloc, (size_t)capacity * sizeof *t->free_ids);
  if (!t->slots || !t->orphaned || !t->free_ids) {
    cqlmux_stream_table_destroy(t);
    return CQLMUX_ERR_NOMEM;
  }
  return CQLMUX_OK;
}

void cqlmux_stream_table_destroy(cqlmux_stream_table *t) {
  cqlmux_mem_free(t->alloc, t->slots);
  cqlmux_mem_free(t->alloc, t->orphaned);
  cqlmux_mem_free(t->alloc, t->free_ids);
  t->slots = NULL;
  t->orphaned = NULL;
  t->free_ids = NULL;
}

int32_t cqlmux_stream_table_acquire(cqlmux_stream_table *t, void *request) {
  int32_t id;
  if (t->free_count > 0)
    id = t->free_ids[--t->free_count];
  else if (t->high_water < t->capacity)
    id = t->high_water++;
  else
    return -1;
  t->slots[id] = request;
  t->in_use++;
  return id;
}

static void release_id(cqlmux_stream_table *t, int32_t id) {
  t->slots[id] = NULL;
  t->free_ids[t->free_count++] = (int16_t)id;
}

static int id_handed_out(const cqlmux_stream_table *t, int32_t id) {
  return id >= 0 && id < t->high_water;
}

cqlmux_stream_lookup cqlmux_stream_table_complete(cqlmux_stream_table *t, int32_t id,
                                                  void **request) {
  *request = NULL;
  if (!id_handed_out(t, id)) return CQLMUX_STREAM_UNKNOWN;
  if (t->orphaned[id]) {
    t->orphaned[id] = 0;
    t->orphans--;
    release_id(t, id);
    return CQLMUX_STREAM_ORPHAN;
  }
  if (!t->slots[id]) return CQLMUX_STREAM_UNKNOWN;
  *request = t->slots[id];
  t->in_use--;
  release_id(t, id);
  return CQLMUX_STREAM_LIVE;
}

void *cqlmux_stream_table_peek(const cqlmux_stream_table *t, int32_t id) {
  return id_handed_out(t, id) ? t->slots[id] : NULL;
}

void *cqlmux_stream_table_orphan(cqlmux_stream_table *t, int32_t id) {
  void *request = cqlmux_stream_table_peek(t, id);
  if (!request) return NULL;
  t->slots[id] = NULL;
  t->orphaned[id] = 1;
  t->in_use--;
  t->orphans++;
  return request;
}

void cqlmux_stream_table_drain(cqlmux_stream_table *t, void (*fn)(void *request, void *arg),
                               void *arg) {
  for (int32_t id = 0; id < t->high_water; id++) {
    void *request = t->slots[id];
    t->slots[id] = NULL;
    t->orphaned[id] = 0;
    if (request && fn) fn(request, arg);
  }
  /* Every id is free again; restart from the low ids. */
  t->free_count = 0;
  t->high_water = 0;
  t->in_use = 0;
  t->orphans = 0;
}

#include "runtime/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *default_malloc(size_t size, void *user_data) {
  (void)user_data;
  return malloc(size);
}

static void *default_realloc(void *ptr, size_t size, void *user_data) {
  (void)user_data;
  return realloc(ptr, size);
}

static void default_free(void *ptr, void *user_data) {
  (void)user_data;
  free(ptr);
}

static const cqlmux_allocator default_allocator = {
    default_malloc, default_realloc, default_free, NULL};

const cqlmux_allocator *cqlmux_default_allocator(void) { return &default_allocator; }

static const cqlmux_allocator *resolve(const cqlmux_allocator *a) {
  return a ? a : &default_allocator;
}

void *cqlmux_mem_malloc(const cqlmux_allocator *a, size_t size) {
  a = resolve(a);
  return a->malloc(size ? size : 1, a->user_data);
}

void *cqlmux_mem_calloc(const cqlmux_allocator *a, size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void *p = cqlmux_mem_malloc(a, count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

void *cqlmux_mem_realloc(const cqlmux_allocator *a, void *ptr, size_t size) {
  a = resolve(a);
  return a->realloc(ptr, size ? size : 1, a->user_data);
}

void cqlmux_mem_free(const cqlmux_allocator *a, void *ptr) {
  if (!ptr) return;
  a = resolve(a);
  a->free(ptr, a->user_data);
}

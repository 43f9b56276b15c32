#include "proto/arena.h"

#include <stdint.h>

#include "runtime/alloc.h"

/* Each owned block starts with the link to the previous one and its usable
 * size (for cqlmux_arena_reset_keep); the data after it stays aligned. */
typedef struct block_header {
  void *next;
  size_t cap;
} block_header;

_Static_assert(sizeof(block_header) % CQLMUX_ARENA_ALIGN == 0, "block data stays aligned");

static size_t align_up(size_t n) {
  return (n + (CQLMUX_ARENA_ALIGN - 1)) & ~(size_t)(CQLMUX_ARENA_ALIGN - 1);
}

static void use_initial(cqlmux_arena *a) {
  unsigned char *p = a->initial;
  size_t cap = a->initial_cap;
  size_t skew = p ? (size_t)(-(uintptr_t)p & (CQLMUX_ARENA_ALIGN - 1)) : 0;
  if (skew > cap) skew = cap;
  a->base = p ? p + skew : NULL;
  a->cap = cap - skew;
  a->used = 0;
}

void cqlmux_arena_init(cqlmux_arena *a, const cqlmux_allocator *alloc, void *buf, size_t cap) {
  a->blocks = NULL;
  a->alloc = alloc;
  a->initial = buf;
  a->initial_cap = buf ? cap : 0;
  use_initial(a);
}

void *cqlmux_arena_alloc(cqlmux_arena *a, size_t size) {
  size_t n = align_up(size ? size : 1);
  if (n < size || a->used > SIZE_MAX - n) {
    a->used = SIZE_MAX; /* saturates: the grow that follows fails cleanly */
    return NULL;
  }
  size_t at = a->used;
  a->used += n;
  if (a->used > a->cap) return NULL;
  return a->base + at;
}

bool cqlmux_arena_on_initial(const cqlmux_arena *a) {
  return !a->blocks || a->base != (unsigned char *)((block_header *)a->blocks + 1);
}

int cqlmux_arena_grow(cqlmux_arena *a, size_t mark) {
  size_t need = a->used - mark;
  a->used = mark;
  /* mark <= cap: it was a position in the current block. */
  size_t before = cqlmux_arena_on_initial(a) ? 0 : mark;
  if (need > SIZE_MAX - sizeof(block_header) - before) return CQLMUX_ERR_NOMEM;
  need += before;
  block_header *h = cqlmux_mem_malloc(a->alloc, sizeof *h + need);
  if (!h) return CQLMUX_ERR_NOMEM;
  h->next = a->blocks;
  h->cap = need;
  a->blocks = h;
  a->base = (unsigned char *)(h + 1);
  a->cap = need;
  a->used = 0;
  return CQLMUX_OK;
}

/* Smallest block taken by cqlmux_arena_alloc_grow. */
#define GROW_MIN 512u

void *cqlmux_arena_alloc_grow(cqlmux_arena *a, size_t size) {
  size_t mark = cqlmux_arena_mark(a);
  void *p = cqlmux_arena_alloc(a, size);
  if (p) return p;
  if (a->used == SIZE_MAX) {
    a->used = mark;
    return NULL;
  }
  /* A block for this request and at least as much again as the last one. */
  size_t want = a->used - mark, floor = a->cap > GROW_MIN ? a->cap : GROW_MIN;
  a->used = mark + (want > floor ? want : floor);
  if (cqlmux_arena_grow(a, mark)) return NULL;
  return cqlmux_arena_alloc(a, size);
}

/* Frees every owned block but `keep` (NULL: all of them). */
static void free_blocks_but(cqlmux_arena *a, block_header *keep) {
  block_header *b = a->blocks;
  while (b) {
    block_header *next = b->next;
    if (b != keep) cqlmux_mem_free(a->alloc, b);
    b = next;
  }
  a->blocks = keep;
  if (keep) keep->next = NULL;
}

void cqlmux_arena_reset(cqlmux_arena *a) {
  free_blocks_but(a, NULL);
  use_initial(a);
}

void cqlmux_arena_reset_keep(cqlmux_arena *a, size_t keep) {
  use_initial(a); /* a->cap: what the caller's buffer offers */
  block_header *best = NULL;
  for (block_header *b = a->blocks; b; b = b->next)
    if (b->cap <= keep && b->cap > a->cap && (!best || b->cap > best->cap)) best = b;
  free_blocks_but(a, best);
  if (best) {
    a->base = (unsigned char *)(best + 1);
    a->cap = best->cap;
  }
}

size_t cqlmux_arena_owned(const cqlmux_arena *a) {
  size_t n = 0;
  for (const block_header *b = a->blocks; b; b = b->next) n += sizeof *b + b->cap;
  return n;
}

void cqlmux_arena_free(cqlmux_arena *a) {
  if (!a) return;
  free_blocks_but(a, NULL);
  a->base = NULL;
  a->cap = a->used = 0;
}

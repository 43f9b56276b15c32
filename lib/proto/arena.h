/* A bump arena: the memory of one decoded response.
 *
 * A decoded RESULT (type trees, column specs, the cell index) lives in one
 * arena and is released all at once with it. The arena starts on an optional
 * caller buffer (e.g. space embedded in a request object, so that a typical
 * result needs no allocation at all) and otherwise takes blocks from the
 * allocator hook.
 *
 * Sizing without a second allocation: cqlmux_arena_alloc never grows the
 * arena. When a request does not fit it returns NULL but still counts the
 * bytes, so a decoder can finish a pass (writing into scratch space), read
 * how much it needed, take exactly one block of that size with
 * cqlmux_arena_grow, and run the pass again. Decoders in lib/proto do this
 * internally; callers only init, reset and free.
 *
 * Not thread-safe: an arena belongs to one thread at a time.
 */
#ifndef CQLMUX_PROTO_ARENA_H
#define CQLMUX_PROTO_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include "cqlmux.h"

/* Every allocation is aligned to this (enough for pointers and 64-bit ints). */
#define CQLMUX_ARENA_ALIGN 8u

typedef struct cqlmux_arena {
  unsigned char *base; /* current block */
  size_t cap;          /* its size */
  size_t used;         /* bytes handed out or requested; > cap after a miss */
  void *blocks;        /* owned blocks, newest first (a link word heads each) */
  void *initial;       /* the caller's buffer, reused by cqlmux_arena_reset */
  size_t initial_cap;
  const cqlmux_allocator *alloc;
} cqlmux_arena;

/* Starts an arena on buf[0..cap) (both may be 0/NULL). buf stays the
 * caller's and must outlive the arena's allocations; alloc NULL = libc. */
void cqlmux_arena_init(cqlmux_arena *a, const cqlmux_allocator *alloc, void *buf, size_t cap);

/* Returns size bytes (aligned, uninitialized) or NULL when the current block
 * lacks room. A miss still adds size to `used` (see above). */
void *cqlmux_arena_alloc(cqlmux_arena *a, size_t size);

/* Returns size bytes, taking a new block from the allocator when the
 * current one lacks room (for building trees, where no counting pass
 * exists). NULL only when the allocator fails. */
void *cqlmux_arena_alloc_grow(cqlmux_arena *a, size_t size);

/* True once a request has missed since the last mark/grow. */
static inline bool cqlmux_arena_overflowed(const cqlmux_arena *a) { return a->used > a->cap; }

/* Position to come back to if a decode pass fails. */
static inline size_t cqlmux_arena_mark(const cqlmux_arena *a) { return a->used; }

/* Forgets everything allocated since mark, which must come from the
 * current block. */
static inline void cqlmux_arena_rewind(cqlmux_arena *a, size_t mark) { a->used = mark; }

/* After an overflowed pass started at mark: rewinds, then switches to a new
 * block so that repeating the pass fits. The block has exactly the bytes the
 * pass requested when the arena was on the caller's buffer; when it was on
 * a block of its own, `mark` more (what that block held before the pass), so
 * that the new block, if kept for the next use (cqlmux_arena_reset_keep),
 * takes a like content whole in one pass. (What the caller's buffer held is
 * not counted: the next use has that buffer again, see reset_keep.) Earlier
 * allocations stay valid. Returns CQLMUX_OK or CQLMUX_ERR_NOMEM (arena
 * rewound, otherwise unchanged). */
int cqlmux_arena_grow(cqlmux_arena *a, size_t mark);

/* Frees every owned block and starts over on the caller's buffer. */
void cqlmux_arena_reset(cqlmux_arena *a);

/* Starts over like cqlmux_arena_reset, but keeps the largest owned block of
 * at most `keep` bytes (and larger than the caller's buffer) and starts on
 * it: an arena reused for like contents that outgrew the caller's buffer
 * stops allocating after the first use, and `keep` bounds what it holds on
 * to. The kept block is freed by a later reset or cqlmux_arena_free.
 * While the arena is on a kept block the caller's buffer is unused: the
 * caller may put there what it put in the arena's first bytes on the first
 * use (cqlmux_arena_on_initial tells), which is what the block's size
 * assumes (see cqlmux_arena_grow). */
void cqlmux_arena_reset_keep(cqlmux_arena *a, size_t keep);

/* True while the arena allocates from the caller's buffer (not a block). */
bool cqlmux_arena_on_initial(const cqlmux_arena *a);

/* Bytes owned (allocated blocks, headers included), for tests. */
size_t cqlmux_arena_owned(const cqlmux_arena *a);

/* Frees every owned block. The arena may be initialized again. NULL is ok. */
void cqlmux_arena_free(cqlmux_arena *a);

#endif

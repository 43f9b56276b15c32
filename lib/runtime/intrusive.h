/* Layout helpers shared by the intrusive lock-free structures.
 *
 * Queue nodes, tasks and timers are embedded in the objects they carry, so
 * the hot path never allocates; cqlmux_container_of() gets the object back
 * from the embedded member. */
#ifndef CQLMUX_RUNTIME_INTRUSIVE_H
#define CQLMUX_RUNTIME_INTRUSIVE_H

#include <stddef.h>

/* The object of type `type` whose member `member` is at `ptr`. */
#define cqlmux_container_of(ptr, type, member) \
  ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Fields written by different threads are kept this many bytes apart so that
 * they never share a cache line (false sharing). Padding is used instead of
 * alignas(64) because the allocator hook only guarantees malloc alignment. */
#define CQLMUX_CACHE_LINE 64

#endif

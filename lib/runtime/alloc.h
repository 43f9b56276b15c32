/* Allocation through the user's cqlmux_allocator hook.
 *
 * Every module allocates with these wrappers and a `const cqlmux_allocator *`
 * it was given (never plain malloc), so that a test allocator can count every
 * allocation and fail the Nth one. A NULL allocator means the C library's. */
#ifndef CQLMUX_RUNTIME_ALLOC_H
#define CQLMUX_RUNTIME_ALLOC_H

#include <stddef.h>

#include "cqlmux.h"

/* The allocator that forwards to malloc/realloc/free. Static storage. */
const cqlmux_allocator *cqlmux_default_allocator(void);

void *cqlmux_mem_malloc(const cqlmux_allocator *a, size_t size);
void *cqlmux_mem_calloc(const cqlmux_allocator *a, size_t count, size_t size);
void *cqlmux_mem_realloc(const cqlmux_allocator *a, void *ptr, size_t size);
void cqlmux_mem_free(const cqlmux_allocator *a, void *ptr);

#endif

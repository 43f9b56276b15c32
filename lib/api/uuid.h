/* UUIDs (cqlmux.h): random bytes from the kernel, and the version 1
 * layout the sessions fill with their node id and clock sequence. */
#ifndef CQLMUX_API_UUID_H
#define CQLMUX_API_UUID_H

#include <stddef.h>
#include <stdint.h>

/* n bytes from getrandom(2). INVALID_STATE when the kernel gives none. */
int cqlmux_random_bytes(void *buf, size_t n);

/* A version 1 UUID from the process-wide v1 clock (strictly increasing,
 * any thread), clock_seq (14 bits used) and node. */
void cqlmux_uuid_v1_make(const uint8_t node[6], uint16_t clock_seq, uint8_t out[16]);

#endif

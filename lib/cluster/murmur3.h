/* The token Cassandra's Murmur3Partitioner gives a partition key.
 *
 * It is MurmurHash3's x64 128-bit variant with seed 0, of which Cassandra
 * keeps the first 64-bit half, with two twists of its Java implementation
 * that a plain MurmurHash3 does not have:
 *   - the 1..15 tail bytes are read as Java's signed bytes, so a byte
 *     >= 0x80 is sign-extended before it is shifted into place (the
 *     16-byte blocks are read unsigned, little-endian, as usual);
 *   - Long.MIN_VALUE is the partitioner's minimum token, which no key may
 *     have: a hash equal to it becomes Long.MAX_VALUE.
 * An empty key is the minimum token itself (Murmur3Partitioner.getToken).
 *
 * The key is the serialized partition key: the value's bytes for a
 * single-column key, the composite encoding for several columns (see
 * lib/api/routing.h). Pure; any thread. */
#ifndef CQLMUX_CLUSTER_MURMUR3_H
#define CQLMUX_CLUSTER_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

int64_t cqlmux_murmur3_token(const void *key, size_t len);

#endif

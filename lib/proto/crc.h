/* Checksums of protocol v5 framing (v5 spec section 2, "Frame format").
 *
 * Both are computed over bytes in wire order and stored little-endian, as
 * Cassandra's framing code does:
 *   - CRC24 protects a frame header: initial value 0x875060, polynomial
 *     0x1974F0B, each byte fed least significant bit first into the top of
 *     the register (no reflection of the output, no final xor).
 *   - CRC32 protects a frame payload: the zlib/IEEE CRC-32, but first fed the
 *     four bytes FA 2D 55 CA, so that an all-zero payload does not checksum to
 *     a well-known constant. Equivalent to crc32(crc32(0, seed, 4), data, n).
 */
#ifndef CQLMUX_PROTO_CRC_H
#define CQLMUX_PROTO_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CRC24 of n bytes (the frame header uses 3 or 5). Result in the low 24 bits. */
uint32_t cqlmux_crc24(const uint8_t *data, size_t n);

/* The seeded CRC32 of a v5 frame payload. */
uint32_t cqlmux_crc32_v5(const uint8_t *data, size_t n);

#endif

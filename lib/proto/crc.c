#include "proto/crc.h"

#include <zlib.h>

#define CRC24_INIT 0x875060u
#define CRC24_POLY 0x1974F0Bu

/* Bitwise: headers are at most 5 bytes, so a table would cost more in cache
 * misses than it saves. */
uint32_t cqlmux_crc24(const uint8_t *data, size_t n) {
  uint32_t crc = CRC24_INIT;
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint32_t)data[i] << 16;
    for (int bit = 0; bit < 8; bit++) {
      crc <<= 1;
      if (crc & 0x1000000u) crc ^= CRC24_POLY;
    }
  }
  return crc & 0xFFFFFFu;
}

uint32_t cqlmux_crc32_v5(const uint8_t *data, size_t n) {
  static const Bytef seed[4] = {0xFA, 0x2D, 0x55, 0xCA};
  uLong crc = crc32(0L, seed, sizeof seed);
  /* zlib takes a uInt length: feed huge inputs in pieces. */
  while (n > 0) {
    uInt chunk = n > 0x40000000u ? 0x40000000u : (uInt)n;
    crc = crc32(crc, data, chunk);
    data += chunk;
    n -= chunk;
  }
  return (uint32_t)crc;
}

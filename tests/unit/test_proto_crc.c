/* v5 frame checksums. Expected values were computed outside this code base:
 * CRC32 with Python's zlib.crc32(data, zlib.crc32(b"\xfa\x2d\x55\xca")), the
 * seed Cassandra's Crc.java feeds first; CRC24 with a Python transcription of
 * the spec's parameters (init 0x875060, polynomial 0x1974F0B). A table-driven
 * CRC24 written here differently checks random inputs as well. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "proto/crc.h"

Test(proto_crc, crc32_known_values) {
  cr_assert_eq(cqlmux_crc32_v5((const uint8_t *)"", 0), 0x44777ed3u);
  cr_assert_eq(cqlmux_crc32_v5((const uint8_t *)"123456789", 9), 0xe2a261a7u);
  const uint8_t zeros[4] = {0};
  cr_assert_eq(cqlmux_crc32_v5(zeros, 4), 0x5a05e689u);
  uint8_t all[256];
  for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
  cr_assert_eq(cqlmux_crc32_v5(all, 256), 0x214de79bu);
}

Test(proto_crc, crc32_is_zlib_crc_after_the_seed) {
  /* The seed changes the result: the plain CRC-32 check value differs. */
  const uint8_t *s = (const uint8_t *)"123456789";
  cr_assert_eq(crc32(0, s, 9), 0xcbf43926u);
  cr_assert_neq(cqlmux_crc32_v5(s, 9), 0xcbf43926u);
}

Test(proto_crc, crc24_known_values) {
  const uint8_t h50[] = {0x32, 0x00, 0x02}; /* 50-byte self-contained payload */
  const uint8_t zero[] = {0, 0, 0};
  const uint8_t max[] = {0xff, 0xff, 0x03};
  cr_assert_eq(cqlmux_crc24(h50, 3), 0xeeffa5u);
  cr_assert_eq(cqlmux_crc24(zero, 3), 0x7de777u);
  cr_assert_eq(cqlmux_crc24(max, 3), 0x474025u);
  cr_assert_eq(cqlmux_crc24((const uint8_t *)"12345", 5), 0x5ecb02u);
  const uint8_t five[] = {1, 2, 3, 4, 5};
  cr_assert_eq(cqlmux_crc24(five, 5), 0x319669u);
}

/* Byte-at-a-time table CRC over the 24-bit register. */
static uint32_t table[256];

static void build_table(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t r = i << 16;
    for (int b = 0; b < 8; b++) r = (r & 0x800000u) ? ((r << 1) ^ 0x974F0Bu) & 0xFFFFFFu : r << 1;
    table[i] = r & 0xFFFFFFu;
  }
}

static uint32_t crc24_table(const uint8_t *p, size_t n) {
  uint32_t crc = 0x875060u;
  for (size_t i = 0; i < n; i++) crc = ((crc << 8) & 0xFFFFFFu) ^ table[((crc >> 16) ^ p[i]) & 0xFF];
  return crc;
}

/* The definition, one bit at a time (what the library's table encodes). */
static uint32_t crc24_bitwise(const uint8_t *p, size_t n) {
  uint32_t crc = 0x875060u;
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint32_t)p[i] << 16;
    for (int b = 0; b < 8; b++) {
      crc <<= 1;
      if (crc & 0x1000000u) crc ^= 0x1974F0Bu;
    }
  }
  return crc & 0xFFFFFFu;
}

Test(proto_crc, crc24_matches_the_bitwise_definition) {
  srand(25);
  for (int iter = 0; iter < 5000; iter++) {
    uint8_t in[16];
    size_t n = (size_t)(rand() % 17);
    for (size_t i = 0; i < n; i++) in[i] = (uint8_t)rand();
    cr_assert_eq(cqlmux_crc24(in, n), crc24_bitwise(in, n), "length %zu", n);
  }
  for (unsigned b = 0; b < 256; b++) { /* every table entry is reached */
    uint8_t one = (uint8_t)b;
    cr_assert_eq(cqlmux_crc24(&one, 1), crc24_bitwise(&one, 1), "byte 0x%02x", b);
  }
}

Test(proto_crc, crc24_matches_a_table_reference) {
  build_table();
  srand(24);
  for (int iter = 0; iter < 5000; iter++) {
    uint8_t in[8];
    size_t n = 1 + (size_t)(rand() % 8);
    for (size_t i = 0; i < n; i++) in[i] = (uint8_t)rand();
    cr_assert_eq(cqlmux_crc24(in, n), crc24_table(in, n));
  }
}

Test(proto_crc, crc24_detects_every_single_bit_flip_of_a_header) {
  const uint8_t h[5] = {0x12, 0x34, 0x56, 0x78, 0x04};
  uint32_t good = cqlmux_crc24(h, 5);
  for (int bit = 0; bit < 40; bit++) {
    uint8_t c[5];
    for (int i = 0; i < 5; i++) c[i] = h[i];
    c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    cr_assert_neq(cqlmux_crc24(c, 5), good, "bit %d", bit);
  }
}

/* The seeded CRC32 equals zlib's for every length up to 1100 (below and
 * above the 64-byte threshold of the carry-less multiplication path, every
 * remainder mod 16) at every alignment, and for 1 MiB. */
Test(proto_crc, crc32_equals_zlib_for_every_length_and_alignment) {
  static uint8_t buf[(1u << 20) + 16];
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < sizeof buf; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = (uint8_t)x;
  }
  static const Bytef seed[4] = {0xFA, 0x2D, 0x55, 0xCA};
  uLong seeded = crc32(0L, seed, 4);
  for (size_t off = 0; off < 16; off++)
    for (size_t n = 0; n <= 1100; n++)
      cr_assert_eq(cqlmux_crc32_v5(buf + off, n), (uint32_t)crc32(seeded, buf + off, (uInt)n),
                   "length %zu at offset %zu", n, off);
  cr_assert_eq(cqlmux_crc32_v5(buf + 3, 1u << 20),
               (uint32_t)crc32(seeded, buf + 3, (uInt)(1u << 20)));
}

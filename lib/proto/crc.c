#include "proto/crc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <zlib.h>

#define CRC24_INIT 0x875060u
#define CRC24_POLY 0x1974F0Bu

/* CRC-24 one byte at a time through a table: entry b is the remainder of
 * b << 16 (the bitwise loop, eight shifts, precomputed for every byte; the
 * unit tests check the table against that loop). A v5 frame has two
 * headers' worth of it, so at one request per frame the bitwise loop's 24
 * iterations per header showed in the profile. */
static const uint32_t crc24_table[256] = {
    0x000000, 0x974f0b, 0xb9d11d, 0x2e9e16, 0xe4ed31, 0x73a23a, 0x5d3c2c, 0xca7327,
    0x5e9569, 0xc9da62, 0xe74474, 0x700b7f, 0xba7858, 0x2d3753, 0x03a945, 0x94e64e,
    0xbd2ad2, 0x2a65d9, 0x04fbcf, 0x93b4c4, 0x59c7e3, 0xce88e8, 0xe016fe, 0x7759f5,
    0xe3bfbb, 0x74f0b0, 0x5a6ea6, 0xcd21ad, 0x07528a, 0x901d81, 0xbe8397, 0x29cc9c,
    0xed1aaf, 0x7a55a4, 0x54cbb2, 0xc384b9, 0x09f79e, 0x9eb895, 0xb02683, 0x276988,
    0xb38fc6, 0x24c0cd, 0x0a5edb, 0x9d11d0, 0x5762f7, 0xc02dfc, 0xeeb3ea, 0x79fce1,
    0x50307d, 0xc77f76, 0xe9e160, 0x7eae6b, 0xb4dd4c, 0x239247, 0x0d0c51, 0x9a435a,
    0x0ea514, 0x99ea1f, 0xb77409, 0x203b02, 0xea4825, 0x7d072e, 0x539938, 0xc4d633,
    0x4d7a55, 0xda355e, 0xf4ab48, 0x63e443, 0xa99764, 0x3ed86f, 0x104679, 0x870972,
    0x13ef3c, 0x84a037, 0xaa3e21, 0x3d712a, 0xf7020d, 0x604d06, 0x4ed310, 0xd99c1b,
    0xf05087, 0x671f8c, 0x49819a, 0xdece91, 0x14bdb6, 0x83f2bd, 0xad6cab, 0x3a23a0,
    0xaec5ee, 0x398ae5, 0x1714f3, 0x805bf8, 0x4a28df, 0xdd67d4, 0xf3f9c2, 0x64b6c9,
    0xa060fa, 0x372ff1, 0x19b1e7, 0x8efeec, 0x448dcb, 0xd3c2c0, 0xfd5cd6, 0x6a13dd,
    0xfef593, 0x69ba98, 0x47248e, 0xd06b85, 0x1a18a2, 0x8d57a9, 0xa3c9bf, 0x3486b4,
    0x1d4a28, 0x8a0523, 0xa49b35, 0x33d43e, 0xf9a719, 0x6ee812, 0x407604, 0xd7390f,
    0x43df41, 0xd4904a, 0xfa0e5c, 0x6d4157, 0xa73270, 0x307d7b, 0x1ee36d, 0x89ac66,
    0x9af4aa, 0x0dbba1, 0x2325b7, 0xb46abc, 0x7e199b, 0xe95690, 0xc7c886, 0x50878d,
    0xc461c3, 0x532ec8, 0x7db0de, 0xeaffd5, 0x208cf2, 0xb7c3f9, 0x995def, 0x0e12e4,
    0x27de78, 0xb09173, 0x9e0f65, 0x09406e, 0xc33349, 0x547c42, 0x7ae254, 0xedad5f,
    0x794b11, 0xee041a, 0xc09a0c, 0x57d507, 0x9da620, 0x0ae92b, 0x24773d, 0xb33836,
    0x77ee05, 0xe0a10e, 0xce3f18, 0x597013, 0x930334, 0x044c3f, 0x2ad229, 0xbd9d22,
    0x297b6c, 0xbe3467, 0x90aa71, 0x07e57a, 0xcd965d, 0x5ad956, 0x744740, 0xe3084b,
    0xcac4d7, 0x5d8bdc, 0x7315ca, 0xe45ac1, 0x2e29e6, 0xb966ed, 0x97f8fb, 0x00b7f0,
    0x9451be, 0x031eb5, 0x2d80a3, 0xbacfa8, 0x70bc8f, 0xe7f384, 0xc96d92, 0x5e2299,
    0xd78eff, 0x40c1f4, 0x6e5fe2, 0xf910e9, 0x3363ce, 0xa42cc5, 0x8ab2d3, 0x1dfdd8,
    0x891b96, 0x1e549d, 0x30ca8b, 0xa78580, 0x6df6a7, 0xfab9ac, 0xd427ba, 0x4368b1,
    0x6aa42d, 0xfdeb26, 0xd37530, 0x443a3b, 0x8e491c, 0x190617, 0x379801, 0xa0d70a,
    0x343144, 0xa37e4f, 0x8de059, 0x1aaf52, 0xd0dc75, 0x47937e, 0x690d68, 0xfe4263,
    0x3a9450, 0xaddb5b, 0x83454d, 0x140a46, 0xde7961, 0x49366a, 0x67a87c, 0xf0e777,
    0x640139, 0xf34e32, 0xddd024, 0x4a9f2f, 0x80ec08, 0x17a303, 0x393d15, 0xae721e,
    0x87be82, 0x10f189, 0x3e6f9f, 0xa92094, 0x6353b3, 0xf41cb8, 0xda82ae, 0x4dcda5,
    0xd92beb, 0x4e64e0, 0x60faf6, 0xf7b5fd, 0x3dc6da, 0xaa89d1, 0x8417c7, 0x1358cc,
};

uint32_t cqlmux_crc24(const uint8_t *data, size_t n) {
  uint32_t crc = CRC24_INIT;
  for (size_t i = 0; i < n; i++)
    crc = ((crc << 8) ^ crc24_table[((crc >> 16) ^ data[i]) & 0xFFu]) & 0xFFFFFFu;
  return crc;
}

/* zlib's CRC-32 of any length (zlib takes a uInt length: huge inputs go in
 * pieces). */
static uint32_t crc32_zlib(uint32_t crc, const uint8_t *data, size_t n) {
  while (n > 0) {
    uInt chunk = n > 0x40000000u ? 0x40000000u : (uInt)n;
    crc = (uint32_t)crc32(crc, data, chunk);
    data += chunk;
    n -= chunk;
  }
  return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CRC32_CLMUL 1

/* One 128-bit fold: x's two halves multiplied by the constant's, plus the
 * next block. */
__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold_clmul(__m128i x, __m128i k,
                                                                          __m128i next) {
  __m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
  __m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/* CRC-32 by carry-less multiplication (Intel, "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ Instruction", 2009): four 128-bit
 * lanes are folded forward 512 bits at a time, then into one, then reduced
 * to 32 bits (Barrett). The constants are powers of x modulo the reflected
 * CRC-32 polynomial: x^(4*128+32) and x^(4*128-32) for the 512-bit fold,
 * x^(128+32) and x^(128-32) for the 128-bit fold, x^64 for 96 -> 64 bits,
 * and the polynomial and its Barrett quotient. At 4096 requests in flight a
 * v5 frame is up to 128 KiB and zlib's table method spent ~4 instructions
 * per byte there; this needs a fraction of one. Lengths: a multiple of 16,
 * at least 64 (the caller feeds the rest to zlib). */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc32_clmul(uint32_t crc,
                                                                      const uint8_t *p,
                                                                      size_t n) {
  const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
  const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
  const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124);
  const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);
  const __m128i low32 = _mm_setr_epi32(-1, 0, 0, 0);
  __m128i x0 = _mm_loadu_si128((const __m128i *)p);
  __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
  __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
  __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
  x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)crc));
  p += 64;
  n -= 64;
  /* Lanes are plain locals (no pointers to them) so that they stay in
   * registers: an array of pointers kept them in memory, ~3x the
   * instructions per byte. */
  for (; n >= 64; p += 64, n -= 64) {
    x0 = fold_clmul(x0, k1k2, _mm_loadu_si128((const __m128i *)p));
    x1 = fold_clmul(x1, k1k2, _mm_loadu_si128((const __m128i *)(p + 16)));
    x2 = fold_clmul(x2, k1k2, _mm_loadu_si128((const __m128i *)(p + 32)));
    x3 = fold_clmul(x3, k1k2, _mm_loadu_si128((const __m128i *)(p + 48)));
  }
  /* Four lanes into one, then the remaining 16-byte blocks. */
  __m128i acc = fold_clmul(x0, k3k4, x1);
  acc = fold_clmul(acc, k3k4, x2);
  acc = fold_clmul(acc, k3k4, x3);
  for (; n >= 16; p += 16, n -= 16)
    acc = fold_clmul(acc, k3k4, _mm_loadu_si128((const __m128i *)p));
  /* 128 -> 64 bits, then 64 -> 32 (Barrett). */
  __m128i t = _mm_clmulepi64_si128(acc, k3k4, 0x10);
  acc = _mm_xor_si128(_mm_srli_si128(acc, 8), t);
  t = _mm_srli_si128(acc, 4);
  acc = _mm_clmulepi64_si128(_mm_and_si128(acc, low32), k5, 0x00);
  acc = _mm_xor_si128(acc, t);
  t = _mm_clmulepi64_si128(_mm_and_si128(acc, low32), poly, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), poly, 0x00);
  acc = _mm_xor_si128(acc, t);
  return (uint32_t)_mm_extract_epi32(acc, 1);
}

static bool clmul_available(void) {
  static _Atomic int available = -1;
  /* relaxed: every thread computes the same value; nothing else is published. */
  int a = atomic_load_explicit(&available, memory_order_relaxed);
  if (a < 0) {
    a = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    atomic_store_explicit(&available, a, memory_order_relaxed);
  }
  return a;
}
#endif

/* CRC-32 (zlib's, with its pre- and post-inversion) of n bytes, continuing
 * from crc. Long inputs take the carry-less multiplication path when the CPU
 * has it; both give the same value. */
static uint32_t crc32_any(uint32_t crc, const uint8_t *data, size_t n) {
#ifdef CRC32_CLMUL
  if (n >= 64 && clmul_available()) {
    size_t bulk = n & ~(size_t)15;
    crc = ~crc32_clmul(~crc, data, bulk);
    data += bulk;
    n -= bulk;
  }
#endif
  return crc32_zlib(crc, data, n);
}

uint32_t cqlmux_crc32_v5(const uint8_t *data, size_t n) {
  static const uint8_t seed[4] = {0xFA, 0x2D, 0x55, 0xCA};
  return crc32_any(crc32_zlib(0, seed, sizeof seed), data, n);
}

#include "proto/crc.h"

#include <stdatomic.h>
#include <stdbool.h>
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
  for (; n >= 64; p += 64, n -= 64) {
    __m128i *lanes[4] = {&x0, &x1, &x2, &x3};
    for (int i = 0; i < 4; i++) {
      __m128i lo = _mm_clmulepi64_si128(*lanes[i], k1k2, 0x00);
      __m128i hi = _mm_clmulepi64_si128(*lanes[i], k1k2, 0x11);
      __m128i next = _mm_loadu_si128((const __m128i *)(p + 16 * i));
      *lanes[i] = _mm_xor_si128(_mm_xor_si128(lo, hi), next);
    }
  }
  /* Four lanes into one, then the remaining 16-byte blocks. */
  __m128i acc = x0;
  const __m128i rest[3] = {x1, x2, x3};
  for (int i = 0; i < 3; i++) {
    __m128i lo = _mm_clmulepi64_si128(acc, k3k4, 0x00);
    __m128i hi = _mm_clmulepi64_si128(acc, k3k4, 0x11);
    acc = _mm_xor_si128(_mm_xor_si128(lo, hi), rest[i]);
  }
  for (; n >= 16; p += 16, n -= 16) {
    __m128i lo = _mm_clmulepi64_si128(acc, k3k4, 0x00);
    __m128i hi = _mm_clmulepi64_si128(acc, k3k4, 0x11);
    acc = _mm_xor_si128(_mm_xor_si128(lo, hi), _mm_loadu_si128((const __m128i *)p));
  }
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

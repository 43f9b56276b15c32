#include "cluster/murmur3.h"

#include <string.h>

static const uint64_t C1 = UINT64_C(0x87c37b91114253d5);
static const uint64_t C2 = UINT64_C(0x4cf5ad432745937f);

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= UINT64_C(0xff51afd7ed558ccd);
  k ^= k >> 33;
  k *= UINT64_C(0xc4ceb9fe1a85ec53);
  k ^= k >> 33;
  return k;
}

/* A block half: 8 bytes, little-endian, unsigned (Java masks each with 0xff). */
static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* A tail byte as Java reads it: `(long) key.get(i)` sign-extends. */
static inline uint64_t tail_byte(const uint8_t *p, size_t i, int shift) {
  return (uint64_t)(int64_t)(int8_t)p[i] << shift;
}

static inline uint64_t mix_k1(uint64_t k1) { return rotl64(k1 * C1, 31) * C2; }
static inline uint64_t mix_k2(uint64_t k2) { return rotl64(k2 * C2, 33) * C1; }

int64_t cqlmux_murmur3_token(const void *key, size_t len) {
  if (len == 0) return INT64_MIN;
  const uint8_t *data = key;
  size_t nblocks = len / 16;
  uint64_t h1 = 0, h2 = 0;
  for (size_t i = 0; i < nblocks; i++) {
    const uint8_t *block = data + i * 16;
    h1 ^= mix_k1(load_le64(block));
    h1 = (rotl64(h1, 27) + h2) * 5 + 0x52dce729;
    h2 ^= mix_k2(load_le64(block + 8));
    h2 = (rotl64(h2, 31) + h1) * 5 + 0x38495ab5;
  }
  const uint8_t *tail = data + nblocks * 16;
  uint64_t k1 = 0, k2 = 0;
  switch (len & 15) {
  case 15: k2 ^= tail_byte(tail, 14, 48); /* fall through */
  case 14: k2 ^= tail_byte(tail, 13, 40); /* fall through */
  case 13: k2 ^= tail_byte(tail, 12, 32); /* fall through */
  case 12: k2 ^= tail_byte(tail, 11, 24); /* fall through */
  case 11: k2 ^= tail_byte(tail, 10, 16); /* fall through */
  case 10: k2 ^= tail_byte(tail, 9, 8);   /* fall through */
  case 9: k2 ^= tail_byte(tail, 8, 0); h2 ^= mix_k2(k2); /* fall through */
  case 8: k1 ^= tail_byte(tail, 7, 56);   /* fall through */
  case 7: k1 ^= tail_byte(tail, 6, 48);   /* fall through */
  case 6: k1 ^= tail_byte(tail, 5, 40);   /* fall through */
  case 5: k1 ^= tail_byte(tail, 4, 32);   /* fall through */
  case 4: k1 ^= tail_byte(tail, 3, 24);   /* fall through */
  case 3: k1 ^= tail_byte(tail, 2, 16);   /* fall through */
  case 2: k1 ^= tail_byte(tail, 1, 8);    /* fall through */
  case 1: k1 ^= tail_byte(tail, 0, 0); h1 ^= mix_k1(k1); break;
  default: break;
  }
  h1 ^= (uint64_t)len;
  h2 ^= (uint64_t)len;
  h1 += h2;
  h2 += h1;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 += h2;
  /* Only the first half is the token; the conversion is two's complement. */
  int64_t token;
  memcpy(&token, &h1, sizeof token);
  return token == INT64_MIN ? INT64_MAX : token;
}

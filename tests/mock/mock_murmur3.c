/* Cassandra's Murmur3Partitioner token, written for the mock from the
 * MurmurHash3 x64 128 algorithm (seed 0; the token is the first 64-bit
 * half). It stays independent of the library's own implementation so that
 * the mock can check the driver's routing rather than repeat it. */
#include "config.h"

#include "mock/mock_internal.h"

#define MURMUR_C1 0x87c37b91114253d5ull
#define MURMUR_C2 0x4cf5ad432745937full

static uint64_t rotl64(uint64_t x, unsigned r) { return (x << r) | (x >> (64 - r)); }

static uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

/* A whole block's 64-bit lane: little-endian, bytes taken unsigned. */
static uint64_t block_lane(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* A tail byte as Cassandra's Java reads it: a signed byte widened to a
 * long, so 0x80..0xFF set every bit above them. Real Cassandra tokens
 * depend on this, so the mock must too. */
static uint64_t tail_byte(const uint8_t *p, size_t i, unsigned shift) {
  return (uint64_t)(int64_t)(int8_t)p[i] << shift;
}

static uint64_t mix_k1(uint64_t k1) { return rotl64(k1 * MURMUR_C1, 31) * MURMUR_C2; }
static uint64_t mix_k2(uint64_t k2) { return rotl64(k2 * MURMUR_C2, 33) * MURMUR_C1; }

/* The tail's (len % 16) bytes: bytes 8.. go to k2, bytes 0..7 to k1. */
static void murmur_tail(const uint8_t *t, size_t rest, uint64_t *h1, uint64_t *h2) {
  uint64_t k1 = 0, k2 = 0;
  for (size_t i = rest; i > 8; i--) k2 ^= tail_byte(t, i - 1, (unsigned)(i - 9) * 8);
  if (rest > 8) *h2 ^= mix_k2(k2);
  for (size_t i = rest < 8 ? rest : 8; i > 0; i--) k1 ^= tail_byte(t, i - 1, (unsigned)(i - 1) * 8);
  if (rest > 0) *h1 ^= mix_k1(k1);
}

static uint64_t murmur3_h1(const uint8_t *key, size_t len) {
  uint64_t h1 = 0, h2 = 0;
  size_t blocks = len / 16;
  for (size_t i = 0; i < blocks; i++) {
    h1 ^= mix_k1(block_lane(key + i * 16));
    h1 = rotl64(h1, 27) + h2;
    h1 = h1 * 5 + 0x52dce729;
    h2 ^= mix_k2(block_lane(key + i * 16 + 8));
    h2 = rotl64(h2, 31) + h1;
    h2 = h2 * 5 + 0x38495ab5;
  }
  murmur_tail(key + blocks * 16, len % 16, &h1, &h2);
  h1 ^= (uint64_t)len;
  h2 ^= (uint64_t)len;
  h1 += h2;
  h2 += h1;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  return h1 + h2;
}

int64_t cqlmux_mock_token(const void *key, size_t len) {
  if (len == 0) return INT64_MIN; /* Murmur3Partitioner: the minimum token */
  int64_t t = (int64_t)murmur3_h1(key, len);
  /* INT64_MIN is reserved for the minimum token: Cassandra maps it up. */
  return t == INT64_MIN ? INT64_MAX : t;
}

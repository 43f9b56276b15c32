#include "runtime/histogram.h"

#include <string.h>

#define SUB_COUNT (1u << CQLMUX_HISTOGRAM_SUB_BITS)
#define MAX_VALUE ((UINT64_C(1) << CQLMUX_HISTOGRAM_MAX_BITS) - 1)

void cqlmux_histogram_init(cqlmux_histogram *h) { memset(h, 0, sizeof *h); }

unsigned cqlmux_histogram_bucket_of(uint64_t v) {
  if (v < 2 * SUB_COUNT) return (unsigned)v;
  if (v > MAX_VALUE) v = MAX_VALUE;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v >= 64: e >= 6 */
  unsigned shift = e - CQLMUX_HISTOGRAM_SUB_BITS;
  return (shift << CQLMUX_HISTOGRAM_SUB_BITS) + (unsigned)(v >> shift);
}

uint64_t cqlmux_histogram_bucket_low(unsigned b) {
  if (b < 2 * SUB_COUNT) return b;
  unsigned shift = (b >> CQLMUX_HISTOGRAM_SUB_BITS) - 1;
  return (uint64_t)(SUB_COUNT + (b & (SUB_COUNT - 1))) << shift;
}

uint64_t cqlmux_histogram_bucket_high(unsigned b) {
  if (b < 2 * SUB_COUNT) return b;
  unsigned shift = (b >> CQLMUX_HISTOGRAM_SUB_BITS) - 1;
  return cqlmux_histogram_bucket_low(b) + (UINT64_C(1) << shift) - 1;
}

void cqlmux_histogram_record(cqlmux_histogram *h, uint64_t v) {
  /* relaxed throughout: counters only, read by snapshots that accept being
   * a few records behind; nothing else is published through them. */
  /* No count of its own: a snapshot sums the buckets, one locked
   * instruction less per request. */
  atomic_fetch_add_explicit(&h->buckets[cqlmux_histogram_bucket_of(v)], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
  uint64_t m = atomic_load_explicit(&h->max, memory_order_relaxed);
  while (v > m &&
         !atomic_compare_exchange_weak_explicit(&h->max, &m, v, memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}

void cqlmux_histogram_snapshot_take(const cqlmux_histogram *h, cqlmux_histogram_snapshot *out) {
  /* relaxed: see record. */
  out->count = 0;
  for (unsigned i = 0; i < CQLMUX_HISTOGRAM_BUCKETS; i++) {
    out->buckets[i] = atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
    out->count += out->buckets[i];
  }
  out->sum = atomic_load_explicit(&h->sum, memory_order_relaxed);
  out->max = atomic_load_explicit(&h->max, memory_order_relaxed);
}

void cqlmux_histogram_snapshot_add(cqlmux_histogram_snapshot *into,
                                   const cqlmux_histogram_snapshot *from) {
  for (unsigned i = 0; i < CQLMUX_HISTOGRAM_BUCKETS; i++) into->buckets[i] += from->buckets[i];
  into->count += from->count;
  into->sum += from->sum;
  if (from->max > into->max) into->max = from->max;
}

uint64_t cqlmux_histogram_quantile(const cqlmux_histogram_snapshot *s, double q) {
  uint64_t total = 0;
  for (unsigned i = 0; i < CQLMUX_HISTOGRAM_BUCKETS; i++) total += s->buckets[i];
  if (total == 0) return 0;
  if (q >= 1.0) return s->max;
  double want = q * (double)total;
  uint64_t rank = want > 0 ? (uint64_t)want : 0;
  if ((double)rank < want) rank++; /* ceil without libm */
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < CQLMUX_HISTOGRAM_BUCKETS; i++) {
    seen += s->buckets[i];
    if (seen >= rank) {
      uint64_t high = cqlmux_histogram_bucket_high(i);
      return high < s->max ? high : s->max;
    }
  }
  return s->max;
}

uint64_t cqlmux_histogram_mean(const cqlmux_histogram_snapshot *s) {
  return s->count ? s->sum / s->count : 0;
}

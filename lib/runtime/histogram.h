/* A log-linear latency histogram with lock-free recording.
 *
 * Buckets. Values (microseconds, or any unit) below 2 * 32 each have a
 * bucket of their own; above, every power of two [2^e, 2^(e+1)) is cut into
 * 32 equal buckets. So a bucket's width is at most 1/32 of its lower bound:
 * a percentile read from the histogram is within about 3 % of the true
 * value (HdrHistogram's layout with 5 significant bits). Values from 2^36 on
 * (19 hours in microseconds) land in the last bucket. 1024 buckets, 8 KiB.
 *
 * Threads. cqlmux_histogram_record may run on any number of threads at once:
 * each record is a few relaxed atomic additions (nothing else is published
 * through them), so it never blocks and never takes a lock. Reading
 * (cqlmux_histogram_snapshot_take) is a pass of relaxed loads: a snapshot
 * taken during recording may miss records still in progress, and its count
 * may differ by those from the sum of its buckets; each field is exact once
 * recording has stopped. */
#ifndef CQLMUX_RUNTIME_HISTOGRAM_H
#define CQLMUX_RUNTIME_HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>

#define CQLMUX_HISTOGRAM_SUB_BITS 5
#define CQLMUX_HISTOGRAM_MAX_BITS 36
#define CQLMUX_HISTOGRAM_BUCKETS \
  ((CQLMUX_HISTOGRAM_MAX_BITS - CQLMUX_HISTOGRAM_SUB_BITS + 1) << CQLMUX_HISTOGRAM_SUB_BITS)

typedef struct cqlmux_histogram {
  _Atomic uint64_t buckets[CQLMUX_HISTOGRAM_BUCKETS]; /* their sum is the count */
  _Atomic uint64_t sum;
  _Atomic uint64_t max;
} cqlmux_histogram;

/* A plain copy, for reading, merging and subtracting. */
typedef struct cqlmux_histogram_snapshot {
  uint64_t buckets[CQLMUX_HISTOGRAM_BUCKETS];
  uint64_t count;
  uint64_t sum;
  uint64_t max;
} cqlmux_histogram_snapshot;

/* All zero (a zeroed struct is also a valid empty histogram). */
void cqlmux_histogram_init(cqlmux_histogram *h);

/* Adds one value. Any thread, lock-free. */
void cqlmux_histogram_record(cqlmux_histogram *h, uint64_t value);

/* The bucket a value falls in, and the range [low, high] of a bucket. */
unsigned cqlmux_histogram_bucket_of(uint64_t value);
uint64_t cqlmux_histogram_bucket_low(unsigned bucket);
uint64_t cqlmux_histogram_bucket_high(unsigned bucket);

/* Copies h into out (relaxed loads; see above). Any thread. */
void cqlmux_histogram_snapshot_take(const cqlmux_histogram *h, cqlmux_histogram_snapshot *out);

/* into += from (bucket-wise; max is the larger). */
void cqlmux_histogram_snapshot_add(cqlmux_histogram_snapshot *into,
                                   const cqlmux_histogram_snapshot *from);

/* The value at quantile q (0..1): the highest value of the bucket holding
 * the ceil(q * count)-th smallest record, capped at the recorded max. 0 for
 * an empty histogram; q <= 0 gives the lowest bucket's, q >= 1 the max. */
uint64_t cqlmux_histogram_quantile(const cqlmux_histogram_snapshot *s, double q);

/* sum / count, 0 when empty. */
uint64_t cqlmux_histogram_mean(const cqlmux_histogram_snapshot *s);

#endif

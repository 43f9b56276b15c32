/* A count kept as two ever-growing counters, one per side: what was taken
 * (bumped by submitting threads) and what was given back (bumped by the
 * thread that completes), so that each side writes only its own cache line.
 * The count is their difference.
 *
 * The two counters are read one after the other, not as one snapshot: the
 * second read may include give-backs of things taken after the first read
 * (a submission admitted, sent, answered and settled by other threads in
 * between). The difference is then "negative", which the unsigned
 * subtraction turns into a huge number; a caller comparing it with a bound
 * would refuse work on an idle connection. Such a difference means nothing
 * was outstanding beyond what the first read saw, so it reads as 0.
 * Differences are trusted below half the type's range: the counters may
 * wrap, and a real count never gets near that. */
#ifndef CQLMUX_RUNTIME_SPLIT_COUNT_H
#define CQLMUX_RUNTIME_SPLIT_COUNT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

static inline unsigned cqlmux_split_count(unsigned taken, unsigned given_back) {
  unsigned d = taken - given_back;
  return d > UINT_MAX / 2 ? 0 : d;
}

static inline size_t cqlmux_split_count_size(size_t taken, size_t given_back) {
  size_t d = taken - given_back;
  return d > SIZE_MAX / 2 ? 0 : d;
}

#endif

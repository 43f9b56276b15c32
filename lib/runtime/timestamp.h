/* Client-side write timestamps: microseconds since the Unix epoch, strictly
 * increasing for every caller of one generator, whatever its thread and
 * whatever the wall clock does (set back by NTP or by hand).
 *
 * Each value is max(wall clock, last value + 1), claimed with a CAS on the
 * last value: lock-free, and two threads never get the same value. When the
 * wall clock is more than a second behind the last value (it was set back,
 * or the caller asks for more than a million timestamps a second for a
 * while), a WARN line says so, at most once a second.
 *
 * Thread: cqlmux_timestamp_gen_next may run on any thread concurrently. */
#ifndef CQLMUX_RUNTIME_TIMESTAMP_H
#define CQLMUX_RUNTIME_TIMESTAMP_H

#include <stdatomic.h>
#include <stdint.h>

#include "cqlmux.h"
#include "runtime/log.h"

/* The clocks a generator reads; tests inject their own. */
typedef struct cqlmux_timestamp_clock {
  int64_t (*wall_us)(void *user_data);    /* microseconds since the epoch */
  uint64_t (*steady_us)(void *user_data); /* spaces the drift warnings */
  void *user_data;
} cqlmux_timestamp_clock;

typedef struct cqlmux_timestamp_gen {
  _Atomic int64_t last;          /* the last value handed out */
  _Atomic uint64_t next_warning; /* steady_us before which drift is not logged */
  cqlmux_timestamp_clock clock;
  const cqlmux_logger *logger;
} cqlmux_timestamp_gen;

/* The system clocks: CLOCK_REALTIME and CLOCK_MONOTONIC. Static storage. */
const cqlmux_timestamp_clock *cqlmux_timestamp_system_clock(void);

/* clock NULL: the system clocks. logger NULL: the default logger. */
void cqlmux_timestamp_gen_init(cqlmux_timestamp_gen *gen, const cqlmux_timestamp_clock *clock,
                               const cqlmux_logger *logger);

/* The next timestamp: greater than every value this generator gave before. */
int64_t cqlmux_timestamp_gen_next(cqlmux_timestamp_gen *gen);

/* cqlmux_timestamp_gen_next with the public generator signature (user_data
 * is the cqlmux_timestamp_gen). */
int64_t cqlmux_timestamp_gen_callback(void *user_data);

/* Strictly increasing values from one atomic: max(now, *last + 1), claimed
 * by CAS; *previous gets the value it replaced. Shared by the write
 * timestamps and the UUID v1 clock. */
int64_t cqlmux_monotonic_claim(_Atomic int64_t *last, int64_t now, int64_t *previous);

/* Where the encoders get a timestamp for a request that has none of its
 * own: fn NULL means none (the server stamps the write). */
typedef struct cqlmux_timestamp_source {
  cqlmux_timestamp_generator fn;
  void *user_data;
} cqlmux_timestamp_source;

/* Fills *has / *value from src unless the request already has a timestamp
 * (*has true). src may be NULL. */
void cqlmux_timestamp_source_fill(const cqlmux_timestamp_source *src, bool *has, int64_t *value);

#endif

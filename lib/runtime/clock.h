/* The one clock of the runtime: CLOCK_MONOTONIC in microseconds. Deadlines
 * (timers, request timeouts, timed waits) never move when the wall clock is
 * set. */
#ifndef CQLMUX_RUNTIME_CLOCK_H
#define CQLMUX_RUNTIME_CLOCK_H

#include <stdint.h>
#include <time.h>

uint64_t cqlmux_clock_now_us(void);

/* The CLOCK_MONOTONIC instant `delay_us` from now, for pthread timed waits
 * on a condition variable created with CLOCK_MONOTONIC. */
struct timespec cqlmux_clock_deadline(uint64_t delay_us);

#endif

#include "runtime/clock.h"

uint64_t cqlmux_clock_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct timespec cqlmux_clock_deadline(uint64_t delay_us) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t nsec = (uint64_t)ts.tv_nsec + (delay_us % 1000000u) * 1000u;
  uint64_t sec = (uint64_t)ts.tv_sec + delay_us / 1000000u + nsec / 1000000000u;
  /* Saturate instead of overflowing time_t for "wait forever"-sized delays. */
  const uint64_t max_sec = (uint64_t)1 << 40;
  ts.tv_sec = (time_t)(sec > max_sec ? max_sec : sec);
  ts.tv_nsec = (long)(nsec % 1000000000u);
  return ts;
}

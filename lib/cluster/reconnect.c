#include "cluster/reconnect.h"

/* Percent of the nominal delay the jitter may add or remove. */
#define JITTER_PERCENT 15u

void cqlmux_reconnect_init(cqlmux_reconnect *r, uint64_t base_us, uint64_t cap_us, uint64_t seed) {
  r->base_us = base_us;
  r->cap_us = cap_us < base_us ? base_us : cap_us;
  r->attempts = 0;
  r->random = seed | 1; /* xorshift must not start at 0 */
}

uint64_t cqlmux_reconnect_nominal_us(const cqlmux_reconnect *r, unsigned attempt) {
  if (attempt == 0) return 0;
  uint64_t d = r->base_us;
  /* Doubling stops once the cap is reached, so it cannot overflow. */
  for (unsigned i = 1; i < attempt && d < r->cap_us; i++) d *= 2;
  return d < r->cap_us ? d : r->cap_us;
}

static uint64_t next_random(cqlmux_reconnect *r) {
  uint64_t x = r->random;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  r->random = x;
  return x;
}

uint64_t cqlmux_reconnect_next_delay_us(cqlmux_reconnect *r) {
  uint64_t nominal = cqlmux_reconnect_nominal_us(r, r->attempts);
  if (r->attempts < ~0u) r->attempts++;
  if (nominal == 0) return 0;
  uint64_t spread = nominal / 100 * JITTER_PERCENT;
  uint64_t lower = nominal - spread, upper = nominal + spread;
  /* Jitter spreads hosts out below the cap, never beyond it: at the cap the
   * range is [cap - spread, cap], still uniform, so hosts stay apart. */
  if (upper > r->cap_us) upper = r->cap_us;
  return lower + next_random(r) % (upper - lower + 1);
}

void cqlmux_reconnect_reset(cqlmux_reconnect *r) { r->attempts = 0; }

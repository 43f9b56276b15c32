/* The reconnection schedule of one host (reference: "Reconnection"):
 * the first attempt at once, then base, 2 base, 4 base ... capped at `cap`,
 * each delay jittered so that hosts that failed together do not retry
 * together, and never past the cap.
 *
 * Pure arithmetic on a small state; the owner serialises access (the
 * host's pool lock). */
#ifndef CQLMUX_CLUSTER_RECONNECT_H
#define CQLMUX_CLUSTER_RECONNECT_H

#include <stdint.h>

typedef struct cqlmux_reconnect {
  uint64_t base_us;   /* delay after the first failed attempt (default 1 s) */
  uint64_t cap_us;    /* longest delay (default 60 s) */
  unsigned attempts;  /* attempts made since the last success */
  uint64_t random;    /* xorshift64 state for the jitter */
} cqlmux_reconnect;

/* A schedule with no attempt made; seed makes the jitter differ per host. */
void cqlmux_reconnect_init(cqlmux_reconnect *r, uint64_t base_us, uint64_t cap_us, uint64_t seed);

/* The delay before the next attempt, counting it as made: 0 for the first,
 * then base * 2^(n-1) capped, drawn uniformly from [nominal - 15 %,
 * min(nominal + 15 %, cap)]: never past the cap. */
uint64_t cqlmux_reconnect_next_delay_us(cqlmux_reconnect *r);

/* The nominal (unjittered) delay of attempt number `attempt` (0-based). */
uint64_t cqlmux_reconnect_nominal_us(const cqlmux_reconnect *r, unsigned attempt);

/* A success: the next failure starts over at an immediate attempt. */
void cqlmux_reconnect_reset(cqlmux_reconnect *r);

#endif

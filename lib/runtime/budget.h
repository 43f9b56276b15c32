/* A memory budget: bytes in use against a limit, shared by the threads that
 * take bytes (submitting threads charge a request's bytes) and those that
 * give them back (the threads that complete requests, and I/O threads
 * writing what they had buffered).
 *
 * In use = charged - released, two ever-growing counters on separate cache
 * lines, so that a submitting thread and a completing thread never bounce
 * one line between them on every request (a shared line cost ~0.3 us per
 * request). Charging reads only a recent copy of `released` (see
 * cqlmux_budget_charge); the true figure is read only near the limit.
 *
 * Any thread. Callers release exactly what they charged, once. */
#ifndef CQLMUX_RUNTIME_BUDGET_H
#define CQLMUX_RUNTIME_BUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "runtime/intrusive.h"

typedef struct cqlmux_budget {
  size_t limit; /* bytes; 0: no limit (charges still counted). Read-only */
  char pad0_[CQLMUX_CACHE_LINE]; /* a line between groups: the heap aligns to 16 only */
  /* Written by charging threads. */
  atomic_size_t charged;
  atomic_size_t released_seen;   /* a recent `released`, see cqlmux_budget_charge */
  char pad1_[CQLMUX_CACHE_LINE];
  /* Written by releasing threads. */
  atomic_size_t released;
  char pad2_[CQLMUX_CACHE_LINE];
} cqlmux_budget;

void cqlmux_budget_init(cqlmux_budget *b, size_t limit);

/* Charges `bytes`; false when the bytes in use, these included, are over
 * the limit. The bytes stay charged either way: release them. */
bool cqlmux_budget_charge(cqlmux_budget *b, size_t bytes);

/* Gives back bytes charged earlier (0 is allowed and costs nothing). */
void cqlmux_budget_release(cqlmux_budget *b, size_t bytes);

/* Whether `extra` more bytes would keep the use within the limit, now:
 * reads both counters, so keep it off the per-request path. */
bool cqlmux_budget_fits(cqlmux_budget *b, size_t extra);

/* Whether the bytes in use are over the limit now (see _fits). */
bool cqlmux_budget_exhausted(cqlmux_budget *b);

#endif

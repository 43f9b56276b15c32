#include "runtime/budget.h"

#include "runtime/split_count.h"

void cqlmux_budget_init(cqlmux_budget *b, size_t limit) {
  b->limit = limit;
  atomic_init(&b->charged, 0);
  atomic_init(&b->released_seen, 0);
  atomic_init(&b->released, 0);
}

/* In use = charged - released, but released lives on the releasing threads'
 * cache line: reading it on every charge would pull that line over. A recent
 * copy (released_seen) is normally smaller than the truth, so it
 * over-estimates the use: only when the estimate is over the limit is the
 * real count read (and the copy refreshed). With a 64 MiB budget that is
 * once per tens of thousands of requests.
 * Either released figure may include bytes charged after this add (another
 * thread charged, used, and released them, or refreshed the copy with
 * them): cqlmux_split_count_size reads that as 0 in use rather than as a
 * wrapped huge number and a false "over" (runtime/split_count.h).
 * relaxed throughout: a bound that racing charges may overshoot by their
 * own bytes, as an atomic total would too. */
bool cqlmux_budget_charge(cqlmux_budget *b, size_t bytes) {
  size_t charged = atomic_fetch_add_explicit(&b->charged, bytes, memory_order_relaxed) + bytes;
  if (!b->limit) return true;
  size_t seen = atomic_load_explicit(&b->released_seen, memory_order_relaxed);
  if (cqlmux_split_count_size(charged, seen) <= b->limit) return true;
  size_t released = atomic_load_explicit(&b->released, memory_order_relaxed);
  atomic_store_explicit(&b->released_seen, released, memory_order_relaxed);
  return cqlmux_split_count_size(charged, released) <= b->limit;
}

void cqlmux_budget_release(cqlmux_budget *b, size_t bytes) {
  /* relaxed: a byte count checked against a bound (see cqlmux_budget_charge). */
  if (bytes) atomic_fetch_add_explicit(&b->released, bytes, memory_order_relaxed);
}

bool cqlmux_budget_fits(cqlmux_budget *b, size_t extra) {
  if (!b->limit) return true;
  /* relaxed: see cqlmux_budget_charge. released first: a release racing
   * between the two reads then makes the use look larger, not negative. */
  size_t released = atomic_load_explicit(&b->released, memory_order_relaxed);
  size_t charged = atomic_load_explicit(&b->charged, memory_order_relaxed);
  size_t in_use = cqlmux_split_count_size(charged, released);
  return in_use <= b->limit && extra <= b->limit - in_use;
}

bool cqlmux_budget_exhausted(cqlmux_budget *b) { return !cqlmux_budget_fits(b, 0); }

/* Client-side write timestamps (see timestamp.h). */
#include "runtime/timestamp.h"

#include <time.h>

#include "runtime/clock.h"

#define DRIFT_WARN_US 1000000 /* the wall clock this far behind is worth a line */
#define WARN_SPACING_US 1000000

static int64_t system_wall_us(void *user_data) {
  (void)user_data;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t system_steady_us(void *user_data) {
  (void)user_data;
  return cqlmux_clock_now_us();
}

const cqlmux_timestamp_clock *cqlmux_timestamp_system_clock(void) {
  static const cqlmux_timestamp_clock system = {system_wall_us, system_steady_us, NULL};
  return &system;
}

void cqlmux_timestamp_gen_init(cqlmux_timestamp_gen *gen, const cqlmux_timestamp_clock *clock,
                               const cqlmux_logger *logger) {
  atomic_init(&gen->last, INT64_MIN);
  atomic_init(&gen->next_warning, 0);
  gen->clock = clock ? *clock : *cqlmux_timestamp_system_clock();
  gen->logger = logger;
}

int64_t cqlmux_monotonic_claim(_Atomic int64_t *last, int64_t now, int64_t *previous) {
  /* Relaxed is enough: the values live in the one atomic, whose
   * modification order every CAS follows, so each claim is greater than
   * every claim before it in that order (and a claim that happens-before
   * another is earlier in it). Nothing else is published through it. */
  int64_t seen = atomic_load_explicit(last, memory_order_relaxed);
  int64_t next;
  do {
    next = now > seen ? now : seen + 1;
  } while (!atomic_compare_exchange_weak_explicit(last, &seen, next, memory_order_relaxed,
                                                  memory_order_relaxed));
  *previous = seen;
  return next;
}

/* One thread wins the right to warn per spacing interval. */
static void warn_drift(cqlmux_timestamp_gen *gen, int64_t behind_us) {
  uint64_t now = gen->clock.steady_us(gen->clock.user_data);
  /* Relaxed: the slot only decides who logs; no data hangs on it. */
  uint64_t slot = atomic_load_explicit(&gen->next_warning, memory_order_relaxed);
  if (now < slot) return;
  if (!atomic_compare_exchange_strong_explicit(&gen->next_warning, &slot, now + WARN_SPACING_US,
                                               memory_order_relaxed, memory_order_relaxed))
    return;
  cqlmux_log(gen->logger, CQLMUX_LOG_WARN,
             "client timestamps: the clock is %lld us behind the last timestamp given; "
             "timestamps run ahead of it until it catches up",
             (long long)behind_us);
}

int64_t cqlmux_timestamp_gen_next(cqlmux_timestamp_gen *gen) {
  int64_t now = gen->clock.wall_us(gen->clock.user_data);
  int64_t previous;
  int64_t next = cqlmux_monotonic_claim(&gen->last, now, &previous);
  if (previous > now && previous - now > DRIFT_WARN_US) warn_drift(gen, previous - now);
  return next;
}

int64_t cqlmux_timestamp_gen_callback(void *user_data) {
  return cqlmux_timestamp_gen_next(user_data);
}

void cqlmux_timestamp_source_fill(const cqlmux_timestamp_source *src, bool *has, int64_t *value) {
  if (*has || !src || !src->fn) return;
  int64_t ts = src->fn(src->user_data);
  if (ts == CQLMUX_TIMESTAMP_NONE) return;
  *has = true;
  *value = ts;
}

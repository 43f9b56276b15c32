/* How long a thread that ran out of work watches for more before it blocks.
 *
 * Blocking and being woken again costs a sleep, a wake-up from another
 * thread and a context switch: 10-20 us of CPU on the virtual machines this
 * library is measured on. When the next piece of work usually comes sooner
 * than that, watching for it is cheaper; when it comes later, watching only
 * burns the CPU the other threads (and a server on the same machine) need.
 *
 * So the window is learned: an average of the recent gaps between running
 * out of work and the next work arriving (found while watching, or after a
 * wake-up; a gap longer than the window counts as the window's length, plus
 * whatever the blocked wait took). The thread watches for twice that plus a
 * floor, within a ceiling, and not at all while the gaps average more than
 * the ceiling: a light load, where nothing would be caught.
 *
 * Not thread-safe: each thread keeps its own. */
#ifndef CQLMUX_RUNTIME_SPIN_WINDOW_H
#define CQLMUX_RUNTIME_SPIN_WINDOW_H

#include <stdint.h>

typedef struct cqlmux_spin_window {
  /* 8 x the exponential average (weight 1/8): kept scaled so that small
   * differences move it (an unscaled (7 x avg + gap) / 8 never rises from 5
   * towards a steady 10: it truncates to 5 every time). */
  uint64_t gap_avg8_us;
  uint32_t min_us;     /* the floor added to twice the average */
  uint32_t max_us;     /* the ceiling; averages above it turn watching off */
} cqlmux_spin_window;

static inline void cqlmux_spin_window_init(cqlmux_spin_window *w, uint32_t min_us,
                                           uint32_t max_us) {
  w->gap_avg8_us = 8 * (uint64_t)min_us;
  w->min_us = min_us;
  w->max_us = max_us;
}

/* A gap from running out of work to the next work, in microseconds. One
 * long pause moves the average by a bounded step (8 x the ceiling at most),
 * so a busy period after it is recognised within a few gaps. */
static inline void cqlmux_spin_window_record(cqlmux_spin_window *w, uint64_t gap_us) {
  uint64_t bound = 8 * (uint64_t)w->max_us;
  if (gap_us > bound) gap_us = bound;
  w->gap_avg8_us = w->gap_avg8_us - w->gap_avg8_us / 8 + gap_us;
}

/* The average gap, in microseconds. */
static inline uint64_t cqlmux_spin_window_gap_us(const cqlmux_spin_window *w) {
  return w->gap_avg8_us / 8;
}

/* How long to watch now, in microseconds; 0: block at once. */
static inline uint64_t cqlmux_spin_window_us(const cqlmux_spin_window *w) {
  uint64_t avg = cqlmux_spin_window_gap_us(w);
  if (avg > w->max_us) return 0;
  uint64_t window = 2 * avg + w->min_us;
  return window < w->max_us ? window : w->max_us;
}

#endif

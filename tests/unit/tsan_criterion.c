/* Lets Criterion run under ThreadSanitizer.
 *
 * Criterion's sandbox (BoxFort) maps its shared "inheritable arena" with
 * MAP_FIXED at a random address in [0x2000'0000'0000, 0x6000'0000'0000),
 * chosen with rand_r(). ThreadSanitizer refuses fixed mappings outside its
 * application ranges, so BoxFort gives up after ten tries and the runner
 * aborts ("Could not initialize inheritable arena", Criterion issue #274).
 * In a TSan build this file interposes rand_r() for the test programs so
 * that BoxFort only draws slots inside TSan's PIE application range
 * [0x5500'0000'0000, 0x5680'0000'0000), stepping through it so that a slot
 * already in use just moves the next try along. Nothing in cqlmux or its
 * tests calls rand_r(). It also makes every TSan report fail the test. In
 * other builds this file is empty. */
#if defined(__SANITIZE_THREAD__)

#include <stdatomic.h>

int rand_r(unsigned *seed);
const char *__tsan_default_options(void);

/* BoxFort: base = 0x2000'0000'0000 + (r & 0x3fffff) * 16 MiB. */
#define FIRST_SLOT 0x350000u /* 0x5500'0000'0000 */
#define SLOT_COUNT 0x18000u  /* up to 0x5680'0000'0000 */

int rand_r(unsigned *seed) {
  static _Atomic unsigned step;
  (void)seed;
  unsigned n = atomic_fetch_add(&step, 1);
  return (int)(FIRST_SLOT + (n * 0x1357u) % SLOT_COUNT);
}

const char *__tsan_default_options(void) { return "halt_on_error=1:second_deadlock_stack=1"; }

#else
typedef int cqlmux_tsan_criterion_unused;
#endif

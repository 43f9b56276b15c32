/* Light-load co-location (see colocation.h). */
#include <config.h> /* _GNU_SOURCE: sched_getcpu, CPU_* */

#include "runtime/colocation.h"

#include <sched.h>
#include <string.h>

/* Each library thread keeps its own: these are only ever read and written
 * by the thread they describe. */
static _Thread_local bool allowed;
static _Thread_local bool inherited_known;
static _Thread_local cpu_set_t inherited;
static _Thread_local int pinned = CQLMUX_COLOCATION_NONE;

void cqlmux_colocation_before_start_hook(void) {
  inherited_known = sched_getaffinity(0, sizeof inherited, &inherited) == 0;
}

void cqlmux_colocation_after_start_hook(void) {
  cpu_set_t now;
  allowed = inherited_known && sched_getaffinity(0, sizeof now, &now) == 0 &&
            CPU_EQUAL(&now, &inherited) && CPU_COUNT(&inherited) > 1;
}

bool cqlmux_colocation_allowed(void) { return allowed; }

int cqlmux_colocation_current_cpu(void) {
  int cpu = sched_getcpu();
  return cpu >= 0 ? cpu : CQLMUX_COLOCATION_NONE;
}

int cqlmux_colocation_pinned(void) { return pinned; }

/* A refused change (a cpuset that no longer allows those CPUs) ends
 * co-location for this thread: the callers would otherwise ask again at
 * every hand-off or task. */
static void set_mask(const cpu_set_t *mask, int cpu) {
  if (sched_setaffinity(0, sizeof *mask, mask) == 0) {
    pinned = cpu;
  } else {
    allowed = false;
  }
}

void cqlmux_colocation_pin(int cpu) {
  if (!allowed || cpu == pinned) return;
  if (cpu == CQLMUX_COLOCATION_NONE) {
    set_mask(&inherited, CQLMUX_COLOCATION_NONE);
    return;
  }
  if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &inherited)) return;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  set_mask(&one, cpu);
}

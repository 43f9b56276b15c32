/* Light-load co-location: an I/O thread and the callback worker it hands
 * completions to share one CPU while the load is light.
 *
 * At a few requests in flight every completion crosses threads three times
 * (the I/O thread wakes for the answer, wakes the worker, and is woken
 * again by the request the callback sends). On the virtual machines this
 * library is measured on, a wake-up that has to reach another, halted CPU
 * costs far more than one that stays on the waker's CPU (an interrupt to
 * another virtual CPU against a run-queue insert): with both threads on one
 * CPU, select at 1 in flight against Cassandra took about a third less
 * client CPU per request (doc/performance.md). Under load the threads are
 * released again, so each can have a CPU of its own.
 *
 * Only a thread whose CPU mask is still the one it inherited is ever
 * narrowed: a thread-start callback that set an affinity of its own keeps
 * it (cqlmux_thread_begin records the mask before and after the callback).
 * The narrowed mask is always restored to that inherited one.
 *
 * Every function acts on the calling thread only. */
#ifndef CQLMUX_RUNTIME_COLOCATION_H
#define CQLMUX_RUNTIME_COLOCATION_H

#include <stdbool.h>

/* No CPU: the thread runs on its inherited mask. */
#define CQLMUX_COLOCATION_NONE (-1)

/* Around the thread-start callback (thread_role.c): the mask before it, and
 * whether the callback left the mask alone. */
void cqlmux_colocation_before_start_hook(void);
void cqlmux_colocation_after_start_hook(void);

/* Whether this thread's mask may be narrowed (a library thread whose mask
 * nobody set, allowing more than one CPU). */
bool cqlmux_colocation_allowed(void);

/* The CPU this thread runs on now, or CQLMUX_COLOCATION_NONE if unknown. */
int cqlmux_colocation_current_cpu(void);

/* Run this thread on `cpu` only, or on its inherited mask again with
 * CQLMUX_COLOCATION_NONE. A system call only when that changes anything;
 * nothing when the thread is not allowed or `cpu` is outside its mask. If
 * the kernel refuses the change, the thread stays as it is and is no longer
 * allowed (it is not asked again). */
void cqlmux_colocation_pin(int cpu);

/* The CPU this thread is narrowed to, or CQLMUX_COLOCATION_NONE. */
int cqlmux_colocation_pinned(void);

#endif

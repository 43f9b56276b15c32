#include <config.h> /* _GNU_SOURCE: pthread_setname_np */

#include "runtime/thread_role.h"

#include <pthread.h>
#include <stdio.h>

#include "runtime/colocation.h"

static _Thread_local cqlmux_thread_role thread_role = CQLMUX_THREAD_APP;
static _Thread_local unsigned callback_depth;

void cqlmux_thread_begin(cqlmux_thread_role role, unsigned index, const cqlmux_thread_hook *hook) {
  thread_role = role;
  bool io = role == CQLMUX_THREAD_IO;
#if defined(__GLIBC__)
  char name[16];
  snprintf(name, sizeof name, "cqlmux-%s-%u", io ? "io" : "cb", index);
  pthread_setname_np(pthread_self(), name);
#endif
  cqlmux_colocation_before_start_hook();
  if (hook && hook->start)
    hook->start(io ? CQLMUX_THREAD_KIND_IO : CQLMUX_THREAD_KIND_CALLBACK, index, hook->user_data);
  cqlmux_colocation_after_start_hook();
}

cqlmux_thread_role cqlmux_thread_get_role(void) { return thread_role; }

void cqlmux_thread_enter_callback(void) { callback_depth++; }

void cqlmux_thread_leave_callback(void) { callback_depth--; }

bool cqlmux_thread_may_block(void) {
  return thread_role == CQLMUX_THREAD_APP && callback_depth == 0;
}

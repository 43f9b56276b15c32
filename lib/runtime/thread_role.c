#include "runtime/thread_role.h"

static _Thread_local cqlmux_thread_role thread_role = CQLMUX_THREAD_APP;
static _Thread_local unsigned callback_depth;

void cqlmux_thread_set_role(cqlmux_thread_role role) { thread_role = role; }

cqlmux_thread_role cqlmux_thread_get_role(void) { return thread_role; }

void cqlmux_thread_enter_callback(void) { callback_depth++; }

void cqlmux_thread_leave_callback(void) { callback_depth--; }

bool cqlmux_thread_may_block(void) {
  return thread_role == CQLMUX_THREAD_APP && callback_depth == 0;
}

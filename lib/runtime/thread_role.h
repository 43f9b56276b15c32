/* What kind of thread is running, as a thread-local marker.
 *
 * A blocking wait on a future from one of the library's own threads (or from
 * inside a completion callback, whatever thread runs it) can deadlock: the
 * work that would complete the future may be queued behind the caller. The
 * marker lets cqlmux_future_wait() refuse with CQLMUX_ERR_WOULD_DEADLOCK
 * instead of hanging. */
#ifndef CQLMUX_RUNTIME_THREAD_ROLE_H
#define CQLMUX_RUNTIME_THREAD_ROLE_H

#include <stdbool.h>

#include "cqlmux.h"

typedef enum cqlmux_thread_role {
  CQLMUX_THREAD_APP = 0, /* a thread the application created (the default) */
  CQLMUX_THREAD_IO,      /* an I/O loop thread */
  CQLMUX_THREAD_WORKER   /* a callback worker */
} cqlmux_thread_role;

/* The application's thread-start callback
 * (cqlmux_config_set_thread_start_callback), carried to where the library's
 * threads start. */
typedef struct cqlmux_thread_hook {
  cqlmux_thread_start_callback start; /* NULL: none */
  void *user_data;
} cqlmux_thread_hook;

/* First thing a library thread (CQLMUX_THREAD_IO or CQLMUX_THREAD_WORKER)
 * does, on itself: takes its role, names itself cqlmux-io-<index> or
 * cqlmux-cb-<index>, then runs `hook` (NULL = none) with the same index, so
 * the callback sees the final role and name. */
void cqlmux_thread_begin(cqlmux_thread_role role, unsigned index, const cqlmux_thread_hook *hook);

cqlmux_thread_role cqlmux_thread_get_role(void);

/* Bracket every call into a user completion callback (they nest). */
void cqlmux_thread_enter_callback(void);
void cqlmux_thread_leave_callback(void);

/* False on library threads and inside a completion callback. */
bool cqlmux_thread_may_block(void);

#endif

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

typedef enum cqlmux_thread_role {
  CQLMUX_THREAD_APP = 0, /* a thread the application created (the default) */
  CQLMUX_THREAD_IO,      /* an I/O loop thread */
  CQLMUX_THREAD_WORKER   /* a callback worker */
} cqlmux_thread_role;

/* Set once by each library thread at its start. */
void cqlmux_thread_set_role(cqlmux_thread_role role);
cqlmux_thread_role cqlmux_thread_get_role(void);

/* Bracket every call into a user completion callback (they nest). */
void cqlmux_thread_enter_callback(void);
void cqlmux_thread_leave_callback(void);

/* False on library threads and inside a completion callback. */
bool cqlmux_thread_may_block(void);

#endif

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

/* Set once by each library thread at its start. */
void cqlmux_thread_set_role(cqlmux_thread_role role);
cqlmux_thread_role cqlmux_thread_get_role(void);

/* The application's thread-start callback
 * (cqlmux_config_set_thread_start_callback), carried to where the library's
 * threads start. Each thread runs it once, after setting its role, before
 * any work. */
typedef struct cqlmux_thread_hook {
  cqlmux_thread_start_callback start; /* NULL: none */
  void *user_data;
} cqlmux_thread_hook;

static inline void cqlmux_thread_hook_run(const cqlmux_thread_hook *hook, cqlmux_thread_kind kind,
                                          unsigned index) {
  if (hook && hook->start) hook->start(kind, index, hook->user_data);
}

/* Bracket every call into a user completion callback (they nest). */
void cqlmux_thread_enter_callback(void);
void cqlmux_thread_leave_callback(void);

/* False on library threads and inside a completion callback. */
bool cqlmux_thread_may_block(void);

#endif

/* The interface between the I/O loop and its readiness backends (epoll,
 * poll). A backend keeps its own state; the loop calls it only from the loop
 * thread. The wait is split from the dispatch so that the loop can clear its
 * `sleeping` flag as soon as the syscall returns, before running callbacks. */
#ifndef CQLMUX_NET_LOOP_BACKEND_H
#define CQLMUX_NET_LOOP_BACKEND_H

#include <stdbool.h>

#include <config.h>

#include "net/loop.h"

typedef struct cqlmux_backend_ops {
  cqlmux_io_backend id;
  const char *name;
  bool wake_with_eventfd; /* else a pipe */
  /* CQLMUX_OK or CQLMUX_ERR_NOMEM / CQLMUX_ERR_INVALID_STATE; *state set. */
  int (*init)(void **state, const cqlmux_allocator *alloc);
  void (*destroy)(void *state);
  /* Register `watch` (when !watch->active) or update it to watch->events. */
  int (*watch)(void *state, cqlmux_io_watch *watch);
  void (*unwatch)(void *state, cqlmux_io_watch *watch);
  /* Block up to timeout_ms (-1: no limit) and remember what is ready. */
  void (*wait)(void *state, int timeout_ms);
  /* Run the callbacks of what the last wait found ready. */
  void (*dispatch)(void *state);
} cqlmux_backend_ops;

#ifdef HAVE_SYS_EPOLL_H
extern const cqlmux_backend_ops cqlmux_backend_epoll;
#endif
extern const cqlmux_backend_ops cqlmux_backend_poll;

#endif

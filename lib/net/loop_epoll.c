/* epoll(7) backend: level-triggered, the watch pointer in epoll's data. */
#include <config.h>

#ifdef HAVE_SYS_EPOLL_H

#include <sys/epoll.h>
#include <unistd.h>

#include "net/loop_backend.h"
#include "runtime/alloc.h"

#define EPOLL_BATCH 64

typedef struct epoll_state {
  int epfd;
  int ready; /* events filled by the last wait */
  const cqlmux_allocator *alloc;
  struct epoll_event events[EPOLL_BATCH];
} epoll_state;

static int epoll_init(void **out, const cqlmux_allocator *alloc) {
  epoll_state *st = cqlmux_mem_calloc(alloc, 1, sizeof *st);
  if (!st) return CQLMUX_ERR_NOMEM;
  st->alloc = alloc;
  st->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (st->epfd < 0) {
    cqlmux_mem_free(alloc, st);
    return CQLMUX_ERR_INVALID_STATE;
  }
  *out = st;
  return CQLMUX_OK;
}

static void epoll_destroy(void *state) {
  epoll_state *st = state;
  close(st->epfd);
  cqlmux_mem_free(st->alloc, st);
}

static int epoll_watch(void *state, cqlmux_io_watch *w) {
  epoll_state *st = state;
  struct epoll_event ev = {0};
  ev.events = (w->events & CQLMUX_IO_READ ? EPOLLIN : 0u) |
              (w->events & CQLMUX_IO_WRITE ? EPOLLOUT : 0u);
  ev.data.ptr = w;
  int op = w->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  return epoll_ctl(st->epfd, op, w->fd, &ev) == 0 ? CQLMUX_OK : CQLMUX_ERR_INVALID_STATE;
}

static void epoll_unwatch(void *state, cqlmux_io_watch *w) {
  epoll_state *st = state;
  struct epoll_event ev = {0}; /* ignored, but kernels before 2.6.9 want it */
  epoll_ctl(st->epfd, EPOLL_CTL_DEL, w->fd, &ev);
  /* Drop its events still waiting in this batch: the watch may be freed. */
  for (int i = 0; i < st->ready; i++)
    if (st->events[i].data.ptr == w) st->events[i].data.ptr = NULL;
}

static void epoll_wait_ready(void *state, int timeout_ms) {
  epoll_state *st = state;
  int n = epoll_wait(st->epfd, st->events, EPOLL_BATCH, timeout_ms);
  st->ready = n > 0 ? n : 0; /* EINTR: a spurious wake-up, nothing ready */
}

static unsigned to_io_events(uint32_t ev) {
  return (ev & EPOLLIN ? CQLMUX_IO_READ : 0u) | (ev & EPOLLOUT ? CQLMUX_IO_WRITE : 0u) |
         (ev & (EPOLLERR | EPOLLHUP) ? CQLMUX_IO_ERROR : 0u);
}

static void epoll_dispatch(void *state) {
  epoll_state *st = state;
  for (int i = 0; i < st->ready; i++) {
    cqlmux_io_watch *w = st->events[i].data.ptr;
    if (w) w->fn(w, to_io_events(st->events[i].events));
  }
  st->ready = 0;
}

const cqlmux_backend_ops cqlmux_backend_epoll = {
    CQLMUX_IO_BACKEND_EPOLL, "epoll",
#ifdef HAVE_SYS_EVENTFD_H
    true,
#else
    false,
#endif
    epoll_init, epoll_destroy, epoll_watch, epoll_unwatch, epoll_wait_ready, epoll_dispatch};

#endif

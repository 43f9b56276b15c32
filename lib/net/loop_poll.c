/* poll(2) backend, for systems without epoll (and tested on Linux too).
 *
 * Parallel arrays of pollfd and watch pointers; a watch remembers its slot.
 * Removing a watch while callbacks of the same turn are running only blanks
 * its slot (fd -1, which poll ignores); the arrays are compacted after the
 * dispatch, so indices stay stable while they are being walked. */
#include <config.h>

#include <poll.h>
#include <stdbool.h>

#include "net/loop_backend.h"
#include "runtime/alloc.h"

typedef struct poll_state {
  struct pollfd *fds;
  cqlmux_io_watch **watches;
  size_t len;
  size_t cap;
  bool dispatching;
  bool holes; /* blanked slots to compact after the dispatch */
  const cqlmux_allocator *alloc;
} poll_state;

static int poll_init(void **out, const cqlmux_allocator *alloc) {
  poll_state *st = cqlmux_mem_calloc(alloc, 1, sizeof *st);
  if (!st) return CQLMUX_ERR_NOMEM;
  st->alloc = alloc;
  *out = st;
  return CQLMUX_OK;
}

static void poll_destroy(void *state) {
  poll_state *st = state;
  cqlmux_mem_free(st->alloc, st->fds);
  cqlmux_mem_free(st->alloc, st->watches);
  cqlmux_mem_free(st->alloc, st);
}

static short to_poll_events(unsigned events) {
  return (short)((events & CQLMUX_IO_READ ? POLLIN : 0) | (events & CQLMUX_IO_WRITE ? POLLOUT : 0));
}

static int grow(poll_state *st) {
  size_t cap = st->cap ? st->cap * 2 : 16;
  struct pollfd *fds = cqlmux_mem_realloc(st->alloc, st->fds, cap * sizeof *fds);
  if (!fds) return CQLMUX_ERR_NOMEM;
  st->fds = fds;
  cqlmux_io_watch **watches = cqlmux_mem_realloc(st->alloc, st->watches, cap * sizeof *watches);
  if (!watches) return CQLMUX_ERR_NOMEM;
  st->watches = watches;
  st->cap = cap;
  return CQLMUX_OK;
}

static int poll_watch(void *state, cqlmux_io_watch *w) {
  poll_state *st = state;
  if (w->active) {
    st->fds[w->slot].events = to_poll_events(w->events);
    return CQLMUX_OK;
  }
  if (st->len == st->cap && grow(st) != CQLMUX_OK) return CQLMUX_ERR_NOMEM;
  w->slot = st->len++;
  st->fds[w->slot] = (struct pollfd){w->fd, to_poll_events(w->events), 0};
  st->watches[w->slot] = w;
  return CQLMUX_OK;
}

static void move_slot(poll_state *st, size_t from, size_t to) {
  st->fds[to] = st->fds[from];
  st->watches[to] = st->watches[from];
  st->watches[to]->slot = to;
}

static void poll_unwatch(void *state, cqlmux_io_watch *w) {
  poll_state *st = state;
  if (st->dispatching) {
    st->fds[w->slot].fd = -1;
    st->fds[w->slot].revents = 0;
    st->watches[w->slot] = NULL;
    st->holes = true;
    return;
  }
  size_t last = --st->len;
  if (w->slot != last) move_slot(st, last, w->slot);
}

static void compact(poll_state *st) {
  size_t out = 0;
  for (size_t i = 0; i < st->len; i++)
    if (st->watches[i]) move_slot(st, i, out++);
  st->len = out;
  st->holes = false;
}

static void poll_wait_ready(void *state, int timeout_ms) {
  poll_state *st = state;
  if (poll(st->fds, (nfds_t)st->len, timeout_ms) < 0) {
    /* EINTR: a spurious wake-up; nothing is ready. */
    for (size_t i = 0; i < st->len; i++) st->fds[i].revents = 0;
  }
}

static unsigned to_io_events(short revents) {
  return (revents & POLLIN ? CQLMUX_IO_READ : 0u) | (revents & POLLOUT ? CQLMUX_IO_WRITE : 0u) |
         (revents & (POLLERR | POLLHUP | POLLNVAL) ? CQLMUX_IO_ERROR : 0u);
}

static void poll_dispatch(void *state) {
  poll_state *st = state;
  st->dispatching = true;
  size_t n = st->len; /* watches added by callbacks wait for the next turn */
  for (size_t i = 0; i < n; i++) {
    short revents = st->fds[i].revents;
    st->fds[i].revents = 0;
    cqlmux_io_watch *w = st->watches[i];
    if (w && revents) w->fn(w, to_io_events(revents));
  }
  st->dispatching = false;
  if (st->holes) compact(st);
}

const cqlmux_backend_ops cqlmux_backend_poll = {
    CQLMUX_IO_BACKEND_POLL, "poll", false, poll_init, poll_destroy, poll_watch, poll_unwatch,
    poll_wait_ready, poll_dispatch};

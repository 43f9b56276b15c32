/* The mock's I/O loops: one thread, one epoll set, one command queue and one
 * timer list each. See mock_internal.h for who owns what. */
#include "config.h"

#include "mock/mock_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static _Thread_local mock_loop *current_loop;

mock_loop *mock_current_loop(void) { return current_loop; }

bool mock_on_loop_thread(cqlmux_mock *m) { return current_loop && current_loop->server == m; }

int mock_epoll_set(mock_loop *loop, mock_watch *w, uint32_t events, bool add) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.ptr = w;
  return epoll_ctl(loop->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, w->fd, &ev);
}

int mock_loop_init(mock_loop *loop, cqlmux_mock *m, int index) {
  memset(loop, 0, sizeof *loop);
  loop->server = m;
  loop->index = index;
  atomic_init(&loop->stopping, false);
  atomic_init(&loop->null_count, 0);
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->epfd < 0) return CQLMUX_ERR_INVALID_STATE;
  loop->wake.kind = MOCK_WATCH_WAKE;
  loop->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (loop->wake.fd < 0 || mock_epoll_set(loop, &loop->wake, EPOLLIN, true) != 0) {
    if (loop->wake.fd >= 0) close(loop->wake.fd);
    close(loop->epfd);
    return CQLMUX_ERR_INVALID_STATE;
  }
  pthread_mutex_init(&loop->qmu, NULL);
  pthread_cond_init(&loop->done_cv, NULL);
  return CQLMUX_OK;
}

static void loop_wake(mock_loop *loop) {
  uint64_t one = 1;
  /* A full counter (EAGAIN) already means "wake up". */
  ssize_t rc = write(loop->wake.fd, &one, sizeof one);
  (void)rc;
}

/* ------------------------------------------------------------ commands */

void mock_post(mock_loop *loop, const mock_cmd *cmd, bool sync) {
  mock_cmd *c = mock_xmalloc(sizeof *c);
  *c = *cmd;
  mock_event_copy(&c->event, &cmd->event);
  c->next = NULL;
  /* Kept apart: an async command may be run and freed as soon as queued. */
  bool wait = sync && !mock_on_loop_thread(loop->server);
  c->sync = wait;
  c->done = false;
  pthread_mutex_lock(&loop->qmu);
  if (loop->queue_tail)
    loop->queue_tail->next = c;
  else
    loop->queue_head = c;
  loop->queue_tail = c;
  pthread_mutex_unlock(&loop->qmu);
  loop_wake(loop);
  if (!wait) return;
  pthread_mutex_lock(&loop->qmu);
  while (!c->done) pthread_cond_wait(&loop->done_cv, &loop->qmu);
  pthread_mutex_unlock(&loop->qmu);
  mock_event_release(&c->event);
  mock_free(c);
}

void mock_post_all(cqlmux_mock *m, const mock_cmd *cmd) {
  for (int i = 0; i < m->loop_count; i++) mock_post(&m->loops[i], cmd, true);
}

static bool conn_in_scope(const mock_conn *c, int node, int64_t conn) {
  return (node == CQLMUX_MOCK_ANY || c->node == node) &&
         (conn == CQLMUX_MOCK_ANY || c->id == conn);
}

static void cmd_refresh(mock_loop *loop) {
  for (mock_conn *c = loop->conns; c; c = c->next)
    if (!c->dead) mock_conn_refresh(c);
  if (loop->index != 0) return;
  /* Listener fds are written under mu so that API threads may read them. */
  cqlmux_mock *m = loop->server;
  pthread_mutex_lock(&m->mu);
  for (int i = 0; i < m->node_count; i++) {
    mock_node *n = &m->nodes[i];
    bool want = mock_node_should_listen(m, n);
    if (want && n->listener.fd < 0) {
      if (mock_node_listen(m, n) != CQLMUX_OK)
        fprintf(stderr, "cqlmux mock: node %d cannot listen on %s:%u\n", i, n->address,
                (unsigned)n->port);
    } else if (!want && n->listener.fd >= 0) {
      mock_node_unlisten(m, n);
    }
  }
  pthread_mutex_unlock(&m->mu);
}

static void cmd_run(mock_loop *loop, mock_cmd *cmd) {
  switch (cmd->kind) {
  case MOCK_CMD_REFRESH:
    cmd_refresh(loop);
    break;
  case MOCK_CMD_CLOSE:
    for (mock_conn *c = loop->conns; c; c = c->next)
      if (!c->dead && conn_in_scope(c, cmd->node, cmd->connection))
        mock_conn_close(c, true, cmd->reset);
    break;
  case MOCK_CMD_EVENT: {
    int reached = 0;
    for (mock_conn *c = loop->conns; c; c = c->next)
      if (!c->dead && conn_in_scope(c, cmd->node, CQLMUX_MOCK_ANY))
        reached += mock_conn_push_event(c, &cmd->event);
    if (cmd->result) *cmd->result += reached;
    break;
  }
  case MOCK_CMD_ADOPT: {
    mock_conn *c = mock_conn_new(loop, cmd->fd, cmd->node, cmd->conn_id);
    mock_conn_refresh(c);
    break;
  }
  case MOCK_CMD_TIMER: {
    mock_timer *t = mock_timer_new(cmd->timer_kind, cmd->due_us);
    t->node = cmd->node;
    t->fault = cmd->fault;
    mock_timer_add(loop, t);
    break;
  }
  case MOCK_CMD_RELEASE_HELD:
    for (mock_conn *c = loop->conns; c; c = c->next)
      if (!c->dead && conn_in_scope(c, cmd->node, cmd->connection)) mock_conn_release_held(c);
    break;
  case MOCK_CMD_RAW:
    for (mock_conn *c = loop->conns; c; c = c->next)
      if (!c->dead && !c->closing && conn_in_scope(c, CQLMUX_MOCK_ANY, cmd->connection)) {
        /* Whatever the frame writer holds goes first: the raw bytes follow
         * the answers already given. */
        if (c->framed_out) cqlmux_frame_v5_writer_flush(&c->fw);
        mock_conn_emit_raw(c, cmd->raw, cmd->raw_len, cmd->close_after);
        *cmd->result = 1;
      }
    break;
  }
}

static void loop_run_commands(mock_loop *loop) {
  for (;;) {
    pthread_mutex_lock(&loop->qmu);
    mock_cmd *cmd = loop->queue_head;
    if (cmd) {
      loop->queue_head = cmd->next;
      if (!loop->queue_head) loop->queue_tail = NULL;
    }
    pthread_mutex_unlock(&loop->qmu);
    if (!cmd) return;
    cmd_run(loop, cmd);
    if (cmd->sync) {
      pthread_mutex_lock(&loop->qmu);
      cmd->done = true;
      pthread_cond_broadcast(&loop->done_cv);
      pthread_mutex_unlock(&loop->qmu);
    } else {
      mock_event_release(&cmd->event);
      mock_free(cmd);
    }
  }
}

/* ------------------------------------------------------------ timers */

mock_timer *mock_timer_new(mock_timer_kind kind, uint64_t due_us) {
  mock_timer *t = mock_xcalloc(1, sizeof *t);
  t->kind = kind;
  t->due_us = due_us;
  return t;
}

/* Inserted from the tail: timers mostly arrive in due order. */
void mock_timer_add(mock_loop *loop, mock_timer *t) {
  mock_timer *after = loop->timers_tail;
  while (after && after->due_us > t->due_us) after = after->prev;
  t->prev = after;
  t->next = after ? after->next : loop->timers;
  if (t->next)
    t->next->prev = t;
  else
    loop->timers_tail = t;
  if (after)
    after->next = t;
  else
    loop->timers = t;
}

static void timer_unlink(mock_loop *loop, mock_timer *t) {
  if (t->prev)
    t->prev->next = t->next;
  else
    loop->timers = t->next;
  if (t->next)
    t->next->prev = t->prev;
  else
    loop->timers_tail = t->prev;
}

void mock_timer_cancel_conn(mock_loop *loop, mock_conn *c) {
  mock_timer *t = loop->timers;
  while (t) {
    mock_timer *next = t->next;
    if (t->conn == c) {
      timer_unlink(loop, t);
      mock_free(t->resp);
      mock_free(t);
    }
    t = next;
  }
}

static int loop_timeout_ms(mock_loop *loop) {
  if (!loop->timers) return -1;
  uint64_t now = mock_now_us();
  if (loop->timers->due_us <= now) return 0;
  uint64_t ms = (loop->timers->due_us - now + 999) / 1000;
  return ms > 60000 ? 60000 : (int)ms;
}

static void timer_fire(mock_loop *loop, mock_timer *t) {
  switch (t->kind) {
  case MOCK_TIMER_RESPONSE:
    mock_conn_emit(t->conn, t->resp);
    t->resp = NULL;
    break;
  case MOCK_TIMER_CLOSE:
    mock_conn_close(t->conn, true, false);
    break;
  case MOCK_TIMER_NODE_START:
    mock_node_set_up(loop->server, t->node, true, loop->server->cfg.auto_events);
    break;
  case MOCK_TIMER_FAULT:
    mock_fault_activate(loop->server, t->fault);
    break;
  }
}

static void loop_run_timers(mock_loop *loop) {
  uint64_t now = mock_now_us();
  while (loop->timers && loop->timers->due_us <= now) {
    mock_timer *t = loop->timers;
    timer_unlink(loop, t);
    timer_fire(loop, t);
    mock_free(t->resp);
    mock_free(t);
  }
}

/* ------------------------------------------------------------ the loop */

void mock_loop_mark_dirty(mock_loop *loop, mock_conn *c) {
  if (c->in_dirty) return;
  c->in_dirty = true;
  c->dirty_next = loop->dirty;
  loop->dirty = c;
}

static void loop_flush_dirty(mock_loop *loop) {
  while (loop->dirty) {
    mock_conn *c = loop->dirty;
    loop->dirty = c->dirty_next;
    c->in_dirty = false;
    if (!c->dead) mock_conn_flush(c);
  }
}

/* Closed connections stay linked in loop->conns until the end of the turn,
 * so that every walk of the list and every epoll event of this turn may
 * still look at them (they are marked dead). */
static void loop_reap(mock_loop *loop) {
  while (loop->graveyard) {
    mock_conn *c = loop->graveyard;
    loop->graveyard = c->grave_next;
    if (c->prev)
      c->prev->next = c->next;
    else
      loop->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    mock_conn_free(c);
  }
}

static void loop_dispatch(mock_loop *loop, struct epoll_event *ev) {
  mock_watch *w = ev->data.ptr;
  switch (w->kind) {
  case MOCK_WATCH_WAKE: {
    uint64_t v;
    ssize_t rc = read(w->fd, &v, sizeof v);
    (void)rc;
    break;
  }
  case MOCK_WATCH_LISTENER:
    mock_node_accept(loop->server, mock_node_by_listener(loop->server, w));
    break;
  case MOCK_WATCH_CONN: {
    mock_conn *c = (mock_conn *)w;
    if (c->dead) break;
    if (ev->events & EPOLLOUT) mock_conn_on_writable(c);
    if (c->dead) break;
    if (c->reading && (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
      mock_conn_on_readable(c);
    else if (ev->events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
      mock_conn_close(c, false, false);
    break;
  }
  }
}

static void *loop_main(void *arg) {
  mock_loop *loop = arg;
  current_loop = loop;
  struct epoll_event evs[64];
  while (!atomic_load(&loop->stopping)) {
    int n = epoll_wait(loop->epfd, evs, 64, loop_timeout_ms(loop));
    if (n < 0 && errno != EINTR) {
      perror("cqlmux mock: epoll_wait");
      break;
    }
    for (int i = 0; i < n; i++) loop_dispatch(loop, &evs[i]);
    loop_run_timers(loop);
    loop_run_commands(loop);
    loop_flush_dirty(loop);
    loop_reap(loop);
  }
  return NULL;
}

int mock_loop_start(mock_loop *loop) {
  return pthread_create(&loop->thread, NULL, loop_main, loop) == 0 ? CQLMUX_OK
                                                                   : CQLMUX_ERR_INVALID_STATE;
}

void mock_loop_stop(mock_loop *loop) {
  atomic_store(&loop->stopping, true);
  loop_wake(loop);
  pthread_join(loop->thread, NULL);
  for (mock_conn *c = loop->conns; c; c = c->next)
    if (!c->dead) mock_conn_close(c, true, false);
  loop_reap(loop);
}

void mock_loop_destroy(mock_loop *loop) {
  while (loop->timers) {
    mock_timer *t = loop->timers;
    timer_unlink(loop, t);
    mock_free(t->resp);
    mock_free(t);
  }
  while (loop->queue_head) {
    mock_cmd *c = loop->queue_head;
    loop->queue_head = c->next;
    mock_event_release(&c->event);
    mock_free(c);
  }
  close(loop->wake.fd);
  close(loop->epfd);
  pthread_mutex_destroy(&loop->qmu);
  pthread_cond_destroy(&loop->done_cv);
}

#include "net/connection.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/rbuf.h"
#include "net/stream_table.h"
#include "proto/envelope.h"
#include "proto/frame_v5.h"
#include "proto/opcode.h"
#include "proto/request.h"
#include "proto/response.h"
#include "runtime/alloc.h"
#include "runtime/intrusive.h"
#include "runtime/split_count.h"

#define DRIVER_NAME "cqlmux"
/* Reads per readiness event before yielding to other connections. */
#define READ_BUDGET_BYTES (1u << 20)
/* Recheck interval while reading is paused for slow callbacks. */
#define BACKPRESSURE_RECHECK_US 1000
/* Bytes after which buffered requests are written without waiting for the
 * end of the loop turn. */
#define EAGER_FLUSH_BYTES (256u << 10)

struct cqlmux_connection {
  cqlmux_loop *loop;
  const cqlmux_conn_settings *settings;
  const cqlmux_conn_events *events;
  void *owner;
  cqlmux_endpoint endpoint;
  char host[256];
  char peer[64]; /* "ip:port" for log lines and messages */

  cqlmux_conn_state state;
  int fd;
  cqlmux_io_watch watch;
  bool use_tls;
  cqlmux_tls_conn tls;
  uint8_t version;
  bool version_forced;
  bool lz4;
  cqlmux_framing framing;
  char keyspace[256];          /* the one to be in (loop thread's copy) */
  char current_keyspace[256];  /* the one the server confirmed */
  char sending_keyspace[256];  /* the one of the USE in flight */
  pthread_mutex_t wanted_lock; /* guards wanted_keyspace, set from any thread */
  char wanted_keyspace[256];
  atomic_bool keyspace_posted; /* keyspace_task is queued (post it once) */

  cqlmux_stream_table streams;
  cqlmux_request control;   /* handshake steps and USE, one at a time */
  cqlmux_request heartbeat; /* OPTIONS ping */
  bool heartbeat_outstanding;

  cqlmux_wbuf wbuf;         /* outgoing bytes; [wsent, len) not yet sent */
  size_t wsent;
  size_t budget_held;       /* wbuf bytes charged to the memory budget */
  size_t appended;          /* envelope bytes buffered since the last full flush */
  uint64_t large_flush_us;  /* loop time of the last flush of a large burst */
  cqlmux_frame_v5_writer frames;
  cqlmux_wbuf scratch;      /* v4 decompression */
  bool flush_scheduled;
  cqlmux_task flush_task;

  cqlmux_rbuf *rbuf;
  cqlmux_frame_v5_decoder decoder;
  bool read_paused;

  cqlmux_request *queue_head; /* waiting at the watermark, FIFO */
  cqlmux_request *queue_tail;
  uint32_t queue_len;
  uint32_t in_flight;         /* user requests holding a stream id */
  bool saturated;             /* reached the high watermark; cleared below low */

  cqlmux_timer connect_timer;
  cqlmux_timer heartbeat_timer; /* idle check, then the answer's deadline */
  cqlmux_timer pause_timer;
  uint64_t last_read_us;
  cqlmux_task start_task;
  cqlmux_task keyspace_task;
  cqlmux_loop_stop_handler stop_handler;
  cqlmux_conn_stats stats;
};

static void on_io(cqlmux_io_watch *watch, unsigned events);
static void send_next_handshake_step(cqlmux_connection *c);
static void submit_ready(cqlmux_connection *c, cqlmux_request *req);
static void drain_queue(cqlmux_connection *c);
static void schedule_flush(cqlmux_connection *c);
static void begin_connect(cqlmux_connection *c);
static void internal_response(cqlmux_request *req, uint8_t version, uint8_t opcode,
                              const uint8_t *body, size_t len, cqlmux_rbuf *buffer);
static void internal_failure(cqlmux_request *req, int error, const char *message, bool sent);

static const cqlmux_request_ops internal_ops = {internal_response, internal_failure};

/* ================================================================ helpers */

static const cqlmux_logger *logger(const cqlmux_connection *c) { return c->settings->logger; }

static void stat_store(atomic_uint *counter, unsigned value) {
  /* relaxed: statistics for load balancing and metrics; nothing is ordered
   * by them. */
  atomic_store_explicit(counter, value, memory_order_relaxed);
}

static void stat_add(atomic_ulong *counter, unsigned long n) {
  /* relaxed: monotonic statistics only. */
  atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static void publish_load(cqlmux_connection *c) {
  stat_store(&c->stats.in_flight, c->in_flight);
  stat_store(&c->stats.queued, c->queue_len);
}

void cqlmux_request_reset(cqlmux_request *req, const cqlmux_request_ops *ops, void *owner) {
  req->ops = ops;
  req->owner = owner;
  req->conn = NULL;
  req->stream = -1;
  req->sent = false;
  req->queue_prev = req->queue_next = NULL;
  req->queued = false;
}

/* ================================================================ lifetime */

static void on_loop_stop(cqlmux_loop_stop_handler *handler);
static void on_start_task(cqlmux_task *task, int status);
static void on_keyspace_task(cqlmux_task *task, int status);
static void on_flush_task(cqlmux_task *task, int status);
static void on_connect_timeout(cqlmux_timer *timer, int status);
static void on_heartbeat_timer(cqlmux_timer *timer, int status);
static void on_pause_timer(cqlmux_timer *timer, int status);

int cqlmux_connection_new(cqlmux_loop *loop, const cqlmux_conn_settings *settings,
                          const cqlmux_conn_events *events, void *owner,
                          const cqlmux_endpoint *endpoint, const char *host,
                          cqlmux_connection **out) {
  cqlmux_connection *c = cqlmux_mem_calloc(settings->alloc, 1, sizeof *c);
  if (!c) return CQLMUX_ERR_NOMEM;
  uint32_t streams = settings->max_requests + settings->orphan_threshold + 2;
  if (streams > CQLMUX_MAX_STREAMS) streams = CQLMUX_MAX_STREAMS;
  if (cqlmux_stream_table_init(&c->streams, (int32_t)streams, settings->alloc) != CQLMUX_OK) {
    cqlmux_mem_free(settings->alloc, c);
    return CQLMUX_ERR_NOMEM;
  }
  c->loop = loop;
  c->settings = settings;
  c->events = events;
  c->owner = owner;
  c->endpoint = *endpoint;
  snprintf(c->host, sizeof c->host, "%s", host);
  cqlmux_endpoint_format(endpoint, c->peer, sizeof c->peer);
  c->fd = -1;
  c->state = CQLMUX_CONN_NEW;
  c->version_forced = settings->protocol_version != 0;
  c->version = (uint8_t)(settings->protocol_version ? settings->protocol_version : 5);
  cqlmux_wbuf_init(&c->wbuf, settings->alloc, 0);
  cqlmux_wbuf_init(&c->scratch, settings->alloc, 0);
  cqlmux_request_reset(&c->control, &internal_ops, c);
  cqlmux_request_reset(&c->heartbeat, &internal_ops, c);
  cqlmux_wbuf_init(&c->control.envelope, settings->alloc, 0);
  cqlmux_wbuf_init(&c->heartbeat.envelope, settings->alloc, 0);
  cqlmux_timer_init(&c->connect_timer, on_connect_timeout, c);
  cqlmux_timer_init(&c->heartbeat_timer, on_heartbeat_timer, c);
  cqlmux_timer_init(&c->pause_timer, on_pause_timer, c);
  cqlmux_task_init(&c->start_task, on_start_task);
  cqlmux_task_init(&c->keyspace_task, on_keyspace_task);
  pthread_mutex_init(&c->wanted_lock, NULL);
  cqlmux_task_init(&c->flush_task, on_flush_task);
  c->stop_handler.fn = on_loop_stop;
  c->stop_handler.user_data = c;
  *out = c;
  return CQLMUX_OK;
}

void cqlmux_connection_free(cqlmux_connection *c) {
  if (!c) return;
  const cqlmux_allocator *alloc = c->settings->alloc;
  if (c->budget_held) cqlmux_budget_release(c->settings->budget, c->budget_held);
  cqlmux_stream_table_destroy(&c->streams);
  cqlmux_wbuf_free(&c->wbuf);
  cqlmux_wbuf_free(&c->scratch);
  cqlmux_wbuf_free(&c->control.envelope);
  cqlmux_wbuf_free(&c->heartbeat.envelope);
  cqlmux_rbuf_release(c->rbuf);
  pthread_mutex_destroy(&c->wanted_lock);
  cqlmux_mem_free(alloc, c);
}

void cqlmux_connection_start(cqlmux_connection *c) { cqlmux_loop_post(c->loop, &c->start_task); }

/* Begins an attempt: the stop handler, the connect deadline, the socket. */
static void attempt(cqlmux_connection *c) {
  cqlmux_loop_add_stop_handler(c->loop, &c->stop_handler);
  cqlmux_loop_timer_start(c->loop, &c->connect_timer, c->settings->connect_timeout_us);
  c->current_keyspace[0] = '\0';
  begin_connect(c);
}

static void on_start_task(cqlmux_task *task, int status) {
  cqlmux_connection *c = cqlmux_container_of(task, cqlmux_connection, start_task);
  if (status != CQLMUX_OK) {
    c->state = CQLMUX_CONN_CLOSED;
    c->events->on_closed(c, CQLMUX_ERR_SHUTDOWN, "session shut down before connecting", c->owner);
    return;
  }
  attempt(c);
}

void cqlmux_connection_restart(cqlmux_connection *c, int version) {
  if (c->state != CQLMUX_CONN_CLOSED) return;
  int wanted = version ? version : c->settings->protocol_version;
  c->version_forced = wanted != 0;
  c->version = (uint8_t)(wanted ? wanted : 5);
  c->lz4 = false;
  c->state = CQLMUX_CONN_NEW;
  attempt(c);
}

/* Bytes the socket has not taken stay charged to the session's memory
 * budget until written or dropped: a request that times out gives its own
 * charge back, but its copy in the write buffer lives on, and a server that
 * stops reading would otherwise let the buffer grow without bound. The
 * charge follows the buffer at the end of each flush and when the socket
 * goes, so it costs nothing while the socket takes everything (the usual
 * case: the buffer is empty after each flush). Until all is sent, the whole
 * allocation is held: the sent prefix is still in it, and it grew by
 * doubling. */
static void hold_write_buffer(cqlmux_connection *c) {
  cqlmux_budget *budget = c->settings->budget;
  size_t now = c->wsent < c->wbuf.len ? c->wbuf.cap : 0;
  if (!budget || now == c->budget_held) return;
  if (now > c->budget_held)
    cqlmux_budget_charge(budget, now - c->budget_held);
  else
    cqlmux_budget_release(budget, c->budget_held - now);
  c->budget_held = now;
}

/* While the socket pushes back and the budget is spent, requests wait in
 * the queue instead of joining the write buffer; a write or a timeout lets
 * them move again. */
static bool write_buffer_over_budget(const cqlmux_connection *c) {
  return c->budget_held && cqlmux_budget_exhausted(c->settings->budget);
}

/* Drops the socket and everything tied to it, keeping queued requests. */
static void release_socket(cqlmux_connection *c) {
  if (c->fd >= 0) {
    cqlmux_loop_unwatch(c->loop, &c->watch);
    if (c->use_tls) cqlmux_tls_conn_destroy(&c->tls);
    close(c->fd);
    c->fd = -1;
  }
  c->use_tls = false;
  if (c->framing != CQLMUX_FRAMING_NONE) {
    cqlmux_frame_v5_writer_free(&c->frames);
    cqlmux_frame_v5_decoder_free(&c->decoder);
    c->framing = CQLMUX_FRAMING_NONE;
  }
  cqlmux_wbuf_reset(&c->wbuf);
  c->wsent = 0;
  c->appended = 0;
  hold_write_buffer(c);
  c->read_paused = false;
  /* Results may still borrow the old bytes: a new socket gets a new buffer
   * unless nothing does. */
  if (c->rbuf && !cqlmux_rbuf_exclusive(c->rbuf)) {
    cqlmux_rbuf_release(c->rbuf);
    c->rbuf = NULL;
  } else if (c->rbuf) {
    c->rbuf->start = c->rbuf->end = 0;
  }
}

static void fail_request(cqlmux_request *req, int error, const char *message) {
  req->ops->on_failure(req, error, message, req->sent);
}

static void settle(cqlmux_connection *c);

/* A user request ends without an answer: the books first, then the owner. */
static void complete_failure(cqlmux_connection *c, cqlmux_request *req, int error,
                             const char *message) {
  settle(c);
  fail_request(req, error, message);
}

typedef struct failure_reason {
  cqlmux_connection *conn;
  int error;
  const char *message;
} failure_reason;

static void fail_drained(void *request, void *arg) {
  const failure_reason *why = arg;
  cqlmux_request *req = request;
  if (req->ops == &internal_ops) return; /* the close reports the reason itself */
  cqlmux_loop_timer_stop(why->conn->loop, &req->timer);
  complete_failure(why->conn, req, why->error, why->message);
}

static void queue_remove(cqlmux_connection *c, cqlmux_request *req);

/* Fails every request held, in flight or waiting, with `error`. */
static void fail_all(cqlmux_connection *c, int error, const char *message) {
  failure_reason why = {c, error, message};
  uint32_t was_in_flight = c->in_flight;
  c->in_flight = 0;
  c->saturated = false;
  c->heartbeat_outstanding = false;
  c->control.stream = c->heartbeat.stream = -1;
  cqlmux_stream_table_drain(&c->streams, fail_drained, &why);
  while (c->queue_head) {
    cqlmux_request *req = c->queue_head;
    queue_remove(c, req);
    cqlmux_loop_timer_stop(c->loop, &req->timer);
    complete_failure(c, req, error, message);
  }
  for (uint32_t i = 0; i < was_in_flight; i++) cqlmux_loop_release(c->loop);
  publish_load(c);
}

void cqlmux_connection_close(cqlmux_connection *c, int error, const char *message) {
  if (c->state == CQLMUX_CONN_CLOSED) return;
  if (error != CQLMUX_OK && error != CQLMUX_ERR_SHUTDOWN)
    cqlmux_log(logger(c), CQLMUX_LOG_WARN, "connection to %s closed: %s", c->peer,
               message ? message : cqlmux_strerror(error));
  c->state = CQLMUX_CONN_CLOSED;
  cqlmux_loop_timer_stop(c->loop, &c->connect_timer);
  cqlmux_loop_timer_stop(c->loop, &c->heartbeat_timer);
  cqlmux_loop_timer_stop(c->loop, &c->pause_timer);
  release_socket(c);
  cqlmux_loop_remove_stop_handler(c->loop, &c->stop_handler);
  fail_all(c, error == CQLMUX_OK ? CQLMUX_ERR_CONNECTION_CLOSED : error,
           message ? message : "connection closed");
  c->events->on_closed(c, error, message, c->owner);
}

/* Bytes the server sent that this client cannot accept: the stream can no
 * longer be trusted. `rc` is the decoder's verdict, kept when it says more
 * than "protocol error" (an envelope over the size limit is OVERSIZED);
 * the message names the peer like every other connection error. */
static void close_for_bad_input(cqlmux_connection *c, int rc, const char *what) {
  int error = rc == CQLMUX_ERR_NOMEM || rc == CQLMUX_ERR_OVERSIZED ? rc : CQLMUX_ERR_PROTOCOL;
  char message[256];
  if (rc == CQLMUX_ERR_PROTOCOL)
    snprintf(message, sizeof message, "%s: %s", c->peer, what);
  else
    snprintf(message, sizeof message, "%s: %s: %s", c->peer, what, cqlmux_strerror(rc));
  cqlmux_connection_close(c, error, message);
}

static void on_loop_stop(cqlmux_loop_stop_handler *handler) {
  cqlmux_connection *c = handler->user_data;
  cqlmux_connection_close(c, CQLMUX_ERR_SHUTDOWN, "session shut down");
}

/* ================================================================ connecting */

static void close_with_errno(cqlmux_connection *c, int error, const char *what, int sys_errno) {
  char message[256];
  snprintf(message, sizeof message, "%s %s: %s", what, c->peer,
           sys_errno ? strerror(sys_errno) : cqlmux_strerror(error));
  cqlmux_connection_close(c, error, message);
}

static int watch_for(cqlmux_connection *c, unsigned events) {
  if (c->watch.active && c->watch.events == events) return CQLMUX_OK;
  int rc = cqlmux_loop_watch(c->loop, &c->watch, events);
  if (rc != CQLMUX_OK) cqlmux_connection_close(c, rc, "cannot watch the socket");
  return rc;
}

static void begin_connect(cqlmux_connection *c) {
  bool in_progress = false;
  int sys_errno = 0;
  int rc = cqlmux_socket_connect(&c->endpoint, &c->fd, &in_progress, &sys_errno);
  if (rc != CQLMUX_OK) {
    close_with_errno(c, rc, "cannot connect to", sys_errno);
    return;
  }
  cqlmux_io_watch_init(&c->watch, c->fd, on_io, c);
  c->state = CQLMUX_CONN_CONNECTING;
  if (!c->rbuf && !(c->rbuf = cqlmux_rbuf_new(c->settings->alloc, c->settings->read_buffer_size))) {
    cqlmux_connection_close(c, CQLMUX_ERR_NOMEM, "no memory for the receive buffer");
    return;
  }
  watch_for(c, CQLMUX_IO_WRITE);
}

static void on_connect_timeout(cqlmux_timer *timer, int status) {
  cqlmux_connection *c = timer->user_data;
  if (status != CQLMUX_OK || c->state == CQLMUX_CONN_READY) return;
  char message[160];
  snprintf(message, sizeof message, "connecting to %s timed out (%llu ms)", c->peer,
           (unsigned long long)(c->settings->connect_timeout_us / 1000));
  cqlmux_connection_close(c, CQLMUX_ERR_CONNECT_TIMEOUT, message);
}

static void tls_step(cqlmux_connection *c) {
  cqlmux_io_want want;
  char err[256] = "";
  int rc = cqlmux_tls_handshake(&c->tls, &want, err, sizeof err);
  if (rc == CQLMUX_IO_AGAIN) {
    watch_for(c, want == CQLMUX_WANT_WRITE ? CQLMUX_IO_WRITE : CQLMUX_IO_READ);
    return;
  }
  if (rc != CQLMUX_OK) {
    char message[400];
    snprintf(message, sizeof message, "%s: %s", c->peer, err[0] ? err : cqlmux_strerror(rc));
    cqlmux_connection_close(c, rc, message);
    return;
  }
  c->state = CQLMUX_CONN_OPTIONS;
  send_next_handshake_step(c);
}

static void tcp_connected(cqlmux_connection *c) {
  int sys_errno = 0;
  int rc = cqlmux_socket_connect_result(c->fd, &sys_errno);
  if (rc != CQLMUX_OK) {
    close_with_errno(c, rc, "cannot connect to", sys_errno);
    return;
  }
  if (c->settings->tls) {
    rc = cqlmux_tls_conn_init(&c->tls, c->settings->tls, c->fd, c->host);
    if (rc != CQLMUX_OK) {
      cqlmux_connection_close(c, rc, "cannot start TLS");
      return;
    }
    c->use_tls = true;
    c->state = CQLMUX_CONN_TLS;
    tls_step(c);
    return;
  }
  c->state = CQLMUX_CONN_OPTIONS;
  send_next_handshake_step(c);
}

/* ================================================================ writing */

/* Appends one encoded envelope, giving it `stream`. Returns OK or the
 * write buffer's error. */
static int append_envelope(cqlmux_connection *c, const uint8_t *env, size_t len, int32_t stream) {
  size_t at = 0;
  if (c->framing != CQLMUX_FRAMING_NONE) at = cqlmux_frame_v5_writer_begin(&c->frames);
  size_t start = c->wbuf.len;
  c->appended += len;
  cqlmux_write_raw(&c->wbuf, env, len);
  if (c->wbuf.error) return c->wbuf.error;
  cqlmux_store_u16(c->wbuf.data + start + 2, (uint16_t)stream);
  if (c->framing != CQLMUX_FRAMING_NONE) return cqlmux_frame_v5_writer_end(&c->frames, at);
  return CQLMUX_OK;
}

static ssize_t transport_send(cqlmux_connection *c, const uint8_t *p, size_t n, unsigned *want) {
  if (!c->use_tls) {
    int sys_errno = 0;
    *want = CQLMUX_IO_WRITE;
    return cqlmux_socket_send(c->fd, p, n, &sys_errno);
  }
  cqlmux_io_want w;
  ssize_t rc = cqlmux_tls_send(&c->tls, p, n, &w);
  *want = w == CQLMUX_WANT_READ ? CQLMUX_IO_READ : CQLMUX_IO_WRITE;
  return rc;
}

/* After a burst, a buffer that grew past 4 x its usual size goes back to
 * nothing; but only once no large burst (more than the usual size of
 * envelope bytes, before any LZ4) was flushed for a second, so that a steady
 * high load keeps its buffer instead of freeing and growing it again and
 * again. */
#define SHRINK_AFTER_US 1000000

static void shrink_write_buffer(cqlmux_connection *c, size_t flushed) {
  uint64_t now = cqlmux_loop_now_us(c->loop);
  if (flushed >= c->settings->write_buffer_size) {
    c->large_flush_us = now;
    return;
  }
  if (c->wbuf.cap > 4 * c->settings->write_buffer_size && now - c->large_flush_us > SHRINK_AFTER_US) {
    cqlmux_wbuf_free(&c->wbuf);
    cqlmux_wbuf_init(&c->wbuf, c->settings->alloc, 0);
  }
}

/* Writes what is buffered until done or the socket pushes back. */
static void flush(cqlmux_connection *c) {
  if (c->fd < 0 || c->state == CQLMUX_CONN_CONNECTING || c->state == CQLMUX_CONN_TLS) return;
  if (c->framing != CQLMUX_FRAMING_NONE && cqlmux_frame_v5_writer_flush(&c->frames) != CQLMUX_OK) {
    cqlmux_connection_close(c, CQLMUX_ERR_NOMEM, "cannot frame outgoing requests");
    return;
  }
  while (c->wsent < c->wbuf.len) {
    unsigned want;
    ssize_t n = transport_send(c, c->wbuf.data + c->wsent, c->wbuf.len - c->wsent, &want);
    if (n == CQLMUX_IO_AGAIN) {
      hold_write_buffer(c);
      watch_for(c, (c->read_paused ? 0 : CQLMUX_IO_READ) | want);
      return;
    }
    if (n < 0) {
      cqlmux_connection_close(c, CQLMUX_ERR_CONNECTION_CLOSED, "write failed");
      return;
    }
    c->wsent += (size_t)n;
    stat_add(&c->stats.bytes_out, (unsigned long)n);
    stat_add(&c->stats.writes, 1);
  }
  cqlmux_wbuf_reset(&c->wbuf);
  size_t flushed = c->appended;
  c->wsent = 0;
  c->appended = 0;
  hold_write_buffer(c);
  shrink_write_buffer(c, flushed);
  if (!c->read_paused) watch_for(c, CQLMUX_IO_READ);
}

/* Requests arriving in one loop turn share one write: the flush task is
 * queued behind them on the loop's own submission queue. flush_scheduled
 * means "the task is queued" and only the task clears it: a task node must
 * never be in the queue twice. */
static void schedule_flush(cqlmux_connection *c) {
  if (c->wbuf.len - c->wsent >= EAGER_FLUSH_BYTES) {
    flush(c);
    return;
  }
  if (c->flush_scheduled) return;
  c->flush_scheduled = true;
  cqlmux_loop_post(c->loop, &c->flush_task);
}

static void on_flush_task(cqlmux_task *task, int status) {
  cqlmux_connection *c = cqlmux_container_of(task, cqlmux_connection, flush_task);
  c->flush_scheduled = false;
  if (status == CQLMUX_OK && c->state != CQLMUX_CONN_CLOSED) flush(c);
}

/* ================================================================ handshake */

/* Sends one internal request (handshake step, USE, heartbeat). */
static void send_internal(cqlmux_connection *c, cqlmux_request *req) {
  int32_t id = cqlmux_stream_table_acquire(&c->streams, req);
  if (id < 0) {
    close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, "no stream id for a control request");
    return;
  }
  req->stream = id;
  req->sent = true;
  if (req->envelope.error || append_envelope(c, req->envelope.data, req->envelope.len, id)) {
    cqlmux_connection_close(c, CQLMUX_ERR_NOMEM, "cannot encode a control request");
    return;
  }
  schedule_flush(c);
}

static void send_options(cqlmux_connection *c, cqlmux_request *req) {
  cqlmux_request_header h = {.version = c->version};
  cqlmux_wbuf_reset(&req->envelope);
  cqlmux_request_options(&req->envelope, &h);
  send_internal(c, req);
}

static void send_startup(cqlmux_connection *c) {
  cqlmux_request_header h = {.version = c->version};
  cqlmux_startup s = {.cql_version = "3.0.0",
                      .compression = c->lz4 ? "lz4" : NULL,
                      .driver_name = DRIVER_NAME,
                      .driver_version = CQLMUX_VERSION_STRING};
  cqlmux_wbuf_reset(&c->control.envelope);
  cqlmux_request_startup(&c->control.envelope, &h, &s);
  send_internal(c, &c->control);
}

static void send_auth_response(cqlmux_connection *c) {
  const char *user = c->settings->username, *pass = c->settings->password;
  size_t ul = strlen(user), pl = strlen(pass);
  uint8_t token[514];
  if (ul + pl + 2 > sizeof token) {
    cqlmux_connection_close(c, CQLMUX_ERR_AUTH, "credentials too long for SASL PLAIN");
    return;
  }
  token[0] = 0;
  memcpy(token + 1, user, ul);
  token[1 + ul] = 0;
  memcpy(token + 2 + ul, pass, pl);
  cqlmux_request_header h = {.version = c->version};
  cqlmux_bytes b = {token, (int32_t)(ul + pl + 2)};
  cqlmux_wbuf_reset(&c->control.envelope);
  cqlmux_request_auth_response(&c->control.envelope, &h, b);
  memset(token, 0, sizeof token); /* the password leaves no copy behind */
  send_internal(c, &c->control);
}

static void send_use(cqlmux_connection *c) {
  char cql[300];
  snprintf(c->sending_keyspace, sizeof c->sending_keyspace, "%s", c->keyspace);
  int n = snprintf(cql, sizeof cql, "USE \"%s\"", c->sending_keyspace);
  cqlmux_request_header h = {.version = c->version};
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE};
  cqlmux_slice q = {(const uint8_t *)cql, (size_t)n};
  cqlmux_wbuf_reset(&c->control.envelope);
  cqlmux_request_query(&c->control.envelope, &h, q, &p);
  send_internal(c, &c->control);
}

static void become_ready(cqlmux_connection *c) {
  c->state = CQLMUX_CONN_READY;
  cqlmux_loop_timer_stop(c->loop, &c->connect_timer);
  c->last_read_us = cqlmux_loop_now_us(c->loop);
  if (c->settings->heartbeat_interval_us)
    cqlmux_loop_timer_start(c->loop, &c->heartbeat_timer, c->settings->heartbeat_interval_us);
  cqlmux_log(logger(c), CQLMUX_LOG_INFO, "connected to %s (protocol v%u%s%s)", c->peer,
             c->version, c->lz4 ? ", lz4" : "", c->use_tls ? ", TLS" : "");
  c->events->on_ready(c, c->owner);
  if (c->state == CQLMUX_CONN_READY) drain_queue(c);
}

static void send_next_handshake_step(cqlmux_connection *c) {
  switch (c->state) {
  case CQLMUX_CONN_OPTIONS:
    send_options(c, &c->control);
    break;
  case CQLMUX_CONN_STARTUP:
    send_startup(c);
    break;
  case CQLMUX_CONN_AUTH:
    send_auth_response(c);
    break;
  case CQLMUX_CONN_KEYSPACE:
    if (c->keyspace[0] && strcmp(c->keyspace, c->current_keyspace) != 0)
      send_use(c);
    else
      become_ready(c);
    break;
  default:
    break;
  }
  if (c->state != CQLMUX_CONN_CLOSED && c->state != CQLMUX_CONN_READY) watch_for(c, CQLMUX_IO_READ);
}

/* The v5 framing starts right after the STARTUP's answer. */
static void start_framing(cqlmux_connection *c, uint8_t answer) {
  cqlmux_framing f = cqlmux_framing_after_startup(c->version, answer, c->lz4);
  if (f == CQLMUX_FRAMING_NONE) return;
  c->framing = f;
  cqlmux_frame_v5_writer_init(&c->frames, &c->wbuf, f == CQLMUX_FRAMING_V5_LZ4, c->settings->alloc);
  cqlmux_frame_v5_decoder_init(&c->decoder, f == CQLMUX_FRAMING_V5_LZ4, CQLMUX_ENVELOPE_MAX_BODY,
                               c->settings->alloc);
}

/* A v5 attempt refused by a server that does not speak it: retry as v4. */
static bool downgrade(cqlmux_connection *c, const cqlmux_error_body *e) {
  if (c->version_forced || c->version <= 4 || e->code != CQLMUX_CQL_PROTOCOL_ERROR) return false;
  cqlmux_log(logger(c), CQLMUX_LOG_INFO, "%s refused protocol v%u; retrying with v4", c->peer,
             c->version);
  c->version = 4;
  release_socket(c);
  begin_connect(c);
  return true;
}

static void handshake_error(cqlmux_connection *c, const uint8_t *body, size_t len) {
  cqlmux_error_body e;
  if (cqlmux_error_decode(c->version, body, len, &e) != CQLMUX_OK) {
    close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, "malformed ERROR during the handshake");
    return;
  }
  if ((c->state == CQLMUX_CONN_OPTIONS || c->state == CQLMUX_CONN_STARTUP) && downgrade(c, &e))
    return;
  char message[400];
  snprintf(message, sizeof message, "%s: %.*s", c->peer, (int)e.message.len,
           (const char *)e.message.data);
  int error = e.code == CQLMUX_CQL_BAD_CREDENTIALS ? CQLMUX_ERR_AUTH
              : e.code == CQLMUX_CQL_PROTOCOL_ERROR     ? CQLMUX_ERR_UNSUPPORTED_VERSION
                                                      : CQLMUX_ERR_SERVER;
  if (c->state == CQLMUX_CONN_KEYSPACE) error = CQLMUX_ERR_SERVER;
  cqlmux_connection_close(c, error, message);
}

static void on_supported(cqlmux_connection *c, const uint8_t *body, size_t len) {
  cqlmux_supported s;
  cqlmux_string_list algorithms;
  bool offers_lz4 = false;
  if (cqlmux_supported_decode(body, len, &s) != CQLMUX_OK) {
    close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, "malformed SUPPORTED");
    return;
  }
  if (cqlmux_supported_find(&s, "COMPRESSION", &algorithms) == CQLMUX_OK) {
    cqlmux_reader r = cqlmux_reader_make(algorithms.raw.data, algorithms.raw.len);
    cqlmux_slice name;
    while (cqlmux_string_list_next(&r, &name) == 1)
      if (name.len == 3 && memcmp(name.data, "lz4", 3) == 0) offers_lz4 = true;
  }
  c->lz4 = c->settings->lz4 && offers_lz4;
  c->state = CQLMUX_CONN_STARTUP;
  send_next_handshake_step(c);
}

static void on_authenticate(cqlmux_connection *c) {
  if (!c->settings->username) {
    cqlmux_connection_close(c, CQLMUX_ERR_AUTH,
                            "the server requires authentication and no credentials are set");
    return;
  }
  c->state = CQLMUX_CONN_AUTH;
  send_next_handshake_step(c);
}

static void handshake_answer(cqlmux_connection *c, uint8_t opcode, const uint8_t *body,
                             size_t len) {
  if (opcode == CQLMUX_OP_ERROR) {
    handshake_error(c, body, len);
    return;
  }
  switch (c->state) {
  case CQLMUX_CONN_OPTIONS:
    if (opcode == CQLMUX_OP_SUPPORTED) return on_supported(c, body, len);
    break;
  case CQLMUX_CONN_STARTUP:
    start_framing(c, opcode);
    if (opcode == CQLMUX_OP_READY) {
      c->state = CQLMUX_CONN_KEYSPACE;
      return send_next_handshake_step(c);
    }
    if (opcode == CQLMUX_OP_AUTHENTICATE) return on_authenticate(c);
    break;
  case CQLMUX_CONN_AUTH:
    if (opcode == CQLMUX_OP_AUTH_SUCCESS) {
      c->state = CQLMUX_CONN_KEYSPACE;
      return send_next_handshake_step(c);
    }
    if (opcode == CQLMUX_OP_AUTH_CHALLENGE) {
      cqlmux_connection_close(c, CQLMUX_ERR_AUTH, "unexpected SASL challenge for PLAIN");
      return;
    }
    break;
  case CQLMUX_CONN_KEYSPACE:
  case CQLMUX_CONN_READY:
    if (opcode == CQLMUX_OP_RESULT) {
      snprintf(c->current_keyspace, sizeof c->current_keyspace, "%s", c->sending_keyspace);
      if (c->state == CQLMUX_CONN_KEYSPACE) become_ready(c);
      if (c->state == CQLMUX_CONN_READY && strcmp(c->keyspace, c->current_keyspace) != 0)
        send_use(c); /* the wanted keyspace changed while this USE was out */
      return;
    }
    break;
  default:
    break;
  }
  char message[96];
  snprintf(message, sizeof message, "unexpected opcode 0x%02x during the handshake", opcode);
  close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, message);
}

static void internal_response(cqlmux_request *req, uint8_t version, uint8_t opcode,
                              const uint8_t *body, size_t len, cqlmux_rbuf *buffer) {
  (void)version;
  (void)buffer;
  cqlmux_connection *c = req->owner;
  if (req == &c->heartbeat) {
    c->heartbeat_outstanding = false;
    cqlmux_loop_timer_start(c->loop, &c->heartbeat_timer, c->settings->heartbeat_interval_us);
    return;
  }
  if (c->state == CQLMUX_CONN_READY && opcode == CQLMUX_OP_ERROR) {
    /* A USE after a keyspace change failed: the session keeps working in
     * the keyspace this connection has. */
    cqlmux_log(logger(c), CQLMUX_LOG_WARN, "USE %s failed on %s", c->keyspace, c->peer);
    snprintf(c->keyspace, sizeof c->keyspace, "%s", c->current_keyspace);
    return;
  }
  handshake_answer(c, opcode, body, len);
}

static void internal_failure(cqlmux_request *req, int error, const char *message, bool sent) {
  (void)req;
  (void)error;
  (void)message;
  (void)sent;
  /* Control requests fail only when the connection closes, which reports
   * the reason itself. */
}

void cqlmux_connection_use_keyspace(cqlmux_connection *c, const char *keyspace) {
  pthread_mutex_lock(&c->wanted_lock);
  snprintf(c->wanted_keyspace, sizeof c->wanted_keyspace, "%s", keyspace);
  pthread_mutex_unlock(&c->wanted_lock);
  /* A task node may be queued only once at a time. */
  if (!atomic_exchange(&c->keyspace_posted, true)) cqlmux_loop_post(c->loop, &c->keyspace_task);
}

static void on_keyspace_task(cqlmux_task *task, int status) {
  cqlmux_connection *c = cqlmux_container_of(task, cqlmux_connection, keyspace_task);
  /* With SHUTDOWN this may run on another thread while the loop finishes. */
  if (status != CQLMUX_OK) return;
  atomic_store(&c->keyspace_posted, false);
  pthread_mutex_lock(&c->wanted_lock);
  snprintf(c->keyspace, sizeof c->keyspace, "%s", c->wanted_keyspace);
  pthread_mutex_unlock(&c->wanted_lock);
  if (c->state != CQLMUX_CONN_READY) return;
  if (strcmp(c->keyspace, c->current_keyspace) != 0 && c->control.stream < 0) send_use(c);
}

/* ================================================================ heartbeat */

static void on_heartbeat_timer(cqlmux_timer *timer, int status) {
  cqlmux_connection *c = timer->user_data;
  if (status != CQLMUX_OK || c->state != CQLMUX_CONN_READY) return;
  uint64_t now = cqlmux_loop_now_us(c->loop);
  if (c->heartbeat_outstanding && c->read_paused) {
    /* The answer may be waiting behind our own pause: check again later. */
    cqlmux_loop_timer_start(c->loop, &c->heartbeat_timer, c->settings->heartbeat_timeout_us);
    return;
  }
  if (c->heartbeat_outstanding) {
    char message[128];
    snprintf(message, sizeof message, "%s did not answer a heartbeat within %llu ms", c->peer,
             (unsigned long long)(c->settings->heartbeat_timeout_us / 1000));
    cqlmux_connection_close(c, CQLMUX_ERR_HEARTBEAT_TIMEOUT, message);
    return;
  }
  /* While reads are paused for slow callbacks the server is not idle, we
   * are: its answers wait in the socket. */
  uint64_t idle = c->read_paused ? 0 : now - c->last_read_us;
  if (idle < c->settings->heartbeat_interval_us) {
    cqlmux_loop_timer_start(c->loop, &c->heartbeat_timer,
                            c->settings->heartbeat_interval_us - idle);
    return;
  }
  c->heartbeat_outstanding = true;
  stat_add(&c->stats.heartbeats, 1);
  send_options(c, &c->heartbeat);
  cqlmux_loop_timer_start(c->loop, &c->heartbeat_timer, c->settings->heartbeat_timeout_us);
}

/* ================================================================ requests */

/* Requests admitted and not yet settled. relaxed: an approximate count (a
 * racing submission may be missed); the loop enforces the exact bounds.
 * cqlmux_split_count reads a settle that the admitted read missed as 0, not
 * as a wrapped huge load (see runtime/split_count.h). */
static unsigned admitted_load(const cqlmux_connection *c) {
  return cqlmux_split_count(atomic_load_explicit(&c->stats.admitted, memory_order_relaxed),
                            atomic_load_explicit(&c->stats.settled, memory_order_relaxed));
}

int cqlmux_connection_admit(cqlmux_connection *c) {
  unsigned limit = c->settings->high_watermark + c->settings->queue_size;
  /* relaxed: see admitted_load. Between the add and the load, other threads
   * may admit and settle requests: without the clamp that read as a full
   * connection and refused this request with a false BUSY. */
  unsigned before =
      cqlmux_split_count(atomic_fetch_add_explicit(&c->stats.admitted, 1, memory_order_relaxed),
                         atomic_load_explicit(&c->stats.settled, memory_order_relaxed));
  if (before >= limit) {
    atomic_fetch_sub_explicit(&c->stats.admitted, 1, memory_order_relaxed);
    stat_add(&c->stats.busy_rejections, 1);
    return CQLMUX_ERR_BUSY;
  }
  return CQLMUX_OK;
}

void cqlmux_connection_unadmit(cqlmux_connection *c) {
  /* relaxed: see admitted_load. */
  atomic_fetch_sub_explicit(&c->stats.admitted, 1, memory_order_relaxed);
}

static void on_request_task(cqlmux_task *task, int status);
static void on_request_timeout(cqlmux_timer *timer, int status);

void cqlmux_connection_post(cqlmux_connection *c, cqlmux_request *req) {
  req->conn = c;
  cqlmux_task_init(&req->task, on_request_task);
  cqlmux_loop_post(c->loop, &req->task);
}

/* A request leaves the connection's books (completion of any kind). */
static void settle(cqlmux_connection *c) {
  /* relaxed: see admitted_load. An atomic add, not a store: a loop that is
   * shutting down may fail requests on another thread. */
  atomic_fetch_add_explicit(&c->stats.settled, 1, memory_order_relaxed);
}

static void on_request_task(cqlmux_task *task, int status) {
  cqlmux_request *req = cqlmux_container_of(task, cqlmux_request, task);
  cqlmux_connection *c = req->conn;
  if (status != CQLMUX_OK) {
    complete_failure(c, req, CQLMUX_ERR_SHUTDOWN, "session shut down");
    return;
  }
  if (c->state == CQLMUX_CONN_CLOSED) {
    complete_failure(c, req, CQLMUX_ERR_CONNECTION_CLOSED, "connection closed");
    return;
  }
  cqlmux_timer_init(&req->timer, on_request_timeout, req);
  if (req->timeout_us) {
    uint64_t now = cqlmux_loop_now_us(c->loop);
    uint64_t deadline = req->submitted_us + req->timeout_us;
    cqlmux_loop_timer_start(c->loop, &req->timer, deadline > now ? deadline - now : 0);
  }
  submit_ready(c, req);
}

static void queue_append(cqlmux_connection *c, cqlmux_request *req) {
  req->queued = true;
  req->queue_next = NULL;
  req->queue_prev = c->queue_tail;
  if (c->queue_tail)
    c->queue_tail->queue_next = req;
  else
    c->queue_head = req;
  c->queue_tail = req;
  c->queue_len++;
}

static void queue_remove(cqlmux_connection *c, cqlmux_request *req) {
  if (req->queue_prev)
    req->queue_prev->queue_next = req->queue_next;
  else
    c->queue_head = req->queue_next;
  if (req->queue_next)
    req->queue_next->queue_prev = req->queue_prev;
  else
    c->queue_tail = req->queue_prev;
  req->queued = false;
  c->queue_len--;
}

/* Puts a request on the wire: stream id, write buffer, flush. */
static void send_request(cqlmux_connection *c, cqlmux_request *req) {
  int32_t id = cqlmux_stream_table_acquire(&c->streams, req);
  if (id < 0) {
    cqlmux_loop_timer_stop(c->loop, &req->timer);
    complete_failure(c, req, CQLMUX_ERR_BUSY, "no free stream id on the connection");
    return;
  }
  int rc = append_envelope(c, req->envelope.data, req->envelope.len, id);
  if (rc != CQLMUX_OK) {
    void *same;
    cqlmux_stream_table_complete(&c->streams, id, &same);
    cqlmux_loop_timer_stop(c->loop, &req->timer);
    complete_failure(c, req, rc, "cannot buffer the request");
    return;
  }
  req->stream = id;
  req->sent = true;
  c->in_flight++;
  cqlmux_loop_hold(c->loop);
  if (c->in_flight >= c->settings->high_watermark) c->saturated = true;
  schedule_flush(c);
}

static void submit_ready(cqlmux_connection *c, cqlmux_request *req) {
  bool must_wait = c->state != CQLMUX_CONN_READY || c->saturated || c->queue_head ||
                   write_buffer_over_budget(c);
  if (!must_wait) {
    send_request(c, req);
    publish_load(c);
    return;
  }
  if (c->queue_len >= c->settings->queue_size) {
    cqlmux_loop_timer_stop(c->loop, &req->timer);
    stat_add(&c->stats.busy_rejections, 1);
    char message[160];
    snprintf(message, sizeof message,
             "busy: %u requests in flight and %u waiting on %s (queue size %u)", c->in_flight,
             c->queue_len, c->peer, c->settings->queue_size);
    complete_failure(c, req, CQLMUX_ERR_BUSY, message);
    return;
  }
  queue_append(c, req);
  publish_load(c);
}

/* Below the low watermark the waiting requests go out, up to the high one. */
static void drain_queue(cqlmux_connection *c) {
  if (c->saturated && c->in_flight < c->settings->low_watermark) c->saturated = false;
  while (!c->saturated && c->queue_head && c->state == CQLMUX_CONN_READY &&
         !write_buffer_over_budget(c)) {
    cqlmux_request *req = c->queue_head;
    queue_remove(c, req);
    send_request(c, req);
  }
  publish_load(c);
}

static void on_request_timeout(cqlmux_timer *timer, int status) {
  cqlmux_request *req = timer->user_data;
  cqlmux_connection *c = req->conn;
  if (status != CQLMUX_OK) return; /* the connection's stop handler fails it */
  stat_add(&c->stats.timeouts, 1);
  char message[128];
  snprintf(message, sizeof message, "no answer from %s within %llu ms", c->peer,
           (unsigned long long)(req->timeout_us / 1000));
  if (req->queued) {
    queue_remove(c, req);
    publish_load(c);
    complete_failure(c, req, CQLMUX_ERR_TIMEOUT, message);
    return;
  }
  /* The id stays reserved until the late answer: see stream_table.h. */
  cqlmux_stream_table_orphan(&c->streams, req->stream);
  c->in_flight--;
  cqlmux_loop_release(c->loop);
  complete_failure(c, req, CQLMUX_ERR_TIMEOUT, message);
  if ((uint32_t)c->streams.orphans > c->settings->orphan_threshold) {
    cqlmux_connection_close(c, CQLMUX_ERR_CONNECTION_CLOSED,
                            "too many requests timed out on this connection; recycling it");
    return;
  }
  drain_queue(c);
}

/* ================================================================ reading */

static void dispatch(cqlmux_connection *c, const cqlmux_envelope *env, cqlmux_rbuf *buffer);

/* Decodes v4 per-envelope LZ4 into the scratch buffer when flagged. */
static bool unpack_body(cqlmux_connection *c, const cqlmux_envelope *env,
                        cqlmux_envelope *plain, cqlmux_rbuf **buffer) {
  *plain = *env;
  if (!(env->header.flags & CQLMUX_FLAG_COMPRESSION)) return true;
  cqlmux_wbuf_reset(&c->scratch);
  if (cqlmux_envelope_decompress_v4(env, &c->scratch, CQLMUX_ENVELOPE_MAX_BODY, plain) !=
      CQLMUX_OK) {
    cqlmux_connection_close(c, CQLMUX_ERR_COMPRESSION, "cannot decompress a response");
    return false;
  }
  *buffer = NULL; /* the body now lives in scratch, valid only for the call */
  return true;
}

static void deliver(cqlmux_connection *c, cqlmux_request *req, uint8_t opcode,
                    const uint8_t *body, size_t len, cqlmux_rbuf *buffer) {
  if (req->ops == &internal_ops) {
    req->stream = -1;
    req->ops->on_response(req, c->version, opcode, body, len, buffer);
    return;
  }
  cqlmux_loop_timer_stop(c->loop, &req->timer);
  c->in_flight--;
  cqlmux_loop_release(c->loop);
  settle(c);
  req->ops->on_response(req, c->version, opcode, body, len, buffer);
}

static void dispatch(cqlmux_connection *c, const cqlmux_envelope *raw, cqlmux_rbuf *buffer) {
  cqlmux_envelope env;
  if (!unpack_body(c, raw, &env, &buffer)) return;
  cqlmux_body_prefix prefix;
  cqlmux_reader rest;
  if (cqlmux_envelope_body_prefix(&env, &prefix, &rest) != CQLMUX_OK) {
    close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, "malformed response envelope prefix");
    return;
  }
  const uint8_t *body = rest.pos;
  size_t len = cqlmux_reader_remaining(&rest);
  if (env.header.stream < 0) {
    if (env.header.opcode == CQLMUX_OP_EVENT && c->events->on_event)
      c->events->on_event(c, body, len, c->owner);
    return;
  }
  void *request;
  switch (cqlmux_stream_table_complete(&c->streams, env.header.stream, &request)) {
  case CQLMUX_STREAM_LIVE:
    deliver(c, request, env.header.opcode, body, len, buffer);
    return;
  case CQLMUX_STREAM_ORPHAN:
    return; /* the late answer to a timed-out request: dropped */
  case CQLMUX_STREAM_UNKNOWN:
    break;
  }
  char message[96];
  snprintf(message, sizeof message, "answer on stream %d, which no request uses",
           env.header.stream);
  close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, message);
}

/* How many more bytes the buffer needs before the next unit can decode. */
static size_t bytes_wanted(const cqlmux_connection *c) {
  const cqlmux_rbuf *b = c->rbuf;
  const uint8_t *p = b->data + b->start;
  size_t have = b->end - b->start;
  if (c->framing == CQLMUX_FRAMING_NONE) {
    if (have < CQLMUX_ENVELOPE_HEADER_SIZE) return CQLMUX_ENVELOPE_HEADER_SIZE;
    return CQLMUX_ENVELOPE_HEADER_SIZE + (size_t)cqlmux_load_u32(p + 5);
  }
  /* v5: the first 17 bits (little-endian) of either header are the length
   * of the payload as sent. */
  size_t header = c->framing == CQLMUX_FRAMING_V5_LZ4 ? CQLMUX_FRAME_V5_LZ4_HEADER_SIZE
                                                      : CQLMUX_FRAME_V5_HEADER_SIZE;
  if (have < header) return header;
  size_t payload = ((size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16) & 0x1FFFFu;
  return header + payload + CQLMUX_FRAME_V5_TRAILER_SIZE;
}

/* Free space to ask for before the next read: enough for the unit being
 * received, and at least a useful chunk. */
static size_t room_needed(const cqlmux_connection *c) {
  size_t have = c->rbuf->end - c->rbuf->start;
  size_t wanted = bytes_wanted(c);
  size_t missing = wanted > have ? wanted - have : 0;
  return missing > 4096 ? missing : 4096;
}

/* Decodes plain envelopes from the buffer. Returns false when closed. */
static bool decode_envelopes(cqlmux_connection *c) {
  cqlmux_rbuf *b = c->rbuf;
  while (c->state != CQLMUX_CONN_CLOSED) {
    cqlmux_envelope env;
    int n = cqlmux_envelope_decode(b->data + b->start, b->end - b->start, CQLMUX_DIR_RESPONSE,
                                   CQLMUX_ENVELOPE_MAX_BODY, &env);
    if (n == 0) return true;
    if (n < 0) {
      close_for_bad_input(c, n, "bad response envelope");
      return false;
    }
    b->start += (size_t)n;
    dispatch(c, &env, b);
    /* The handshake may have switched to v5 framing, or to a new socket. */
    if (c->framing != CQLMUX_FRAMING_NONE || c->state == CQLMUX_CONN_CONNECTING)
      return c->state != CQLMUX_CONN_CLOSED;
  }
  return false;
}

/* Decodes v5 frames, then the envelopes each one completes. */
static bool decode_frames(cqlmux_connection *c) {
  cqlmux_rbuf *b = c->rbuf;
  while (c->state != CQLMUX_CONN_CLOSED) {
    cqlmux_slice envs;
    int n = cqlmux_frame_v5_decode(&c->decoder, b->data + b->start, b->end - b->start, &envs);
    if (n == 0) return true;
    if (n < 0) {
      close_for_bad_input(c, n, "bad v5 frame");
      return false;
    }
    b->start += (size_t)n;
    bool in_buffer = envs.data >= b->data && envs.data < b->data + b->cap;
    size_t off = 0;
    while (off < envs.len && c->state != CQLMUX_CONN_CLOSED) {
      cqlmux_envelope env;
      int m = cqlmux_envelope_decode(envs.data + off, envs.len - off, CQLMUX_DIR_RESPONSE,
                                     CQLMUX_ENVELOPE_MAX_BODY, &env);
      if (m <= 0) {
        close_for_bad_input(c, m < 0 ? m : CQLMUX_ERR_TRUNCATED, "bad envelope in a v5 frame");
        return false;
      }
      off += (size_t)m;
      dispatch(c, &env, in_buffer ? b : NULL);
    }
  }
  return false;
}

/* Decodes everything buffered; bytes after the STARTUP's answer may already
 * be v5 frames, so a switch of framing decodes the rest the new way. */
static bool decode_input(cqlmux_connection *c) {
  for (;;) {
    cqlmux_framing before = c->framing;
    bool ok = before == CQLMUX_FRAMING_NONE ? decode_envelopes(c) : decode_frames(c);
    if (!ok || c->framing == before || c->state == CQLMUX_CONN_CONNECTING) return ok;
  }
}

static ssize_t transport_recv(cqlmux_connection *c, uint8_t *p, size_t cap, unsigned *want) {
  if (!c->use_tls) {
    int sys_errno = 0;
    *want = CQLMUX_IO_READ;
    return cqlmux_socket_recv(c->fd, p, cap, &sys_errno);
  }
  cqlmux_io_want w;
  ssize_t rc = cqlmux_tls_recv(&c->tls, p, cap, &w);
  *want = w == CQLMUX_WANT_WRITE ? CQLMUX_IO_WRITE : CQLMUX_IO_READ;
  return rc;
}

/* Whether the callback workers are behind: see connection.h. */
static bool workers_behind(const cqlmux_connection *c) {
  if (!c->settings->workers || !c->settings->completion_bound) return false;
  return cqlmux_workers_depth(c->settings->workers) > c->settings->completion_bound;
}

/* Stops reading (writes go on) until the pause timer finds the workers
 * caught up. */
static void pause_reading(cqlmux_connection *c) {
  if (c->read_paused) return;
  c->read_paused = true;
  stat_add(&c->stats.read_pauses, 1);
  watch_for(c, c->wsent < c->wbuf.len ? CQLMUX_IO_WRITE : 0);
  cqlmux_loop_timer_start(c->loop, &c->pause_timer, BACKPRESSURE_RECHECK_US);
}

static void read_input(cqlmux_connection *c);

static void on_pause_timer(cqlmux_timer *timer, int status) {
  cqlmux_connection *c = timer->user_data;
  if (status != CQLMUX_OK || c->state == CQLMUX_CONN_CLOSED) return;
  if (workers_behind(c)) {
    cqlmux_loop_timer_start(c->loop, &c->pause_timer, BACKPRESSURE_RECHECK_US);
    return;
  }
  c->read_paused = false;
  watch_for(c, CQLMUX_IO_READ | (c->wsent < c->wbuf.len ? CQLMUX_IO_WRITE : 0));
  read_input(c);
}

static void read_input(cqlmux_connection *c) {
  size_t budget = READ_BUDGET_BYTES;
  while (c->state != CQLMUX_CONN_CLOSED && budget > 0) {
    if (c->state == CQLMUX_CONN_READY && workers_behind(c)) {
      pause_reading(c);
      return;
    }
    cqlmux_rbuf *b = cqlmux_rbuf_prepare(c->rbuf, room_needed(c), c->settings->read_buffer_size);
    if (!b) {
      cqlmux_connection_close(c, CQLMUX_ERR_NOMEM, "no memory for the receive buffer");
      return;
    }
    c->rbuf = b;
    unsigned want;
    ssize_t n = transport_recv(c, b->data + b->end, b->cap - b->end, &want);
    if (n == CQLMUX_IO_AGAIN) {
      if (want == CQLMUX_IO_WRITE) watch_for(c, CQLMUX_IO_READ | CQLMUX_IO_WRITE);
      return;
    }
    if (n < 0) {
      char message[96];
      snprintf(message, sizeof message, "%s closed the connection", c->peer);
      cqlmux_connection_close(c, CQLMUX_ERR_CONNECTION_CLOSED, message);
      return;
    }
    b->end += (size_t)n;
    budget = (size_t)n > budget ? 0 : budget - (size_t)n;
    stat_add(&c->stats.bytes_in, (unsigned long)n);
    c->last_read_us = cqlmux_loop_now_us(c->loop);
    if (!decode_input(c) || c->state == CQLMUX_CONN_CONNECTING) return;
    if (c->state == CQLMUX_CONN_READY) drain_queue(c);
  }
}

static void on_io(cqlmux_io_watch *watch, unsigned events) {
  cqlmux_connection *c = watch->user_data;
  switch (c->state) {
  case CQLMUX_CONN_CONNECTING:
    tcp_connected(c);
    return;
  case CQLMUX_CONN_TLS:
    tls_step(c);
    return;
  case CQLMUX_CONN_CLOSED:
  case CQLMUX_CONN_NEW:
    return;
  default:
    break;
  }
  if (events & (CQLMUX_IO_READ | CQLMUX_IO_ERROR)) read_input(c);
  if (c->state != CQLMUX_CONN_CLOSED && (events & CQLMUX_IO_WRITE)) {
    flush(c);
    /* Requests held back by a full write buffer (write_buffer_over_budget). */
    if (c->state == CQLMUX_CONN_READY && c->queue_head) drain_queue(c);
  }
}

/* ================================================================ queries */

unsigned cqlmux_connection_load(const cqlmux_connection *c) {
  return admitted_load(c);
}

const cqlmux_conn_stats *cqlmux_connection_stats(const cqlmux_connection *c) { return &c->stats; }
cqlmux_loop *cqlmux_connection_loop(const cqlmux_connection *c) { return c->loop; }
cqlmux_conn_state cqlmux_connection_state(const cqlmux_connection *c) { return c->state; }
uint8_t cqlmux_connection_version(const cqlmux_connection *c) { return c->version; }
bool cqlmux_connection_compressed(const cqlmux_connection *c) { return c->lz4; }

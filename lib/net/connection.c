#include "net/connection_internal.h"

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
  cqlmux_request_reset(&c->control, &cqlmux_conn_internal_ops, c);
  cqlmux_request_reset(&c->heartbeat, &cqlmux_conn_internal_ops, c);
  cqlmux_wbuf_init(&c->control.envelope, settings->alloc, 0);
  cqlmux_wbuf_init(&c->heartbeat.envelope, settings->alloc, 0);
  cqlmux_timer_init(&c->connect_timer, cqlmux_conn_on_connect_timeout, c);
  cqlmux_timer_init(&c->heartbeat_timer, cqlmux_conn_on_heartbeat_timer, c);
  cqlmux_timer_init(&c->pause_timer, cqlmux_conn_on_pause_timer, c);
  cqlmux_task_init(&c->start_task, on_start_task);
  cqlmux_task_init(&c->keyspace_task, cqlmux_conn_on_keyspace_task);
  pthread_mutex_init(&c->wanted_lock, NULL);
  cqlmux_task_init(&c->flush_task, cqlmux_conn_on_flush_task);
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
  if (c->memo && c->settings->memo_release) c->settings->memo_release(c->memo);
  pthread_mutex_destroy(&c->wanted_lock);
  cqlmux_mem_free(alloc, c);
}

void cqlmux_connection_start(cqlmux_connection *c) { cqlmux_loop_post(c->loop, &c->start_task); }

/* Begins an attempt: the stop handler, the connect deadline, the socket. */
static void attempt(cqlmux_connection *c) {
  cqlmux_loop_add_stop_handler(c->loop, &c->stop_handler);
  cqlmux_loop_timer_start(c->loop, &c->connect_timer, c->settings->connect_timeout_us);
  c->current_keyspace[0] = '\0';
  cqlmux_conn_begin_connect(c);
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

/* Drops the socket and everything tied to it, keeping queued requests. */
void cqlmux_conn_release_socket(cqlmux_connection *c) {
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
  c->write_blocked = false;
  cqlmux_conn_hold_write_buffer(c);
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

/* A user request ends without an answer: the books first, then the owner. */
void cqlmux_conn_complete_failure(cqlmux_connection *c, cqlmux_request *req, int error,
                             const char *message) {
  cqlmux_conn_settle(c);
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
  if (req->ops == &cqlmux_conn_internal_ops) return; /* the close reports the reason itself */
  cqlmux_loop_timer_stop(why->conn->loop, &req->timer);
  cqlmux_conn_complete_failure(why->conn, req, why->error, why->message);
}

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
    cqlmux_conn_queue_remove(c, req);
    cqlmux_loop_timer_stop(c->loop, &req->timer);
    cqlmux_conn_complete_failure(c, req, error, message);
  }
  for (uint32_t i = 0; i < was_in_flight; i++) cqlmux_loop_release_here(c->loop);
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
  cqlmux_conn_release_socket(c);
  cqlmux_loop_remove_stop_handler(c->loop, &c->stop_handler);
  fail_all(c, error == CQLMUX_OK ? CQLMUX_ERR_CONNECTION_CLOSED : error,
           message ? message : "connection closed");
  c->events->on_closed(c, error, message, c->owner);
}

/* Bytes the server sent that this client cannot accept: the stream can no
 * longer be trusted. `rc` is the decoder's verdict, kept when it says more
 * than "protocol error" (an envelope over the size limit is OVERSIZED);
 * the message names the peer like every other connection error. */
void cqlmux_conn_close_for_bad_input(cqlmux_connection *c, int rc, const char *what) {
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

/* ================================================================ queries */

unsigned cqlmux_connection_load(const cqlmux_connection *c) {
  return cqlmux_conn_admitted_load(c);
}

const cqlmux_conn_stats *cqlmux_connection_stats(const cqlmux_connection *c) { return &c->stats; }

void **cqlmux_connection_memo(cqlmux_connection *c) { return &c->memo; }
cqlmux_loop *cqlmux_connection_loop(const cqlmux_connection *c) { return c->loop; }
cqlmux_conn_state cqlmux_connection_state(const cqlmux_connection *c) { return c->state; }
uint8_t cqlmux_connection_version(const cqlmux_connection *c) { return c->version; }
bool cqlmux_connection_compressed(const cqlmux_connection *c) { return c->lz4; }

#include "net/connection_internal.h"

#define DRIVER_NAME "cqlmux"

static void send_next_handshake_step(cqlmux_connection *c);
static void internal_response(cqlmux_request *req, uint8_t version, uint8_t opcode,
                              const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                              const cqlmux_body_prefix *prefix);
static void internal_failure(cqlmux_request *req, int error, const char *message, bool sent);

const cqlmux_request_ops cqlmux_conn_internal_ops = {internal_response, internal_failure};

/* ================================================================ connecting */

static void close_with_errno(cqlmux_connection *c, int error, const char *what, int sys_errno) {
  char message[256];
  snprintf(message, sizeof message, "%s %s: %s", what, c->peer,
           sys_errno ? strerror(sys_errno) : cqlmux_strerror(error));
  cqlmux_connection_close(c, error, message);
}

int cqlmux_conn_watch_for(cqlmux_connection *c, unsigned events) {
  if (c->watch.active && c->watch.events == events) return CQLMUX_OK;
  int rc = cqlmux_loop_watch(c->loop, &c->watch, events);
  if (rc != CQLMUX_OK) cqlmux_connection_close(c, rc, "cannot watch the socket");
  return rc;
}

void cqlmux_conn_begin_connect(cqlmux_connection *c) {
  bool in_progress = false;
  int sys_errno = 0;
  int rc = cqlmux_socket_connect(&c->endpoint, &c->fd, &in_progress, &sys_errno);
  if (rc != CQLMUX_OK) {
    close_with_errno(c, rc, "cannot connect to", sys_errno);
    return;
  }
  cqlmux_io_watch_init(&c->watch, c->fd, cqlmux_conn_on_io, c);
  c->state = CQLMUX_CONN_CONNECTING;
  if (!c->rbuf && !(c->rbuf = cqlmux_rbuf_new(c->settings->alloc, c->settings->read_buffer_size))) {
    cqlmux_connection_close(c, CQLMUX_ERR_NOMEM, "no memory for the receive buffer");
    return;
  }
  cqlmux_conn_watch_for(c, CQLMUX_IO_WRITE);
}

void cqlmux_conn_on_connect_timeout(cqlmux_timer *timer, int status) {
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
    cqlmux_conn_watch_for(c, want == CQLMUX_WANT_WRITE ? CQLMUX_IO_WRITE : CQLMUX_IO_READ);
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

void cqlmux_conn_connect_step(cqlmux_connection *c) {
  if (c->state == CQLMUX_CONN_CONNECTING)
    tcp_connected(c);
  else
    tls_step(c);
}

/* ================================================================ handshake */

/* Sends one internal request (handshake step, USE, heartbeat) whose
 * encoder returned `encoded`. The encoders roll a failed envelope back to
 * empty and clear its error, so only that code tells a failure. */
static void send_internal(cqlmux_connection *c, cqlmux_request *req, int encoded) {
  if (encoded != CQLMUX_OK) {
    cqlmux_connection_close(c, encoded, "cannot encode a control request");
    return;
  }
  int32_t id = cqlmux_stream_table_acquire(&c->streams, req);
  if (id < 0) {
    cqlmux_conn_close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, "no stream id for a control request");
    return;
  }
  req->stream = id;
  req->sent = true;
  if (cqlmux_conn_append_envelope(c, req->envelope.data, req->envelope.len, id)) {
    cqlmux_connection_close(c, CQLMUX_ERR_NOMEM, "cannot encode a control request");
    return;
  }
  cqlmux_conn_schedule_flush(c);
}

void cqlmux_conn_send_options(cqlmux_connection *c, cqlmux_request *req) {
  cqlmux_request_header h = {.version = c->version};
  cqlmux_wbuf_reset(&req->envelope);
  send_internal(c, req, cqlmux_request_options(&req->envelope, &h));
}

static void send_startup(cqlmux_connection *c) {
  cqlmux_request_header h = {.version = c->version};
  cqlmux_startup s = {.cql_version = "3.0.0",
                      .compression = c->lz4 ? "lz4" : NULL,
                      .driver_name = DRIVER_NAME,
                      .driver_version = CQLMUX_VERSION_STRING};
  cqlmux_wbuf_reset(&c->control.envelope);
  send_internal(c, &c->control, cqlmux_request_startup(&c->control.envelope, &h, &s));
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
  int rc = cqlmux_request_auth_response(&c->control.envelope, &h, b);
  memset(token, 0, sizeof token); /* the password leaves no copy behind */
  send_internal(c, &c->control, rc);
}

static void send_use(cqlmux_connection *c) {
  char cql[300];
  snprintf(c->sending_keyspace, sizeof c->sending_keyspace, "%s", c->keyspace);
  int n = snprintf(cql, sizeof cql, "USE \"%s\"", c->sending_keyspace);
  cqlmux_request_header h = {.version = c->version};
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE};
  cqlmux_slice q = {(const uint8_t *)cql, (size_t)n};
  cqlmux_wbuf_reset(&c->control.envelope);
  c->switching_keyspace = true;
  send_internal(c, &c->control, cqlmux_request_query(&c->control.envelope, &h, q, &p));
}

/* The USE is answered: the wanted keyspace again if it changed meanwhile,
 * else the requests that waited for it go. */
static void keyspace_switched(cqlmux_connection *c) {
  c->switching_keyspace = false;
  if (c->state != CQLMUX_CONN_READY) return;
  if (strcmp(c->keyspace, c->current_keyspace) != 0)
    send_use(c);
  else
    cqlmux_conn_drain_queue(c);
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
  if (c->state == CQLMUX_CONN_READY) cqlmux_conn_drain_queue(c);
}

static void send_next_handshake_step(cqlmux_connection *c) {
  switch (c->state) {
  case CQLMUX_CONN_OPTIONS:
    cqlmux_conn_send_options(c, &c->control);
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
  if (c->state != CQLMUX_CONN_CLOSED && c->state != CQLMUX_CONN_READY)
    cqlmux_conn_watch_for(c, CQLMUX_IO_READ);
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
  cqlmux_conn_release_socket(c);
  cqlmux_conn_begin_connect(c);
  return true;
}

static void handshake_error(cqlmux_connection *c, const uint8_t *body, size_t len) {
  cqlmux_error_body e;
  if (cqlmux_error_decode(c->version, body, len, &e) != CQLMUX_OK) {
    cqlmux_conn_close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, "malformed ERROR during the handshake");
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
    cqlmux_conn_close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, "malformed SUPPORTED");
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
      if (c->state == CQLMUX_CONN_KEYSPACE) {
        c->switching_keyspace = false;
        become_ready(c);
      }
      keyspace_switched(c);
      return;
    }
    break;
  default:
    break;
  }
  char message[96];
  snprintf(message, sizeof message, "unexpected opcode 0x%02x during the handshake", opcode);
  cqlmux_conn_close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, message);
}

static void internal_response(cqlmux_request *req, uint8_t version, uint8_t opcode,
                              const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                              const cqlmux_body_prefix *prefix) {
  (void)version;
  (void)buffer;
  (void)prefix; /* handshake and heartbeat requests ask for no tracing nor payload */
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
    keyspace_switched(c);
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

void cqlmux_conn_on_keyspace_task(cqlmux_task *task, int status) {
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

#include "net/connection_internal.h"

/* ================================================================ heartbeat */

void cqlmux_conn_on_heartbeat_timer(cqlmux_timer *timer, int status) {
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
  cqlmux_conn_send_options(c, &c->heartbeat);
  cqlmux_loop_timer_start(c->loop, &c->heartbeat_timer, c->settings->heartbeat_timeout_us);
}

/* ================================================================ timeouts */

void cqlmux_conn_on_request_timeout(cqlmux_timer *timer, int status) {
  cqlmux_request *req = timer->user_data;
  cqlmux_connection *c = req->conn;
  if (status != CQLMUX_OK) return; /* the connection's stop handler fails it */
  stat_add(&c->stats.timeouts, 1);
  char message[128];
  snprintf(message, sizeof message, "no answer from %s within %llu ms", c->peer,
           (unsigned long long)(req->timeout_us / 1000));
  if (req->queued) {
    cqlmux_conn_queue_remove(c, req);
    publish_load(c);
    cqlmux_conn_complete_failure(c, req, CQLMUX_ERR_TIMEOUT, message);
    return;
  }
  /* The id stays reserved until the late answer: see stream_table.h. */
  cqlmux_stream_table_orphan(&c->streams, req->stream);
  c->in_flight--;
  cqlmux_loop_release_here(c->loop);
  cqlmux_conn_complete_failure(c, req, CQLMUX_ERR_TIMEOUT, message);
  if ((uint32_t)c->streams.orphans > c->settings->orphan_threshold) {
    cqlmux_connection_close(c, CQLMUX_ERR_CONNECTION_CLOSED,
                            "too many requests timed out on this connection; recycling it");
    return;
  }
  cqlmux_conn_drain_queue(c);
}

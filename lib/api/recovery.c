#include "api/recovery.h"

#include <stdatomic.h>
#include <string.h>

#include "api/call.h"
#include "api/retry.h"
#include "proto/opcode.h"
#include "proto/request.h"
#include "runtime/alloc.h"
#include "runtime/clock.h"
#include "runtime/objpool.h"

/* Attempts a request may make in all: a bound for policies that would
 * retry forever (the request's timeout bounds them in time too). */
#define MAX_ATTEMPTS 8

/* Counts the retry on the host that failed and notes why it was left, in
 * the call's log of attempts, which the first retry starts with the host of
 * the first attempt (no log, only the count, when memory runs out). */
static void note_retry(cqlmux_call *call, cqlmux_retry_reason reason) {
  if (call->host) cqlmux_metrics_record_retry(&call->host->metrics, reason);
  cqlmux_call_extra *x = cqlmux_call_extra_of(call);
  if (!x) return;
  if (!x->tried_count && call->host) x->tried[x->tried_count++] = call->host;
  if (x->tried_count) x->tried_reason[x->tried_count - 1] = (uint8_t)reason;
}

/* The result goes back to empty for the next answer; the columns it was
 * told to expect (SKIP_METADATA) stay. */
static void reset_result(cqlmux_call *call) {
  bool expected = call->result.columns_omitted;
  cqlmux_result_recycle(&call->result);
  call->result.columns_omitted = expected;
}

/* Sends the call again on conn (of h), its result emptied first; false
 * when there is no conn: the call and its error stay as they are. A
 * connection that refuses it completes it with BUSY. */
static bool resend(cqlmux_call *call, cqlmux_connection *conn, cqlmux_host *h,
                   cqlmux_retry_reason reason) {
  if (!conn) return false;
  note_retry(call, reason);
  reset_result(call);
  if (!cqlmux_session_offer(call, conn, h))
    cqlmux_session_complete(call, CQLMUX_ERR_BUSY,
                            "busy: the connection to retry on has no room for the request");
  return true;
}

static bool resend_next_host(cqlmux_call *call, const cqlmux_connection *avoid,
                             cqlmux_retry_reason reason) {
  cqlmux_host *h = NULL;
  cqlmux_connection *conn = cqlmux_session_next_in_plan(call, avoid, &h);
  return resend(call, conn, h, reason);
}

static bool resend_same_host(cqlmux_call *call, cqlmux_retry_reason reason) {
  cqlmux_host *h = call->host;
  cqlmux_connection *conn = h && h->has_pool ? cqlmux_pool_pick(&h->pool, NULL) : NULL;
  return resend(call, conn, h, reason) || resend_next_host(call, NULL, reason);
}

/* ------------------------------------------------------------- the policy */

static cqlmux_retry_decision ask_policy(cqlmux_call *call, int error, const char *message) {
  cqlmux_server_error server;
  bool has_server = error == CQLMUX_ERR_SERVER && call->result.has_error;
  if (has_server) cqlmux_result_server_error(&call->result, &server);
  cqlmux_retry_request r = {.error = error,
                            .server = has_server ? &server : NULL,
                            .idempotent = call->idempotent,
                            .retries = call->attempts ? call->attempts - 1 : 0,
                            .host = call->host ? call->host->address : "",
                            .message = message,
                            .session = call->session};
  const cqlmux_retry_policy *p = call->retry_policy;
  return p ? p->decide(p, &r) : CQLMUX_RETRY_RETHROW;
}

/* An empty VOID result in place of the error. */
static void complete_ignored(cqlmux_call *call) {
  if (call->host) cqlmux_metrics_record_ignored(&call->host->metrics);
  reset_result(call);
  call->result.has_result = true;
  call->result.kind = CQLMUX_RESULT_VOID;
  cqlmux_session_complete(call, CQLMUX_OK, NULL);
}

/* Errors no policy is asked about: the request's own deadline passed, the
 * connection refused it, the session is going. */
static bool never_retried(int error) {
  return error == CQLMUX_ERR_TIMEOUT || error == CQLMUX_ERR_BUSY || error == CQLMUX_ERR_SHUTDOWN;
}

bool cqlmux_recovery_after_failure(cqlmux_call *call, int error, const char *message, bool sent) {
  if (never_retried(error) || call->attempts >= MAX_ATTEMPTS ||
      !cqlmux_session_connected(call->session))
    return false;
  const cqlmux_connection *failed = call->net.conn;
  /* Never reached the socket: safe to send anywhere, for any statement. */
  if (!sent) return resend_next_host(call, failed, CQLMUX_RETRY_REASON_UNSENT);
  int32_t code = call->result.has_error ? call->result.error->body.code : 0;
  cqlmux_retry_reason reason = cqlmux_retry_reason_of(error, code);
  switch (ask_policy(call, error, message)) {
  case CQLMUX_RETRY_IGNORE: complete_ignored(call); return true;
  case CQLMUX_RETRY_SAME_HOST: return resend_same_host(call, reason);
  case CQLMUX_RETRY_NEXT_HOST: return resend_next_host(call, failed, reason);
  default: return false;
  }
}

/* ------------------------------------------------------------ re-prepare */

static void on_reprepared(cqlmux_request *req, uint8_t version, uint8_t opcode,
                          const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                          const cqlmux_body_prefix *prefix);
static void on_reprepare_failed(cqlmux_request *req, int error, const char *message, bool sent);
static const cqlmux_request_ops reprepare_ops = {on_reprepared, on_reprepare_failed};

/* The EXECUTE envelope and the PREPARE one trade places (the second is in
 * the call's extra record, made by the re-prepare). */
static void swap_envelopes(cqlmux_call *call) {
  cqlmux_wbuf t = call->net.envelope;
  call->net.envelope = call->extra->held;
  call->extra->held = t;
}

static int encode_prepare(cqlmux_session *s, const cqlmux_prepared_entry *e, cqlmux_wbuf *out) {
  cqlmux_request_header h;
  cqlmux_session_request_header(s, &h);
  cqlmux_slice text = {(const uint8_t *)e->cql, strlen(e->cql)};
  /* v5 carries the keyspace it was prepared in; v4 relies on the
   * connection's (the session's) keyspace, as the first PREPARE did. */
  bool with_keyspace = h.version >= 5 && e->keyspace[0];
  cqlmux_slice ks = {(const uint8_t *)e->keyspace, strlen(e->keyspace)};
  return cqlmux_request_prepare(out, &h, text, with_keyspace, ks);
}

bool cqlmux_recovery_reprepare(cqlmux_call *call) {
  cqlmux_session *s = call->session;
  if (call->reprepared || call->kind != CQLMUX_CALL_EXECUTE || !cqlmux_session_connected(s))
    return false;
  const cqlmux_error_body *err = &call->result.error->body;
  const cqlmux_prepared_entry *e =
      cqlmux_prepared_cache_find(&s->prepared, err->unprepared_id.data, err->unprepared_id.len);
  cqlmux_connection *conn = call->net.conn;
  if (!e || !conn || !cqlmux_call_extra_of(call)) return false;
  swap_envelopes(call);
  cqlmux_wbuf_reset(&call->net.envelope);
  if (encode_prepare(s, e, &call->net.envelope) != CQLMUX_OK ||
      cqlmux_connection_admit(conn) != CQLMUX_OK) {
    swap_envelopes(call);
    return false;
  }
  call->reprepared = true;
  note_retry(call, CQLMUX_RETRY_REASON_UNPREPARED);
  reset_result(call);
  cqlmux_request_reset(&call->net, &reprepare_ops, call);
  cqlmux_connection_post(conn, &call->net);
  return true;
}

static bool prepared_answer(uint8_t opcode, const uint8_t *body, size_t len) {
  if (opcode != CQLMUX_OP_RESULT || len < 4) return false;
  uint32_t kind = (uint32_t)body[0] << 24 | (uint32_t)body[1] << 16 | (uint32_t)body[2] << 8 | body[3];
  return kind == CQLMUX_RESULT_PREPARED;
}

/* The PREPARE's answer, on the connection's loop: the EXECUTE goes again
 * on the same connection, or the PREPARE's error is the request's. */
static void on_reprepared(cqlmux_request *req, uint8_t version, uint8_t opcode,
                          const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                          const cqlmux_body_prefix *prefix) {
  cqlmux_call *call = (cqlmux_call *)req;
  cqlmux_connection *conn = req->conn;
  swap_envelopes(call);
  if (prepared_answer(opcode, body, len)) {
    if (!cqlmux_session_offer(call, conn, call->host))
      cqlmux_session_complete(call, CQLMUX_ERR_BUSY,
                              "busy: no room to execute again after re-preparing");
    return;
  }
  int rc = cqlmux_result_fill(&call->result, version, opcode, body, len, buffer, prefix);
  char message[512] = "re-preparing after UNPREPARED got an unexpected answer";
  if (rc == CQLMUX_OK && call->result.has_error) {
    cqlmux_result_describe_error(&call->result, message, sizeof message);
    cqlmux_session_complete(call, CQLMUX_ERR_SERVER, message);
    return;
  }
  cqlmux_session_complete(call, CQLMUX_ERR_PROTOCOL, message);
}

static void on_reprepare_failed(cqlmux_request *req, int error, const char *message, bool sent) {
  cqlmux_call *call = (cqlmux_call *)req;
  swap_envelopes(call);
  if (cqlmux_recovery_after_failure(call, error, message, sent)) return;
  cqlmux_session_complete(call, error, message);
}

/* ------------------------------------------------- prepares in the background */

/* PREPAREs on the other hosts that a user's PREPARE waits for: the last
 * one to finish completes it. */
typedef struct prepare_group {
  atomic_uint pending;  /* PREPAREs out, plus one while they are being sent */
  cqlmux_call *call;
} prepare_group;

/* One PREPARE fewer out; the last completes the call. acq_rel: the thread
 * that completes the call must see what the others wrote before their
 * decrement (the call itself was written before the first PREPARE went). */
static void group_done(prepare_group *g) {
  if (atomic_fetch_sub_explicit(&g->pending, 1, memory_order_acq_rel) != 1) return;
  cqlmux_call *call = g->call;
  cqlmux_mem_free(call->session->alloc, g);
  cqlmux_session_complete(call, CQLMUX_OK, NULL);
}

/* A PREPARE of the session's own, no future: its outcome only matters to
 * the server's cache (and, in a group, to when the user's PREPARE ends). */
typedef struct background_prepare {
  cqlmux_request net;
  cqlmux_session *session;
  prepare_group *group; /* or NULL */
} background_prepare;

static void background_finished(background_prepare *b) {
  cqlmux_session *s = b->session;
  prepare_group *g = b->group;
  cqlmux_wbuf_free(&b->net.envelope);
  cqlmux_mem_free(s->alloc, b);
  if (g) group_done(g);
  cqlmux_session_background_done(s);
}

static void on_background_answer(cqlmux_request *req, uint8_t version, uint8_t opcode,
                                 const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                                 const cqlmux_body_prefix *prefix) {
  (void)version, (void)opcode, (void)body, (void)len, (void)buffer, (void)prefix;
  background_finished((background_prepare *)req);
}

static void on_background_failure(cqlmux_request *req, int error, const char *message,
                                  bool sent) {
  (void)error, (void)message, (void)sent;
  background_finished((background_prepare *)req);
}

static const cqlmux_request_ops background_ops = {on_background_answer, on_background_failure};

static void prepare_on(cqlmux_session *s, cqlmux_host *h, const cqlmux_prepared_entry *e,
                       prepare_group *g) {
  cqlmux_connection *conn = h->has_pool ? cqlmux_pool_pick(&h->pool, NULL) : NULL;
  if (!conn || !cqlmux_session_background_start(s)) return;
  background_prepare *b = cqlmux_mem_calloc(s->alloc, 1, sizeof *b);
  if (!b) {
    cqlmux_session_background_done(s);
    return;
  }
  b->session = s;
  if (g) {
    /* relaxed: the group's own guard keeps it above 0 until sending ends. */
    atomic_fetch_add_explicit(&g->pending, 1, memory_order_relaxed);
    b->group = g;
  }
  cqlmux_wbuf_init(&b->net.envelope, s->alloc, 0);
  if (encode_prepare(s, e, &b->net.envelope) != CQLMUX_OK ||
      cqlmux_connection_admit(conn) != CQLMUX_OK) {
    background_finished(b); /* best effort: UNPREPARED recovers later */
    return;
  }
  b->net.timeout_us = (uint64_t)s->config->request_timeout_ms * 1000;
  b->net.submitted_us = cqlmux_clock_now_us();
  cqlmux_request_reset(&b->net, &background_ops, b);
  cqlmux_connection_post(conn, &b->net);
}

static bool is_up(const cqlmux_host *h) {
  /* relaxed: a hint; a host that just went down fails the PREPARE. */
  return atomic_load_explicit(&h->state, memory_order_relaxed) == CQLMUX_HOST_UP;
}

bool cqlmux_recovery_prepare_elsewhere(cqlmux_session *s, const cqlmux_prepared_entry *e,
                                       const cqlmux_host *except, cqlmux_call *call) {
  prepare_group *g = call ? cqlmux_mem_calloc(s->alloc, 1, sizeof *g) : NULL;
  if (g) {
    atomic_init(&g->pending, 1); /* the guard: dropped once every PREPARE is out */
    g->call = call;
  }
  const cqlmux_host_list *l = cqlmux_cluster_hosts(s->cluster);
  for (unsigned i = 0; i < l->count; i++)
    if (l->hosts[i] != except && is_up(l->hosts[i])) prepare_on(s, l->hosts[i], e, g);
  if (!g) return false;
  /* acq_rel, as group_done: none out (or all done already) -> ours to
   * complete, below, by the caller. */
  if (atomic_fetch_sub_explicit(&g->pending, 1, memory_order_acq_rel) == 1) {
    cqlmux_mem_free(s->alloc, g);
    return false;
  }
  return true;
}

void cqlmux_recovery_prepare_all_on(cqlmux_session *s, cqlmux_host *h) {
  for (const cqlmux_prepared_entry *e = cqlmux_prepared_cache_first(&s->prepared); e; e = e->next)
    prepare_on(s, h, e, NULL);
}

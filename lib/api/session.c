#include "api/session.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/answer_prefix.h"
#include "api/batch.h"
#include "api/call.h"
#include "api/columns_memo.h"
#include "api/prepared.h"
#include "api/recovery.h"
#include "api/retry.h"
#include "api/routing.h"
#include "api/schema_agreement.h"
#include "api/speculation.h"
#include "api/statement.h"
#include "cluster/plan.h"
#include "proto/opcode.h"
#include "proto/request.h"
#include "runtime/alloc.h"
#include "runtime/clock.h"
#include "runtime/future.h"
#include "runtime/split_count.h"

/* Idle calls kept for reuse. */
#define CALL_CACHE 4096

/* Every keyspace name the session was in, once each, kept until the
 * session is freed: a submitter may still be reading the one it loaded,
 * and switching back to a name costs nothing. */
typedef struct retired_string {
  struct retired_string *next;
  char *text;
} retired_string;

static void on_call_response(cqlmux_request *req, uint8_t version, uint8_t opcode,
                             const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                             const cqlmux_body_prefix *prefix);
static void on_call_failure(cqlmux_request *req, int error, const char *message, bool sent);
static const cqlmux_request_ops call_ops = {on_call_response, on_call_failure};

static void on_cluster_connected(void *owner, int error, const char *message);
static void on_host_up(void *owner, cqlmux_host *host);
static void set_routing_keyspace(cqlmux_session *s, const char *keyspace);


static int session_state(const cqlmux_session *s) {
  /* acquire: pairs with the release stores of state changes, so a thread
   * that sees CONNECTED also sees the negotiated version. */
  return atomic_load_explicit(&s->state, memory_order_acquire);
}

bool cqlmux_session_connected(const cqlmux_session *s) {
  return session_state(s) == CQLMUX_SESSION_CONNECTED;
}

static void set_state(cqlmux_session *s, cqlmux_session_state st) {
  atomic_store_explicit(&s->state, (int)st, memory_order_release);
}

/* A future already completed with error (for failures at submission). */
static cqlmux_future *failed_future(cqlmux_session *s, int error, const char *message) {
  cqlmux_future *f = cqlmux_runtime_future_new(s->runtime);
  if (!f) return NULL;
  cqlmux_future_complete(f, error, message, NULL, NULL);
  cqlmux_future_release(f);
  return f;
}

/* ================================================================ creation */

static int init_tls(cqlmux_session *s) {
  const cqlmux_config *c = s->config;
  if (!c->tls_enabled) return CQLMUX_OK;
  cqlmux_tls_options o = {.ca_file = c->tls_ca_file,
                          .cert_file = c->tls_cert_file,
                          .key_file = c->tls_key_file,
                          .skip_peer_verification = !c->tls_verify_peer,
                          .skip_identity_check = !c->tls_verify_hostname,
                          .min_version = c->tls_min_version};
  char err[300];
  int rc = cqlmux_tls_context_init(&s->tls, &o, err, sizeof err);
  if (rc != CQLMUX_OK) {
    cqlmux_log(cqlmux_runtime_logger(s->runtime), CQLMUX_LOG_ERROR, "%s", err);
    return rc;
  }
  s->tls_enabled = true;
  return CQLMUX_OK;
}

static void init_settings(cqlmux_session *s) {
  const cqlmux_config *c = s->config;
  cqlmux_conn_settings *st = &s->settings;
  st->alloc = s->alloc;
  st->logger = cqlmux_runtime_logger(s->runtime);
  st->tls = s->tls_enabled ? &s->tls : NULL;
  st->protocol_version = c->protocol_version;
  st->lz4 = c->compression == CQLMUX_COMPRESSION_LZ4;
  st->username = c->username;
  st->password = c->password;
  st->max_requests = c->max_requests_per_connection;
  st->high_watermark = cqlmux_config_high_watermark(c);
  st->low_watermark = cqlmux_config_low_watermark(c);
  st->queue_size = c->queue_size;
  st->orphan_threshold = c->max_requests_per_connection / 4 + 1;
  st->connect_timeout_us = (uint64_t)c->connect_timeout_ms * 1000;
  st->heartbeat_interval_us = (uint64_t)c->heartbeat_interval_ms * 1000;
  st->heartbeat_timeout_us = (uint64_t)c->heartbeat_timeout_ms * 1000;
  st->workers = cqlmux_runtime_workers(s->runtime);
  st->completion_bound = c->callback_threads ? c->completion_queue_bound : 0;
  st->read_buffer_size = 64 * 1024;
  st->write_buffer_size = 64 * 1024;
  st->memo_release = cqlmux_columns_memo_free;
  cqlmux_budget_init(&s->budget, c->memory_budget);
  st->budget = &s->budget;
}

/* The cluster layer, from the config: contact points parsed with the
 * session's port, pool sizes, schedules, listener. */
static int init_cluster(cqlmux_session *s) {
  const cqlmux_config *c = s->config;
  cqlmux_contact *contacts;
  size_t count;
  char why[300];
  int rc = cqlmux_contact_parse(s->alloc, c->contact_points, c->port, &contacts, &count, why,
                                sizeof why);
  if (rc != CQLMUX_OK) return rc;
  cqlmux_cluster_config cc = {
      .runtime = s->runtime,
      .alloc = s->alloc,
      .conn = &s->settings,
      .contacts = contacts,
      .contact_count = count,
      .local_dc = c->local_dc,
      .core = {c->core_connections, c->remote_core_connections},
      .max = {c->max_connections, c->remote_max_connections},
      .remote_hosts_per_dc = c->remote_hosts_per_dc,
      .selection = c->selection,
      .idle_timeout_us = (uint64_t)c->pool_idle_timeout_ms * 1000,
      .reconnect_base_us = (uint64_t)c->reconnect_base_ms * 1000,
      .reconnect_cap_us = (uint64_t)c->reconnect_cap_ms * 1000,
      .debounce_us = (uint64_t)c->topology_debounce_ms * 1000,
      .schema_metadata = c->schema_metadata,
      .schema_delay_us = (uint64_t)c->schema_refresh_delay_ms * 1000,
      .translate = c->translator,
      .translate_user_data = c->translator_user_data,
      .listener = c->host_listener,
      .listener_user_data = c->host_listener_user_data,
      .keyspace = s->keyspace,
      .token_aware = c->token_aware,
      .shuffle_replicas = c->shuffle_replicas,
      .remote_for_local_consistency = c->remote_for_local_consistency,
      .load_balancing = c->load_balancing,
      .allow_hosts = c->allow_hosts,
      .deny_hosts = c->deny_hosts,
      .allow_dcs = c->allow_dcs,
      .deny_dcs = c->deny_dcs,
      .on_host_up = on_host_up,
      .on_connected = on_cluster_connected,
      .owner = s};
  rc = cqlmux_cluster_new(&cc, &s->cluster);
  cqlmux_mem_free(s->alloc, contacts);
  return rc;
}

int cqlmux_session_new(const cqlmux_config *config, cqlmux_session **out) {
  if (!config || !out) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_config *copy = cqlmux_config_copy(config);
  if (!copy) return CQLMUX_ERR_NOMEM;
  cqlmux_session *s = cqlmux_mem_calloc(&copy->allocator, 1, sizeof *s);
  if (!s) {
    cqlmux_config_free(copy);
    return CQLMUX_ERR_NOMEM;
  }
  s->config = copy;
  s->alloc = &copy->allocator;
  pthread_mutex_init(&s->lock, NULL);
  cqlmux_prepared_cache_init(&s->prepared, s->alloc);
  snprintf(s->keyspace, sizeof s->keyspace, "%s", copy->keyspace ? copy->keyspace : "");
  atomic_init(&s->routing_keyspace, NULL);
  cqlmux_runtime_config rc;
  cqlmux_config_runtime(copy, &rc);
  rc.completion_capacity = (size_t)copy->completion_queue_bound * 2;
  int err = cqlmux_runtime_new(&rc, &s->runtime);
  if (err == CQLMUX_OK) err = init_tls(s);
  if (err == CQLMUX_OK) err = cqlmux_session_values_init(s);
  if (err == CQLMUX_OK && !(s->calls = cqlmux_call_pool_new(s->alloc, CALL_CACHE)))
    err = CQLMUX_ERR_NOMEM;
  if (err == CQLMUX_OK && copy->keyspace) set_routing_keyspace(s, s->keyspace);
  if (err == CQLMUX_OK) {
    init_settings(s);
    err = init_cluster(s);
  }
  if (err != CQLMUX_OK) {
    cqlmux_session_free(s);
    return err;
  }
  *out = s;
  return CQLMUX_OK;
}

/* ================================================================ connecting */

/* Takes the connect future out for completion (lock held). The caller
 * completes it after unlocking: a callback set on it may run inline, and
 * must be free to call back into the session. */
static cqlmux_future *take_connect_future_locked(cqlmux_session *s, int error) {
  cqlmux_future *f = s->connect_future;
  s->connect_future = NULL;
  if (f) set_state(s, error == CQLMUX_OK ? CQLMUX_SESSION_CONNECTED : CQLMUX_SESSION_CLOSED);
  return f;
}

static void complete_plain_future(cqlmux_future *f, int error, const char *message) {
  if (!f) return;
  cqlmux_future_complete(f, error, message, NULL, NULL);
  cqlmux_future_release(f);
}

/* The cluster's report: connect succeeded or no host could be reached.
 * On an I/O thread (or the thread freeing the session). */
static void on_cluster_connected(void *owner, int error, const char *message) {
  cqlmux_session *s = owner;
  pthread_mutex_lock(&s->lock);
  cqlmux_future *f = take_connect_future_locked(s, error);
  pthread_mutex_unlock(&s->lock);
  complete_plain_future(f, error, message);
}

cqlmux_future *cqlmux_session_connect(cqlmux_session *s) {
  if (!s) return NULL;
  int expected = CQLMUX_SESSION_NEW;
  if (!atomic_compare_exchange_strong(&s->state, &expected, CQLMUX_SESSION_CONNECTING))
    return failed_future(s, CQLMUX_ERR_INVALID_STATE, "connect may be called once per session");
  cqlmux_future *f = cqlmux_runtime_future_new(s->runtime);
  if (!f) {
    set_state(s, CQLMUX_SESSION_NEW);
    return NULL;
  }
  pthread_mutex_lock(&s->lock);
  s->connect_future = f;
  pthread_mutex_unlock(&s->lock);
  int rc = cqlmux_cluster_connect(s->cluster);
  if (rc != CQLMUX_OK) on_cluster_connected(s, rc, "cannot start the resolver thread");
  return f;
}

/* ================================================================ submission */

/* Requests submitted and not completed. The order of the loads matters:
 * completed first, then submitted, so that a submission racing with the
 * reads can only make the result larger, never a false zero. seq_cst: part
 * of the close handshake (see submit and complete_call). */
static size_t outstanding(cqlmux_session *s) {
  size_t done = atomic_load(&s->completed);
  return atomic_load(&s->submitted) - done;
}

static void complete_close_if_idle(cqlmux_session *s);

/* " (3 attempts: a [read_timeout], b [unavailable], c)" into out: which
 * hosts a request tried and why it left each (" ..." for those its extra
 * record has no room for, or all when memory ran out for the record). */
static void describe_attempts(const cqlmux_call *call, char *out, size_t cap) {
  size_t used = (size_t)snprintf(out, cap, " (%u attempts:", call->attempts);
  const cqlmux_call_extra *x = call->extra;
  unsigned tried = x ? x->tried_count : 0;
  for (unsigned i = 0; i < tried && used < cap; i++) {
    bool last = i + 1 == tried;
    used += (size_t)snprintf(out + used, cap - used, " %s%s%s%s", x->tried[i]->address,
                             last ? "" : " [",
                             last ? "" : cqlmux_retry_reason_name(x->tried_reason[i]),
                             last ? "" : "],");
  }
  if (call->attempts > tried && used < cap)
    used += (size_t)snprintf(out + used, cap - used, " ...");
  if (used < cap) snprintf(out + used, cap - used, ")");
}

/* Hands the outcome to the future; the call becomes its payload. */
void cqlmux_session_complete(cqlmux_call *call, int error, const char *message) {
  cqlmux_session *s = call->session;
  cqlmux_future *f = &call->embedded_future;
  /* Completed by the call's own request (it has left its connection), or
   * by an extra execution (the call's own request may still be out). */
  bool own_request_done = call->spec && !cqlmux_speculation_completing_extra(call);
  cqlmux_budget_release(&s->budget, call->charged);
  call->charged = 0;
  int32_t server_code = call->result.has_error ? call->result.error->body.code : 0;
  /* The loop's time on an I/O thread: when this turn picked the answer up.
   * A request submitted after the turn began may look older than the turn. */
  uint64_t now = cqlmux_loop_thread_now_us(), since = call->net.submitted_us;
  cqlmux_metrics_record(call->host ? &call->host->metrics : &s->unrouted, error, server_code,
                        now > since ? now - since : 0);
  char text[768];
  if (error != CQLMUX_OK && call->attempts > 1) {
    /* Retried: the message says where and why (rare path). */
    int n = snprintf(text, sizeof text, "%s", message ? message : cqlmux_strerror(error));
    if (n > 0 && (size_t)n < sizeof text) describe_attempts(call, text + n, sizeof text - (size_t)n);
    message = text;
  }
  cqlmux_future_complete(f, error, message, call, cqlmux_call_free_payload);
  cqlmux_future_release(f);
  /* seq_cst, with the state load after it: either this completion sees the
   * session closing and checks for idle, or cqlmux_session_close (state
   * store, then its count) sees this completion counted (a Dekker
   * handshake); whoever sees the count at zero completes the close future,
   * under the session lock, once. */
  atomic_fetch_add(&s->completed, 1);
  if (atomic_load(&s->state) >= CQLMUX_SESSION_CLOSING && outstanding(s) == 0)
    complete_close_if_idle(s);
  /* Last: this may put the call back (its payload may be released already). */
  if (own_request_done) cqlmux_speculation_primary_out(call);
}

void cqlmux_session_background_done(cqlmux_session *s) {
  /* seq_cst: the same handshake as a call's completion. */
  atomic_fetch_add(&s->completed, 1);
  if (atomic_load(&s->state) >= CQLMUX_SESSION_CLOSING && outstanding(s) == 0)
    complete_close_if_idle(s);
}

bool cqlmux_session_background_start(cqlmux_session *s) {
  /* seq_cst: see submit(). */
  atomic_fetch_add(&s->submitted, 1);
  if (atomic_load(&s->state) == CQLMUX_SESSION_CONNECTED) return true;
  cqlmux_session_background_done(s);
  return false;
}

static void complete_call(cqlmux_call *call, int error, const char *message) {
  cqlmux_session_complete(call, error, message);
}

/* Offers the call to a connection of `host`; false when the connection
 * refuses it (BUSY: in flight plus waiting at their bound). */
bool cqlmux_session_offer(cqlmux_call *call, cqlmux_connection *conn, cqlmux_host *host) {
  if (cqlmux_connection_admit(conn) != CQLMUX_OK) return false;
  call->host = host;
  /* Once retried, every host is logged; the first attempt's is logged by
   * the first retry (note_retry, api/recovery.c), so that a request that is
   * never retried makes no record. */
  cqlmux_call_extra *x = call->extra;
  if (x && x->tried_count && x->tried_count < CQLMUX_CALL_TRIED) {
    x->tried[x->tried_count] = host;
    x->tried_reason[x->tried_count++] = CQLMUX_RETRY_REASON_OTHER;
  }
  call->attempts++;
  cqlmux_request_reset(&call->net, &call_ops, call);
  cqlmux_connection_post(conn, &call->net);
  return true;
}

/* The next host of the call's plan with a ready connection (never
 * `avoid`), or NULL when the plan is exhausted. */
cqlmux_connection *cqlmux_session_next_in_plan(cqlmux_call *call,
                                               const cqlmux_connection *avoid,
                                               cqlmux_host **host) {
  cqlmux_host *h;
  while ((h = cqlmux_plan_next(call->session->cluster, &call->plan))) {
    if (!h->has_pool) continue;
    cqlmux_connection *conn = cqlmux_pool_pick(&h->pool, avoid);
    if (conn) {
      *host = h;
      return conn;
    }
  }
  return NULL;
}

/* The first dispatch: the plan's first host with a ready connection. A
 * speculative call takes its copies before it is posted. */
static void dispatch_call(cqlmux_call *call, cqlmux_speculation *spec) {
  cqlmux_host *host;
  cqlmux_connection *conn = cqlmux_session_next_in_plan(call, NULL, &host);
  if (!conn) {
    complete_call(call, CQLMUX_ERR_NO_HOSTS,
                  "no connection to any host of the query plan is ready");
    return;
  }
  if (spec) cqlmux_speculation_setup(spec, call, conn);
  if (!cqlmux_session_offer(call, conn, host))
    complete_call(call, CQLMUX_ERR_BUSY,
                  "busy: the connection's in-flight requests and wait queue are full");
}

/* The keyspace requests without one of their own are routed in. */
static const char *routing_keyspace(cqlmux_session *s) {
  /* acquire: pairs with the release exchange in set_routing_keyspace. */
  return atomic_load_explicit(&s->routing_keyspace, memory_order_acquire);
}

static void set_routing_keyspace(cqlmux_session *s, const char *keyspace) {
  pthread_mutex_lock(&s->lock);
  retired_string *r = s->retired_keyspaces;
  while (r && strcmp(r->text, keyspace) != 0) r = r->next;
  if (!r && (r = cqlmux_mem_malloc(s->alloc, sizeof *r))) {
    size_t n = strlen(keyspace) + 1;
    if ((r->text = cqlmux_mem_malloc(s->alloc, n))) {
      memcpy(r->text, keyspace, n);
      r->next = s->retired_keyspaces;
      s->retired_keyspaces = r;
    } else {
      cqlmux_mem_free(s->alloc, r);
      r = NULL; /* routing keeps the old name: only token awareness suffers */
    }
  }
  /* release: a submitter loading the pointer sees the text. */
  if (r) atomic_store_explicit(&s->routing_keyspace, r->text, memory_order_release);
  pthread_mutex_unlock(&s->lock);
}

static void free_routing_keyspaces(cqlmux_session *s) {
  for (retired_string *r = s->retired_keyspaces, *next; r; r = next) {
    next = r->next;
    cqlmux_mem_free(s->alloc, r->text);
    cqlmux_mem_free(s->alloc, r);
  }
}

/* The token and keyspace a statement is routed by (none when its routing
 * key is unknown). */
static void route_of_statement(cqlmux_session *s, const cqlmux_statement *st,
                               cqlmux_route *route) {
  route->has_token = cqlmux_statement_routing_token(st, &route->token);
  route->keyspace = cqlmux_statement_routing_keyspace(st, &route->keyspace_len);
  if (!route->keyspace) {
    route->keyspace = routing_keyspace(s);
    route->keyspace_len = route->keyspace ? strlen(route->keyspace) : 0;
  }
}

/* A batch goes where its first statement would. */
static void plan_batch(cqlmux_session *s, const cqlmux_batch *b, cqlmux_call *call) {
  cqlmux_route route = {.consistency = b->consistency};
  if (b->count) route_of_statement(s, b->members[0], &route);
  if (b->keyspace) route.keyspace = b->keyspace, route.keyspace_len = strlen(b->keyspace);
  cqlmux_plan_start(s->cluster, &route, &call->plan);
  call->idempotent = b->idempotent;
  call->retry_policy = s->config->retry_policy;
}

/* The plan of a statement: its routing key's token and keyspace, its
 * consistency, its host. NO_HOSTS when it names a host the session does
 * not know. */
static int plan_statement(cqlmux_session *s, const cqlmux_statement *st, cqlmux_call *call) {
  cqlmux_route route = {.consistency = st->consistency};
  if (st->host && !(route.pinned = cqlmux_cluster_find_address(s->cluster, st->host)))
    return CQLMUX_ERR_NO_HOSTS;
  route_of_statement(s, st, &route);
  cqlmux_plan_start(s->cluster, &route, &call->plan);
  call->idempotent = st->idempotent;
  call->retry_policy = st->retry_policy ? st->retry_policy : s->config->retry_policy;
  return CQLMUX_OK;
}

/* A plan with no routing information (PREPARE, background work). */
static void plan_anywhere(cqlmux_session *s, cqlmux_call *call) {
  cqlmux_route route = {.consistency = CQLMUX_CONSISTENCY_ONE};
  cqlmux_plan_start(s->cluster, &route, &call->plan);
  call->retry_policy = s->config->retry_policy;
  call->idempotent = true; /* preparing twice changes nothing */
}

/* Common path of execute and prepare once the envelope is encoded and the
 * plan started; `sp` (may be NULL) is the speculative execution policy. */
static cqlmux_future *submit_speculative(cqlmux_session *s, cqlmux_call *call,
                                         unsigned timeout_ms, const cqlmux_speculative *sp) {
  call->session = s;
  call->net.timeout_us = (uint64_t)(timeout_ms ? timeout_ms : s->config->request_timeout_ms) * 1000;
  call->net.submitted_us = cqlmux_clock_now_us();
  cqlmux_call_fit_envelope(call);
  size_t bytes = call->net.envelope.len;
  bool over_budget = !cqlmux_budget_charge(&s->budget, bytes);
  call->charged = bytes;
  /* The call's own future: completing it makes the call its payload, and
   * dropping its last reference gives the call back to the pool. */
  cqlmux_future *f = &call->embedded_future;
  cqlmux_future_embed_arm(f, cqlmux_runtime_workers(s->runtime));
  /* seq_cst, with the state check after it and the CLOSING store and count
   * check in cqlmux_session_close: either close sees this request counted,
   * or this request sees the session closing (a Dekker handshake). */
  atomic_fetch_add(&s->submitted, 1);
  if (atomic_load(&s->state) != CQLMUX_SESSION_CONNECTED) {
    complete_call(call, CQLMUX_ERR_SHUTDOWN, "the session is closing");
    return f;
  }
  if (over_budget) {
    complete_call(call, CQLMUX_ERR_BUSY, "busy: the session's memory budget is exhausted");
    return f;
  }
  cqlmux_speculation *spec =
      sp ? cqlmux_speculation_new(s, call, sp->delay_ms, sp->max_extra) : NULL;
  dispatch_call(call, spec);
  /* The call may be completed and gone by now; the speculation holds its own. */
  if (spec) cqlmux_speculation_arm(spec);
  return f;
}

static cqlmux_future *submit(cqlmux_session *s, cqlmux_call *call, unsigned timeout_ms) {
  return submit_speculative(s, call, timeout_ms, NULL);
}

/* Checks the session can take a request; NULL when it can, else a failed future. */
static cqlmux_future *refuse_unless_connected(cqlmux_session *s, bool *refused) {
  int st = session_state(s);
  *refused = st != CQLMUX_SESSION_CONNECTED;
  if (!*refused) return NULL;
  if (st >= CQLMUX_SESSION_CLOSING)
    return failed_future(s, CQLMUX_ERR_SHUTDOWN, "the session is closing");
  return failed_future(s, CQLMUX_ERR_INVALID_STATE, "the session is not connected");
}

static uint8_t session_version(const cqlmux_session *s) {
  return cqlmux_cluster_version(s->cluster);
}

/* v4 compresses each request body; v5 compresses whole frames instead. */
static bool compress_bodies(const cqlmux_session *s) {
  return session_version(s) < 5 && cqlmux_cluster_lz4(s->cluster);
}

void cqlmux_session_request_header(const cqlmux_session *s, cqlmux_request_header *h) {
  memset(h, 0, sizeof *h);
  h->version = session_version(s);
  h->compress = compress_bodies(s);
}

cqlmux_future *cqlmux_session_execute(cqlmux_session *s, const cqlmux_statement *st) {
  if (!s || !st) return NULL;
  bool refused;
  cqlmux_future *f = refuse_unless_connected(s, &refused);
  if (refused) return f;
  cqlmux_call *call = cqlmux_call_get(s->calls);
  if (!call) return NULL;
  call->kind = CQLMUX_CALL_EXECUTE;
  /* Encoded with SKIP_METADATA when the prepared statement knows its
   * columns: the result borrows them (api/prepared.h). */
  if (st->prepared)
    cqlmux_result_expect_columns(&call->result,
                                 cqlmux_result_meta_current(st->prepared->result_meta));
  int rc = cqlmux_statement_encode(st, &call->net.envelope, session_version(s), compress_bodies(s),
                                   &s->stamps);
  if (rc != CQLMUX_OK) {
    cqlmux_call_put(call);
    return failed_future(s, rc, "cannot encode the statement");
  }
  if (plan_statement(s, st, call) != CQLMUX_OK) {
    cqlmux_call_put(call);
    return failed_future(s, CQLMUX_ERR_NO_HOSTS, "the statement's host is not one of the session's");
  }
  return submit_speculative(s, call, st->timeout_ms,
                            st->has_speculative ? &st->speculative : &s->config->speculative);
}

cqlmux_future *cqlmux_session_batch(cqlmux_session *s, const cqlmux_batch *b) {
  if (!s || !b) return NULL;
  bool refused;
  cqlmux_future *f = refuse_unless_connected(s, &refused);
  if (refused) return f;
  cqlmux_call *call = cqlmux_call_get(s->calls);
  if (!call) return NULL;
  call->kind = CQLMUX_CALL_EXECUTE;
  int rc = cqlmux_batch_encode(b, &call->net.envelope, session_version(s), compress_bodies(s),
                               &s->stamps);
  if (rc != CQLMUX_OK) {
    cqlmux_call_put(call);
    return failed_future(s, rc, "cannot encode the batch");
  }
  plan_batch(s, b, call);
  return submit_speculative(s, call, b->timeout_ms, &s->config->speculative);
}

cqlmux_future *cqlmux_session_query(cqlmux_session *s, const char *cql) {
  if (!s || !cql) return NULL;
  cqlmux_statement *st = cqlmux_statement_new(cql, 0);
  if (!st) return NULL;
  cqlmux_future *f = cqlmux_session_execute(s, st);
  cqlmux_statement_free(st);
  return f;
}

cqlmux_future *cqlmux_session_prepare(cqlmux_session *s, const char *cql) {
  if (!s || !cql) return NULL;
  bool refused;
  cqlmux_future *f = refuse_unless_connected(s, &refused);
  if (refused) return f;
  cqlmux_call *call = cqlmux_call_get(s->calls);
  if (!call) return NULL;
  call->kind = CQLMUX_CALL_PREPARE;
  size_t n = strlen(cql);
  if (cqlmux_call_set_prepare_text(call, cql) != CQLMUX_OK) {
    cqlmux_call_put(call);
    return NULL;
  }
  cqlmux_request_header h;
  cqlmux_session_request_header(s, &h);
  cqlmux_slice text = {(const uint8_t *)cql, n};
  cqlmux_slice none = {NULL, 0};
  int rc = cqlmux_request_prepare(&call->net.envelope, &h, text, false, none);
  if (rc != CQLMUX_OK) {
    cqlmux_call_put(call);
    return failed_future(s, rc, "cannot encode PREPARE");
  }
  plan_anywhere(s, call);
  return submit(s, call, 0);
}

/* ================================================================ outcomes */

static void propagate_keyspace(cqlmux_session *s, const cqlmux_slice *ks) {
  pthread_mutex_lock(&s->lock);
  size_t n = ks->len < sizeof s->keyspace - 1 ? ks->len : sizeof s->keyspace - 1;
  bool changed = n != strlen(s->keyspace) || memcmp(s->keyspace, ks->data, n) != 0;
  memcpy(s->keyspace, ks->data, n);
  s->keyspace[n] = '\0';
  char keyspace[256];
  memcpy(keyspace, s->keyspace, sizeof keyspace);
  pthread_mutex_unlock(&s->lock);
  if (!changed) return;
  set_routing_keyspace(s, keyspace);
  /* Every connection switches (USE), and new ones start there. */
  cqlmux_cluster_use_keyspace(s->cluster, keyspace);
}

/* The prepared statement, with its result columns decoded from the
 * answer's body (a NULL result_meta only costs SKIP_METADATA); the session
 * remembers it, and prepares it on the other hosts: true when those
 * PREPAREs now own the call (they complete it), false when it is the
 * caller's to complete. */
static bool finish_prepare(cqlmux_call *call, uint8_t version, const uint8_t *body, size_t len) {
  cqlmux_session *s = call->session;
  const cqlmux_prepared_msg *p = call->result.prepared;
  cqlmux_call_extra *x = call->extra; /* made with the text (cqlmux_session_prepare) */
  x->prepared = cqlmux_prepared_new(s->alloc, x->prepare_cql, p->id.data, p->id.len,
                                    p->result_metadata_id.data, p->result_metadata_id.len,
                                    (size_t)p->bind_count);
  if (x->prepared) cqlmux_prepared_describe(x->prepared, version, body, len);
  const char *ks = routing_keyspace(s);
  const cqlmux_prepared_entry *e =
      cqlmux_prepared_cache_add(&s->prepared, ks ? ks : "", x->prepare_cql, p->id.data,
                                p->id.len);
  if (!e || !s->config->prepare_on_all_hosts) return false;
  return cqlmux_recovery_prepare_elsewhere(s, e, call->host, x->prepared ? call : NULL);
}

void cqlmux_session_deliver(cqlmux_call *call, cqlmux_connection *conn, uint8_t version,
                            uint8_t opcode, const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                            const cqlmux_body_prefix *prefix, bool may_recover) {
  int rc = cqlmux_columns_memo_fill(cqlmux_connection_memo(conn), call->session->alloc,
                                    &call->result, version, opcode, body, len, buffer, prefix);
  if (rc == CQLMUX_OK && prefix && prefix->warnings.count)
    cqlmux_answer_prefix_log_warnings(call->result.prefix,
                                      cqlmux_runtime_logger(call->session->runtime),
                                      call->host ? call->host->address : "?");
  if (rc != CQLMUX_OK) {
    complete_call(call, rc == CQLMUX_ERR_NOMEM ? rc : CQLMUX_ERR_PROTOCOL,
                  "cannot decode the server's answer");
    return;
  }
  if (call->result.has_error) {
    char message[512];
    cqlmux_result_describe_error(&call->result, message, sizeof message);
    bool recovering = may_recover && (call->result.error->body.code == CQLMUX_CQL_UNPREPARED
                                          ? cqlmux_recovery_reprepare(call)
                                          : cqlmux_recovery_after_failure(
                                                call, CQLMUX_ERR_SERVER, message, true));
    if (recovering) return;
    complete_call(call, CQLMUX_ERR_SERVER, message);
    return;
  }
  if (call->result.kind == CQLMUX_RESULT_SET_KEYSPACE)
    propagate_keyspace(call->session, &call->result.keyspace);
  if (call->result.kind == CQLMUX_RESULT_SCHEMA_CHANGE && cqlmux_schema_agreement_start(call))
    return; /* completed once the nodes agree, or the wait ends */
  if (call->kind == CQLMUX_CALL_PREPARE) {
    if (call->result.kind != CQLMUX_RESULT_PREPARED) {
      complete_call(call, CQLMUX_ERR_PROTOCOL, "PREPARE answered without a prepared result");
      return;
    }
    if (finish_prepare(call, version, body, len)) return; /* once the other hosts have it */
    if (!call->extra->prepared) {
      complete_call(call, CQLMUX_ERR_NOMEM, "no memory for the prepared statement");
      return;
    }
  }
  complete_call(call, CQLMUX_OK, NULL);
}

static void on_call_response(cqlmux_request *req, uint8_t version, uint8_t opcode,
                             const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                             const cqlmux_body_prefix *prefix) {
  cqlmux_call *call = (cqlmux_call *)req;
  if (call->spec && !cqlmux_speculation_primary_outcome(call, opcode == CQLMUX_OP_ERROR)) {
    cqlmux_speculation_primary_out(call); /* an extra execution answered first */
    return;
  }
  cqlmux_session_deliver(call, req->conn, version, opcode, body, len, buffer, prefix, true);
}

static void on_call_failure(cqlmux_request *req, int error, const char *message, bool sent) {
  cqlmux_call *call = (cqlmux_call *)req;
  if (call->spec && !cqlmux_speculation_primary_outcome(call, true)) {
    cqlmux_speculation_primary_out(call);
    return;
  }
  if (cqlmux_recovery_after_failure(call, error, message, sent)) return;
  complete_call(call, error, message);
}

/* A host came UP (or joined): it gets every statement the session
 * prepared. On the I/O thread of its first ready connection. */
static void on_host_up(void *owner, cqlmux_host *host) {
  cqlmux_session *s = owner;
  if (s->config->prepare_on_up && session_state(s) == CQLMUX_SESSION_CONNECTED)
    cqlmux_recovery_prepare_all_on(s, host);
}

cqlmux_prepared *cqlmux_future_take_prepared(cqlmux_future *future) {
  if (!future || cqlmux_future_error(future) != CQLMUX_OK) return NULL;
  cqlmux_call *call = cqlmux_future_call(future);
  if (!call || call->kind != CQLMUX_CALL_PREPARE) return NULL;
  /* Taken once: the future is read-only to other threads only by contract. */
  cqlmux_prepared *p = call->extra ? call->extra->prepared : NULL;
  if (p) call->extra->prepared = NULL;
  return p;
}

/* Before connect completes the version may be set already (the first
 * connection negotiated it); the promise is 0 until connect succeeds. */
static bool connected_once(const cqlmux_session *s) {
  return session_state(s) >= CQLMUX_SESSION_CONNECTED;
}

int cqlmux_session_protocol_version(const cqlmux_session *s) {
  return s && connected_once(s) ? (int)cqlmux_cluster_version(s->cluster) : 0;
}

int cqlmux_session_compression_active(const cqlmux_session *s) {
  return s && connected_once(s) && cqlmux_cluster_version(s->cluster) && cqlmux_cluster_lz4(s->cluster)
             ? 1
             : 0;
}

size_t cqlmux_session_hosts(const cqlmux_session *s, cqlmux_host_info *out, size_t cap) {
  if (!s || !s->cluster) return 0;
  return cqlmux_cluster_describe(s->cluster, out, out ? cap : 0);
}

/* ================================================================ closing */

static void complete_close_if_idle(cqlmux_session *s) {
  pthread_mutex_lock(&s->lock);
  cqlmux_future *f = NULL;
  if (s->close_future && outstanding(s) == 0) {
    f = s->close_future;
    s->close_future = NULL;
  }
  pthread_mutex_unlock(&s->lock);
  if (!f) return;
  cqlmux_future_complete(f, CQLMUX_OK, NULL, NULL, NULL);
  cqlmux_future_release(f);
}

cqlmux_future *cqlmux_session_close(cqlmux_session *s) {
  if (!s) return NULL;
  cqlmux_future *f = cqlmux_runtime_future_new(s->runtime);
  if (!f) return NULL;
  pthread_mutex_lock(&s->lock);
  if (s->close_future || session_state(s) >= CQLMUX_SESSION_CLOSING) {
    pthread_mutex_unlock(&s->lock);
    cqlmux_future_complete(f, CQLMUX_ERR_INVALID_STATE, "the session is already closing", NULL,
                           NULL);
    cqlmux_future_release(f);
    return f;
  }
  /* seq_cst: see submit(). */
  atomic_store(&s->state, CQLMUX_SESSION_CLOSING);
  s->close_future = f;
  pthread_mutex_unlock(&s->lock);
  complete_close_if_idle(s);
  return f;
}

void cqlmux_session_free(cqlmux_session *s) {
  if (!s) return;
  set_state(s, CQLMUX_SESSION_CLOSING);
  /* Stops every loop: connections fail what they hold with SHUTDOWN, and
   * the workers run every callback before they are joined. */
  if (s->cluster) cqlmux_cluster_stop(s->cluster);
  if (s->runtime) cqlmux_runtime_shutdown(s->runtime, CQLMUX_STOP_IMMEDIATE);
  pthread_mutex_lock(&s->lock);
  cqlmux_future *pending = take_connect_future_locked(s, CQLMUX_ERR_SHUTDOWN);
  pthread_mutex_unlock(&s->lock);
  complete_plain_future(pending, CQLMUX_ERR_SHUTDOWN, "session freed");
  complete_close_if_idle(s);
  /* Loops joined: tasks that raced with their stop run (with SHUTDOWN) as
   * they are freed, while the cluster they point into still exists. */
  cqlmux_runtime_free(s->runtime);
  cqlmux_cluster_free(s->cluster);
  if (s->tls_enabled) cqlmux_tls_context_destroy(&s->tls);
  if (s->calls) cqlmux_call_pool_release(s->calls);
  cqlmux_prepared_cache_destroy(&s->prepared);
  free_routing_keyspaces(s);
  pthread_mutex_destroy(&s->lock);
  cqlmux_config *config = s->config;
  cqlmux_mem_free(&config->allocator, s);
  cqlmux_config_free(config);
}

#include "cluster/control.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cluster/cluster_internal.h"
#include "proto/opcode.h"
#include "proto/request.h"
#include "proto/response.h"

/* Decoding room for the topology's results: small clusters fit; larger
 * ones take blocks from the allocator. */
#define ARENA_INLINE 0

static const char LOCAL_QUERY[] = "SELECT * FROM system.local WHERE key='local'";
static const char PEERS_V2_QUERY[] = "SELECT * FROM system.peers_v2";
static const char PEERS_QUERY[] = "SELECT * FROM system.peers";

static void on_ready(cqlmux_connection *conn, void *owner);
static void on_closed(cqlmux_connection *conn, int error, const char *message, void *owner);
static void on_event(cqlmux_connection *conn, const uint8_t *body, size_t len, void *owner);
static const cqlmux_conn_events control_events = {on_ready, on_closed, on_event};

static void on_response(cqlmux_request *req, uint8_t version, uint8_t opcode, const uint8_t *body,
                        size_t len, cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix);
static void on_failure(cqlmux_request *req, int error, const char *message, bool sent);
static const cqlmux_request_ops control_ops = {on_response, on_failure};

static void on_debounce(cqlmux_timer *timer, int status);
static void on_schema_timer(cqlmux_timer *timer, int status);
static void on_retry(cqlmux_timer *timer, int status);
static void try_next(cqlmux_control *ctl);
static void run_wanted(cqlmux_control *ctl);

static cqlmux_cluster *cluster_of(cqlmux_control *ctl) { return ctl->cluster; }
static cqlmux_loop *loop_of(cqlmux_control *ctl) { return ctl->cluster->control_loop; }

void cqlmux_control_init(cqlmux_control *ctl, cqlmux_cluster *c) {
  memset(ctl, 0, sizeof *ctl);
  ctl->cluster = c;
  ctl->initial = true;
  cqlmux_arena_init(&ctl->arena, c->alloc, NULL, ARENA_INLINE);
  cqlmux_wbuf_init(&ctl->req.envelope, c->alloc, 0);
  cqlmux_timer_init(&ctl->debounce_timer, on_debounce, ctl);
  cqlmux_timer_init(&ctl->schema_timer, on_schema_timer, ctl);
  cqlmux_timer_init(&ctl->retry_timer, on_retry, ctl);
  cqlmux_reconnect_init(&ctl->schedule, c->cfg.reconnect_base_us, c->cfg.reconnect_cap_us,
                        (uint64_t)(uintptr_t)ctl);
}

/* Appends "addr: why" to the connect message. */
static void note_failure(cqlmux_control *ctl, int error, const char *address, const char *why) {
  if (!ctl->first_error) ctl->first_error = error;
  size_t used = strlen(ctl->errors), n = strlen(address);
  if (used + 8 >= sizeof ctl->errors) return;
  /* Connection messages usually start with the address already. */
  bool named = strncmp(why, address, n) == 0;
  snprintf(ctl->errors + used, sizeof ctl->errors - used, "%s%s%s%s", used ? "; " : "",
           named ? "" : address, named ? "" : ": ", why);
}

/* ================================================================ candidates */

static void set_candidates(cqlmux_control *ctl, const cqlmux_endpoint *eps, size_t n) {
  cqlmux_cluster *c = cluster_of(ctl);
  cqlmux_mem_free(c->alloc, ctl->candidates);
  ctl->candidates = n ? cqlmux_mem_calloc(c->alloc, n, sizeof *eps) : NULL;
  ctl->candidate_count = ctl->candidates ? n : 0;
  if (ctl->candidates) memcpy(ctl->candidates, eps, n * sizeof *eps);
  ctl->next_candidate = 0;
}

/* After the first connect: the UP hosts, LOCAL before REMOTE, then the
 * DOWN ones (a DOWN host may be the only one left). */
static void candidates_from_hosts(cqlmux_control *ctl) {
  cqlmux_cluster *c = cluster_of(ctl);
  const cqlmux_host_list *l = cqlmux_cluster_hosts(c);
  cqlmux_endpoint *eps = l->count ? cqlmux_mem_calloc(c->alloc, l->count, sizeof *eps) : NULL;
  size_t n = 0;
  for (int rank = 0; eps && rank < 3; rank++) {
    for (unsigned i = 0; i < l->count; i++) {
      cqlmux_host *h = l->hosts[i];
      int distance = atomic_load_explicit(&h->distance, memory_order_relaxed);
      bool up = atomic_load_explicit(&h->state, memory_order_relaxed) == CQLMUX_HOST_UP;
      int r = !up ? 2 : distance == CQLMUX_HOST_LOCAL ? 0 : 1;
      if (r == rank && distance != CQLMUX_HOST_IGNORED) eps[n++] = h->endpoint;
    }
  }
  set_candidates(ctl, eps, n);
  cqlmux_mem_free(c->alloc, eps);
}

/* ================================================================ connecting */

static void retire_connection(cqlmux_control *ctl) {
  if (!ctl->conn) return;
  cqlmux_cluster *c = cluster_of(ctl);
  if (ctl->spent_count == ctl->spent_cap) {
    size_t cap = ctl->spent_cap ? ctl->spent_cap * 2 : 4;
    cqlmux_connection **spent = cqlmux_mem_realloc(c->alloc, ctl->spent, cap * sizeof *spent);
    if (!spent) return; /* kept as conn: freed with the cluster anyway */
    ctl->spent = spent, ctl->spent_cap = cap;
  }
  ctl->spent[ctl->spent_count++] = ctl->conn;
  ctl->conn = NULL;
}

static void connect_to(cqlmux_control *ctl, const cqlmux_endpoint *ep) {
  cqlmux_cluster *c = cluster_of(ctl);
  retire_connection(ctl);
  ctl->endpoint = *ep;
  ctl->phase = CQLMUX_CONTROL_CONNECTING;
  char name[64];
  cqlmux_endpoint_format(ep, name, sizeof name);
  char *colon = strrchr(name, ':');
  if (colon) *colon = '\0';
  const char *identity = name[0] == '[' ? name + 1 : name;
  if (identity != name && colon && colon[-1] == ']') colon[-1] = '\0';
  const char *tls_name = NULL;
  for (size_t i = 0; i < c->contact_endpoint_count; i++)
    if (c->contact_endpoints[i].addr_len == ep->addr_len &&
        !memcmp(&c->contact_endpoints[i].addr, &ep->addr, ep->addr_len))
      tls_name = c->contact_names[i];
  int rc = cqlmux_connection_new(loop_of(ctl), c->cfg.conn, &control_events, ctl, ep,
                                 tls_name ? tls_name : identity, &ctl->conn);
  if (rc != CQLMUX_OK) {
    ctl->conn = NULL;
    note_failure(ctl, rc, name, cqlmux_strerror(rc));
    try_next(ctl);
    return;
  }
  cqlmux_connection_start(ctl->conn);
}

/* Every candidate failed: at connect, the session's connect fails; later,
 * the control connection retries on its schedule. */
static void all_failed(cqlmux_control *ctl) {
  cqlmux_cluster *c = cluster_of(ctl);
  ctl->phase = CQLMUX_CONTROL_IDLE;
  if (ctl->initial) {
    char message[1200];
    snprintf(message, sizeof message, "no contact point could be reached: %s", ctl->errors);
    cqlmux_cluster_report_connect(c, ctl->first_error ? ctl->first_error : CQLMUX_ERR_NO_HOSTS,
                                  message);
    return;
  }
  uint64_t delay = cqlmux_reconnect_next_delay_us(&ctl->schedule);
  cqlmux_log(c->logger, CQLMUX_LOG_WARN,
             "control connection: no host answers; next attempt in %llu ms",
             (unsigned long long)(delay / 1000));
  cqlmux_loop_timer_start(loop_of(ctl), &ctl->retry_timer, delay);
}

static void try_next(cqlmux_control *ctl) {
  if (atomic_load_explicit(&cluster_of(ctl)->stopping, memory_order_acquire)) return;
  if (ctl->next_candidate >= ctl->candidate_count) {
    all_failed(ctl);
    return;
  }
  connect_to(ctl, &ctl->candidates[ctl->next_candidate++]);
}

static void on_retry(cqlmux_timer *timer, int status) {
  cqlmux_control *ctl = timer->user_data;
  if (status != CQLMUX_OK) return;
  candidates_from_hosts(ctl);
  try_next(ctl);
}

void cqlmux_control_start(cqlmux_control *ctl, const cqlmux_endpoint *endpoints, size_t count) {
  set_candidates(ctl, endpoints, count);
  try_next(ctl);
}

/* ================================================================ requests */

/* Sends one request (QUERY text, or REGISTER when text is NULL). */
static void send_request(cqlmux_control *ctl, const char *text) {
  cqlmux_cluster *c = cluster_of(ctl);
  cqlmux_request *req = &ctl->req;
  cqlmux_wbuf_reset(&req->envelope);
  cqlmux_request_header h = {.version = cqlmux_connection_version(ctl->conn)};
  int rc;
  if (text) {
    cqlmux_query_params params = {.consistency = CQLMUX_CONSISTENCY_ONE};
    cqlmux_slice q = {(const uint8_t *)text, strlen(text)};
    rc = cqlmux_request_query(&req->envelope, &h, q, &params);
  } else {
    static const cqlmux_slice events[] = {{(const uint8_t *)"TOPOLOGY_CHANGE", 15},
                                          {(const uint8_t *)"STATUS_CHANGE", 13},
                                          {(const uint8_t *)"SCHEMA_CHANGE", 13}};
    rc = cqlmux_request_register(&req->envelope, &h, events, 3);
  }
  if (rc != CQLMUX_OK || cqlmux_connection_admit(ctl->conn) != CQLMUX_OK) {
    cqlmux_connection_close(ctl->conn, rc != CQLMUX_OK ? rc : CQLMUX_ERR_BUSY,
                            "control connection cannot send its request");
    return;
  }
  cqlmux_request_reset(req, &control_ops, ctl);
  req->timeout_us = (uint64_t)c->cfg.conn->connect_timeout_us * 2;
  req->submitted_us = cqlmux_loop_now_us(loop_of(ctl));
  ctl->request_out = true;
  cqlmux_connection_post(ctl->conn, req);
}

static void read_topology(cqlmux_control *ctl) {
  ctl->phase = CQLMUX_CONTROL_LOCAL;
  send_request(ctl, LOCAL_QUERY);
}

/* The keyspaces, and after them the rest of the schema when `schema`. */
static void read_keyspaces(cqlmux_control *ctl, bool schema) {
  ctl->schema_in_read = schema && cluster_of(ctl)->cfg.schema_metadata;
  ctl->phase = CQLMUX_CONTROL_KEYSPACES;
  send_request(ctl, cqlmux_schema_query(CQLMUX_SCHEMA_KEYSPACES));
}

static void on_ready(cqlmux_connection *conn, void *owner) {
  cqlmux_control *ctl = owner;
  if (conn != ctl->conn) return;
  if (!cqlmux_cluster_accept_negotiation(cluster_of(ctl), conn)) {
    cqlmux_connection_close(conn, CQLMUX_ERR_UNSUPPORTED_VERSION,
                            "negotiated another protocol version than the session's");
    return;
  }
  read_topology(ctl);
}

/* ================================================================ answers */

/* Decodes a ROWS answer into msg (its data in ctl->arena and body). */
static int decode_result_rows(cqlmux_control *ctl, uint8_t version, const uint8_t *body,
                              size_t len, cqlmux_result_msg *msg) {
  cqlmux_arena_reset(&ctl->arena);
  int rc = cqlmux_result_decode(version, body, len, &ctl->arena, msg);
  if (rc != CQLMUX_OK) return rc;
  return msg->kind == CQLMUX_RESULT_ROWS ? CQLMUX_OK : CQLMUX_ERR_PROTOCOL;
}

/* Decodes a ROWS answer from `table` into node descriptions. */
static int decode_rows(cqlmux_control *ctl, cqlmux_topology_table table, uint8_t version,
                       const uint8_t *body, size_t len, cqlmux_node_desc **descs, size_t *n) {
  cqlmux_cluster *c = cluster_of(ctl);
  cqlmux_result_msg msg;
  int rc = decode_result_rows(ctl, version, body, len, &msg);
  if (rc != CQLMUX_OK) return rc;
  int port = ntohs(ctl->endpoint.addr.ss_family == AF_INET
                       ? ((const struct sockaddr_in *)&ctl->endpoint.addr)->sin_port
                       : ((const struct sockaddr_in6 *)&ctl->endpoint.addr)->sin6_port);
  size_t skipped = 0;
  char why[128] = "";
  rc = cqlmux_topology_decode(c->alloc, table, &msg.rows, port, descs, n, &skipped, why,
                              sizeof why);
  if (skipped)
    cqlmux_log(c->logger, CQLMUX_LOG_WARN, "%s: %zu row(s) skipped (first: %s)",
               table == CQLMUX_TOPOLOGY_LOCAL ? "system.local" : "system.peers", skipped, why);
  return rc;
}

static void on_local(cqlmux_control *ctl, uint8_t version, const uint8_t *body, size_t len) {
  cqlmux_node_descs_free(cluster_of(ctl)->alloc, ctl->local, ctl->local_count);
  ctl->local = NULL, ctl->local_count = 0;
  int rc = decode_rows(ctl, CQLMUX_TOPOLOGY_LOCAL, version, body, len, &ctl->local,
                       &ctl->local_count);
  if (rc != CQLMUX_OK || ctl->local_count != 1) {
    cqlmux_connection_close(ctl->conn, rc != CQLMUX_OK ? rc : CQLMUX_ERR_PROTOCOL,
                            "system.local did not describe the node");
    return;
  }
  ctl->phase = CQLMUX_CONTROL_PEERS;
  send_request(ctl, ctl->peers_v1 ? PEERS_QUERY : PEERS_V2_QUERY);
}

static void on_peers(cqlmux_control *ctl, uint8_t version, const uint8_t *body, size_t len) {
  cqlmux_cluster *c = cluster_of(ctl);
  cqlmux_node_desc *peers = NULL;
  size_t n = 0;
  int rc = decode_rows(ctl, ctl->peers_v1 ? CQLMUX_TOPOLOGY_PEERS : CQLMUX_TOPOLOGY_PEERS_V2,
                       version, body, len, &peers, &n);
  if (rc != CQLMUX_OK) {
    cqlmux_connection_close(ctl->conn, rc, "system.peers could not be read");
    return;
  }
  cqlmux_cluster_apply_topology(c, ctl->local, &ctl->endpoint, peers, n);
  cqlmux_node_descs_free(c->alloc, peers, n);
  /* A new connection may have missed schema events: the whole schema then;
   * a topology event changes no table: the keyspaces (token map) alone,
   * unless a schema event is waiting too. */
  bool schema = !ctl->conn_registered || ctl->schema_wanted;
  if (schema) ctl->schema_wanted = false;
  read_keyspaces(ctl, schema);
}

/* A read is over: REGISTER on a connection that has not yet, else READY
 * and whatever events asked for meanwhile. */
static void finish_read(cqlmux_control *ctl) {
  if (ctl->initial || !ctl->conn_registered) {
    ctl->phase = CQLMUX_CONTROL_REGISTER;
    send_request(ctl, NULL);
    return;
  }
  ctl->phase = CQLMUX_CONTROL_READY;
  run_wanted(ctl);
}

static const char *schema_table(cqlmux_schema_step step) {
  static const char *const names[CQLMUX_SCHEMA_STEPS] = {"keyspaces", "tables", "columns",
                                                         "views", "types"};
  return step < CQLMUX_SCHEMA_STEPS ? names[step] : "snapshot";
}

/* Gives up the schema read under way (the previous snapshot stays). */
static void abandon_schema(cqlmux_control *ctl, int error) {
  if (error != CQLMUX_OK)
    cqlmux_log(cluster_of(ctl)->logger, CQLMUX_LOG_WARN,
               "system_schema.%s could not be read (%s): schema metadata not refreshed",
               schema_table(ctl->schema_step), cqlmux_strerror(error));
  cqlmux_schema_builder_discard(&ctl->schema);
}

/* The next table of the schema, or, after the last, the new snapshot. */
static void next_schema_step(cqlmux_control *ctl) {
  cqlmux_cluster *c = cluster_of(ctl);
  if (++ctl->schema_step < CQLMUX_SCHEMA_STEPS) {
    ctl->phase = CQLMUX_CONTROL_SCHEMA;
    send_request(ctl, cqlmux_schema_query(ctl->schema_step));
    return;
  }
  cqlmux_schema *snapshot;
  /* Only this loop publishes, so the next version is ours to take. */
  int rc = cqlmux_schema_builder_finish(&ctl->schema, cqlmux_cluster_schema_version(c) + 1,
                                        &snapshot);
  if (rc == CQLMUX_OK)
    cqlmux_cluster_publish_schema(c, snapshot);
  else
    abandon_schema(ctl, rc);
  finish_read(ctl);
}

/* The rows of one schema table into the snapshot being read. */
static void on_schema_rows(cqlmux_control *ctl, const cqlmux_rows *rows) {
  int rc = ctl->schema.schema
               ? cqlmux_schema_builder_add(&ctl->schema, ctl->schema_step, rows)
               : CQLMUX_ERR_INVALID_STATE;
  if (rc != CQLMUX_OK) {
    abandon_schema(ctl, rc);
    finish_read(ctl);
    return;
  }
  next_schema_step(ctl);
}

/* Starts a snapshot from the keyspaces' rows when schema metadata is on. */
static bool begin_schema(cqlmux_control *ctl, const cqlmux_rows *rows) {
  cqlmux_cluster *c = cluster_of(ctl);
  cqlmux_schema_builder_discard(&ctl->schema);
  if (!ctl->schema_in_read) return false;
  ctl->schema_step = CQLMUX_SCHEMA_KEYSPACES;
  int rc = cqlmux_schema_builder_init(&ctl->schema, c->alloc);
  if (rc == CQLMUX_OK) rc = cqlmux_schema_builder_add(&ctl->schema, CQLMUX_SCHEMA_KEYSPACES, rows);
  if (rc != CQLMUX_OK) abandon_schema(ctl, rc);
  return rc == CQLMUX_OK;
}

/* The keyspaces for the token map, then the rest of the schema. Whatever
 * fails here leaves the previous keyspaces and snapshot in place: token
 * awareness is an optimisation and metadata a convenience, never a reason
 * to drop the control connection. */
static void on_keyspaces(cqlmux_control *ctl, uint8_t version, const uint8_t *body, size_t len) {
  cqlmux_cluster *c = cluster_of(ctl);
  cqlmux_result_msg msg;
  cqlmux_keyspace_desc *descs = NULL;
  size_t n = 0;
  int rc = decode_result_rows(ctl, version, body, len, &msg);
  if (rc == CQLMUX_OK) rc = cqlmux_keyspaces_decode(c->alloc, &msg.rows, &descs, &n);
  if (rc != CQLMUX_OK) {
    cqlmux_log(c->logger, CQLMUX_LOG_WARN, "system_schema.keyspaces could not be read (%s)",
               cqlmux_strerror(rc));
    finish_read(ctl);
    return;
  }
  cqlmux_cluster_set_keyspaces(c, descs, n);
  if (begin_schema(ctl, &msg.rows))
    next_schema_step(ctl);
  else
    finish_read(ctl);
}

static void on_schema(cqlmux_control *ctl, uint8_t version, const uint8_t *body, size_t len) {
  cqlmux_result_msg msg;
  int rc = decode_result_rows(ctl, version, body, len, &msg);
  if (rc != CQLMUX_OK) {
    abandon_schema(ctl, rc);
    finish_read(ctl);
    return;
  }
  on_schema_rows(ctl, &msg.rows);
}

static void on_registered(cqlmux_control *ctl) {
  cqlmux_cluster *c = cluster_of(ctl);
  ctl->phase = CQLMUX_CONTROL_READY;
  ctl->conn_registered = true;
  cqlmux_reconnect_reset(&ctl->schedule);
  if (ctl->initial) {
    ctl->initial = false;
    cqlmux_cluster_control_ready(c);
  }
  run_wanted(ctl);
}

/* An error answer: peers_v2 missing means an older server (peers then);
 * system_schema.keyspaces missing (or refused) leaves the keyspaces unknown. */
static void on_error_answer(cqlmux_control *ctl, uint8_t version, const uint8_t *body, size_t len) {
  cqlmux_error_body e;
  bool decoded = cqlmux_error_decode(version, body, len, &e) == CQLMUX_OK;
  if (decoded && ctl->phase == CQLMUX_CONTROL_KEYSPACES) {
    cqlmux_log(cluster_of(ctl)->logger, CQLMUX_LOG_WARN,
               "system_schema.keyspaces refused (error 0x%04x): no token awareness",
               (unsigned)e.code);
    finish_read(ctl);
    return;
  }
  if (decoded && ctl->phase == CQLMUX_CONTROL_SCHEMA) {
    cqlmux_log(cluster_of(ctl)->logger, CQLMUX_LOG_WARN,
               "system_schema.%s refused (error 0x%04x): schema metadata not refreshed",
               schema_table(ctl->schema_step), (unsigned)e.code);
    abandon_schema(ctl, CQLMUX_OK);
    finish_read(ctl);
    return;
  }
  if (decoded && ctl->phase == CQLMUX_CONTROL_PEERS && !ctl->peers_v1 &&
      e.code == CQLMUX_CQL_INVALID) {
    ctl->peers_v1 = true;
    send_request(ctl, PEERS_QUERY);
    return;
  }
  char message[300];
  snprintf(message, sizeof message, "control query failed: %.*s",
           decoded ? (int)(e.message.len > 200 ? 200 : e.message.len) : 9,
           decoded ? (const char *)e.message.data : "malformed");
  cqlmux_connection_close(ctl->conn, CQLMUX_ERR_SERVER, message);
}

static void on_response(cqlmux_request *req, uint8_t version, uint8_t opcode, const uint8_t *body,
                        size_t len, cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix) {
  (void)buffer, (void)prefix; /* the driver's own queries ask for no tracing nor payload */
  cqlmux_control *ctl = req->owner;
  ctl->request_out = false;
  if (req->conn != ctl->conn) return; /* an answer on a connection since replaced */
  if (opcode == CQLMUX_OP_ERROR) {
    on_error_answer(ctl, version, body, len);
    return;
  }
  switch (ctl->phase) {
  case CQLMUX_CONTROL_LOCAL: on_local(ctl, version, body, len); break;
  case CQLMUX_CONTROL_PEERS: on_peers(ctl, version, body, len); break;
  case CQLMUX_CONTROL_KEYSPACES: on_keyspaces(ctl, version, body, len); break;
  case CQLMUX_CONTROL_SCHEMA: on_schema(ctl, version, body, len); break;
  case CQLMUX_CONTROL_REGISTER:
    if (opcode == CQLMUX_OP_READY)
      on_registered(ctl);
    else
      cqlmux_connection_close(ctl->conn, CQLMUX_ERR_PROTOCOL, "REGISTER not answered READY");
    break;
  default: break;
  }
}

static void on_failure(cqlmux_request *req, int error, const char *message, bool sent) {
  (void)sent;
  cqlmux_control *ctl = req->owner;
  ctl->request_out = false;
  if (req->conn != ctl->conn || error == CQLMUX_ERR_SHUTDOWN) return;
  /* A control query that timed out leaves the node suspect: move on. */
  cqlmux_connection_close(ctl->conn, error, message ? message : "control query failed");
}

/* ================================================================ failover */

static void on_closed(cqlmux_connection *conn, int error, const char *message, void *owner) {
  cqlmux_control *ctl = owner;
  if (conn != ctl->conn) return;
  cqlmux_cluster *c = cluster_of(ctl);
  ctl->phase = CQLMUX_CONTROL_IDLE;
  ctl->conn_registered = false;
  if (error == CQLMUX_ERR_SHUTDOWN || atomic_load_explicit(&c->stopping, memory_order_acquire))
    return;
  char address[64];
  cqlmux_endpoint_format(&ctl->endpoint, address, sizeof address);
  const char *why = message ? message : cqlmux_strerror(error);
  if (ctl->initial) {
    note_failure(ctl, error, address, why);
    try_next(ctl);
    return;
  }
  cqlmux_log(c->logger, CQLMUX_LOG_WARN, "control connection to %s lost (%s); moving on",
             address, why);
  candidates_from_hosts(ctl);
  /* Not back to the node that just failed first, unless it is the only one. */
  if (ctl->candidate_count > 1 && !memcmp(&ctl->candidates[0], &ctl->endpoint, sizeof ctl->endpoint))
    ctl->next_candidate = 1;
  try_next(ctl);
}

void cqlmux_control_stop(cqlmux_control *ctl) {
  cqlmux_loop_timer_stop(loop_of(ctl), &ctl->debounce_timer);
  cqlmux_loop_timer_stop(loop_of(ctl), &ctl->schema_timer);
  cqlmux_loop_timer_stop(loop_of(ctl), &ctl->retry_timer);
  if (ctl->conn && cqlmux_connection_state(ctl->conn) != CQLMUX_CONN_CLOSED)
    cqlmux_connection_close(ctl->conn, CQLMUX_OK, "session closing");
}

void cqlmux_control_destroy(cqlmux_control *ctl) {
  cqlmux_cluster *c = cluster_of(ctl);
  cqlmux_connection_free(ctl->conn);
  for (size_t i = 0; i < ctl->spent_count; i++) cqlmux_connection_free(ctl->spent[i]);
  cqlmux_mem_free(c->alloc, ctl->spent);
  cqlmux_mem_free(c->alloc, ctl->candidates);
  cqlmux_node_descs_free(c->alloc, ctl->local, ctl->local_count);
  cqlmux_schema_builder_discard(&ctl->schema);
  cqlmux_arena_free(&ctl->arena);
  cqlmux_wbuf_free(&ctl->req.envelope);
}

/* ================================================================ events */

/* Reads what events asked for while another read was under way: the whole
 * topology (which includes the schema), or the schema alone. */
static void run_wanted(cqlmux_control *ctl) {
  if (ctl->refresh_wanted) {
    ctl->refresh_wanted = false;
    read_topology(ctl); /* on_peers takes schema_wanted along */
  } else if (ctl->schema_wanted) {
    ctl->schema_wanted = false;
    read_keyspaces(ctl, true);
  }
}

static void on_debounce(cqlmux_timer *timer, int status) {
  cqlmux_control *ctl = timer->user_data;
  ctl->debounce_armed = false;
  if (status != CQLMUX_OK) return;
  ctl->refresh_wanted |= ctl->topology_pending;
  ctl->topology_pending = false;
  if (ctl->phase == CQLMUX_CONTROL_READY && !ctl->request_out) run_wanted(ctl);
}

static void on_schema_timer(cqlmux_timer *timer, int status) {
  cqlmux_control *ctl = timer->user_data;
  ctl->schema_armed = false;
  if (status != CQLMUX_OK) return;
  ctl->schema_wanted = true;
  if (ctl->phase == CQLMUX_CONTROL_READY && !ctl->request_out) run_wanted(ctl);
}

/* Events inside one debounce window cost one refresh. */
static void request_refresh(cqlmux_control *ctl, bool topology) {
  cqlmux_cluster *c = cluster_of(ctl);
  if (topology) {
    ctl->topology_pending = true;
    if (ctl->debounce_armed) return;
    ctl->debounce_armed = true;
    cqlmux_loop_timer_start(loop_of(ctl), &ctl->debounce_timer, c->cfg.debounce_us);
    return;
  }
  if (ctl->schema_armed) return;
  ctl->schema_armed = true;
  cqlmux_loop_timer_start(loop_of(ctl), &ctl->schema_timer, c->cfg.schema_delay_us);
}

/* Whether a SCHEMA_CHANGE calls for a re-read: a keyspace's replication
 * moves replicas; tables and types are in the metadata; functions and
 * aggregates in neither. */
static bool schema_event_matters(const cqlmux_control *ctl, const cqlmux_event *ev) {
  switch (ev->schema.target_kind) {
  case CQLMUX_TARGET_KEYSPACE: return true;
  case CQLMUX_TARGET_TABLE:
  case CQLMUX_TARGET_TYPE: return ctl->cluster->cfg.schema_metadata;
  default: return false;
  }
}

static void on_status(cqlmux_control *ctl, const cqlmux_event *ev) {
  cqlmux_cluster *c = cluster_of(ctl);
  cqlmux_endpoint ep;
  cqlmux_topology_endpoint(&ev->address, ev->address.port, &ep);
  pthread_mutex_lock(&c->lock);
  cqlmux_host *h = cqlmux_cluster_find_locked(c, &ep);
  bool pooled = h && h->has_pool && !h->removed;
  pthread_mutex_unlock(&c->lock);
  if (!h) {
    request_refresh(ctl, true); /* a node we do not know yet */
    return;
  }
  bool up = ev->change.len == 2 && !memcmp(ev->change.data, "UP", 2);
  if (!pooled) return;
  if (up) {
    cqlmux_pool_try_now(&h->pool);
  } else if (cqlmux_pool_ready(&h->pool) == 0) {
    /* The server's word alone never takes down a host that still works. */
    cqlmux_cluster_host_down(c, h);
  }
}

static void on_event(cqlmux_connection *conn, const uint8_t *body, size_t len, void *owner) {
  cqlmux_control *ctl = owner;
  if (conn != ctl->conn) return;
  cqlmux_event ev;
  if (cqlmux_event_decode(body, len, &ev) != CQLMUX_OK) {
    cqlmux_log(cluster_of(ctl)->logger, CQLMUX_LOG_WARN, "control connection: malformed EVENT");
    return;
  }
  switch (ev.kind) {
  case CQLMUX_EVENT_TOPOLOGY_CHANGE: request_refresh(ctl, true); break;
  case CQLMUX_EVENT_STATUS_CHANGE: on_status(ctl, &ev); break;
  case CQLMUX_EVENT_SCHEMA_CHANGE:
    if (schema_event_matters(ctl, &ev)) request_refresh(ctl, false);
    break;
  default: break;
  }
}

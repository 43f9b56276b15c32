#include "api/schema_agreement.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "api/call.h"
#include "api/config.h"
#include "api/result.h"
#include "cluster/cluster.h"
#include "cluster/host.h"
#include "cluster/pool.h"
#include "net/connection.h"
#include "net/loop.h"
#include "proto/request.h"
#include "runtime/alloc.h"
#include "runtime/clock.h"

/* Between two rounds of the check: gossip spreads a change in well under a
 * second on a healthy cluster, and a round costs the coordinator two small
 * reads of its own tables. */
#define ROUND_US (200u * 1000u)

static const char LOCAL_VERSION[] = "SELECT schema_version FROM system.local WHERE key='local'";
static const char PEER_VERSIONS[] = "SELECT peer, rpc_address, schema_version FROM system.peers";

typedef struct agreement {
  cqlmux_request net;       /* first: the check's query, one at a time */
  cqlmux_call *call;        /* the schema change, held until the end */
  cqlmux_result answer;     /* the query's rows, while they are read */
  cqlmux_timer timer;       /* between rounds, on the last answer's loop */
  uint64_t deadline_us;     /* monotonic: the check gives up after it */
  uint8_t coordinator_version[16];
  bool asking_peers;        /* system.peers (else system.local) is asked */
} agreement;

static void on_answer(cqlmux_request *req, uint8_t version, uint8_t opcode, const uint8_t *body,
                      size_t len, cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix);
static void on_failure(cqlmux_request *req, int error, const char *message, bool sent);
static const cqlmux_request_ops agreement_ops = {on_answer, on_failure};

/* The check is over: the call completes with its own result (the change
 * was applied whatever the check found). */
static void finish(agreement *a, bool agreed) {
  cqlmux_call *call = a->call;
  const cqlmux_allocator *alloc = call->session->alloc;
  call->schema_unsettled = !agreed;
  cqlmux_result_clear(&a->answer);
  cqlmux_result_drop_columns(&a->answer);
  cqlmux_arena_free(&a->answer.arena);
  cqlmux_wbuf_free(&a->net.envelope);
  cqlmux_mem_free(alloc, a);
  cqlmux_session_complete(call, CQLMUX_OK, NULL);
}

/* Sends the round's next query to the coordinator; false when it cannot
 * (no ready connection, no room, no memory, the session closing). */
static bool ask(agreement *a) {
  cqlmux_session *s = a->call->session;
  cqlmux_host *h = a->call->host;
  cqlmux_connection *conn = h->has_pool ? cqlmux_pool_pick(&h->pool, NULL) : NULL;
  if (!conn || !cqlmux_session_connected(s)) return false;
  const char *cql = a->asking_peers ? PEER_VERSIONS : LOCAL_VERSION;
  cqlmux_request_header header;
  cqlmux_session_request_header(s, &header);
  cqlmux_query_params params = {.consistency = CQLMUX_CONSISTENCY_ONE};
  cqlmux_wbuf_reset(&a->net.envelope);
  if (cqlmux_request_query(&a->net.envelope, &header,
                           (cqlmux_slice){(const uint8_t *)cql, strlen(cql)},
                           &params) != CQLMUX_OK ||
      cqlmux_connection_admit(conn) != CQLMUX_OK)
    return false;
  cqlmux_request_reset(&a->net, &agreement_ops, a);
  a->net.timeout_us = (uint64_t)s->config->request_timeout_ms * 1000;
  a->net.submitted_us = cqlmux_clock_now_us();
  cqlmux_connection_post(conn, &a->net);
  return true;
}

static void on_round_timer(cqlmux_timer *timer, int status) {
  agreement *a = timer->user_data;
  a->asking_peers = false;
  if (status != CQLMUX_OK || !ask(a)) finish(a, false);
}

/* Another round after ROUND_US, unless it would end past the deadline. */
static void next_round(agreement *a, cqlmux_loop *loop) {
  if (cqlmux_clock_now_us() + ROUND_US > a->deadline_us ||
      cqlmux_loop_timer_start(loop, &a->timer, ROUND_US) != CQLMUX_OK)
    finish(a, false);
}

/* The IP address a node reports (system.peers' rpc_address, or its peer
 * address when that is unset) is a host's of the session's. */
static bool same_ip(const cqlmux_endpoint *ep, const uint8_t *ip, int32_t len) {
  const struct sockaddr *sa = (const struct sockaddr *)&ep->addr;
  if (sa->sa_family == AF_INET && len == 4)
    return !memcmp(&((const struct sockaddr_in *)sa)->sin_addr, ip, 4);
  if (sa->sa_family == AF_INET6 && len == 16)
    return !memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, ip, 16);
  return false;
}

static const cqlmux_host *host_at(cqlmux_session *s, const uint8_t *ip, int32_t len) {
  const cqlmux_host_list *l = cqlmux_cluster_hosts(s->cluster);
  for (unsigned i = 0; i < l->count; i++) {
    const cqlmux_host *h = l->hosts[i];
    if (same_ip(h->reported.addr_len ? &h->reported : &h->endpoint, ip, len)) return h;
  }
  return NULL;
}

static bool unset_ip(const uint8_t *ip, int32_t len) {
  for (int32_t i = 0; i < len; i++)
    if (ip[i]) return false;
  return true;
}

/* Whether peer `row` is a host of ours that is UP: the others (DOWN, not
 * known, ignored by the filters) cannot be waited for. */
static bool peer_counts(agreement *a, size_t row, int peer_col, int rpc_col) {
  const uint8_t *ip = NULL;
  int32_t len = -1;
  if (rpc_col >= 0) cqlmux_result_get_serialized(&a->answer, row, (size_t)rpc_col, &ip, &len);
  if (len <= 0 || unset_ip(ip, len))
    cqlmux_result_get_serialized(&a->answer, row, (size_t)peer_col, &ip, &len);
  const cqlmux_host *h = len > 0 ? host_at(a->call->session, ip, len) : NULL;
  /* relaxed: a hint, as routing reads it; a host that changes state during
   * the round is seen by the next one. */
  return h && atomic_load_explicit(&((cqlmux_host *)h)->state, memory_order_relaxed) ==
                  CQLMUX_HOST_UP;
}

/* Every UP peer runs the coordinator's version (one with none yet does not). */
static bool peers_agree(agreement *a) {
  int peer_col = cqlmux_result_column_index(&a->answer, "peer");
  int rpc_col = cqlmux_result_column_index(&a->answer, "rpc_address");
  int version_col = cqlmux_result_column_index(&a->answer, "schema_version");
  if (peer_col < 0 || version_col < 0) return false;
  for (size_t row = 0, n = cqlmux_result_row_count(&a->answer); row < n; row++) {
    if (!peer_counts(a, row, peer_col, rpc_col)) continue;
    const uint8_t *version;
    int32_t len;
    if (cqlmux_result_get_serialized(&a->answer, row, (size_t)version_col, &version, &len) !=
            CQLMUX_OK ||
        len != 16 || memcmp(version, a->coordinator_version, 16) != 0)
      return false;
  }
  return true;
}

static bool read_coordinator_version(agreement *a) {
  int col = cqlmux_result_column_index(&a->answer, "schema_version");
  const uint8_t *version;
  int32_t len;
  if (col < 0 || cqlmux_result_row_count(&a->answer) != 1 ||
      cqlmux_result_get_serialized(&a->answer, 0, (size_t)col, &version, &len) != CQLMUX_OK ||
      len != 16)
    return false;
  memcpy(a->coordinator_version, version, 16);
  return true;
}

/* On the answering connection's I/O thread. An answer the check cannot
 * read (an error, another kind, no version) ends it unsettled: waiting
 * longer could not make it readable. */
static void on_answer(cqlmux_request *req, uint8_t version, uint8_t opcode, const uint8_t *body,
                      size_t len, cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix) {
  (void)prefix;
  agreement *a = (agreement *)req;
  cqlmux_loop *loop = cqlmux_connection_loop(req->conn);
  if (cqlmux_result_fill(&a->answer, version, opcode, body, len, buffer, NULL) != CQLMUX_OK ||
      a->answer.has_error || a->answer.kind != CQLMUX_RESULT_ROWS) {
    finish(a, false);
    return;
  }
  if (!a->asking_peers) {
    bool read = read_coordinator_version(a);
    cqlmux_result_recycle(&a->answer);
    a->asking_peers = true;
    if (!read || !ask(a)) finish(a, false);
    return;
  }
  bool agreed = peers_agree(a);
  cqlmux_result_recycle(&a->answer);
  if (agreed)
    finish(a, true);
  else
    next_round(a, loop);
}

static void on_failure(cqlmux_request *req, int error, const char *message, bool sent) {
  (void)error, (void)message, (void)sent;
  finish((agreement *)req, false);
}

bool cqlmux_schema_agreement_start(cqlmux_call *call) {
  cqlmux_session *s = call->session;
  unsigned wait_ms = s->config->schema_agreement_wait_ms;
  call->schema_unsettled = true;
  if (wait_ms == 0 || !call->host) return false;
  agreement *a = cqlmux_mem_calloc(s->alloc, 1, sizeof *a);
  if (!a) return false;
  a->call = call;
  a->deadline_us = cqlmux_clock_now_us() + (uint64_t)wait_ms * 1000;
  cqlmux_result_init(&a->answer, s->alloc);
  cqlmux_wbuf_init(&a->net.envelope, s->alloc, 0);
  cqlmux_timer_init(&a->timer, on_round_timer, a);
  if (!ask(a)) finish(a, false);
  return true;
}

int cqlmux_future_schema_in_agreement(const cqlmux_future *future) {
  if (!future || cqlmux_future_error(future) != CQLMUX_OK) return 0;
  const cqlmux_call *call = cqlmux_future_call(future);
  /* Written before the completion that published the future's outcome. */
  return call && !call->schema_unsettled;
}

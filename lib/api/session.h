/* The session: its life cycle (new, connect, close, free) and the path of
 * every request from cqlmux_session_execute to its future. What it knows of
 * the cluster (hosts, pools, the control connection, reconnection) is the
 * cluster layer's (lib/cluster/cluster.h); a request asks it for a
 * connection.
 *
 * Threads. execute/prepare/query run on application threads (and inside
 * callbacks): they encode, pick a connection and post, never block. The
 * connection events (ready, closed) and request outcomes run on I/O
 * threads. Shared state is either immutable after connect, atomic, or under
 * `lock` (connect future, keyspace, close future: all rare).
 *
 * A call (one request of the session) is a pooled object that becomes the
 * payload of its future when it completes, so the result it holds lives
 * exactly as long as the future; freeing the future returns the call to the
 * pool. The pool outlives the session while futures still hold calls. */
#ifndef CQLMUX_API_SESSION_H
#define CQLMUX_API_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "api/config.h"
#include "api/metrics.h"
#include "api/result.h"
#include "api/prepared_cache.h"
#include "cluster/cluster.h"
#include "cluster/plan.h"
#include "net/connection.h"
#include "proto/request.h"
#include "net/runtime.h"
#include "net/tls.h"
#include "runtime/budget.h"
#include "runtime/future.h"
#include "runtime/intrusive.h"
#include "runtime/timestamp.h"

/* Calls come from a runtime object pool (runtime/objpool.h). */
typedef struct cqlmux_objpool cqlmux_call_pool;

typedef enum cqlmux_call_kind { CQLMUX_CALL_EXECUTE, CQLMUX_CALL_PREPARE } cqlmux_call_kind;

/* Hosts a call remembers trying, for the final error's message. */
#define CQLMUX_CALL_TRIED 4

/* What only some calls need, out of line so that the calls in flight do not
 * all carry it (see cqlmux_call_extra_of in call.h). */
typedef struct cqlmux_call_extra {
  /* PREPARE: the text (stored after this struct), then the prepared object
   * built on success, until taken. */
  const char *prepare_cql;
  cqlmux_prepared *prepared;
  cqlmux_wbuf held;             /* the EXECUTE envelope while a re-PREPARE uses net's */
  /* A retried call: the hosts it tried, from the first (recorded when the
   * first retry makes this record) up to CQLMUX_CALL_TRIED, and why it left
   * each (cqlmux_retry_reason). */
  uint8_t tried_count;
  uint8_t tried_reason[CQLMUX_CALL_TRIED];
  struct cqlmux_host *tried[CQLMUX_CALL_TRIED];
} cqlmux_call_extra;

/* Room for the envelope inside the call: the benchmark's requests (tools/
 * bench) encode to 65 bytes (prepared SELECT, v5; 44 in v4) and 88
 * (unprepared SELECT), so typical small requests need no block of their
 * own. A larger envelope moves to an allocated block, which the call keeps
 * for its next use unless it grew past CQLMUX_CALL_ENVELOPE_KEEP.
 * The envelope has a room of its own rather than sharing the result's
 * inline arena (which it could: the connection copies the envelope into its
 * write buffer before any answer arrives), so that the envelope is still
 * there after an answer: the retry and speculative-execution policies the
 * layer resends a request after an error answer (an overloaded or
 * timed-out replica), and re-sends an EXECUTE after re-preparing it. */
#define CQLMUX_CALL_ENVELOPE_INLINE 96
#define CQLMUX_CALL_ENVELOPE_KEEP (16u << 10)

/* Every call in flight costs sizeof(cqlmux_call) (plus an envelope or a
 * result that outgrew their inline room), so the fields are ordered to
 * leave no padding. */
typedef struct cqlmux_call {
  cqlmux_request net;           /* first: the connection's view */
  cqlmux_session *session;
  cqlmux_call_pool *pool;
  cqlmux_future embedded_future; /* the request's future: no allocation per request */
  struct cqlmux_host *host;     /* where it went last (metrics), or NULL */
  const cqlmux_retry_policy *retry_policy;
  cqlmux_call_kind kind;
  unsigned attempts;            /* connections tried */
  bool idempotent;
  bool reprepared;              /* an UNPREPARED answer was handled (once) */
  bool schema_unsettled;        /* a schema change the nodes were not seen to agree on */
  cqlmux_plan plan;             /* the hosts it may try (cluster/plan.h) */
  struct cqlmux_speculation *spec; /* api/speculation.h; NULL: no extra executions */
  cqlmux_call_extra *extra;     /* PREPARE, retry and re-prepare state; NULL for most */
  size_t charged;               /* bytes against the memory budget */
  struct cqlmux_call *pool_next;
  cqlmux_result result;
  uint8_t envelope_inline[CQLMUX_CALL_ENVELOPE_INLINE]; /* net.envelope's own room */
} cqlmux_call;

typedef enum cqlmux_session_state {
  CQLMUX_SESSION_NEW,
  CQLMUX_SESSION_CONNECTING,
  CQLMUX_SESSION_CONNECTED,
  CQLMUX_SESSION_CLOSING,
  CQLMUX_SESSION_CLOSED
} cqlmux_session_state;

struct cqlmux_session {
  cqlmux_config *config;
  cqlmux_runtime *runtime;
  const cqlmux_allocator *alloc;
  bool tls_enabled;
  cqlmux_tls_context tls;
  cqlmux_conn_settings settings;
  cqlmux_cluster *cluster;      /* hosts, pools, control connection (lib/cluster) */
  cqlmux_call_pool *calls;
  cqlmux_metrics_block unrouted; /* requests that failed before reaching a host */

  atomic_int state;             /* cqlmux_session_state */

  /* Per-request counters, split by writer so that no cache line travels
   * between the submitting and the completing thread on every request (a
   * shared line cost ~0.3 us per request). Requests outstanding =
   * submitted - completed. Monotonic, wrapping unsigned arithmetic. */
  char pad0_[CQLMUX_CACHE_LINE]; /* a line between groups: the heap aligns to 16 only */
  /* Written by submitting threads. */
  atomic_size_t submitted;
  char pad1_[CQLMUX_CACHE_LINE];
  /* Written by completing threads (the I/O threads, mostly). */
  atomic_size_t completed;
  char pad2_[CQLMUX_CACHE_LINE];
  /* Bytes of requests and of unsent write buffers (split the same way). */
  cqlmux_budget budget;

  cqlmux_prepared_cache prepared; /* what was prepared, to prepare elsewhere */
  /* The keyspace for routing requests without one of their own: one of
   * retired_keyspaces, replaced (never changed) on USE. */
  _Atomic(char *) routing_keyspace;
  struct retired_string *retired_keyspaces; /* every name used; under lock */

  pthread_mutex_t lock;
  cqlmux_future *connect_future; /* until the cluster reports connect's outcome */
  cqlmux_future *close_future;
  char keyspace[256];

  /* Client timestamps and UUIDs (api/session_values.c); set up at creation,
   * then read-only but for the generator's atomics. */
  cqlmux_timestamp_gen timestamps;
  cqlmux_timestamp_source stamps; /* what the encoders ask */
  uint8_t uuid_node[6];           /* v1 node id, multicast bit set */
  uint16_t uuid_clock_seq;        /* v1 clock sequence (14 bits) */
};

/* Sets up the session's timestamp source (from its config) and its UUID v1
 * node id and clock sequence (random). INVALID_STATE when the kernel gives
 * no random bytes. Called once by cqlmux_session_new, runtime made. */
int cqlmux_session_values_init(cqlmux_session *s);

/* Internal to lib/api: the session's request path, used by recovery.c. */

/* Offers the call to conn (of host): false when the connection refuses
 * it (BUSY). Records the attempt. Any thread. */
bool cqlmux_session_offer(cqlmux_call *call, cqlmux_connection *conn, cqlmux_host *host);
/* The next host of the call's plan with a ready connection (never
 * `avoid`) and that connection, or NULL when the plan is exhausted. */
cqlmux_connection *cqlmux_session_next_in_plan(cqlmux_call *call,
                                               const cqlmux_connection *avoid,
                                               cqlmux_host **host);
/* The header requests are encoded with (version, body compression). */
void cqlmux_session_request_header(const cqlmux_session *s, cqlmux_request_header *h);
/* An answer for the call, from conn: decoded into its result (with its
 * envelope's prefix, when it had one: NULL otherwise; its warnings are
 * logged; columns the connection's answers repeat are shared, see
 * api/columns_memo.h), then completed, or (may_recover) retried or
 * re-prepared as recovery.h says. conn's I/O thread. */
void cqlmux_session_deliver(cqlmux_call *call, cqlmux_connection *conn, uint8_t version,
                            uint8_t opcode, const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                            const cqlmux_body_prefix *prefix, bool may_recover);
/* Completes the call (exactly once). */
void cqlmux_session_complete(cqlmux_call *call, int error, const char *message);
/* Background requests (not the application's) count in the close
 * handshake: start returns false when the session no longer takes any. */
bool cqlmux_session_background_start(cqlmux_session *s);
void cqlmux_session_background_done(cqlmux_session *s);
/* Connected and not closing: recovery starts no new work otherwise. Any
 * thread. */
bool cqlmux_session_connected(const cqlmux_session *s);

#endif

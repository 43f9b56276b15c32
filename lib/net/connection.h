/* One connection to one Cassandra node: socket, optional TLS, protocol
 * handshake, stream multiplexing, pipelined and coalesced writes, watermark
 * backpressure, heartbeats and timeouts.
 *
 * Threads. A connection belongs to one I/O loop. Everything here except
 * cqlmux_connection_new, _start, _use_keyspace, _admit, _post and the
 * statistics runs on that loop's thread; requests reach it through tasks posted to the
 * loop (see cqlmux_connection_post).
 *
 * States: CONNECTING (TCP) -> TLS (optional) -> OPTIONS -> STARTUP ->
 * [AUTH] -> [KEYSPACE] -> READY -> CLOSED. A v5 attempt that the server
 * refuses is retried on a new socket as v4 when the version was not forced.
 * Requests submitted before READY wait in the connection's queue.
 *
 * Backpressure (reference: "Request-Side Backpressure"). In flight means
 * holding a stream id. At the high watermark new requests wait in a FIFO
 * queue of bounded size; once in flight falls below the low watermark the
 * queue drains until the high watermark again. Beyond the queue's bound a
 * request fails with CQLMUX_ERR_BUSY. Application threads check the same
 * bound before posting (cqlmux_connection_admit), so the loop's submission
 * queue cannot grow without limit either.
 *
 * Memory: bytes in the write buffer that the socket has not taken stay
 * charged to settings->budget until written or dropped; while the socket
 * pushes back and the budget is spent, requests wait in the queue rather
 * than grow the buffer.
 *
 * Response side: when the callback workers' queue is deeper than
 * completion_bound, the connection stops reading its socket (the kernel's
 * receive window then pushes back on the server) and resumes below it. */
#ifndef CQLMUX_NET_CONNECTION_H
#define CQLMUX_NET_CONNECTION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/loop.h"
#include "net/request.h"
#include "net/socket.h"
#include "net/tls.h"
#include "runtime/budget.h"
#include "runtime/intrusive.h"
#include "runtime/log.h"
#include "runtime/workers.h"

/* Settings shared read-only by the connections of a session. */
typedef struct cqlmux_conn_settings {
  const cqlmux_allocator *alloc;
  const cqlmux_logger *logger;
  const cqlmux_tls_context *tls;  /* NULL: plain TCP */
  int protocol_version;           /* 0: try 5, fall back to 4; or 4 / 5 */
  bool lz4;                       /* ask for LZ4 when the server offers it */
  const char *username;           /* SASL PLAIN when the server asks; never logged */
  const char *password;
  uint32_t max_requests;          /* stream ids a connection may use at once */
  uint32_t high_watermark;        /* in flight at which requests start to queue */
  uint32_t low_watermark;         /* in flight below which the queue drains */
  uint32_t queue_size;            /* waiting requests beyond which BUSY */
  uint32_t orphan_threshold;      /* timed-out streams before recycling */
  uint64_t connect_timeout_us;    /* TCP + TLS + handshake */
  uint64_t heartbeat_interval_us; /* idle time before an OPTIONS ping; 0: never */
  uint64_t heartbeat_timeout_us;
  cqlmux_workers *workers;        /* for response-side backpressure */
  cqlmux_budget *budget;          /* charged with unsent write buffer bytes; NULL: none */
  size_t completion_bound;
  size_t read_buffer_size;        /* usual receive buffer (64 KiB) */
  size_t write_buffer_size;       /* size the write buffer shrinks back to */
  void (*memo_release)(void *memo); /* frees a connection's memo (NULL: nothing to free) */
} cqlmux_conn_settings;

/* What the connection tells its owner; each runs on the loop thread. */
typedef struct cqlmux_conn_events {
  /* Handshake done: requests now go straight out. */
  void (*on_ready)(cqlmux_connection *c, void *owner);
  /* The connection closed (error says why; CQLMUX_OK for a requested close)
   * after failing every request it held. The owner frees it (now or later). */
  void (*on_closed)(cqlmux_connection *c, int error, const char *message, void *owner);
  /* A server EVENT (stream -1), body after the envelope prefix. */
  void (*on_event)(cqlmux_connection *c, const uint8_t *body, size_t len, void *owner);
} cqlmux_conn_events;

typedef enum cqlmux_conn_state {
  CQLMUX_CONN_NEW,
  CQLMUX_CONN_CONNECTING,
  CQLMUX_CONN_TLS,
  CQLMUX_CONN_OPTIONS,
  CQLMUX_CONN_STARTUP,
  CQLMUX_CONN_AUTH,
  CQLMUX_CONN_KEYSPACE,
  CQLMUX_CONN_READY,
  CQLMUX_CONN_CLOSED
} cqlmux_conn_state;

/* Counters a session reads for metrics and least-loaded choice (relaxed
 * atomics; approximate by nature). They are grouped by writer, one cache
 * line apart: submitting threads touch only the first group, the loop thread
 * only the second, so a request does not bounce a line between the two
 * (measured: a shared line cost ~15% of the client's CPU per request). */
typedef struct cqlmux_conn_stats {
  /* Written by submitting threads (any thread). */
  atomic_uint admitted;           /* let in, ever (wraps) */
  atomic_ulong busy_rejections;   /* also by the loop when its queue is full: rare */
  /* Written by the loop thread (and by whichever thread fails requests
   * while the loop shuts down). */
  char pad0_[CQLMUX_CACHE_LINE];  /* a line between groups: the heap aligns to 16 only */
  atomic_uint settled;            /* left the books, ever (wraps), without an answer */
  atomic_uint settled_here;       /* answered: by the loop thread alone (wraps) */
  atomic_uint in_flight;
  atomic_uint queued;
  atomic_ulong timeouts;
  atomic_ulong bytes_out;
  atomic_ulong writes;            /* send calls: fewer than requests = coalescing */
  atomic_ulong bytes_in;
  atomic_ulong heartbeats;
  atomic_ulong read_pauses;       /* reading stopped for slow callbacks, ever */
  char pad1_[CQLMUX_CACHE_LINE];  /* and one before whatever follows */
} cqlmux_conn_stats;

/* Creates a connection (not started) to `endpoint`; `host` is the name or
 * address used for TLS identity. Any thread. Returns OK or NOMEM. */
int cqlmux_connection_new(cqlmux_loop *loop, const cqlmux_conn_settings *settings,
                          const cqlmux_conn_events *events, void *owner,
                          const cqlmux_endpoint *endpoint, const char *host,
                          cqlmux_connection **out);

/* Starts connecting; from any thread (posts to the loop). */
void cqlmux_connection_start(cqlmux_connection *c);

/* Reconnects a closed connection in place (loop thread), with `version`
 * forced (4 or 5) or negotiated (0). Requests posted meanwhile wait. */
void cqlmux_connection_restart(cqlmux_connection *c, int version);

/* Sets the keyspace the connection should be in (USE), now and after any
 * reconnect of its handshake. Any thread: the name is handed to the loop. */
void cqlmux_connection_use_keyspace(cqlmux_connection *c, const char *keyspace);

/* Application side of submission: reserves room for one request, or
 * returns BUSY when in flight plus waiting already reach the high watermark
 * plus the queue size. Any thread; pair with cqlmux_connection_post, or
 * cqlmux_connection_unadmit if the request is not posted after all. */
int cqlmux_connection_admit(cqlmux_connection *c);
void cqlmux_connection_unadmit(cqlmux_connection *c);

/* Posts an admitted request to the connection's loop. Any thread. The
 * request completes exactly once through its ops. */
void cqlmux_connection_post(cqlmux_connection *c, cqlmux_request *req);

/* Closes the connection, failing what it holds with `error`. Loop thread. */
void cqlmux_connection_close(cqlmux_connection *c, int error, const char *message);

/* Frees a closed (or never started) connection. Loop thread, or any thread
 * once the loop is joined. */
void cqlmux_connection_free(cqlmux_connection *c);

/* Any thread, approximate. */
unsigned cqlmux_connection_load(const cqlmux_connection *c);
const cqlmux_conn_stats *cqlmux_connection_stats(const cqlmux_connection *c);

/* A pointer the connection's owner keeps with it (the session keeps there
 * the columns its answers repeat, api/columns_memo.h), NULL at first. Read
 * and written on the connection's loop thread only; settings->memo_release
 * gets it when the connection is freed. */
void **cqlmux_connection_memo(cqlmux_connection *c);
cqlmux_loop *cqlmux_connection_loop(const cqlmux_connection *c);

/* Loop thread: the handshake's outcome. */
cqlmux_conn_state cqlmux_connection_state(const cqlmux_connection *c);
uint8_t cqlmux_connection_version(const cqlmux_connection *c);
bool cqlmux_connection_compressed(const cqlmux_connection *c);

#endif

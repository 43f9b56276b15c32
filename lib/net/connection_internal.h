/* Private to the files of one connection (lib/net/connection.c and
 * lib/net/conn_*.c): the connection object and what those files share.
 * net/connection.h is the public face and says which thread runs what.
 *
 *   connection.c      life cycle: new, start, restart, close, free; failing
 *                     what a closing connection holds; statistics
 *   conn_handshake.c  TCP connect, TLS, OPTIONS / STARTUP / AUTH / USE, v5
 *                     framing and the fallback to v4, keyspace changes
 *   conn_flow.c       request admission, the wait queue and watermarks,
 *                     stream ids, coalesced writes and the write buffer's
 *                     memory charge, reading and decoding answers, pausing
 *                     reads for slow callbacks
 *   conn_health.c     heartbeats, request timeouts and orphaned streams
 *
 * Everything declared here runs on the connection's loop thread unless its
 * comment says otherwise. */
#ifndef CQLMUX_NET_CONNECTION_INTERNAL_H
#define CQLMUX_NET_CONNECTION_INTERNAL_H

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
#include "runtime/budget.h"
#include "runtime/intrusive.h"
#include "runtime/split_count.h"

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
  void *memo;               /* the owner's (cqlmux_connection_memo) */
  cqlmux_request control;   /* handshake steps and USE, one at a time */
  cqlmux_request heartbeat; /* OPTIONS ping */
  bool heartbeat_outstanding;

  cqlmux_wbuf wbuf;         /* outgoing bytes; [wsent, len) not yet sent */
  size_t wsent;
  size_t budget_held;       /* wbuf bytes charged to the memory budget */
  size_t appended;          /* envelope bytes buffered since the last full flush */
  uint64_t large_flush_us;  /* loop time of the last flush of a large burst */
  bool write_blocked;       /* the last flush left bytes the socket would not take */
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
  /* A USE is out: Cassandra runs one connection's requests concurrently, so
   * a request sent behind the USE could still run in the old keyspace. The
   * requests wait in the queue until the USE is answered. */
  bool switching_keyspace;

  cqlmux_timer connect_timer;
  cqlmux_timer heartbeat_timer; /* idle check, then the answer's deadline */
  cqlmux_timer pause_timer;
  uint64_t last_read_us;
  cqlmux_task start_task;
  cqlmux_task keyspace_task;
  cqlmux_loop_stop_handler stop_handler;
  cqlmux_conn_stats stats;
};

/* ================================================================ helpers */

static inline const cqlmux_logger *logger(const cqlmux_connection *c) {
  return c->settings->logger;
}

static inline void stat_store(atomic_uint *counter, unsigned value) {
  /* relaxed: statistics for load balancing and metrics; nothing is ordered
   * by them. */
  atomic_store_explicit(counter, value, memory_order_relaxed);
}

static inline void stat_add(atomic_ulong *counter, unsigned long n) {
  /* relaxed: monotonic statistics only. */
  atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline void publish_load(cqlmux_connection *c) {
  stat_store(&c->stats.in_flight, c->in_flight);
  stat_store(&c->stats.queued, c->queue_len);
}


/* ============================================================ connection.c */

/* Drops the socket and everything tied to it, keeping queued requests. */
void cqlmux_conn_release_socket(cqlmux_connection *c);
/* A user request ends without an answer: the books first, then the owner. */
void cqlmux_conn_complete_failure(cqlmux_connection *c, cqlmux_request *req, int error,
                                  const char *message);
/* Closes on bytes from the server this client cannot accept. */
void cqlmux_conn_close_for_bad_input(cqlmux_connection *c, int rc, const char *what);

/* ======================================================== conn_handshake.c */

/* Handshake steps, USE and heartbeats: requests the connection makes itself. */
extern const cqlmux_request_ops cqlmux_conn_internal_ops;
void cqlmux_conn_begin_connect(cqlmux_connection *c);
int cqlmux_conn_watch_for(cqlmux_connection *c, unsigned events);
/* The socket is ready while connecting (TCP) or in the TLS handshake. */
void cqlmux_conn_connect_step(cqlmux_connection *c);
void cqlmux_conn_send_options(cqlmux_connection *c, cqlmux_request *req);
void cqlmux_conn_on_connect_timeout(cqlmux_timer *timer, int status);
void cqlmux_conn_on_keyspace_task(cqlmux_task *task, int status);

/* ============================================================= conn_flow.c */

int cqlmux_conn_append_envelope(cqlmux_connection *c, const uint8_t *env, size_t len,
                                int32_t stream);
void cqlmux_conn_schedule_flush(cqlmux_connection *c);
void cqlmux_conn_hold_write_buffer(cqlmux_connection *c);
void cqlmux_conn_drain_queue(cqlmux_connection *c);
void cqlmux_conn_queue_remove(cqlmux_connection *c, cqlmux_request *req);
/* A request leaves the connection's books. Any thread while the loop shuts down. */
void cqlmux_conn_settle(cqlmux_connection *c);
/* Requests admitted and not settled. Any thread, approximate. */
unsigned cqlmux_conn_admitted_load(const cqlmux_connection *c);
void cqlmux_conn_on_io(cqlmux_io_watch *watch, unsigned events);
void cqlmux_conn_on_flush_task(cqlmux_task *task, int status);
void cqlmux_conn_on_pause_timer(cqlmux_timer *timer, int status);

/* =========================================================== conn_health.c */

void cqlmux_conn_on_heartbeat_timer(cqlmux_timer *timer, int status);
void cqlmux_conn_on_request_timeout(cqlmux_timer *timer, int status);

#endif

/* A request on its way through a connection.
 *
 * Life: an application thread takes one from the session's request pool,
 * encodes the whole envelope into it (stream id 0) and posts it to the
 * connection's loop. From then on only that loop's thread touches it: the
 * connection gives it a stream id (patching the two id bytes), copies the
 * envelope into its write buffer, arms its timeout, and completes it when
 * the answer, a timeout or a failure comes: exactly once. Completion hands
 * the outcome to the future and the request object back to the pool.
 *
 * The connection calls back into its owner (the session) through
 * cqlmux_request_ops, so lib/net knows nothing of results or retries. */
#ifndef CQLMUX_NET_REQUEST_H
#define CQLMUX_NET_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/envelope.h"
#include "proto/wire.h"
#include "runtime/task.h"
#include "runtime/timer_heap.h"

typedef struct cqlmux_request cqlmux_request;
typedef struct cqlmux_connection cqlmux_connection;
typedef struct cqlmux_rbuf cqlmux_rbuf;

/* How a request's outcome reaches its owner. Each runs on the connection's
 * I/O thread and consumes the request (it must complete or re-route it). */
typedef struct cqlmux_request_ops {
  /* The server answered: opcode and body (after the envelope's tracing /
   * warning / payload prefix), in version `version`. The body lives in
   * `buffer` (retain it to keep the bytes) or, when buffer is NULL, only
   * for the duration of the call. `prefix` is that prefix, parsed, when the
   * envelope had one (NULL otherwise, the common case); it and the bytes
   * it points to live only for the call. */
  void (*on_response)(cqlmux_request *req, uint8_t version, uint8_t opcode, const uint8_t *body,
                      size_t len, cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix);
  /* No answer: TIMEOUT, CONNECTION_CLOSED, BUSY, SHUTDOWN ... `sent` tells
   * whether the request reached the socket (unsent ones are safe to retry
   * elsewhere). message may be NULL. */
  void (*on_failure)(cqlmux_request *req, int error, const char *message, bool sent);
} cqlmux_request_ops;

/* One per request in flight (embedded in the session's call): the small
 * fields come last, together, so that no padding is left. */
struct cqlmux_request {
  cqlmux_task task;              /* posted to the connection's loop */
  const cqlmux_request_ops *ops;
  void *owner;                   /* the session's per-request state */
  cqlmux_connection *conn;       /* target, chosen at submit */
  cqlmux_wbuf envelope;          /* the whole envelope, stream id 0 */
  uint64_t timeout_us;           /* from submission; 0 = none */
  uint64_t submitted_us;         /* monotonic, at submission */
  cqlmux_timer timer;            /* the timeout, on the loop's heap */
  cqlmux_request *queue_prev;    /* the connection's wait queue (watermarks) */
  cqlmux_request *queue_next;
  int32_t stream;                /* -1 until written */
  bool sent;                     /* reached the write buffer */
  bool queued;
};

/* Prepares a request object for (re)submission; its envelope, timeout and
 * submission time are the caller's to set and are left as they are. */
void cqlmux_request_reset(cqlmux_request *req, const cqlmux_request_ops *ops, void *owner);

#endif

#include "net/connection_internal.h"

/* Reads per readiness event before yielding to other connections. */
#define READ_BUDGET_BYTES (1u << 20)
/* Recheck interval while reading is paused for slow callbacks. */
#define BACKPRESSURE_RECHECK_US 1000
/* Bytes after which buffered requests are written without waiting for the
 * end of the loop turn. */
#define EAGER_FLUSH_BYTES (256u << 10)
/* While the socket pushes back, unsent bytes the write buffer may hold; the
 * requests behind them wait in the connection's queue (see
 * write_buffer_full). */
#define WRITE_BACKLOG_BYTES (256u << 10)

static void submit_ready(cqlmux_connection *c, cqlmux_request *req);

/* ================================================================ writing */

/* Room for a frame's header and trailer, next to its envelope. */
#define FRAME_OVERHEAD 16

/* While the socket pushes back, the buffer still holds the bytes it took:
 * before those make the buffer grow, they are dropped and the rest moves to
 * the front (a move a growth would make anyway, of more bytes). So the
 * buffer stays within twice the backlog (WRITE_BACKLOG_BYTES) instead of
 * doubling whenever the socket took part of it. */
static void drop_sent_bytes(cqlmux_connection *c, size_t more) {
  if (!c->wsent || c->wbuf.len + more <= c->wbuf.cap) return;
  size_t unsent = c->wbuf.len - c->wsent;
  memmove(c->wbuf.data, c->wbuf.data + c->wsent, unsent);
  c->wbuf.len = unsent;
  if (c->framing != CQLMUX_FRAMING_NONE) cqlmux_frame_v5_writer_dropped(&c->frames, c->wsent);
  c->wsent = 0;
}

/* Appends one encoded envelope, giving it `stream`. Returns OK or the
 * write buffer's error. */
int cqlmux_conn_append_envelope(cqlmux_connection *c, const uint8_t *env, size_t len,
                                int32_t stream) {
  drop_sent_bytes(c, len + FRAME_OVERHEAD);
  size_t at = 0;
  if (c->framing != CQLMUX_FRAMING_NONE) at = cqlmux_frame_v5_writer_begin(&c->frames);
  size_t start = c->wbuf.len;
  c->appended += len;
  cqlmux_write_raw(&c->wbuf, env, len);
  if (c->wbuf.error) return c->wbuf.error;
  cqlmux_store_u16(c->wbuf.data + start + 2, (uint16_t)stream);
  if (c->framing != CQLMUX_FRAMING_NONE) return cqlmux_frame_v5_writer_end(&c->frames, at);
  return CQLMUX_OK;
}

static ssize_t transport_send(cqlmux_connection *c, const uint8_t *p, size_t n, unsigned *want) {
  if (!c->use_tls) {
    int sys_errno = 0;
    *want = CQLMUX_IO_WRITE;
    return cqlmux_socket_send(c->fd, p, n, &sys_errno);
  }
  cqlmux_io_want w;
  ssize_t rc = cqlmux_tls_send(&c->tls, p, n, &w);
  *want = w == CQLMUX_WANT_READ ? CQLMUX_IO_READ : CQLMUX_IO_WRITE;
  return rc;
}

/* After a burst, a buffer that grew past 4 x its usual size goes back to
 * nothing; but only once no large burst (more than the usual size of
 * envelope bytes, before any LZ4) was flushed for a second, so that a steady
 * high load keeps its buffer instead of freeing and growing it again and
 * again. */
#define SHRINK_AFTER_US 1000000

static void shrink_write_buffer(cqlmux_connection *c, size_t flushed) {
  uint64_t now = cqlmux_loop_now_us(c->loop);
  if (flushed >= c->settings->write_buffer_size) {
    c->large_flush_us = now;
    return;
  }
  if (c->wbuf.cap > 4 * c->settings->write_buffer_size &&
      now - c->large_flush_us > SHRINK_AFTER_US) {
    cqlmux_wbuf_free(&c->wbuf);
    cqlmux_wbuf_init(&c->wbuf, c->settings->alloc, 0);
  }
}

/* Writes what is buffered until done or the socket pushes back. */
static void flush(cqlmux_connection *c) {
  if (c->fd < 0 || c->state == CQLMUX_CONN_CONNECTING || c->state == CQLMUX_CONN_TLS) return;
  if (c->framing != CQLMUX_FRAMING_NONE && cqlmux_frame_v5_writer_flush(&c->frames) != CQLMUX_OK) {
    cqlmux_connection_close(c, CQLMUX_ERR_NOMEM, "cannot frame outgoing requests");
    return;
  }
  while (c->wsent < c->wbuf.len) {
    unsigned want;
    ssize_t n = transport_send(c, c->wbuf.data + c->wsent, c->wbuf.len - c->wsent, &want);
    if (n == CQLMUX_IO_AGAIN) {
      c->write_blocked = true;
      cqlmux_conn_hold_write_buffer(c);
      cqlmux_conn_watch_for(c, (c->read_paused ? 0 : CQLMUX_IO_READ) | want);
      return;
    }
    if (n < 0) {
      cqlmux_connection_close(c, CQLMUX_ERR_CONNECTION_CLOSED, "write failed");
      return;
    }
    c->wsent += (size_t)n;
    stat_add(&c->stats.bytes_out, (unsigned long)n);
    stat_add(&c->stats.writes, 1);
  }
  cqlmux_wbuf_reset(&c->wbuf);
  size_t flushed = c->appended;
  c->wsent = 0;
  c->appended = 0;
  c->write_blocked = false;
  cqlmux_conn_hold_write_buffer(c);
  shrink_write_buffer(c, flushed);
  if (!c->read_paused) cqlmux_conn_watch_for(c, CQLMUX_IO_READ);
}

/* Requests arriving in one loop turn share one write: the flush task is
 * queued behind them on the loop's own submission queue. flush_scheduled
 * means "the task is queued" and only the task clears it: a task node must
 * never be in the queue twice. */
static void post_flush_task(cqlmux_connection *c) {
  if (c->flush_scheduled) return;
  c->flush_scheduled = true;
  cqlmux_loop_post(c->loop, &c->flush_task);
}

void cqlmux_conn_schedule_flush(cqlmux_connection *c) {
  if (c->wbuf.len - c->wsent >= EAGER_FLUSH_BYTES) {
    flush(c);
    return;
  }
  post_flush_task(c);
}

/* Flushes, then lets requests held back by a full write buffer
 * (write_buffer_full) follow: a flush that empties the buffer may come from
 * the flush task as well as from a writable socket, and a queue left
 * waiting for the next answer would stall the pipe. */
static void flush_and_drain(cqlmux_connection *c) {
  flush(c);
  if (c->state == CQLMUX_CONN_READY && c->queue_head) cqlmux_conn_drain_queue(c);
}

void cqlmux_conn_on_flush_task(cqlmux_task *task, int status) {
  cqlmux_connection *c = cqlmux_container_of(task, cqlmux_connection, flush_task);
  c->flush_scheduled = false;
  if (status == CQLMUX_OK && c->state != CQLMUX_CONN_CLOSED) flush_and_drain(c);
}

/* Bytes the socket has not taken stay charged to the session's memory
 * budget until written or dropped: a request that times out gives its own
 * charge back, but its copy in the write buffer lives on, and a server that
 * stops reading would otherwise let the buffer grow without bound. The
 * charge follows the buffer at the end of each flush and when the socket
 * goes, so it costs nothing while the socket takes everything (the usual
 * case: the buffer is empty after each flush). Until all is sent, the whole
 * allocation is held: the sent prefix is still in it, and it grew by
 * doubling. */
void cqlmux_conn_hold_write_buffer(cqlmux_connection *c) {
  cqlmux_budget *budget = c->settings->budget;
  size_t now = c->wsent < c->wbuf.len ? c->wbuf.cap : 0;
  if (!budget || now == c->budget_held) return;
  if (now > c->budget_held)
    cqlmux_budget_charge(budget, now - c->budget_held);
  else
    cqlmux_budget_release(budget, c->budget_held - now);
  c->budget_held = now;
}

/* While the socket pushes back, a request joins the write buffer only if
 * the budget has room for what the buffer would grow by (growing doubles
 * it); otherwise it waits in the queue, and a write or a timeout lets it
 * move again. */
static bool write_buffer_over_budget(const cqlmux_connection *c, const cqlmux_request *req) {
  if (!c->budget_held) return false;
  size_t cap = cqlmux_wbuf_capacity_for(&c->wbuf, c->wbuf.len + req->envelope.len);
  return !cqlmux_budget_fits(c->settings->budget, cap - c->wbuf.cap);
}

/* While the socket pushes back, the write buffer also stops taking requests
 * once it holds WRITE_BACKLOG_BYTES unsent: the rest wait in the queue,
 * where a request costs a pointer instead of a second copy of its envelope
 * (the call keeps the first, for retries). Without this bound, a server
 * slower to read than the callbacks are to issue made the buffer grow with
 * the number of requests in flight (2 MiB for 4,096 inserts of 1.4 KB: 500
 * bytes a request), and kept it while the load lasted. The kernel's socket
 * buffer still holds far more than this, so the wire never waits for it. */
static bool write_backlog_full(const cqlmux_connection *c, const cqlmux_request *req) {
  return c->write_blocked && c->wbuf.len - c->wsent + req->envelope.len > WRITE_BACKLOG_BYTES;
}

static bool write_buffer_full(const cqlmux_connection *c, const cqlmux_request *req) {
  return write_backlog_full(c, req) || write_buffer_over_budget(c, req);
}

/* ================================================================ requests */

/* Requests admitted and not yet settled. relaxed: an approximate count (a
 * racing submission may be missed); the loop enforces the exact bounds.
 * cqlmux_split_count reads a settle that the admitted read missed as 0, not
 * as a wrapped huge load (see runtime/split_count.h). */
static unsigned settled_count(const cqlmux_connection *c) {
  /* relaxed: see below; the two counters wrap alike, so their sum does. */
  return atomic_load_explicit(&c->stats.settled, memory_order_relaxed) +
         atomic_load_explicit(&c->stats.settled_here, memory_order_relaxed);
}

unsigned cqlmux_conn_admitted_load(const cqlmux_connection *c) {
  return cqlmux_split_count(atomic_load_explicit(&c->stats.admitted, memory_order_relaxed),
                            settled_count(c));
}

int cqlmux_connection_admit(cqlmux_connection *c) {
  unsigned limit = c->settings->high_watermark + c->settings->queue_size;
  /* relaxed: see admitted_load. Between the add and the load, other threads
   * may admit and settle requests: without the clamp that read as a full
   * connection and refused this request with a false BUSY. */
  unsigned before =
      cqlmux_split_count(atomic_fetch_add_explicit(&c->stats.admitted, 1, memory_order_relaxed),
                         settled_count(c));
  if (before >= limit) {
    atomic_fetch_sub_explicit(&c->stats.admitted, 1, memory_order_relaxed);
    stat_add(&c->stats.busy_rejections, 1);
    return CQLMUX_ERR_BUSY;
  }
  return CQLMUX_OK;
}

void cqlmux_connection_unadmit(cqlmux_connection *c) {
  /* relaxed: see admitted_load. */
  atomic_fetch_sub_explicit(&c->stats.admitted, 1, memory_order_relaxed);
}

static void on_request_task(cqlmux_task *task, int status);

void cqlmux_connection_post(cqlmux_connection *c, cqlmux_request *req) {
  req->conn = c;
  cqlmux_task_init(&req->task, on_request_task);
  cqlmux_loop_post(c->loop, &req->task);
}

/* A request leaves the connection's books (completion of any kind). */
void cqlmux_conn_settle(cqlmux_connection *c) {
  /* relaxed: see admitted_load. An atomic add, not a store: a loop that is
   * shutting down may fail requests on another thread. */
  atomic_fetch_add_explicit(&c->stats.settled, 1, memory_order_relaxed);
}

/* The same for an answer, on the loop thread, the only writer of
 * settled_here: a plain store instead of a locked add, which on x86 waits
 * for every store before it to reach the cache (at 4,096 in flight against
 * a real server, those are misses on cold requests: the add took 5 % of the
 * client's CPU). relaxed: see admitted_load. */
static void settle_here(cqlmux_connection *c) {
  unsigned n = atomic_load_explicit(&c->stats.settled_here, memory_order_relaxed);
  atomic_store_explicit(&c->stats.settled_here, n + 1, memory_order_relaxed);
}

static void on_request_task(cqlmux_task *task, int status) {
  cqlmux_request *req = cqlmux_container_of(task, cqlmux_request, task);
  cqlmux_connection *c = req->conn;
  if (status != CQLMUX_OK) {
    cqlmux_conn_complete_failure(c, req, CQLMUX_ERR_SHUTDOWN, "session shut down");
    return;
  }
  if (c->state == CQLMUX_CONN_CLOSED) {
    cqlmux_conn_complete_failure(c, req, CQLMUX_ERR_CONNECTION_CLOSED, "connection closed");
    return;
  }
  cqlmux_timer_init(&req->timer, cqlmux_conn_on_request_timeout, req);
  if (req->timeout_us) {
    uint64_t now = cqlmux_loop_now_us(c->loop);
    uint64_t deadline = req->submitted_us + req->timeout_us;
    cqlmux_loop_timer_start(c->loop, &req->timer, deadline > now ? deadline - now : 0);
  }
  submit_ready(c, req);
}

static void queue_append(cqlmux_connection *c, cqlmux_request *req) {
  /* While the socket pushes back, a request that waits gets the socket
   * tried again at the end of this loop turn, as buffered requests did
   * before the backlog bound: the kernel takes bytes as the server reads
   * them, long before it reports the socket writable (when half its buffer
   * is free), and a pipe refilled only then ran ~5 % slower (inserts of
   * 1.4 KB against the null mock). */
  if (c->write_blocked) post_flush_task(c);
  req->queued = true;
  req->queue_next = NULL;
  req->queue_prev = c->queue_tail;
  if (c->queue_tail)
    c->queue_tail->queue_next = req;
  else
    c->queue_head = req;
  c->queue_tail = req;
  c->queue_len++;
}

void cqlmux_conn_queue_remove(cqlmux_connection *c, cqlmux_request *req) {
  if (req->queue_prev)
    req->queue_prev->queue_next = req->queue_next;
  else
    c->queue_head = req->queue_next;
  if (req->queue_next)
    req->queue_next->queue_prev = req->queue_prev;
  else
    c->queue_tail = req->queue_prev;
  req->queued = false;
  c->queue_len--;
}

/* Puts a request on the wire: stream id, write buffer, flush. */
static void send_request(cqlmux_connection *c, cqlmux_request *req) {
  int32_t id = cqlmux_stream_table_acquire(&c->streams, req);
  if (id < 0) {
    cqlmux_loop_timer_stop(c->loop, &req->timer);
    cqlmux_conn_complete_failure(c, req, CQLMUX_ERR_BUSY, "no free stream id on the connection");
    return;
  }
  int rc = cqlmux_conn_append_envelope(c, req->envelope.data, req->envelope.len, id);
  if (rc != CQLMUX_OK) {
    void *same;
    cqlmux_stream_table_complete(&c->streams, id, &same);
    cqlmux_loop_timer_stop(c->loop, &req->timer);
    cqlmux_conn_complete_failure(c, req, rc, "cannot buffer the request");
    return;
  }
  req->stream = id;
  req->sent = true;
  c->in_flight++;
  cqlmux_loop_hold_here(c->loop);
  if (c->in_flight >= c->settings->high_watermark) c->saturated = true;
  /* Pushing back: a growth of the buffer is charged now, not at the next
   * flush, so that the next request's check sees it. */
  if (c->budget_held) cqlmux_conn_hold_write_buffer(c);
  cqlmux_conn_schedule_flush(c);
}

/* Admission grants a connection the high watermark plus the queue, but
 * saturation keeps the queue shut until in-flight falls below the low
 * watermark: with the queue full and in-flight between the two marks, a
 * request admitted within that grant found no place and was refused with a
 * false BUSY (tests/faults/test_faults_stress.c). Below the high watermark
 * there is a place on the wire: the oldest waiting request takes it (order
 * kept), and `req` joins the queue; with no queue, `req` itself goes. */
static bool send_oldest_below_high_watermark(cqlmux_connection *c, cqlmux_request *req) {
  cqlmux_request *oldest = c->queue_head ? c->queue_head : req;
  if (c->state != CQLMUX_CONN_READY || c->in_flight >= c->settings->high_watermark ||
      write_buffer_over_budget(c, oldest))
    return false;
  if (c->switching_keyspace || write_backlog_full(c, oldest)) {
    /* There is a place on the wire, behind a USE's answer or what the
     * socket has not taken yet: `req` waits, past the queue's size.
     * Admission (high watermark + queue size) still bounds the requests
     * waiting. */
    queue_append(c, req);
    publish_load(c);
    return true;
  }
  if (oldest != req) {
    cqlmux_conn_queue_remove(c, oldest);
    queue_append(c, req);
  }
  send_request(c, oldest);
  publish_load(c);
  return true;
}

static void submit_ready(cqlmux_connection *c, cqlmux_request *req) {
  bool must_wait = c->state != CQLMUX_CONN_READY || c->saturated || c->switching_keyspace ||
                   c->queue_head || write_buffer_full(c, req);
  if (!must_wait) {
    send_request(c, req);
    publish_load(c);
    return;
  }
  if (c->queue_len >= c->settings->queue_size && send_oldest_below_high_watermark(c, req)) return;
  if (c->queue_len >= c->settings->queue_size) {
    cqlmux_loop_timer_stop(c->loop, &req->timer);
    stat_add(&c->stats.busy_rejections, 1);
    char message[160];
    snprintf(message, sizeof message,
             "busy: %u requests in flight and %u waiting on %s (queue size %u)", c->in_flight,
             c->queue_len, c->peer, c->settings->queue_size);
    cqlmux_conn_complete_failure(c, req, CQLMUX_ERR_BUSY, message);
    return;
  }
  queue_append(c, req);
  publish_load(c);
}

/* Below the low watermark the waiting requests go out, up to the high one. */
void cqlmux_conn_drain_queue(cqlmux_connection *c) {
  if (c->saturated && c->in_flight < c->settings->low_watermark) c->saturated = false;
  while (!c->saturated && !c->switching_keyspace && c->queue_head &&
         c->state == CQLMUX_CONN_READY && !write_buffer_full(c, c->queue_head)) {
    cqlmux_request *req = c->queue_head;
    cqlmux_conn_queue_remove(c, req);
    send_request(c, req);
  }
  publish_load(c);
}

/* ================================================================ reading */

static void dispatch(cqlmux_connection *c, const cqlmux_envelope *env, cqlmux_rbuf *buffer);

/* Decodes v4 per-envelope LZ4 into the scratch buffer when flagged. */
static bool unpack_body(cqlmux_connection *c, const cqlmux_envelope *env,
                        cqlmux_envelope *plain, cqlmux_rbuf **buffer) {
  *plain = *env;
  if (!(env->header.flags & CQLMUX_FLAG_COMPRESSION)) return true;
  cqlmux_wbuf_reset(&c->scratch);
  if (cqlmux_envelope_decompress_v4(env, &c->scratch, CQLMUX_ENVELOPE_MAX_BODY, plain) !=
      CQLMUX_OK) {
    cqlmux_connection_close(c, CQLMUX_ERR_COMPRESSION, "cannot decompress a response");
    return false;
  }
  *buffer = NULL; /* the body now lives in scratch, valid only for the call */
  return true;
}

static void deliver(cqlmux_connection *c, cqlmux_request *req, uint8_t opcode,
                    const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                    const cqlmux_body_prefix *prefix) {
  if (req->ops == &cqlmux_conn_internal_ops) {
    req->stream = -1;
    req->ops->on_response(req, c->version, opcode, body, len, buffer, prefix);
    return;
  }
  cqlmux_loop_timer_stop(c->loop, &req->timer);
  c->in_flight--;
  cqlmux_loop_release_here(c->loop);
  settle_here(c);
  req->ops->on_response(req, c->version, opcode, body, len, buffer, prefix);
}

static void dispatch(cqlmux_connection *c, const cqlmux_envelope *raw, cqlmux_rbuf *buffer) {
  cqlmux_envelope env;
  if (!unpack_body(c, raw, &env, &buffer)) return;
  cqlmux_body_prefix prefix;
  cqlmux_reader rest;
  if (cqlmux_envelope_body_prefix(&env, &prefix, &rest) != CQLMUX_OK) {
    cqlmux_conn_close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, "malformed response envelope prefix");
    return;
  }
  const uint8_t *body = rest.pos;
  size_t len = cqlmux_reader_remaining(&rest);
  if (env.header.stream < 0) {
    if (env.header.opcode == CQLMUX_OP_EVENT && c->events->on_event)
      c->events->on_event(c, body, len, c->owner);
    return;
  }
  void *request;
  switch (cqlmux_stream_table_complete(&c->streams, env.header.stream, &request)) {
  case CQLMUX_STREAM_LIVE:
    /* Only an envelope with a prefix pays for passing it on. */
    deliver(c, request, env.header.opcode, body, len, buffer,
            env.header.flags & CQLMUX_FLAGS_RESPONSE_PREFIX ? &prefix : NULL);
    return;
  case CQLMUX_STREAM_ORPHAN:
    return; /* the late answer to a timed-out request: dropped */
  case CQLMUX_STREAM_UNKNOWN:
    break;
  }
  char message[96];
  snprintf(message, sizeof message, "answer on stream %d, which no request uses",
           env.header.stream);
  cqlmux_conn_close_for_bad_input(c, CQLMUX_ERR_PROTOCOL, message);
}

/* How many more bytes the buffer needs before the next unit can decode. */
static size_t bytes_wanted(const cqlmux_connection *c) {
  const cqlmux_rbuf *b = c->rbuf;
  const uint8_t *p = b->data + b->start;
  size_t have = b->end - b->start;
  if (c->framing == CQLMUX_FRAMING_NONE) {
    if (have < CQLMUX_ENVELOPE_HEADER_SIZE) return CQLMUX_ENVELOPE_HEADER_SIZE;
    return CQLMUX_ENVELOPE_HEADER_SIZE + (size_t)cqlmux_load_u32(p + 5);
  }
  /* v5: the first 17 bits (little-endian) of either header are the length
   * of the payload as sent. */
  size_t header = c->framing == CQLMUX_FRAMING_V5_LZ4 ? CQLMUX_FRAME_V5_LZ4_HEADER_SIZE
                                                      : CQLMUX_FRAME_V5_HEADER_SIZE;
  if (have < header) return header;
  size_t payload = ((size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16) & 0x1FFFFu;
  return header + payload + CQLMUX_FRAME_V5_TRAILER_SIZE;
}

/* Free space to ask for before the next read: enough for the unit being
 * received, and at least a useful chunk. */
static size_t room_needed(const cqlmux_connection *c) {
  size_t have = c->rbuf->end - c->rbuf->start;
  size_t wanted = bytes_wanted(c);
  size_t missing = wanted > have ? wanted - have : 0;
  return missing > 4096 ? missing : 4096;
}

/* Decodes plain envelopes from the buffer. Returns false when closed. */
static bool decode_envelopes(cqlmux_connection *c) {
  cqlmux_rbuf *b = c->rbuf;
  while (c->state != CQLMUX_CONN_CLOSED) {
    cqlmux_envelope env;
    int n = cqlmux_envelope_decode(b->data + b->start, b->end - b->start, CQLMUX_DIR_RESPONSE,
                                   CQLMUX_ENVELOPE_MAX_BODY, &env);
    if (n == 0) return true;
    if (n < 0) {
      cqlmux_conn_close_for_bad_input(c, n, "bad response envelope");
      return false;
    }
    b->start += (size_t)n;
    dispatch(c, &env, b);
    /* The handshake may have switched to v5 framing, or to a new socket. */
    if (c->framing != CQLMUX_FRAMING_NONE || c->state == CQLMUX_CONN_CONNECTING)
      return c->state != CQLMUX_CONN_CLOSED;
  }
  return false;
}

/* Decodes v5 frames, then the envelopes each one completes. */
static bool decode_frames(cqlmux_connection *c) {
  cqlmux_rbuf *b = c->rbuf;
  while (c->state != CQLMUX_CONN_CLOSED) {
    cqlmux_slice envs;
    int n = cqlmux_frame_v5_decode(&c->decoder, b->data + b->start, b->end - b->start, &envs);
    if (n == 0) return true;
    if (n < 0) {
      cqlmux_conn_close_for_bad_input(c, n, "bad v5 frame");
      return false;
    }
    b->start += (size_t)n;
    bool in_buffer = envs.data >= b->data && envs.data < b->data + b->cap;
    size_t off = 0;
    while (off < envs.len && c->state != CQLMUX_CONN_CLOSED) {
      cqlmux_envelope env;
      int m = cqlmux_envelope_decode(envs.data + off, envs.len - off, CQLMUX_DIR_RESPONSE,
                                     CQLMUX_ENVELOPE_MAX_BODY, &env);
      if (m <= 0) {
        cqlmux_conn_close_for_bad_input(c, m < 0 ? m : CQLMUX_ERR_TRUNCATED,
                                        "bad envelope in a v5 frame");
        return false;
      }
      off += (size_t)m;
      dispatch(c, &env, in_buffer ? b : NULL);
    }
  }
  return false;
}

/* Decodes everything buffered; bytes after the STARTUP's answer may already
 * be v5 frames, so a switch of framing decodes the rest the new way. */
static bool decode_input(cqlmux_connection *c) {
  for (;;) {
    cqlmux_framing before = c->framing;
    bool ok = before == CQLMUX_FRAMING_NONE ? decode_envelopes(c) : decode_frames(c);
    if (!ok || c->framing == before || c->state == CQLMUX_CONN_CONNECTING) return ok;
  }
}

static ssize_t transport_recv(cqlmux_connection *c, uint8_t *p, size_t cap, unsigned *want) {
  if (!c->use_tls) {
    int sys_errno = 0;
    *want = CQLMUX_IO_READ;
    return cqlmux_socket_recv(c->fd, p, cap, &sys_errno);
  }
  cqlmux_io_want w;
  ssize_t rc = cqlmux_tls_recv(&c->tls, p, cap, &w);
  *want = w == CQLMUX_WANT_WRITE ? CQLMUX_IO_WRITE : CQLMUX_IO_READ;
  return rc;
}

/* Whether the callback workers are behind: see connection.h. */
static bool workers_behind(const cqlmux_connection *c) {
  if (!c->settings->workers || !c->settings->completion_bound) return false;
  return cqlmux_workers_depth(c->settings->workers) > c->settings->completion_bound;
}

/* Stops reading (writes go on) until the pause timer finds the workers
 * caught up. */
static void pause_reading(cqlmux_connection *c) {
  if (c->read_paused) return;
  c->read_paused = true;
  stat_add(&c->stats.read_pauses, 1);
  cqlmux_conn_watch_for(c, c->wsent < c->wbuf.len ? CQLMUX_IO_WRITE : 0);
  cqlmux_loop_timer_start(c->loop, &c->pause_timer, BACKPRESSURE_RECHECK_US);
}

static void read_input(cqlmux_connection *c);

void cqlmux_conn_on_pause_timer(cqlmux_timer *timer, int status) {
  cqlmux_connection *c = timer->user_data;
  if (status != CQLMUX_OK || c->state == CQLMUX_CONN_CLOSED) return;
  if (workers_behind(c)) {
    cqlmux_loop_timer_start(c->loop, &c->pause_timer, BACKPRESSURE_RECHECK_US);
    return;
  }
  c->read_paused = false;
  cqlmux_conn_watch_for(c, CQLMUX_IO_READ | (c->wsent < c->wbuf.len ? CQLMUX_IO_WRITE : 0));
  read_input(c);
}

/* Whether a read that returned `got` of `room` bytes emptied the socket. A
 * plain socket that filled less than the room offered had nothing more
 * queued; what arrives later is reported again by the watch, which is level
 * triggered in every backend. Stopping there saves the recv that would only
 * say EAGAIN: one system call of the three or four each wake-up costs at
 * low concurrency. TLS may hold decrypted bytes past the record it returned,
 * so it reads on until the library says so. */
static bool socket_drained(const cqlmux_connection *c, size_t got, size_t room) {
  return !c->use_tls && got < room;
}

static void read_input(cqlmux_connection *c) {
  size_t budget = READ_BUDGET_BYTES;
  while (c->state != CQLMUX_CONN_CLOSED && budget > 0) {
    if (c->state == CQLMUX_CONN_READY && workers_behind(c)) {
      pause_reading(c);
      return;
    }
    cqlmux_rbuf *b = cqlmux_rbuf_prepare(c->rbuf, room_needed(c), c->settings->read_buffer_size);
    if (!b) {
      cqlmux_connection_close(c, CQLMUX_ERR_NOMEM, "no memory for the receive buffer");
      return;
    }
    c->rbuf = b;
    unsigned want;
    size_t room = b->cap - b->end;
    ssize_t n = transport_recv(c, b->data + b->end, room, &want);
    if (n == CQLMUX_IO_AGAIN) {
      if (want == CQLMUX_IO_WRITE) cqlmux_conn_watch_for(c, CQLMUX_IO_READ | CQLMUX_IO_WRITE);
      return;
    }
    if (n < 0) {
      char message[96];
      snprintf(message, sizeof message, "%s closed the connection", c->peer);
      cqlmux_connection_close(c, CQLMUX_ERR_CONNECTION_CLOSED, message);
      return;
    }
    b->end += (size_t)n;
    budget = (size_t)n > budget ? 0 : budget - (size_t)n;
    stat_add(&c->stats.bytes_in, (unsigned long)n);
    c->last_read_us = cqlmux_loop_now_us(c->loop);
    if (!decode_input(c) || c->state == CQLMUX_CONN_CONNECTING) return;
    if (c->state == CQLMUX_CONN_READY) cqlmux_conn_drain_queue(c);
    if (socket_drained(c, (size_t)n, room)) return;
  }
}

void cqlmux_conn_on_io(cqlmux_io_watch *watch, unsigned events) {
  cqlmux_connection *c = watch->user_data;
  switch (c->state) {
  case CQLMUX_CONN_CONNECTING:
  case CQLMUX_CONN_TLS:
    cqlmux_conn_connect_step(c);
    return;
  case CQLMUX_CONN_CLOSED:
  case CQLMUX_CONN_NEW:
    return;
  default:
    break;
  }
  if (events & (CQLMUX_IO_READ | CQLMUX_IO_ERROR)) read_input(c);
  if (c->state != CQLMUX_CONN_CLOSED && (events & CQLMUX_IO_WRITE)) flush_and_drain(c);
}

/* Raw mode: the limit the driver is measured against.
 *
 * No driver: each connection does the protocol's handshake (STARTUP, and
 * PREPARE for prepared workloads) with blocking calls, then the workload's
 * request is encoded ONCE with lib/proto (stream id 0, v4 LZ4 applied) and,
 * for every request sent, copied into the output buffer with its stream id
 * patched (and, on v5, packed into frames with their CRCs, LZ4 when
 * negotiated: work the protocol requires of any client). Replies are only
 * counted and timed: their headers read (v5: frames checked and
 * decompressed), their bodies never decoded. The stream id of each reply is
 * sent again at once, so `concurrency` requests stay in flight.
 *
 * Threads: --io-threads threads, each running its share of --connections
 * with poll(2) over non-blocking sockets; a thread with a single request in
 * flight (ping-pong) uses blocking send/recv instead, the shortest round
 * trip. TLS and authentication are not supported here. */
#include "bench.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/arena.h"
#include "proto/envelope.h"
#include "proto/frame_v5.h"
#include "proto/request.h"
#include "proto/response.h"

#define IN_CAP (512u * 1024u)

typedef struct raw_conn {
  int fd;
  uint8_t version;
  bool lz4;
  cqlmux_framing framing;
  cqlmux_frame_v5_writer writer;
  cqlmux_frame_v5_decoder decoder;
  cqlmux_wbuf out;
  size_t out_sent;
  uint8_t *in;
  size_t in_start, in_end;
  cqlmux_wbuf request;   /* the workload's envelope, stream 0 */
  uint64_t *sent_us;     /* per stream id */
  uint8_t *pending;      /* per stream id: a request is out (replies are checked) */
  uint64_t unexpected;   /* replies on a stream with nothing out */
  unsigned streams;      /* this connection's share of the concurrency */
  unsigned in_flight;
  bool failed;
} raw_conn;

typedef struct raw_run {
  const bench_options *o;
  bench_counters counters;
  uint64_t limit;
  raw_conn *conns;
  unsigned nconns;
} raw_run;

typedef struct raw_thread {
  raw_run *run;
  unsigned first, count; /* its connections */
  pthread_t thread;
} raw_thread;

/* ------------------------------------------------------------ blocking I/O */

static int dial(const bench_options *o) {
  char port[16];
  snprintf(port, sizeof port, "%d", o->port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  if (getaddrinfo(o->host, port, &hints, &res) != 0 || !res) return -1;
  int fd = socket(res->ai_family, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  int one = 1;
  if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int send_all(raw_conn *c) {
  if (c->framing != CQLMUX_FRAMING_NONE && cqlmux_frame_v5_writer_flush(&c->writer) != CQLMUX_OK)
    return -1;
  while (c->out_sent < c->out.len) {
    ssize_t n = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    c->out_sent += (size_t)n;
  }
  cqlmux_wbuf_reset(&c->out);
  c->out_sent = 0;
  return 0;
}

/* Reads more bytes into the input buffer (compacting it first), waiting
 * for them when `wait`. Returns bytes read, 0 on would-block, -1 when the
 * connection is gone. */
static ssize_t fill(raw_conn *c, bool wait) {
  if (c->in_start > 0 && (c->in_start == c->in_end || c->in_end > IN_CAP / 2)) {
    memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
    c->in_end -= c->in_start;
    c->in_start = 0;
  }
  for (;;) {
    ssize_t n = recv(c->fd, c->in + c->in_end, IN_CAP - c->in_end, wait ? 0 : MSG_DONTWAIT);
    if (n > 0) {
      c->in_end += (size_t)n;
      return n;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return -1;
  }
}

/* Appends one envelope (whole, stream 0) with its stream id patched. */
static void enqueue(raw_conn *c, const uint8_t *env, size_t len, int16_t stream) {
  size_t at = 0;
  if (c->framing != CQLMUX_FRAMING_NONE) at = cqlmux_frame_v5_writer_begin(&c->writer);
  size_t start = c->out.len;
  cqlmux_write_raw(&c->out, env, len);
  if (!c->out.error) cqlmux_store_u16(c->out.data + start + 2, (uint16_t)stream);
  if (c->framing != CQLMUX_FRAMING_NONE) cqlmux_frame_v5_writer_end(&c->writer, at);
}

/* The next whole reply envelope, waiting for it (handshake only). Its body
 * is valid until the next read. v4 LZ4 bodies are decompressed. */
static int read_reply(raw_conn *c, cqlmux_envelope *env, cqlmux_wbuf *scratch) {
  for (;;) {
    const uint8_t *p = c->in + c->in_start;
    size_t have = c->in_end - c->in_start;
    int n;
    if (c->framing == CQLMUX_FRAMING_NONE) {
      n = cqlmux_envelope_decode(p, have, CQLMUX_DIR_RESPONSE, CQLMUX_ENVELOPE_MAX_BODY, env);
      if (n > 0) {
        c->in_start += (size_t)n;
        cqlmux_envelope raw = *env;
        return cqlmux_envelope_decompress_v4(&raw, scratch, CQLMUX_ENVELOPE_MAX_BODY, env);
      }
    } else {
      cqlmux_slice envs;
      n = cqlmux_frame_v5_decode(&c->decoder, p, have, &envs);
      if (n > 0) {
        c->in_start += (size_t)n;
        if (envs.len == 0) continue;
        int m = cqlmux_envelope_decode(envs.data, envs.len, CQLMUX_DIR_RESPONSE,
                                       CQLMUX_ENVELOPE_MAX_BODY, env);
        return m > 0 ? CQLMUX_OK : CQLMUX_ERR_PROTOCOL;
      }
    }
    if (n < 0) return n;
    if (fill(c, true) <= 0) return CQLMUX_ERR_CONNECTION_CLOSED;
  }
}

/* One request, one answer, blocking. *env as in read_reply. */
static int round_trip(raw_conn *c, const cqlmux_wbuf *request, cqlmux_envelope *env,
                      cqlmux_wbuf *scratch) {
  enqueue(c, request->data, request->len, 0);
  if (send_all(c) != 0) return CQLMUX_ERR_CONNECTION_CLOSED;
  return read_reply(c, env, scratch);
}

/* ------------------------------------------------------------ handshake */

static int startup(raw_conn *c, const bench_options *o, cqlmux_wbuf *scratch) {
  cqlmux_wbuf req;
  cqlmux_wbuf_init(&req, NULL, 0);
  cqlmux_request_header h = {.version = c->version};
  cqlmux_startup s = {.cql_version = "3.0.0", .compression = o->lz4 ? "lz4" : NULL,
                      .driver_name = "cqlmux-bench-raw"};
  cqlmux_request_startup(&req, &h, &s);
  cqlmux_envelope env;
  int rc = round_trip(c, &req, &env, scratch);
  cqlmux_wbuf_free(&req);
  if (rc != CQLMUX_OK) return rc;
  if (env.header.opcode != CQLMUX_OP_READY) {
    fprintf(stderr, "cqlmux-bench: raw mode: STARTUP answered with opcode 0x%02x (%s)\n",
            env.header.opcode,
            env.header.opcode == CQLMUX_OP_AUTHENTICATE ? "authentication is not supported in raw mode"
                                                        : "refused");
    return CQLMUX_ERR_PROTOCOL;
  }
  c->framing = cqlmux_framing_after_startup(c->version, env.header.opcode, o->lz4);
  if (c->framing != CQLMUX_FRAMING_NONE) {
    cqlmux_frame_v5_writer_init(&c->writer, &c->out, c->framing == CQLMUX_FRAMING_V5_LZ4, NULL);
    cqlmux_frame_v5_decoder_init(&c->decoder, c->framing == CQLMUX_FRAMING_V5_LZ4,
                                 CQLMUX_ENVELOPE_MAX_BODY, NULL);
  }
  return CQLMUX_OK;
}

/* PREPAREs the workload's statement and encodes the EXECUTE (or QUERY). */
static int build_request(raw_conn *c, const bench_options *o, cqlmux_wbuf *scratch) {
  bool compress = c->version < 5 && o->lz4;
  cqlmux_request_header h = {.version = c->version, .compress = compress};
  const char *cql = bench_workload_cql(o->workload);
  cqlmux_slice text = {(const uint8_t *)cql, strlen(cql)};
  cqlmux_bytes values[8];
  size_t n = bench_workload_values(o->workload, values, 8);
  /* The same parameters as an executed cqlmux_statement: consistency ONE,
   * the values, the default page size of 5000. */
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE, .values = values,
                           .value_count = (uint16_t)n, .has_page_size = true, .page_size = 5000};
  cqlmux_wbuf_init(&c->request, NULL, 0);
  if (!bench_workload_prepared(o->workload))
    return cqlmux_request_query(&c->request, &h, text, &p);
  cqlmux_wbuf req;
  cqlmux_wbuf_init(&req, NULL, 0);
  cqlmux_slice none = {NULL, 0};
  cqlmux_request_prepare(&req, &h, text, false, none);
  cqlmux_envelope env;
  int rc = round_trip(c, &req, &env, scratch);
  cqlmux_wbuf_free(&req);
  if (rc != CQLMUX_OK) return rc;
  cqlmux_body_prefix prefix;
  cqlmux_reader rest;
  cqlmux_arena arena;
  cqlmux_arena_init(&arena, NULL, NULL, 0);
  cqlmux_result_msg msg;
  if (env.header.opcode != CQLMUX_OP_RESULT ||
      cqlmux_envelope_body_prefix(&env, &prefix, &rest) != CQLMUX_OK ||
      cqlmux_result_decode(c->version, rest.pos, cqlmux_reader_remaining(&rest), &arena, &msg) !=
          CQLMUX_OK ||
      msg.kind != CQLMUX_RESULT_PREPARED) {
    fprintf(stderr, "cqlmux-bench: raw mode: PREPARE failed (opcode 0x%02x)\n", env.header.opcode);
    cqlmux_arena_free(&arena);
    return CQLMUX_ERR_PROTOCOL;
  }
  rc = cqlmux_request_execute(&c->request, &h, msg.prepared.id, msg.prepared.result_metadata_id, &p);
  cqlmux_arena_free(&arena);
  return rc;
}

static int conn_open(raw_conn *c, const bench_options *o, unsigned streams) {
  memset(c, 0, sizeof *c);
  c->version = (uint8_t)o->protocol;
  c->lz4 = o->lz4;
  c->streams = streams;
  cqlmux_wbuf_init(&c->out, NULL, 0);
  c->in = malloc(IN_CAP);
  c->sent_us = calloc(streams ? streams : 1, sizeof *c->sent_us);
  c->pending = calloc(streams ? streams : 1, 1);
  c->fd = dial(o);
  if (!c->in || !c->sent_us || !c->pending || c->fd < 0) {
    fprintf(stderr, "cqlmux-bench: raw mode: cannot connect to %s:%d\n", o->host, o->port);
    return 1;
  }
  cqlmux_wbuf scratch;
  cqlmux_wbuf_init(&scratch, NULL, 0);
  int rc = startup(c, o, &scratch);
  if (rc == CQLMUX_OK) rc = build_request(c, o, &scratch);
  cqlmux_wbuf_free(&scratch);
  if (rc != CQLMUX_OK) {
    fprintf(stderr, "cqlmux-bench: raw mode: handshake failed: %s\n", cqlmux_strerror(rc));
    return 1;
  }
  return 0;
}

static void conn_close(raw_conn *c) {
  if (c->fd >= 0) close(c->fd);
  if (c->framing != CQLMUX_FRAMING_NONE) {
    cqlmux_frame_v5_writer_free(&c->writer);
    cqlmux_frame_v5_decoder_free(&c->decoder);
  }
  cqlmux_wbuf_free(&c->out);
  cqlmux_wbuf_free(&c->request);
  free(c->in);
  free(c->sent_us);
  free(c->pending);
}

/* ------------------------------------------------------------ the run */

/* One more request allowed? (a ticket, only when the run is bounded) */
static bool may_send(raw_run *r) {
  if (atomic_load_explicit(&r->counters.stop, memory_order_relaxed)) return false; /* relaxed: a flag polled */
  if (r->limit == UINT64_MAX) return true;
  /* relaxed: a ticket counter. */
  return atomic_fetch_add_explicit(&r->counters.issued, 1, memory_order_relaxed) < r->limit;
}

static void send_stream(raw_conn *c, int16_t stream, uint64_t now) {
  enqueue(c, c->request.data, c->request.len, stream);
  c->sent_us[stream] = now;
  c->pending[stream] = 1;
  c->in_flight++;
}

/* Counts one reply envelope at p (len bytes available, whole). */
static void on_reply(raw_run *r, raw_conn *c, const uint8_t *p, uint64_t now, uint64_t from,
                     uint64_t until, uint64_t *ok) {
  int16_t stream = (int16_t)cqlmux_load_u16(p + 2);
  if (stream < 0) return; /* an event */
  if ((unsigned)stream >= c->streams || !c->pending[stream]) {
    c->unexpected++;
    return;
  }
  c->pending[stream] = 0;
  c->in_flight--;
  uint64_t sent = c->sent_us[stream];
  if (p[4] == CQLMUX_OP_ERROR)
    bench_complete(&r->counters, sent, now, CQLMUX_METRICS_ERR_SERVER_OTHER);
  else if (sent >= from && now <= until) {
    cqlmux_histogram_record(&r->counters.latency, now - sent);
    (*ok)++;
  } else {
    (*ok)++;
  }
  if (may_send(r)) send_stream(c, stream, now);
}

/* Decodes every whole reply buffered. Returns -1 on a protocol error. */
static int drain_input(raw_run *r, raw_conn *c, uint64_t now) {
  /* relaxed: window edges; see bench_complete. */
  uint64_t from = atomic_load_explicit(&r->counters.measure_from_us, memory_order_relaxed);
  uint64_t until = atomic_load_explicit(&r->counters.measure_until_us, memory_order_relaxed);
  uint64_t ok = 0;
  for (;;) {
    const uint8_t *p = c->in + c->in_start;
    size_t have = c->in_end - c->in_start;
    if (c->framing == CQLMUX_FRAMING_NONE) {
      if (have < CQLMUX_ENVELOPE_HEADER_SIZE) break;
      size_t total = CQLMUX_ENVELOPE_HEADER_SIZE + cqlmux_load_u32(p + 5);
      if (have < total) break;
      on_reply(r, c, p, now, from, until, &ok);
      c->in_start += total;
      continue;
    }
    cqlmux_slice envs;
    int n = cqlmux_frame_v5_decode(&c->decoder, p, have, &envs);
    if (n == 0) break;
    if (n < 0) return -1;
    c->in_start += (size_t)n;
    for (size_t off = 0; off + CQLMUX_ENVELOPE_HEADER_SIZE <= envs.len;) {
      on_reply(r, c, envs.data + off, now, from, until, &ok);
      off += CQLMUX_ENVELOPE_HEADER_SIZE + cqlmux_load_u32(envs.data + off + 5);
    }
  }
  if (ok) bench_complete_many(&r->counters, ok);
  return 0;
}

/* Sends what it can without blocking. Returns -1 when the socket failed. */
static int flush_some(raw_conn *c) {
  if (c->framing != CQLMUX_FRAMING_NONE && cqlmux_frame_v5_writer_flush(&c->writer) != CQLMUX_OK)
    return -1;
  while (c->out_sent < c->out.len) {
    ssize_t n = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n <= 0) return -1;
    c->out_sent += (size_t)n;
  }
  cqlmux_wbuf_reset(&c->out);
  c->out_sent = 0;
  return 0;
}

static void fail(raw_conn *c, const char *what) {
  if (!c->failed) fprintf(stderr, "cqlmux-bench: raw mode: %s\n", what);
  c->failed = true;
  c->in_flight = 0;
}

/* The single-request case: blocking send, blocking receive. */
static void run_ping_pong(raw_run *r, raw_conn *c) {
  while (c->in_flight > 0 && !c->failed) {
    if (send_all(c) != 0) return fail(c, "send failed");
    while (c->in_flight > 0) {
      if (fill(c, true) <= 0) return fail(c, "connection closed by the server");
      if (drain_input(r, c, bench_now_us()) != 0) return fail(c, "bad reply");
      if (c->out.len) break;
    }
  }
}

static void *thread_main(void *arg) {
  raw_thread *t = arg;
  raw_run *r = t->run;
  raw_conn *conns = r->conns + t->first;
  uint64_t now = bench_now_us();
  for (unsigned i = 0; i < t->count; i++)
    for (unsigned s = 0; s < conns[i].streams && may_send(r); s++)
      send_stream(&conns[i], (int16_t)s, now);
  if (t->count == 1 && conns[0].streams == 1) {
    run_ping_pong(r, &conns[0]);
    return NULL;
  }
  struct pollfd pfd[64];
  uint64_t stopped_at = 0;
  for (;;) {
    /* After the stop, replies still owed get 2 s to arrive. */
    if (!stopped_at && atomic_load(&r->counters.stop)) stopped_at = bench_now_us();
    if (stopped_at && bench_now_us() - stopped_at > 2000000) break;
    unsigned busy = 0;
    for (unsigned i = 0; i < t->count; i++) {
      raw_conn *c = &conns[i];
      if (c->failed || c->in_flight == 0) {
        pfd[i] = (struct pollfd){.fd = -1};
        continue;
      }
      busy++;
      if (flush_some(c) != 0) fail(c, "send failed");
      pfd[i] = (struct pollfd){.fd = c->fd, .events = (short)(POLLIN | (c->out.len ? POLLOUT : 0))};
    }
    if (!busy) break;
    if (poll(pfd, t->count, 100) < 0 && errno != EINTR) break;
    now = bench_now_us();
    for (unsigned i = 0; i < t->count; i++) {
      raw_conn *c = &conns[i];
      if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      ssize_t n;
      while ((n = fill(c, false)) > 0)
        if (drain_input(r, c, now) != 0) break;
      if (n < 0) fail(c, "connection closed by the server");
    }
  }
  return NULL;
}

static int open_all(raw_run *r, const bench_options *o) {
  r->nconns = o->connections;
  r->conns = calloc(r->nconns, sizeof *r->conns);
  if (!r->conns) return 1;
  for (unsigned i = 0; i < r->nconns; i++) r->conns[i].fd = -1;
  for (unsigned i = 0; i < r->nconns; i++) {
    unsigned share = o->concurrency / r->nconns + (i < o->concurrency % r->nconns);
    if (share > 32768) {
      fprintf(stderr, "cqlmux-bench: raw mode: at most 32768 in flight per connection\n");
      return 1;
    }
    if (conn_open(&r->conns[i], o, share) != 0) return 1;
  }
  return 0;
}

int bench_run_raw(const bench_options *o, bench_result *r) {
  if (o->tls) {
    fprintf(stderr, "cqlmux-bench: raw mode does not do TLS\n");
    return 1;
  }
  raw_run run = {.o = o};
  bench_counters_init(&run.counters);
  run.limit = bench_issue_limit(o);
  unsigned nthreads = o->io_threads < o->connections ? o->io_threads : o->connections;
  raw_thread *threads = calloc(nthreads, sizeof *threads);
  int failed = !threads || open_all(&run, o);
  if (!failed && run.nconns > 64 * nthreads) {
    fprintf(stderr, "cqlmux-bench: raw mode: at most 64 connections per thread\n");
    failed = 1;
  }
  if (!failed) {
    r->mode = "raw";
    r->protocol = o->protocol;
    r->lz4 = o->lz4;
    unsigned next = 0;
    for (unsigned i = 0; i < nthreads; i++) {
      threads[i].run = &run;
      threads[i].first = next;
      threads[i].count = run.nconns / nthreads + (i < run.nconns % nthreads);
      next += threads[i].count;
      pthread_create(&threads[i].thread, NULL, thread_main, &threads[i]);
    }
    bench_measure(o, &run.counters, r);
    for (unsigned i = 0; i < nthreads; i++) pthread_join(threads[i].thread, NULL);
    for (unsigned i = 0; i < run.nconns; i++) {
      failed |= run.conns[i].failed;
      if (run.conns[i].unexpected) {
        fprintf(stderr, "cqlmux-bench: raw mode: %llu replies on streams with no request out\n",
                (unsigned long long)run.conns[i].unexpected);
        failed = 1;
      }
    }
  }
  for (unsigned i = 0; run.conns && i < run.nconns; i++) conn_close(&run.conns[i]);
  free(run.conns);
  free(threads);
  bench_counters_destroy(&run.counters);
  return failed;
}

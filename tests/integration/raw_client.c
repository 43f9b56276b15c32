/* The blocking test client of raw_client.h: a socket, two byte buffers and
 * the codec. Received bytes flow
 *   socket -> in -> [v5: frame decoder -> pending] -> envelope decoder
 *          -> [v4: LZ4 decompression] -> a copy owned by the reply
 *          -> body prefix -> response decoder.
 * Requests flow request encoder -> [v5: frame writer] -> out -> socket. */
#include "raw_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Responses of the tests stay far below this; it only bounds a bad length. */
#define MAX_BODY (64u * 1024u * 1024u)
#define READ_CHUNK (64u * 1024u)

static int fail(raw_client *c, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->why, sizeof c->why, fmt, ap);
  va_end(ap);
  return rc;
}

static cqlmux_slice cstr(const char *s) { return cqlmux_slice_from_cstr(s); }

/* Unconsumed bytes of a buffer read from `off`. */
static const uint8_t *unread(const cqlmux_wbuf *b, size_t off) {
  return b->data ? b->data + off : NULL;
}

/* Drops the consumed front of b, so buffers do not grow across requests. */
static void compact(cqlmux_wbuf *b, size_t *off) {
  if (*off == 0) return;
  memmove(b->data, b->data + *off, b->len - *off);
  b->len -= *off;
  *off = 0;
}

/* ------------------------------------------------------------ socket */

static int send_out(raw_client *c) {
  size_t done = 0;
  c->sent_last = c->out.len;
  while (done < c->out.len) {
    ssize_t n = send(c->fd, c->out.data + done, c->out.len - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      c->out.len = 0;
      return fail(c, n < 0 && errno == EAGAIN ? CQLMUX_ERR_TIMEOUT : CQLMUX_ERR_CONNECTION_CLOSED,
                  "send: %s", n < 0 ? strerror(errno) : "nothing sent");
    }
    done += (size_t)n;
  }
  c->out.len = 0;
  return CQLMUX_OK;
}

static int read_more(raw_client *c) {
  compact(&c->in, &c->in_off);
  uint8_t *p = cqlmux_wbuf_reserve(&c->in, READ_CHUNK);
  if (!p) return fail(c, c->in.error, "receive buffer: %s", cqlmux_strerror(c->in.error));
  ssize_t n;
  do n = recv(c->fd, p, READ_CHUNK, 0);
  while (n < 0 && errno == EINTR);
  c->in.len -= READ_CHUNK - (n > 0 ? (size_t)n : 0);
  if (n > 0) return CQLMUX_OK;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return fail(c, CQLMUX_ERR_TIMEOUT, "no response within the socket timeout");
  return fail(c, CQLMUX_ERR_CONNECTION_CLOSED, "recv: %s", n ? strerror(errno) : "server closed");
}

/* ------------------------------------------------------------ receiving */

/* Whole envelopes in a frame's output (a bad one stops the count; the
 * envelope decoder reports it when its turn comes). */
static unsigned count_envelopes(cqlmux_slice envs) {
  unsigned count = 0;
  cqlmux_envelope e;
  int k;
  for (size_t off = 0; off < envs.len; off += (size_t)k, count++) {
    k = cqlmux_envelope_decode(envs.data + off, envs.len - off, CQLMUX_DIR_RESPONSE, MAX_BODY, &e);
    if (k <= 0) break;
  }
  return count;
}

/* Framed mode: decodes one frame from `in` and queues its envelopes.
 * Returns 1 when a frame was consumed, 0 when more bytes are needed. */
static int pull_frame(raw_client *c) {
  cqlmux_slice envs;
  int n = cqlmux_frame_v5_decode(&c->decoder, unread(&c->in, c->in_off), c->in.len - c->in_off,
                                 &envs);
  if (n < 0) return fail(c, n, "v5 frame decode: %s", cqlmux_strerror(n));
  if (n == 0) return 0;
  c->frames_last++;
  c->received_last += (size_t)n;
  if (envs.len == 0) c->partial_frames_last++;
  unsigned count = count_envelopes(envs);
  if (count > c->most_envelopes_per_frame_last) c->most_envelopes_per_frame_last = count;
  compact(&c->pending, &c->pending_off);
  cqlmux_write_raw(&c->pending, envs.data, envs.len);
  c->in_off += (size_t)n;
  if (c->pending.error) return fail(c, c->pending.error, "queueing envelopes");
  return 1;
}

/* The next whole envelope; its body points into a client buffer and is
 * valid until the next receive. */
static int next_envelope(raw_client *c, cqlmux_envelope *env) {
  for (;;) {
    bool framed = c->framing != CQLMUX_FRAMING_NONE;
    cqlmux_wbuf *src = framed ? &c->pending : &c->in;
    size_t *off = framed ? &c->pending_off : &c->in_off;
    int n = cqlmux_envelope_decode(unread(src, *off), src->len - *off, CQLMUX_DIR_RESPONSE,
                                   MAX_BODY, env);
    if (n < 0) return fail(c, n, "envelope decode: %s", cqlmux_strerror(n));
    if (n > 0) {
      *off += (size_t)n;
      if (!framed) c->received_last += (size_t)n;
      return CQLMUX_OK;
    }
    int rc = framed ? pull_frame(c) : 0;
    if (rc < 0) return rc;
    if (rc == 0 && (rc = read_more(c)) != CQLMUX_OK) return rc;
  }
}

/* Copies env (decompressed) into out and decodes it. */
static int build_reply(raw_client *c, const cqlmux_envelope *env, raw_reply *out) {
  cqlmux_envelope plain;
  int rc = cqlmux_envelope_decompress_v4(env, &c->scratch, MAX_BODY, &plain);
  if (rc) return fail(c, rc, "v4 LZ4 decompress: %s", cqlmux_strerror(rc));
  memset(out, 0, sizeof *out);
  cqlmux_wbuf_init(&out->bytes, NULL, 0);
  cqlmux_arena_init(&out->arena, NULL, NULL, 0);
  cqlmux_write_raw(&out->bytes, plain.body, plain.header.length);
  out->envelope.header = plain.header;
  out->envelope.body = out->bytes.data;
  cqlmux_reader rest;
  rc = out->bytes.error;
  if (!rc) rc = cqlmux_envelope_body_prefix(&out->envelope, &out->prefix, &rest);
  if (!rc)
    rc = cqlmux_response_decode(plain.header.version, plain.header.opcode, rest.pos,
                                cqlmux_reader_remaining(&rest), &out->arena, &out->msg);
  if (rc) {
    raw_reply_free(out);
    return fail(c, rc, "decoding response opcode 0x%02x: %s", plain.header.opcode,
                cqlmux_strerror(rc));
  }
  return CQLMUX_OK;
}

static void start_receiving(raw_client *c) {
  c->frames_last = c->partial_frames_last = c->most_envelopes_per_frame_last = 0;
  c->received_last = 0;
}

/* The next answer to one of our requests (events are skipped). */
static int next_answer(raw_client *c, cqlmux_envelope *env) {
  for (;;) {
    int rc = next_envelope(c, env);
    if (rc) return rc;
    if (env->header.stream == -1) continue; /* an event nobody registered for */
    if (env->header.version != c->version)
      return fail(c, CQLMUX_ERR_PROTOCOL, "answer in v%d to a v%d request", env->header.version,
                  c->version);
    c->compressed_last = env->header.flags & CQLMUX_FLAG_COMPRESSION;
    return CQLMUX_OK;
  }
}

static int receive(raw_client *c, int16_t stream, raw_reply *out) {
  start_receiving(c);
  cqlmux_envelope env;
  int rc = next_answer(c, &env);
  if (rc) return rc;
  if (env.header.stream != stream)
    return fail(c, CQLMUX_ERR_PROTOCOL, "answer on stream %d, expected %d", env.header.stream,
                stream);
  return build_reply(c, &env, out);
}

void raw_reply_free(raw_reply *r) {
  cqlmux_wbuf_free(&r->bytes);
  cqlmux_arena_free(&r->arena);
}

/* ------------------------------------------------------------ sending */

static cqlmux_request_header next_header(raw_client *c) {
  c->next_stream = (int16_t)(c->next_stream == INT16_MAX ? 1 : c->next_stream + 1);
  cqlmux_request_header h = {
      .version = c->version,
      .stream = c->next_stream,
      .flags = c->request_flags,
      /* v4 compresses envelopes, v5 whole frames */
      .compress = c->lz4 && c->version < CQLMUX_PROTO_V5,
  };
  return h;
}

static size_t begin_request(raw_client *c) {
  return c->framing == CQLMUX_FRAMING_NONE ? c->out.len : cqlmux_frame_v5_writer_begin(&c->writer);
}

/* After the encoder returned `rc`: frames, sends, and waits for the answer. */
static int finish_request(raw_client *c, size_t at, int rc, int16_t stream, const char *what,
                          raw_reply *out) {
  if (rc) return fail(c, rc, "encoding %s: %s", what, cqlmux_strerror(rc));
  if (c->framing != CQLMUX_FRAMING_NONE) {
    rc = cqlmux_frame_v5_writer_end(&c->writer, at);
    int flushed = cqlmux_frame_v5_writer_flush(&c->writer);
    if (!rc) rc = flushed;
    if (rc) {
      cqlmux_wbuf_reset(&c->out);
      return fail(c, rc, "framing %s: %s", what, cqlmux_strerror(rc));
    }
  }
  rc = send_out(c);
  return rc ? rc : receive(c, stream, out);
}

int raw_client_query(raw_client *c, const char *cql, const cqlmux_query_params *p,
                     raw_reply *out) {
  cqlmux_request_header h = next_header(c);
  size_t at = begin_request(c);
  int rc = cqlmux_request_query(&c->out, &h, cstr(cql), p);
  return finish_request(c, at, rc, h.stream, "QUERY", out);
}

int raw_client_prepare(raw_client *c, const char *cql, const char *keyspace, raw_reply *out) {
  cqlmux_request_header h = next_header(c);
  size_t at = begin_request(c);
  int rc = cqlmux_request_prepare(&c->out, &h, cstr(cql), keyspace != NULL,
                                  keyspace ? cstr(keyspace) : (cqlmux_slice){0});
  return finish_request(c, at, rc, h.stream, "PREPARE", out);
}

int raw_client_execute(raw_client *c, cqlmux_slice id, cqlmux_slice result_metadata_id,
                       const cqlmux_query_params *p, raw_reply *out) {
  cqlmux_request_header h = next_header(c);
  size_t at = begin_request(c);
  int rc = cqlmux_request_execute(&c->out, &h, id, result_metadata_id, p);
  return finish_request(c, at, rc, h.stream, "EXECUTE", out);
}

int raw_client_batch(raw_client *c, const cqlmux_batch_msg *b, raw_reply *out) {
  cqlmux_request_header h = next_header(c);
  size_t at = begin_request(c);
  int rc = cqlmux_request_batch(&c->out, &h, b);
  return finish_request(c, at, rc, h.stream, "BATCH", out);
}

/* Encodes the n QUERYs back to back into one frame (v5) or write. */
static int encode_queries(raw_client *c, const char *const *cql, size_t n, int16_t *streams) {
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE};
  for (size_t i = 0; i < n; i++) {
    cqlmux_request_header h = next_header(c);
    streams[i] = h.stream;
    size_t at = begin_request(c);
    int rc = cqlmux_request_query(&c->out, &h, cstr(cql[i]), &p);
    if (!rc && c->framing != CQLMUX_FRAMING_NONE) rc = cqlmux_frame_v5_writer_end(&c->writer, at);
    if (rc) return fail(c, rc, "encoding QUERY %zu: %s", i, cqlmux_strerror(rc));
  }
  int rc = c->framing == CQLMUX_FRAMING_NONE ? CQLMUX_OK : cqlmux_frame_v5_writer_flush(&c->writer);
  return rc ? fail(c, rc, "framing: %s", cqlmux_strerror(rc)) : CQLMUX_OK;
}

/* Receives n answers and files each under the request of its stream. */
static int collect(raw_client *c, const int16_t *streams, size_t n, raw_reply *out) {
  bool filled[RAW_CLIENT_PIPELINE_MAX] = {false};
  start_receiving(c);
  for (size_t got = 0; got < n; got++) {
    cqlmux_envelope env;
    int rc = next_answer(c, &env);
    size_t i = 0;
    while (!rc && i < n && (streams[i] != env.header.stream || filled[i])) i++;
    if (!rc && i == n)
      rc = fail(c, CQLMUX_ERR_PROTOCOL, "answer on unexpected stream %d", env.header.stream);
    if (!rc) rc = build_reply(c, &env, &out[i]);
    if (rc) {
      for (size_t j = 0; j < n; j++)
        if (filled[j]) raw_reply_free(&out[j]);
      return rc;
    }
    filled[i] = true;
  }
  return CQLMUX_OK;
}

int raw_client_query_pipelined(raw_client *c, const char *const *cql, size_t n,
                               raw_reply *out) {
  int16_t streams[RAW_CLIENT_PIPELINE_MAX];
  if (n == 0 || n > RAW_CLIENT_PIPELINE_MAX)
    return fail(c, CQLMUX_ERR_INVALID_ARGUMENT, "pipeline of %zu", n);
  int rc = encode_queries(c, cql, n, streams);
  if (rc) {
    /* close the frame the writer may hold open, then drop it unsent */
    if (c->framing != CQLMUX_FRAMING_NONE) cqlmux_frame_v5_writer_flush(&c->writer);
    cqlmux_wbuf_reset(&c->out);
    return rc;
  }
  rc = send_out(c);
  return rc ? rc : collect(c, streams, n, out);
}

/* ------------------------------------------------------------ handshake */

static bool list_has(const cqlmux_string_list *l, const char *want) {
  cqlmux_reader r = cqlmux_reader_make(l->raw.data, l->raw.len);
  cqlmux_slice s;
  while (cqlmux_string_list_next(&r, &s) == 1)
    if (s.len == strlen(want) && memcmp(s.data, want, s.len) == 0) return true;
  return false;
}

static int expect_opcode(raw_client *c, const raw_reply *r, uint8_t opcode, const char *what) {
  if (r->envelope.header.opcode == opcode) return CQLMUX_OK;
  if (r->envelope.header.opcode == CQLMUX_OP_ERROR)
    return fail(c, CQLMUX_ERR_SERVER, "%s answered ERROR 0x%04x: %.*s", what, r->msg.error.code,
                (int)r->msg.error.message.len, (const char *)r->msg.error.message.data);
  return fail(c, CQLMUX_ERR_PROTOCOL, "%s answered opcode 0x%02x", what,
              r->envelope.header.opcode);
}

/* OPTIONS -> SUPPORTED, which must offer our version (and lz4 if asked). */
static int options(raw_client *c) {
  cqlmux_request_header h = next_header(c);
  h.compress = false;
  raw_reply r;
  int rc = finish_request(c, 0, cqlmux_request_options(&c->out, &h), h.stream, "OPTIONS", &r);
  if (rc) return rc;
  rc = expect_opcode(c, &r, CQLMUX_OP_SUPPORTED, "OPTIONS");
  char version[16];
  snprintf(version, sizeof version, "%d/v%d", c->version, c->version);
  cqlmux_string_list l;
  if (!rc && (cqlmux_supported_find(&r.msg.supported, "PROTOCOL_VERSIONS", &l) ||
              !list_has(&l, version)))
    rc = fail(c, CQLMUX_ERR_UNSUPPORTED_VERSION, "SUPPORTED lacks PROTOCOL_VERSIONS %s", version);
  if (!rc && c->lz4 &&
      (cqlmux_supported_find(&r.msg.supported, "COMPRESSION", &l) || !list_has(&l, "lz4")))
    rc = fail(c, CQLMUX_ERR_COMPRESSION, "SUPPORTED lacks COMPRESSION lz4");
  raw_reply_free(&r);
  return rc;
}

/* SASL PLAIN: the token is "\0user\0password". */
static int authenticate(raw_client *c, const char *user, const char *password) {
  if (!user) return fail(c, CQLMUX_ERR_AUTH, "the server demands authentication; no user given");
  cqlmux_wbuf token;
  cqlmux_wbuf_init(&token, NULL, 0);
  cqlmux_write_u8(&token, 0);
  cqlmux_write_raw(&token, user, strlen(user));
  cqlmux_write_u8(&token, 0);
  cqlmux_write_raw(&token, password, strlen(password));
  cqlmux_request_header h = next_header(c);
  size_t at = begin_request(c);
  int rc = token.error ? token.error
                       : cqlmux_request_auth_response(
                             &c->out, &h, (cqlmux_bytes){token.data, (int32_t)token.len});
  cqlmux_wbuf_free(&token);
  raw_reply r;
  rc = finish_request(c, at, rc, h.stream, "AUTH_RESPONSE", &r);
  if (rc) return rc;
  rc = expect_opcode(c, &r, CQLMUX_OP_AUTH_SUCCESS, "AUTH_RESPONSE");
  raw_reply_free(&r);
  return rc;
}

/* STARTUP goes unframed; its answer decides the framing from then on. */
static int startup(raw_client *c, const char *user, const char *password) {
  cqlmux_startup s = {.compression = c->lz4 ? "lz4" : NULL,
                      .driver_name = "cqlmux-raw-test-client",
                      .driver_version = "0"};
  cqlmux_request_header h = next_header(c);
  raw_reply r;
  int rc = finish_request(c, 0, cqlmux_request_startup(&c->out, &h, &s), h.stream, "STARTUP", &r);
  if (rc) return rc;
  uint8_t answer = r.envelope.header.opcode;
  c->framing = cqlmux_framing_after_startup(c->version, answer, c->lz4);
  if (c->version >= CQLMUX_PROTO_V5 && c->framing == CQLMUX_FRAMING_NONE)
    rc = expect_opcode(c, &r, CQLMUX_OP_READY, "v5 STARTUP");
  else if (answer == CQLMUX_OP_AUTHENTICATE)
    rc = authenticate(c, user, password);
  else
    rc = expect_opcode(c, &r, CQLMUX_OP_READY, "STARTUP");
  raw_reply_free(&r);
  return rc;
}

static int open_socket(raw_client *c, const char *host, int port, int timeout_seconds) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
    return fail(c, CQLMUX_ERR_INVALID_ARGUMENT, "not an IPv4 address: %s", host);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0) return fail(c, CQLMUX_ERR_CONNECT_FAILED, "socket: %s", strerror(errno));
  struct timeval tv = {.tv_sec = timeout_seconds};
  int one = 1;
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
    return fail(c, CQLMUX_ERR_CONNECT_FAILED,
                "no Cassandra at %s:%d (%s): start one with tools/cassandra-local start", host,
                port, strerror(errno));
  return CQLMUX_OK;
}

int raw_client_connect(raw_client *c, const char *host, int port, uint8_t version, bool lz4,
                       int timeout_seconds, const char *user, const char *password) {
  memset(c, 0, sizeof *c);
  c->fd = -1;
  c->version = version;
  c->lz4 = lz4;
  cqlmux_wbuf_init(&c->out, NULL, 0);
  cqlmux_wbuf_init(&c->in, NULL, 0);
  cqlmux_wbuf_init(&c->pending, NULL, 0);
  cqlmux_wbuf_init(&c->scratch, NULL, 0);
  cqlmux_frame_v5_writer_init(&c->writer, &c->out, lz4, NULL);
  cqlmux_frame_v5_decoder_init(&c->decoder, lz4, MAX_BODY, NULL);
  int rc = open_socket(c, host, port, timeout_seconds);
  if (!rc) rc = options(c);
  if (!rc) rc = startup(c, user, password);
  if (rc) {
    char why[sizeof c->why];
    memcpy(why, c->why, sizeof why);
    raw_client_close(c);
    memcpy(c->why, why, sizeof why);
  }
  return rc;
}

void raw_client_close(raw_client *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  cqlmux_wbuf_free(&c->out);
  cqlmux_wbuf_free(&c->in);
  cqlmux_wbuf_free(&c->pending);
  cqlmux_wbuf_free(&c->scratch);
  cqlmux_frame_v5_writer_free(&c->writer);
  cqlmux_frame_v5_decoder_free(&c->decoder);
}

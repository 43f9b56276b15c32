/* The mock's blocking test client (see mock_client.h). */
#include "config.h"

#include "mock/mock_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/opcode.h"

int mock_client_connect(mock_client *c, const char *address, uint16_t port, uint8_t version) {
  memset(c, 0, sizeof *c);
  c->version = version;
  cqlmux_wbuf_init(&c->in, NULL, 0);
  cqlmux_wbuf_init(&c->envs, NULL, 0);
  cqlmux_wbuf_init(&c->msg, NULL, 0);
  cqlmux_wbuf_init(&c->scratch, NULL, 0);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -errno;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, address, &sa.sin_addr);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    int err = errno;
    close(c->fd);
    c->fd = -1;
    return -err;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return 0;
}

void mock_client_close(mock_client *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  if (c->framed) cqlmux_frame_v5_decoder_free(&c->fdec);
  c->framed = false;
  cqlmux_wbuf_free(&c->in);
  cqlmux_wbuf_free(&c->envs);
  cqlmux_wbuf_free(&c->msg);
  cqlmux_wbuf_free(&c->scratch);
}

int mock_client_send_raw(mock_client *c, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t k = send(c->fd, b, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return CQLMUX_ERR_CONNECTION_CLOSED;
    b += k;
    n -= (size_t)k;
  }
  return CQLMUX_OK;
}

/* Length of the request envelope at p (it is whole: we encoded it). */
static size_t envelope_size(const uint8_t *p) {
  return CQLMUX_ENVELOPE_HEADER_SIZE + cqlmux_load_u32(p + 5);
}

/* Packs whole envelopes into self-contained frames; one larger than a
 * frame goes alone as a run of non-self-contained frames. */
static int frame_all(mock_client *c, const uint8_t *p, size_t n, cqlmux_wbuf *out) {
  size_t off = 0;
  while (off < n) {
    size_t first = envelope_size(p + off);
    if (first > CQLMUX_FRAME_V5_MAX_PAYLOAD) {
      for (size_t done = 0; done < first;) {
        size_t part = first - done < CQLMUX_FRAME_V5_MAX_PAYLOAD ? first - done
                                                                 : CQLMUX_FRAME_V5_MAX_PAYLOAD;
        int rc = cqlmux_frame_v5_append(out, c->lz4, false, p + off + done, part);
        if (rc) return rc;
        done += part;
      }
      off += first;
      continue;
    }
    size_t len = 0;
    while (off + len < n && len + envelope_size(p + off + len) <= CQLMUX_FRAME_V5_MAX_PAYLOAD)
      len += envelope_size(p + off + len);
    int rc = cqlmux_frame_v5_append(out, c->lz4, true, p + off, len);
    if (rc) return rc;
    off += len;
  }
  return CQLMUX_OK;
}

int mock_client_send(mock_client *c, const cqlmux_wbuf *b) {
  if (b->error) return b->error;
  if (!c->framed) return mock_client_send_raw(c, b->data, b->len);
  cqlmux_wbuf frames;
  cqlmux_wbuf_init(&frames, NULL, 0);
  int rc = frame_all(c, b->data, b->len, &frames);
  if (!rc) rc = mock_client_send_raw(c, frames.data, frames.len);
  cqlmux_wbuf_free(&frames);
  return rc;
}

size_t mock_client_buffered(const mock_client *c) { return c->in.len - c->in_off; }

static int read_more(mock_client *c, int timeout_ms) {
  struct pollfd pfd = {c->fd, POLLIN, 0};
  int n = poll(&pfd, 1, timeout_ms);
  if (n == 0) return CQLMUX_ERR_TIMEOUT;
  if (n < 0) return errno == EINTR ? CQLMUX_OK : CQLMUX_ERR_CONNECTION_CLOSED;
  uint8_t *p = cqlmux_wbuf_reserve(&c->in, 65536);
  if (!p) return CQLMUX_ERR_NOMEM;
  ssize_t k = read(c->fd, p, 65536);
  c->in.len -= 65536 - (k > 0 ? (size_t)k : 0);
  if (k < 0 && errno == EINTR) return CQLMUX_OK;
  return k > 0 ? CQLMUX_OK : CQLMUX_ERR_CONNECTION_CLOSED;
}

/* Copies the envelope into c->msg so its body outlives the input buffers. */
static int take(mock_client *c, const cqlmux_envelope *env, mock_reply *out) {
  cqlmux_envelope plain = *env;
  if ((env->header.flags & CQLMUX_FLAG_COMPRESSION) && env->header.version < 5) {
    int rc = cqlmux_envelope_decompress_v4(env, &c->scratch, CQLMUX_ENVELOPE_MAX_BODY, &plain);
    if (rc) return rc;
  }
  cqlmux_wbuf_reset(&c->msg);
  cqlmux_write_raw(&c->msg, plain.body, plain.header.length);
  if (c->msg.error) return c->msg.error;
  out->h = plain.header;
  out->body = c->msg.data;
  out->len = plain.header.length;
  if (c->startup_pending &&
      (out->h.opcode == CQLMUX_OP_READY || out->h.opcode == CQLMUX_OP_AUTHENTICATE)) {
    c->startup_pending = false;
    if (out->h.version >= 5) {
      cqlmux_frame_v5_decoder_init(&c->fdec, c->lz4, CQLMUX_ENVELOPE_MAX_BODY, NULL);
      c->framed = true;
    }
  }
  return CQLMUX_OK;
}

/* One step of parsing what is buffered: 1 = *out set, 0 = need bytes. */
static int parse_one(mock_client *c, mock_reply *out) {
  if (c->envs_off < c->envs.len) {
    cqlmux_envelope env;
    int rc = cqlmux_envelope_decode(c->envs.data + c->envs_off, c->envs.len - c->envs_off,
                                    CQLMUX_DIR_RESPONSE, CQLMUX_ENVELOPE_MAX_BODY, &env);
    if (rc <= 0) return rc ? rc : CQLMUX_ERR_MALFORMED;
    c->envs_off += (size_t)rc;
    rc = take(c, &env, out);
    return rc ? rc : 1;
  }
  const uint8_t *p = c->in.data + c->in_off;
  size_t n = c->in.len - c->in_off;
  if (!n) return 0;
  if (!c->framed) {
    cqlmux_envelope env;
    int rc = cqlmux_envelope_decode(p, n, CQLMUX_DIR_RESPONSE, CQLMUX_ENVELOPE_MAX_BODY, &env);
    if (rc <= 0) return rc;
    c->in_off += (size_t)rc;
    rc = take(c, &env, out);
    return rc ? rc : 1;
  }
  cqlmux_slice envs;
  int rc = cqlmux_frame_v5_decode(&c->fdec, p, n, &envs);
  if (rc <= 0) return rc;
  c->in_off += (size_t)rc;
  cqlmux_wbuf_reset(&c->envs);
  c->envs_off = 0;
  cqlmux_write_raw(&c->envs, envs.data, envs.len);
  return parse_one(c, out);
}

int mock_client_recv(mock_client *c, mock_reply *out, int timeout_ms) {
  for (;;) {
    int rc = parse_one(c, out);
    if (rc == 1) return CQLMUX_OK;
    if (rc < 0) return rc;
    rc = read_more(c, timeout_ms);
    if (rc) return rc;
  }
}

/* ------------------------------------------------------------ requests */

cqlmux_request_header mock_client_header(const mock_client *c, int16_t stream) {
  cqlmux_request_header h;
  memset(&h, 0, sizeof h);
  h.version = c->version;
  h.stream = stream;
  h.compress = c->lz4 && c->version < 5;
  return h;
}

static cqlmux_slice cs(const char *s) {
  cqlmux_slice v = {(const uint8_t *)s, strlen(s)};
  return v;
}

typedef int (*encode_fn)(mock_client *c, cqlmux_wbuf *b, const void *arg, int16_t stream);

static int send_one(mock_client *c, int16_t stream, encode_fn fn, const void *arg) {
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  int rc = fn(c, &b, arg, stream);
  if (!rc) rc = mock_client_send(c, &b);
  cqlmux_wbuf_free(&b);
  return rc;
}

static int enc_options(mock_client *c, cqlmux_wbuf *b, const void *arg, int16_t stream) {
  (void)arg;
  cqlmux_request_header h = mock_client_header(c, stream);
  return cqlmux_request_options(b, &h);
}

int mock_client_options(mock_client *c, int16_t stream) {
  return send_one(c, stream, enc_options, NULL);
}

static int enc_startup(mock_client *c, cqlmux_wbuf *b, const void *arg, int16_t stream) {
  cqlmux_request_header h = mock_client_header(c, stream);
  cqlmux_startup s;
  memset(&s, 0, sizeof s);
  s.compression = arg;
  s.driver_name = "cqlmux mock test client";
  return cqlmux_request_startup(b, &h, &s);
}

int mock_client_startup(mock_client *c, int16_t stream, const char *compression) {
  int rc = send_one(c, stream, enc_startup, compression);
  c->lz4 = compression != NULL;
  c->startup_pending = true;
  return rc;
}

typedef struct query_arg {
  const char *query;
  uint16_t consistency;
} query_arg;

static int enc_query(mock_client *c, cqlmux_wbuf *b, const void *arg, int16_t stream) {
  const query_arg *q = arg;
  cqlmux_request_header h = mock_client_header(c, stream);
  cqlmux_query_params p;
  memset(&p, 0, sizeof p);
  p.consistency = q->consistency;
  return cqlmux_request_query(b, &h, cs(q->query), &p);
}

int mock_client_query(mock_client *c, int16_t stream, const char *query, uint16_t consistency) {
  query_arg q = {query, consistency};
  return send_one(c, stream, enc_query, &q);
}

typedef struct register_arg {
  const char *const *events;
  uint16_t n;
} register_arg;

static int enc_register(mock_client *c, cqlmux_wbuf *b, const void *arg, int16_t stream) {
  const register_arg *r = arg;
  cqlmux_slice ev[8];
  for (uint16_t i = 0; i < r->n && i < 8; i++) ev[i] = cs(r->events[i]);
  cqlmux_request_header h = mock_client_header(c, stream);
  return cqlmux_request_register(b, &h, ev, r->n);
}

int mock_client_register(mock_client *c, int16_t stream, const char *const *events, uint16_t n) {
  register_arg r = {events, n};
  return send_one(c, stream, enc_register, &r);
}

static int enc_prepare(mock_client *c, cqlmux_wbuf *b, const void *arg, int16_t stream) {
  cqlmux_request_header h = mock_client_header(c, stream);
  cqlmux_slice none = {NULL, 0};
  return cqlmux_request_prepare(b, &h, cs(arg), false, none);
}

int mock_client_prepare(mock_client *c, int16_t stream, const char *query) {
  return send_one(c, stream, enc_prepare, query);
}

typedef struct execute_arg {
  cqlmux_slice id, result_metadata_id;
  const cqlmux_query_params *params;
} execute_arg;

static int enc_execute(mock_client *c, cqlmux_wbuf *b, const void *arg, int16_t stream) {
  const execute_arg *e = arg;
  cqlmux_request_header h = mock_client_header(c, stream);
  return cqlmux_request_execute(b, &h, e->id, e->result_metadata_id, e->params);
}

int mock_client_execute_params(mock_client *c, int16_t stream, cqlmux_slice id,
                               cqlmux_slice result_metadata_id, const cqlmux_query_params *p) {
  execute_arg e = {id, result_metadata_id, p};
  return send_one(c, stream, enc_execute, &e);
}

int mock_client_execute(mock_client *c, int16_t stream, const uint8_t *id, size_t id_len,
                        uint16_t consistency) {
  cqlmux_query_params p;
  memset(&p, 0, sizeof p);
  p.consistency = consistency;
  cqlmux_slice s = {id, id_len};
  return mock_client_execute_params(c, stream, s, s, &p);
}

static int enc_auth(mock_client *c, cqlmux_wbuf *b, const void *arg, int16_t stream) {
  const cqlmux_slice *token = arg;
  cqlmux_request_header h = mock_client_header(c, stream);
  cqlmux_bytes t = {token->data, (int32_t)token->len};
  return cqlmux_request_auth_response(b, &h, t);
}

int mock_client_handshake(mock_client *c, const char *compression, const char *user,
                          const char *password, int32_t *error_code) {
  mock_reply r;
  int rc = mock_client_startup(c, 0, compression);
  if (!rc) rc = mock_client_recv(c, &r, 5000);
  if (rc) return rc;
  if (r.h.opcode == CQLMUX_OP_AUTHENTICATE && user) {
    uint8_t token[256];
    size_t ul = strlen(user), pl = strlen(password);
    if (ul + pl + 2 > sizeof token) return CQLMUX_ERR_INVALID_ARGUMENT;
    token[0] = 0;
    memcpy(token + 1, user, ul);
    token[1 + ul] = 0;
    memcpy(token + 2 + ul, password, pl);
    cqlmux_slice t = {token, ul + pl + 2};
    rc = send_one(c, 0, enc_auth, &t);
    if (!rc) rc = mock_client_recv(c, &r, 5000);
    if (rc) return rc;
  }
  if (r.h.opcode == CQLMUX_OP_READY || r.h.opcode == CQLMUX_OP_AUTH_SUCCESS) return CQLMUX_OK;
  if (r.h.opcode == CQLMUX_OP_ERROR && error_code) *error_code = mock_reply_error(&r, NULL, 0);
  return CQLMUX_ERR_SERVER;
}

int32_t mock_reply_error(const mock_reply *r, char *msg, size_t cap) {
  cqlmux_reader rd = cqlmux_reader_make(r->body, r->len);
  int32_t code = -1;
  cqlmux_slice s = {NULL, 0};
  cqlmux_read_i32(&rd, &code);
  cqlmux_read_string(&rd, &s);
  if (msg && cap) {
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n) memcpy(msg, s.data, n);
    msg[n] = '\0';
  }
  return code;
}

int32_t mock_reply_result_kind(const mock_reply *r) {
  cqlmux_reader rd = cqlmux_reader_make(r->body, r->len);
  int32_t kind = -1;
  cqlmux_read_i32(&rd, &kind);
  return kind;
}

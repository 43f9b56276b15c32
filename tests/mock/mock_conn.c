/* One client connection of the mock: socket I/O, cutting the byte stream
 * into envelopes (plain, or inside v5 frames once STARTUP is answered), and
 * writing answers with whatever mangling the fault engine asked for.
 * Everything here runs on the connection's loop thread. */
#include "config.h"

#include "mock/mock_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/envelope.h"

#define READ_CHUNK 65536u
/* Per readable event, so that one busy client cannot starve the others. */
#define READ_BUDGET (1024u * 1024u)

mock_resp *mock_resp_new(int16_t stream, uint8_t opcode, const uint8_t *body, size_t len) {
  mock_resp *r = mock_xcalloc(1, sizeof *r + len);
  r->stream = stream;
  r->opcode = opcode;
  r->len = len;
  if (len) memcpy(r->body, body, len);
  return r;
}

static void close_later(mock_conn *c, uint32_t delay_ms);

static void conn_update_epoll(mock_conn *c) {
  uint32_t ev = EPOLLRDHUP | (c->reading ? EPOLLIN : 0u) | (c->want_write ? EPOLLOUT : 0u);
  mock_epoll_set(c->loop, &c->watch, ev, false);
}

mock_conn *mock_conn_new(mock_loop *loop, int fd, int node, int64_t id) {
  mock_conn *c = mock_xcalloc(1, sizeof *c);
  c->watch.kind = MOCK_WATCH_CONN;
  c->watch.fd = fd;
  c->loop = loop;
  c->id = id;
  c->node = node;
  cqlmux_wbuf_init(&c->in, NULL, 0);
  cqlmux_wbuf_init(&c->out, NULL, 0);
  cqlmux_wbuf_init(&c->scratch, NULL, 0);
  c->next = loop->conns;
  if (c->next) c->next->prev = c;
  loop->conns = c;
  mock_epoll_set(loop, &c->watch, EPOLLRDHUP, true);
  return c;
}

void mock_conn_free(mock_conn *c) {
  while (c->held) {
    mock_resp *r = c->held;
    c->held = r->next;
    mock_free(r);
  }
  cqlmux_wbuf_free(&c->in);
  cqlmux_wbuf_free(&c->out);
  cqlmux_wbuf_free(&c->scratch);
  if (c->framed_in) cqlmux_frame_v5_decoder_free(&c->fdec);
  if (c->framed_out) cqlmux_frame_v5_writer_free(&c->fw);
  mock_free(c);
}

void mock_conn_close(mock_conn *c, bool by_server, bool reset) {
  if (c->dead) return;
  c->dead = true;
  if (reset) {
    struct linger lg = {1, 0};
    setsockopt(c->watch.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  close(c->watch.fd);
  mock_timer_cancel_conn(c->loop, c);
  cqlmux_mock *m = c->loop->server;
  pthread_mutex_lock(&m->mu);
  mock_conn_record *rec = mock_conn_record_get(m, c->id);
  if (rec) {
    rec->pub.requests = c->requests;
    rec->pub.closed_us = mock_now_us();
    rec->pub.closed_by_server = by_server;
  }
  pthread_cond_broadcast(&m->cv);
  pthread_mutex_unlock(&m->mu);
  c->grave_next = c->loop->graveyard;
  c->loop->graveyard = c;
}

void mock_conn_refresh(mock_conn *c) {
  cqlmux_mock *m = c->loop->server;
  pthread_mutex_lock(&m->mu);
  bool up = m->nodes[c->node].up;
  bool stopped = mock_faults_stop_reading(m, c->node, c->id);
  pthread_mutex_unlock(&m->mu);
  if (!up) {
    mock_conn_close(c, true, false);
    return;
  }
  bool want = !stopped && !c->closing;
  if (want == c->reading) return;
  c->reading = want;
  conn_update_epoll(c);
  /* Bytes read before a pause are still waiting in the buffer. */
  if (want) mock_conn_parse(c);
}

/* ------------------------------------------------------------ reading */

void mock_conn_parse(mock_conn *c) {
  c->in_batch = true;
  while (!c->dead && c->reading && !c->closing && c->in_off < c->in.len) {
    const uint8_t *p = c->in.data + c->in_off;
    size_t n = c->in.len - c->in_off;
    int rc;
    if (!c->framed_in) {
      rc = mock_handle_bytes(c, p, n);
    } else {
      cqlmux_slice envs;
      rc = cqlmux_frame_v5_decode(&c->fdec, p, n, &envs);
      if (rc > 0) mock_handle_frame(c, envs.data, envs.len);
      if (rc < 0) mock_handle_bad_frame(c, rc);
    }
    if (rc <= 0) break;
    c->in_off += (size_t)rc;
  }
  c->in_batch = false;
  if (!c->dead && c->held && c->held_window == 0) mock_conn_release_held(c);
  /* Drop what was parsed; keep a partial message at the front. */
  if (c->in_off == c->in.len) {
    c->in.len = 0;
    c->in_off = 0;
  } else if (c->in_off > c->in.len / 2) {
    memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
    c->in.len -= c->in_off;
    c->in_off = 0;
  }
}

void mock_conn_on_readable(mock_conn *c) {
  size_t total = 0;
  bool eof = false;
  while (total < READ_BUDGET) {
    uint8_t *p = cqlmux_wbuf_reserve(&c->in, READ_CHUNK);
    mock_wbuf_check(&c->in);
    ssize_t n = read(c->watch.fd, p, READ_CHUNK);
    c->in.len -= READ_CHUNK - (n > 0 ? (size_t)n : 0);
    if (n > 0) {
      total += (size_t)n;
      continue;
    }
    if (n == 0) {
      eof = true;
    } else if (errno == EINTR) {
      continue;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      eof = true;
    }
    break;
  }
  mock_conn_parse(c);
  if (eof && !c->dead) mock_conn_close(c, false, false);
}

/* ------------------------------------------------------------ writing */

void mock_conn_on_writable(mock_conn *c) { mock_conn_flush(c); }

void mock_conn_flush(mock_conn *c) {
  if (c->dead) return;
  if (c->framed_out) cqlmux_frame_v5_writer_flush(&c->fw);
  mock_wbuf_check(&c->out);
  while (c->out_off < c->out.len) {
    ssize_t n = send(c->watch.fd, c->out.data + c->out_off, c->out.len - c->out_off,
                     MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->want_write) {
        c->want_write = true;
        conn_update_epoll(c);
      }
      return;
    }
    mock_conn_close(c, false, false); /* the client went away */
    return;
  }
  c->out.len = 0;
  c->out_off = 0;
  if (c->want_write) {
    c->want_write = false;
    conn_update_epoll(c);
  }
  if (c->closing && !c->close_timer) mock_conn_close(c, true, false);
}

void mock_conn_start_framing(mock_conn *c, bool out) {
  if (out) {
    cqlmux_frame_v5_writer_init(&c->fw, &c->out, c->lz4, NULL);
    c->framed_out = true;
  } else {
    cqlmux_frame_v5_decoder_init(&c->fdec, c->lz4, CQLMUX_ENVELOPE_MAX_BODY, NULL);
    c->framed_in = true;
  }
}

/* Appends one envelope (header + body, v4 LZ4 when negotiated) to b. A
 * malformed answer gets a RESULT kind no server sends instead of its body. */
static void encode_envelope(mock_conn *c, cqlmux_wbuf *b, uint8_t version, uint8_t flags,
                            int16_t stream, uint8_t opcode, const uint8_t *body, size_t len,
                            bool malformed) {
  cqlmux_envelope_header h = {.version = version ? version : (uint8_t)c->version,
                              .flags = flags,
                              .stream = stream,
                              .opcode = opcode,
                              .response = true};
  size_t at = cqlmux_envelope_begin(b, &h);
  if (malformed)
    cqlmux_write_i32(b, 0x7FFFFFFF);
  else
    cqlmux_write_raw(b, body, len);
  cqlmux_envelope_finish(b, at);
  if (c->lz4 && !c->framed_out && h.version < 5) cqlmux_envelope_compress_v4(b, at);
  mock_wbuf_check(b);
}

static void encode_resp(mock_conn *c, cqlmux_wbuf *b, const mock_resp *r, int16_t stream,
                        uint8_t opcode) {
  size_t at = b->len;
  encode_envelope(c, b, r->version, r->flags, stream, opcode, r->body, r->len,
                  r->mangle == MOCK_MANGLE_MALFORMED);
  if (r->mangle == MOCK_MANGLE_OVERSIZED && !b->error)
    cqlmux_store_u32(b->data + at + 5, r->mangle_arg ? r->mangle_arg : 0x7FFFFFFFu);
}

void mock_conn_emit_body(mock_conn *c, uint8_t version, int16_t stream, uint8_t opcode,
                         const uint8_t *body, size_t len) {
  if (c->dead || c->closing) return;
  if (c->framed_out) {
    size_t at = cqlmux_frame_v5_writer_begin(&c->fw);
    encode_envelope(c, &c->out, version, 0, stream, opcode, body, len, false);
    cqlmux_frame_v5_writer_end(&c->fw, at);
  } else {
    encode_envelope(c, &c->out, version, 0, stream, opcode, body, len, false);
  }
  mock_loop_mark_dirty(c->loop, c);
}

void mock_conn_emit_raw(mock_conn *c, const uint8_t *p, size_t n, bool close_after) {
  if (c->dead || c->closing) return;
  cqlmux_write_raw(&c->out, p, n);
  mock_wbuf_check(&c->out);
  if (close_after) close_later(c, 0);
  mock_loop_mark_dirty(c->loop, c);
}

/* Mangled v5 answers travel alone in a frame built here, so the checksum
 * or length can be spoiled without touching the other answers. */
static void emit_lone_frame(mock_conn *c, const mock_resp *r, int16_t stream, uint8_t opcode) {
  cqlmux_frame_v5_writer_flush(&c->fw);
  cqlmux_wbuf env;
  cqlmux_wbuf_init(&env, NULL, 0);
  encode_resp(c, &env, r, stream, opcode);
  size_t at = c->out.len;
  /* An oversized claim goes in a frame marked as the start of a large
   * envelope: inside a self-contained frame it would read as malformed. */
  cqlmux_frame_v5_append(&c->out, c->lz4, r->mangle != MOCK_MANGLE_OVERSIZED, env.data, env.len);
  cqlmux_wbuf_free(&env);
  mock_wbuf_check(&c->out);
  size_t header = c->lz4 ? CQLMUX_FRAME_V5_LZ4_HEADER_SIZE : CQLMUX_FRAME_V5_HEADER_SIZE;
  if (r->mangle == MOCK_MANGLE_BAD_CRC) c->out.data[c->out.len - 1] ^= 0x5A;
  if (r->mangle == MOCK_MANGLE_BAD_HEADER_CRC) c->out.data[at + header - 1] ^= 0x5A;
  if (r->mangle == MOCK_MANGLE_TRUNCATE) {
    size_t full = c->out.len - at;
    c->out.len = at + (r->mangle_arg && r->mangle_arg < full ? r->mangle_arg : full / 2);
  }
}

static void truncate_plain(mock_conn *c, const mock_resp *r, size_t at) {
  size_t full = c->out.len - at;
  c->out.len = at + (r->mangle_arg && r->mangle_arg < full ? r->mangle_arg : full / 2);
}

static void close_later(mock_conn *c, uint32_t delay_ms) {
  c->closing = true;
  c->reading = false;
  conn_update_epoll(c);
  if (delay_ms == 0) return;
  c->close_timer = true;
  mock_timer *t = mock_timer_new(MOCK_TIMER_CLOSE, mock_now_us() + (uint64_t)delay_ms * 1000u);
  t->conn = c;
  mock_timer_add(c->loop, t);
}

void mock_conn_emit(mock_conn *c, mock_resp *r) {
  if (c->dead || (c->closing && !r->close_after)) {
    mock_free(r);
    return;
  }
  int16_t stream = r->stream;
  uint8_t opcode = r->opcode;
  if (r->mangle == MOCK_MANGLE_WRONG_STREAM)
    stream = (int16_t)(r->mangle_arg ? r->mangle_arg : (uint16_t)(stream + 1) & 0x7FFF);
  if (r->mangle == MOCK_MANGLE_MALFORMED) opcode = CQLMUX_OP_RESULT;
  if (r->mangle == MOCK_MANGLE_BAD_OPCODE) opcode = 0x7F;
  bool lone = r->mangle == MOCK_MANGLE_BAD_CRC || r->mangle == MOCK_MANGLE_BAD_HEADER_CRC ||
              r->mangle == MOCK_MANGLE_TRUNCATE || r->mangle == MOCK_MANGLE_OVERSIZED;
  if (!c->framed_out) {
    size_t at = c->out.len;
    encode_resp(c, &c->out, r, stream, opcode);
    if (r->mangle == MOCK_MANGLE_TRUNCATE) truncate_plain(c, r, at);
  } else if (lone) {
    emit_lone_frame(c, r, stream, opcode);
  } else {
    size_t at = cqlmux_frame_v5_writer_begin(&c->fw);
    encode_resp(c, &c->out, r, stream, opcode);
    cqlmux_frame_v5_writer_end(&c->fw, at);
  }
  mock_wbuf_check(&c->out);
  if (r->start_framing) mock_conn_start_framing(c, true);
  if (r->mangle == MOCK_MANGLE_TRUNCATE) close_later(c, r->close_delay_ms);
  if (r->close_after) close_later(c, 0);
  mock_loop_mark_dirty(c->loop, c);
  mock_free(r);
}

void mock_conn_hold(mock_conn *c, mock_resp *r, uint32_t window) {
  r->next = c->held;
  c->held = r;
  c->held_count++;
  c->held_window = window;
  if (window && c->held_count >= window) mock_conn_release_held(c);
}

void mock_conn_release_held(mock_conn *c) {
  mock_resp *r = c->held;
  c->held = NULL;
  c->held_count = 0;
  while (r) {
    mock_resp *next = r->next;
    r->next = NULL;
    mock_conn_emit(c, r);
    r = next;
  }
}

int mock_conn_push_event(mock_conn *c, const cqlmux_mock_event *ev) {
  if (c->state != MOCK_CONN_READY || !(c->registered & (1u << ev->type))) return 0;
  cqlmux_mock *m = c->loop->server;
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  pthread_mutex_lock(&m->mu);
  mock_body_event(m, &b, ev);
  pthread_mutex_unlock(&m->mu);
  mock_wbuf_check(&b);
  mock_resp *r = mock_resp_new(-1, CQLMUX_OP_EVENT, b.data, b.len);
  cqlmux_wbuf_free(&b);
  mock_conn_emit(c, r);
  return 1;
}

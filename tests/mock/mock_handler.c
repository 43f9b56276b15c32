/* The request side of a mock connection: version negotiation, the
 * connection state machine (INITIAL -> [AUTHENTICATING ->] READY), and for
 * each request: record it, call the hook, ask the fault engine, build the
 * answer and send, delay, hold, drop or close as told.
 * Runs on the connection's loop thread. */
#include "config.h"

#include "mock/mock_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/envelope.h"
#include "proto/request_decode.h"
#include "proto/response.h"

static const char *opcode_name(uint8_t op) {
  static const char *const names[] = {
      "ERROR",   "STARTUP",  "READY",    "AUTHENTICATE", "CREDENTIALS",    "OPTIONS",
      "SUPPORTED", "QUERY",  "RESULT",   "PREPARE",      "EXECUTE",        "REGISTER",
      "EVENT",   "BATCH",    "AUTH_CHALLENGE", "AUTH_RESPONSE", "AUTH_SUCCESS"};
  return op < sizeof names / sizeof *names ? names[op] : "UNKNOWN";
}

static bool version_allowed(const cqlmux_mock *m, unsigned v) {
  return v < 32 && (m->cfg.versions & (1u << v)) != 0;
}

/* ------------------------------------------------------------ errors */

/* A PROTOCOL_ERROR answer on `stream`; fatal ones close the connection
 * once sent, as Cassandra does for protocol exceptions outside a request. */
static void protocol_error(mock_conn *c, uint8_t version, int16_t stream, bool fatal,
                           const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  mock_body_error(&b, version, CQLMUX_CQL_PROTOCOL_ERROR, msg);
  mock_wbuf_check(&b);
  mock_resp *r = mock_resp_new(stream, CQLMUX_OP_ERROR, b.data, b.len);
  cqlmux_wbuf_free(&b);
  r->version = version;
  r->close_after = fatal;
  mock_conn_emit(c, r);
}

/* Cassandra answers an unsupported version with ERROR 0x000A on stream 0,
 * in a version the client can read: the highest one the node allows below
 * the one asked for, or the client's own when it asked below every allowed
 * version (v1/v2 get their 8-byte header). Then it closes. */
static void version_error(mock_conn *c, const uint8_t *p, size_t n, unsigned asked) {
  cqlmux_mock *m = c->loop->server;
  unsigned reply = asked;
  for (unsigned v = 3; v <= 5 && v < asked; v++)
    if (version_allowed(m, v)) reply = v;
  char list[64] = "";
  for (unsigned v = 3; v <= 5; v++) {
    if (!version_allowed(m, v)) continue;
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "%s%u/v%u", used ? ", " : "", v, v);
  }
  char msg[160];
  snprintf(msg, sizeof msg,
           "Invalid or unsupported protocol version (%u); supported versions are (%s)", asked,
           list);
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_write_u8(&b, (uint8_t)(0x80u | reply));
  cqlmux_write_u8(&b, 0);
  if (reply >= 3) cqlmux_write_u16(&b, 0); else cqlmux_write_u8(&b, 0);
  cqlmux_write_u8(&b, CQLMUX_OP_ERROR);
  size_t len_at = cqlmux_wbuf_skip(&b, 4);
  mock_body_error(&b, 4, CQLMUX_CQL_PROTOCOL_ERROR, msg);
  mock_wbuf_check(&b);
  cqlmux_store_u32(b.data + len_at, (uint32_t)(b.len - len_at - 4));
  mock_conn_emit_raw(c, b.data, b.len, true);
  cqlmux_wbuf_free(&b);

  size_t op_at = asked >= 3 ? 4 : 3;
  cqlmux_mock_request rec = {.node = c->node, .connection = c->id, .version = (int)asked,
                             .stream = 0, .opcode = n > op_at ? p[op_at] : -1,
                             .consistency = -1, .serial_consistency = -1, .page_size = -1,
                             .response_opcode = CQLMUX_OP_ERROR,
                             .error_code = CQLMUX_CQL_PROTOCOL_ERROR,
                             .time_us = mock_now_us()};
  pthread_mutex_lock(&m->mu);
  if (m->cfg.record) mock_record_request(m, &rec);
  pthread_mutex_unlock(&m->mu);
}

/* ------------------------------------------------------------ framing */

static void handle_envelope(mock_conn *c, const cqlmux_envelope *env);

int mock_handle_bytes(mock_conn *c, const uint8_t *p, size_t n) {
  unsigned asked = p[0] & CQLMUX_ENVELOPE_VERSION_MASK;
  cqlmux_mock *m = c->loop->server;
  if (c->state == MOCK_CONN_INITIAL && !version_allowed(m, asked)) {
    version_error(c, p, n, asked);
    return -1;
  }
  cqlmux_envelope env;
  int rc = cqlmux_envelope_decode(p, n, CQLMUX_DIR_REQUEST, CQLMUX_ENVELOPE_MAX_BODY, &env);
  if (rc == 0) return 0;
  if (rc < 0) {
    int16_t stream = n >= 4 ? (int16_t)cqlmux_load_u16(p + 2) : 0;
    uint8_t version = c->version ? (uint8_t)c->version : (uint8_t)(asked >= 3 && asked <= 5 ? asked : 4);
    protocol_error(c, version, stream, true, "Invalid envelope: %s", cqlmux_strerror(rc));
    return -1;
  }
  handle_envelope(c, &env);
  return rc;
}

void mock_handle_frame(mock_conn *c, const uint8_t *envs, size_t len) {
  size_t off = 0;
  while (off < len && !c->dead) {
    cqlmux_envelope env;
    int rc = cqlmux_envelope_decode(envs + off, len - off, CQLMUX_DIR_REQUEST,
                                    CQLMUX_ENVELOPE_MAX_BODY, &env);
    if (rc <= 0) {
      protocol_error(c, 5, 0, true, "Invalid envelope in frame: %s", cqlmux_strerror(rc));
      return;
    }
    off += (size_t)rc;
    handle_envelope(c, &env);
  }
}

void mock_handle_bad_frame(mock_conn *c, int rc) {
  /* Cassandra drops a connection whose frames fail their checksums. */
  fprintf(stderr, "cqlmux mock: connection %lld: bad frame (%s), closing\n", (long long)c->id,
          cqlmux_strerror(rc));
  mock_conn_close(c, true, false);
}

/* ------------------------------------------------------------ requests */

/* What one request carries, in the form records and primes need. */
typedef struct request_info {
  cqlmux_mock_request rec;   /* its strings are ours; records copy them */
  const cqlmux_query_params_view *params;
  cqlmux_slice exec_id;
} request_info;

static char *slice_dup(cqlmux_slice s) { return mock_xstrndup((const char *)s.data, s.len); }

static void info_from_params(request_info *info, const cqlmux_query_params_view *p) {
  info->params = p;
  info->rec.consistency = p->consistency;
  info->rec.serial_consistency =
      p->flags & CQLMUX_QUERY_FLAG_SERIAL_CONSISTENCY ? p->serial_consistency : -1;
  info->rec.page_size = p->flags & CQLMUX_QUERY_FLAG_PAGE_SIZE ? p->page_size : -1;
  info->rec.values = p->values.count;
  if (p->flags & CQLMUX_QUERY_FLAG_KEYSPACE) info->rec.keyspace = slice_dup(p->keyspace);
}

/* The text a prepared id stands for on a node: what it was prepared from
 * there, or the query of a prime that answers it everywhere. Lock held. */
static char *id_text(cqlmux_mock *m, int node, cqlmux_slice id) {
  const mock_prepared *p = mock_prepared_find(&m->nodes[node], id.data, id.len);
  if (p) return mock_xstrdup(p->query);
  const mock_prime *pr = mock_prime_find_id(m, node, id.data, id.len, false);
  return pr ? mock_xstrdup(pr->spec.query) : NULL;
}

/* The routing token of an EXECUTE of `id` with these values, when the
 * statement's prime names its partition key. Lock held. */
static void record_token(cqlmux_mock *m, int node, cqlmux_slice id, cqlmux_values_view values,
                         cqlmux_mock_request *r) {
  const mock_prime *p = mock_prime_for_execute(m, node, id.data, id.len);
  if (p) r->has_token = mock_routing_token(p->spec.pk_indexes, p->spec.pk_count, values, &r->token);
}

/* The text (and token) of a BATCH's first member: what drivers route a
 * batch by. Lock held. */
static void batch_first(cqlmux_mock *m, int node, cqlmux_batch_view b, cqlmux_mock_request *r) {
  cqlmux_batch_statement_view st;
  if (!cqlmux_batch_next(&b, &st)) return;
  if (st.kind == CQLMUX_BATCH_KIND_QUERY) {
    r->query = slice_dup(st.query_or_id);
    return;
  }
  r->query = id_text(m, node, st.query_or_id);
  record_token(m, node, st.query_or_id, st.values, r);
}

static void info_fill(mock_conn *c, const cqlmux_request_view *req, request_info *info) {
  cqlmux_mock *m = c->loop->server;
  cqlmux_mock_request *r = &info->rec;
  switch (req->header.opcode) {
  case CQLMUX_OP_QUERY:
    r->query = slice_dup(req->u.query.query);
    info_from_params(info, &req->u.query.params);
    break;
  case CQLMUX_OP_PREPARE:
    r->query = slice_dup(req->u.prepare.query);
    if (req->u.prepare.flags & CQLMUX_PREPARE_FLAG_KEYSPACE)
      r->keyspace = slice_dup(req->u.prepare.keyspace);
    break;
  case CQLMUX_OP_EXECUTE: {
    info->exec_id = req->u.execute.id;
    r->prepared_id = (const uint8_t *)mock_xstrndup((const char *)info->exec_id.data,
                                                    info->exec_id.len);
    r->prepared_id_len = info->exec_id.len;
    info_from_params(info, &req->u.execute.params);
    pthread_mutex_lock(&m->mu);
    r->query = id_text(m, c->node, info->exec_id);
    record_token(m, c->node, info->exec_id, req->u.execute.params.values, r);
    pthread_mutex_unlock(&m->mu);
    break;
  }
  case CQLMUX_OP_BATCH:
    r->consistency = req->u.batch.consistency;
    r->serial_consistency = req->u.batch.flags & CQLMUX_BATCH_FLAG_SERIAL_CONSISTENCY
                                ? req->u.batch.serial_consistency
                                : -1;
    r->values = req->u.batch.count;
    pthread_mutex_lock(&m->mu);
    batch_first(m, c->node, req->u.batch, r);
    pthread_mutex_unlock(&m->mu);
    break;
  default:
    break;
  }
}

static void info_release(request_info *info) {
  mock_free((void *)info->rec.query);
  mock_free((void *)info->rec.keyspace);
  mock_free((void *)info->rec.prepared_id);
}

/* ------------------------------------------------------------ dispatch */

/* Delivers an answer as the verdict says. */
static void deliver(mock_conn *c, mock_resp *r, const mock_verdict *v) {
  r->mangle = v->mangle;
  r->mangle_arg = v->mangle_arg;
  r->close_delay_ms = v->close_delay_ms;
  if (v->delay_ms) {
    mock_timer *t = mock_timer_new(MOCK_TIMER_RESPONSE, mock_now_us() + (uint64_t)v->delay_ms * 1000u);
    t->conn = c;
    t->resp = r;
    mock_timer_add(c->loop, t);
  } else if (v->hold) {
    mock_conn_hold(c, r, v->hold_window);
  } else {
    mock_conn_emit(c, r);
  }
}

static void update_record(cqlmux_mock *m, size_t index, uint64_t seq, const mock_verdict *v,
                          int opcode, int32_t error) {
  if (index >= m->request_count || m->requests[index].seq != seq) return;
  m->requests[index].fault = v->fault;
  m->requests[index].response_opcode = opcode;
  m->requests[index].error_code = error;
}

/* Records the request (when records are kept) and numbers it; returns its
 * index in the records, SIZE_MAX when not kept. */
static size_t record(cqlmux_mock *m, cqlmux_mock_request *rec) {
  size_t index = SIZE_MAX;
  pthread_mutex_lock(&m->mu);
  if (m->cfg.record) {
    index = m->request_count;
    rec->seq = mock_record_request(m, rec)->seq;
  } else {
    rec->seq = ++m->next_seq;
  }
  pthread_mutex_unlock(&m->mu);
  return index;
}

static void call_hook(cqlmux_mock *m, const cqlmux_mock_request *rec) {
  pthread_mutex_lock(&m->mu);
  cqlmux_mock_request_hook hook = m->hook;
  void *hook_data = m->hook_data;
  pthread_mutex_unlock(&m->mu);
  if (hook) hook(m, rec, hook_data);
}

void cqlmux_mock_tracing_id(uint64_t seq, uint8_t out[16]) {
  /* A fixed version-1 (time) UUID, RFC 4122 variant, with the seq in its
   * last 6 bytes (the node field). */
  static const uint8_t head[10] = {0x4d, 0x6f, 0x63, 0x6b, 0x00, 0x00, 0x11, 0xf0, 0x80, 0x00};
  memcpy(out, head, sizeof head);
  for (int i = 0; i < 6; i++) out[10 + i] = (uint8_t)(seq >> (40 - 8 * i));
}

/* The envelope prefix of the answer into `prefix` (server lock held): the
 * tracing id a TRACING request gets, and the answering prime's warnings
 * and echoed payload. Returns the header flags it needs. */
static uint8_t answer_prefix(const cqlmux_envelope *env, const cqlmux_request_view *req,
                             const mock_answer *a, uint64_t seq, cqlmux_wbuf *prefix) {
  if (a->opcode != CQLMUX_OP_RESULT && a->opcode != CQLMUX_OP_ERROR) return 0;
  uint8_t flags = 0;
  if (env->header.flags & CQLMUX_FLAG_TRACING) {
    uint8_t id[16];
    cqlmux_mock_tracing_id(seq, id);
    cqlmux_write_uuid(prefix, id);
    flags |= CQLMUX_FLAG_TRACING;
  }
  const cqlmux_mock_prime *p = a->prime ? &a->prime->spec : NULL;
  if (p && p->warning_count) {
    cqlmux_write_u16(prefix, (uint16_t)p->warning_count);
    for (size_t i = 0; i < p->warning_count; i++)
      cqlmux_write_string(prefix, p->warnings[i], strlen(p->warnings[i]));
    flags |= CQLMUX_FLAG_WARNING;
  }
  if (p && p->echo_custom_payload && (env->header.flags & CQLMUX_FLAG_CUSTOM_PAYLOAD)) {
    cqlmux_write_raw(prefix, req->prefix.raw.data, req->prefix.raw.len);
    flags |= CQLMUX_FLAG_CUSTOM_PAYLOAD;
  }
  return flags;
}

/* Does what the verdict says with the answer built in `body`. */
static void act(mock_conn *c, const cqlmux_envelope *env, mock_verdict *v, mock_answer a,
                uint8_t flags, const cqlmux_wbuf *body, bool stop_now) {
  cqlmux_mock *m = c->loop->server;
  if (stop_now) mock_conn_refresh(c); /* stops the parse loop after this request */
  if (v->actions) mock_actions_run(m, v->actions);
  if (v->refresh) {
    mock_cmd cmd = {.kind = MOCK_CMD_REFRESH};
    mock_post_all(m, &cmd);
  }
  if (v->disposition == MOCK_CLOSE || v->disposition == MOCK_CLOSE_RESET) {
    mock_conn_close(c, true, v->disposition == MOCK_CLOSE_RESET);
  } else if (v->disposition == MOCK_ANSWER && !c->dead) {
    mock_resp *r = mock_resp_new(env->header.stream, a.opcode, body->data, body->len);
    r->version = env->header.version;
    r->flags = flags;
    r->start_framing = a.start_framing;
    r->close_after = a.close_after;
    deliver(c, r, v);
  }
}

static void handle_request(mock_conn *c, const cqlmux_envelope *env,
                           const cqlmux_request_view *req) {
  cqlmux_mock *m = c->loop->server;
  request_info info;
  memset(&info, 0, sizeof info);
  info.rec = (cqlmux_mock_request){.node = c->node, .connection = c->id,
                                   .version = env->header.version, .stream = env->header.stream,
                                   .opcode = env->header.opcode, .flags = env->header.flags,
                                   .consistency = -1, .serial_consistency = -1, .page_size = -1,
                                   .after_startup = c->state != MOCK_CONN_INITIAL,
                                   .response_opcode = -1, .time_us = mock_now_us()};
  info_fill(c, req, &info);
  size_t index = record(m, &info.rec);
  call_hook(m, &info.rec);

  mock_request_view view = {.node = c->node, .connection = c->id, .opcode = info.rec.opcode,
                            .stream = info.rec.stream, .seq = info.rec.seq,
                            .after_startup = info.rec.after_startup, .query = info.rec.query,
                            .query_len = info.rec.query ? strlen(info.rec.query) : 0};
  mock_verdict v;
  cqlmux_wbuf body, answer;
  cqlmux_wbuf_init(&body, NULL, 0);
  pthread_mutex_lock(&m->mu);
  mock_faults_on_request(m, &view, &v);
  bool stop_now = v.refresh && mock_faults_stop_reading(m, c->node, c->id);
  cqlmux_wbuf_init(&answer, NULL, 0);
  mock_answer a = mock_answer_request(c, env, req, &info.rec, info.params, &body);
  /* The prefix goes in front of the message, in one body. */
  uint8_t flags = answer_prefix(env, req, &a, info.rec.seq, &answer);
  cqlmux_write_raw(&answer, body.data, body.len);
  update_record(m, index, info.rec.seq, &v,
                v.disposition == MOCK_ANSWER ? a.opcode : -1, a.error_code);
  mock_conn_record_get(m, c->id)->pub.requests = c->requests;
  pthread_mutex_unlock(&m->mu);
  info_release(&info);
  mock_wbuf_check(&answer);
  act(c, env, &v, a, flags, &answer, stop_now);
  cqlmux_wbuf_free(&body);
  cqlmux_wbuf_free(&answer);
}

static void handle_envelope(mock_conn *c, const cqlmux_envelope *env) {
  cqlmux_mock *m = c->loop->server;
  const cqlmux_envelope_header *h = &env->header;
  if (c->state != MOCK_CONN_INITIAL && h->version != c->version) {
    protocol_error(c, (uint8_t)c->version, h->stream, true,
                   "Invalid message version. Got %u/v%u but previous messages on this "
                   "connection had version %d/v%d",
                   h->version, h->version, c->version, c->version);
    return;
  }
  c->requests++;
  cqlmux_envelope plain = *env;
  if ((h->flags & CQLMUX_FLAG_COMPRESSION) && h->version < 5) {
    int rc = c->lz4 ? cqlmux_envelope_decompress_v4(env, &c->scratch, CQLMUX_ENVELOPE_MAX_BODY,
                                                    &plain)
                    : CQLMUX_ERR_COMPRESSION;
    if (rc) {
      protocol_error(c, h->version, h->stream, true, "Cannot decompress the body: %s",
                     cqlmux_strerror(rc));
      return;
    }
  }
  if (m->cfg.null_mode && c->state == MOCK_CONN_READY && mock_null_answer(c, &plain)) return;
  cqlmux_request_view req;
  int rc = cqlmux_request_decode(&plain, &req);
  if (rc) {
    protocol_error(c, h->version, h->stream, false, "Invalid %s message: %s",
                   opcode_name(h->opcode), cqlmux_strerror(rc));
    return;
  }
  handle_request(c, &plain, &req);
}

/* ------------------------------------------------------------ answers */

static mock_answer answer_error(cqlmux_wbuf *b, int version, int32_t code, const char *msg) {
  mock_body_error(b, version, code, msg);
  return (mock_answer){.opcode = CQLMUX_OP_ERROR, .error_code = code};
}

static mock_answer answer_startup(mock_conn *c, const cqlmux_request_view *req, cqlmux_wbuf *b) {
  cqlmux_mock *m = c->loop->server;
  int version = req->header.version;
  cqlmux_list_view opts = req->u.startup;
  bool has_cql = false;
  bool lz4 = false;
  cqlmux_slice k, v;
  for (uint16_t i = 0; i < opts.count; i++) {
    cqlmux_read_string(&opts.items, &k);
    cqlmux_read_string(&opts.items, &v);
    if (k.len == 11 && memcmp(k.data, "CQL_VERSION", 11) == 0) has_cql = true;
    if (k.len == 11 && memcmp(k.data, "COMPRESSION", 11) == 0) {
      if (!(m->cfg.lz4 && v.len == 3 && strncasecmp((const char *)v.data, "lz4", 3) == 0)) {
        char msg[96];
        snprintf(msg, sizeof msg, "Unknown compression algorithm: %.*s", (int)v.len,
                 (const char *)v.data);
        return answer_error(b, version, CQLMUX_CQL_PROTOCOL_ERROR, msg);
      }
      lz4 = true;
    }
  }
  if (!has_cql)
    return answer_error(b, version, CQLMUX_CQL_PROTOCOL_ERROR,
                        "Missing value CQL_VERSION in STARTUP message");
  c->version = version;
  c->lz4 = lz4;
  bool auth = m->cfg.username != NULL;
  c->state = auth ? MOCK_CONN_AUTHENTICATING : MOCK_CONN_READY;
  mock_conn_record *rec = mock_conn_record_get(m, c->id);
  rec->pub.version = version;
  rec->pub.compressed = lz4;
  rec->pub.framed = version >= 5;
  mock_answer a = {.opcode = auth ? CQLMUX_OP_AUTHENTICATE : CQLMUX_OP_READY};
  if (auth) mock_body_authenticate(b);
  if (version >= 5) {
    mock_conn_start_framing(c, false);
    a.start_framing = true;
  }
  return a;
}

/* SASL PLAIN: [authzid] NUL authcid NUL password. */
static mock_answer answer_auth(mock_conn *c, const cqlmux_request_view *req, cqlmux_wbuf *b) {
  cqlmux_mock *m = c->loop->server;
  cqlmux_bytes t = req->u.auth_token;
  const char *user = "", *pass = "";
  size_t ulen = 0, plen = 0;
  if (t.len > 0) {
    const char *s = (const char *)t.data;
    const char *last = memrchr(s, 0, (size_t)t.len);
    if (last) {
      pass = last + 1;
      plen = (size_t)t.len - (size_t)(pass - s);
      const char *prev = last > s ? memrchr(s, 0, (size_t)(last - s)) : NULL;
      user = prev ? prev + 1 : s;
      ulen = (size_t)(last - user);
    }
  }
  bool ok = ulen == strlen(m->cfg.username) && memcmp(user, m->cfg.username, ulen) == 0 &&
            plen == strlen(m->cfg.password) && memcmp(pass, m->cfg.password, plen) == 0;
  if (!ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "Provided username %.*s and/or password are incorrect",
             (int)(ulen > 64 ? 64 : ulen), user);
    return answer_error(b, req->header.version, CQLMUX_CQL_BAD_CREDENTIALS, msg);
  }
  c->state = MOCK_CONN_READY;
  mock_conn_record_get(m, c->id)->pub.authenticated = true;
  mock_body_auth_success(b);
  return (mock_answer){.opcode = CQLMUX_OP_AUTH_SUCCESS};
}

static mock_answer answer_register(mock_conn *c, const cqlmux_request_view *req, cqlmux_wbuf *b) {
  static const char *const types[] = {NULL, "TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"};
  cqlmux_list_view l = req->u.events;
  unsigned mask = 0;
  for (uint16_t i = 0; i < l.count; i++) {
    cqlmux_slice s;
    cqlmux_read_string(&l.items, &s);
    unsigned found = 0;
    for (unsigned t = 1; t < 4; t++)
      if (s.len == strlen(types[t]) && memcmp(s.data, types[t], s.len) == 0) found = t;
    if (!found) {
      char msg[96];
      snprintf(msg, sizeof msg, "Invalid value '%.*s' for Type", (int)s.len, (const char *)s.data);
      return answer_error(b, req->header.version, CQLMUX_CQL_PROTOCOL_ERROR, msg);
    }
    mask |= 1u << found;
  }
  c->registered |= mask;
  mock_conn_record_get(c->loop->server, c->id)->pub.registered = c->registered;
  return (mock_answer){.opcode = CQLMUX_OP_READY};
}

/* "USE ks", "use \"Ks\";" -> the keyspace name. */
static bool parse_use(const char *q, char *ks, size_t cap) {
  while (isspace((unsigned char)*q)) q++;
  if (strncasecmp(q, "use", 3) != 0 || !isspace((unsigned char)q[3])) return false;
  q += 3;
  while (isspace((unsigned char)*q)) q++;
  bool quoted = *q == '"';
  if (quoted) q++;
  size_t n = 0;
  while (q[n] && q[n] != '"' && q[n] != ';' && !isspace((unsigned char)q[n])) n++;
  if (n == 0 || n >= cap) return false;
  for (size_t i = 0; i < n; i++) ks[i] = quoted ? q[i] : (char)tolower((unsigned char)q[i]);
  ks[n] = '\0';
  return true;
}

/* metadata_id: what a v5 EXECUTE sent (else NULL). */
static mock_answer answer_text(mock_conn *c, int version, int op, const char *text,
                               const cqlmux_query_params_view *params,
                               const cqlmux_slice *metadata_id, cqlmux_wbuf *b) {
  cqlmux_mock *m = c->loop->server;
  char ks[64];
  if (parse_use(text, ks, sizeof ks)) {
    mock_body_set_keyspace(b, ks);
    return (mock_answer){.opcode = CQLMUX_OP_RESULT};
  }
  mock_answer a;
  if (mock_system_answer(m, c->node, version, text, b, &a)) return a;
  const mock_prime *p = mock_prime_find(m, c->node, op, text, strlen(text));
  if (p) return mock_prime_answer(m, p, version, params, metadata_id, b);
  if (m->cfg.unprimed_is_error) {
    char msg[512];
    snprintf(msg, sizeof msg, "No prime for query: %.400s", text);
    return answer_error(b, version, CQLMUX_CQL_INVALID, msg);
  }
  mock_body_void(b);
  return (mock_answer){.opcode = CQLMUX_OP_RESULT};
}

/* PREPARE always succeeds unless a prime for CQLMUX_OP_PREPARE says
 * otherwise; the statement is then known on this node only. */
static mock_answer answer_prepare(mock_conn *c, const cqlmux_mock_request *rec, cqlmux_wbuf *b) {
  cqlmux_mock *m = c->loop->server;
  const char *text = rec->query;
  size_t len = strlen(text);
  const mock_prime *own = mock_prime_find(m, c->node, CQLMUX_OP_PREPARE, text, len);
  if (own && own->spec.kind == CQLMUX_MOCK_RESULT_ERROR)
    return mock_prime_answer(m, own, rec->version, NULL, NULL, b);
  const mock_prime *p = own ? own : mock_prime_find(m, c->node, CQLMUX_OP_EXECUTE, text, len);
  uint8_t hash[16];
  const uint8_t *id = hash;
  size_t id_len = sizeof hash;
  if (p && p->spec.prepared_id) {
    id = p->spec.prepared_id;
    id_len = p->spec.prepared_id_len;
  } else {
    mock_query_id(text, len, hash);
  }
  mock_prepared_add(&m->nodes[c->node], id, id_len, text, len);
  mock_prime_prepared(p, rec->version, id, id_len, b);
  return (mock_answer){.opcode = CQLMUX_OP_RESULT};
}

static mock_answer unprepared(cqlmux_wbuf *b, int version, cqlmux_slice id) {
  mock_body_unprepared(b, version, id.data, id.len);
  return (mock_answer){.opcode = CQLMUX_OP_ERROR, .error_code = CQLMUX_CQL_UNPREPARED};
}

static mock_answer answer_execute(mock_conn *c, const cqlmux_mock_request *rec,
                                  const cqlmux_request_view *req, cqlmux_wbuf *b) {
  cqlmux_mock *m = c->loop->server;
  cqlmux_slice id = req->u.execute.id;
  const cqlmux_query_params_view *params = &req->u.execute.params;
  const cqlmux_slice *metadata_id = rec->version >= 5 ? &req->u.execute.result_metadata_id : NULL;
  const mock_prepared *known = mock_prepared_find(&m->nodes[c->node], id.data, id.len);
  const mock_prime *p = mock_prime_find_id(m, c->node, id.data, id.len, known != NULL);
  if (p) return mock_prime_answer(m, p, rec->version, params, metadata_id, b);
  if (!known) return unprepared(b, rec->version, id);
  return answer_text(c, rec->version, CQLMUX_OP_EXECUTE, known->query, params, metadata_id, b);
}

/* A batch is VOID unless a member is unknown (UNPREPARED) or primed with
 * an error (the first such error answers). */
static mock_answer answer_batch(mock_conn *c, const cqlmux_request_view *req, cqlmux_wbuf *b) {
  cqlmux_mock *m = c->loop->server;
  int version = req->header.version;
  cqlmux_batch_view bv = req->u.batch;
  cqlmux_batch_statement_view st;
  const mock_prime *error_prime = NULL, *first_prime = NULL;
  while (cqlmux_batch_next(&bv, &st)) {
    const mock_prime *p;
    cqlmux_slice q = st.query_or_id;
    if (st.kind == CQLMUX_BATCH_KIND_PREPARED) {
      const mock_prepared *known = mock_prepared_find(&m->nodes[c->node], q.data, q.len);
      p = mock_prime_find_id(m, c->node, q.data, q.len, known != NULL);
      if (!known && !p) return unprepared(b, version, q);
      if (!p) p = mock_prime_find(m, c->node, CQLMUX_OP_BATCH, known->query, strlen(known->query));
    } else {
      p = mock_prime_find(m, c->node, CQLMUX_OP_BATCH, (const char *)q.data, q.len);
    }
    if (p && p->spec.kind == CQLMUX_MOCK_RESULT_ERROR && !error_prime) error_prime = p;
    if (p && !first_prime) first_prime = p;
  }
  if (error_prime) return mock_prime_answer(m, error_prime, version, NULL, NULL, b);
  mock_body_void(b);
  return (mock_answer){.prime = first_prime, .opcode = CQLMUX_OP_RESULT};
}

static mock_answer answer_ready_state(mock_conn *c, const cqlmux_request_view *req,
                                      const cqlmux_mock_request *rec,
                                      const cqlmux_query_params_view *params, cqlmux_wbuf *b) {
  int version = req->header.version;
  switch (req->header.opcode) {
  case CQLMUX_OP_OPTIONS:
    mock_body_supported(c->loop->server, b);
    return (mock_answer){.opcode = CQLMUX_OP_SUPPORTED};
  case CQLMUX_OP_REGISTER:
    return answer_register(c, req, b);
  case CQLMUX_OP_QUERY:
    return answer_text(c, version, CQLMUX_OP_QUERY, rec->query, params, NULL, b);
  case CQLMUX_OP_PREPARE:
    return answer_prepare(c, rec, b);
  case CQLMUX_OP_EXECUTE:
    return answer_execute(c, rec, req, b);
  case CQLMUX_OP_BATCH:
    return answer_batch(c, req, b);
  default: {
    char msg[96];
    snprintf(msg, sizeof msg, "Unexpected message %s, the connection is already initialized",
             opcode_name(req->header.opcode));
    return answer_error(b, version, CQLMUX_CQL_PROTOCOL_ERROR, msg);
  }
  }
}

mock_answer mock_answer_request(mock_conn *c, const cqlmux_envelope *env,
                                const cqlmux_request_view *req, const cqlmux_mock_request *rec,
                                const cqlmux_query_params_view *params, cqlmux_wbuf *b) {
  uint8_t op = env->header.opcode;
  int version = env->header.version;
  char msg[96];
  switch (c->state) {
  case MOCK_CONN_INITIAL:
    if (op == CQLMUX_OP_OPTIONS) {
      mock_body_supported(c->loop->server, b);
      return (mock_answer){.opcode = CQLMUX_OP_SUPPORTED};
    }
    if (op == CQLMUX_OP_STARTUP) return answer_startup(c, req, b);
    snprintf(msg, sizeof msg, "Unexpected message %s, expecting STARTUP or OPTIONS",
             opcode_name(op));
    return answer_error(b, version, CQLMUX_CQL_PROTOCOL_ERROR, msg);
  case MOCK_CONN_AUTHENTICATING:
    if (op == CQLMUX_OP_AUTH_RESPONSE) return answer_auth(c, req, b);
    snprintf(msg, sizeof msg, "Unexpected message %s, expecting SASL_RESPONSE", opcode_name(op));
    return answer_error(b, version, CQLMUX_CQL_PROTOCOL_ERROR, msg);
  case MOCK_CONN_READY:
    break;
  }
  return answer_ready_state(c, req, rec, params, b);
}

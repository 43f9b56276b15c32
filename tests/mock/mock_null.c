/* Null mode: data requests answered from bodies encoded once at start, on
 * the connection's own loop thread, without the server lock: the mock then
 * costs a few hundred nanoseconds per request and never bounds a benchmark. */
#include "config.h"

#include "mock/mock_internal.h"

#include <string.h>

#include "proto/envelope.h"

static const char *const null_names[6] = {"k", "c1", "c2", "c3", "c4", "c5"};
static const char *const null_cells[6] = {"key0", "42", "4242", "3.25", "true", "0xcafebabe"};
static const uint16_t null_types[6] = {CQLMUX_TYPE_TEXT, CQLMUX_TYPE_INT, CQLMUX_TYPE_BIGINT,
                                       CQLMUX_TYPE_DOUBLE,  CQLMUX_TYPE_BOOLEAN, CQLMUX_TYPE_BLOB};

/* PREPARED bodies with 0 .. MOCK_NULL_MAX_PARAMS bind markers, described
 * as the benchmark's statements have them (tools/bench/workload.c), since
 * the client checks binds against the marker types: one marker is the
 * SELECT's `k text`, five are the INSERT's k, c1, c2, c3, c5; further ones
 * cycle through the columns. */
static int null_marker_column(int i) {
  static const int insert_columns[5] = {0, 1, 2, 3, 5};
  return i < 5 ? insert_columns[i] : i % 6;
}

static void null_prepared_init(cqlmux_mock *m, const cqlmux_typedesc *const *types,
                               const mock_rows *rows) {
  const char *names[MOCK_NULL_MAX_PARAMS];
  const cqlmux_typedesc *param_types[MOCK_NULL_MAX_PARAMS];
  for (int i = 0; i < MOCK_NULL_MAX_PARAMS; i++) {
    names[i] = null_names[null_marker_column(i)];
    param_types[i] = types[null_marker_column(i)];
  }
  uint8_t id[16];
  mock_query_id("null", 4, id);
  for (int v = 0; v < 2; v++)
    for (int n = 0; n <= MOCK_NULL_MAX_PARAMS; n++) {
      mock_rows params = {.keyspace = "ks", .table = "null", .column_count = (size_t)n,
                          .names = names, .types = param_types};
      cqlmux_wbuf *b = &m->null_prepared[v][n];
      cqlmux_wbuf_init(b, NULL, 0);
      mock_body_prepared(b, 4 + v, id, sizeof id, &params, rows);
      mock_wbuf_check(b);
    }
}

int mock_null_init(cqlmux_mock *m) {
  const cqlmux_typedesc *types[6];
  cqlmux_wbuf content;
  cqlmux_wbuf_init(&content, NULL, 0);
  for (int i = 0; i < 6; i++) {
    types[i] = cqlmux_type_native(null_types[i]);
    if (mock_value_parse(types[i], null_cells[i], &content, NULL, 0))
      return CQLMUX_ERR_INVALID_STATE;
  }
  mock_rows rows = {.keyspace = "ks", .table = "null", .column_count = 6, .names = null_names,
                    .types = types, .row_count = 1, .content = content.data,
                    .content_len = content.len};
  cqlmux_wbuf *bufs[] = {&m->null_rows, &m->null_rows_nometa, &m->null_void};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) cqlmux_wbuf_init(bufs[i], NULL, 0);
  mock_body_rows(&m->null_rows, 4, &rows);
  rows.no_metadata = true;
  mock_body_rows(&m->null_rows_nometa, 4, &rows);
  rows.no_metadata = false;
  mock_body_void(&m->null_void);
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) mock_wbuf_check(bufs[i]);
  null_prepared_init(m, types, &rows);
  cqlmux_wbuf_free(&content);
  return CQLMUX_OK;
}

void mock_null_free(cqlmux_mock *m) {
  cqlmux_wbuf_free(&m->null_rows);
  cqlmux_wbuf_free(&m->null_rows_nometa);
  for (int v = 0; v < 2; v++)
    for (int n = 0; n <= MOCK_NULL_MAX_PARAMS; n++) cqlmux_wbuf_free(&m->null_prepared[v][n]);
  cqlmux_wbuf_free(&m->null_void);
}

/* The bind markers of a text: its '?' outside quotes, capped. */
static size_t count_markers(const uint8_t *q, size_t n) {
  size_t count = 0;
  bool quoted = false;
  for (size_t i = 0; i < n; i++) {
    if (q[i] == '\'') quoted = !quoted;
    if (q[i] == '?' && !quoted) count++;
  }
  return count < MOCK_NULL_MAX_PARAMS ? count : MOCK_NULL_MAX_PARAMS;
}

/* System queries and USE keep their real answers even in null mode. */
static bool is_special(const uint8_t *q, size_t n) {
  static const char sys[] = "system";
  if (n >= 4 && strncasecmp((const char *)q, "use ", 4) == 0) return true;
  for (size_t i = 0; i + sizeof sys - 1 <= n; i++)
    if ((q[i] | 0x20) == 's' && strncasecmp((const char *)q + i, sys, sizeof sys - 1) == 0)
      return true;
  return false;
}

/* Reads the <flags> of the query parameters at r (after <consistency>). */
static bool skip_metadata(cqlmux_reader *r, int version) {
  uint16_t consistency;
  uint32_t flags = 0;
  uint8_t f8;
  if (cqlmux_read_u16(r, &consistency)) return false;
  if (version >= 5 ? cqlmux_read_u32(r, &flags) : cqlmux_read_u8(r, &f8)) return false;
  if (version < 5) flags = f8;
  return (flags & CQLMUX_QUERY_FLAG_SKIP_METADATA) != 0;
}

bool mock_null_answer(mock_conn *c, const cqlmux_envelope *env) {
  cqlmux_mock *m = c->loop->server;
  const cqlmux_envelope_header *h = &env->header;
  cqlmux_reader r = cqlmux_reader_make(env->body, h->length);
  const cqlmux_wbuf *body;
  cqlmux_slice s;
  switch (h->opcode) {
  case CQLMUX_OP_QUERY:
    if (cqlmux_read_long_string(&r, &s) || is_special(s.data, s.len)) return false;
    body = skip_metadata(&r, h->version) ? &m->null_rows_nometa : &m->null_rows;
    break;
  case CQLMUX_OP_EXECUTE:
    if (cqlmux_read_short_bytes(&r, &s)) return false;
    if (h->version >= 5 && cqlmux_read_short_bytes(&r, &s)) return false;
    body = skip_metadata(&r, h->version) ? &m->null_rows_nometa : &m->null_rows;
    break;
  case CQLMUX_OP_PREPARE:
    if (cqlmux_read_long_string(&r, &s) || is_special(s.data, s.len)) return false;
    body = &m->null_prepared[h->version >= 5][count_markers(s.data, s.len)];
    break;
  case CQLMUX_OP_BATCH:
    body = &m->null_void;
    break;
  default:
    return false;
  }
  mock_conn_emit_body(c, h->version, h->stream, CQLMUX_OP_RESULT, body->data, body->len);
  /* A statistic only: readers sum it whenever they like. */
  atomic_fetch_add_explicit(&c->loop->null_count, 1, memory_order_relaxed);
  return true;
}

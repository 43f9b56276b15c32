/* Primed answers: stored deep copies with their column types parsed and
 * their rows encoded once, looked up by query text or prepared id. */
#include "config.h"

#include "mock/mock_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "proto/request_decode.h"
#include "proto/response.h"

void cqlmux_mock_prime_init(cqlmux_mock_prime *p, cqlmux_mock_result_kind kind,
                            const char *query) {
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->query = query;
  p->node = CQLMUX_MOCK_ANY;
  p->opcode = CQLMUX_MOCK_ANY;
  p->consistency = -1;
}

static cqlmux_mock_column *columns_dup(const cqlmux_mock_column *src, size_t n) {
  cqlmux_mock_column *d = mock_xcalloc(n ? n : 1, sizeof *d);
  for (size_t i = 0; i < n; i++) {
    d[i].name = mock_xstrdup(src[i].name ? src[i].name : "");
    d[i].type = mock_xstrdup(src[i].type ? src[i].type : "");
  }
  return d;
}

static void columns_free(const cqlmux_mock_column *c, size_t n) {
  for (size_t i = 0; i < n && c; i++) {
    mock_free((void *)c[i].name);
    mock_free((void *)c[i].type);
  }
  mock_free((void *)c);
}

static void prime_free(mock_prime *p) {
  cqlmux_mock_prime *s = &p->spec;
  const char *strings[] = {s->query,      s->keyspace, s->table,  s->error_message,
                           s->write_type, s->function, s->arg_types, s->change,
                           s->target};
  for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) mock_free((void *)strings[i]);
  mock_free((void *)s->prepared_id);
  mock_free((void *)s->pk_indexes);
  for (size_t i = 0; i < s->warning_count; i++) mock_free((void *)s->warnings[i]);
  mock_free((void *)s->warnings);
  for (size_t i = 0; s->cells && i < s->row_count * s->column_count; i++)
    mock_free((void *)s->cells[i]);
  mock_free((void *)s->cells);
  columns_free(s->columns, s->column_count);
  columns_free(s->params, s->param_count);
  mock_free(p->column_types);
  mock_free(p->param_types);
  mock_free(p->column_names);
  mock_free(p->param_names);
  mock_free(p->row_offsets);
  cqlmux_wbuf_free(&p->rows);
  cqlmux_arena_free(&p->arena);
  mock_free(p->arena_buf);
  mock_free(p);
}

static mock_prime *prime_copy(const cqlmux_mock_prime *src) {
  mock_prime *p = mock_xcalloc(1, sizeof *p);
  cqlmux_mock_prime *s = &p->spec;
  *s = *src;
  s->query = mock_xstrdup(src->query);
  s->keyspace = mock_xstrdup(src->keyspace ? src->keyspace : "ks");
  s->table = mock_xstrdup(src->table ? src->table : "t");
  s->error_message = mock_xstrdup(src->error_message);
  s->write_type = mock_xstrdup(src->write_type);
  s->function = mock_xstrdup(src->function);
  s->arg_types = mock_xstrdup(src->arg_types);
  s->change = mock_xstrdup(src->change);
  s->target = mock_xstrdup(src->target);
  if (src->prepared_id) {
    uint8_t *id = mock_xmalloc(src->prepared_id_len);
    memcpy(id, src->prepared_id, src->prepared_id_len);
    s->prepared_id = id;
  }
  uint16_t *pk = mock_xcalloc(src->pk_count ? src->pk_count : 1, sizeof *pk);
  if (src->pk_count) memcpy(pk, src->pk_indexes, src->pk_count * sizeof *pk);
  s->pk_indexes = pk;
  s->columns = columns_dup(src->columns, src->column_count);
  s->params = columns_dup(src->params, src->param_count);
  size_t ncells = src->row_count * src->column_count;
  const char **cells = mock_xcalloc(ncells ? ncells : 1, sizeof *cells);
  for (size_t i = 0; src->cells && i < ncells; i++) cells[i] = mock_xstrdup(src->cells[i]);
  s->cells = cells;
  const char **warnings = mock_xcalloc(src->warning_count ? src->warning_count : 1,
                                       sizeof *warnings);
  for (size_t i = 0; i < src->warning_count; i++) warnings[i] = mock_xstrdup(src->warnings[i]);
  s->warnings = warnings;
  cqlmux_wbuf_init(&p->rows, NULL, 0);
  return p;
}

/* Parses n column types into types[] and collects their names. */
static int parse_columns(mock_prime *p, const cqlmux_mock_column *cols, size_t n,
                         const cqlmux_typedesc ***types, const char ***names) {
  *types = mock_xcalloc(n ? n : 1, sizeof **types);
  *names = mock_xcalloc(n ? n : 1, sizeof **names);
  for (size_t i = 0; i < n; i++) {
    char err[160];
    (*names)[i] = cols[i].name;
    if (mock_type_parse(cols[i].type, &p->arena, &(*types)[i], err, sizeof err)) {
      fprintf(stderr, "cqlmux mock: column %s: %s\n", cols[i].name, err);
      return CQLMUX_ERR_INVALID_ARGUMENT;
    }
  }
  return CQLMUX_OK;
}

/* Type trees live in one arena sized from the type texts: a node per
 * identifier at most. */
static size_t arena_size(const cqlmux_mock_prime *s) {
  size_t chars = 0;
  for (size_t i = 0; i < s->column_count; i++) chars += strlen(s->columns[i].type) + 1;
  for (size_t i = 0; i < s->param_count; i++) chars += strlen(s->params[i].type) + 1;
  return (chars + 1) * (sizeof(cqlmux_typedesc) + 4 * sizeof(void *));
}

static int prime_prepare(mock_prime *p) {
  cqlmux_mock_prime *s = &p->spec;
  size_t size = arena_size(s);
  p->arena_buf = mock_xmalloc(size);
  cqlmux_arena_init(&p->arena, NULL, p->arena_buf, size);
  int rc = parse_columns(p, s->columns, s->column_count, &p->column_types, &p->column_names);
  if (!rc) rc = parse_columns(p, s->params, s->param_count, &p->param_types, &p->param_names);
  if (rc) return rc;
  p->row_offsets = mock_xcalloc(s->row_count + 1, sizeof *p->row_offsets);
  for (size_t r = 0; r < s->row_count; r++) {
    p->row_offsets[r] = p->rows.len;
    for (size_t c = 0; c < s->column_count; c++) {
      char err[160];
      const char *cell = s->cells[r * s->column_count + c];
      if (mock_value_parse(p->column_types[c], cell, &p->rows, err, sizeof err)) {
        fprintf(stderr, "cqlmux mock: row %zu column %s: %s\n", r, s->columns[c].name, err);
        return CQLMUX_ERR_INVALID_ARGUMENT;
      }
    }
  }
  p->row_offsets[s->row_count] = p->rows.len;
  mock_wbuf_check(&p->rows);
  return CQLMUX_OK;
}

/* Partition key indexes name distinct bind markers of the statement. */
static bool pk_valid(const cqlmux_mock_prime *spec) {
  if (spec->pk_count && !spec->pk_indexes) return false;
  for (size_t i = 0; i < spec->pk_count; i++) {
    if (spec->pk_indexes[i] >= spec->param_count) return false;
    for (size_t j = 0; j < i; j++)
      if (spec->pk_indexes[j] == spec->pk_indexes[i]) return false;
  }
  return true;
}

int cqlmux_mock_prime_add(cqlmux_mock *m, const cqlmux_mock_prime *spec) {
  if (!m || !spec || (!spec->query && !spec->prepared_id) ||
      spec->kind < CQLMUX_MOCK_RESULT_VOID || spec->kind > CQLMUX_MOCK_RESULT_SCHEMA_CHANGE ||
      (spec->column_count && !spec->columns) || (spec->param_count && !spec->params) ||
      (spec->row_count && spec->column_count && !spec->cells) ||
      (spec->warning_count && !spec->warnings) || spec->warning_count > UINT16_MAX)
    return CQLMUX_ERR_INVALID_ARGUMENT;
  if (!pk_valid(spec)) {
    fprintf(stderr, "cqlmux mock: partition key indexes must be distinct bind markers (0..%zu)\n",
            spec->param_count ? spec->param_count - 1 : 0);
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  mock_prime *p = prime_copy(spec);
  if (prime_prepare(p)) {
    prime_free(p);
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  pthread_mutex_lock(&m->mu);
  m->primes = mock_xrealloc(m->primes, (m->prime_count + 1) * sizeof *m->primes);
  m->primes[m->prime_count++] = p;
  pthread_mutex_unlock(&m->mu);
  return CQLMUX_OK;
}

static void primes_clear_locked(cqlmux_mock *m) {
  for (size_t i = 0; i < m->prime_count; i++) prime_free(m->primes[i]);
  mock_free(m->primes);
  m->primes = NULL;
  m->prime_count = 0;
}

void cqlmux_mock_prime_clear(cqlmux_mock *m) {
  pthread_mutex_lock(&m->mu);
  primes_clear_locked(m);
  pthread_mutex_unlock(&m->mu);
}

void mock_primes_free(cqlmux_mock *m) { primes_clear_locked(m); }

/* ------------------------------------------------------------ alter */

/* The old column a new one keeps the cells of: same name and type. */
static long kept_column(const cqlmux_mock_prime *old, const cqlmux_mock_column *col) {
  for (size_t j = 0; j < old->column_count; j++)
    if (!strcmp(old->columns[j].name, col->name) && !strcmp(old->columns[j].type, col->type))
      return (long)j;
  return -1;
}

/* The rows under the new columns: kept cells, null for the others. */
static const char **altered_cells(const cqlmux_mock_prime *old, const cqlmux_mock_column *cols,
                                  size_t n) {
  size_t total = old->row_count * n;
  const char **cells = mock_xcalloc(total ? total : 1, sizeof *cells);
  for (size_t c = 0; c < n; c++) {
    long j = kept_column(old, &cols[c]);
    for (size_t r = 0; j >= 0 && r < old->row_count; r++)
      cells[r * n + c] = old->cells[r * old->column_count + (size_t)j];
  }
  return cells;
}

static long prime_by_text(cqlmux_mock *m, const char *query) {
  for (size_t i = m->prime_count; i-- > 0;)
    if (m->primes[i]->spec.query && !strcmp(m->primes[i]->spec.query, query)) return (long)i;
  return -1;
}

int cqlmux_mock_prime_alter(cqlmux_mock *m, const char *query, const cqlmux_mock_column *columns,
                            size_t column_count) {
  if (!m || !query || (column_count && !columns)) return CQLMUX_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < column_count; i++)
    if (!columns[i].name || !columns[i].type) return CQLMUX_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&m->mu);
  long at = prime_by_text(m, query);
  int rc = at < 0 ? CQLMUX_ERR_NOT_FOUND : CQLMUX_OK;
  if (!rc) {
    const cqlmux_mock_prime *old = &m->primes[at]->spec;
    cqlmux_mock_prime spec = *old;
    spec.columns = columns;
    spec.column_count = column_count;
    spec.cells = altered_cells(old, columns, column_count);
    mock_prime *fresh = prime_copy(&spec);
    mock_free((void *)spec.cells);
    rc = prime_prepare(fresh) ? CQLMUX_ERR_INVALID_ARGUMENT : CQLMUX_OK;
    if (rc) {
      prime_free(fresh);
    } else {
      prime_free(m->primes[at]);
      m->primes[at] = fresh; /* same place: it keeps winning over older primes */
    }
  }
  pthread_mutex_unlock(&m->mu);
  return rc;
}

/* ------------------------------------------------------------ lookup */

static bool opcode_ok(const mock_prime *p, int op) {
  if (p->spec.opcode == CQLMUX_MOCK_ANY) return op != CQLMUX_OP_PREPARE;
  return p->spec.opcode == op;
}

static bool node_ok(const mock_prime *p, int node) {
  return p->spec.node == CQLMUX_MOCK_ANY || p->spec.node == node;
}

const mock_prime *mock_prime_find(cqlmux_mock *m, int node, int op, const char *text,
                                  size_t len) {
  for (size_t i = m->prime_count; i-- > 0;) {
    const mock_prime *p = m->primes[i];
    if (p->spec.query && node_ok(p, node) && opcode_ok(p, op) &&
        mock_text_match(p->spec.query, text, len))
      return p;
  }
  return NULL;
}

const mock_prime *mock_prime_find_id(cqlmux_mock *m, int node, const uint8_t *id, size_t len,
                                     bool prepared_here) {
  for (size_t i = m->prime_count; i-- > 0;) {
    const mock_prime *p = m->primes[i];
    const cqlmux_mock_prime *s = &p->spec;
    if (!node_ok(p, node) || !opcode_ok(p, CQLMUX_OP_EXECUTE)) continue;
    if (!prepared_here && s->query && !s->prepared_everywhere) continue;
    uint8_t hash[16];
    const uint8_t *pid = s->prepared_id;
    size_t plen = s->prepared_id_len;
    if (!pid) {
      size_t qlen = strlen(s->query);
      if (qlen && s->query[qlen - 1] == '*') continue; /* a pattern has no id */
      mock_query_id(s->query, qlen, hash);
      pid = hash;
      plen = sizeof hash;
    }
    if (plen == len && memcmp(pid, id, len) == 0) return p;
  }
  return NULL;
}

const mock_prime *mock_prime_for_execute(cqlmux_mock *m, int node, const uint8_t *id,
                                         size_t len) {
  const mock_prepared *known = mock_prepared_find(&m->nodes[node], id, len);
  const mock_prime *p = mock_prime_find_id(m, node, id, len, known != NULL);
  if (!p && known) p = mock_prime_find(m, node, CQLMUX_OP_EXECUTE, known->query, strlen(known->query));
  return p;
}

/* ------------------------------------------------------------ answers */

static mock_rows prime_rows(const mock_prime *p, size_t first, size_t count) {
  mock_rows r = {.keyspace = p->spec.keyspace,
                 .table = p->spec.table,
                 .column_count = p->spec.column_count,
                 .names = p->column_names,
                 .types = p->column_types,
                 .row_count = (int32_t)count,
                 .content = p->rows.data ? p->rows.data + p->row_offsets[first] : NULL,
                 .content_len = p->row_offsets[first + count] - p->row_offsets[first]};
  return r;
}

/* A page of the primed rows. The paging state is the next row's index.
 * A v5 EXECUTE that sent a stale result metadata id gets the current id
 * with METADATA_CHANGED and the full metadata (CASSANDRA-10786); one that
 * sent the current id and SKIP_METADATA gets none. */
static void answer_rows(const mock_prime *p, int version, const cqlmux_query_params_view *q,
                        const cqlmux_slice *metadata_id, cqlmux_wbuf *b) {
  size_t total = p->spec.row_count, first = 0, count = total;
  if (q && (q->flags & CQLMUX_QUERY_FLAG_PAGING_STATE) && q->paging_state.len == 4) {
    first = cqlmux_load_u32(q->paging_state.data);
    if (first > total) first = total;
    count = total - first;
  }
  if (q && (q->flags & CQLMUX_QUERY_FLAG_PAGE_SIZE) && q->page_size > 0 &&
      count > (size_t)q->page_size)
    count = (size_t)q->page_size;
  mock_rows r = prime_rows(p, first, count);
  uint8_t state[4];
  if (first + count < total) {
    cqlmux_store_u32(state, (uint32_t)(first + count));
    r.paging_state = state;
    r.paging_len = sizeof state;
  }
  r.no_metadata = q && (q->flags & CQLMUX_QUERY_FLAG_SKIP_METADATA);
  uint8_t current[MOCK_METADATA_ID_LEN];
  if (metadata_id && version >= CQLMUX_PROTO_V5) {
    mock_rows columns = prime_rows(p, 0, 0);
    mock_result_metadata_id(&columns, current);
    if (metadata_id->len != sizeof current || memcmp(metadata_id->data, current, sizeof current)) {
      r.new_metadata_id = current;
      r.no_metadata = false;
    }
  }
  mock_body_rows(b, version, &r);
}

static void answer_error(cqlmux_mock *m, const mock_prime *p, int version,
                         const cqlmux_query_params_view *q, cqlmux_wbuf *b) {
  const cqlmux_mock_prime *s = &p->spec;
  cqlmux_error_body e;
  memset(&e, 0, sizeof e);
  e.code = s->error_code;
  const char *msg = s->error_message ? s->error_message : "Primed error";
  e.message.data = (const uint8_t *)msg;
  e.message.len = strlen(msg);
  e.consistency = (uint16_t)(s->consistency >= 0 ? s->consistency : q ? q->consistency : 1);
  e.required = s->block_for;
  e.alive = s->alive;
  e.received = s->received;
  e.block_for = s->block_for;
  e.data_present = s->data_present;
  const char *wt = s->write_type ? s->write_type : "SIMPLE";
  e.write_type.data = (const uint8_t *)wt;
  e.write_type.len = strlen(wt);
  e.contentions = -1;
  e.num_failures = s->num_failures;
  /* v5 lists a reason per failed replica: the nodes' addresses in turn. */
  cqlmux_failure_reason reasons[CQLMUX_MOCK_MAX_NODES];
  int32_t nr = s->num_failures < CQLMUX_MOCK_MAX_NODES ? s->num_failures : CQLMUX_MOCK_MAX_NODES;
  for (int32_t i = 0; i < nr; i++) {
    memset(&reasons[i], 0, sizeof reasons[i]);
    reasons[i].endpoint.addr_len = 4;
    inet_pton(AF_INET, m->nodes[i % m->node_count].address, reasons[i].endpoint.addr);
  }
  e.reasons.count = nr;
  e.reasons.items = reasons;
  e.keyspace.data = (const uint8_t *)s->keyspace;
  e.keyspace.len = strlen(s->keyspace);
  const char *name = s->error_code == CQLMUX_CQL_FUNCTION_FAILURE ? s->function : s->table;
  e.name.data = (const uint8_t *)(name ? name : "");
  e.name.len = name ? strlen(name) : 0;
  cqlmux_schema_change args;
  mock_schema_change(&args, "", "", "", "", s->arg_types);
  e.arg_types = args.arg_types;
  uint8_t hash[16];
  if (s->prepared_id) {
    e.unprepared_id.data = s->prepared_id;
    e.unprepared_id.len = s->prepared_id_len;
  } else if (s->query) {
    mock_query_id(s->query, strlen(s->query), hash);
    e.unprepared_id.data = hash;
    e.unprepared_id.len = sizeof hash;
  }
  cqlmux_error_encode(b, version, &e);
  mock_free((void *)args.arg_types.items);
}

mock_answer mock_prime_answer(cqlmux_mock *m, const mock_prime *p, int version,
                              const cqlmux_query_params_view *q, const cqlmux_slice *metadata_id,
                              cqlmux_wbuf *b) {
  const cqlmux_mock_prime *s = &p->spec;
  mock_answer a = {.prime = p, .opcode = CQLMUX_OP_RESULT};
  switch (s->kind) {
  case CQLMUX_MOCK_RESULT_VOID:
    mock_body_void(b);
    break;
  case CQLMUX_MOCK_RESULT_ROWS:
    answer_rows(p, version, q, metadata_id, b);
    break;
  case CQLMUX_MOCK_RESULT_ERROR:
    answer_error(m, p, version, q, b);
    a.opcode = CQLMUX_OP_ERROR;
    a.error_code = s->error_code;
    break;
  case CQLMUX_MOCK_RESULT_SET_KEYSPACE:
    mock_body_set_keyspace(b, s->keyspace);
    break;
  case CQLMUX_MOCK_RESULT_SCHEMA_CHANGE:
    mock_body_schema_change(b, s->change ? s->change : "CREATED",
                            s->target ? s->target : "TABLE", s->keyspace, s->table,
                            s->arg_types);
    break;
  }
  return a;
}

void mock_prime_prepared(const mock_prime *p, int version, const uint8_t *id, size_t id_len,
                         cqlmux_wbuf *b) {
  if (!p) {
    mock_body_prepared(b, version, id, id_len, NULL, NULL);
    return;
  }
  mock_rows params = {.keyspace = p->spec.keyspace,
                      .table = p->spec.table,
                      .column_count = p->spec.param_count,
                      .names = p->param_names,
                      .types = p->param_types,
                      .pk = p->spec.pk_indexes,
                      .pk_count = p->spec.pk_count};
  mock_rows result = prime_rows(p, 0, 0);
  bool rows = p->spec.kind == CQLMUX_MOCK_RESULT_ROWS;
  mock_body_prepared(b, version, id, id_len, &params, rows ? &result : NULL);
}

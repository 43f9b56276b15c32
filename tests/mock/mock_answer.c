/* Response bodies of the mock, built with the codec's encoders
 * (proto/response.h). Functions that read scenario state run with
 * server->mu held. */
#include "config.h"

#include "mock/mock_internal.h"

#include <arpa/inet.h>
#include <string.h>

#include "proto/response.h"

static cqlmux_slice cslice(const char *s) {
  cqlmux_slice v = {(const uint8_t *)(s ? s : ""), s ? strlen(s) : 0};
  return v;
}

void mock_body_error(cqlmux_wbuf *b, int version, int32_t code, const char *msg) {
  cqlmux_error_body e;
  memset(&e, 0, sizeof e);
  e.code = code;
  e.message = cslice(msg);
  e.contentions = -1;
  cqlmux_error_encode(b, version, &e);
}

void mock_body_unprepared(cqlmux_wbuf *b, int version, const uint8_t *id, size_t len) {
  cqlmux_error_body e;
  memset(&e, 0, sizeof e);
  e.code = CQLMUX_CQL_UNPREPARED;
  e.message = cslice("Prepared query with ID not found (either the query was not prepared on "
                     "this host (maybe the host has been restarted?) or you have prepared too "
                     "many queries and it has been evicted from the internal cache)");
  e.unprepared_id.data = id;
  e.unprepared_id.len = len;
  e.contentions = -1;
  cqlmux_error_encode(b, version, &e);
}

void mock_body_supported(cqlmux_mock *m, cqlmux_wbuf *b) {
  cqlmux_slice cql[] = {cslice("3.4.7")};
  cqlmux_slice lz4[] = {cslice("lz4")};
  static const char *const names[] = {"3/v3", "4/v4", "5/v5"};
  cqlmux_slice versions[3];
  uint16_t nv = 0;
  for (unsigned v = 3; v <= 5; v++)
    if (m->cfg.versions & (1u << v)) versions[nv++] = cslice(names[v - 3]);
  cqlmux_supported_entry entries[] = {
      {cslice("CQL_VERSION"), {1, {NULL, 0}, cql}},
      {cslice("PROTOCOL_VERSIONS"), {nv, {NULL, 0}, versions}},
      {cslice("COMPRESSION"), {1, {NULL, 0}, lz4}},
  };
  cqlmux_supported s = {(uint16_t)(m->cfg.lz4 ? 3 : 2), {NULL, 0}, entries};
  cqlmux_supported_encode(b, &s);
}

void mock_body_authenticate(cqlmux_wbuf *b) {
  static const char cls[] = "org.apache.cassandra.auth.PasswordAuthenticator";
  cqlmux_write_string(b, cls, sizeof cls - 1);
}

/* PasswordAuthenticator ends the SASL exchange with a null token. */
void mock_body_auth_success(cqlmux_wbuf *b) {
  cqlmux_bytes none = {NULL, CQLMUX_VALUE_NULL};
  cqlmux_write_bytes(b, none);
}

void mock_body_void(cqlmux_wbuf *b) { cqlmux_write_i32(b, CQLMUX_RESULT_VOID); }

void mock_body_set_keyspace(cqlmux_wbuf *b, const char *ks) {
  cqlmux_result_msg r = {.kind = CQLMUX_RESULT_SET_KEYSPACE};
  r.keyspace = cslice(ks);
  cqlmux_result_encode(b, 4, &r);
}

/* Rows metadata with a global table spec: every column of ks.table. */
static void rows_meta(cqlmux_rows_metadata *meta, cqlmux_column_spec *specs, const mock_rows *r) {
  memset(meta, 0, sizeof *meta);
  for (size_t i = 0; i < r->column_count; i++) {
    specs[i].keyspace = cslice(r->keyspace);
    specs[i].table = cslice(r->table);
    specs[i].name = cslice(r->names[i]);
    specs[i].type = r->types[i];
  }
  meta->flags = CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC;
  meta->columns_count = (int32_t)r->column_count;
  meta->global_keyspace = cslice(r->keyspace);
  meta->global_table = cslice(r->table);
  meta->columns = specs;
  meta->paging_state.len = CQLMUX_VALUE_NULL;
}

void mock_body_rows(cqlmux_wbuf *b, int version, const mock_rows *r) {
  cqlmux_column_spec *specs = mock_xcalloc(r->column_count ? r->column_count : 1, sizeof *specs);
  cqlmux_result_msg res = {.kind = CQLMUX_RESULT_ROWS};
  rows_meta(&res.rows.meta, specs, r);
  if (r->no_metadata) res.rows.meta.flags |= CQLMUX_ROWS_FLAG_NO_METADATA;
  if (r->new_metadata_id) {
    res.rows.meta.flags |= CQLMUX_ROWS_FLAG_METADATA_CHANGED;
    res.rows.meta.new_metadata_id.data = r->new_metadata_id;
    res.rows.meta.new_metadata_id.len = MOCK_METADATA_ID_LEN;
  }
  if (r->paging_state) {
    res.rows.meta.flags |= CQLMUX_ROWS_FLAG_HAS_MORE_PAGES;
    res.rows.meta.paging_state.data = r->paging_state;
    res.rows.meta.paging_state.len = (int32_t)r->paging_len;
  }
  res.rows.rows_count = r->row_count;
  res.rows.content = r->content;
  res.rows.content_len = r->content_len;
  cqlmux_result_encode(b, version, &res);
  mock_free(specs);
}

/* Result columns as a PREPARED answer declares them: NULL is a statement
 * without result columns (NO_METADATA, 0 columns). */
static void result_meta(cqlmux_rows_metadata *meta, cqlmux_column_spec *specs,
                        const mock_rows *result) {
  mock_rows empty = {.keyspace = "ks", .table = "t"};
  rows_meta(meta, specs, result ? result : &empty);
  if (!result) meta->flags = CQLMUX_ROWS_FLAG_NO_METADATA;
}

void mock_result_metadata_id(const mock_rows *result, uint8_t out[MOCK_METADATA_ID_LEN]) {
  cqlmux_column_spec *cols = mock_xcalloc(result && result->column_count ? result->column_count : 1,
                                          sizeof *cols);
  cqlmux_rows_metadata meta;
  result_meta(&meta, cols, result);
  cqlmux_wbuf md;
  cqlmux_wbuf_init(&md, NULL, 0);
  cqlmux_rows_metadata_encode(&md, CQLMUX_PROTO_V5, &meta);
  mock_wbuf_check(&md);
  mock_query_id((const char *)md.data, md.len, out);
  cqlmux_wbuf_free(&md);
  mock_free(cols);
}

/* PREPARED: bind markers with the partition key's indexes (v4 on) and (for
 * a SELECT-like prime) result columns with their v5 metadata id. */
void mock_body_prepared(cqlmux_wbuf *b, int version, const uint8_t *id, size_t id_len,
                        const mock_rows *params, const mock_rows *result) {
  size_t nb = params ? params->column_count : 0, nr = result ? result->column_count : 0;
  cqlmux_column_spec *bind = mock_xcalloc(nb ? nb : 1, sizeof *bind);
  cqlmux_column_spec *cols = mock_xcalloc(nr ? nr : 1, sizeof *cols);
  cqlmux_result_msg res = {.kind = CQLMUX_RESULT_PREPARED};
  cqlmux_prepared_msg *p = &res.prepared;
  p->id.data = id;
  p->id.len = id_len;
  cqlmux_rows_metadata bind_meta;
  mock_rows empty = {.keyspace = "ks", .table = "t"};
  rows_meta(&bind_meta, bind, params ? params : &empty);
  p->flags = bind_meta.flags;
  p->bind_count = bind_meta.columns_count;
  if (params && version >= 4) {
    p->pk_count = (int32_t)params->pk_count;
    p->pk_items = params->pk;
  }
  p->global_keyspace = bind_meta.global_keyspace;
  p->global_table = bind_meta.global_table;
  p->bind_columns = bind;
  result_meta(&p->result, cols, result);
  uint8_t md_id[MOCK_METADATA_ID_LEN];
  mock_result_metadata_id(result, md_id);
  p->result_metadata_id.data = md_id;
  p->result_metadata_id.len = sizeof md_id;
  cqlmux_result_encode(b, version, &res);
  mock_free(bind);
  mock_free(cols);
}

void mock_body_schema_change(cqlmux_wbuf *b, const char *change, const char *target,
                             const char *keyspace, const char *name, const char *args) {
  cqlmux_result_msg res = {.kind = CQLMUX_RESULT_SCHEMA_CHANGE};
  mock_schema_change(&res.schema_change, change, target, keyspace, name, args);
  cqlmux_result_encode(b, 4, &res);
  mock_free((void *)res.schema_change.arg_types.items);
}

/* Fills a schema change; arg_types.items is allocated (the caller frees). */
void mock_schema_change(cqlmux_schema_change *s, const char *change, const char *target,
                        const char *keyspace, const char *name, const char *args) {
  memset(s, 0, sizeof *s);
  s->change_type = cslice(change);
  s->target = cslice(target);
  s->keyspace = cslice(keyspace);
  s->name = cslice(name);
  size_t n = 0;
  cqlmux_slice *items = mock_xcalloc(32, sizeof *items);
  for (const char *p = args; p && *p && n < 32;) {
    while (*p == ' ') p++;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    items[n].data = (const uint8_t *)p;
    items[n++].len = len;
    p = end ? end + 1 : p + len;
  }
  s->arg_types.count = (uint16_t)n;
  s->arg_types.items = items;
}

void mock_body_event(cqlmux_mock *m, cqlmux_wbuf *b, const cqlmux_mock_event *ev) {
  cqlmux_event e;
  memset(&e, 0, sizeof e);
  if (ev->type == CQLMUX_MOCK_EVENT_SCHEMA) {
    e.kind = CQLMUX_EVENT_SCHEMA_CHANGE;
    mock_schema_change(&e.schema, ev->change, ev->target ? ev->target : "KEYSPACE", ev->keyspace,
                       ev->name, ev->args);
    cqlmux_event_encode(b, &e);
    mock_free((void *)e.schema.arg_types.items);
    return;
  }
  e.kind = ev->type == CQLMUX_MOCK_EVENT_TOPOLOGY ? CQLMUX_EVENT_TOPOLOGY_CHANGE
                                                  : CQLMUX_EVENT_STATUS_CHANGE;
  e.change = cslice(ev->change);
  const mock_node *n = &m->nodes[ev->about_node];
  e.address.addr_len = 4;
  inet_pton(AF_INET, n->address, e.address.addr);
  e.address.port = n->port;
  cqlmux_event_encode(b, &e);
}

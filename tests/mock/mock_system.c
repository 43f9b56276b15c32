/* system.local, system.peers and system.peers_v2 as each node sees the
 * cluster, system_schema.keyspaces from the cluster's keyspaces, and the
 * other system_schema and system_virtual_schema tables empty. Values
 * are produced as text and encoded by the prime value parser. Runs with
 * server->mu held. */
#include "config.h"

#include "mock/mock_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/response.h"

typedef enum sys_table { SYS_LOCAL, SYS_PEERS, SYS_PEERS_V2 } sys_table;

typedef enum col_type {
  T_TEXT,
  T_INET,
  T_INT,
  T_UUID,
  T_BOOLEAN,
  T_TOKENS,
  T_TRUNCATED,
  T_REPLICATION
} col_type;

typedef struct sys_col {
  const char *name;
  col_type type;
} sys_col;

static const sys_col local_cols[] = {
    {"key", T_TEXT},           {"bootstrapped", T_TEXT},
    {"broadcast_address", T_INET}, {"broadcast_port", T_INT},
    {"cluster_name", T_TEXT},  {"cql_version", T_TEXT},
    {"data_center", T_TEXT},   {"gossip_generation", T_INT},
    {"host_id", T_UUID},       {"listen_address", T_INET},
    {"listen_port", T_INT},    {"native_protocol_version", T_TEXT},
    {"partitioner", T_TEXT},   {"rack", T_TEXT},
    {"release_version", T_TEXT}, {"rpc_address", T_INET},
    {"rpc_port", T_INT},       {"schema_version", T_UUID},
    {"tokens", T_TOKENS},      {"truncated_at", T_TRUNCATED},
};

static const sys_col peers_cols[] = {
    {"peer", T_INET},         {"data_center", T_TEXT},     {"host_id", T_UUID},
    {"preferred_ip", T_INET}, {"rack", T_TEXT},            {"release_version", T_TEXT},
    {"rpc_address", T_INET},  {"schema_version", T_UUID},  {"tokens", T_TOKENS},
};

static const sys_col peers_v2_cols[] = {
    {"peer", T_INET},           {"peer_port", T_INT},        {"data_center", T_TEXT},
    {"host_id", T_UUID},        {"native_address", T_INET},  {"native_port", T_INT},
    {"preferred_ip", T_INET},   {"preferred_port", T_INT},   {"rack", T_TEXT},
    {"release_version", T_TEXT}, {"schema_version", T_UUID}, {"tokens", T_TOKENS},
};

int mock_system_init(cqlmux_mock *m) {
  size_t size = 24 * (sizeof(cqlmux_typedesc) + 4 * sizeof(void *));
  m->sys_arena_buf = mock_xmalloc(size);
  cqlmux_arena_init(&m->sys_arena, NULL, m->sys_arena_buf, size);
  char err[64];
  if (mock_type_parse("set<text>", &m->sys_arena, &m->sys_tokens_type, err, sizeof err) ||
      mock_type_parse("map<uuid,blob>", &m->sys_arena, &m->sys_truncated_type, err, sizeof err) ||
      mock_type_parse("map<text,text>", &m->sys_arena, &m->sys_replication_type, err, sizeof err))
    return CQLMUX_ERR_NOMEM;
  return CQLMUX_OK;
}

void mock_system_free(cqlmux_mock *m) {
  cqlmux_arena_free(&m->sys_arena);
  mock_free(m->sys_arena_buf);
}

static const cqlmux_typedesc *type_of(cqlmux_mock *m, col_type t) {
  switch (t) {
  case T_TEXT: return cqlmux_type_native(CQLMUX_TYPE_TEXT);
  case T_INET: return cqlmux_type_native(CQLMUX_TYPE_INET);
  case T_INT: return cqlmux_type_native(CQLMUX_TYPE_INT);
  case T_UUID: return cqlmux_type_native(CQLMUX_TYPE_UUID);
  case T_BOOLEAN: return cqlmux_type_native(CQLMUX_TYPE_BOOLEAN);
  case T_REPLICATION: return m->sys_replication_type;
  case T_TOKENS: return m->sys_tokens_type;
  case T_TRUNCATED: return m->sys_truncated_type;
  }
  return NULL;
}

static void uuid_text(const uint8_t u[16], char out[37]) {
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
           u[13], u[14], u[15]);
}

/* The text of one cell, or NULL for a null cell. `self` is the node
 * answering, `row` the node the row describes. */
static const char *cell_text(cqlmux_mock *m, const mock_node *self, const mock_node *row,
                             const char *col, char *buf, size_t cap) {
  if (!strcmp(col, "key")) return "local";
  if (!strcmp(col, "bootstrapped")) return "COMPLETED";
  if (!strcmp(col, "cluster_name")) return m->cfg.cluster_name;
  if (!strcmp(col, "cql_version")) return "3.4.7";
  if (!strcmp(col, "data_center")) return row->dc;
  if (!strcmp(col, "rack")) return row->rack;
  if (!strcmp(col, "release_version")) return m->cfg.release_version;
  if (!strcmp(col, "partitioner")) return "org.apache.cassandra.dht.Murmur3Partitioner";
  if (!strcmp(col, "native_protocol_version")) return "5";
  if (!strcmp(col, "preferred_ip") || !strcmp(col, "preferred_port") ||
      !strcmp(col, "truncated_at"))
    return NULL;
  if (!strcmp(col, "broadcast_port") || !strcmp(col, "listen_port") || !strcmp(col, "peer_port"))
    return "7000";
  if (!strcmp(col, "rpc_port") || !strcmp(col, "native_port")) {
    snprintf(buf, cap, "%u", (unsigned)row->port);
    return buf;
  }
  if (!strcmp(col, "gossip_generation")) {
    snprintf(buf, cap, "%d", 1700000000 + self->index);
    return buf;
  }
  if (!strcmp(col, "host_id")) {
    uuid_text(row->host_id, buf);
    return buf;
  }
  if (!strcmp(col, "schema_version")) {
    uint8_t version[16];
    memcpy(version, m->schema_version, sizeof version);
    version[0] ^= row->schema_behind ? 0xff : 0; /* any other version will do */
    uuid_text(version, buf);
    return buf;
  }
  if (!strcmp(col, "tokens")) {
    size_t used = 0;
    buf[used++] = '{';
    for (int i = 0; i < row->token_count && used + 32 < cap; i++)
      used += (size_t)snprintf(buf + used, cap - used, "%s'%lld'", i ? "," : "",
                               (long long)row->tokens[i]);
    snprintf(buf + used, cap - used, "}");
    return buf;
  }
  return row->address; /* every inet column: the node's one address */
}

/* ------------------------------------------------------------ SELECT */

typedef struct select_stmt {
  char columns[24][40]; /* empty list: '*' */
  int column_count;
  char keyspace[32];
  char table[48];
  char where_keyspace[64]; /* WHERE keyspace_name = '...'; "" when absent */
} select_stmt;

static bool ident(const char **p, char *out, size_t cap) {
  while (isspace((unsigned char)**p)) (*p)++;
  bool quoted = **p == '"';
  if (quoted) (*p)++;
  size_t n = 0;
  while ((isalnum((unsigned char)(*p)[n]) || (*p)[n] == '_') && n + 1 < cap) {
    out[n] = quoted ? (*p)[n] : (char)tolower((unsigned char)(*p)[n]);
    n++;
  }
  out[n] = '\0';
  *p += n;
  if (quoted && **p == '"') (*p)++;
  return n > 0;
}

static bool keyword(const char **p, const char *kw) {
  while (isspace((unsigned char)**p)) (*p)++;
  size_t n = strlen(kw);
  if (strncasecmp(*p, kw, n) != 0 || isalnum((unsigned char)(*p)[n])) return false;
  *p += n;
  return true;
}

/* " WHERE keyspace_name = 'ks'" (how drivers refresh one keyspace) -> ks. */
static void parse_where_keyspace(const char *q, char *out, size_t cap) {
  char col[40];
  if (!keyword(&q, "where") || !ident(&q, col, sizeof col) || strcmp(col, "keyspace_name")) return;
  while (isspace((unsigned char)*q)) q++;
  if (*q++ != '=') return;
  while (isspace((unsigned char)*q)) q++;
  if (*q++ != '\'') return;
  const char *end = strchr(q, '\'');
  if (end && (size_t)(end - q) < cap) snprintf(out, cap, "%.*s", (int)(end - q), q);
}

static bool parse_select(const char *q, select_stmt *s) {
  memset(s, 0, sizeof *s);
  if (!keyword(&q, "select")) return false;
  while (isspace((unsigned char)*q)) q++;
  if (*q == '*') {
    q++;
  } else {
    do {
      if (s->column_count == 24 || !ident(&q, s->columns[s->column_count++], 40)) return false;
      while (isspace((unsigned char)*q)) q++;
    } while (*q == ',' && q++);
  }
  if (!keyword(&q, "from") || !ident(&q, s->keyspace, sizeof s->keyspace) || *q != '.') return false;
  q++;
  if (!ident(&q, s->table, sizeof s->table)) return false;
  parse_where_keyspace(q, s->where_keyspace, sizeof s->where_keyspace);
  return true;
}

static const sys_col *find_col(const sys_col *cols, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(cols[i].name, name)) return &cols[i];
  return NULL;
}

static mock_answer error(cqlmux_wbuf *b, int version, int32_t code, const char *msg) {
  mock_body_error(b, version, code, msg);
  return (mock_answer){.opcode = CQLMUX_OP_ERROR, .error_code = code};
}

/* Empty rows of system_schema: the selected columns as text, or for '*'
 * just keyspace_name; drivers then see a cluster without user schema. */
static mock_answer schema_table(const select_stmt *s, int version, cqlmux_wbuf *b) {
  const char *names[24];
  const cqlmux_typedesc *types[24];
  int n = s->column_count ? s->column_count : 1;
  for (int i = 0; i < n; i++) {
    names[i] = s->column_count ? s->columns[i] : "keyspace_name";
    types[i] = cqlmux_type_native(CQLMUX_TYPE_TEXT);
  }
  mock_rows r = {.keyspace = s->keyspace, .table = s->table, .column_count = (size_t)n,
                 .names = names, .types = types};
  mock_body_rows(b, version, &r);
  return (mock_answer){.opcode = CQLMUX_OP_RESULT};
}

/* system_schema.keyspaces: a row per keyspace of the cluster (or the one
 * the WHERE names), columns in Cassandra's order for '*'. */
static const sys_col keyspaces_cols[] = {
    {"keyspace_name", T_TEXT}, {"durable_writes", T_BOOLEAN}, {"replication", T_REPLICATION}};

static const char *keyspace_cell(const cqlmux_mock_keyspace *ks, const char *col, char *buf,
                                 size_t cap) {
  if (!strcmp(col, "keyspace_name")) return ks->name;
  if (!strcmp(col, "durable_writes")) return ks->durable_writes ? "true" : "false";
  mock_keyspace_replication_text(ks, buf, cap);
  return buf;
}

static mock_answer keyspaces_table(cqlmux_mock *m, const select_stmt *s, int version,
                                   cqlmux_wbuf *b) {
  size_t ncols = sizeof keyspaces_cols / sizeof *keyspaces_cols;
  size_t n = s->column_count ? (size_t)s->column_count : ncols;
  const char *names[24];
  const cqlmux_typedesc *types[24];
  for (size_t i = 0; i < n; i++) {
    const sys_col *col = s->column_count ? find_col(keyspaces_cols, ncols, s->columns[i])
                                         : &keyspaces_cols[i];
    if (!col) {
      char msg[128];
      snprintf(msg, sizeof msg, "Undefined column name %s in table system_schema.keyspaces",
               s->columns[i]);
      return error(b, version, CQLMUX_CQL_INVALID, msg);
    }
    names[i] = col->name;
    types[i] = type_of(m, col->type);
  }
  cqlmux_wbuf content;
  cqlmux_wbuf_init(&content, NULL, 0);
  int32_t rows = 0;
  for (int k = 0; k < m->keyspace_count; k++) {
    const cqlmux_mock_keyspace *ks = &m->keyspaces[k];
    if (s->where_keyspace[0] && strcmp(s->where_keyspace, ks->name)) continue;
    for (size_t i = 0; i < n; i++) {
      char buf[1024];
      mock_value_parse(types[i], keyspace_cell(ks, names[i], buf, sizeof buf), &content, NULL, 0);
    }
    rows++;
  }
  mock_wbuf_check(&content);
  mock_rows out = {.keyspace = "system_schema", .table = "keyspaces", .column_count = n,
                   .names = names, .types = types, .row_count = rows, .content = content.data,
                   .content_len = content.len};
  mock_body_rows(b, version, &out);
  cqlmux_wbuf_free(&content);
  return (mock_answer){.opcode = CQLMUX_OP_RESULT};
}

static int release_major(const cqlmux_mock *m) { return atoi(m->cfg.release_version); }

typedef struct sys_choice {
  sys_table table;
  const sys_col *cols; /* the table's columns */
  size_t ncols;
  const sys_col *chosen[24]; /* the selected ones, in order */
  size_t n;
} sys_choice;

/* Picks the table; false when it is not one of ours. peers_v2 exists from
 * Cassandra 4.0 on: older releases answer "unconfigured table". */
static bool choose_table(cqlmux_mock *m, const select_stmt *s, sys_choice *c) {
  if (!strcmp(s->table, "local")) {
    c->table = SYS_LOCAL, c->cols = local_cols, c->ncols = sizeof local_cols / sizeof *local_cols;
  } else if (!strcmp(s->table, "peers")) {
    c->table = SYS_PEERS, c->cols = peers_cols, c->ncols = sizeof peers_cols / sizeof *peers_cols;
  } else if (!strcmp(s->table, "peers_v2") && release_major(m) >= 4) {
    c->table = SYS_PEERS_V2, c->cols = peers_v2_cols;
    c->ncols = sizeof peers_v2_cols / sizeof *peers_v2_cols;
  } else {
    return false;
  }
  return true;
}

/* The selected columns; NULL, or the first unknown column name. */
static const char *choose_columns(const select_stmt *s, sys_choice *c) {
  size_t want = s->column_count ? (size_t)s->column_count : c->ncols;
  for (c->n = 0; c->n < want; c->n++) {
    const sys_col *col = s->column_count ? find_col(c->cols, c->ncols, s->columns[c->n])
                                         : &c->cols[c->n];
    if (!col) return s->columns[c->n];
    c->chosen[c->n] = col;
  }
  return NULL;
}

/* One row per node the table describes, as `node` sees the cluster. */
static void encode_rows(cqlmux_mock *m, int node, int version, const select_stmt *s,
                        const sys_choice *c, cqlmux_wbuf *b) {
  const char *names[24];
  const cqlmux_typedesc *types[24];
  for (size_t i = 0; i < c->n; i++) {
    names[i] = c->chosen[i]->name;
    types[i] = type_of(m, c->chosen[i]->type);
  }
  cqlmux_wbuf content;
  cqlmux_wbuf_init(&content, NULL, 0);
  const mock_node *self = &m->nodes[node];
  int32_t rows = 0;
  for (int r = 0; r < m->node_count; r++) {
    const mock_node *row = &m->nodes[r];
    if (c->table == SYS_LOCAL ? row != self : (row == self || row->removed)) continue;
    for (size_t i = 0; i < c->n; i++) {
      char buf[4096];
      const char *v = cell_text(m, self, row, c->chosen[i]->name, buf, sizeof buf);
      mock_value_parse(types[i], v, &content, NULL, 0);
    }
    rows++;
  }
  mock_wbuf_check(&content);
  mock_rows out = {.keyspace = "system", .table = s->table, .column_count = c->n, .names = names,
                   .types = types, .row_count = rows, .content = content.data,
                   .content_len = content.len};
  mock_body_rows(b, version, &out);
  cqlmux_wbuf_free(&content);
}

bool mock_system_answer(cqlmux_mock *m, int node, int version, const char *text, cqlmux_wbuf *b,
                        mock_answer *a) {
  select_stmt s;
  if (!parse_select(text, &s)) return false;
  if (!strcmp(s.keyspace, "system_schema") && !strcmp(s.table, "keyspaces")) {
    *a = keyspaces_table(m, &s, version, b);
    return true;
  }
  if (!strcmp(s.keyspace, "system_schema") || !strcmp(s.keyspace, "system_virtual_schema")) {
    *a = schema_table(&s, version, b);
    return true;
  }
  if (strcmp(s.keyspace, "system") != 0) return false;
  sys_choice c;
  char msg[128];
  if (!choose_table(m, &s, &c)) {
    if (strcmp(s.table, "peers_v2") != 0) return false;
    *a = error(b, version, CQLMUX_CQL_INVALID, "unconfigured table peers_v2");
    return true;
  }
  const char *unknown = choose_columns(&s, &c);
  if (unknown) {
    snprintf(msg, sizeof msg, "Undefined column name %s in table system.%s", unknown, s.table);
    *a = error(b, version, CQLMUX_CQL_INVALID, msg);
    return true;
  }
  encode_rows(m, node, version, &s, &c, b);
  *a = (mock_answer){.opcode = CQLMUX_OP_RESULT};
  return true;
}

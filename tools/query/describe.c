#include "describe.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ parsing */

static void skip_space(const char **p) {
  while (isspace((unsigned char)**p)) (*p)++;
}

static int keyword(const char **p, const char *word) {
  skip_space(p);
  size_t n = strlen(word);
  if (strncasecmp(*p, word, n) != 0 || isalnum((unsigned char)(*p)[n]) || (*p)[n] == '_') return 0;
  *p += n;
  return 1;
}

/* One CQL name into out: "quoted" as written ("" for a quote), unquoted
 * lower-cased. 0 when there is none or it does not fit. */
static int identifier(const char **p, char *out, size_t cap) {
  skip_space(p);
  size_t n = 0;
  if (**p == '"') {
    for ((*p)++; **p && n + 1 < cap; (*p)++) {
      if (**p == '"' && (*p)[1] != '"') break;
      if (**p == '"') (*p)++;
      out[n++] = **p;
    }
    if (**p != '"') return 0;
    (*p)++;
  } else {
    for (; (isalnum((unsigned char)**p) || **p == '_') && n + 1 < cap; (*p)++)
      out[n++] = (char)tolower((unsigned char)**p);
  }
  out[n] = '\0';
  return n > 0;
}

/* [ks.]name */
static int qualified(const char **p, describe_request *req) {
  if (!identifier(p, req->name, sizeof req->name)) return 0;
  if (**p != '.') return 1;
  (*p)++;
  memcpy(req->keyspace, req->name, sizeof req->keyspace);
  return identifier(p, req->name, sizeof req->name);
}

int describe_parse(const char *cql, describe_request *req) {
  const char *p = cql;
  memset(req, 0, sizeof *req);
  if (!keyword(&p, "describe") && !keyword(&p, "desc")) return 0;
  int ok;
  if (keyword(&p, "keyspaces")) {
    req->what = DESCRIBE_KEYSPACES, ok = 1;
  } else if (keyword(&p, "keyspace")) {
    req->what = DESCRIBE_KEYSPACE;
    ok = identifier(&p, req->keyspace, sizeof req->keyspace);
  } else if (keyword(&p, "table") || keyword(&p, "columnfamily")) {
    req->what = DESCRIBE_TABLE, ok = qualified(&p, req);
  } else {
    ok = 0;
  }
  skip_space(&p);
  return ok && *p == '\0' ? 1 : -1;
}

/* ------------------------------------------------------------ rendering */

/* A name as CQL must write it: quoted unless lower-case letters, digits
 * and underscores starting with a letter. */
static void add_name(strbuf *out, const char *name) {
  int plain = islower((unsigned char)name[0]);
  for (const char *c = name; plain && *c; c++)
    plain = islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_';
  if (plain) {
    strbuf_adds(out, name);
    return;
  }
  strbuf_addc(out, '"');
  for (const char *c = name; *c; c++) {
    if (*c == '"') strbuf_addc(out, '"');
    strbuf_addc(out, *c);
  }
  strbuf_addc(out, '"');
}

static void add_quoted_text(strbuf *out, const char *text) {
  strbuf_addc(out, '\'');
  for (const char *c = text; *c; c++) {
    if (*c == '\'') strbuf_addc(out, '\'');
    strbuf_addc(out, *c);
  }
  strbuf_addc(out, '\'');
}

static void add_column_list(strbuf *out, const cqlmux_schema_table *t, size_t from, size_t n) {
  for (size_t i = from; i < from + n; i++) {
    if (i > from) strbuf_adds(out, ", ");
    add_name(out, cqlmux_schema_column_name(cqlmux_schema_table_column_at(t, i)));
  }
}

/* PRIMARY KEY ((k1, k2), c1, c2) */
static void add_primary_key(strbuf *out, const cqlmux_schema_table *t) {
  size_t pk = cqlmux_schema_table_partition_key_count(t);
  size_t ck = cqlmux_schema_table_clustering_count(t);
  strbuf_adds(out, "PRIMARY KEY (");
  if (pk != 1) strbuf_addc(out, '(');
  add_column_list(out, t, 0, pk);
  if (pk != 1) strbuf_addc(out, ')');
  if (ck) strbuf_adds(out, ", ");
  add_column_list(out, t, pk, ck);
  strbuf_addc(out, ')');
}

/* WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC), when there are clustering
 * columns; then the statement's end. */
static void add_clustering_order(strbuf *out, const cqlmux_schema_table *t, int with) {
  size_t pk = cqlmux_schema_table_partition_key_count(t);
  size_t ck = cqlmux_schema_table_clustering_count(t);
  if (ck) {
    strbuf_adds(out, with ? " WITH CLUSTERING ORDER BY (" : " AND CLUSTERING ORDER BY (");
    for (size_t i = pk; i < pk + ck; i++) {
      const cqlmux_schema_column *c = cqlmux_schema_table_column_at(t, i);
      if (i > pk) strbuf_adds(out, ", ");
      add_name(out, cqlmux_schema_column_name(c));
      strbuf_adds(out, cqlmux_schema_column_clustering_order(c) == CQLMUX_CLUSTERING_DESC
                           ? " DESC"
                           : " ASC");
    }
    strbuf_addc(out, ')');
  }
  strbuf_adds(out, ";\n");
}

static void add_qualified(strbuf *out, const cqlmux_schema_table *t) {
  add_name(out, cqlmux_schema_table_keyspace(t));
  strbuf_addc(out, '.');
  add_name(out, cqlmux_schema_table_name(t));
}

static void render_table(strbuf *out, const cqlmux_schema_table *t) {
  strbuf_adds(out, "CREATE TABLE ");
  add_qualified(out, t);
  strbuf_adds(out, " (\n");
  for (size_t i = 0; i < cqlmux_schema_table_column_count(t); i++) {
    const cqlmux_schema_column *c = cqlmux_schema_table_column_at(t, i);
    strbuf_adds(out, "    ");
    add_name(out, cqlmux_schema_column_name(c));
    strbuf_addf(out, " %s%s,\n", cqlmux_schema_column_type(c),
                cqlmux_schema_column_kind(c) == CQLMUX_COLUMN_STATIC ? " static" : "");
  }
  strbuf_adds(out, "    ");
  add_primary_key(out, t);
  strbuf_adds(out, "\n)");
  add_clustering_order(out, t, 1);
}

static void render_view(strbuf *out, const cqlmux_schema_table *v) {
  strbuf_adds(out, "CREATE MATERIALIZED VIEW ");
  add_qualified(out, v);
  strbuf_adds(out, " AS\n    SELECT ");
  add_column_list(out, v, 0, cqlmux_schema_table_column_count(v));
  strbuf_adds(out, "\n    FROM ");
  add_name(out, cqlmux_schema_table_keyspace(v));
  strbuf_addc(out, '.');
  add_name(out, cqlmux_schema_table_base_table(v));
  strbuf_addf(out, "\n    WHERE %s\n    ", cqlmux_schema_table_where_clause(v));
  add_primary_key(out, v);
  add_clustering_order(out, v, 1);
}

static void render_type(strbuf *out, const char *keyspace, const cqlmux_schema_type *t) {
  strbuf_adds(out, "CREATE TYPE ");
  add_name(out, keyspace);
  strbuf_addc(out, '.');
  add_name(out, cqlmux_schema_type_name(t));
  strbuf_adds(out, " (\n");
  size_t n = cqlmux_schema_type_field_count(t);
  for (size_t i = 0; i < n; i++) {
    strbuf_adds(out, "    ");
    add_name(out, cqlmux_schema_type_field_name(t, i));
    strbuf_addf(out, " %s%s\n", cqlmux_schema_type_field_type(t, i), i + 1 < n ? "," : "");
  }
  strbuf_adds(out, ");\n");
}

static void render_keyspace(strbuf *out, const cqlmux_schema_keyspace *ks) {
  const char *name = cqlmux_schema_keyspace_name(ks);
  strbuf_adds(out, "CREATE KEYSPACE ");
  add_name(out, name);
  strbuf_adds(out, " WITH replication = {");
  for (size_t i = 0; i < cqlmux_schema_keyspace_replication_count(ks); i++) {
    const char *key, *value;
    cqlmux_schema_keyspace_replication_at(ks, i, &key, &value);
    strbuf_adds(out, i ? ", " : "");
    add_quoted_text(out, key);
    strbuf_adds(out, ": ");
    add_quoted_text(out, value);
  }
  strbuf_addf(out, "} AND durable_writes = %s;\n",
              cqlmux_schema_keyspace_durable_writes(ks) ? "true" : "false");
  for (size_t i = 0; i < cqlmux_schema_keyspace_type_count(ks); i++) {
    strbuf_addc(out, '\n');
    render_type(out, name, cqlmux_schema_keyspace_type_at(ks, i));
  }
  for (size_t i = 0; i < cqlmux_schema_keyspace_table_count(ks); i++) {
    strbuf_addc(out, '\n');
    render_table(out, cqlmux_schema_keyspace_table_at(ks, i));
  }
  for (size_t i = 0; i < cqlmux_schema_keyspace_view_count(ks); i++) {
    strbuf_addc(out, '\n');
    render_view(out, cqlmux_schema_keyspace_view_at(ks, i));
  }
}

int describe_render(const cqlmux_schema *schema, const describe_request *req, strbuf *out,
                    char *err, size_t err_cap) {
  if (req->what == DESCRIBE_KEYSPACES) {
    for (size_t i = 0; i < cqlmux_schema_keyspace_count(schema); i++)
      strbuf_addf(out, "%s\n", cqlmux_schema_keyspace_name(cqlmux_schema_keyspace_at(schema, i)));
    return 0;
  }
  const cqlmux_schema_keyspace *ks = cqlmux_schema_find_keyspace(schema, req->keyspace);
  if (!ks) {
    snprintf(err, err_cap, "keyspace '%s' not found", req->keyspace);
    return -1;
  }
  if (req->what == DESCRIBE_KEYSPACE) {
    render_keyspace(out, ks);
    return 0;
  }
  const cqlmux_schema_table *t = cqlmux_schema_keyspace_find_table(ks, req->name);
  if (!t) {
    snprintf(err, err_cap, "table '%s' not found in keyspace '%s'", req->name, req->keyspace);
    return -1;
  }
  render_table(out, t);
  return 0;
}

/* The public schema metadata API (include/cqlmux.h): the session's
 * snapshot, and read-only accessors over it (lib/cluster/schema.h). Every
 * accessor is a plain read of immutable memory: any thread, no lock. A
 * NULL object reads as empty (0, NULL). */
#include <string.h>

#include "api/session.h"
#include "cluster/cluster.h"
#include "cluster/schema.h"

const cqlmux_schema *cqlmux_session_schema(cqlmux_session *session) {
  return session && session->cluster ? cqlmux_cluster_schema(session->cluster) : NULL;
}

uint64_t cqlmux_session_schema_version(const cqlmux_session *session) {
  return session && session->cluster ? cqlmux_cluster_schema_version(session->cluster) : 0;
}

void cqlmux_schema_free(const cqlmux_schema *schema) { cqlmux_schema_release(schema); }

uint64_t cqlmux_schema_version(const cqlmux_schema *schema) { return schema ? schema->version : 0; }

/* Binary search by name over `count` items of `size` bytes whose name is
 * at `name_of(item)`; NULL when absent. */
static const void *find_named(const void *items, size_t count, size_t size,
                              const char *(*name_of)(const void *), const char *name) {
  if (!items || !name) return NULL;
  size_t lo = 0, hi = count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const void *item = (const char *)items + mid * size;
    int c = strcmp(name_of(item), name);
    if (c == 0) return item;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* ------------------------------------------------------------ keyspaces */

static const char *keyspace_name_of(const void *k) {
  return ((const cqlmux_schema_keyspace *)k)->name;
}

size_t cqlmux_schema_keyspace_count(const cqlmux_schema *schema) {
  return schema ? schema->keyspaces.count : 0;
}

const cqlmux_schema_keyspace *cqlmux_schema_keyspace_at(const cqlmux_schema *schema,
                                                        size_t index) {
  if (index >= cqlmux_schema_keyspace_count(schema)) return NULL;
  return (const cqlmux_schema_keyspace *)schema->keyspaces.items + index;
}

const cqlmux_schema_keyspace *cqlmux_schema_find_keyspace(const cqlmux_schema *schema,
                                                          const char *name) {
  if (!schema) return NULL;
  return find_named(schema->keyspaces.items, schema->keyspaces.count,
                    sizeof(cqlmux_schema_keyspace), keyspace_name_of, name);
}

const char *cqlmux_schema_keyspace_name(const cqlmux_schema_keyspace *ks) {
  return ks ? ks->name : NULL;
}

int cqlmux_schema_keyspace_durable_writes(const cqlmux_schema_keyspace *ks) {
  return ks && ks->durable_writes;
}

size_t cqlmux_schema_keyspace_replication_count(const cqlmux_schema_keyspace *ks) {
  return ks ? ks->replication_count : 0;
}

int cqlmux_schema_keyspace_replication_at(const cqlmux_schema_keyspace *ks, size_t index,
                                          const char **key, const char **value) {
  if (!key || !value) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (index >= cqlmux_schema_keyspace_replication_count(ks)) return CQLMUX_ERR_NOT_FOUND;
  *key = ks->replication[2 * index];
  *value = ks->replication[2 * index + 1];
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ tables, views, types */

static const char *table_name_of(const void *t) {
  return ((const cqlmux_schema_table *)t)->id.name;
}

static const char *type_name_of(const void *t) { return ((const cqlmux_schema_type *)t)->id.name; }

size_t cqlmux_schema_keyspace_table_count(const cqlmux_schema_keyspace *ks) {
  return ks ? ks->table_count : 0;
}

const cqlmux_schema_table *cqlmux_schema_keyspace_table_at(const cqlmux_schema_keyspace *ks,
                                                           size_t index) {
  return index < cqlmux_schema_keyspace_table_count(ks) ? &ks->tables[index] : NULL;
}

const cqlmux_schema_table *cqlmux_schema_keyspace_find_table(const cqlmux_schema_keyspace *ks,
                                                             const char *name) {
  if (!ks) return NULL;
  return find_named(ks->tables, ks->table_count, sizeof *ks->tables, table_name_of, name);
}

size_t cqlmux_schema_keyspace_view_count(const cqlmux_schema_keyspace *ks) {
  return ks ? ks->view_count : 0;
}

const cqlmux_schema_table *cqlmux_schema_keyspace_view_at(const cqlmux_schema_keyspace *ks,
                                                          size_t index) {
  return index < cqlmux_schema_keyspace_view_count(ks) ? &ks->views[index] : NULL;
}

const cqlmux_schema_table *cqlmux_schema_keyspace_find_view(const cqlmux_schema_keyspace *ks,
                                                            const char *name) {
  if (!ks) return NULL;
  return find_named(ks->views, ks->view_count, sizeof *ks->views, table_name_of, name);
}

size_t cqlmux_schema_keyspace_type_count(const cqlmux_schema_keyspace *ks) {
  return ks ? ks->type_count : 0;
}

const cqlmux_schema_type *cqlmux_schema_keyspace_type_at(const cqlmux_schema_keyspace *ks,
                                                         size_t index) {
  return index < cqlmux_schema_keyspace_type_count(ks) ? &ks->types[index] : NULL;
}

const cqlmux_schema_type *cqlmux_schema_keyspace_find_type(const cqlmux_schema_keyspace *ks,
                                                           const char *name) {
  if (!ks) return NULL;
  return find_named(ks->types, ks->type_count, sizeof *ks->types, type_name_of, name);
}

/* ------------------------------------------------------------ one table or view */

const char *cqlmux_schema_table_keyspace(const cqlmux_schema_table *t) {
  return t ? t->id.keyspace : NULL;
}

const char *cqlmux_schema_table_name(const cqlmux_schema_table *t) { return t ? t->id.name : NULL; }

const char *cqlmux_schema_table_base_table(const cqlmux_schema_table *t) {
  return t ? t->base_table : NULL;
}

const char *cqlmux_schema_table_where_clause(const cqlmux_schema_table *t) {
  return t ? t->where_clause : NULL;
}

size_t cqlmux_schema_table_column_count(const cqlmux_schema_table *t) {
  return t ? t->column_count : 0;
}

size_t cqlmux_schema_table_partition_key_count(const cqlmux_schema_table *t) {
  return t ? t->partition_key_count : 0;
}

size_t cqlmux_schema_table_clustering_count(const cqlmux_schema_table *t) {
  return t ? t->clustering_count : 0;
}

const cqlmux_schema_column *cqlmux_schema_table_column_at(const cqlmux_schema_table *t,
                                                          size_t index) {
  return index < cqlmux_schema_table_column_count(t) ? &t->columns[index] : NULL;
}

/* Columns are in key order, not name order: a linear scan (tables have
 * tens of columns). */
const cqlmux_schema_column *cqlmux_schema_table_find_column(const cqlmux_schema_table *t,
                                                            const char *name) {
  for (size_t i = 0; name && i < cqlmux_schema_table_column_count(t); i++)
    if (!strcmp(t->columns[i].name, name)) return &t->columns[i];
  return NULL;
}

/* ------------------------------------------------------------ columns, fields */

const char *cqlmux_schema_column_name(const cqlmux_schema_column *c) { return c ? c->name : NULL; }

const char *cqlmux_schema_column_type(const cqlmux_schema_column *c) { return c ? c->type : NULL; }

cqlmux_column_kind cqlmux_schema_column_kind(const cqlmux_schema_column *c) {
  return c ? c->kind : CQLMUX_COLUMN_REGULAR;
}

int cqlmux_schema_column_position(const cqlmux_schema_column *c) { return c ? c->position : -1; }

cqlmux_clustering_order cqlmux_schema_column_clustering_order(const cqlmux_schema_column *c) {
  return c ? c->order : CQLMUX_CLUSTERING_NONE;
}

const char *cqlmux_schema_type_name(const cqlmux_schema_type *t) { return t ? t->id.name : NULL; }

size_t cqlmux_schema_type_field_count(const cqlmux_schema_type *t) {
  return t ? t->field_count : 0;
}

const char *cqlmux_schema_type_field_name(const cqlmux_schema_type *t, size_t index) {
  return index < cqlmux_schema_type_field_count(t) ? t->fields[index].name : NULL;
}

const char *cqlmux_schema_type_field_type(const cqlmux_schema_type *t, size_t index) {
  return index < cqlmux_schema_type_field_count(t) ? t->fields[index].type : NULL;
}

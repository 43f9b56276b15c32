/* Schema metadata: the rows of system_schema (keyspaces, tables, columns,
 * views, types) as one immutable, reference-counted snapshot.
 *
 * Building. The control connection reads the tables one after the other
 * (cqlmux_schema_query gives each step's CQL) and hands each ROWS result
 * to a builder, which copies what it needs (the result's memory is reused
 * for the next answer). cqlmux_schema_builder_finish sorts the records and
 * links them: columns to their table or view, tables, views and types to
 * their keyspace. A record whose keyspace (or table) is not in the read is
 * dropped: a table created between two of the reads shows at the next.
 *
 * Layout. Everything lives in five sorted arrays and a string pool owned
 * by the snapshot: a keyspace points at its run of tables, views and
 * types, a table at its run of columns. Nothing moves after finish, so the
 * pointers handed to the application stay valid as long as the snapshot.
 *
 * Sharing. The snapshot is immutable once built; any thread reads it.
 * Holders count references (cqlmux_schema_hold / _release); the cluster
 * holds the published one (schema_publish.c). */
#ifndef CQLMUX_CLUSTER_SCHEMA_H
#define CQLMUX_CLUSTER_SCHEMA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"
#include "proto/response.h"
#include "runtime/alloc.h"

/* The reads of one refresh, in order. */
typedef enum cqlmux_schema_step {
  CQLMUX_SCHEMA_KEYSPACES = 0,
  CQLMUX_SCHEMA_TABLES,
  CQLMUX_SCHEMA_COLUMNS,
  CQLMUX_SCHEMA_VIEWS,
  CQLMUX_SCHEMA_TYPES,
  CQLMUX_SCHEMA_STEPS
} cqlmux_schema_step;

struct cqlmux_schema_column {
  const char *keyspace, *table; /* for linking (into the pool) */
  const char *name;
  const char *type;             /* CQL text */
  cqlmux_column_kind kind;
  int position;                 /* -1 for static and regular */
  cqlmux_clustering_order order;
};

/* What tables, views and types start with (their sort key). */
typedef struct cqlmux_schema_name {
  const char *keyspace, *name;
} cqlmux_schema_name;

struct cqlmux_schema_table {
  cqlmux_schema_name id;
  const char *base_table;       /* views: the base table; NULL for a table */
  const char *where_clause;     /* views only */
  const cqlmux_schema_column *columns;
  size_t column_count, partition_key_count, clustering_count;
};

typedef struct cqlmux_schema_field {
  const char *name, *type;
} cqlmux_schema_field;

struct cqlmux_schema_type {
  cqlmux_schema_name id;
  const cqlmux_schema_field *fields;
  size_t field_count;
  size_t first_field;           /* while building: index into the fields array */
};

struct cqlmux_schema_keyspace {
  const char *name;
  bool durable_writes;
  const char *const *replication; /* key, value, key, value ... */
  size_t replication_count;       /* pairs */
  size_t first_pair;            /* while building: index into the pairs array (of strings) */
  const cqlmux_schema_table *tables, *views;
  size_t table_count, view_count;
  const cqlmux_schema_type *types;
  size_t type_count;
};

/* A block of the string pool: strings are appended, never moved. */
typedef struct cqlmux_schema_chunk {
  struct cqlmux_schema_chunk *next;
  size_t used, cap;
  char data[];
} cqlmux_schema_chunk;

/* A growable array of records of one kind. */
typedef struct cqlmux_schema_array {
  void *items;
  size_t count, cap, item_size;
} cqlmux_schema_array;

struct cqlmux_schema {
  atomic_uint refs;
  uint64_t version;
  cqlmux_allocator alloc;       /* a copy: a snapshot may outlive its session */
  cqlmux_schema_array keyspaces, tables, views, columns, types, pairs, fields;
  cqlmux_schema_chunk *strings;
  bool out_of_memory;           /* while building: a copy failed */
};

/* The CQL of one step (static storage). */
const char *cqlmux_schema_query(cqlmux_schema_step step);

/* A snapshot under construction (not shared until finished). */
typedef struct cqlmux_schema_builder {
  cqlmux_schema *schema;
} cqlmux_schema_builder;

/* Starts a snapshot. Returns OK or NOMEM. */
int cqlmux_schema_builder_init(cqlmux_schema_builder *b, const cqlmux_allocator *alloc);

/* Takes the rows of one step's query. A row missing a name is skipped
 * (never trusted); a column missing from the result leaves its field at
 * its default. Returns OK, NOMEM, or MALFORMED when a name column
 * (keyspace_name ...) is absent from the result. */
int cqlmux_schema_builder_add(cqlmux_schema_builder *b, cqlmux_schema_step step,
                              const cqlmux_rows *rows);

/* Sorts and links the records into a snapshot of `version` with one
 * reference (the caller's); the builder is then empty. Returns OK or NOMEM
 * (the builder is then discarded, *out untouched). */
int cqlmux_schema_builder_finish(cqlmux_schema_builder *b, uint64_t version, cqlmux_schema **out);

/* Drops an unfinished builder. Accepts an empty one. */
void cqlmux_schema_builder_discard(cqlmux_schema_builder *b);

/* Another reference to s (which the caller holds or publishes). */
void cqlmux_schema_hold(const cqlmux_schema *s);

/* Drops a reference; the last frees the snapshot. Accepts NULL. */
void cqlmux_schema_release(const cqlmux_schema *s);

#endif

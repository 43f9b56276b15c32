/* Schema snapshots built from system_schema rows (lib/cluster/schema.h),
 * read through the public accessors. The rows are encoded as a server
 * would send them (the mock's encoder) and decoded by lib/proto, so the
 * builder sees exactly what the control connection hands it. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/schema.h"
#include "runtime/alloc.h"
#include "cqlmux.h"
#include "mock/mock_internal.h"
#include "proto/arena.h"
#include "proto/response.h"

#define MAX_COLS 8
#define MAX_ROWS 16

/* One result: column names and CQL types, rows of cells (NULL: null). */
typedef struct table_spec {
  const char *names[MAX_COLS];
  const char *types[MAX_COLS];
  const char *cells[MAX_ROWS][MAX_COLS];
} table_spec;

/* A decoded ROWS result (its memory kept until rows_free). */
typedef struct decoded {
  cqlmux_wbuf body;
  cqlmux_arena arena;
  cqlmux_result_msg msg;
} decoded;

static size_t count_of(const char *const *a, size_t cap) {
  size_t n = 0;
  while (n < cap && a[n]) n++;
  return n;
}

static void rows_make(const table_spec *spec, decoded *d) {
  static char types_arena[8192];
  cqlmux_arena types;
  cqlmux_arena_init(&types, NULL, types_arena, sizeof types_arena);
  size_t ncols = count_of(spec->names, MAX_COLS), nrows = 0;
  const cqlmux_typedesc *t[MAX_COLS];
  char err[128];
  for (size_t i = 0; i < ncols; i++)
    cr_assert_eq(mock_type_parse(spec->types[i], &types, &t[i], err, sizeof err), CQLMUX_OK, "%s",
                 err);
  cqlmux_wbuf content;
  cqlmux_wbuf_init(&content, NULL, 0);
  for (; nrows < MAX_ROWS && spec->cells[nrows][0]; nrows++)
    for (size_t i = 0; i < ncols; i++)
      cr_assert_eq(mock_value_parse(t[i], spec->cells[nrows][i], &content, err, sizeof err),
                   CQLMUX_OK, "%s", err);
  mock_rows r = {.keyspace = "system_schema", .table = "any", .column_count = ncols,
                 .names = spec->names, .types = t, .row_count = (int32_t)nrows,
                 .content = content.data, .content_len = content.len};
  cqlmux_wbuf_init(&d->body, NULL, 0);
  mock_body_rows(&d->body, 5, &r);
  cqlmux_wbuf_free(&content);
  cqlmux_arena_init(&d->arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(5, d->body.data, d->body.len, &d->arena, &d->msg), CQLMUX_OK);
  cr_assert_eq(d->msg.kind, CQLMUX_RESULT_ROWS);
  cr_assert_eq(d->msg.rows.rows_count, (int32_t)nrows);
}

static void rows_free(decoded *d) {
  cqlmux_arena_free(&d->arena);
  cqlmux_wbuf_free(&d->body);
}

/* A small schema: keyspace app (SimpleStrategy 3, not durable) with a
 * table t (two partition key columns, two clustering columns ASC/DESC, a
 * static, two regular columns, listed out of order as a server may), a
 * view t_by_a, a type addr; a table of a keyspace that is not in the read. */
static const table_spec KEYSPACES = {
    {"keyspace_name", "durable_writes", "replication"},
    {"text", "boolean", "map<text,text>"},
    {{"app", "false", "{'class': 'org.apache.cassandra.locator.SimpleStrategy', "
                      "'replication_factor': '3'}"},
     {"Other", "true", "{'class': 'org.apache.cassandra.locator.LocalStrategy'}"}}};

static const table_spec TABLES = {{"keyspace_name", "table_name"},
                                  {"text", "text"},
                                  {{"app", "t"}, {"app", "T2"}, {"ghost", "t"}}};

static const table_spec COLUMNS = {
    {"keyspace_name", "table_name", "column_name", "kind", "position", "clustering_order", "type"},
    {"text", "text", "text", "text", "int", "text", "text"},
    {{"app", "t", "v", "regular", "-1", "none", "frozen<map<text, int>>"},
     {"app", "t", "k2", "partition_key", "1", "none", "text"},
     {"app", "t", "c2", "clustering", "1", "desc", "timeuuid"},
     {"app", "t", "s", "static", "-1", "none", "int"},
     {"app", "t", "k1", "partition_key", "0", "none", "int"},
     {"app", "t", "c1", "clustering", "0", "asc", "bigint"},
     {"app", "t", "a", "regular", "-1", "none", "addr"},
     {"app", "t_by_a", "a", "partition_key", "0", "none", "addr"},
     {"app", "t_by_a", "k1", "clustering", "0", "asc", "int"},
     {"ghost", "t", "x", "partition_key", "0", "none", "int"}}};

static const table_spec VIEWS = {
    {"keyspace_name", "view_name", "base_table_name", "where_clause"},
    {"text", "text", "text", "text"},
    {{"app", "t_by_a", "t", "a IS NOT NULL AND k1 IS NOT NULL"}}};

static const table_spec TYPES = {{"keyspace_name", "type_name", "field_names", "field_types"},
                                 {"text", "text", "frozen<list<text>>", "frozen<list<text>>"},
                                 {{"app", "addr", "['street', 'zip']", "['text', 'int']"}}};

static const table_spec *const ALL[CQLMUX_SCHEMA_STEPS] = {&KEYSPACES, &TABLES, &COLUMNS, &VIEWS,
                                                          &TYPES};

/* Builds the small schema with `alloc`; returns the builder's code. */
static int build(const cqlmux_allocator *alloc, cqlmux_schema **out) {
  cqlmux_schema_builder b;
  int rc = cqlmux_schema_builder_init(&b, alloc);
  for (int step = 0; rc == CQLMUX_OK && step < CQLMUX_SCHEMA_STEPS; step++) {
    decoded d;
    rows_make(ALL[step], &d);
    rc = cqlmux_schema_builder_add(&b, (cqlmux_schema_step)step, &d.msg.rows);
    rows_free(&d);
  }
  if (rc == CQLMUX_OK) return cqlmux_schema_builder_finish(&b, 7, out);
  cqlmux_schema_builder_discard(&b);
  return rc;
}

static const cqlmux_schema *small_schema(void) {
  cqlmux_schema *s = NULL;
  cr_assert_eq(build(cqlmux_default_allocator(), &s), CQLMUX_OK);
  return s;
}

Test(schema_units, keyspaces_in_name_order_with_their_replication_map) {
  const cqlmux_schema *s = small_schema();
  cr_assert_eq(cqlmux_schema_version(s), 7);
  cr_assert_eq(cqlmux_schema_keyspace_count(s), 2);
  /* Bytewise: "Other" < "app". */
  cr_assert_str_eq(cqlmux_schema_keyspace_name(cqlmux_schema_keyspace_at(s, 0)), "Other");
  cr_assert_null(cqlmux_schema_keyspace_at(s, 2));
  const cqlmux_schema_keyspace *ks = cqlmux_schema_find_keyspace(s, "app");
  cr_assert_not_null(ks);
  cr_assert_null(cqlmux_schema_find_keyspace(s, "APP"), "names match exactly");
  cr_assert_null(cqlmux_schema_find_keyspace(s, "ghost"), "a table alone makes no keyspace");
  cr_assert_eq(cqlmux_schema_keyspace_durable_writes(ks), 0);
  cr_assert_eq(cqlmux_schema_keyspace_replication_count(ks), 2);
  const char *key, *value;
  cr_assert_eq(cqlmux_schema_keyspace_replication_at(ks, 0, &key, &value), CQLMUX_OK);
  cr_assert_str_eq(key, "class");
  cr_assert_str_eq(value, "org.apache.cassandra.locator.SimpleStrategy");
  cr_assert_eq(cqlmux_schema_keyspace_replication_at(ks, 1, &key, &value), CQLMUX_OK);
  cr_assert_str_eq(key, "replication_factor");
  cr_assert_str_eq(value, "3");
  cr_assert_eq(cqlmux_schema_keyspace_replication_at(ks, 2, &key, &value), CQLMUX_ERR_NOT_FOUND);
  cqlmux_schema_free(s);
}

/* Expected columns of app.t in primary-key order. */
typedef struct want_column {
  const char *name, *type;
  cqlmux_column_kind kind;
  int position;
  cqlmux_clustering_order order;
} want_column;

Test(schema_units, columns_in_primary_key_order_with_kind_position_and_clustering_order) {
  static const want_column want[] = {
      {"k1", "int", CQLMUX_COLUMN_PARTITION_KEY, 0, CQLMUX_CLUSTERING_NONE},
      {"k2", "text", CQLMUX_COLUMN_PARTITION_KEY, 1, CQLMUX_CLUSTERING_NONE},
      {"c1", "bigint", CQLMUX_COLUMN_CLUSTERING, 0, CQLMUX_CLUSTERING_ASC},
      {"c2", "timeuuid", CQLMUX_COLUMN_CLUSTERING, 1, CQLMUX_CLUSTERING_DESC},
      {"a", "addr", CQLMUX_COLUMN_REGULAR, -1, CQLMUX_CLUSTERING_NONE},
      {"s", "int", CQLMUX_COLUMN_STATIC, -1, CQLMUX_CLUSTERING_NONE},
      {"v", "frozen<map<text, int>>", CQLMUX_COLUMN_REGULAR, -1, CQLMUX_CLUSTERING_NONE},
  };
  const cqlmux_schema *s = small_schema();
  const cqlmux_schema_keyspace *ks = cqlmux_schema_find_keyspace(s, "app");
  cr_assert_eq(cqlmux_schema_keyspace_table_count(ks), 2);
  cr_assert_str_eq(cqlmux_schema_table_name(cqlmux_schema_keyspace_table_at(ks, 0)), "T2");
  const cqlmux_schema_table *t = cqlmux_schema_keyspace_find_table(ks, "t");
  cr_assert_not_null(t);
  cr_assert_str_eq(cqlmux_schema_table_keyspace(t), "app");
  cr_assert_null(cqlmux_schema_table_base_table(t));
  cr_assert_eq(cqlmux_schema_table_column_count(t), 7);
  cr_assert_eq(cqlmux_schema_table_partition_key_count(t), 2);
  cr_assert_eq(cqlmux_schema_table_clustering_count(t), 2);
  for (size_t i = 0; i < 7; i++) {
    const cqlmux_schema_column *c = cqlmux_schema_table_column_at(t, i);
    cr_assert_str_eq(cqlmux_schema_column_name(c), want[i].name, "column %zu", i);
    cr_assert_str_eq(cqlmux_schema_column_type(c), want[i].type, "column %zu", i);
    cr_assert_eq(cqlmux_schema_column_kind(c), want[i].kind, "column %zu", i);
    cr_assert_eq(cqlmux_schema_column_position(c), want[i].position, "column %zu", i);
    cr_assert_eq(cqlmux_schema_column_clustering_order(c), want[i].order, "column %zu", i);
    cr_assert_eq(cqlmux_schema_table_find_column(t, want[i].name), c);
  }
  cr_assert_null(cqlmux_schema_table_column_at(t, 7));
  cr_assert_null(cqlmux_schema_table_find_column(t, "K1"));
  cr_assert_eq(cqlmux_schema_table_column_count(cqlmux_schema_keyspace_find_table(ks, "T2")), 0);
  cqlmux_schema_free(s);
}

Test(schema_units, a_view_names_its_base_table_and_has_its_own_columns) {
  const cqlmux_schema *s = small_schema();
  const cqlmux_schema_keyspace *ks = cqlmux_schema_find_keyspace(s, "app");
  cr_assert_eq(cqlmux_schema_keyspace_view_count(ks), 1);
  cr_assert_null(cqlmux_schema_keyspace_find_table(ks, "t_by_a"), "a view is not a table");
  const cqlmux_schema_table *v = cqlmux_schema_keyspace_find_view(ks, "t_by_a");
  cr_assert_eq(v, cqlmux_schema_keyspace_view_at(ks, 0));
  cr_assert_str_eq(cqlmux_schema_table_base_table(v), "t");
  cr_assert_str_eq(cqlmux_schema_table_where_clause(v), "a IS NOT NULL AND k1 IS NOT NULL");
  cr_assert_eq(cqlmux_schema_table_column_count(v), 2);
  cr_assert_eq(cqlmux_schema_table_partition_key_count(v), 1);
  cr_assert_str_eq(cqlmux_schema_column_name(cqlmux_schema_table_column_at(v, 1)), "k1");
  cqlmux_schema_free(s);
}

Test(schema_units, a_user_type_lists_its_fields_in_declaration_order) {
  const cqlmux_schema *s = small_schema();
  const cqlmux_schema_keyspace *ks = cqlmux_schema_find_keyspace(s, "app");
  cr_assert_eq(cqlmux_schema_keyspace_type_count(ks), 1);
  const cqlmux_schema_type *t = cqlmux_schema_keyspace_find_type(ks, "addr");
  cr_assert_str_eq(cqlmux_schema_type_name(t), "addr");
  cr_assert_eq(cqlmux_schema_type_field_count(t), 2);
  cr_assert_str_eq(cqlmux_schema_type_field_name(t, 0), "street");
  cr_assert_str_eq(cqlmux_schema_type_field_type(t, 0), "text");
  cr_assert_str_eq(cqlmux_schema_type_field_name(t, 1), "zip");
  cr_assert_str_eq(cqlmux_schema_type_field_type(t, 1), "int");
  cr_assert_null(cqlmux_schema_type_field_name(t, 2));
  cr_assert_eq(cqlmux_schema_keyspace_type_count(cqlmux_schema_find_keyspace(s, "Other")), 0);
  cqlmux_schema_free(s);
}

Test(schema_units, a_result_without_its_name_column_is_malformed) {
  static const table_spec wrong = {{"table_name"}, {"text"}, {{"t"}}};
  cqlmux_schema_builder b;
  cr_assert_eq(cqlmux_schema_builder_init(&b, cqlmux_default_allocator()), CQLMUX_OK);
  decoded d;
  rows_make(&wrong, &d);
  cr_assert_eq(cqlmux_schema_builder_add(&b, CQLMUX_SCHEMA_TABLES, &d.msg.rows),
               CQLMUX_ERR_MALFORMED);
  rows_free(&d);
  cqlmux_schema_builder_discard(&b);
}

Test(schema_units, a_row_with_a_null_name_is_skipped) {
  static const table_spec tables = {
      {"keyspace_name", "table_name"}, {"text", "text"}, {{"app", NULL}, {"app", "t"}}};
  cqlmux_schema_builder b;
  cr_assert_eq(cqlmux_schema_builder_init(&b, cqlmux_default_allocator()), CQLMUX_OK);
  decoded d;
  rows_make(&KEYSPACES, &d);
  cr_assert_eq(cqlmux_schema_builder_add(&b, CQLMUX_SCHEMA_KEYSPACES, &d.msg.rows), CQLMUX_OK);
  rows_free(&d);
  rows_make(&tables, &d);
  cr_assert_eq(cqlmux_schema_builder_add(&b, CQLMUX_SCHEMA_TABLES, &d.msg.rows), CQLMUX_OK);
  rows_free(&d);
  cqlmux_schema *s;
  cr_assert_eq(cqlmux_schema_builder_finish(&b, 1, &s), CQLMUX_OK);
  const cqlmux_schema_keyspace *ks = cqlmux_schema_find_keyspace(s, "app");
  cr_assert_eq(cqlmux_schema_keyspace_table_count(ks), 1);
  cr_assert_str_eq(cqlmux_schema_table_name(cqlmux_schema_keyspace_table_at(ks, 0)), "t");
  cqlmux_schema_free(s);
}

/* A reference taken before the publisher lets go keeps the snapshot. */
Test(schema_units, a_held_snapshot_outlives_the_publishers_release) {
  cqlmux_schema *s = (cqlmux_schema *)small_schema();
  cqlmux_schema_hold(s);
  cr_assert_eq(atomic_load(&s->refs), 2);
  cqlmux_schema_release(s); /* the publisher's */
  cr_assert_str_eq(cqlmux_schema_keyspace_name(cqlmux_schema_keyspace_at(s, 1)), "app");
  cqlmux_schema_free(s); /* the last: freed (LSan checks nothing leaks) */
  cqlmux_schema_free(NULL);
}

/* ------------------------------------------------------------ allocation failures */

typedef struct failing {
  int left; /* allocations that succeed before every next one fails */
  int failures;
} failing;

static void *failing_malloc(size_t n, void *ud) {
  failing *f = ud;
  if (f->left-- <= 0) return f->failures++, NULL;
  return malloc(n);
}

static void *failing_realloc(void *p, size_t n, void *ud) {
  failing *f = ud;
  if (f->left-- <= 0) return f->failures++, NULL;
  return realloc(p, n);
}

static void failing_free(void *p, void *ud) {
  (void)ud;
  free(p);
}

/* Failing the Nth allocation, for every N, gives NOMEM and frees
 * everything (ASan/LSan), until N is past what a build needs. */
Test(schema_units, every_allocation_failure_is_nomem_without_a_leak) {
  int n = 0;
  for (;; n++) {
    failing f = {.left = n};
    cqlmux_allocator a = {failing_malloc, failing_realloc, failing_free, &f};
    cqlmux_schema *s = NULL;
    int rc = build(&a, &s);
    if (rc == CQLMUX_OK) {
      cr_assert_eq(f.failures, 0, "a build that succeeded had no failed allocation");
      cqlmux_schema_free(s);
      break;
    }
    cr_assert_eq(rc, CQLMUX_ERR_NOMEM, "failing allocation %d", n);
    cr_assert_gt(f.failures, 0);
  }
  cr_assert_gt(n, 5, "a build takes several allocations");
}

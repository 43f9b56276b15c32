/* Schema metadata against a REAL Cassandra (tools/cassandra-local, one
 * node): the snapshot lists a table's columns with the kinds, positions,
 * clustering orders and types that a SELECT of system_schema.columns made
 * through the same session returns, a user type's fields as
 * system_schema.types has them, and an ALTER TABLE in a later snapshot
 * (polled against a deadline far above the refresh delay: no timing is
 * asserted, the time taken is logged). Environment: CQLMUX_TEST_HOST,
 * CQLMUX_TEST_PORT (tools/test-all's phase_single_node). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cqlmux.h"
#include "real_fixture.h"

static void exec_ok(cqlmux_session *s, const char *cql) { cqlmux_future_free(real_run_cql(s, cql)); }

static uint64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* The table ks.name in the session's snapshot, polled every 10 ms until
 * `ready` holds or deadline_ms passes; the snapshot is returned held (the
 * caller frees it), the table in *out (NULL when the deadline passed). */
static const cqlmux_schema *poll_table(cqlmux_session *s, const char *ks, const char *name,
                                       int (*ready)(const cqlmux_schema_table *),
                                       uint64_t deadline_ms, const cqlmux_schema_table **out) {
  for (;;) {
    const cqlmux_schema *snap = cqlmux_session_schema(s);
    const cqlmux_schema_table *t =
        cqlmux_schema_keyspace_find_table(cqlmux_schema_find_keyspace(snap, ks), name);
    if (t && ready(t)) {
      *out = t;
      return snap;
    }
    if (now_ms() >= deadline_ms) {
      *out = NULL;
      return snap;
    }
    cqlmux_schema_free(snap);
    usleep(10000);
  }
}

static int has_added_column(const cqlmux_schema_table *t) {
  return cqlmux_schema_table_find_column(t, "added_col") != NULL;
}

static int any_table(const cqlmux_schema_table *t) { return t != NULL; }

/* Each run creates its own table: a name used before may still have rows
 * in system_schema from an earlier run (a node killed and restarted, as
 * test_faults_real does, replays an ALTER its schema then no longer knows,
 * and a DROP leaves that column behind). */
static char table_name[48];

static void name_the_table(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  snprintf(table_name, sizeof table_name, "t_%ld_%ld", (long)getpid(), (long)t.tv_nsec);
}

static char *text_at(const cqlmux_result *r, size_t row, size_t col) {
  const char *p;
  size_t n;
  cr_assert_eq(cqlmux_result_get_text(r, row, col, &p, &n), CQLMUX_OK);
  char *out = malloc(n + 1);
  memcpy(out, p, n);
  out[n] = '\0';
  return out;
}

static const char *kind_text(cqlmux_column_kind k) {
  switch (k) {
  case CQLMUX_COLUMN_PARTITION_KEY: return "partition_key";
  case CQLMUX_COLUMN_CLUSTERING: return "clustering";
  case CQLMUX_COLUMN_STATIC: return "static";
  default: return "regular";
  }
}

static const char *order_text(cqlmux_clustering_order o) {
  return o == CQLMUX_CLUSTERING_ASC ? "asc" : o == CQLMUX_CLUSTERING_DESC ? "desc" : "none";
}

/* Every row of system_schema.columns for schema_real.<table_name> matches the
 * snapshot's column of that name, and the snapshot has no other. */
static void compare_columns(cqlmux_session *s, const cqlmux_schema_table *t) {
  char cql[300];
  snprintf(cql, sizeof cql,
           "SELECT column_name, kind, position, clustering_order, type FROM system_schema.columns "
           "WHERE keyspace_name = 'schema_real' AND table_name = '%s'", table_name);
  cqlmux_future *f = real_run_cql(s, cql);
  const cqlmux_result *r = cqlmux_future_result(f);
  size_t rows = cqlmux_result_row_count(r);
  cr_assert_eq(cqlmux_schema_table_column_count(t), rows);
  size_t partition = 0, clustering = 0;
  for (size_t i = 0; i < rows; i++) {
    char *name = text_at(r, i, 0), *kind = text_at(r, i, 1), *order = text_at(r, i, 3);
    char *type = text_at(r, i, 4);
    int32_t position;
    cr_assert_eq(cqlmux_result_get_int32(r, i, 2, &position), CQLMUX_OK);
    const cqlmux_schema_column *c = cqlmux_schema_table_find_column(t, name);
    cr_assert_not_null(c, "column %s", name);
    cr_assert_str_eq(kind_text(cqlmux_schema_column_kind(c)), kind, "%s", name);
    cr_assert_eq(cqlmux_schema_column_position(c), position, "%s", name);
    cr_assert_str_eq(order_text(cqlmux_schema_column_clustering_order(c)), order, "%s", name);
    cr_assert_str_eq(cqlmux_schema_column_type(c), type, "%s", name);
    partition += !strcmp(kind, "partition_key");
    clustering += !strcmp(kind, "clustering");
    /* Key columns come first, by position. */
    if (!strcmp(kind, "partition_key"))
      cr_assert_eq(cqlmux_schema_table_column_at(t, (size_t)position), c, "%s", name);
    free(name), free(kind), free(order), free(type);
  }
  cr_assert_eq(cqlmux_schema_table_partition_key_count(t), partition);
  cr_assert_eq(cqlmux_schema_table_clustering_count(t), clustering);
  cqlmux_future_free(f);
}

static void setup(cqlmux_session *s) {
  exec_ok(s, "CREATE KEYSPACE IF NOT EXISTS schema_real WITH replication = "
             "{'class': 'SimpleStrategy', 'replication_factor': 1}");
  exec_ok(s, "CREATE TYPE IF NOT EXISTS schema_real.addr (street text, zip int)");
}

/* Runs the CQL text printf makes of `format`. */
__attribute__((format(printf, 2, 3))) static void exec_format(cqlmux_session *s,
                                                              const char *format, ...) {
  char cql[400];
  va_list ap;
  va_start(ap, format);
  vsnprintf(cql, sizeof cql, format, ap);
  va_end(ap);
  exec_ok(s, cql);
}

static void create_table(cqlmux_session *s) {
  name_the_table();
  exec_format(s, "CREATE TABLE schema_real.%s (k1 int, k2 text, c1 bigint, c2 timeuuid, "
                 "s int STATIC, v frozen<map<text, int>>, \"Mixed\" text, a frozen<addr>, "
                 "PRIMARY KEY ((k1, k2), c1, c2)) WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC)",
              table_name);
}

/* A deadline far above the refresh delay (200 ms) and a refresh's reads: a
 * change not seen by then was missed, not late. */
#define SEEN_WITHIN_MS 60000u

Test(schema_real, columns_match_system_schema_and_an_alter_shows_in_a_later_snapshot,
     .timeout = 240) {
  cqlmux_session *s = real_open_session();
  setup(s);
  create_table(s);
  const cqlmux_schema_table *t;
  const cqlmux_schema *snap =
      poll_table(s, "schema_real", table_name, any_table, now_ms() + SEEN_WITHIN_MS, &t);
  cr_assert_not_null(t, "the new table %s is in the snapshot", table_name);
  cr_assert_eq(cqlmux_schema_table_column_count(t), 8);
  cr_assert_not_null(cqlmux_schema_table_find_column(t, "Mixed"), "quoted names keep their case");
  cr_assert_null(cqlmux_schema_table_find_column(t, "mixed"));
  compare_columns(s, t);
  uint64_t version = cqlmux_schema_version(snap);

  exec_format(s, "ALTER TABLE schema_real.%s ADD added_col text", table_name);
  uint64_t altered = now_ms();
  const cqlmux_schema *after =
      poll_table(s, "schema_real", table_name, has_added_column, altered + SEEN_WITHIN_MS, &t);
  cr_assert_not_null(t, "ALTER TABLE not seen in %u ms", SEEN_WITHIN_MS);
  cr_log_info("ALTER TABLE seen in the snapshot after %llu ms",
              (unsigned long long)(now_ms() - altered));
  cr_assert_gt(cqlmux_schema_version(after), version);
  compare_columns(s, t);
  /* The snapshot held from before the ALTER is unchanged. */
  const cqlmux_schema_table *old = cqlmux_schema_keyspace_find_table(
      cqlmux_schema_find_keyspace(snap, "schema_real"), table_name);
  cr_assert_eq(cqlmux_schema_table_column_count(old), 8);
  cr_assert_null(cqlmux_schema_table_find_column(old, "added_col"));
  cqlmux_schema_free(snap);
  cqlmux_schema_free(after);
  exec_format(s, "DROP TABLE schema_real.%s", table_name);
  cqlmux_session_free(s);
}

Test(schema_real, a_user_type_and_the_keyspace_replication_match_system_schema, .timeout = 120) {
  cqlmux_session *s = real_open_session();
  setup(s);
  /* The type may be new: polled like a table. */
  const cqlmux_schema *snap = NULL;
  const cqlmux_schema_type *addr = NULL;
  for (uint64_t deadline = now_ms() + 30000; !addr && now_ms() < deadline; usleep(10000)) {
    cqlmux_schema_free(snap);
    snap = cqlmux_session_schema(s);
    addr = cqlmux_schema_keyspace_find_type(cqlmux_schema_find_keyspace(snap, "schema_real"),
                                            "addr");
  }
  cr_assert_not_null(addr, "the type is in the snapshot");
  const cqlmux_schema_keyspace *ks = cqlmux_schema_find_keyspace(snap, "schema_real");
  static const char *const names[] = {"street", "zip"};
  static const char *const types[] = {"text", "int"};
  cr_assert_eq(cqlmux_schema_type_field_count(addr), 2);
  for (size_t i = 0; i < 2; i++) {
    cr_assert_str_eq(cqlmux_schema_type_field_name(addr, i), names[i]);
    cr_assert_str_eq(cqlmux_schema_type_field_type(addr, i), types[i]);
  }
  cr_assert_eq(cqlmux_schema_keyspace_replication_count(ks), 2);
  const char *key, *value;
  cr_assert_eq(cqlmux_schema_keyspace_replication_at(ks, 0, &key, &value), CQLMUX_OK);
  cr_assert_str_eq(key, "class");
  cr_assert_str_eq(value, "org.apache.cassandra.locator.SimpleStrategy");
  cr_assert_eq(cqlmux_schema_keyspace_replication_at(ks, 1, &key, &value), CQLMUX_OK);
  cr_assert_str_eq(key, "replication_factor");
  cr_assert_str_eq(value, "1");
  cr_assert_not_null(cqlmux_schema_find_keyspace(snap, "system_schema"));
  cqlmux_schema_free(snap);
  cqlmux_session_free(s);
}

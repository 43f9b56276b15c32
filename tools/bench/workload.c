/* The workloads: one table of 6 columns, as the mock server's null mode
 * answers (k text, c1 int, c2 bigint, c3 double, c4 boolean, c5 blob).
 *   select  prepared SELECT of the one row by key: 1 row x 6 columns back;
 *   insert  prepared INSERT of 5 values, about 1.4 KB of request;
 *   query   the same SELECT unprepared, the key inline.
 * Against a real server the schema statements create the table and row
 * first; the mock answers them like anything else. */
#include "bench.h"

#include <string.h>

#define KEYSPACE "cqlmux_bench"
#define INSERT_BLOB 1360

static const char *const schema[] = {
    "CREATE KEYSPACE IF NOT EXISTS " KEYSPACE
    " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    "CREATE TABLE IF NOT EXISTS " KEYSPACE ".t (k text PRIMARY KEY, c1 int, c2 bigint, "
    "c3 double, c4 boolean, c5 blob)",
    "INSERT INTO " KEYSPACE ".t (k, c1, c2, c3, c4, c5) VALUES "
    "('key0', 42, 4242, 3.25, true, 0xcafebabe)",
    NULL};

const char *const *bench_workload_schema(void) { return schema; }

const char *bench_workload_name(bench_workload w) {
  switch (w) {
  case WORKLOAD_SELECT: return "select";
  case WORKLOAD_INSERT: return "insert";
  case WORKLOAD_QUERY: return "query";
  }
  return "?";
}

const char *bench_workload_cql(bench_workload w) {
  switch (w) {
  case WORKLOAD_SELECT: return "SELECT k, c1, c2, c3, c4, c5 FROM " KEYSPACE ".t WHERE k = ?";
  case WORKLOAD_INSERT: return "INSERT INTO " KEYSPACE ".t (k, c1, c2, c3, c5) VALUES (?, ?, ?, ?, ?)";
  case WORKLOAD_QUERY: return "SELECT k, c1, c2, c3, c4, c5 FROM " KEYSPACE ".t WHERE k = 'key0'";
  }
  return "";
}

bool bench_workload_prepared(bench_workload w) { return w != WORKLOAD_QUERY; }

/* Values in their CQL binary form (big-endian), static for every request. */
static const uint8_t key[] = "key0";
static const uint8_t v_int[] = {0, 0, 0, 42};
static const uint8_t v_bigint[] = {0, 0, 0, 0, 0, 0, 0x10, 0x92};
static const uint8_t v_double[] = {0x40, 0x0a, 0, 0, 0, 0, 0, 0}; /* 3.25 */
static uint8_t blob[INSERT_BLOB];

size_t bench_workload_values(bench_workload w, cqlmux_bytes *v, size_t cap) {
  switch (w) {
  case WORKLOAD_SELECT:
    if (cap < 1) return 0;
    v[0] = (cqlmux_bytes){key, 4};
    return 1;
  case WORKLOAD_INSERT:
    if (cap < 5) return 0;
    for (size_t i = 0; i < sizeof blob; i++) blob[i] = (uint8_t)(i * 131u + 7u);
    v[0] = (cqlmux_bytes){key, 4};
    v[1] = (cqlmux_bytes){v_int, 4};
    v[2] = (cqlmux_bytes){v_bigint, 8};
    v[3] = (cqlmux_bytes){v_double, 8};
    v[4] = (cqlmux_bytes){blob, (int32_t)sizeof blob};
    return 5;
  case WORKLOAD_QUERY:
    return 0;
  }
  return 0;
}

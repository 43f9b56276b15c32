/* Statements a real application needs (issue 15), against a REAL
 * Cassandra started by tools/cassandra-local: batches, binding by name,
 * client-side bind checks and quoted keyspaces. Environment:
 * CQLMUX_TEST_HOST, CQLMUX_TEST_PORT (tools/test-all's phase_single_node). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlmux.h"

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static cqlmux_config *test_config(void) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_contact_points(c, env_or("CQLMUX_TEST_HOST", "127.0.0.1")),
               CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_port(c, atoi(env_or("CQLMUX_TEST_PORT", "9042"))), CQLMUX_OK);
  cqlmux_config_set_log_level(c, CQLMUX_LOG_ERROR);
  return c;
}

/* A connected session on c (which it frees). */
static cqlmux_session *connect_with(cqlmux_config *c) {
  cqlmux_session *s = NULL;
  cr_assert_eq(cqlmux_session_new(c, &s), CQLMUX_OK);
  cqlmux_config_free(c);
  cqlmux_future *f = cqlmux_session_connect(s);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "connect: %s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return s;
}

static cqlmux_session *open_session(const char *keyspace) {
  cqlmux_config *c = test_config();
  if (keyspace) cr_assert_eq(cqlmux_config_set_keyspace(c, keyspace), CQLMUX_OK);
  return connect_with(c);
}

/* A server-side timeout is Cassandra's answer on a loaded 2-core machine
 * (schema changes especially), not a driver failure: the request goes
 * again, up to 5 times. */
static bool server_timed_out(cqlmux_future *f) {
  cqlmux_server_error e;
  return cqlmux_future_server_error(f, &e) == CQLMUX_OK && (e.code == 0x1100 || e.code == 0x1200);
}

static cqlmux_future *run(cqlmux_session *s, const cqlmux_statement *st, const cqlmux_batch *b) {
  cqlmux_future *f = NULL;
  for (int attempt = 0; attempt < 6; attempt++) {
    cqlmux_future_free(f);
    f = st ? cqlmux_session_execute(s, st) : cqlmux_session_batch(s, b);
    cr_assert_not_null(f);
    if (cqlmux_future_wait(f) != CQLMUX_ERR_SERVER || !server_timed_out(f)) break;
  }
  return f;
}

static cqlmux_future *run_ok(cqlmux_session *s, const char *cql) {
  cqlmux_statement *st = cqlmux_statement_new(cql, 0);
  cqlmux_future *f = run(s, st, NULL);
  cqlmux_statement_free(st);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s: %s", cql, cqlmux_future_error_message(f));
  return f;
}

static void exec_ok(cqlmux_session *s, const char *cql) { cqlmux_future_free(run_ok(s, cql)); }

static cqlmux_prepared *prepare(cqlmux_session *s, const char *cql) {
  cqlmux_future *f = cqlmux_session_prepare(s, cql);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s: %s", cql, cqlmux_future_error_message(f));
  cqlmux_prepared *p = cqlmux_future_take_prepared(f);
  cqlmux_future_free(f);
  cr_assert_not_null(p);
  return p;
}

static int64_t count_rows(cqlmux_session *s, const char *cql) {
  cqlmux_future *f = run_ok(s, cql);
  int64_t n = -1;
  cr_assert_eq(cqlmux_result_get_int64(cqlmux_future_result(f), 0, 0, &n), CQLMUX_OK);
  cqlmux_future_free(f);
  return n;
}

static void setup_keyspace(cqlmux_session *s) {
  exec_ok(s, "CREATE KEYSPACE IF NOT EXISTS stmt_real WITH replication = "
             "{'class': 'SimpleStrategy', 'replication_factor': 1}");
}

/* 20 inserts, 10 simple and 10 prepared, in one LOGGED batch: all land.
 * The same batch with one member the server rejects lands nothing. */
Test(statements_real, logged_batch_of_mixed_inserts_lands_atomically, .timeout = 120) {
  cqlmux_session *s = open_session(NULL);
  setup_keyspace(s);
  exec_ok(s, "DROP TABLE IF EXISTS stmt_real.logged");
  exec_ok(s, "CREATE TABLE stmt_real.logged (p int, c int, v text, PRIMARY KEY (p, c))");
  cqlmux_prepared *p = prepare(s, "INSERT INTO stmt_real.logged (p, c, v) VALUES (?, ?, ?)");
  cqlmux_statement *members[20];
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_LOGGED);
  for (int i = 0; i < 20; i++) {
    members[i] = i % 2 ? cqlmux_statement_new_prepared(p)
                       : cqlmux_statement_new("INSERT INTO stmt_real.logged (p, c, v) "
                                              "VALUES (?, ?, ?)", 3);
    cr_assert_eq(cqlmux_statement_bind_int32(members[i], 0, i / 5), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_bind_int32(members[i], 1, i), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_bind_text(members[i], 2, "x", 1), CQLMUX_OK);
    cr_assert_eq(cqlmux_batch_add(batch, members[i]), CQLMUX_OK);
  }
  /* The last member carries a text where the server wants an int (a
   * simple statement: no client-side check), so the server refuses the
   * whole batch. */
  cqlmux_statement *bad = cqlmux_statement_new(
      "INSERT INTO stmt_real.logged (p, c, v) VALUES (?, ?, ?)", 3);
  cqlmux_statement_bind_int32(bad, 0, 9);
  cqlmux_statement_bind_text(bad, 1, "not an int", 10);
  cqlmux_statement_bind_text(bad, 2, "y", 1);
  cr_assert_eq(cqlmux_batch_add(batch, bad), CQLMUX_OK);
  cqlmux_batch_set_consistency(batch, CQLMUX_CONSISTENCY_ONE);
  cqlmux_future *f = run(s, NULL, batch);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_ERR_SERVER);
  cqlmux_server_error e;
  cr_assert_eq(cqlmux_future_server_error(f, &e), CQLMUX_OK);
  cr_assert_eq(e.code, 0x2200, "invalid: %s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  cr_assert_eq(count_rows(s, "SELECT COUNT(*) FROM stmt_real.logged"), 0,
               "a refused batch applies no member");
  cqlmux_batch_clear(batch);
  for (int i = 0; i < 20; i++) cqlmux_batch_add(batch, members[i]);
  f = run(s, NULL, batch);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  cr_assert_eq(count_rows(s, "SELECT COUNT(*) FROM stmt_real.logged"), 20);
  for (int i = 0; i < 20; i++) cqlmux_statement_free(members[i]);
  cqlmux_statement_free(bad);
  cqlmux_batch_free(batch);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
}

/* A COUNTER batch of 3 increments on one counter, applied twice: +12. */
Test(statements_real, counter_batch_increments, .timeout = 120) {
  cqlmux_session *s = open_session(NULL);
  setup_keyspace(s);
  exec_ok(s, "DROP TABLE IF EXISTS stmt_real.counters");
  exec_ok(s, "CREATE TABLE stmt_real.counters (k int PRIMARY KEY, n counter)");
  cqlmux_prepared *p = prepare(s, "UPDATE stmt_real.counters SET n = n + ? WHERE k = ?");
  cqlmux_statement *m[3];
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_COUNTER);
  for (int i = 0; i < 3; i++) {
    m[i] = cqlmux_statement_new_prepared(p);
    cr_assert_eq(cqlmux_statement_bind_int64(m[i], 0, i + 1), CQLMUX_OK);
    cr_assert_eq(cqlmux_statement_bind_int32(m[i], 1, 7), CQLMUX_OK);
    cqlmux_batch_add(batch, m[i]);
  }
  for (int round = 0; round < 2; round++) {
    cqlmux_future *f = run(s, NULL, batch);
    cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
    cqlmux_future_free(f);
  }
  cqlmux_future *f = run_ok(s, "SELECT n FROM stmt_real.counters WHERE k = 7");
  int64_t n = 0;
  cr_assert_eq(cqlmux_result_get_int64(cqlmux_future_result(f), 0, 0, &n), CQLMUX_OK);
  cr_assert_eq(n, 12);
  cqlmux_future_free(f);
  for (int i = 0; i < 3; i++) cqlmux_statement_free(m[i]);
  cqlmux_batch_free(batch);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
}

static const char *const all_columns[] = {
    "k", "a_ascii", "a_bigint", "a_blob", "a_boolean", "a_date", "a_decimal", "a_double",
    "a_duration", "a_float", "a_inet", "a_int", "a_smallint", "a_text", "a_time",
    "a_timestamp", "a_timeuuid", "a_tinyint", "a_uuid", "a_varint"};
#define ALL_COLUMNS (sizeof all_columns / sizeof all_columns[0])

static const uint8_t a_uuid[16] = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x42, 0xd3,
                                   0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00};
static const uint8_t a_timeuuid[16] = {0x5b, 0x6f, 0x3a, 0x10, 0x9c, 0x2f, 0x11, 0xee,
                                       0x8c, 0x90, 0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
static const uint8_t a_inet[4] = {10, 1, 2, 3};

/* Every scalar type bound by name (in an order unlike the columns', the
 * names spelled in mixed case), read back equal. */
static size_t index_of(cqlmux_statement *st, const char *name) {
  size_t i = 0;
  cr_assert_eq(cqlmux_statement_name_index(st, name, &i), CQLMUX_OK, "%s: %s", name,
               cqlmux_statement_error_message(st));
  return i;
}

static void bind_every_type_by_name(cqlmux_statement *st) {
#define AT(name) index_of(st, name)
  cr_assert_eq(cqlmux_statement_bind_varint(st, AT("A_VARINT"), -123456789), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_int32(st, AT("k"), 1), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_ascii(st, AT("a_ascii"), "ascii", 5), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_int64(st, AT("A_Bigint"), -5000000000), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_blob(st, AT("a_blob"), "\x01\x02", 2), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_bool(st, AT("a_boolean"), 1), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_date(st, AT("a_date"), (1u << 31) + 19000), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_decimal_int64(st, AT("a_decimal"), 12345, 2), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_double(st, AT("a_double"), 2.5), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_duration(st, AT("a_duration"), 1, 2, 3), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_float(st, AT("a_float"), -1.5f), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_inet(st, AT("a_inet"), a_inet, 4), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_int32(st, AT("a_int"), -42), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_int16(st, AT("a_smallint"), -300), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_text(st, AT("a_text"), "h\xc3\xa9", 3), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_time(st, AT("a_time"), 3600000000123LL), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_int64(st, AT("a_timestamp"), 1700000000123LL), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_uuid(st, AT("a_timeuuid"), a_timeuuid), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_int8(st, AT("a_tinyint"), -7), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_uuid(st, AT("a_uuid"), a_uuid), CQLMUX_OK);
#undef AT
}

static const cqlmux_value *column_value(const cqlmux_result *r, const char *name,
                                        cqlmux_value *v) {
  int col = cqlmux_result_column_index(r, name);
  cr_assert_geq(col, 0, "%s", name);
  cr_assert_eq(cqlmux_result_get_value(r, 0, (size_t)col, v), CQLMUX_OK);
  return v;
}

static void assert_every_type_read_back(const cqlmux_result *r) {
  cqlmux_value v;
#define COL(name) column_value(r, name, &v)
  const char *text;
  size_t len;
  cr_assert_eq(cqlmux_value_as_text(COL("a_ascii"), &text, &len), CQLMUX_OK);
  cr_assert(len == 5 && memcmp(text, "ascii", 5) == 0);
  int64_t i64;
  cr_assert_eq(cqlmux_value_as_int64(COL("a_bigint"), &i64), CQLMUX_OK);
  cr_assert_eq(i64, -5000000000);
  const uint8_t *blob;
  cr_assert_eq(cqlmux_value_as_blob(COL("a_blob"), &blob, &len), CQLMUX_OK);
  cr_assert(len == 2 && blob[0] == 1 && blob[1] == 2);
  int b;
  cr_assert_eq(cqlmux_value_as_bool(COL("a_boolean"), &b), CQLMUX_OK);
  cr_assert_eq(b, 1);
  uint32_t days;
  cr_assert_eq(cqlmux_value_as_date(COL("a_date"), &days), CQLMUX_OK);
  cr_assert_eq(days, (1u << 31) + 19000);
  char dec[64];
  cr_assert_eq(cqlmux_value_as_decimal_string(COL("a_decimal"), dec, sizeof dec, &len), CQLMUX_OK);
  cr_assert_str_eq(dec, "123.45");
  double d;
  cr_assert_eq(cqlmux_value_as_double(COL("a_double"), &d), CQLMUX_OK);
  cr_assert_eq(d, 2.5);
  int32_t months, ddays;
  int64_t nanos;
  cr_assert_eq(cqlmux_value_as_duration(COL("a_duration"), &months, &ddays, &nanos), CQLMUX_OK);
  cr_assert(months == 1 && ddays == 2 && nanos == 3);
  float f;
  cr_assert_eq(cqlmux_value_as_float(COL("a_float"), &f), CQLMUX_OK);
  cr_assert_eq(f, -1.5f);
  uint8_t addr[16];
  cr_assert_eq(cqlmux_value_as_inet(COL("a_inet"), addr, &len), CQLMUX_OK);
  cr_assert(len == 4 && memcmp(addr, a_inet, 4) == 0);
  int32_t i32;
  cr_assert_eq(cqlmux_value_as_int32(COL("a_int"), &i32), CQLMUX_OK);
  cr_assert_eq(i32, -42);
  int16_t i16;
  cr_assert_eq(cqlmux_value_as_int16(COL("a_smallint"), &i16), CQLMUX_OK);
  cr_assert_eq(i16, -300);
  cr_assert_eq(cqlmux_value_as_text(COL("a_text"), &text, &len), CQLMUX_OK);
  cr_assert(len == 3 && memcmp(text, "h\xc3\xa9", 3) == 0);
  cr_assert_eq(cqlmux_value_as_time(COL("a_time"), &i64), CQLMUX_OK);
  cr_assert_eq(i64, 3600000000123LL);
  cr_assert_eq(cqlmux_value_as_timestamp(COL("a_timestamp"), &i64), CQLMUX_OK);
  cr_assert_eq(i64, 1700000000123LL);
  uint8_t u[16];
  cr_assert_eq(cqlmux_value_as_uuid(COL("a_timeuuid"), u), CQLMUX_OK);
  cr_assert_arr_eq(u, a_timeuuid, 16);
  int8_t i8;
  cr_assert_eq(cqlmux_value_as_int8(COL("a_tinyint"), &i8), CQLMUX_OK);
  cr_assert_eq(i8, -7);
  cr_assert_eq(cqlmux_value_as_uuid(COL("a_uuid"), u), CQLMUX_OK);
  cr_assert_arr_eq(u, a_uuid, 16);
  cr_assert_eq(cqlmux_value_as_varint(COL("a_varint"), &i64), CQLMUX_OK);
  cr_assert_eq(i64, -123456789);
#undef COL
}

/* Each test its own table: Criterion runs the tests of a file at once. */
static void create_all_types(cqlmux_session *s, const char *table) {
  char cql[1024];
  snprintf(cql, sizeof cql, "DROP TABLE IF EXISTS stmt_real.%s", table);
  exec_ok(s, cql);
  snprintf(cql, sizeof cql, "CREATE TABLE stmt_real.%s (k int PRIMARY KEY, a_ascii ascii, "
             "a_bigint bigint, a_blob blob, a_boolean boolean, a_date date, a_decimal decimal, "
             "a_double double, a_duration duration, a_float float, a_inet inet, a_int int, "
             "a_smallint smallint, a_text text, a_time time, a_timestamp timestamp, "
             "a_timeuuid timeuuid, a_tinyint tinyint, a_uuid uuid, a_varint varint)", table);
  exec_ok(s, cql);
}

static void read_back_and_check(cqlmux_session *s, const char *table) {
  char cql[128];
  snprintf(cql, sizeof cql, "SELECT * FROM stmt_real.%s WHERE k = 1", table);
  cqlmux_future *f = run_ok(s, cql);
  cr_assert_eq(cqlmux_result_row_count(cqlmux_future_result(f)), 1);
  assert_every_type_read_back(cqlmux_future_result(f));
  cqlmux_future_free(f);
}

static char *insert_all_cql(const char *table, const char *marker_style) {
  static char cql[1024];
  int n = snprintf(cql, sizeof cql, "INSERT INTO stmt_real.%s (", table);
  for (size_t i = 0; i < ALL_COLUMNS; i++)
    n += snprintf(cql + n, sizeof cql - (size_t)n, "%s%s", i ? ", " : "", all_columns[i]);
  n += snprintf(cql + n, sizeof cql - (size_t)n, ") VALUES (");
  for (size_t i = 0; i < ALL_COLUMNS; i++)
    n += snprintf(cql + n, sizeof cql - (size_t)n, "%s%s%s", i ? ", " : "", marker_style,
                  marker_style[0] == ':' ? all_columns[i] : "");
  snprintf(cql + n, sizeof cql - (size_t)n, ")");
  return cql;
}

Test(statements_real, named_binding_on_a_prepared_statement_inserts_every_type, .timeout = 120) {
  cqlmux_session *s = open_session(NULL);
  setup_keyspace(s);
  create_all_types(s, "types_prepared");
  cqlmux_prepared *p = prepare(s, insert_all_cql("types_prepared", "?"));
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  bind_every_type_by_name(st);
  size_t i;
  cr_assert_eq(cqlmux_statement_name_index(st, "no_such", &i), CQLMUX_ERR_NOT_FOUND);
  cr_assert_str_eq(cqlmux_statement_error_message(st), "no parameter named no_such");
  cqlmux_future *f = run(s, st, NULL);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  read_back_and_check(s, "types_prepared");
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
}

Test(statements_real, named_binding_on_a_simple_statement_inserts_every_type, .timeout = 120) {
  cqlmux_session *s = open_session(NULL);
  setup_keyspace(s);
  create_all_types(s, "types_simple");
  cqlmux_statement *st = cqlmux_statement_new(insert_all_cql("types_simple", ":"), ALL_COLUMNS);
  bind_every_type_by_name(st);
  cqlmux_future *f = run(s, st, NULL);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  read_back_and_check(s, "types_simple");
  cqlmux_statement_free(st);
  cqlmux_session_free(s);
}

/* Text into an int marker fails at the bind, naming the marker, and
 * nothing reaches the server. */
Test(statements_real, a_prepared_bind_of_the_wrong_type_fails_before_the_server, .timeout = 120) {
  cqlmux_session *s = open_session(NULL);
  setup_keyspace(s);
  exec_ok(s, "CREATE TABLE IF NOT EXISTS stmt_real.typed (k int PRIMARY KEY, v int)");
  cqlmux_prepared *p = prepare(s, "INSERT INTO stmt_real.typed (k, v) VALUES (?, ?)");
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  cr_assert_eq(cqlmux_statement_bind_text(st, 1, "7", 1), CQLMUX_ERR_TYPE_MISMATCH);
  cr_assert_str_eq(cqlmux_statement_error_message(st),
                   "parameter 1 (\"v\") is int: cqlmux_statement_bind_text cannot bind it");
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
}

/* A keyspace created quoted ("MixedKs") is reached from the config
 * quoted or not. Quoted used to be quoted again: USE ""MixedKs"". */
Test(statements_real, a_quoted_keyspace_is_used_as_quoted, .timeout = 120) {
  cqlmux_session *admin = open_session(NULL);
  exec_ok(admin, "CREATE KEYSPACE IF NOT EXISTS \"MixedKs\" WITH replication = "
                 "{'class': 'SimpleStrategy', 'replication_factor': 1}");
  exec_ok(admin, "CREATE TABLE IF NOT EXISTS \"MixedKs\".t (k int PRIMARY KEY)");
  cqlmux_session_free(admin);
  static const char *const forms[] = {"\"MixedKs\"", "MixedKs"};
  for (size_t i = 0; i < 2; i++) {
    cqlmux_session *s = open_session(forms[i]);
    cqlmux_future *f = run_ok(s, "SELECT k FROM t");
    cqlmux_future_free(f);
    cqlmux_session_free(s);
  }
}

/* 10,000 rows written in UNLOGGED single-partition batches of 100, read in
 * pages of 100 through cqlmux_session_execute_next_page: every row once. */
Test(statements_real, paging_10000_rows_by_100_returns_each_once, .timeout = 300) {
  enum { ROWS = 10000, PER = 100 };
  cqlmux_session *s = open_session(NULL);
  setup_keyspace(s);
  exec_ok(s, "DROP TABLE IF EXISTS stmt_real.paged");
  exec_ok(s, "CREATE TABLE stmt_real.paged (p int, c int, PRIMARY KEY (p, c))");
  cqlmux_prepared *p = prepare(s, "INSERT INTO stmt_real.paged (p, c) VALUES (0, ?)");
  cqlmux_statement *m[PER];
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_UNLOGGED);
  for (int i = 0; i < PER; i++) {
    m[i] = cqlmux_statement_new_prepared(p);
    cqlmux_batch_add(batch, m[i]);
  }
  for (int b = 0; b < ROWS / PER; b++) {
    for (int i = 0; i < PER; i++) cqlmux_statement_bind_int32(m[i], 0, b * PER + i);
    cqlmux_future *f = run(s, NULL, batch);
    cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
    cqlmux_future_free(f);
  }
  static unsigned char seen[ROWS];
  memset(seen, 0, sizeof seen);
  cqlmux_statement *st = cqlmux_statement_new("SELECT c FROM stmt_real.paged WHERE p = 0", 0);
  cqlmux_statement_set_page_size(st, PER);
  cqlmux_future *f = run(s, st, NULL);
  size_t total = 0, pages = 0;
  while (f) {
    cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
    const cqlmux_result *r = cqlmux_future_result(f);
    cr_assert_leq(cqlmux_result_row_count(r), PER);
    cqlmux_row_iterator it;
    size_t row;
    cr_assert_eq(cqlmux_result_rows(r, &it), CQLMUX_OK);
    while (cqlmux_row_iterator_next(&it, &row)) {
      int32_t c;
      cr_assert_eq(cqlmux_result_get_int32(r, row, 0, &c), CQLMUX_OK);
      cr_assert(c >= 0 && c < ROWS);
      cr_assert_eq(seen[c], 0, "row %d returned twice", c);
      seen[c] = 1;
      total++;
    }
    pages++;
    cqlmux_future *next = cqlmux_session_execute_next_page(s, st, r);
    cr_assert_eq(next == NULL, !cqlmux_result_has_more_pages(r));
    cqlmux_future_free(f);
    f = next;
    if (f) cqlmux_future_wait(f);
  }
  cr_assert_eq(total, ROWS);
  cr_assert_geq(pages, ROWS / PER);
  cqlmux_statement_free(st);
  for (int i = 0; i < PER; i++) cqlmux_statement_free(m[i]);
  cqlmux_batch_free(batch);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
}

/* Issue 14: a prepared SELECT * whose table gains a column (protocol v5):
 * the server answers the next EXECUTE, sent with the old result metadata
 * id, with METADATA_CHANGED and the new columns; the session keeps them,
 * so the following EXECUTEs (SKIP_METADATA, the new id) read three columns
 * too. A prepared INSERT keeps working across the change. */
static cqlmux_future *execute_prepared(cqlmux_session *s, cqlmux_prepared *p, int32_t k) {
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  cr_assert_eq(cqlmux_statement_bind_int32(st, 0, k), CQLMUX_OK);
  cqlmux_future *f = run(s, st, NULL);
  cqlmux_statement_free(st);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  return f;
}

static uint64_t bytes_in(cqlmux_session *s) {
  cqlmux_metrics m;
  cr_assert_eq(cqlmux_session_metrics(s, &m), CQLMUX_OK);
  return m.bytes_in;
}

static void assert_columns(cqlmux_session *s, cqlmux_prepared *p, size_t n, const char *last) {
  cqlmux_future *f = execute_prepared(s, p, 1);
  const cqlmux_result *r = cqlmux_future_result(f);
  cr_assert_eq(cqlmux_result_row_count(r), 1);
  cr_assert_eq(cqlmux_result_column_count(r), n, "%zu columns", cqlmux_result_column_count(r));
  cr_assert_str_eq(cqlmux_result_column_name(r, n - 1, NULL), last);
  int32_t a = 0;
  cr_assert_eq(cqlmux_result_get_int32(r, 0, (size_t)cqlmux_result_column_index(r, "a"), &a),
               CQLMUX_OK);
  cr_assert_eq(a, 2);
  cqlmux_future_free(f);
}

Test(statements_real, an_altered_table_gives_its_new_columns_to_a_prepared_select,
     .timeout = 180) {
  cqlmux_session *s = open_session(NULL);
  cr_assert_eq(cqlmux_session_protocol_version(s), 5, "METADATA_CHANGED is v5's");
  setup_keyspace(s);
  exec_ok(s, "DROP TABLE IF EXISTS stmt_real.altered");
  exec_ok(s, "CREATE TABLE stmt_real.altered (k int PRIMARY KEY, a int)");
  exec_ok(s, "INSERT INTO stmt_real.altered (k, a) VALUES (1, 2)");
  cqlmux_prepared *p = prepare(s, "SELECT * FROM stmt_real.altered WHERE k = ?");
  assert_columns(s, p, 2, "a");
  uint64_t before = bytes_in(s);
  assert_columns(s, p, 2, "a");
  uint64_t answer_before = bytes_in(s) - before; /* without metadata (SKIP_METADATA) */
  exec_ok(s, "ALTER TABLE stmt_real.altered ADD z int");
  assert_columns(s, p, 3, "z"); /* METADATA_CHANGED: the new columns and id */
  for (int i = 0; i < 3; i++) {
    before = bytes_in(s);
    assert_columns(s, p, 3, "z");
    /* Sent with the new id, answered without metadata again: one more
     * cell (8 bytes) than before the change, not the ~60 bytes of column
     * specs and id an answer to a stale id carries. */
    uint64_t answer = bytes_in(s) - before;
    cr_assert_leq(answer, answer_before + 8, "%lu bytes after, %lu before: metadata resent",
                  (unsigned long)answer, (unsigned long)answer_before);
  }
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
}

/* ---------------------------------------------------------------- warnings, tracing */

/* WARN lines the session logged, kept for the test to read. */
typedef struct warn_lines {
  pthread_mutex_t lock;
  size_t count;
  char text[8][512];
} warn_lines;

static void keep_warn_lines(cqlmux_log_level level, const char *message, void *user_data) {
  warn_lines *w = user_data;
  if (level != CQLMUX_LOG_WARN) return;
  pthread_mutex_lock(&w->lock);
  if (w->count < 8) snprintf(w->text[w->count], sizeof w->text[0], "%s", message);
  w->count++;
  pthread_mutex_unlock(&w->lock);
}

/* An UNLOGGED batch of 8 rows of 1,000 bytes is over the server's
 * batch_size_warn_threshold (5 KiB by default) and under its fail
 * threshold (50 KiB). Cassandra checks the size only of batches spanning
 * several partitions, and warns about an unlogged batch over more than 10
 * partitions: so 8 partitions, and exactly one warning. The batch applies,
 * and the warning is on the future and in the log (at WARN, naming the
 * host). */
Test(statements_real, an_unlogged_batch_over_the_warn_threshold_returns_the_servers_warning,
     .timeout = 120) {
  warn_lines log = {.lock = PTHREAD_MUTEX_INITIALIZER};
  cqlmux_config *c = test_config();
  cqlmux_config_set_log_callback(c, keep_warn_lines, &log);
  cqlmux_config_set_log_level(c, CQLMUX_LOG_WARN);
  cqlmux_session *s = connect_with(c);
  setup_keyspace(s);
  exec_ok(s, "DROP TABLE IF EXISTS stmt_real.wide");
  exec_ok(s, "CREATE TABLE stmt_real.wide (p int, c int, v text, PRIMARY KEY (p, c))");
  char value[1000];
  memset(value, 'w', sizeof value);
  cqlmux_statement *members[8];
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_UNLOGGED);
  for (int i = 0; i < 8; i++) {
    members[i] = cqlmux_statement_new("INSERT INTO stmt_real.wide (p, c, v) VALUES (?, 0, ?)", 2);
    cqlmux_statement_bind_int32(members[i], 0, i);
    cqlmux_statement_bind_text(members[i], 1, value, sizeof value);
    cr_assert_eq(cqlmux_batch_add(batch, members[i]), CQLMUX_OK);
  }
  pthread_mutex_lock(&log.lock);
  size_t lines_before = log.count;
  pthread_mutex_unlock(&log.lock);
  cqlmux_future *f = run(s, NULL, batch);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cr_assert_eq(cqlmux_future_warning_count(f), 1, "%zu warnings",
               cqlmux_future_warning_count(f));
  const char *text;
  size_t len;
  cr_assert_eq(cqlmux_future_warning(f, 0, &text, &len), CQLMUX_OK);
  char warning[512];
  snprintf(warning, sizeof warning, "%.*s", (int)len, text);
  cr_assert(strstr(warning, "Batch for [stmt_real.wide] is of size"), "%s", warning);
  cr_assert(strstr(warning, "exceeding specified threshold"), "%s", warning);
  char expected[700];
  snprintf(expected, sizeof expected, "server warning from %s:%s: %s",
           env_or("CQLMUX_TEST_HOST", "127.0.0.1"), env_or("CQLMUX_TEST_PORT", "9042"), warning);
  pthread_mutex_lock(&log.lock);
  cr_assert_eq(log.count, lines_before + 1, "one WARN line for the one warning");
  cr_assert_str_eq(log.text[lines_before], expected);
  pthread_mutex_unlock(&log.lock);
  cqlmux_future_free(f);
  cr_assert_eq(count_rows(s, "SELECT COUNT(*) FROM stmt_real.wide"), 8);
  cqlmux_batch_free(batch);
  for (int i = 0; i < 8; i++) cqlmux_statement_free(members[i]);
  cqlmux_session_free(s);
}

/* A traced SELECT answers with a tracing id; cqlmux_session_trace finds
 * that id's session row (complete: it has a duration, and it names the
 * request) and its events. The same SELECT untraced has no tracing id. */
Test(statements_real, a_traced_select_gives_a_tracing_id_whose_session_row_exists,
     .timeout = 120) {
  cqlmux_session *s = open_session(NULL);
  cqlmux_statement *st = cqlmux_statement_new("SELECT release_version FROM system.local", 0);
  cqlmux_future *f = run(s, st, NULL);
  uint8_t id[16];
  cr_assert_eq(cqlmux_future_tracing_id(f, id), CQLMUX_ERR_NOT_FOUND);
  cqlmux_future_free(f);
  cr_assert_eq(cqlmux_statement_set_tracing(st, 1), CQLMUX_OK);
  f = run(s, st, NULL);
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  cr_assert_eq(cqlmux_result_row_count(cqlmux_future_result(f)), 1);
  cr_assert_eq(cqlmux_future_tracing_id(f, id), CQLMUX_OK);
  cr_assert_eq(id[6] >> 4, 1, "a time (version 1) UUID");
  cqlmux_future_free(f);
  cqlmux_statement_free(st);

  cqlmux_future *trace = cqlmux_session_trace(s, id, 30000);
  cr_assert_eq(cqlmux_future_wait(trace), CQLMUX_OK, "%s", cqlmux_future_error_message(trace));
  const cqlmux_result *row = cqlmux_future_trace_session(trace);
  cr_assert_eq(cqlmux_result_row_count(row), 1);
  uint8_t session_id[16];
  cr_assert_eq(cqlmux_result_get_uuid(row, 0, (size_t)cqlmux_result_column_index(row, "session_id"),
                                      session_id),
               CQLMUX_OK);
  cr_assert_eq(memcmp(session_id, id, 16), 0);
  int32_t duration = -1;
  cr_assert_eq(cqlmux_result_get_int32(row, 0, (size_t)cqlmux_result_column_index(row, "duration"),
                                       &duration),
               CQLMUX_OK, "the trace is complete: it has a duration");
  cr_assert_geq(duration, 0);
  const char *request;
  size_t len;
  cr_assert_eq(cqlmux_result_get_text(row, 0, (size_t)cqlmux_result_column_index(row, "request"),
                                      &request, &len),
               CQLMUX_OK);
  cr_assert_eq(len, strlen("Execute CQL3 query"), "%.*s", (int)len, request);
  cr_assert_eq(memcmp(request, "Execute CQL3 query", len), 0);
  const cqlmux_result *events = cqlmux_future_trace_events(trace);
  cr_assert_gt(cqlmux_result_row_count(events), 0, "a traced read has events");
  int activity = cqlmux_result_column_index(events, "activity");
  cr_assert_geq(activity, 0);
  cqlmux_future_free(trace);
  cqlmux_session_free(s);
}

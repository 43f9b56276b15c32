/* Token awareness against a REAL Cassandra (tools/cassandra-local, one
 * node): the Murmur3 token computed from a prepared statement's bound
 * partition key equals the server's `token(...)` for keys of several
 * types, every length 1..40 (every tail length, bytes >= 0x80), and
 * composite keys; and the session's token map knows the keyspaces,
 * including one created after connect (SCHEMA_CHANGE). Environment:
 * CQLMUX_TEST_HOST, CQLMUX_TEST_PORT (tools/test-all's phase_single_node). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/routing.h"
#include "api/session.h"
#include "cluster/cluster.h"
#include "cluster/murmur3.h"
#include "cluster/token_map.h"
#include "cqlmux.h"
#include "real_fixture.h"

static void exec_ok(cqlmux_session *s, const char *cql) {
  cqlmux_statement *st = cqlmux_statement_new(cql, 0);
  cqlmux_future_free(real_run(s, st));
  cqlmux_statement_free(st);
}

static cqlmux_prepared *prepare(cqlmux_session *s, const char *cql) {
  cqlmux_future *f = cqlmux_session_prepare(s, cql);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "%s: %s", cql, cqlmux_future_error_message(f));
  cqlmux_prepared *p = cqlmux_future_take_prepared(f);
  cqlmux_future_free(f);
  cr_assert_not_null(p);
  return p;
}

static void setup(cqlmux_session *s) {
  exec_ok(s, "CREATE KEYSPACE IF NOT EXISTS token_real WITH replication = "
             "{'class': 'SimpleStrategy', 'replication_factor': 1}");
  exec_ok(s, "CREATE TABLE IF NOT EXISTS token_real.b (k blob PRIMARY KEY)");
  exec_ok(s, "CREATE TABLE IF NOT EXISTS token_real.t (k text PRIMARY KEY)");
  exec_ok(s, "CREATE TABLE IF NOT EXISTS token_real.n (k bigint PRIMARY KEY)");
  exec_ok(s, "CREATE TABLE IF NOT EXISTS token_real.c "
             "(a int, b text, c blob, v int, PRIMARY KEY ((b, a, c), v))");
}

/* The server's token(...) for the row the bound statement `sel` selects. */
static int64_t server_token(cqlmux_session *s, const cqlmux_statement *sel) {
  cqlmux_future *f = real_run(s, sel);
  const cqlmux_result *r = cqlmux_future_result(f);
  cr_assert_eq(cqlmux_result_row_count(r), 1);
  int64_t token = 0;
  cr_assert_eq(cqlmux_result_get_int64(r, 0, 0, &token), CQLMUX_OK);
  cqlmux_future_free(f);
  return token;
}

/* Inserts with `ins`, then compares the routing token of `ins` (from its
 * bound key) with the server's token of that row (read with `sel`, bound
 * alike). */
static void compare(cqlmux_session *s, cqlmux_statement *ins, cqlmux_statement *sel,
                    const char *what) {
  cqlmux_future_free(real_run(s, ins));
  int64_t ours = 0, theirs = server_token(s, sel);
  cr_assert(cqlmux_statement_routing_token(ins, &ours), "%s: no routing token", what);
  cr_assert_eq(ours, theirs, "%s: ours %" PRId64 ", Cassandra's %" PRId64, what, ours, theirs);
  int64_t sel_token = 0;
  cr_assert(cqlmux_statement_routing_token(sel, &sel_token));
  cr_assert_eq(sel_token, theirs, "%s: the SELECT routes like the INSERT", what);
}

Test(token_real, murmur3_matches_the_server_for_every_length_and_type, .timeout = 240) {
  cqlmux_session *s = real_open_session();
  setup(s);
  cqlmux_prepared *bi = prepare(s, "INSERT INTO token_real.b (k) VALUES (?)");
  cqlmux_prepared *bs = prepare(s, "SELECT token(k) FROM token_real.b WHERE k = ?");
  cqlmux_prepared *ti = prepare(s, "INSERT INTO token_real.t (k) VALUES (?)");
  cqlmux_prepared *ts = prepare(s, "SELECT token(k) FROM token_real.t WHERE k = ?");
  cqlmux_prepared *ni = prepare(s, "INSERT INTO token_real.n (k) VALUES (?)");
  cqlmux_prepared *ns = prepare(s, "SELECT token(k) FROM token_real.n WHERE k = ?");
  cqlmux_statement *ins[3] = {cqlmux_statement_new_prepared(bi), cqlmux_statement_new_prepared(ti),
                              cqlmux_statement_new_prepared(ni)};
  cqlmux_statement *sel[3] = {cqlmux_statement_new_prepared(bs), cqlmux_statement_new_prepared(ts),
                              cqlmux_statement_new_prepared(ns)};
  uint8_t key[40];
  char text[41];
  unsigned seed = 12345;
  for (size_t len = 1; len <= 40; len++) {
    for (int round = 0; round < 2; round++) {
      for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        key[i] = (uint8_t)(seed >> 16); /* half of them >= 0x80: Java's signed tail */
        text[i] = (char)('a' + (seed >> 20) % 26);
      }
      text[len] = '\0';
      char what[64];
      snprintf(what, sizeof what, "blob of %zu bytes, round %d", len, round);
      cqlmux_statement_bind_blob(ins[0], 0, key, len);
      cqlmux_statement_bind_blob(sel[0], 0, key, len);
      compare(s, ins[0], sel[0], what);
      snprintf(what, sizeof what, "text of %zu bytes, round %d", len, round);
      cqlmux_statement_bind_text(ins[1], 0, text, len);
      cqlmux_statement_bind_text(sel[1], 0, text, len);
      compare(s, ins[1], sel[1], what);
    }
  }
  const int64_t numbers[] = {0, 1, -1, INT64_MIN, INT64_MAX, 1234567890123};
  for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
    cqlmux_statement_bind_int64(ins[2], 0, numbers[i]);
    cqlmux_statement_bind_int64(sel[2], 0, numbers[i]);
    compare(s, ins[2], sel[2], "bigint");
  }
  for (int i = 0; i < 3; i++) cqlmux_statement_free(ins[i]), cqlmux_statement_free(sel[i]);
  cqlmux_prepared_free(bi), cqlmux_prepared_free(bs), cqlmux_prepared_free(ti);
  cqlmux_prepared_free(ts), cqlmux_prepared_free(ni), cqlmux_prepared_free(ns);
  cqlmux_session_free(s);
}

/* Markers in another order than the key's columns: the PREPARED answer's
 * pk_indexes put them in key order (b, a, c). */
Test(token_real, composite_keys_match_the_server, .timeout = 120) {
  cqlmux_session *s = real_open_session();
  setup(s);
  cqlmux_prepared *pi = prepare(s, "INSERT INTO token_real.c (v, a, c, b) VALUES (?, ?, ?, ?)");
  cqlmux_prepared *ps =
      prepare(s, "SELECT token(b, a, c) FROM token_real.c WHERE c = ? AND a = ? AND b = ?");
  cqlmux_statement *ins = cqlmux_statement_new_prepared(pi);
  cqlmux_statement *sel = cqlmux_statement_new_prepared(ps);
  char text[41];
  uint8_t blob[40];
  for (size_t len = 0; len <= 40; len++) {
    for (size_t i = 0; i < len; i++) text[i] = (char)('A' + i % 26), blob[i] = (uint8_t)(0xf0 - i);
    text[len] = '\0';
    int32_t a = (int32_t)len * -7919;
    cqlmux_statement_bind_int32(ins, 0, 1);
    cqlmux_statement_bind_int32(ins, 1, a);
    cqlmux_statement_bind_blob(ins, 2, blob, len);
    cqlmux_statement_bind_text(ins, 3, text, len);
    cqlmux_statement_bind_blob(sel, 0, blob, len);
    cqlmux_statement_bind_int32(sel, 1, a);
    cqlmux_statement_bind_text(sel, 2, text, len);
    char what[64];
    snprintf(what, sizeof what, "composite with %zu-byte text and blob", len);
    compare(s, ins, sel, what);
  }
  size_t ks_len;
  const char *ks = cqlmux_statement_routing_keyspace(ins, &ks_len);
  cr_assert(ks_len == 10 && !memcmp(ks, "token_real", 10), "keyspace from the metadata");
  cqlmux_statement_free(ins), cqlmux_statement_free(sel);
  cqlmux_prepared_free(pi), cqlmux_prepared_free(ps);
  cqlmux_session_free(s);
}

static size_t replicas_of(cqlmux_session *s, const char *ks, int64_t token,
                          cqlmux_host *const **out) {
  return cqlmux_token_map_replicas(cqlmux_cluster_token_map(s->cluster), ks, strlen(ks), token,
                                   out);
}

/* The map is rebuilt off the test's thread, after the server's event: the
 * test polls it (with a deadline), it never sleeps for a fixed time. */
static size_t wait_replicas(cqlmux_session *s, const char *ks, cqlmux_host *const **out) {
  size_t n = 0;
  for (int i = 0; i < 3000 && !(n = replicas_of(s, ks, 0, out)); i++) usleep(10000);
  return n;
}

Test(token_real, the_map_knows_keyspaces_and_learns_new_ones, .timeout = 120) {
  cqlmux_session *s = real_open_session();
  setup(s);
  cqlmux_host *const *r;
  cr_assert_eq(wait_replicas(s, "token_real", &r), 1, "SimpleStrategy RF 1 on one node");
  const cqlmux_host_list *hosts = cqlmux_cluster_hosts(s->cluster);
  cr_assert_eq(hosts->count, 1);
  cr_assert_eq(r[0], hosts->hosts[0]);
  cr_assert_eq(replicas_of(s, "system", 0, &r), 0, "LocalStrategy: no replicas");
  cr_assert_eq(replicas_of(s, "no_such_keyspace", 0, &r), 0);
  /* A keyspace created after connect arrives through SCHEMA_CHANGE. */
  char ks[64], cql[256];
  snprintf(ks, sizeof ks, "token_new_%d", (int)getpid());
  snprintf(cql, sizeof cql,
           "CREATE KEYSPACE %s WITH replication = {'class': 'NetworkTopologyStrategy', "
           "'datacenter1': 3}",
           ks);
  exec_ok(s, cql);
  cr_assert_eq(wait_replicas(s, ks, &r), 1, "NTS factor 3 in a one-node DC: that node");
  cr_assert_eq(r[0], hosts->hosts[0]);
  snprintf(cql, sizeof cql, "DROP KEYSPACE %s", ks);
  exec_ok(s, cql);
  cqlmux_session_free(s);
}

/* Keyspaces: system_schema.keyspaces as Cassandra 5.0 serves it, the
 * SCHEMA_CHANGE a runtime keyspace pushes, and the replicas of a token
 * under SimpleStrategy and NetworkTopologyStrategy. */
#include "config.h"

#include "mock/test_mock.h"

#include <stdio.h>

#include "proto/arena.h"
#include "proto/values.h"

typedef struct rows {
  mock_reply r;
  cqlmux_arena arena;
  cqlmux_result_msg res;
} rows;

static void select_rows(mock_client *c, const char *q, rows *d) {
  cr_assert_eq(mock_client_query(c, 1, q, CQLMUX_CONSISTENCY_ONE), CQLMUX_OK);
  test_recv(c, &d->r);
  cr_assert_eq(d->r.h.opcode, CQLMUX_OP_RESULT, "%s: opcode 0x%02x", q, d->r.h.opcode);
  cqlmux_arena_init(&d->arena, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(c->version, d->r.body, d->r.len, &d->arena, &d->res),
               CQLMUX_OK);
  cr_assert_eq(d->res.kind, CQLMUX_RESULT_ROWS);
}

static void text_of(cqlmux_bytes v, char *out, size_t cap) {
  cqlmux_slice s;
  cr_assert_eq(cqlmux_value_get_text(v, &s), CQLMUX_OK);
  snprintf(out, cap, "%.*s", (int)s.len, (const char *)s.data);
}

/* A map<text,text> cell as "k=v;k=v;" in wire order. */
static void map_of(const rows *d, uint32_t row, uint32_t col, char *out, size_t cap) {
  cqlmux_bytes v, e;
  cr_assert_eq(cqlmux_rows_cell(&d->res.rows, row, col, &v), CQLMUX_OK);
  cqlmux_value_iter it;
  cr_assert_eq(cqlmux_value_iter_init(&it, d->res.rows.meta.columns[col].type, v), CQLMUX_OK);
  const cqlmux_typedesc *t;
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; cqlmux_value_iter_next(&it, &e, &t) == 1; i++) {
    char s[128];
    text_of(e, s, sizeof s);
    used += (size_t)snprintf(out + used, cap - used, "%s%s", s, i % 2 ? ";" : "=");
  }
}

static void cell_text(const rows *d, uint32_t row, uint32_t col, char *out, size_t cap) {
  cqlmux_bytes v;
  cr_assert_eq(cqlmux_rows_cell(&d->res.rows, row, col, &v), CQLMUX_OK);
  text_of(v, out, cap);
}

static cqlmux_mock *start_two_dcs(const cqlmux_mock_keyspace *ks, int count) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.dc_count = 2;
  cfg.nodes_per_dc[0] = 3;
  cfg.nodes_per_dc[1] = 3;
  cfg.distinct_addresses = false;
  cfg.keyspaces = ks;
  cfg.keyspace_count = count;
  return test_mock_start(0, &cfg);
}

Test(keyspace, system_schema_keyspaces_as_cassandra_serves_it) {
  cqlmux_mock_keyspace ks[2];
  cqlmux_mock_keyspace_init(&ks[0], "app");
  ks[0].network_topology = true;
  ks[0].dc_count = 2;
  ks[0].dc_names[0] = "dc2"; /* out of order: the map sorts its keys */
  ks[0].dc_factors[0] = 1;
  ks[0].dc_names[1] = "dc1";
  ks[0].dc_factors[1] = 3;
  cqlmux_mock_keyspace_init(&ks[1], "simple");
  ks[1].replication_factor = 2;
  ks[1].durable_writes = false;
  cqlmux_mock *m = start_two_dcs(ks, 2);
  mock_client c;
  test_ready(m, 0, &c, 5, NULL);

  rows d;
  select_rows(&c, "SELECT * FROM system_schema.keyspaces", &d);
  cr_assert_eq(d.res.rows.rows_count, 2);
  cr_assert_eq(d.res.rows.meta.columns_count, 3);
  const char *want_cols[] = {"keyspace_name", "durable_writes", "replication"};
  for (int i = 0; i < 3; i++)
    cr_assert_eq(memcmp(d.res.rows.meta.columns[i].name.data, want_cols[i], strlen(want_cols[i])),
                 0);
  cr_assert_eq(d.res.rows.meta.columns[2].type->id, CQLMUX_TYPE_MAP);
  char buf[512];
  cell_text(&d, 0, 0, buf, sizeof buf);
  cr_assert_str_eq(buf, "app");
  map_of(&d, 0, 2, buf, sizeof buf);
  cr_assert_str_eq(buf, "class=org.apache.cassandra.locator.NetworkTopologyStrategy;dc1=3;dc2=1;");
  map_of(&d, 1, 2, buf, sizeof buf);
  cr_assert_str_eq(buf, "class=org.apache.cassandra.locator.SimpleStrategy;replication_factor=2;");
  cqlmux_bytes v;
  bool durable = true;
  cr_assert_eq(cqlmux_rows_cell(&d.res.rows, 1, 1, &v), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_get_boolean(v, &durable), CQLMUX_OK);
  cr_assert_not(durable);
  cqlmux_arena_free(&d.arena);

  /* A driver refreshing one keyspace gets that row only. */
  select_rows(&c, "SELECT * FROM system_schema.keyspaces WHERE keyspace_name = 'simple'", &d);
  cr_assert_eq(d.res.rows.rows_count, 1);
  cell_text(&d, 0, 0, buf, sizeof buf);
  cr_assert_str_eq(buf, "simple");
  cqlmux_arena_free(&d.arena);

  /* The rest of system_schema stays empty. */
  select_rows(&c, "SELECT * FROM system_schema.tables", &d);
  cr_assert_eq(d.res.rows.rows_count, 0);
  cqlmux_arena_free(&d.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* The schema_version system.local reports, as text. */
static void schema_version(mock_client *c, char out[40]) {
  rows d;
  select_rows(c, "SELECT schema_version FROM system.local", &d);
  cqlmux_bytes v;
  cr_assert_eq(cqlmux_rows_cell(&d.res.rows, 0, 0, &v), CQLMUX_OK);
  cr_assert_eq(v.len, 16);
  for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", v.data[i]);
  cqlmux_arena_free(&d.arena);
}

/* The next envelope is a SCHEMA_CHANGE event about keyspace `ks`. */
static void expect_keyspace_event(mock_client *c, const char *change, const char *ks) {
  mock_reply r;
  test_recv(c, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_EVENT);
  cr_assert_eq(r.h.stream, -1);
  cqlmux_event ev;
  cr_assert_eq(cqlmux_event_decode(r.body, r.len, &ev), CQLMUX_OK);
  cr_assert_eq(ev.kind, CQLMUX_EVENT_SCHEMA_CHANGE);
  cr_assert_eq(ev.schema.change_type.len, strlen(change));
  cr_assert_eq(memcmp(ev.schema.change_type.data, change, strlen(change)), 0);
  cr_assert_eq(memcmp(ev.schema.target.data, "KEYSPACE", 8), 0);
  cr_assert_eq(ev.schema.keyspace.len, strlen(ks));
  cr_assert_eq(memcmp(ev.schema.keyspace.data, ks, strlen(ks)), 0);
}

Test(keyspace, runtime_keyspace_pushes_schema_change) {
  cqlmux_mock *m = start_two_dcs(NULL, 0);
  mock_client c;
  test_ready(m, 1, &c, 4, NULL);
  const char *events[] = {"SCHEMA_CHANGE"};
  cr_assert_eq(mock_client_register(&c, 2, events, 1), CQLMUX_OK);
  mock_reply r;
  test_recv(&c, &r);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_READY);
  char before[40], after[40];
  schema_version(&c, before);

  char msg[128];
  cr_assert_eq(cqlmux_mock_script(m, "keyspace app simple 3", msg, sizeof msg), CQLMUX_OK, "%s",
               msg);
  cr_assert_str_eq(msg, "sent to 1 connections");
  expect_keyspace_event(&c, "CREATED", "app");
  cr_assert_eq(cqlmux_mock_script(m, "keyspace app nts dc1=2 dc2=2", msg, sizeof msg),
               CQLMUX_OK);
  expect_keyspace_event(&c, "UPDATED", "app");
  schema_version(&c, after);
  cr_assert_str_neq(before, after, "the schema version did not change");

  rows d;
  char buf[256];
  select_rows(&c, "SELECT keyspace_name, replication FROM system_schema.keyspaces", &d);
  cr_assert_eq(d.res.rows.rows_count, 1);
  map_of(&d, 0, 1, buf, sizeof buf);
  cr_assert_str_eq(buf, "class=org.apache.cassandra.locator.NetworkTopologyStrategy;dc1=2;dc2=2;");
  cqlmux_arena_free(&d.arena);

  cr_assert_neq(cqlmux_mock_script(m, "keyspace app nts dc1=x", msg, sizeof msg), CQLMUX_OK);
  cr_assert_neq(cqlmux_mock_script(m, "keyspace app simple", msg, sizeof msg), CQLMUX_OK);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

/* Six nodes, one token each, evenly spaced: node i owns ring position i
 * (tokens -2^63 + i * (2^64 / 6)), dc1 = nodes 0-2, dc2 = nodes 3-5. A
 * token just above node 1's belongs first to node 2. */
static int64_t node_token(cqlmux_mock *m, int node) {
  (void)m;
  return (int64_t)((uint64_t)node * (UINT64_MAX / 6) + 0x8000000000000000ull);
}

static void expect_replicas(cqlmux_mock *m, const char *ks, int64_t token, const int *want, int n) {
  int got[CQLMUX_MOCK_MAX_NODES];
  int count = cqlmux_mock_replicas(m, ks, token, got, CQLMUX_MOCK_MAX_NODES);
  cr_assert_eq(count, n, "%s: %d replicas, expected %d", ks, count, n);
  for (int i = 0; i < n; i++)
    cr_assert_eq(got[i], want[i], "%s replica %d: node %d, expected %d", ks, i, got[i], want[i]);
}

Test(keyspace, replicas_follow_the_strategy) {
  cqlmux_mock *m = start_two_dcs(NULL, 0);
  char msg[128];
  cr_assert_eq(cqlmux_mock_script(m, "keyspace s2 simple 2", msg, sizeof msg), CQLMUX_OK);
  cr_assert_eq(cqlmux_mock_script(m, "keyspace n21 nts dc1=2 dc2=1", msg, sizeof msg), CQLMUX_OK);
  cr_assert_eq(cqlmux_mock_script(m, "keyspace big simple 9", msg, sizeof msg), CQLMUX_OK);

  int64_t t = node_token(m, 1) + 1;
  expect_replicas(m, "s2", t, (int[]){2, 3}, 2);
  /* dc1 wants two (2, then 0 after wrapping), dc2 one (3, the first met). */
  expect_replicas(m, "n21", t, (int[]){2, 3, 0}, 3);
  /* A token equal to a node's own is that node's. */
  expect_replicas(m, "s2", node_token(m, 4), (int[]){4, 5}, 2);
  /* Past the last token the ring wraps to node 0. */
  expect_replicas(m, "s2", INT64_MAX, (int[]){0, 1}, 2);
  /* A factor above the node count stops at every node once. */
  expect_replicas(m, "big", t, (int[]){2, 3, 4, 5, 0, 1}, 6);
  cr_assert_eq(cqlmux_mock_replicas(m, "nope", t, NULL, 0), CQLMUX_ERR_NOT_FOUND);

  /* The scenario command prints them in the same order. */
  char line[96];
  snprintf(line, sizeof line, "replicas n21 %lld", (long long)t);
  cr_assert_eq(cqlmux_mock_script(m, line, msg, sizeof msg), CQLMUX_OK, "%s", msg);
  cr_assert_str_eq(msg, "replicas 2 3 0");

  /* A stopped node keeps its tokens; a removed one gives them up. */
  cr_assert_eq(cqlmux_mock_node_stop(m, 2), CQLMUX_OK);
  expect_replicas(m, "s2", t, (int[]){2, 3}, 2);
  cr_assert_eq(cqlmux_mock_node_remove(m, 2), CQLMUX_OK);
  expect_replicas(m, "s2", t, (int[]){3, 4}, 2);
  cqlmux_mock_free(m);
}

/* Configuration lines define keyspaces before the start. */
Test(keyspace, configuration_line) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  char err[128];
  cr_assert_eq(cqlmux_mock_config_parse(&cfg, "nodes 3", err, sizeof err), 1);
  cr_assert_eq(cqlmux_mock_config_parse(&cfg, "port 0", err, sizeof err), 1);
  cr_assert_eq(cqlmux_mock_config_parse(&cfg, "addresses shared", err, sizeof err), 1);
  cr_assert_eq(cqlmux_mock_config_parse(&cfg, "keyspace a simple 1", err, sizeof err), 1);
  cr_assert_eq(cqlmux_mock_config_parse(&cfg, "keyspace b nts dc1=3 durable_writes=off", err,
                                        sizeof err),
               1, "%s", err);
  cr_assert_eq(cqlmux_mock_config_parse(&cfg, "keyspace a simple 2", err, sizeof err), 1);
  cr_assert_eq(cfg.keyspace_count, 2);
  cr_assert_lt(cqlmux_mock_config_parse(&cfg, "keyspace c lots 2", err, sizeof err), 0);
  cqlmux_mock *m = test_mock_start(0, &cfg);
  cqlmux_mock_config_release(&cfg); /* the mock keeps copies */
  int nodes[3];
  cr_assert_eq(cqlmux_mock_replicas(m, "a", 0, nodes, 3), 2);
  cr_assert_eq(cqlmux_mock_replicas(m, "b", 0, nodes, 3), 3);
  mock_client c;
  test_ready(m, 0, &c, 4, NULL);
  rows d;
  select_rows(&c, "SELECT keyspace_name FROM system_schema.keyspaces", &d);
  cr_assert_eq(d.res.rows.rows_count, 2);
  cqlmux_arena_free(&d.arena);
  mock_client_close(&c);
  cqlmux_mock_free(m);
}

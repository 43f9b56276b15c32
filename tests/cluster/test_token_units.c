/* Token awareness, pure parts: Murmur3 tokens, replication options and the
 * token map's placement per strategy. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cluster/host.h"
#include "cluster/keyspaces.h"
#include "cluster/murmur3.h"
#include "cluster/token_map.h"

/* ================================================================ murmur3 */

/* Vectors of Cassandra's Murmur3Partitioner (the same the DataStax drivers
 * test with); test_token_real checks many more against a live server. */
Test(murmur3, cassandra_vectors) {
  cr_assert_eq(cqlmux_murmur3_token("123", 3), INT64_C(-7468325962851647638));
  uint8_t b[50];
  for (int i = 0; i < 10; i++) memcpy(b + 5 * i, "\x00\xff\x10\xfa\x99", 5);
  cr_assert_eq(cqlmux_murmur3_token(b, 50), INT64_C(5837342703291459765));
  memset(b, 0xfe, 8);
  cr_assert_eq(cqlmux_murmur3_token(b, 8), INT64_C(-8927430733708461935));
  memset(b, 0x10, 8);
  cr_assert_eq(cqlmux_murmur3_token(b, 8), INT64_C(1446172840243228796));
  cr_assert_eq(cqlmux_murmur3_token("9223372036854775807", 19), INT64_C(7162290910810015547));
}

Test(murmur3, empty_key_is_the_minimum_token) {
  cr_assert_eq(cqlmux_murmur3_token("", 0), INT64_MIN);
}

/* The tail bytes are Java's signed bytes: 0x80.. must differ from an
 * unsigned reading, and every tail length hashes differently. */
Test(murmur3, every_tail_length_differs) {
  uint8_t key[32];
  for (int i = 0; i < 32; i++) key[i] = (uint8_t)(0x80 + i);
  int64_t seen[33];
  for (size_t n = 1; n <= 32; n++) {
    seen[n] = cqlmux_murmur3_token(key, n);
    cr_assert_neq(seen[n], INT64_MIN);
    for (size_t k = 1; k < n; k++) cr_assert_neq(seen[n], seen[k], "lengths %zu and %zu", n, k);
  }
}

/* ================================================================ replication */

static void option(cqlmux_replication *r, const char *k, const char *v) {
  cqlmux_replication_option(r, k, strlen(k), v, strlen(v));
}

Test(replication, options_in_any_order_and_short_class_names) {
  cqlmux_replication a, b;
  memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
  option(&a, "DC1", "3");
  option(&a, "class", "org.apache.cassandra.locator.NetworkTopologyStrategy");
  option(&a, "dc2", "2/1");
  option(&b, "class", "NetworkTopologyStrategy");
  option(&b, "dc2", "2");
  option(&b, "DC1", "3");
  cr_assert_eq(a.cls, CQLMUX_REPLICATION_NETWORK);
  cr_assert_eq(a.dc_count, 2);
  cr_assert_eq(a.dcs[1].factor, 2, "transient notation: all replicas count");
  cr_assert(cqlmux_replication_equal(&a, &b));
  option(&b, "dc3", "1");
  cr_assert_not(cqlmux_replication_equal(&a, &b));
  cqlmux_replication s;
  memset(&s, 0, sizeof s);
  option(&s, "class", "org.apache.cassandra.locator.SimpleStrategy");
  option(&s, "replication_factor", "3");
  cr_assert_eq(s.cls, CQLMUX_REPLICATION_SIMPLE);
  cr_assert_eq(s.factor, 3);
  memset(&s, 0, sizeof s);
  option(&s, "class", "com.example.MyStrategy");
  cr_assert_eq(s.cls, CQLMUX_REPLICATION_UNKNOWN);
  memset(&s, 0, sizeof s);
  option(&s, "class", "org.apache.cassandra.locator.LocalStrategy");
  cr_assert_eq(s.cls, CQLMUX_REPLICATION_LOCAL);
}

/* ================================================================ token map */

typedef struct fixture {
  cqlmux_host hosts[16];
  cqlmux_host *list[16];
  int64_t tokens[16][8];
  size_t count;
} fixture;

static cqlmux_host *add_host(fixture *f, const char *dc, const char *rack, const int64_t *tokens,
                             size_t n) {
  cqlmux_host *h = &f->hosts[f->count];
  memset(h, 0, sizeof *h);
  snprintf(h->datacenter, sizeof h->datacenter, "%s", dc);
  snprintf(h->rack, sizeof h->rack, "%s", rack);
  snprintf(h->address, sizeof h->address, "h%zu", f->count);
  if (n) memcpy(f->tokens[f->count], tokens, n * sizeof *tokens);
  h->tokens = f->tokens[f->count];
  h->token_count = n;
  f->list[f->count++] = h;
  return h;
}

static cqlmux_keyspace_desc simple(const char *name, const char *factor) {
  cqlmux_keyspace_desc d;
  memset(&d, 0, sizeof d);
  snprintf(d.name, sizeof d.name, "%s", name);
  option(&d.replication, "class", "SimpleStrategy");
  option(&d.replication, "replication_factor", factor);
  return d;
}

static cqlmux_token_map *build(fixture *f, const cqlmux_keyspace_desc *ks, size_t n) {
  cqlmux_token_map *m = NULL;
  cr_assert_eq(cqlmux_token_map_build(NULL, f->list, f->count, ks, n, &m), CQLMUX_OK);
  return m;
}

static size_t lookup(const cqlmux_token_map *m, const char *ks, int64_t token,
                     cqlmux_host *const **out) {
  return cqlmux_token_map_replicas(m, ks, strlen(ks), token, out);
}

Test(token_map, simple_strategy_ring_order_and_wraparound) {
  fixture f;
  memset(&f, 0, sizeof f);
  cqlmux_host *a = add_host(&f, "dc1", "r1", (int64_t[]){-100}, 1);
  cqlmux_host *b = add_host(&f, "dc1", "r1", (int64_t[]){0}, 1);
  cqlmux_host *c = add_host(&f, "dc1", "r1", (int64_t[]){100}, 1);
  cqlmux_keyspace_desc ks[] = {simple("ks2", "2"), simple("ks1", "1")};
  cqlmux_token_map *m = build(&f, ks, 2);
  cqlmux_host *const *r;
  /* (-100, 0] is b's: replicas b then c. */
  cr_assert_eq(lookup(m, "ks2", -50, &r), 2);
  cr_assert(r[0] == b && r[1] == c);
  cr_assert_eq(lookup(m, "ks2", 0, &r), 2, "a range ends at its token, inclusive");
  cr_assert(r[0] == b);
  cr_assert_eq(lookup(m, "ks2", 101, &r), 2, "past the last token wraps to the first");
  cr_assert(r[0] == a && r[1] == b);
  cr_assert_eq(lookup(m, "ks2", INT64_MIN, &r), 2);
  cr_assert(r[0] == a);
  cr_assert_eq(lookup(m, "ks2", 100, &r), 2);
  cr_assert(r[0] == c && r[1] == a, "the walk wraps too");
  cr_assert_eq(lookup(m, "ks1", 50, &r), 1);
  cr_assert(r[0] == c);
  cqlmux_token_map_free(m);
}

Test(token_map, factor_above_the_host_count_gives_every_host_once) {
  fixture f;
  memset(&f, 0, sizeof f);
  add_host(&f, "dc1", "r1", (int64_t[]){1, 50}, 2);
  add_host(&f, "dc1", "r1", (int64_t[]){20, 70}, 2);
  cqlmux_keyspace_desc ks = simple("big", "5");
  cqlmux_token_map *m = build(&f, &ks, 1);
  cqlmux_host *const *r;
  cr_assert_eq(lookup(m, "big", 30, &r), 2);
  cr_assert_neq(r[0], r[1]);
  cqlmux_token_map_free(m);
}

Test(token_map, vnodes_skip_a_host_met_twice) {
  fixture f;
  memset(&f, 0, sizeof f);
  cqlmux_host *a = add_host(&f, "dc1", "r1", (int64_t[]){10, 20, 30}, 3);
  cqlmux_host *b = add_host(&f, "dc1", "r1", (int64_t[]){40}, 1);
  cqlmux_host *c = add_host(&f, "dc1", "r1", (int64_t[]){50}, 1);
  cqlmux_keyspace_desc ks = simple("ks", "3");
  cqlmux_token_map *m = build(&f, &ks, 1);
  cr_assert_eq(cqlmux_token_map_ring_size(m), 5);
  cqlmux_host *const *r;
  cr_assert_eq(lookup(m, "ks", 15, &r), 3);
  cr_assert(r[0] == a && r[1] == b && r[2] == c, "a's other vnodes do not count again");
  cqlmux_token_map_free(m);
}

Test(token_map, unknown_keyspace_local_and_unknown_strategies_have_no_replicas) {
  fixture f;
  memset(&f, 0, sizeof f);
  add_host(&f, "dc1", "r1", (int64_t[]){0}, 1);
  cqlmux_keyspace_desc ks[3];
  memset(ks, 0, sizeof ks);
  ks[0] = simple("ks", "1");
  snprintf(ks[1].name, sizeof ks[1].name, "system");
  option(&ks[1].replication, "class", "LocalStrategy");
  snprintf(ks[2].name, sizeof ks[2].name, "custom");
  option(&ks[2].replication, "class", "com.example.Placement");
  cqlmux_token_map *m = build(&f, ks, 3);
  cqlmux_host *const *r = NULL;
  cr_assert_eq(lookup(m, "nope", 0, &r), 0);
  cr_assert_eq(lookup(m, "system", 0, &r), 0);
  cr_assert_eq(lookup(m, "custom", 0, &r), 0);
  cr_assert_null(r, "out-parameter untouched");
  cr_assert_eq(lookup(m, "ks", 0, &r), 1);
  cr_assert_eq(cqlmux_token_map_replicas(NULL, "ks", 2, 0, &r), 0);
  cqlmux_token_map_free(m);
}

Test(token_map, everywhere_gives_every_host_from_the_owner) {
  fixture f;
  memset(&f, 0, sizeof f);
  cqlmux_host *a = add_host(&f, "dc1", "r1", (int64_t[]){0}, 1);
  cqlmux_host *b = add_host(&f, "dc2", "r1", (int64_t[]){10}, 1);
  cqlmux_keyspace_desc ks;
  memset(&ks, 0, sizeof ks);
  snprintf(ks.name, sizeof ks.name, "all");
  option(&ks.replication, "class", "EverywhereStrategy");
  cqlmux_token_map *m = build(&f, &ks, 1);
  cqlmux_host *const *r;
  cr_assert_eq(lookup(m, "all", 5, &r), 2);
  cr_assert(r[0] == b && r[1] == a);
  cqlmux_token_map_free(m);
}

/* 2 DCs x 3 nodes, ring interleaved dc1/dc2; dc1 on 3 racks, dc2 with two
 * nodes on rack x and one on y. */
static void two_dcs(fixture *f) {
  add_host(f, "dc1", "a", (int64_t[]){0}, 1);   /* 0 */
  add_host(f, "dc2", "x", (int64_t[]){10}, 1);  /* 1 */
  add_host(f, "dc1", "a", (int64_t[]){20}, 1);  /* 2: same rack as 0 */
  add_host(f, "dc2", "x", (int64_t[]){30}, 1);  /* 3 */
  add_host(f, "dc1", "b", (int64_t[]){40}, 1);  /* 4 */
  add_host(f, "dc2", "y", (int64_t[]){50}, 1);  /* 5 */
  add_host(f, "dc1", "c", (int64_t[]){60}, 1);  /* 6 */
}

static cqlmux_keyspace_desc nts(const char *name, const char *f1, const char *f2) {
  cqlmux_keyspace_desc d;
  memset(&d, 0, sizeof d);
  snprintf(d.name, sizeof d.name, "%s", name);
  option(&d.replication, "class", "NetworkTopologyStrategy");
  if (f1) option(&d.replication, "dc1", f1);
  if (f2) option(&d.replication, "dc2", f2);
  return d;
}

Test(token_map, network_topology_walks_racks_per_dc) {
  fixture f;
  memset(&f, 0, sizeof f);
  two_dcs(&f);
  cqlmux_keyspace_desc ks[] = {nts("ks", "3", "2"), nts("only1", "2", NULL),
                               nts("same", "3", "2")};
  cqlmux_token_map *m = build(&f, ks, 3);
  cqlmux_host *const *r;
  /* From token 0: dc1 needs 3 racks: 0(a), skip 2 (a again), 4(b), 6(c);
   * dc2 has 2 racks for RF 2: 1(x), skip 3 (x), 5(y). Ring order merged. */
  cr_assert_eq(lookup(m, "ks", -5, &r), 5);
  cqlmux_host *const want[] = {f.list[0], f.list[1], f.list[4], f.list[5], f.list[6]};
  for (int i = 0; i < 5; i++) cr_assert_eq(r[i], want[i], "replica %d is %s", i, r[i]->address);
  cqlmux_host *const *same;
  cr_assert_eq(lookup(m, "same", -5, &same), 5);
  cr_assert_eq(r, same, "keyspaces that replicate alike share one table");
  cr_assert_eq(lookup(m, "only1", 15, &r), 2);
  cr_assert(r[0] == f.list[2] && r[1] == f.list[4], "dc2 hosts never count for dc1");
  cqlmux_token_map_free(m);
}

/* Fewer racks than the factor: after one per rack, the first hosts met of
 * used racks fill the gap (Cassandra's acceptable rack repeats). */
Test(token_map, network_topology_with_fewer_racks_than_the_factor) {
  fixture f;
  memset(&f, 0, sizeof f);
  two_dcs(&f);
  cqlmux_keyspace_desc ks[] = {nts("ks", NULL, "3"), nts("over", "9", "9")};
  cqlmux_token_map *m = build(&f, ks, 2);
  cqlmux_host *const *r;
  /* dc2 from token 5: 1(x) new rack, 3(x) a repeat (3 - 2 racks = 1
   * allowed), 5(y) new rack. */
  cr_assert_eq(lookup(m, "ks", 5, &r), 3);
  cr_assert(r[0] == f.list[1] && r[1] == f.list[3] && r[2] == f.list[5]);
  cr_assert_eq(lookup(m, "over", 5, &r), 7, "factors past the hosts: every host once");
  cqlmux_token_map_free(m);
}

Test(token_map, network_topology_dc_without_hosts_adds_none) {
  fixture f;
  memset(&f, 0, sizeof f);
  two_dcs(&f);
  cqlmux_keyspace_desc ks;
  memset(&ks, 0, sizeof ks);
  snprintf(ks.name, sizeof ks.name, "ks");
  option(&ks.replication, "class", "NetworkTopologyStrategy");
  option(&ks.replication, "dc9", "3");
  option(&ks.replication, "dc1", "1");
  cqlmux_token_map *m = build(&f, &ks, 1);
  cqlmux_host *const *r;
  cr_assert_eq(lookup(m, "ks", 15, &r), 1);
  cr_assert_eq(r[0], f.list[2]);
  cqlmux_token_map_free(m);
}

Test(token_map, hosts_without_tokens_make_an_empty_ring) {
  fixture f;
  memset(&f, 0, sizeof f);
  add_host(&f, "dc1", "r1", NULL, 0);
  cqlmux_keyspace_desc ks = simple("ks", "1");
  cqlmux_token_map *m = build(&f, &ks, 1);
  cqlmux_host *const *r;
  cr_assert_eq(cqlmux_token_map_ring_size(m), 0);
  cr_assert_eq(lookup(m, "ks", 0, &r), 0);
  cqlmux_token_map_free(m);
}

/* ================================================================ routing */

#include "api/prepared.h"
#include "api/routing.h"
#include "api/statement.h"
#include "runtime/clock.h"

/* A prepared statement of 3 markers whose partition key is markers 2
 * then 0 (as a PREPARED answer's pk_indexes would say), in ks `shop`. */
static cqlmux_prepared *prepared_with_key(const uint8_t *pk_raw, int32_t pk_count) {
  cqlmux_prepared *p = cqlmux_prepared_new(NULL, "SELECT", (const uint8_t *)"id", 2, NULL, 0, 3);
  cr_assert_not_null(p);
  p->pk_raw = pk_raw;
  p->pk_count = pk_count;
  p->keyspace = "shop";
  p->keyspace_len = 4;
  return p;
}

Test(routing, composite_key_encoding_from_bound_values) {
  static const uint8_t pk[] = {0, 2, 0, 0};
  cqlmux_prepared *p = prepared_with_key(pk, 2);
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  cr_assert_eq(cqlmux_statement_bind_int32(st, 0, 7), CQLMUX_OK);
  cr_assert_eq(cqlmux_statement_bind_int32(st, 1, 99), CQLMUX_OK);
  int64_t token;
  cr_assert_not(cqlmux_statement_routing_token(st, &token), "key marker 2 unbound: no token");
  cr_assert_eq(cqlmux_statement_bind_int32(st, 2, 0x01020304), CQLMUX_OK);
  cr_assert(cqlmux_statement_routing_token(st, &token));
  /* len, bytes, 0 for marker 2, then for marker 0. */
  static const uint8_t want[] = {0, 4, 1, 2, 3, 4, 0, 0, 4, 0, 0, 0, 7, 0};
  cr_assert_eq(token, cqlmux_murmur3_token(want, sizeof want));
  size_t len;
  const char *ks = cqlmux_statement_routing_keyspace(st, &len);
  cr_assert(len == 4 && !memcmp(ks, "shop", 4));
  cr_assert_eq(cqlmux_statement_set_keyspace(st, "other"), CQLMUX_OK);
  ks = cqlmux_statement_routing_keyspace(st, &len);
  cr_assert(len == 5 && !memcmp(ks, "other", 5), "the statement's own keyspace wins");
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
}

Test(routing, one_column_key_and_a_key_set_by_hand) {
  static const uint8_t pk[] = {0, 1};
  cqlmux_prepared *p = prepared_with_key(pk, 1);
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  cr_assert_eq(cqlmux_statement_bind_int32(st, 1, 42), CQLMUX_OK);
  int64_t token;
  cr_assert(cqlmux_statement_routing_token(st, &token));
  cr_assert_eq(token, cqlmux_murmur3_token("\0\0\0\x2a", 4));
  cr_assert_eq(cqlmux_statement_set_routing_key(st, "abc", 3), CQLMUX_OK);
  cr_assert(cqlmux_statement_routing_token(st, &token));
  cr_assert_eq(token, cqlmux_murmur3_token("abc", 3), "a key set by hand wins");
  cr_assert_eq(cqlmux_statement_set_routing_key(st, "abc", 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_statement_set_routing_key(st, NULL, 0), CQLMUX_OK);
  cr_assert(cqlmux_statement_routing_token(st, &token));
  cr_assert_eq(token, cqlmux_murmur3_token("\0\0\0\x2a", 4), "cleared: the bound key again");
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
  cqlmux_statement *simple_st = cqlmux_statement_new("SELECT 1", 0);
  size_t len;
  cr_assert_not(cqlmux_statement_routing_token(simple_st, &token));
  cr_assert_null(cqlmux_statement_routing_keyspace(simple_st, &len));
  cr_assert_eq(len, 0);
  cqlmux_statement_free(simple_st);
}

/* Not a timing assertion: prints the cost per call for the report. */
Test(routing, cost_per_call_is_printed) {
  static const uint8_t pk[] = {0, 0, 0, 1};
  cqlmux_prepared *p = prepared_with_key(pk, 2);
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  cqlmux_statement_bind_int32(st, 0, 1);
  cqlmux_statement_bind_int32(st, 1, 2);
  enum { N = 1000000 };
  int64_t token = 0;
  uint64_t sum = 0; /* so the calls are not optimised away */
  uint64_t t0 = cqlmux_clock_now_us();
  for (int i = 0; i < N; i++) {
    cr_assert(cqlmux_statement_routing_token(st, &token));
    sum += (uint64_t)token; /* unsigned: wraps, defined */
  }
  uint64_t t1 = cqlmux_clock_now_us();
  cr_log_info("routing token (2-column key): %.1f ns per call (checksum %" PRIx64 ")",
              (double)(t1 - t0) * 1000.0 / N, sum);
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
}

/* Not a timing assertion: prints the lookup cost for the report (6 hosts x
 * 256 vnodes, NTS 3 + 3). */
Test(token_map, lookup_cost_is_printed) {
  static cqlmux_host hosts[6];
  static int64_t tokens[6][256];
  cqlmux_host *list[6];
  uint64_t x = 88172645463325252u;
  for (int h = 0; h < 6; h++) {
    memset(&hosts[h], 0, sizeof hosts[h]);
    snprintf(hosts[h].datacenter, sizeof hosts[h].datacenter, "dc%d", h % 2 + 1);
    snprintf(hosts[h].rack, sizeof hosts[h].rack, "r%d", h / 2);
    for (int t = 0; t < 256; t++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      tokens[h][t] = (int64_t)x;
    }
    hosts[h].tokens = tokens[h];
    hosts[h].token_count = 256;
    list[h] = &hosts[h];
  }
  cqlmux_keyspace_desc ks = nts("ks", "3", "3");
  cqlmux_token_map *m = NULL;
  uint64_t b0 = cqlmux_clock_now_us();
  cr_assert_eq(cqlmux_token_map_build(NULL, list, 6, &ks, 1, &m), CQLMUX_OK);
  uint64_t b1 = cqlmux_clock_now_us();
  enum { N = 1000000 };
  uint64_t sum = 0;
  for (int i = 0; i < N; i++) {
    cqlmux_host *const *r;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    cr_assert_eq(cqlmux_token_map_replicas(m, "ks", 2, (int64_t)x, &r), 6);
    sum += (uintptr_t)r[0];
  }
  uint64_t t1 = cqlmux_clock_now_us();
  cr_log_info("token map: built in %" PRIu64 " us; lookup %.1f ns (with a random token) "
              "(checksum %" PRIx64 ")", b1 - b0, (double)(t1 - b1) * 1000.0 / N, sum);
  cqlmux_token_map_free(m);
}

/* The pure parts of lib/cluster: the reconnection schedule, contact point
 * parsing and resolution, and topology rows. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include "cluster/contact.h"
#include "cluster/reconnect.h"
#include "cluster/topology.h"
#include "proto/arena.h"
#include "proto/types.h"
#include "proto/values.h"
#include "runtime/alloc.h"

/* ================================================================ schedule */

Test(reconnect, first_at_once_then_doubling_to_the_cap) {
  cqlmux_reconnect r;
  cqlmux_reconnect_init(&r, 1000000, 60000000, 42);
  const uint64_t expect[] = {0,        1000000,  2000000,  4000000,  8000000,
                             16000000, 32000000, 60000000, 60000000, 60000000};
  for (unsigned i = 0; i < 10; i++) cr_assert_eq(cqlmux_reconnect_nominal_us(&r, i), expect[i]);
  cr_assert_eq(cqlmux_reconnect_nominal_us(&r, 1000), 60000000, "no overflow far out");
}

/* Found by an independent client: 60 s +-20 % could wait 72 s. */
Test(reconnect, jitter_stays_within_15_percent_and_never_passes_the_cap) {
  cqlmux_reconnect r;
  for (uint64_t seed = 1; seed < 200; seed++) {
    cqlmux_reconnect_init(&r, 1000000, 60000000, seed);
    for (unsigned i = 0; i < 20; i++) {
      uint64_t nominal = cqlmux_reconnect_nominal_us(&r, r.attempts);
      uint64_t d = cqlmux_reconnect_next_delay_us(&r);
      cr_assert_leq(d, 60000000, "attempt %u: %" PRIu64 " past the cap", i, d);
      cr_assert_geq(d, nominal - nominal / 100 * 15);
      cr_assert_leq(d, nominal + nominal / 100 * 15);
      if (i == 0) cr_assert_eq(d, 0);
    }
  }
}

Test(reconnect, hosts_that_failed_together_do_not_retry_together) {
  uint64_t at_cap[50];
  for (int h = 0; h < 50; h++) {
    cqlmux_reconnect r;
    cqlmux_reconnect_init(&r, 1000000, 60000000, (uint64_t)h * 7919 + 1);
    for (int i = 0; i < 12; i++) at_cap[h] = cqlmux_reconnect_next_delay_us(&r);
  }
  size_t distinct = 0;
  for (int h = 0; h < 50; h++) {
    bool seen = false;
    for (int k = 0; k < h; k++) seen |= at_cap[k] == at_cap[h];
    distinct += !seen;
  }
  cr_assert_gt(distinct, 45, "delays at the cap are spread: %zu distinct of 50", distinct);
}

Test(reconnect, a_success_starts_over) {
  cqlmux_reconnect r;
  cqlmux_reconnect_init(&r, 100, 1000, 3);
  for (int i = 0; i < 5; i++) cqlmux_reconnect_next_delay_us(&r);
  cqlmux_reconnect_reset(&r);
  cr_assert_eq(cqlmux_reconnect_next_delay_us(&r), 0);
}

/* ================================================================ contact points */

static size_t parse_ok(const char *list, cqlmux_contact **out) {
  size_t n = 0;
  char why[200];
  cr_assert_eq(cqlmux_contact_parse(NULL, list, 9042, out, &n, why, sizeof why), CQLMUX_OK, "%s: %s",
               list, why);
  return n;
}

Test(contact, names_ports_and_brackets) {
  cqlmux_contact *c;
  size_t n = parse_ok(" 10.0.0.1, db2.example:9043 ,[::1]:9044, ::1,[fe80::1]", &c);
  cr_assert_eq(n, 5);
  cr_assert_str_eq(c[0].name, "10.0.0.1");
  cr_assert_eq(c[0].port, 9042);
  cr_assert_str_eq(c[1].name, "db2.example");
  cr_assert_eq(c[1].port, 9043);
  cr_assert_str_eq(c[2].name, "::1");
  cr_assert_eq(c[2].port, 9044);
  cr_assert_str_eq(c[3].name, "::1");
  cr_assert_eq(c[3].port, 9042);
  cr_assert_str_eq(c[4].name, "fe80::1");
  cqlmux_mem_free(NULL, c);
}

Test(contact, duplicates_are_merged) {
  cqlmux_contact *c;
  size_t n = parse_ok("a.example, A.example:9042, a.example:9043, [::1], ::1", &c);
  cr_assert_eq(n, 3);
  cqlmux_mem_free(NULL, c);
}

Test(contact, bad_entries_are_refused_with_their_text) {
  const char *bad[] = {"127.0.0.1:99999", "[::1", "x:65536", "h:-1", ":9042", "[]:9042", ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cqlmux_contact *c = NULL;
    size_t n = 0;
    char why[200] = "";
    cr_assert_eq(cqlmux_contact_parse(NULL, bad[i], 9042, &c, &n, why, sizeof why),
                 CQLMUX_ERR_INVALID_ARGUMENT, "%s", bad[i]);
    if (bad[i][0]) cr_assert_not_null(strstr(why, bad[i]), "message names it: %s", why);
  }
}

Test(contact, literals_resolve_without_a_lookup_and_bad_names_fail) {
  cqlmux_contact c = {.name = "127.0.0.1", .port = 9042};
  cqlmux_endpoint eps[4];
  char err[200];
  cr_assert_eq(cqlmux_contact_resolve(&c, eps, 4, 1, err, sizeof err), 1);
  char text[64];
  cqlmux_endpoint_format(&eps[0], text, sizeof text);
  cr_assert_str_eq(text, "127.0.0.1:9042");
  cqlmux_contact bad = {.name = "no-such-host.invalid", .port = 9042};
  cr_assert_eq(cqlmux_contact_resolve(&bad, eps, 4, 1, err, sizeof err), CQLMUX_ERR_RESOLVE);
  cr_assert_not_null(strstr(err, "no-such-host.invalid"));
  cqlmux_contact local = {.name = "localhost", .port = 7};
  int n = cqlmux_contact_resolve(&local, eps, 4, 1, err, sizeof err);
  cr_assert_geq(n, 1, "%s", err);
  cqlmux_endpoint_format(&eps[0], text, sizeof text);
  cr_assert_not_null(strstr(text, ":7"), "%s", text);
}

/* ================================================================ topology rows */

/* A peers_v2 result: peer, native_address, native_port, host_id,
 * data_center, rack, tokens; NULL cells where a row lacks them. */
typedef struct peer_row {
  const char *peer, *native;
  int32_t port;
  bool has_id;
  const char *dc;
  const char *token;
} peer_row;

static cqlmux_bytes inet_cell(cqlmux_wbuf *store, const char *ip) {
  if (!ip) return (cqlmux_bytes){NULL, -1};
  cqlmux_endpoint ep;
  cr_assert_eq(cqlmux_endpoint_parse(ip, 1, &ep), CQLMUX_OK);
  size_t at = store->len;
  cqlmux_write_raw(store, &((struct sockaddr_in *)&ep.addr)->sin_addr, 4);
  return (cqlmux_bytes){(const uint8_t *)(uintptr_t)at, 4};
}

static cqlmux_bytes raw_cell(cqlmux_wbuf *store, const void *p, size_t n) {
  size_t at = store->len;
  cqlmux_write_raw(store, p, n);
  return (cqlmux_bytes){(const uint8_t *)(uintptr_t)at, (int32_t)n};
}

static void decode_peers(const peer_row *rows, int n, cqlmux_node_desc **out, size_t *count,
                         size_t *skipped, char *why, size_t why_cap) {
  static cqlmux_arena arena;
  static uint8_t arena_buf[8192];
  cqlmux_arena_init(&arena, NULL, arena_buf, sizeof arena_buf);
  const cqlmux_typedesc *tokens = cqlmux_type_new_set(&arena, cqlmux_type_native(CQLMUX_TYPE_TEXT));
  cqlmux_column_spec cols[] = {
      {.name = cqlmux_slice_from_cstr("peer"), .type = cqlmux_type_native(CQLMUX_TYPE_INET)},
      {.name = cqlmux_slice_from_cstr("native_address"),
       .type = cqlmux_type_native(CQLMUX_TYPE_INET)},
      {.name = cqlmux_slice_from_cstr("native_port"), .type = cqlmux_type_native(CQLMUX_TYPE_INT)},
      {.name = cqlmux_slice_from_cstr("host_id"), .type = cqlmux_type_native(CQLMUX_TYPE_UUID)},
      {.name = cqlmux_slice_from_cstr("data_center"), .type = cqlmux_type_native(CQLMUX_TYPE_TEXT)},
      {.name = cqlmux_slice_from_cstr("tokens"), .type = tokens}};
  cqlmux_rows_metadata meta = {.columns_count = 6, .paging_state = {NULL, -1}, .columns = cols,
                               .flags = CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC,
                               .global_keyspace = cqlmux_slice_from_cstr("system"),
                               .global_table = cqlmux_slice_from_cstr("peers_v2")};
  cqlmux_wbuf store;
  cqlmux_wbuf_init(&store, NULL, 0);
  cqlmux_bytes cells[6 * 8];
  for (int r = 0; r < n; r++) {
    cqlmux_bytes *c = &cells[6 * r];
    c[0] = inet_cell(&store, rows[r].peer);
    c[1] = inet_cell(&store, rows[r].native);
    uint8_t port[4] = {(uint8_t)(rows[r].port >> 24), (uint8_t)(rows[r].port >> 16),
                       (uint8_t)(rows[r].port >> 8), (uint8_t)rows[r].port};
    c[2] = raw_cell(&store, port, 4);
    uint8_t id[16] = {(uint8_t)(r + 1)};
    c[3] = rows[r].has_id ? raw_cell(&store, id, 16) : (cqlmux_bytes){NULL, -1};
    c[4] = rows[r].dc ? raw_cell(&store, rows[r].dc, strlen(rows[r].dc)) : (cqlmux_bytes){NULL, -1};
    uint8_t set[64];
    size_t tl = strlen(rows[r].token);
    uint8_t head[8] = {0, 0, 0, 1, 0, 0, 0, (uint8_t)tl};
    memcpy(set, head, 8);
    memcpy(set + 8, rows[r].token, tl);
    c[5] = raw_cell(&store, set, 8 + tl);
  }
  for (int i = 0; i < 6 * n; i++)
    if (cells[i].len >= 0) cells[i].data = store.data + (uintptr_t)cells[i].data;
  cqlmux_wbuf body;
  cqlmux_wbuf_init(&body, NULL, 0);
  cqlmux_rows_encode(&body, 4, &meta, n, cells);
  cqlmux_result_msg msg;
  cqlmux_arena decode;
  cqlmux_arena_init(&decode, NULL, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(4, body.data, body.len, &decode, &msg), CQLMUX_OK);
  cr_assert_eq(cqlmux_topology_decode(NULL, CQLMUX_TOPOLOGY_PEERS_V2, &msg.rows, 9042, out, count,
                                      skipped, why, why_cap),
               CQLMUX_OK);
  cqlmux_arena_free(&decode);
  cqlmux_wbuf_free(&body);
  cqlmux_wbuf_free(&store);
}

Test(topology, peer_rows_missing_required_columns_are_skipped_not_trusted) {
  const peer_row rows[] = {
      {"10.0.0.2", "10.0.1.2", 9043, true, "dc1", "-42"},
      {"10.0.0.3", NULL, 9042, false, "dc1", "7"},           /* no host_id */
      {"10.0.0.4", "0.0.0.0", 9042, true, "dc2", "9223372036854775807"}, /* any-address */
      {"10.0.0.5", "10.0.1.5", 9042, true, NULL, "1"},        /* no data_center */
      {"10.0.0.6", "10.0.1.6", 70000, true, "dc1", "2"},      /* port out of range */
      {NULL, NULL, 9042, true, "dc1", "3"},                   /* no address at all */
  };
  cqlmux_node_desc *d;
  size_t n, skipped;
  char why[128] = "";
  decode_peers(rows, 6, &d, &n, &skipped, why, sizeof why);
  cr_assert_eq(n, 2);
  cr_assert_eq(skipped, 4);
  cr_assert_not_null(strstr(why, "host_id"), "%s", why);
  char text[64];
  cqlmux_endpoint_format(&d[0].endpoint, text, sizeof text);
  cr_assert_str_eq(text, "10.0.1.2:9043", "native_address and native_port");
  cr_assert_eq(d[0].token_count, 1);
  cr_assert_eq(d[0].tokens[0], -42);
  cr_assert_str_eq(d[0].datacenter, "dc1");
  cqlmux_endpoint_format(&d[1].endpoint, text, sizeof text);
  cr_assert_str_eq(text, "10.0.0.4:9042", "0.0.0.0 falls back to the peer column");
  cr_assert_eq(d[1].tokens[0], INT64_MAX);
  cqlmux_node_descs_free(NULL, d, n);
}

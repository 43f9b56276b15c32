/* The pure parts of lib/cluster: the reconnection schedule, contact point
 * parsing and resolution, and topology rows. */
#include <criterion/criterion.h>
#include <inttypes.h>
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

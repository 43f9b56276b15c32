/* The latency histogram (bucket layout, percentiles of known
 * distributions, concurrent recording) and the metrics API: error kinds,
 * session and host snapshots, and the Prometheus text rendering. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/metrics.h"
#include "api/session.h"
#include "cluster/cluster_internal.h"
#include "runtime/histogram.h"

static cqlmux_histogram *new_histogram(void) {
  cqlmux_histogram *h = malloc(sizeof *h);
  cr_assert_not_null(h);
  cqlmux_histogram_init(h);
  return h;
}

static void take(cqlmux_histogram *h, cqlmux_histogram_snapshot *s) {
  cqlmux_histogram_snapshot_take(h, s);
}

/* |got - want| <= want / 32 (one bucket width), plus one for rounding. */
static void assert_near(uint64_t got, uint64_t want, const char *what) {
  uint64_t tol = want / 32 + 1;
  cr_assert(got + tol >= want && got <= want + tol, "%s: got %llu, want %llu (+-%llu)", what,
            (unsigned long long)got, (unsigned long long)want, (unsigned long long)tol);
}

Test(histogram, buckets_tile_the_range_and_are_narrow) {
  for (unsigned b = 0; b + 1 < CQLMUX_HISTOGRAM_BUCKETS; b++) {
    uint64_t lo = cqlmux_histogram_bucket_low(b), hi = cqlmux_histogram_bucket_high(b);
    cr_assert_leq(lo, hi);
    cr_assert_eq(hi + 1, cqlmux_histogram_bucket_low(b + 1), "gap after bucket %u", b);
    cr_assert_eq(cqlmux_histogram_bucket_of(lo), b);
    cr_assert_eq(cqlmux_histogram_bucket_of(hi), b);
    if (lo >= 64) cr_assert_leq(hi - lo + 1, lo / 32, "bucket %u too wide", b);
  }
  for (uint64_t v = 0; v < 64; v++) cr_assert_eq(cqlmux_histogram_bucket_of(v), v, "exact below 64");
  cr_assert_eq(cqlmux_histogram_bucket_of(UINT64_MAX), CQLMUX_HISTOGRAM_BUCKETS - 1);
  cr_assert_eq(cqlmux_histogram_bucket_of(UINT64_C(1) << 40), CQLMUX_HISTOGRAM_BUCKETS - 1);
}

Test(histogram, empty_reads_zero) {
  cqlmux_histogram *h = new_histogram();
  cqlmux_histogram_snapshot s;
  take(h, &s);
  cr_assert_eq(s.count, 0);
  cr_assert_eq(cqlmux_histogram_quantile(&s, 0.5), 0);
  cr_assert_eq(cqlmux_histogram_quantile(&s, 1.0), 0);
  cr_assert_eq(cqlmux_histogram_mean(&s), 0);
  free(h);
}

Test(histogram, small_values_are_exact) {
  cqlmux_histogram *h = new_histogram();
  for (uint64_t v = 1; v <= 60; v++) cqlmux_histogram_record(h, v);
  cqlmux_histogram_snapshot s;
  take(h, &s);
  cr_assert_eq(s.count, 60);
  cr_assert_eq(cqlmux_histogram_quantile(&s, 0.5), 30);
  cr_assert_eq(cqlmux_histogram_quantile(&s, 0.9), 54);
  cr_assert_eq(cqlmux_histogram_quantile(&s, 0.0), 1);
  cr_assert_eq(cqlmux_histogram_quantile(&s, 1.0), 60);
  cr_assert_eq(cqlmux_histogram_mean(&s), 30); /* 1830 / 60 = 30.5 */
  free(h);
}

Test(histogram, uniform_distribution_percentiles) {
  cqlmux_histogram *h = new_histogram();
  for (uint64_t v = 1; v <= 100000; v++) cqlmux_histogram_record(h, v);
  cqlmux_histogram_snapshot s;
  take(h, &s);
  cr_assert_eq(s.count, 100000);
  cr_assert_eq(s.sum, 5000050000ull);
  cr_assert_eq(s.max, 100000);
  assert_near(cqlmux_histogram_quantile(&s, 0.5), 50000, "p50");
  assert_near(cqlmux_histogram_quantile(&s, 0.9), 90000, "p90");
  assert_near(cqlmux_histogram_quantile(&s, 0.99), 99000, "p99");
  assert_near(cqlmux_histogram_quantile(&s, 0.999), 99900, "p99.9");
  cr_assert_eq(cqlmux_histogram_quantile(&s, 1.0), 100000);
  cr_assert_eq(cqlmux_histogram_mean(&s), 50000);
  /* Never below the true value: a bucket reports its highest value. */
  cr_assert_geq(cqlmux_histogram_quantile(&s, 0.5), 50000);
  free(h);
}

Test(histogram, bimodal_distribution_tail) {
  /* 99 % fast (100 us), 1 % slow (20 ms): p99 is fast, p99.9 slow. */
  cqlmux_histogram *h = new_histogram();
  for (int i = 0; i < 99000; i++) cqlmux_histogram_record(h, 100);
  for (int i = 0; i < 1000; i++) cqlmux_histogram_record(h, 20000);
  cqlmux_histogram_snapshot s;
  take(h, &s);
  assert_near(cqlmux_histogram_quantile(&s, 0.5), 100, "p50");
  assert_near(cqlmux_histogram_quantile(&s, 0.99), 100, "p99");
  assert_near(cqlmux_histogram_quantile(&s, 0.991), 20000, "p99.1");
  assert_near(cqlmux_histogram_quantile(&s, 0.999), 20000, "p99.9");
  cr_assert_eq(cqlmux_histogram_quantile(&s, 1.0), 20000);
  free(h);
}

Test(histogram, geometric_distribution_percentiles) {
  /* 2^k recorded 2^(20-k) times, k = 0..20: each power of two carries a
   * known share, so quantiles land on known values. */
  cqlmux_histogram *h = new_histogram();
  uint64_t total = 0;
  for (unsigned k = 0; k <= 20; k++)
    for (uint64_t n = 0; n < (UINT64_C(1) << (20 - k)); n++, total++)
      cqlmux_histogram_record(h, UINT64_C(1) << k);
  cqlmux_histogram_snapshot s;
  take(h, &s);
  cr_assert_eq(s.count, total);
  /* Half of everything is the value 1, three quarters is <= 2, ... */
  cr_assert_eq(cqlmux_histogram_quantile(&s, 0.5), 1);
  cr_assert_eq(cqlmux_histogram_quantile(&s, 0.75), 2);
  cr_assert_eq(cqlmux_histogram_quantile(&s, 0.875), 4);
  assert_near(cqlmux_histogram_quantile(&s, 0.999), 512, "p99.9");
  cr_assert_eq(cqlmux_histogram_quantile(&s, 1.0), UINT64_C(1) << 20);
  free(h);
}

Test(histogram, huge_values_clamp_but_max_is_exact) {
  cqlmux_histogram *h = new_histogram();
  cqlmux_histogram_record(h, UINT64_C(1) << 50);
  cqlmux_histogram_snapshot s;
  take(h, &s);
  cr_assert_eq(s.buckets[CQLMUX_HISTOGRAM_BUCKETS - 1], 1);
  cr_assert_eq(s.max, UINT64_C(1) << 50);
  cr_assert_eq(cqlmux_histogram_quantile(&s, 0.5), cqlmux_histogram_bucket_high(CQLMUX_HISTOGRAM_BUCKETS - 1));
  free(h);
}

Test(histogram, snapshots_add) {
  cqlmux_histogram *a = new_histogram(), *b = new_histogram();
  for (uint64_t v = 1; v <= 1000; v++) cqlmux_histogram_record(v % 2 ? a : b, v);
  cqlmux_histogram_snapshot sa, sb;
  take(a, &sa);
  take(b, &sb);
  cqlmux_histogram_snapshot_add(&sa, &sb);
  cr_assert_eq(sa.count, 1000);
  cr_assert_eq(sa.sum, 500500);
  cr_assert_eq(sa.max, 1000);
  assert_near(cqlmux_histogram_quantile(&sa, 0.5), 500, "p50");
  free(a);
  free(b);
}

#define RECORDERS 4
#define RECORDS 100000

static void *recorder(void *arg) {
  cqlmux_histogram *h = arg;
  for (uint64_t i = 0; i < RECORDS; i++) cqlmux_histogram_record(h, i % 5000);
  return NULL;
}

Test(histogram, concurrent_records_are_all_counted) {
  cqlmux_histogram *h = new_histogram();
  pthread_t t[RECORDERS];
  for (int i = 0; i < RECORDERS; i++) pthread_create(&t[i], NULL, recorder, h);
  for (int i = 0; i < RECORDERS; i++) pthread_join(t[i], NULL);
  cqlmux_histogram_snapshot s;
  take(h, &s);
  uint64_t in_buckets = 0;
  for (unsigned b = 0; b < CQLMUX_HISTOGRAM_BUCKETS; b++) in_buckets += s.buckets[b];
  cr_assert_eq(s.count, (uint64_t)RECORDERS * RECORDS);
  cr_assert_eq(in_buckets, s.count);
  uint64_t per_thread = 0;
  for (uint64_t i = 0; i < RECORDS; i++) per_thread += i % 5000;
  cr_assert_eq(s.sum, RECORDERS * per_thread);
  cr_assert_eq(s.max, 4999);
  free(h);
}

/* ------------------------------------------------------------- metrics */

Test(metrics, error_kinds) {
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_TIMEOUT, 0), CQLMUX_METRICS_ERR_TIMEOUT);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_BUSY, 0), CQLMUX_METRICS_ERR_BUSY);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_CONNECTION_CLOSED, 0),
               CQLMUX_METRICS_ERR_CONNECTION);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_TLS, 0), CQLMUX_METRICS_ERR_CONNECTION);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_NO_HOSTS, 0), CQLMUX_METRICS_ERR_NO_HOSTS);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_SHUTDOWN, 0), CQLMUX_METRICS_ERR_SHUTDOWN);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_SERVER, 0x1200),
               CQLMUX_METRICS_ERR_SERVER_READ_TIMEOUT);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_SERVER, 0x1100),
               CQLMUX_METRICS_ERR_SERVER_WRITE_TIMEOUT);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_SERVER, 0x1000),
               CQLMUX_METRICS_ERR_SERVER_UNAVAILABLE);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_SERVER, 0x1001),
               CQLMUX_METRICS_ERR_SERVER_OVERLOADED);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_SERVER, 0x2200),
               CQLMUX_METRICS_ERR_SERVER_OTHER);
  cr_assert_eq(cqlmux_metrics_error_kind_of(CQLMUX_ERR_MALFORMED, 0), CQLMUX_METRICS_ERR_OTHER);
  cr_assert_str_eq(cqlmux_metrics_error_kind_name(CQLMUX_METRICS_ERR_SERVER_READ_TIMEOUT),
                   "server_read_timeout");
  cr_assert_str_eq(cqlmux_metrics_error_kind_name(CQLMUX_METRICS_ERROR_KINDS), "unknown");
}

/* A host as discovery would add it (no pool: nothing connects). */
static cqlmux_host *known_host(cqlmux_session *s, const char *ip) {
  cqlmux_endpoint ep;
  cr_assert_eq(cqlmux_endpoint_parse(ip, 9042, &ep), CQLMUX_OK);
  cqlmux_cluster *c = s->cluster;
  pthread_mutex_lock(&c->lock);
  cqlmux_host *h = cqlmux_cluster_add_host_locked(c, &ep);
  cr_assert_not_null(h);
  cr_assert_eq(cqlmux_cluster_publish_locked(c), CQLMUX_OK);
  pthread_mutex_unlock(&c->lock);
  return h;
}

/* A session that never connects, knowing two hosts, and a few requests
 * recorded straight into their blocks. */
static cqlmux_session *recorded_session(void) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_not_null(c);
  cqlmux_session *s = NULL;
  cr_assert_eq(cqlmux_session_new(c, &s), CQLMUX_OK);
  cqlmux_config_free(c);
  cr_assert_eq(cqlmux_session_host_count(s), 0, "hosts come from the cluster, not the config");
  cqlmux_host *first = known_host(s, "127.0.0.1"), *second = known_host(s, "127.0.0.2");
  cr_assert_eq(cqlmux_session_host_count(s), 2);
  cqlmux_metrics_record(&first->metrics, CQLMUX_OK, 0, 100);
  cqlmux_metrics_record(&first->metrics, CQLMUX_OK, 0, 100);
  cqlmux_metrics_record(&first->metrics, CQLMUX_ERR_TIMEOUT, 0, 2000000);
  cqlmux_metrics_record(&second->metrics, CQLMUX_ERR_SERVER, 0x1001, 300);
  cqlmux_metrics_record_retry(&second->metrics, CQLMUX_RETRY_REASON_UNSENT);
  cqlmux_metrics_record(&s->unrouted, CQLMUX_ERR_NO_HOSTS, 0, 5);
  return s;
}

Test(metrics, session_and_host_snapshots) {
  cqlmux_session *s = recorded_session();
  cqlmux_metrics m;
  cr_assert_eq(cqlmux_session_metrics(s, &m), CQLMUX_OK);
  cr_assert_eq(m.requests, 5);
  cr_assert_eq(m.errors, 3);
  cr_assert_eq(m.errors_by_kind[CQLMUX_METRICS_ERR_TIMEOUT], 1);
  cr_assert_eq(m.errors_by_kind[CQLMUX_METRICS_ERR_SERVER_OVERLOADED], 1);
  cr_assert_eq(m.errors_by_kind[CQLMUX_METRICS_ERR_NO_HOSTS], 1);
  cr_assert_eq(m.retries, 1);
  cr_assert_eq(m.speculative_executions, 0);
  cr_assert_eq(m.connections_open, 0);
  cr_assert_eq(m.latency.count, 5);
  cr_assert_eq(m.latency.max_us, 2000000);
  cr_assert_eq(m.latency.sum_us, 2000505);
  cr_assert_eq(m.latency.p50_us, 101, "100 us lies in the bucket [100, 101]");

  char addr[64];
  cr_assert_eq(cqlmux_session_host_metrics(s, 1, &m, addr, sizeof addr), CQLMUX_OK);
  cr_assert_str_eq(addr, "127.0.0.2:9042");
  cr_assert_eq(m.requests, 1);
  cr_assert_eq(m.errors, 1);
  cr_assert_eq(m.retries, 1);
  cr_assert_eq(m.latency.p50_us, 300);
  cr_assert_eq(cqlmux_session_host_metrics(s, 2, &m, NULL, 0), CQLMUX_ERR_NOT_FOUND);
  cr_assert_eq(cqlmux_session_metrics(NULL, &m), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_session_free(s);
}

static char *render(cqlmux_session *s) {
  size_t len = 0;
  cr_assert_eq(cqlmux_session_metrics_prometheus(s, NULL, 0, &len), CQLMUX_ERR_BUFFER_TOO_SMALL);
  cr_assert_gt(len, 0);
  char *text = malloc(len + 1);
  size_t again = 0;
  cr_assert_eq(cqlmux_session_metrics_prometheus(s, text, len + 1, &again), CQLMUX_OK);
  cr_assert_eq(again, len);
  cr_assert_eq(strlen(text), len);
  return text;
}

static void expect_line(const char *text, const char *line) {
  char *want = malloc(strlen(line) + 3);
  sprintf(want, "\n%s\n", line);
  cr_assert_not_null(strstr(text, want), "missing line: %s", line);
  free(want);
}

Test(metrics, prometheus_values) {
  cqlmux_session *s = recorded_session();
  char *text = render(s);
  expect_line(text, "cqlmux_session_requests_total 5");
  expect_line(text, "cqlmux_session_retries_total 1");
  expect_line(text, "cqlmux_session_errors_total{kind=\"timeout\"} 1");
  expect_line(text, "cqlmux_session_errors_total{kind=\"busy\"} 0");
  expect_line(text, "cqlmux_session_errors_total{kind=\"no_hosts\"} 1");
  expect_line(text, "cqlmux_host_requests_total{host=\"127.0.0.1:9042\"} 3");
  expect_line(text, "cqlmux_host_requests_total{host=\"127.0.0.2:9042\"} 1");
  expect_line(text, "cqlmux_host_errors_total{host=\"127.0.0.2:9042\",kind=\"server_overloaded\"} 1");
  expect_line(text, "cqlmux_host_request_latency_seconds{host=\"127.0.0.2:9042\",quantile=\"0.5\"} 0.000300");
  expect_line(text, "cqlmux_host_request_latency_seconds_sum{host=\"127.0.0.1:9042\"} 2.000200");
  expect_line(text, "cqlmux_host_request_latency_seconds_count{host=\"127.0.0.1:9042\"} 3");
  expect_line(text, "cqlmux_session_request_latency_max_seconds 2.000000");
  expect_line(text, "# TYPE cqlmux_session_request_latency_seconds summary");
  expect_line(text, "# TYPE cqlmux_host_in_flight_requests gauge");
  free(text);
  cqlmux_session_free(s);
}

/* Every line is a comment or `name{labels} number`, every family has one
 * TYPE line, and its samples follow it without another family between. */
Test(metrics, prometheus_syntax) {
  cqlmux_session *s = recorded_session();
  char *text = render(s);
  cr_assert_eq(text[strlen(text) - 1], '\n');
  char family[128] = "";
  char seen[64][128];
  size_t nseen = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "# HELP ", 7) == 0) continue;
    if (strncmp(line, "# TYPE ", 7) == 0) {
      cr_assert_eq(sscanf(line + 7, "%127s", family), 1);
      for (size_t i = 0; i < nseen; i++) cr_assert_str_neq(seen[i], family, "family twice: %s", family);
      cr_assert_lt(nseen, 64);
      strcpy(seen[nseen++], family);
      const char *type = line + 7 + strlen(family) + 1;
      cr_assert(!strcmp(type, "counter") || !strcmp(type, "gauge") || !strcmp(type, "summary"),
                "type %s", type);
      continue;
    }
    size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz_");
    cr_assert_gt(n, 0, "bad line: %s", line);
    cr_assert_eq(strncmp(line, family, strlen(family)), 0, "%s outside its family %s", line, family);
    const char *rest = line + n;
    if (*rest == '{') {
      const char *close = strchr(rest, '}');
      cr_assert_not_null(close, "unclosed labels: %s", line);
      rest = close + 1;
    }
    cr_assert_eq(*rest, ' ', "no value: %s", line);
    rest++;
    cr_assert_gt(strlen(rest), 0);
    cr_assert_eq(strspn(rest, "0123456789."), strlen(rest), "bad value: %s", line);
  }
  cr_assert_geq(nseen, 2 * 14);
  free(text);
  cqlmux_session_free(s);
}

Test(metrics, prometheus_small_buffer_keeps_a_prefix) {
  cqlmux_session *s = recorded_session();
  char *full = render(s);
  size_t len = strlen(full);
  char small[100];
  memset(small, 'x', sizeof small);
  size_t got = 0;
  cr_assert_eq(cqlmux_session_metrics_prometheus(s, small, sizeof small, &got),
               CQLMUX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(got, len);
  cr_assert_lt(strlen(small), sizeof small);
  cr_assert_eq(strncmp(small, full, strlen(small)), 0, "a prefix of the whole text");
  /* Exactly the length, without room for the NUL, is too small too. */
  char *exact = malloc(len);
  cr_assert_eq(cqlmux_session_metrics_prometheus(s, exact, len, &got), CQLMUX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(cqlmux_session_metrics_prometheus(NULL, exact, len, &got),
               CQLMUX_ERR_INVALID_ARGUMENT);
  free(exact);
  free(full);
  cqlmux_session_free(s);
}

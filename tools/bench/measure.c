/* The timeline every run shares (warm-up, measured window, stop), what the
 * window measures (throughput, latency, CPU, peak RSS, allocations), and the
 * report, as a table or one JSON object.
 *
 * CPU is getrusage(RUSAGE_SELF): this process only, every thread; the
 * server runs in its own process. Allocations are the calls reaching the
 * allocator hook the session was configured with. */
#include "bench.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------------ allocations */

static _Atomic uint64_t alloc_calls;
static _Atomic uint64_t alloc_bytes;
static _Atomic int64_t live_bytes; /* in use, as malloc_usable_size counts them */

/* relaxed throughout: counters read at the window's edges, nothing
 * published through them. */
static void live_add(void *p, int sign) {
  if (p) atomic_fetch_add_explicit(&live_bytes, sign * (int64_t)malloc_usable_size(p),
                                   memory_order_relaxed);
}

static void *count_malloc(size_t size, void *user_data) {
  (void)user_data;
  atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&alloc_bytes, size, memory_order_relaxed);
  void *p = malloc(size);
  live_add(p, 1);
  return p;
}

static void *count_realloc(void *ptr, size_t size, void *user_data) {
  (void)user_data;
  atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&alloc_bytes, size, memory_order_relaxed);
  size_t old = ptr ? malloc_usable_size(ptr) : 0;
  void *p = realloc(ptr, size);
  if (p) {
    atomic_fetch_sub_explicit(&live_bytes, (int64_t)old, memory_order_relaxed);
    live_add(p, 1);
  }
  return p;
}

static void count_free(void *ptr, void *user_data) {
  (void)user_data;
  live_add(ptr, -1);
  free(ptr);
}

static const cqlmux_allocator counting = {count_malloc, count_realloc, count_free, NULL};

const cqlmux_allocator *bench_counting_allocator(void) { return &counting; }

uint64_t bench_alloc_count(void) {
  return atomic_load_explicit(&alloc_calls, memory_order_relaxed); /* relaxed: as above */
}

int64_t bench_heap_live(void) {
  return atomic_load_explicit(&live_bytes, memory_order_relaxed); /* relaxed: as above */
}

uint64_t bench_alloc_bytes(void) {
  return atomic_load_explicit(&alloc_bytes, memory_order_relaxed); /* relaxed: as above */
}

/* ------------------------------------------------------------ counters */

void bench_counters_init(bench_counters *c) {
  memset(c, 0, sizeof *c);
  atomic_store(&c->measure_from_us, UINT64_MAX);
  atomic_store(&c->measure_until_us, UINT64_MAX);
  atomic_store(&c->target, UINT64_MAX);
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->cond, NULL);
}

void bench_counters_destroy(bench_counters *c) {
  pthread_cond_destroy(&c->cond);
  pthread_mutex_destroy(&c->lock);
}

static void reached(bench_counters *c, uint64_t before, uint64_t n, uint64_t now) {
  uint64_t target = atomic_load(&c->target);
  if (before >= target || before + n < target) return;
  atomic_store(&c->target_reached_us, now);
  pthread_mutex_lock(&c->lock);
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->lock);
}

void bench_complete(bench_counters *c, uint64_t start_us, uint64_t end_us, int kind) {
  /* relaxed: counters; the window's edges are read by the main thread,
   * a completion more or less at an edge does not matter. */
  if (kind >= 0) atomic_fetch_add_explicit(&c->errors[kind], 1, memory_order_relaxed);
  if (start_us >= atomic_load_explicit(&c->measure_from_us, memory_order_relaxed) &&
      end_us <= atomic_load_explicit(&c->measure_until_us, memory_order_relaxed))
    cqlmux_histogram_record(&c->latency, end_us - start_us);
  uint64_t before = atomic_fetch_add_explicit(&c->completed, 1, memory_order_relaxed);
  reached(c, before, 1, end_us);
}

void bench_complete_many(bench_counters *c, uint64_t n) {
  /* relaxed: as in bench_complete. */
  uint64_t before = atomic_fetch_add_explicit(&c->completed, n, memory_order_relaxed);
  reached(c, before, n, bench_now_us());
}

/* ------------------------------------------------------------ timeline */

uint64_t bench_issue_limit(const bench_options *o) {
  return o->requests ? o->requests + (uint64_t)o->warmup : UINT64_MAX;
}

static void progress(const bench_options *o, bench_counters *c, uint64_t begin_us,
                     uint64_t *last_done, uint64_t *last_us) {
  if (!o->progress) return;
  uint64_t now = bench_now_us();
  uint64_t done = atomic_load(&c->completed);
  double frac;
  if (o->requests)
    frac = (double)done / (double)bench_issue_limit(o);
  else
    frac = (double)(now - begin_us) / 1e6 / (o->warmup + o->duration);
  if (frac > 1) frac = 1;
  double rate = now > *last_us ? (double)(done - *last_done) * 1e6 / (double)(now - *last_us) : 0;
  *last_done = done;
  *last_us = now;
  char bar[41];
  int fill = (int)(frac * 40);
  for (int i = 0; i < 40; i++) bar[i] = i < fill ? '#' : '.';
  bar[40] = '\0';
  fprintf(stderr, "\r  [%s] %3d%%  %10.0f req/s  %12llu done", bar, (int)(frac * 100), rate,
          (unsigned long long)done);
  fflush(stderr);
}

/* Sleeps until `deadline_us`, or until `completed` reaches c->target when
 * the deadline is UINT64_MAX; updates the progress line meanwhile. */
static void wait_for(const bench_options *o, bench_counters *c, uint64_t deadline_us,
                     uint64_t begin_us) {
  uint64_t last_done = atomic_load(&c->completed), last_us = bench_now_us();
  for (;;) {
    uint64_t now = bench_now_us();
    if (deadline_us != UINT64_MAX && now >= deadline_us) return;
    if (deadline_us == UINT64_MAX && atomic_load(&c->completed) >= atomic_load(&c->target))
      return;
    uint64_t slice = 200000;
    if (deadline_us != UINT64_MAX && deadline_us - now < slice) slice = deadline_us - now;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + slice * 1000;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&c->lock);
    if (deadline_us != UINT64_MAX || atomic_load(&c->completed) < atomic_load(&c->target))
      pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    pthread_mutex_unlock(&c->lock);
    progress(o, c, begin_us, &last_done, &last_us);
  }
}

static double tv_us(struct timeval tv) { return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec; }

void bench_measure(const bench_options *o, bench_counters *c, bench_result *r) {
  uint64_t begin = bench_now_us();
  if (o->requests) {
    atomic_store(&c->target, (uint64_t)o->warmup);
    wait_for(o, c, UINT64_MAX, begin);
  } else {
    wait_for(o, c, begin + (uint64_t)(o->warmup * 1e6), begin);
  }
  struct rusage ru0, ru1;
  uint64_t errors0[CQLMUX_METRICS_ERROR_KINDS];
  bench_syscalls sys;
  bench_syscalls_start(&sys);
  getrusage(RUSAGE_SELF, &ru0);
  uint64_t allocs0 = bench_alloc_count(), bytes0 = bench_alloc_bytes();
  for (unsigned k = 0; k < CQLMUX_METRICS_ERROR_KINDS; k++) errors0[k] = atomic_load(&c->errors[k]);
  uint64_t done0 = atomic_load(&c->completed);
  r->heap_busy_kb = (double)bench_heap_live() / 1024;
  uint64_t t1 = bench_now_us();
  atomic_store(&c->measure_from_us, t1);

  uint64_t t2;
  if (o->requests) {
    pthread_mutex_lock(&c->lock);
    /* Everything issued: the window holds the requests completed after the
     * warm-up's end, about o->requests. */
    atomic_store(&c->target, bench_issue_limit(o));
    pthread_mutex_unlock(&c->lock);
    wait_for(o, c, UINT64_MAX, begin);
    t2 = atomic_load(&c->target_reached_us);
    if (t2 < t1) t2 = bench_now_us(); /* reached before the window opened */
  } else {
    wait_for(o, c, t1 + (uint64_t)(o->duration * 1e6), begin);
    t2 = bench_now_us();
  }
  atomic_store(&c->measure_until_us, t2);
  uint64_t done1 = atomic_load(&c->completed);
  getrusage(RUSAGE_SELF, &ru1);
  long long syscalls = bench_syscalls_stop(&sys);
  uint64_t allocs1 = bench_alloc_count(), bytes1 = bench_alloc_bytes();
  atomic_store(&c->stop, true);
  if (o->progress) fprintf(stderr, "\r\033[K");

  r->requests = done1 - done0;
  r->seconds = (double)(t2 - t1) / 1e6;
  double n = r->requests ? (double)r->requests : 1;
  r->throughput = r->seconds > 0 ? (double)r->requests / r->seconds : 0;
  r->cpu_user_us = (tv_us(ru1.ru_utime) - tv_us(ru0.ru_utime)) / n;
  r->cpu_sys_us = (tv_us(ru1.ru_stime) - tv_us(ru0.ru_stime)) / n;
  r->max_rss_kb = ru1.ru_maxrss;
  r->syscalls_per_req = syscalls < 0 ? -1 : (double)syscalls / n;
  r->voluntary_switches_per_req = (double)(ru1.ru_nvcsw - ru0.ru_nvcsw) / n;
  r->involuntary_switches_per_req = (double)(ru1.ru_nivcsw - ru0.ru_nivcsw) / n;
  r->allocs_per_req = (double)(allocs1 - allocs0) / n;
  r->alloc_bytes_per_req = (double)(bytes1 - bytes0) / n;
  r->errors = 0;
  for (unsigned k = 0; k < CQLMUX_METRICS_ERROR_KINDS; k++) {
    r->errors_by_kind[k] = atomic_load(&c->errors[k]) - errors0[k];
    r->errors += r->errors_by_kind[k];
  }
  cqlmux_histogram_snapshot_take(&c->latency, r->latency);
}

/* ------------------------------------------------------------ reports */

static const char *onoff(bool b) { return b ? "on" : "off"; }

void bench_report_table(const bench_options *o, const bench_result *r) {
  const cqlmux_histogram_snapshot *h = r->latency;
  printf("cqlmux-bench %s: %s, protocol v%d, lz4 %s, tls %s, concurrency %u, %u connection(s), "
         "%u I/O thread(s)",
         r->mode, bench_workload_name(o->workload), r->protocol, onoff(r->lz4), onoff(o->tls),
         o->concurrency, o->connections, o->io_threads);
  if (!o->raw) printf(", %u callback thread(s)%s", o->callback_threads, o->pin ? ", pinned" : "");
  printf("\n");
  printf("  %-22s %llu in %.3f s (errors %llu)\n", "requests", (unsigned long long)r->requests,
         r->seconds, (unsigned long long)r->errors);
  printf("  %-22s %.0f req/s", "throughput", r->throughput);
  if (r->raw_rps > 0) printf("   (%.2fx raw: %.0f req/s)", r->throughput / r->raw_rps, r->raw_rps);
  printf("\n");
  printf("  %-22s p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu  (mean %llu)\n",
         "latency (us)", (unsigned long long)cqlmux_histogram_quantile(h, 0.5),
         (unsigned long long)cqlmux_histogram_quantile(h, 0.9),
         (unsigned long long)cqlmux_histogram_quantile(h, 0.99),
         (unsigned long long)cqlmux_histogram_quantile(h, 0.999), (unsigned long long)h->max,
         (unsigned long long)cqlmux_histogram_mean(h));
  printf("  %-22s %.3f us/req (user %.3f + sys %.3f)\n", "client CPU", r->cpu_user_us + r->cpu_sys_us,
         r->cpu_user_us, r->cpu_sys_us);
  printf("  %-22s %ld KiB\n", "peak RSS", r->max_rss_kb);
  if (!o->raw)
    printf("  %-22s %.4f per request (%.1f bytes)\n", "heap allocations", r->allocs_per_req,
           r->alloc_bytes_per_req);
  if (r->bytes_out_per_req > 0)
    printf("  %-22s out %.1f  in %.1f\n", "wire bytes per req", r->bytes_out_per_req,
           r->bytes_in_per_req);
  if (!o->raw)
    printf("  %-22s %.1f KiB connected and idle, %.1f KiB with %u in flight: %.0f bytes per "
           "request in flight\n",
           "heap (allocator hook)", r->heap_idle_kb, r->heap_busy_kb, o->concurrency,
           (r->heap_busy_kb - r->heap_idle_kb) * 1024 / o->concurrency);
  printf("  %-22s", "kernel per req");
  if (r->syscalls_per_req >= 0)
    printf(" system calls %.3f,", r->syscalls_per_req);
  else
    printf(" system calls unknown (no tracefs or no permission),");
  printf(" context switches %.3f voluntary, %.3f involuntary\n", r->voluntary_switches_per_req,
         r->involuntary_switches_per_req);
  if (!o->raw)
    printf("  %-22s loop wake-ups %.3f, loop sleeps %.3f, worker wake-ups %.3f\n",
           "hand-offs per req", r->loop_wakeups_per_req, r->loop_sleeps_per_req,
           r->worker_signals_per_req);
  if (r->idle_cpu_ms_per_10s >= 0)
    printf("  %-22s %.3f ms CPU per 10 s, %.2f loop wake-ups per s\n", "idle session",
           r->idle_cpu_ms_per_10s, r->idle_loop_wakeups_per_s);
  if (r->errors) {
    printf("  %-22s", "errors by kind");
    for (unsigned k = 0; k < CQLMUX_METRICS_ERROR_KINDS; k++)
      if (r->errors_by_kind[k])
        printf(" %s %llu", cqlmux_metrics_error_kind_name(k),
               (unsigned long long)r->errors_by_kind[k]);
    printf("\n");
  }
}

void bench_report_json(const bench_options *o, const bench_result *r) {
  const cqlmux_histogram_snapshot *h = r->latency;
  printf("{\"mode\":\"%s\",\"workload\":\"%s\",\"protocol\":%d,\"lz4\":%s,\"tls\":%s,"
         "\"concurrency\":%u,\"connections\":%u,\"io_threads\":%u,\"callback_threads\":%u,"
         "\"pinned\":%s,",
         r->mode, bench_workload_name(o->workload), r->protocol, r->lz4 ? "true" : "false",
         o->tls ? "true" : "false", o->concurrency, o->connections, o->io_threads,
         o->raw ? 0 : o->callback_threads, o->pin && !o->raw ? "true" : "false");
  printf("\"requests\":%llu,\"errors\":%llu,\"errors_by_kind\":{", (unsigned long long)r->requests,
         (unsigned long long)r->errors);
  for (unsigned k = 0; k < CQLMUX_METRICS_ERROR_KINDS; k++)
    printf("%s\"%s\":%llu", k ? "," : "", cqlmux_metrics_error_kind_name(k),
           (unsigned long long)r->errors_by_kind[k]);
  printf("},\"seconds\":%.4f,\"throughput_rps\":%.1f,", r->seconds, r->throughput);
  printf("\"cpu_us_per_req\":%.4f,\"cpu_user_us_per_req\":%.4f,\"cpu_sys_us_per_req\":%.4f,",
         r->cpu_user_us + r->cpu_sys_us, r->cpu_user_us, r->cpu_sys_us);
  printf("\"p50_us\":%llu,\"p90_us\":%llu,\"p99_us\":%llu,\"p999_us\":%llu,\"max_us\":%llu,"
         "\"mean_us\":%llu,",
         (unsigned long long)cqlmux_histogram_quantile(h, 0.5),
         (unsigned long long)cqlmux_histogram_quantile(h, 0.9),
         (unsigned long long)cqlmux_histogram_quantile(h, 0.99),
         (unsigned long long)cqlmux_histogram_quantile(h, 0.999), (unsigned long long)h->max,
         (unsigned long long)cqlmux_histogram_mean(h));
  printf("\"max_rss_kb\":%ld,\"allocs_per_req\":%.4f,\"alloc_bytes_per_req\":%.1f,", r->max_rss_kb,
         o->raw ? 0.0 : r->allocs_per_req, o->raw ? 0.0 : r->alloc_bytes_per_req);
  printf("\"bytes_out_per_req\":%.1f,\"bytes_in_per_req\":%.1f,", r->bytes_out_per_req,
         r->bytes_in_per_req);
  printf("\"heap_idle_kb\":%.1f,\"heap_busy_kb\":%.1f,", r->heap_idle_kb, r->heap_busy_kb);
  printf("\"loop_wakeups_per_req\":%.4f,\"loop_sleeps_per_req\":%.4f,"
         "\"worker_wakeups_per_req\":%.4f",
         r->loop_wakeups_per_req, r->loop_sleeps_per_req, r->worker_signals_per_req);
  if (r->syscalls_per_req >= 0)
    printf(",\"syscalls_per_req\":%.4f", r->syscalls_per_req);
  else
    printf(",\"syscalls_per_req\":null");
  printf(",\"voluntary_switches_per_req\":%.4f,\"involuntary_switches_per_req\":%.4f",
         r->voluntary_switches_per_req, r->involuntary_switches_per_req);
  if (r->idle_cpu_ms_per_10s >= 0)
    printf(",\"idle_cpu_ms_per_10s\":%.3f,\"idle_loop_wakeups_per_s\":%.2f",
           r->idle_cpu_ms_per_10s, r->idle_loop_wakeups_per_s);
  if (r->raw_rps > 0)
    printf(",\"raw_throughput_rps\":%.1f,\"ratio_to_raw\":%.4f", r->raw_rps,
           r->throughput / r->raw_rps);
  printf("}\n");
}

/* cqlmux-bench: throughput, latency, CPU and allocations of cqlmux against a
 * CQL server, and of raw sockets sending the same requests (bench.h).
 * `cqlmux-bench --help` lists the options; doc/performance.md shows runs. */
#include "bench.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out) {
  fputs(
      "usage: cqlmux-bench [options] [select|insert|query]\n"
      "Runs a workload against a CQL server and reports throughput, latency\n"
      "percentiles, client CPU per request, peak RSS and heap allocations.\n"
      "\n"
      "  -w, --workload W        select (prepared, 1 row x 6 columns; default), insert\n"
      "                          (prepared, 5 values, ~1.4 KB) or query (unprepared select)\n"
      "  -n, --requests N        measure N requests (after a warm-up of N/10)\n"
      "  -d, --duration S        measure S seconds (default 5, after a warm-up)\n"
      "      --warmup X          warm-up: seconds, or requests with --requests\n"
      "  -c, --concurrency C     requests in flight (default 128)\n"
      "      --connections N     connections to the host (default 1)\n"
      "      --io-threads N      driver I/O threads; raw mode threads (default 1)\n"
      "      --callback-threads N  driver callback workers, 0 = inline (default 1)\n"
      "      --max-requests N    in flight per connection (default: from -c)\n"
      "      --server-timestamps no client-side timestamps (the server stamps writes)\n"
      "      --pin               pin each driver thread to a CPU, I/O threads first, in the\n"
      "                          order of this process's CPUs (wrapping when there are more\n"
      "                          threads; through cqlmux_config_set_thread_start_callback)\n"
      "      --no-colocation     cqlmux_config_set_light_load_colocation(0): the I/O thread\n"
      "                          and its workers never share a CPU at light load\n"
      "  -p, --protocol 4|5      protocol version (default 5)\n"
      "      --lz4               LZ4 compression\n"
      "      --tls               TLS (driver mode); --ca FILE to trust, --tls-insecure\n"
      "      --host H            contact point (default 127.0.0.1)\n"
      "      --port P            native transport port (default 9042)\n"
      "      --user U --password P  credentials (driver mode)\n"
      "      --no-schema         do not create the keyspace, table and row first\n"
      "      --raw               raw mode: pre-encoded requests on plain sockets, no driver\n"
      "      --compare-raw       run raw mode first and report the driver as a ratio of it\n"
      "      --raw-rps X         report the driver as a ratio of X requests/s\n"
      "      --idle S            first measure S seconds of the connected session doing\n"
      "                          nothing (CPU per 10 s, loop wake-ups per s; driver mode)\n"
      "      --json              one JSON object on stdout instead of the table\n"
      "      --no-progress       no progress bar (shown on a terminal otherwise)\n",
      out);
}

enum {
  OPT_WARMUP = 256, OPT_CONNECTIONS, OPT_IO_THREADS, OPT_CALLBACK_THREADS, OPT_MAX_REQUESTS,
  OPT_LZ4, OPT_TLS, OPT_CA, OPT_TLS_INSECURE, OPT_HOST, OPT_PORT, OPT_USER, OPT_PASSWORD,
  OPT_NO_SCHEMA, OPT_RAW, OPT_COMPARE_RAW, OPT_RAW_RPS, OPT_JSON, OPT_NO_PROGRESS, OPT_PIN, OPT_NO_COLOCATION,
  OPT_SERVER_TIMESTAMPS, OPT_IDLE
};

static const struct option long_options[] = {
    {"workload", required_argument, NULL, 'w'},
    {"requests", required_argument, NULL, 'n'},
    {"duration", required_argument, NULL, 'd'},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"idle", required_argument, NULL, OPT_IDLE},
    {"concurrency", required_argument, NULL, 'c'},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"io-threads", required_argument, NULL, OPT_IO_THREADS},
    {"callback-threads", required_argument, NULL, OPT_CALLBACK_THREADS},
    {"max-requests", required_argument, NULL, OPT_MAX_REQUESTS},
    {"pin", no_argument, NULL, OPT_PIN},
    {"no-colocation", no_argument, NULL, OPT_NO_COLOCATION},
    {"server-timestamps", no_argument, NULL, OPT_SERVER_TIMESTAMPS},
    {"protocol", required_argument, NULL, 'p'},
    {"lz4", no_argument, NULL, OPT_LZ4},
    {"tls", no_argument, NULL, OPT_TLS},
    {"ca", required_argument, NULL, OPT_CA},
    {"tls-insecure", no_argument, NULL, OPT_TLS_INSECURE},
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"user", required_argument, NULL, OPT_USER},
    {"password", required_argument, NULL, OPT_PASSWORD},
    {"no-schema", no_argument, NULL, OPT_NO_SCHEMA},
    {"raw", no_argument, NULL, OPT_RAW},
    {"compare-raw", no_argument, NULL, OPT_COMPARE_RAW},
    {"raw-rps", required_argument, NULL, OPT_RAW_RPS},
    {"json", no_argument, NULL, OPT_JSON},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static bool parse_workload(const char *s, bench_workload *w) {
  for (int i = WORKLOAD_SELECT; i <= WORKLOAD_QUERY; i++)
    if (strcmp(s, bench_workload_name((bench_workload)i)) == 0) {
      *w = (bench_workload)i;
      return true;
    }
  return false;
}

/* A whole number in [lo, hi], or exits with a message. */
static unsigned long long number(const char *name, const char *s, unsigned long long lo,
                                 unsigned long long hi) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "cqlmux-bench: --%s must be a number from %llu to %llu\n", name, lo, hi);
    exit(2);
  }
  return v;
}

static double seconds(const char *name, const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (*s == '\0' || *end != '\0' || v < 0) {
    fprintf(stderr, "cqlmux-bench: --%s must be a non-negative number\n", name);
    exit(2);
  }
  return v;
}

static void defaults(bench_options *o) {
  memset(o, 0, sizeof *o);
  o->workload = WORKLOAD_SELECT;
  o->warmup = -1;
  o->concurrency = 128;
  o->connections = 1;
  o->io_threads = 1;
  o->callback_threads = 1;
  o->protocol = 5;
  o->host = "127.0.0.1";
  o->port = 9042;
  o->schema = true;
  o->progress = isatty(2);
}

static void parse_option(bench_options *o, int opt, const char *arg) {
  switch (opt) {
  case 'w':
    if (!parse_workload(arg, &o->workload)) {
      fprintf(stderr, "cqlmux-bench: unknown workload %s\n", arg);
      exit(2);
    }
    break;
  case 'n': o->requests = number("requests", arg, 1, UINT64_MAX / 4); break;
  case 'd': o->duration = seconds("duration", arg); break;
  case OPT_WARMUP: o->warmup = seconds("warmup", arg); break;
  case OPT_IDLE: o->idle = seconds("idle", arg); break;
  case 'c': o->concurrency = (unsigned)number("concurrency", arg, 1, 1u << 20); break;
  case OPT_CONNECTIONS: o->connections = (unsigned)number("connections", arg, 1, 1024); break;
  case OPT_IO_THREADS:
    o->io_threads = (unsigned)number("io-threads", arg, 1, CQLMUX_MAX_IO_THREADS);
    break;
  case OPT_CALLBACK_THREADS:
    o->callback_threads =
        (unsigned)number("callback-threads", arg, 0, CQLMUX_MAX_CALLBACK_THREADS);
    break;
  case OPT_MAX_REQUESTS: o->max_requests = (unsigned)number("max-requests", arg, 1, 32768); break;
  case OPT_PIN: o->pin = true; break;
  case OPT_NO_COLOCATION: o->no_colocation = true; break;
  case OPT_SERVER_TIMESTAMPS: o->server_timestamps = true; break;
  case 'p': o->protocol = (int)number("protocol", arg, 4, 5); break;
  case OPT_LZ4: o->lz4 = true; break;
  case OPT_TLS: o->tls = true; break;
  case OPT_CA: o->ca_file = arg; break;
  case OPT_TLS_INSECURE: o->tls_insecure = true; break;
  case OPT_HOST: o->host = arg; break;
  case OPT_PORT: o->port = (int)number("port", arg, 1, 65535); break;
  case OPT_USER: o->username = arg; break;
  case OPT_PASSWORD: o->password = arg; break;
  case OPT_NO_SCHEMA: o->schema = false; break;
  case OPT_RAW: o->raw = true; break;
  case OPT_COMPARE_RAW: o->compare_raw = true; break;
  case OPT_RAW_RPS: o->raw_rps = seconds("raw-rps", arg); break;
  case OPT_JSON: o->json = true; break;
  case OPT_NO_PROGRESS: o->progress = false; break;
  case 'h': usage(stdout); exit(0);
  default: usage(stderr); exit(2);
  }
}

static void parse(bench_options *o, int argc, char **argv) {
  defaults(o);
  int opt;
  while ((opt = getopt_long(argc, argv, "w:n:d:c:p:h", long_options, NULL)) != -1)
    parse_option(o, opt, optarg);
  if (optind < argc) parse_option(o, 'w', argv[optind++]);
  if (optind < argc) {
    usage(stderr);
    exit(2);
  }
  if (!o->requests && o->duration <= 0) o->duration = 5;
  if (o->warmup < 0)
    o->warmup = o->requests ? (double)(o->requests / 10) : (o->duration / 4 < 1 ? o->duration / 4 : 1);
  if (o->username && !o->password) o->password = "";
}

static int run(const bench_options *o, bench_result *r, cqlmux_histogram_snapshot *latency) {
  memset(r, 0, sizeof *r);
  r->latency = latency;
  r->idle_cpu_ms_per_10s = r->idle_loop_wakeups_per_s = -1;
  return o->raw ? bench_run_raw(o, r) : bench_run_driver(o, r);
}

static void report(const bench_options *o, const bench_result *r) {
  if (o->json)
    bench_report_json(o, r);
  else
    bench_report_table(o, r);
  fflush(stdout);
}

int main(int argc, char **argv) {
  bench_options o;
  parse(&o, argc, argv);
  cqlmux_histogram_snapshot *latency = malloc(sizeof *latency);
  if (!latency) return 1;
  bench_result r;
  double raw_rps = o.raw_rps;
  if (!o.raw && o.compare_raw) {
    bench_options raw = o;
    raw.raw = true;
    if (run(&raw, &r, latency) != 0) return 1;
    if (!o.json) report(&raw, &r);
    raw_rps = r.throughput;
  }
  int failed = run(&o, &r, latency);
  if (!failed) {
    if (!o.raw) r.raw_rps = raw_rps;
    report(&o, &r);
    failed = r.requests == 0;
  }
  free(latency);
  return failed;
}

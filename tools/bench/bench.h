/* cqlmux-bench: shared types of the benchmark program.
 *
 * Two modes measure the same workload against the same server:
 *   driver  the public API (driver.c): a session, prepared statements,
 *           futures with callbacks, `concurrency` requests kept in flight by
 *           issuing a new one from each completion callback;
 *   raw     no driver (raw.c): the same request, encoded once with lib/proto,
 *           sent over plain sockets with only its stream id patched, and
 *           replies only counted: the limit the driver is compared with.
 * measure.c runs the common timeline (warm-up, measured window, drain) and
 * writes the report; workload.c holds the CQL and the values. */
#ifndef CQLMUX_BENCH_H
#define CQLMUX_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "api/metrics.h"
#include "cqlmux.h"
#include "proto/wire.h"
#include "runtime/histogram.h"

typedef enum bench_workload { WORKLOAD_SELECT, WORKLOAD_INSERT, WORKLOAD_QUERY } bench_workload;

typedef struct bench_options {
  bench_workload workload;
  bool raw;
  bool compare_raw;          /* driver run preceded by a raw run, ratio printed */
  double raw_rps;            /* a raw throughput given on the command line */
  uint64_t requests;         /* measured requests; 0: run for `duration` */
  double duration;           /* seconds measured */
  double warmup;             /* seconds, or requests when `requests` is set */
  unsigned concurrency;
  unsigned connections;
  unsigned io_threads;
  unsigned callback_threads;
  unsigned max_requests;     /* per connection; 0: derived from concurrency */
  bool pin;                  /* each driver thread on its own CPU */
  bool no_colocation;        /* light-load co-location off */
  bool server_timestamps;    /* client timestamp generator off */
  int protocol;              /* 4 or 5 */
  bool lz4;
  bool tls;
  bool tls_insecure;
  const char *ca_file;
  const char *host;
  int port;
  const char *username;
  const char *password;
  bool schema;               /* create keyspace, table and row first */
  bool json;
  bool progress;             /* a progress bar on stderr (a TTY) */
  bool quiet;
  double idle;               /* driver: seconds idle, connected, measured first */
} bench_options;

/* What the measured window counts, shared by the threads of a run. */
typedef struct bench_counters {
  _Atomic uint64_t completed;  /* all completions, warm-up included */
  _Atomic uint64_t issued;
  _Atomic uint64_t errors[CQLMUX_METRICS_ERROR_KINDS];
  _Atomic uint64_t measure_from_us;  /* requests started from then on are timed */
  _Atomic uint64_t measure_until_us; /* ... and completed before then */
  _Atomic bool stop;           /* issue nothing more */
  cqlmux_histogram latency;    /* microseconds, measured window only */
  /* The completion that makes `completed` reach `target` records its time
   * and signals (requests mode: the end of the window). */
  _Atomic uint64_t target;
  _Atomic uint64_t target_reached_us;
  pthread_mutex_t lock;
  pthread_cond_t cond;
} bench_counters;

/* Zeroes the counters, no window open yet. */
void bench_counters_init(bench_counters *c);
void bench_counters_destroy(bench_counters *c);

/* The report of one run. */
typedef struct bench_result {
  const char *mode;            /* "driver" or "raw" */
  uint64_t requests;
  uint64_t errors;
  uint64_t errors_by_kind[CQLMUX_METRICS_ERROR_KINDS];
  double seconds;
  double throughput;
  double cpu_user_us;          /* per request */
  double cpu_sys_us;
  long max_rss_kb;
  double allocs_per_req;
  double alloc_bytes_per_req;
  cqlmux_histogram_snapshot *latency;
  double heap_idle_kb;         /* driver: in use once connected and prepared */
  double heap_busy_kb;         /* driver: in use when the window opens (all in flight) */
  double bytes_out_per_req;    /* from the session's metrics (driver only) */
  double bytes_in_per_req;
  double raw_rps;              /* 0: unknown */
  /* Thread hand-offs per request over the whole run (driver only): eventfd
   * writes waking an I/O loop, sleeps of the loops, and wake-ups of sleeping
   * callback workers: each costs a system call or two. */
  double loop_wakeups_per_req;
  double loop_sleeps_per_req;
  double worker_signals_per_req;
  /* Kernel crossings per request over the measured window, every thread of
   * the process: system calls (-1: the kernel would not count them, see
   * syscalls.c) and context switches from getrusage (voluntary: a thread
   * blocked or slept; involuntary: it was preempted). */
  double syscalls_per_req;
  double voluntary_switches_per_req;
  double involuntary_switches_per_req;
  /* --idle: the connected session with nothing to do, before the load:
   * process CPU in ms per 10 s of it, and the I/O loops' wake-ups per s
   * (heartbeats and timers only, when nothing spins). -1: not measured. */
  double idle_cpu_ms_per_10s;
  double idle_loop_wakeups_per_s;
  int protocol;                /* negotiated */
  bool lz4;
} bench_result;

/* ------------------------------------------------------------ measure.c */

uint64_t bench_now_us(void);

/* The allocator hook counting every call (atomic counters). */
const cqlmux_allocator *bench_counting_allocator(void);
uint64_t bench_alloc_count(void);   /* malloc + realloc calls */
uint64_t bench_alloc_bytes(void);
int64_t bench_heap_live(void);      /* bytes in use through the hook */

/* Runs the timeline of a started run: waits out the warm-up, opens the
 * measured window (counters, CPU, allocations), waits for its end (the
 * deadline, or `requests` completions after the warm-up), closes it and
 * sets c->stop. Fills the window's part of *r (r->latency must point to a
 * snapshot to fill). Prints the progress line meanwhile when asked to. */
void bench_measure(const bench_options *o, bench_counters *c, bench_result *r);

/* The number of requests a run issues in all (UINT64_MAX: until stopped). */
uint64_t bench_issue_limit(const bench_options *o);

/* Counts one completion (kind < 0: success, else its error kind) and
 * records its latency when it lies inside the measured window. */
void bench_complete(bench_counters *c, uint64_t start_us, uint64_t end_us, int kind);
/* The same for n successes at once completing at end_us (raw mode). */
void bench_complete_many(bench_counters *c, uint64_t n);

void bench_report_table(const bench_options *o, const bench_result *r);
void bench_report_json(const bench_options *o, const bench_result *r);

/* ------------------------------------------------------------ syscalls.c */

#define BENCH_MAX_THREADS 64

/* One kernel counter of system calls per thread of the process. */
typedef struct bench_syscalls {
  int fds[BENCH_MAX_THREADS];
  unsigned count;
  bool available;
} bench_syscalls;

/* Starts counting every existing thread's system calls; s->available tells
 * whether the kernel agreed for all of them. */
void bench_syscalls_start(bench_syscalls *s);
/* The calls counted since start (-1 when unavailable); closes the counters. */
long long bench_syscalls_stop(bench_syscalls *s);

/* ------------------------------------------------------------ workload.c */

const char *bench_workload_name(bench_workload w);
/* The statement text executed (prepared or not). */
const char *bench_workload_cql(bench_workload w);
bool bench_workload_prepared(bench_workload w);
/* Values bound per request (0 for query) and their wire form. */
size_t bench_workload_values(bench_workload w, cqlmux_bytes *values, size_t cap);
/* The schema statements and the row select reads; NULL-terminated. */
const char *const *bench_workload_schema(void);

/* ------------------------------------------------------------ modes */

/* Each returns 0 on success (r filled) or prints why it failed and returns 1. */
int bench_run_driver(const bench_options *o, bench_result *r);
int bench_run_raw(const bench_options *o, bench_result *r);

#endif

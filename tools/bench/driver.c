/* Driver mode: the workload through the public API only.
 *
 * `concurrency` slots each keep one request in flight: the completion
 * callback of a slot's request records it and issues the slot's next one,
 * so the number in flight stays constant until the run stops. Callbacks run
 * on the callback workers (or inline on the I/O threads with
 * --callback-threads 0). A statement may be used by one thread at a time,
 * so every thread that issues requests has its own (bound once; the values
 * never change). */
#include <config.h> /* _GNU_SOURCE, for the CPU affinity calls of --pin */

#include "bench.h"

#include "api/session.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct driver_run driver_run;

typedef struct slot {
  driver_run *run;
  uint64_t start_us;
  bool again; /* completed inline while being issued: issue once more */
} slot;

/* A statement per issuing thread, kept on a list to free them at the end. */
typedef struct thread_statement {
  cqlmux_statement *statement;
  struct thread_statement *next;
} thread_statement;

struct driver_run {
  const bench_options *o;
  cqlmux_session *session;
  cqlmux_prepared *prepared;
  bench_counters counters;
  uint64_t limit;
  _Atomic unsigned active; /* slots still issuing */
  pthread_mutex_t lock;    /* statements list, first_error */
  char first_error[256];   /* the first failure's message, for the report */
  thread_statement *statements;
  _Atomic bool statement_failed;
};

static _Thread_local cqlmux_statement *tl_statement;
static _Thread_local driver_run *tl_statement_run;
static _Thread_local int tl_issuing;

static cqlmux_statement *new_statement(driver_run *d) {
  cqlmux_statement *st = d->prepared ? cqlmux_statement_new_prepared(d->prepared)
                                     : cqlmux_statement_new(bench_workload_cql(d->o->workload), 0);
  if (!st) return NULL;
  cqlmux_bytes v[8];
  size_t n = bench_workload_values(d->o->workload, v, 8);
  int rc = CQLMUX_OK;
  /* Typed binds, as an application would; the wire bytes are those raw mode
   * sends (workload.c). */
  if (n >= 1) rc |= cqlmux_statement_bind_text(st, 0, (const char *)v[0].data, (size_t)v[0].len);
  if (n >= 5) {
    rc |= cqlmux_statement_bind_int32(st, 1, 42);
    rc |= cqlmux_statement_bind_int64(st, 2, 4242);
    rc |= cqlmux_statement_bind_double(st, 3, 3.25);
    rc |= cqlmux_statement_bind_blob(st, 4, v[4].data, (size_t)v[4].len);
  }
  if (rc != CQLMUX_OK) {
    cqlmux_statement_free(st);
    return NULL;
  }
  return st;
}

static cqlmux_statement *thread_statement_get(driver_run *d) {
  if (tl_statement && tl_statement_run == d) return tl_statement;
  thread_statement *ts = calloc(1, sizeof *ts);
  if (!ts || !(ts->statement = new_statement(d))) {
    free(ts);
    return NULL;
  }
  pthread_mutex_lock(&d->lock);
  ts->next = d->statements;
  d->statements = ts;
  pthread_mutex_unlock(&d->lock);
  tl_statement = ts->statement;
  tl_statement_run = d;
  return ts->statement;
}

static void issue(slot *s);

static void retire(slot *s) {
  driver_run *d = s->run;
  if (atomic_fetch_sub(&d->active, 1) == 1) {
    pthread_mutex_lock(&d->counters.lock);
    pthread_cond_broadcast(&d->counters.cond);
    pthread_mutex_unlock(&d->counters.lock);
  }
}

/* Runs on a callback worker, or inline (see the file comment). */
static void on_complete(cqlmux_future *f, void *user_data) {
  slot *s = user_data;
  driver_run *d = s->run;
  uint64_t end = bench_now_us();
  int rc = cqlmux_future_error(f);
  int kind = -1;
  if (rc == CQLMUX_OK) {
    /* Touch the result as an application would. */
    (void)cqlmux_result_row_count(cqlmux_future_result(f));
  } else {
    cqlmux_server_error se;
    int32_t code = cqlmux_future_server_error(f, &se) == CQLMUX_OK ? se.code : 0;
    kind = (int)cqlmux_metrics_error_kind_of(rc, code);
    pthread_mutex_lock(&d->lock);
    if (!d->first_error[0])
      snprintf(d->first_error, sizeof d->first_error, "%s", cqlmux_future_error_message(f));
    pthread_mutex_unlock(&d->lock);
  }
  cqlmux_future_free(f);
  bench_complete(&d->counters, s->start_us, end, kind);
  if (tl_issuing) {
    s->again = true; /* completed inside issue() on this thread: it loops */
    return;
  }
  issue(s);
}

static void issue(slot *s) {
  driver_run *d = s->run;
  tl_issuing++;
  do {
    s->again = false;
    /* relaxed: a ticket counter; stop is a plain flag polled here. */
    if (atomic_load(&d->counters.stop) ||
        atomic_fetch_add_explicit(&d->counters.issued, 1, memory_order_relaxed) >= d->limit) {
      retire(s);
      break;
    }
    cqlmux_statement *st = thread_statement_get(d);
    s->start_us = bench_now_us();
    cqlmux_future *f = st ? cqlmux_session_execute(d->session, st) : NULL;
    if (!f) {
      atomic_store(&d->statement_failed, true);
      bench_complete(&d->counters, s->start_us, bench_now_us(), CQLMUX_METRICS_ERR_OTHER);
      retire(s);
      break;
    }
    cqlmux_future_set_callback(f, on_complete, s);
  } while (s->again);
  tl_issuing--;
}

/* ------------------------------------------------------------ setup */

static int wait_ok(cqlmux_future *f, const char *what) {
  int rc = f ? cqlmux_future_wait(f) : CQLMUX_ERR_NOMEM;
  if (rc != CQLMUX_OK)
    fprintf(stderr, "cqlmux-bench: %s: %s\n", what,
            f && cqlmux_future_error_message(f) ? cqlmux_future_error_message(f)
                                                : cqlmux_strerror(rc));
  return rc;
}

static unsigned derived_max_requests(const bench_options *o) {
  if (o->max_requests) return o->max_requests;
  /* Room for the whole concurrency below the default 80 % high watermark. */
  uint64_t per_conn = (o->concurrency + o->connections - 1) / o->connections;
  uint64_t max = per_conn * 5 / 4 + 16;
  if (max < 1024) max = 1024;
  return max > 32768 ? 32768 : (unsigned)max;
}

/* --pin: the CPUs this process may run on, in order; I/O thread i takes
 * the i-th, callback worker j the (io_threads + j)-th, wrapping around. */
typedef struct pin_plan {
  int cpus[CPU_SETSIZE];
  unsigned count;
  unsigned io_threads;
} pin_plan;

static pin_plan pins;

/* On each driver thread as it starts (the thread-start callback). */
static void pin_thread(cqlmux_thread_kind kind, unsigned index, void *ud) {
  pin_plan *p = ud;
  unsigned nth = kind == CQLMUX_THREAD_KIND_IO ? index : p->io_threads + index;
  int cpu = p->cpus[nth % p->count];
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
    fprintf(stderr, "cqlmux-bench: could not pin a driver thread to CPU %d\n", cpu);
}

static bool plan_pins(const bench_options *o) {
  cpu_set_t set; /* CPU_SETSIZE (1024) CPUs: enough for the machines this runs on */
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    perror("cqlmux-bench: --pin: sched_getaffinity");
    return false;
  }
  pins.count = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &set)) pins.cpus[pins.count++] = cpu;
  pins.io_threads = o->io_threads;
  return pins.count > 0;
}

static cqlmux_config *make_config(const bench_options *o) {
  cqlmux_config *c = cqlmux_config_new_with_allocator(bench_counting_allocator());
  if (!c) return NULL;
  int rc = cqlmux_config_set_contact_points(c, o->host);
  rc |= cqlmux_config_set_port(c, o->port);
  rc |= cqlmux_config_set_protocol_version(c, o->protocol);
  rc |= cqlmux_config_set_compression(c, o->lz4 ? CQLMUX_COMPRESSION_LZ4 : CQLMUX_COMPRESSION_NONE);
  rc |= cqlmux_config_set_io_threads(c, o->io_threads);
  rc |= cqlmux_config_set_callback_threads(c, o->callback_threads);
  rc |= cqlmux_config_set_connections_per_host(c, o->connections, o->connections);
  unsigned max = derived_max_requests(o);
  rc |= cqlmux_config_set_max_requests_per_connection(c, max);
  /* Room to queue a whole connection's worth (the default queue is 1024),
   * and, when the concurrency needs every stream id of a connection, no
   * queueing below it: 32,768 in flight on one connection. */
  rc |= cqlmux_config_set_queue_size(c, max);
  if ((o->concurrency + o->connections - 1) / o->connections > max * 4 / 5)
    rc |= cqlmux_config_set_watermarks(c, 100, 50);
  rc |= cqlmux_config_set_log_level(c, CQLMUX_LOG_ERROR);
  if (o->tls) {
    rc |= cqlmux_config_set_tls(c, 1, o->ca_file);
    if (o->tls_insecure) rc |= cqlmux_config_set_tls_verify(c, 0, 0);
  }
  if (o->username) rc |= cqlmux_config_set_credentials(c, o->username, o->password);
  if (o->server_timestamps) rc |= cqlmux_config_set_timestamp_generator(c, NULL, NULL);
  if (o->no_colocation) rc |= cqlmux_config_set_light_load_colocation(c, 0);
  if (o->pin) rc |= plan_pins(o) ? cqlmux_config_set_thread_start_callback(c, pin_thread, &pins)
                                 : CQLMUX_ERR_INVALID_ARGUMENT;
  if (rc != CQLMUX_OK) {
    fprintf(stderr, "cqlmux-bench: invalid driver settings\n");
    cqlmux_config_free(c);
    return NULL;
  }
  return c;
}

static int setup(driver_run *d) {
  const bench_options *o = d->o;
  cqlmux_config *c = make_config(o);
  if (!c) return 1;
  int rc = cqlmux_session_new(c, &d->session);
  cqlmux_config_free(c);
  if (rc != CQLMUX_OK) {
    fprintf(stderr, "cqlmux-bench: session: %s\n", cqlmux_strerror(rc));
    return 1;
  }
  cqlmux_future *f = cqlmux_session_connect(d->session);
  rc = wait_ok(f, "connect");
  cqlmux_future_free(f);
  /* The connect future completes with the first connection: let the others
   * finish their handshake too (at most 5 s), so every run starts with all
   * of them and the idle heap counts them all. */
  for (int i = 0; rc == CQLMUX_OK && i < 500; i++) {
    cqlmux_metrics m;
    cqlmux_session_metrics(d->session, &m);
    if (m.connections_open >= o->connections) break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  for (const char *const *q = bench_workload_schema(); o->schema && *q && rc == CQLMUX_OK; q++) {
    f = cqlmux_session_query(d->session, *q);
    rc = wait_ok(f, *q);
    cqlmux_future_free(f);
  }
  if (rc == CQLMUX_OK && bench_workload_prepared(o->workload)) {
    f = cqlmux_session_prepare(d->session, bench_workload_cql(o->workload));
    rc = wait_ok(f, "prepare");
    if (rc == CQLMUX_OK) d->prepared = cqlmux_future_take_prepared(f);
    cqlmux_future_free(f);
  }
  return rc == CQLMUX_OK ? 0 : 1;
}

/* Waits for every slot's last request; says what is outstanding when that
 * takes long (a request the driver lost would otherwise hang silently). */
static void wait_retired(driver_run *d) {
  uint64_t since = bench_now_us();
  pthread_mutex_lock(&d->counters.lock);
  while (atomic_load(&d->active) > 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&d->counters.cond, &d->counters.lock, &ts);
    if (bench_now_us() - since > 5000000 && atomic_load(&d->active) > 0) {
      cqlmux_metrics m;
      cqlmux_session_metrics(d->session, &m);
      fprintf(stderr,
              "cqlmux-bench: still waiting for %u requests: in flight %llu, queued %llu, "
              "completed %llu (callbacks run %llu, issued %llu), connections %llu\n",
              atomic_load(&d->active), (unsigned long long)m.in_flight,
              (unsigned long long)m.queued, (unsigned long long)m.requests,
              (unsigned long long)atomic_load(&d->counters.completed),
              (unsigned long long)atomic_load(&d->counters.issued),
              (unsigned long long)m.connections_open);
      since = bench_now_us();
    }
  }
  pthread_mutex_unlock(&d->counters.lock);
}

static void teardown(driver_run *d) {
  cqlmux_session_free(d->session);
  while (d->statements) {
    thread_statement *ts = d->statements;
    d->statements = ts->next;
    cqlmux_statement_free(ts->statement);
    free(ts);
  }
  cqlmux_prepared_free(d->prepared);
}

/* Thread hand-offs so far (internal statistics of the runtime; the
 * benchmark links the library's archive, see tools/local.mk). */
static void handoffs(driver_run *d, uint64_t out[3]) {
  cqlmux_runtime *rt = d->session->runtime;
  out[0] = out[1] = 0;
  for (unsigned i = 0; i < cqlmux_runtime_loop_count(rt); i++) {
    out[0] += cqlmux_loop_wakeups(cqlmux_runtime_loop(rt, i));
    out[1] += cqlmux_loop_sleeps(cqlmux_runtime_loop(rt, i));
  }
  out[2] = cqlmux_workers_signals(cqlmux_runtime_workers(rt));
}

/* Bytes on the wire and hand-offs per request, from the session's
 * metrics, over every request of the run (warm-up included). */
static void per_request(driver_run *d, const cqlmux_metrics *before, const uint64_t ho[3],
                        bench_result *r) {
  cqlmux_metrics after;
  cqlmux_session_metrics(d->session, &after);
  uint64_t now[3];
  handoffs(d, now);
  uint64_t done = atomic_load(&d->counters.completed);
  double n = done ? (double)done : 1;
  r->bytes_out_per_req = (double)(after.bytes_out - before->bytes_out) / n;
  r->bytes_in_per_req = (double)(after.bytes_in - before->bytes_in) / n;
  r->loop_wakeups_per_req = (double)(now[0] - ho[0]) / n;
  r->loop_sleeps_per_req = (double)(now[1] - ho[1]) / n;
  r->worker_signals_per_req = (double)(now[2] - ho[2]) / n;
}

/* The connected session left alone for `seconds`: whatever CPU it uses
 * then is spinning or timers (heartbeats every 30 s by default). */
static void measure_idle(driver_run *d, double seconds, bench_result *r) {
  uint64_t ho0[3], ho1[3];
  struct rusage ru0, ru1;
  handoffs(d, ho0);
  getrusage(RUSAGE_SELF, &ru0);
  struct timespec pause = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&pause, &pause) != 0) continue;
  getrusage(RUSAGE_SELF, &ru1);
  handoffs(d, ho1);
  double cpu_us = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e6 +
                  (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
                  (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e6 +
                  (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
  r->idle_cpu_ms_per_10s = cpu_us / 1000 * 10 / seconds;
  r->idle_loop_wakeups_per_s = (double)(ho1[0] - ho0[0]) / seconds;
}

int bench_run_driver(const bench_options *o, bench_result *r) {
  driver_run *d = calloc(1, sizeof *d);
  slot *slots = calloc(o->concurrency, sizeof *slots);
  if (!d || !slots) {
    free(d);
    free(slots);
    return 1;
  }
  d->o = o;
  bench_counters_init(&d->counters);
  pthread_mutex_init(&d->lock, NULL);
  d->limit = bench_issue_limit(o);
  int failed = setup(d);
  if (!failed) {
    r->mode = "driver";
    r->protocol = cqlmux_session_protocol_version(d->session);
    r->lz4 = cqlmux_session_compression_active(d->session);
    cqlmux_metrics before;
    cqlmux_session_metrics(d->session, &before);
    uint64_t ho[3];
    handoffs(d, ho);
    r->heap_idle_kb = (double)bench_heap_live() / 1024;
    if (o->idle > 0) measure_idle(d, o->idle, r);
    atomic_store(&d->active, o->concurrency);
    for (unsigned i = 0; i < o->concurrency; i++) {
      slots[i].run = d;
      issue(&slots[i]);
    }
    bench_measure(o, &d->counters, r);
    wait_retired(d);
    per_request(d, &before, ho, r);
    if (d->first_error[0]) fprintf(stderr, "cqlmux-bench: first error: %s\n", d->first_error);
    if (atomic_load(&d->statement_failed))
      fprintf(stderr, "cqlmux-bench: some requests could not be submitted (out of memory)\n");
  }
  teardown(d);
  bench_counters_destroy(&d->counters);
  pthread_mutex_destroy(&d->lock);
  free(slots);
  free(d);
  return failed;
}

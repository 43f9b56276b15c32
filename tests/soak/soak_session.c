/* Soak (issue 16 item 5): a session under steady load against the
 * in-process mock (3 nodes), with a fault every few seconds (a node's
 * connections closed, its socket stalled, its listener refusing, the node
 * restarted), for SOAK_MINUTES (default 10). Run by `make soak`, not by
 * make check.
 *
 * At the end, after the load has drained and the session is freed:
 *   - completions == submissions, counted by outcome;
 *   - RSS grew by at most SOAK_RSS_BOUND_KB (default 16 MiB) between the
 *     end of the warm-up (the first minute, or a tenth of a shorter run)
 *     and the end of the load;
 *   - /proc/self/fd and /proc/self/task hold as many entries as before the
 *     session was created (no fd or thread leak).
 * The figures are printed as `key: value` lines (doc/reliability.md
 * records a run). Exit status 0 when every check holds, 1 otherwise.
 *
 * The load keeps WINDOW requests in flight: the main thread tops the
 * window up and otherwise sleeps 1 ms (pacing, not synchronization: every
 * count is read after the futures' callbacks have run). */
#include <dirent.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cqlmux.h"
#include "mock/mock.h"

#define NODES 3
#define WINDOW 256
#define ROW_QUERY "SELECT v FROM soak WHERE k = 1"
#define PREPARED_QUERY "SELECT v FROM soak WHERE k = ?"
/* Outcomes are tallied by code: OK, the request band and the connection band. */
#define CODES 512

typedef struct tally {
  atomic_long in_flight;
  atomic_long completed;
  atomic_long by_code[CODES]; /* index: -code, clamped */
} tally;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static long env_long(const char *name, long fallback) {
  const char *v = getenv(name);
  return v && *v ? atol(v) : fallback;
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  if (f) fclose(f);
  return kb;
}

/* Entries of a /proc/self directory (fd or task), minus . and .. */
static long count_entries(const char *path) {
  DIR *d = opendir(path);
  if (!d) return -1;
  long n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - (strcmp(path, "/proc/self/fd") == 0); /* the DIR's own fd */
}

/* Callback worker. Counts the outcome; the future is freed here. */
static void on_done(cqlmux_future *f, void *user_data) {
  tally *t = user_data;
  int code = -cqlmux_future_error(f);
  atomic_fetch_add(&t->by_code[code >= 0 && code < CODES ? code : CODES - 1], 1);
  cqlmux_future_free(f);
  atomic_fetch_add(&t->completed, 1);
  atomic_fetch_sub(&t->in_flight, 1);
}

static cqlmux_mock *start_mock(void) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.nodes_per_dc[0] = NODES;
  cfg.record = false; /* hours of requests would otherwise be kept */
  cqlmux_mock *m = NULL;
  if (cqlmux_mock_start(&cfg, &m) != CQLMUX_OK) return NULL;
  static const cqlmux_mock_column col = {"v", "int"};
  static const cqlmux_mock_column param = {"k", "int"};
  static const char *const cells[1] = {"42"};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, ROW_QUERY);
  p.column_count = 1, p.columns = &col, p.row_count = 1, p.cells = cells;
  cqlmux_mock_prime_add(m, &p);
  p.query = PREPARED_QUERY, p.param_count = 1, p.params = &param;
  cqlmux_mock_prime_add(m, &p);
  return m;
}

static cqlmux_session *connect_session(cqlmux_mock *m) {
  char addr[64];
  uint16_t port;
  cqlmux_mock_node_address(m, 0, addr, sizeof addr, &port);
  cqlmux_config *c = cqlmux_config_new();
  cqlmux_config_set_contact_points(c, addr);
  cqlmux_config_set_port(c, port);
  cqlmux_config_set_log_level(c, CQLMUX_LOG_NONE);
  cqlmux_config_set_reconnect(c, 200, 2000);
  cqlmux_config_set_request_timeout(c, 5000);
  cqlmux_session *s = NULL;
  int rc = cqlmux_session_new(c, &s);
  cqlmux_config_free(c);
  if (rc != CQLMUX_OK) return NULL;
  cqlmux_future *f = cqlmux_session_connect(s);
  rc = cqlmux_future_wait(f);
  cqlmux_future_free(f);
  if (rc == CQLMUX_OK) return s;
  cqlmux_session_free(s);
  return NULL;
}

static cqlmux_prepared *prepare(cqlmux_session *s) {
  cqlmux_future *f = cqlmux_session_prepare(s, PREPARED_QUERY);
  cqlmux_prepared *p = cqlmux_future_wait(f) == CQLMUX_OK ? cqlmux_future_take_prepared(f) : NULL;
  cqlmux_future_free(f);
  return p;
}

/* One request, alternately the text query and the prepared one. */
static bool submit(cqlmux_session *s, cqlmux_statement *prepared, uint64_t i, tally *t) {
  cqlmux_future *f = i % 2 ? cqlmux_session_execute(s, prepared) : cqlmux_session_query(s, ROW_QUERY);
  if (!f) return false;
  atomic_fetch_add(&t->in_flight, 1);
  cqlmux_future_set_callback(f, on_done, t);
  return true;
}

/* The faults, in turn, each on the next node. */
enum { FAULT_CLOSE, FAULT_STALL, FAULT_REFUSE, FAULT_RESTART, FAULT_KINDS };
static const char *const fault_names[FAULT_KINDS] = {"close", "stall", "refuse", "restart"};

typedef struct fault_state {
  int held_id;         /* a STOP_READING or REFUSE fault to clear, or 0 */
  uint64_t clear_at_ms;
  long injected[FAULT_KINDS];
} fault_state;

static void add_fault(cqlmux_mock *m, cqlmux_mock_fault_kind kind, int node, int *id) {
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, kind);
  f.node = node;
  cqlmux_mock_fault_add(m, &f, id);
}

/* Stalls and refusals last 1.5 s; closes and restarts act once. */
static void inject(cqlmux_mock *m, fault_state *fs, long round, uint64_t now) {
  int kind = (int)(round % FAULT_KINDS), node = (int)(round % NODES);
  switch (kind) {
  case FAULT_CLOSE:
    add_fault(m, CQLMUX_MOCK_CLOSE, node, NULL);
    break;
  case FAULT_STALL:
    add_fault(m, CQLMUX_MOCK_STOP_READING, node, &fs->held_id);
    break;
  case FAULT_REFUSE: /* the node's connections go, and cannot come back yet */
    add_fault(m, CQLMUX_MOCK_REFUSE, node, &fs->held_id);
    add_fault(m, CQLMUX_MOCK_CLOSE, node, NULL);
    break;
  default:
    cqlmux_mock_node_restart(m, node, 1000);
    break;
  }
  if (fs->held_id) fs->clear_at_ms = now + 1500;
  fs->injected[kind]++;
}

static void release_held(cqlmux_mock *m, fault_state *fs, uint64_t now, bool force) {
  if (!fs->held_id || (!force && now < fs->clear_at_ms)) return;
  cqlmux_mock_fault_clear(m, fs->held_id);
  fs->held_id = 0;
}

typedef struct figures {
  uint64_t submitted, not_submitted;
  long rss_start_kb, rss_warm_kb, rss_end_kb;
} figures;

/* The load with its faults until `minutes` have passed. */
static void run_load(cqlmux_mock *m, cqlmux_session *s, cqlmux_statement *prepared, tally *t,
                     double minutes, long fault_every_ms, fault_state *fs, figures *fig) {
  uint64_t start = now_ms(), end = start + (uint64_t)(minutes * 60000.0);
  uint64_t warm_at = start + (uint64_t)(minutes * 60000.0 / 10.0);
  if (warm_at > start + 60000) warm_at = start + 60000;
  uint64_t next_fault = start + (uint64_t)fault_every_ms;
  long round = 0;
  fig->rss_start_kb = rss_kb();
  for (uint64_t now = start; now < end; now = now_ms()) {
    while (atomic_load(&t->in_flight) < WINDOW) {
      if (submit(s, prepared, fig->submitted + fig->not_submitted, t)) fig->submitted++;
      else fig->not_submitted++;
    }
    release_held(m, fs, now, false);
    if (now >= next_fault) {
      release_held(m, fs, now, true);
      inject(m, fs, round++, now);
      next_fault = now + (uint64_t)fault_every_ms;
    }
    if (fig->rss_warm_kb == 0 && now >= warm_at) fig->rss_warm_kb = rss_kb();
    usleep(1000);
  }
  release_held(m, fs, now_ms(), true);
  fig->rss_end_kb = rss_kb();
}

/* Waits (bounded) for the last callbacks: the request timeout ends each. */
static bool drain(tally *t) {
  for (int i = 0; i < 60000 && atomic_load(&t->in_flight) > 0; i++) usleep(1000);
  return atomic_load(&t->in_flight) == 0;
}

static void print_outcomes(const tally *t) {
  for (int code = 0; code < CODES; code++) {
    long n = atomic_load(&t->by_code[code]);
    if (n) printf("outcome %d (%s): %ld\n", -code, cqlmux_strerror(-code), n);
  }
}

int main(void) {
  double minutes = (double)env_long("SOAK_SECONDS", env_long("SOAK_MINUTES", 10) * 60) / 60.0;
  long fault_every_ms = env_long("SOAK_FAULT_MS", 3000);
  long rss_bound_kb = env_long("SOAK_RSS_BOUND_KB", 16 * 1024);
  cqlmux_mock *m = start_mock();
  if (!m) return fprintf(stderr, "soak: the mock did not start\n"), 1;
  long fds_before = count_entries("/proc/self/fd");
  long threads_before = count_entries("/proc/self/task");
  cqlmux_session *s = connect_session(m);
  if (!s) return fprintf(stderr, "soak: connect failed\n"), 1;
  cqlmux_prepared *p = prepare(s);
  if (!p) return fprintf(stderr, "soak: prepare failed\n"), 1;
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  cqlmux_statement_bind_int32(st, 0, 1);

  static tally t;
  fault_state fs = {0};
  figures fig = {0};
  run_load(m, s, st, &t, minutes, fault_every_ms, &fs, &fig);
  bool drained = drain(&t);
  cqlmux_future *f = cqlmux_session_close(s);
  cqlmux_future_wait(f);
  cqlmux_future_free(f);
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
  cqlmux_session_free(s);
  long fds_after = count_entries("/proc/self/fd");
  long threads_after = count_entries("/proc/self/task");
  cqlmux_mock_free(m);

  long completed = atomic_load(&t.completed), growth = fig.rss_end_kb - fig.rss_warm_kb;
  printf("minutes: %.2f\nfault every ms: %ld\n", minutes, fault_every_ms);
  for (int k = 0; k < FAULT_KINDS; k++) printf("faults %s: %ld\n", fault_names[k], fs.injected[k]);
  printf("submitted: %llu\nnot submitted (NULL future): %llu\ncompleted: %ld\n",
         (unsigned long long)fig.submitted, (unsigned long long)fig.not_submitted, completed);
  print_outcomes(&t);
  printf("rss kB start/warm/end: %ld %ld %ld (growth after warm-up %ld, bound %ld)\n",
         fig.rss_start_kb, fig.rss_warm_kb, fig.rss_end_kb, growth, rss_bound_kb);
  printf("fds before/after: %ld %ld\nthreads before/after: %ld %ld\n", fds_before, fds_after,
         threads_before, threads_after);
  bool ok = drained && completed == (long)fig.submitted && growth <= rss_bound_kb &&
            fds_after == fds_before && threads_after == threads_before;
  printf("soak: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}

/* A real single Cassandra node under load, crashed (SIGKILL) and restarted,
 * then stalled (SIGSTOP) and resumed (SIGCONT), through tools/cassandra-local
 * (issue 16; the 3-node versions are tests/integration/test_cluster_real.c).
 * Every submitted request completes exactly once, with an outcome a fault
 * explains; the session recovers without the application doing anything;
 * the time to recover is printed (never asserted). tools/test-all runs this
 * last in phase_single_node, since it restarts the node:
 * CQLMUX_CASSANDRA_LOCAL names the tool, CQLMUX_TEST_HOST / _PORT the node.
 * One test at a time: both break the same node (serial_main.c). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cqlmux.h"

enum {
  WINDOW = 128,        /* requests outstanding under load */
  WARM_OK = 2000,      /* successes before the fault */
  AFTER_OK = 2000,     /* successes after recovery, at full load */
  FINAL = 1000,        /* a last batch that must all succeed */
  OUT_FAILURES = 3000, /* NO_HOSTS answers before the node is healed */
  WAIT_S = 600         /* bound on every wait: a hang, not a timing */
};

#define CODES 401 /* 0 .. -400 */

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cassandra_local(const char *verb) {
  const char *tool = getenv("CQLMUX_CASSANDRA_LOCAL");
  cr_assert(tool && *tool, "CQLMUX_CASSANDRA_LOCAL must name tools/cassandra-local");
  setenv("CASSANDRA_START_TIMEOUT", "420", 0); /* a restart on a busy 2-core machine */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' %s 1 >&2", tool, verb);
  int status = system(cmd);
  return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A closed-loop load: one thread submits while fewer than WINDOW are
 * outstanding (a semaphore; callbacks give places back); outcomes by code. */
typedef struct load {
  cqlmux_session *session;
  sem_t window;
  atomic_bool running;
  atomic_ulong submitted, completed;
  atomic_ulong by_code[CODES];
  atomic_ulong other;        /* a code outside 0..-400 */
  atomic_int last_failed;    /* the last completion failed: pace the next */
  pthread_t thread;
} load;

/* Callback worker. */
static void on_done(cqlmux_future *f, void *user_data) {
  load *l = user_data;
  int rc = cqlmux_future_error(f);
  if (rc <= 0 && rc > -CODES)
    atomic_fetch_add(&l->by_code[-rc], 1);
  else
    atomic_fetch_add(&l->other, 1);
  atomic_store(&l->last_failed, rc != CQLMUX_OK);
  cqlmux_future_free(f);
  atomic_fetch_add(&l->completed, 1);
  sem_post(&l->window);
}

static void *load_run(void *arg) {
  load *l = arg;
  while (atomic_load(&l->running)) {
    while (sem_wait(&l->window) != 0) continue;
    if (!atomic_load(&l->running)) break;
    /* Failures come back at once while the node is out: pacing them keeps
     * this thread from spinning (the outcome counts are unaffected). */
    if (atomic_load(&l->last_failed)) usleep(1000);
    atomic_fetch_add(&l->submitted, 1);
    cqlmux_future *f = cqlmux_session_query(l->session, "SELECT release_version FROM system.local");
    cr_assert_not_null(f);
    cr_assert_eq(cqlmux_future_set_callback(f, on_done, l), CQLMUX_OK);
  }
  return NULL;
}

static void load_start(load *l, cqlmux_session *s) {
  memset(l, 0, sizeof *l);
  l->session = s;
  cr_assert_eq(sem_init(&l->window, 0, WINDOW), 0);
  atomic_store(&l->running, true);
  cr_assert_eq(pthread_create(&l->thread, NULL, load_run, l), 0);
}

static unsigned long load_ok(load *l) { return atomic_load(&l->by_code[0]); }

/* Waits (bounded) for `more` successes beyond now; false on the bound. */
static bool load_wait_ok(load *l, unsigned long more) {
  unsigned long target = load_ok(l) + more;
  double until = now_s() + WAIT_S;
  while (load_ok(l) < target && now_s() < until) usleep(10000);
  return load_ok(l) >= target;
}

/* Stops submitting, waits for every outstanding request, and asserts
 * submitted == completed, every outcome one a node fault explains. */
static void load_stop_and_check(load *l, const char *what) {
  atomic_store(&l->running, false);
  sem_post(&l->window); /* wakes the thread if it waits for a place */
  pthread_join(l->thread, NULL);
  double until = now_s() + WAIT_S;
  while (atomic_load(&l->completed) < atomic_load(&l->submitted) && now_s() < until)
    usleep(10000);
  unsigned long submitted = atomic_load(&l->submitted);
  cr_assert_eq(atomic_load(&l->completed), submitted, "%s: %lu of %lu completed", what,
               atomic_load(&l->completed), submitted);
  static const int explained[] = {CQLMUX_OK,
                                  CQLMUX_ERR_NO_HOSTS,
                                  CQLMUX_ERR_CONNECTION_CLOSED,
                                  CQLMUX_ERR_TIMEOUT,
                                  CQLMUX_ERR_HEARTBEAT_TIMEOUT,
                                  CQLMUX_ERR_SERVER /* read timeouts of a node just back */};
  unsigned long accounted = 0;
  for (size_t i = 0; i < sizeof explained / sizeof explained[0]; i++) {
    unsigned long n = atomic_load(&l->by_code[-explained[i]]);
    accounted += n;
    cr_log_info("%s: %lu x %s", what, n, cqlmux_strerror(explained[i]));
  }
  cr_assert_eq(atomic_load(&l->other), 0);
  cr_assert_eq(accounted, submitted, "%s: %lu outcomes a node fault does not explain", what,
               submitted - accounted);
  cr_log_info("%s: submitted %lu == completed %lu, lost 0", what, submitted,
              atomic_load(&l->completed));
  sem_destroy(&l->window);
}

static bool host_up(cqlmux_session *s) {
  cqlmux_host_info h;
  return cqlmux_session_hosts(s, &h, 1) == 1 && h.state == CQLMUX_HOST_UP && h.connections > 0;
}

/* Waits (bounded) until the only host is UP with a connection (up) or not UP. */
static double wait_host(cqlmux_session *s, bool up) {
  double until = now_s() + WAIT_S;
  while (host_up(s) != up && now_s() < until) usleep(10000);
  cr_assert_eq(host_up(s), up, "the host did not go %s", up ? "UP" : "DOWN");
  return now_s();
}

static cqlmux_session *session_for_faults(void) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_not_null(c);
  cqlmux_config_set_contact_points(c, env_or("CQLMUX_TEST_HOST", "127.0.0.1"));
  cqlmux_config_set_port(c, atoi(env_or("CQLMUX_TEST_PORT", "9042")));
  cqlmux_config_set_log_level(c, CQLMUX_LOG_ERROR);
  /* A stall is caught within seconds: requests time out after 5 s, an idle
   * connection is probed every second and dropped after 2 s of silence;
   * a DOWN node is retried at once, then every 0.5 s .. 2 s. */
  cqlmux_config_set_request_timeout(c, 5000);
  cqlmux_config_set_heartbeat(c, 1000, 2000);
  cqlmux_config_set_connect_timeout(c, 2000);
  cqlmux_config_set_reconnect(c, 500, 2000);
  cqlmux_session *s = NULL;
  cr_assert_eq(cqlmux_session_new(c, &s), CQLMUX_OK);
  cqlmux_config_free(c);
  cqlmux_future *f = cqlmux_session_connect(s);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "connect: %s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return s;
}

/* After the load: FINAL requests one after another, every one OK. */
static void assert_all_ok(cqlmux_session *s) {
  for (int i = 0; i < FINAL; i++) {
    cqlmux_future *f = cqlmux_session_query(s, "SELECT release_version FROM system.local");
    cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "request %d after recovery: %s", i,
                 cqlmux_future_error_message(f));
    cqlmux_future_free(f);
  }
}

/* `inject` under load, the host seen DOWN, then `heal`: the session must
 * come back by itself and carry the full load again. */
static void fault_under_load(const char *inject, const char *heal) {
  cqlmux_session *s = session_for_faults();
  load l;
  load_start(&l, s);
  cr_assert(load_wait_ok(&l, WARM_OK), "no load before the fault");

  double injected = now_s();
  cr_assert_eq(cassandra_local(inject), 0, "cassandra-local %s 1", inject);
  double down = wait_host(s, false);
  cr_log_info("%s: host DOWN %.2f s after the command started", inject, down - injected);
  /* The node stays out while the load meets it out (and the session's
   * reconnection attempts meet it dead or stalled): OUT_FAILURES requests
   * refused for want of a host. */
  unsigned long no_hosts = atomic_load(&l.by_code[-CQLMUX_ERR_NO_HOSTS]);
  double until = now_s() + WAIT_S;
  while (atomic_load(&l.by_code[-CQLMUX_ERR_NO_HOSTS]) < no_hosts + OUT_FAILURES &&
         now_s() < until)
    usleep(10000);

  double heal_started = now_s();
  cr_assert_eq(cassandra_local(heal), 0, "cassandra-local %s 1", heal);
  double healed = now_s();
  unsigned long ok_at_heal = load_ok(&l);
  double up = wait_host(s, true);
  cr_assert(load_wait_ok(&l, 1), "no success after %s", heal);
  double first_ok = now_s();
  cr_log_info("%s: node out %.2f s; %s took %.2f s; time to recover (%s returned -> host UP) "
              "%.2f s, -> first success %.2f s (%lu successes counted by then)",
              inject, healed - injected, heal, healed - heal_started, heal, up - healed,
              first_ok - healed, load_ok(&l) - ok_at_heal);
  cr_assert(load_wait_ok(&l, AFTER_OK), "the load did not come back after %s", heal);
  load_stop_and_check(&l, inject);
  assert_all_ok(s);
  cqlmux_session_free(s);
}

Test(faults_real, kill_the_node_under_load_then_restart_it, .timeout = 1200) {
  fault_under_load("kill", "restart");
}

Test(faults_real, pause_the_node_under_load_then_resume_it, .timeout = 1200) {
  fault_under_load("pause", "resume");
}

/* Light-load co-location seen from a session (cqlmux_config_set_light_load_colocation):
 * with the default config, requests sent one at a time, each completion
 * handed to a callback worker that was asleep, leave the session's I/O
 * thread and its worker restricted to one and the same CPU; with the
 * setting off, both keep the process's mask.
 *
 * Each request is sent only once the worker is asleep (polled with a
 * deadline), and its callback is set while the I/O loop is held, so every
 * completion is handed to a worker that has to be woken, whatever the
 * machine's speed.
 * The masks are read where any tool would read them: /proc/self/task. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/session.h"
#include "cqlmux.h"
#include "mock/mock.h"
#include "runtime/workers.h"
#include "session_fixture.h"

#define REQUESTS 48 /* well past the streak that enters light load (16) */
#define WAIT_MS 20000

static void wait_until_worker_sleeps(cqlmux_session *s) {
  cqlmux_workers *w = cqlmux_runtime_workers(s->runtime);
  for (unsigned waited_us = 0; cqlmux_workers_sleeping(w) == 0; waited_us += 100) {
    cr_assert_lt(waited_us, WAIT_MS * 1000u, "the callback worker never went to sleep");
    usleep(100); /* polling a state with a deadline, not ordering */
  }
}

static void completed(cqlmux_future *f, void *user_data) {
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK);
  atomic_fetch_add((_Atomic int *)user_data, 1);
  cqlmux_future_free(f);
}

/* One request at a time, each handed to a sleeping worker. */
static void send_one_at_a_time(cqlmux_session *s) {
  _Atomic int done = 0;
  for (int i = 0; i < REQUESTS; i++) {
    wait_until_worker_sleeps(s);
    /* The loop is held while the callback is set, so the completion cannot
     * come first (and run the callback inline, here). */
    loop_hold hold;
    loop_hold_start(&hold, cqlmux_connection_loop(session_fixture_only_connection(s)));
    cqlmux_future *f = cqlmux_session_query(s, "SELECT release_version FROM system.local");
    cr_assert_not_null(f);
    cr_assert_eq(cqlmux_future_set_callback(f, completed, &done), CQLMUX_OK);
    loop_hold_release(&hold);
    for (unsigned waited_us = 0; atomic_load(&done) < i + 1; waited_us += 100) {
      cr_assert_lt(waited_us, WAIT_MS * 1000u, "request %d never completed", i);
      usleep(100);
    }
  }
}

/* The CPU list of this process's thread named `name` ("0-1", "0"). */
static void thread_cpus(const char *name, char *out, size_t size) {
  DIR *d = opendir("/proc/self/task");
  cr_assert_not_null(d);
  struct dirent *e;
  bool found = false;
  while (!found && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[300], comm[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0;
    fclose(f);
    if (strcmp(comm, name) != 0) continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[256];
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "Cpus_allowed_list: %63s", out) == 1) found = true;
    fclose(f);
  }
  closedir(d);
  cr_assert(found, "no thread named %s", name);
  (void)size;
}

static void process_cpus(char *out, size_t size) {
  FILE *f = fopen("/proc/self/status", "r");
  cr_assert_not_null(f);
  char line[256];
  while (fgets(line, sizeof line, f)) sscanf(line, "Cpus_allowed_list: %63s", out);
  fclose(f);
  (void)size;
}

static int cpus_allowed(void) {
  cpu_set_t set;
  cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
  return CPU_COUNT(&set);
}

static bool single_cpu(const char *list) { return strchr(list, '-') == NULL && strchr(list, ',') == NULL; }

Test(session_colocation, one_request_at_a_time_puts_the_io_thread_and_its_worker_on_one_cpu,
     .timeout = 120) {
  cr_assert_geq(cpus_allowed(), 2, "co-location needs two CPUs to mean anything");
  cqlmux_mock *m = session_fixture_mock(true);
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_session *s = session_fixture_connect(c);
  send_one_at_a_time(s);
  char io[64] = "", cb[64] = "";
  thread_cpus("cqlmux-io-0", io, sizeof io);
  thread_cpus("cqlmux-cb-0", cb, sizeof cb);
  cr_log_info("I/O thread on %s, callback worker on %s", io, cb);
  cr_assert(single_cpu(io), "the I/O thread may run on %s", io);
  cr_assert_str_eq(cb, io, "the worker runs where the I/O thread does");
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(session_colocation, turned_off_every_thread_keeps_the_process_mask, .timeout = 120) {
  cr_assert_geq(cpus_allowed(), 2);
  cqlmux_mock *m = session_fixture_mock(true);
  cqlmux_config *c = session_fixture_config(m, NULL);
  cr_assert_eq(cqlmux_config_set_light_load_colocation(c, 0), CQLMUX_OK);
  cqlmux_session *s = session_fixture_connect(c);
  send_one_at_a_time(s);
  char all[64] = "", io[64] = "", cb[64] = "";
  process_cpus(all, sizeof all);
  thread_cpus("cqlmux-io-0", io, sizeof io);
  thread_cpus("cqlmux-cb-0", cb, sizeof cb);
  cr_assert_str_eq(io, all);
  cr_assert_str_eq(cb, all);
  cqlmux_session_free(s);
  cqlmux_mock_free(m);
}

Test(session_colocation, the_setter_refuses_a_null_config) {
  cr_assert_eq(cqlmux_config_set_light_load_colocation(NULL, 1), CQLMUX_ERR_INVALID_ARGUMENT);
}

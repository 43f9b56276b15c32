/* System calls made by this process over the measured window.
 *
 * Counted by the kernel, not estimated: one perf counter per thread on the
 * raw_syscalls:sys_enter tracepoint (every system call entry of that
 * thread), opened when the window opens and summed when it closes. A
 * per-process counter with `inherit` would not do: an inherited counter
 * only folds a thread's count into its parent's when the thread exits, and
 * the library's threads outlive the window.
 *
 * Needs the tracepoint's id from tracefs and permission to count another
 * thread's events (root, CAP_PERFMON, or kernel.perf_event_paranoid <= 1
 * for one's own threads). When either is missing the count is reported as
 * unknown (-1) rather than guessed. Threads started inside the window are
 * not counted; a benchmark run starts all of its threads before. */
#include <dirent.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

static const char *const tracepoint_id_paths[] = {
    "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
    "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
};

static long long tracepoint_id(void) {
  for (size_t i = 0; i < sizeof tracepoint_id_paths / sizeof *tracepoint_id_paths; i++) {
    FILE *f = fopen(tracepoint_id_paths[i], "r");
    if (!f) continue;
    long long id = -1;
    if (fscanf(f, "%lld", &id) != 1) id = -1;
    fclose(f);
    if (id >= 0) return id;
  }
  return -1;
}

static int open_counter(long long id, pid_t tid) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.type = PERF_TYPE_TRACEPOINT;
  a.config = (unsigned long long)id;
  a.disabled = 0;
  a.exclude_hv = 1;
  return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, 0);
}

void bench_syscalls_start(bench_syscalls *s) {
  s->count = 0;
  s->available = false;
  long long id = tracepoint_id();
  if (id < 0) return;
  DIR *d = opendir("/proc/self/task");
  if (!d) return;
  struct dirent *e;
  bool all = true;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (s->count == BENCH_MAX_THREADS) { all = false; break; }
    int fd = open_counter(id, (pid_t)atoi(e->d_name));
    if (fd < 0) { all = false; break; }
    s->fds[s->count++] = fd;
  }
  closedir(d);
  s->available = all && s->count > 0;
  if (!s->available) bench_syscalls_stop(s);
}

long long bench_syscalls_stop(bench_syscalls *s) {
  long long total = 0;
  for (unsigned i = 0; i < s->count; i++) {
    unsigned long long v = 0;
    if (read(s->fds[i], &v, sizeof v) != (ssize_t)sizeof v) s->available = false;
    total += (long long)v;
    close(s->fds[i]);
  }
  s->count = 0;
  return s->available ? total : -1;
}

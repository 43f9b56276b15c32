/* Helpers for the cluster suites: a mock cluster, a session on it, a host
 * listener that records events, waits on conditions (bounded polling or a
 * condition variable; never a sleep that stands for an ordering). */
#ifndef CQLMUX_TESTS_CLUSTER_FIXTURE_H
#define CQLMUX_TESTS_CLUSTER_FIXTURE_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cqlmux.h"
#include "mock/mock.h"
#include "net/session_fixture.h"

#define MAX_EVENTS 256

/* Host events as the listener saw them. */
typedef struct event_log {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  size_t count;
  cqlmux_host_event events[MAX_EVENTS];
  char addresses[MAX_EVENTS][64];
  bool overlapping; /* a call began while another ran: the order promise broken */
  bool running;
} event_log;

static inline void event_log_init(event_log *l) {
  memset(l, 0, sizeof *l);
  pthread_mutex_init(&l->lock, NULL);
  pthread_cond_init(&l->changed, NULL);
}

static inline void record_event(cqlmux_host_event event, const cqlmux_host_info *host, void *ud) {
  event_log *l = ud;
  pthread_mutex_lock(&l->lock);
  if (l->running) l->overlapping = true;
  l->running = true;
  if (l->count < MAX_EVENTS) {
    l->events[l->count] = event;
    snprintf(l->addresses[l->count], 64, "%s", host->address);
    l->count++;
  }
  l->running = false;
  pthread_cond_broadcast(&l->changed);
  pthread_mutex_unlock(&l->lock);
}

/* Index of the first `event` for `address` at or after `from`, or -1. */
static inline int find_event_locked(event_log *l, size_t from, cqlmux_host_event event,
                                    const char *address) {
  for (size_t i = from; i < l->count; i++)
    if (l->events[i] == event && !strcmp(l->addresses[i], address)) return (int)i;
  return -1;
}

/* Waits (up to `seconds`) for `event` about `address` at or after `from`;
 * returns its index or -1. */
static inline int wait_event(event_log *l, size_t from, cqlmux_host_event event,
                             const char *address, unsigned seconds) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  pthread_mutex_lock(&l->lock);
  int at;
  while ((at = find_event_locked(l, from, event, address)) < 0)
    if (pthread_cond_timedwait(&l->changed, &l->lock, &deadline) != 0) break;
  at = find_event_locked(l, from, event, address);
  pthread_mutex_unlock(&l->lock);
  return at;
}

static inline size_t event_count(event_log *l) {
  pthread_mutex_lock(&l->lock);
  size_t n = l->count;
  pthread_mutex_unlock(&l->lock);
  return n;
}

/* "127.0.0.2:port" of a mock node. */
static inline void node_address(cqlmux_mock *m, int node, char *out, size_t cap) {
  char addr[48];
  uint16_t port;
  cr_assert_eq(cqlmux_mock_node_address(m, node, addr, sizeof addr, &port), CQLMUX_OK);
  snprintf(out, cap, "%s:%u", addr, port);
}

/* A config whose one contact point is mock node `node`. */
static inline cqlmux_config *cluster_config(cqlmux_mock *m, int node) {
  char addr[48];
  uint16_t port;
  cr_assert_eq(cqlmux_mock_node_address(m, node, addr, sizeof addr, &port), CQLMUX_OK);
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_contact_points(c, addr), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_port(c, port), CQLMUX_OK);
  cqlmux_config_set_log_level(c, CQLMUX_LOG_ERROR);
  return c;
}

/* A session on `c` (which it frees), connected. */
static inline cqlmux_session *connect_session(cqlmux_config *c) {
  return session_fixture_connect(c);
}

/* The session's view of the host at `address` (false when absent). */
static inline bool find_host(cqlmux_session *s, const char *address, cqlmux_host_info *out) {
  cqlmux_host_info hosts[64];
  size_t n = cqlmux_session_hosts(s, hosts, 64);
  for (size_t i = 0; i < n && i < 64; i++)
    if (!strcmp(hosts[i].address, address)) {
      *out = hosts[i];
      return true;
    }
  return false;
}

static inline uint64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* Polls `cond` every 10 ms for up to `seconds`: for states that have no
 * event to wait on (a gauge reaching a value). */
#define WAIT_UNTIL(cond, seconds)                                                    \
  do {                                                                               \
    for (unsigned wait_i_ = 0; wait_i_ < (seconds) * 100u && !(cond); wait_i_++)     \
      usleep(10000);                                                                 \
  } while (0)

#endif

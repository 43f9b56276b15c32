/* Helpers shared by the session suites that run against the mock server. */
#ifndef CQLMUX_TESTS_SESSION_FIXTURE_H
#define CQLMUX_TESTS_SESSION_FIXTURE_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/session.h"
#include "cluster/cluster.h"
#include "cqlmux.h"
#include "mock/mock.h"

/* A one-node mock server; null_mode answers every request with an empty
 * result without looking at it. */
static inline cqlmux_mock *session_fixture_mock(bool null_mode) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.null_mode = null_mode;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  return m;
}

/* Primes `query` to answer one row of one column (`type`) holding `cell`. */
static inline void session_fixture_prime_cell(cqlmux_mock *m, const char *query,
                                              const char *type, const char *cell) {
  const cqlmux_mock_column col = {"v", type};
  const char *cells[1] = {cell};
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, CQLMUX_MOCK_RESULT_ROWS, query);
  p.column_count = 1;
  p.columns = &col;
  p.row_count = 1;
  p.cells = cells;
  cr_assert_eq(cqlmux_mock_prime_add(m, &p), CQLMUX_OK);
}

/* A config whose one contact point is the mock's node 0, logging errors
 * only, with one connection per host (these suites study a connection; the
 * pool's growth has its own suite); with `alloc` the library allocates
 * through it. */
static inline cqlmux_config *session_fixture_config(cqlmux_mock *m,
                                                    const cqlmux_allocator *alloc) {
  char addr[64];
  uint16_t port;
  cr_assert_eq(cqlmux_mock_node_address(m, 0, addr, sizeof addr, &port), CQLMUX_OK);
  cqlmux_config *c = alloc ? cqlmux_config_new_with_allocator(alloc) : cqlmux_config_new();
  cqlmux_config_set_contact_points(c, addr);
  cqlmux_config_set_port(c, port);
  cqlmux_config_set_log_level(c, CQLMUX_LOG_ERROR);
  cqlmux_config_set_connections_per_host(c, 1, 1);
  return c;
}

/* A session on `c` (which it frees), connected: the test fails otherwise. */
static inline cqlmux_session *session_fixture_connect(cqlmux_config *c) {
  cqlmux_session *s = NULL;
  cr_assert_eq(cqlmux_session_new(c, &s), CQLMUX_OK);
  cqlmux_config_free(c);
  cqlmux_future *f = cqlmux_session_connect(s);
  cr_assert_eq(cqlmux_future_wait(f), CQLMUX_OK, "connect: %s", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return s;
}

/* The one connection of a single-host session whose pool holds one. */
static inline cqlmux_connection *session_fixture_only_connection(cqlmux_session *s) {
  const cqlmux_host_list *l = cqlmux_cluster_hosts(s->cluster);
  cr_assert_eq(l->count, 1);
  cr_assert(l->hosts[0]->has_pool);
  cr_assert_eq(cqlmux_pool_ready(&l->hosts[0]->pool), 1);
  return cqlmux_pool_slot_conn(&l->hosts[0]->pool.slots[0]);
}

/* Holds an I/O loop: a task that blocks its thread until released, so that
 * what the test submits meanwhile waits in the loop's queue and the loop
 * meets it all in one turn, however loaded the machine. */
typedef struct loop_hold {
  cqlmux_task task;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  bool holding;  /* the loop thread is inside the task */
  bool released;
} loop_hold;

static inline void hold_the_loop(cqlmux_task *task, int status) {
  loop_hold *h = cqlmux_container_of(task, loop_hold, task);
  pthread_mutex_lock(&h->lock);
  h->holding = status == CQLMUX_OK;
  pthread_cond_broadcast(&h->changed);
  while (h->holding && !h->released) pthread_cond_wait(&h->changed, &h->lock);
  pthread_mutex_unlock(&h->lock);
}

static inline void loop_hold_start(loop_hold *h, cqlmux_loop *loop) {
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->changed, NULL);
  h->holding = h->released = false;
  cqlmux_task_init(&h->task, hold_the_loop);
  cr_assert_eq(cqlmux_loop_post(loop, &h->task), CQLMUX_OK);
  pthread_mutex_lock(&h->lock);
  while (!h->holding) pthread_cond_wait(&h->changed, &h->lock);
  pthread_mutex_unlock(&h->lock);
}

static inline void loop_hold_release(loop_hold *h) {
  pthread_mutex_lock(&h->lock);
  h->released = true;
  pthread_cond_broadcast(&h->changed);
  pthread_mutex_unlock(&h->lock);
}

#endif

/* What the mock served: connections, requests and fault hits, and the
 * functions tests use to read and wait for them. All under server->mu. */
#include "config.h"

#include "mock/mock_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define GROW(arr, count, cap)                                         \
  do {                                                                \
    if ((count) == (cap)) {                                           \
      (cap) = (cap) ? (cap) * 2 : 64;                                 \
      (arr) = mock_xrealloc((arr), (cap) * sizeof *(arr));            \
    }                                                                 \
  } while (0)

mock_conn_record *mock_record_conn(cqlmux_mock *m, int node, const char *peer) {
  GROW(m->conns, m->conn_count, m->conn_cap);
  mock_conn_record *r = &m->conns[m->conn_count];
  memset(r, 0, sizeof *r);
  r->pub.id = (int64_t)++m->conn_count;
  r->pub.node = node;
  snprintf(r->pub.client_address, sizeof r->pub.client_address, "%s", peer);
  r->pub.opened_us = mock_now_us();
  pthread_cond_broadcast(&m->cv);
  return r;
}

mock_conn_record *mock_conn_record_get(cqlmux_mock *m, int64_t id) {
  if (id < 1 || (size_t)id > m->conn_count) return NULL;
  return &m->conns[id - 1];
}

cqlmux_mock_request *mock_record_request(cqlmux_mock *m, const cqlmux_mock_request *r) {
  GROW(m->requests, m->request_count, m->request_cap);
  cqlmux_mock_request *dst = &m->requests[m->request_count++];
  *dst = *r;
  dst->seq = ++m->next_seq;
  dst->query = mock_xstrdup(r->query);
  dst->keyspace = mock_xstrdup(r->keyspace);
  if (r->prepared_id) {
    uint8_t *id = mock_xmalloc(r->prepared_id_len);
    memcpy(id, r->prepared_id, r->prepared_id_len);
    dst->prepared_id = id;
  }
  pthread_cond_broadcast(&m->cv);
  return dst;
}

void mock_record_hit(cqlmux_mock *m, const mock_fault *f, int node, int64_t conn, int stream,
                     uint64_t seq) {
  GROW(m->hits, m->hit_count, m->hit_cap);
  cqlmux_mock_fault_hit *h = &m->hits[m->hit_count++];
  h->fault = f->id;
  h->kind = f->spec.kind;
  h->node = node;
  h->connection = conn;
  h->stream = stream;
  h->request_seq = seq;
  h->time_us = mock_now_us();
}

bool mock_filter_match(const cqlmux_mock_filter *f, const cqlmux_mock_request *r) {
  if (!f) return true;
  if (f->node != CQLMUX_MOCK_ANY && f->node != r->node) return false;
  if (f->connection != CQLMUX_MOCK_ANY && f->connection != r->connection) return false;
  if (f->opcode != CQLMUX_MOCK_ANY && f->opcode != r->opcode) return false;
  return mock_text_match(f->query, r->query, r->query ? strlen(r->query) : 0);
}

static size_t count_locked(cqlmux_mock *m, const cqlmux_mock_filter *f) {
  size_t n = 0;
  for (size_t i = 0; i < m->request_count; i++)
    if (mock_filter_match(f, &m->requests[i])) n++;
  return n;
}

size_t cqlmux_mock_request_count(cqlmux_mock *m, const cqlmux_mock_filter *f) {
  pthread_mutex_lock(&m->mu);
  size_t n = count_locked(m, f);
  pthread_mutex_unlock(&m->mu);
  return n;
}

int cqlmux_mock_request_at(cqlmux_mock *m, size_t index, cqlmux_mock_request *out) {
  pthread_mutex_lock(&m->mu);
  int rc = index < m->request_count ? CQLMUX_OK : CQLMUX_ERR_INVALID_ARGUMENT;
  if (!rc) *out = m->requests[index];
  pthread_mutex_unlock(&m->mu);
  return rc;
}

static struct timespec deadline_in(unsigned ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* Waits on m->cv (a CLOCK_MONOTONIC condvar) until done(m, arg) holds. */
static int wait_until(cqlmux_mock *m, bool (*done)(cqlmux_mock *, const void *),
                      const void *arg, unsigned timeout_ms) {
  struct timespec deadline = deadline_in(timeout_ms);
  int rc = CQLMUX_OK;
  pthread_mutex_lock(&m->mu);
  while (!done(m, arg)) {
    if (pthread_cond_timedwait(&m->cv, &m->mu, &deadline) == ETIMEDOUT) {
      if (!done(m, arg)) rc = CQLMUX_ERR_TIMEOUT;
      break;
    }
  }
  pthread_mutex_unlock(&m->mu);
  return rc;
}

typedef struct request_goal {
  const cqlmux_mock_filter *filter;
  size_t count;
} request_goal;

static bool requests_reached(cqlmux_mock *m, const void *arg) {
  const request_goal *g = arg;
  return count_locked(m, g->filter) >= g->count;
}

int cqlmux_mock_wait_requests(cqlmux_mock *m, const cqlmux_mock_filter *f, size_t count,
                              unsigned timeout_ms) {
  request_goal g = {f, count};
  return wait_until(m, requests_reached, &g, timeout_ms);
}

static size_t connections_locked(cqlmux_mock *m, int node, bool open) {
  size_t n = 0;
  for (size_t i = 0; i < m->conn_count; i++) {
    const cqlmux_mock_connection *c = &m->conns[i].pub;
    if ((node == CQLMUX_MOCK_ANY || c->node == node) && (!open || c->closed_us == 0)) n++;
  }
  return n;
}

size_t cqlmux_mock_connection_count(cqlmux_mock *m, int node) {
  pthread_mutex_lock(&m->mu);
  size_t n = connections_locked(m, node, false);
  pthread_mutex_unlock(&m->mu);
  return n;
}

size_t cqlmux_mock_open_connections(cqlmux_mock *m, int node) {
  pthread_mutex_lock(&m->mu);
  size_t n = connections_locked(m, node, true);
  pthread_mutex_unlock(&m->mu);
  return n;
}

int cqlmux_mock_connection_at(cqlmux_mock *m, size_t index, cqlmux_mock_connection *out) {
  pthread_mutex_lock(&m->mu);
  int rc = index < m->conn_count ? CQLMUX_OK : CQLMUX_ERR_INVALID_ARGUMENT;
  if (!rc) *out = m->conns[index].pub;
  pthread_mutex_unlock(&m->mu);
  return rc;
}

int cqlmux_mock_connection_get(cqlmux_mock *m, int64_t id, cqlmux_mock_connection *out) {
  pthread_mutex_lock(&m->mu);
  mock_conn_record *r = mock_conn_record_get(m, id);
  if (r) *out = r->pub;
  pthread_mutex_unlock(&m->mu);
  return r ? CQLMUX_OK : CQLMUX_ERR_NOT_FOUND;
}

typedef struct conn_goal {
  int node;
  size_t count;
  bool open;
} conn_goal;

static bool connections_reached(cqlmux_mock *m, const void *arg) {
  const conn_goal *g = arg;
  return connections_locked(m, g->node, g->open) >= g->count;
}

int cqlmux_mock_wait_connections(cqlmux_mock *m, int node, size_t count, bool open,
                                 unsigned timeout_ms) {
  conn_goal g = {node, count, open};
  return wait_until(m, connections_reached, &g, timeout_ms);
}

static bool conn_closed(cqlmux_mock *m, const void *arg) {
  const mock_conn_record *r = mock_conn_record_get(m, *(const int64_t *)arg);
  return r && r->pub.closed_us != 0;
}

int cqlmux_mock_wait_closed(cqlmux_mock *m, int64_t id, unsigned timeout_ms) {
  pthread_mutex_lock(&m->mu);
  bool known = mock_conn_record_get(m, id) != NULL;
  pthread_mutex_unlock(&m->mu);
  if (!known) return CQLMUX_ERR_NOT_FOUND;
  return wait_until(m, conn_closed, &id, timeout_ms);
}

size_t cqlmux_mock_fault_hit_count(cqlmux_mock *m) {
  pthread_mutex_lock(&m->mu);
  size_t n = m->hit_count;
  pthread_mutex_unlock(&m->mu);
  return n;
}

int cqlmux_mock_fault_hit_at(cqlmux_mock *m, size_t index, cqlmux_mock_fault_hit *out) {
  pthread_mutex_lock(&m->mu);
  int rc = index < m->hit_count ? CQLMUX_OK : CQLMUX_ERR_INVALID_ARGUMENT;
  if (!rc) *out = m->hits[index];
  pthread_mutex_unlock(&m->mu);
  return rc;
}

static void requests_free(cqlmux_mock *m) {
  for (size_t i = 0; i < m->request_count; i++) {
    mock_free((void *)m->requests[i].query);
    mock_free((void *)m->requests[i].keyspace);
    mock_free((void *)m->requests[i].prepared_id);
  }
  m->request_count = 0;
}

void cqlmux_mock_log_clear(cqlmux_mock *m) {
  pthread_mutex_lock(&m->mu);
  requests_free(m);
  m->hit_count = 0;
  for (int i = 0; i < m->loop_count; i++) atomic_store(&m->loops[i].null_count, 0);
  pthread_mutex_unlock(&m->mu);
}

void mock_records_free(cqlmux_mock *m) {
  requests_free(m);
  mock_free(m->requests);
  mock_free(m->hits);
  mock_free(m->conns);
}

uint64_t cqlmux_mock_null_count(cqlmux_mock *m) {
  uint64_t n = 0;
  for (int i = 0; i < m->loop_count; i++) n += atomic_load(&m->loops[i].null_count);
  return n;
}

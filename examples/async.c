/* Thousands of requests in flight at once, completed by callbacks on a pool
 * of callback workers, counted without blocking.
 *
 *   cc async.c $(pkg-config --cflags --libs cqlmux) -o async
 *   ./async [contact-points] [port] [requests]
 *
 * main prepares a SELECT of a one-row table (created in the keyspace
 * cqlmux_examples), then submits it (default 10000 times) without waiting: a
 * submission never blocks and never does I/O, it only queues the request for
 * an I/O thread. Each completion runs on one of 2 callback workers, which
 * only bump atomic counters and free the future; the last one wakes main.
 * With the default bounds (1024 stream ids per connection, 80 % high
 * watermark, 16384 waiting per connection) a burst of 10,000 at one node
 * completes without CQLMUX_ERR_BUSY. Exits 0 only when every request
 * succeeded, each completed exactly once. */
#include <cqlmux.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct progress {
  atomic_ulong succeeded;
  atomic_ulong failed;
  atomic_ulong completed; /* succeeded + failed, counted last */
  unsigned long total;
  atomic_int first_error; /* 0, or the first failure's code */
  pthread_mutex_t lock;   /* only for the one wake-up of main */
  pthread_cond_t all_done;
} progress;

/* Runs on a callback worker (several at once: the counters are atomic).
 * Relaxed order suffices for the tallies, which main reads only after the
 * acq_rel increment of `completed` that the last callback makes and that
 * main's mutex hand-off orders before its reads. */
static void on_done(cqlmux_future *future, void *user_data) {
  progress *p = user_data;
  int rc = cqlmux_future_error(future);
  if (rc == CQLMUX_OK) {
    atomic_fetch_add_explicit(&p->succeeded, 1, memory_order_relaxed);
  } else {
    int none = 0;
    atomic_fetch_add_explicit(&p->failed, 1, memory_order_relaxed);
    if (atomic_compare_exchange_strong(&p->first_error, &none, rc))
      fprintf(stderr, "request failed: %s\n", cqlmux_future_error_message(future));
  }
  cqlmux_future_free(future);
  if (atomic_fetch_add_explicit(&p->completed, 1, memory_order_acq_rel) + 1 == p->total) {
    pthread_mutex_lock(&p->lock); /* held for the signal only */
    pthread_cond_signal(&p->all_done);
    pthread_mutex_unlock(&p->lock);
  }
}

static cqlmux_session *connect_session(int argc, char **argv) {
  cqlmux_config *config = cqlmux_config_new();
  if (!config) return NULL;
  if (argc > 1) cqlmux_config_set_contact_points(config, argv[1]);
  if (argc > 2) cqlmux_config_set_port(config, atoi(argv[2]));
  cqlmux_config_set_callback_threads(config, 2); /* a pool of workers runs the callbacks */
  cqlmux_session *session = NULL;
  int rc = cqlmux_session_new(config, &session);
  cqlmux_config_free(config);
  if (rc != CQLMUX_OK) {
    fprintf(stderr, "session: %s\n", cqlmux_strerror(rc));
    return NULL;
  }
  cqlmux_future *f = cqlmux_session_connect(session);
  rc = cqlmux_future_wait(f);
  if (rc != CQLMUX_OK) fprintf(stderr, "connect: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  if (rc == CQLMUX_OK) return session;
  cqlmux_session_free(session);
  return NULL;
}

static int run(cqlmux_session *session, const char *cql) {
  cqlmux_future *f = cqlmux_session_query(session, cql);
  int rc = cqlmux_future_wait(f);
  if (rc != CQLMUX_OK) fprintf(stderr, "%s: %s\n", cql, cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return rc == CQLMUX_OK;
}

/* A one-row table and the prepared SELECT the load repeats: prepared, so
 * the server does not parse the text again for each of the requests. */
static cqlmux_prepared *setup(cqlmux_session *session) {
  if (!run(session, "CREATE KEYSPACE IF NOT EXISTS cqlmux_examples WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 1}") ||
      !run(session, "CREATE TABLE IF NOT EXISTS cqlmux_examples.async_demo "
                    "(id int PRIMARY KEY, greeting text)") ||
      !run(session, "INSERT INTO cqlmux_examples.async_demo (id, greeting) VALUES (1, 'hi')"))
    return NULL;
  cqlmux_future *f =
      cqlmux_session_prepare(session, "SELECT greeting FROM cqlmux_examples.async_demo WHERE id = ?");
  cqlmux_prepared *prepared = NULL;
  if (cqlmux_future_wait(f) == CQLMUX_OK)
    prepared = cqlmux_future_take_prepared(f);
  else
    fprintf(stderr, "prepare: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return prepared;
}

/* Submits every request; a NULL future (no memory) counts as a failed
 * completion so that the tally still reaches the total. */
static void submit_all(cqlmux_session *session, const cqlmux_statement *st, progress *p) {
  for (unsigned long i = 0; i < p->total; i++) {
    cqlmux_future *f = cqlmux_session_execute(session, st);
    if (f) {
      cqlmux_future_set_callback(f, on_done, p); /* may run at once on this thread */
      continue;
    }
    atomic_fetch_add_explicit(&p->failed, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->completed, 1, memory_order_acq_rel);
  }
}

int main(int argc, char **argv) {
  progress p = {.total = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000,
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .all_done = PTHREAD_COND_INITIALIZER};
  if (p.total == 0) return 2;
  cqlmux_session *session = connect_session(argc, argv);
  if (!session) return 1;
  cqlmux_prepared *select = setup(session);
  cqlmux_statement *st = select ? cqlmux_statement_new_prepared(select) : NULL;
  if (!st || cqlmux_statement_bind_int32(st, 0, 1) != CQLMUX_OK) {
    cqlmux_session_free(session);
    return 1;
  }
  cqlmux_statement_set_idempotent(st, 1); /* a read: safe to retry */

  submit_all(session, st, &p);
  cqlmux_statement_free(st); /* encoded at submission: no longer needed */

  pthread_mutex_lock(&p.lock);
  while (atomic_load_explicit(&p.completed, memory_order_acquire) < p.total)
    pthread_cond_wait(&p.all_done, &p.lock);
  pthread_mutex_unlock(&p.lock);

  cqlmux_metrics m;
  cqlmux_session_metrics(session, &m);
  unsigned long ok = atomic_load_explicit(&p.succeeded, memory_order_relaxed);
  unsigned long failed = atomic_load_explicit(&p.failed, memory_order_relaxed);
  printf("%lu requests: %lu succeeded, %lu failed; session counted %llu completed, "
         "p50 %llu us, p99 %llu us, %llu connection(s)\n",
         p.total, ok, failed, (unsigned long long)m.requests, (unsigned long long)m.latency.p50_us,
         (unsigned long long)m.latency.p99_us, (unsigned long long)m.connections_open);
  cqlmux_session_free(session);
  cqlmux_prepared_free(select);
  return ok == p.total && failed == 0 ? 0 : 1;
}

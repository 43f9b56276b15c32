/* Backpressure: drives a session past its bounds on purpose, and handles
 * CQLMUX_ERR_BUSY by backing off and submitting the refused request again.
 *
 *   cc busy.c $(pkg-config --cflags --libs cqlmux) -o busy
 *   ./busy [contact-points] [port] [requests]
 *
 * The session gets one connection with 32 stream ids and no waiting queue,
 * so only about 25 requests (the 80 % high watermark) can be in flight and
 * a burst of thousands must see BUSY. A BUSY request was never sent: it is
 * safe to submit again whatever the statement does. The callback (on the
 * callback worker) does not resubmit at once, which would only spin against
 * the same full connection; it hands the request to main, which backs off
 * until half of what was outstanding has completed, then submits as many
 * refused requests again as there is room for.
 * Each request writes its own row, so at the end the example checks that
 * every request succeeded exactly once and that the table holds every row:
 * nothing was lost. Exits non-zero otherwise, or when no BUSY was seen. */
#include <cqlmux.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct load {
  cqlmux_session *session;
  const cqlmux_prepared *insert;
  unsigned total;
  pthread_mutex_t lock; /* guards everything below; held briefly by callbacks */
  pthread_cond_t changed;
  unsigned *successes;  /* per request id: must end at exactly 1 */
  unsigned *refused;    /* ids refused with BUSY, waiting for main */
  unsigned refused_count;
  unsigned *retrying;   /* main's copy of refused while it resubmits them */
  unsigned long submitted, completed, busy_seen;
  int failure;          /* the first error other than BUSY */
} load;

typedef struct request {
  load *load;
  unsigned id;
} request;

static void on_insert(cqlmux_future *future, void *user_data);

/* Submits request `id` (an application thread, never a callback). */
static int submit(load *l, request *r) {
  cqlmux_statement *st = cqlmux_statement_new_prepared(l->insert);
  if (!st || cqlmux_statement_bind_int32(st, 0, (int32_t)r->id) != CQLMUX_OK) return 0;
  cqlmux_future *f = cqlmux_session_execute(l->session, st);
  cqlmux_statement_free(st);
  if (!f) return 0;
  pthread_mutex_lock(&l->lock);
  l->submitted++;
  pthread_mutex_unlock(&l->lock);
  /* Not under the lock: a future already completed runs on_insert here. */
  cqlmux_future_set_callback(f, on_insert, r);
  return 1;
}

/* Runs on the callback worker (or inline in submit for a request refused
 * at once). Records the outcome and wakes main; never blocks for long. */
static void on_insert(cqlmux_future *future, void *user_data) {
  request *r = user_data;
  load *l = r->load;
  int rc = cqlmux_future_error(future);
  if (rc != CQLMUX_OK && rc != CQLMUX_ERR_BUSY)
    fprintf(stderr, "request %u: %s\n", r->id, cqlmux_future_error_message(future));
  cqlmux_future_free(future);
  pthread_mutex_lock(&l->lock);
  l->completed++;
  if (rc == CQLMUX_OK) {
    l->successes[r->id]++;
  } else if (rc == CQLMUX_ERR_BUSY) {
    l->busy_seen++;
    l->refused[l->refused_count++] = r->id;
  } else if (!l->failure) {
    l->failure = rc;
  }
  pthread_cond_signal(&l->changed);
  pthread_mutex_unlock(&l->lock);
}

/* Waits until every request succeeded (or one failed otherwise). On BUSY,
 * backs off: waits until half of the requests then outstanding completed,
 * then submits again only as many refused ones as completed meanwhile (the
 * room that freed up; at least 1), keeping the rest for the next round.
 * Returns 1 when all succeeded. */
static int drain(load *l, request *requests) {
  unsigned succeeded = 0;
  pthread_mutex_lock(&l->lock);
  for (;;) {
    while (l->refused_count == 0 && !l->failure && l->completed < l->submitted)
      pthread_cond_wait(&l->changed, &l->lock);
    if (l->failure) break;
    if (l->refused_count == 0) break; /* nothing outstanding, nothing refused */
    unsigned long outstanding = l->submitted - l->completed;
    unsigned long room = outstanding / 2 > 0 ? outstanding / 2 : 1;
    unsigned long target = l->completed + outstanding / 2;
    while (l->completed < target && !l->failure) pthread_cond_wait(&l->changed, &l->lock);
    /* Take the ids out first: resubmitting them may refuse them again,
     * inline, into l->refused. */
    unsigned count = l->refused_count < room ? l->refused_count : (unsigned)room;
    l->refused_count -= count;
    memcpy(l->retrying, l->refused + l->refused_count, count * sizeof *l->refused);
    pthread_mutex_unlock(&l->lock);
    int ok = 1;
    for (unsigned i = 0; ok && i < count; i++) ok = submit(l, &requests[l->retrying[i]]);
    pthread_mutex_lock(&l->lock);
    if (!ok && !l->failure) l->failure = CQLMUX_ERR_NOMEM;
  }
  for (unsigned i = 0; i < l->total; i++) succeeded += l->successes[i] == 1;
  int ok = !l->failure && succeeded == l->total;
  printf("%u requests: %u succeeded exactly once, %lu BUSY refusals retried, %lu submissions\n",
         l->total, succeeded, l->busy_seen, l->submitted);
  if (l->busy_seen == 0) fprintf(stderr, "the bound was never reached: no BUSY to handle\n");
  ok = ok && l->busy_seen > 0;
  pthread_mutex_unlock(&l->lock);
  return ok;
}

static int run_cql(cqlmux_session *session, const char *cql) {
  cqlmux_future *f = cqlmux_session_query(session, cql);
  int rc = cqlmux_future_wait(f);
  if (rc != CQLMUX_OK) fprintf(stderr, "%s: %s\n", cql, cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return rc == CQLMUX_OK;
}

/* The rows the table holds, with a full scan (the table is small). */
static long count_rows(cqlmux_session *session) {
  cqlmux_future *f = cqlmux_session_query(session, "SELECT COUNT(*) FROM cqlmux_examples.busy");
  int64_t count = -1;
  if (cqlmux_future_wait(f) == CQLMUX_OK)
    cqlmux_result_get_int64(cqlmux_future_result(f), 0, 0, &count);
  else
    fprintf(stderr, "count: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return (long)count;
}

static cqlmux_session *connect_session(int argc, char **argv) {
  cqlmux_config *config = cqlmux_config_new();
  if (!config) return NULL;
  if (argc > 1) cqlmux_config_set_contact_points(config, argv[1]);
  if (argc > 2) cqlmux_config_set_port(config, atoi(argv[2]));
  /* Small bounds, to reach them: 1 connection, 32 stream ids, no queue. */
  cqlmux_config_set_connections_per_host(config, 1, 1);
  cqlmux_config_set_max_requests_per_connection(config, 32);
  cqlmux_config_set_queue_size(config, 0);
  cqlmux_session *session = NULL;
  int rc = cqlmux_session_new(config, &session);
  cqlmux_config_free(config);
  if (rc != CQLMUX_OK) return NULL;
  cqlmux_future *f = cqlmux_session_connect(session);
  rc = cqlmux_future_wait(f);
  if (rc != CQLMUX_OK) fprintf(stderr, "connect: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  if (rc == CQLMUX_OK) return session;
  cqlmux_session_free(session);
  return NULL;
}

static cqlmux_prepared *prepare(cqlmux_session *session, const char *cql) {
  cqlmux_future *f = cqlmux_session_prepare(session, cql);
  cqlmux_prepared *p = NULL;
  if (cqlmux_future_wait(f) == CQLMUX_OK)
    p = cqlmux_future_take_prepared(f);
  else
    fprintf(stderr, "prepare: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return p;
}

int main(int argc, char **argv) {
  load l = {.total = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 5000,
            .lock = PTHREAD_MUTEX_INITIALIZER,
            .changed = PTHREAD_COND_INITIALIZER};
  l.session = connect_session(argc, argv);
  if (!l.session || l.total == 0) return 1;
  int ok = run_cql(l.session, "CREATE KEYSPACE IF NOT EXISTS cqlmux_examples WITH replication "
                              "= {'class': 'SimpleStrategy', 'replication_factor': 1}") &&
           run_cql(l.session, "DROP TABLE IF EXISTS cqlmux_examples.busy") &&
           run_cql(l.session, "CREATE TABLE cqlmux_examples.busy (id int PRIMARY KEY)");
  cqlmux_prepared *insert =
      ok ? prepare(l.session, "INSERT INTO cqlmux_examples.busy (id) VALUES (?)") : NULL;
  request *requests = calloc(l.total, sizeof *requests);
  l.successes = calloc(l.total, sizeof *l.successes);
  l.refused = calloc(l.total, sizeof *l.refused);
  l.retrying = calloc(l.total, sizeof *l.retrying);
  ok = insert && requests && l.successes && l.refused && l.retrying;
  l.insert = insert;

  for (unsigned i = 0; ok && i < l.total; i++) { /* the burst */
    requests[i] = (request){&l, i};
    ok = submit(&l, &requests[i]);
  }
  ok = ok && drain(&l, requests);
  long rows = ok ? count_rows(l.session) : -1;
  if (ok) printf("the table holds %ld rows\n", rows);
  ok = ok && rows == (long)l.total;

  cqlmux_session_free(l.session); /* completes anything left, then joins */
  cqlmux_prepared_free(insert);
  free(requests);
  free(l.successes);
  free(l.refused);
  free(l.retrying);
  return ok ? 0 : 1;
}

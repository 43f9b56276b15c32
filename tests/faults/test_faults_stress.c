/* Four application threads submit concurrently against one session at 100 %
 * of its capacity (issue 16): every request completes exactly once, OK, and
 * none is refused with BUSY. Capacity is what admission grants one
 * connection: the high watermark plus the wait queue. Each thread keeps a
 * fixed window of requests outstanding (a semaphore: a token is taken
 * before each submission and given back by its callback), the four windows
 * adding up to exactly that capacity, so the connection never holds more
 * than it admits: any BUSY is a spurious one. The same binary runs in the
 * TSan build (tools/test-all check-faults there). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cqlmux.h"
#include "faults_fixture.h"
#include "mock/mock.h"
#include "net/session_fixture.h"

enum {
  THREADS = 4,
  PER_THREAD = 25000,
  SLOW_PER_THREAD = 5000, /* against the slow server */
  MAX_REQUESTS = 1024, /* per connection */
  HIGH_PERCENT = 80,   /* high watermark: 819 */
  LOW_PERCENT = 50,    /* low watermark: 512 */
  QUEUE = 205,         /* 819 + 205 = 1024 admitted at most */
  CAPACITY = MAX_REQUESTS * HIGH_PERCENT / 100 + QUEUE,
  WINDOW = CAPACITY / THREADS /* 256 per thread: 100 % together */
};

typedef struct submitter submitter;

/* One request: which thread sent it and its index there, for the
 * exactly-once check. */
typedef struct slot {
  submitter *owner;
  int index;
} slot;

struct submitter {
  cqlmux_session *session;
  sem_t window;                  /* free places in this thread's window */
  slot slots[PER_THREAD];
  atomic_uchar seen[PER_THREAD]; /* callbacks per request: must end at 1 */
  faults_tally tally;
  _Atomic(char *) first_busy;    /* the first BUSY's message, for the report */
};

/* Callback worker: records the outcome, then gives the window place back
 * (last, so that the thread's next submission comes after this one has
 * left the library's books: the library settles before it calls back). */
static void on_done(cqlmux_future *f, void *user_data) {
  slot *sl = user_data;
  submitter *sub = sl->owner;
  int rc = cqlmux_future_error(f);
  if (rc == CQLMUX_ERR_BUSY) {
    char *copy = strdup(cqlmux_future_error_message(f));
    char *none = NULL;
    if (!atomic_compare_exchange_strong(&sub->first_busy, &none, copy)) free(copy);
  }
  atomic_fetch_add(&sub->seen[sl->index], 1);
  faults_tally_record(&sub->tally, rc);
  cqlmux_future_free(f);
  sem_post(&sub->window);
}

static int per_thread = PER_THREAD;

static void *submit_all(void *arg) {
  submitter *sub = arg;
  for (int i = 0; i < per_thread; i++) {
    while (sem_wait(&sub->window) != 0) continue; /* EINTR */
    sub->slots[i] = (slot){sub, i};
    cqlmux_future *f = cqlmux_session_query(sub->session, "SELECT stress FROM ks.t");
    cr_assert_not_null(f);
    cr_assert_eq(cqlmux_future_set_callback(f, on_done, &sub->slots[i]), CQLMUX_OK);
  }
  return NULL;
}

/* Runs the four submitters against mock `m` and checks the outcome: each
 * thread's requests all OK, each completed exactly once, the server asked
 * exactly once per request (`answered`: its count of them). */
static void four_threads_at_capacity(cqlmux_mock *m, uint64_t (*answered)(cqlmux_mock *)) {
  cqlmux_config *c = session_fixture_config(m, NULL);
  cqlmux_config_set_max_requests_per_connection(c, MAX_REQUESTS);
  cqlmux_config_set_watermarks(c, HIGH_PERCENT, LOW_PERCENT);
  cqlmux_config_set_queue_size(c, QUEUE);
  cqlmux_config_set_callback_threads(c, 2);
  cqlmux_config_set_request_timeout(c, 120000);
  cqlmux_session *s = session_fixture_connect(c);

  static submitter subs[THREADS];
  pthread_t threads[THREADS];
  double start = faults_now_s();
  for (int t = 0; t < THREADS; t++) {
    memset(&subs[t], 0, sizeof subs[t]);
    subs[t].session = s;
    cr_assert_eq(sem_init(&subs[t].window, 0, WINDOW), 0);
    cr_assert_eq(pthread_create(&threads[t], NULL, submit_all, &subs[t]), 0);
  }
  for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
  for (int t = 0; t < THREADS; t++) faults_wait_completed(&subs[t].tally, per_thread, 120);
  double took = faults_now_s() - start;
  cr_log_info("%d requests from %d threads, %d outstanding, in %.2f s (%.0f req/s)",
              THREADS * per_thread, THREADS, CAPACITY, took, THREADS * per_thread / took);

  for (int t = 0; t < THREADS; t++) {
    faults_log_tally("thread", &subs[t].tally);
    char *busy = atomic_load(&subs[t].first_busy);
    if (busy) cr_log_error("thread %d: first BUSY: %s", t, busy);
    free(busy);
    faults_expect e[] = {{CQLMUX_OK, per_thread}};
    faults_assert_exactly(&subs[t].tally, e, 1);
    for (int i = 0; i < per_thread; i++)
      cr_assert_eq(atomic_load(&subs[t].seen[i]), 1, "thread %d request %d: %d callbacks", t, i,
                   atomic_load(&subs[t].seen[i]));
    sem_destroy(&subs[t].window);
  }
  cr_assert_eq(answered(m), (uint64_t)THREADS * per_thread, "the server saw each request once");
  cqlmux_session_free(s);
}

static uint64_t null_answers(cqlmux_mock *m) { return cqlmux_mock_null_count(m); }

static uint64_t stress_queries(cqlmux_mock *m) {
  cqlmux_mock_filter q = {CQLMUX_MOCK_ANY, CQLMUX_MOCK_ANY, CQLMUX_OP_QUERY, "SELECT stress*"};
  return cqlmux_mock_request_count(m, &q);
}

/* A fast server: answers straight from its I/O thread. */
Test(faults_stress, four_threads_at_full_capacity_no_busy_no_loss_no_duplicate,
     .timeout = 300) {
  cqlmux_mock *m = session_fixture_mock(true);
  per_thread = PER_THREAD;
  four_threads_at_capacity(m, null_answers);
  cqlmux_mock_free(m);
}

/* A slow server (every answer 2 ms late): in flight sits between the
 * watermarks with the queue full while answers trickle back, the state in
 * which a BUSY was once seen and not explained. */
Test(faults_stress, four_threads_at_full_capacity_of_a_slow_server_no_busy, .timeout = 300) {
  cqlmux_mock *m = session_fixture_mock(false);
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, CQLMUX_MOCK_DELAY);
  f.opcode = CQLMUX_OP_QUERY;
  f.query = "SELECT stress*";
  f.delay_ms = 2;
  cr_assert_eq(cqlmux_mock_fault_add(m, &f, NULL), CQLMUX_OK);
  per_thread = SLOW_PER_THREAD;
  four_threads_at_capacity(m, stress_queries);
  cqlmux_mock_free(m);
}

/* Client-side timestamps (issue 15 item 3): the generator's order across
 * threads, its drift warning under an injected clock, and the encoders
 * asking it only for requests without a timestamp of their own. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "api/batch.h"
#include "api/statement.h"
#include "proto/envelope.h"
#include "proto/opcode.h"
#include "proto/request_decode.h"
#include "runtime/timestamp.h"

/* ------------------------------------------------------------ threads */

#define THREADS 4
#define CALLS 100000

typedef struct {
  cqlmux_timestamp_gen *gen;
  int64_t *values;
} worker_arg;

static pthread_barrier_t start_line;

static void *take_timestamps(void *p) {
  worker_arg *a = p;
  pthread_barrier_wait(&start_line); /* all four race from here */
  for (size_t i = 0; i < CALLS; i++) a->values[i] = cqlmux_timestamp_gen_next(a->gen);
  return NULL;
}

static int compare_int64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

Test(timestamp, four_threads_get_strictly_increasing_values_never_twice_the_same) {
  cqlmux_timestamp_gen gen;
  cqlmux_timestamp_gen_init(&gen, NULL, NULL);
  int64_t *all = malloc(sizeof(int64_t) * THREADS * CALLS);
  cr_assert_not_null(all);
  pthread_t threads[THREADS];
  worker_arg args[THREADS];
  pthread_barrier_init(&start_line, NULL, THREADS);
  for (int t = 0; t < THREADS; t++) {
    args[t] = (worker_arg){&gen, all + (size_t)t * CALLS};
    cr_assert_eq(pthread_create(&threads[t], NULL, take_timestamps, &args[t]), 0);
  }
  for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
  pthread_barrier_destroy(&start_line);
  for (int t = 0; t < THREADS; t++)
    for (size_t i = 1; i < CALLS; i++)
      cr_assert_gt(args[t].values[i], args[t].values[i - 1], "thread %d, call %zu", t, i);
  qsort(all, (size_t)THREADS * CALLS, sizeof *all, compare_int64);
  for (size_t i = 1; i < (size_t)THREADS * CALLS; i++)
    cr_assert_neq(all[i], all[i - 1], "a timestamp given twice");
  /* And taken after all of them, a value beyond every one. */
  cr_assert_gt(cqlmux_timestamp_gen_next(&gen), all[THREADS * CALLS - 1]);
  free(all);
}

/* The bounds are read from CLOCK_REALTIME itself: time(NULL) reads the
 * coarse clock, which can still show the previous second for a tick after
 * the fine clock has crossed it (CI met exactly that). */
static int64_t realtime_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

Test(timestamp, system_clock_values_are_microseconds_since_the_epoch) {
  cqlmux_timestamp_gen gen;
  cqlmux_timestamp_gen_init(&gen, NULL, NULL);
  int64_t before = realtime_us();
  int64_t us = cqlmux_timestamp_gen_next(&gen);
  int64_t after = realtime_us();
  cr_assert_geq(us, before);
  cr_assert_leq(us, after);
}

/* ------------------------------------------------------- injected clock */

typedef struct {
  int64_t wall_us;
  uint64_t steady_us;
  int warnings;
  char last[CQLMUX_LOG_MESSAGE_MAX];
} fake_world;

static int64_t fake_wall(void *p) { return ((fake_world *)p)->wall_us; }
static uint64_t fake_steady(void *p) { return ((fake_world *)p)->steady_us; }

static void count_warning(cqlmux_log_level level, const char *message, void *p) {
  fake_world *w = p;
  cr_assert_eq(level, CQLMUX_LOG_WARN);
  w->warnings++;
  snprintf(w->last, sizeof w->last, "%s", message);
}

static void init_fake(cqlmux_timestamp_gen *gen, fake_world *w, cqlmux_logger *logger) {
  *w = (fake_world){.wall_us = 10000000, .steady_us = 500};
  cqlmux_logger_init(logger, count_warning, w, CQLMUX_LOG_WARN);
  cqlmux_timestamp_clock clock = {fake_wall, fake_steady, w};
  cqlmux_timestamp_gen_init(gen, &clock, logger);
}

Test(timestamp, a_clock_set_back_keeps_the_order_and_warns_once_a_second) {
  cqlmux_timestamp_gen gen;
  fake_world w;
  cqlmux_logger logger;
  init_fake(&gen, &w, &logger);
  cr_assert_eq(cqlmux_timestamp_gen_next(&gen), 10000000);
  cr_assert_eq(cqlmux_timestamp_gen_next(&gen), 10000001, "same clock: one microsecond on");
  w.wall_us = 8000000; /* set back two seconds */
  cr_assert_eq(cqlmux_timestamp_gen_next(&gen), 10000002);
  cr_assert_eq(w.warnings, 1);
  cr_assert(strstr(w.last, "behind"), "%s", w.last);
  w.steady_us += 999999;
  cr_assert_eq(cqlmux_timestamp_gen_next(&gen), 10000003);
  cr_assert_eq(w.warnings, 1, "no second line within a second");
  w.steady_us += 1;
  cr_assert_eq(cqlmux_timestamp_gen_next(&gen), 10000004);
  cr_assert_eq(w.warnings, 2, "a second later, another line");
  w.wall_us = 20000000; /* caught up: the clock again */
  cr_assert_eq(cqlmux_timestamp_gen_next(&gen), 20000000);
  cr_assert_eq(w.warnings, 2);
}

Test(timestamp, a_clock_less_than_a_second_behind_is_not_logged) {
  cqlmux_timestamp_gen gen;
  fake_world w;
  cqlmux_logger logger;
  init_fake(&gen, &w, &logger);
  cr_assert_eq(cqlmux_timestamp_gen_next(&gen), 10000000);
  w.wall_us = 9000000; /* exactly one second behind */
  cr_assert_eq(cqlmux_timestamp_gen_next(&gen), 10000001);
  w.wall_us = 9000000 - 1; /* one second and a microsecond: says so */
  cr_assert_eq(cqlmux_timestamp_gen_next(&gen), 10000002);
  cr_assert_eq(w.warnings, 1);
}

/* --------------------------------------------------------- the encoders */

static int64_t fixed_timestamp(void *p) {
  (*(int *)p)++;
  return 777;
}

static int64_t no_timestamp(void *p) {
  (*(int *)p)++;
  return CQLMUX_TIMESTAMP_NONE;
}

static void decode(const cqlmux_wbuf *b, cqlmux_request_view *view) {
  cqlmux_envelope env;
  cr_assert_eq(cqlmux_envelope_decode(b->data, b->len, CQLMUX_DIR_REQUEST, 1u << 20, &env),
               (int)b->len);
  cr_assert_eq(cqlmux_request_decode(&env, view), CQLMUX_OK);
}

static cqlmux_query_params_view encode_statement(const cqlmux_statement *s,
                                                 const cqlmux_timestamp_source *src) {
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cr_assert_eq(cqlmux_statement_encode(s, &b, 5, false, src), CQLMUX_OK);
  cqlmux_request_view v;
  decode(&b, &v);
  cqlmux_query_params_view params = v.u.query.params;
  cqlmux_wbuf_free(&b); /* only the scalar fields are read afterwards */
  return params;
}

Test(timestamp, a_statement_without_its_own_timestamp_takes_the_sources) {
  int calls = 0;
  cqlmux_timestamp_source src = {fixed_timestamp, &calls};
  cqlmux_statement *s = cqlmux_statement_new("INSERT INTO t (k) VALUES (1)", 0);
  cqlmux_query_params_view p = encode_statement(s, &src);
  cr_assert(p.flags & CQLMUX_QUERY_FLAG_DEFAULT_TIMESTAMP);
  cr_assert_eq(p.timestamp, 777);
  cr_assert_eq(calls, 1);
  cr_assert_eq(cqlmux_statement_set_timestamp(s, 42), CQLMUX_OK);
  p = encode_statement(s, &src);
  cr_assert_eq(p.timestamp, 42, "the statement's own wins");
  cr_assert_eq(calls, 1, "and the source is not asked");
  cqlmux_statement_free(s);
}

Test(timestamp, no_source_or_a_none_answer_leaves_the_flag_off) {
  int calls = 0;
  cqlmux_statement *s = cqlmux_statement_new("INSERT INTO t (k) VALUES (1)", 0);
  cr_assert_eq(encode_statement(s, NULL).flags & CQLMUX_QUERY_FLAG_DEFAULT_TIMESTAMP, 0);
  cqlmux_timestamp_source off = {NULL, NULL};
  cr_assert_eq(encode_statement(s, &off).flags & CQLMUX_QUERY_FLAG_DEFAULT_TIMESTAMP, 0);
  cqlmux_timestamp_source none = {no_timestamp, &calls};
  cr_assert_eq(encode_statement(s, &none).flags & CQLMUX_QUERY_FLAG_DEFAULT_TIMESTAMP, 0);
  cr_assert_eq(calls, 1);
  cqlmux_statement_free(s);
}

static cqlmux_batch_view encode_batch(const cqlmux_batch *batch,
                                      const cqlmux_timestamp_source *src) {
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cr_assert_eq(cqlmux_batch_encode(batch, &b, 4, false, src), CQLMUX_OK);
  cqlmux_request_view v;
  decode(&b, &v);
  cqlmux_batch_view view = v.u.batch;
  cqlmux_wbuf_free(&b); /* only the scalar fields are read afterwards */
  return view;
}

Test(timestamp, a_batch_without_its_own_timestamp_takes_the_sources) {
  int calls = 0;
  cqlmux_timestamp_source src = {fixed_timestamp, &calls};
  cqlmux_statement *s = cqlmux_statement_new("INSERT INTO t (k) VALUES (1)", 0);
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_LOGGED);
  cr_assert_eq(cqlmux_batch_add(batch, s), CQLMUX_OK);
  cqlmux_batch_view v = encode_batch(batch, &src);
  cr_assert(v.flags & CQLMUX_BATCH_FLAG_DEFAULT_TIMESTAMP);
  cr_assert_eq(v.timestamp, 777);
  cr_assert_eq(cqlmux_batch_set_timestamp(batch, 99), CQLMUX_OK);
  v = encode_batch(batch, &src);
  cr_assert_eq(v.timestamp, 99);
  cr_assert_eq(calls, 1);
  cr_assert_eq(encode_batch(batch, NULL).timestamp, 99);
  cqlmux_batch_free(batch);
  cqlmux_statement_free(s);
}

Test(timestamp, the_config_setter_refuses_a_null_config) {
  cr_assert_eq(cqlmux_config_set_timestamp_generator(NULL, fixed_timestamp, NULL),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_timestamp_generator(c, NULL, NULL), CQLMUX_OK);
  cqlmux_config_free(c);
}

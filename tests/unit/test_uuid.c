/* UUIDs (issue 15 item 7) through the public API: v4 from the CSPRNG, v1
 * from sessions (order, node id, clock sequence), text form both ways. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cqlmux.h"

/* The 60-bit time field of a v1 UUID. */
static uint64_t v1_time(const uint8_t u[16]) {
  return (uint64_t)(u[6] & 0x0f) << 56 | (uint64_t)u[7] << 48 | (uint64_t)u[4] << 40 |
         (uint64_t)u[5] << 32 | (uint64_t)u[0] << 24 | (uint64_t)u[1] << 16 |
         (uint64_t)u[2] << 8 | u[3];
}

static cqlmux_session *new_session(void) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_not_null(c);
  cqlmux_session *s = NULL;
  cr_assert_eq(cqlmux_session_new(c, &s), CQLMUX_OK);
  cqlmux_config_free(c);
  return s;
}

Test(uuid, v4_sets_version_and_variant_and_differs_each_time) {
  uint8_t a[16], b[16];
  cr_assert_eq(cqlmux_uuid_v4(a), CQLMUX_OK);
  cr_assert_eq(cqlmux_uuid_v4(b), CQLMUX_OK);
  cr_assert_eq(cqlmux_uuid_version(a), 4);
  cr_assert_eq(a[8] & 0xc0, 0x80);
  cr_assert_neq(memcmp(a, b, 16), 0);
  cr_assert_eq(cqlmux_uuid_v4(NULL), CQLMUX_ERR_INVALID_ARGUMENT);
}

Test(uuid, v1_of_two_sessions_interleaved_sort_in_the_order_made) {
  cqlmux_session *one = new_session(), *two = new_session();
  uint8_t prev[16], u[16], first_two[16];
  cr_assert_eq(cqlmux_session_uuid_v1(one, prev), CQLMUX_OK);
  cr_assert_eq(cqlmux_session_uuid_v1(two, first_two), CQLMUX_OK);
  cr_assert_neq(memcmp(prev + 10, first_two + 10, 6), 0, "each session its own node id");
  for (int i = 0; i < 20000; i++) {
    cr_assert_eq(cqlmux_session_uuid_v1(i % 2 ? one : two, u), CQLMUX_OK);
    cr_assert_eq(cqlmux_uuid_version(u), 1);
    cr_assert_eq(u[8] & 0xc0, 0x80, "RFC variant");
    cr_assert_eq(u[10] & 0x01, 0x01, "multicast bit of a random node id");
    cr_assert_gt(v1_time(u), v1_time(prev), "call %d", i);
    if (i % 2 == 0) cr_assert_arr_eq(u + 8, first_two + 8, 8, "node and clock sequence kept");
    memcpy(prev, u, 16);
  }
  cqlmux_session_free(one);
  cqlmux_session_free(two);
}

static int64_t realtime_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(uuid, v1_time_reads_back_as_the_current_timestamp) {
  cqlmux_session *s = new_session();
  uint8_t u[16];
  /* Bounds from CLOCK_REALTIME itself, not time(NULL): the coarse clock
   * can still show the previous second for a tick after the fine one. */
  int64_t before = realtime_ms();
  cr_assert_eq(cqlmux_session_uuid_v1(s, u), CQLMUX_OK);
  int64_t after = realtime_ms();
  int64_t ms;
  cr_assert_eq(cqlmux_uuid_v1_timestamp(u, &ms), CQLMUX_OK);
  cr_assert_geq(ms, before);
  cr_assert_leq(ms, after);
  uint8_t v4[16];
  cqlmux_uuid_v4(v4);
  cr_assert_eq(cqlmux_uuid_v1_timestamp(v4, &ms), CQLMUX_ERR_TYPE_MISMATCH);
  cqlmux_session_free(s);
}

Test(uuid, a_known_timeuuid_gives_its_known_time) {
  /* Cassandra: toTimestamp(e7e9c6a0-d6c0-11ee-8c90-0800200c9a66) is
   * 2024-02-29 13:45:30.000 (1709214330000). */
  uint8_t u[16];
  cr_assert_eq(cqlmux_uuid_parse("e7e9c6a0-d6c0-11ee-8c90-0800200c9a66", 36, u, NULL), CQLMUX_OK);
  int64_t ms;
  cr_assert_eq(cqlmux_uuid_v1_timestamp(u, &ms), CQLMUX_OK);
  struct tm tm;
  cr_assert_eq(cqlmux_timestamp_to_tm(ms, &tm), CQLMUX_OK);
  cr_assert_eq(tm.tm_year, 124);
  cr_assert_eq(tm.tm_mon, 1);
  cr_assert_eq(tm.tm_mday, 29);
}

Test(uuid, text_round_trips_in_either_case) {
  static const uint8_t bytes[16] = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x42, 0xd3,
                                    0xa4, 0x56, 0x55, 0x66, 0x42, 0x44, 0x00, 0xff};
  char text[CQLMUX_UUID_TEXT_SIZE];
  cr_assert_eq(cqlmux_uuid_format(bytes, text), CQLMUX_OK);
  cr_assert_str_eq(text, "123e4567-e89b-42d3-a456-5566424400ff");
  uint8_t back[16];
  cr_assert_eq(cqlmux_uuid_parse(text, strlen(text), back, NULL), CQLMUX_OK);
  cr_assert_arr_eq(back, bytes, 16);
  cr_assert_eq(cqlmux_uuid_parse("123E4567-E89B-42D3-A456-5566424400FF", 36, back, NULL),
               CQLMUX_OK);
  cr_assert_arr_eq(back, bytes, 16);
  for (int i = 0; i < 1000; i++) {
    uint8_t u[16], parsed[16];
    cqlmux_uuid_v4(u);
    cqlmux_uuid_format(u, text);
    cr_assert_eq(cqlmux_uuid_parse(text, 36, parsed, NULL), CQLMUX_OK);
    cr_assert_arr_eq(parsed, u, 16);
  }
}

Test(uuid, bad_text_names_the_offending_offset_and_leaves_out_alone) {
  static const struct {
    const char *text;
    size_t offset;
  } bad[] = {
      {"123e4567-e89b-42d3-a456-5566424400f", 35},    /* one short */
      {"123e4567-e89b-42d3-a456-5566424400fff", 37},  /* one long */
      {"123e4567xe89b-42d3-a456-5566424400ff", 8},    /* a hyphen missing */
      {"123e45678e89b-42d3-a456-5566424400f", 35},    /* hyphen moved: length caught first */
      {"123e4567-e89b-42d3-a456-55664244g0ff", 32},   /* not hex */
      {"{23e4567-e89b-42d3-a456-5566424400ff", 0},    /* braces are not the form */
      {"123e4567-e89b-42d3-a456-5566424400f ", 35},   /* trailing space */
      {"", 0},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t out[16];
    memset(out, 0xab, sizeof out);
    size_t offset = 999;
    cr_assert_eq(cqlmux_uuid_parse(bad[i].text, strlen(bad[i].text), out, &offset),
                 CQLMUX_ERR_INVALID_ARGUMENT, "%s", bad[i].text);
    cr_assert_eq(offset, bad[i].offset, "%s: offset %zu", bad[i].text, offset);
    for (int b = 0; b < 16; b++) cr_assert_eq(out[b], 0xab);
  }
  uint8_t out[16];
  cr_assert_eq(cqlmux_uuid_parse(NULL, 36, out, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_uuid_format(NULL, (char[37]){0}), CQLMUX_ERR_INVALID_ARGUMENT);
}

#define V1_THREADS 4
#define V1_CALLS 20000

typedef struct {
  cqlmux_session *session;
  uint64_t times[V1_CALLS];
} v1_worker;

static void *make_v1s(void *p) {
  v1_worker *w = p;
  for (size_t i = 0; i < V1_CALLS; i++) {
    uint8_t u[16];
    cr_assert_eq(cqlmux_session_uuid_v1(w->session, u), CQLMUX_OK);
    w->times[i] = v1_time(u);
  }
  return NULL;
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

Test(uuid, v1_from_four_threads_never_repeat_and_each_threads_increase) {
  cqlmux_session *s = new_session();
  static v1_worker workers[V1_THREADS];
  pthread_t threads[V1_THREADS];
  for (int t = 0; t < V1_THREADS; t++) {
    workers[t].session = s;
    cr_assert_eq(pthread_create(&threads[t], NULL, make_v1s, &workers[t]), 0);
  }
  for (int t = 0; t < V1_THREADS; t++) pthread_join(threads[t], NULL);
  static uint64_t all[V1_THREADS * V1_CALLS];
  for (int t = 0; t < V1_THREADS; t++) {
    for (size_t i = 1; i < V1_CALLS; i++)
      cr_assert_gt(workers[t].times[i], workers[t].times[i - 1], "thread %d call %zu", t, i);
    memcpy(all + (size_t)t * V1_CALLS, workers[t].times, sizeof workers[t].times);
  }
  qsort(all, V1_THREADS * V1_CALLS, sizeof all[0], compare_u64);
  for (size_t i = 1; i < V1_THREADS * V1_CALLS; i++) cr_assert_neq(all[i], all[i - 1]);
  cqlmux_session_free(s);
}

#include <criterion/criterion.h>

#include "net/stream_table.h"

static int tag[CQLMUX_MAX_STREAMS];

Test(stream_table, all_32768_ids_distinct_then_exhausted) {
  cqlmux_stream_table t;
  cr_assert_eq(cqlmux_stream_table_init(&t, CQLMUX_MAX_STREAMS, NULL), CQLMUX_OK);
  static uint8_t seen[CQLMUX_MAX_STREAMS];
  for (int i = 0; i < CQLMUX_MAX_STREAMS; i++) {
    int32_t id = cqlmux_stream_table_acquire(&t, &tag[i]);
    cr_assert(id >= 0 && id < CQLMUX_MAX_STREAMS);
    cr_assert_eq(seen[id], 0, "id %d handed out twice", id);
    seen[id] = 1;
  }
  cr_assert_eq(cqlmux_stream_table_acquire(&t, &tag[0]), -1);
  cr_assert_eq(t.in_use, CQLMUX_MAX_STREAMS);
  cqlmux_stream_table_destroy(&t);
}

Test(stream_table, answers_in_any_order_match_their_request) {
  cqlmux_stream_table t;
  cr_assert_eq(cqlmux_stream_table_init(&t, 64, NULL), CQLMUX_OK);
  int32_t ids[64];
  for (int i = 0; i < 64; i++) ids[i] = cqlmux_stream_table_acquire(&t, &tag[i]);
  for (int i = 63; i >= 0; i -= 2) {
    void *req;
    cr_assert_eq(cqlmux_stream_table_complete(&t, ids[i], &req), CQLMUX_STREAM_LIVE);
    cr_assert_eq(req, &tag[i]);
  }
  for (int i = 0; i < 64; i += 2) {
    void *req;
    cr_assert_eq(cqlmux_stream_table_complete(&t, ids[i], &req), CQLMUX_STREAM_LIVE);
    cr_assert_eq(req, &tag[i]);
  }
  cr_assert_eq(t.in_use, 0);
  void *req;
  cr_assert_eq(cqlmux_stream_table_complete(&t, ids[5], &req), CQLMUX_STREAM_UNKNOWN,
               "a second answer on a released id is a protocol violation");
  cr_assert_eq(cqlmux_stream_table_complete(&t, 64, &req), CQLMUX_STREAM_UNKNOWN);
  cr_assert_eq(cqlmux_stream_table_complete(&t, -1, &req), CQLMUX_STREAM_UNKNOWN);
  cqlmux_stream_table_destroy(&t);
}

Test(stream_table, orphaned_id_is_not_reused_until_its_late_answer) {
  cqlmux_stream_table t;
  cr_assert_eq(cqlmux_stream_table_init(&t, 2, NULL), CQLMUX_OK);
  int32_t a = cqlmux_stream_table_acquire(&t, &tag[0]);
  int32_t b = cqlmux_stream_table_acquire(&t, &tag[1]);
  cr_assert_eq(cqlmux_stream_table_orphan(&t, a), &tag[0]);
  cr_assert_eq(t.orphans, 1);
  void *req;
  cr_assert_eq(cqlmux_stream_table_complete(&t, b, &req), CQLMUX_STREAM_LIVE);
  /* Only b is free: the orphan's id must not come back. */
  cr_assert_eq(cqlmux_stream_table_acquire(&t, &tag[2]), b);
  cr_assert_eq(cqlmux_stream_table_acquire(&t, &tag[3]), -1);
  cr_assert_eq(cqlmux_stream_table_complete(&t, a, &req), CQLMUX_STREAM_ORPHAN);
  cr_assert_null(req, "a late answer never reaches a request");
  cr_assert_eq(t.orphans, 0);
  cr_assert_eq(cqlmux_stream_table_acquire(&t, &tag[4]), a);
  cqlmux_stream_table_destroy(&t);
}

static void count_drained(void *request, void *arg) {
  (void)request;
  (*(int *)arg)++;
}

Test(stream_table, drain_hands_back_every_live_request_once) {
  cqlmux_stream_table t;
  cr_assert_eq(cqlmux_stream_table_init(&t, 100, NULL), CQLMUX_OK);
  for (int i = 0; i < 100; i++) cqlmux_stream_table_acquire(&t, &tag[i]);
  cqlmux_stream_table_orphan(&t, 7);
  int drained = 0;
  cqlmux_stream_table_drain(&t, count_drained, &drained);
  cr_assert_eq(drained, 99);
  cr_assert_eq(t.in_use, 0);
  cr_assert_eq(t.orphans, 0);
  cr_assert_geq(cqlmux_stream_table_acquire(&t, &tag[0]), 0);
  cqlmux_stream_table_destroy(&t);
}

Test(stream_table, rejects_bad_capacity) {
  cqlmux_stream_table t;
  cr_assert_eq(cqlmux_stream_table_init(&t, 0, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_stream_table_init(&t, CQLMUX_MAX_STREAMS + 1, NULL),
               CQLMUX_ERR_INVALID_ARGUMENT);
}

/* The session's pooled calls, on their own: what a call keeps between uses
 * (the envelope block it grew, the result arena's growth) and within which
 * bounds, so that a steady workload allocates nothing per request while a
 * call that once carried something huge does not hold on to it. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "api/call.h"
#include "api/session.h"
#include "net/rbuf.h"
#include "proto/opcode.h"
#include "rt_util.h"

static rt_counting_alloc alloc;

static void setup(void) { rt_counting_alloc_init(&alloc); }

TestSuite(call, .init = setup);

/* An envelope of n bytes, as an encoder writes it (piece by piece). */
static void write_envelope(cqlmux_call *call, size_t n) {
  uint8_t chunk[64];
  memset(chunk, 0x5a, sizeof chunk);
  for (size_t done = 0; done < n; done += sizeof chunk)
    cqlmux_write_raw(&call->net.envelope, chunk, n - done < sizeof chunk ? n - done : sizeof chunk);
  cr_assert_eq(call->net.envelope.error, 0);
  cr_assert_eq(call->net.envelope.len, n);
}

Test(call, a_small_envelope_is_written_inside_the_call) {
  cqlmux_call_pool *pool = cqlmux_call_pool_new(&alloc.hook, 16);
  cqlmux_call *call = cqlmux_call_get(pool);
  long after_get = atomic_load(&alloc.total);
  write_envelope(call, 65); /* the benchmark's prepared SELECT, v5 */
  cr_assert_eq(atomic_load(&alloc.total), after_get, "no block for a small envelope");
  cr_assert_not(cqlmux_wbuf_owns_block(&call->net.envelope));
  cqlmux_call_put(call);
  cqlmux_call_pool_release(pool);
  cr_assert_eq(atomic_load(&alloc.live), 0);
}

Test(call, a_grown_envelope_is_kept_for_the_next_use_within_the_bound) {
  cqlmux_call_pool *pool = cqlmux_call_pool_new(&alloc.hook, 16);
  cqlmux_call *call = cqlmux_call_get(pool);
  write_envelope(call, 1461); /* the benchmark's INSERT */
  cr_assert(cqlmux_wbuf_owns_block(&call->net.envelope));
  cqlmux_call_put(call);
  long before = atomic_load(&alloc.total);
  for (int use = 0; use < 10; use++) {
    cqlmux_call *again = cqlmux_call_get(pool);
    cr_assert_eq(again, call, "the pool hands the cached call back");
    cr_assert_eq(again->net.envelope.len, 0);
    write_envelope(again, 1461);
    cqlmux_call_put(again);
  }
  cr_assert_eq(atomic_load(&alloc.total), before, "steady INSERTs allocate nothing");
  /* One far over the bound: the call does not keep that block. */
  call = cqlmux_call_get(pool);
  write_envelope(call, 4 * CQLMUX_CALL_ENVELOPE_KEEP);
  long live = atomic_load(&alloc.live);
  cqlmux_call_put(call);
  cr_assert_eq(atomic_load(&alloc.live), live - 1, "the huge block is freed when the call goes back");
  call = cqlmux_call_get(pool);
  cr_assert_not(cqlmux_wbuf_owns_block(&call->net.envelope), "back on its inline room");
  write_envelope(call, 65);
  cqlmux_call_put(call);
  cqlmux_call_pool_release(pool);
  cr_assert_eq(atomic_load(&alloc.live), 0);
}

Test(call, a_grown_envelope_block_is_fitted_once_and_alternating_sizes_do_not_refit) {
  cqlmux_call_pool *pool = cqlmux_call_pool_new(&alloc.hook, 16);
  cqlmux_call *call = cqlmux_call_get(pool);
  write_envelope(call, 1461); /* doubling from the 96-byte room ends at 1536 */
  cr_assert_geq(call->net.envelope.cap, 1536);
  cqlmux_call_put(call);
  cr_assert_eq(call->net.envelope.cap, 1472, "fitted to the envelope, rounded up to 64");
  long before = atomic_load(&alloc.total);
  for (int use = 0; use < 20; use++) {
    call = cqlmux_call_get(pool);
    write_envelope(call, use % 2 ? 1000 : 1461);
    cqlmux_call_put(call);
  }
  cr_assert_eq(atomic_load(&alloc.total), before, "smaller envelopes neither grow nor refit the block");
  cr_assert_eq(call->net.envelope.cap, 1472);
  /* A larger one grows it, and it is fitted again, once. */
  call = cqlmux_call_get(pool);
  write_envelope(call, 1500);
  cqlmux_call_put(call);
  cr_assert_eq(call->net.envelope.cap, 1536);
  cqlmux_call_pool_release(pool);
  cr_assert_eq(atomic_load(&alloc.live), 0);
}

/* An envelope that needs scratch room after its bytes while it is built
 * (v4 LZ4 compresses into room reserved past the body, then gives it back):
 * the block keeps that room, or every use would grow it again. */
Test(call, an_envelope_built_with_scratch_room_does_not_regrow_each_use) {
  cqlmux_call_pool *pool = cqlmux_call_pool_new(&alloc.hook, 16);
  long before = 0;
  for (int use = 0; use < 10; use++) {
    cqlmux_call *call = cqlmux_call_get(pool);
    write_envelope(call, 65);
    cr_assert_not_null(cqlmux_wbuf_reserve(&call->net.envelope, 76)); /* the LZ4 scratch */
    call->net.envelope.len = 65;
    cqlmux_call_put(call);
    if (use == 0) before = atomic_load(&alloc.total);
  }
  cr_assert_eq(atomic_load(&alloc.total), before, "one growth on the first use, none after");
  cqlmux_call_pool_release(pool);
  cr_assert_eq(atomic_load(&alloc.live), 0);
}

/* A ROWS body with full metadata for 6 int columns, 1 row: an unprepared
 * SELECT's answer, several times the inline arena once decoded. */
static void six_columns(cqlmux_wbuf *b) {
  static const char *names[6] = {"k", "c1", "c2", "c3", "c4", "c5"};
  cqlmux_column_spec cols[6];
  cqlmux_bytes cells[6];
  static const uint8_t v[4] = {0, 0, 0, 42};
  for (int i = 0; i < 6; i++) {
    cols[i] = (cqlmux_column_spec){.keyspace = {(const uint8_t *)"ks", 2},
                                   .table = {(const uint8_t *)"t", 1},
                                   .name = {(const uint8_t *)names[i], strlen(names[i])},
                                   .type = cqlmux_type_native(CQLMUX_TYPE_INT)};
    cells[i] = (cqlmux_bytes){v, 4};
  }
  cqlmux_rows_metadata meta = {.columns_count = 6, .paging_state = {NULL, -1}, .columns = cols};
  cqlmux_wbuf_init(b, NULL, 0);
  cqlmux_rows_encode(b, 5, &meta, 1, cells);
  cr_assert_eq(b->error, 0);
}

Test(call, an_unprepared_result_grows_the_arena_once_per_call) {
  cqlmux_wbuf body;
  six_columns(&body);
  cqlmux_call_pool *pool = cqlmux_call_pool_new(&alloc.hook, 16);
  long before = 0;
  for (int use = 0; use < 10; use++) {
    cqlmux_call *call = cqlmux_call_get(pool);
    write_envelope(call, 88); /* the unprepared SELECT */
    cr_assert_eq(cqlmux_result_fill(&call->result, 5, CQLMUX_OP_RESULT, body.data, body.len, NULL,
                                    NULL),
                 CQLMUX_OK);
    int32_t v;
    cr_assert_eq(cqlmux_result_get_int32(&call->result, 0, 5, &v), CQLMUX_OK);
    cr_assert_eq(v, 42);
    cr_assert_eq(cqlmux_result_column_index(&call->result, "c3"), 3);
    cqlmux_call_put(call);
    if (use == 0) before = atomic_load(&alloc.total);
  }
  cr_assert_eq(atomic_load(&alloc.total), before, "after the first use the call reuses its arena block");
  cqlmux_call_pool_release(pool);
  cr_assert_eq(atomic_load(&alloc.live), 0);
  cqlmux_wbuf_free(&body);
}

/* The envelope and the answer each have their inline room: a small request
 * and its answer need no block, and the envelope is still whole after the
 * answer (a retry after an error answer resends those bytes). */
Test(call, a_small_request_and_its_answer_need_no_block) {
  cqlmux_wbuf body;
  cqlmux_rows_metadata meta = {.flags = CQLMUX_ROWS_FLAG_NO_METADATA, .columns_count = 6,
                               .paging_state = {NULL, -1}};
  static const uint8_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  cqlmux_bytes cells[6] = {{v, 4}, {v, 4}, {v, 8}, {v, 8}, {v, 1}, {v, 4}};
  cqlmux_wbuf_init(&body, NULL, 0);
  cqlmux_rows_encode(&body, 5, &meta, 1, cells); /* the prepared SELECT's answer */
  cqlmux_call_pool *pool = cqlmux_call_pool_new(&alloc.hook, 16);
  cqlmux_call *call = cqlmux_call_get(pool);
  long before = atomic_load(&alloc.total);
  write_envelope(call, 65);
  cr_assert_eq((void *)call->net.envelope.data, (void *)call->envelope_inline);
  cr_assert_eq(cqlmux_result_fill(&call->result, 5, CQLMUX_OP_RESULT, body.data, body.len, NULL,
                                  NULL),
               CQLMUX_OK);
  cr_assert_eq(atomic_load(&alloc.total), before, "neither the envelope nor the answer needed a block");
  cr_assert_eq(call->net.envelope.len, 65);
  for (size_t i = 0; i < 65; i++)
    cr_assert_eq(call->net.envelope.data[i], 0x5a, "the envelope survives its answer");
  const uint8_t *data;
  int32_t len;
  cr_assert_eq(cqlmux_result_get_serialized(&call->result, 0, 3, &data, &len), CQLMUX_OK);
  cr_assert_eq(len, 8);
  cr_assert_arr_eq(data, v, 8);
  cqlmux_call_put(call);
  /* The next use encodes into the room again. */
  call = cqlmux_call_get(pool);
  write_envelope(call, 88);
  cr_assert_not(cqlmux_wbuf_owns_block(&call->net.envelope));
  cqlmux_call_put(call);
  cqlmux_call_pool_release(pool);
  cr_assert_eq(atomic_load(&alloc.live), 0);
  cqlmux_wbuf_free(&body);
}

/* The sizes every request in flight pays (the performance target: at most
 * 1 KiB of heap per request in flight beyond its frame bytes). The call was
 * 776 bytes before routing and recovery; they added its query plan (72:
 * snapshot, replicas, rotation, 32 bytes for a custom policy), its retry
 * policy and flags (16), and pointers to the speculative execution state
 * and to the extra record (16), both made only when needed: the hosts a
 * retried request tried, a re-prepare's second envelope and a PREPARE's
 * text and result live in the extra record (they took 69 bytes of every
 * call, 912 in all, before issue 18). */
Test(call, sizes) {
  cr_assert_leq(sizeof(cqlmux_future), 88);
  cr_assert_leq(sizeof(cqlmux_request), 184);
  cr_assert_leq(sizeof(cqlmux_call), 856, "cqlmux_call is %zu bytes", sizeof(cqlmux_call));
}

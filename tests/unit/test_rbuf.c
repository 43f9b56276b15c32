#include <criterion/criterion.h>
#include <string.h>

#include "net/rbuf.h"

static void fill(cqlmux_rbuf *b, const char *text) {
  size_t n = strlen(text);
  memcpy(b->data + b->end, text, n);
  b->end += n;
}

Test(rbuf, compacts_in_place_when_nothing_borrows) {
  cqlmux_rbuf *b = cqlmux_rbuf_new(NULL, 16);
  fill(b, "0123456789abcdef");
  b->start = 12; /* "cdef" still undecoded */
  cqlmux_rbuf *same = cqlmux_rbuf_prepare(b, 8, 16);
  cr_assert_eq(same, b);
  cr_assert_eq(b->start, 0);
  cr_assert_eq(b->end, 4);
  cr_assert_arr_eq(b->data, "cdef", 4);
  cqlmux_rbuf_release(b);
}

Test(rbuf, moves_to_a_fresh_buffer_while_a_result_borrows) {
  cqlmux_rbuf *b = cqlmux_rbuf_new(NULL, 16);
  fill(b, "0123456789abcdef");
  const uint8_t *borrowed = b->data + 2; /* a result's cell */
  cqlmux_rbuf_retain(b);
  b->start = 14;
  cqlmux_rbuf *fresh = cqlmux_rbuf_prepare(b, 8, 16);
  cr_assert_neq(fresh, b);
  cr_assert_arr_eq(fresh->data, "ef", 2);
  cr_assert_eq(fresh->end, 2);
  cr_assert_arr_eq(borrowed, "23456789", 8, "the borrowed bytes are intact");
  cqlmux_rbuf_release(b); /* the result lets go: frees the old buffer */
  cqlmux_rbuf_release(fresh);
}

Test(rbuf, grows_for_a_large_frame_and_shrinks_back) {
  cqlmux_rbuf *b = cqlmux_rbuf_new(NULL, 64);
  fill(b, "head");
  b = cqlmux_rbuf_prepare(b, 1000, 64);
  cr_assert_geq(b->cap, 1004);
  cr_assert_arr_eq(b->data, "head", 4);
  b->end = b->cap; /* the large frame filled it and was decoded */
  b->start = b->cap;
  b = cqlmux_rbuf_prepare(b, 16, 64);
  cr_assert_eq(b->cap, 64, "back to the usual size");
  cqlmux_rbuf_release(b);
}

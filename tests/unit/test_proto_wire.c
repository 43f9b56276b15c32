/* Wire primitives: byte-exact encodings from the spec's notation section,
 * round trips, boundaries, and every truncation of each encoding. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "proto/wire.h"

static cqlmux_wbuf buf;

static void setup(void) { cqlmux_wbuf_init(&buf, NULL, 0); }
static void teardown(void) { cqlmux_wbuf_free(&buf); }

TestSuite(proto_wire, .init = setup, .fini = teardown);

static void assert_bytes(const uint8_t *want, size_t n) {
  cr_assert_eq(buf.error, 0);
  cr_assert_eq(buf.len, n, "length %zu, want %zu", buf.len, n);
  cr_assert_arr_eq(buf.data, want, n);
}

Test(proto_wire, fixed_width_integers_are_big_endian) {
  cqlmux_write_u8(&buf, 0xAB);
  cqlmux_write_u16(&buf, 0x1234);
  cqlmux_write_i32(&buf, -2);
  cqlmux_write_i64(&buf, 0x0102030405060708LL);
  const uint8_t want[] = {0xAB, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFE,
                          1,    2,    3,    4,    5,    6,    7,    8};
  assert_bytes(want, sizeof want);

  cqlmux_reader r = cqlmux_reader_make(buf.data, buf.len);
  uint8_t u8;
  uint16_t u16;
  int32_t i32;
  int64_t i64;
  cr_assert_eq(cqlmux_read_u8(&r, &u8), 0);
  cr_assert_eq(u8, 0xAB);
  cr_assert_eq(cqlmux_read_u16(&r, &u16), 0);
  cr_assert_eq(u16, 0x1234);
  cr_assert_eq(cqlmux_read_i32(&r, &i32), 0);
  cr_assert_eq(i32, -2);
  cr_assert_eq(cqlmux_read_i64(&r, &i64), 0);
  cr_assert_eq(i64, 0x0102030405060708LL);
  cr_assert_eq(cqlmux_reader_remaining(&r), 0);
  cr_assert_eq(cqlmux_read_u8(&r, &u8), CQLMUX_ERR_TRUNCATED);
}

Test(proto_wire, u32_and_extremes) {
  cqlmux_write_i32(&buf, INT32_MIN);
  cqlmux_write_i64(&buf, INT64_MIN);
  cqlmux_write_i64(&buf, -1);
  cqlmux_reader r = cqlmux_reader_make(buf.data, buf.len);
  uint32_t u32;
  int64_t a, b;
  cr_assert_eq(cqlmux_read_u32(&r, &u32), 0);
  cr_assert_eq(u32, 0x80000000u);
  cr_assert_eq(cqlmux_read_i64(&r, &a), 0);
  cr_assert_eq(a, INT64_MIN);
  cr_assert_eq(cqlmux_read_i64(&r, &b), 0);
  cr_assert_eq(b, -1);
}

Test(proto_wire, strings_and_short_bytes) {
  cqlmux_write_string(&buf, "abc", 3);
  cqlmux_write_long_string(&buf, "xy", 2);
  const uint8_t sb[] = {9, 8};
  cqlmux_write_short_bytes(&buf, sb, 2);
  cqlmux_write_string(&buf, "", 0);
  const uint8_t want[] = {0, 3, 'a', 'b', 'c', 0, 0, 0, 2, 'x', 'y', 0, 2, 9, 8, 0, 0};
  assert_bytes(want, sizeof want);

  cqlmux_reader r = cqlmux_reader_make(buf.data, buf.len);
  cqlmux_slice s;
  cr_assert_eq(cqlmux_read_string(&r, &s), 0);
  cr_assert_eq(s.len, 3);
  cr_assert_eq(memcmp(s.data, "abc", 3), 0);
  cr_assert_eq(s.data, buf.data + 2, "zero copy: the slice points into the input");
  cr_assert_eq(cqlmux_read_long_string(&r, &s), 0);
  cr_assert_eq(s.len, 2);
  cr_assert_eq(cqlmux_read_short_bytes(&r, &s), 0);
  cr_assert_eq(s.len, 2);
  cr_assert_eq(s.data[0], 9);
  cr_assert_eq(cqlmux_read_string(&r, &s), 0);
  cr_assert_eq(s.len, 0);
  cr_assert_eq(cqlmux_reader_remaining(&r), 0);
}

Test(proto_wire, string_longer_than_its_prefix_is_oversized) {
  static char big[70000];
  cqlmux_write_string(&buf, big, sizeof big);
  cr_assert_eq(buf.error, CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(buf.len, 0);
  cqlmux_write_u8(&buf, 1);
  cr_assert_eq(buf.len, 0, "the error is sticky");
}

Test(proto_wire, negative_long_string_length_is_malformed) {
  const uint8_t in[] = {0xFF, 0xFF, 0xFF, 0xFF};
  cqlmux_reader r = cqlmux_reader_make(in, sizeof in);
  cqlmux_slice s;
  cr_assert_eq(cqlmux_read_long_string(&r, &s), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(r.pos, in, "cursor unmoved on failure");
}

Test(proto_wire, bytes_and_value_markers) {
  const uint8_t d[] = {7};
  cqlmux_write_bytes(&buf, (cqlmux_bytes){d, 1});
  cqlmux_write_bytes(&buf, (cqlmux_bytes){NULL, CQLMUX_VALUE_NULL});
  cqlmux_write_bytes(&buf, (cqlmux_bytes){NULL, CQLMUX_VALUE_NOT_SET});
  cqlmux_write_bytes(&buf, (cqlmux_bytes){d, 0});
  const uint8_t want[] = {0, 0, 0, 1, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 0};
  assert_bytes(want, sizeof want);

  cqlmux_reader r = cqlmux_reader_make(buf.data, buf.len);
  cqlmux_bytes v;
  cr_assert_eq(cqlmux_read_value(&r, &v), 0);
  cr_assert_eq(v.len, 1);
  cr_assert_eq(cqlmux_read_value(&r, &v), 0);
  cr_assert_eq(v.len, CQLMUX_VALUE_NULL);
  cr_assert_null(v.data);
  cqlmux_reader at_not_set = r;
  cr_assert_eq(cqlmux_read_value(&r, &v), 0);
  cr_assert_eq(v.len, CQLMUX_VALUE_NOT_SET);
  cr_assert_eq(cqlmux_read_bytes(&at_not_set, &v), CQLMUX_ERR_MALFORMED,
               "[bytes] has no not-set marker");
  cr_assert_eq(cqlmux_read_value(&r, &v), 0);
  cr_assert_eq(v.len, 0);
  cr_assert_not_null(v.data, "empty is not null");

  const uint8_t bad[] = {0xFF, 0xFF, 0xFF, 0xFD};
  cqlmux_reader rb = cqlmux_reader_make(bad, sizeof bad);
  cr_assert_eq(cqlmux_read_value(&rb, &v), CQLMUX_ERR_MALFORMED);
}

Test(proto_wire, writing_an_invalid_marker_fails) {
  cqlmux_write_bytes(&buf, (cqlmux_bytes){NULL, -3});
  cr_assert_eq(buf.error, CQLMUX_ERR_INVALID_ARGUMENT);
}

Test(proto_wire, uuid_and_inet) {
  uint8_t uuid[16];
  for (int i = 0; i < 16; i++) uuid[i] = (uint8_t)i;
  cqlmux_write_uuid(&buf, uuid);
  cqlmux_inet v4 = {.addr = {127, 0, 0, 1}, .addr_len = 4, .port = 9042};
  cqlmux_inet v6 = {.addr = {[15] = 1}, .addr_len = 16, .port = 9142};
  cqlmux_write_inet(&buf, &v4);
  cqlmux_write_inet(&buf, &v6);
  cr_assert_eq(buf.len, 16 + (1 + 4 + 4) + (1 + 16 + 4));
  const uint8_t want_v4[] = {4, 127, 0, 0, 1, 0, 0, 0x23, 0x52};
  cr_assert_arr_eq(buf.data + 16, want_v4, sizeof want_v4);

  cqlmux_reader r = cqlmux_reader_make(buf.data, buf.len);
  const uint8_t *u;
  cqlmux_inet got;
  cr_assert_eq(cqlmux_read_uuid(&r, &u), 0);
  cr_assert_arr_eq(u, uuid, 16);
  cr_assert_eq(cqlmux_read_inet(&r, &got), 0);
  cr_assert_eq(got.addr_len, 4);
  cr_assert_eq(got.port, 9042);
  cr_assert_arr_eq(got.addr, v4.addr, 4);
  cr_assert_eq(cqlmux_read_inet(&r, &got), 0);
  cr_assert_eq(got.addr_len, 16);
  cr_assert_eq(got.addr[15], 1);
  cr_assert_eq(got.port, 9142);

  const uint8_t addr_only[] = {4, 10, 0, 0, 2};
  cqlmux_reader ra = cqlmux_reader_make(addr_only, sizeof addr_only);
  cr_assert_eq(cqlmux_read_inetaddr(&ra, &got), 0);
  cr_assert_eq(got.addr[3], 2);
  cr_assert_eq(got.port, 0);

  const uint8_t bad_size[] = {5, 1, 2, 3, 4, 5};
  cqlmux_reader rs = cqlmux_reader_make(bad_size, sizeof bad_size);
  cr_assert_eq(cqlmux_read_inetaddr(&rs, &got), CQLMUX_ERR_MALFORMED);

  cqlmux_inet bad = {.addr_len = 5};
  cqlmux_write_inet(&buf, &bad);
  cr_assert_eq(buf.error, CQLMUX_ERR_INVALID_ARGUMENT);
}

/* ----------------------------------------------------------- [unsigned vint] */

static void check_uvint(uint64_t v, const uint8_t *want, size_t n) {
  cqlmux_wbuf_reset(&buf);
  cqlmux_write_uvint(&buf, v);
  cr_assert_eq(buf.error, 0);
  cr_assert_eq(buf.len, n, "uvint %llu: %zu bytes, want %zu", (unsigned long long)v, buf.len, n);
  cr_assert_arr_eq(buf.data, want, n, "uvint %llu bytes", (unsigned long long)v);
  cqlmux_reader r = cqlmux_reader_make(buf.data, buf.len);
  uint64_t got;
  cr_assert_eq(cqlmux_read_uvint(&r, &got), 0);
  cr_assert_eq(got, v);
  cr_assert_eq(cqlmux_reader_remaining(&r), 0);
  for (size_t cut = 0; cut < n; cut++) {
    cqlmux_reader t = cqlmux_reader_make(buf.data, cut);
    cr_assert_eq(cqlmux_read_uvint(&t, &got), CQLMUX_ERR_TRUNCATED, "cut at %zu", cut);
    cr_assert_eq(t.pos, buf.data);
  }
}

Test(proto_wire, uvint_spec_example_256000) {
  /* "256 000 will be encoded on 3 bytes as [110]00011 11101000 00000000" */
  const uint8_t want[] = {0xC3, 0xE8, 0x00};
  check_uvint(256000, want, sizeof want);
}

Test(proto_wire, uvint_boundaries) {
  const uint8_t v0[] = {0x00};
  const uint8_t v127[] = {0x7F};
  const uint8_t v128[] = {0x80, 0x80};
  const uint8_t v16383[] = {0xBF, 0xFF};
  const uint8_t v16384[] = {0xC0, 0x40, 0x00};
  const uint8_t v2p56m1[] = {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  const uint8_t v2p56[] = {0xFF, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  const uint8_t vmax[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  check_uvint(0, v0, 1);
  check_uvint(127, v127, 1);
  check_uvint(128, v128, 2);
  check_uvint(16383, v16383, 2);
  check_uvint(16384, v16384, 3);
  check_uvint((1ull << 56) - 1, v2p56m1, 8);
  check_uvint(1ull << 56, v2p56, 9);
  check_uvint(UINT64_MAX, vmax, 9);
}

Test(proto_wire, uvint_every_length_round_trips) {
  for (unsigned bits = 0; bits <= 64; bits++) {
    uint64_t v = bits == 64 ? UINT64_MAX : (bits ? (1ull << bits) - 1 : 0);
    cqlmux_wbuf_reset(&buf);
    cqlmux_write_uvint(&buf, v);
    size_t want = bits <= 7 ? 1 : bits >= 57 ? 9 : 1 + (bits - 1) / 7;
    cr_assert_eq(buf.len, want, "%u value bits: %zu bytes", bits, buf.len);
    cqlmux_reader r = cqlmux_reader_make(buf.data, buf.len);
    uint64_t got;
    cr_assert_eq(cqlmux_read_uvint(&r, &got), 0);
    cr_assert_eq(got, v);
  }
}

/* ------------------------------------------------------------------ [vint] */

static uint64_t zigzag_reference(int64_t n) {
  /* The spec's formula: (n >> 63) ^ (n << 1), with an arithmetic shift. */
  return (uint64_t)(n < 0 ? -1 : 0) ^ ((uint64_t)n << 1);
}

Test(proto_wire, vint_spec_zigzag_table) {
  const int64_t in[] = {0, -1, 1, -2, 2, -3, 3};
  for (uint64_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    cqlmux_wbuf_reset(&buf);
    cqlmux_write_vint(&buf, in[i]);
    cr_assert_eq(buf.len, 1);
    cr_assert_eq(buf.data[0], i, "%lld zigzags to %llu", (long long)in[i], (unsigned long long)i);
  }
}

Test(proto_wire, vint_extremes) {
  const int64_t in[] = {INT64_MIN, INT64_MAX, INT64_MIN + 1, -64, 63, -65, 64, 0};
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    cqlmux_wbuf_reset(&buf);
    cqlmux_write_vint(&buf, in[i]);
    cqlmux_wbuf z;
    cqlmux_wbuf_init(&z, NULL, 0);
    cqlmux_write_uvint(&z, zigzag_reference(in[i]));
    cr_assert_eq(buf.len, z.len);
    cr_assert_arr_eq(buf.data, z.data, z.len);
    cqlmux_wbuf_free(&z);
    cqlmux_reader r = cqlmux_reader_make(buf.data, buf.len);
    int64_t got;
    cr_assert_eq(cqlmux_read_vint(&r, &got), 0);
    cr_assert_eq(got, in[i]);
  }
  /* INT64_MIN zigzags to UINT64_MAX, INT64_MAX to UINT64_MAX - 1: both 9 bytes. */
  cqlmux_wbuf_reset(&buf);
  cqlmux_write_vint(&buf, INT64_MIN);
  const uint8_t all_ff[9] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  cr_assert_arr_eq(buf.data, all_ff, 9);
  cqlmux_wbuf_reset(&buf);
  cqlmux_write_vint(&buf, INT64_MAX);
  cr_assert_eq(buf.len, 9);
  cr_assert_eq(buf.data[8], 0xFE);
}

/* ---------------------------------------------------------- lists and maps */

Test(proto_wire, string_list_and_maps_are_checked_views) {
  cqlmux_write_u16(&buf, 2);
  cqlmux_write_string(&buf, "a", 1);
  cqlmux_write_string(&buf, "bc", 2);
  size_t list_end = buf.len;
  cqlmux_write_u16(&buf, 1);
  cqlmux_write_string(&buf, "k", 1);
  cqlmux_write_string(&buf, "v", 1);
  size_t smap_end = buf.len;
  cqlmux_write_u16(&buf, 2);
  cqlmux_write_string(&buf, "p", 1);
  cqlmux_write_bytes(&buf, (cqlmux_bytes){(const uint8_t *)"\x01", 1});
  cqlmux_write_string(&buf, "q", 1);
  cqlmux_write_bytes(&buf, (cqlmux_bytes){NULL, -1});

  cqlmux_reader r = cqlmux_reader_make(buf.data, buf.len);
  cqlmux_list_view v;
  cqlmux_slice s;
  cqlmux_bytes b;
  cr_assert_eq(cqlmux_read_string_list(&r, &v), 0);
  cr_assert_eq(v.count, 2);
  cr_assert_eq((size_t)(r.pos - buf.data), list_end);
  cr_assert_eq(cqlmux_read_string(&v.items, &s), 0);
  cr_assert_eq(cqlmux_read_string(&v.items, &s), 0);
  cr_assert_eq(s.len, 2);
  cr_assert_eq(cqlmux_reader_remaining(&v.items), 0);

  cr_assert_eq(cqlmux_read_string_map(&r, &v), 0);
  cr_assert_eq(v.count, 1);
  cr_assert_eq((size_t)(r.pos - buf.data), smap_end);

  cr_assert_eq(cqlmux_read_bytes_map(&r, &v), 0);
  cr_assert_eq(v.count, 2);
  cr_assert_eq(cqlmux_read_string(&v.items, &s), 0);
  cr_assert_eq(cqlmux_read_bytes(&v.items, &b), 0);
  cr_assert_eq(b.len, 1);
  cr_assert_eq(cqlmux_read_string(&v.items, &s), 0);
  cr_assert_eq(cqlmux_read_bytes(&v.items, &b), 0);
  cr_assert_eq(b.len, -1);
  cr_assert_eq(cqlmux_reader_remaining(&r), 0);

  for (size_t cut = 0; cut < buf.len; cut++) {
    cqlmux_reader t = cqlmux_reader_make(buf.data, cut);
    int rc = cqlmux_read_string_list(&t, &v);
    if (rc == 0) rc = cqlmux_read_string_map(&t, &v);
    if (rc == 0) rc = cqlmux_read_bytes_map(&t, &v);
    cr_assert_eq(rc, CQLMUX_ERR_TRUNCATED, "cut at %zu", cut);
  }
}

Test(proto_wire, huge_list_count_needs_the_bytes) {
  const uint8_t in[] = {0xFF, 0xFF, 0, 0};
  cqlmux_reader r = cqlmux_reader_make(in, sizeof in);
  cqlmux_list_view v;
  cr_assert_eq(cqlmux_read_string_list(&r, &v), CQLMUX_ERR_TRUNCATED);
  cr_assert_eq(r.pos, in);
}

/* ------------------------------------------------------------------ wbuf */

Test(proto_wire, wbuf_limit_and_skip) {
  cqlmux_wbuf small;
  cqlmux_wbuf_init(&small, NULL, 8);
  size_t at = cqlmux_wbuf_skip(&small, 4);
  cr_assert_eq(at, 0);
  cqlmux_store_u32(small.data + at, 0xDEADBEEF);
  cr_assert_eq(cqlmux_load_u32(small.data), 0xDEADBEEF);
  cqlmux_write_i32(&small, 1);
  cr_assert_eq(small.len, 8);
  cqlmux_write_u8(&small, 1);
  cr_assert_eq(small.error, CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(cqlmux_wbuf_skip(&small, 1), SIZE_MAX);
  cqlmux_wbuf_reset(&small);
  cr_assert_eq(small.len, 0);
  cr_assert_eq(small.error, 0);
  cqlmux_wbuf_free(&small);
}

Test(proto_wire, reserving_nothing_on_an_empty_wbuf_succeeds) {
  uint8_t *p = cqlmux_wbuf_reserve(&buf, 0);
  cr_assert_not_null(p);
  cr_assert_eq(buf.error, 0);
  cr_assert_eq(buf.len, 0);
}

/* ------------------------------------------------- a buffer of the caller's */

Test(proto_wire, a_borrowed_buffer_is_used_in_place_then_left_when_outgrown) {
  uint8_t room[8];
  cqlmux_wbuf_use_buffer(&buf, room, sizeof room);
  cr_assert_not(cqlmux_wbuf_owns_block(&buf));
  cqlmux_write_i32(&buf, 0x01020304);
  cqlmux_write_u16(&buf, 0x0506);
  cr_assert_eq((void *)buf.data, (void *)room, "written in place");
  const uint8_t first[] = {1, 2, 3, 4, 5, 6};
  assert_bytes(first, sizeof first);
  /* Past the caller's room: the bytes move to a block of the wbuf's own. */
  cqlmux_write_i32(&buf, 0x0708090a);
  cr_assert_neq((void *)buf.data, (void *)room);
  cr_assert(cqlmux_wbuf_owns_block(&buf));
  const uint8_t all[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  assert_bytes(all, sizeof all);
  /* reset keeps the block; use_buffer frees it and goes back. */
  cqlmux_wbuf_reset(&buf);
  cr_assert(cqlmux_wbuf_owns_block(&buf));
  cqlmux_wbuf_use_buffer(&buf, room, sizeof room);
  cr_assert_eq((void *)buf.data, (void *)room);
  cr_assert_eq(buf.len, 0);
  cqlmux_write_u8(&buf, 0xee);
  cr_assert_eq(room[0], 0xee);
  /* free (teardown) must not free the caller's buffer: it is on the stack. */
}

Test(proto_wire, a_borrowed_buffer_respects_the_growth_limit) {
  uint8_t room[4];
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 6);
  cqlmux_wbuf_use_buffer(&b, room, sizeof room);
  cqlmux_write_i32(&b, 1);
  cqlmux_write_u16(&b, 2);
  cr_assert_eq(b.error, 0);
  cr_assert_eq(b.len, 6);
  cqlmux_write_u8(&b, 3);
  cr_assert_eq(b.error, CQLMUX_ERR_OVERSIZED);
  cqlmux_wbuf_free(&b);
  cr_assert_null(b.data);
}

Test(proto_wire, shrink_to_fits_an_own_block_after_a_growth) {
  uint8_t room[4];
  cqlmux_wbuf_use_buffer(&buf, room, sizeof room);
  cqlmux_write_u16(&buf, 1);
  cr_assert_not(buf.grown);
  cqlmux_wbuf_shrink_to(&buf, 2); /* borrowed: left alone */
  cr_assert_eq((void *)buf.data, (void *)room);
  for (int i = 0; i < 100; i++) cqlmux_write_u8(&buf, (uint8_t)i);
  cr_assert(buf.grown);
  cr_assert_geq(buf.cap, 102);
  cqlmux_wbuf_shrink_to(&buf, 101); /* under len: refused */
  cr_assert_geq(buf.cap, 102);
  cqlmux_wbuf_shrink_to(&buf, 128);
  cr_assert_eq(buf.cap, 128);
  cr_assert_eq(buf.data[2], 0);
  cr_assert_eq(buf.data[101], 99, "the bytes survive");
  cqlmux_wbuf_reset(&buf);
  cr_assert_not(buf.grown);
}

/* What a buffer would allocate for more bytes: its own capacity when they
 * fit, else the doubled size the next growth takes (the connection charges
 * that growth to the memory budget before it happens). */
Test(proto_wire, capacity_for_predicts_the_growth) {
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cr_assert_eq(cqlmux_wbuf_capacity_for(&b, 10), 256);
  cqlmux_write_raw(&b, "0123456789", 10);
  cr_assert_eq(b.cap, 256);
  cr_assert_eq(cqlmux_wbuf_capacity_for(&b, 256), 256);
  cr_assert_eq(cqlmux_wbuf_capacity_for(&b, 257), 512);
  cr_assert_eq(cqlmux_wbuf_capacity_for(&b, 1025), 2048);
  static uint8_t big[1025];
  cqlmux_write_raw(&b, big, sizeof big);
  cr_assert_eq(cqlmux_wbuf_capacity_for(&b, b.len), b.cap);
  cr_assert_eq(b.cap, 2048);
  cqlmux_wbuf_free(&b);
}

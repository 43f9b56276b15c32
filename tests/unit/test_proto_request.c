/* Request encoders and decoders: byte-exact bodies written out by hand from
 * the spec's section 4.1 layouts, encode -> decode round trips of every
 * request in v4 and v5, rollback on bad arguments, and every truncation. */
#include <criterion/criterion.h>
#include <string.h>

#include "proto/envelope.h"
#include "proto/request.h"
#include "proto/request_decode.h"

static cqlmux_wbuf buf;

static void setup(void) { cqlmux_wbuf_init(&buf, NULL, 0); }
static void teardown(void) { cqlmux_wbuf_free(&buf); }

TestSuite(proto_request, .init = setup, .fini = teardown);

#define S(lit) ((cqlmux_slice){(const uint8_t *)(lit), sizeof(lit) - 1})

static void assert_envelope(const uint8_t *want_header5, const uint8_t *body, size_t body_len) {
  cr_assert_eq(buf.error, 0);
  cr_assert_eq(buf.len, 9 + body_len, "envelope is %zu bytes, want %zu", buf.len, 9 + body_len);
  cr_assert_arr_eq(buf.data, want_header5, 5);
  cr_assert_eq(cqlmux_load_u32(buf.data + 5), body_len);
  for (size_t i = 0; i < body_len; i++)
    cr_assert_eq(buf.data[9 + i], body[i], "body byte %zu: %02x, want %02x", i, buf.data[9 + i],
                 body[i]);
}

/* ------------------------------------------------------- byte-exact bodies */

Test(proto_request, startup_minimal) {
  cqlmux_request_header h = {.version = 5, .stream = 0};
  cqlmux_startup s = {0};
  cr_assert_eq(cqlmux_request_startup(&buf, &h, &s), 0);
  const uint8_t hdr[] = {0x05, 0x00, 0x00, 0x00, CQLMUX_OP_STARTUP};
  const uint8_t body[] = {0, 1, 0, 11, 'C', 'Q', 'L', '_', 'V', 'E', 'R', 'S',
                          'I', 'O', 'N', 0, 5, '3', '.', '0', '.', '0'};
  assert_envelope(hdr, body, sizeof body);
}

Test(proto_request, options_is_an_empty_body) {
  cqlmux_request_header h = {.version = 4, .stream = 5, .compress = true};
  cr_assert_eq(cqlmux_request_options(&buf, &h), 0);
  const uint8_t hdr[] = {0x04, 0x00, 0x00, 0x05, CQLMUX_OP_OPTIONS};
  assert_envelope(hdr, NULL, 0);
}

Test(proto_request, query_flags_width_by_version) {
  cqlmux_request_header h = {.version = 4, .stream = 1};
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE};
  cr_assert_eq(cqlmux_request_query(&buf, &h, S("SELECT 1"), &p), 0);
  const uint8_t hdr4[] = {0x04, 0x00, 0x00, 0x01, CQLMUX_OP_QUERY};
  const uint8_t body4[] = {0, 0, 0, 8, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0, 1, 0x00};
  assert_envelope(hdr4, body4, sizeof body4);

  cqlmux_wbuf_reset(&buf);
  h.version = 5;
  cr_assert_eq(cqlmux_request_query(&buf, &h, S("SELECT 1"), &p), 0);
  const uint8_t hdr5[] = {0x05, 0x00, 0x00, 0x01, CQLMUX_OP_QUERY};
  const uint8_t body5[] = {0, 0, 0, 8, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0, 1, 0, 0, 0, 0};
  assert_envelope(hdr5, body5, sizeof body5);
}

static const uint8_t v42[] = {0, 0, 0, 42};
static const cqlmux_bytes three_values[] = {
    {v42, 4}, {NULL, CQLMUX_VALUE_NULL}, {NULL, CQLMUX_VALUE_NOT_SET}};

static cqlmux_query_params full_params(void) {
  cqlmux_query_params p = {
      .consistency = CQLMUX_CONSISTENCY_QUORUM,
      .values = three_values,
      .value_count = 3,
      .skip_metadata = true,
      .has_page_size = true,
      .page_size = 100,
      .has_paging_state = true,
      .paging_state = S("\x11"),
      .has_serial_consistency = true,
      .serial_consistency = CQLMUX_CONSISTENCY_LOCAL_SERIAL,
      .has_timestamp = true,
      .timestamp = 1,
      .has_keyspace = true,
      .keyspace = S("ks"),
      .has_now_in_seconds = true,
      .now_in_seconds = 7,
  };
  return p;
}

Test(proto_request, execute_v5_every_flag) {
  cqlmux_request_header h = {.version = 5, .stream = 0x1234};
  cqlmux_query_params p = full_params();
  cr_assert_eq(cqlmux_request_execute(&buf, &h, S("\xAB\xCD"), S("\x01"), &p), 0);
  const uint8_t hdr[] = {0x05, 0x00, 0x12, 0x34, CQLMUX_OP_EXECUTE};
  const uint8_t body[] = {
      0, 2, 0xAB, 0xCD,          /* <id> */
      0, 1, 0x01,                /* <result_metadata_id> */
      0, 4,                      /* QUORUM */
      0, 0, 0x01, 0xBF,          /* flags: all but NAMES_FOR_VALUES, as an [int] */
      0, 3,                      /* three values */
      0, 0, 0, 4, 0, 0, 0, 42,   /* int 42 */
      0xFF, 0xFF, 0xFF, 0xFF,    /* null */
      0xFF, 0xFF, 0xFF, 0xFE,    /* not set */
      0, 0, 0, 100,              /* page size */
      0, 0, 0, 1, 0x11,          /* paging state [bytes] */
      0, 9,                      /* LOCAL_SERIAL */
      0, 0, 0, 0, 0, 0, 0, 1,    /* timestamp */
      0, 2, 'k', 's',            /* keyspace */
      0, 0, 0, 7,                /* now_in_seconds */
  };
  assert_envelope(hdr, body, sizeof body);
}

Test(proto_request, execute_v4_has_no_metadata_id_and_a_flag_byte) {
  cqlmux_request_header h = {.version = 4, .stream = 2};
  cqlmux_query_params p = full_params();
  p.has_keyspace = p.has_now_in_seconds = false;
  cr_assert_eq(cqlmux_request_execute(&buf, &h, S("\xAB\xCD"), S("\x01"), &p), 0);
  const uint8_t hdr[] = {0x04, 0x00, 0x00, 0x02, CQLMUX_OP_EXECUTE};
  const uint8_t body[] = {
      0, 2, 0xAB, 0xCD, 0, 4, 0x3F, 0, 3, 0, 0, 0, 4, 0, 0, 0, 42, 0xFF, 0xFF, 0xFF, 0xFF,
      0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 100, 0, 0, 0, 1, 0x11, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1,
  };
  assert_envelope(hdr, body, sizeof body);
}

Test(proto_request, query_with_named_values) {
  cqlmux_request_header h = {.version = 4, .stream = 0};
  const cqlmux_slice names[] = {S("a")};
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE, .values = three_values,
                           .value_count = 1, .names = names};
  cr_assert_eq(cqlmux_request_query(&buf, &h, S("Q"), &p), 0);
  const uint8_t hdr[] = {0x04, 0, 0, 0, CQLMUX_OP_QUERY};
  const uint8_t body[] = {0, 0, 0, 1, 'Q', 0, 1, 0x41, 0, 1, 0, 1, 'a', 0, 0, 0, 4, 0, 0, 0, 42};
  assert_envelope(hdr, body, sizeof body);
}

Test(proto_request, batch_v4) {
  cqlmux_request_header h = {.version = 4, .stream = 3};
  const cqlmux_bytes one[] = {{(const uint8_t *)"\x01", 1}};
  const cqlmux_batch_statement st[] = {
      {.kind = CQLMUX_BATCH_KIND_QUERY, .query_or_id = S("Q"), .values = one, .value_count = 1},
      {.kind = CQLMUX_BATCH_KIND_PREPARED, .query_or_id = S("\x0A")},
  };
  cqlmux_batch_msg b = {.type = CQLMUX_BATCH_UNLOGGED, .statements = st, .count = 2,
                    .consistency = CQLMUX_CONSISTENCY_ONE, .has_timestamp = true, .timestamp = 5};
  cr_assert_eq(cqlmux_request_batch(&buf, &h, &b), 0);
  const uint8_t hdr[] = {0x04, 0, 0, 3, CQLMUX_OP_BATCH};
  const uint8_t body[] = {
      1, 0, 2,                                  /* UNLOGGED, 2 members */
      0, 0, 0, 0, 1, 'Q', 0, 1, 0, 0, 0, 1, 1,  /* query "Q", one value */
      1, 0, 1, 0x0A, 0, 0,                      /* prepared id 0A, no values */
      0, 1, 0x20,                               /* ONE, flags: timestamp */
      0, 0, 0, 0, 0, 0, 0, 5,
  };
  assert_envelope(hdr, body, sizeof body);
}

Test(proto_request, batch_v5_flags_are_an_int) {
  cqlmux_request_header h = {.version = 5, .stream = 3};
  cqlmux_batch_msg b = {.type = CQLMUX_BATCH_LOGGED, .consistency = CQLMUX_CONSISTENCY_ONE,
                    .has_keyspace = true, .keyspace = S("k"), .has_now_in_seconds = true,
                    .now_in_seconds = 9, .has_serial_consistency = true,
                    .serial_consistency = CQLMUX_CONSISTENCY_SERIAL};
  cr_assert_eq(cqlmux_request_batch(&buf, &h, &b), 0);
  const uint8_t hdr[] = {0x05, 0, 0, 3, CQLMUX_OP_BATCH};
  const uint8_t body[] = {0, 0, 0, 0, 1, 0, 0, 0x01, 0x90, 0, 8, 0, 1, 'k', 0, 0, 0, 9};
  assert_envelope(hdr, body, sizeof body);
}

Test(proto_request, prepare_by_version) {
  cqlmux_request_header h = {.version = 5};
  cr_assert_eq(cqlmux_request_prepare(&buf, &h, S("Q"), true, S("ks")), 0);
  const uint8_t hdr5[] = {0x05, 0, 0, 0, CQLMUX_OP_PREPARE};
  const uint8_t body5[] = {0, 0, 0, 1, 'Q', 0, 0, 0, 1, 0, 2, 'k', 's'};
  assert_envelope(hdr5, body5, sizeof body5);
  cqlmux_wbuf_reset(&buf);
  cr_assert_eq(cqlmux_request_prepare(&buf, &h, S("Q"), false, S("")), 0);
  const uint8_t body5n[] = {0, 0, 0, 1, 'Q', 0, 0, 0, 0};
  assert_envelope(hdr5, body5n, sizeof body5n);
  cqlmux_wbuf_reset(&buf);
  h.version = 4;
  cr_assert_eq(cqlmux_request_prepare(&buf, &h, S("Q"), false, S("")), 0);
  const uint8_t hdr4[] = {0x04, 0, 0, 0, CQLMUX_OP_PREPARE};
  const uint8_t body4[] = {0, 0, 0, 1, 'Q'};
  assert_envelope(hdr4, body4, sizeof body4);
}

Test(proto_request, register_and_auth_response) {
  cqlmux_request_header h = {.version = 4, .stream = 1};
  const cqlmux_slice ev[] = {S("STATUS_CHANGE")};
  cr_assert_eq(cqlmux_request_register(&buf, &h, ev, 1), 0);
  const uint8_t hdr[] = {0x04, 0, 0, 1, CQLMUX_OP_REGISTER};
  const uint8_t body[] = {0, 1, 0, 13, 'S', 'T', 'A', 'T', 'U', 'S', '_', 'C', 'H', 'A', 'N', 'G', 'E'};
  assert_envelope(hdr, body, sizeof body);
  cqlmux_wbuf_reset(&buf);
  const uint8_t tok[] = {0, 'u', 0, 'p'};
  cr_assert_eq(cqlmux_request_auth_response(&buf, &h, (cqlmux_bytes){tok, 4}), 0);
  const uint8_t hdra[] = {0x04, 0, 0, 1, CQLMUX_OP_AUTH_RESPONSE};
  const uint8_t bodya[] = {0, 0, 0, 4, 0, 'u', 0, 'p'};
  assert_envelope(hdra, bodya, sizeof bodya);
}

Test(proto_request, custom_payload_goes_first_and_sets_the_flag) {
  const cqlmux_payload_entry pe[] = {{S("k"), {(const uint8_t *)"v", 1}}};
  cqlmux_request_header h = {.version = 4, .flags = CQLMUX_FLAG_TRACING, .custom_payload = pe,
                             .custom_payload_count = 1};
  cr_assert_eq(cqlmux_request_prepare(&buf, &h, S("Q"), false, S("")), 0);
  const uint8_t hdr[] = {0x04, CQLMUX_FLAG_TRACING | CQLMUX_FLAG_CUSTOM_PAYLOAD, 0, 0,
                         CQLMUX_OP_PREPARE};
  const uint8_t body[] = {0, 1, 0, 1, 'k', 0, 0, 0, 1, 'v', 0, 0, 0, 1, 'Q'};
  assert_envelope(hdr, body, sizeof body);
}

/* ----------------------------------------------------------- argument errors */

Test(proto_request, bad_arguments_roll_back) {
  cqlmux_write_raw(&buf, "keep", 4);
  cqlmux_request_header h4 = {.version = 4};
  cqlmux_request_header h5 = {.version = 5};
  cqlmux_request_header h3 = {.version = 3};
  cqlmux_query_params p = full_params();
  cr_assert_eq(cqlmux_request_query(&buf, &h4, S("Q"), &p), CQLMUX_ERR_INVALID_ARGUMENT,
               "keyspace in v4");
  cr_assert_eq(cqlmux_request_prepare(&buf, &h4, S("Q"), true, S("k")),
               CQLMUX_ERR_INVALID_ARGUMENT);
  p.has_keyspace = p.has_now_in_seconds = false;
  cr_assert_eq(cqlmux_request_query(&buf, &h3, S("Q"), &p), CQLMUX_ERR_INVALID_ARGUMENT,
               "not-set in v3");
  cqlmux_request_header hc = {.version = 5, .compress = true};
  cr_assert_eq(cqlmux_request_query(&buf, &hc, S("Q"), &p), CQLMUX_ERR_INVALID_ARGUMENT,
               "no per-envelope compression in v5");
  cqlmux_request_header h6 = {.version = 6};
  cr_assert_eq(cqlmux_request_options(&buf, &h6), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_request_header hneg = {.version = 4, .stream = -1};
  cr_assert_eq(cqlmux_request_options(&buf, &hneg), CQLMUX_ERR_INVALID_ARGUMENT);
  const cqlmux_payload_entry pe[] = {{S("k"), {NULL, -1}}};
  cqlmux_request_header hp = {.version = 4, .custom_payload = pe, .custom_payload_count = 1};
  cr_assert_eq(cqlmux_request_options(&buf, &hp), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_batch_msg b = {.type = 3};
  cr_assert_eq(cqlmux_request_batch(&buf, &h5, &b), CQLMUX_ERR_INVALID_ARGUMENT);
  const cqlmux_batch_statement bad_kind[] = {{.kind = 2}};
  cqlmux_batch_msg b2 = {.statements = bad_kind, .count = 1};
  cr_assert_eq(cqlmux_request_batch(&buf, &h5, &b2), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_request_auth_response(&buf, &h5, (cqlmux_bytes){NULL, -2}),
               CQLMUX_ERR_INVALID_ARGUMENT);
  static char huge[70000];
  cqlmux_startup s = {.driver_name = huge};
  memset(huge, 'x', sizeof huge - 1);
  cr_assert_eq(cqlmux_request_startup(&buf, &h5, &s), CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(buf.len, 4);
  cr_assert_eq(buf.error, 0);
  cr_assert_eq(memcmp(buf.data, "keep", 4), 0);
}

Test(proto_request, growth_limit_rolls_back_too) {
  cqlmux_wbuf small;
  cqlmux_wbuf_init(&small, NULL, 20);
  cqlmux_request_header h = {.version = 4};
  cr_assert_eq(cqlmux_request_options(&small, &h), 0);
  cqlmux_query_params p = {0};
  cr_assert_eq(cqlmux_request_query(&small, &h, S("SELECT * FROM t"), &p), CQLMUX_ERR_OVERSIZED);
  cr_assert_eq(small.len, 9);
  cr_assert_eq(small.error, 0);
  small.error = CQLMUX_ERR_NOMEM;
  cr_assert_eq(cqlmux_request_options(&small, &h), CQLMUX_ERR_NOMEM, "prior error kept");
  cr_assert_eq(small.error, CQLMUX_ERR_NOMEM);
  cqlmux_wbuf_free(&small);
}

/* --------------------------------------------------------------- round trips */

static cqlmux_request_view decode_last(size_t at) {
  cqlmux_envelope e, plain;
  int n = cqlmux_envelope_decode(buf.data + at, buf.len - at, CQLMUX_DIR_REQUEST, 1 << 24, &e);
  cr_assert_eq(n, (int)(buf.len - at));
  static cqlmux_wbuf scratch; /* outlives the call: the view points into it */
  cqlmux_wbuf_free(&scratch);
  cqlmux_wbuf_init(&scratch, NULL, 0);
  cr_assert_eq(cqlmux_envelope_decompress_v4(&e, &scratch, 1 << 24, &plain), 0);
  cqlmux_request_view v;
  cr_assert_eq(cqlmux_request_decode(&plain, &v), 0);
  cr_assert_eq(v.trailing, 0);
  return v;
}

static void slice_eq(cqlmux_slice a, cqlmux_slice b) {
  cr_assert_eq(a.len, b.len);
  cr_assert_eq(memcmp(a.data, b.data, a.len), 0);
}

static void check_values(cqlmux_values_view v, const cqlmux_bytes *want, const cqlmux_slice *names,
                         uint16_t n) {
  cr_assert_eq(v.count, n);
  cqlmux_slice name;
  cqlmux_bytes val;
  for (uint16_t i = 0; i < n; i++) {
    cr_assert(cqlmux_values_next(&v, &name, &val));
    if (names) slice_eq(name, names[i]);
    cr_assert_eq(val.len, want[i].len);
    if (val.len > 0) cr_assert_eq(memcmp(val.data, want[i].data, (size_t)val.len), 0);
  }
  cr_assert_not(cqlmux_values_next(&v, &name, &val));
}

static void check_params(const cqlmux_query_params_view *g, const cqlmux_query_params *p,
                         uint8_t version) {
  cr_assert_eq(g->consistency, p->consistency);
  check_values(g->values, p->values, p->names, p->value_count);
  cr_assert_eq(g->page_size, p->has_page_size ? p->page_size : 0);
  if (p->has_paging_state) {
    cr_assert_eq((size_t)g->paging_state.len, p->paging_state.len);
  }
  cr_assert_eq(g->serial_consistency, p->has_serial_consistency ? p->serial_consistency : 0);
  cr_assert_eq(g->timestamp, p->has_timestamp ? p->timestamp : 0);
  cr_assert_eq(!!(g->flags & CQLMUX_QUERY_FLAG_SKIP_METADATA), p->skip_metadata);
  if (version >= 5 && p->has_keyspace) slice_eq(g->keyspace, p->keyspace);
  cr_assert_eq(g->now_in_seconds, p->has_now_in_seconds ? p->now_in_seconds : 0);
}

/* A long, compressible query text so that v4 compression kicks in. */
static cqlmux_slice long_query(void) {
  static char q[600];
  for (size_t i = 0; i < sizeof q; i++) q[i] = "SELECT a, b FROM t WHERE k = ? "[i % 31];
  return (cqlmux_slice){(const uint8_t *)q, sizeof q};
}

static void round_trip_all(uint8_t version, bool compress) {
  const cqlmux_slice names[] = {S("x"), S("yy"), S("zzz")};
  cqlmux_request_header h = {.version = version, .stream = 77, .compress = compress};
  cqlmux_query_params p = full_params();
  if (version < 5) p.has_keyspace = p.has_now_in_seconds = false;

  size_t at = buf.len;
  cqlmux_startup s = {.compression = "lz4", .driver_name = "cqlmux", .driver_version = "0.1",
                      .throw_on_overload = true,
                      .extra = (const cqlmux_startup_option[]){{"APPLICATION_NAME", "t"}},
                      .extra_count = 1};
  cr_assert_eq(cqlmux_request_startup(&buf, &h, &s), 0);
  cqlmux_request_view v = decode_last(at);
  cr_assert_eq(v.header.opcode, CQLMUX_OP_STARTUP);
  cr_assert_eq(v.u.startup.count, 6);
  cqlmux_slice k, val;
  cqlmux_read_string(&v.u.startup.items, &k);
  cqlmux_read_string(&v.u.startup.items, &val);
  slice_eq(k, S("CQL_VERSION"));
  slice_eq(val, S("3.0.0"));

  at = buf.len;
  cr_assert_eq(cqlmux_request_options(&buf, &h), 0);
  cr_assert_eq(decode_last(at).header.opcode, CQLMUX_OP_OPTIONS);

  at = buf.len;
  cr_assert_eq(cqlmux_request_auth_response(&buf, &h, (cqlmux_bytes){NULL, -1}), 0);
  cr_assert_eq(decode_last(at).u.auth_token.len, -1);

  at = buf.len;
  cr_assert_eq(cqlmux_request_query(&buf, &h, long_query(), &p), 0);
  if (compress) cr_assert(buf.data[at + 1] & CQLMUX_FLAG_COMPRESSION);
  v = decode_last(at);
  cr_assert_eq(v.header.stream, 77);
  slice_eq(v.u.query.query, long_query());
  check_params(&v.u.query.params, &p, version);

  p.names = names;
  at = buf.len;
  cr_assert_eq(cqlmux_request_query(&buf, &h, S("Q"), &p), 0);
  v = decode_last(at);
  cr_assert(v.u.query.params.flags & CQLMUX_QUERY_FLAG_NAMES_FOR_VALUES);
  check_params(&v.u.query.params, &p, version);
  p.names = NULL;

  at = buf.len;
  cr_assert_eq(cqlmux_request_prepare(&buf, &h, long_query(), version >= 5, S("ks")), 0);
  v = decode_last(at);
  slice_eq(v.u.prepare.query, long_query());
  if (version >= 5) slice_eq(v.u.prepare.keyspace, S("ks"));

  at = buf.len;
  cr_assert_eq(cqlmux_request_execute(&buf, &h, S("\x01\x02\x03"), S("\x09"), &p), 0);
  v = decode_last(at);
  slice_eq(v.u.execute.id, S("\x01\x02\x03"));
  if (version >= 5) slice_eq(v.u.execute.result_metadata_id, S("\x09"));
  check_params(&v.u.execute.params, &p, version);

  for (int named = 0; named < 2; named++) {
    const cqlmux_batch_statement st[] = {
        {.kind = CQLMUX_BATCH_KIND_QUERY, .query_or_id = long_query(), .values = three_values,
         .value_count = 3, .names = names},
        {.kind = CQLMUX_BATCH_KIND_PREPARED, .query_or_id = S("\x0A\x0B"), .values = three_values,
         .value_count = 1, .names = names},
        {.kind = CQLMUX_BATCH_KIND_PREPARED, .query_or_id = S("\x0C")},
    };
    cqlmux_batch_msg b = {.type = CQLMUX_BATCH_COUNTER, .statements = st, .count = 3,
                      .consistency = CQLMUX_CONSISTENCY_LOCAL_QUORUM, .names_for_values = named,
                      .has_serial_consistency = true,
                      .serial_consistency = CQLMUX_CONSISTENCY_SERIAL, .has_timestamp = true,
                      .timestamp = -5, .has_keyspace = version >= 5, .keyspace = S("ks"),
                      .has_now_in_seconds = version >= 5, .now_in_seconds = 3};
    at = buf.len;
    cr_assert_eq(cqlmux_request_batch(&buf, &h, &b), 0);
    v = decode_last(at);
    cqlmux_batch_view bv = v.u.batch;
    cr_assert_eq(bv.type, CQLMUX_BATCH_COUNTER);
    cr_assert_eq(bv.count, 3);
    cr_assert_eq(bv.consistency, CQLMUX_CONSISTENCY_LOCAL_QUORUM);
    cr_assert_eq(!!(bv.flags & CQLMUX_BATCH_FLAG_NAMES_FOR_VALUES), named);
    cr_assert_eq(bv.serial_consistency, CQLMUX_CONSISTENCY_SERIAL);
    cr_assert_eq(bv.timestamp, -5);
    if (version >= 5) {
      slice_eq(bv.keyspace, S("ks"));
      cr_assert_eq(bv.now_in_seconds, 3);
    }
    cqlmux_batch_statement_view sv;
    for (int i = 0; i < 3; i++) {
      cr_assert(cqlmux_batch_next(&bv, &sv));
      cr_assert_eq(sv.kind, st[i].kind);
      slice_eq(sv.query_or_id, st[i].query_or_id);
      check_values(sv.values, st[i].values, named ? names : NULL, st[i].value_count);
    }
    cr_assert_not(cqlmux_batch_next(&bv, &sv));
  }

  at = buf.len;
  const cqlmux_slice ev[] = {S("TOPOLOGY_CHANGE"), S("STATUS_CHANGE"), S("SCHEMA_CHANGE")};
  cr_assert_eq(cqlmux_request_register(&buf, &h, ev, 3), 0);
  v = decode_last(at);
  cr_assert_eq(v.u.events.count, 3);
  cqlmux_slice e0;
  cqlmux_read_string(&v.u.events.items, &e0);
  slice_eq(e0, ev[0]);
}

Test(proto_request, round_trip_v4) { round_trip_all(4, false); }
Test(proto_request, round_trip_v4_lz4) { round_trip_all(4, true); }
Test(proto_request, round_trip_v5) { round_trip_all(5, false); }

Test(proto_request, round_trip_custom_payload) {
  const cqlmux_payload_entry pe[] = {{S("a"), {(const uint8_t *)"1", 1}}, {S("b"), {NULL, -1}}};
  cqlmux_request_header h = {.version = 5, .custom_payload = pe, .custom_payload_count = 2};
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE};
  cr_assert_eq(cqlmux_request_query(&buf, &h, S("Q"), &p), 0);
  cqlmux_request_view v = decode_last(0);
  cr_assert_eq(v.prefix.custom_payload.count, 2);
  slice_eq(v.u.query.query, S("Q"));
}

/* ------------------------------------------------------------ decoder input */

static int decode_body(uint8_t version, uint8_t opcode, const uint8_t *body, uint32_t len) {
  cqlmux_envelope e = {.header = {.version = version, .opcode = opcode, .length = len},
                       .body = body};
  cqlmux_request_view v;
  return cqlmux_request_decode(&e, &v);
}

Test(proto_request, every_truncation_is_rejected) {
  for (uint8_t version = 4; version <= 5; version++) {
    cqlmux_wbuf_reset(&buf);
    round_trip_all(version, false);
    size_t off = 0;
    int count = 0;
    while (off < buf.len) {
      cqlmux_envelope e;
      int n = cqlmux_envelope_decode(buf.data + off, buf.len - off, CQLMUX_DIR_REQUEST, 1 << 24, &e);
      cr_assert_gt(n, 0);
      for (uint32_t cut = 0; cut < e.header.length; cut++) {
        int rc = decode_body(version, e.header.opcode, e.body, cut);
        cr_assert_eq(rc, CQLMUX_ERR_TRUNCATED, "v%d opcode %d cut %u/%u: %d", version,
                     e.header.opcode, cut, e.header.length, rc);
      }
      off += (size_t)n;
      count++;
    }
    cr_assert_eq(count, 10);
  }
}

Test(proto_request, decoder_rejects_what_no_client_sends) {
  const uint8_t body[] = {3, 0, 0, 0, 1, 0, 0};
  cr_assert_eq(decode_body(5, CQLMUX_OP_BATCH, body, sizeof body), CQLMUX_ERR_MALFORMED,
               "batch type 3");
  const uint8_t kind[] = {0, 0, 1, 2, 0, 0};
  cr_assert_eq(decode_body(5, CQLMUX_OP_BATCH, kind, sizeof kind), CQLMUX_ERR_MALFORMED,
               "member kind 2");
  cr_assert_eq(decode_body(5, CQLMUX_OP_RESULT, body, 0), CQLMUX_ERR_MALFORMED);
  const uint8_t not_set[] = {0, 0, 0, 1, 'Q', 0, 1, 0x01, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE};
  cr_assert_eq(decode_body(4, CQLMUX_OP_QUERY, not_set, sizeof not_set), 0);
  cr_assert_eq(decode_body(3, CQLMUX_OP_QUERY, not_set, sizeof not_set), CQLMUX_ERR_MALFORMED);
  cqlmux_envelope e = {.header = {.version = 4, .flags = CQLMUX_FLAG_COMPRESSION,
                                  .opcode = CQLMUX_OP_OPTIONS},
                       .body = body};
  cqlmux_request_view v;
  cr_assert_eq(cqlmux_request_decode(&e, &v), CQLMUX_ERR_INVALID_ARGUMENT);
  const uint8_t extra[] = {0, 0, 0, 1, 'Q', 0, 1, 0x00, 0xEE};
  cr_assert_eq(decode_body(4, CQLMUX_OP_QUERY, extra, sizeof extra), 0);
}

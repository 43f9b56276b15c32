/* Response bodies: byte-exact vectors from the spec, round trips of every
 * response in v4 and v5, every truncation point, corrupted input, and the
 * allocation budget of a RESULT. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "proto/response.h"
#include "proto/values.h"

/* ------------------------------------------------------------ counting allocator */

typedef struct counting {
  int mallocs, frees, fail_at; /* fail_at: 1-based malloc to fail, 0 = never */
} counting;

static void *count_malloc(size_t n, void *ud) {
  counting *c = ud;
  if (c->fail_at && ++c->mallocs == c->fail_at) return NULL;
  if (!c->fail_at) c->mallocs++;
  return malloc(n);
}
static void *count_realloc(void *p, size_t n, void *ud) {
  (void)ud;
  return realloc(p, n);
}
static void count_free(void *p, void *ud) {
  ((counting *)ud)->frees++;
  free(p);
}

static counting counts;
static cqlmux_allocator counting_alloc = {count_malloc, count_realloc, count_free, &counts};

static cqlmux_wbuf b, b2;
static cqlmux_arena arena;

static void setup(void) {
  memset(&counts, 0, sizeof counts);
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_wbuf_init(&b2, NULL, 0);
  cqlmux_arena_init(&arena, NULL, NULL, 0);
}

static void teardown(void) {
  cqlmux_wbuf_free(&b);
  cqlmux_wbuf_free(&b2);
  cqlmux_arena_free(&arena);
}

TestSuite(proto_response, .init = setup, .fini = teardown);

#define N(id) cqlmux_type_native(id)
#define S(lit) cqlmux_slice_from_cstr(lit)

static bool slice_is(cqlmux_slice s, const char *lit) {
  return s.len == strlen(lit) && memcmp(s.data, lit, s.len) == 0;
}

/* Every prefix of a valid body fails with TRUNCATED or MALFORMED, leaves
 * the arena as it was, and never reads past the prefix (ASan build). */
static void check_truncations(int version, uint8_t opcode, const uint8_t *body, size_t len) {
  for (size_t cut = 0; cut < len; cut++) {
    uint8_t *copy = malloc(cut ? cut : 1); /* exact-size copy: overreads hit the redzone */
    memcpy(copy, body, cut);
    cqlmux_response r;
    size_t mark = cqlmux_arena_mark(&arena);
    int rc = cqlmux_response_decode(version, opcode, copy, cut, &arena, &r);
    cr_assert(rc == CQLMUX_ERR_TRUNCATED || rc == CQLMUX_ERR_MALFORMED,
              "v%d op %u cut %zu/%zu rc %d", version, opcode, cut, len, rc);
    cr_assert_eq(cqlmux_arena_mark(&arena), mark);
    free(copy);
  }
}

/* Encodes r, decodes it back, checks that re-encoding the decoded struct
 * gives the same bytes, checks every truncation; returns the decoded form
 * (valid while b holds the bytes). */
static cqlmux_response roundtrip(int version, const cqlmux_response *r) {
  cqlmux_wbuf_reset(&b);
  cqlmux_response_encode(&b, version, r);
  cr_assert_eq(b.error, 0, "encode failed");
  cqlmux_response back;
  cr_assert_eq(cqlmux_response_decode(version, r->opcode, b.data, b.len, &arena, &back), CQLMUX_OK,
               "decode v%d op %u", version, r->opcode);
  cr_assert_eq(back.opcode, r->opcode);
  cqlmux_wbuf_reset(&b2);
  cqlmux_response_encode(&b2, version, &back);
  cr_assert_eq(b2.len, b.len, "re-encode length v%d op %u", version, r->opcode);
  if (b.len) cr_assert_arr_eq(b2.data, b.data, b.len);
  check_truncations(version, r->opcode, b.data, b.len);
  return back;
}

static void expect_bytes(const uint8_t *want, size_t n) {
  cr_assert_eq(b.len, n, "encoded %zu bytes, want %zu", b.len, n);
  cr_assert_arr_eq(b.data, want, n);
}

/* ------------------------------------------------------------ ERROR */

Test(proto_response, unavailable_byte_exact) {
  const uint8_t body[] = {0x00, 0x00, 0x10, 0x00, 0x00, 0x01, 'x', 0x00, 0x04,
                          0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01};
  cqlmux_error_body e;
  cr_assert_eq(cqlmux_error_decode(4, body, sizeof body, &e), CQLMUX_OK);
  cr_assert_eq(e.code, CQLMUX_CQL_UNAVAILABLE);
  cr_assert(slice_is(e.message, "x"));
  cr_assert_eq(e.consistency, CQLMUX_CONSISTENCY_QUORUM);
  cr_assert_eq(e.required, 3);
  cr_assert_eq(e.alive, 1);
  cqlmux_error_encode(&b, 4, &e);
  expect_bytes(body, sizeof body);
}

Test(proto_response, write_timeout_cas_contentions_only_in_v5) {
  const uint8_t v5[] = {0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,
                        0x00, 0x00, 0x00, 0x02, 0x00, 0x03, 'C',  'A',  'S',  0x00, 0x05};
  cqlmux_error_body e;
  cr_assert_eq(cqlmux_error_decode(5, v5, sizeof v5, &e), CQLMUX_OK);
  cr_assert_eq(e.consistency, CQLMUX_CONSISTENCY_SERIAL);
  cr_assert(e.received == 1 && e.block_for == 2);
  cr_assert(slice_is(e.write_type, "CAS"));
  cr_assert_eq(e.contentions, 5);
  cqlmux_error_encode(&b, 5, &e);
  expect_bytes(v5, sizeof v5);
  /* v4 has no contentions: the same bytes minus the last [short] */
  cr_assert_eq(cqlmux_error_decode(4, v5, sizeof v5 - 2, &e), CQLMUX_OK);
  cr_assert_eq(e.contentions, -1);
  cqlmux_wbuf_reset(&b);
  cqlmux_error_encode(&b, 4, &e);
  expect_bytes(v5, sizeof v5 - 2);
  /* v5 CAS without contentions is truncated */
  cr_assert_eq(cqlmux_error_decode(5, v5, sizeof v5 - 2, &e), CQLMUX_ERR_TRUNCATED);
}

Test(proto_response, read_failure_numfailures_in_v4_reasonmap_in_v5) {
  const uint8_t v4[] = {0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01};
  cqlmux_error_body e;
  cr_assert_eq(cqlmux_error_decode(4, v4, sizeof v4, &e), CQLMUX_OK);
  cr_assert_eq(e.num_failures, 2);
  cr_assert(e.data_present);
  cqlmux_error_encode(&b, 4, &e);
  expect_bytes(v4, sizeof v4);

  const uint8_t v5[] = {0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x04, 10,
                        0,    0,    1,    0x00, 0x06, 0x04, 10,   0,    0,    2,    0x00,
                        0x00, 0x00};
  cr_assert_eq(cqlmux_error_decode(5, v5, sizeof v5, &e), CQLMUX_OK);
  cr_assert_eq(e.num_failures, 2);
  cr_assert_eq(e.reasons.count, 2);
  cr_assert(!e.data_present);
  cqlmux_reader r = cqlmux_reader_make(e.reasons.raw.data, e.reasons.raw.len);
  cqlmux_failure_reason fr;
  cr_assert_eq(cqlmux_reason_map_next(&r, &fr), 1);
  cr_assert_eq(fr.endpoint.addr_len, 4);
  cr_assert_eq(fr.endpoint.addr[3], 1);
  cr_assert_eq(fr.code, 6);
  cr_assert_eq(cqlmux_reason_map_next(&r, &fr), 1);
  cr_assert_eq(fr.endpoint.addr[3], 2);
  cr_assert_eq(fr.code, 0);
  cr_assert_eq(cqlmux_reason_map_next(&r, &fr), 0);
  cqlmux_wbuf_reset(&b);
  cqlmux_error_encode(&b, 5, &e);
  expect_bytes(v5, sizeof v5);
  /* a reason map count the bytes cannot hold */
  uint8_t lie[sizeof v5];
  memcpy(lie, v5, sizeof v5);
  lie[19] = 0x7F;
  cr_assert_eq(cqlmux_error_decode(5, lie, sizeof lie, &e), CQLMUX_ERR_TRUNCATED);
}

Test(proto_response, every_error_code_roundtrips_in_both_versions) {
  static const int32_t codes[] = {
      CQLMUX_CQL_SERVER_ERROR,    CQLMUX_CQL_PROTOCOL_ERROR,     CQLMUX_CQL_BAD_CREDENTIALS,
      CQLMUX_CQL_UNAVAILABLE,     CQLMUX_CQL_OVERLOADED,         CQLMUX_CQL_IS_BOOTSTRAPPING,
      CQLMUX_CQL_TRUNCATE_ERROR,  CQLMUX_CQL_WRITE_TIMEOUT,      CQLMUX_CQL_READ_TIMEOUT,
      CQLMUX_CQL_READ_FAILURE,    CQLMUX_CQL_FUNCTION_FAILURE,   CQLMUX_CQL_WRITE_FAILURE,
      CQLMUX_CQL_CDC_WRITE_FAILURE, CQLMUX_CQL_CAS_WRITE_UNKNOWN, CQLMUX_CQL_SYNTAX_ERROR,
      CQLMUX_CQL_UNAUTHORIZED,    CQLMUX_CQL_INVALID,            CQLMUX_CQL_CONFIG_ERROR,
      CQLMUX_CQL_ALREADY_EXISTS,  CQLMUX_CQL_UNPREPARED};
  const cqlmux_slice args[2] = {S("int"), S("text")};
  const cqlmux_failure_reason reasons[1] = {{{{10, 0, 0, 9}, 4, 0}, 1}};
  for (int version = 4; version <= 5; version++)
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
      cqlmux_response r;
      memset(&r, 0, sizeof r);
      r.opcode = CQLMUX_OP_ERROR;
      cqlmux_error_body *e = &r.error;
      e->code = codes[i];
      e->message = S("something failed");
      e->consistency = CQLMUX_CONSISTENCY_LOCAL_QUORUM;
      e->required = 3, e->alive = 2, e->received = 1, e->block_for = 2;
      e->data_present = true;
      e->write_type = codes[i] == CQLMUX_CQL_WRITE_TIMEOUT ? S("CAS") : S("BATCH_LOG");
      e->contentions = version >= 5 && codes[i] == CQLMUX_CQL_WRITE_TIMEOUT ? 3 : -1;
      e->num_failures = 1;
      e->reasons.count = 1;
      e->reasons.items = reasons;
      e->keyspace = S("ks");
      e->name = S("fn");
      e->arg_types.count = 2;
      e->arg_types.items = args;
      e->unprepared_id = S("0123456789abcdef");
      cqlmux_response back = roundtrip(version, &r);
      cqlmux_error_body *d = &back.error;
      cr_assert_eq(d->code, codes[i]);
      cr_assert(slice_is(d->message, "something failed"));
      switch (codes[i]) {
      case CQLMUX_CQL_UNAVAILABLE: cr_assert(d->required == 3 && d->alive == 2); break;
      case CQLMUX_CQL_WRITE_TIMEOUT:
        cr_assert(slice_is(d->write_type, "CAS"));
        cr_assert_eq(d->contentions, version >= 5 ? 3 : -1);
        break;
      case CQLMUX_CQL_READ_FAILURE:
      case CQLMUX_CQL_WRITE_FAILURE:
        cr_assert_eq(d->num_failures, 1);
        cr_assert_eq(d->reasons.count, version >= 5 ? 1 : 0);
        cr_assert(d->received == 1 && d->block_for == 2);
        break;
      case CQLMUX_CQL_FUNCTION_FAILURE:
        cr_assert(slice_is(d->keyspace, "ks") && slice_is(d->name, "fn"));
        cr_assert_eq(d->arg_types.count, 2);
        break;
      case CQLMUX_CQL_ALREADY_EXISTS: cr_assert(slice_is(d->name, "fn")); break;
      case CQLMUX_CQL_UNPREPARED: cr_assert(slice_is(d->unprepared_id, "0123456789abcdef")); break;
      case CQLMUX_CQL_CAS_WRITE_UNKNOWN:
        cr_assert_eq(d->consistency, CQLMUX_CONSISTENCY_LOCAL_QUORUM);
        break;
      default: break;
      }
    }
}

Test(proto_response, unknown_error_code_keeps_the_message) {
  const uint8_t body[] = {0x00, 0x00, 0x77, 0x77, 0x00, 0x02, 'h', 'i', 0xAA, 0xBB};
  cqlmux_error_body e;
  cr_assert_eq(cqlmux_error_decode(5, body, sizeof body, &e), CQLMUX_OK);
  cr_assert_eq(e.code, 0x7777);
  cr_assert(slice_is(e.message, "hi"));
  cr_assert_eq(cqlmux_error_decode(3, body, sizeof body, &e), CQLMUX_OK, "v3 downgrade errors");
  cr_assert_eq(cqlmux_error_decode(6, body, sizeof body, &e), CQLMUX_ERR_UNSUPPORTED_VERSION);
}

/* ------------------------------------------------------------ small responses */

Test(proto_response, ready_authenticate_auth_tokens) {
  cqlmux_response r;
  memset(&r, 0, sizeof r);
  r.opcode = CQLMUX_OP_READY;
  roundtrip(5, &r);
  cr_assert_eq(b.len, 0);

  r.opcode = CQLMUX_OP_AUTHENTICATE;
  r.authenticator = S("org.apache.cassandra.auth.PasswordAuthenticator");
  cqlmux_response back = roundtrip(4, &r);
  cr_assert(slice_is(back.authenticator, "org.apache.cassandra.auth.PasswordAuthenticator"));

  const uint8_t tok[] = {1, 2, 3};
  for (int op = CQLMUX_OP_AUTH_CHALLENGE; op <= CQLMUX_OP_AUTH_SUCCESS; op += 2) {
    memset(&r, 0, sizeof r);
    r.opcode = (uint8_t)op;
    r.token.data = tok;
    r.token.len = 3;
    back = roundtrip(5, &r);
    cr_assert_eq(back.token.len, 3);
    r.token.data = NULL;
    r.token.len = CQLMUX_VALUE_NULL;
    back = roundtrip(5, &r);
    cr_assert_eq(back.token.len, CQLMUX_VALUE_NULL, "a null token stays null");
    r.token.len = 0;
    back = roundtrip(5, &r);
    cr_assert_eq(back.token.len, 0, "an empty token stays empty");
  }
}

Test(proto_response, supported_multimap) {
  const cqlmux_slice versions[3] = {S("3/v3"), S("4/v4"), S("5/v5")};
  const cqlmux_slice comp[2] = {S("snappy"), S("lz4")};
  const cqlmux_supported_entry entries[2] = {{S("PROTOCOL_VERSIONS"), {3, {NULL, 0}, versions}},
                                             {S("COMPRESSION"), {2, {NULL, 0}, comp}}};
  cqlmux_response r;
  memset(&r, 0, sizeof r);
  r.opcode = CQLMUX_OP_SUPPORTED;
  r.supported.count = 2;
  r.supported.items = entries;
  cqlmux_response back = roundtrip(4, &r);
  cr_assert_eq(back.supported.count, 2);
  cqlmux_string_list l;
  cr_assert_eq(cqlmux_supported_find(&back.supported, "COMPRESSION", &l), CQLMUX_OK);
  cr_assert_eq(l.count, 2);
  cqlmux_reader it = cqlmux_reader_make(l.raw.data, l.raw.len);
  cqlmux_slice s;
  cr_assert_eq(cqlmux_string_list_next(&it, &s), 1);
  cr_assert(slice_is(s, "snappy"));
  cr_assert_eq(cqlmux_string_list_next(&it, &s), 1);
  cr_assert(slice_is(s, "lz4"));
  cr_assert_eq(cqlmux_string_list_next(&it, &s), 0);
  cr_assert_eq(cqlmux_supported_find(&back.supported, "CQL_VERSION", &l), CQLMUX_ERR_NOT_FOUND);
  cr_assert_eq(cqlmux_supported_find(&r.supported, "PROTOCOL_VERSIONS", &l), CQLMUX_OK);
  cr_assert_eq(l.count, 3);
}

/* ------------------------------------------------------------ RESULT */

/* ROWS, global spec ks.t, columns a int and b text, 2 rows:
 * (1, "x"), (null, empty). */
static const uint8_t rows_body[] = {
    0x00, 0x00, 0x00, 0x02,                                  /* kind rows */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,          /* flags global, 2 columns */
    0x00, 0x02, 'k', 's', 0x00, 0x01, 't',                   /* ks.t */
    0x00, 0x01, 'a', 0x00, 0x09, 0x00, 0x01, 'b', 0x00, 0x0D, /* a int, b text */
    0x00, 0x00, 0x00, 0x02,                                  /* 2 rows */
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'x',
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00};

Test(proto_response, rows_byte_exact_and_cells_by_index) {
  cqlmux_result_msg res;
  cr_assert_eq(cqlmux_result_decode(4, rows_body, sizeof rows_body, &arena, &res), CQLMUX_OK);
  cr_assert_eq(res.kind, CQLMUX_RESULT_ROWS);
  const cqlmux_rows *rows = &res.rows;
  cr_assert_eq(rows->meta.columns_count, 2);
  cr_assert_eq(rows->rows_count, 2);
  cr_assert(slice_is(rows->meta.global_keyspace, "ks"));
  cr_assert(slice_is(rows->meta.columns[1].table, "t"));
  cr_assert(slice_is(rows->meta.columns[0].name, "a"));
  cr_assert_eq(rows->meta.columns[0].type, N(CQLMUX_TYPE_INT));
  cr_assert_eq(rows->meta.columns[1].type, N(CQLMUX_TYPE_TEXT));
  cr_assert_eq(rows->meta.paging_state.len, CQLMUX_VALUE_NULL);

  cqlmux_bytes c;
  int32_t i32;
  cqlmux_slice s;
  cr_assert_eq(cqlmux_rows_cell(rows, 0, 0, &c), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_get_int(c, &i32), CQLMUX_OK);
  cr_assert_eq(i32, 1);
  cr_assert(c.data > rows_body && c.data < rows_body + sizeof rows_body, "zero-copy cell");
  cr_assert_eq(cqlmux_rows_cell(rows, 0, 1, &c), CQLMUX_OK);
  cr_assert_eq(cqlmux_value_get_text(c, &s), CQLMUX_OK);
  cr_assert(slice_is(s, "x"));
  cr_assert_eq(cqlmux_rows_cell(rows, 1, 0, &c), CQLMUX_OK);
  cr_assert_eq(c.len, CQLMUX_VALUE_NULL);
  cr_assert_eq(cqlmux_rows_cell(rows, 1, 1, &c), CQLMUX_OK);
  cr_assert_eq(c.len, 0);
  cr_assert_eq(cqlmux_rows_cell(rows, 2, 0, &c), CQLMUX_ERR_NOT_FOUND);
  cr_assert_eq(cqlmux_rows_cell(rows, 0, 2, &c), CQLMUX_ERR_NOT_FOUND);

  /* the same bytes from the encoder, from cell values */
  cqlmux_column_spec cols[2] = {{S("ks"), S("t"), S("a"), N(CQLMUX_TYPE_INT)},
                                {S("ks"), S("t"), S("b"), N(CQLMUX_TYPE_TEXT)}};
  cqlmux_rows_metadata m = {CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC, 2, {NULL, -1}, {NULL, 0},
                            S("ks"), S("t"), cols};
  const uint8_t one[4] = {0, 0, 0, 1};
  cqlmux_bytes cells[4] = {{one, 4}, {(const uint8_t *)"x", 1}, {NULL, -1}, {(const uint8_t *)"", 0}};
  cqlmux_rows_encode(&b, 4, &m, 2, cells);
  expect_bytes(rows_body, sizeof rows_body);
  check_truncations(4, CQLMUX_OP_RESULT, rows_body, sizeof rows_body);
  check_truncations(5, CQLMUX_OP_RESULT, rows_body, sizeof rows_body);
}

static cqlmux_response rows_response(int32_t flags, cqlmux_column_spec *cols, int32_t ncols) {
  cqlmux_response r;
  memset(&r, 0, sizeof r);
  r.opcode = CQLMUX_OP_RESULT;
  r.result.kind = CQLMUX_RESULT_ROWS;
  r.result.rows.meta.flags = flags;
  r.result.rows.meta.columns_count = ncols;
  r.result.rows.meta.columns = cols;
  r.result.rows.meta.paging_state.len = CQLMUX_VALUE_NULL;
  return r;
}

Test(proto_response, rows_metadata_variants_roundtrip) {
  const cqlmux_typedesc *vt = cqlmux_type_new_vector(&arena, N(CQLMUX_TYPE_FLOAT), 3);
  const cqlmux_typedesc *mt = cqlmux_type_new_map(&arena, N(CQLMUX_TYPE_TEXT),
                                              cqlmux_type_new_list(&arena, N(CQLMUX_TYPE_INT)));
  cqlmux_column_spec cols[3] = {{S("k1"), S("t1"), S("id"), N(CQLMUX_TYPE_UUID)},
                                {S("k2"), S("t2"), S("emb"), vt},
                                {S("k2"), S("t2"), S("tags"), mt}};
  const uint8_t paging[] = {0xDE, 0xAD};
  const uint8_t cell_uuid[16] = {1};
  const float fv[3] = {1, 2, 3};
  cqlmux_wbuf cellbuf;
  cqlmux_wbuf_init(&cellbuf, NULL, 0);
  cqlmux_value_write_float_vector(&cellbuf, fv, 3);
  for (int version = 4; version <= 5; version++) {
    /* per-column table specs, paging state, metadata id */
    int32_t flags = CQLMUX_ROWS_FLAG_HAS_MORE_PAGES | (version >= 5 ? CQLMUX_ROWS_FLAG_METADATA_CHANGED : 0);
    cqlmux_response r = rows_response(flags, cols, 3);
    r.result.rows.meta.paging_state.data = paging;
    r.result.rows.meta.paging_state.len = 2;
    r.result.rows.meta.new_metadata_id = S("mdid");
    /* content: one row */
    cqlmux_wbuf content;
    cqlmux_wbuf_init(&content, NULL, 0);
    cqlmux_bytes u = {cell_uuid, 16};
    cqlmux_write_bytes(&content, u);
    cqlmux_write_raw(&content, cellbuf.data, cellbuf.len);
    cqlmux_write_i32(&content, CQLMUX_VALUE_NULL);
    r.result.rows.rows_count = 1;
    r.result.rows.content = content.data;
    r.result.rows.content_len = content.len;
    cqlmux_response back = roundtrip(version, &r);
    const cqlmux_rows *rows = &back.result.rows;
    cr_assert_eq(rows->meta.paging_state.len, 2);
    cr_assert_eq(rows->meta.new_metadata_id.len, version >= 5 ? 4u : 0u);
    cr_assert(slice_is(rows->meta.columns[1].keyspace, "k2"));
    cr_assert(cqlmux_type_equal(rows->meta.columns[1].type, vt));
    cr_assert(cqlmux_type_equal(rows->meta.columns[2].type, mt));
    cqlmux_bytes c;
    cr_assert_eq(cqlmux_rows_cell(rows, 0, 1, &c), CQLMUX_OK);
    cr_assert_eq(cqlmux_value_validate(rows->meta.columns[1].type, c), CQLMUX_OK);
    cr_assert_eq(c.len, 12);

    /* no metadata: flags, count, cells only */
    cqlmux_response nm = r;
    nm.result.rows.meta.flags = CQLMUX_ROWS_FLAG_NO_METADATA;
    nm.result.rows.meta.columns = NULL;
    back = roundtrip(version, &nm);
    cr_assert_null(back.result.rows.meta.columns);
    cr_assert_eq(back.result.rows.meta.columns_count, 3);
    cr_assert_eq(cqlmux_rows_cell(&back.result.rows, 0, 2, &c), CQLMUX_OK);
    cr_assert_eq(c.len, CQLMUX_VALUE_NULL);
    cqlmux_wbuf_free(&content);
  }
  cqlmux_wbuf_free(&cellbuf);
}

Test(proto_response, rows_counts_are_checked_before_allocating) {
  /* 0x7fffffff rows of 2 columns with a few bytes left */
  uint8_t body[sizeof rows_body];
  memcpy(body, rows_body, sizeof body);
  body[29] = 0x7F, body[30] = 0xFF, body[31] = 0xFF, body[32] = 0xFF;
  cqlmux_result_msg res;
  cqlmux_arena a;
  cqlmux_arena_init(&a, &counting_alloc, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(4, body, sizeof body, &a, &res), CQLMUX_ERR_TRUNCATED);
  cr_assert_eq(counts.mallocs, 0);
  /* negative counts */
  memcpy(body, rows_body, sizeof body);
  body[29] = 0xFF;
  cr_assert_eq(cqlmux_result_decode(4, body, sizeof body, &a, &res), CQLMUX_ERR_MALFORMED);
  memcpy(body, rows_body, sizeof body);
  body[8] = 0x80;
  cr_assert_eq(cqlmux_result_decode(4, body, sizeof body, &a, &res), CQLMUX_ERR_MALFORMED);
  /* a column count the metadata bytes cannot hold */
  memcpy(body, rows_body, sizeof body);
  body[9] = 0x7F;
  cr_assert_eq(cqlmux_result_decode(4, body, sizeof body, &a, &res), CQLMUX_ERR_TRUNCATED);
  /* a cell length of -2 is not a legal [bytes] */
  memcpy(body, rows_body, sizeof body);
  body[sizeof body - 5] = 0xFE;
  cr_assert_eq(cqlmux_result_decode(4, body, sizeof body, &a, &res), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(counts.mallocs, 0);
  cqlmux_arena_free(&a);
}

Test(proto_response, rows_result_takes_at_most_one_allocation) {
  cqlmux_result_msg res;
  cqlmux_arena a;
  /* no buffer: exactly one block */
  cqlmux_arena_init(&a, &counting_alloc, NULL, 0);
  cr_assert_eq(cqlmux_result_decode(5, rows_body, sizeof rows_body, &a, &res), CQLMUX_OK);
  cr_assert_eq(counts.mallocs, 1);
  cqlmux_arena_free(&a);
  cr_assert_eq(counts.frees, 1);
  /* a buffer too small: still one */
  unsigned char small[24];
  counts.mallocs = 0;
  cqlmux_arena_init(&a, &counting_alloc, small, sizeof small);
  cr_assert_eq(cqlmux_result_decode(5, rows_body, sizeof rows_body, &a, &res), CQLMUX_OK);
  cr_assert_eq(counts.mallocs, 1);
  cqlmux_bytes c;
  cr_assert_eq(cqlmux_rows_cell(&res.rows, 0, 1, &c), CQLMUX_OK);
  cr_assert_eq(c.len, 1);
  cqlmux_arena_free(&a);
  /* a big enough buffer: none */
  unsigned char big[1024];
  counts.mallocs = 0;
  cqlmux_arena_init(&a, &counting_alloc, big, sizeof big);
  cr_assert_eq(cqlmux_result_decode(5, rows_body, sizeof rows_body, &a, &res), CQLMUX_OK);
  cr_assert_eq(counts.mallocs, 0);
  cr_assert_eq(cqlmux_rows_cell(&res.rows, 1, 1, &c), CQLMUX_OK);
  cr_assert_eq(c.len, 0);
  cqlmux_arena_free(&a);
  /* the allocator fails: NOMEM, nothing kept */
  counts.fail_at = 1;
  counts.mallocs = 0;
  cqlmux_arena_init(&a, &counting_alloc, NULL, 0);
  memset(&res, 0x5A, sizeof res);
  cr_assert_eq(cqlmux_result_decode(5, rows_body, sizeof rows_body, &a, &res), CQLMUX_ERR_NOMEM);
  cr_assert_eq(a.used, 0);
  cr_assert_null(a.blocks);
  cr_assert_eq(res.kind, 0x5A5A5A5A, "output untouched on failure");
  /* without an arena a rows result is refused, a void one is fine */
  cr_assert_eq(cqlmux_result_decode(5, rows_body, sizeof rows_body, NULL, &res),
               CQLMUX_ERR_INVALID_ARGUMENT);
  const uint8_t void_body[] = {0, 0, 0, 1};
  cr_assert_eq(cqlmux_result_decode(5, void_body, 4, NULL, &res), CQLMUX_OK);
  cr_assert_eq(res.kind, CQLMUX_RESULT_VOID);
}

Test(proto_response, void_set_keyspace_and_bad_kinds) {
  cqlmux_response r;
  memset(&r, 0, sizeof r);
  r.opcode = CQLMUX_OP_RESULT;
  r.result.kind = CQLMUX_RESULT_VOID;
  roundtrip(4, &r);
  const uint8_t void_body[] = {0, 0, 0, 1};
  expect_bytes(void_body, 4);
  r.result.kind = CQLMUX_RESULT_SET_KEYSPACE;
  r.result.keyspace = S("system");
  cqlmux_response back = roundtrip(5, &r);
  cr_assert(slice_is(back.result.keyspace, "system"));
  const uint8_t bad_kind[] = {0, 0, 0, 6};
  cqlmux_result_msg res;
  cr_assert_eq(cqlmux_result_decode(5, bad_kind, 4, &arena, &res), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_result_decode(3, void_body, 4, &arena, &res), CQLMUX_ERR_UNSUPPORTED_VERSION);
}

Test(proto_response, prepared_v4_and_v5) {
  cqlmux_column_spec bind[3] = {{S("ks"), S("t"), S("a"), N(CQLMUX_TYPE_INT)},
                                {S("ks"), S("t"), S("b"), N(CQLMUX_TYPE_TEXT)},
                                {S("ks"), S("t"), S("c"), N(CQLMUX_TYPE_TIMEUUID)}};
  cqlmux_column_spec out[1] = {{S("ks"), S("t"), S("v"), N(CQLMUX_TYPE_BLOB)}};
  const uint16_t pk[2] = {2, 0};
  for (int version = 4; version <= 5; version++) {
    cqlmux_response r;
    memset(&r, 0, sizeof r);
    r.opcode = CQLMUX_OP_RESULT;
    r.result.kind = CQLMUX_RESULT_PREPARED;
    cqlmux_prepared_msg *p = &r.result.prepared;
    p->id = S("\x01\x02\x03\x04");
    p->result_metadata_id = S("\x09\x08");
    p->flags = CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC;
    p->bind_count = 3;
    p->pk_count = 2;
    p->pk_items = pk;
    p->global_keyspace = S("ks");
    p->global_table = S("t");
    p->bind_columns = bind;
    p->result.flags = 0;
    p->result.columns_count = 1;
    p->result.columns = out;
    p->result.paging_state.len = CQLMUX_VALUE_NULL;
    cqlmux_response back = roundtrip(version, &r);
    const cqlmux_prepared_msg *d = &back.result.prepared;
    cr_assert_eq(d->id.len, 4);
    cr_assert_eq(d->result_metadata_id.len, version >= 5 ? 2u : 0u);
    cr_assert_eq(d->pk_count, 2);
    cr_assert_eq(cqlmux_prepared_pk_index(d, 0), 2);
    cr_assert_eq(cqlmux_prepared_pk_index(d, 1), 0);
    cr_assert_eq(d->bind_columns[2].type, N(CQLMUX_TYPE_TIMEUUID));
    cr_assert(slice_is(d->bind_columns[1].keyspace, "ks"));
    cr_assert_eq(d->result.columns_count, 1);
    cr_assert(slice_is(d->result.columns[0].keyspace, "ks"));
    cr_assert(slice_is(d->result.columns[0].name, "v"));
  }
}

Test(proto_response, prepared_pk_index_out_of_range_is_malformed) {
  const uint8_t body[] = {0, 0, 0, 4,          /* prepared */
                          0, 1, 0xAB,          /* id */
                          0, 0, 0, 0,          /* flags */
                          0, 0, 0, 1,          /* one bind marker */
                          0, 0, 0, 1, 0, 1,    /* pk index 1: out of range */
                          0, 1, 'k', 0, 1, 't', 0, 1, 'a', 0, 9, /* spec */
                          0, 0, 0, 4, 0, 0, 0, 0};               /* no result metadata */
  cqlmux_result_msg res;
  cr_assert_eq(cqlmux_result_decode(4, body, sizeof body, &arena, &res), CQLMUX_ERR_MALFORMED);
  uint8_t ok[sizeof body];
  memcpy(ok, body, sizeof ok);
  ok[20] = 0;
  cr_assert_eq(cqlmux_result_decode(4, ok, sizeof ok, &arena, &res), CQLMUX_OK);
  cr_assert_eq(res.prepared.bind_count, 1);
  cr_assert_eq(res.prepared.result.flags, CQLMUX_ROWS_FLAG_NO_METADATA);
}

/* ------------------------------------------------------------ schema changes, events */

static void fill_schema(cqlmux_schema_change *s, const char *change, const char *target,
                        const cqlmux_slice *args) {
  memset(s, 0, sizeof *s);
  s->change_type = S(change);
  s->target = S(target);
  s->keyspace = S("ks");
  s->name = S("obj");
  s->arg_types.count = 2;
  s->arg_types.items = args;
}

static const char *const targets[] = {"KEYSPACE", "TABLE", "TYPE", "FUNCTION", "AGGREGATE"};
static const char *const changes[] = {"CREATED", "UPDATED", "DROPPED"};

static void check_schema(const cqlmux_schema_change *d, int target_kind, int change) {
  cr_assert_eq(d->target_kind, target_kind);
  cr_assert_eq(d->change, change);
  cr_assert(slice_is(d->keyspace, "ks"));
  if (target_kind != CQLMUX_TARGET_KEYSPACE) cr_assert(slice_is(d->name, "obj"));
  else cr_assert_eq(d->name.len, 0);
  bool fn = target_kind >= CQLMUX_TARGET_FUNCTION;
  cr_assert_eq(d->arg_types.count, fn ? 2 : 0);
}

Test(proto_response, schema_change_results_for_every_target) {
  const cqlmux_slice args[2] = {S("int"), S("frozen<list<text>>")};
  for (int version = 4; version <= 5; version++)
    for (int t = 0; t < 5; t++)
      for (int c = 0; c < 3; c++) {
        cqlmux_response r;
        memset(&r, 0, sizeof r);
        r.opcode = CQLMUX_OP_RESULT;
        r.result.kind = CQLMUX_RESULT_SCHEMA_CHANGE;
        fill_schema(&r.result.schema_change, changes[c], targets[t], args);
        cqlmux_response back = roundtrip(version, &r);
        check_schema(&back.result.schema_change, t + 1, c + 1);
      }
}

Test(proto_response, events_for_every_kind_and_target) {
  const cqlmux_slice args[2] = {S("int"), S("text")};
  static const char *const topo[] = {"NEW_NODE", "REMOVED_NODE"};
  static const char *const status[] = {"UP", "DOWN"};
  cqlmux_inet v4 = {{10, 0, 0, 7}, 4, 9042}, v6 = {{0xfe, 0x80}, 16, 19042};
  for (int i = 0; i < 2; i++) {
    cqlmux_response r;
    memset(&r, 0, sizeof r);
    r.opcode = CQLMUX_OP_EVENT;
    r.event.kind = CQLMUX_EVENT_TOPOLOGY_CHANGE;
    r.event.change = S(topo[i]);
    r.event.address = i ? v6 : v4;
    cqlmux_response back = roundtrip(4, &r);
    cr_assert_eq(back.event.kind, CQLMUX_EVENT_TOPOLOGY_CHANGE);
    cr_assert(slice_is(back.event.type, "TOPOLOGY_CHANGE"));
    cr_assert(slice_is(back.event.change, topo[i]));
    cr_assert_eq(back.event.address.port, i ? 19042 : 9042);
    cr_assert_eq(back.event.address.addr_len, i ? 16 : 4);
    r.event.kind = CQLMUX_EVENT_STATUS_CHANGE;
    r.event.change = S(status[i]);
    back = roundtrip(5, &r);
    cr_assert_eq(back.event.kind, CQLMUX_EVENT_STATUS_CHANGE);
    cr_assert(slice_is(back.event.change, status[i]));
  }
  for (int t = 0; t < 5; t++) {
    cqlmux_response r;
    memset(&r, 0, sizeof r);
    r.opcode = CQLMUX_OP_EVENT;
    r.event.kind = CQLMUX_EVENT_SCHEMA_CHANGE;
    fill_schema(&r.event.schema, changes[t % 3], targets[t], args);
    cqlmux_response back = roundtrip(5, &r);
    cr_assert_eq(back.event.kind, CQLMUX_EVENT_SCHEMA_CHANGE);
    check_schema(&back.event.schema, t + 1, t % 3 + 1);
  }
}

Test(proto_response, status_event_byte_exact) {
  const uint8_t body[] = {0, 13, 'S', 'T', 'A', 'T', 'U', 'S', '_', 'C', 'H', 'A', 'N', 'G', 'E',
                          0, 2,  'U', 'P', 4,   127, 0,   0,   1,   0,   0,   0x23, 0x52};
  cqlmux_event e;
  cr_assert_eq(cqlmux_event_decode(body, sizeof body, &e), CQLMUX_OK);
  cr_assert_eq(e.kind, CQLMUX_EVENT_STATUS_CHANGE);
  cr_assert_eq(e.address.port, 9042);
  cr_assert_eq(e.address.addr[0], 127);
  cqlmux_event_encode(&b, &e);
  expect_bytes(body, sizeof body);
}

Test(proto_response, unknown_event_type_and_schema_target_are_skipped) {
  const uint8_t ev[] = {0, 3, 'N', 'E', 'W', 1, 2, 3};
  cqlmux_event e;
  cr_assert_eq(cqlmux_event_decode(ev, sizeof ev, &e), CQLMUX_OK);
  cr_assert_eq(e.kind, CQLMUX_EVENT_UNKNOWN);
  const uint8_t sc[] = {0, 13, 'S', 'C', 'H', 'E', 'M', 'A', '_', 'C', 'H', 'A', 'N', 'G', 'E',
                        0, 7,  'C', 'R', 'E', 'A', 'T', 'E', 'D', 0, 4, 'V', 'I', 'E', 'W', 9};
  cr_assert_eq(cqlmux_event_decode(sc, sizeof sc, &e), CQLMUX_OK);
  cr_assert_eq(e.schema.target_kind, CQLMUX_TARGET_UNKNOWN);
}

Test(proto_response, request_opcodes_and_versions_are_rejected) {
  cqlmux_response r;
  const uint8_t body[4] = {0};
  cr_assert_eq(cqlmux_response_decode(4, CQLMUX_OP_QUERY, body, 4, &arena, &r), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_response_decode(4, 0x42, body, 4, &arena, &r), CQLMUX_ERR_MALFORMED);
  cr_assert_eq(cqlmux_response_decode(2, CQLMUX_OP_READY, body, 0, &arena, &r),
               CQLMUX_ERR_UNSUPPORTED_VERSION);
  cr_assert_eq(cqlmux_response_decode(6, CQLMUX_OP_READY, body, 0, &arena, &r),
               CQLMUX_ERR_UNSUPPORTED_VERSION);
  cr_assert_eq(cqlmux_response_decode(4, CQLMUX_OP_READY, body, 0, &arena, &r), CQLMUX_OK);
}

/* ------------------------------------------------------------ corrupted input */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 32);
}

Test(proto_response, corrupted_bodies_never_crash) {
  /* a prepared result with a vector column and a rows result as seeds */
  static const char cls[] = "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType , 2)";
  uint8_t seed[512];
  size_t n = 0;
  const uint8_t head[] = {0, 0, 0, 4,          /* prepared */
                          0, 2, 0xAA, 0xBB,    /* id */
                          0, 1, 0xCC,          /* result metadata id */
                          0, 0, 0, 1,          /* flags: global spec */
                          0, 0, 0, 1,          /* one bind marker */
                          0, 0, 0, 1, 0, 0,    /* pk index 0 */
                          0, 2, 'k', 's', 0, 1, 't', 0, 1, 'v', 0, 0};
  memcpy(seed + n, head, sizeof head), n += sizeof head;
  seed[n++] = 0, seed[n++] = (uint8_t)(sizeof cls - 1);
  memcpy(seed + n, cls, sizeof cls - 1), n += sizeof cls - 1;
  const uint8_t tail[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 'k', 0, 1, 't', 0, 1, 'x', 0, 3};
  memcpy(seed + n, tail, sizeof tail), n += sizeof tail;
  cqlmux_result_msg res;
  cr_assert_eq(cqlmux_result_decode(5, seed, n, &arena, &res), CQLMUX_OK);

  const uint8_t *seeds[2] = {seed, rows_body};
  size_t lens[2] = {n, sizeof rows_body};
  for (int iter = 0; iter < 20000; iter++) {
    int which = iter & 1;
    uint8_t buf[512];
    size_t len = lens[which];
    memcpy(buf, seeds[which], len);
    for (int k = 1 + (int)(next_rand() % 4); k > 0; k--) buf[next_rand() % len] = (uint8_t)next_rand();
    if (next_rand() % 4 == 0) len = next_rand() % len;
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, buf, len);
    cqlmux_response r;
    uint8_t op = (uint8_t)(next_rand() % 0x11);
    if (cqlmux_response_decode(4 + (iter >> 1 & 1), op, exact, len, &arena, &r) == CQLMUX_OK) {
      cqlmux_wbuf_reset(&b);
      cqlmux_response_encode(&b, 4 + (iter >> 1 & 1), &r);
    }
    free(exact);
    cqlmux_arena_reset(&arena);
  }
}

Test(proto_response, empty_bodies_may_have_no_data_pointer) {
  /* An empty wbuf has data == NULL: a reader over (NULL, 0) is empty. */
  cqlmux_reader rd = cqlmux_reader_make(NULL, 0);
  uint8_t u8;
  cr_assert_eq(cqlmux_reader_remaining(&rd), 0);
  cr_assert_null(rd.end);
  cr_assert_eq(cqlmux_read_u8(&rd, &u8), CQLMUX_ERR_TRUNCATED);
  cqlmux_response r;
  cr_assert_eq(cqlmux_response_decode(5, CQLMUX_OP_READY, NULL, 0, &arena, &r), CQLMUX_OK);
  cr_assert_eq(cqlmux_response_decode(5, CQLMUX_OP_AUTH_SUCCESS, NULL, 0, &arena, &r),
               CQLMUX_ERR_TRUNCATED);
  cr_assert_eq(cqlmux_response_decode(5, CQLMUX_OP_RESULT, NULL, 0, &arena, &r),
               CQLMUX_ERR_TRUNCATED);
}

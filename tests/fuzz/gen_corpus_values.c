/* Writes the seed corpora of fuzz_result (every response body, v4 and v5)
 * and fuzz_values (types as [option]s and class strings, each with a value).
 * Not a harness (no fuzz_ prefix).
 *
 *   cc -Iinclude -Ilib -I/tmp/cqlmux-fuzz/include tests/fuzz/gen_corpus_values.c \
 *      lib/proto/[a-z]*.c lib/runtime/alloc.c -llz4 -lz -o /tmp/gen_values
 *   /tmp/gen_values tests/fuzz/corpus
 * (tests/fuzz/run.sh leaves the generated cqlmux_version.h in /tmp/cqlmux-fuzz/include.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/response.h"
#include "proto/values.h"

static const char *root;
static cqlmux_arena arena;

static void save(const char *harness, const char *name, const uint8_t *head, size_t nhead,
                 const cqlmux_wbuf *b) {
  char path[512];
  if (b->error) {
    fprintf(stderr, "%s: encode error %d\n", name, b->error);
    exit(1);
  }
  snprintf(path, sizeof path, "%s/%s/%s", root, harness, name);
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fwrite(head, 1, nhead, f);
  fwrite(b->data, 1, b->len, f);
  fclose(f);
}

#define N(id) cqlmux_type_native(id)
#define S(lit) ((cqlmux_slice){(const uint8_t *)(lit), sizeof(lit) - 1})

/* ------------------------------------------------------------ fuzz_result */

static void save_response(int version, const char *name, const cqlmux_response *r) {
  cqlmux_wbuf b;
  char full[128];
  uint8_t head[2] = {(uint8_t)(version - 4), r->opcode};
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_response_encode(&b, version, r);
  snprintf(full, sizeof full, "v%d_%s", version, name);
  save("fuzz_result", full, head, 2, &b);
  cqlmux_wbuf_free(&b);
}

static void errors(int version) {
  static const int32_t codes[] = {0x0000, 0x000A, 0x0100, 0x1000, 0x1001, 0x1002, 0x1003,
                                  0x1100, 0x1200, 0x1300, 0x1400, 0x1500, 0x1600, 0x1700,
                                  0x2000, 0x2100, 0x2200, 0x2300, 0x2400, 0x2500};
  static const cqlmux_slice args[] = {S("int"), S("text")};
  static const cqlmux_failure_reason reasons[] = {{{{10, 0, 0, 1}, 4, 0}, 1},
                                                  {{{0xfe, 0x80}, 16, 0}, 2}};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    cqlmux_response r = {.opcode = CQLMUX_OP_ERROR};
    cqlmux_error_body *e = &r.error;
    e->code = codes[i];
    e->message = S("message");
    e->consistency = 6;
    e->required = 3, e->alive = 1, e->received = 1, e->block_for = 2, e->data_present = 1;
    e->write_type = codes[i] == 0x1100 ? S("CAS") : S("SIMPLE");
    e->contentions = 2;
    e->num_failures = 2;
    e->reasons.count = 2;
    e->reasons.items = reasons;
    e->keyspace = S("ks");
    e->name = S("f");
    e->arg_types.count = 2;
    e->arg_types.items = args;
    e->unprepared_id = S("\x01\x02\x03\x04");
    char name[32];
    snprintf(name, sizeof name, "error_%04x", (unsigned)codes[i]);
    save_response(version, name, &r);
  }
}

static void small_responses(int version) {
  static const cqlmux_slice vers[] = {S("4/v4"), S("5/v5")};
  static const cqlmux_supported_entry sup[] = {{S("PROTOCOL_VERSIONS"), {2, {NULL, 0}, vers}},
                                               {S("COMPRESSION"), {1, {NULL, 0}, vers}}};
  cqlmux_response r = {.opcode = CQLMUX_OP_READY};
  save_response(version, "ready", &r);
  r.opcode = CQLMUX_OP_AUTHENTICATE;
  r.authenticator = S("org.apache.cassandra.auth.PasswordAuthenticator");
  save_response(version, "authenticate", &r);
  r.opcode = CQLMUX_OP_SUPPORTED;
  r.supported = (cqlmux_supported){2, {NULL, 0}, sup};
  save_response(version, "supported", &r);
  r.opcode = CQLMUX_OP_AUTH_CHALLENGE;
  r.token = (cqlmux_bytes){(const uint8_t *)"tok", 3};
  save_response(version, "auth_challenge", &r);
  r.opcode = CQLMUX_OP_AUTH_SUCCESS;
  r.token = (cqlmux_bytes){NULL, -1};
  save_response(version, "auth_success_null", &r);
}

static const char *const targets[] = {"KEYSPACE", "TABLE", "TYPE", "FUNCTION", "AGGREGATE"};

static void schema_and_events(int version) {
  static const cqlmux_slice args[] = {S("int"), S("list<text>")};
  for (int t = 0; t < 5; t++) {
    cqlmux_schema_change sc = {.change_type = S("CREATED"),
                               .target = {(const uint8_t *)targets[t], strlen(targets[t])},
                               .keyspace = S("ks"), .name = S("obj"),
                               .arg_types = {2, {NULL, 0}, args}};
    char name[64];
    cqlmux_response r = {.opcode = CQLMUX_OP_RESULT};
    r.result.kind = CQLMUX_RESULT_SCHEMA_CHANGE;
    r.result.schema_change = sc;
    snprintf(name, sizeof name, "result_schema_%s", targets[t]);
    save_response(version, name, &r);
    cqlmux_response ev = {.opcode = CQLMUX_OP_EVENT};
    ev.event.kind = CQLMUX_EVENT_SCHEMA_CHANGE;
    ev.event.schema = sc;
    snprintf(name, sizeof name, "event_schema_%s", targets[t]);
    save_response(version, name, &ev);
  }
  cqlmux_response ev = {.opcode = CQLMUX_OP_EVENT};
  ev.event.kind = CQLMUX_EVENT_TOPOLOGY_CHANGE;
  ev.event.change = S("NEW_NODE");
  ev.event.address = (cqlmux_inet){{10, 0, 0, 2}, 4, 9042};
  save_response(version, "event_topology", &ev);
  ev.event.kind = CQLMUX_EVENT_STATUS_CHANGE;
  ev.event.change = S("DOWN");
  ev.event.address = (cqlmux_inet){{0xfe, 0x80, 1}, 16, 9042};
  save_response(version, "event_status", &ev);
}

/* Column types exercised by the rows and prepared seeds. */
static const cqlmux_typedesc *col_types[6];

static void make_types(void) {
  const cqlmux_typedesc *m = cqlmux_type_new_map(&arena, N(CQLMUX_TYPE_TEXT),
                                             cqlmux_type_new_list(&arena, N(CQLMUX_TYPE_INT)));
  cqlmux_slice names[2] = {S("a"), S("b")};
  const cqlmux_typedesc *ft[2] = {N(CQLMUX_TYPE_DECIMAL), cqlmux_type_new_set(&arena, N(CQLMUX_TYPE_UUID))};
  col_types[0] = N(CQLMUX_TYPE_UUID);
  col_types[1] = N(CQLMUX_TYPE_TEXT);
  col_types[2] = cqlmux_type_new_vector(&arena, N(CQLMUX_TYPE_FLOAT), 3);
  col_types[3] = m;
  col_types[4] = cqlmux_type_new_udt(&arena, S("ks"), S("u"), 2, names, ft);
  col_types[5] = cqlmux_type_new_vector(&arena, N(CQLMUX_TYPE_TEXT), 2);
}

static void write_row(cqlmux_wbuf *b) {
  static const uint8_t uuid[16] = {0x5f, 0x2c, 0x6a, 0x36, 0x84, 0x5a, 0x11, 0xee};
  static const float fv[3] = {1, 2, 3};
  cqlmux_value_write_uuid(b, uuid);
  cqlmux_value_write_bytes(b, "hello", 5);
  cqlmux_value_write_float_vector(b, fv, 3);
  size_t m = cqlmux_value_begin(b);
  cqlmux_write_i32(b, 1);
  cqlmux_value_write_bytes(b, "k", 1);
  size_t l = cqlmux_value_begin(b);
  cqlmux_write_i32(b, 2);
  cqlmux_value_write_int(b, 1);
  cqlmux_value_write_null(b);
  cqlmux_value_end(b, l);
  cqlmux_value_end(b, m);
  size_t u = cqlmux_value_begin(b);
  cqlmux_value_write_decimal(b, 2, 12345);
  cqlmux_value_end(b, u);
  size_t v = cqlmux_value_begin(b);
  for (int i = 0; i < 2; i++) {
    size_t e = cqlmux_value_vector_elem_begin(b);
    cqlmux_write_raw(b, "ab", 2);
    cqlmux_value_vector_elem_end(b, e);
  }
  cqlmux_value_end(b, v);
}

static void results(int version) {
  cqlmux_column_spec cols[6];
  static const char *const names[6] = {"id", "name", "emb", "tags", "info", "words"};
  for (int i = 0; i < 6; i++)
    cols[i] = (cqlmux_column_spec){S("ks"), S("t"), {(const uint8_t *)names[i], strlen(names[i])},
                                   col_types[i]};
  cqlmux_wbuf content;
  cqlmux_wbuf_init(&content, NULL, 0);
  write_row(&content);
  write_row(&content);
  cqlmux_response r = {.opcode = CQLMUX_OP_RESULT};
  r.result.kind = CQLMUX_RESULT_VOID;
  save_response(version, "result_void", &r);
  r.result.kind = CQLMUX_RESULT_SET_KEYSPACE;
  r.result.keyspace = S("ks");
  save_response(version, "result_set_keyspace", &r);

  r.result.kind = CQLMUX_RESULT_ROWS;
  cqlmux_rows *rows = &r.result.rows;
  *rows = (cqlmux_rows){.rows_count = 2, .content = content.data, .content_len = content.len};
  rows->meta = (cqlmux_rows_metadata){CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC, 6, {NULL, -1}, {NULL, 0},
                                      S("ks"), S("t"), cols};
  save_response(version, "result_rows_global", &r);
  rows->meta.flags = CQLMUX_ROWS_FLAG_HAS_MORE_PAGES | CQLMUX_ROWS_FLAG_METADATA_CHANGED;
  rows->meta.paging_state = (cqlmux_bytes){(const uint8_t *)"\x01\x02", 2};
  rows->meta.new_metadata_id = S("\x0a\x0b");
  save_response(version, "result_rows_paged", &r);
  rows->meta.flags = CQLMUX_ROWS_FLAG_NO_METADATA;
  save_response(version, "result_rows_no_metadata", &r);

  static const uint16_t pk[2] = {1, 0};
  r.result.kind = CQLMUX_RESULT_PREPARED;
  cqlmux_prepared_msg *p = &r.result.prepared;
  *p = (cqlmux_prepared_msg){.id = S("\xde\xad\xbe\xef"), .result_metadata_id = S("\x01"),
                         .flags = CQLMUX_ROWS_FLAG_GLOBAL_TABLES_SPEC, .bind_count = 2,
                         .pk_count = 2, .pk_items = pk, .global_keyspace = S("ks"),
                         .global_table = S("t"), .bind_columns = cols};
  p->result = (cqlmux_rows_metadata){0, 6, {NULL, -1}, {NULL, 0}, {NULL, 0}, {NULL, 0}, cols};
  save_response(version, "result_prepared", &r);
  cqlmux_wbuf_free(&content);
}

/* ------------------------------------------------------------ fuzz_values */

static void save_value(const char *name, int cls, const cqlmux_typedesc *t, const cqlmux_wbuf *value) {
  cqlmux_wbuf b;
  uint8_t head[1] = {(uint8_t)(cls | 2)};
  cqlmux_wbuf_init(&b, NULL, 0);
  if (cls) {
    cqlmux_type_write_class(&b, t);
    cqlmux_write_u8(&b, 0);
  } else {
    cqlmux_type_encode(&b, 5, t);
  }
  /* the value without its [int] length */
  if (value->len >= 4) cqlmux_write_raw(&b, value->data + 4, value->len - 4);
  save("fuzz_values", name, head, 1, &b);
  cqlmux_wbuf_free(&b);
}

static void values(void) {
  cqlmux_wbuf v, row;
  cqlmux_wbuf_init(&v, NULL, 0);
  cqlmux_wbuf_init(&row, NULL, 0);
  write_row(&row);
  cqlmux_reader r = cqlmux_reader_make(row.data, row.len);
  cqlmux_bytes cells[6];
  static const char *const names[6] = {"uuid", "text", "vector_float", "map_list", "udt",
                                       "vector_text"};
  for (int i = 0; i < 6; i++) {
    char name[64];
    cqlmux_read_bytes(&r, &cells[i]);
    cqlmux_wbuf_reset(&v);
    cqlmux_write_bytes(&v, cells[i]);
    snprintf(name, sizeof name, "option_%s", names[i]);
    save_value(name, 0, col_types[i], &v);
    snprintf(name, sizeof name, "class_%s", names[i]);
    save_value(name, 1, col_types[i], &v);
  }
  struct {
    const char *name;
    uint16_t id;
  } scalars[] = {{"varint", CQLMUX_TYPE_VARINT}, {"decimal", CQLMUX_TYPE_DECIMAL},
                 {"duration", CQLMUX_TYPE_DURATION}, {"inet", CQLMUX_TYPE_INET},
                 {"time", CQLMUX_TYPE_TIME}, {"timeuuid", CQLMUX_TYPE_TIMEUUID}};
  cqlmux_inet a6 = {{0x20, 0x01, 0x0d, 0xb8}, 16, 0};
  static const uint8_t tu[16] = {0x5f, 0x2c, 0x6a, 0x36, 0x84, 0x5a, 0x11, 0xee};
  for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
    cqlmux_wbuf_reset(&v);
    switch (scalars[i].id) {
    case CQLMUX_TYPE_VARINT: cqlmux_value_write_varint(&v, -129); break;
    case CQLMUX_TYPE_DECIMAL: cqlmux_value_write_decimal(&v, 7, -1); break;
    case CQLMUX_TYPE_DURATION: cqlmux_value_write_duration(&v, (cqlmux_duration){1, 2, 3}); break;
    case CQLMUX_TYPE_INET: cqlmux_value_write_inet(&v, &a6); break;
    case CQLMUX_TYPE_TIME: cqlmux_value_write_time(&v, 1000); break;
    default: cqlmux_value_write_uuid(&v, tu); break;
    }
    save_value(scalars[i].name, 0, N(scalars[i].id), &v);
  }
  /* a tuple nesting the composites above */
  const cqlmux_typedesc *tk[3] = {col_types[3], col_types[4], col_types[2]};
  const cqlmux_typedesc *tup = cqlmux_type_new_tuple(&arena, 3, tk);
  cqlmux_wbuf_reset(&v);
  size_t m = cqlmux_value_begin(&v);
  cqlmux_write_bytes(&v, cells[3]);
  cqlmux_write_bytes(&v, cells[4]);
  cqlmux_write_bytes(&v, cells[2]);
  cqlmux_value_end(&v, m);
  save_value("tuple_nested", 0, tup, &v);
  save_value("tuple_nested_class", 1, tup, &v);
  cqlmux_wbuf_free(&v);
  cqlmux_wbuf_free(&row);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  root = argv[1];
  cqlmux_arena_init(&arena, NULL, NULL, 0);
  make_types();
  for (int version = 4; version <= 5; version++) {
    errors(version);
    small_responses(version);
    schema_and_events(version);
    results(version);
  }
  values();
  cqlmux_arena_free(&arena);
  return 0;
}

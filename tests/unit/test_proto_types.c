/* Type descriptors: [option] trees and Java marshal class strings. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "proto/types.h"

static cqlmux_arena arena;

static void setup(void) { cqlmux_arena_init(&arena, NULL, NULL, 0); }
static void teardown(void) { cqlmux_arena_free(&arena); }

TestSuite(proto_types, .init = setup, .fini = teardown);

/* Decodes an [option], growing the arena once if the first pass counted. */
static int decode(const uint8_t *p, size_t n, const cqlmux_typedesc **out) {
  size_t mark = cqlmux_arena_mark(&arena);
  cqlmux_reader r = cqlmux_reader_make(p, n);
  int rc = cqlmux_type_decode(&r, &arena, out);
  if (rc == CQLMUX_OK && cqlmux_arena_overflowed(&arena)) {
    cr_assert_eq(cqlmux_arena_grow(&arena, mark), CQLMUX_OK);
    r = cqlmux_reader_make(p, n);
    rc = cqlmux_type_decode(&r, &arena, out);
    cr_assert(!cqlmux_arena_overflowed(&arena));
  }
  if (rc == CQLMUX_OK) cr_assert_eq(cqlmux_reader_remaining(&r), 0, "option not fully consumed");
  return rc;
}

static int parse(const char *cls, const cqlmux_typedesc **out) {
  size_t mark = cqlmux_arena_mark(&arena);
  int rc = cqlmux_type_parse_class(cqlmux_slice_from_cstr(cls), &arena, out);
  if (rc == CQLMUX_OK && cqlmux_arena_overflowed(&arena)) {
    cr_assert_eq(cqlmux_arena_grow(&arena, mark), CQLMUX_OK);
    rc = cqlmux_type_parse_class(cqlmux_slice_from_cstr(cls), &arena, out);
    cr_assert(!cqlmux_arena_overflowed(&arena));
  }
  return rc;
}

static bool slice_is(cqlmux_slice s, const char *lit) {
  return s.len == strlen(lit) && memcmp(s.data, lit, s.len) == 0;
}

#define N(id) cqlmux_type_native(id)

Test(proto_types, every_native_id_decodes_to_its_static_node) {
  for (uint16_t id = 1; id <= 0x15; id++) {
    uint8_t opt[2] = {0, (uint8_t)id};
    const cqlmux_typedesc *t = NULL;
    int rc = decode(opt, 2, &t);
    if (id == 0x0A) {
      cr_assert_eq(rc, CQLMUX_ERR_MALFORMED);
      continue;
    }
    cr_assert_eq(rc, CQLMUX_OK, "id %u", id);
    cr_assert_eq(t, N(id));
    cr_assert_eq(t->id, id);
  }
  cr_assert_eq(N(CQLMUX_TYPE_INT)->fixed_size, 4);
  cr_assert_eq(N(CQLMUX_TYPE_UUID)->fixed_size, 16);
  cr_assert_eq(N(CQLMUX_TYPE_SMALLINT)->fixed_size, -1, "Cassandra treats smallint as variable");
  cr_assert_eq(N(CQLMUX_TYPE_COUNTER)->fixed_size, -1);
}

Test(proto_types, unknown_ids_are_malformed) {
  static const uint16_t bad[] = {0x000A, 0x0016, 0x0023, 0x0032, 0x0100, 0xFFFF};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t opt[2] = {(uint8_t)(bad[i] >> 8), (uint8_t)bad[i]};
    const cqlmux_typedesc *t;
    cr_assert_eq(decode(opt, 2, &t), CQLMUX_ERR_MALFORMED, "id %#x", bad[i]);
  }
}

/* map<text, frozen<list<int>>> */
static const uint8_t map_opt[] = {0x00, 0x21, 0x00, 0x0D, 0x00, 0x20, 0x00, 0x09};

/* udt ks.addr {street text, zips set<int>} */
static const uint8_t udt_opt[] = {0x00, 0x30, 0x00, 0x02, 'k', 's', 0x00, 0x04, 'a', 'd', 'd',
                                  'r', 0x00, 0x02, 0x00, 0x06, 's', 't', 'r', 'e', 'e', 't',
                                  0x00, 0x0D, 0x00, 0x04, 'z', 'i', 'p', 's', 0x00, 0x22, 0x00,
                                  0x09};

Test(proto_types, collections_udt_tuple_decode_and_reencode_byte_exact) {
  const cqlmux_typedesc *t;
  cr_assert_eq(decode(map_opt, sizeof map_opt, &t), CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_MAP);
  cr_assert_eq(t->count, 2);
  cr_assert_eq(t->children[0], N(CQLMUX_TYPE_TEXT));
  cr_assert_eq(t->children[1]->id, CQLMUX_TYPE_LIST);
  cr_assert_eq(t->children[1]->children[0], N(CQLMUX_TYPE_INT));

  cr_assert_eq(decode(udt_opt, sizeof udt_opt, &t), CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_UDT);
  cr_assert(slice_is(t->keyspace, "ks") && slice_is(t->name, "addr"));
  cr_assert_eq(t->count, 2);
  cr_assert(slice_is(t->field_names[0], "street") && slice_is(t->field_names[1], "zips"));
  cr_assert_eq(t->children[1]->id, CQLMUX_TYPE_SET);

  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_type_encode(&b, 5, t);
  cr_assert_eq(b.error, 0);
  cr_assert_eq(b.len, sizeof udt_opt);
  cr_assert_arr_eq(b.data, udt_opt, sizeof udt_opt);
  cqlmux_wbuf_free(&b);
}

Test(proto_types, tuple_with_nested_udt) {
  /* tuple<int, udt, map<text,list<int>>> */
  uint8_t opt[128];
  size_t n = 0;
  const uint8_t head[] = {0x00, 0x31, 0x00, 0x03, 0x00, 0x09};
  memcpy(opt + n, head, sizeof head), n += sizeof head;
  memcpy(opt + n, udt_opt, sizeof udt_opt), n += sizeof udt_opt;
  memcpy(opt + n, map_opt, sizeof map_opt), n += sizeof map_opt;
  const cqlmux_typedesc *t;
  cr_assert_eq(decode(opt, n, &t), CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_TUPLE);
  cr_assert_eq(t->count, 3);
  cr_assert_eq(t->children[1]->id, CQLMUX_TYPE_UDT);
  cr_assert_eq(t->children[2]->id, CQLMUX_TYPE_MAP);
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_type_encode(&b, 4, t);
  cr_assert_eq(b.len, n);
  cr_assert_arr_eq(b.data, opt, n);
  cqlmux_wbuf_free(&b);
}

Test(proto_types, every_truncation_of_an_option_fails_cleanly) {
  uint8_t opt[128];
  size_t n = 0;
  const uint8_t head[] = {0x00, 0x31, 0x00, 0x03, 0x00, 0x09};
  memcpy(opt + n, head, sizeof head), n += sizeof head;
  memcpy(opt + n, udt_opt, sizeof udt_opt), n += sizeof udt_opt;
  memcpy(opt + n, map_opt, sizeof map_opt), n += sizeof map_opt;
  for (size_t cut = 0; cut < n; cut++) {
    const cqlmux_typedesc *t;
    int rc = decode(opt, cut, &t);
    cr_assert(rc == CQLMUX_ERR_TRUNCATED || rc == CQLMUX_ERR_MALFORMED, "cut %zu rc %d", cut, rc);
  }
}

static size_t nested_lists(uint8_t *p, unsigned depth) {
  size_t n = 0;
  for (unsigned i = 0; i < depth; i++) p[n++] = 0x00, p[n++] = 0x20;
  p[n++] = 0x00;
  p[n++] = 0x09;
  return n;
}

Test(proto_types, nesting_is_capped) {
  uint8_t opt[2 * (CQLMUX_TYPE_MAX_DEPTH + 4)];
  const cqlmux_typedesc *t;
  cr_assert_eq(decode(opt, nested_lists(opt, CQLMUX_TYPE_MAX_DEPTH), &t), CQLMUX_OK);
  cr_assert_eq(decode(opt, nested_lists(opt, CQLMUX_TYPE_MAX_DEPTH + 1), &t), CQLMUX_ERR_MALFORMED);
}

Test(proto_types, udt_field_count_beyond_the_bytes_is_rejected_before_allocating) {
  const uint8_t opt[] = {0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00};
  const cqlmux_typedesc *t;
  cr_assert_eq(decode(opt, sizeof opt, &t), CQLMUX_ERR_TRUNCATED);
  cr_assert_eq(cqlmux_arena_mark(&arena), 0, "nothing allocated");
}

/* ------------------------------------------------------------ class strings */

Test(proto_types, vector_of_float_from_custom_option) {
  static const char cls[] =
      "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType, 3)";
  uint8_t opt[256];
  opt[0] = 0;
  opt[1] = 0;
  opt[2] = 0;
  opt[3] = (uint8_t)(sizeof cls - 1);
  memcpy(opt + 4, cls, sizeof cls - 1);
  const cqlmux_typedesc *t;
  cr_assert_eq(decode(opt, 4 + sizeof cls - 1, &t), CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_VECTOR);
  cr_assert_eq(t->dimension, 3);
  cr_assert_eq(t->children[0], N(CQLMUX_TYPE_FLOAT));
  cr_assert_eq(t->fixed_size, 12);
  /* re-encoded exactly as received */
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_type_encode(&b, 5, t);
  cr_assert_eq(b.len, 4 + sizeof cls - 1);
  cr_assert_arr_eq(b.data, opt, b.len);
  cqlmux_wbuf_free(&b);
}

Test(proto_types, cassandra_spelling_of_vector_parameters) {
  const cqlmux_typedesc *t;
  cr_assert_eq(parse("org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal."
                     "UTF8Type , 2)",
                     &t),
               CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_VECTOR);
  cr_assert_eq(t->children[0], N(CQLMUX_TYPE_TEXT));
  cr_assert_eq(t->dimension, 2);
  cr_assert_eq(t->fixed_size, -1);
}

Test(proto_types, nested_short_names_and_frozen) {
  const cqlmux_typedesc *t;
  cr_assert_eq(parse("VectorType(ListType(Int32Type),2)", &t), CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_VECTOR);
  cr_assert_eq(t->children[0]->id, CQLMUX_TYPE_LIST);
  cr_assert_eq(t->children[0]->children[0], N(CQLMUX_TYPE_INT));
  cr_assert_eq(t->fixed_size, -1);

  cr_assert_eq(parse("org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal."
                     "FrozenType(org.apache.cassandra.db.marshal.MapType(org.apache.cassandra.db."
                     "marshal.UTF8Type,org.apache.cassandra.db.marshal.LongType)) , 4)",
                     &t),
               CQLMUX_OK);
  const cqlmux_typedesc *m = t->children[0];
  cr_assert_eq(m->id, CQLMUX_TYPE_MAP);
  cr_assert(m->flags & CQLMUX_TYPE_F_FROZEN);
  cr_assert_eq(m->children[1], N(CQLMUX_TYPE_BIGINT));

  cr_assert_eq(parse("VectorType(VectorType(DoubleType,2),3)", &t), CQLMUX_OK);
  cr_assert_eq(t->children[0]->fixed_size, 16);
  cr_assert_eq(t->fixed_size, 48, "a vector of fixed vectors is fixed");
}

Test(proto_types, every_marshal_class_maps_to_its_type) {
  static const struct {
    const char *cls;
    uint16_t id;
  } map[] = {
      {"AsciiType", CQLMUX_TYPE_ASCII},         {"LongType", CQLMUX_TYPE_BIGINT},
      {"BytesType", CQLMUX_TYPE_BLOB},          {"BooleanType", CQLMUX_TYPE_BOOLEAN},
      {"CounterColumnType", CQLMUX_TYPE_COUNTER}, {"DecimalType", CQLMUX_TYPE_DECIMAL},
      {"DoubleType", CQLMUX_TYPE_DOUBLE},       {"FloatType", CQLMUX_TYPE_FLOAT},
      {"Int32Type", CQLMUX_TYPE_INT},           {"TimestampType", CQLMUX_TYPE_TIMESTAMP},
      {"DateType", CQLMUX_TYPE_TIMESTAMP},      {"UUIDType", CQLMUX_TYPE_UUID},
      {"UTF8Type", CQLMUX_TYPE_TEXT},        {"IntegerType", CQLMUX_TYPE_VARINT},
      {"TimeUUIDType", CQLMUX_TYPE_TIMEUUID},   {"InetAddressType", CQLMUX_TYPE_INET},
      {"SimpleDateType", CQLMUX_TYPE_DATE},     {"TimeType", CQLMUX_TYPE_TIME},
      {"ShortType", CQLMUX_TYPE_SMALLINT},      {"ByteType", CQLMUX_TYPE_TINYINT},
      {"DurationType", CQLMUX_TYPE_DURATION},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    char full[128];
    const cqlmux_typedesc *t;
    snprintf(full, sizeof full, "org.apache.cassandra.db.marshal.%s", map[i].cls);
    cr_assert_eq(parse(full, &t), CQLMUX_OK, "%s", full);
    cr_assert_eq(t, N(map[i].id), "%s", full);
    cr_assert_eq(parse(map[i].cls, &t), CQLMUX_OK);
    cr_assert_eq(t, N(map[i].id));
  }
}

Test(proto_types, user_type_tuple_set_reversed_in_class_strings) {
  const cqlmux_typedesc *t;
  cr_assert_eq(parse("org.apache.cassandra.db.marshal.UserType(ks,61646472,"
                     "737472656574:org.apache.cassandra.db.marshal.UTF8Type,"
                     "7a697073:org.apache.cassandra.db.marshal.SetType(org.apache.cassandra.db."
                     "marshal.Int32Type))",
                     &t),
               CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_UDT);
  cr_assert(t->flags & CQLMUX_TYPE_F_HEX_NAMES);
  cr_assert(slice_is(t->keyspace, "ks") && slice_is(t->name, "61646472"));
  cr_assert_eq(t->count, 2);
  cr_assert_eq(t->children[1]->id, CQLMUX_TYPE_SET);

  /* equal to the same UDT from an [option] (names decoded from hex) */
  const cqlmux_typedesc *u;
  cr_assert_eq(decode(udt_opt, sizeof udt_opt, &u), CQLMUX_OK);
  cr_assert(cqlmux_type_equal(t, u));

  /* and its [option] form decodes the hex names */
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_type_encode(&b, 5, t);
  cr_assert_eq(b.len, sizeof udt_opt);
  cr_assert_arr_eq(b.data, udt_opt, b.len);
  cqlmux_wbuf_free(&b);

  cr_assert_eq(parse("TupleType(Int32Type, ReversedType(UTF8Type),BooleanType)", &t), CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_TUPLE);
  cr_assert_eq(t->count, 3);
  cr_assert_eq(t->children[1], N(CQLMUX_TYPE_TEXT));
}

Test(proto_types, unknown_classes_stay_opaque) {
  const cqlmux_typedesc *t;
  cr_assert_eq(parse("com.example.GeoPoint", &t), CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_CUSTOM);
  cr_assert(slice_is(t->custom, "com.example.GeoPoint"));
  cr_assert_eq(parse("org.apache.cassandra.db.marshal.DynamicCompositeType(a=>Int32Type,b=>(x))",
                     &t),
               CQLMUX_OK);
  cr_assert_eq(t->id, CQLMUX_TYPE_CUSTOM);
  cr_assert_eq(parse("VectorType(com.example.Thing(1,2),2)", &t), CQLMUX_OK);
  cr_assert_eq(t->children[0]->id, CQLMUX_TYPE_CUSTOM);
  cr_assert(slice_is(t->children[0]->custom, "com.example.Thing(1,2)"));
}

Test(proto_types, bad_class_strings_are_malformed) {
  static const char *const bad[] = {
      "",
      "VectorType(FloatType)",
      "VectorType(FloatType,0)",
      "VectorType(FloatType,-1)",
      "VectorType(FloatType,99999999999)",
      "VectorType(FloatType,3",
      "VectorType(FloatType,3))",
      "ListType()",
      "ListType(Int32Type,Int32Type)",
      "MapType(Int32Type)",
      "Int32Type(1)",
      "com.example.X(unbalanced",
      "UserType(ks,zz,61:Int32Type)",
      "UserType(ks,61,6:Int32Type)",
      "UserType(ks)",
      "FrozenType(ListType(Int32Type)",
      "Int32Type garbage",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const cqlmux_typedesc *t;
    cr_assert_eq(parse(bad[i], &t), CQLMUX_ERR_MALFORMED, "%s", bad[i]);
  }
}

Test(proto_types, class_string_nesting_is_capped) {
  char s[2048] = "";
  for (int i = 0; i < CQLMUX_TYPE_MAX_DEPTH; i++) strcat(s, "ListType(");
  strcat(s, "Int32Type");
  for (int i = 0; i < CQLMUX_TYPE_MAX_DEPTH; i++) strcat(s, ")");
  const cqlmux_typedesc *t;
  cr_assert_eq(parse(s, &t), CQLMUX_OK);
  char deeper[2100] = "ListType(";
  strcat(deeper, s);
  strcat(deeper, ")");
  cr_assert_eq(parse(deeper, &t), CQLMUX_ERR_MALFORMED);
}

/* ------------------------------------------------------------ building, generating */

Test(proto_types, built_vector_generates_cassandras_class_string) {
  const cqlmux_typedesc *v = cqlmux_type_new_vector(&arena, N(CQLMUX_TYPE_FLOAT), 3);
  cr_assert_not_null(v);
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_type_write_class(&b, v);
  static const char want[] =
      "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType , 3)";
  cr_assert_eq(b.len, sizeof want - 1);
  cr_assert_arr_eq(b.data, want, b.len);

  /* as an [option]: custom id + [string], and back */
  cqlmux_wbuf_reset(&b);
  cqlmux_type_encode(&b, 5, v);
  cr_assert_eq(b.len, 4 + sizeof want - 1);
  cr_assert_eq(b.data[1], 0x00);
  const cqlmux_typedesc *back;
  cr_assert_eq(decode(b.data, b.len, &back), CQLMUX_OK);
  cr_assert(cqlmux_type_equal(v, back));
  cqlmux_wbuf_free(&b);
}

Test(proto_types, built_trees_roundtrip_through_option_and_class_forms) {
  const cqlmux_typedesc *l = cqlmux_type_new_list(&arena, N(CQLMUX_TYPE_INT));
  const cqlmux_typedesc *m = cqlmux_type_new_map(&arena, N(CQLMUX_TYPE_TEXT), l);
  cqlmux_slice names[2] = {cqlmux_slice_from_cstr("a"), cqlmux_slice_from_cstr("b")};
  const cqlmux_typedesc *ft[2] = {m, cqlmux_type_new_set(&arena, N(CQLMUX_TYPE_UUID))};
  const cqlmux_typedesc *u = cqlmux_type_new_udt(&arena, cqlmux_slice_from_cstr("ks"),
                                             cqlmux_slice_from_cstr("t"), 2, names, ft);
  const cqlmux_typedesc *tk[3] = {N(CQLMUX_TYPE_BOOLEAN), u,
                              cqlmux_type_new_vector(&arena, N(CQLMUX_TYPE_TEXT), 2)};
  const cqlmux_typedesc *tup = cqlmux_type_new_tuple(&arena, 3, tk);
  cr_assert_not_null(tup);

  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  for (int version = 4; version <= 5; version++) {
    cqlmux_wbuf_reset(&b);
    cqlmux_type_encode(&b, version, tup);
    cr_assert_eq(b.error, 0);
    const cqlmux_typedesc *back;
    cr_assert_eq(decode(b.data, b.len, &back), CQLMUX_OK);
    cr_assert(cqlmux_type_equal(tup, back));
  }
  /* the class form of the whole tree parses back to an equal tree */
  cqlmux_wbuf_reset(&b);
  cqlmux_type_write_class(&b, tup);
  cqlmux_write_u8(&b, 0);
  const cqlmux_typedesc *back;
  cr_assert_eq(parse((const char *)b.data, &back), CQLMUX_OK, "%s", b.data);
  cr_assert(cqlmux_type_equal(tup, back));
  cqlmux_wbuf_free(&b);
}

Test(proto_types, duration_is_custom_in_v4) {
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_type_encode(&b, 5, N(CQLMUX_TYPE_DURATION));
  cr_assert_eq(b.len, 2);
  cr_assert_eq(b.data[1], 0x15);
  cqlmux_wbuf_reset(&b);
  cqlmux_type_encode(&b, 4, N(CQLMUX_TYPE_DURATION));
  cr_assert_eq(b.data[1], 0x00);
  const cqlmux_typedesc *t;
  cr_assert_eq(decode(b.data, b.len, &t), CQLMUX_OK);
  cr_assert_eq(t, N(CQLMUX_TYPE_DURATION));
  cqlmux_wbuf_free(&b);
}

Test(proto_types, counting_pass_then_one_block) {
  /* An arena with no room: the pass succeeds while counting, and the grow
   * takes exactly what was counted. */
  cqlmux_arena a;
  unsigned char small[16];
  cqlmux_arena_init(&a, NULL, small, sizeof small);
  cqlmux_reader r = cqlmux_reader_make(udt_opt, sizeof udt_opt);
  const cqlmux_typedesc *t;
  cr_assert_eq(cqlmux_type_decode(&r, &a, &t), CQLMUX_OK);
  cr_assert(cqlmux_arena_overflowed(&a));
  size_t need = a.used;
  cr_assert_eq(cqlmux_arena_grow(&a, 0), CQLMUX_OK);
  cr_assert_eq(a.cap, need);
  r = cqlmux_reader_make(udt_opt, sizeof udt_opt);
  cr_assert_eq(cqlmux_type_decode(&r, &a, &t), CQLMUX_OK);
  cr_assert_eq(a.used, a.cap, "the second pass fills the block exactly");
  cr_assert_eq(t->id, CQLMUX_TYPE_UDT);
  cqlmux_arena_free(&a);
}

/* ------------------------------------------------------- arena block reuse */

/* A grown block is kept across cqlmux_arena_reset_keep when it is within
 * the bound, and the next use starts on it, leaving the caller's buffer to
 * the caller. */
Test(proto_types, reset_keep_reuses_a_grown_block_within_the_bound) {
  cqlmux_arena a;
  unsigned char small[64];
  cqlmux_arena_init(&a, NULL, small, sizeof small);
  cr_assert(cqlmux_arena_on_initial(&a));
  /* 40 bytes in the caller's buffer, then a pass that needs 96 more. */
  cr_assert_not_null(cqlmux_arena_alloc(&a, 40));
  size_t mark = cqlmux_arena_mark(&a);
  cr_assert_null(cqlmux_arena_alloc(&a, 96));
  cr_assert_eq(cqlmux_arena_grow(&a, mark), CQLMUX_OK);
  cr_assert_eq(a.cap, 96, "what the pass counted: the caller's buffer is there next time");
  cr_assert_not(cqlmux_arena_on_initial(&a));
  void *block = a.base;
  cr_assert_not_null(cqlmux_arena_alloc(&a, 96));
  size_t owned = cqlmux_arena_owned(&a);
  cqlmux_arena_reset_keep(&a, 1024);
  cr_assert_eq(cqlmux_arena_owned(&a), owned, "kept");
  cr_assert_eq((void *)a.base, block, "the next use starts on the kept block");
  cr_assert_not(cqlmux_arena_on_initial(&a), "the caller's buffer is free for its 40 bytes");
  cr_assert_eq(a.used, 0);
  /* The like pass again: one pass, nothing allocated. */
  cr_assert_not_null(cqlmux_arena_alloc(&a, 96));
  cr_assert_not(cqlmux_arena_overflowed(&a));
  cr_assert_eq(cqlmux_arena_owned(&a), owned);
  /* A plain reset lets it go and starts on the caller's buffer again. */
  cqlmux_arena_reset(&a);
  cr_assert_eq(cqlmux_arena_owned(&a), 0);
  cr_assert_eq((void *)a.base, (void *)small);
  cr_assert(cqlmux_arena_on_initial(&a));
  cqlmux_arena_free(&a);
}

/* Growing out of a block of its own, the new block also counts what that
 * block held before the pass: kept, it takes the whole content next time. */
Test(proto_types, growing_from_an_own_block_sizes_for_the_whole_content) {
  cqlmux_arena a;
  cqlmux_arena_init(&a, NULL, NULL, 0);
  cr_assert_not_null(cqlmux_arena_alloc_grow(&a, 200)); /* a 512-byte block */
  cr_assert_eq(a.cap, 512);
  size_t mark = cqlmux_arena_mark(&a);
  cr_assert_null(cqlmux_arena_alloc(&a, 600));
  cr_assert_eq(cqlmux_arena_grow(&a, mark), CQLMUX_OK);
  cr_assert_eq(a.cap, 800);
  cqlmux_arena_reset_keep(&a, 4096);
  cr_assert_eq(a.cap, 800);
  cr_assert_not_null(cqlmux_arena_alloc(&a, 200));
  cr_assert_not_null(cqlmux_arena_alloc(&a, 600));
  cr_assert_not(cqlmux_arena_overflowed(&a));
  cqlmux_arena_free(&a);
}

/* Allocates size bytes, growing the arena (one block of size + what the
 * current block holds) when they do not fit. */
static void alloc_or_grow(cqlmux_arena *a, size_t size) {
  size_t mark = cqlmux_arena_mark(a);
  if (cqlmux_arena_alloc(a, size)) return;
  cr_assert_eq(cqlmux_arena_grow(a, mark), CQLMUX_OK);
  cr_assert_not_null(cqlmux_arena_alloc(a, size));
}

Test(proto_types, reset_keep_frees_blocks_over_the_bound_and_keeps_the_largest_fitting) {
  cqlmux_arena a;
  unsigned char small[64];
  cqlmux_arena_init(&a, NULL, small, sizeof small);
  alloc_or_grow(&a, 200);  /* block of 200 */
  alloc_or_grow(&a, 5000); /* block of 5200 */
  cr_assert_eq(cqlmux_arena_owned(&a), 2 * 16 + 200 + 5200);
  cqlmux_arena_reset_keep(&a, 4096);
  cr_assert_eq(cqlmux_arena_owned(&a), 16 + 200, "the one over the bound is freed");
  cr_assert_eq(a.cap, 200);
  alloc_or_grow(&a, 3000); /* block of 3000 beside the kept 200 */
  cqlmux_arena_reset_keep(&a, 4096);
  cr_assert_eq(cqlmux_arena_owned(&a), 16 + 3000, "the largest within the bound is kept");
  cr_assert_eq(a.cap, 3000);
  /* A bound under every block: all go, back on the caller's buffer. */
  cqlmux_arena_reset_keep(&a, 16);
  cr_assert_eq(cqlmux_arena_owned(&a), 0);
  cr_assert_eq((void *)a.base, (void *)small);
  cqlmux_arena_free(&a);
}

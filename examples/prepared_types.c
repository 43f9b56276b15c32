/* A prepared INSERT binding every CQL type of Cassandra 5.0, vector
 * included, then the row read back and checked value by value.
 *
 *   cc prepared_types.c $(pkg-config --cflags --libs cqlmux) -o prepared_types
 *   ./prepared_types [contact-points] [port]
 *
 * (Re)creates cqlmux_examples.all_types (one column per type: scalars,
 * list, set, map, tuple, a frozen UDT and a vector) and
 * cqlmux_examples.hits (a counter: Cassandra keeps counters in tables of
 * their own). Scalars bind with cqlmux_statement_bind_*, composites with a
 * cqlmux_builder. Reading is zero-copy: every value read points into the
 * SELECT's future, so the checks run before it is freed. Prints one line
 * per mismatch and exits non-zero when there is any. */
#include <cqlmux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mismatches;

static void expect(int condition, const char *what) {
  if (condition) return;
  fprintf(stderr, "mismatch: %s\n", what);
  mismatches++;
}

/* ---- the values written ------------------------------------------------ */

static const uint8_t blob[] = {0x00, 0xca, 0xfe, 0xff};
static const uint8_t uuid[16] = {0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4,
                                 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00};
/* A version 1 UUID, as timeuuid requires. */
static const uint8_t timeuuid[16] = {0xd2, 0x17, 0x7d, 0xd0, 0xea, 0xa2, 0x11, 0xde,
                                     0xa5, 0x72, 0x00, 0x1b, 0x77, 0x9c, 0x76, 0xe3};
static const uint8_t inet6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t big_varint[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}; /* 2^64 */
#define DATE_2024_02_29 (2147483648u + 19782u) /* days, epoch at 2^31 */
#define TIME_NS 45296789000123LL               /* 12:34:56.789000123 */
#define TIMESTAMP_MS 1709210096789LL           /* 2024-02-29T12:34:56.789Z */
static const char text_value[] = "h\xc3\xa9llo, w\xc3\xb6rld"; /* UTF-8 */

static const char *const columns =
    "id, c_ascii, c_bigint, c_blob, c_boolean, c_date, c_decimal, c_double, c_duration, c_float, "
    "c_inet, c_smallint, c_text, c_time, c_timestamp, c_timeuuid, c_tinyint, c_uuid, c_varchar, "
    "c_varint, c_list, c_set, c_map, c_tuple, c_udt, c_vector";
enum { COLUMN_COUNT = 26 };

/* ---- binding ----------------------------------------------------------- */

static int bind_scalars(cqlmux_statement *st) {
  int rc = CQLMUX_OK;
  size_t i = 0;
#define BIND(call) \
  if (rc == CQLMUX_OK) rc = (call)
  BIND(cqlmux_statement_bind_int32(st, i++, 1));
  BIND(cqlmux_statement_bind_ascii(st, i++, "plain ascii", 11));
  BIND(cqlmux_statement_bind_int64(st, i++, INT64_MIN));
  BIND(cqlmux_statement_bind_blob(st, i++, blob, sizeof blob));
  BIND(cqlmux_statement_bind_bool(st, i++, 1));
  BIND(cqlmux_statement_bind_date(st, i++, DATE_2024_02_29));
  BIND(cqlmux_statement_bind_decimal_int64(st, i++, -123456789, 4)); /* -12345.6789 */
  BIND(cqlmux_statement_bind_double(st, i++, -0.1));
  BIND(cqlmux_statement_bind_duration(st, i++, 14, 3, 3723000000000LL)); /* 1y2mo3d1h2m3s */
  BIND(cqlmux_statement_bind_float(st, i++, 3.25f));
  BIND(cqlmux_statement_bind_inet(st, i++, inet6, sizeof inet6));
  BIND(cqlmux_statement_bind_int16(st, i++, -32768));
  BIND(cqlmux_statement_bind_text(st, i++, text_value, strlen(text_value)));
  BIND(cqlmux_statement_bind_time(st, i++, TIME_NS));
  BIND(cqlmux_statement_bind_int64(st, i++, TIMESTAMP_MS));
  BIND(cqlmux_statement_bind_uuid(st, i++, timeuuid));
  BIND(cqlmux_statement_bind_int8(st, i++, 127));
  BIND(cqlmux_statement_bind_uuid(st, i++, uuid));
  BIND(cqlmux_statement_bind_text(st, i++, "", 0)); /* varchar: empty, not null */
  BIND(cqlmux_statement_bind_varint_bytes(st, i++, big_varint, sizeof big_varint));
#undef BIND
  return rc;
}

/* Builds one composite value with `build`, then binds it at `index`. */
static int bind_built(cqlmux_statement *st, size_t index, cqlmux_builder *b,
                      void (*build)(cqlmux_builder *)) {
  cqlmux_builder_reset(b);
  build(b);
  return cqlmux_statement_bind_builder(st, index, b); /* a copy; b is reused */
}

static void build_list(cqlmux_builder *b) { /* [1, 2, 3] */
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_LIST);
  for (int32_t v = 1; v <= 3; v++) cqlmux_builder_add_int32(b, v);
  cqlmux_builder_end(b);
}

static void build_set(cqlmux_builder *b) { /* {'a', 'b'}: sorted, as Cassandra returns it */
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_SET);
  cqlmux_builder_add_text(b, "a", 1);
  cqlmux_builder_add_text(b, "b", 1);
  cqlmux_builder_end(b);
}

static void build_map(cqlmux_builder *b) { /* {'k': 9223372036854775807} */
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_MAP);
  cqlmux_builder_add_text(b, "k", 1);
  cqlmux_builder_add_int64(b, INT64_MAX);
  cqlmux_builder_end(b);
}

static void build_tuple(cqlmux_builder *b) { /* (7, 'seven') */
  cqlmux_builder_begin_tuple(b);
  cqlmux_builder_add_int32(b, 7);
  cqlmux_builder_add_text(b, "seven", 5);
  cqlmux_builder_end(b);
}

static void build_udt(cqlmux_builder *b) { /* {street: 'Main St', zip: 12345} */
  cqlmux_builder_begin_udt(b);
  cqlmux_builder_add_text(b, "Main St", 7);
  cqlmux_builder_add_int32(b, 12345);
  cqlmux_builder_end(b);
}

static void build_vector(cqlmux_builder *b) { /* [0.5, -1, 2.25]: floats are 4 bytes each */
  cqlmux_builder_begin_vector(b, 4);
  cqlmux_builder_add_float(b, 0.5f);
  cqlmux_builder_add_float(b, -1.0f);
  cqlmux_builder_add_float(b, 2.25f);
  cqlmux_builder_end(b);
}

static int bind_composites(cqlmux_statement *st) {
  cqlmux_builder *b = cqlmux_builder_new();
  if (!b) return CQLMUX_ERR_NOMEM;
  void (*const builds[])(cqlmux_builder *) = {build_list,  build_set, build_map,
                                              build_tuple, build_udt, build_vector};
  int rc = CQLMUX_OK;
  for (size_t i = 0; rc == CQLMUX_OK && i < sizeof builds / sizeof builds[0]; i++)
    rc = bind_built(st, 20 + i, b, builds[i]);
  cqlmux_builder_free(b);
  return rc;
}

/* ---- reading back ------------------------------------------------------- */

static void check_scalars(const cqlmux_value *v) {
  const char *text;
  const uint8_t *bytes;
  size_t length;
  int64_t i64;
  int32_t months, days;
  int16_t i16;
  int8_t i8;
  int flag;
  uint32_t date;
  double d;
  float f;
  uint8_t address[16], id[16];
  char number[64];

  expect(cqlmux_value_as_text(&v[1], &text, &length) == CQLMUX_OK && length == 11 &&
             memcmp(text, "plain ascii", 11) == 0, "ascii");
  expect(cqlmux_value_as_int64(&v[2], &i64) == CQLMUX_OK && i64 == INT64_MIN, "bigint");
  expect(cqlmux_value_as_blob(&v[3], &bytes, &length) == CQLMUX_OK && length == sizeof blob &&
             memcmp(bytes, blob, length) == 0, "blob");
  expect(cqlmux_value_as_bool(&v[4], &flag) == CQLMUX_OK && flag == 1, "boolean");
  expect(cqlmux_value_as_date(&v[5], &date) == CQLMUX_OK && date == DATE_2024_02_29, "date");
  expect(cqlmux_value_as_decimal_string(&v[6], number, sizeof number, &length) == CQLMUX_OK &&
             strcmp(number, "-12345.6789") == 0, "decimal");
  expect(cqlmux_value_as_double(&v[7], &d) == CQLMUX_OK && d == -0.1, "double");
  expect(cqlmux_value_as_duration(&v[8], &months, &days, &i64) == CQLMUX_OK && months == 14 &&
             days == 3 && i64 == 3723000000000LL, "duration");
  expect(cqlmux_value_as_float(&v[9], &f) == CQLMUX_OK && f == 3.25f, "float");
  expect(cqlmux_value_as_inet(&v[10], address, &length) == CQLMUX_OK && length == 16 &&
             memcmp(address, inet6, 16) == 0, "inet");
  expect(cqlmux_value_as_int16(&v[11], &i16) == CQLMUX_OK && i16 == -32768, "smallint");
  expect(cqlmux_value_as_text(&v[12], &text, &length) == CQLMUX_OK &&
             length == strlen(text_value) && memcmp(text, text_value, length) == 0, "text");
  expect(cqlmux_value_as_time(&v[13], &i64) == CQLMUX_OK && i64 == TIME_NS, "time");
  expect(cqlmux_value_as_timestamp(&v[14], &i64) == CQLMUX_OK && i64 == TIMESTAMP_MS,
         "timestamp");
  expect(cqlmux_value_as_uuid(&v[15], id) == CQLMUX_OK && memcmp(id, timeuuid, 16) == 0,
         "timeuuid");
  expect(cqlmux_value_as_int8(&v[16], &i8) == CQLMUX_OK && i8 == 127, "tinyint");
  expect(cqlmux_value_as_uuid(&v[17], id) == CQLMUX_OK && memcmp(id, uuid, 16) == 0, "uuid");
  expect(!cqlmux_value_is_null(&v[18]) && cqlmux_value_as_text(&v[18], &text, &length) ==
             CQLMUX_OK && length == 0, "varchar (empty, not null)");
  expect(cqlmux_value_as_varint_string(&v[19], number, sizeof number, &length) == CQLMUX_OK &&
             strcmp(number, "18446744073709551616") == 0, "varint");
}

/* The elements of a list, set or vector as int32 or float, into out. */
static size_t read_elements(const cqlmux_value *v, double *out, size_t cap) {
  cqlmux_iterator it;
  cqlmux_value e;
  size_t n = 0;
  if (cqlmux_value_iterate(v, &it) != CQLMUX_OK) return 0;
  while (n < cap && cqlmux_iterator_next(&it, &e) == 1) {
    int32_t i;
    float f;
    if (cqlmux_value_as_int32(&e, &i) == CQLMUX_OK)
      out[n++] = i;
    else if (cqlmux_value_as_float(&e, &f) == CQLMUX_OK)
      out[n++] = f;
    else
      return 0;
  }
  return n;
}

/* Element i of a composite value as text ("" when it is not text). */
static int element_is_text(const cqlmux_value *v, size_t index, const char *want) {
  cqlmux_iterator it;
  cqlmux_value e;
  const char *text;
  size_t length;
  if (cqlmux_value_iterate(v, &it) != CQLMUX_OK) return 0;
  for (size_t i = 0; cqlmux_iterator_next(&it, &e) == 1; i++)
    if (i == index)
      return cqlmux_value_as_text(&e, &text, &length) == CQLMUX_OK &&
             length == strlen(want) && memcmp(text, want, length) == 0;
  return 0;
}

static void check_composites(const cqlmux_value *v) {
  double e[4];
  expect(read_elements(&v[20], e, 4) == 3 && e[0] == 1 && e[1] == 2 && e[2] == 3, "list<int>");
  expect(element_is_text(&v[21], 0, "a") && element_is_text(&v[21], 1, "b"), "set<text>");

  cqlmux_iterator it;
  cqlmux_value key, value, field;
  int64_t i64 = 0;
  int32_t i32 = 0;
  expect(cqlmux_value_iterate(&v[22], &it) == CQLMUX_OK &&
             cqlmux_iterator_next_pair(&it, &key, &value) == 1 &&
             cqlmux_value_as_int64(&value, &i64) == CQLMUX_OK && i64 == INT64_MAX &&
             element_is_text(&v[22], 0, "k"), "map<text, bigint>");

  expect(cqlmux_value_iterate(&v[23], &it) == CQLMUX_OK && cqlmux_iterator_next(&it, &field) == 1 &&
             cqlmux_value_as_int32(&field, &i32) == CQLMUX_OK && i32 == 7 &&
             element_is_text(&v[23], 1, "seven"), "tuple<int, text>");

  expect(cqlmux_value_field(&v[24], "zip", &field) == CQLMUX_OK &&
             cqlmux_value_as_int32(&field, &i32) == CQLMUX_OK && i32 == 12345 &&
             element_is_text(&v[24], 0, "Main St"), "frozen<address>");

  expect(cqlmux_data_type_kind(v[25].type) == CQLMUX_TYPE_VECTOR &&
             cqlmux_data_type_dimension(v[25].type) == 3 && read_elements(&v[25], e, 4) == 3 &&
             e[0] == 0.5 && e[1] == -1.0 && e[2] == 2.25, "vector<float, 3>");
}

/* ---- the session's steps ------------------------------------------------ */

static int run(cqlmux_session *session, const char *cql) {
  cqlmux_future *f = cqlmux_session_query(session, cql);
  int rc = cqlmux_future_wait(f);
  if (rc != CQLMUX_OK) fprintf(stderr, "%s: %s\n", cql, cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return rc == CQLMUX_OK;
}

static cqlmux_prepared *prepare(cqlmux_session *session, const char *cql) {
  cqlmux_future *f = cqlmux_session_prepare(session, cql);
  cqlmux_prepared *p = NULL;
  if (cqlmux_future_wait(f) == CQLMUX_OK)
    p = cqlmux_future_take_prepared(f);
  else
    fprintf(stderr, "prepare: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return p;
}

static int execute(cqlmux_session *session, const cqlmux_statement *st, const char *what) {
  cqlmux_future *f = cqlmux_session_execute(session, st);
  int rc = cqlmux_future_wait(f);
  if (rc != CQLMUX_OK) fprintf(stderr, "%s: %s\n", what, cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return rc == CQLMUX_OK;
}

static int create_schema(cqlmux_session *s) {
  return run(s, "CREATE KEYSPACE IF NOT EXISTS cqlmux_examples WITH replication = "
                "{'class': 'SimpleStrategy', 'replication_factor': 1}") &&
         run(s, "DROP TABLE IF EXISTS cqlmux_examples.all_types") &&
         run(s, "DROP TABLE IF EXISTS cqlmux_examples.hits") &&
         run(s, "CREATE TYPE IF NOT EXISTS cqlmux_examples.address (street text, zip int)") &&
         run(s, "CREATE TABLE cqlmux_examples.all_types (id int PRIMARY KEY, c_ascii ascii, "
                "c_bigint bigint, c_blob blob, c_boolean boolean, c_date date, c_decimal "
                "decimal, c_double double, c_duration duration, c_float float, c_inet inet, "
                "c_smallint smallint, c_text text, c_time time, c_timestamp timestamp, "
                "c_timeuuid timeuuid, c_tinyint tinyint, c_uuid uuid, c_varchar varchar, "
                "c_varint varint, c_list list<int>, c_set set<text>, c_map map<text, bigint>, "
                "c_tuple tuple<int, text>, c_udt frozen<address>, c_vector vector<float, 3>)") &&
         run(s, "CREATE TABLE cqlmux_examples.hits (id int PRIMARY KEY, n counter)");
}

static int insert_row(cqlmux_session *session) {
  char cql[1024];
  snprintf(cql, sizeof cql,
           "INSERT INTO cqlmux_examples.all_types (%s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
           "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", columns);
  cqlmux_prepared *p = prepare(session, cql);
  if (!p) return 0;
  int ok = cqlmux_prepared_parameter_count(p) == COLUMN_COUNT;
  cqlmux_statement *st = cqlmux_statement_new_prepared(p);
  int rc = st ? bind_scalars(st) : CQLMUX_ERR_NOMEM;
  if (rc == CQLMUX_OK) rc = bind_composites(st);
  if (rc != CQLMUX_OK) fprintf(stderr, "bind: %s %s\n", cqlmux_strerror(rc),
                               st ? cqlmux_statement_error_message(st) : "");
  ok = ok && rc == CQLMUX_OK && execute(session, st, "insert");
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
  return ok;
}

/* counter: bound as an int64 increment, twice. */
static int bump_counter(cqlmux_session *session) {
  cqlmux_prepared *p = prepare(session, "UPDATE cqlmux_examples.hits SET n = n + ? WHERE id = ?");
  cqlmux_statement *st = p ? cqlmux_statement_new_prepared(p) : NULL;
  int ok = st && cqlmux_statement_bind_int32(st, 1, 1) == CQLMUX_OK;
  for (int i = 0; ok && i < 2; i++)
    ok = cqlmux_statement_bind_int64(st, 0, 20) == CQLMUX_OK && execute(session, st, "counter");
  cqlmux_statement_free(st);
  cqlmux_prepared_free(p);
  return ok;
}

static int read_back(cqlmux_session *session) {
  char cql[1024];
  snprintf(cql, sizeof cql, "SELECT %s FROM cqlmux_examples.all_types WHERE id = 1", columns);
  cqlmux_future *f = cqlmux_session_query(session, cql);
  if (cqlmux_future_wait(f) != CQLMUX_OK) {
    fprintf(stderr, "select: %s\n", cqlmux_future_error_message(f));
    cqlmux_future_free(f);
    return 0;
  }
  const cqlmux_result *r = cqlmux_future_result(f);
  cqlmux_value v[COLUMN_COUNT];
  int ok = cqlmux_result_row_count(r) == 1;
  for (size_t c = 0; ok && c < COLUMN_COUNT; c++) ok = cqlmux_result_get_value(r, 0, c, &v[c]) == 0;
  expect(ok, "one row of 26 columns");
  if (ok) {
    check_scalars(v);
    check_composites(v);
  }
  cqlmux_future_free(f); /* the values above were borrowed from f until here */

  f = cqlmux_session_query(session, "SELECT n FROM cqlmux_examples.hits WHERE id = 1");
  int64_t hits = 0;
  expect(cqlmux_future_wait(f) == CQLMUX_OK &&
             cqlmux_result_get_int64(cqlmux_future_result(f), 0, 0, &hits) == CQLMUX_OK &&
             hits == 40, "counter");
  cqlmux_future_free(f);
  return 1;
}

int main(int argc, char **argv) {
  cqlmux_config *config = cqlmux_config_new();
  if (!config) return 1;
  if (argc > 1) cqlmux_config_set_contact_points(config, argv[1]);
  if (argc > 2) cqlmux_config_set_port(config, atoi(argv[2]));
  cqlmux_session *session = NULL;
  int rc = cqlmux_session_new(config, &session);
  cqlmux_config_free(config);
  if (rc != CQLMUX_OK) return 1;
  cqlmux_future *f = cqlmux_session_connect(session);
  int ok = cqlmux_future_wait(f) == CQLMUX_OK;
  if (!ok) fprintf(stderr, "connect: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  ok = ok && create_schema(session) && insert_row(session) && bump_counter(session) &&
       read_back(session);
  cqlmux_session_free(session);
  if (ok && mismatches == 0) printf("%d columns and a counter written and read back: all equal\n",
                                    COLUMN_COUNT);
  return ok && mismatches == 0 ? 0 : 1;
}

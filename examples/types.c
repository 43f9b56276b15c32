/* Writes a map and a vector to Cassandra and reads them back.
 *
 *   cc types.c $(pkg-config --cflags --libs cqlmux) -o types
 *   ./types [contact-points] [port]
 *
 * Creates the keyspace cqlmux_examples and the table types_demo (id int,
 * scores map<text, int>, embedding vector<float, 3>) if they are missing.
 * Composite values are assembled with a cqlmux_builder and read with a
 * cqlmux_iterator; everything read is borrowed from the future, so it is
 * printed before the future is freed. main waits on futures, which is
 * allowed on an application thread (never inside a callback). */
#include <cqlmux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Waits for f; on failure prints what failed and returns 0 (f is freed). */
static int wait_ok(cqlmux_future *f, const char *what) {
  if (cqlmux_future_wait(f) == CQLMUX_OK) return 1;
  fprintf(stderr, "%s: %s\n", what, f ? cqlmux_future_error_message(f) : "out of memory");
  cqlmux_future_free(f);
  return 0;
}

static int run(cqlmux_session *session, const char *cql) {
  cqlmux_future *f = cqlmux_session_query(session, cql);
  if (!wait_ok(f, cql)) return 0;
  cqlmux_future_free(f);
  return 1;
}

/* scores = {'alice': 7, 'bob': 3}, embedding = [0.25, -1.5, 3.0] */
static int bind_values(cqlmux_statement *statement, cqlmux_builder *b) {
  int rc = cqlmux_statement_bind_int32(statement, 0, 1);
  cqlmux_builder_begin_collection(b, CQLMUX_TYPE_MAP); /* key, value, key, value */
  cqlmux_builder_add_text(b, "alice", 5);
  cqlmux_builder_add_int32(b, 7);
  cqlmux_builder_add_text(b, "bob", 3);
  cqlmux_builder_add_int32(b, 3);
  cqlmux_builder_end(b);
  if (rc == CQLMUX_OK) rc = cqlmux_statement_bind_builder(statement, 1, b); /* a copy */

  cqlmux_builder_reset(b); /* reused for the next value */
  cqlmux_builder_begin_vector(b, 4); /* float elements have a fixed size: 4 bytes */
  cqlmux_builder_add_float(b, 0.25f);
  cqlmux_builder_add_float(b, -1.5f);
  cqlmux_builder_add_float(b, 3.0f);
  cqlmux_builder_end(b);
  if (rc == CQLMUX_OK) rc = cqlmux_statement_bind_builder(statement, 2, b);
  return rc;
}

static int insert(cqlmux_session *session) {
  cqlmux_future *f = cqlmux_session_prepare(
      session, "INSERT INTO cqlmux_examples.types_demo (id, scores, embedding) VALUES (?, ?, ?)");
  if (!wait_ok(f, "prepare")) return 0;
  cqlmux_prepared *prepared = cqlmux_future_take_prepared(f);
  cqlmux_future_free(f);
  cqlmux_statement *statement = cqlmux_statement_new_prepared(prepared);
  cqlmux_builder *b = cqlmux_builder_new();
  int rc = statement && b ? bind_values(statement, b) : CQLMUX_ERR_NOMEM;
  int ok = rc == CQLMUX_OK;
  if (!ok) fprintf(stderr, "bind: %s\n", cqlmux_strerror(rc));
  if (ok) {
    f = cqlmux_session_execute(session, statement);
    ok = wait_ok(f, "insert");
    if (ok) cqlmux_future_free(f);
  }
  cqlmux_builder_free(b);
  cqlmux_statement_free(statement);
  cqlmux_prepared_free(prepared);
  return ok;
}

static void print_scores(const cqlmux_value *scores) {
  cqlmux_iterator it;
  cqlmux_value key, value;
  if (cqlmux_value_iterate(scores, &it) != CQLMUX_OK) return;
  printf("scores (%zu entries):", cqlmux_iterator_size(&it));
  while (cqlmux_iterator_next_pair(&it, &key, &value) == 1) {
    const char *name;
    size_t length;
    int32_t score;
    if (cqlmux_value_as_text(&key, &name, &length) == CQLMUX_OK &&
        cqlmux_value_as_int32(&value, &score) == CQLMUX_OK)
      printf(" %.*s=%d", (int)length, name, score);
  }
  printf("\n");
}

static void print_embedding(const cqlmux_value *embedding) {
  cqlmux_iterator it;
  cqlmux_value element;
  if (cqlmux_value_iterate(embedding, &it) != CQLMUX_OK) return;
  printf("embedding (dimension %u):", cqlmux_data_type_dimension(embedding->type));
  while (cqlmux_iterator_next(&it, &element) == 1) {
    float x;
    if (cqlmux_value_as_float(&element, &x) == CQLMUX_OK) printf(" %g", (double)x);
  }
  printf("\n");
}

static int select_back(cqlmux_session *session) {
  cqlmux_future *f = cqlmux_session_query(
      session, "SELECT scores, embedding FROM cqlmux_examples.types_demo WHERE id = 1");
  if (!wait_ok(f, "select")) return 0;
  const cqlmux_result *result = cqlmux_future_result(f);
  cqlmux_value scores, embedding;
  int ok = cqlmux_result_get_value(result, 0, 0, &scores) == CQLMUX_OK &&
           cqlmux_result_get_value(result, 0, 1, &embedding) == CQLMUX_OK;
  if (ok) {
    print_scores(&scores);
    print_embedding(&embedding);
  }
  cqlmux_future_free(f); /* the values were borrowed from f until here */
  return ok;
}

int main(int argc, char **argv) {
  cqlmux_config *config = cqlmux_config_new();
  if (!config) return 1;
  if (argc > 1) cqlmux_config_set_contact_points(config, argv[1]);
  if (argc > 2) cqlmux_config_set_port(config, atoi(argv[2]));
  cqlmux_session *session = NULL;
  int rc = cqlmux_session_new(config, &session);
  cqlmux_config_free(config);
  if (rc != CQLMUX_OK) {
    fprintf(stderr, "session: %s\n", cqlmux_strerror(rc));
    return 1;
  }
  cqlmux_future *connect = cqlmux_session_connect(session);
  int ok = wait_ok(connect, "connect");
  if (ok) {
    cqlmux_future_free(connect);
    ok = run(session, "CREATE KEYSPACE IF NOT EXISTS cqlmux_examples WITH replication = "
                      "{'class': 'SimpleStrategy', 'replication_factor': 1}") &&
         run(session, "CREATE TABLE IF NOT EXISTS cqlmux_examples.types_demo (id int PRIMARY "
                      "KEY, scores map<text, int>, embedding vector<float, 3>)") &&
         insert(session) && select_back(session);
  }
  cqlmux_session_free(session);
  return ok ? 0 : 1;
}

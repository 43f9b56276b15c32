/* Writes one order and its lines atomically with a LOGGED batch mixing a
 * simple statement and a prepared one, then reads the lines back.
 *
 *   cc batch.c $(pkg-config --cflags --libs cqlmux) -o batch
 *   ./batch [contact-points] [port]
 *
 * The batch borrows its statements: they stay alive until the batch is
 * freed, and their values are read when the batch is executed. */
#include <cqlmux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Waits for f, prints its error if it failed, frees it; returns its code. */
static int finish(cqlmux_future *f, const char *what) {
  int rc = f ? cqlmux_future_wait(f) : CQLMUX_ERR_NOMEM;
  if (rc != CQLMUX_OK)
    fprintf(stderr, "%s: %s\n", what, f ? cqlmux_future_error_message(f) : cqlmux_strerror(rc));
  cqlmux_future_free(f);
  return rc;
}

static int setup(cqlmux_session *s) {
  int rc = finish(cqlmux_session_query(s, "CREATE KEYSPACE IF NOT EXISTS examples WITH "
                                          "replication = {'class': 'SimpleStrategy', "
                                          "'replication_factor': 1}"),
                  "create keyspace");
  if (rc == CQLMUX_OK)
    rc = finish(cqlmux_session_query(s, "CREATE TABLE IF NOT EXISTS examples.orders ("
                                        "id int, line int, item text, PRIMARY KEY (id, line))"),
                "create table");
  return rc;
}

static int write_order(cqlmux_session *s, const cqlmux_prepared *line_insert) {
  static const char *const items[] = {"apple", "pear", "plum"};
  cqlmux_statement *header = cqlmux_statement_new(
      "INSERT INTO examples.orders (id, line, item) VALUES (?, 0, 'order header')", 1);
  cqlmux_statement *lines[3];
  cqlmux_batch *batch = cqlmux_batch_new(CQLMUX_BATCH_LOGGED);
  cqlmux_statement_bind_int32(header, 0, 42);
  cqlmux_batch_add(batch, header);
  for (int i = 0; i < 3; i++) {
    lines[i] = cqlmux_statement_new_prepared(line_insert);
    size_t at;
    /* Prepared parameters are found by column name. */
    cqlmux_statement_name_index(lines[i], "id", &at);
    cqlmux_statement_bind_int32(lines[i], at, 42);
    cqlmux_statement_name_index(lines[i], "line", &at);
    cqlmux_statement_bind_int32(lines[i], at, i + 1);
    cqlmux_statement_name_index(lines[i], "item", &at);
    cqlmux_statement_bind_text(lines[i], at, items[i], strlen(items[i]));
    cqlmux_batch_add(batch, lines[i]);
  }
  cqlmux_batch_set_consistency(batch, CQLMUX_CONSISTENCY_ONE);
  int rc = finish(cqlmux_session_batch(s, batch), "batch");
  cqlmux_batch_free(batch);
  cqlmux_statement_free(header);
  for (int i = 0; i < 3; i++) cqlmux_statement_free(lines[i]);
  return rc;
}

static int print_order(cqlmux_session *s) {
  cqlmux_future *f = cqlmux_session_query(s, "SELECT line, item FROM examples.orders WHERE id = 42");
  int rc = cqlmux_future_wait(f);
  const cqlmux_result *r = cqlmux_future_result(f);
  for (size_t row = 0; rc == CQLMUX_OK && row < cqlmux_result_row_count(r); row++) {
    int32_t line;
    const char *item;
    size_t len;
    if (cqlmux_result_get_int32(r, row, 0, &line) == CQLMUX_OK &&
        cqlmux_result_get_text(r, row, 1, &item, &len) == CQLMUX_OK)
      printf("line %d: %.*s\n", line, (int)len, item);
  }
  if (rc != CQLMUX_OK) fprintf(stderr, "select: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  return rc;
}

int main(int argc, char **argv) {
  cqlmux_config *config = cqlmux_config_new();
  cqlmux_config_set_contact_points(config, argc > 1 ? argv[1] : "127.0.0.1");
  if (argc > 2) cqlmux_config_set_port(config, atoi(argv[2]));
  cqlmux_session *s = NULL;
  int rc = cqlmux_session_new(config, &s);
  cqlmux_config_free(config);
  if (rc != CQLMUX_OK) return 1;
  rc = finish(cqlmux_session_connect(s), "connect");
  if (rc == CQLMUX_OK) rc = setup(s);
  cqlmux_prepared *insert = NULL;
  if (rc == CQLMUX_OK) {
    cqlmux_future *f =
        cqlmux_session_prepare(s, "INSERT INTO examples.orders (id, line, item) VALUES (?, ?, ?)");
    if ((rc = cqlmux_future_wait(f)) == CQLMUX_OK) insert = cqlmux_future_take_prepared(f);
    else fprintf(stderr, "prepare: %s\n", cqlmux_future_error_message(f));
    cqlmux_future_free(f);
  }
  if (rc == CQLMUX_OK) rc = write_order(s, insert);
  if (rc == CQLMUX_OK) rc = print_order(s);
  cqlmux_prepared_free(insert);
  cqlmux_session_free(s);
  return rc == CQLMUX_OK ? 0 : 1;
}

/* Reads a whole table page by page: each page is one request, the next one
 * asked for with the same statement (same values and options), carrying
 * the paging state of the page before.
 *
 *   cc paging.c $(pkg-config --cflags --libs cqlmux) -o paging
 *   ./paging [contact-points] [port]
 *
 * Prints every keyspace name from system_schema.keyspaces, 2 per page. */
#include <cqlmux.h>
#include <stdio.h>
#include <stdlib.h>

static void print_page(const cqlmux_result *r, size_t page) {
  cqlmux_row_iterator it;
  size_t row;
  cqlmux_result_rows(r, &it);
  while (cqlmux_row_iterator_next(&it, &row)) {
    const char *name;
    size_t len;
    if (cqlmux_result_get_text(r, row, 0, &name, &len) == CQLMUX_OK)
      printf("page %zu: %.*s\n", page, (int)len, name);
  }
}

static int read_all_pages(cqlmux_session *s) {
  cqlmux_statement *st = cqlmux_statement_new("SELECT keyspace_name FROM system_schema.keyspaces", 0);
  if (!st) return CQLMUX_ERR_NOMEM;
  cqlmux_statement_set_page_size(st, 2);
  cqlmux_future *f = cqlmux_session_execute(s, st);
  int rc = CQLMUX_OK;
  for (size_t page = 1; f; page++) {
    if ((rc = cqlmux_future_wait(f)) != CQLMUX_OK) {
      fprintf(stderr, "page %zu: %s\n", page, cqlmux_future_error_message(f));
      cqlmux_future_free(f);
      break;
    }
    const cqlmux_result *r = cqlmux_future_result(f);
    print_page(r, page);
    /* NULL after the last page. */
    cqlmux_future *next = cqlmux_session_execute_next_page(s, st, r);
    cqlmux_future_free(f);
    f = next;
  }
  cqlmux_statement_free(st);
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
  cqlmux_future *f = cqlmux_session_connect(s);
  rc = cqlmux_future_wait(f);
  if (rc != CQLMUX_OK) fprintf(stderr, "connect: %s\n", cqlmux_future_error_message(f));
  cqlmux_future_free(f);
  if (rc == CQLMUX_OK) rc = read_all_pages(s);
  cqlmux_session_free(s);
  return rc == CQLMUX_OK ? 0 : 1;
}

/* cqlmux-query: runs CQL statements against a Cassandra cluster and prints
 * their rows as a table, CSV or JSON, like `cqlsh -e` without Python. It
 * uses nothing but the public API of <cqlmux.h>. cqlmux-query(1) is its
 * manual. */
#include <cqlmux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "options.h"
#include "output.h"
#include "password.h"
#include "split.h"
#include "strbuf.h"

/* ------------------------------------------------------------ errors */

/* Prints why the future failed; `what` says which step. A server error's
 * message carries its CQL code and name ("Cassandra error 0x2000 (syntax
 * error): ..."); any other names the library's error. */
static void report_failure(const char *what, const cqlmux_future *f) {
  int rc = cqlmux_future_error(f);
  const char *message = cqlmux_future_error_message(f);
  if (rc == CQLMUX_ERR_SERVER || !message || strcmp(message, cqlmux_strerror(rc)) == 0)
    fprintf(stderr, "cqlmux-query: %s: %s\n", what, message ? message : cqlmux_strerror(rc));
  else
    fprintf(stderr, "cqlmux-query: %s: %s: %s\n", what, cqlmux_strerror(rc), message);
}

/* ------------------------------------------------------------ input */

static int read_stream(FILE *in, strbuf *text) {
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) strbuf_add(text, chunk, n);
  return ferror(in) ? -1 : 0;
}

/* All statement text: the arguments (each ends a statement), --file, or
 * standard input. Exits 2 when the file cannot be read. */
static void read_statements(const query_options *o, strbuf *text) {
  if (o->statement_count > 0) {
    for (int i = 0; i < o->statement_count; i++) {
      strbuf_adds(text, o->statements[i]);
      strbuf_adds(text, "\n;\n"); /* \n ends a line comment the argument may end in */
    }
    return;
  }
  FILE *in = stdin;
  if (o->file && strcmp(o->file, "-") != 0 && !(in = fopen(o->file, "r"))) {
    fprintf(stderr, "cqlmux-query: cannot open %s\n", o->file);
    exit(EXIT_QUERY_USAGE);
  }
  int rc = read_stream(in, text);
  if (in != stdin) fclose(in);
  if (rc) {
    fprintf(stderr, "cqlmux-query: cannot read %s\n", o->file ? o->file : "standard input");
    exit(EXIT_QUERY_USAGE);
  }
}

/* ------------------------------------------------------------ session */

/* The password: -p, else $CQLMUX_PASSWORD, else asked on the terminal.
 * Exits 2 when there is none to be had. */
static const char *find_password(const query_options *o, char *buffer, size_t capacity) {
  if (o->password) return o->password;
  const char *env = getenv("CQLMUX_PASSWORD");
  if (env) return env;
  if (password_prompt("Password: ", buffer, capacity) == 0) return buffer;
  fputs("cqlmux-query: --user needs a password: -p, CQLMUX_PASSWORD or a terminal\n", stderr);
  exit(EXIT_QUERY_USAGE);
}

/* Applies the options to a config; a setter's refusal is a usage error. */
static void configure(const query_options *o, cqlmux_config *config) {
  char prompted[1024];
  /* Failures reach the user through report_failure, once; the library's
   * own warnings (a refused connection ...) would only repeat them. */
  int rc = cqlmux_config_set_log_level(config, CQLMUX_LOG_ERROR);
  rc = rc ? rc : cqlmux_config_set_contact_points(config, o->hosts);
  rc = rc ? rc : cqlmux_config_set_port(config, o->port);
  rc = rc ? rc : cqlmux_config_set_protocol_version(config, o->protocol);
  if (o->keyspace && !rc) rc = cqlmux_config_set_keyspace(config, o->keyspace);
  if (o->lz4 && !rc) rc = cqlmux_config_set_compression(config, CQLMUX_COMPRESSION_LZ4);
  if (o->user && !rc) {
    const char *password = find_password(o, prompted, sizeof prompted);
    rc = cqlmux_config_set_credentials(config, o->user, password);
    memset(prompted, 0, sizeof prompted); /* the config keeps its own copy */
  }
  if (o->tls && !rc) rc = cqlmux_config_set_tls(config, 1, o->ca_file);
  if (o->tls_insecure && !rc) rc = cqlmux_config_set_tls_verify(config, 0, 0);
  if (o->cert_file && !rc)
    rc = cqlmux_config_set_tls_client_cert(config, o->cert_file, o->key_file);
  if (o->timeout_ms && !rc) rc = cqlmux_config_set_request_timeout(config, o->timeout_ms);
  if (o->timeout_ms && !rc) rc = cqlmux_config_set_connect_timeout(config, o->timeout_ms);
  if (rc) {
    fprintf(stderr, "cqlmux-query: invalid setting: %s\n", cqlmux_strerror(rc));
    exit(EXIT_QUERY_USAGE);
  }
}

static cqlmux_session *connect_session(const query_options *o) {
  cqlmux_config *config = cqlmux_config_new();
  if (!config) {
    fputs("cqlmux-query: out of memory\n", stderr);
    exit(EXIT_QUERY_FAILED);
  }
  configure(o, config);
  cqlmux_session *session = NULL;
  int rc = cqlmux_session_new(config, &session);
  cqlmux_config_free(config);
  if (rc) {
    fprintf(stderr, "cqlmux-query: cannot start a session: %s\n", cqlmux_strerror(rc));
    exit(EXIT_QUERY_FAILED);
  }
  cqlmux_future *connect = cqlmux_session_connect(session);
  if (cqlmux_future_wait(connect) != CQLMUX_OK) {
    report_failure("connect", connect);
    cqlmux_future_free(connect);
    cqlmux_session_free(session);
    exit(EXIT_QUERY_FAILED);
  }
  cqlmux_future_free(connect);
  return session;
}

/* ------------------------------------------------------------ running */

static cqlmux_statement *make_statement(const query_options *o, const char *cql) {
  cqlmux_statement *s = cqlmux_statement_new(cql, 0);
  if (!s) return NULL;
  cqlmux_statement_set_consistency(s, o->consistency);
  cqlmux_statement_set_page_size(s, o->page_size);
  return s;
}

/* Fetches every page (until max_rows) of one statement into the output.
 * Returns 0, or 1 after printing why it failed. */
static int run_statement(cqlmux_session *session, const query_options *o, output *out,
                         const char *cql) {
  cqlmux_statement *s = make_statement(o, cql);
  if (!s) {
    fputs("cqlmux-query: out of memory\n", stderr);
    return 1;
  }
  size_t left = o->max_rows;
  int failed = 0, first = 1, more = 1;
  while (more && !failed) {
    cqlmux_future *f = cqlmux_session_execute(session, s);
    if (!f || cqlmux_future_wait(f) != CQLMUX_OK) {
      if (f) report_failure("query", f);
      failed = 1;
      cqlmux_future_free(f);
      break;
    }
    const cqlmux_result *page = cqlmux_future_result(f);
    if (cqlmux_result_kind_of(page) == CQLMUX_RESULT_ROWS) {
      size_t written = 0;
      if (first) output_begin(out, page);
      first = 0;
      int rc = output_page(out, page, left, &written);
      if (rc) {
        fprintf(stderr, "cqlmux-query: a value does not decode: %s\n", cqlmux_strerror(rc));
        failed = 1;
      }
      left -= written;
      const uint8_t *state;
      size_t length;
      more = left > 0 && cqlmux_result_has_more_pages(page) &&
             cqlmux_result_paging_state(page, &state, &length) == CQLMUX_OK &&
             cqlmux_statement_set_paging_state(s, state, length) == CQLMUX_OK;
    } else {
      more = 0;
      if (cqlmux_result_kind_of(page) == CQLMUX_RESULT_SCHEMA_CHANGE &&
          !cqlmux_future_schema_in_agreement(f))
        fputs("cqlmux-query: warning: the change was applied, but not every node was seen "
              "running the new schema before the wait ended\n", stderr);
    }
    cqlmux_future_free(f);
  }
  if (!first) output_end(out);
  cqlmux_statement_free(s);
  return failed;
}

/* Answers a DESCRIBE from the session's schema snapshot (parsed: 1, or -1
 * for a DESCRIBE this tool does not know). Returns 0, or 1 after printing
 * why it failed. */
static int run_describe(cqlmux_session *session, const query_options *o, describe_request *req,
                        int parsed) {
  if (parsed < 0) {
    fputs("cqlmux-query: DESCRIBE takes KEYSPACES, KEYSPACE name or TABLE [keyspace.]name\n",
          stderr);
    return 1;
  }
  if (req->what == DESCRIBE_TABLE && !req->keyspace[0]) {
    if (!o->keyspace) {
      fputs("cqlmux-query: DESCRIBE TABLE: no keyspace (name it, or use -k)\n", stderr);
      return 1;
    }
    snprintf(req->keyspace, sizeof req->keyspace, "%s", o->keyspace);
  }
  const cqlmux_schema *schema = cqlmux_session_schema(session);
  if (!schema) {
    fputs("cqlmux-query: DESCRIBE: no schema metadata\n", stderr);
    return 1;
  }
  strbuf text = STRBUF_INIT;
  char err[600];
  int rc = describe_render(schema, req, &text, err, sizeof err);
  cqlmux_schema_free(schema);
  if (rc == 0 && text.data) fputs(text.data, stdout);
  if (rc != 0) fprintf(stderr, "cqlmux-query: DESCRIBE: %s\n", err);
  strbuf_free(&text);
  return rc != 0;
}

/* Runs the statements in order, stopping at the first that fails. */
static int run_all(cqlmux_session *session, const query_options *o, const strbuf *text) {
  output out;
  output_init(&out, o->format, stdout);
  cql_splitter splitter;
  cql_splitter_init(&splitter, text->data ? text->data : "", text->len);
  const char *statement;
  size_t length;
  int status = EXIT_QUERY_OK;
  strbuf cql = STRBUF_INIT;
  while (status == EXIT_QUERY_OK && cql_split_next(&splitter, &statement, &length)) {
    strbuf_clear(&cql);
    strbuf_add(&cql, statement, length);
    describe_request describe;
    int parsed = describe_parse(cql.data, &describe);
    int failed = parsed ? run_describe(session, o, &describe, parsed)
                        : run_statement(session, o, &out, cql.data);
    if (failed) status = EXIT_QUERY_FAILED;
    fflush(stdout);
  }
  strbuf_free(&cql);
  output_free(&out);
  return status;
}

int main(int argc, char **argv) {
  query_options o;
  options_parse(&o, argc, argv);
  strbuf text = STRBUF_INIT;
  read_statements(&o, &text);
  cqlmux_session *session = connect_session(&o);
  int status = run_all(session, &o, &text);
  cqlmux_future *close = cqlmux_session_close(session);
  cqlmux_future_wait(close);
  cqlmux_future_free(close);
  cqlmux_session_free(session);
  strbuf_free(&text);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fputs("cqlmux-query: cannot write the output\n", stderr);
    return EXIT_QUERY_FAILED;
  }
  return status;
}

/* cqlmux-query's command line (cqlmux-query(1) documents every option). */
#ifndef CQLMUX_QUERY_OPTIONS_H
#define CQLMUX_QUERY_OPTIONS_H

#include <cqlmux.h>
#include <stdbool.h>
#include <stddef.h>

#include "output.h"

/* Exit statuses. */
enum { EXIT_QUERY_OK = 0, EXIT_QUERY_FAILED = 1, EXIT_QUERY_USAGE = 2 };

typedef struct query_options {
  const char *hosts;
  int port;
  const char *keyspace;
  cqlmux_consistency consistency;
  int protocol;             /* 0 = negotiate */
  const char *user;
  const char *password;     /* from -p, CQLMUX_PASSWORD or the prompt */
  bool tls;
  const char *ca_file;
  const char *cert_file, *key_file;
  bool tls_insecure;
  bool lz4;
  int32_t page_size;
  size_t max_rows;          /* SIZE_MAX = all */
  unsigned timeout_ms;      /* 0 = the library's defaults */
  const char *file;         /* --file; NULL = arguments, else stdin */
  output_format format;
  char **statements;        /* the remaining arguments */
  int statement_count;
} query_options;

/* Fills *o from argv. Prints help or the version and exits 0 when asked;
 * prints a message and exits with EXIT_QUERY_USAGE on a bad option. */
void options_parse(query_options *o, int argc, char **argv);

#endif

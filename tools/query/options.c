/* cqlmux-query's command line (options.h). */
#include "options.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void usage(FILE *out) {
  fputs(
      "usage: cqlmux-query [options] [CQL ...]\n"
      "Runs CQL statements against a Cassandra cluster and prints their rows.\n"
      "Statements come from the arguments, --file, or standard input, split on ';'.\n"
      "\n"
      "  -H, --hosts LIST          contact points, comma-separated (default 127.0.0.1)\n"
      "  -P, --port PORT           native transport port (default 9042)\n"
      "  -k, --keyspace KS         keyspace to use\n"
      "  -c, --consistency LEVEL   ONE (default), QUORUM, LOCAL_QUORUM, ALL, ...\n"
      "      --protocol 4|5        protocol version (default: negotiate)\n"
      "  -u, --user USER           authenticate as USER; the password comes from\n"
      "  -p, --password PASS         -p, else $CQLMUX_PASSWORD, else a prompt on the terminal\n"
      "      --tls                 TLS, verifying the server against the system CAs\n"
      "      --ca FILE             trust the CA certificates in FILE (PEM; implies --tls)\n"
      "      --cert FILE --key FILE  client certificate and key (PEM; implies --tls)\n"
      "      --tls-insecure        TLS without verifying the server (implies --tls)\n"
      "      --lz4                 LZ4 compression\n"
      "      --page-size N         rows per page (default 5000)\n"
      "      --max-rows N          print at most N rows per statement (default: all)\n"
      "  -t, --timeout SECONDS     request and connect timeout\n"
      "  -f, --file FILE           read statements from FILE ('-': standard input)\n"
      "  -o, --format FORMAT       table (default on a terminal), csv or json (default\n"
      "                            otherwise)\n"
      "  -h, --help                this help; -V, --version: the version\n"
      "\n"
      "Exit status: 0 success, 1 server or connection error, 2 usage error.\n",
      out);
}

static void usage_error(const char *format, const char *arg) {
  fputs("cqlmux-query: ", stderr);
  fprintf(stderr, "%s%s\n", format, arg ? arg : "");
  fputs("Try 'cqlmux-query --help'.\n", stderr);
  exit(EXIT_QUERY_USAGE);
}

enum {
  OPT_PROTOCOL = 256, OPT_TLS, OPT_CA, OPT_CERT, OPT_KEY, OPT_TLS_INSECURE, OPT_LZ4,
  OPT_PAGE_SIZE, OPT_MAX_ROWS
};

static const struct option long_options[] = {
    {"hosts", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'P'},
    {"keyspace", required_argument, NULL, 'k'},
    {"consistency", required_argument, NULL, 'c'},
    {"protocol", required_argument, NULL, OPT_PROTOCOL},
    {"user", required_argument, NULL, 'u'},
    {"password", required_argument, NULL, 'p'},
    {"tls", no_argument, NULL, OPT_TLS},
    {"ca", required_argument, NULL, OPT_CA},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"tls-insecure", no_argument, NULL, OPT_TLS_INSECURE},
    {"lz4", no_argument, NULL, OPT_LZ4},
    {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
    {"max-rows", required_argument, NULL, OPT_MAX_ROWS},
    {"timeout", required_argument, NULL, 't'},
    {"file", required_argument, NULL, 'f'},
    {"format", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

/* A whole number in [lo, hi], or a usage error naming the option. */
static unsigned long long number(const char *option, const char *s, unsigned long long lo,
                                 unsigned long long hi) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '\0' || *s == '-' || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "cqlmux-query: --%s must be a whole number from %llu to %llu\n", option,
            lo, hi);
    exit(EXIT_QUERY_USAGE);
  }
  return v;
}

static unsigned timeout_ms(const char *s) {
  char *end;
  double seconds = strtod(s, &end);
  if (*s == '\0' || *end != '\0' || !(seconds > 0) || seconds > 86400)
    usage_error("--timeout must be a number of seconds above 0 and up to 86400, not ", s);
  unsigned ms = (unsigned)(seconds * 1000 + 0.5);
  return ms ? ms : 1;
}

static cqlmux_consistency consistency(const char *s) {
  static const struct { const char *name; cqlmux_consistency level; } levels[] = {
      {"ANY", CQLMUX_CONSISTENCY_ANY}, {"ONE", CQLMUX_CONSISTENCY_ONE},
      {"TWO", CQLMUX_CONSISTENCY_TWO}, {"THREE", CQLMUX_CONSISTENCY_THREE},
      {"QUORUM", CQLMUX_CONSISTENCY_QUORUM}, {"ALL", CQLMUX_CONSISTENCY_ALL},
      {"LOCAL_QUORUM", CQLMUX_CONSISTENCY_LOCAL_QUORUM},
      {"EACH_QUORUM", CQLMUX_CONSISTENCY_EACH_QUORUM},
      {"SERIAL", CQLMUX_CONSISTENCY_SERIAL}, {"LOCAL_SERIAL", CQLMUX_CONSISTENCY_LOCAL_SERIAL},
      {"LOCAL_ONE", CQLMUX_CONSISTENCY_LOCAL_ONE}};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
    if (strcasecmp(s, levels[i].name) == 0) return levels[i].level;
  usage_error("unknown consistency level ", s);
  return CQLMUX_CONSISTENCY_ONE;
}

static output_format format(const char *s) {
  if (strcmp(s, "table") == 0) return FORMAT_TABLE;
  if (strcmp(s, "csv") == 0) return FORMAT_CSV;
  if (strcmp(s, "json") == 0) return FORMAT_JSON;
  usage_error("--format must be table, csv or json, not ", s);
  return FORMAT_JSON;
}

static void defaults(query_options *o) {
  memset(o, 0, sizeof *o);
  o->hosts = "127.0.0.1";
  o->port = 9042;
  o->consistency = CQLMUX_CONSISTENCY_ONE;
  o->page_size = 5000;
  o->max_rows = SIZE_MAX;
  o->format = isatty(STDOUT_FILENO) ? FORMAT_TABLE : FORMAT_JSON;
}

static void parse_option(query_options *o, int opt, const char *arg) {
  switch (opt) {
  case 'H': o->hosts = arg; break;
  case 'P': o->port = (int)number("port", arg, 1, 65535); break;
  case 'k': o->keyspace = arg; break;
  case 'c': o->consistency = consistency(arg); break;
  case OPT_PROTOCOL: o->protocol = (int)number("protocol", arg, 4, 5); break;
  case 'u': o->user = arg; break;
  case 'p': o->password = arg; break;
  case OPT_TLS: o->tls = true; break;
  case OPT_CA: o->tls = true; o->ca_file = arg; break;
  case OPT_CERT: o->tls = true; o->cert_file = arg; break;
  case OPT_KEY: o->tls = true; o->key_file = arg; break;
  case OPT_TLS_INSECURE: o->tls = o->tls_insecure = true; break;
  case OPT_LZ4: o->lz4 = true; break;
  case OPT_PAGE_SIZE: o->page_size = (int32_t)number("page-size", arg, 1, INT32_MAX); break;
  case OPT_MAX_ROWS: o->max_rows = (size_t)number("max-rows", arg, 0, SIZE_MAX); break;
  case 't': o->timeout_ms = timeout_ms(arg); break;
  case 'f': o->file = arg; break;
  case 'o': o->format = format(arg); break;
  case 'h': usage(stdout); exit(EXIT_QUERY_OK);
  case 'V': printf("cqlmux-query %s\n", cqlmux_version()); exit(EXIT_QUERY_OK);
  default: usage(stderr); exit(EXIT_QUERY_USAGE);
  }
}

void options_parse(query_options *o, int argc, char **argv) {
  defaults(o);
  int opt;
  while ((opt = getopt_long(argc, argv, "H:P:k:c:u:p:t:f:o:hV", long_options, NULL)) != -1)
    parse_option(o, opt, optarg);
  if (!o->cert_file != !o->key_file) usage_error("--cert and --key go together", NULL);
  if (o->password && !o->user) usage_error("a password needs --user", NULL);
  if (o->file && optind < argc)
    usage_error("statements come from --file or the arguments, not both", NULL);
  o->statements = argv + optind;
  o->statement_count = argc - optind;
}

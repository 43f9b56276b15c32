/* cqlmux-mock: the mock CQL cluster as a program, for trying a driver or an
 * application against scripted faults. Configuration comes from flags and
 * an optional scenario file; runtime commands (faults, primes, node
 * actions) from the file and then from standard input, one per line. The
 * language is documented in doc/mock-server.md and cqlmux-mock(1). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "mock/mock.h"

static void usage(FILE *out) {
  fputs("usage: cqlmux-mock [options] [SCENARIO-FILE]\n"
        "Runs a mock Cassandra cluster that answers the CQL native protocol v3-v5.\n"
        "\n"
        "  -n, --nodes N        one data center of N nodes (default 1)\n"
        "  -d, --dc NAME:N      a data center of N nodes (repeat for more)\n"
        "  -a, --address A      first node address; node i listens on A+i (127.0.0.1)\n"
        "  -s, --shared-address every node on A, each on its own port\n"
        "  -p, --port P         port (9042; 0 lets the system choose)\n"
        "  -V, --versions LIST  protocol versions accepted, e.g. 4,5 (3,4,5)\n"
        "  -u, --auth USER:PASS require PasswordAuthenticator credentials\n"
        "  -N, --null           null mode: canned answers for benchmarks\n"
        "  -t, --threads N      I/O threads\n"
        "  -e, --exec LINE      run a scenario line once started (repeatable)\n"
        "  -l, --log            print every request as it is recorded\n"
        "  -h, --help           this text\n"
        "\n"
        "Once started it prints \"node INDEX ADDRESS:PORT\" per node and \"ready\",\n"
        "then runs scenario lines read from standard input (plus: log, connections,\n"
        "echo TEXT, quit). It stops on quit, SIGINT or SIGTERM. See cqlmux-mock(1).\n",
        out);
}

/* Applies one config line; complains and exits on error. */
static void config_line(cqlmux_mock_config *cfg, const char *line, const char *where) {
  char err[256];
  if (cqlmux_mock_config_parse(cfg, line, err, sizeof err) < 0) {
    fprintf(stderr, "cqlmux-mock: %s: %s\n", where, err);
    exit(2);
  }
}

typedef struct options {
  cqlmux_mock_config cfg;
  const char *file;
  char **exec;
  int exec_count;
  bool log;
} options;

static void parse_options(int argc, char **argv, options *o) {
  static const struct option longs[] = {
      {"nodes", required_argument, NULL, 'n'},   {"dc", required_argument, NULL, 'd'},
      {"address", required_argument, NULL, 'a'}, {"shared-address", no_argument, NULL, 's'},
      {"port", required_argument, NULL, 'p'},    {"versions", required_argument, NULL, 'V'},
      {"auth", required_argument, NULL, 'u'},    {"null", no_argument, NULL, 'N'},
      {"threads", required_argument, NULL, 't'}, {"exec", required_argument, NULL, 'e'},
      {"log", no_argument, NULL, 'l'},           {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  char line[512];
  int c;
  o->cfg.port = 9042;
  while ((c = getopt_long(argc, argv, "n:d:a:sp:V:u:Nt:e:lh", longs, NULL)) != -1) {
    const char *colon = optarg ? strchr(optarg, ':') : NULL;
    switch (c) {
    case 'n': snprintf(line, sizeof line, "nodes %s", optarg); break;
    case 'd':
      if (!colon) {
        fprintf(stderr, "cqlmux-mock: --dc wants NAME:NODES\n");
        exit(2);
      }
      snprintf(line, sizeof line, "dc %.*s %s", (int)(colon - optarg), optarg, colon + 1);
      break;
    case 'a': snprintf(line, sizeof line, "address %s", optarg); break;
    case 's': snprintf(line, sizeof line, "addresses shared"); break;
    case 'p': snprintf(line, sizeof line, "port %s", optarg); break;
    case 'V': snprintf(line, sizeof line, "versions %s", optarg); break;
    case 'u':
      if (!colon) {
        fprintf(stderr, "cqlmux-mock: --auth wants USER:PASSWORD\n");
        exit(2);
      }
      snprintf(line, sizeof line, "auth \"%.*s\" \"%s\"", (int)(colon - optarg), optarg, colon + 1);
      break;
    case 'N': snprintf(line, sizeof line, "null on"); break;
    case 't': snprintf(line, sizeof line, "threads %s", optarg); break;
    case 'e':
      o->exec = realloc(o->exec, (size_t)(o->exec_count + 1) * sizeof *o->exec);
      if (!o->exec) exit(1);
      o->exec[o->exec_count++] = optarg;
      continue;
    case 'l': o->log = true; continue;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); exit(2);
    }
    config_line(&o->cfg, line, "option");
  }
  if (optind < argc) o->file = argv[optind];
}

/* Configuration lines of the file go to cfg; the rest is kept to run once
 * the cluster is up. */
static char **read_file(const char *path, cqlmux_mock_config *cfg, int *count) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cqlmux-mock: %s: %s\n", path, strerror(errno));
    exit(2);
  }
  char **lines = NULL;
  char buf[8192], where[300];
  int n = 0, lineno = 0;
  while (fgets(buf, sizeof buf, f)) {
    lineno++;
    buf[strcspn(buf, "\r\n")] = '\0';
    snprintf(where, sizeof where, "%s:%d", path, lineno);
    char err[256];
    int rc = cqlmux_mock_config_parse(cfg, buf, err, sizeof err);
    if (rc < 0) {
      fprintf(stderr, "cqlmux-mock: %s: %s\n", where, err);
      exit(2);
    }
    if (rc == 1) continue;
    lines = realloc(lines, (size_t)(n + 1) * sizeof *lines);
    if (!lines || !(lines[n] = strdup(buf))) exit(1);
    n++;
  }
  fclose(f);
  *count = n;
  return lines;
}

static void print_log(cqlmux_mock *m, size_t *printed) {
  size_t n = cqlmux_mock_request_count(m, NULL);
  for (; *printed < n; (*printed)++) {
    cqlmux_mock_request r;
    if (cqlmux_mock_request_at(m, *printed, &r)) break;
    /* token= goes last, after the query text (which may hold spaces):
     * a reader takes it from the end, the fields before keep their places. */
    char token[32] = "-";
    if (r.has_token) snprintf(token, sizeof token, "%lld", (long long)r.token);
    printf("request %llu node %d conn %lld stream %d opcode 0x%02x consistency %d fault %d "
           "answer %d%s%s token=%s\n",
           (unsigned long long)r.seq, r.node, (long long)r.connection, r.stream, r.opcode,
           r.consistency, r.fault, r.response_opcode, r.query ? " query " : "",
           r.query ? r.query : "", token);
  }
  fflush(stdout);
}

static void print_connections(cqlmux_mock *m) {
  size_t n = cqlmux_mock_connection_count(m, CQLMUX_MOCK_ANY);
  for (size_t i = 0; i < n; i++) {
    cqlmux_mock_connection c;
    if (cqlmux_mock_connection_at(m, i, &c)) break;
    printf("connection %lld node %d client %s v%d%s%s requests %llu %s\n", (long long)c.id,
           c.node, c.client_address, c.version, c.framed ? " framed" : "",
           c.compressed ? " lz4" : "", (unsigned long long)c.requests,
           c.closed_us ? (c.closed_by_server ? "closed-by-server" : "closed-by-client") : "open");
  }
  fflush(stdout);
}

/* Runs one runtime line; returns false on "quit". */
static bool run_line(cqlmux_mock *m, const char *line, size_t *printed) {
  while (*line == ' ' || *line == '\t') line++;
  if (!strcmp(line, "quit")) return false;
  if (!strcmp(line, "log")) {
    print_log(m, printed);
    return true;
  }
  if (!strcmp(line, "connections")) {
    print_connections(m);
    return true;
  }
  /* A driving program sends "echo MARK" after a command whose output has no
   * fixed length (log, connections) and reads up to MARK. */
  if (!strncmp(line, "echo", 4) && (line[4] == '\0' || line[4] == ' ')) {
    printf("%s\n", line[4] ? line + 5 : "");
    fflush(stdout);
    return true;
  }
  char msg[256];
  int rc = cqlmux_mock_script(m, line, msg, sizeof msg);
  if (!rc && !strcmp(line, "clear-log")) *printed = 0; /* the log starts again at 0 */
  if (rc)
    printf("error: %s%s%s\n", cqlmux_strerror(rc), msg[0] ? ": " : "", msg);
  else if (msg[0])
    printf("ok: %s\n", msg);
  fflush(stdout);
  return true;
}

/* Reads commands until quit, EOF (then waits for a signal) or a signal. */
static void serve(cqlmux_mock *m, int sigfd, bool log) {
  size_t printed = 0;
  bool input = true;
  char buf[8192];
  size_t used = 0;
  for (;;) {
    struct pollfd p[2] = {{sigfd, POLLIN, 0}, {input ? 0 : -1, POLLIN, 0}};
    if (poll(p, 2, log ? 200 : -1) < 0 && errno != EINTR) return;
    if (log) print_log(m, &printed);
    if (p[0].revents) return;
    if (!p[1].revents) continue;
    ssize_t k = read(0, buf + used, sizeof buf - 1 - used);
    if (k <= 0) {
      input = false;
      continue;
    }
    used += (size_t)k;
    buf[used] = '\0';
    char *nl;
    while ((nl = strchr(buf, '\n'))) {
      *nl = '\0';
      if (!run_line(m, buf, &printed)) return;
      used -= (size_t)(nl + 1 - buf);
      memmove(buf, nl + 1, used + 1);
    }
    if (used == sizeof buf - 1) used = 0; /* an overlong line is dropped */
  }
}

int main(int argc, char **argv) {
  options o;
  memset(&o, 0, sizeof o);
  cqlmux_mock_config_init(&o.cfg);
  parse_options(argc, argv, &o);
  int nlines = 0;
  char **lines = o.file ? read_file(o.file, &o.cfg, &nlines) : NULL;

  /* The mock's threads inherit the mask: signals go to the signalfd only. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sigfd = signalfd(-1, &set, SFD_CLOEXEC);

  cqlmux_mock *m;
  int rc = cqlmux_mock_start(&o.cfg, &m);
  if (rc) {
    fprintf(stderr, "cqlmux-mock: cannot start: %s\n", cqlmux_strerror(rc));
    return 1;
  }
  for (int i = 0; i < cqlmux_mock_node_count(m); i++) {
    char addr[64];
    uint16_t port;
    cqlmux_mock_node_address(m, i, addr, sizeof addr, &port);
    printf("node %d %s:%u\n", i, addr, (unsigned)port);
  }
  size_t printed = 0;
  bool go = true;
  for (int i = 0; i < nlines; i++) {
    go = go && run_line(m, lines[i], &printed);
    free(lines[i]);
  }
  for (int i = 0; go && i < o.exec_count; i++) go = run_line(m, o.exec[i], &printed);
  printf("ready\n");
  fflush(stdout);
  if (go) serve(m, sigfd, o.log);
  cqlmux_mock_free(m);
  cqlmux_mock_config_release(&o.cfg);
  free(lines);
  free(o.exec);
  close(sigfd);
  return 0;
}

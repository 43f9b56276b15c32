/* The scenario text language of the mock (doc/mock-server.md): one
 * command per line, words and key=value pairs, "double quotes" around
 * values with spaces, '#' comments. Configuration lines fill a
 * cqlmux_mock_config; runtime lines call the scenario API. */
#include "config.h"

#include "mock/mock_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 64

typedef struct token {
  char *key;
  char *val; /* NULL for a bare word */
} token;

typedef struct line {
  token t[MAX_TOKENS];
  int n;
  char *buf; /* the tokens' storage */
  char *err;
  size_t errlen;
} line;

static int fail(line *l, const char *fmt, ...) {
  if (l->err && l->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err, l->errlen, fmt, ap);
    va_end(ap);
  }
  return CQLMUX_ERR_INVALID_ARGUMENT;
}

/* Splits text into tokens in place (in a copy). */
static int tokenize(line *l, const char *text) {
  l->n = 0;
  l->buf = mock_xstrdup(text);
  char *p = l->buf;
  for (;;) {
    while (isspace((unsigned char)*p)) p++;
    if (!*p || *p == '#') return CQLMUX_OK;
    if (l->n == MAX_TOKENS) return fail(l, "too many words");
    token *t = &l->t[l->n++];
    t->key = p;
    t->val = NULL;
    char *out = p;
    bool quoted = false;
    while (*p && (quoted || !isspace((unsigned char)*p))) {
      if (*p == '"') {
        quoted = !quoted;
        p++;
      } else if (*p == '\\' && quoted && (p[1] == '"' || p[1] == '\\')) {
        *out++ = p[1];
        p += 2;
      } else {
        if (*p == '=' && !t->val && !quoted) {
          *out++ = '\0';
          t->val = out;
          p++;
          continue;
        }
        *out++ = *p++;
      }
    }
    if (quoted) return fail(l, "unterminated quote");
    bool end = !*p;
    *out = '\0';
    if (end) return CQLMUX_OK;
    p++;
  }
}

static void line_free(line *l) { mock_free(l->buf); }

static const char *value(const line *l, const char *key) {
  for (int i = 1; i < l->n; i++)
    if (l->t[i].val && !strcmp(l->t[i].key, key)) return l->t[i].val;
  return NULL;
}

static bool has_word(const line *l, const char *word) {
  for (int i = 1; i < l->n; i++)
    if (!l->t[i].val && !strcmp(l->t[i].key, word)) return true;
  return false;
}

static int number(line *l, const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s ? s : "", &end, 0);
  if (!s || !*s || *end || errno == ERANGE || v < lo || v > hi)
    return fail(l, "bad number \"%s\"", s ? s : "");
  *out = v;
  return CQLMUX_OK;
}

/* key=N into *out when present. */
static int opt_number(line *l, const char *key, long long lo, long long hi, long long *out) {
  const char *v = value(l, key);
  return v ? number(l, v, lo, hi, out) : CQLMUX_OK;
}

static int on_off(line *l, const char *s, bool *out) {
  if (s && (!strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "yes"))) *out = true;
  else if (s && (!strcmp(s, "off") || !strcmp(s, "false") || !strcmp(s, "no"))) *out = false;
  else return fail(l, "expected on or off, not \"%s\"", s ? s : "");
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ names */

static const struct {
  const char *name;
  int value;
} opcodes[] = {{"options", CQLMUX_OP_OPTIONS}, {"startup", CQLMUX_OP_STARTUP},
               {"query", CQLMUX_OP_QUERY},     {"prepare", CQLMUX_OP_PREPARE},
               {"execute", CQLMUX_OP_EXECUTE}, {"batch", CQLMUX_OP_BATCH},
               {"register", CQLMUX_OP_REGISTER}, {"auth_response", CQLMUX_OP_AUTH_RESPONSE}},
  consistencies[] = {{"any", 0},    {"one", 1},         {"two", 2},          {"three", 3},
                     {"quorum", 4}, {"all", 5},         {"local_quorum", 6}, {"each_quorum", 7},
                     {"serial", 8}, {"local_serial", 9}, {"local_one", 10}},
  errors[] = {{"server_error", 0x0000}, {"protocol_error", 0x000A}, {"bad_credentials", 0x0100},
              {"unavailable", 0x1000},  {"overloaded", 0x1001},     {"is_bootstrapping", 0x1002},
              {"truncate_error", 0x1003}, {"write_timeout", 0x1100}, {"read_timeout", 0x1200},
              {"read_failure", 0x1300}, {"function_failure", 0x1400}, {"write_failure", 0x1500},
              {"cdc_write_failure", 0x1600}, {"cas_write_unknown", 0x1700},
              {"syntax_error", 0x2000}, {"unauthorized", 0x2100},   {"invalid", 0x2200},
              {"config_error", 0x2300}, {"already_exists", 0x2400}, {"unprepared", 0x2500}},
  faults[] = {{"delay", CQLMUX_MOCK_DELAY},
              {"no-response", CQLMUX_MOCK_NO_RESPONSE},
              {"ignore-heartbeat", CQLMUX_MOCK_IGNORE_HEARTBEAT},
              {"out-of-order", CQLMUX_MOCK_OUT_OF_ORDER},
              {"malformed", CQLMUX_MOCK_MALFORMED},
              {"truncated", CQLMUX_MOCK_TRUNCATED},
              {"wrong-stream", CQLMUX_MOCK_WRONG_STREAM},
              {"oversized", CQLMUX_MOCK_OVERSIZED},
              {"bad-crc", CQLMUX_MOCK_BAD_CRC},
              {"close", CQLMUX_MOCK_CLOSE},
              {"stop-reading", CQLMUX_MOCK_STOP_READING},
              {"refuse", CQLMUX_MOCK_REFUSE},
              {"restart", CQLMUX_MOCK_RESTART},
              {"event", CQLMUX_MOCK_PUSH_EVENT}},
  kinds[] = {{"void", CQLMUX_MOCK_RESULT_VOID},
             {"rows", CQLMUX_MOCK_RESULT_ROWS},
             {"error", CQLMUX_MOCK_RESULT_ERROR},
             {"keyspace", CQLMUX_MOCK_RESULT_SET_KEYSPACE},
             {"schema", CQLMUX_MOCK_RESULT_SCHEMA_CHANGE}},
  events[] = {{"topology", CQLMUX_MOCK_EVENT_TOPOLOGY},
              {"status", CQLMUX_MOCK_EVENT_STATUS},
              {"schema", CQLMUX_MOCK_EVENT_SCHEMA}};

#define LOOKUP(table, name, out) lookup(table, sizeof table / sizeof *table, name, out)

static bool lookup(const void *table, size_t n, const char *name, int *out) {
  const struct {
    const char *name;
    int value;
  } *t = table;
  for (size_t i = 0; name && i < n; i++)
    if (!strcasecmp(t[i].name, name)) {
      *out = t[i].value;
      return true;
    }
  return false;
}

/* A name from the table, or a number. */
static int named(line *l, const void *table, size_t n, const char *s, int *out) {
  if (lookup(table, n, s, out)) return CQLMUX_OK;
  long long v;
  int rc = number(l, s, 0, 0xFFFF, &v);
  if (!rc) *out = (int)v;
  return rc;
}

/* ------------------------------------------------------------ configuration */

typedef struct parsed_strings {
  char **items;
  size_t count;
  bool dc_seen;
  cqlmux_mock_keyspace keyspaces[CQLMUX_MOCK_MAX_KEYSPACES]; /* behind cfg->keyspaces */
} parsed_strings;

static parsed_strings *parsed(cqlmux_mock_config *cfg) {
  if (!cfg->parsed_strings) cfg->parsed_strings = mock_xcalloc(1, sizeof(parsed_strings));
  return cfg->parsed_strings;
}

static const char *keep(cqlmux_mock_config *cfg, const char *s) {
  parsed_strings *ps = parsed(cfg);
  ps->items = mock_xrealloc(ps->items, (ps->count + 1) * sizeof *ps->items);
  return ps->items[ps->count++] = mock_xstrdup(s);
}

void cqlmux_mock_config_release(cqlmux_mock_config *cfg) {
  parsed_strings *ps = cfg->parsed_strings;
  if (!ps) return;
  for (size_t i = 0; i < ps->count; i++) mock_free(ps->items[i]);
  mock_free(ps->items);
  mock_free(ps);
  cfg->parsed_strings = NULL;
}

static int config_dc(cqlmux_mock_config *cfg, line *l) {
  long long n;
  if (l->n != 3 || number(l, l->t[2].key, 1, CQLMUX_MOCK_MAX_NODES, &n)) return fail(l, "usage: dc NAME NODES");
  parsed_strings *ps = parsed(cfg);
  if (!ps->dc_seen) cfg->dc_count = 0;
  ps->dc_seen = true;
  if (cfg->dc_count == CQLMUX_MOCK_MAX_DCS) return fail(l, "too many data centers");
  cfg->dc_names[cfg->dc_count] = keep(cfg, l->t[1].key);
  cfg->nodes_per_dc[cfg->dc_count++] = (int)n;
  return 1;
}

static int config_versions(cqlmux_mock_config *cfg, line *l) {
  if (l->n != 2) return fail(l, "usage: versions 4,5");
  unsigned mask = 0;
  for (const char *p = l->t[1].key; *p; p++) {
    if (*p >= '3' && *p <= '5') mask |= 1u << (*p - '0');
    else if (*p != ',') return fail(l, "versions are 3, 4 and 5");
  }
  cfg->versions = mask;
  return 1;
}

static int config_int(line *l, int *field, long long lo, long long hi) {
  long long v;
  if (l->n != 2 || number(l, l->t[1].key, lo, hi, &v)) return fail(l, "usage: %s NUMBER", l->t[0].key);
  *field = (int)v;
  return 1;
}

static int config_bool(line *l, bool *field) {
  if (l->n == 1) {
    *field = true;
    return 1;
  }
  return on_off(l, l->t[1].key, field) ? CQLMUX_ERR_INVALID_ARGUMENT : 1;
}

static int config_string(cqlmux_mock_config *cfg, line *l, const char **field) {
  if (l->n != 2) return fail(l, "usage: %s VALUE", l->t[0].key);
  *field = keep(cfg, l->t[1].key);
  return 1;
}

/* ------------------------------------------------------------ keyspaces */

/* keyspace NAME simple RF | keyspace NAME nts DC=RF [DC=RF...], plus
 * durable_writes=on|off. Strings point into the line. */
static int parse_keyspace(line *l, cqlmux_mock_keyspace *ks) {
  static const char usage[] = "usage: keyspace NAME simple RF | keyspace NAME nts DC=RF [DC=RF...]";
  if (l->n < 3 || l->t[1].val || l->t[2].val) return fail(l, "%s", usage);
  cqlmux_mock_keyspace_init(ks, l->t[1].key);
  const char *strategy = l->t[2].key;
  long long rf;
  int rc = CQLMUX_OK;
  if (!strcasecmp(strategy, "simple") || !strcasecmp(strategy, "SimpleStrategy")) {
    if (l->n < 4 || l->t[3].val || number(l, l->t[3].key, 0, CQLMUX_MOCK_MAX_NODES, &rf))
      return fail(l, "%s", usage);
    ks->replication_factor = (int)rf;
  } else if (!strcasecmp(strategy, "nts") || !strcasecmp(strategy, "NetworkTopologyStrategy")) {
    ks->network_topology = true;
    for (int i = 3; !rc && i < l->n; i++) {
      if (!l->t[i].val) return fail(l, "%s", usage);
      if (!strcmp(l->t[i].key, "durable_writes")) continue;
      if (ks->dc_count == CQLMUX_MOCK_MAX_DCS) return fail(l, "too many data centers");
      rc = number(l, l->t[i].val, 0, CQLMUX_MOCK_MAX_NODES, &rf);
      ks->dc_names[ks->dc_count] = l->t[i].key;
      ks->dc_factors[ks->dc_count++] = (int)rf;
    }
  } else {
    return fail(l, "%s", usage);
  }
  const char *durable = value(l, "durable_writes");
  if (!rc && durable) rc = on_off(l, durable, &ks->durable_writes);
  return rc;
}

/* A configuration keyspace line: kept in cfg (replacing one of the same
 * name), its strings owned by cfg. */
static int config_keyspace(cqlmux_mock_config *cfg, line *l) {
  cqlmux_mock_keyspace ks;
  if (parse_keyspace(l, &ks)) return CQLMUX_ERR_INVALID_ARGUMENT;
  parsed_strings *ps = parsed(cfg);
  int at = 0;
  while (at < cfg->keyspace_count && strcmp(ps->keyspaces[at].name, ks.name)) at++;
  if (at == CQLMUX_MOCK_MAX_KEYSPACES) return fail(l, "too many keyspaces");
  ks.name = keep(cfg, ks.name);
  for (int d = 0; d < ks.dc_count; d++) ks.dc_names[d] = keep(cfg, ks.dc_names[d]);
  ps->keyspaces[at] = ks;
  if (at == cfg->keyspace_count) cfg->keyspace_count++;
  cfg->keyspaces = ps->keyspaces;
  return 1;
}

static int script_keyspace(cqlmux_mock *m, line *l) {
  cqlmux_mock_keyspace ks;
  if (parse_keyspace(l, &ks)) return CQLMUX_ERR_INVALID_ARGUMENT;
  int n = cqlmux_mock_keyspace_set(m, &ks);
  if (n < 0) return fail(l, "keyspace refused");
  if (l->err) snprintf(l->err, l->errlen, "sent to %d connections", n);
  return CQLMUX_OK;
}

/* replicas KEYSPACE TOKEN -> "replicas N N N" in ring order. */
static int script_replicas(cqlmux_mock *m, line *l) {
  long long tok;
  if (l->n != 3 || number(l, l->t[2].key, INT64_MIN, INT64_MAX, &tok))
    return fail(l, "usage: replicas KEYSPACE TOKEN");
  int nodes[CQLMUX_MOCK_MAX_NODES];
  int n = cqlmux_mock_replicas(m, l->t[1].key, (int64_t)tok, nodes, CQLMUX_MOCK_MAX_NODES);
  if (n < 0) return fail(l, "no keyspace \"%s\"", l->t[1].key);
  size_t used = l->err ? (size_t)snprintf(l->err, l->errlen, "replicas") : 0;
  for (int i = 0; l->err && i < n && used < l->errlen; i++)
    used += (size_t)snprintf(l->err + used, l->errlen - used, " %d", nodes[i]);
  return CQLMUX_OK;
}

static int config_line(cqlmux_mock_config *cfg, line *l) {
  const char *k = l->t[0].key;
  int port = 0;
  if (!strcmp(k, "nodes")) {
    cfg->dc_count = 1;
    return config_int(l, &cfg->nodes_per_dc[0], 1, CQLMUX_MOCK_MAX_NODES);
  }
  if (!strcmp(k, "dc")) return config_dc(cfg, l);
  if (!strcmp(k, "keyspace")) return config_keyspace(cfg, l);
  if (!strcmp(k, "racks")) return config_int(l, &cfg->racks_per_dc, 1, 64);
  if (!strcmp(k, "tokens")) return config_int(l, &cfg->tokens_per_node, 1, 256);
  if (!strcmp(k, "threads")) return config_int(l, &cfg->threads, 1, 64);
  if (!strcmp(k, "cluster")) return config_string(cfg, l, &cfg->cluster_name);
  if (!strcmp(k, "release")) return config_string(cfg, l, &cfg->release_version);
  if (!strcmp(k, "address")) return config_string(cfg, l, &cfg->address);
  if (!strcmp(k, "versions")) return config_versions(cfg, l);
  if (!strcmp(k, "lz4")) return config_bool(l, &cfg->lz4);
  if (!strcmp(k, "null")) return config_bool(l, &cfg->null_mode);
  if (!strcmp(k, "record")) return config_bool(l, &cfg->record);
  if (!strcmp(k, "events")) return config_bool(l, &cfg->auto_events);
  if (!strcmp(k, "port")) {
    int rc = config_int(l, &port, 0, 65535);
    if (rc == 1) cfg->port = (uint16_t)port;
    return rc;
  }
  if (!strcmp(k, "addresses")) {
    if (l->n != 2 || (strcmp(l->t[1].key, "distinct") && strcmp(l->t[1].key, "shared")))
      return fail(l, "usage: addresses distinct|shared");
    cfg->distinct_addresses = !strcmp(l->t[1].key, "distinct");
    return 1;
  }
  if (!strcmp(k, "auth")) {
    if (l->n != 3) return fail(l, "usage: auth USER PASSWORD");
    cfg->username = keep(cfg, l->t[1].key);
    cfg->password = keep(cfg, l->t[2].key);
    return 1;
  }
  if (!strcmp(k, "unprimed")) {
    if (l->n != 2 || (strcmp(l->t[1].key, "void") && strcmp(l->t[1].key, "error")))
      return fail(l, "usage: unprimed void|error");
    cfg->unprimed_is_error = !strcmp(l->t[1].key, "error");
    return 1;
  }
  return 0;
}

int cqlmux_mock_config_parse(cqlmux_mock_config *cfg, const char *text, char *err,
                             size_t errlen) {
  line l = {.err = err, .errlen = errlen};
  int rc = tokenize(&l, text);
  if (!rc && l.n > 0) rc = config_line(cfg, &l);
  if (!rc && l.n == 0) rc = 1; /* blank or comment: nothing to do, nothing left */
  line_free(&l);
  return rc;
}

/* ------------------------------------------------------------ primes */

/* Splits s at '|' outside single quotes; trims; bare null -> NULL. Stores
 * at most max cells and returns how many there are. */
static size_t split_cells(char *s, char **out, size_t max) {
  size_t n = 0;
  bool quoted = false;
  char *start = s;
  for (char *p = s;; p++) {
    if (*p == '\'') quoted = !quoted;
    if ((*p == '|' && !quoted) || !*p) {
      bool end = !*p;
      *p = '\0';
      while (isspace((unsigned char)*start)) start++;
      char *e = start + strlen(start);
      while (e > start && isspace((unsigned char)e[-1])) *--e = '\0';
      if (n < max) out[n] = strcmp(start, "null") ? start : NULL;
      n++;
      if (end) break;
      start = p + 1;
    }
  }
  return n;
}

/* "name type | name type" */
static int parse_columns(line *l, char *spec, cqlmux_mock_column *cols, size_t max, size_t *n) {
  char *parts[64];
  *n = split_cells(spec, parts, max < 64 ? max : 64);
  if (*n > max || *n > 64) return fail(l, "too many columns");
  for (size_t i = 0; i < *n; i++) {
    char *sp = parts[i] ? strpbrk(parts[i], " \t") : NULL;
    if (!sp) return fail(l, "a column is \"name type\"");
    *sp = '\0';
    cols[i].name = parts[i];
    cols[i].type = sp + 1;
  }
  return CQLMUX_OK;
}

static int parse_hex(line *l, const char *s, uint8_t *out, size_t max, size_t *n) {
  if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return fail(l, "an id is 0x<hex>");
  *n = 0;
  for (s += 2; s[0] && s[1] && *n < max; s += 2) {
    char byte[3] = {s[0], s[1], 0};
    char *end;
    out[(*n)++] = (uint8_t)strtoul(byte, &end, 16);
    if (*end) return fail(l, "bad hex in id");
  }
  return *s ? fail(l, "bad id length") : CQLMUX_OK;
}

static int prime_error_fields(line *l, cqlmux_mock_prime *p) {
  int code = 0;
  const char *c = value(l, "code");
  if (!c || named(l, errors, sizeof errors / sizeof *errors, c, &code)) return fail(l, "error primes need code=");
  p->error_code = code;
  p->error_message = value(l, "message");
  p->write_type = value(l, "write_type");
  p->function = value(l, "function");
  p->arg_types = value(l, "args");
  const char *cl = value(l, "consistency");
  if (cl && named(l, consistencies, sizeof consistencies / sizeof *consistencies, cl, &p->consistency))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  long long v = 0;
  int rc = opt_number(l, "received", 0, INT32_MAX, &v);
  p->received = (int32_t)v;
  v = 0;
  if (!rc) rc = opt_number(l, "block_for", 0, INT32_MAX, &v);
  p->block_for = (int32_t)v;
  v = 0;
  if (!rc) rc = opt_number(l, "alive", 0, INT32_MAX, &v);
  p->alive = (int32_t)v;
  v = 0;
  if (!rc) rc = opt_number(l, "failures", 0, INT32_MAX, &v);
  p->num_failures = (int32_t)v;
  const char *dp = value(l, "data_present");
  if (!rc && dp) rc = on_off(l, dp, &p->data_present);
  return rc;
}

/* pk=0,2: the bind marker indexes of the partition key. */
static int parse_pk(line *l, const char *s, uint16_t *out, size_t max, size_t *n) {
  *n = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save = NULL, *part = strtok_r(buf, ",", &save); part;
       part = strtok_r(NULL, ",", &save)) {
    long long v;
    if (*n == max) return fail(l, "too many partition key columns");
    if (number(l, part, 0, UINT16_MAX, &v)) return CQLMUX_ERR_INVALID_ARGUMENT;
    out[(*n)++] = (uint16_t)v;
  }
  return *n ? CQLMUX_OK : fail(l, "pk= wants bind marker indexes, e.g. pk=0,2");
}

/* alter "QUERY" columns="..." (or query="QUERY"): new result columns. */
static int script_alter(cqlmux_mock *m, line *l) {
  const char *query = value(l, "query");
  if (!query && l->n > 1 && !l->t[1].val) query = l->t[1].key;
  const char *spec = value(l, "columns");
  if (!query || !spec) return fail(l, "usage: alter \"QUERY\" columns=\"NAME TYPE|...\"");
  cqlmux_mock_column cols[64];
  size_t n = 0;
  char *copy = mock_xstrdup(spec);
  int rc = parse_columns(l, copy, cols, 64, &n);
  if (!rc) {
    rc = cqlmux_mock_prime_alter(m, query, cols, n);
    if (rc == CQLMUX_ERR_NOT_FOUND) fail(l, "no prime for \"%s\"", query);
    else if (rc) fail(l, "columns refused (see stderr)");
  }
  mock_free(copy);
  return rc;
}

static int script_prime(cqlmux_mock *m, line *l) {
  int kind;
  if (l->n < 2 || !LOOKUP(kinds, l->t[1].key, &kind))
    return fail(l, "usage: prime void|rows|error|keyspace|schema query=... [...]");
  cqlmux_mock_prime p;
  cqlmux_mock_prime_init(&p, (cqlmux_mock_result_kind)kind, value(l, "query"));
  uint8_t id[64];
  size_t id_len = 0;
  int rc = CQLMUX_OK;
  if (value(l, "id")) {
    rc = parse_hex(l, value(l, "id"), id, sizeof id, &id_len);
    p.prepared_id = id;
    p.prepared_id_len = id_len;
  }
  long long node = CQLMUX_MOCK_ANY;
  if (!rc) rc = opt_number(l, "node", 0, CQLMUX_MOCK_MAX_NODES - 1, &node);
  p.node = (int)node;
  if (!rc && value(l, "opcode")) rc = named(l, opcodes, sizeof opcodes / sizeof *opcodes, value(l, "opcode"), &p.opcode);
  p.keyspace = value(l, "keyspace");
  p.table = value(l, "table");
  p.change = value(l, "change");
  p.target = value(l, "target");
  p.prepared_everywhere = has_word(l, "everywhere");
  uint16_t pk[64];
  if (!rc && value(l, "pk")) rc = parse_pk(l, value(l, "pk"), pk, 64, &p.pk_count);
  p.pk_indexes = pk;
  cqlmux_mock_column cols[64], params[64];
  char *cells[64 * 64];
  char *colspec = value(l, "columns") ? mock_xstrdup(value(l, "columns")) : NULL;
  char *paramspec = value(l, "params") ? mock_xstrdup(value(l, "params")) : NULL;
  if (!rc && colspec) rc = parse_columns(l, colspec, cols, 64, &p.column_count);
  if (!rc && paramspec) rc = parse_columns(l, paramspec, params, 64, &p.param_count);
  p.columns = cols;
  p.params = params;
  for (int i = 1; !rc && i < l->n; i++) {
    if (!l->t[i].val || strcmp(l->t[i].key, "row")) continue;
    if (p.row_count == 64) rc = fail(l, "at most 64 rows per line");
    else if (split_cells(l->t[i].val, cells + p.row_count * p.column_count, p.column_count) != p.column_count)
      rc = fail(l, "row %zu does not have %zu cells", p.row_count + 1, p.column_count);
    else p.row_count++;
  }
  p.cells = (const char *const *)cells;
  if (!rc && kind == CQLMUX_MOCK_RESULT_ERROR) rc = prime_error_fields(l, &p);
  if (!rc && (rc = cqlmux_mock_prime_add(m, &p)) != CQLMUX_OK) fail(l, "prime refused (see stderr)");
  mock_free(colspec);
  mock_free(paramspec);
  return rc;
}

/* ------------------------------------------------------------ faults */

static int parse_event(line *l, int first, cqlmux_mock_event *ev) {
  int type;
  if (l->n <= first + 1 || !LOOKUP(events, l->t[first].key, &type))
    return fail(l, "an event is: topology|status|schema CHANGE [about=N] [target= keyspace= object= args=]");
  ev->type = (cqlmux_mock_event_type)type;
  ev->change = l->t[first + 1].key;
  long long about = 0;
  int rc = opt_number(l, "about", 0, CQLMUX_MOCK_MAX_NODES - 1, &about);
  ev->about_node = (int)about;
  ev->target = value(l, "target");
  ev->keyspace = value(l, "keyspace");
  ev->name = value(l, "object");
  ev->args = value(l, "args");
  return rc;
}

static int fault_scope(line *l, cqlmux_mock_fault *f) {
  long long node = CQLMUX_MOCK_ANY, conn = CQLMUX_MOCK_ANY, v;
  int rc = opt_number(l, "node", 0, CQLMUX_MOCK_MAX_NODES - 1, &node);
  if (!rc) rc = opt_number(l, "conn", 1, INT64_MAX, &conn);
  f->node = (int)node;
  f->connection = conn;
  if (!rc && value(l, "opcode")) rc = named(l, opcodes, sizeof opcodes / sizeof *opcodes, value(l, "opcode"), &f->opcode);
  f->query = value(l, "query");
  if (!rc && value(l, "after-requests")) {
    f->trigger = CQLMUX_MOCK_AFTER_REQUESTS;
    rc = number(l, value(l, "after-requests"), 0, INT64_MAX, &v);
    f->after = (uint64_t)v;
  } else if (!rc && value(l, "after-ms")) {
    f->trigger = CQLMUX_MOCK_AFTER_MS;
    rc = number(l, value(l, "after-ms"), 0, INT64_MAX, &v);
    f->after = (uint64_t)v;
  } else if (has_word(l, "on-command")) {
    f->trigger = CQLMUX_MOCK_ON_COMMAND;
  }
  v = 0;
  if (!rc) rc = opt_number(l, "times", 0, INT64_MAX, &v);
  f->times = (uint64_t)v;
  v = 0;
  if (!rc) rc = opt_number(l, "delay", 0, UINT32_MAX, &v);
  f->delay_ms = (uint32_t)v;
  v = 0;
  if (!rc) rc = opt_number(l, "arg", 0, UINT32_MAX, &v);
  f->arg = (uint32_t)v;
  return rc;
}

static int script_fault(cqlmux_mock *m, line *l) {
  int kind;
  if (l->n < 2 || !LOOKUP(faults, l->t[1].key, &kind)) return fail(l, "unknown fault \"%s\"", l->n > 1 ? l->t[1].key : "");
  cqlmux_mock_fault f;
  cqlmux_mock_fault_init(&f, (cqlmux_mock_fault_kind)kind);
  int rc = fault_scope(l, &f);
  if (!rc && kind == CQLMUX_MOCK_PUSH_EVENT) {
    int first = 2;
    while (first < l->n && l->t[first].val) first++;
    rc = parse_event(l, first, &f.event);
  }
  int id = 0;
  if (!rc && (rc = cqlmux_mock_fault_add(m, &f, &id)) != CQLMUX_OK) return fail(l, "fault refused");
  if (!rc && value(l, "label")) mock_fault_set_label(m, id, value(l, "label"));
  if (!rc && l->err) snprintf(l->err, l->errlen, "fault %d", id);
  return rc;
}

/* A fault named by number or label. */
static int fault_ref(cqlmux_mock *m, line *l, int *id) {
  if (l->n != 2) return fail(l, "usage: %s ID|LABEL", l->t[0].key);
  *id = mock_fault_by_label(m, l->t[1].key);
  if (*id > 0) return CQLMUX_OK;
  long long v;
  if (number(l, l->t[1].key, 1, INT32_MAX, &v)) return fail(l, "no fault \"%s\"", l->t[1].key);
  *id = (int)v;
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ runtime */

static int node_arg(line *l, int i, long long *node) {
  if (l->n <= i) return fail(l, "usage: %s NODE", l->t[0].key);
  return number(l, l->t[i].key, 0, CQLMUX_MOCK_MAX_NODES - 1, node);
}

static int script_node(cqlmux_mock *m, line *l) {
  const char *k = l->t[0].key;
  long long node, ms = 0;
  if (!strcmp(k, "add")) {
    if (l->n < 2) return fail(l, "usage: add DC [RACK]");
    int index;
    int rc = cqlmux_mock_node_add(m, l->t[1].key, l->n > 2 ? l->t[2].key : NULL, &index);
    if (!rc && l->err) snprintf(l->err, l->errlen, "node %d", index);
    return rc;
  }
  if (!strcmp(k, "forget") && l->n == 2 && !strcmp(l->t[1].key, "all"))
    return cqlmux_mock_node_forget_prepared(m, CQLMUX_MOCK_ANY);
  if (node_arg(l, 1, &node)) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (!strcmp(k, "stop")) return cqlmux_mock_node_stop(m, (int)node);
  if (!strcmp(k, "start")) return cqlmux_mock_node_start(m, (int)node);
  if (!strcmp(k, "remove")) return cqlmux_mock_node_remove(m, (int)node);
  if (!strcmp(k, "forget")) return cqlmux_mock_node_forget_prepared(m, (int)node);
  if (l->n > 2 && number(l, l->t[2].key, 0, UINT32_MAX, &ms)) return CQLMUX_ERR_INVALID_ARGUMENT;
  return cqlmux_mock_node_restart(m, (int)node, (unsigned)ms);
}

static int script_runtime(cqlmux_mock *m, line *l) {
  const char *k = l->t[0].key;
  int id;
  if (!strcmp(k, "prime")) return script_prime(m, l);
  if (!strcmp(k, "fault")) return script_fault(m, l);
  if (!strcmp(k, "fire")) return fault_ref(m, l, &id) ? CQLMUX_ERR_INVALID_ARGUMENT : cqlmux_mock_fault_fire(m, id);
  if (!strcmp(k, "clear")) {
    if (l->n == 2 && !strcmp(l->t[1].key, "all")) {
      cqlmux_mock_fault_clear_all(m);
      return CQLMUX_OK;
    }
    return fault_ref(m, l, &id) ? CQLMUX_ERR_INVALID_ARGUMENT : cqlmux_mock_fault_clear(m, id);
  }
  if (!strcmp(k, "event")) {
    cqlmux_mock_event ev;
    memset(&ev, 0, sizeof ev);
    long long node = CQLMUX_MOCK_ANY;
    if (parse_event(l, 1, &ev) || opt_number(l, "node", 0, CQLMUX_MOCK_MAX_NODES - 1, &node))
      return CQLMUX_ERR_INVALID_ARGUMENT;
    int n = cqlmux_mock_push_event(m, (int)node, &ev);
    if (n >= 0 && l->err) snprintf(l->err, l->errlen, "sent to %d connections", n);
    return n < 0 ? n : CQLMUX_OK;
  }
  if (!strcmp(k, "keyspace")) return script_keyspace(m, l);
  if (!strcmp(k, "replicas")) return script_replicas(m, l);
  if (!strcmp(k, "alter")) return script_alter(m, l);
  if (!strcmp(k, "clear-log")) {
    cqlmux_mock_log_clear(m);
    return CQLMUX_OK;
  }
  if (!strcmp(k, "clear-primes")) {
    cqlmux_mock_prime_clear(m);
    return CQLMUX_OK;
  }
  if (!strcmp(k, "stop") || !strcmp(k, "start") || !strcmp(k, "restart") || !strcmp(k, "add") ||
      !strcmp(k, "remove") || !strcmp(k, "forget"))
    return script_node(m, l);
  return fail(l, "unknown command \"%s\"", k);
}

int cqlmux_mock_script(cqlmux_mock *m, const char *text, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  line l = {.err = err, .errlen = errlen};
  int rc = tokenize(&l, text);
  if (!rc && l.n > 0) rc = script_runtime(m, &l);
  line_free(&l);
  return rc;
}

/* Column types and cell values of primes, written as text: "map<text,int>"
 * and "{'a': 1}" become a cqlmux_typedesc tree and a serialized [value]. */
#include "config.h"

#include "mock/mock_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/values.h"

typedef struct cursor {
  const char *p;
  char *err;
  size_t errlen;
  cqlmux_arena *arena;
} cursor;

static int fail(cursor *c, const char *fmt, ...) {
  if (c->err && c->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
  }
  return CQLMUX_ERR_INVALID_ARGUMENT;
}

static void skip_ws(cursor *c) {
  while (isspace((unsigned char)*c->p)) c->p++;
}

static bool eat(cursor *c, char ch) {
  skip_ws(c);
  if (*c->p != ch) return false;
  c->p++;
  return true;
}

/* ------------------------------------------------------------ types */

static const struct {
  const char *name;
  uint16_t id;
} natives[] = {
    {"ascii", CQLMUX_TYPE_ASCII},       {"bigint", CQLMUX_TYPE_BIGINT},
    {"blob", CQLMUX_TYPE_BLOB},         {"boolean", CQLMUX_TYPE_BOOLEAN},
    {"counter", CQLMUX_TYPE_COUNTER},   {"decimal", CQLMUX_TYPE_DECIMAL},
    {"double", CQLMUX_TYPE_DOUBLE},     {"float", CQLMUX_TYPE_FLOAT},
    {"int", CQLMUX_TYPE_INT},           {"timestamp", CQLMUX_TYPE_TIMESTAMP},
    {"uuid", CQLMUX_TYPE_UUID},         {"text", CQLMUX_TYPE_TEXT},
    {"varchar", CQLMUX_TYPE_TEXT},   {"varint", CQLMUX_TYPE_VARINT},
    {"timeuuid", CQLMUX_TYPE_TIMEUUID}, {"inet", CQLMUX_TYPE_INET},
    {"date", CQLMUX_TYPE_DATE},         {"time", CQLMUX_TYPE_TIME},
    {"smallint", CQLMUX_TYPE_SMALLINT}, {"tinyint", CQLMUX_TYPE_TINYINT},
    {"duration", CQLMUX_TYPE_DURATION},
};

static size_t word(cursor *c, char *out, size_t cap) {
  skip_ws(c);
  size_t n = 0;
  while ((isalnum((unsigned char)c->p[n]) || c->p[n] == '_') && n + 1 < cap) {
    out[n] = (char)tolower((unsigned char)c->p[n]);
    n++;
  }
  out[n] = '\0';
  c->p += n;
  return n;
}

static int parse_type(cursor *c, unsigned depth, const cqlmux_typedesc **out);

static int parse_args(cursor *c, unsigned depth, const cqlmux_typedesc **args, uint32_t max,
                      uint32_t *count) {
  if (!eat(c, '<')) return fail(c, "expected '<' at \"%s\"", c->p);
  uint32_t n = 0;
  do {
    if (n == max) return fail(c, "too many type arguments");
    int rc = parse_type(c, depth + 1, &args[n++]);
    if (rc) return rc;
  } while (eat(c, ','));
  if (!eat(c, '>')) return fail(c, "expected '>' at \"%s\"", c->p);
  *count = n;
  return CQLMUX_OK;
}

static int parse_vector(cursor *c, unsigned depth, const cqlmux_typedesc **out) {
  if (!eat(c, '<')) return fail(c, "expected '<' after vector");
  const cqlmux_typedesc *elem;
  int rc = parse_type(c, depth + 1, &elem);
  if (rc) return rc;
  if (!eat(c, ',')) return fail(c, "vector needs a dimension");
  skip_ws(c);
  char *end;
  long dim = strtol(c->p, &end, 10);
  if (end == c->p || dim < 1) return fail(c, "bad vector dimension");
  c->p = end;
  if (!eat(c, '>')) return fail(c, "expected '>' after vector dimension");
  *out = cqlmux_type_new_vector(c->arena, elem, (uint32_t)dim);
  return *out ? CQLMUX_OK : fail(c, "type too large");
}

static int parse_type(cursor *c, unsigned depth, const cqlmux_typedesc **out) {
  char name[32];
  if (depth > 16) return fail(c, "type nested too deeply");
  if (!word(c, name, sizeof name)) return fail(c, "expected a type at \"%s\"", c->p);
  for (size_t i = 0; i < sizeof natives / sizeof *natives; i++)
    if (strcmp(name, natives[i].name) == 0) {
      *out = cqlmux_type_native(natives[i].id);
      return CQLMUX_OK;
    }
  if (strcmp(name, "vector") == 0) return parse_vector(c, depth, out);
  const cqlmux_typedesc *args[32];
  uint32_t n = 0;
  int rc = parse_args(c, depth, args, 32, &n);
  if (rc) return rc;
  if (strcmp(name, "frozen") == 0 && n == 1) {
    *out = args[0];
    return CQLMUX_OK;
  }
  if ((strcmp(name, "list") == 0 || strcmp(name, "set") == 0) && n == 1)
    *out = name[0] == 'l' ? cqlmux_type_new_list(c->arena, args[0])
                          : cqlmux_type_new_set(c->arena, args[0]);
  else if (strcmp(name, "map") == 0 && n == 2)
    *out = cqlmux_type_new_map(c->arena, args[0], args[1]);
  else if (strcmp(name, "tuple") == 0)
    *out = cqlmux_type_new_tuple(c->arena, n, args);
  else
    return fail(c, "unknown type %s<...> with %u arguments", name, (unsigned)n);
  return *out ? CQLMUX_OK : fail(c, "type too large");
}

int mock_type_parse(const char *text, cqlmux_arena *arena, const cqlmux_typedesc **out, char *err,
                    size_t errlen) {
  cursor c = {text ? text : "", err, errlen, arena};
  int rc = parse_type(&c, 0, out);
  skip_ws(&c);
  if (!rc && *c.p) rc = fail(&c, "unexpected \"%s\" after type", c.p);
  return rc;
}

/* ------------------------------------------------------------ values */

/* A quoted string 'it''s', or (bare == true, top level only) the rest. */
static int parse_string(cursor *c, bool bare, cqlmux_wbuf *b) {
  skip_ws(c);
  if (*c->p != '\'') {
    if (!bare) return fail(c, "expected a quoted string at \"%s\"", c->p);
    cqlmux_value_write_bytes(b, c->p, strlen(c->p));
    c->p += strlen(c->p);
    return CQLMUX_OK;
  }
  c->p++;
  size_t mark = cqlmux_value_begin(b);
  for (;;) {
    if (!*c->p) return fail(c, "unterminated string");
    if (*c->p == '\'') {
      if (c->p[1] != '\'') break;
      c->p++;
    }
    cqlmux_write_u8(b, (uint8_t)*c->p++);
  }
  c->p++;
  cqlmux_value_end(b, mark);
  return CQLMUX_OK;
}

static int parse_int(cursor *c, int64_t lo, int64_t hi, int64_t *out) {
  skip_ws(c);
  char *end;
  errno = 0;
  long long v = strtoll(c->p, &end, 0);
  if (end == c->p || errno || v < lo || v > hi) return fail(c, "bad integer at \"%s\"", c->p);
  c->p = end;
  *out = v;
  return CQLMUX_OK;
}

static int parse_double(cursor *c, double *out) {
  skip_ws(c);
  char *end;
  double v = strtod(c->p, &end);
  if (end == c->p) return fail(c, "bad number at \"%s\"", c->p);
  c->p = end;
  *out = v;
  return CQLMUX_OK;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  ch = (char)tolower((unsigned char)ch);
  return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static int parse_uuid(cursor *c, uint8_t out[16]) {
  skip_ws(c);
  int n = 0;
  const char *p = c->p;
  while (n < 32) {
    if (*p == '-') {
      p++;
      continue;
    }
    int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
    if (hi < 0 || lo < 0) return fail(c, "bad uuid at \"%s\"", c->p);
    out[n / 2] = (uint8_t)(hi << 4 | lo);
    n += 2;
    p += 2;
  }
  c->p = p;
  return CQLMUX_OK;
}

static int parse_blob(cursor *c, cqlmux_wbuf *b) {
  skip_ws(c);
  if (c->p[0] != '0' || (c->p[1] != 'x' && c->p[1] != 'X'))
    return fail(c, "a blob is 0x<hex>, not \"%s\"", c->p);
  c->p += 2;
  size_t mark = cqlmux_value_begin(b);
  while (hexval(c->p[0]) >= 0 && hexval(c->p[1]) >= 0) {
    cqlmux_write_u8(b, (uint8_t)(hexval(c->p[0]) << 4 | hexval(c->p[1])));
    c->p += 2;
  }
  cqlmux_value_end(b, mark);
  return CQLMUX_OK;
}

static int parse_inet(cursor *c, cqlmux_wbuf *b) {
  skip_ws(c);
  bool quoted = *c->p == '\'';
  if (quoted) c->p++;
  char buf[64];
  size_t n = 0;
  while ((isxdigit((unsigned char)c->p[n]) || c->p[n] == '.' || c->p[n] == ':') && n + 1 < sizeof buf) {
    buf[n] = c->p[n];
    n++;
  }
  buf[n] = '\0';
  cqlmux_inet a = {{0}, 4, 0};
  if (inet_pton(AF_INET, buf, a.addr) != 1) {
    a.addr_len = 16;
    if (inet_pton(AF_INET6, buf, a.addr) != 1) return fail(c, "bad inet \"%s\"", buf);
  }
  c->p += n;
  if (quoted && *c->p == '\'') c->p++;
  cqlmux_value_write_inet(b, &a);
  return CQLMUX_OK;
}

static int parse_decimal(cursor *c, cqlmux_wbuf *b) {
  skip_ws(c);
  const char *p = c->p;
  int64_t unscaled = 0;
  int32_t scale = 0;
  bool neg = *p == '-', dot = false, digits = false;
  if (*p == '-' || *p == '+') p++;
  for (; isdigit((unsigned char)*p) || (*p == '.' && !dot); p++) {
    if (*p == '.') {
      dot = true;
      continue;
    }
    if (unscaled > (INT64_MAX - 9) / 10) return fail(c, "decimal too long");
    unscaled = unscaled * 10 + (*p - '0');
    digits = true;
    if (dot) scale++;
  }
  if (!digits) return fail(c, "bad decimal at \"%s\"", c->p);
  c->p = p;
  cqlmux_value_write_decimal(b, scale, neg ? -unscaled : unscaled);
  return CQLMUX_OK;
}

/* "1mo2d3h4m5s6ms7us8ns" (any subset, in any order), or "-..." */
static int parse_duration(cursor *c, cqlmux_wbuf *b) {
  skip_ws(c);
  cqlmux_duration d = {0, 0, 0};
  bool neg = *c->p == '-';
  if (neg) c->p++;
  static const struct {
    const char *unit;
    int field; /* 0 months, 1 days, 2 nanos */
    int64_t mul;
  } units[] = {{"mo", 0, 1},           {"y", 0, 12},           {"w", 1, 7},
               {"d", 1, 1},            {"h", 2, 3600000000000}, {"ms", 2, 1000000},
               {"m", 2, 60000000000},  {"s", 2, 1000000000},    {"us", 2, 1000},
               {"ns", 2, 1}};
  bool any = false;
  while (isdigit((unsigned char)*c->p)) {
    char *end;
    long long v = strtoll(c->p, &end, 10);
    c->p = end;
    size_t u = 0;
    while (u < sizeof units / sizeof *units && strncmp(c->p, units[u].unit, strlen(units[u].unit)) != 0)
      u++;
    if (u == sizeof units / sizeof *units) return fail(c, "bad duration unit at \"%s\"", c->p);
    c->p += strlen(units[u].unit);
    if (units[u].field == 0) d.months += (int32_t)(v * units[u].mul);
    if (units[u].field == 1) d.days += (int32_t)(v * units[u].mul);
    if (units[u].field == 2) d.nanoseconds += v * units[u].mul;
    any = true;
  }
  if (!any) return fail(c, "bad duration at \"%s\"", c->p);
  if (neg) {
    d.months = -d.months;
    d.days = -d.days;
    d.nanoseconds = -d.nanoseconds;
  }
  cqlmux_value_write_duration(b, d);
  return CQLMUX_OK;
}

/* 'YYYY-MM-DD' or a raw wire number. */
static int parse_date(cursor *c, cqlmux_wbuf *b) {
  skip_ws(c);
  int y, mo, d, used = 0;
  const char *p = c->p + (*c->p == '\'');
  if (sscanf(p, "%d-%d-%d%n", &y, &mo, &d, &used) == 3) {
    /* days from civil (Howard Hinnant's algorithm) */
    y -= mo <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + (int64_t)doe - 719468;
    c->p = p + used + (p[used] == '\'');
    cqlmux_value_write_date(b, (uint32_t)(days + 2147483648LL));
    return CQLMUX_OK;
  }
  int64_t v;
  int rc = parse_int(c, 0, UINT32_MAX, &v);
  if (!rc) cqlmux_value_write_date(b, (uint32_t)v);
  return rc;
}

static int parse_value(cursor *c, const cqlmux_typedesc *t, bool top, cqlmux_wbuf *b);

static int parse_elements(cursor *c, const cqlmux_typedesc *t, char close, cqlmux_wbuf *b) {
  size_t mark = cqlmux_value_begin(b);
  size_t count_at = cqlmux_wbuf_skip(b, 4);
  int32_t n = 0;
  if (!eat(c, close)) {
    do {
      int rc = parse_value(c, t->children[0], false, b);
      if (rc) return rc;
      if (t->id == CQLMUX_TYPE_MAP) {
        if (!eat(c, ':')) return fail(c, "expected ':' in map at \"%s\"", c->p);
        rc = parse_value(c, t->children[1], false, b);
        if (rc) return rc;
      }
      n++;
    } while (eat(c, ','));
    if (!eat(c, close)) return fail(c, "expected '%c' at \"%s\"", close, c->p);
  }
  if (!b->error) cqlmux_store_u32(b->data + count_at, (uint32_t)n);
  cqlmux_value_end(b, mark);
  return CQLMUX_OK;
}

static int parse_tuple(cursor *c, const cqlmux_typedesc *t, cqlmux_wbuf *b) {
  if (!eat(c, '(')) return fail(c, "a tuple starts with '(' at \"%s\"", c->p);
  size_t mark = cqlmux_value_begin(b);
  for (uint32_t i = 0; i < t->count; i++) {
    if (i && !eat(c, ',')) return fail(c, "expected ',' in tuple at \"%s\"", c->p);
    int rc = parse_value(c, t->children[i], false, b);
    if (rc) return rc;
  }
  if (!eat(c, ')')) return fail(c, "expected ')' at \"%s\"", c->p);
  cqlmux_value_end(b, mark);
  return CQLMUX_OK;
}

/* Vector elements are bare when of fixed size, else [unsigned vint]-prefixed:
 * parse each as a [value] into scratch, then move its bytes. */
static int parse_vector_value(cursor *c, const cqlmux_typedesc *t, cqlmux_wbuf *b) {
  if (!eat(c, '[')) return fail(c, "a vector starts with '[' at \"%s\"", c->p);
  size_t mark = cqlmux_value_begin(b);
  for (uint32_t i = 0; i < t->dimension; i++) {
    if (i && !eat(c, ',')) return fail(c, "vector needs %u elements", (unsigned)t->dimension);
    cqlmux_wbuf one;
    cqlmux_wbuf_init(&one, NULL, 0);
    int rc = parse_value(c, t->children[0], false, &one);
    if (!rc && one.len < 4) rc = fail(c, "vector elements cannot be null");
    if (!rc) {
      size_t m = t->children[0]->fixed_size > 0 ? SIZE_MAX : cqlmux_value_vector_elem_begin(b);
      cqlmux_write_raw(b, one.data + 4, one.len - 4);
      if (m != SIZE_MAX) cqlmux_value_vector_elem_end(b, m);
    }
    cqlmux_wbuf_free(&one);
    if (rc) return rc;
  }
  if (!eat(c, ']')) return fail(c, "expected ']' at \"%s\"", c->p);
  cqlmux_value_end(b, mark);
  return CQLMUX_OK;
}

/* The integer and floating point types; false for any other type. */
static bool parse_number(cursor *c, const cqlmux_typedesc *t, cqlmux_wbuf *b, int *rc) {
  int64_t i = 0;
  double d = 0;
  switch (t->id) {
  case CQLMUX_TYPE_TINYINT:
    if (!(*rc = parse_int(c, INT8_MIN, INT8_MAX, &i))) cqlmux_value_write_tinyint(b, (int8_t)i);
    return true;
  case CQLMUX_TYPE_SMALLINT:
    if (!(*rc = parse_int(c, INT16_MIN, INT16_MAX, &i))) cqlmux_value_write_smallint(b, (int16_t)i);
    return true;
  case CQLMUX_TYPE_INT:
    if (!(*rc = parse_int(c, INT32_MIN, INT32_MAX, &i))) cqlmux_value_write_int(b, (int32_t)i);
    return true;
  case CQLMUX_TYPE_BIGINT:
  case CQLMUX_TYPE_COUNTER:
  case CQLMUX_TYPE_TIMESTAMP:
    if (!(*rc = parse_int(c, INT64_MIN, INT64_MAX, &i))) cqlmux_value_write_bigint(b, i);
    return true;
  case CQLMUX_TYPE_VARINT:
    if (!(*rc = parse_int(c, INT64_MIN, INT64_MAX, &i))) cqlmux_value_write_varint(b, i);
    return true;
  case CQLMUX_TYPE_TIME:
    if (!(*rc = parse_int(c, 0, INT64_MAX, &i))) cqlmux_value_write_time(b, i);
    return true;
  case CQLMUX_TYPE_FLOAT:
    if (!(*rc = parse_double(c, &d))) cqlmux_value_write_float(b, (float)d);
    return true;
  case CQLMUX_TYPE_DOUBLE:
    if (!(*rc = parse_double(c, &d))) cqlmux_value_write_double(b, d);
    return true;
  case CQLMUX_TYPE_DECIMAL:
    *rc = parse_decimal(c, b);
    return true;
  default:
    return false;
  }
}

static int parse_native(cursor *c, const cqlmux_typedesc *t, bool top, cqlmux_wbuf *b) {
  uint8_t uuid[16];
  int rc = CQLMUX_OK;
  if (parse_number(c, t, b, &rc)) return rc;
  switch (t->id) {
  case CQLMUX_TYPE_ASCII:
  case CQLMUX_TYPE_TEXT:
    return parse_string(c, top, b);
  case CQLMUX_TYPE_BLOB:
    return parse_blob(c, b);
  case CQLMUX_TYPE_BOOLEAN: {
    char w[8];
    word(c, w, sizeof w);
    if (strcmp(w, "true") && strcmp(w, "false")) return fail(c, "bad boolean");
    cqlmux_value_write_boolean(b, w[0] == 't');
    return CQLMUX_OK;
  }
  case CQLMUX_TYPE_UUID:
  case CQLMUX_TYPE_TIMEUUID:
    if (!(rc = parse_uuid(c, uuid))) cqlmux_value_write_uuid(b, uuid);
    return rc;
  case CQLMUX_TYPE_INET:
    return parse_inet(c, b);
  case CQLMUX_TYPE_DATE:
    return parse_date(c, b);
  case CQLMUX_TYPE_DURATION:
    return parse_duration(c, b);
  default:
    return fail(c, "values of type id 0x%04x cannot be primed", (unsigned)t->id);
  }
}

static int parse_value(cursor *c, const cqlmux_typedesc *t, bool top, cqlmux_wbuf *b) {
  skip_ws(c);
  if (!top && strncasecmp(c->p, "null", 4) == 0 && !isalnum((unsigned char)c->p[4])) {
    c->p += 4;
    cqlmux_value_write_null(b);
    return CQLMUX_OK;
  }
  switch (t->id) {
  case CQLMUX_TYPE_LIST:
  case CQLMUX_TYPE_SET:
  case CQLMUX_TYPE_MAP: {
    char open = *c->p;
    if (open != '[' && open != '{') return fail(c, "a collection starts with [ or { at \"%s\"", c->p);
    c->p++;
    return parse_elements(c, t, open == '[' ? ']' : '}', b);
  }
  case CQLMUX_TYPE_TUPLE:
    return parse_tuple(c, t, b);
  case CQLMUX_TYPE_VECTOR:
    return parse_vector_value(c, t, b);
  default:
    return parse_native(c, t, top, b);
  }
}

int mock_value_parse(const cqlmux_typedesc *t, const char *text, cqlmux_wbuf *b, char *err,
                     size_t errlen) {
  if (!text) {
    cqlmux_value_write_null(b);
    return CQLMUX_OK;
  }
  cursor c = {text, err, errlen, NULL};
  int rc = parse_value(&c, t, true, b);
  skip_ws(&c);
  if (!rc && *c.p) rc = fail(&c, "unexpected \"%s\" after value", c.p);
  if (!rc && b->error) rc = fail(&c, "cannot encode value \"%s\": %s", text, cqlmux_strerror(b->error));
  return rc;
}

/* Java marshal class strings, the form custom [option]s and vectors travel
 * in: "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.
 * marshal.FloatType , 3)". The grammar is Cassandra's TypeParser one: a class
 * name, optionally followed by a parenthesized, comma-separated parameter
 * list, with blanks allowed between tokens. */
#include <stdio.h>
#include <string.h>

#include "proto/types.h"
#include "proto/types_internal.h"

static const char marshal_pkg[] = "org.apache.cassandra.db.marshal.";

/* Class kinds beyond native ids. */
enum {
  K_UNKNOWN = -1,
  K_FROZEN = 0x1000,
  K_REVERSED,
};

typedef struct class_name {
  const char *name;
  int kind; /* a cqlmux_type or K_* */
} class_name;

/* The first entry per id is the one generated; DateType is the legacy
 * timestamp class (same 8-byte encoding). */
static const class_name classes[] = {
    {"AsciiType", CQLMUX_TYPE_ASCII},
    {"LongType", CQLMUX_TYPE_BIGINT},
    {"BytesType", CQLMUX_TYPE_BLOB},
    {"BooleanType", CQLMUX_TYPE_BOOLEAN},
    {"CounterColumnType", CQLMUX_TYPE_COUNTER},
    {"DecimalType", CQLMUX_TYPE_DECIMAL},
    {"DoubleType", CQLMUX_TYPE_DOUBLE},
    {"FloatType", CQLMUX_TYPE_FLOAT},
    {"Int32Type", CQLMUX_TYPE_INT},
    {"TimestampType", CQLMUX_TYPE_TIMESTAMP},
    {"DateType", CQLMUX_TYPE_TIMESTAMP},
    {"UUIDType", CQLMUX_TYPE_UUID},
    {"UTF8Type", CQLMUX_TYPE_TEXT},
    {"IntegerType", CQLMUX_TYPE_VARINT},
    {"TimeUUIDType", CQLMUX_TYPE_TIMEUUID},
    {"InetAddressType", CQLMUX_TYPE_INET},
    {"SimpleDateType", CQLMUX_TYPE_DATE},
    {"TimeType", CQLMUX_TYPE_TIME},
    {"ShortType", CQLMUX_TYPE_SMALLINT},
    {"ByteType", CQLMUX_TYPE_TINYINT},
    {"DurationType", CQLMUX_TYPE_DURATION},
    {"ListType", CQLMUX_TYPE_LIST},
    {"MapType", CQLMUX_TYPE_MAP},
    {"SetType", CQLMUX_TYPE_SET},
    {"UserType", CQLMUX_TYPE_UDT},
    {"TupleType", CQLMUX_TYPE_TUPLE},
    {"VectorType", CQLMUX_TYPE_VECTOR},
    {"FrozenType", K_FROZEN},
    {"ReversedType", K_REVERSED},
};

#define NCLASSES (sizeof classes / sizeof classes[0])

/* ------------------------------------------------------------ lexing */

typedef struct lexer {
  const uint8_t *p, *end;
} lexer;

static void skip_blanks(lexer *lx) {
  while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r'))
    lx->p++;
}

/* TypeParser's identifier characters. */
static bool ident_char(uint8_t ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         ch == '.' || ch == '_' || ch == '-' || ch == '+' || ch == '&' || ch == '$';
}

static cqlmux_slice read_ident(lexer *lx) {
  skip_blanks(lx);
  cqlmux_slice s = {lx->p, 0};
  while (lx->p < lx->end && ident_char(*lx->p)) lx->p++;
  s.len = (size_t)(lx->p - s.data);
  return s;
}

/* Consumes ch after optional blanks. */
static bool expect(lexer *lx, uint8_t ch) {
  skip_blanks(lx);
  if (lx->p >= lx->end || *lx->p != ch) return false;
  lx->p++;
  return true;
}

static bool peek(lexer *lx, uint8_t ch) {
  skip_blanks(lx);
  return lx->p < lx->end && *lx->p == ch;
}

/* Skips a parenthesized group (lx at its '('), nested groups included. */
static int skip_group(lexer *lx) {
  size_t open = 0;
  do {
    if (lx->p >= lx->end) return CQLMUX_ERR_MALFORMED;
    if (*lx->p == '(') open++;
    else if (*lx->p == ')') open--;
    lx->p++;
  } while (open);
  return CQLMUX_OK;
}

/* Top-level commas of the group lx is at (its '('), plus one; 0 for "()". */
static uint32_t count_params(const lexer *lx) {
  lexer probe = *lx;
  probe.p++;
  if (peek(&probe, ')')) return 0;
  uint32_t n = 1;
  size_t open = 1;
  for (; probe.p < probe.end && open; probe.p++) {
    if (*probe.p == '(') open++;
    else if (*probe.p == ')') open--;
    else if (*probe.p == ',' && open == 1 && n < UINT32_MAX) n++;
  }
  return n;
}

static int class_kind(cqlmux_slice name) {
  size_t plen = sizeof marshal_pkg - 1;
  if (name.len > plen && memcmp(name.data, marshal_pkg, plen) == 0) {
    name.data += plen;
    name.len -= plen;
  }
  for (size_t i = 0; i < NCLASSES; i++)
    if (strlen(classes[i].name) == name.len && memcmp(classes[i].name, name.data, name.len) == 0)
      return classes[i].kind;
  return K_UNKNOWN;
}

static bool is_hex(cqlmux_slice s) {
  if (s.len % 2) return false;
  for (size_t i = 0; i < s.len; i++) {
    uint8_t ch = s.data[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
      return false;
  }
  return true;
}

/* ------------------------------------------------------------ parsing */

static int parse_type(cqlmux_type_ctx *c, lexer *lx, unsigned depth, const cqlmux_typedesc **out);

/* T1, T2, ... Tn then ')' (the '(' already consumed). */
static int parse_type_list(cqlmux_type_ctx *c, lexer *lx, unsigned depth, uint32_t n,
                           const cqlmux_typedesc **kids) {
  for (uint32_t i = 0; i < n; i++) {
    const cqlmux_typedesc *k;
    if (i && !expect(lx, ',')) return CQLMUX_ERR_MALFORMED;
    int rc = parse_type(c, lx, depth + 1, &k);
    if (rc) return rc;
    if (kids) kids[i] = k;
  }
  return expect(lx, ')') ? CQLMUX_OK : CQLMUX_ERR_MALFORMED;
}

static int parse_collection(cqlmux_type_ctx *c, lexer *lx, unsigned depth, uint16_t id,
                            const cqlmux_typedesc **out) {
  uint32_t n = id == CQLMUX_TYPE_MAP ? 2 : id == CQLMUX_TYPE_TUPLE ? count_params(lx) : 1;
  if (n > UINT16_MAX || !expect(lx, '(')) return CQLMUX_ERR_MALFORMED;
  const cqlmux_typedesc **kids = cqlmux_type_ctx_array(c, n, sizeof *kids);
  int rc = parse_type_list(c, lx, depth, n, kids);
  if (rc) return rc;
  cqlmux_typedesc *t = cqlmux_type_ctx_node(c, id);
  t->count = n;
  t->children = kids;
  *out = t;
  return CQLMUX_OK;
}

static int parse_dimension(lexer *lx, uint32_t *dim) {
  cqlmux_slice s = read_ident(lx);
  uint64_t v = 0;
  if (s.len == 0) return CQLMUX_ERR_MALFORMED;
  for (size_t i = 0; i < s.len; i++) {
    if (s.data[i] < '0' || s.data[i] > '9') return CQLMUX_ERR_MALFORMED;
    v = v * 10 + (uint64_t)(s.data[i] - '0');
    if (v > INT32_MAX) return CQLMUX_ERR_MALFORMED;
  }
  if (v == 0) return CQLMUX_ERR_MALFORMED;
  *dim = (uint32_t)v;
  return CQLMUX_OK;
}

static int parse_vector(cqlmux_type_ctx *c, lexer *lx, unsigned depth, const uint8_t *start,
                        const cqlmux_typedesc **out) {
  const cqlmux_typedesc *elem;
  uint32_t dim;
  if (!expect(lx, '(')) return CQLMUX_ERR_MALFORMED;
  int rc = parse_type(c, lx, depth + 1, &elem);
  if (rc) return rc;
  int32_t fixed = elem->fixed_size; /* read now: elem may be the scratch node */
  if (!expect(lx, ',')) return CQLMUX_ERR_MALFORMED;
  rc = parse_dimension(lx, &dim);
  if (rc) return rc;
  if (!expect(lx, ')')) return CQLMUX_ERR_MALFORMED;
  const cqlmux_typedesc **kids = cqlmux_type_ctx_array(c, 1, sizeof *kids);
  if (kids) kids[0] = elem;
  cqlmux_typedesc *t = cqlmux_type_ctx_node(c, CQLMUX_TYPE_VECTOR);
  t->count = 1;
  t->children = kids;
  t->dimension = dim;
  cqlmux_typedesc probe = {.fixed_size = fixed};
  t->fixed_size = cqlmux_type_vector_fixed_size(&probe, dim);
  t->custom.data = start;
  t->custom.len = (size_t)(lx->p - start);
  *out = t;
  return CQLMUX_OK;
}

/* UserType(keyspace,hexname,hexfield1:T1,...) */
static int parse_udt(cqlmux_type_ctx *c, lexer *lx, unsigned depth, const cqlmux_typedesc **out) {
  uint32_t params = count_params(lx);
  if (params < 2 || !expect(lx, '(')) return CQLMUX_ERR_MALFORMED;
  uint32_t n = params - 2;
  cqlmux_slice ks = read_ident(lx), name;
  if (!expect(lx, ',')) return CQLMUX_ERR_MALFORMED;
  name = read_ident(lx);
  if (ks.len == 0 || !is_hex(name) || n > UINT16_MAX) return CQLMUX_ERR_MALFORMED;
  cqlmux_slice *names = cqlmux_type_ctx_array(c, n, sizeof *names);
  const cqlmux_typedesc **kids = cqlmux_type_ctx_array(c, n, sizeof *kids);
  for (uint32_t i = 0; i < n; i++) {
    const cqlmux_typedesc *k;
    if (!expect(lx, ',')) return CQLMUX_ERR_MALFORMED;
    cqlmux_slice field = read_ident(lx);
    if (!is_hex(field) || !expect(lx, ':')) return CQLMUX_ERR_MALFORMED;
    int rc = parse_type(c, lx, depth + 1, &k);
    if (rc) return rc;
    if (names) names[i] = field;
    if (kids) kids[i] = k;
  }
  if (!expect(lx, ')')) return CQLMUX_ERR_MALFORMED;
  cqlmux_typedesc *t = cqlmux_type_ctx_node(c, CQLMUX_TYPE_UDT);
  t->flags = CQLMUX_TYPE_F_HEX_NAMES;
  t->count = n;
  t->children = kids;
  t->field_names = names;
  t->keyspace = ks;
  t->name = name;
  *out = t;
  return CQLMUX_OK;
}

/* FrozenType(T) / ReversedType(T): T itself, frozen remembered. */
static int parse_wrapper(cqlmux_type_ctx *c, lexer *lx, unsigned depth, bool frozen,
                         const cqlmux_typedesc **out) {
  const cqlmux_typedesc *inner;
  if (!expect(lx, '(')) return CQLMUX_ERR_MALFORMED;
  int rc = parse_type(c, lx, depth + 1, &inner);
  if (rc) return rc;
  if (!expect(lx, ')')) return CQLMUX_ERR_MALFORMED;
  /* Only non-native nodes were built by this parse (natives are static). */
  if (frozen && !cqlmux_type_native(inner->id))
    ((cqlmux_typedesc *)inner)->flags |= CQLMUX_TYPE_F_FROZEN;
  *out = inner;
  return CQLMUX_OK;
}

static int parse_unknown(cqlmux_type_ctx *c, lexer *lx, const uint8_t *start,
                         const cqlmux_typedesc **out) {
  if (peek(lx, '(')) {
    int rc = skip_group(lx);
    if (rc) return rc;
  }
  cqlmux_typedesc *t = cqlmux_type_ctx_node(c, CQLMUX_TYPE_CUSTOM);
  t->custom.data = start;
  t->custom.len = (size_t)(lx->p - start);
  *out = t;
  return CQLMUX_OK;
}

static int parse_type(cqlmux_type_ctx *c, lexer *lx, unsigned depth, const cqlmux_typedesc **out) {
  if (depth > CQLMUX_TYPE_MAX_DEPTH) return CQLMUX_ERR_MALFORMED;
  cqlmux_slice name = read_ident(lx);
  if (name.len == 0) return CQLMUX_ERR_MALFORMED;
  int kind = class_kind(name);
  switch (kind) {
  case K_UNKNOWN: return parse_unknown(c, lx, name.data, out);
  case K_FROZEN: return parse_wrapper(c, lx, depth, true, out);
  case K_REVERSED: return parse_wrapper(c, lx, depth, false, out);
  case CQLMUX_TYPE_LIST:
  case CQLMUX_TYPE_SET:
  case CQLMUX_TYPE_MAP:
  case CQLMUX_TYPE_TUPLE: return parse_collection(c, lx, depth, (uint16_t)kind, out);
  case CQLMUX_TYPE_UDT: return parse_udt(c, lx, depth, out);
  case CQLMUX_TYPE_VECTOR: return parse_vector(c, lx, depth, name.data, out);
  default:
    if (peek(lx, '(')) return CQLMUX_ERR_MALFORMED;
    *out = cqlmux_type_native((uint16_t)kind);
    return CQLMUX_OK;
  }
}

int cqlmux_type_ctx_parse_class(cqlmux_type_ctx *c, cqlmux_slice s, unsigned depth,
                                const cqlmux_typedesc **out) {
  lexer lx = {s.data, s.data + s.len};
  const cqlmux_typedesc *t;
  int rc = parse_type(c, &lx, depth, &t);
  if (rc) return rc;
  skip_blanks(&lx);
  if (lx.p != lx.end) return CQLMUX_ERR_MALFORMED;
  *out = t;
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ generating */

static void write_cstr(cqlmux_wbuf *b, const char *s) { cqlmux_write_raw(b, s, strlen(s)); }

static void write_hex(cqlmux_wbuf *b, cqlmux_slice s) {
  static const char digits[] = "0123456789abcdef";
  uint8_t *p = cqlmux_wbuf_reserve(b, s.len * 2);
  if (!p) return;
  for (size_t i = 0; i < s.len; i++) {
    p[2 * i] = (uint8_t)digits[s.data[i] >> 4];
    p[2 * i + 1] = (uint8_t)digits[s.data[i] & 15];
  }
}

static const char *class_of(uint16_t id) {
  for (size_t i = 0; i < NCLASSES; i++)
    if (classes[i].kind == id) return classes[i].name;
  return NULL;
}

static void write_udt_class(cqlmux_wbuf *b, const cqlmux_typedesc *t) {
  bool hex = t->flags & CQLMUX_TYPE_F_HEX_NAMES;
  /* The keyspace goes in as it is: it must be a class-string identifier. */
  bool ks_ok = t->keyspace.len > 0;
  for (size_t i = 0; i < t->keyspace.len; i++) ks_ok = ks_ok && ident_char(t->keyspace.data[i]);
  if (!ks_ok) {
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
  cqlmux_write_raw(b, t->keyspace.data, t->keyspace.len);
  write_cstr(b, ",");
  if (hex) cqlmux_write_raw(b, t->name.data, t->name.len);
  else write_hex(b, t->name);
  for (uint32_t i = 0; i < t->count; i++) {
    write_cstr(b, ",");
    if (hex) cqlmux_write_raw(b, t->field_names[i].data, t->field_names[i].len);
    else write_hex(b, t->field_names[i]);
    write_cstr(b, ":");
    cqlmux_type_write_class(b, t->children[i]);
  }
}

void cqlmux_type_write_class(cqlmux_wbuf *b, const cqlmux_typedesc *t) {
  if (t->id == CQLMUX_TYPE_CUSTOM || (t->id == CQLMUX_TYPE_VECTOR && t->custom.data)) {
    cqlmux_write_raw(b, t->custom.data, t->custom.len);
    return;
  }
  const char *name = class_of(t->id);
  if (!name || (t->count && !t->children)) {
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
  bool frozen = t->flags & CQLMUX_TYPE_F_FROZEN;
  if (frozen) {
    write_cstr(b, marshal_pkg);
    write_cstr(b, "FrozenType(");
  }
  write_cstr(b, marshal_pkg);
  write_cstr(b, name);
  if (t->id == CQLMUX_TYPE_UDT) {
    write_cstr(b, "(");
    write_udt_class(b, t);
    write_cstr(b, ")");
  } else if (t->id == CQLMUX_TYPE_VECTOR) {
    char dim[16];
    write_cstr(b, "(");
    cqlmux_type_write_class(b, t->children[0]);
    snprintf(dim, sizeof dim, " , %u)", (unsigned)t->dimension);
    write_cstr(b, dim);
  } else if (t->count || t->id == CQLMUX_TYPE_TUPLE) {
    write_cstr(b, "(");
    for (uint32_t i = 0; i < t->count; i++) {
      if (i) write_cstr(b, ",");
      cqlmux_type_write_class(b, t->children[i]);
    }
    write_cstr(b, ")");
  }
  if (frozen) write_cstr(b, ")");
}

#include "proto/types.h"

#include <string.h>

#include "proto/types_internal.h"

/* ------------------------------------------------------------ native types */

#define NATIVE(idv, size) {.id = (idv), .fixed_size = (size)}

/* fixed_size follows Cassandra's valueLengthIfFixed: only these types have
 * one; counter, date, time, smallint and tinyint do not, although their
 * values always have the same length (it matters for vectors). */
const cqlmux_typedesc cqlmux_type_native_nodes[CQLMUX_TYPE_DURATION] = {
    NATIVE(CQLMUX_TYPE_ASCII, -1),    NATIVE(CQLMUX_TYPE_BIGINT, 8),
    NATIVE(CQLMUX_TYPE_BLOB, -1),     NATIVE(CQLMUX_TYPE_BOOLEAN, 1),
    NATIVE(CQLMUX_TYPE_COUNTER, -1),  NATIVE(CQLMUX_TYPE_DECIMAL, -1),
    NATIVE(CQLMUX_TYPE_DOUBLE, 8),    NATIVE(CQLMUX_TYPE_FLOAT, 4),
    NATIVE(CQLMUX_TYPE_INT, 4),       NATIVE(0x000A, -1), /* unused id: never returned */
    NATIVE(CQLMUX_TYPE_TIMESTAMP, 8), NATIVE(CQLMUX_TYPE_UUID, 16),
    NATIVE(CQLMUX_TYPE_TEXT, -1),  NATIVE(CQLMUX_TYPE_VARINT, -1),
    NATIVE(CQLMUX_TYPE_TIMEUUID, 16), NATIVE(CQLMUX_TYPE_INET, -1),
    NATIVE(CQLMUX_TYPE_DATE, -1),     NATIVE(CQLMUX_TYPE_TIME, -1),
    NATIVE(CQLMUX_TYPE_SMALLINT, -1), NATIVE(CQLMUX_TYPE_TINYINT, -1),
    NATIVE(CQLMUX_TYPE_DURATION, -1),
};

const cqlmux_typedesc *cqlmux_type_native(uint16_t id) {
  if (id < CQLMUX_TYPE_ASCII || id > CQLMUX_TYPE_DURATION || id == 0x000A) return NULL;
  return &cqlmux_type_native_nodes[id - 1];
}

/* ------------------------------------------------------------ decode context */

cqlmux_typedesc *cqlmux_type_ctx_node(cqlmux_type_ctx *c, uint16_t id) {
  cqlmux_typedesc *t = cqlmux_arena_alloc(c->arena, sizeof *t);
  if (!t) t = &c->scratch;
  memset(t, 0, sizeof *t);
  t->id = id;
  t->fixed_size = -1;
  return t;
}

void *cqlmux_type_ctx_array(cqlmux_type_ctx *c, size_t n, size_t size) {
  return n ? cqlmux_arena_alloc(c->arena, n * size) : NULL;
}

int32_t cqlmux_type_vector_fixed_size(const cqlmux_typedesc *elem, uint32_t dim) {
  if (elem->fixed_size <= 0 || (uint64_t)elem->fixed_size * dim > INT32_MAX) return -1;
  return (int32_t)((uint32_t)elem->fixed_size * dim);
}

/* ------------------------------------------------------------ [option] decode */

static int decode_children(cqlmux_type_ctx *c, cqlmux_reader *r, unsigned depth, uint32_t n,
                           const cqlmux_typedesc **kids) {
  for (uint32_t i = 0; i < n; i++) {
    const cqlmux_typedesc *k;
    int rc = cqlmux_type_ctx_decode(c, r, depth + 1, &k);
    if (rc) return rc;
    if (kids) kids[i] = k;
  }
  return CQLMUX_OK;
}

static int decode_collection(cqlmux_type_ctx *c, cqlmux_reader *r, unsigned depth, uint16_t id,
                             const cqlmux_typedesc **out) {
  uint32_t n = id == CQLMUX_TYPE_MAP ? 2 : 1;
  const cqlmux_typedesc **kids = cqlmux_type_ctx_array(c, n, sizeof *kids);
  int rc = decode_children(c, r, depth, n, kids);
  if (rc) return rc;
  cqlmux_typedesc *t = cqlmux_type_ctx_node(c, id);
  t->count = n;
  t->children = kids;
  *out = t;
  return CQLMUX_OK;
}

static int decode_tuple(cqlmux_type_ctx *c, cqlmux_reader *r, unsigned depth,
                        const cqlmux_typedesc **out) {
  uint16_t n;
  if (cqlmux_read_u16(r, &n)) return CQLMUX_ERR_TRUNCATED;
  if ((size_t)n * 2 > cqlmux_reader_remaining(r)) return CQLMUX_ERR_TRUNCATED;
  const cqlmux_typedesc **kids = cqlmux_type_ctx_array(c, n, sizeof *kids);
  int rc = decode_children(c, r, depth, n, kids);
  if (rc) return rc;
  cqlmux_typedesc *t = cqlmux_type_ctx_node(c, CQLMUX_TYPE_TUPLE);
  t->count = n;
  t->children = kids;
  *out = t;
  return CQLMUX_OK;
}

static int decode_udt(cqlmux_type_ctx *c, cqlmux_reader *r, unsigned depth,
                      const cqlmux_typedesc **out) {
  cqlmux_slice ks, name;
  uint16_t n;
  int rc = cqlmux_read_string(r, &ks);
  if (!rc) rc = cqlmux_read_string(r, &name);
  if (!rc) rc = cqlmux_read_u16(r, &n);
  if (rc) return rc;
  /* each field is at least a [string] and an [option]: 4 bytes */
  if ((size_t)n * 4 > cqlmux_reader_remaining(r)) return CQLMUX_ERR_TRUNCATED;
  cqlmux_slice *names = cqlmux_type_ctx_array(c, n, sizeof *names);
  const cqlmux_typedesc **kids = cqlmux_type_ctx_array(c, n, sizeof *kids);
  for (uint32_t i = 0; i < n; i++) {
    cqlmux_slice fname;
    const cqlmux_typedesc *k;
    rc = cqlmux_read_string(r, &fname);
    if (!rc) rc = cqlmux_type_ctx_decode(c, r, depth + 1, &k);
    if (rc) return rc;
    if (names) names[i] = fname;
    if (kids) kids[i] = k;
  }
  cqlmux_typedesc *t = cqlmux_type_ctx_node(c, CQLMUX_TYPE_UDT);
  t->count = n;
  t->children = kids;
  t->field_names = names;
  t->keyspace = ks;
  t->name = name;
  *out = t;
  return CQLMUX_OK;
}

int cqlmux_type_ctx_decode(cqlmux_type_ctx *c, cqlmux_reader *r, unsigned depth,
                           const cqlmux_typedesc **out) {
  uint16_t id;
  if (depth > CQLMUX_TYPE_MAX_DEPTH) return CQLMUX_ERR_MALFORMED;
  if (cqlmux_read_u16(r, &id)) return CQLMUX_ERR_TRUNCATED;
  switch (id) {
  case CQLMUX_TYPE_CUSTOM: {
    cqlmux_slice cls;
    int rc = cqlmux_read_string(r, &cls);
    return rc ? rc : cqlmux_type_ctx_parse_class(c, cls, depth, out);
  }
  case CQLMUX_TYPE_LIST:
  case CQLMUX_TYPE_SET:
  case CQLMUX_TYPE_MAP: return decode_collection(c, r, depth, id, out);
  case CQLMUX_TYPE_UDT: return decode_udt(c, r, depth, out);
  case CQLMUX_TYPE_TUPLE: return decode_tuple(c, r, depth, out);
  default: {
    const cqlmux_typedesc *t = cqlmux_type_native(id);
    if (!t) return CQLMUX_ERR_MALFORMED;
    *out = t;
    return CQLMUX_OK;
  }
  }
}

int cqlmux_type_decode(cqlmux_reader *r, cqlmux_arena *arena, const cqlmux_typedesc **out) {
  cqlmux_type_ctx c;
  c.arena = arena; /* the scratch node is written before any read */
  return cqlmux_type_ctx_decode(&c, r, 0, out);
}

int cqlmux_type_parse_class(cqlmux_slice cls, cqlmux_arena *arena, const cqlmux_typedesc **out) {
  cqlmux_type_ctx c;
  c.arena = arena;
  return cqlmux_type_ctx_parse_class(&c, cls, 0, out);
}

/* ------------------------------------------------------------ [option] encode */

static int hex_digit(uint8_t ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* A UDT name as a [string]: hex names (from a class string) are decoded. */
static void write_name(cqlmux_wbuf *b, cqlmux_slice s, bool hex) {
  if (!hex) {
    cqlmux_write_string(b, (const char *)s.data, s.len);
    return;
  }
  cqlmux_write_u16(b, (uint16_t)(s.len / 2));
  for (size_t i = 0; i + 1 < s.len; i += 2) {
    int hi = hex_digit(s.data[i]), lo = hex_digit(s.data[i + 1]);
    cqlmux_write_u8(b, (uint8_t)((hi < 0 ? 0 : hi) << 4 | (lo < 0 ? 0 : lo)));
  }
}

static void encode_custom(cqlmux_wbuf *b, const cqlmux_typedesc *t) {
  cqlmux_write_u16(b, CQLMUX_TYPE_CUSTOM);
  if (t->custom.data) {
    cqlmux_write_string(b, (const char *)t->custom.data, t->custom.len);
    return;
  }
  size_t at = cqlmux_wbuf_skip(b, 2);
  cqlmux_type_write_class(b, t);
  if (b->error) return;
  size_t n = b->len - at - 2;
  if (n > UINT16_MAX) {
    b->error = CQLMUX_ERR_OVERSIZED;
    return;
  }
  cqlmux_store_u16(b->data + at, (uint16_t)n);
}

void cqlmux_type_encode(cqlmux_wbuf *b, int version, const cqlmux_typedesc *t) {
  bool bad = !t || (t->count && !t->children);
  if (!bad && t->id == CQLMUX_TYPE_UDT && t->count && !t->field_names) bad = true;
  if (bad) {
    if (!b->error) b->error = CQLMUX_ERR_INVALID_ARGUMENT;
    return;
  }
  switch (t->id) {
  case CQLMUX_TYPE_CUSTOM:
  case CQLMUX_TYPE_VECTOR: encode_custom(b, t); return;
  case CQLMUX_TYPE_DURATION:
    if (version < 5) {
      encode_custom(b, t);
      return;
    }
    break;
  case CQLMUX_TYPE_UDT:
    cqlmux_write_u16(b, t->id);
    write_name(b, t->keyspace, false);
    write_name(b, t->name, t->flags & CQLMUX_TYPE_F_HEX_NAMES);
    cqlmux_write_u16(b, (uint16_t)t->count);
    for (uint32_t i = 0; i < t->count; i++) {
      write_name(b, t->field_names[i], t->flags & CQLMUX_TYPE_F_HEX_NAMES);
      cqlmux_type_encode(b, version, t->children[i]);
    }
    return;
  case CQLMUX_TYPE_TUPLE: cqlmux_write_u16(b, t->id); cqlmux_write_u16(b, (uint16_t)t->count);
    for (uint32_t i = 0; i < t->count; i++) cqlmux_type_encode(b, version, t->children[i]);
    return;
  default: break;
  }
  cqlmux_write_u16(b, t->id);
  for (uint32_t i = 0; i < t->count; i++) cqlmux_type_encode(b, version, t->children[i]);
}

/* ------------------------------------------------------------ equality */

static uint8_t name_byte(cqlmux_slice s, bool hex, size_t i) {
  if (!hex) return s.data[i];
  int hi = hex_digit(s.data[2 * i]), lo = hex_digit(s.data[2 * i + 1]);
  return (uint8_t)((hi < 0 ? 0 : hi) << 4 | (lo < 0 ? 0 : lo));
}

bool cqlmux_type_name_equal(cqlmux_slice a, bool a_hex, cqlmux_slice b, bool b_hex) {
  size_t na = a_hex ? a.len / 2 : a.len, nb = b_hex ? b.len / 2 : b.len;
  if (na != nb) return false;
  for (size_t i = 0; i < na; i++)
    if (name_byte(a, a_hex, i) != name_byte(b, b_hex, i)) return false;
  return true;
}

static bool slice_equal(cqlmux_slice a, cqlmux_slice b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

bool cqlmux_type_equal(const cqlmux_typedesc *a, const cqlmux_typedesc *b) {
  if (a == b) return true;
  if (!a || !b || a->id != b->id || a->count != b->count) return false;
  if (a->id == CQLMUX_TYPE_CUSTOM) return slice_equal(a->custom, b->custom);
  if (a->id == CQLMUX_TYPE_VECTOR && a->dimension != b->dimension) return false;
  if (a->id == CQLMUX_TYPE_UDT) {
    bool ah = a->flags & CQLMUX_TYPE_F_HEX_NAMES, bh = b->flags & CQLMUX_TYPE_F_HEX_NAMES;
    if (!slice_equal(a->keyspace, b->keyspace) || !cqlmux_type_name_equal(a->name, ah, b->name, bh))
      return false;
    for (uint32_t i = 0; i < a->count; i++)
      if (!cqlmux_type_name_equal(a->field_names[i], ah, b->field_names[i], bh)) return false;
  }
  for (uint32_t i = 0; i < a->count; i++)
    if (!cqlmux_type_equal(a->children[i], b->children[i])) return false;
  return true;
}

/* ------------------------------------------------------------ builders */

static cqlmux_typedesc *build_node(cqlmux_arena *a, uint16_t id, uint32_t n,
                               const cqlmux_typedesc *const *kids) {
  cqlmux_typedesc *t = cqlmux_arena_alloc_grow(a, sizeof *t);
  const cqlmux_typedesc **arr = n ? cqlmux_arena_alloc_grow(a, n * sizeof *arr) : NULL;
  if (!t || (n && !arr)) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    if (!kids[i]) return NULL;
    arr[i] = kids[i];
  }
  memset(t, 0, sizeof *t);
  t->id = id;
  t->fixed_size = -1;
  t->count = n;
  t->children = arr;
  return t;
}

const cqlmux_typedesc *cqlmux_type_new_list(cqlmux_arena *a, const cqlmux_typedesc *elem) {
  return build_node(a, CQLMUX_TYPE_LIST, 1, &elem);
}

const cqlmux_typedesc *cqlmux_type_new_set(cqlmux_arena *a, const cqlmux_typedesc *elem) {
  return build_node(a, CQLMUX_TYPE_SET, 1, &elem);
}

const cqlmux_typedesc *cqlmux_type_new_map(cqlmux_arena *a, const cqlmux_typedesc *key,
                                       const cqlmux_typedesc *value) {
  const cqlmux_typedesc *kv[2] = {key, value};
  return build_node(a, CQLMUX_TYPE_MAP, 2, kv);
}

const cqlmux_typedesc *cqlmux_type_new_tuple(cqlmux_arena *a, uint32_t n,
                                         const cqlmux_typedesc *const *elems) {
  if (n > UINT16_MAX) return NULL;
  return build_node(a, CQLMUX_TYPE_TUPLE, n, elems);
}

const cqlmux_typedesc *cqlmux_type_new_udt(cqlmux_arena *a, cqlmux_slice keyspace, cqlmux_slice name,
                                       uint32_t n, const cqlmux_slice *field_names,
                                       const cqlmux_typedesc *const *field_types) {
  if (n > UINT16_MAX) return NULL;
  cqlmux_typedesc *t = build_node(a, CQLMUX_TYPE_UDT, n, field_types);
  cqlmux_slice *names = n ? cqlmux_arena_alloc_grow(a, n * sizeof *names) : NULL;
  if (!t || (n && !names)) return NULL;
  if (n) memcpy(names, field_names, n * sizeof *names);
  t->field_names = names;
  t->keyspace = keyspace;
  t->name = name;
  return t;
}

const cqlmux_typedesc *cqlmux_type_new_vector(cqlmux_arena *a, const cqlmux_typedesc *elem,
                                          uint32_t dimension) {
  if (dimension == 0 || dimension > INT32_MAX) return NULL;
  cqlmux_typedesc *t = build_node(a, CQLMUX_TYPE_VECTOR, 1, &elem);
  if (!t) return NULL;
  t->dimension = dimension;
  t->fixed_size = cqlmux_type_vector_fixed_size(elem, dimension);
  return t;
}

const cqlmux_typedesc *cqlmux_type_new_custom(cqlmux_arena *a, cqlmux_slice class_name) {
  cqlmux_typedesc *t = build_node(a, CQLMUX_TYPE_CUSTOM, 0, NULL);
  if (t) t->custom = class_name;
  return t;
}

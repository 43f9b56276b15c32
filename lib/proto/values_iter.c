/* Walking composite values, and deep validation (see values.h). */
#include "proto/values.h"

/* Collections: an [int] count, then count (maps: 2*count) [bytes], each at
 * least its 4-byte length. */
static int init_collection(cqlmux_value_iter *it, bool map) {
  int32_t n;
  if (cqlmux_reader_remaining(&it->r) == 0) return CQLMUX_OK; /* empty value: no elements */
  if (cqlmux_read_i32(&it->r, &n)) return CQLMUX_ERR_TRUNCATED;
  if (n < 0) return CQLMUX_ERR_MALFORMED;
  uint64_t elems = (uint64_t)n * (map ? 2 : 1);
  if (elems * 4 > cqlmux_reader_remaining(&it->r)) return CQLMUX_ERR_TRUNCATED;
  it->count = (uint32_t)elems;
  return CQLMUX_OK;
}

static int init_vector(cqlmux_value_iter *it, const cqlmux_typedesc *t, int32_t len) {
  if (len == 0) return CQLMUX_ERR_EMPTY_VALUE;
  if (t->count != 1 || t->dimension == 0) return CQLMUX_ERR_INVALID_ARGUMENT;
  /* fixed: dimension * size bytes exactly; variable: at least one length
   * byte per element */
  if (t->fixed_size >= 0 ? len != t->fixed_size : (uint32_t)len < t->dimension)
    return t->fixed_size >= 0 ? CQLMUX_ERR_MALFORMED : CQLMUX_ERR_TRUNCATED;
  it->count = t->dimension;
  return CQLMUX_OK;
}

int cqlmux_value_iter_init(cqlmux_value_iter *it, const cqlmux_typedesc *t, cqlmux_bytes v) {
  if (!t || (t->count && !t->children)) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (v.len < 0) return CQLMUX_ERR_NULL_VALUE;
  cqlmux_value_iter w = {cqlmux_reader_make(v.data, (size_t)v.len), t, 0, 0};
  int rc;
  switch (t->id) {
  case CQLMUX_TYPE_LIST:
  case CQLMUX_TYPE_SET: rc = init_collection(&w, false); break;
  case CQLMUX_TYPE_MAP: rc = init_collection(&w, true); break;
  case CQLMUX_TYPE_TUPLE:
  case CQLMUX_TYPE_UDT:
    w.count = t->count;
    rc = CQLMUX_OK;
    break;
  case CQLMUX_TYPE_VECTOR: rc = init_vector(&w, t, v.len); break;
  default: rc = CQLMUX_ERR_INVALID_ARGUMENT; break;
  }
  if (rc == CQLMUX_OK) *it = w;
  return rc;
}

static int next_vector_elem(cqlmux_value_iter *it, cqlmux_bytes *elem) {
  int32_t size = it->type->children[0]->fixed_size;
  const uint8_t *p;
  if (size < 0) {
    uint64_t n;
    if (cqlmux_read_uvint(&it->r, &n)) return CQLMUX_ERR_TRUNCATED;
    if (n > INT32_MAX) return CQLMUX_ERR_MALFORMED;
    size = (int32_t)n;
  }
  if (cqlmux_read_raw(&it->r, (size_t)size, &p)) return CQLMUX_ERR_TRUNCATED;
  elem->data = p;
  elem->len = size;
  return CQLMUX_OK;
}

static const cqlmux_typedesc *elem_type_at(const cqlmux_typedesc *t, uint32_t i) {
  switch (t->id) {
  case CQLMUX_TYPE_MAP: return t->children[i & 1];
  case CQLMUX_TYPE_TUPLE:
  case CQLMUX_TYPE_UDT: return t->children[i];
  default: return t->children[0];
  }
}

int cqlmux_value_iter_next(cqlmux_value_iter *it, cqlmux_bytes *elem,
                           const cqlmux_typedesc **elem_type) {
  uint16_t id = it->type->id;
  bool fields = id == CQLMUX_TYPE_TUPLE || id == CQLMUX_TYPE_UDT;
  if (it->index == it->count || (fields && cqlmux_reader_remaining(&it->r) == 0))
    return cqlmux_reader_remaining(&it->r) ? CQLMUX_ERR_MALFORMED : 0;
  cqlmux_bytes e;
  int rc = id == CQLMUX_TYPE_VECTOR ? next_vector_elem(it, &e) : cqlmux_read_bytes(&it->r, &e);
  if (rc) return rc;
  if (elem_type) *elem_type = elem_type_at(it->type, it->index);
  *elem = e;
  it->index++;
  return 1;
}

/* ------------------------------------------------------------ validation */

static int validate_scalar(uint16_t id, cqlmux_bytes v) {
  union {
    bool b;
    int64_t i;
    uint32_t u;
    double d;
    float f;
    const uint8_t *p;
    cqlmux_slice s;
    cqlmux_inet inet;
    cqlmux_duration dur;
    cqlmux_decimal dec;
  } out;
  switch (id) {
  case CQLMUX_TYPE_ASCII: return cqlmux_value_get_ascii(v, &out.s);
  case CQLMUX_TYPE_TEXT: return cqlmux_value_get_text(v, &out.s);
  case CQLMUX_TYPE_BLOB:
  case CQLMUX_TYPE_CUSTOM: return CQLMUX_OK;
  case CQLMUX_TYPE_BOOLEAN:
  case CQLMUX_TYPE_TINYINT: return v.len == 1 ? CQLMUX_OK : CQLMUX_ERR_MALFORMED;
  case CQLMUX_TYPE_SMALLINT: return v.len == 2 ? CQLMUX_OK : CQLMUX_ERR_MALFORMED;
  case CQLMUX_TYPE_INT:
  case CQLMUX_TYPE_FLOAT:
  case CQLMUX_TYPE_DATE: return v.len == 4 ? CQLMUX_OK : CQLMUX_ERR_MALFORMED;
  case CQLMUX_TYPE_BIGINT:
  case CQLMUX_TYPE_COUNTER:
  case CQLMUX_TYPE_DOUBLE:
  case CQLMUX_TYPE_TIMESTAMP: return v.len == 8 ? CQLMUX_OK : CQLMUX_ERR_MALFORMED;
  case CQLMUX_TYPE_TIME: return cqlmux_value_get_time(v, &out.i);
  case CQLMUX_TYPE_UUID: return cqlmux_value_get_uuid(v, &out.p);
  case CQLMUX_TYPE_TIMEUUID: return cqlmux_value_get_timeuuid(v, &out.p);
  case CQLMUX_TYPE_INET: return cqlmux_value_get_inet(v, &out.inet);
  case CQLMUX_TYPE_DURATION: return cqlmux_value_get_duration(v, &out.dur);
  case CQLMUX_TYPE_VARINT: return cqlmux_value_get_varint_raw(v, &out.s);
  case CQLMUX_TYPE_DECIMAL: return cqlmux_value_get_decimal(v, &out.dec);
  default: return CQLMUX_ERR_INVALID_ARGUMENT;
  }
}

static int validate_at(const cqlmux_typedesc *t, cqlmux_bytes v, unsigned depth) {
  if (depth > CQLMUX_TYPE_MAX_DEPTH) return CQLMUX_ERR_MALFORMED;
  if (v.len <= 0) return CQLMUX_OK; /* null or empty: valid for every type */
  switch (t->id) {
  case CQLMUX_TYPE_LIST:
  case CQLMUX_TYPE_SET:
  case CQLMUX_TYPE_MAP:
  case CQLMUX_TYPE_TUPLE:
  case CQLMUX_TYPE_UDT:
  case CQLMUX_TYPE_VECTOR: break;
  default: return validate_scalar(t->id, v);
  }
  cqlmux_value_iter it;
  cqlmux_bytes e;
  const cqlmux_typedesc *et;
  int rc = cqlmux_value_iter_init(&it, t, v);
  while (rc == CQLMUX_OK && (rc = cqlmux_value_iter_next(&it, &e, &et)) == 1)
    rc = validate_at(et, e, depth + 1);
  return rc;
}

int cqlmux_value_validate(const cqlmux_typedesc *t, cqlmux_bytes v) {
  if (!t) return CQLMUX_ERR_INVALID_ARGUMENT;
  return validate_at(t, v, 0);
}

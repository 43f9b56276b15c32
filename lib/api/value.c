/* Reading values through the public API: type descriptors, typed readers
 * and iterators over composite values (see value.h and cqlmux.h "Values").
 * Every reader checks the type, then lets the codec's getter
 * (proto/values.h) check the bytes. */
#include "api/value.h"

#include <string.h>

#include "proto/values.h"

/* ------------------------------------------------------------ type descriptors */

cqlmux_type cqlmux_data_type_kind(const cqlmux_data_type *type) {
  const cqlmux_typedesc *t = cqlmux_typedesc_of(type);
  return t ? (cqlmux_type)t->id : CQLMUX_TYPE_CUSTOM;
}

size_t cqlmux_data_type_child_count(const cqlmux_data_type *type) {
  const cqlmux_typedesc *t = cqlmux_typedesc_of(type);
  return t && t->children ? t->count : 0;
}

const cqlmux_data_type *cqlmux_data_type_child(const cqlmux_data_type *type, size_t i) {
  if (i >= cqlmux_data_type_child_count(type)) return NULL;
  return cqlmux_data_type_of(cqlmux_typedesc_of(type)->children[i]);
}

static const char *slice_out(cqlmux_slice s, size_t *length) {
  if (length) *length = s.len;
  return (const char *)s.data;
}

static const cqlmux_typedesc *udt_of(const cqlmux_data_type *type) {
  const cqlmux_typedesc *t = cqlmux_typedesc_of(type);
  return t && t->id == CQLMUX_TYPE_UDT ? t : NULL;
}

const char *cqlmux_data_type_field_name(const cqlmux_data_type *type, size_t i,
                                        size_t *length) {
  const cqlmux_typedesc *t = udt_of(type);
  if (!t || !t->field_names || i >= t->count) return NULL;
  return slice_out(t->field_names[i], length);
}

const char *cqlmux_data_type_keyspace(const cqlmux_data_type *type, size_t *length) {
  const cqlmux_typedesc *t = udt_of(type);
  return t ? slice_out(t->keyspace, length) : NULL;
}

const char *cqlmux_data_type_name(const cqlmux_data_type *type, size_t *length) {
  const cqlmux_typedesc *t = udt_of(type);
  return t ? slice_out(t->name, length) : NULL;
}

int cqlmux_data_type_names_are_hex(const cqlmux_data_type *type) {
  const cqlmux_typedesc *t = udt_of(type);
  return t && (t->flags & CQLMUX_TYPE_F_HEX_NAMES) ? 1 : 0;
}

uint32_t cqlmux_data_type_dimension(const cqlmux_data_type *type) {
  const cqlmux_typedesc *t = cqlmux_typedesc_of(type);
  return t && t->id == CQLMUX_TYPE_VECTOR ? t->dimension : 0;
}

const char *cqlmux_data_type_custom_class(const cqlmux_data_type *type, size_t *length) {
  const cqlmux_typedesc *t = cqlmux_typedesc_of(type);
  return t && t->id == CQLMUX_TYPE_CUSTOM ? slice_out(t->custom, length) : NULL;
}

int cqlmux_data_type_is_frozen(const cqlmux_data_type *type) {
  const cqlmux_typedesc *t = cqlmux_typedesc_of(type);
  return t && (t->flags & CQLMUX_TYPE_F_FROZEN) ? 1 : 0;
}

/* ------------------------------------------------------------ scalar readers */

int cqlmux_value_is_null(const cqlmux_value *v) { return v && v->length < 0 ? 1 : 0; }

/* The value's bytes once its type is one of the accepted kinds (a list
 * ended by KINDS_END: 0 is CQLMUX_TYPE_CUSTOM). Null is reported by the
 * codec's getters, which see len -1. */
#define KINDS_END UINT16_MAX

static int typed_bytes(const cqlmux_value *v, const void *out, const uint16_t *kinds,
                       cqlmux_bytes *b) {
  if (!v || !out || !v->type) return CQLMUX_ERR_INVALID_ARGUMENT;
  uint16_t id = cqlmux_typedesc_of(v->type)->id;
  for (; *kinds != KINDS_END; kinds++)
    if (*kinds == id) {
      b->data = v->data;
      b->len = v->length < 0 ? CQLMUX_VALUE_NULL : v->length;
      return CQLMUX_OK;
    }
  return CQLMUX_ERR_TYPE_MISMATCH;
}

#define KINDS(...) ((const uint16_t[]){__VA_ARGS__, KINDS_END})

int cqlmux_value_as_bool(const cqlmux_value *v, int *out) {
  cqlmux_bytes b;
  bool x;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_BOOLEAN), &b);
  if (rc == CQLMUX_OK && (rc = cqlmux_value_get_boolean(b, &x)) == CQLMUX_OK) *out = x;
  return rc;
}

int cqlmux_value_as_int8(const cqlmux_value *v, int8_t *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_TINYINT), &b);
  return rc ? rc : cqlmux_value_get_tinyint(b, out);
}

int cqlmux_value_as_int16(const cqlmux_value *v, int16_t *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_SMALLINT), &b);
  return rc ? rc : cqlmux_value_get_smallint(b, out);
}

int cqlmux_value_as_int32(const cqlmux_value *v, int32_t *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_INT), &b);
  return rc ? rc : cqlmux_value_get_int(b, out);
}

int cqlmux_value_as_int64(const cqlmux_value *v, int64_t *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out,
                       KINDS(CQLMUX_TYPE_BIGINT, CQLMUX_TYPE_COUNTER, CQLMUX_TYPE_TIMESTAMP,
                             CQLMUX_TYPE_TIME),
                       &b);
  return rc ? rc : cqlmux_value_get_bigint(b, out);
}

int cqlmux_value_as_float(const cqlmux_value *v, float *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_FLOAT), &b);
  return rc ? rc : cqlmux_value_get_float(b, out);
}

int cqlmux_value_as_double(const cqlmux_value *v, double *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_DOUBLE), &b);
  return rc ? rc : cqlmux_value_get_double(b, out);
}

int cqlmux_value_as_text(const cqlmux_value *v, const char **text, size_t *length) {
  cqlmux_bytes b;
  cqlmux_slice s;
  int rc = typed_bytes(v, text, KINDS(CQLMUX_TYPE_TEXT, CQLMUX_TYPE_ASCII), &b);
  if (rc == CQLMUX_OK && !length) rc = CQLMUX_ERR_INVALID_ARGUMENT;
  if (rc) return rc;
  rc = cqlmux_typedesc_of(v->type)->id == CQLMUX_TYPE_ASCII ? cqlmux_value_get_ascii(b, &s)
                                                          : cqlmux_value_get_text(b, &s);
  if (rc) return rc;
  *text = s.len ? (const char *)s.data : "";
  *length = s.len;
  return CQLMUX_OK;
}

int cqlmux_value_as_blob(const cqlmux_value *v, const uint8_t **data, size_t *length) {
  cqlmux_bytes b;
  cqlmux_slice s;
  int rc = typed_bytes(v, data, KINDS(CQLMUX_TYPE_BLOB, CQLMUX_TYPE_CUSTOM), &b);
  if (rc == CQLMUX_OK && !length) rc = CQLMUX_ERR_INVALID_ARGUMENT;
  if (rc || (rc = cqlmux_value_get_blob(b, &s))) return rc;
  *data = s.len ? s.data : (const uint8_t *)"";
  *length = s.len;
  return CQLMUX_OK;
}

int cqlmux_value_as_uuid(const cqlmux_value *v, uint8_t out[16]) {
  cqlmux_bytes b;
  const uint8_t *p;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_UUID, CQLMUX_TYPE_TIMEUUID), &b);
  if (rc) return rc;
  rc = cqlmux_typedesc_of(v->type)->id == CQLMUX_TYPE_TIMEUUID ? cqlmux_value_get_timeuuid(b, &p)
                                                             : cqlmux_value_get_uuid(b, &p);
  if (rc == CQLMUX_OK) memcpy(out, p, 16);
  return rc;
}

int cqlmux_value_as_inet(const cqlmux_value *v, uint8_t address[16], size_t *length) {
  cqlmux_bytes b;
  cqlmux_inet inet;
  int rc = typed_bytes(v, address, KINDS(CQLMUX_TYPE_INET), &b);
  if (rc == CQLMUX_OK && !length) rc = CQLMUX_ERR_INVALID_ARGUMENT;
  if (rc || (rc = cqlmux_value_get_inet(b, &inet))) return rc;
  memcpy(address, inet.addr, inet.addr_len);
  *length = inet.addr_len;
  return CQLMUX_OK;
}

int cqlmux_value_as_date(const cqlmux_value *v, uint32_t *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_DATE), &b);
  return rc ? rc : cqlmux_value_get_date(b, out);
}

int cqlmux_value_as_time(const cqlmux_value *v, int64_t *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_TIME), &b);
  return rc ? rc : cqlmux_value_get_time(b, out);
}

int cqlmux_value_as_timestamp(const cqlmux_value *v, int64_t *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_TIMESTAMP), &b);
  return rc ? rc : cqlmux_value_get_timestamp(b, out);
}

int cqlmux_value_as_duration(const cqlmux_value *v, int32_t *months, int32_t *days,
                             int64_t *nanoseconds) {
  cqlmux_bytes b;
  cqlmux_duration d;
  int rc = typed_bytes(v, months, KINDS(CQLMUX_TYPE_DURATION), &b);
  if (rc == CQLMUX_OK && (!days || !nanoseconds)) rc = CQLMUX_ERR_INVALID_ARGUMENT;
  if (rc || (rc = cqlmux_value_get_duration(b, &d))) return rc;
  *months = d.months;
  *days = d.days;
  *nanoseconds = d.nanoseconds;
  return CQLMUX_OK;
}

int cqlmux_value_as_varint(const cqlmux_value *v, int64_t *out) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_VARINT), &b);
  return rc ? rc : cqlmux_value_get_varint(b, out);
}

int cqlmux_value_as_varint_bytes(const cqlmux_value *v, const uint8_t **data, size_t *length) {
  cqlmux_bytes b;
  cqlmux_slice s;
  int rc = typed_bytes(v, data, KINDS(CQLMUX_TYPE_VARINT), &b);
  if (rc == CQLMUX_OK && !length) rc = CQLMUX_ERR_INVALID_ARGUMENT;
  if (rc || (rc = cqlmux_value_get_varint_raw(b, &s))) return rc;
  *data = s.data;
  *length = s.len;
  return CQLMUX_OK;
}

static int decimal_of(const cqlmux_value *v, const void *out, cqlmux_decimal *d) {
  cqlmux_bytes b;
  int rc = typed_bytes(v, out, KINDS(CQLMUX_TYPE_DECIMAL), &b);
  return rc ? rc : cqlmux_value_get_decimal(b, d);
}

int cqlmux_value_as_decimal(const cqlmux_value *v, const uint8_t **unscaled, size_t *length,
                            int32_t *scale) {
  cqlmux_decimal d;
  if (!length || !scale) return CQLMUX_ERR_INVALID_ARGUMENT;
  int rc = decimal_of(v, unscaled, &d);
  if (rc) return rc;
  *unscaled = d.unscaled.data;
  *length = d.unscaled.len;
  *scale = d.scale;
  return CQLMUX_OK;
}

/* Decimals whose worst-case text fits here are formatted on the stack when
 * the caller's buffer is smaller than that worst case, so that a buffer
 * sized for the actual text is enough. */
#define DECIMAL_LOCAL 256

/* Formats d into the caller's buffer, or says how much room it needs. */
static int decimal_text(const cqlmux_decimal *d, char *buffer, size_t capacity,
                        size_t *length) {
  size_t worst = cqlmux_decimal_string_max(d->unscaled.len);
  if (capacity >= worst) return cqlmux_decimal_to_string(d, buffer, capacity, length);
  if (worst > DECIMAL_LOCAL) {
    *length = worst;
    return CQLMUX_ERR_BUFFER_TOO_SMALL;
  }
  char local[DECIMAL_LOCAL];
  size_t n;
  int rc = cqlmux_decimal_to_string(d, local, sizeof local, &n);
  if (rc) return rc;
  if (n >= capacity) {
    *length = n + 1;
    return CQLMUX_ERR_BUFFER_TOO_SMALL;
  }
  memcpy(buffer, local, n + 1);
  *length = n;
  return CQLMUX_OK;
}

int cqlmux_value_as_decimal_string(const cqlmux_value *v, char *buffer, size_t capacity,
                                   size_t *length) {
  cqlmux_decimal d;
  if (!length) return CQLMUX_ERR_INVALID_ARGUMENT;
  int rc = decimal_of(v, buffer, &d);
  return rc ? rc : decimal_text(&d, buffer, capacity, length);
}

/* A varint is a decimal of scale 0, which formats as plain digits. */
int cqlmux_value_as_varint_string(const cqlmux_value *v, char *buffer, size_t capacity,
                                  size_t *length) {
  cqlmux_bytes b;
  cqlmux_decimal d = {0};
  if (!length) return CQLMUX_ERR_INVALID_ARGUMENT;
  int rc = typed_bytes(v, buffer, KINDS(CQLMUX_TYPE_VARINT), &b);
  if (rc || (rc = cqlmux_value_get_varint_raw(b, &d.unscaled))) return rc;
  return decimal_text(&d, buffer, capacity, length);
}

/* ------------------------------------------------------------ iterators */

/* The public iterator mirrors the codec's walk state field by field; these
 * copy between the two, so neither is read through the other's type. */
static cqlmux_value_iter iter_load(const cqlmux_iterator *it) {
  cqlmux_value_iter w = {{it->private_pos, it->private_end},
                         cqlmux_typedesc_of(it->private_type),
                         it->private_count,
                         it->private_index};
  return w;
}

static void iter_store(cqlmux_iterator *it, const cqlmux_value_iter *w) {
  it->private_pos = w->r.pos;
  it->private_end = w->r.end;
  it->private_type = cqlmux_data_type_of(w->type);
  it->private_count = w->count;
  it->private_index = w->index;
}

static bool is_composite(uint16_t id) {
  return id == CQLMUX_TYPE_LIST || id == CQLMUX_TYPE_SET || id == CQLMUX_TYPE_MAP ||
         id == CQLMUX_TYPE_TUPLE || id == CQLMUX_TYPE_UDT || id == CQLMUX_TYPE_VECTOR;
}

int cqlmux_value_iterate(const cqlmux_value *v, cqlmux_iterator *it) {
  if (!v || !it || !v->type) return CQLMUX_ERR_INVALID_ARGUMENT;
  const cqlmux_typedesc *t = cqlmux_typedesc_of(v->type);
  if (!is_composite(t->id)) return CQLMUX_ERR_TYPE_MISMATCH;
  cqlmux_bytes b = {v->data, v->length < 0 ? CQLMUX_VALUE_NULL : v->length};
  cqlmux_value_iter w;
  int rc = cqlmux_value_iter_init(&w, t, b);
  if (rc == CQLMUX_OK) iter_store(it, &w);
  return rc;
}

int cqlmux_iterator_next(cqlmux_iterator *it, cqlmux_value *elem) {
  if (!it || !elem || !it->private_type) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_value_iter w = iter_load(it);
  cqlmux_bytes e;
  const cqlmux_typedesc *et;
  int rc = cqlmux_value_iter_next(&w, &e, &et);
  if (rc != 1) return rc;
  iter_store(it, &w);
  *elem = cqlmux_value_make(et, e);
  return 1;
}

int cqlmux_iterator_next_pair(cqlmux_iterator *it, cqlmux_value *key, cqlmux_value *value) {
  if (!it || !key || !value || !it->private_type) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (cqlmux_typedesc_of(it->private_type)->id != CQLMUX_TYPE_MAP)
    return CQLMUX_ERR_TYPE_MISMATCH;
  cqlmux_iterator saved = *it;
  cqlmux_value k;
  int rc = cqlmux_iterator_next(it, &k);
  if (rc != 1) return rc;
  /* A map walk always holds an even count, so a key has its value unless
   * the bytes are bad; then the iterator stays before the key. */
  if ((rc = cqlmux_iterator_next(it, value)) != 1) {
    *it = saved;
    return rc ? rc : CQLMUX_ERR_MALFORMED;
  }
  *key = k;
  return 1;
}

size_t cqlmux_iterator_size(const cqlmux_iterator *it) {
  if (!it || !it->private_type) return 0;
  cqlmux_value_iter w = iter_load(it);
  return cqlmux_value_iter_size(&w);
}

size_t cqlmux_iterator_index(const cqlmux_iterator *it) { return it ? it->private_index : 0; }

/* ------------------------------------------------------------ UDT fields */

static int hex_digit(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Whether a field name as the type spells it (plain, or hex-encoded) is
 * name. */
static bool field_is(cqlmux_slice field, bool hex, const char *name, size_t n) {
  if (!hex) return field.len == n && memcmp(field.data, name, n) == 0;
  if (field.len != 2 * n) return false;
  for (size_t i = 0; i < n; i++) {
    int hi = hex_digit(field.data[2 * i]), lo = hex_digit(field.data[2 * i + 1]);
    if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != (uint8_t)name[i]) return false;
  }
  return true;
}

static int field_index(const cqlmux_typedesc *t, const char *name, uint32_t *out) {
  size_t n = strlen(name);
  bool hex = t->flags & CQLMUX_TYPE_F_HEX_NAMES;
  for (uint32_t i = 0; t->field_names && i < t->count; i++)
    if (field_is(t->field_names[i], hex, name, n)) {
      *out = i;
      return CQLMUX_OK;
    }
  return CQLMUX_ERR_NOT_FOUND;
}

int cqlmux_value_field(const cqlmux_value *udt, const char *name, cqlmux_value *out) {
  if (!udt || !name || !out || !udt->type) return CQLMUX_ERR_INVALID_ARGUMENT;
  const cqlmux_typedesc *t = cqlmux_typedesc_of(udt->type);
  if (t->id != CQLMUX_TYPE_UDT) return CQLMUX_ERR_TYPE_MISMATCH;
  uint32_t want;
  cqlmux_iterator it;
  cqlmux_value e;
  int rc = field_index(t, name, &want);
  if (rc || (rc = cqlmux_value_iterate(udt, &it))) return rc;
  while ((rc = cqlmux_iterator_next(&it, &e)) == 1)
    if (it.private_index == want + 1) {
      *out = e;
      return CQLMUX_OK;
    }
  if (rc) return rc;
  *out = cqlmux_value_make(t->children[want], (cqlmux_bytes){NULL, CQLMUX_VALUE_NULL});
  return CQLMUX_OK;
}

/* One CQL value as JSON or as cell text (render.h). */
#include "render.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "scalar.h"

/* What a rendering call knows besides the value. */
typedef struct render_ctx {
  strbuf *sb;
  render_style style;
  bool nested; /* inside a composite: text-like values are quoted in RENDER_TEXT */
} render_ctx;

static int render(const render_ctx *ctx, const cqlmux_value *v);

/* ------------------------------------------------------------ scalars */

/* Numbers too large for a double, and text that is a CQL literal without
 * quotes, are JSON strings but bare in cell text. */
static bool json_quoted(cqlmux_type kind) {
  switch (kind) {
  case CQLMUX_TYPE_BOOLEAN:
  case CQLMUX_TYPE_TINYINT:
  case CQLMUX_TYPE_SMALLINT:
  case CQLMUX_TYPE_INT:
  case CQLMUX_TYPE_FLOAT:
  case CQLMUX_TYPE_DOUBLE: return false;
  default: return true;
  }
}

/* Values CQL writes as quoted string literals. */
static bool cql_quoted(cqlmux_type kind) {
  switch (kind) {
  case CQLMUX_TYPE_INET:
  case CQLMUX_TYPE_TIMESTAMP:
  case CQLMUX_TYPE_DATE:
  case CQLMUX_TYPE_TIME: return true;
  default: return false;
  }
}

/* A number whose exact text the library formats (varint, decimal). */
typedef int (*number_text_fn)(const cqlmux_value *, char *, size_t, size_t *);

static int add_number_text(strbuf *sb, const cqlmux_value *v, number_text_fn fn) {
  char local[64];
  size_t length = 0;
  int rc = fn(v, local, sizeof local, &length);
  if (rc == CQLMUX_OK) {
    strbuf_add(sb, local, length);
    return rc;
  }
  if (rc != CQLMUX_ERR_BUFFER_TOO_SMALL) return rc;
  char *big = malloc(length);
  if (!big) return CQLMUX_ERR_NOMEM;
  if ((rc = fn(v, big, length, &length)) == CQLMUX_OK) strbuf_add(sb, big, length);
  free(big);
  return rc;
}

/* tinyint, smallint, int, bigint, counter: read at their width, printed
 * as one int64. */
static int add_int(strbuf *sb, const cqlmux_value *v, cqlmux_type kind) {
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64 = 0;
  int rc;
  switch (kind) {
  case CQLMUX_TYPE_TINYINT:
    if ((rc = cqlmux_value_as_int8(v, &i8)) == 0) i64 = i8;
    break;
  case CQLMUX_TYPE_SMALLINT:
    if ((rc = cqlmux_value_as_int16(v, &i16)) == 0) i64 = i16;
    break;
  case CQLMUX_TYPE_INT:
    if ((rc = cqlmux_value_as_int32(v, &i32)) == 0) i64 = i32;
    break;
  default: rc = cqlmux_value_as_int64(v, &i64); break;
  }
  if (rc == CQLMUX_OK) strbuf_addf(sb, "%lld", (long long)i64);
  return rc;
}

static int add_float(const render_ctx *ctx, const cqlmux_value *v, cqlmux_type kind) {
  double d = 0;
  float f;
  int rc = kind == CQLMUX_TYPE_FLOAT ? cqlmux_value_as_float(v, &f) : cqlmux_value_as_double(v, &d);
  if (rc) return rc;
  if (kind == CQLMUX_TYPE_FLOAT) d = f;
  /* NaN and the infinities are no JSON numbers: their words go quoted */
  bool quote = ctx->style == RENDER_JSON && !isfinite(d);
  if (quote) strbuf_addc(ctx->sb, '"');
  scalar_float(ctx->sb, d, kind == CQLMUX_TYPE_FLOAT);
  if (quote) strbuf_addc(ctx->sb, '"');
  return CQLMUX_OK;
}

static int add_text(const render_ctx *ctx, const cqlmux_value *v) {
  const char *text;
  size_t length;
  int rc = cqlmux_value_as_text(v, &text, &length);
  if (rc) return rc;
  if (ctx->style == RENDER_JSON)
    scalar_json_string(ctx->sb, text, length);
  else if (ctx->nested)
    scalar_cql_string(ctx->sb, text, length);
  else
    strbuf_add(ctx->sb, text, length);
  return CQLMUX_OK;
}

/* Scalars whose text has no characters JSON or CQL would escape. */
static int add_plain_scalar(strbuf *sb, const cqlmux_value *v, cqlmux_type kind) {
  uint8_t bytes[16];
  const uint8_t *data;
  size_t length;
  int64_t i64, ns;
  int32_t months, days;
  uint32_t u32;
  int rc, b;
  switch (kind) {
  case CQLMUX_TYPE_BOOLEAN:
    if ((rc = cqlmux_value_as_bool(v, &b)) == 0) strbuf_adds(sb, b ? "true" : "false");
    return rc;
  case CQLMUX_TYPE_TINYINT:
  case CQLMUX_TYPE_SMALLINT:
  case CQLMUX_TYPE_INT:
  case CQLMUX_TYPE_BIGINT:
  case CQLMUX_TYPE_COUNTER: return add_int(sb, v, kind);
  case CQLMUX_TYPE_VARINT: return add_number_text(sb, v, cqlmux_value_as_varint_string);
  case CQLMUX_TYPE_DECIMAL: return add_number_text(sb, v, cqlmux_value_as_decimal_string);
  case CQLMUX_TYPE_UUID:
  case CQLMUX_TYPE_TIMEUUID:
    if ((rc = cqlmux_value_as_uuid(v, bytes)) == 0) scalar_uuid(sb, bytes);
    return rc;
  case CQLMUX_TYPE_INET:
    if ((rc = cqlmux_value_as_inet(v, bytes, &length)) == 0) scalar_inet(sb, bytes, length);
    return rc;
  case CQLMUX_TYPE_TIMESTAMP:
    if ((rc = cqlmux_value_as_timestamp(v, &i64)) == 0) scalar_timestamp(sb, i64);
    return rc;
  case CQLMUX_TYPE_DATE:
    if ((rc = cqlmux_value_as_date(v, &u32)) == 0) scalar_date(sb, u32);
    return rc;
  case CQLMUX_TYPE_TIME:
    if ((rc = cqlmux_value_as_time(v, &i64)) == 0) scalar_time(sb, i64);
    return rc;
  case CQLMUX_TYPE_DURATION:
    if ((rc = cqlmux_value_as_duration(v, &months, &days, &ns)) == 0)
      scalar_duration(sb, months, days, ns);
    return rc;
  default: /* blob and custom types: their bytes */
    if ((rc = cqlmux_value_as_blob(v, &data, &length)) == 0) scalar_blob(sb, data, length);
    return rc;
  }
}

static int render_scalar(const render_ctx *ctx, const cqlmux_value *v, cqlmux_type kind) {
  if (kind == CQLMUX_TYPE_TEXT || kind == CQLMUX_TYPE_ASCII) return add_text(ctx, v);
  if (kind == CQLMUX_TYPE_FLOAT || kind == CQLMUX_TYPE_DOUBLE) return add_float(ctx, v, kind);
  char quote = 0;
  if (ctx->style == RENDER_JSON && json_quoted(kind)) quote = '"';
  if (ctx->style == RENDER_TEXT && ctx->nested && cql_quoted(kind)) quote = '\'';
  if (quote) strbuf_addc(ctx->sb, quote);
  int rc = add_plain_scalar(ctx->sb, v, kind);
  if (rc == CQLMUX_OK && quote) strbuf_addc(ctx->sb, quote);
  return rc;
}

/* ------------------------------------------------------------ composites */

/* The brackets and separators of one composite kind in one style. */
typedef struct shape {
  const char *open, *close;
  const char *pair_open, *pair_sep, *pair_close; /* map entries */
} shape;

static shape shape_of(cqlmux_type kind, render_style style) {
  if (style == RENDER_JSON) {
    if (kind == CQLMUX_TYPE_UDT) return (shape){"{", "}", NULL, NULL, NULL};
    return (shape){"[", "]", "[", ",", "]"};
  }
  switch (kind) {
  case CQLMUX_TYPE_SET: return (shape){"{", "}", NULL, NULL, NULL};
  case CQLMUX_TYPE_MAP: return (shape){"{", "}", "", ": ", ""};
  case CQLMUX_TYPE_TUPLE: return (shape){"(", ")", NULL, NULL, NULL};
  case CQLMUX_TYPE_UDT: return (shape){"{", "}", NULL, NULL, NULL};
  default: return (shape){"[", "]", NULL, NULL, NULL};
  }
}

static const char *separator(render_style style) { return style == RENDER_JSON ? "," : ", "; }

static int render_map(const render_ctx *ctx, cqlmux_iterator *it, const shape *s) {
  cqlmux_value key, value;
  int rc;
  for (size_t i = 0; (rc = cqlmux_iterator_next_pair(it, &key, &value)) == 1; i++) {
    if (i) strbuf_adds(ctx->sb, separator(ctx->style));
    strbuf_adds(ctx->sb, s->pair_open);
    if ((rc = render(ctx, &key))) return rc;
    strbuf_adds(ctx->sb, s->pair_sep);
    if ((rc = render(ctx, &value))) return rc;
    strbuf_adds(ctx->sb, s->pair_close);
  }
  return rc;
}

static void add_null(const render_ctx *ctx) { strbuf_adds(ctx->sb, "null"); }

/* A UDT field's name; hex-encoded UTF-8 when the type came inside a
 * vector (cqlmux_data_type_names_are_hex). */
static void add_field_name(const render_ctx *ctx, const cqlmux_data_type *udt, size_t i) {
  size_t length = 0;
  const char *name = cqlmux_data_type_field_name(udt, i, &length);
  strbuf decoded = STRBUF_INIT;
  if (name && cqlmux_data_type_names_are_hex(udt)) {
    for (size_t k = 0; k + 1 < length; k += 2) {
      char pair[3] = {name[k], name[k + 1], 0};
      strbuf_addc(&decoded, (char)strtoul(pair, NULL, 16));
    }
    name = decoded.data;
    length = decoded.len;
  }
  if (ctx->style == RENDER_JSON) {
    render_json_key(ctx->sb, name ? name : "", length);
  } else {
    strbuf_add(ctx->sb, name ? name : "", length);
    strbuf_adds(ctx->sb, ": ");
  }
  strbuf_free(&decoded);
}

/* Tuples and UDTs: every field of the type, the ones the value leaves out
 * (trailing nulls) as null. */
static int render_fields(const render_ctx *ctx, const cqlmux_value *v, cqlmux_iterator *it,
                         cqlmux_type kind) {
  size_t fields = cqlmux_data_type_child_count(v->type);
  cqlmux_value elem;
  for (size_t i = 0; i < fields; i++) {
    if (i) strbuf_adds(ctx->sb, separator(ctx->style));
    if (kind == CQLMUX_TYPE_UDT) add_field_name(ctx, v->type, i);
    int rc = cqlmux_iterator_next(it, &elem);
    if (rc < 0) return rc;
    if (rc == 0)
      add_null(ctx);
    else if ((rc = render(ctx, &elem)))
      return rc;
  }
  return CQLMUX_OK;
}

static int render_elements(const render_ctx *ctx, cqlmux_iterator *it) {
  cqlmux_value elem;
  int rc;
  for (size_t i = 0; (rc = cqlmux_iterator_next(it, &elem)) == 1; i++) {
    if (i) strbuf_adds(ctx->sb, separator(ctx->style));
    if ((rc = render(ctx, &elem))) return rc;
  }
  return rc;
}

static int render_composite(const render_ctx *outer, const cqlmux_value *v, cqlmux_type kind) {
  cqlmux_iterator it;
  int rc = cqlmux_value_iterate(v, &it);
  if (rc) return rc;
  render_ctx ctx = *outer;
  ctx.nested = true;
  shape s = shape_of(kind, ctx.style);
  strbuf_adds(ctx.sb, s.open);
  if (kind == CQLMUX_TYPE_MAP)
    rc = render_map(&ctx, &it, &s);
  else if (kind == CQLMUX_TYPE_TUPLE || kind == CQLMUX_TYPE_UDT)
    rc = render_fields(&ctx, v, &it, kind);
  else
    rc = render_elements(&ctx, &it);
  if (rc) return rc;
  strbuf_adds(ctx.sb, s.close);
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ dispatch */

static bool is_composite(cqlmux_type kind) {
  return kind == CQLMUX_TYPE_LIST || kind == CQLMUX_TYPE_SET || kind == CQLMUX_TYPE_MAP ||
         kind == CQLMUX_TYPE_TUPLE || kind == CQLMUX_TYPE_UDT || kind == CQLMUX_TYPE_VECTOR;
}

static int render(const render_ctx *ctx, const cqlmux_value *v) {
  if (cqlmux_value_is_null(v)) {
    if (ctx->style == RENDER_JSON || ctx->nested) add_null(ctx);
    return CQLMUX_OK;
  }
  cqlmux_type kind = cqlmux_data_type_kind(v->type);
  size_t start = ctx->sb->len;
  int rc = is_composite(kind) ? render_composite(ctx, v, kind) : render_scalar(ctx, v, kind);
  if (rc == CQLMUX_ERR_EMPTY_VALUE) {
    strbuf_truncate(ctx->sb, start);
    if (ctx->style == RENDER_JSON) strbuf_adds(ctx->sb, "\"\"");
    rc = CQLMUX_OK;
  }
  return rc;
}

int render_value(strbuf *sb, const cqlmux_value *v, render_style style) {
  render_ctx ctx = {sb, style, false};
  return render(&ctx, v);
}

void render_json_key(strbuf *sb, const char *name, size_t length) {
  scalar_json_string(sb, name, length);
  strbuf_addc(sb, ':');
}

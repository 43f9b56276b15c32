/* The rows of the system_schema tables into a schema builder's records
 * (see schema.h). Columns are looked up by name, so the server's column
 * order does not matter; cells that are null or of an unexpected type
 * leave the field at its default. */
#include <string.h>

#include "cluster/schema_internal.h"
#include "cluster/topology.h"
#include "proto/types.h"
#include "proto/values.h"

static const char *const QUERIES[CQLMUX_SCHEMA_STEPS] = {
    "SELECT keyspace_name, durable_writes, replication FROM system_schema.keyspaces",
    "SELECT keyspace_name, table_name FROM system_schema.tables",
    "SELECT keyspace_name, table_name, column_name, kind, position, clustering_order, type "
    "FROM system_schema.columns",
    "SELECT keyspace_name, view_name, base_table_name, where_clause FROM system_schema.views",
    "SELECT keyspace_name, type_name, field_names, field_types FROM system_schema.types",
};

const char *cqlmux_schema_query(cqlmux_schema_step step) { return QUERIES[step]; }

/* One row being read: the result and the row's index. */
typedef struct row_ref {
  const cqlmux_rows *rows;
  uint32_t row;
} row_ref;

static cqlmux_bytes cell(row_ref r, int col) {
  cqlmux_bytes v = {NULL, -1};
  if (col >= 0) cqlmux_rows_cell(r.rows, r.row, (uint32_t)col, &v);
  return v;
}

/* A text cell copied into the pool; NULL when null, not text, or NOMEM. */
static const char *text_cell(cqlmux_schema *s, row_ref r, int col) {
  cqlmux_slice t;
  if (cqlmux_value_get_text(cell(r, col), &t) != CQLMUX_OK) return NULL;
  return cqlmux_schema_strdup(s, (const char *)t.data, t.len);
}

static bool is(const char *s, const char *word) { return s && !strcmp(s, word); }

static cqlmux_column_kind kind_named(const char *k) {
  if (is(k, "partition_key")) return CQLMUX_COLUMN_PARTITION_KEY;
  if (is(k, "clustering")) return CQLMUX_COLUMN_CLUSTERING;
  if (is(k, "static")) return CQLMUX_COLUMN_STATIC;
  return CQLMUX_COLUMN_REGULAR;
}

static cqlmux_clustering_order order_named(const char *o) {
  if (is(o, "asc")) return CQLMUX_CLUSTERING_ASC;
  if (is(o, "desc")) return CQLMUX_CLUSTERING_DESC;
  return CQLMUX_CLUSTERING_NONE;
}

/* The text elements of a collection cell (list<text>, or a map<text, text>
 * walked key, value, key ...) appended to `array` as strings. Returns how
 * many, or -1 when the cell is not such a collection (or on NOMEM). */
static long append_texts(cqlmux_schema *s, row_ref r, int col, cqlmux_schema_array *array) {
  if (col < 0) return 0;
  const cqlmux_typedesc *type = r.rows->meta.columns[col].type;
  cqlmux_bytes v = cell(r, col), elem;
  if (v.len < 0) return 0;
  cqlmux_value_iter it;
  if ((type->id != CQLMUX_TYPE_LIST && type->id != CQLMUX_TYPE_MAP) ||
      cqlmux_value_iter_init(&it, type, v) != CQLMUX_OK)
    return -1;
  const cqlmux_typedesc *et;
  long n = 0;
  int got;
  while ((got = cqlmux_value_iter_next(&it, &elem, &et)) == 1) {
    cqlmux_slice t;
    const char **slot = cqlmux_schema_array_push(s, array);
    if (!slot || cqlmux_value_get_text(elem, &t) != CQLMUX_OK ||
        !(*slot = cqlmux_schema_strdup(s, (const char *)t.data, t.len)))
      return -1;
    n++;
  }
  return got == 0 ? n : -1;
}

/* ------------------------------------------------------------ one step each */

static int add_keyspace(cqlmux_schema *s, row_ref r, const int *col) {
  const char *name = text_cell(s, r, col[0]);
  if (!name) return CQLMUX_OK;
  cqlmux_schema_keyspace *ks = cqlmux_schema_array_push(s, &s->keyspaces);
  if (!ks) return CQLMUX_ERR_NOMEM;
  ks->name = name;
  ks->durable_writes = true; /* Cassandra's default */
  cqlmux_value_get_boolean(cell(r, col[1]), &ks->durable_writes);
  ks->first_pair = s->pairs.count;
  long texts = append_texts(s, r, col[2], &s->pairs);
  if (texts < 0) {
    s->pairs.count = ks->first_pair; /* an unreadable map: no replication shown */
    texts = 0;
  }
  ks->replication_count = (size_t)texts / 2;
  return CQLMUX_OK;
}

static int add_table(cqlmux_schema *s, row_ref r, const int *col) {
  const char *keyspace = text_cell(s, r, col[0]), *name = text_cell(s, r, col[1]);
  if (!keyspace || !name) return CQLMUX_OK;
  cqlmux_schema_table *t = cqlmux_schema_array_push(s, &s->tables);
  if (!t) return CQLMUX_ERR_NOMEM;
  t->id.keyspace = keyspace, t->id.name = name;
  return CQLMUX_OK;
}

static int add_column(cqlmux_schema *s, row_ref r, const int *col) {
  const char *keyspace = text_cell(s, r, col[0]), *table = text_cell(s, r, col[1]);
  const char *name = text_cell(s, r, col[2]);
  if (!keyspace || !table || !name) return CQLMUX_OK;
  cqlmux_schema_column *c = cqlmux_schema_array_push(s, &s->columns);
  if (!c) return CQLMUX_ERR_NOMEM;
  c->keyspace = keyspace, c->table = table, c->name = name;
  c->kind = kind_named(text_cell(s, r, col[3]));
  int32_t position = -1;
  cqlmux_value_get_int(cell(r, col[4]), &position);
  c->position = position;
  c->order = c->kind == CQLMUX_COLUMN_CLUSTERING ? order_named(text_cell(s, r, col[5]))
                                                 : CQLMUX_CLUSTERING_NONE;
  c->type = text_cell(s, r, col[6]);
  if (!c->type) c->type = "";
  return CQLMUX_OK;
}

static int add_view(cqlmux_schema *s, row_ref r, const int *col) {
  const char *keyspace = text_cell(s, r, col[0]), *name = text_cell(s, r, col[1]);
  if (!keyspace || !name) return CQLMUX_OK;
  cqlmux_schema_table *v = cqlmux_schema_array_push(s, &s->views);
  if (!v) return CQLMUX_ERR_NOMEM;
  v->id.keyspace = keyspace, v->id.name = name;
  v->base_table = text_cell(s, r, col[2]);
  if (!v->base_table) v->base_table = "";
  v->where_clause = text_cell(s, r, col[3]);
  if (!v->where_clause) v->where_clause = "";
  return CQLMUX_OK;
}

/* Field names and types come as two lists; a type whose lists differ in
 * length keeps the fields both describe. */
static int add_type(cqlmux_schema *s, row_ref r, const int *col) {
  const char *keyspace = text_cell(s, r, col[0]), *name = text_cell(s, r, col[1]);
  if (!keyspace || !name) return CQLMUX_OK;
  cqlmux_schema_array names = {.item_size = sizeof(const char *)};
  cqlmux_schema_array types = names;
  long nn = append_texts(s, r, col[2], &names), nt = append_texts(s, r, col[3], &types);
  size_t n = nn < 0 || nt < 0 ? 0 : (size_t)(nn < nt ? nn : nt);
  cqlmux_schema_type *t = cqlmux_schema_array_push(s, &s->types);
  int rc = t ? CQLMUX_OK : CQLMUX_ERR_NOMEM;
  if (t) t->id.keyspace = keyspace, t->id.name = name, t->first_field = s->fields.count;
  for (size_t i = 0; i < n && rc == CQLMUX_OK; i++) {
    cqlmux_schema_field *f = cqlmux_schema_array_push(s, &s->fields);
    if (!f) rc = CQLMUX_ERR_NOMEM;
    else f->name = ((const char **)names.items)[i], f->type = ((const char **)types.items)[i];
  }
  if (rc == CQLMUX_OK) t->field_count = n;
  cqlmux_schema_array_free(s, &names);
  cqlmux_schema_array_free(s, &types);
  return rc;
}

/* ------------------------------------------------------------ dispatch */

typedef int (*add_fn)(cqlmux_schema *s, row_ref r, const int *col);

typedef struct step_desc {
  add_fn add;
  const char *columns[7]; /* the first is the name that must be there */
} step_desc;

static const step_desc STEPS[CQLMUX_SCHEMA_STEPS] = {
    {add_keyspace, {"keyspace_name", "durable_writes", "replication"}},
    {add_table, {"keyspace_name", "table_name"}},
    {add_column,
     {"keyspace_name", "table_name", "column_name", "kind", "position", "clustering_order",
      "type"}},
    {add_view, {"keyspace_name", "view_name", "base_table_name", "where_clause"}},
    {add_type, {"keyspace_name", "type_name", "field_names", "field_types"}},
};

int cqlmux_schema_builder_add(cqlmux_schema_builder *b, cqlmux_schema_step step,
                              const cqlmux_rows *rows) {
  const step_desc *d = &STEPS[step];
  int col[7];
  for (int i = 0; i < 7; i++)
    col[i] = d->columns[i] && rows->meta.columns ? cqlmux_topology_column(rows, d->columns[i])
                                                 : -1;
  if (col[0] < 0) return CQLMUX_ERR_MALFORMED;
  for (int32_t r = 0; r < rows->rows_count; r++) {
    int rc = d->add(b->schema, (row_ref){rows, (uint32_t)r}, col);
    if (rc != CQLMUX_OK) return rc;
  }
  return b->schema->out_of_memory ? CQLMUX_ERR_NOMEM : CQLMUX_OK;
}

/* The schema snapshot: its memory (string pool, record arrays), its
 * reference count, and finishing a build (sorting and linking). */
#include "cluster/schema.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/schema_internal.h"

#define CHUNK_SIZE 16384

/* ------------------------------------------------------------ memory */

const char *cqlmux_schema_strdup(cqlmux_schema *s, const char *text, size_t n) {
  cqlmux_schema_chunk *c = s->strings;
  if (!c || c->cap - c->used < n + 1) {
    size_t cap = n + 1 > CHUNK_SIZE ? n + 1 : CHUNK_SIZE;
    c = cqlmux_mem_malloc(&s->alloc, sizeof *c + cap);
    if (!c) {
      s->out_of_memory = true;
      return NULL;
    }
    c->next = s->strings, c->used = 0, c->cap = cap;
    s->strings = c;
  }
  char *out = c->data + c->used;
  memcpy(out, text, n);
  out[n] = '\0';
  c->used += n + 1;
  return out;
}

void *cqlmux_schema_array_push(cqlmux_schema *s, cqlmux_schema_array *a) {
  if (a->count == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    void *items = cqlmux_mem_realloc(&s->alloc, a->items, cap * a->item_size);
    if (!items) {
      s->out_of_memory = true;
      return NULL;
    }
    a->items = items, a->cap = cap;
  }
  void *item = (char *)a->items + a->count++ * a->item_size;
  memset(item, 0, a->item_size);
  return item;
}

void cqlmux_schema_array_free(cqlmux_schema *s, cqlmux_schema_array *a) {
  cqlmux_mem_free(&s->alloc, a->items);
  a->items = NULL, a->count = a->cap = 0;
}

static void schema_free(cqlmux_schema *s) {
  cqlmux_schema_array *arrays[] = {&s->keyspaces, &s->tables, &s->views, &s->columns,
                                   &s->types,     &s->pairs,  &s->fields};
  for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) cqlmux_schema_array_free(s, arrays[i]);
  for (cqlmux_schema_chunk *c = s->strings, *next; c; c = next) {
    next = c->next;
    cqlmux_mem_free(&s->alloc, c);
  }
  cqlmux_allocator alloc = s->alloc;
  cqlmux_mem_free(&alloc, s);
}

/* ------------------------------------------------------------ sharing */

void cqlmux_schema_hold(const cqlmux_schema *s) {
  /* relaxed: the holder already has a reference (or the publisher's lock),
   * so the snapshot cannot be freed under this increment. */
  atomic_fetch_add_explicit(&((cqlmux_schema *)s)->refs, 1, memory_order_relaxed);
}

void cqlmux_schema_release(const cqlmux_schema *s) {
  if (!s) return;
  /* acq_rel: every holder's reads happen before the last one frees. */
  if (atomic_fetch_sub_explicit(&((cqlmux_schema *)s)->refs, 1, memory_order_acq_rel) == 1)
    schema_free((cqlmux_schema *)s);
}

/* ------------------------------------------------------------ building */

int cqlmux_schema_builder_init(cqlmux_schema_builder *b, const cqlmux_allocator *alloc) {
  cqlmux_schema *s = cqlmux_mem_calloc(alloc, 1, sizeof *s);
  b->schema = s;
  if (!s) return CQLMUX_ERR_NOMEM;
  s->alloc = *alloc;
  atomic_init(&s->refs, 1);
  s->keyspaces.item_size = sizeof(cqlmux_schema_keyspace);
  s->tables.item_size = s->views.item_size = sizeof(cqlmux_schema_table);
  s->columns.item_size = sizeof(cqlmux_schema_column);
  s->types.item_size = sizeof(cqlmux_schema_type);
  s->pairs.item_size = sizeof(const char *);
  s->fields.item_size = sizeof(cqlmux_schema_field);
  return CQLMUX_OK;
}

void cqlmux_schema_builder_discard(cqlmux_schema_builder *b) {
  if (b->schema) schema_free(b->schema);
  b->schema = NULL;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const cqlmux_schema_keyspace *)a)->name,
                ((const cqlmux_schema_keyspace *)b)->name);
}

/* Tables, views and types all start with their cqlmux_schema_name. */
static int by_keyspace_name(const void *a, const void *b) {
  const cqlmux_schema_name *x = a, *y = b;
  int c = strcmp(x->keyspace, y->keyspace);
  return c ? c : strcmp(x->name, y->name);
}

/* Primary-key order: partition key, clustering (by position), the rest by
 * name. */
static int kind_rank(const cqlmux_schema_column *c) {
  return c->kind == CQLMUX_COLUMN_PARTITION_KEY ? 0 : c->kind == CQLMUX_COLUMN_CLUSTERING ? 1 : 2;
}

static int by_table_then_key_order(const void *a, const void *b) {
  const cqlmux_schema_column *x = a, *y = b;
  int c = strcmp(x->keyspace, y->keyspace);
  if (!c) c = strcmp(x->table, y->table);
  if (!c) c = kind_rank(x) - kind_rank(y);
  if (!c && kind_rank(x) < 2) c = (x->position > y->position) - (x->position < y->position);
  return c ? c : strcmp(x->name, y->name);
}

static void sort_array(cqlmux_schema_array *a, int (*cmp)(const void *, const void *)) {
  if (a->count > 1) qsort(a->items, a->count, a->item_size, cmp);
}

static const cqlmux_schema_name *item_name(const cqlmux_schema_array *a, size_t i) {
  return (const cqlmux_schema_name *)((const char *)a->items + i * a->item_size);
}

/* The first record of `a` (sorted by keyspace first) whose keyspace is
 * not below `keyspace`, and how many follow with that keyspace exactly. */
static size_t keyspace_run(const cqlmux_schema_array *a, const char *keyspace, size_t *count) {
  size_t lo = 0, hi = a->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const cqlmux_schema_name *n = item_name(a, mid);
    if (strcmp(n->keyspace, keyspace) < 0) lo = mid + 1;
    else hi = mid;
  }
  size_t end = lo;
  while (end < a->count && !strcmp(item_name(a, end)->keyspace, keyspace)) end++;
  *count = end - lo;
  return lo;
}

/* The columns of t: the run of (keyspace, name) in the sorted columns. */
static void link_columns(cqlmux_schema *s, cqlmux_schema_table *t) {
  const cqlmux_schema_column *cols = s->columns.items;
  size_t lo = 0, hi = s->columns.count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(cols[mid].keyspace, t->id.keyspace);
    if (!c) c = strcmp(cols[mid].table, t->id.name);
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  size_t end = lo;
  while (end < s->columns.count && !strcmp(cols[end].keyspace, t->id.keyspace) &&
         !strcmp(cols[end].table, t->id.name)) {
    t->partition_key_count += cols[end].kind == CQLMUX_COLUMN_PARTITION_KEY;
    t->clustering_count += cols[end].kind == CQLMUX_COLUMN_CLUSTERING;
    end++;
  }
  t->columns = end > lo ? cols + lo : NULL;
  t->column_count = end - lo;
}

/* Item `first` of a, or NULL for an empty run (no arithmetic on NULL). */
static const void *run_start(const cqlmux_schema_array *a, size_t first, size_t count) {
  return count ? (const char *)a->items + first * a->item_size : NULL;
}

static void link_keyspace(cqlmux_schema *s, cqlmux_schema_keyspace *ks) {
  ks->replication = run_start(&s->pairs, ks->first_pair, ks->replication_count);
  size_t first = keyspace_run(&s->tables, ks->name, &ks->table_count);
  ks->tables = run_start(&s->tables, first, ks->table_count);
  first = keyspace_run(&s->views, ks->name, &ks->view_count);
  ks->views = run_start(&s->views, first, ks->view_count);
  first = keyspace_run(&s->types, ks->name, &ks->type_count);
  ks->types = run_start(&s->types, first, ks->type_count);
}

int cqlmux_schema_builder_finish(cqlmux_schema_builder *b, uint64_t version, cqlmux_schema **out) {
  cqlmux_schema *s = b->schema;
  if (s->out_of_memory) {
    cqlmux_schema_builder_discard(b);
    return CQLMUX_ERR_NOMEM;
  }
  sort_array(&s->keyspaces, by_name);
  sort_array(&s->tables, by_keyspace_name);
  sort_array(&s->views, by_keyspace_name);
  sort_array(&s->types, by_keyspace_name);
  sort_array(&s->columns, by_table_then_key_order);
  cqlmux_schema_table *tables = s->tables.items, *views = s->views.items;
  for (size_t i = 0; i < s->tables.count; i++) link_columns(s, &tables[i]);
  for (size_t i = 0; i < s->views.count; i++) link_columns(s, &views[i]);
  cqlmux_schema_type *types = s->types.items;
  for (size_t i = 0; i < s->types.count; i++)
    types[i].fields = run_start(&s->fields, types[i].first_field, types[i].field_count);
  cqlmux_schema_keyspace *keyspaces = s->keyspaces.items;
  for (size_t i = 0; i < s->keyspaces.count; i++) link_keyspace(s, &keyspaces[i]);
  s->version = version;
  b->schema = NULL;
  *out = s;
  return CQLMUX_OK;
}

#include "api/prepared.h"

#include <string.h>

#include "runtime/alloc.h"

static uint8_t *copy_bytes(const cqlmux_allocator *a, const void *p, size_t n) {
  uint8_t *copy = cqlmux_mem_malloc(a, n ? n : 1);
  if (copy && n) memcpy(copy, p, n);
  return copy;
}

cqlmux_prepared *cqlmux_prepared_new(const cqlmux_allocator *alloc, const char *cql,
                                     const uint8_t *id, size_t id_len,
                                     const uint8_t *result_metadata_id,
                                     size_t result_metadata_id_len, size_t parameter_count) {
  cqlmux_prepared *p = cqlmux_mem_calloc(alloc, 1, sizeof *p);
  if (!p) return NULL;
  p->alloc = alloc ? *alloc : *cqlmux_default_allocator();
  p->parameter_count = parameter_count;
  p->id = copy_bytes(alloc, id, id_len);
  p->id_len = id_len;
  p->cql = (char *)copy_bytes(alloc, cql, strlen(cql) + 1);
  if (result_metadata_id) {
    p->result_metadata_id = copy_bytes(alloc, result_metadata_id, result_metadata_id_len);
    p->result_metadata_id_len = result_metadata_id_len;
  }
  if (!p->id || !p->cql || (result_metadata_id && !p->result_metadata_id)) {
    cqlmux_prepared_free(p);
    return NULL;
  }
  return p;
}

void cqlmux_prepared_free(cqlmux_prepared *p) {
  if (!p) return;
  cqlmux_allocator a = p->alloc;
  cqlmux_arena_free(&p->params.arena);
  cqlmux_mem_free(&a, p->params.body);
  cqlmux_mem_free(&a, p->id);
  cqlmux_mem_free(&a, p->result_metadata_id);
  cqlmux_mem_free(&a, p->cql);
  cqlmux_result_meta_release(p->result_meta);
  cqlmux_mem_free(&a, p);
}

/* A result meta holding a decoded copy of body (kind PREPARED or ROWS,
 * checked by the caller through *msg); NULL on NOMEM or decoding error. */
/* An empty result meta with one reference, or NULL. */
static cqlmux_result_meta *meta_new(const cqlmux_allocator *alloc) {
  cqlmux_result_meta *m = cqlmux_mem_calloc(alloc, 1, sizeof *m);
  if (!m) return NULL;
  m->alloc = alloc ? *alloc : *cqlmux_default_allocator();
  atomic_init(&m->refs, 1);
  atomic_init(&m->newer, NULL);
  cqlmux_arena_init(&m->arena, &m->alloc, NULL, 0);
  return m;
}

static cqlmux_result_meta *decode_copy(const cqlmux_allocator *alloc, int version,
                                       const uint8_t *body, size_t len, cqlmux_result_msg *msg) {
  cqlmux_result_meta *m = meta_new(alloc);
  if (!m) return NULL;
  m->body = copy_bytes(&m->alloc, body, len);
  if (!m->body || cqlmux_result_decode(version, m->body, len, &m->arena, msg) != CQLMUX_OK) {
    cqlmux_result_meta_release(m);
    return NULL;
  }
  return m;
}

/* Keeps meta's columns in m; NULL (m released) when there are none. */
static cqlmux_result_meta *take_columns(cqlmux_result_meta *m, const cqlmux_rows_metadata *meta) {
  if (!meta->columns || meta->columns_count == 0) {
    cqlmux_result_meta_release(m);
    return NULL;
  }
  m->columns_count = meta->columns_count;
  m->columns = meta->columns;
  return m;
}

cqlmux_result_meta *cqlmux_result_meta_new(const cqlmux_allocator *alloc, int version,
                                           const uint8_t *body, size_t len) {
  cqlmux_result_msg msg;
  cqlmux_result_meta *m = decode_copy(alloc, version, body, len, &msg);
  if (m && msg.kind != CQLMUX_RESULT_PREPARED) {
    cqlmux_result_meta_release(m);
    return NULL;
  }
  return m ? take_columns(m, &msg.prepared.result) : NULL;
}

cqlmux_result_meta *cqlmux_result_meta_from_rows(const cqlmux_allocator *alloc, int version,
                                                 const uint8_t *body, size_t len) {
  cqlmux_result_msg msg;
  cqlmux_result_meta *m = decode_copy(alloc, version, body, len, &msg);
  if (m && (msg.kind != CQLMUX_RESULT_ROWS || !msg.rows.meta.new_metadata_id.data)) {
    cqlmux_result_meta_release(m);
    return NULL;
  }
  if (!m || !(m = take_columns(m, &msg.rows.meta))) return NULL;
  /* Points into m->body: the copy lives as long as m. */
  m->metadata_id = (uint8_t *)msg.rows.meta.new_metadata_id.data;
  m->metadata_id_len = msg.rows.meta.new_metadata_id.len;
  return m;
}

cqlmux_result_meta *cqlmux_result_meta_from_metadata(const cqlmux_allocator *alloc, int version,
                                                     const uint8_t *p, size_t len) {
  cqlmux_result_meta *m = meta_new(alloc);
  if (!m) return NULL;
  /* Once on the answer's bytes to learn how many are metadata, then on
   * the copy of those, to which the column specs then point. */
  size_t n;
  if (cqlmux_rows_metadata_decode(version, p, len, &m->arena, NULL, &n) != CQLMUX_OK) {
    cqlmux_result_meta_release(m);
    return NULL;
  }
  cqlmux_arena_reset(&m->arena);
  m->body = copy_bytes(&m->alloc, p, n);
  if (!m->body ||
      cqlmux_rows_metadata_decode(version, m->body, n, &m->arena, &m->rows, &n) != CQLMUX_OK) {
    cqlmux_result_meta_release(m);
    return NULL;
  }
  m->metadata_len = n;
  return take_columns(m, &m->rows);
}

cqlmux_result_meta *cqlmux_result_meta_current(cqlmux_result_meta *m) {
  cqlmux_result_meta *next;
  /* acquire: pairs with the release compare-exchange in replace, so the
   * newer version's columns and id are seen complete. */
  while (m && (next = atomic_load_explicit(&m->newer, memory_order_acquire))) m = next;
  return m;
}

static bool same_id(const cqlmux_result_meta *a, const cqlmux_result_meta *b) {
  return a->metadata_id && a->metadata_id_len == b->metadata_id_len &&
         !memcmp(a->metadata_id, b->metadata_id, b->metadata_id_len);
}

void cqlmux_result_meta_replace(cqlmux_result_meta *m, cqlmux_result_meta *newer) {
  cqlmux_result_meta *tail = cqlmux_result_meta_current(m), *none = NULL;
  if (!tail || same_id(tail, newer) ||
      !atomic_compare_exchange_strong_explicit(&tail->newer, &none, newer, memory_order_acq_rel,
                                               memory_order_acquire))
    cqlmux_result_meta_release(newer); /* known already, or another answer won */
}

void cqlmux_prepared_metadata_id(const cqlmux_prepared *p, cqlmux_slice *out) {
  const cqlmux_result_meta *cur = cqlmux_result_meta_current(p->result_meta);
  if (cur && cur->metadata_id) {
    *out = (cqlmux_slice){cur->metadata_id, cur->metadata_id_len};
    return;
  }
  *out = (cqlmux_slice){p->result_metadata_id, p->result_metadata_id_len};
}

void cqlmux_result_meta_retain(cqlmux_result_meta *m) {
  /* relaxed: the caller already holds a reference (the prepared statement's,
   * through the statement it executes), so the count cannot reach zero. */
  atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void cqlmux_result_meta_release(cqlmux_result_meta *m) {
  if (!m) return;
  /* acq_rel: the last release must see every other holder's reads done
   * before the memory goes (the columns are only read, never written). */
  if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1) return;
  cqlmux_result_meta_release(atomic_load_explicit(&m->newer, memory_order_relaxed));
  cqlmux_allocator a = m->alloc;
  cqlmux_arena_free(&m->arena);
  cqlmux_mem_free(&a, m->body);
  cqlmux_mem_free(&a, m);
}

size_t cqlmux_prepared_parameter_count(const cqlmux_prepared *p) {
  return p ? p->parameter_count : 0;
}

/* The bind markers, decoded from a private copy of the body (the PREPARED
 * answer is decoded twice, once here and once for the result columns,
 * which must be able to outlive p: see cqlmux_result_meta). */
static void describe_params(cqlmux_prepared *p, int version, const uint8_t *body, size_t len) {
  cqlmux_prepared_params *pp = &p->params;
  cqlmux_arena_init(&pp->arena, &p->alloc, NULL, 0);
  if (!(pp->body = copy_bytes(&p->alloc, body, len))) return;
  cqlmux_result_msg msg;
  if (cqlmux_result_decode(version, pp->body, len, &pp->arena, &msg) != CQLMUX_OK ||
      msg.kind != CQLMUX_RESULT_PREPARED ||
      (size_t)msg.prepared.bind_count != p->parameter_count)
    return;
  pp->count = msg.prepared.bind_count;
  pp->columns = msg.prepared.bind_columns;
  /* Decoded from pp->body, so these point into it and live as long as p. */
  p->pk_count = msg.prepared.pk_count;
  p->pk_raw = msg.prepared.pk_raw;
  cqlmux_slice ks = msg.prepared.global_keyspace;
  if (!ks.len && pp->count > 0) ks = pp->columns[0].keyspace;
  p->keyspace = (const char *)ks.data;
  p->keyspace_len = ks.len;
}

void cqlmux_prepared_describe(cqlmux_prepared *p, int version, const uint8_t *body,
                              size_t len) {
  p->result_meta = cqlmux_result_meta_new(&p->alloc, version, body, len);
  describe_params(p, version, body, len);
}

const cqlmux_column_spec *cqlmux_prepared_param(const cqlmux_prepared *p, size_t index) {
  if (!p || !p->params.columns || index >= (size_t)p->params.count) return NULL;
  return &p->params.columns[index];
}

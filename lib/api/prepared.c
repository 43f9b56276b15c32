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
  cqlmux_mem_free(&a, p->id);
  cqlmux_mem_free(&a, p->result_metadata_id);
  cqlmux_mem_free(&a, p->cql);
  cqlmux_mem_free(&a, p);
}

size_t cqlmux_prepared_parameter_count(const cqlmux_prepared *p) {
  return p ? p->parameter_count : 0;
}

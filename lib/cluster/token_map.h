/* TEMPORARY stand-in until the token branch lands (same interface). */
#ifndef CQLMUX_CLUSTER_TOKEN_MAP_H
#define CQLMUX_CLUSTER_TOKEN_MAP_H
#include <stddef.h>
#include <stdint.h>
#include "cluster/host.h"
typedef struct cqlmux_token_map cqlmux_token_map;
static inline const cqlmux_token_map *cqlmux_cluster_token_map(const cqlmux_cluster *c) {
  (void)c;
  return NULL;
}
static inline size_t cqlmux_token_map_replicas(const cqlmux_token_map *m, const char *ks,
                                               size_t ks_len, int64_t token,
                                               cqlmux_host *const **out) {
  (void)m, (void)ks, (void)ks_len, (void)token, (void)out;
  return 0;
}
#endif

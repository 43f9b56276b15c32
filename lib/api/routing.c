#include "api/routing.h"

#include <string.h>

#include "api/prepared.h"
#include "api/statement.h"
#include "cluster/murmur3.h"
#include "proto/wire.h"

/* The bound value of partition key component i, or NULL when it is unset,
 * null or out of range. */
static const cqlmux_value_slot *key_component(const cqlmux_statement *st, int32_t i) {
  const cqlmux_prepared *p = st->prepared;
  uint16_t index = cqlmux_load_u16(p->pk_raw + 2 * (size_t)i);
  if (index >= st->value_count) return NULL;
  const cqlmux_value_slot *slot = &st->values[index];
  return slot->len >= 0 ? slot : NULL;
}

/* Components in Cassandra's composite encoding (CompositeType), into buf. */
static bool composite_key(const cqlmux_statement *st, uint8_t *buf, size_t *len) {
  size_t n = 0;
  for (int32_t i = 0; i < st->prepared->pk_count; i++) {
    const cqlmux_value_slot *slot = key_component(st, i);
    if (!slot || slot->len > UINT16_MAX || n + 3 + (size_t)slot->len > CQLMUX_ROUTING_KEY_MAX)
      return false;
    buf[n++] = (uint8_t)(slot->len >> 8);
    buf[n++] = (uint8_t)slot->len;
    memcpy(buf + n, cqlmux_value_slot_bytes(slot), (size_t)slot->len);
    n += (size_t)slot->len;
    buf[n++] = 0;
  }
  *len = n;
  return true;
}

bool cqlmux_statement_routing_token(const cqlmux_statement *st, int64_t *token) {
  if (st->routing_key) {
    *token = cqlmux_murmur3_token(st->routing_key, st->routing_key_len);
    return true;
  }
  const cqlmux_prepared *p = st->prepared;
  if (!p || p->pk_count <= 0) return false;
  if (p->pk_count == 1) {
    const cqlmux_value_slot *slot = key_component(st, 0);
    if (!slot) return false;
    *token = cqlmux_murmur3_token(cqlmux_value_slot_bytes(slot), (size_t)slot->len);
    return true;
  }
  uint8_t buf[CQLMUX_ROUTING_KEY_MAX];
  size_t len;
  if (!composite_key(st, buf, &len)) return false;
  *token = cqlmux_murmur3_token(buf, len);
  return true;
}

const char *cqlmux_statement_routing_keyspace(const cqlmux_statement *st, size_t *len) {
  if (st->keyspace) {
    *len = strlen(st->keyspace);
    return st->keyspace;
  }
  const cqlmux_prepared *p = st->prepared;
  if (p && p->keyspace_len) {
    *len = p->keyspace_len;
    return p->keyspace;
  }
  *len = 0;
  return NULL;
}

/* The routing key of a request, as Cassandra builds a partition key from
 * its components, and its Murmur3 token: what a token-aware driver must
 * have computed to pick a replica. */
#include "config.h"

#include "mock/mock_internal.h"

#include <string.h>

/* The value bound to bind marker `index` (named values count in the order
 * they were sent); false when there are fewer values. */
static bool value_at(cqlmux_values_view values, uint16_t index, cqlmux_bytes *out) {
  cqlmux_slice name;
  for (uint32_t i = 0; cqlmux_values_next(&values, &name, out); i++)
    if (i == index) return true;
  return false;
}

/* One component: the value's bytes; several: per component a 2-byte
 * big-endian length, the bytes and 0x00 (CompositeType's encoding). A
 * null or unset component leaves the key undefined. */
static bool key_build(const uint16_t *pk, size_t pk_count, cqlmux_values_view values,
                      cqlmux_wbuf *key) {
  for (size_t i = 0; i < pk_count; i++) {
    cqlmux_bytes v;
    if (!value_at(values, pk[i], &v) || v.len < 0 || v.len > UINT16_MAX) return false;
    if (pk_count > 1) cqlmux_write_u16(key, (uint16_t)v.len);
    if (v.len > 0) cqlmux_write_raw(key, v.data, (size_t)v.len);
    if (pk_count > 1) cqlmux_write_u8(key, 0);
  }
  return true;
}

bool mock_routing_token(const uint16_t *pk, size_t pk_count, cqlmux_values_view values,
                        int64_t *token) {
  if (pk_count == 0) return false;
  cqlmux_wbuf key;
  cqlmux_wbuf_init(&key, NULL, 0);
  bool ok = key_build(pk, pk_count, values, &key);
  mock_wbuf_check(&key);
  if (ok) *token = cqlmux_mock_token(key.data, key.len);
  cqlmux_wbuf_free(&key);
  return ok;
}

/* What a session makes for its requests' values: client timestamps (asked
 * by the encoders at submit time) and version 1 UUIDs with its own node id
 * and clock sequence. */
#include "api/session.h"
#include "api/uuid.h"

static void init_timestamp_source(cqlmux_session *s) {
  const cqlmux_config *c = s->config;
  cqlmux_timestamp_gen_init(&s->timestamps, NULL, cqlmux_runtime_logger(s->runtime));
  if (c->builtin_timestamps)
    s->stamps = (cqlmux_timestamp_source){cqlmux_timestamp_gen_callback, &s->timestamps};
  else
    s->stamps = (cqlmux_timestamp_source){c->timestamp_generator, c->timestamp_user_data};
}

int cqlmux_session_values_init(cqlmux_session *s) {
  init_timestamp_source(s);
  uint8_t random[8];
  int rc = cqlmux_random_bytes(random, sizeof random);
  if (rc != CQLMUX_OK) return rc;
  for (int i = 0; i < 6; i++) s->uuid_node[i] = random[i];
  /* A random node id sets the multicast bit, so that it never equals a
   * real MAC address (RFC 9562, 6.10). */
  s->uuid_node[0] |= 0x01;
  s->uuid_clock_seq = (uint16_t)((random[6] << 8 | random[7]) & 0x3fff);
  return CQLMUX_OK;
}

int cqlmux_session_uuid_v1(cqlmux_session *session, uint8_t out[16]) {
  if (!session || !out) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_uuid_v1_make(session->uuid_node, session->uuid_clock_seq, out);
  return CQLMUX_OK;
}

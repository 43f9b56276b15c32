/* libFuzzer harness: unframed envelopes (v3-v5 headers, v4 LZ4 bodies, body
 * prefixes, request decoders). Input: one byte choosing the direction, then
 * a byte stream cut into envelopes as a connection would. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  cqlmux_direction dir = (data[0] & 1) ? CQLMUX_DIR_RESPONSE : CQLMUX_DIR_REQUEST;
  data++;
  size--;
  cqlmux_wbuf scratch;
  cqlmux_wbuf_init(&scratch, NULL, 0);
  size_t off = 0;
  while (off < size) {
    cqlmux_envelope e;
    int n = cqlmux_envelope_decode(data + off, size - off, dir, FUZZ_MAX_BODY, &e);
    if (n <= 0) break;
    fuzz_check((size_t)n <= size - off && (size_t)n == 9 + e.header.length);
    fuzz_walk_envelope(&e, &scratch);
    off += (size_t)n;
  }
  cqlmux_wbuf_free(&scratch);
  return 0;
}

/* One text per error code, for every layer: it lives at the bottom (runtime)
 * because futures, connections and loops word their failures with it, and
 * a layer may call only downward (tests/layering.sh). */
#include "cqlmux.h"

const char *cqlmux_strerror(int error) {
  switch ((cqlmux_error)error) {
  case CQLMUX_OK: return "success";
  case CQLMUX_ERR_INVALID_ARGUMENT: return "invalid argument";
  case CQLMUX_ERR_NOMEM: return "out of memory";
  case CQLMUX_ERR_INVALID_STATE: return "operation not allowed in the current state";
  case CQLMUX_ERR_WOULD_DEADLOCK: return "blocking wait called on a cqlmux thread (would deadlock)";
  case CQLMUX_ERR_BUFFER_TOO_SMALL: return "buffer too small";
  case CQLMUX_ERR_NOT_FOUND: return "not found";
  case CQLMUX_ERR_TYPE_MISMATCH: return "type mismatch";
  case CQLMUX_ERR_NOT_READY: return "not completed yet";
  case CQLMUX_ERR_NULL_VALUE: return "the value is null";
  case CQLMUX_ERR_EMPTY_VALUE: return "the value is empty (zero bytes, distinct from null)";
  case CQLMUX_ERR_TRUNCATED: return "truncated input: a length or count runs past the end";
  case CQLMUX_ERR_MALFORMED: return "malformed input";
  case CQLMUX_ERR_OVERSIZED: return "input exceeds the protocol or configured size limit";
  case CQLMUX_ERR_BAD_CRC: return "checksum mismatch in a protocol v5 frame";
  case CQLMUX_ERR_UNSUPPORTED_VERSION: return "unsupported protocol version";
  case CQLMUX_ERR_COMPRESSION: return "compression or decompression failed";
  case CQLMUX_ERR_BUSY: return "busy: request rejected by backpressure (queue or memory budget full)";
  case CQLMUX_ERR_TIMEOUT: return "request timed out";
  case CQLMUX_ERR_SHUTDOWN: return "session shut down before the request completed";
  case CQLMUX_ERR_CONNECTION_CLOSED: return "connection closed";
  case CQLMUX_ERR_CONNECT_FAILED: return "connection failed";
  case CQLMUX_ERR_CONNECT_TIMEOUT: return "connection timed out";
  case CQLMUX_ERR_RESOLVE: return "host name resolution failed";
  case CQLMUX_ERR_PROTOCOL: return "protocol violation by the peer";
  case CQLMUX_ERR_HEARTBEAT_TIMEOUT: return "heartbeat not answered: connection presumed dead";
  case CQLMUX_ERR_AUTH: return "authentication failed";
  case CQLMUX_ERR_TLS: return "TLS failure";
  case CQLMUX_ERR_TLS_UNTRUSTED: return "TLS peer certificate is not trusted";
  case CQLMUX_ERR_TLS_EXPIRED: return "TLS peer certificate expired or not yet valid";
  case CQLMUX_ERR_TLS_HOSTNAME: return "TLS peer certificate does not match the host";
  case CQLMUX_ERR_NO_HOSTS: return "no host available";
  case CQLMUX_ERR_SERVER: return "server error";
  }
  return "unknown error";
}

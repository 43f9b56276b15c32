/* A small BLOCKING CQL client for integration tests of the codec (lib/proto)
 * against a real server, before the asynchronous connection layer exists.
 *
 * Every byte it sends is produced by the codec (request encoders, v4 LZ4
 * envelopes, v5 frame writer) and every byte it receives is parsed by the
 * codec (envelope decoder, v4 decompression, v5 frame decoder, body prefix,
 * response decoders); this file only moves bytes between them and a socket.
 *
 * One request at a time: each call sends one request and waits for the
 * response on its stream. Not thread-safe. Functions return CQLMUX_OK or a
 * negative cqlmux_error, with a human-readable reason in client->why.
 */
#ifndef CQLMUX_TESTS_RAW_CLIENT_H
#define CQLMUX_TESTS_RAW_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/arena.h"
#include "proto/envelope.h"
#include "proto/frame_v5.h"
#include "proto/request.h"
#include "proto/response.h"
#include "proto/wire.h"

typedef struct raw_client {
  int fd;
  uint8_t version;        /* 4 or 5 */
  bool lz4;               /* COMPRESSION=lz4 was negotiated */
  cqlmux_framing framing; /* NONE until a v5 STARTUP is answered */
  int16_t next_stream;
  cqlmux_wbuf out;        /* bytes to send */
  cqlmux_wbuf in;         /* bytes received, not yet consumed from in_off */
  size_t in_off;
  cqlmux_wbuf pending;    /* framed mode: envelopes decoded from frames */
  size_t pending_off;
  cqlmux_wbuf scratch;    /* v4 LZ4 decompression */
  cqlmux_frame_v5_writer writer;
  cqlmux_frame_v5_decoder decoder;
  uint8_t request_flags;  /* CQLMUX_FLAG_TRACING etc., set on every request */
  /* What the last exchange looked like on the wire: bytes sent, bytes
   * received (frames or envelopes), whether the answer envelope carried
   * CQLMUX_FLAG_COMPRESSION (v4 LZ4), and the v5 frames it took: all of
   * them, and those that completed no envelope (parts of a large one). */
  size_t sent_last, received_last;
  bool compressed_last;
  unsigned frames_last, partial_frames_last;
  unsigned most_envelopes_per_frame_last; /* v5: the server packed that many in one */
  char why[512];
} raw_client;

/* One decoded response. The decoded message points into `bytes` (and into
 * `arena` for type trees and cell index), both owned by the reply. */
typedef struct raw_reply {
  cqlmux_envelope envelope;   /* uncompressed; body points into bytes */
  cqlmux_body_prefix prefix;  /* tracing id, warnings, custom payload */
  cqlmux_response msg;
  cqlmux_wbuf bytes;
  cqlmux_arena arena;
} raw_reply;

/* Connects with timeouts (seconds) and runs the handshake in `version`:
 * OPTIONS -> SUPPORTED (which must list the version and, when asked, lz4),
 * STARTUP -> READY, or AUTHENTICATE then SASL PLAIN with user/password
 * (NULL user: fail on AUTHENTICATE). After it the client is framed when
 * version is 5. On failure the client is closed. */
int raw_client_connect(raw_client *c, const char *host, int port, uint8_t version, bool lz4,
                       int timeout_seconds, const char *user, const char *password);
void raw_client_close(raw_client *c);

/* Each sends one request and decodes its response into *out (any opcode,
 * ERROR included); out must be freed with raw_reply_free after success. */
int raw_client_query(raw_client *c, const char *cql, const cqlmux_query_params *p,
                     raw_reply *out);
/* keyspace: v5 only, NULL for none. */
int raw_client_prepare(raw_client *c, const char *cql, const char *keyspace, raw_reply *out);
int raw_client_execute(raw_client *c, cqlmux_slice id, cqlmux_slice result_metadata_id,
                       const cqlmux_query_params *p, raw_reply *out);
int raw_client_batch(raw_client *c, const cqlmux_batch_msg *b, raw_reply *out);

/* Sends n QUERYs (consistency ONE) in one write (v5: packed into one
 * self-contained frame), then collects the n answers in whatever order they
 * come: out[i] answers cql[i]. n at most RAW_CLIENT_PIPELINE_MAX. On
 * failure no reply is left to free. */
#define RAW_CLIENT_PIPELINE_MAX 16
int raw_client_query_pipelined(raw_client *c, const char *const *cql, size_t n,
                               raw_reply *out);

void raw_reply_free(raw_reply *r);

#endif

/* A minimal blocking CQL client for the mock's own tests: one socket, the
 * codec's request encoders, envelope and v5 frame decoding, nothing else.
 * Everything is synchronous and single-threaded per client. */
#ifndef CQLMUX_MOCK_CLIENT_H
#define CQLMUX_MOCK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/envelope.h"
#include "proto/frame_v5.h"
#include "proto/request.h"
#include "proto/wire.h"

typedef struct mock_client {
  int fd;
  uint8_t version;       /* of the requests it encodes */
  bool lz4;              /* negotiated */
  bool framed;           /* v5 frames in both directions */
  bool startup_pending;  /* the next READY/AUTHENTICATE switches framing */
  cqlmux_wbuf in;        /* raw bytes received, in[in_off..] unparsed */
  size_t in_off;
  cqlmux_frame_v5_decoder fdec;
  cqlmux_wbuf envs;      /* whole envelopes out of frames, envs[envs_off..] unread */
  size_t envs_off;
  cqlmux_wbuf msg;       /* the last envelope returned (its body lives here) */
  cqlmux_wbuf scratch;
} mock_client;

/* A received envelope; body valid until the next receive. */
typedef struct mock_reply {
  cqlmux_envelope_header h;
  const uint8_t *body;
  size_t len;
} mock_reply;

/* 0, or -errno of connect(). */
int mock_client_connect(mock_client *c, const char *address, uint16_t port, uint8_t version);
void mock_client_close(mock_client *c);

/* Sends raw bytes as they are. */
int mock_client_send_raw(mock_client *c, const void *p, size_t n);
/* Sends the whole envelopes in b (framed once the connection is). */
int mock_client_send(mock_client *c, const cqlmux_wbuf *b);

/* Receives one envelope, waiting up to timeout_ms. Returns CQLMUX_OK,
 * CQLMUX_ERR_TIMEOUT, CQLMUX_ERR_CONNECTION_CLOSED (EOF or reset, with
 * nothing usable buffered), or a decode error (BAD_CRC, MALFORMED,
 * COMPRESSION ...). */
int mock_client_recv(mock_client *c, mock_reply *out, int timeout_ms);

/* Bytes received but not parsed (a truncated frame stays there). */
size_t mock_client_buffered(const mock_client *c);

/* Request helpers: encode one request and send it. */
cqlmux_request_header mock_client_header(const mock_client *c, int16_t stream);
int mock_client_options(mock_client *c, int16_t stream);
int mock_client_startup(mock_client *c, int16_t stream, const char *compression);
int mock_client_query(mock_client *c, int16_t stream, const char *query, uint16_t consistency);
int mock_client_register(mock_client *c, int16_t stream, const char *const *events, uint16_t n);
int mock_client_prepare(mock_client *c, int16_t stream, const char *query);
/* EXECUTE with no values; v5 sends the id as its result metadata id too. */
int mock_client_execute(mock_client *c, int16_t stream, const uint8_t *id, size_t id_len,
                        uint16_t consistency);
/* EXECUTE with full parameters (values, SKIP_METADATA ...); v5 sends
 * result_metadata_id. */
int mock_client_execute_params(mock_client *c, int16_t stream, cqlmux_slice id,
                               cqlmux_slice result_metadata_id, const cqlmux_query_params *p);

/* STARTUP (+ SASL PLAIN when user is non-NULL) until READY/AUTH_SUCCESS.
 * Returns CQLMUX_OK, CQLMUX_ERR_SERVER (an ERROR came back: *error_code
 * set when non-NULL) or a receive error. */
int mock_client_handshake(mock_client *c, const char *compression, const char *user,
                          const char *password, int32_t *error_code);

/* The [int] code and [string] message of an ERROR body. */
int32_t mock_reply_error(const mock_reply *r, char *msg, size_t cap);
/* The RESULT kind of a RESULT body (first [int]). */
int32_t mock_reply_result_kind(const mock_reply *r);

#endif

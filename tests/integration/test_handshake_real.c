/* End-to-end slice against a REAL Cassandra started by tools/cassandra-local:
 * a blocking socket speaks protocol v4 envelopes built with the project's
 * wire primitives: OPTIONS -> SUPPORTED, STARTUP -> READY (or the SASL PLAIN
 * exchange when the server demands it), then QUERY of system.local.
 *
 * Environment (set by tools/test-all from `tools/cassandra-local status`):
 *   CQLMUX_TEST_HOST (default 127.0.0.1), CQLMUX_TEST_PORT (default 9042),
 *   CQLMUX_TEST_USERNAME / CQLMUX_TEST_PASSWORD when the server has --auth,
 *   CQLMUX_TEST_CA_PEM when it has --tls (the handshake then verifies the
 *   server certificate against that CA and the IP address).
 * No server is a failure, not a skip. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "proto/wire.h"

enum { OP_ERROR = 0x00, OP_STARTUP = 0x01, OP_READY = 0x02, OP_AUTHENTICATE = 0x03,
       OP_OPTIONS = 0x05, OP_SUPPORTED = 0x06, OP_QUERY = 0x07, OP_RESULT = 0x08,
       OP_AUTH_RESPONSE = 0x0F, OP_AUTH_SUCCESS = 0x10 };

/* A blocking connection, plain or TLS. */
typedef struct conn {
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;
} conn;

typedef struct reply {
  uint8_t opcode;
  uint8_t *body;
  size_t len;
} reply;

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static void tls_wrap(conn *c, const char *host, const char *ca_pem) {
  c->ctx = SSL_CTX_new(TLS_client_method());
  cr_assert_not_null(c->ctx);
  cr_assert_eq(SSL_CTX_load_verify_locations(c->ctx, ca_pem, NULL), 1, "cannot load %s", ca_pem);
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
  c->ssl = SSL_new(c->ctx);
  cr_assert_eq(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host), 1);
  SSL_set_fd(c->ssl, c->fd);
  int rc = SSL_connect(c->ssl);
  cr_assert_eq(rc, 1, "TLS handshake failed: %s (verify: %s)",
               ERR_reason_error_string(ERR_peek_last_error()),
               X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
}

static void conn_close(conn *c) {
  if (c->ssl) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
  }
  close(c->fd);
}

static ssize_t conn_write(conn *c, const void *p, size_t n) {
  return c->ssl ? SSL_write(c->ssl, p, (int)n) : write(c->fd, p, n);
}

static ssize_t conn_read(conn *c, void *p, size_t n) {
  return c->ssl ? SSL_read(c->ssl, p, (int)n) : read(c->fd, p, n);
}

static conn connect_server(void) {
  const char *host = env_or("CQLMUX_TEST_HOST", "127.0.0.1");
  int port = atoi(env_or("CQLMUX_TEST_PORT", "9042"));
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  cr_assert_eq(inet_pton(AF_INET, host, &sa.sin_addr), 1, "bad CQLMUX_TEST_HOST %s", host);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  struct timeval tv = {.tv_sec = 20};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0,
               "no Cassandra at %s:%d (%s): start one with tools/cassandra-local start", host,
               port, strerror(errno));
  conn c = {.fd = fd};
  const char *ca = getenv("CQLMUX_TEST_CA_PEM");
  if (ca && *ca) tls_wrap(&c, host, ca);
  return c;
}

static void send_envelope(conn *c, int16_t stream, uint8_t opcode, const cqlmux_wbuf *body) {
  uint8_t header[9] = {0x04, 0x00};
  cqlmux_store_u16(header + 2, (uint16_t)stream);
  header[4] = opcode;
  cqlmux_store_u32(header + 5, (uint32_t)body->len);
  cr_assert_eq(conn_write(c, header, sizeof header), (ssize_t)sizeof header);
  if (body->len) cr_assert_eq(conn_write(c, body->data, body->len), (ssize_t)body->len);
}

static void read_exact(conn *c, uint8_t *p, size_t n) {
  while (n) {
    ssize_t got = conn_read(c, p, n);
    cr_assert_gt(got, 0, "server closed or timed out (%s)", got ? strerror(errno) : "EOF");
    p += got;
    n -= (size_t)got;
  }
}

static reply receive_envelope(conn *c, int16_t expect_stream) {
  uint8_t header[9];
  read_exact(c, header, sizeof header);
  cr_assert_eq(header[0], 0x84, "response version byte 0x%02x", header[0]);
  cr_assert_eq((int16_t)cqlmux_load_u16(header + 2), expect_stream);
  reply r = {.opcode = header[4], .len = cqlmux_load_u32(header + 5)};
  cr_assert_lt(r.len, 1u << 24);
  r.body = malloc(r.len ? r.len : 1);
  read_exact(c, r.body, r.len);
  return r;
}

/* The message of an ERROR body ([int] code, [string] message), for failures. */
static const char *error_text(const reply *r, char *out, size_t cap) {
  cqlmux_reader rd = cqlmux_reader_make(r->body, r->len);
  int32_t code = 0;
  cqlmux_slice msg = {0};
  if (r->opcode != OP_ERROR || cqlmux_read_i32(&rd, &code) || cqlmux_read_string(&rd, &msg))
    snprintf(out, cap, "opcode 0x%02x", r->opcode);
  else
    snprintf(out, cap, "ERROR 0x%04x: %.*s", code, (int)msg.len, (const char *)msg.data);
  return out;
}

static int slice_eq(cqlmux_slice s, const char *text) {
  return s.len == strlen(text) && memcmp(s.data, text, s.len) == 0;
}

/* SUPPORTED is a [string multimap]; true when key lists value. */
static int multimap_has(const reply *r, const char *key, const char *value) {
  cqlmux_reader rd = cqlmux_reader_make(r->body, r->len);
  uint16_t keys;
  cr_assert_eq(cqlmux_read_u16(&rd, &keys), CQLMUX_OK);
  int found = 0;
  for (uint16_t i = 0; i < keys; i++) {
    cqlmux_slice k, v;
    uint16_t n;
    cr_assert_eq(cqlmux_read_string(&rd, &k), CQLMUX_OK);
    cr_assert_eq(cqlmux_read_u16(&rd, &n), CQLMUX_OK);
    for (uint16_t j = 0; j < n; j++) {
      cr_assert_eq(cqlmux_read_string(&rd, &v), CQLMUX_OK);
      if (slice_eq(k, key) && slice_eq(v, value)) found = 1;
    }
  }
  cr_assert_eq(cqlmux_reader_remaining(&rd), 0);
  return found;
}

static reply startup(conn *c) {
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  cqlmux_write_u16(&b, 2);
  cqlmux_write_string(&b, "CQL_VERSION", 11);
  cqlmux_write_string(&b, "3.0.0", 5);
  cqlmux_write_string(&b, "DRIVER_NAME", 11);
  cqlmux_write_string(&b, "cqlmux-slice-test", 17);
  cr_assert_eq(b.error, 0);
  send_envelope(c, 1, OP_STARTUP, &b);
  cqlmux_wbuf_free(&b);
  return receive_envelope(c, 1);
}

/* SASL PLAIN: "\0user\0password" as the [bytes] token. */
static reply authenticate(conn *c, const char *user, const char *password) {
  cqlmux_wbuf b;
  cqlmux_wbuf_init(&b, NULL, 0);
  size_t ul = strlen(user), pl = strlen(password);
  cqlmux_write_i32(&b, (int32_t)(2 + ul + pl));
  cqlmux_write_u8(&b, 0);
  cqlmux_write_raw(&b, user, ul);
  cqlmux_write_u8(&b, 0);
  cqlmux_write_raw(&b, password, pl);
  cr_assert_eq(b.error, 0);
  send_envelope(c, 2, OP_AUTH_RESPONSE, &b);
  cqlmux_wbuf_free(&b);
  return receive_envelope(c, 2);
}

/* Brings a fresh connection to the ready state, authenticating if asked. */
static void handshake(conn *c) {
  reply r = startup(c);
  if (r.opcode == OP_AUTHENTICATE) {
    const char *user = getenv("CQLMUX_TEST_USERNAME");
    cr_assert_not_null(user, "server demands authentication; set CQLMUX_TEST_USERNAME");
    free(r.body);
    r = authenticate(c, user, env_or("CQLMUX_TEST_PASSWORD", ""));
    char why[256];
    cr_assert_eq(r.opcode, OP_AUTH_SUCCESS, "auth answered %s", error_text(&r, why, sizeof why));
  } else {
    char why[256];
    cr_assert_eq(r.opcode, OP_READY, "STARTUP answered %s", error_text(&r, why, sizeof why));
  }
  free(r.body);
}

/* Decodes a one-column, one-row text RESULT and returns the cell. */
static cqlmux_bytes single_text_cell(const reply *r) {
  cqlmux_reader rd = cqlmux_reader_make(r->body, r->len);
  int32_t kind, flags, columns, rows;
  cr_assert_eq(cqlmux_read_i32(&rd, &kind), CQLMUX_OK);
  cr_assert_eq(kind, 0x0002, "RESULT kind %d is not Rows", kind);
  cr_assert_eq(cqlmux_read_i32(&rd, &flags), CQLMUX_OK);
  cr_assert_eq(cqlmux_read_i32(&rd, &columns), CQLMUX_OK);
  cr_assert_eq(columns, 1);
  cqlmux_slice ks, table, name;
  if (flags & 0x0001) {
    cr_assert_eq(cqlmux_read_string(&rd, &ks), CQLMUX_OK);
    cr_assert_eq(cqlmux_read_string(&rd, &table), CQLMUX_OK);
    cr_assert(slice_eq(ks, "system") && slice_eq(table, "local"));
  }
  cr_assert_eq(cqlmux_read_string(&rd, &name), CQLMUX_OK);
  cr_assert(slice_eq(name, "release_version"));
  uint16_t type;
  cr_assert_eq(cqlmux_read_u16(&rd, &type), CQLMUX_OK);
  cr_assert_eq(type, 0x000D, "release_version type 0x%04x is not varchar", type);
  cr_assert_eq(cqlmux_read_i32(&rd, &rows), CQLMUX_OK);
  cr_assert_eq(rows, 1);
  cqlmux_bytes cell;
  cr_assert_eq(cqlmux_read_bytes(&rd, &cell), CQLMUX_OK);
  cr_assert_eq(cqlmux_reader_remaining(&rd), 0);
  return cell;
}

Test(real_cassandra, options_startup_query_release_version_v4, .timeout = 60) {
  conn server = connect_server();
  conn *c = &server;
  cqlmux_wbuf empty;
  cqlmux_wbuf_init(&empty, NULL, 0);
  send_envelope(c, 0, OP_OPTIONS, &empty);
  reply supported = receive_envelope(c, 0);
  cr_assert_eq(supported.opcode, OP_SUPPORTED);
  cr_assert(multimap_has(&supported, "CQL_VERSION", "3.4.7") ||
                multimap_has(&supported, "PROTOCOL_VERSIONS", "4/v4"),
            "SUPPORTED lacks the expected CQL or protocol versions");
  cr_assert(multimap_has(&supported, "PROTOCOL_VERSIONS", "5/v5"));
  free(supported.body);

  handshake(c);

  cqlmux_wbuf q;
  cqlmux_wbuf_init(&q, NULL, 0);
  static const char cql[] = "SELECT release_version FROM system.local";
  cqlmux_write_long_string(&q, cql, sizeof cql - 1);
  cqlmux_write_u16(&q, 0x0001); /* consistency ONE */
  cqlmux_write_u8(&q, 0x00);    /* no query flags */
  send_envelope(c, 3, OP_QUERY, &q);
  cqlmux_wbuf_free(&q);
  reply result = receive_envelope(c, 3);
  char why[256];
  cr_assert_eq(result.opcode, OP_RESULT, "QUERY answered %s", error_text(&result, why, sizeof why));
  cqlmux_bytes version = single_text_cell(&result);
  cr_assert_geq(version.len, 3);
  cr_assert(memcmp(version.data, "5.0", 3) == 0, "release_version is %.*s", (int)version.len,
            (const char *)version.data);
  cr_log_info("release_version %.*s", (int)version.len, (const char *)version.data);
  free(result.body);
  conn_close(c);
}

/* Only meaningful against a server started with --auth; tools/test-all runs
 * it there with CQLMUX_TEST_EXPECT_AUTH=1 and asserts the rejection. */
Test(real_cassandra_auth, wrong_password_is_bad_credentials, .timeout = 60) {
  cr_assert_not_null(getenv("CQLMUX_TEST_EXPECT_AUTH"),
                     "run against a --auth server with CQLMUX_TEST_EXPECT_AUTH=1");
  conn server = connect_server();
  conn *c = &server;
  reply r = startup(c);
  cr_assert_eq(r.opcode, OP_AUTHENTICATE, "server did not demand authentication");
  free(r.body);
  r = authenticate(c, env_or("CQLMUX_TEST_USERNAME", "cassandra"), "not-the-password");
  cr_assert_eq(r.opcode, OP_ERROR);
  cqlmux_reader rd = cqlmux_reader_make(r.body, r.len);
  int32_t code;
  cr_assert_eq(cqlmux_read_i32(&rd, &code), CQLMUX_OK);
  cr_assert_eq(code, 0x0100, "error code 0x%04x is not bad credentials", code);
  free(r.body);
  conn_close(c);
}

/* lib/net/tls against a real OpenSSL server on a thread (tests/unit/
 * tls_fixture). The client side uses only net/socket.h and net/tls.h on a
 * non-blocking socket and waits with poll(2) for the readiness each call
 * reports, the way a connection's I/O thread does. */
#include <criterion/criterion.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cqlmux.h"
#include "net/socket.h"
#include "net/tls.h"
#include "unit/tls_fixture.h"

#define READY_TIMEOUT_MS 10000 /* a hang guard only: a ready socket is never this slow */

static tls_fixture fx;

static void setup(void) { cr_assert(tls_fixture_create(&fx), "cannot build the test PKI"); }
static void teardown(void) { tls_fixture_destroy(&fx); }

TestSuite(tls, .init = setup, .fini = teardown, .timeout = 20);

/* Messages may name files but must never carry PEM armour or any piece of
 * the base64 body of a fixture file (certificates or keys). */
static void assert_no_pem(const char *msg) {
  cr_assert_null(strstr(msg, "BEGIN"), "PEM armour in message: %s", msg);
  cr_assert_null(strstr(msg, "-----"), "PEM armour in message: %s", msg);
  const char *files[] = {fx.ca_pem,         fx.ca2_pem,    fx.good_pem,
                         fx.server_key_pem, fx.client_pem, fx.client_key_pem};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    FILE *f = fopen(files[i], "r");
    cr_assert_not_null(f, "%s", files[i]);
    char armour[128], body[128];
    cr_assert_not_null(fgets(armour, sizeof armour, f));
    cr_assert_not_null(fgets(body, sizeof body, f));
    fclose(f);
    body[16] = '\0';
    cr_assert_null(strstr(msg, body), "message carries content of %s: %s", files[i], msg);
  }
}

static cqlmux_tls_options verifying(const char *ca_file) {
  return (cqlmux_tls_options){.ca_file = ca_file};
}

static void wait_for(int fd, cqlmux_io_want want) {
  cr_assert(want == CQLMUX_WANT_READ || want == CQLMUX_WANT_WRITE, "AGAIN without a want: %d",
            want);
  struct pollfd p = {.fd = fd, .events = want == CQLMUX_WANT_READ ? POLLIN : POLLOUT};
  cr_assert_eq(poll(&p, 1, READY_TIMEOUT_MS), 1, "socket never became ready");
}

static int tcp_connect(int port) {
  cqlmux_endpoint ep;
  cr_assert_eq(cqlmux_endpoint_parse("127.0.0.1", port, &ep), CQLMUX_OK);
  int fd = -1, sys_errno = 0;
  bool in_progress = false;
  cr_assert_eq(cqlmux_socket_connect(&ep, &fd, &in_progress, &sys_errno), CQLMUX_OK, "errno %d",
               sys_errno);
  if (in_progress) {
    wait_for(fd, CQLMUX_WANT_WRITE);
    cr_assert_eq(cqlmux_socket_connect_result(fd, &sys_errno), CQLMUX_OK, "errno %d", sys_errno);
  }
  return fd;
}

typedef struct client {
  int fd;
  cqlmux_tls_context tls;
  cqlmux_tls_conn conn;
  char err[512];
} client;

/* Connects to 127.0.0.1:port, verifies the server as `host`, and drives the
 * handshake to its end. Returns the handshake's result. */
static int client_open(client *c, const cqlmux_tls_options *opts, int port, const char *host) {
  memset(c, 0, sizeof *c);
  cr_assert_eq(cqlmux_tls_context_init(&c->tls, opts, c->err, sizeof c->err), CQLMUX_OK, "%s",
               c->err);
  c->fd = tcp_connect(port);
  cr_assert_eq(cqlmux_tls_conn_init(&c->conn, &c->tls, c->fd, host), CQLMUX_OK);
  for (;;) {
    cqlmux_io_want want;
    int rc = cqlmux_tls_handshake(&c->conn, &want, c->err, sizeof c->err);
    if (rc != CQLMUX_IO_AGAIN) {
      if (rc != CQLMUX_OK) cr_assert_neq(c->err[0], '\0', "failure %d without a message", rc);
      assert_no_pem(c->err);
      return rc;
    }
    wait_for(c->fd, want);
  }
}

static void client_close(client *c) {
  cqlmux_tls_conn_destroy(&c->conn);
  close(c->fd);
  cqlmux_tls_context_destroy(&c->tls);
}

static tls_server *serve(X509 *cert) {
  tls_server *s = tls_server_start(&(tls_server_config){.cert = cert, .key = fx.server_key});
  cr_assert_not_null(s);
  return s;
}

/* One connection verified as `host`; its handshake must end in `expected`. */
static void expect_handshake(X509 *server_cert, const cqlmux_tls_options *opts, const char *host,
                             int expected) {
  tls_server *s = serve(server_cert);
  client c;
  int rc = client_open(&c, opts, tls_server_port(s), host);
  client_close(&c);
  tls_server_stop(s, NULL);
  cr_assert_eq(rc, expected, "handshake gave %d (%s), expected %d", rc, c.err, expected);
}

/* Send and receive at once, as an I/O loop does: write until the socket
 * pushes back, read until it is drained, then poll for what was asked for.
 * Counts what the test claims to exercise. */
typedef struct duplex {
  size_t sent, received;
  int partial_writes, want_write, want_read;
} duplex;

static void duplex_step_send(client *c, const unsigned char *out, size_t len, duplex *d,
                             cqlmux_io_want *send_want) {
  *send_want = CQLMUX_WANT_NONE;
  while (d->sent < len) {
    ssize_t n = cqlmux_tls_send(&c->conn, out + d->sent, len - d->sent, send_want);
    if (n == CQLMUX_IO_AGAIN) {
      d->want_write += *send_want == CQLMUX_WANT_WRITE;
      return;
    }
    cr_assert_gt(n, 0, "send failed: %zd", n);
    d->partial_writes += (size_t)n < len - d->sent;
    d->sent += (size_t)n;
  }
}

static void duplex_step_recv(client *c, unsigned char *in, size_t len, duplex *d,
                             cqlmux_io_want *recv_want) {
  *recv_want = CQLMUX_WANT_NONE;
  while (d->received < len) {
    ssize_t n = cqlmux_tls_recv(&c->conn, in + d->received, len - d->received, recv_want);
    if (n == CQLMUX_IO_AGAIN) {
      /* Decrypted bytes would make a socket wait pointless; AGAIN means none. */
      cr_assert_eq(cqlmux_tls_pending(&c->conn), 0);
      d->want_read += *recv_want == CQLMUX_WANT_READ;
      return;
    }
    cr_assert_gt(n, 0, "recv failed: %zd", n);
    d->received += (size_t)n;
  }
}

static void echo_round_trip(client *c, const unsigned char *out, unsigned char *in, size_t len,
                            duplex *d) {
  memset(d, 0, sizeof *d);
  while (d->received < len) {
    cqlmux_io_want sw, rw;
    duplex_step_send(c, out, len, d, &sw);
    duplex_step_recv(c, in, len, d, &rw);
    if (d->received == len) break;
    struct pollfd p = {.fd = c->fd};
    p.events = (short)((sw == CQLMUX_WANT_READ || rw == CQLMUX_WANT_READ ? POLLIN : 0) |
                       (sw == CQLMUX_WANT_WRITE || rw == CQLMUX_WANT_WRITE ? POLLOUT : 0));
    cr_assert_neq(p.events, 0, "nothing to wait for with %zu/%zu received", d->received, len);
    cr_assert_eq(poll(&p, 1, READY_TIMEOUT_MS), 1, "stalled at %zu sent, %zu received", d->sent,
                 d->received);
  }
}

Test(tls, good_ca_and_ip_identity_negotiate_tls13_and_echo_1mib, .timeout = 20) {
  tls_server *s = serve(fx.good);
  client c;
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  cr_assert_eq(client_open(&c, &opts, tls_server_port(s), "127.0.0.1"), CQLMUX_OK, "%s", c.err);
  cr_assert_str_eq(cqlmux_tls_version(&c.conn), "TLSv1.3");

  /* Before the client speaks the server sends no data: reading must ask to
   * wait for readability, not fail or spin. */
  unsigned char probe[16];
  cqlmux_io_want want;
  cr_assert_eq(cqlmux_tls_recv(&c.conn, probe, sizeof probe, &want), CQLMUX_IO_AGAIN);
  cr_assert_eq(want, CQLMUX_WANT_READ);
  cr_assert_eq(cqlmux_tls_send(&c.conn, probe, 0, &want), 0, "empty send moves nothing");

  /* A small client receive buffer too, so both directions push back. */
  int small = 32768;
  setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  const size_t len = 1u << 20;
  unsigned char *out = malloc(len), *in = malloc(len);
  cr_assert(out && in);
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    out[i] = (unsigned char)x;
  }
  memset(in, 0, len);
  duplex d;
  echo_round_trip(&c, out, in, len, &d);
  cr_assert_eq(d.sent, len);
  cr_assert_eq(memcmp(out, in, len), 0, "echo differs from what was sent");
  cr_assert_gt(d.partial_writes, 0, "a 1 MiB send must be taken a record at a time");
  cr_assert_gt(d.want_write, 0, "32 KiB socket buffers must push back on 1 MiB");
  cr_assert_gt(d.want_read, 0, "the reader must have caught up with the echo at least once");
  client_close(&c);
  tls_server_stats st;
  tls_server_stop(s, &st);
  cr_assert_eq(st.bytes_echoed, len);
  cr_assert_str_eq(st.server_name, "", "an IP literal is not sent as SNI");
  free(out);
  free(in);
}

Test(tls, chain_to_an_unrelated_ca_is_untrusted, .timeout = 20) {
  cqlmux_tls_options trust_ca = verifying(fx.ca_pem), trust_ca2 = verifying(fx.ca2_pem);
  /* Server signed by a CA the client does not know... */
  expect_handshake(fx.rogue, &trust_ca, "127.0.0.1", CQLMUX_ERR_TLS_UNTRUSTED);
  /* ...and a client that trusts only some other CA. */
  expect_handshake(fx.good, &trust_ca2, "127.0.0.1", CQLMUX_ERR_TLS_UNTRUSTED);
}

Test(tls, expired_certificate_is_expired, .timeout = 20) {
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  expect_handshake(fx.expired, &opts, "127.0.0.1", CQLMUX_ERR_TLS_EXPIRED);
  /* Expiry is checked even when identity is not. */
  opts.skip_identity_check = true;
  expect_handshake(fx.expired, &opts, "127.0.0.1", CQLMUX_ERR_TLS_EXPIRED);
}

Test(tls, san_mismatch_is_hostname_unless_identity_check_is_off, .timeout = 20) {
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  expect_handshake(fx.wrong_san, &opts, "127.0.0.1", CQLMUX_ERR_TLS_HOSTNAME);
  expect_handshake(fx.wrong_san, &opts, "localhost", CQLMUX_ERR_TLS_HOSTNAME);
  /* The chain is still good: only the name check is skipped. */
  opts.skip_identity_check = true;
  expect_handshake(fx.wrong_san, &opts, "127.0.0.1", CQLMUX_OK);
}

/* skip_peer_verification is the explicit opt-out of all verification (the
 * session configuration turns it on by default): the chain is not checked,
 * and neither is the name, since there is no trusted certificate to hold it. */
Test(tls, verify_peer_off_is_an_explicit_opt_out_accepting_any_server, .timeout = 20) {
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  opts.skip_peer_verification = true;
  expect_handshake(fx.rogue, &opts, "127.0.0.1", CQLMUX_OK);
  expect_handshake(fx.wrong_san, &opts, "127.0.0.1", CQLMUX_OK);
  opts.skip_identity_check = true;
  expect_handshake(fx.rogue, &opts, "127.0.0.1", CQLMUX_OK);
}

/* The TCP endpoint is the resolved 127.0.0.1; the identity checked (and
 * sent as SNI) is the name the user configured. */
Test(tls, dns_identity_is_checked_apart_from_the_ip_connected_to, .timeout = 20) {
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  tls_server *s = serve(fx.good);
  client c;
  cr_assert_eq(client_open(&c, &opts, tls_server_port(s), "localhost"), CQLMUX_OK, "%s", c.err);
  client_close(&c);
  tls_server_stats st;
  tls_server_stop(s, &st);
  cr_assert_str_eq(st.server_name, "localhost", "the name goes out as SNI");
  expect_handshake(fx.good, &opts, "other.example", CQLMUX_ERR_TLS_HOSTNAME);
  expect_handshake(fx.wrong_san, &opts, "other.example", CQLMUX_OK);
}

Test(tls, min_tls13_against_a_tls12_server_is_a_plain_tls_error, .timeout = 20) {
  tls_server *s = tls_server_start(&(tls_server_config){
      .cert = fx.good, .key = fx.server_key, .max_version = TLS1_2_VERSION});
  cr_assert_not_null(s);
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  opts.min_version = TLS1_3_VERSION;
  client c;
  int rc = client_open(&c, &opts, tls_server_port(s), "127.0.0.1");
  client_close(&c);
  tls_server_stats st;
  tls_server_stop(s, &st);
  cr_assert_eq(rc, CQLMUX_ERR_TLS, "got %d: %s", rc, c.err);
  cr_assert_eq(st.handshakes_failed, 1);
}

Test(tls, tls12_server_is_accepted_by_the_default_minimum, .timeout = 20) {
  tls_server *s = tls_server_start(&(tls_server_config){
      .cert = fx.good, .key = fx.server_key, .max_version = TLS1_2_VERSION});
  cr_assert_not_null(s);
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  client c;
  cr_assert_eq(client_open(&c, &opts, tls_server_port(s), "127.0.0.1"), CQLMUX_OK, "%s", c.err);
  cr_assert_str_eq(cqlmux_tls_version(&c.conn), "TLSv1.2");
  client_close(&c);
  tls_server_stop(s, NULL);
}

Test(tls, invalid_min_version_is_rejected_before_any_connection, .timeout = 20) {
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  opts.min_version = 0x0301; /* TLS 1.0 */
  cqlmux_tls_context ctx;
  char err[256] = "";
  cr_assert_eq(cqlmux_tls_context_init(&ctx, &opts, err, sizeof err),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_null(ctx.ctx);
  cr_assert_neq(err[0], '\0');
}

/* A process may build sessions (so contexts) over and over: nothing a
 * context takes from OpenSSL may run out. */
Test(tls, contexts_can_be_created_and_destroyed_repeatedly, .timeout = 20) {
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  for (int i = 0; i < 300; i++) {
    cqlmux_tls_context ctx;
    char err[256] = "";
    cr_assert_eq(cqlmux_tls_context_init(&ctx, &opts, err, sizeof err), CQLMUX_OK, "#%d: %s", i,
                 err);
    cqlmux_tls_conn conn;
    cr_assert_eq(cqlmux_tls_conn_init(&conn, &ctx, -1, "localhost"), CQLMUX_OK);
    cqlmux_tls_conn_destroy(&conn);
    cqlmux_tls_context_destroy(&ctx);
  }
}

static tls_server *serve_requiring_client_cert(int max_version) {
  tls_server *s = tls_server_start(&(tls_server_config){.cert = fx.good,
                                                        .key = fx.server_key,
                                                        .client_ca = fx.ca,
                                                        .max_version = max_version});
  cr_assert_not_null(s);
  return s;
}

/* In TLS 1.3 the client finishes its handshake before the server has seen
 * the client's (absent) certificate, so the refusal may arrive as the
 * server's alert on the first read; in TLS 1.2 the handshake itself fails.
 * Either way the connection must end in an error, never in data. */
static int first_failure(client *c, int handshake_rc) {
  if (handshake_rc != CQLMUX_OK) return handshake_rc;
  unsigned char b[64];
  for (;;) {
    cqlmux_io_want want;
    ssize_t n = cqlmux_tls_recv(&c->conn, b, sizeof b, &want);
    cr_assert_leq(n, 0, "server sent data to a client without a certificate");
    if (n != CQLMUX_IO_AGAIN) return (int)n;
    wait_for(c->fd, want);
  }
}

Test(tls, server_requiring_a_client_cert_refuses_a_client_without_one, .timeout = 20) {
  const int versions[] = {0, TLS1_2_VERSION};
  for (size_t i = 0; i < 2; i++) {
    tls_server *s = serve_requiring_client_cert(versions[i]);
    cqlmux_tls_options opts = verifying(fx.ca_pem);
    client c;
    int rc = client_open(&c, &opts, tls_server_port(s), "127.0.0.1");
    if (versions[i] == TLS1_2_VERSION) cr_assert_neq(rc, CQLMUX_OK, "TLS 1.2 handshake passed");
    rc = first_failure(&c, rc);
    client_close(&c);
    tls_server_stats st;
    tls_server_stop(s, &st);
    cr_assert(rc == CQLMUX_ERR_TLS || rc == CQLMUX_ERR_CONNECTION_CLOSED,
              "max version %#x: got %d (%s)", versions[i], rc, c.err);
    cr_assert_eq(st.handshakes_failed, 1);
    cr_assert_eq(st.client_certs_verified, 0);
  }
}

Test(tls, server_requiring_a_client_cert_accepts_the_fixture_client, .timeout = 20) {
  tls_server *s = serve_requiring_client_cert(0);
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  opts.cert_file = fx.client_pem;
  opts.key_file = fx.client_key_pem;
  client c;
  cr_assert_eq(client_open(&c, &opts, tls_server_port(s), "127.0.0.1"), CQLMUX_OK, "%s", c.err);
  unsigned char out[] = "cqlmux", in[sizeof out] = {0};
  duplex d;
  echo_round_trip(&c, out, in, sizeof out, &d);
  cr_assert_arr_eq(in, out, sizeof out);
  client_close(&c);
  tls_server_stats st;
  tls_server_stop(s, &st);
  cr_assert_eq(st.handshakes_ok, 1);
  cr_assert_eq(st.client_certs_verified, 1);
}

static int context_error(const cqlmux_tls_options *opts, char *err, size_t cap) {
  cqlmux_tls_context ctx;
  err[0] = '\0';
  int rc = cqlmux_tls_context_init(&ctx, opts, err, cap);
  cr_assert_neq(rc, CQLMUX_OK, "context accepted bad files");
  cr_assert_null(ctx.ctx, "failed init left a context behind");
  cr_assert_neq(err[0], '\0', "failure %d without a message", rc);
  assert_no_pem(err);
  return rc;
}

Test(tls, client_cert_with_the_wrong_key_fails_naming_files_not_keys, .timeout = 20) {
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  opts.cert_file = fx.client_pem;
  opts.key_file = fx.server_key_pem;
  char err[512];
  cr_assert_eq(context_error(&opts, err, sizeof err), CQLMUX_ERR_TLS);
  cr_assert_not_null(strstr(err, fx.client_pem), "%s", err);
  cr_assert_not_null(strstr(err, fx.server_key_pem), "%s", err);
}

Test(tls, error_messages_never_contain_pem_content, .timeout = 20) {
  char err[512], missing[TLS_FIXTURE_PATH_MAX + 16];
  snprintf(missing, sizeof missing, "%s/missing.pem", fx.dir);
  cqlmux_tls_options opts = verifying(fx.client_key_pem); /* a key where a CA belongs */
  cr_assert_eq(context_error(&opts, err, sizeof err), CQLMUX_ERR_TLS);
  cr_assert_not_null(strstr(err, fx.client_key_pem), "%s", err);
  opts = verifying(missing);
  cr_assert_eq(context_error(&opts, err, sizeof err), CQLMUX_ERR_TLS);
  cr_assert_not_null(strstr(err, missing), "%s", err);

  opts = verifying(fx.ca_pem);
  opts.cert_file = fx.client_key_pem; /* a key where the certificate belongs */
  opts.key_file = fx.client_pem;
  cr_assert_eq(context_error(&opts, err, sizeof err), CQLMUX_ERR_TLS);
  cr_assert_not_null(strstr(err, fx.client_key_pem), "%s", err);
  opts.cert_file = fx.client_pem; /* a certificate where the key belongs */
  cr_assert_eq(context_error(&opts, err, sizeof err), CQLMUX_ERR_TLS);
  cr_assert_not_null(strstr(err, fx.client_pem), "%s", err);
  opts.key_file = NULL;
  cr_assert_eq(context_error(&opts, err, sizeof err), CQLMUX_ERR_INVALID_ARGUMENT);
  opts.key_file = missing;
  cr_assert_eq(context_error(&opts, err, sizeof err), CQLMUX_ERR_TLS);
  cr_assert_not_null(strstr(err, missing), "%s", err);
}

static ssize_t recv_until_not_again(client *c) {
  unsigned char b[64];
  cqlmux_io_want want;
  ssize_t n;
  while ((n = cqlmux_tls_recv(&c->conn, b, sizeof b, &want)) == CQLMUX_IO_AGAIN)
    wait_for(c->fd, want);
  return n;
}

/* A peer that resets the connection must cost a send CONNECTION_CLOSED,
 * never a SIGPIPE: a library cannot ask the application to ignore it. Once
 * a read has consumed the reset (ECONNRESET), the kernel answers the next
 * write with EPIPE, which raises SIGPIPE unless the write says MSG_NOSIGNAL.
 * An I/O loop that reads before it flushes does exactly that. This test runs
 * with SIGPIPE's default action (terminate). */
Test(tls, write_after_a_read_saw_the_reset_is_connection_closed_not_sigpipe, .timeout = 20) {
  tls_server *s = tls_server_start(&(tls_server_config){
      .cert = fx.good, .key = fx.server_key, .mode = TLS_SERVER_RESET_AFTER_HANDSHAKE});
  cr_assert_not_null(s);
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  client c;
  cr_assert_eq(client_open(&c, &opts, tls_server_port(s), "127.0.0.1"), CQLMUX_OK, "%s", c.err);
  tls_server_stop(s, NULL); /* returns once the server has reset the connection */
  cr_assert_eq(signal(SIGPIPE, SIG_DFL), SIG_DFL, "the runner must not hide SIGPIPE");
  ssize_t n = recv_until_not_again(&c);
  cr_assert(n == CQLMUX_ERR_CONNECTION_CLOSED || n == CQLMUX_ERR_TLS, "recv gave %zd", n);
  unsigned char b[64];
  cqlmux_io_want want;
  memset(b, 'x', sizeof b);
  cr_assert_eq(cqlmux_tls_send(&c.conn, b, sizeof b, &want), CQLMUX_ERR_CONNECTION_CLOSED);
  client_close(&c);
}

static ssize_t recv_after_server_ends(tls_server_mode mode) {
  tls_server *s = tls_server_start(
      &(tls_server_config){.cert = fx.good, .key = fx.server_key, .mode = mode});
  cr_assert_not_null(s);
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  client c;
  cr_assert_eq(client_open(&c, &opts, tls_server_port(s), "127.0.0.1"), CQLMUX_OK, "%s", c.err);
  ssize_t n = recv_until_not_again(&c);
  client_close(&c);
  tls_server_stop(s, NULL);
  return n;
}

/* An orderly TLS close is the peer closing the connection; a TCP close
 * without close_notify (possible truncation) may be reported as a TLS
 * error instead, but never as data or as a wait. */
Test(tls, peer_close_ends_reads_with_an_error, .timeout = 20) {
  cr_assert_eq(recv_after_server_ends(TLS_SERVER_CLOSE_AFTER_HANDSHAKE),
               CQLMUX_ERR_CONNECTION_CLOSED);
  ssize_t n = recv_after_server_ends(TLS_SERVER_DROP_AFTER_HANDSHAKE);
  cr_assert(n == CQLMUX_ERR_CONNECTION_CLOSED || n == CQLMUX_ERR_TLS, "got %zd", n);
}

/* With verification off, OpenSSL still records why the chain would not
 * verify; a later, unrelated handshake failure must not be reported as an
 * untrusted certificate. */
Test(tls, verify_off_failure_for_another_reason_is_not_untrusted, .timeout = 20) {
  tls_server *s = tls_server_start(&(tls_server_config){.cert = fx.rogue,
                                                        .key = fx.server_key,
                                                        .client_ca = fx.ca,
                                                        .max_version = TLS1_2_VERSION});
  cr_assert_not_null(s);
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  opts.skip_peer_verification = true;
  client c;
  int rc = client_open(&c, &opts, tls_server_port(s), "127.0.0.1");
  client_close(&c);
  tls_server_stop(s, NULL);
  cr_assert(rc == CQLMUX_ERR_TLS || rc == CQLMUX_ERR_CONNECTION_CLOSED, "got %d (%s)", rc,
            c.err);
}

/* One record decrypted into a small read leaves the rest buffered inside
 * OpenSSL, where poll(2) cannot see it: cqlmux_tls_pending must say so. */
Test(tls, pending_reports_decrypted_bytes_poll_cannot_see, .timeout = 20) {
  tls_server *s = serve(fx.good);
  cqlmux_tls_options opts = verifying(fx.ca_pem);
  client c;
  cr_assert_eq(client_open(&c, &opts, tls_server_port(s), "127.0.0.1"), CQLMUX_OK, "%s", c.err);
  unsigned char out[1000], in[100];
  memset(out, 'q', sizeof out);
  cqlmux_io_want want;
  ssize_t n;
  while ((n = cqlmux_tls_send(&c.conn, out, sizeof out, &want)) == CQLMUX_IO_AGAIN)
    wait_for(c.fd, want);
  cr_assert_eq(n, (ssize_t)sizeof out);
  while ((n = cqlmux_tls_recv(&c.conn, in, sizeof in, &want)) == CQLMUX_IO_AGAIN)
    wait_for(c.fd, want);
  cr_assert_eq(n, (ssize_t)sizeof in);
  cr_assert_eq(cqlmux_tls_pending(&c.conn), sizeof out - sizeof in);
  size_t total = (size_t)n;
  while (cqlmux_tls_pending(&c.conn) > 0) {
    n = cqlmux_tls_recv(&c.conn, in, sizeof in, &want);
    cr_assert_gt(n, 0, "buffered bytes need no socket wait");
    total += (size_t)n;
  }
  cr_assert_eq(total, sizeof out);
  client_close(&c);
  tls_server_stop(s, NULL);
}

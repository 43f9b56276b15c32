#include "net/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "net/socket.h"

static void describe_openssl_error(const char *what, char *err, size_t cap) {
  unsigned long e = ERR_get_error();
  char reason[256] = "unknown reason";
  if (e) ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  snprintf(err, cap, "%s: %s", what, reason);
}

static int load_trust(SSL_CTX *ctx, const cqlmux_tls_options *opts, char *err, size_t cap) {
  int ok = opts->ca_file ? SSL_CTX_load_verify_locations(ctx, opts->ca_file, NULL)
                         : SSL_CTX_set_default_verify_paths(ctx);
  if (ok == 1) return CQLMUX_OK;
  char what[300];
  snprintf(what, sizeof what, "cannot load CA file %s", opts->ca_file ? opts->ca_file : "(system)");
  describe_openssl_error(what, err, cap);
  return CQLMUX_ERR_TLS;
}

static int load_client_identity(SSL_CTX *ctx, const cqlmux_tls_options *opts, char *err,
                                size_t cap) {
  if (!opts->cert_file) return CQLMUX_OK;
  if (!opts->key_file) {
    snprintf(err, cap, "client certificate %s given without its private key", opts->cert_file);
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, opts->cert_file) != 1) {
    char what[300];
    snprintf(what, sizeof what, "cannot load client certificate %s", opts->cert_file);
    describe_openssl_error(what, err, cap);
    return CQLMUX_ERR_TLS;
  }
  /* The key's path may be named; its content never is. */
  if (SSL_CTX_use_PrivateKey_file(ctx, opts->key_file, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    snprintf(err, cap, "cannot use private key %s with certificate %s", opts->key_file,
             opts->cert_file);
    return CQLMUX_ERR_TLS;
  }
  return CQLMUX_OK;
}

/* OpenSSL's socket BIO writes with write(2), which raises SIGPIPE when the
 * peer has reset the connection, and a library cannot make its application
 * ignore SIGPIPE. This BIO moves the bytes with cqlmux_socket_send/recv
 * (MSG_NOSIGNAL) and keeps the socket BIO's retry and end-of-file signals,
 * which OpenSSL turns into WANT_READ/WANT_WRITE and errors. */
static int fd_of(BIO *b) { return (int)(intptr_t)BIO_get_data(b); }

static int nosigpipe_write(BIO *b, const char *data, size_t len, size_t *written) {
  BIO_clear_retry_flags(b);
  *written = 0;
  if (len == 0) return 1;
  int sys_errno = 0;
  ssize_t n = cqlmux_socket_send(fd_of(b), data, len, &sys_errno);
  if (n == CQLMUX_IO_AGAIN) BIO_set_retry_write(b);
  if (n < 0) {
    errno = sys_errno;
    return 0;
  }
  *written = (size_t)n;
  return 1;
}

static int nosigpipe_read(BIO *b, char *data, size_t cap, size_t *got) {
  BIO_clear_retry_flags(b);
  *got = 0;
  if (cap == 0) return 1;
  int sys_errno = 0;
  ssize_t n = cqlmux_socket_recv(fd_of(b), data, cap, &sys_errno);
  if (n == CQLMUX_IO_AGAIN) BIO_set_retry_read(b);
  if (n < 0) {
    /* errno 0 = orderly end of stream, which BIO_CTRL_EOF reports. */
    if (n != CQLMUX_IO_AGAIN && sys_errno == 0) BIO_set_flags(b, BIO_FLAGS_IN_EOF);
    errno = sys_errno;
    return 0;
  }
  *got = (size_t)n;
  return 1;
}

static long nosigpipe_ctrl(BIO *b, int cmd, long num, void *ptr) {
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1; /* nothing is buffered here */
  case BIO_CTRL_EOF:
    return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
  case BIO_C_GET_FD: /* keeps SSL_get_fd working, as with the socket BIO */
    if (ptr) *(int *)ptr = fd_of(b);
    return fd_of(b);
  default:
    return 0;
  }
}

/* OpenSSL hands out only 128 BIO type indexes per process, so the
 * type is taken once; each context owns its method, freed with it. */
static int nosigpipe_type = -1;
static pthread_once_t nosigpipe_type_once = PTHREAD_ONCE_INIT;

static void nosigpipe_type_take(void) {
  int index = BIO_get_new_index();
  if (index != -1) nosigpipe_type = index | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR;
}

static BIO_METHOD *nosigpipe_method_new(void) {
  pthread_once(&nosigpipe_type_once, nosigpipe_type_take);
  if (nosigpipe_type == -1) return NULL;
  BIO_METHOD *m = BIO_meth_new(nosigpipe_type, "cqlmux socket");
  if (m && BIO_meth_set_write_ex(m, nosigpipe_write) && BIO_meth_set_read_ex(m, nosigpipe_read) &&
      BIO_meth_set_ctrl(m, nosigpipe_ctrl))
    return m;
  BIO_meth_free(m);
  return NULL;
}

int cqlmux_tls_context_init(cqlmux_tls_context *tls, const cqlmux_tls_options *opts, char *err,
                            size_t err_cap) {
  memset(tls, 0, sizeof *tls);
  int min = opts->min_version ? opts->min_version : TLS1_2_VERSION;
  if (min != TLS1_2_VERSION && min != TLS1_3_VERSION) {
    snprintf(err, err_cap, "minimum TLS version must be 1.2 or 1.3");
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    describe_openssl_error("cannot create TLS context", err, err_cap);
    return CQLMUX_ERR_TLS;
  }
  SSL_CTX_set_min_proto_version(ctx, min);
  /* The write buffer may move between a partial SSL_write and its retry. */
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, opts->skip_peer_verification ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
  int rc = load_trust(ctx, opts, err, err_cap);
  if (rc == CQLMUX_OK) rc = load_client_identity(ctx, opts, err, err_cap);
  BIO_METHOD *bio_method = rc == CQLMUX_OK ? nosigpipe_method_new() : NULL;
  if (rc == CQLMUX_OK && !bio_method) {
    describe_openssl_error("cannot create the socket BIO method", err, err_cap);
    rc = CQLMUX_ERR_TLS;
  }
  if (rc != CQLMUX_OK) {
    SSL_CTX_free(ctx);
    return rc;
  }
  tls->ctx = ctx;
  tls->bio_method = bio_method;
  tls->verify_identity = !opts->skip_peer_verification && !opts->skip_identity_check;
  return CQLMUX_OK;
}

void cqlmux_tls_context_destroy(cqlmux_tls_context *tls) {
  SSL_CTX_free(tls->ctx);
  BIO_meth_free(tls->bio_method);
  tls->ctx = NULL;
  tls->bio_method = NULL;
}

static bool is_ip_literal(const char *host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static BIO *nosigpipe_bio_new(BIO_METHOD *method, int fd) {
  BIO *b = BIO_new(method);
  if (!b) return NULL;
  BIO_set_data(b, (void *)(intptr_t)fd);
  BIO_set_init(b, 1);
  return b;
}

int cqlmux_tls_conn_init(cqlmux_tls_conn *c, const cqlmux_tls_context *tls, int fd,
                         const char *host) {
  c->ssl = NULL;
  if (!host || !*host) return CQLMUX_ERR_INVALID_ARGUMENT;
  c->ssl = SSL_new(tls->ctx);
  BIO *bio = c->ssl ? nosigpipe_bio_new(tls->bio_method, fd) : NULL;
  if (!bio) {
    ERR_clear_error();
    cqlmux_tls_conn_destroy(c);
    return CQLMUX_ERR_NOMEM;
  }
  SSL_set_bio(c->ssl, bio, bio); /* the SSL owns the BIO; the fd stays the caller's */
  bool ip = is_ip_literal(host);
  int ok = ip || SSL_set_tlsext_host_name(c->ssl, host);
  if (ok && tls->verify_identity) {
    X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
    /* "a*.example" style wildcards are not accepted; "*.example" is. */
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
            : X509_VERIFY_PARAM_set1_host(param, host, 0);
  }
  if (!ok) {
    ERR_clear_error();
    cqlmux_tls_conn_destroy(c);
    return CQLMUX_ERR_TLS;
  }
  SSL_set_connect_state(c->ssl);
  return CQLMUX_OK;
}

void cqlmux_tls_conn_destroy(cqlmux_tls_conn *c) {
  SSL_free(c->ssl);
  c->ssl = NULL;
}

static int verify_failure_code(long verify) {
  switch (verify) {
  case X509_V_ERR_CERT_HAS_EXPIRED:
  case X509_V_ERR_CERT_NOT_YET_VALID:
    return CQLMUX_ERR_TLS_EXPIRED;
  case X509_V_ERR_HOSTNAME_MISMATCH:
  case X509_V_ERR_IP_ADDRESS_MISMATCH:
    return CQLMUX_ERR_TLS_HOSTNAME;
  default:
    return CQLMUX_ERR_TLS_UNTRUSTED;
  }
}

/* Maps an SSL_get_error outcome to AGAIN + want, or a failure code. */
static int classify(SSL *ssl, int ret, cqlmux_io_want *want) {
  switch (SSL_get_error(ssl, ret)) {
  case SSL_ERROR_WANT_READ:
    *want = CQLMUX_WANT_READ;
    return CQLMUX_IO_AGAIN;
  case SSL_ERROR_WANT_WRITE:
    *want = CQLMUX_WANT_WRITE;
    return CQLMUX_IO_AGAIN;
  case SSL_ERROR_ZERO_RETURN:
  case SSL_ERROR_SYSCALL:
    ERR_clear_error();
    return CQLMUX_ERR_CONNECTION_CLOSED;
  default:
    return CQLMUX_ERR_TLS;
  }
}

int cqlmux_tls_handshake(cqlmux_tls_conn *c, cqlmux_io_want *want, char *err, size_t err_cap) {
  *want = CQLMUX_WANT_NONE;
  int ret = SSL_do_handshake(c->ssl);
  if (ret == 1) return CQLMUX_OK;
  int rc = classify(c->ssl, ret, want);
  if (rc == CQLMUX_IO_AGAIN) return rc;
  /* OpenSSL records a failed chain check even when verification is off;
   * only a requested verification can be why the handshake failed. */
  long verify = SSL_get_verify_result(c->ssl);
  if (verify != X509_V_OK && (SSL_get_verify_mode(c->ssl) & SSL_VERIFY_PEER)) {
    ERR_clear_error();
    snprintf(err, err_cap, "TLS certificate verification failed: %s",
             X509_verify_cert_error_string(verify));
    return verify_failure_code(verify);
  }
  if (rc == CQLMUX_ERR_CONNECTION_CLOSED) {
    snprintf(err, err_cap, "connection closed during the TLS handshake");
    return CQLMUX_ERR_TLS;
  }
  describe_openssl_error("TLS handshake failed", err, err_cap);
  return CQLMUX_ERR_TLS;
}

ssize_t cqlmux_tls_send(cqlmux_tls_conn *c, const void *data, size_t len, cqlmux_io_want *want) {
  *want = CQLMUX_WANT_NONE;
  if (len == 0) return 0;
  size_t written = 0;
  int ret = SSL_write_ex(c->ssl, data, len, &written);
  if (ret == 1) return (ssize_t)written;
  int rc = classify(c->ssl, ret, want);
  if (rc == CQLMUX_ERR_TLS) ERR_clear_error();
  return rc;
}

ssize_t cqlmux_tls_recv(cqlmux_tls_conn *c, void *data, size_t cap, cqlmux_io_want *want) {
  *want = CQLMUX_WANT_NONE;
  size_t got = 0;
  int ret = SSL_read_ex(c->ssl, data, cap, &got);
  if (ret == 1) return (ssize_t)got;
  int rc = classify(c->ssl, ret, want);
  if (rc == CQLMUX_ERR_TLS) ERR_clear_error();
  return rc;
}

size_t cqlmux_tls_pending(const cqlmux_tls_conn *c) {
  int n = SSL_pending(c->ssl);
  return n > 0 ? (size_t)n : 0;
}

const char *cqlmux_tls_version(const cqlmux_tls_conn *c) { return SSL_get_version(c->ssl); }

/* TLS over a connection's non-blocking socket, with OpenSSL.
 *
 * A cqlmux_tls_context is built once per session from its configuration and
 * shared read-only by every connection (OpenSSL's SSL_CTX is thread-safe for
 * that use). Each connection owns one cqlmux_tls_conn, touched only by its
 * I/O thread. Verification of the peer is ON unless the configuration turns
 * it off explicitly: the chain must lead to a CA from ca_file (or the system
 * store when none is given), and the certificate must name the host (DNS
 * name or IP address) the connection was opened to. */
#ifndef CQLMUX_NET_TLS_H
#define CQLMUX_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cqlmux.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_method_st BIO_METHOD;

typedef struct cqlmux_tls_options {
  const char *ca_file;     /* PEM CA bundle; NULL = the system's default store */
  const char *cert_file;   /* client certificate (PEM), optional */
  const char *key_file;    /* its private key (PEM), required with cert_file */
  /* Verification is on when these are false, so a zeroed struct is secure. */
  bool skip_peer_verification; /* accept any certificate chain (explicit opt-out) */
  bool skip_identity_check;    /* accept a certificate that names another host */
  int min_version;         /* 0x0303 = TLS 1.2 (default), 0x0304 = TLS 1.3 */
} cqlmux_tls_options;

typedef struct cqlmux_tls_context {
  SSL_CTX *ctx;
  BIO_METHOD *bio_method; /* socket I/O that never raises SIGPIPE */
  bool verify_identity;
} cqlmux_tls_context;

/* Creates the shared context. On failure returns TLS (or INVALID_ARGUMENT)
 * and writes why into err (file names only; never key material). Destroy
 * every connection made from it before the context. */
int cqlmux_tls_context_init(cqlmux_tls_context *tls, const cqlmux_tls_options *opts, char *err,
                            size_t err_cap);
void cqlmux_tls_context_destroy(cqlmux_tls_context *tls);

/* Readiness a TLS call waits for before it can make progress. */
typedef enum cqlmux_io_want {
  CQLMUX_WANT_NONE = 0,
  CQLMUX_WANT_READ = 1,
  CQLMUX_WANT_WRITE = 2
} cqlmux_io_want;

typedef struct cqlmux_tls_conn {
  SSL *ssl;
} cqlmux_tls_conn;

/* Prepares a client session on fd for host (SNI for names; name or IP
 * checked against the certificate when verify_identity is set). */
int cqlmux_tls_conn_init(cqlmux_tls_conn *c, const cqlmux_tls_context *tls, int fd,
                         const char *host);
void cqlmux_tls_conn_destroy(cqlmux_tls_conn *c);

/* Advances the handshake: OK when done, CQLMUX_IO_AGAIN with *want set, or
 * a TLS error code: TLS_UNTRUSTED, TLS_EXPIRED, TLS_HOSTNAME for the three
 * verification failures, TLS for anything else (message in err). */
int cqlmux_tls_handshake(cqlmux_tls_conn *c, cqlmux_io_want *want, char *err, size_t err_cap);

/* Like cqlmux_socket_send/recv: bytes moved (> 0), CQLMUX_IO_AGAIN with
 * *want set, or CONNECTION_CLOSED / TLS. Never raises SIGPIPE (neither do
 * the handshake's writes): the bytes go through cqlmux_socket_send/recv. */
ssize_t cqlmux_tls_send(cqlmux_tls_conn *c, const void *data, size_t len, cqlmux_io_want *want);
ssize_t cqlmux_tls_recv(cqlmux_tls_conn *c, void *data, size_t cap, cqlmux_io_want *want);

/* Data OpenSSL already decrypted and buffered: readable without a syscall,
 * so the loop must not wait for socket readiness while this is non-zero. */
size_t cqlmux_tls_pending(const cqlmux_tls_conn *c);

/* The negotiated protocol ("TLSv1.3"...), for logs and tests. */
const char *cqlmux_tls_version(const cqlmux_tls_conn *c);

#endif

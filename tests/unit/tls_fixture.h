/* Test fixture for lib/net/tls: an in-memory PKI written to a temporary
 * directory as PEM files, and a tiny blocking TLS server on a thread.
 *
 * The certificates are made fresh by every test process (EC P-256 keys,
 * OpenSSL 3 API), so no key material is checked into the tree and no
 * certificate can expire under the suite. */
#ifndef CQLMUX_TESTS_TLS_FIXTURE_H
#define CQLMUX_TESTS_TLS_FIXTURE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#define TLS_FIXTURE_PATH_MAX 128

typedef struct tls_fixture {
  char dir[TLS_FIXTURE_PATH_MAX]; /* mkdtemp directory holding the PEMs */
  EVP_PKEY *ca_key, *ca2_key, *server_key, *client_key;
  X509 *ca;        /* the trusted CA */
  X509 *ca2;       /* a second CA that signed nothing the client trusts */
  X509 *good;      /* leaf by ca: SAN IP:127.0.0.1, DNS:localhost */
  X509 *expired;   /* leaf by ca, same SAN, notAfter yesterday */
  X509 *wrong_san; /* leaf by ca: SAN IP:127.0.0.9, DNS:other.example */
  X509 *rogue;     /* leaf by ca2 with the good SAN */
  X509 *client;    /* client certificate by ca (clientAuth) */
  /* File names, all inside dir. */
  char ca_pem[TLS_FIXTURE_PATH_MAX];
  char ca2_pem[TLS_FIXTURE_PATH_MAX];
  char good_pem[TLS_FIXTURE_PATH_MAX];
  char server_key_pem[TLS_FIXTURE_PATH_MAX];
  char client_pem[TLS_FIXTURE_PATH_MAX];
  char client_key_pem[TLS_FIXTURE_PATH_MAX];
} tls_fixture;

/* Generates every key and certificate and writes the PEM files. Returns
 * false (with what failed on stderr) if OpenSSL or the file system fails. */
bool tls_fixture_create(tls_fixture *fx);

/* Removes the PEM files and their directory and frees every object. */
void tls_fixture_destroy(tls_fixture *fx);

/* What the server does once a handshake has succeeded. */
typedef enum tls_server_mode {
  TLS_SERVER_ECHO,                  /* echo every byte until the peer closes */
  TLS_SERVER_CLOSE_AFTER_HANDSHAKE, /* send close_notify, then close */
  TLS_SERVER_DROP_AFTER_HANDSHAKE,  /* close the TCP connection, no close_notify */
  TLS_SERVER_RESET_AFTER_HANDSHAKE  /* abort the TCP connection (RST) */
} tls_server_mode;

typedef struct tls_server_config {
  X509 *cert;       /* presented certificate */
  EVP_PKEY *key;    /* its key */
  X509 *client_ca;  /* non-NULL: require a client certificate chaining to it */
  int max_version;  /* 0 = OpenSSL's maximum; TLS1_2_VERSION caps it */
  int connections;  /* connections to accept before the thread ends (>= 1) */
  tls_server_mode mode;
} tls_server_config;

/* What the server saw, readable after tls_server_stop. */
typedef struct tls_server_stats {
  int handshakes_ok;
  int handshakes_failed;
  int client_certs_verified; /* handshakes with a verified client certificate */
  size_t bytes_echoed;
  char server_name[64]; /* SNI of the last good handshake; "" when none was sent */
} tls_server_stats;

typedef struct tls_server tls_server;

/* Listens on 127.0.0.1, port 0, and serves cfg->connections connections one
 * after another on a new thread (SIGPIPE blocked there, so a peer that goes
 * away costs that thread EPIPE, never the process). NULL on failure. */
tls_server *tls_server_start(const tls_server_config *cfg);

/* The port the kernel chose. */
int tls_server_port(const tls_server *s);

/* Stops accepting, joins the thread (which ends once its current peer has
 * closed or its 10 s socket timeouts expire), fills *stats when non-NULL,
 * and frees the server. */
void tls_server_stop(tls_server *s, tls_server_stats *stats);

#endif

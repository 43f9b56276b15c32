#include "unit/tls_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DAY (24L * 60 * 60)

static EVP_PKEY *new_key(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }

static bool add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value) {
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

/* What distinguishes one certificate of the fixture from another. */
typedef struct cert_spec {
  const char *cn;
  EVP_PKEY *key;         /* the certificate's own key */
  X509 *issuer;          /* NULL = self-signed CA */
  EVP_PKEY *issuer_key;  /* NULL with issuer NULL: key signs itself */
  long not_before;       /* seconds from now */
  long not_after;        /* seconds from now */
  const char *san;       /* leaves only */
  const char *eku;       /* leaves only */
} cert_spec;

static bool add_extensions(X509 *cert, const cert_spec *spec) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, spec->issuer ? spec->issuer : cert, cert, NULL, NULL, 0);
  bool ca = spec->issuer == NULL;
  bool ok = add_ext(cert, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE") &&
            add_ext(cert, &ctx, NID_key_usage,
                    ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") &&
            add_ext(cert, &ctx, NID_subject_key_identifier, "hash") &&
            add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
  if (ok && spec->san) ok = add_ext(cert, &ctx, NID_subject_alt_name, spec->san);
  if (ok && spec->eku) ok = add_ext(cert, &ctx, NID_ext_key_usage, spec->eku);
  return ok;
}

static X509 *make_cert(const cert_spec *spec) {
  static long serial = 1;
  X509 *cert = X509_new();
  X509_NAME *name = X509_NAME_new();
  bool ok = cert && name && X509_set_version(cert, X509_VERSION_3) &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++) &&
            X509_gmtime_adj(X509_getm_notBefore(cert), spec->not_before) &&
            X509_gmtime_adj(X509_getm_notAfter(cert), spec->not_after) &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       (const unsigned char *)spec->cn, -1, -1, 0) &&
            X509_set_subject_name(cert, name) &&
            X509_set_issuer_name(cert, spec->issuer ? X509_get_subject_name(spec->issuer) : name) &&
            X509_set_pubkey(cert, spec->key) && add_extensions(cert, spec) &&
            X509_sign(cert, spec->issuer_key ? spec->issuer_key : spec->key, EVP_sha256()) > 0;
  X509_NAME_free(name);
  if (!ok) {
    fprintf(stderr, "tls_fixture: cannot make certificate %s\n", spec->cn);
    ERR_print_errors_fp(stderr);
    X509_free(cert);
    return NULL;
  }
  return cert;
}

static bool write_pem(tls_fixture *fx, char *path, const char *file, X509 *cert, EVP_PKEY *key) {
  int n = snprintf(path, TLS_FIXTURE_PATH_MAX, "%s/%s", fx->dir, file);
  if (n < 0 || n >= TLS_FIXTURE_PATH_MAX) return false;
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "tls_fixture: cannot write %s: %s\n", path, strerror(errno));
    return false;
  }
  bool ok = cert ? PEM_write_X509(f, cert) == 1
                 : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
  return fclose(f) == 0 && ok;
}

static bool make_pki(tls_fixture *fx) {
  const char *good_san = "IP:127.0.0.1,DNS:localhost";
  fx->ca_key = new_key();
  fx->ca2_key = new_key();
  fx->server_key = new_key();
  fx->client_key = new_key();
  if (!fx->ca_key || !fx->ca2_key || !fx->server_key || !fx->client_key) return false;
  fx->ca = make_cert(&(cert_spec){.cn = "cqlmux test CA", .key = fx->ca_key, .not_before = -DAY,
                                  .not_after = 30 * DAY});
  fx->ca2 = make_cert(&(cert_spec){.cn = "unrelated CA", .key = fx->ca2_key, .not_before = -DAY,
                                   .not_after = 30 * DAY});
  if (!fx->ca || !fx->ca2) return false;
  cert_spec leaf = {"server", fx->server_key, fx->ca, fx->ca_key, -DAY, 30 * DAY, good_san,
                    "serverAuth"};
  fx->good = make_cert(&leaf);
  fx->expired = make_cert(&(cert_spec){"expired", fx->server_key, fx->ca, fx->ca_key,
                                       -30 * DAY, -DAY, good_san, "serverAuth"});
  fx->wrong_san = make_cert(&(cert_spec){"elsewhere", fx->server_key, fx->ca, fx->ca_key, -DAY,
                                         30 * DAY, "IP:127.0.0.9,DNS:other.example",
                                         "serverAuth"});
  fx->rogue = make_cert(&(cert_spec){"rogue", fx->server_key, fx->ca2, fx->ca2_key, -DAY,
                                     30 * DAY, good_san, "serverAuth"});
  fx->client = make_cert(&(cert_spec){"client", fx->client_key, fx->ca, fx->ca_key, -DAY,
                                      30 * DAY, NULL, "clientAuth"});
  return fx->good && fx->expired && fx->wrong_san && fx->rogue && fx->client;
}

bool tls_fixture_create(tls_fixture *fx) {
  memset(fx, 0, sizeof *fx);
  snprintf(fx->dir, sizeof fx->dir, "/tmp/cqlmux-tls-XXXXXX");
  if (!mkdtemp(fx->dir)) {
    fprintf(stderr, "tls_fixture: mkdtemp: %s\n", strerror(errno));
    fx->dir[0] = '\0';
    return false;
  }
  return make_pki(fx) && write_pem(fx, fx->ca_pem, "ca.pem", fx->ca, NULL) &&
         write_pem(fx, fx->ca2_pem, "ca2.pem", fx->ca2, NULL) &&
         write_pem(fx, fx->good_pem, "server.pem", fx->good, NULL) &&
         write_pem(fx, fx->server_key_pem, "server.key", NULL, fx->server_key) &&
         write_pem(fx, fx->client_pem, "client.pem", fx->client, NULL) &&
         write_pem(fx, fx->client_key_pem, "client.key", NULL, fx->client_key);
}

void tls_fixture_destroy(tls_fixture *fx) {
  char *files[] = {fx->ca_pem,         fx->ca2_pem,    fx->good_pem,
                   fx->server_key_pem, fx->client_pem, fx->client_key_pem};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (files[i][0]) unlink(files[i]);
  if (fx->dir[0]) rmdir(fx->dir);
  X509 *certs[] = {fx->ca, fx->ca2, fx->good, fx->expired, fx->wrong_san, fx->rogue, fx->client};
  for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++) X509_free(certs[i]);
  EVP_PKEY *keys[] = {fx->ca_key, fx->ca2_key, fx->server_key, fx->client_key};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) EVP_PKEY_free(keys[i]);
  memset(fx, 0, sizeof *fx);
}

struct tls_server {
  SSL_CTX *ctx;
  int listen_fd;
  int port;
  int connections;
  tls_server_mode mode;
  pthread_t thread;
  tls_server_stats stats; /* written by the thread, read after the join */
};

static SSL_CTX *server_ctx(const tls_server_config *cfg) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return NULL;
  bool ok = SSL_CTX_use_certificate(ctx, cfg->cert) == 1 &&
            SSL_CTX_use_PrivateKey(ctx, cfg->key) == 1 &&
            (!cfg->max_version || SSL_CTX_set_max_proto_version(ctx, cfg->max_version) == 1);
  if (ok && cfg->client_ca) {
    ok = X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), cfg->client_ca) == 1 &&
         SSL_CTX_add_client_CA(ctx, cfg->client_ca) == 1;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  }
  if (!ok) {
    ERR_print_errors_fp(stderr);
    SSL_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

/* Bounded socket buffers (the kernel doubles 32 KiB; no autotuning) hold a
 * few hundred KiB in flight in all, so a 1 MiB echo must block the client's
 * writes whatever the scheduler does. Below 16 KiB, one TLS record no longer
 * fits and loopback throughput collapses into delayed-ACK stalls. */
static int listen_loopback(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int small = 32768;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

static void echo(tls_server *s, SSL *ssl) {
  char buf[16384];
  size_t got;
  while (SSL_read_ex(ssl, buf, sizeof buf, &got) == 1) {
    size_t put;
    if (SSL_write_ex(ssl, buf, got, &put) != 1) return;
    s->stats.bytes_echoed += put;
  }
}

static void after_handshake(tls_server *s, SSL *ssl, int fd) {
  switch (s->mode) {
  case TLS_SERVER_ECHO:
    echo(s, ssl);
    SSL_shutdown(ssl);
    break;
  case TLS_SERVER_CLOSE_AFTER_HANDSHAKE:
    SSL_shutdown(ssl);
    break;
  case TLS_SERVER_DROP_AFTER_HANDSHAKE:
    break;
  case TLS_SERVER_RESET_AFTER_HANDSHAKE: {
    struct linger rst = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof rst);
    break;
  }
  }
}

static void serve_one(tls_server *s, int fd) {
  /* A client that stops mid-way costs the thread at most 10 s, never a hang. */
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  SSL *ssl = SSL_new(s->ctx);
  if (ssl && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1) {
    s->stats.handshakes_ok++;
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    snprintf(s->stats.server_name, sizeof s->stats.server_name, "%s", sni ? sni : "");
    if (SSL_get0_peer_certificate(ssl) && SSL_get_verify_result(ssl) == X509_V_OK)
      s->stats.client_certs_verified++;
    after_handshake(s, ssl, fd);
  } else {
    s->stats.handshakes_failed++;
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
}

static void *server_main(void *arg) {
  tls_server *s = arg;
  sigset_t sigpipe;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, NULL);
  for (int i = 0; i < s->connections; i++) {
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR) {
        i--;
        continue;
      }
      break; /* tls_server_stop shut the listener down */
    }
    serve_one(s, fd);
  }
  OPENSSL_thread_stop();
  return NULL;
}

tls_server *tls_server_start(const tls_server_config *cfg) {
  tls_server *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->connections = cfg->connections > 0 ? cfg->connections : 1;
  s->mode = cfg->mode;
  s->ctx = server_ctx(cfg);
  s->listen_fd = s->ctx ? listen_loopback(&s->port) : -1;
  if (s->listen_fd < 0 || pthread_create(&s->thread, NULL, server_main, s) != 0) {
    if (s->listen_fd >= 0) close(s->listen_fd);
    SSL_CTX_free(s->ctx);
    free(s);
    return NULL;
  }
  return s;
}

int tls_server_port(const tls_server *s) { return s->port; }

void tls_server_stop(tls_server *s, tls_server_stats *stats) {
  /* Wakes a thread blocked in accept(): Linux fails it with EINVAL. */
  shutdown(s->listen_fd, SHUT_RDWR);
  pthread_join(s->thread, NULL);
  close(s->listen_fd);
  if (stats) *stats = s->stats;
  SSL_CTX_free(s->ctx);
  free(s);
}

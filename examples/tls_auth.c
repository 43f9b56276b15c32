/* TLS with certificate verification plus PasswordAuthenticator, the
 * credentials taken from the environment, never from the command line
 * (where `ps` would show them) and never printed.
 *
 *   cc tls_auth.c $(pkg-config --cflags --libs cqlmux) -o tls_auth
 *   CQLMUX_CA_FILE=ca.pem CQLMUX_USERNAME=app CQLMUX_PASSWORD=... \
 *     ./tls_auth [contact-points] [port]
 *
 * CQLMUX_CA_FILE is the PEM file of the CA that signed the server's
 * certificate (unset: the system's trust store). The server's certificate
 * must chain to it and name the host connected to (a DNS or IP subject
 * alternative name); either failure ends the connect with a TLS_* error
 * before any credential is sent. The example then queries the node, and
 * shows the error a wrong password gets (CQLMUX_ERR_AUTH): the message
 * carries the server's reason, never the password. Exits non-zero when the
 * good credentials fail or the wrong ones are accepted. */
#include <cqlmux.h>
#include <stdio.h>
#include <stdlib.h>

/* A session over TLS, verifying the peer and its host name (the defaults
 * once TLS is on; spelled out here), logging in as `username`. */
static cqlmux_session *new_session(int argc, char **argv, const char *username,
                                   const char *password) {
  cqlmux_config *config = cqlmux_config_new();
  if (!config) return NULL;
  if (argc > 1) cqlmux_config_set_contact_points(config, argv[1]);
  if (argc > 2) cqlmux_config_set_port(config, atoi(argv[2]));
  int rc = cqlmux_config_set_tls(config, 1, getenv("CQLMUX_CA_FILE"));
  if (rc == CQLMUX_OK) rc = cqlmux_config_set_tls_verify(config, 1, 1);
  if (rc == CQLMUX_OK) rc = cqlmux_config_set_credentials(config, username, password);
  cqlmux_session *session = NULL;
  if (rc == CQLMUX_OK) rc = cqlmux_session_new(config, &session); /* reads the CA file */
  cqlmux_config_free(config); /* the session keeps its own copy of the password */
  if (rc != CQLMUX_OK) fprintf(stderr, "session: %s\n", cqlmux_strerror(rc));
  return rc == CQLMUX_OK ? session : NULL;
}

/* Connects; returns the connect future's code (its message printed when
 * it failed and `report` is set). */
static int connect_session(cqlmux_session *session, int report) {
  cqlmux_future *f = cqlmux_session_connect(session);
  int rc = cqlmux_future_wait(f);
  if (rc != CQLMUX_OK && report)
    fprintf(stderr, "connect: %s (%s)\n", cqlmux_future_error_message(f), cqlmux_strerror(rc));
  cqlmux_future_free(f);
  return rc;
}

static int print_version(cqlmux_session *session) {
  cqlmux_future *f = cqlmux_session_query(
      session, "SELECT release_version FROM system.local");
  const char *text = NULL;
  size_t length = 0;
  int rc = cqlmux_future_wait(f);
  if (rc == CQLMUX_OK) rc = cqlmux_result_get_text(cqlmux_future_result(f), 0, 0, &text, &length);
  if (rc == CQLMUX_OK)
    printf("over TLS as an authenticated user: release_version %.*s, protocol v%d\n",
           (int)length, text, cqlmux_session_protocol_version(session));
  else
    fprintf(stderr, "query: %s\n", f ? cqlmux_future_error_message(f) : cqlmux_strerror(rc));
  cqlmux_future_free(f);
  fflush(stdout); /* before the library's log lines on stderr about the next session */
  return rc == CQLMUX_OK;
}

/* The same user with a password that is not theirs must be refused with
 * CQLMUX_ERR_AUTH (over a verified TLS connection all the same). */
static int wrong_password_refused(int argc, char **argv, const char *username) {
  cqlmux_session *session = new_session(argc, argv, username, "not-the-password");
  if (!session) return 0;
  int rc = connect_session(session, 0);
  cqlmux_session_free(session);
  printf("a wrong password: %s\n", cqlmux_strerror(rc));
  return rc == CQLMUX_ERR_AUTH;
}

int main(int argc, char **argv) {
  const char *username = getenv("CQLMUX_USERNAME");
  const char *password = getenv("CQLMUX_PASSWORD");
  if (!username || !password) {
    fprintf(stderr, "set CQLMUX_USERNAME and CQLMUX_PASSWORD (and CQLMUX_CA_FILE)\n");
    return 2;
  }
  cqlmux_session *session = new_session(argc, argv, username, password);
  if (!session) return 1;
  int ok = connect_session(session, 1) == CQLMUX_OK && print_version(session);
  cqlmux_session_free(session);
  return ok && wrong_password_refused(argc, argv, username) ? 0 : 1;
}

/* Helpers for suites against the real Cassandra: a session on
 * CQLMUX_TEST_HOST:CQLMUX_TEST_PORT, and statements that retry the
 * server-side timeouts a loaded 2-core machine gives schema changes. */
#ifndef CQLMUX_TESTS_INTEGRATION_REAL_FIXTURE_H
#define CQLMUX_TESTS_INTEGRATION_REAL_FIXTURE_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "cqlmux.h"
#include "../net/session_fixture.h"

static inline const char *real_env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

/* A connected session on the test server. */
static inline cqlmux_session *real_open_session(void) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_contact_points(c, real_env_or("CQLMUX_TEST_HOST", "127.0.0.1")),
               CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_port(c, atoi(real_env_or("CQLMUX_TEST_PORT", "9042"))),
               CQLMUX_OK);
  /* CQLMUX_TEST_LOG_LEVEL (0-5) shows more when a run has to be explained. */
  cqlmux_config_set_log_level(c, atoi(real_env_or("CQLMUX_TEST_LOG_LEVEL", "1")));
  return session_fixture_connect(c);
}

/* Runs st, again (up to 5 times) on a server-side write or read timeout;
 * asserts success. The caller frees the future. */
static inline cqlmux_future *real_run(cqlmux_session *s, const cqlmux_statement *st) {
  cqlmux_future *f = NULL;
  for (int attempt = 0; attempt < 6; attempt++) {
    cqlmux_future_free(f);
    f = cqlmux_session_execute(s, st);
    cr_assert_not_null(f);
    cqlmux_server_error e;
    if (cqlmux_future_wait(f) != CQLMUX_ERR_SERVER ||
        cqlmux_future_server_error(f, &e) != CQLMUX_OK || (e.code != 0x1100 && e.code != 0x1200))
      break;
  }
  cr_assert_eq(cqlmux_future_error(f), CQLMUX_OK, "%s", cqlmux_future_error_message(f));
  return f;
}

/* real_run of a CQL text. */
static inline cqlmux_future *real_run_cql(cqlmux_session *s, const char *cql) {
  cqlmux_statement *st = cqlmux_statement_new(cql, 0);
  cr_assert_not_null(st);
  cqlmux_future *f = real_run(s, st);
  cqlmux_statement_free(st);
  return f;
}

#endif

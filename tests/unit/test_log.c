/* The internal logger: levels, callback, truncation, the stderr default and
 * the secret placeholder. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "runtime/log.h"

typedef struct captured {
  int count;
  cqlmux_log_level level;
  char message[CQLMUX_LOG_MESSAGE_MAX + 8];
} captured;

static void capture(cqlmux_log_level level, const char *message, void *ud) {
  captured *c = ud;
  c->count++;
  c->level = level;
  strncpy(c->message, message, sizeof c->message - 1);
}

Test(log, callback_receives_messages_at_or_above_level) {
  captured c = {0};
  cqlmux_logger lg;
  cqlmux_logger_init(&lg, capture, &c, CQLMUX_LOG_INFO);
  cqlmux_log(&lg, CQLMUX_LOG_DEBUG, "hidden %d", 1);
  cr_assert_eq(c.count, 0);
  cqlmux_log(&lg, CQLMUX_LOG_INFO, "connected to %s:%d", "10.0.0.7", 9042);
  cr_assert_eq(c.count, 1);
  cr_assert_eq(c.level, CQLMUX_LOG_INFO);
  cr_assert_str_eq(c.message, "connected to 10.0.0.7:9042");
  cqlmux_log(&lg, CQLMUX_LOG_ERROR, "boom");
  cr_assert_eq(c.count, 2);
  cr_assert(cqlmux_log_enabled(&lg, CQLMUX_LOG_WARN));
  cr_assert_not(cqlmux_log_enabled(&lg, CQLMUX_LOG_TRACE));
  cr_assert_not(cqlmux_log_enabled(&lg, CQLMUX_LOG_NONE));
}

Test(log, level_none_logs_nothing) {
  captured c = {0};
  cqlmux_logger lg;
  cqlmux_logger_init(&lg, capture, &c, CQLMUX_LOG_NONE);
  cqlmux_log(&lg, CQLMUX_LOG_ERROR, "nothing");
  cr_assert_eq(c.count, 0);
}

Test(log, long_messages_are_cut_with_an_ellipsis) {
  captured c = {0};
  cqlmux_logger lg;
  cqlmux_logger_init(&lg, capture, &c, CQLMUX_LOG_TRACE);
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  cqlmux_log(&lg, CQLMUX_LOG_WARN, "%s", big);
  cr_assert_eq(strlen(c.message), CQLMUX_LOG_MESSAGE_MAX - 1);
  cr_assert_str_eq(c.message + CQLMUX_LOG_MESSAGE_MAX - 4, "...");
}

Test(log, default_logger_writes_warnings_to_stderr, .init = cr_redirect_stderr) {
  cqlmux_log(NULL, CQLMUX_LOG_INFO, "not shown");
  cqlmux_log(NULL, CQLMUX_LOG_WARN, "slow host %s", "h1");
  cqlmux_log(cqlmux_logger_default(), CQLMUX_LOG_ERROR, "dead host %s", "h2");
  fflush(stderr);
  cr_assert_stderr_eq_str("cqlmux WARN: slow host h1\ncqlmux ERROR: dead host h2\n");
}

Test(log, secrets_are_replaced_by_a_placeholder) {
  captured c = {0};
  cqlmux_logger lg;
  cqlmux_logger_init(&lg, capture, &c, CQLMUX_LOG_TRACE);
  const char *password = "hunter2";
  cqlmux_log(&lg, CQLMUX_LOG_DEBUG, "auth user=%s password=%s", "cassandra",
             cqlmux_log_secret(password));
  cr_assert_str_eq(c.message, "auth user=cassandra password=<redacted>");
  cr_assert_null(strstr(c.message, password));
  cr_assert_str_eq(cqlmux_log_secret(NULL), "<none>");
  cr_assert_str_eq(cqlmux_log_secret(""), "<none>");
}

Test(log, level_names) {
  cr_assert_str_eq(cqlmux_log_level_name(CQLMUX_LOG_ERROR), "ERROR");
  cr_assert_str_eq(cqlmux_log_level_name(CQLMUX_LOG_TRACE), "TRACE");
  cr_assert_str_eq(cqlmux_log_level_name(CQLMUX_LOG_NONE), "NONE");
}

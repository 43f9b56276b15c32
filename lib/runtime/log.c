#include "runtime/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const cqlmux_logger default_logger = {NULL, NULL, CQLMUX_LOG_WARN};

void cqlmux_logger_init(cqlmux_logger *logger, cqlmux_log_callback callback, void *user_data,
                        cqlmux_log_level level) {
  logger->callback = callback;
  logger->user_data = user_data;
  logger->level = level;
}

const cqlmux_logger *cqlmux_logger_default(void) { return &default_logger; }

bool cqlmux_log_enabled(const cqlmux_logger *logger, cqlmux_log_level level) {
  if (!logger) logger = &default_logger;
  return level != CQLMUX_LOG_NONE && level <= logger->level;
}

const char *cqlmux_log_level_name(cqlmux_log_level level) {
  switch (level) {
  case CQLMUX_LOG_ERROR: return "ERROR";
  case CQLMUX_LOG_WARN: return "WARN";
  case CQLMUX_LOG_INFO: return "INFO";
  case CQLMUX_LOG_DEBUG: return "DEBUG";
  case CQLMUX_LOG_TRACE: return "TRACE";
  case CQLMUX_LOG_NONE: break;
  }
  return "NONE";
}

const char *cqlmux_log_secret(const char *secret) {
  return secret && secret[0] ? "<redacted>" : "<none>";
}

void cqlmux_log(const cqlmux_logger *logger, cqlmux_log_level level, const char *fmt, ...) {
  if (!cqlmux_log_enabled(logger, level)) return;
  if (!logger) logger = &default_logger;
  char message[CQLMUX_LOG_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  if (n < 0) {
    snprintf(message, sizeof message, "(unformattable log message)");
  } else if ((size_t)n >= sizeof message) {
    memcpy(message + sizeof message - 4, "...", 4);
  }
  if (logger->callback) {
    logger->callback(level, message, logger->user_data);
  } else {
    /* One fprintf per line: stdio locks the stream, so concurrent messages
     * do not interleave within a line. */
    fprintf(stderr, "cqlmux %s: %s\n", cqlmux_log_level_name(level), message);
  }
}

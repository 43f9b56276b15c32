/* Internal logger: levels, a user callback, stderr at WARN by default.
 *
 * Every module logs through a `const cqlmux_logger *` it was given (the
 * runtime's, built from the session config); NULL means the default logger
 * (stderr, CQLMUX_LOG_WARN).
 *
 * Secrets rule: the library never logs secrets. Callers of cqlmux_log() must
 * never pass passwords, tokens, SASL payloads, private keys, TLS key material,
 * or bound query values as format arguments; where a message needs to say
 * that such a value exists, pass cqlmux_log_secret(value) instead, which
 * prints only whether it is set. Reviewers check every call site against
 * this rule; there is no way to redact after formatting.
 *
 * Thread: cqlmux_log() may be called from any thread concurrently. The user
 * callback runs on the calling thread, synchronously. */
#ifndef CQLMUX_RUNTIME_LOG_H
#define CQLMUX_RUNTIME_LOG_H

#include <stdbool.h>

#include "cqlmux.h"

#if defined(__GNUC__)
#define CQLMUX_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CQLMUX_PRINTF(fmt, args)
#endif

/* The longest message passed to a callback, terminating NUL included. Longer
 * messages are cut and end in "...". */
#define CQLMUX_LOG_MESSAGE_MAX 512

typedef struct cqlmux_logger {
  cqlmux_log_callback callback; /* NULL: one line per message on stderr */
  void *user_data;              /* passed back to callback */
  cqlmux_log_level level;       /* messages less severe than this are dropped */
} cqlmux_logger;

/* A logger that forwards to `callback` (NULL = stderr) at `level`. */
void cqlmux_logger_init(cqlmux_logger *logger, cqlmux_log_callback callback, void *user_data,
                        cqlmux_log_level level);

/* stderr at CQLMUX_LOG_WARN. Static storage. */
const cqlmux_logger *cqlmux_logger_default(void);

/* Whether a message at `level` would be emitted: check it before computing
 * expensive arguments. */
bool cqlmux_log_enabled(const cqlmux_logger *logger, cqlmux_log_level level);

/* Format and emit one message. Never fails; never allocates. */
void cqlmux_log(const cqlmux_logger *logger, cqlmux_log_level level, const char *fmt, ...)
    CQLMUX_PRINTF(3, 4);

/* "ERROR", "WARN", "INFO", "DEBUG", "TRACE"; "NONE" for anything else. */
const char *cqlmux_log_level_name(cqlmux_log_level level);

/* What to log in place of a secret: "<redacted>" when it is set (non-NULL,
 * non-empty), "<none>" otherwise. Never looks past the first byte. */
const char *cqlmux_log_secret(const char *secret);

#endif

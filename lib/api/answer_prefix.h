/* The prefix of an answer (tracing id, warnings, custom payload) as the
 * application sees it: the public getters on futures, and the WARN lines
 * for the warnings. The bytes live in the call's result (api/result.h),
 * copied there only when the envelope carried a prefix. */
#ifndef CQLMUX_API_ANSWER_PREFIX_H
#define CQLMUX_API_ANSWER_PREFIX_H

#include "proto/envelope.h"
#include "runtime/log.h"

/* One WARN line per warning of p: "server warning from <host>: <text>".
 * Only the server's text: never the statement or its values. Any thread. */
void cqlmux_answer_prefix_log_warnings(const cqlmux_body_prefix *p, const cqlmux_logger *log,
                                       const char *host);

#endif

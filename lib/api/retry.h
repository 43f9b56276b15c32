/* Retry policies (include/cqlmux.h "Retries"): the default, the
 * fallthrough and the logging wrapper, and the reason a decision is
 * counted under in the metrics. */
#ifndef CQLMUX_API_RETRY_H
#define CQLMUX_API_RETRY_H

#include "cqlmux.h"

/* The metrics reason for retrying after this failure (error, and the CQL
 * code when error is CQLMUX_ERR_SERVER). */
cqlmux_retry_reason cqlmux_retry_reason_of(int error, int32_t server_code);

/* A short text for a decision ("retry on the same host" ...). */
const char *cqlmux_retry_decision_text(cqlmux_retry_decision d);

#endif

/* What is recorded per host as requests complete: a latency histogram,
 * failures by kind, retries. A block belongs to one host (lib/cluster) or,
 * for requests that never reached a host, to the session; the session
 * records into it and lib/api/metrics.c reads it.
 *
 * Any thread; lock-free (relaxed atomics: counters, nothing published). */
#ifndef CQLMUX_RUNTIME_REQUEST_METRICS_H
#define CQLMUX_RUNTIME_REQUEST_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "cqlmux.h"
#include "runtime/histogram.h"

typedef struct cqlmux_metrics_block {
  cqlmux_histogram latency; /* one record per completed request */
  _Atomic uint64_t errors[CQLMUX_METRICS_ERROR_KINDS];
  _Atomic uint64_t retries[CQLMUX_RETRY_REASONS];
  _Atomic uint64_t ignored;
  _Atomic uint64_t speculative_executions;
} cqlmux_metrics_block;

/* The kind a failure counts as: `error` is the future's code, server_code
 * the CQL error code when error is CQLMUX_ERR_SERVER. */
cqlmux_metrics_error_kind cqlmux_metrics_error_kind_of(int error, int32_t server_code);

/* One completed request. Any thread. */
void cqlmux_metrics_record(cqlmux_metrics_block *b, int error, int32_t server_code,
                           uint64_t latency_us);

/* One request sent again, for `reason`. Any thread. */
void cqlmux_metrics_record_retry(cqlmux_metrics_block *b, cqlmux_retry_reason reason);
/* One speculative execution started on this host. Any thread. */
void cqlmux_metrics_record_speculative(cqlmux_metrics_block *b);
/* One error a retry policy ignored. Any thread. */
void cqlmux_metrics_record_ignored(cqlmux_metrics_block *b);

#endif

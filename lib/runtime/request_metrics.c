#include "runtime/request_metrics.h"

#include "proto/response.h"

cqlmux_metrics_error_kind cqlmux_metrics_error_kind_of(int error, int32_t server_code) {
  switch (error) {
  case CQLMUX_ERR_TIMEOUT: return CQLMUX_METRICS_ERR_TIMEOUT;
  case CQLMUX_ERR_BUSY: return CQLMUX_METRICS_ERR_BUSY;
  case CQLMUX_ERR_NO_HOSTS: return CQLMUX_METRICS_ERR_NO_HOSTS;
  case CQLMUX_ERR_SHUTDOWN: return CQLMUX_METRICS_ERR_SHUTDOWN;
  case CQLMUX_ERR_SERVER:
    switch (server_code) {
    case CQLMUX_CQL_READ_TIMEOUT: return CQLMUX_METRICS_ERR_SERVER_READ_TIMEOUT;
    case CQLMUX_CQL_WRITE_TIMEOUT: return CQLMUX_METRICS_ERR_SERVER_WRITE_TIMEOUT;
    case CQLMUX_CQL_UNAVAILABLE: return CQLMUX_METRICS_ERR_SERVER_UNAVAILABLE;
    case CQLMUX_CQL_OVERLOADED: return CQLMUX_METRICS_ERR_SERVER_OVERLOADED;
    default: return CQLMUX_METRICS_ERR_SERVER_OTHER;
    }
  default: break;
  }
  /* The connection band is -300 .. -399 (include/cqlmux.h). */
  if (error <= -300 && error > -400) return CQLMUX_METRICS_ERR_CONNECTION;
  return CQLMUX_METRICS_ERR_OTHER;
}

void cqlmux_metrics_record(cqlmux_metrics_block *b, int error, int32_t server_code,
                           uint64_t latency_us) {
  cqlmux_histogram_record(&b->latency, latency_us);
  if (error == CQLMUX_OK) return;
  /* relaxed: a counter; see metrics.h. */
  atomic_fetch_add_explicit(&b->errors[cqlmux_metrics_error_kind_of(error, server_code)], 1,
                            memory_order_relaxed);
}

void cqlmux_metrics_record_retry(cqlmux_metrics_block *b, cqlmux_retry_reason reason) {
  if ((unsigned)reason >= CQLMUX_RETRY_REASONS) reason = CQLMUX_RETRY_REASON_OTHER;
  /* relaxed: a counter. */
  atomic_fetch_add_explicit(&b->retries[reason], 1, memory_order_relaxed);
}

void cqlmux_metrics_record_speculative(cqlmux_metrics_block *b) {
  /* relaxed: a counter. */
  atomic_fetch_add_explicit(&b->speculative_executions, 1, memory_order_relaxed);
}

void cqlmux_metrics_record_ignored(cqlmux_metrics_block *b) {
  /* relaxed: a counter. */
  atomic_fetch_add_explicit(&b->ignored, 1, memory_order_relaxed);
}

const char *cqlmux_retry_reason_name(cqlmux_retry_reason reason) {
  static const char *const names[CQLMUX_RETRY_REASONS] = {
      "unsent",     "read_timeout", "write_timeout", "unavailable",
      "overloaded", "connection",   "unprepared",    "other"};
  return (unsigned)reason < CQLMUX_RETRY_REASONS ? names[reason] : "unknown";
}


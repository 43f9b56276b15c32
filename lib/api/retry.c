#include "api/retry.h"

#include <string.h>

#include "api/session.h"
#include "proto/response.h"
#include "runtime/log.h"

/* ---------------------------------------------------------------- default */

static cqlmux_retry_decision on_read_timeout(const cqlmux_retry_request *r) {
  const cqlmux_server_error *e = r->server;
  /* Enough replicas answered but the one asked for the data did not: a
   * second try usually finds it answered (the others are then warm). */
  if (r->retries == 0 && e->received >= e->block_for && !e->data_present)
    return CQLMUX_RETRY_SAME_HOST;
  return CQLMUX_RETRY_RETHROW;
}

static cqlmux_retry_decision on_write_timeout(const cqlmux_retry_request *r) {
  if (r->retries > 0) return CQLMUX_RETRY_RETHROW;
  /* The batch log write is the coordinator's: retrying it there is safe. */
  if (r->server->write_type && !strcmp(r->server->write_type, "BATCH_LOG"))
    return CQLMUX_RETRY_SAME_HOST;
  return r->idempotent ? CQLMUX_RETRY_NEXT_HOST : CQLMUX_RETRY_RETHROW;
}

static cqlmux_retry_decision decide_default(const cqlmux_retry_policy *policy,
                                            const cqlmux_retry_request *r) {
  (void)policy;
  if (r->error != CQLMUX_ERR_SERVER || !r->server)
    /* The connection failed after sending: the server may have applied it. */
    return r->idempotent ? CQLMUX_RETRY_NEXT_HOST : CQLMUX_RETRY_RETHROW;
  switch (r->server->code) {
  case CQLMUX_CQL_READ_TIMEOUT: return on_read_timeout(r);
  case CQLMUX_CQL_WRITE_TIMEOUT: return on_write_timeout(r);
  case CQLMUX_CQL_UNAVAILABLE:
    /* Another coordinator may see more replicas alive. */
    return r->retries == 0 ? CQLMUX_RETRY_NEXT_HOST : CQLMUX_RETRY_RETHROW;
  case CQLMUX_CQL_OVERLOADED:
  case CQLMUX_CQL_IS_BOOTSTRAPPING:
  case CQLMUX_CQL_TRUNCATE_ERROR:
  case CQLMUX_CQL_SERVER_ERROR:
    return r->idempotent ? CQLMUX_RETRY_NEXT_HOST : CQLMUX_RETRY_RETHROW;
  default: return CQLMUX_RETRY_RETHROW;
  }
}

static const cqlmux_retry_policy default_policy = {decide_default, NULL, NULL};

const cqlmux_retry_policy *cqlmux_retry_policy_default(void) { return &default_policy; }

/* ------------------------------------------------------------ fallthrough */

static cqlmux_retry_decision decide_never(const cqlmux_retry_policy *policy,
                                          const cqlmux_retry_request *r) {
  (void)policy, (void)r;
  return CQLMUX_RETRY_RETHROW;
}

static const cqlmux_retry_policy fallthrough_policy = {decide_never, NULL, NULL};

const cqlmux_retry_policy *cqlmux_retry_policy_fallthrough(void) { return &fallthrough_policy; }

/* ---------------------------------------------------------------- logging */

const char *cqlmux_retry_decision_text(cqlmux_retry_decision d) {
  switch (d) {
  case CQLMUX_RETRY_SAME_HOST: return "retry on the same host";
  case CQLMUX_RETRY_NEXT_HOST: return "retry on the next host";
  case CQLMUX_RETRY_IGNORE: return "ignore the error";
  default: return "rethrow";
  }
}

static cqlmux_retry_decision decide_logged(const cqlmux_retry_policy *policy,
                                           const cqlmux_retry_request *r) {
  const cqlmux_retry_policy *child = policy->child;
  cqlmux_retry_decision d = child->decide(child, r);
  if (d != CQLMUX_RETRY_RETHROW && r->session)
    cqlmux_log(cqlmux_runtime_logger(r->session->runtime), CQLMUX_LOG_INFO,
               "retry policy: %s after \"%s\" from %s (retries so far: %u, idempotent: %s)",
               cqlmux_retry_decision_text(d), r->message ? r->message : "", r->host,
               r->retries, r->idempotent ? "yes" : "no");
  return d;
}

int cqlmux_retry_policy_logging(cqlmux_retry_policy *out, const cqlmux_retry_policy *child) {
  if (!out || !child || !child->decide) return CQLMUX_ERR_INVALID_ARGUMENT;
  *out = (cqlmux_retry_policy){decide_logged, child, NULL};
  return CQLMUX_OK;
}

/* ---------------------------------------------------------------- reasons */

cqlmux_retry_reason cqlmux_retry_reason_of(int error, int32_t server_code) {
  if (error != CQLMUX_ERR_SERVER) return CQLMUX_RETRY_REASON_CONNECTION;
  switch (server_code) {
  case CQLMUX_CQL_READ_TIMEOUT: return CQLMUX_RETRY_REASON_READ_TIMEOUT;
  case CQLMUX_CQL_WRITE_TIMEOUT: return CQLMUX_RETRY_REASON_WRITE_TIMEOUT;
  case CQLMUX_CQL_UNAVAILABLE: return CQLMUX_RETRY_REASON_UNAVAILABLE;
  case CQLMUX_CQL_OVERLOADED:
  case CQLMUX_CQL_IS_BOOTSTRAPPING:
  case CQLMUX_CQL_TRUNCATE_ERROR:
  case CQLMUX_CQL_SERVER_ERROR: return CQLMUX_RETRY_REASON_OVERLOADED;
  case CQLMUX_CQL_UNPREPARED: return CQLMUX_RETRY_REASON_UNPREPARED;
  default: return CQLMUX_RETRY_REASON_OTHER;
  }
}

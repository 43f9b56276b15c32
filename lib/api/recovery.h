/* Recovery: what the session does when a request fails after leaving the
 * application, and the work that keeps prepared statements usable on
 * every host.
 *
 *   after a failure   a request never sent goes to the next host of its
 *                     plan; otherwise the retry policy decides (same host,
 *                     next host, rethrow, ignore); every retry is counted
 *                     by reason on the host that failed;
 *   UNPREPARED        the statement is prepared again on that host and the
 *                     EXECUTE sent again, once;
 *   prepare elsewhere after a PREPARE, on every other UP host; on a host
 *                     that comes UP, every statement the session prepared.
 *
 * Threads: the I/O thread that saw the outcome (the request's connection's
 * loop); the background prepares run on their own connections' loops. */
#ifndef CQLMUX_API_RECOVERY_H
#define CQLMUX_API_RECOVERY_H

#include <stdbool.h>

#include "api/prepared_cache.h"
#include "api/session.h"

/* The call failed (`error`, and the server's error in call->result when
 * error is CQLMUX_ERR_SERVER); `sent`: it reached the socket. True when it
 * was sent again or completed (IGNORE); false: the caller completes it
 * with the error. */
bool cqlmux_recovery_after_failure(cqlmux_call *call, int error, const char *message, bool sent);

/* The call's EXECUTE was answered UNPREPARED (in call->result): true when
 * the statement is being prepared again on that connection, after which
 * the EXECUTE goes again; false: the caller completes it with the error. */
bool cqlmux_recovery_reprepare(cqlmux_call *call);

/* Prepares e on every UP host but `except`. With `call` (the PREPARE that
 * just succeeded on `except`), the call completes once every one of those
 * PREPAREs is answered or failed, so the first EXECUTE finds the statement
 * on whichever replica it goes to (no UNPREPARED round trip): returns true
 * when it took the call that way, false when the caller completes it now
 * (no other UP host, or no memory to track them). Without `call`, in the
 * background. I/O thread. */
bool cqlmux_recovery_prepare_elsewhere(cqlmux_session *s, const cqlmux_prepared_entry *e,
                                       const cqlmux_host *except, cqlmux_call *call);

/* Prepares every remembered statement on h, in the background. */
void cqlmux_recovery_prepare_all_on(cqlmux_session *s, cqlmux_host *h);

#endif

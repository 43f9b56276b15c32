/* Speculative execution: an idempotent request still unanswered after a
 * delay is sent to the next host of its plan too (up to max_extra more
 * times, one delay apart); the first answer wins.
 *
 * A speculative request carries a cqlmux_speculation (allocated at
 * submission, only for requests that may speculate): its own copy of the
 * envelope and of the plan, a timer on the first connection's loop, and
 * the arbitration between the executions:
 *
 *   outstanding  executions sent and not answered (the first one, the
 *                call's own request, included);
 *   decided      set by the answer that wins: a success, or an error or
 *                failure that arrives when no other execution is left;
 *                the others are dropped as they arrive, so their stream ids
 *                come back only when their answers (or timeouts) do.
 *
 * Lifetimes. The call's own request lives inside the call, so the call
 * goes back to its pool only when both its future's payload was released
 * and its own request left the connection (call_state bits). The
 * speculation is reference-counted: the call (until it is put back), the
 * armed timer, each extra execution. Extra executions never touch the call
 * unless they win, and a winner finds the call alive: nothing completed it
 * before `decided` was set.
 *
 * Threads: submission on the application thread; the timer and the
 * executions it starts on the first connection's loop; answers on their
 * connections' loops. */
#ifndef CQLMUX_API_SPECULATION_H
#define CQLMUX_API_SPECULATION_H

#include <stdbool.h>

#include "api/session.h"

typedef struct cqlmux_speculation cqlmux_speculation;

/* A speculation for the call (before its first dispatch), or NULL when it
 * does not speculate (not idempotent, max_extra 0, NOMEM). Sets call->spec. */
cqlmux_speculation *cqlmux_speculation_new(cqlmux_session *s, cqlmux_call *call,
                                           unsigned delay_ms, unsigned max_extra);
/* The call is about to be posted to conn for the first time: copies its
 * envelope and plan, and takes conn's loop for the timer. */
void cqlmux_speculation_setup(cqlmux_speculation *spec, cqlmux_call *call,
                              cqlmux_connection *conn);
/* After the first dispatch (the call may be completed and gone by now):
 * arms the timer, or lets it go when the call was never posted. */
void cqlmux_speculation_arm(cqlmux_speculation *spec);

/* The call's own request got an outcome (`failed`: an error answer or a
 * failure): false when it lost and is to be dropped (then call
 * cqlmux_speculation_primary_out). True when the call goes on as usual. */
bool cqlmux_speculation_primary_outcome(cqlmux_call *call, bool failed);
/* The call's own request left its connection for good. May put the call
 * back (it must not be touched after). */
void cqlmux_speculation_primary_out(cqlmux_call *call);
/* The future let go of the call: true when the call may go back to the
 * pool now (else the last of its own request does it). */
bool cqlmux_speculation_payload_released(cqlmux_call *call);
/* The call goes back to the pool: drops its reference. */
void cqlmux_speculation_detach(cqlmux_call *call);
/* Whether an extra execution is completing the call (read in
 * cqlmux_session_complete before completing). */
bool cqlmux_speculation_completing_extra(const cqlmux_call *call);

#endif

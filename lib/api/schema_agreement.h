/* Schema agreement after a schema change.
 *
 * A CREATE / ALTER / DROP is answered once its coordinator has applied it;
 * the other nodes learn of it through gossip a moment later, and a request
 * that reaches one of them first fails ("table ... does not exist"). As the
 * peer drivers do, the session holds such a request's future until every
 * node that is UP reports the coordinator's schema version (it asks the
 * coordinator: system.local, then system.peers, a round every 200 ms), for
 * at most the configured wait (cqlmux_config_set_schema_agreement_wait,
 * default 10 s). The future then completes with the statement's own result
 * whatever the check found: the change was applied; whether the nodes
 * agreed is cqlmux_future_schema_in_agreement's answer.
 *
 * Threads: every step runs on the I/O thread of the connection that
 * answered last (a check's query, its timer) and only one step is under
 * way at a time, handed on through the connection's task queue or the
 * loop's timer, so the check's state needs no lock. */
#ifndef CQLMUX_API_SCHEMA_AGREEMENT_H
#define CQLMUX_API_SCHEMA_AGREEMENT_H

#include <stdbool.h>

#include "api/session.h"

/* Starts the check for `call`, just answered with SCHEMA_CHANGE on its
 * connection's I/O thread; true when the check now owns the call (and
 * completes it), false when the caller completes it at once (the wait is
 * off, or no memory: then cqlmux_future_schema_in_agreement says 0). */
bool cqlmux_schema_agreement_start(cqlmux_call *call);

#endif

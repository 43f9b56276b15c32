/* Calls: the session's request objects and their pool (see call.c). */
#ifndef CQLMUX_API_CALL_H
#define CQLMUX_API_CALL_H

#include "api/session.h"

/* A pool caching up to max_cached idle calls. NULL on NOMEM. */
cqlmux_call_pool *cqlmux_call_pool_new(const cqlmux_allocator *alloc, size_t max_cached);
/* The session lets go; the pool goes once every call is back. Any thread. */
void cqlmux_call_pool_release(cqlmux_call_pool *pool);

/* A call with an empty envelope buffer and result, or NULL. Any thread. */
cqlmux_call *cqlmux_call_get(cqlmux_call_pool *pool);
/* Back to its pool (clears its result first). Any thread. */
void cqlmux_call_put(cqlmux_call *call);
/* The call's extra record (PREPARE text and result, retry log, re-prepare
 * envelope), made on first need; NULL on NOMEM. The thread that owns the
 * call at the time. */
cqlmux_call_extra *cqlmux_call_extra_of(cqlmux_call *call);
/* A fresh call's PREPARE text, copied into its extra record. NOMEM, or
 * INVALID_STATE when the call already has one (never: called first). */
int cqlmux_call_set_prepare_text(cqlmux_call *call, const char *cql);
/* Fits an encoded envelope's block to it (see call.c); before submitting. */
void cqlmux_call_fit_envelope(cqlmux_call *call);
/* cqlmux_payload_free_fn for futures whose payload is a call. */
void cqlmux_call_free_payload(void *payload);
/* The call a completed request's future holds; NULL for a pending future
 * or one of another kind (a failure at submission, a trace). */
cqlmux_call *cqlmux_future_call(const cqlmux_future *future);

/* The public view of a result's server error (has_error must be set). */
void cqlmux_result_server_error(const cqlmux_result *r, cqlmux_server_error *out);

#endif

/* The pool of calls (session requests): a runtime object pool
 * (runtime/objpool.h) of calls built once, each with its result arena,
 * envelope room and embedded future, so a call taken from the cache costs
 * no allocation. The pool outlives the session until every call is back. */
#include "api/call.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cluster/host.h"

#include "api/prepared.h"
#include "api/speculation.h"
#include "runtime/alloc.h"
#include "runtime/future.h"
#include "runtime/objpool.h"

/* alloc is a copy of the pool's: the pool may be gone by now, so the
 * buffers' own pointers to its allocator are not followed. */
static void destroy_call(void *obj, const cqlmux_allocator *alloc) {
  cqlmux_call *call = obj;
  cqlmux_future_embed_destroy(&call->embedded_future);
  cqlmux_result_drop_columns(&call->result);
  call->net.envelope.alloc = alloc;
  call->result.arena.alloc = alloc;
  cqlmux_wbuf_free(&call->net.envelope);
  cqlmux_arena_free(&call->result.arena); /* a pooled call has no extra (put freed it) */
  cqlmux_mem_free(alloc, call);
}

cqlmux_call_pool *cqlmux_call_pool_new(const cqlmux_allocator *alloc, size_t max_cached) {
  return cqlmux_objpool_new(alloc, max_cached, offsetof(cqlmux_call, pool_next), destroy_call);
}

void cqlmux_call_pool_release(cqlmux_call_pool *p) { cqlmux_objpool_release(p); }

/* The envelope starts in the call's own room (api/session.h). */
static void use_inline_room(cqlmux_call *call) {
  cqlmux_wbuf_use_buffer(&call->net.envelope, call->envelope_inline,
                         sizeof call->envelope_inline);
}

cqlmux_call *cqlmux_call_get(cqlmux_call_pool *p) {
  cqlmux_call *call = cqlmux_objpool_get(p);
  if (!call) {
    const cqlmux_allocator *alloc = cqlmux_objpool_allocator(p);
    call = cqlmux_mem_calloc(alloc, 1, sizeof *call);
    if (!call) {
      cqlmux_objpool_cancel(p);
      return NULL;
    }
    cqlmux_result_init(&call->result, alloc);
    cqlmux_wbuf_init(&call->net.envelope, alloc, 0);
    use_inline_room(call);
    cqlmux_future_embed_init(&call->embedded_future, alloc);
  }
  call->pool = p;
  call->host = NULL;
  call->attempts = 0;
  call->reprepared = false;
  call->schema_unsettled = false;
  call->idempotent = false;
  call->retry_policy = NULL;
  call->spec = NULL;
  call->charged = 0;
  call->extra = NULL;
  cqlmux_wbuf_reset(&call->net.envelope);
  return call;
}

/* An envelope that outgrew the call's room sits in a block that grew by
 * doubling, so up to half of it may be unused; the block is fitted to the
 * envelope (rounded up to 64 bytes) as soon as it is encoded, not when the
 * call goes back to the cache: a request in flight (or waiting for a
 * socket that pushes back) holds its envelope for retries, and 600 requests
 * of 64 KB held 96 KB blocks each until then. Tightly but without churn:
 * - only a block that grew while this envelope was encoded is fitted, and
 *   only when the envelope fills more than half of it. A growth only comes
 *   with more bytes than the block holds, so a call reused for envelopes of
 *   alternating sizes never refits (no allocation per request). An envelope
 *   that needed more room while it was built than it keeps (v4 LZ4 reserves
 *   scratch after the body) leaves at most half the block used: no fit, or
 *   the next growth would come with every use;
 * - going back to the cache, a block over CQLMUX_CALL_ENVELOPE_KEEP is
 *   freed: the call goes back to its inline room.
 * No thread touches the envelope once the call has completed. */
void cqlmux_call_fit_envelope(cqlmux_call *call) {
  cqlmux_wbuf *e = &call->net.envelope;
  if (!cqlmux_wbuf_owns_block(e)) return;
  if (e->grown && e->len > e->cap / 2) cqlmux_wbuf_shrink_to(e, (e->len + 63) & ~(size_t)63);
}

static void trim_envelope(cqlmux_call *call) {
  cqlmux_call_fit_envelope(call);
  if (cqlmux_wbuf_owns_block(&call->net.envelope) &&
      call->net.envelope.cap > CQLMUX_CALL_ENVELOPE_KEEP)
    use_inline_room(call);
}

/* The extra record is made when first needed and freed with the call's
 * use, not kept in the cache: the paths that need it (a PREPARE, a retry, a
 * re-prepare) are rare next to the requests in flight, which would all
 * carry its ~80 bytes otherwise. */
static cqlmux_call_extra *new_extra(cqlmux_call *call, size_t text) {
  const cqlmux_allocator *alloc = cqlmux_objpool_allocator(call->pool);
  cqlmux_call_extra *x = cqlmux_mem_calloc(alloc, 1, sizeof *x + text);
  if (!x) return NULL;
  cqlmux_wbuf_init(&x->held, alloc, 0);
  call->extra = x;
  return x;
}

cqlmux_call_extra *cqlmux_call_extra_of(cqlmux_call *call) {
  return call->extra ? call->extra : new_extra(call, 0);
}

int cqlmux_call_set_prepare_text(cqlmux_call *call, const char *cql) {
  size_t n = strlen(cql) + 1;
  if (call->extra) return CQLMUX_ERR_INVALID_STATE;
  cqlmux_call_extra *x = new_extra(call, n);
  if (!x) return CQLMUX_ERR_NOMEM;
  char *text = (char *)(x + 1);
  memcpy(text, cql, n);
  x->prepare_cql = text;
  return CQLMUX_OK;
}

static void free_extra(cqlmux_call *call) {
  cqlmux_call_extra *x = call->extra;
  if (!x) return;
  cqlmux_wbuf_free(&x->held);
  cqlmux_prepared_free(x->prepared);
  cqlmux_mem_free(cqlmux_objpool_allocator(call->pool), x);
  call->extra = NULL;
}

void cqlmux_call_put(cqlmux_call *call) {
  cqlmux_call_pool *p = call->pool;
  if (call->spec) cqlmux_speculation_detach(call);
  cqlmux_result_recycle(&call->result); /* keeps a grown arena block for the next use */
  trim_envelope(call); /* before the pool's lock: it may free */
  free_extra(call);
  cqlmux_objpool_put(p, call);
}

/* The future's payload destructor: runs on the thread dropping the last
 * reference to the future. */
cqlmux_call *cqlmux_future_call(const cqlmux_future *future) {
  return cqlmux_future_payload_of(future, cqlmux_call_free_payload);
}

void cqlmux_call_free_payload(void *payload) {
  cqlmux_call *call = payload;
  /* A speculative call's own request may still be on a connection. */
  if (call->spec && !cqlmux_speculation_payload_released(call)) return;
  cqlmux_call_put(call);
}

unsigned cqlmux_future_coordinator(const cqlmux_future *future, char *out, size_t cap) {
  if (!future || !cqlmux_future_ready(future)) return 0;
  const cqlmux_call *call = cqlmux_future_call(future);
  if (!call || !call->host) return 0;
  if (out && cap) snprintf(out, cap, "%s", call->host->address);
  return call->attempts;
}

/* ------------------------------------------- what a completed future holds */

const cqlmux_result *cqlmux_future_result(const cqlmux_future *future) {
  if (!future || cqlmux_future_error(future) != CQLMUX_OK) return NULL;
  const cqlmux_call *call = cqlmux_future_call(future);
  const cqlmux_result *r = call ? &call->result : NULL;
  return r && r->has_result ? r : NULL;
}

void cqlmux_result_server_error(const cqlmux_result *r, cqlmux_server_error *out) {
  const cqlmux_error_body *e = &r->error->body;
  memset(out, 0, sizeof *out);
  out->code = e->code;
  out->consistency = (cqlmux_consistency)e->consistency;
  out->received = e->received;
  out->block_for = e->block_for;
  out->alive = e->alive;
  out->required = e->required;
  if (e->code == CQLMUX_CQL_UNAVAILABLE) out->block_for = e->required;
  out->failures = e->num_failures;
  out->data_present = e->data_present;
  out->write_type = r->error->write_type;
  out->keyspace = r->error->keyspace;
  out->table = r->error->table;
  out->unprepared_id = e->unprepared_id.data;
  out->unprepared_id_length = e->unprepared_id.len;
}

int cqlmux_future_server_error(const cqlmux_future *future, cqlmux_server_error *out) {
  if (!future || !out || cqlmux_future_error(future) != CQLMUX_ERR_SERVER)
    return CQLMUX_ERR_INVALID_STATE;
  const cqlmux_call *call = cqlmux_future_call(future);
  const cqlmux_result *r = call ? &call->result : NULL;
  if (!r || !r->has_error) return CQLMUX_ERR_INVALID_STATE;
  cqlmux_result_server_error(r, out);
  return CQLMUX_OK;
}

/* The pool of calls (session requests). Calls are taken on application
 * threads and given back on whichever thread frees the future, so the free
 * list is guarded by a mutex: two pointer moves inside it, uncontended in
 * the common case. The pool counts the calls it has handed out and lives
 * until the session is gone AND every call is back, so a future freed after
 * cqlmux_session_free still returns its call safely. */
#include "api/call.h"

#include <pthread.h>
#include <string.h>

#include "api/prepared.h"
#include "runtime/alloc.h"
#include "runtime/future.h"

struct cqlmux_call_pool {
  pthread_mutex_t lock;
  cqlmux_allocator alloc;
  cqlmux_call *free_list;
  size_t cached;
  size_t max_cached;
  size_t out;          /* calls handed out, not yet returned */
  bool session_gone;
};

cqlmux_call_pool *cqlmux_call_pool_new(const cqlmux_allocator *alloc, size_t max_cached) {
  cqlmux_call_pool *p = cqlmux_mem_calloc(alloc, 1, sizeof *p);
  if (!p) return NULL;
  pthread_mutex_init(&p->lock, NULL);
  p->alloc = *alloc;
  p->max_cached = max_cached;
  return p;
}

/* alloc is a copy of the pool's: the pool may be gone by now, so the
 * buffers' own pointers to its allocator are not followed. */
static void destroy_call(const cqlmux_allocator *alloc, cqlmux_call *call) {
  cqlmux_future_embed_destroy(&call->embedded_future);
  cqlmux_result_drop_columns(&call->result);
  call->net.envelope.alloc = alloc;
  call->result.arena.alloc = alloc;
  cqlmux_wbuf_free(&call->net.envelope);
  cqlmux_arena_free(&call->result.arena);
  cqlmux_mem_free(alloc, call);
}

/* Frees the cache; the pool itself once nothing is out. Lock held on entry,
 * released on return. */
static void release_locked(cqlmux_call_pool *p) {
  bool free_pool = p->session_gone && p->out == 0;
  cqlmux_allocator alloc = p->alloc;
  cqlmux_call *list = NULL;
  if (p->session_gone) {
    list = p->free_list;
    p->free_list = NULL;
    p->cached = 0;
  }
  pthread_mutex_unlock(&p->lock);
  while (list) {
    cqlmux_call *next = list->pool_next;
    destroy_call(&alloc, list);
    list = next;
  }
  if (free_pool) {
    pthread_mutex_destroy(&p->lock);
    cqlmux_mem_free(&alloc, p);
  }
}

void cqlmux_call_pool_release(cqlmux_call_pool *p) {
  pthread_mutex_lock(&p->lock);
  p->session_gone = true;
  release_locked(p);
}

/* The envelope starts in the call's own room (api/session.h). */
static void use_inline_room(cqlmux_call *call) {
  cqlmux_wbuf_use_buffer(&call->net.envelope, call->envelope_inline,
                         sizeof call->envelope_inline);
}

cqlmux_call *cqlmux_call_get(cqlmux_call_pool *p) {
  pthread_mutex_lock(&p->lock);
  cqlmux_call *call = p->free_list;
  if (call) {
    p->free_list = call->pool_next;
    p->cached--;
  }
  p->out++;
  pthread_mutex_unlock(&p->lock);
  if (!call) {
    call = cqlmux_mem_calloc(&p->alloc, 1, sizeof *call);
    if (!call) {
      pthread_mutex_lock(&p->lock);
      p->out--;
      pthread_mutex_unlock(&p->lock);
      return NULL;
    }
    cqlmux_result_init(&call->result, &p->alloc);
    cqlmux_wbuf_init(&call->net.envelope, &p->alloc, 0);
    use_inline_room(call);
    cqlmux_future_embed_init(&call->embedded_future, &p->alloc);
  }
  call->pool = p;
  call->future = NULL;
  call->host = NULL;
  call->attempts = 0;
  call->charged = 0;
  call->prepare_cql = NULL;
  call->prepared = NULL;
  cqlmux_wbuf_reset(&call->net.envelope);
  return call;
}

/* A call going back to the cache keeps the envelope block it grew, so the
 * next large request reuses it, but tightly and within a bound:
 * - a block that grew during this use to hold an envelope that fills more
 *   than half of it (growth doubles, so up to half may be unused) is fitted
 *   to that envelope, rounded up to 64 bytes. Only a growth leads to a fit,
 *   and a growth only comes with more bytes than the block holds, so
 *   alternating sizes never refit (no allocation per request). An envelope
 *   that needed more room while it was built than it keeps (v4 LZ4 reserves
 *   scratch after the body) leaves at most half the block used: no fit, or
 *   the next growth would come with every use;
 * - a block over CQLMUX_CALL_ENVELOPE_KEEP is freed: the call goes back to
 *   its inline room.
 * No thread touches the envelope once the call has completed. */
static void trim_envelope(cqlmux_call *call) {
  cqlmux_wbuf *e = &call->net.envelope;
  if (!cqlmux_wbuf_owns_block(e)) return;
  if (e->grown && e->len > e->cap / 2) cqlmux_wbuf_shrink_to(e, (e->len + 63) & ~(size_t)63);
  if (e->cap > CQLMUX_CALL_ENVELOPE_KEEP) use_inline_room(call);
}

void cqlmux_call_put(cqlmux_call *call) {
  cqlmux_call_pool *p = call->pool;
  cqlmux_result_recycle(&call->result); /* keeps a grown arena block for the next use */
  cqlmux_mem_free(&p->alloc, call->prepare_cql);
  cqlmux_prepared_free(call->prepared);
  call->prepare_cql = NULL;
  call->prepared = NULL;
  trim_envelope(call); /* outside the lock: it may free */
  cqlmux_allocator alloc = p->alloc;
  pthread_mutex_lock(&p->lock);
  bool keep = !p->session_gone && p->cached < p->max_cached;
  if (keep) {
    call->pool_next = p->free_list;
    p->free_list = call;
    p->cached++;
  }
  p->out--;
  release_locked(p); /* may free the pool: p is not used after this */
  if (!keep) destroy_call(&alloc, call);
}

/* The future's payload destructor: runs on the thread dropping the last
 * reference to the future. */
void cqlmux_call_free_payload(void *payload) { cqlmux_call_put(payload); }

/* ------------------------------------------- what a completed future holds */

const cqlmux_result *cqlmux_future_result(const cqlmux_future *future) {
  if (!future || cqlmux_future_error(future) != CQLMUX_OK) return NULL;
  const cqlmux_call *call = cqlmux_future_payload(future);
  const cqlmux_result *r = call ? &call->result : NULL;
  return r && r->has_result ? r : NULL;
}

int cqlmux_future_server_error(const cqlmux_future *future, cqlmux_server_error *out) {
  if (!future || !out || cqlmux_future_error(future) != CQLMUX_ERR_SERVER)
    return CQLMUX_ERR_INVALID_STATE;
  const cqlmux_call *call = cqlmux_future_payload(future);
  const cqlmux_result *r = call ? &call->result : NULL;
  if (!r || !r->has_error) return CQLMUX_ERR_INVALID_STATE;
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
  return CQLMUX_OK;
}


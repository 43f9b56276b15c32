#include "api/speculation.h"

#include <string.h>

#include "api/call.h"
#include "cluster/plan.h"
#include "net/loop.h"
#include "proto/opcode.h"
#include "runtime/alloc.h"
#include "runtime/objpool.h"

/* call_state bits: the call goes back to the pool once both are set. */
#define PRIMARY_OUT 1u
#define PAYLOAD_RELEASED 2u

struct cqlmux_speculation {
  cqlmux_allocator alloc;        /* a copy: the call pool may go first */
  cqlmux_session *session;
  cqlmux_call *call;             /* see "Lifetimes" in speculation.h */
  cqlmux_loop *loop;             /* the timer's: the first connection's */
  cqlmux_task arm_task;
  cqlmux_timer timer;
  cqlmux_plan plan;              /* walked by the timer only */
  cqlmux_wbuf envelope;          /* what each extra execution sends */
  uint64_t delay_us, timeout_us, submitted_us;
  unsigned extra_left;
  bool primary_settled;          /* the call's own request won (its thread only) */
  bool completing_extra;         /* written by the winner before it completes */
  atomic_uint refs;
  atomic_uint outstanding;
  atomic_bool decided;
  atomic_uint call_state;
};

/* An extra execution: a request of its own, never the call's. */
typedef struct extra_execution {
  cqlmux_request net;
  cqlmux_speculation *spec;
  cqlmux_host *host;
} extra_execution;

static void release(cqlmux_speculation *spec) {
  /* acq_rel: the last release sees every other holder's writes done. */
  if (atomic_fetch_sub_explicit(&spec->refs, 1, memory_order_acq_rel) != 1) return;
  cqlmux_allocator a = spec->alloc;
  cqlmux_wbuf_free(&spec->envelope);
  cqlmux_mem_free(&a, spec);
}

static void retain(cqlmux_speculation *spec) {
  /* relaxed: the caller holds a reference already. */
  atomic_fetch_add_explicit(&spec->refs, 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------- arbitration */

/* One execution's outcome: true when it wins. An error loses while another
 * execution may still answer; the last one wins whatever it is. seq_cst: the
 * count and the flag order every execution's view the same way. */
static bool settle(cqlmux_speculation *spec, bool failed) {
  unsigned left = atomic_fetch_sub(&spec->outstanding, 1) - 1;
  if (failed && left > 0) return false;
  bool expected = false;
  return atomic_compare_exchange_strong(&spec->decided, &expected, true);
}

static bool is_decided(cqlmux_speculation *spec) { return atomic_load(&spec->decided); }

bool cqlmux_speculation_primary_outcome(cqlmux_call *call, bool failed) {
  cqlmux_speculation *spec = call->spec;
  if (spec->primary_settled) return true; /* a retry of the winner */
  if (!settle(spec, failed)) return false;
  spec->primary_settled = true;
  return true;
}

void cqlmux_speculation_primary_out(cqlmux_call *call) {
  /* acq_rel: whoever sets the second bit sees the other side's last use. */
  unsigned was = atomic_fetch_or_explicit(&call->spec->call_state, PRIMARY_OUT,
                                          memory_order_acq_rel);
  if (was & PAYLOAD_RELEASED) cqlmux_call_put(call);
}

bool cqlmux_speculation_payload_released(cqlmux_call *call) {
  unsigned was = atomic_fetch_or_explicit(&call->spec->call_state, PAYLOAD_RELEASED,
                                          memory_order_acq_rel);
  return (was & PRIMARY_OUT) != 0;
}

void cqlmux_speculation_detach(cqlmux_call *call) {
  cqlmux_speculation *spec = call->spec;
  call->spec = NULL;
  release(spec);
}

bool cqlmux_speculation_completing_extra(const cqlmux_call *call) {
  return call->spec && call->spec->completing_extra;
}

/* ---------------------------------------------------------------- extra executions */

static void extra_finished(extra_execution *x) {
  cqlmux_speculation *spec = x->spec;
  cqlmux_wbuf_free(&x->net.envelope);
  cqlmux_mem_free(&spec->alloc, x);
  release(spec);
}

/* The winner hands its outcome to the call (alive: nothing completed it
 * before `decided` was set). */
static cqlmux_call *winning_call(extra_execution *x) {
  cqlmux_call *call = x->spec->call;
  call->host = x->host;
  call->attempts++;
  x->spec->completing_extra = true;
  return call;
}

static void on_extra_answer(cqlmux_request *req, uint8_t version, uint8_t opcode,
                            const uint8_t *body, size_t len, cqlmux_rbuf *buffer,
                            const cqlmux_body_prefix *prefix) {
  extra_execution *x = (extra_execution *)req;
  if (settle(x->spec, opcode == CQLMUX_OP_ERROR))
    cqlmux_session_deliver(winning_call(x), req->conn, version, opcode, body, len, buffer,
                           prefix, false);
  extra_finished(x);
}

static void on_extra_failure(cqlmux_request *req, int error, const char *message, bool sent) {
  (void)sent;
  extra_execution *x = (extra_execution *)req;
  if (settle(x->spec, true)) cqlmux_session_complete(winning_call(x), error, message);
  extra_finished(x);
}

static const cqlmux_request_ops extra_ops = {on_extra_answer, on_extra_failure};

/* The next host of the speculation's plan with a ready connection (the
 * plan was copied after the first execution took its host). */
static cqlmux_connection *next_connection(cqlmux_speculation *spec, cqlmux_host **host) {
  cqlmux_host *h;
  while ((h = cqlmux_plan_next(spec->session->cluster, &spec->plan))) {
    if (!h->has_pool) continue;
    cqlmux_connection *conn = cqlmux_pool_pick(&h->pool, NULL);
    if (conn) {
      *host = h;
      return conn;
    }
  }
  return NULL;
}

/* Sends one more execution; false when no host is left. Timer's loop. */
static bool start_extra(cqlmux_speculation *spec) {
  cqlmux_host *h = NULL;
  cqlmux_connection *conn = next_connection(spec, &h);
  if (!conn) return false;
  extra_execution *x = cqlmux_mem_calloc(&spec->alloc, 1, sizeof *x);
  if (!x) return false;
  x->spec = spec;
  x->host = h;
  cqlmux_wbuf_init(&x->net.envelope, &spec->alloc, 0);
  cqlmux_write_raw(&x->net.envelope, spec->envelope.data, spec->envelope.len);
  if (x->net.envelope.error || cqlmux_connection_admit(conn) != CQLMUX_OK) {
    cqlmux_wbuf_free(&x->net.envelope);
    cqlmux_mem_free(&spec->alloc, x);
    return false;
  }
  retain(spec);
  atomic_fetch_add(&spec->outstanding, 1); /* seq_cst: see settle */
  cqlmux_metrics_record_speculative(&h->metrics);
  x->net.timeout_us = spec->timeout_us;
  x->net.submitted_us = spec->submitted_us;
  cqlmux_request_reset(&x->net, &extra_ops, x);
  cqlmux_connection_post(conn, &x->net);
  return true;
}

/* ---------------------------------------------------------------- the timer */

static void on_delay(cqlmux_timer *timer, int status) {
  cqlmux_speculation *spec = timer->user_data;
  if (status == CQLMUX_OK && !is_decided(spec) && spec->extra_left > 0 && start_extra(spec) &&
      --spec->extra_left > 0 &&
      cqlmux_loop_timer_start(spec->loop, &spec->timer, spec->delay_us) == CQLMUX_OK)
    return; /* armed again: the timer keeps its reference */
  release(spec);
}

static void on_arm(cqlmux_task *task, int status) {
  cqlmux_speculation *spec = cqlmux_container_of(task, cqlmux_speculation, arm_task);
  cqlmux_timer_init(&spec->timer, on_delay, spec);
  if (status == CQLMUX_OK && !is_decided(spec) &&
      cqlmux_loop_timer_start(spec->loop, &spec->timer, spec->delay_us) == CQLMUX_OK)
    return;
  release(spec);
}

/* ---------------------------------------------------------------- submission */

cqlmux_speculation *cqlmux_speculation_new(cqlmux_session *s, cqlmux_call *call,
                                           unsigned delay_ms, unsigned max_extra) {
  if (!call->idempotent || max_extra == 0) return NULL;
  const cqlmux_allocator *alloc = cqlmux_objpool_allocator(call->pool);
  cqlmux_speculation *spec = cqlmux_mem_calloc(alloc, 1, sizeof *spec);
  if (!spec) return NULL; /* runs without speculating */
  spec->alloc = *alloc;
  spec->session = s;
  spec->call = call;
  spec->delay_us = (uint64_t)delay_ms * 1000;
  spec->extra_left = max_extra;
  cqlmux_wbuf_init(&spec->envelope, &spec->alloc, 0);
  atomic_init(&spec->refs, 2); /* the call's and the timer's */
  atomic_init(&spec->outstanding, 1);
  atomic_init(&spec->decided, false);
  atomic_init(&spec->call_state, 0);
  call->spec = spec;
  return spec;
}

void cqlmux_speculation_setup(cqlmux_speculation *spec, cqlmux_call *call,
                              cqlmux_connection *conn) {
  spec->loop = cqlmux_connection_loop(conn);
  spec->plan = call->plan;
  spec->timeout_us = call->net.timeout_us;
  spec->submitted_us = call->net.submitted_us;
  cqlmux_write_raw(&spec->envelope, call->net.envelope.data, call->net.envelope.len);
  if (spec->envelope.error) spec->extra_left = 0; /* NOMEM: no extra execution */
}

void cqlmux_speculation_arm(cqlmux_speculation *spec) {
  if (!spec->loop) {
    release(spec); /* never posted: the timer's reference goes */
    return;
  }
  cqlmux_task_init(&spec->arm_task, on_arm);
  cqlmux_loop_post(spec->loop, &spec->arm_task);
}

/* Futures: the completion side (internal) of the public cqlmux_future.
 *
 * Life cycle. cqlmux_future_new() returns a future holding two references:
 * the caller's (handed to the application, released by cqlmux_future_free)
 * and the library's (held by whoever will complete it, released by
 * cqlmux_future_release once it is done touching the future). The completer
 * calls cqlmux_future_complete() once; running the callback takes its own
 * reference for the duration of the call.
 *
 * State word (atomic bit set, see future.c):
 *   COMPLETING  elects the one completer        DONE     result published
 *   CB_CLAIM    elects the one set_callback     CB_SET   callback published
 *   WAITERS     a thread may sleep in wait      FREED    the user released
 *   EMBEDDED    the memory is another object's (constant for a use)
 * DONE and CB_SET are set by read-modify-writes on the same word, so exactly
 * one of complete() and set_callback() sees the other's bit and dispatches
 * the callback: exactly once, whichever comes first.
 *
 * Where the callback runs: if it was set before completion, the completer
 * submits it to the worker pool given at creation (which runs it inline when
 * the pool has no threads: on the I/O thread); if set after, inline on the
 * thread that sets it.
 */
#ifndef CQLMUX_RUNTIME_FUTURE_H
#define CQLMUX_RUNTIME_FUTURE_H

#include <stdatomic.h>

#include "cqlmux.h"
#include "runtime/task.h"
#include "runtime/workers.h"

/* Frees a payload. Runs on whichever thread drops the last reference to the
 * future (an application thread, a worker or an I/O thread), so it must not
 * depend on the thread, and it must not call back into the future. */
typedef void (*cqlmux_payload_free_fn)(void *payload);

/* The future itself, visible so that a pooled request object can embed one
 * (see cqlmux_future_embed_init); only future.c touches the fields.
 *
 * No lock and no condition variable: a thread waiting for completion sleeps
 * on the state word itself (a futex on Linux, a small shared table of
 * condition variables elsewhere; see future.c), so a future is 88 bytes and
 * an embedded one adds that much to its request. */
struct cqlmux_future {
  _Atomic unsigned state;        /* FUT_* bits (future.c); waits sleep on this word */
  _Atomic unsigned refs;
  int error;
  const cqlmux_allocator *alloc; /* a plain future's own copy; an embedded one's owner's */
  cqlmux_workers *workers;
  cqlmux_task task;              /* carries the callback to a worker */
  cqlmux_future_callback callback;
  void *callback_data;
  char *message;
  void *payload;
  cqlmux_payload_free_fn payload_free;
};

/* A pending future; the allocator is copied (next to the future, in the
 * same block), so the future may outlive whatever provided the allocator.
 * `workers` runs callbacks set before completion (NULL = inline on the
 * completing thread) and must stay alive until the future completes. NULL
 * when memory runs out. */
cqlmux_future *cqlmux_future_new(const cqlmux_allocator *alloc, cqlmux_workers *workers);

/* Embedded futures: a future living inside another object (the session's
 * pooled calls), so that a request allocates nothing for its future.
 *   embed_init   once, when the containing object is created. `alloc` (for
 *                error messages) is NOT copied: it must outlive the future,
 *                which the owner of the containing object guarantees (the
 *                call pool outlives its calls);
 *   embed_arm    before each use: pending, with the two references
 *                cqlmux_future_new gives; the previous use must be over;
 *   embed_destroy once, when the containing object is freed (not armed).
 * An armed embedded future must be completed with a payload whose
 * payload_free gives the containing object back: dropping the last
 * reference calls it, and then touches the future no more (the object, and
 * the future in it, may be reused or freed at once). */
void cqlmux_future_embed_init(cqlmux_future *future, const cqlmux_allocator *alloc);
void cqlmux_future_embed_arm(cqlmux_future *future, cqlmux_workers *workers);
void cqlmux_future_embed_destroy(cqlmux_future *future);

/* Complete the future: `error` is CQLMUX_OK or a negative code, `message`
 * (copied; may be NULL) describes an error, `payload` is the result handed to
 * the API layer, freed with `payload_free` (may be NULL) when the future goes.
 * Wakes waiters, dispatches the callback if one is set.
 * Returns CQLMUX_OK, or CQLMUX_ERR_INVALID_STATE when the future was already
 * completed (nothing changes: the caller keeps `payload`). Any thread, but
 * the caller must hold a reference. */
int cqlmux_future_complete(cqlmux_future *future, int error, const char *message, void *payload,
                           cqlmux_payload_free_fn payload_free);

/* Take and drop a library reference (the caller must already hold one to
 * retain). Dropping the last one frees the future and its payload. */
void cqlmux_future_retain(cqlmux_future *future);
void cqlmux_future_release(cqlmux_future *future);

/* The completer's payload, or NULL while pending. Borrowed: valid until the
 * last reference goes. */
void *cqlmux_future_payload(const cqlmux_future *future);

/* The payload when it is of the kind `kind` frees (its payload_free), else
 * NULL: the public getters of one kind of future (a request's call, a
 * trace) then refuse another kind's future instead of misreading it. */
void *cqlmux_future_payload_of(const cqlmux_future *future, cqlmux_payload_free_fn kind);

#endif

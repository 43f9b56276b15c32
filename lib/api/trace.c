/* cqlmux_session_trace: reads a request's trace from system_traces.
 *
 * Cassandra writes a trace after answering the request, the session row's
 * `duration` last. So the reader asks for the session row until it has a
 * duration (or the wait is over), then for the events, and completes the
 * trace future with both answers' futures (their results are the trace).
 *
 * Threads: each step is an ordinary request of the session whose callback
 * starts the next step, on a callback worker (or the I/O thread with no
 * workers; or inline on the submitting thread when a request fails at
 * submission). A wait between two reads is a timer on one of the session's
 * I/O loops: nothing sleeps and nothing blocks. One step runs at a time,
 * so the reader's fields need no lock: each step's writes happen before
 * the next step starts (the future's completion and the loop's queue
 * publish them). */
#include <stdio.h>
#include <string.h>

#include "api/session.h"
#include "net/loop.h"
#include "net/runtime.h"
#include "runtime/alloc.h"
#include "runtime/clock.h"
#include "runtime/future.h"

/* How often the session row is read again while the trace is incomplete,
 * and how long by default before giving up. */
#define TRACE_RETRY_US 10000u
#define TRACE_DEFAULT_WAIT_MS 2000u

typedef struct trace_reader {
  cqlmux_session *session;
  cqlmux_future *future;          /* the trace future: the library's reference */
  cqlmux_statement *session_query;
  cqlmux_statement *events_query;
  cqlmux_future *session_rows;    /* the answer kept: the session row */
  cqlmux_future *event_rows;      /* the events */
  cqlmux_loop *loop;              /* runs the waits */
  cqlmux_task wait_task;
  cqlmux_timer wait_timer;
  uint64_t deadline_us;
  unsigned max_wait_ms;
} trace_reader;

/* The trace future's payload destructor: any thread (the last reference).
 * The reader and its statements use the C library's allocator, as
 * statements do, because the trace future may outlive the session. */
static void trace_free(void *payload) {
  trace_reader *t = payload;
  cqlmux_future_free(t->session_rows);
  cqlmux_future_free(t->event_rows);
  cqlmux_statement_free(t->session_query);
  cqlmux_statement_free(t->events_query);
  cqlmux_mem_free(NULL, t);
}

/* Completes the trace future; the reader becomes its payload. */
static void finish(trace_reader *t, int error, const char *message) {
  cqlmux_future *f = t->future;
  cqlmux_future_complete(f, error, message, t, trace_free);
  cqlmux_future_release(f); /* may free t */
}

/* Ends the trace with the error of a read (which f carries). */
static void finish_with_read_error(trace_reader *t, cqlmux_future *f, const char *table) {
  char message[600];
  snprintf(message, sizeof message, "reading %s: %s", table, cqlmux_future_error_message(f));
  int error = cqlmux_future_error(f);
  cqlmux_future_free(f);
  finish(t, error, message);
}

static void read_session_row(trace_reader *t);

/* ---------------------------------------------------------------- waiting */

static void on_wait_over(cqlmux_timer *timer, int status) {
  trace_reader *t = timer->user_data;
  if (status != CQLMUX_OK) {
    finish(t, CQLMUX_ERR_SHUTDOWN, "the session closed while the trace was read");
    return;
  }
  read_session_row(t);
}

/* On the loop's thread: arm the wait there (timers are the loop's own). */
static void on_wait_posted(cqlmux_task *task, int status) {
  trace_reader *t = cqlmux_container_of(task, trace_reader, wait_task);
  cqlmux_timer_init(&t->wait_timer, on_wait_over, t);
  if (status != CQLMUX_OK ||
      cqlmux_loop_timer_start(t->loop, &t->wait_timer, TRACE_RETRY_US) != CQLMUX_OK)
    finish(t, CQLMUX_ERR_SHUTDOWN, "the session closed while the trace was read");
}

static void wait_then_read_again(trace_reader *t) {
  cqlmux_task_init(&t->wait_task, on_wait_posted);
  cqlmux_loop_post(t->loop, &t->wait_task); /* a refusal runs the task with SHUTDOWN */
}

/* ---------------------------------------------------------------- reading */

static void on_event_rows(cqlmux_future *f, void *user_data) {
  trace_reader *t = user_data;
  if (cqlmux_future_error(f) != CQLMUX_OK) {
    finish_with_read_error(t, f, "system_traces.events");
    return;
  }
  t->event_rows = f;
  finish(t, CQLMUX_OK, NULL);
}

/* Submits one read; `next` gets its answer. */
static void submit_read(trace_reader *t, const cqlmux_statement *query,
                        cqlmux_future_callback next) {
  cqlmux_future *f = cqlmux_session_execute(t->session, query);
  if (!f) {
    finish(t, CQLMUX_ERR_NOMEM, "no memory to read the trace");
    return;
  }
  cqlmux_future_set_callback(f, next, t);
}

static void read_events(trace_reader *t) { submit_read(t, t->events_query, on_event_rows); }

/* 1 when the session row is there with a duration, 0 when it is there
 * without one, -1 when it is not there yet. */
static int session_row_state(const cqlmux_result *r) {
  if (!r || cqlmux_result_row_count(r) == 0) return -1;
  int col = cqlmux_result_column_index(r, "duration");
  return col >= 0 && !cqlmux_result_is_null(r, 0, (size_t)col) ? 1 : 0;
}

static void on_session_rows(cqlmux_future *f, void *user_data) {
  trace_reader *t = user_data;
  if (cqlmux_future_error(f) != CQLMUX_OK) {
    finish_with_read_error(t, f, "system_traces.sessions");
    return;
  }
  int state = session_row_state(cqlmux_future_result(f));
  bool waited_enough = cqlmux_clock_now_us() >= t->deadline_us;
  if (state == 1 || (state == 0 && waited_enough)) {
    t->session_rows = f;
    read_events(t);
    return;
  }
  cqlmux_future_free(f);
  if (!waited_enough) {
    wait_then_read_again(t);
    return;
  }
  char message[160];
  snprintf(message, sizeof message,
           "no row in system_traces.sessions for the tracing id after %u ms", t->max_wait_ms);
  finish(t, CQLMUX_ERR_TIMEOUT, message);
}

static void read_session_row(trace_reader *t) {
  submit_read(t, t->session_query, on_session_rows);
}

/* ---------------------------------------------------------------- starting */

/* A read of `table` for one session id at ONE, every row in one page. */
static cqlmux_statement *trace_query(const char *cql, const uint8_t id[16]) {
  cqlmux_statement *s = cqlmux_statement_new(cql, 1);
  if (s && cqlmux_statement_bind_uuid(s, 0, id) == CQLMUX_OK &&
      cqlmux_statement_set_consistency(s, CQLMUX_CONSISTENCY_ONE) == CQLMUX_OK &&
      cqlmux_statement_set_page_size(s, 0) == CQLMUX_OK &&
      cqlmux_statement_set_idempotent(s, 1) == CQLMUX_OK)
    return s;
  cqlmux_statement_free(s);
  return NULL;
}

cqlmux_future *cqlmux_session_trace(cqlmux_session *s, const uint8_t tracing_id[16],
                                    unsigned max_wait_ms) {
  if (!s || !tracing_id) return NULL;
  trace_reader *t = cqlmux_mem_calloc(NULL, 1, sizeof *t);
  if (!t) return NULL;
  t->session = s;
  t->max_wait_ms = max_wait_ms ? max_wait_ms : TRACE_DEFAULT_WAIT_MS;
  t->deadline_us = cqlmux_clock_now_us() + (uint64_t)t->max_wait_ms * 1000u;
  t->loop = cqlmux_runtime_next_loop(s->runtime);
  t->session_query =
      trace_query("SELECT * FROM system_traces.sessions WHERE session_id = ?", tracing_id);
  t->events_query =
      trace_query("SELECT * FROM system_traces.events WHERE session_id = ?", tracing_id);
  cqlmux_future *f = t->session_query && t->events_query ? cqlmux_runtime_future_new(s->runtime)
                                                         : NULL;
  if (!f) {
    trace_free(t);
    return NULL;
  }
  /* The caller's reference and the library's (released by finish). */
  t->future = f;
  read_session_row(t);
  return f;
}

/* The reader a completed, successful trace future holds; else NULL. */
static const trace_reader *trace_of(const cqlmux_future *f) {
  if (!f || cqlmux_future_error(f) != CQLMUX_OK) return NULL;
  return cqlmux_future_payload_of(f, trace_free);
}

const cqlmux_result *cqlmux_future_trace_session(const cqlmux_future *f) {
  const trace_reader *t = trace_of(f);
  return t ? cqlmux_future_result(t->session_rows) : NULL;
}

const cqlmux_result *cqlmux_future_trace_events(const cqlmux_future *f) {
  const trace_reader *t = trace_of(f);
  return t ? cqlmux_future_result(t->event_rows) : NULL;
}

/* The fault engine: fault rules, their triggers, and the verdict for each
 * request. Rules and counters are scenario state, under server->mu. */
#include "config.h"

#include "mock/mock_internal.h"

#include <stdio.h>
#include <string.h>

typedef enum fault_class {
  FAULT_RESPONSE, /* acts on matching requests while active */
  FAULT_STATE,    /* applies to its scope while active */
  FAULT_ONE_SHOT  /* runs once per trigger */
} fault_class;

static fault_class class_of(const cqlmux_mock_fault *f) {
  switch (f->kind) {
  case CQLMUX_MOCK_STOP_READING:
  case CQLMUX_MOCK_REFUSE:
    return FAULT_STATE;
  case CQLMUX_MOCK_RESTART:
  case CQLMUX_MOCK_PUSH_EVENT:
    return FAULT_ONE_SHOT;
  case CQLMUX_MOCK_CLOSE:
    /* Triggered by a request it closes that request's connection; by time
     * or command it closes everything in scope once. */
    return f->trigger == CQLMUX_MOCK_AFTER_REQUESTS ? FAULT_RESPONSE : FAULT_ONE_SHOT;
  default:
    return FAULT_RESPONSE;
  }
}

void mock_event_copy(cqlmux_mock_event *dst, const cqlmux_mock_event *src) {
  *dst = *src;
  dst->change = mock_xstrdup(src->change);
  dst->target = mock_xstrdup(src->target);
  dst->keyspace = mock_xstrdup(src->keyspace);
  dst->name = mock_xstrdup(src->name);
  dst->args = mock_xstrdup(src->args);
}

void mock_event_release(cqlmux_mock_event *e) {
  mock_free((void *)e->change);
  mock_free((void *)e->target);
  mock_free((void *)e->keyspace);
  mock_free((void *)e->name);
  mock_free((void *)e->args);
  memset(e, 0, sizeof *e);
}

void cqlmux_mock_fault_init(cqlmux_mock_fault *f, cqlmux_mock_fault_kind kind) {
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->node = CQLMUX_MOCK_ANY;
  f->connection = CQLMUX_MOCK_ANY;
  f->opcode = CQLMUX_MOCK_ANY;
  f->trigger = CQLMUX_MOCK_NOW;
}

mock_fault *mock_fault_find(cqlmux_mock *m, int id) {
  for (size_t i = 0; i < m->fault_count; i++)
    if (m->faults[i]->id == id) return m->faults[i];
  return NULL;
}

void mock_fault_set_label(cqlmux_mock *m, int id, const char *label) {
  pthread_mutex_lock(&m->mu);
  mock_fault *f = mock_fault_find(m, id);
  if (f) snprintf(f->label, sizeof f->label, "%s", label);
  pthread_mutex_unlock(&m->mu);
}

int mock_fault_by_label(cqlmux_mock *m, const char *label) {
  int id = 0;
  pthread_mutex_lock(&m->mu);
  for (size_t i = 0; i < m->fault_count && !id; i++)
    if (m->faults[i]->label[0] && !strcmp(m->faults[i]->label, label)) id = m->faults[i]->id;
  pthread_mutex_unlock(&m->mu);
  return id;
}

static bool in_scope(const mock_fault *f, int node, int64_t conn) {
  return (f->spec.node == CQLMUX_MOCK_ANY || f->spec.node == node) &&
         (f->spec.connection == CQLMUX_MOCK_ANY || f->spec.connection == conn);
}

static bool request_matches(const mock_fault *f, const mock_request_view *r) {
  if (f->spec.kind == CQLMUX_MOCK_IGNORE_HEARTBEAT &&
      (r->opcode != CQLMUX_OP_OPTIONS || !r->after_startup))
    return false;
  if (f->spec.opcode != CQLMUX_MOCK_ANY && f->spec.opcode != r->opcode) return false;
  return mock_text_match(f->spec.query, r->query, r->query_len);
}

/* ------------------------------------------------------------ verdicts */

static void apply_response_fault(const mock_fault *f, mock_verdict *v) {
  const cqlmux_mock_fault *s = &f->spec;
  switch (s->kind) {
  case CQLMUX_MOCK_DELAY:
    if (s->delay_ms > v->delay_ms) v->delay_ms = s->delay_ms;
    break;
  case CQLMUX_MOCK_NO_RESPONSE:
  case CQLMUX_MOCK_IGNORE_HEARTBEAT:
    if (v->disposition == MOCK_ANSWER) v->disposition = MOCK_DROP;
    break;
  case CQLMUX_MOCK_CLOSE:
    v->disposition = s->arg ? MOCK_CLOSE_RESET : MOCK_CLOSE;
    break;
  case CQLMUX_MOCK_OUT_OF_ORDER:
    v->hold = true;
    v->hold_window = s->arg;
    break;
  case CQLMUX_MOCK_MALFORMED:
  case CQLMUX_MOCK_TRUNCATED:
  case CQLMUX_MOCK_WRONG_STREAM:
  case CQLMUX_MOCK_BAD_CRC:
  case CQLMUX_MOCK_OVERSIZED:
    if (v->mangle != MOCK_MANGLE_NONE) break;
    if (s->kind == CQLMUX_MOCK_MALFORMED)
      v->mangle = s->arg == 1 ? MOCK_MANGLE_BAD_OPCODE : MOCK_MANGLE_MALFORMED;
    else if (s->kind == CQLMUX_MOCK_TRUNCATED)
      v->mangle = MOCK_MANGLE_TRUNCATE;
    else if (s->kind == CQLMUX_MOCK_WRONG_STREAM)
      v->mangle = MOCK_MANGLE_WRONG_STREAM;
    else if (s->kind == CQLMUX_MOCK_OVERSIZED)
      v->mangle = MOCK_MANGLE_OVERSIZED;
    else
      v->mangle = s->arg == 1 ? MOCK_MANGLE_BAD_HEADER_CRC : MOCK_MANGLE_BAD_CRC;
    v->mangle_arg = s->arg;
    v->close_delay_ms = s->delay_ms;
    break;
  default:
    break;
  }
  if (!v->fault) v->fault = f->id;
}

static void queue_action(mock_verdict *v, const mock_fault *f) {
  mock_action *a = mock_xcalloc(1, sizeof *a);
  a->fault = f->id;
  a->kind = f->spec.kind;
  a->node = f->spec.node;
  a->connection = f->spec.connection;
  a->arg = f->spec.arg;
  mock_event_copy(&a->event, &f->spec.event);
  mock_action **tail = &v->actions;
  while (*tail) tail = &(*tail)->next;
  *tail = a;
}

/* First sight of a matching request for a fault not yet active: counts it
 * toward AFTER_REQUESTS, and returns whether the fault acts on it. */
static bool trigger_by_request(cqlmux_mock *m, mock_fault *f, const mock_request_view *r,
                               mock_verdict *v) {
  if (f->spec.trigger != CQLMUX_MOCK_AFTER_REQUESTS) return false;
  if (++f->seen <= f->spec.after) return false;
  switch (class_of(&f->spec)) {
  case FAULT_RESPONSE:
    f->active = true;
    return true;
  case FAULT_STATE:
    f->active = true;
    v->refresh = true;
    break;
  case FAULT_ONE_SHOT:
    f->ended = true;
    queue_action(v, f);
    break;
  }
  f->hits++;
  mock_record_hit(m, f, r->node, r->connection, r->stream, r->seq);
  return false;
}

void mock_faults_on_request(cqlmux_mock *m, const mock_request_view *r, mock_verdict *v) {
  memset(v, 0, sizeof *v);
  for (size_t i = 0; i < m->fault_count; i++) {
    mock_fault *f = m->faults[i];
    if (f->ended || !in_scope(f, r->node, r->connection) || !request_matches(f, r)) continue;
    bool acts = f->active ? class_of(&f->spec) == FAULT_RESPONSE : trigger_by_request(m, f, r, v);
    if (!acts) continue;
    apply_response_fault(f, v);
    f->hits++;
    mock_record_hit(m, f, r->node, r->connection, r->stream, r->seq);
    if (f->spec.times && f->hits >= f->spec.times) {
      f->active = false;
      f->ended = true;
    }
  }
}

bool mock_faults_stop_reading(cqlmux_mock *m, int node, int64_t conn) {
  for (size_t i = 0; i < m->fault_count; i++) {
    const mock_fault *f = m->faults[i];
    if (f->active && f->spec.kind == CQLMUX_MOCK_STOP_READING && in_scope(f, node, conn))
      return true;
  }
  return false;
}

bool mock_faults_refuse(cqlmux_mock *m, int node) {
  for (size_t i = 0; i < m->fault_count; i++) {
    const mock_fault *f = m->faults[i];
    if (f->active && f->spec.kind == CQLMUX_MOCK_REFUSE &&
        (f->spec.node == CQLMUX_MOCK_ANY || f->spec.node == node))
      return true;
  }
  return false;
}

/* ------------------------------------------------------------ actions */

static void restart_nodes(cqlmux_mock *m, int node, uint32_t down_ms) {
  if (node != CQLMUX_MOCK_ANY) {
    cqlmux_mock_node_restart(m, node, down_ms);
    return;
  }
  int count = cqlmux_mock_node_count(m);
  for (int i = 0; i < count; i++) cqlmux_mock_node_restart(m, i, down_ms);
}

static void run_one(cqlmux_mock *m, int node, int64_t conn, cqlmux_mock_fault_kind kind,
                    uint32_t arg, const cqlmux_mock_event *ev) {
  switch (kind) {
  case CQLMUX_MOCK_RESTART:
    restart_nodes(m, node, arg);
    break;
  case CQLMUX_MOCK_PUSH_EVENT:
    cqlmux_mock_push_event(m, node, ev);
    break;
  case CQLMUX_MOCK_CLOSE: {
    mock_cmd cmd = {.kind = MOCK_CMD_CLOSE, .node = node, .connection = conn, .reset = arg != 0};
    mock_post_all(m, &cmd);
    break;
  }
  default:
    break;
  }
}

void mock_actions_run(cqlmux_mock *m, mock_action *a) {
  while (a) {
    mock_action *next = a->next;
    run_one(m, a->node, a->connection, a->kind, a->arg, &a->event);
    mock_event_release(&a->event);
    mock_free(a);
    a = next;
  }
}

static void refresh_all(cqlmux_mock *m) {
  mock_cmd cmd = {.kind = MOCK_CMD_REFRESH};
  mock_post_all(m, &cmd);
}

void mock_fault_activate(cqlmux_mock *m, int id) {
  pthread_mutex_lock(&m->mu);
  mock_fault *f = mock_fault_find(m, id);
  if (!f || f->ended) {
    pthread_mutex_unlock(&m->mu);
    return;
  }
  fault_class cls = class_of(&f->spec);
  cqlmux_mock_fault spec = f->spec;
  cqlmux_mock_event ev;
  mock_event_copy(&ev, &f->spec.event);
  if (cls != FAULT_ONE_SHOT) f->active = true;
  if (cls != FAULT_RESPONSE) {
    f->hits++;
    mock_record_hit(m, f, spec.node, spec.connection == CQLMUX_MOCK_ANY ? 0 : spec.connection,
                    -1, 0);
  }
  pthread_mutex_unlock(&m->mu);
  if (cls == FAULT_STATE) refresh_all(m);
  if (cls == FAULT_ONE_SHOT) run_one(m, spec.node, spec.connection, spec.kind, spec.arg, &ev);
  mock_event_release(&ev);
}

/* ------------------------------------------------------------ API */

static bool fault_valid(const cqlmux_mock_fault *f) {
  if (f->kind < CQLMUX_MOCK_DELAY || f->kind > CQLMUX_MOCK_PUSH_EVENT) return false;
  if (f->trigger < CQLMUX_MOCK_NOW || f->trigger > CQLMUX_MOCK_ON_COMMAND) return false;
  if (f->kind == CQLMUX_MOCK_PUSH_EVENT &&
      (f->event.type < CQLMUX_MOCK_EVENT_TOPOLOGY || f->event.type > CQLMUX_MOCK_EVENT_SCHEMA ||
       !f->event.change))
    return false;
  if (f->kind == CQLMUX_MOCK_REFUSE && f->connection != CQLMUX_MOCK_ANY) return false;
  return true;
}

int cqlmux_mock_fault_add(cqlmux_mock *m, const cqlmux_mock_fault *spec, int *id_out) {
  if (!m || !spec || !fault_valid(spec)) return CQLMUX_ERR_INVALID_ARGUMENT;
  mock_fault *f = mock_xcalloc(1, sizeof *f);
  f->spec = *spec;
  f->spec.query = mock_xstrdup(spec->query);
  mock_event_copy(&f->spec.event, &spec->event);
  pthread_mutex_lock(&m->mu);
  f->id = ++m->next_fault_id;
  m->faults = mock_xrealloc(m->faults, (m->fault_count + 1) * sizeof *m->faults);
  m->faults[m->fault_count++] = f;
  int id = f->id;
  pthread_mutex_unlock(&m->mu);
  if (id_out) *id_out = id;
  if (spec->trigger == CQLMUX_MOCK_NOW) {
    mock_fault_activate(m, id);
  } else if (spec->trigger == CQLMUX_MOCK_AFTER_MS) {
    mock_cmd cmd = {.kind = MOCK_CMD_TIMER,
                    .timer_kind = MOCK_TIMER_FAULT,
                    .fault = id,
                    .due_us = mock_now_us() + spec->after * 1000u};
    mock_post(&m->loops[0], &cmd, true);
  }
  return CQLMUX_OK;
}

int cqlmux_mock_fault_fire(cqlmux_mock *m, int id) {
  pthread_mutex_lock(&m->mu);
  mock_fault *f = mock_fault_find(m, id);
  if (f) f->ended = false;
  pthread_mutex_unlock(&m->mu);
  if (!f) return CQLMUX_ERR_NOT_FOUND;
  mock_fault_activate(m, id);
  return CQLMUX_OK;
}

int cqlmux_mock_fault_clear(cqlmux_mock *m, int id) {
  pthread_mutex_lock(&m->mu);
  mock_fault *f = mock_fault_find(m, id);
  bool state = false, held = false;
  cqlmux_mock_fault spec;
  if (f) {
    state = f->active && class_of(&f->spec) == FAULT_STATE;
    held = f->spec.kind == CQLMUX_MOCK_OUT_OF_ORDER;
    spec = f->spec;
    f->active = false;
    f->ended = true;
  }
  pthread_mutex_unlock(&m->mu);
  if (!f) return CQLMUX_ERR_NOT_FOUND;
  if (state) refresh_all(m);
  if (held) {
    mock_cmd cmd = {.kind = MOCK_CMD_RELEASE_HELD, .node = spec.node, .connection = spec.connection};
    mock_post_all(m, &cmd);
  }
  return CQLMUX_OK;
}

void cqlmux_mock_fault_clear_all(cqlmux_mock *m) {
  pthread_mutex_lock(&m->mu);
  int last = m->next_fault_id;
  pthread_mutex_unlock(&m->mu);
  for (int id = 1; id <= last; id++) cqlmux_mock_fault_clear(m, id);
}

uint64_t cqlmux_mock_fault_hits(cqlmux_mock *m, int id) {
  pthread_mutex_lock(&m->mu);
  mock_fault *f = mock_fault_find(m, id);
  uint64_t hits = f ? f->hits : 0;
  pthread_mutex_unlock(&m->mu);
  return hits;
}

void mock_faults_free(cqlmux_mock *m) {
  for (size_t i = 0; i < m->fault_count; i++) {
    mock_free((void *)m->faults[i]->spec.query);
    mock_event_release(&m->faults[i]->spec.event);
    mock_free(m->faults[i]);
  }
  mock_free(m->faults);
  m->faults = NULL;
  m->fault_count = 0;
}

#include "api/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/session.h"
#include "cluster/cluster.h"
#include "proto/response.h"
#include "runtime/alloc.h"

const char *cqlmux_metrics_error_kind_name(cqlmux_metrics_error_kind kind) {
  static const char *const names[CQLMUX_METRICS_ERROR_KINDS] = {
      "timeout",  "busy", "connection", "no_hosts", "shutdown", "server_read_timeout",
      "server_write_timeout", "server_unavailable", "server_overloaded", "server_other",
      "other"};
  return (unsigned)kind < CQLMUX_METRICS_ERROR_KINDS ? names[kind] : "unknown";
}

/* ================================================================ reading */

static uint64_t load(const _Atomic uint64_t *v) {
  /* relaxed: counters read for a report; see metrics.h. */
  return atomic_load_explicit(v, memory_order_relaxed);
}

void cqlmux_metrics_block_add(const cqlmux_metrics_block *b, cqlmux_metrics *out,
                              cqlmux_histogram_snapshot *hist) {
  cqlmux_histogram_snapshot mine;
  cqlmux_histogram_snapshot_take(&b->latency, &mine);
  cqlmux_histogram_snapshot_add(hist, &mine);
  out->requests += mine.count;
  for (unsigned k = 0; k < CQLMUX_METRICS_ERROR_KINDS; k++) {
    uint64_t n = load(&b->errors[k]);
    out->errors_by_kind[k] += n;
    out->errors += n;
  }
  for (unsigned r = 0; r < CQLMUX_RETRY_REASONS; r++) {
    uint64_t n = load(&b->retries[r]);
    out->retries_by_reason[r] += n;
    out->retries += n;
  }
  out->ignored_errors += load(&b->ignored);
  out->speculative_executions += load(&b->speculative_executions);
}

void cqlmux_metrics_latency_from(const cqlmux_histogram_snapshot *h, cqlmux_latency *out) {
  out->count = h->count;
  out->sum_us = h->sum;
  out->mean_us = cqlmux_histogram_mean(h);
  out->p50_us = cqlmux_histogram_quantile(h, 0.5);
  out->p90_us = cqlmux_histogram_quantile(h, 0.9);
  out->p99_us = cqlmux_histogram_quantile(h, 0.99);
  out->p999_us = cqlmux_histogram_quantile(h, 0.999);
  out->max_us = h->max;
}

static void add_connection(const cqlmux_pool_slot *slot, cqlmux_metrics *out) {
  /* acquire: pairs with the release that published the connection. */
  cqlmux_connection *conn = atomic_load_explicit(&((cqlmux_pool_slot *)slot)->conn,
                                                 memory_order_acquire);
  if (!conn) return;
  const cqlmux_conn_stats *st = cqlmux_connection_stats(conn);
  /* relaxed: statistics; see struct cqlmux_conn_stats. */
  out->in_flight += atomic_load_explicit(&st->in_flight, memory_order_relaxed);
  out->queued += atomic_load_explicit(&st->queued, memory_order_relaxed);
  out->busy_rejections += atomic_load_explicit(&st->busy_rejections, memory_order_relaxed);
  out->timeouts += atomic_load_explicit(&st->timeouts, memory_order_relaxed);
  out->bytes_in += atomic_load_explicit(&st->bytes_in, memory_order_relaxed);
  out->bytes_out += atomic_load_explicit(&st->bytes_out, memory_order_relaxed);
  out->heartbeats += atomic_load_explicit(&st->heartbeats, memory_order_relaxed);
  /* acquire: as in the pool's pick (cluster/pool.c). */
  out->connections_open += atomic_load_explicit(&slot->ready, memory_order_acquire);
}

static uint64_t counter(const atomic_ulong *v) {
  /* relaxed: counters read for a report. */
  return atomic_load_explicit(v, memory_order_relaxed);
}

/* Adds host h's metrics into out and its histogram into hist. The pool's
 * slots exist for as long as the host (a host is never freed before the
 * session), so reading them races only with counters. */
static void add_host(const cqlmux_host *h, cqlmux_metrics *out, cqlmux_histogram_snapshot *hist) {
  cqlmux_metrics_block_add(&h->metrics, out, hist);
  if (!h->has_pool) return;
  const cqlmux_pool *p = &h->pool;
  unsigned used = atomic_load_explicit(&p->used_slots, memory_order_relaxed);
  for (unsigned j = 0; j < used; j++) add_connection(&p->slots[j], out);
  out->pool_scale_ups += counter(&p->scale_ups);
  out->pool_scale_downs += counter(&p->scale_downs);
  out->reconnects += counter(&p->reconnects);
}

int cqlmux_session_metrics(const cqlmux_session *s, cqlmux_metrics *out) {
  if (!s || !out) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_histogram_snapshot hist;
  memset(&hist, 0, sizeof hist);
  memset(out, 0, sizeof *out);
  const cqlmux_host_list *l = cqlmux_cluster_hosts(s->cluster);
  for (unsigned i = 0; i < l->count; i++) add_host(l->hosts[i], out, &hist);
  cqlmux_metrics_block_add(&s->unrouted, out, &hist);
  cqlmux_metrics_latency_from(&hist, &out->latency);
  out->topology_refreshes = cqlmux_cluster_refreshes(s->cluster);
  return CQLMUX_OK;
}

size_t cqlmux_session_host_count(const cqlmux_session *s) {
  return s ? cqlmux_cluster_hosts(s->cluster)->count : 0;
}

int cqlmux_session_host_metrics(const cqlmux_session *s, size_t index, cqlmux_metrics *out,
                                char *address, size_t address_cap) {
  if (!s || !out || (address && !address_cap)) return CQLMUX_ERR_INVALID_ARGUMENT;
  const cqlmux_host_list *l = cqlmux_cluster_hosts(s->cluster);
  if (index >= l->count) return CQLMUX_ERR_NOT_FOUND;
  cqlmux_histogram_snapshot hist;
  memset(&hist, 0, sizeof hist);
  memset(out, 0, sizeof *out);
  add_host(l->hosts[index], out, &hist);
  cqlmux_metrics_latency_from(&hist, &out->latency);
  if (address) snprintf(address, address_cap, "%s", l->hosts[index]->address);
  return CQLMUX_OK;
}

/* ================================================================ Prometheus */

/* Appends into a caller buffer, counting what does not fit: once a write
 * is cut short nothing more is written, so buf keeps a clean prefix. */
typedef struct text_out {
  char *buf;
  size_t cap;
  size_t len;
  bool full;
} text_out;

__attribute__((format(printf, 2, 3))) static void out_printf(text_out *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  bool room = !t->full && t->len < t->cap;
  int n = vsnprintf(room ? t->buf + t->len : NULL, room ? t->cap - t->len : 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (!room || t->len + (size_t)n >= t->cap) t->full = true;
  t->len += (size_t)n;
}

/* One labelled view: the session (label NULL) or a host. */
typedef struct view {
  const char *label;
  cqlmux_metrics m;
} view;

typedef struct scalar_family {
  const char *name;   /* after cqlmux_session_ / cqlmux_host_ */
  const char *type;
  const char *help;
  size_t offset;      /* of a uint64_t in cqlmux_metrics */
} scalar_family;

#define FIELD(f) offsetof(cqlmux_metrics, f)
static const scalar_family scalars[] = {
    {"requests_total", "counter", "Requests completed, with success or error.", FIELD(requests)},
    {"timeouts_total", "counter", "Requests whose timeout fired on a connection.", FIELD(timeouts)},
    {"retries_total", "counter", "Attempts after a request's first.", FIELD(retries)},
    {"ignored_errors_total", "counter", "Errors a retry policy turned into empty results.",
     FIELD(ignored_errors)},
    {"speculative_executions_total", "counter", "Speculative executions started.",
     FIELD(speculative_executions)},
    {"busy_rejections_total", "counter", "Requests refused by connection backpressure.",
     FIELD(busy_rejections)},
    {"in_flight_requests", "gauge", "Requests holding a stream id.", FIELD(in_flight)},
    {"queued_requests", "gauge", "Requests waiting above the high watermark.", FIELD(queued)},
    {"connections_open", "gauge", "Connections ready for requests.", FIELD(connections_open)},
    {"bytes_received_total", "counter", "Bytes received on the connections.", FIELD(bytes_in)},
    {"bytes_sent_total", "counter", "Bytes sent on the connections.", FIELD(bytes_out)},
    {"heartbeats_total", "counter", "Heartbeats sent on idle connections.", FIELD(heartbeats)},
    {"pool_scale_ups_total", "counter", "Connections opened because a pool was saturated.",
     FIELD(pool_scale_ups)},
    {"pool_scale_downs_total", "counter", "Connections closed after the pool idle timeout.",
     FIELD(pool_scale_downs)},
    {"reconnects_total", "counter", "Attempts to bring a DOWN host back.", FIELD(reconnects)},
    {"topology_refreshes_total", "counter", "Re-reads of the cluster's topology (session only).",
     FIELD(topology_refreshes)},
};
#undef FIELD

static void header(text_out *t, const char *scope, const char *name, const char *type,
                   const char *help) {
  out_printf(t, "# HELP cqlmux_%s_%s %s\n# TYPE cqlmux_%s_%s %s\n", scope, name, help, scope, name,
             type);
}

/* The label set: host="..." for a host view, then `extra` (already
 * formatted, e.g. kind="busy"); nothing at all when both are absent. */
static void labels(text_out *t, const view *v, const char *extra) {
  if (!v->label && !extra) return;
  out_printf(t, "{");
  if (v->label) {
    out_printf(t, "host=\"");
    for (const char *p = v->label; *p; p++) {
      if (*p == '\\' || *p == '"')
        out_printf(t, "\\%c", *p);
      else if (*p == '\n')
        out_printf(t, "\\n");
      else
        out_printf(t, "%c", *p);
    }
    out_printf(t, "\"%s", extra ? "," : "");
  }
  out_printf(t, "%s}", extra ? extra : "");
}

/* name{labels} value, the value an integer or microseconds as seconds. */
static void sample(text_out *t, const char *scope, const char *name, const view *v,
                   const char *extra, uint64_t value, bool as_seconds) {
  out_printf(t, "cqlmux_%s_%s", scope, name);
  labels(t, v, extra);
  if (as_seconds)
    out_printf(t, " %llu.%06llu\n", (unsigned long long)(value / 1000000),
               (unsigned long long)(value % 1000000));
  else
    out_printf(t, " %llu\n", (unsigned long long)value);
}

/* A counter family with one label over an array of cqlmux_metrics (at
 * `offset`, `count` entries): errors by kind, retries by reason. */
typedef struct labelled_family {
  const char *name, *help, *label;
  const char *(*value_name)(unsigned i);
  unsigned count;
  size_t offset;
} labelled_family;

static void render_labelled(text_out *t, const char *scope, const labelled_family *f,
                            const view *views, size_t n) {
  header(t, scope, f->name, "counter", f->help);
  for (size_t i = 0; i < n; i++)
    for (unsigned k = 0; k < f->count; k++) {
      char label[64];
      snprintf(label, sizeof label, "%s=\"%s\"", f->label, f->value_name(k));
      const uint64_t *values = (const uint64_t *)((const char *)&views[i].m + f->offset);
      sample(t, scope, f->name, &views[i], label, values[k], false);
    }
}

static const char *error_kind_name(unsigned k) { return cqlmux_metrics_error_kind_name(k); }
static const char *retry_reason_name(unsigned r) { return cqlmux_retry_reason_name(r); }

static const labelled_family labelled[] = {
    {"errors_total", "Requests failed, by kind.", "kind", error_kind_name,
     CQLMUX_METRICS_ERROR_KINDS, offsetof(cqlmux_metrics, errors_by_kind)},
    {"retries_by_reason_total", "Attempts after the first, by reason.", "reason",
     retry_reason_name, CQLMUX_RETRY_REASONS, offsetof(cqlmux_metrics, retries_by_reason)},
};

static void render_latency(text_out *t, const char *scope, const view *views, size_t n) {
  static const char *const quantiles[] = {"quantile=\"0.5\"", "quantile=\"0.9\"",
                                          "quantile=\"0.99\"", "quantile=\"0.999\""};
  const char *name = "request_latency_seconds";
  header(t, scope, name, "summary", "Time from submission to completion of requests.");
  for (size_t i = 0; i < n; i++) {
    const cqlmux_latency *l = &views[i].m.latency;
    const uint64_t values[] = {l->p50_us, l->p90_us, l->p99_us, l->p999_us};
    for (size_t j = 0; j < sizeof values / sizeof *values; j++)
      sample(t, scope, name, &views[i], quantiles[j], values[j], true);
    sample(t, scope, "request_latency_seconds_sum", &views[i], NULL, l->sum_us,
           true);
    sample(t, scope, "request_latency_seconds_count", &views[i], NULL, l->count, false);
  }
  name = "request_latency_max_seconds";
  header(t, scope, name, "gauge", "Slowest request completed.");
  for (size_t i = 0; i < n; i++) sample(t, scope, name, &views[i], NULL, views[i].m.latency.max_us, true);
}

static void render_scope(text_out *t, const char *scope, const view *views, size_t n) {
  for (size_t f = 0; f < sizeof scalars / sizeof *scalars; f++) {
    header(t, scope, scalars[f].name, scalars[f].type, scalars[f].help);
    for (size_t i = 0; i < n; i++) {
      const uint64_t *value = (const uint64_t *)((const char *)&views[i].m + scalars[f].offset);
      sample(t, scope, scalars[f].name, &views[i], NULL, *value, false);
    }
  }
  for (size_t f = 0; f < sizeof labelled / sizeof *labelled; f++)
    render_labelled(t, scope, &labelled[f], views, n);
  render_latency(t, scope, views, n);
}

int cqlmux_session_metrics_prometheus(const cqlmux_session *s, char *buf, size_t cap,
                                      size_t *length) {
  if (!s || (!buf && cap)) return CQLMUX_ERR_INVALID_ARGUMENT;
  /* One list for the whole text: the hosts cannot change under it. */
  const cqlmux_host_list *l = cqlmux_cluster_hosts(s->cluster);
  size_t host_count = l->count;
  view *views = cqlmux_mem_calloc(s->alloc, host_count + 1, sizeof *views);
  if (!views) return CQLMUX_ERR_NOMEM;
  char (*labels)[64] = cqlmux_mem_calloc(s->alloc, host_count ? host_count : 1, 64);
  if (!labels) {
    cqlmux_mem_free(s->alloc, views);
    return CQLMUX_ERR_NOMEM;
  }
  cqlmux_session_metrics(s, &views[0].m);
  for (size_t i = 0; i < host_count; i++) {
    cqlmux_histogram_snapshot hist;
    memset(&hist, 0, sizeof hist);
    add_host(l->hosts[i], &views[i + 1].m, &hist);
    cqlmux_metrics_latency_from(&hist, &views[i + 1].m.latency);
    snprintf(labels[i], sizeof labels[i], "%s", l->hosts[i]->address);
    views[i + 1].label = labels[i];
  }
  text_out t = {buf, cap, 0, cap == 0};
  render_scope(&t, "session", views, 1);
  render_scope(&t, "host", views + 1, host_count);
  cqlmux_mem_free(s->alloc, labels);
  cqlmux_mem_free(s->alloc, views);
  if (length) *length = t.len;
  return t.len < cap ? CQLMUX_OK : CQLMUX_ERR_BUFFER_TOO_SMALL;
}

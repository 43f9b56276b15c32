/* Metrics: what the session records per host as requests complete, and the
 * reading side of the public cqlmux_session_metrics* calls (metrics.c).
 *
 * Recording. A block belongs to one host (or, for requests that never
 * reached a host, to the session). complete_call in session.c records each
 * completed request into its host's block: its latency into the histogram
 * (whose count is the request count) and, when it failed, its error kind.
 * Any thread; lock-free (relaxed atomics: counters, nothing published).
 * Gauges and wire counters are not recorded here: they are the connections'
 * own statistics (struct cqlmux_conn_stats), summed when read. */
#ifndef CQLMUX_API_METRICS_H
#define CQLMUX_API_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "cqlmux.h"
#include "runtime/histogram.h"
#include "runtime/request_metrics.h"

/* Adds the block's counters into out and its histogram into hist. */
void cqlmux_metrics_block_add(const cqlmux_metrics_block *b, cqlmux_metrics *out,
                              cqlmux_histogram_snapshot *hist);

/* Fills out->latency from a histogram snapshot. */
void cqlmux_metrics_latency_from(const cqlmux_histogram_snapshot *hist, cqlmux_latency *out);

#endif

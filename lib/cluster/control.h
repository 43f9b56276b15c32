/* The control connection: one connection per session, outside the pools,
 * that reads the cluster's topology (system.local, system.peers_v2 or
 * system.peers) and listens for TOPOLOGY_CHANGE, STATUS_CHANGE and
 * SCHEMA_CHANGE events.
 *
 * At connect it tries the resolved contact points in turn; afterwards, when
 * its node fails, it moves at once to another UP host (LOCAL first), and
 * while none answers it retries on the reconnection schedule.
 *
 * After the peers it reads system_schema.keyspaces, for the token map,
 * and (schema metadata on) tables, columns, views and types, one after the
 * other, into a schema snapshot (schema.h) published when the last
 * arrives. A server that cannot answer these leaves the keyspaces unknown
 * (no token awareness) or the previous snapshot in place, never the
 * connection down.
 *
 * Events are debounced: the first arms a timer, events arriving before it
 * fires join it, and it costs one refresh. Topology events use the
 * topology delay and re-read everything (system.local, peers, schema);
 * SCHEMA_CHANGE events use the schema delay and re-read the schema alone
 * (only keyspace changes when schema metadata is off: they alone move
 * replicas).
 *
 * Thread: everything here runs on the control loop (I/O loop 0), except
 * cqlmux_control_start's post. */
#ifndef CQLMUX_CLUSTER_CONTROL_H
#define CQLMUX_CLUSTER_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster/reconnect.h"
#include "cluster/schema.h"
#include "cluster/topology.h"
#include "net/connection.h"
#include "proto/arena.h"

typedef struct cqlmux_cluster cqlmux_cluster;
typedef struct cqlmux_host cqlmux_host;

typedef enum cqlmux_control_phase {
  CQLMUX_CONTROL_IDLE = 0,
  CQLMUX_CONTROL_CONNECTING,
  CQLMUX_CONTROL_LOCAL,     /* reading system.local */
  CQLMUX_CONTROL_PEERS,     /* reading system.peers_v2 / peers */
  CQLMUX_CONTROL_KEYSPACES, /* reading system_schema.keyspaces */
  CQLMUX_CONTROL_SCHEMA,    /* reading the rest of system_schema (schema_step) */
  CQLMUX_CONTROL_REGISTER,  /* REGISTER sent */
  CQLMUX_CONTROL_READY
} cqlmux_control_phase;

typedef struct cqlmux_control {
  cqlmux_cluster *cluster;
  cqlmux_control_phase phase;
  cqlmux_connection *conn;        /* current (or NULL) */
  cqlmux_connection **spent;      /* earlier ones, freed with the cluster: a task */
  size_t spent_count, spent_cap;  /*   posted to one may still be queued */
  cqlmux_endpoint endpoint;       /* where conn goes */
  cqlmux_endpoint *candidates;    /* what to try next, in order */
  size_t candidate_count, next_candidate;
  bool initial;                   /* still connecting the session */
  bool peers_v1;                  /* the server has no system.peers_v2 */
  bool refresh_wanted;            /* a topology event came while a read was under way */
  bool schema_wanted;             /* a schema event came while a read was under way */
  bool topology_pending;          /* topology events waiting for debounce_timer */
  bool debounce_armed;
  bool schema_armed;              /* schema events waiting for schema_timer */
  bool schema_in_read;            /* the keyspaces read goes on to the schema */
  bool request_out;               /* req is in flight */
  bool conn_registered;           /* conn has REGISTERed for events */
  cqlmux_request req;
  cqlmux_arena arena;
  cqlmux_node_desc *local;        /* system.local's row, until peers arrive */
  size_t local_count;
  cqlmux_timer debounce_timer;
  cqlmux_timer schema_timer;
  cqlmux_schema_step schema_step; /* the read under way in phase SCHEMA */
  cqlmux_schema_builder schema;   /* the snapshot being read (schema = NULL: none) */
  cqlmux_timer retry_timer;
  cqlmux_reconnect schedule;
  char errors[1024];              /* "addr: why; ..." for connect's message */
  int first_error;                /* the first attempt's error code, for connect */
} cqlmux_control;

void cqlmux_control_init(cqlmux_control *ctl, cqlmux_cluster *cluster);

/* Starts connecting to `endpoints` (copied) in order. Control loop. */
void cqlmux_control_start(cqlmux_control *ctl, const cqlmux_endpoint *endpoints, size_t count);

/* Closes the control connection for good. Control loop. */
void cqlmux_control_stop(cqlmux_control *ctl);

/* Frees the connections (loops joined). */
void cqlmux_control_destroy(cqlmux_control *ctl);

#endif

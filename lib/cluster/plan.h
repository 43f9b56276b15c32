/* Query plans: for each request, the hosts it may try, in order.
 *
 * A plan is built when the request is submitted and walked as it fails
 * over (retries, unsent requests after a connection failure). It lives
 * inside the request (the session's call), so building one allocates
 * nothing; it reads only immutable snapshots published by atomic pointers
 * (the host list, the token map), so it takes no lock.
 *
 * The policies, as cpp-driver and the Java driver layer them:
 *
 *   token-aware (default on)   the local replicas of the request's token
 *     wraps                    first, rotated or shuffled;
 *   a child policy             then the child's hosts not yet given:
 *     DC-aware round robin     LOCAL hosts in rotation, then REMOTE ones
 *       (default) or           (never for a LOCAL_* consistency unless the
 *     the application's        config allows it), or the application's
 *                              cqlmux_load_balancing callbacks.
 *
 * A request pinned to a host (cqlmux_statement_set_host) tries that host
 * only. Allow/deny lists act earlier: a host they exclude is IGNORED (no
 * pool), so no plan ever holds it.
 *
 * Threads: any (the submitting thread starts a plan; the I/O thread that
 * sees a failure walks it on). A plan is used by one thread at a time. */
#ifndef CQLMUX_CLUSTER_PLAN_H
#define CQLMUX_CLUSTER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/host.h"
#include "cqlmux.h"

typedef struct cqlmux_cluster cqlmux_cluster;

/* What a plan is built from (valid during cqlmux_plan_start only). */
typedef struct cqlmux_route {
  const char *keyspace;       /* may be NULL; not NUL-terminated: keyspace_len */
  size_t keyspace_len;
  int64_t token;
  bool has_token;
  cqlmux_consistency consistency;
  cqlmux_host *pinned;        /* try this host only */
} cqlmux_route;

/* Replicas remembered as given, one bit each: at most this many are used. */
#define CQLMUX_PLAN_MAX_REPLICAS 32

typedef struct cqlmux_plan {
  const cqlmux_host_list *hosts;    /* the snapshot the plan walks */
  cqlmux_host *const *replicas;     /* into the token map (immutable), or NULL */
  cqlmux_host *pinned;
  uint32_t replicas_given;          /* bit i: replicas[i] was given */
  uint8_t replica_count;
  uint8_t replica_step;             /* local replicas looked at so far */
  bool local_only;                  /* LOCAL_* consistency: no REMOTE host */
  bool custom_done;
  unsigned start;                   /* rotation */
  unsigned step;                    /* child hosts looked at so far */
  unsigned char user[CQLMUX_PLAN_STATE_BYTES]; /* the application policy's state */
} cqlmux_plan;

/* Starts a plan for the route. */
void cqlmux_plan_start(cqlmux_cluster *c, const cqlmux_route *route, cqlmux_plan *plan);

/* The next host of the plan, or NULL when it is exhausted. Hosts may be
 * DOWN or without a ready connection: the caller skips them. */
cqlmux_host *cqlmux_plan_next(cqlmux_cluster *c, cqlmux_plan *plan);

/* The host at `address` ("ip" or "ip:port") in the current list, or NULL. */
cqlmux_host *cqlmux_cluster_find_address(cqlmux_cluster *c, const char *address);

#endif

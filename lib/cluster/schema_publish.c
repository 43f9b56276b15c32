/* The cluster's current schema snapshot (schema.h): published by the
 * control loop, held by readers on any thread.
 *
 * A reader must take its reference before the publisher can drop the
 * cluster's, and a bare atomic pointer cannot order a load and an
 * increment against a concurrent swap-and-release without hazard pointers
 * or epochs. Taking a schema is rare (never per request), so a short mutex
 * around "load and hold" and "swap" does it plainly. The version is kept
 * apart in an atomic so that polling it takes no lock. */
#include "cluster/cluster_internal.h"
#include "cluster/schema.h"

void cqlmux_cluster_publish_schema(cqlmux_cluster *c, cqlmux_schema *s) {
  pthread_mutex_lock(&c->schema_lock);
  cqlmux_schema *old = c->schema;
  c->schema = s;
  /* release: a reader that sees this version (acquire) and then takes the
   * lock finds this snapshot or a later one. */
  atomic_store_explicit(&c->schema_version, s->version, memory_order_release);
  pthread_mutex_unlock(&c->schema_lock);
  cqlmux_schema_release(old);
}

const cqlmux_schema *cqlmux_cluster_schema(cqlmux_cluster *c) {
  pthread_mutex_lock(&c->schema_lock);
  cqlmux_schema *s = c->schema;
  if (s) cqlmux_schema_hold(s);
  pthread_mutex_unlock(&c->schema_lock);
  return s;
}

uint64_t cqlmux_cluster_schema_version(const cqlmux_cluster *c) {
  /* acquire: pairs with the release in cqlmux_cluster_publish_schema. */
  return atomic_load_explicit(&((cqlmux_cluster *)c)->schema_version, memory_order_acquire);
}

void cqlmux_cluster_free_schema(cqlmux_cluster *c) {
  cqlmux_schema_release(c->schema);
  c->schema = NULL;
}

/* DESCRIBE statements, answered client-side from the session's schema
 * snapshot as cqlsh does (the server has no such statement before 4.0, and
 * the snapshot needs no round trip):
 *   DESCRIBE KEYSPACES          the keyspace names, one per line
 *   DESCRIBE KEYSPACE ks        CREATE KEYSPACE, then its types, tables
 *                               and materialized views
 *   DESCRIBE TABLE [ks.]t       CREATE TABLE with the primary key and the
 *                               clustering order
 * DESC is accepted for DESCRIBE. Names follow CQL: unquoted ones are
 * lower-cased, "Quoted" ones kept. Table options (compaction ...) are not
 * shown: the snapshot does not carry them. */
#ifndef CQLMUX_QUERY_DESCRIBE_H
#define CQLMUX_QUERY_DESCRIBE_H

#include <cqlmux.h>

#include "strbuf.h"

typedef enum describe_what { DESCRIBE_KEYSPACES, DESCRIBE_KEYSPACE, DESCRIBE_TABLE } describe_what;

typedef struct describe_request {
  describe_what what;
  char keyspace[256]; /* "" for a table: the session's keyspace (-k) */
  char name[256];
} describe_request;

/* Whether cql is a DESCRIBE statement; 1 with *req filled, 0 when it is
 * another statement, -1 when it starts with DESCRIBE but is not one of the
 * forms above (the caller reports a usage error). */
int describe_parse(const char *cql, describe_request *req);

/* Appends the answer to out. Returns 0, or -1 with a message in err when
 * the keyspace or table is not in the snapshot. */
int describe_render(const cqlmux_schema *schema, const describe_request *req, strbuf *out,
                    char *err, size_t err_cap);

#endif

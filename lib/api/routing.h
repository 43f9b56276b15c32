/* The routing of a statement for token-aware load balancing: the token of
 * its partition key and the keyspace whose replication places it.
 *
 * The key comes, first, from cqlmux_statement_set_routing_key; else, for a
 * prepared statement whose PREPARED answer listed the partition key's bind
 * markers, from the values bound there: one column's bytes as they are, or
 * several columns in the composite encoding Cassandra hashes (for each, a
 * 2-byte big-endian length, the bytes, a 0 byte).
 *
 * Pure reads of the statement (and its prepared statement), no allocation,
 * no lock: called by the submitting thread during execute. */
#ifndef CQLMUX_API_ROUTING_H
#define CQLMUX_API_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"

/* Largest composite key routed (built on the stack); a longer one, like a
 * key column left unbound or null, leaves the statement without a token. */
#define CQLMUX_ROUTING_KEY_MAX 1024

/* The Murmur3 token of the statement's partition key in *token; false
 * (token untouched) when the key is unknown. */
bool cqlmux_statement_routing_token(const cqlmux_statement *st, int64_t *token);

/* The keyspace of the statement: its own (cqlmux_statement_set_keyspace),
 * else its prepared statement's table's; NULL (len 0) when neither is
 * known (the caller then uses the session's). Not NUL-terminated; borrowed
 * from the statement or its prepared statement. */
const char *cqlmux_statement_routing_keyspace(const cqlmux_statement *st, size_t *len);

#endif

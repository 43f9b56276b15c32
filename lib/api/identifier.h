/* CQL identifiers as applications pass them: keyspace names and the names
 * of bound values. One rule, documented in cqlmux.h: a name wrapped in
 * double quotes is a quoted CQL identifier (a doubled "" inside stands for
 * one "), taken exactly; any other name is taken as written, except that
 * bound-value names then follow CQL and fold to lower case. Pure, no
 * allocation, any thread. */
#ifndef CQLMUX_API_IDENTIFIER_H
#define CQLMUX_API_IDENTIFIER_H

#include <stdbool.h>
#include <stddef.h>

/* Cassandra's limit on keyspace and table names (SchemaConstants). */
#define CQLMUX_KEYSPACE_NAME_MAX 48

/* The identifier `given` as the server stores it, NUL-terminated into
 * out[0..cap); *quoted tells whether it came quoted. Returns false when it
 * is empty, a quoted form is broken (no closing quote, a lone " inside) or
 * it does not fit. */
bool cqlmux_identifier_parse(const char *given, char *out, size_t cap, bool *quoted);

/* A keyspace name: the identifier rule, then Cassandra's own (1 to 48
 * letters, digits and underscores), case kept either way. */
bool cqlmux_keyspace_name(const char *given, char out[CQLMUX_KEYSPACE_NAME_MAX + 1]);

/* Statements and batches: replaces *slot (NULL or a string from the C
 * library's allocator) by a copy of the keyspace name `given`, or by NULL
 * when given is NULL. CQLMUX_OK, INVALID_ARGUMENT (not a keyspace name) or
 * NOMEM; *slot is unchanged on failure. */
int cqlmux_keyspace_replace(char **slot, const char *given);

/* A bound value's name: unquoted folds to lower case (ASCII, as CQL does). */
bool cqlmux_value_name(const char *given, char *out, size_t cap);

#endif

/* Splits CQL text into statements at each ';' that is outside a string
 * literal ('...' with '' inside), a $$...$$ string, a quoted identifier
 * ("..." with "" inside), a line comment (-- or // to the end of the line)
 * and a block comment (/ * ... * /, not nested, as in CQL). Pure: no I/O,
 * no allocation. */
#ifndef CQLMUX_QUERY_SPLIT_H
#define CQLMUX_QUERY_SPLIT_H

#include <stddef.h>

typedef struct cql_splitter {
  const char *text;
  size_t length;
  size_t pos; /* where the next statement's search starts */
} cql_splitter;

void cql_splitter_init(cql_splitter *s, const char *text, size_t length);

/* The next statement: *statement points into the text, from its first
 * character that is not blank or comment to its last (the ';' excluded).
 * Pieces holding only blanks and comments are skipped. A string or comment
 * left open runs to the end of the text. Returns 1, or 0 at the end. */
int cql_split_next(cql_splitter *s, const char **statement, size_t *length);

#endif

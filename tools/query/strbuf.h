/* A growable text buffer for cqlmux-query's output. Running out of memory
 * ends the program (exit 1): a command-line tool has nothing better to do,
 * and it keeps every formatter free of error paths. */
#ifndef CQLMUX_QUERY_STRBUF_H
#define CQLMUX_QUERY_STRBUF_H

#include <stddef.h>

typedef struct strbuf {
  char *data; /* NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0}

void strbuf_free(strbuf *sb);
/* Empties the buffer, keeping its memory. */
void strbuf_clear(strbuf *sb);
/* Drops everything after the first len bytes (len <= sb->len). */
void strbuf_truncate(strbuf *sb, size_t len);
void strbuf_add(strbuf *sb, const char *data, size_t len);
void strbuf_adds(strbuf *sb, const char *text);
void strbuf_addc(strbuf *sb, char c);
void strbuf_addf(strbuf *sb, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* Hands the text over (never NULL; "" when empty) and empties the buffer. */
char *strbuf_take(strbuf *sb);

#endif

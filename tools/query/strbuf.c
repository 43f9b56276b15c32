/* The growable text buffer (strbuf.h). */
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(void) {
  fputs("cqlmux-query: out of memory\n", stderr);
  exit(1);
}

/* Makes room for `more` bytes plus the NUL. */
static void reserve(strbuf *sb, size_t more) {
  if (sb->len + more < sb->cap) return;
  size_t cap = sb->cap ? sb->cap : 64;
  while (cap <= sb->len + more) {
    if (cap > SIZE_MAX / 2) out_of_memory();
    cap *= 2;
  }
  char *data = realloc(sb->data, cap);
  if (!data) out_of_memory();
  sb->data = data;
  sb->cap = cap;
}

void strbuf_free(strbuf *sb) {
  free(sb->data);
  *sb = (strbuf)STRBUF_INIT;
}

void strbuf_clear(strbuf *sb) { strbuf_truncate(sb, 0); }

void strbuf_truncate(strbuf *sb, size_t len) {
  if (len > sb->len) return;
  sb->len = len;
  if (sb->data) sb->data[len] = '\0';
}

void strbuf_add(strbuf *sb, const char *data, size_t len) {
  reserve(sb, len);
  if (len) memcpy(sb->data + sb->len, data, len);
  sb->len += len;
  sb->data[sb->len] = '\0';
}

void strbuf_adds(strbuf *sb, const char *text) { strbuf_add(sb, text, strlen(text)); }

void strbuf_addc(strbuf *sb, char c) { strbuf_add(sb, &c, 1); }

void strbuf_addf(strbuf *sb, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  int n = vsnprintf(NULL, 0, format, ap);
  va_end(ap);
  if (n < 0) n = 0; /* an encoding error; the formats used here have none */
  reserve(sb, (size_t)n);
  va_start(ap, format);
  vsnprintf(sb->data + sb->len, (size_t)n + 1, format, ap);
  va_end(ap);
  sb->len += (size_t)n;
}

char *strbuf_take(strbuf *sb) {
  if (!sb->data) {
    reserve(sb, 0);
    sb->data[0] = '\0';
  }
  char *text = sb->data;
  *sb = (strbuf)STRBUF_INIT;
  return text;
}

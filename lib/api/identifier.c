#include "api/identifier.h"

#include <string.h>

#include "cqlmux.h"
#include "runtime/alloc.h"

/* The body of a quoted identifier: "" becomes ", a lone " ends it. */
static bool unquote(const char *p, char *out, size_t cap) {
  size_t n = 0;
  for (p++; *p; p++) {
    if (*p == '"') {
      if (p[1] != '"') return p[1] == '\0' && n > 0 && n < cap && (out[n] = '\0', true);
      p++;
    }
    if (n + 1 >= cap) return false;
    out[n++] = *p;
  }
  return false; /* no closing quote */
}

bool cqlmux_identifier_parse(const char *given, char *out, size_t cap, bool *quoted) {
  if (!given || !*given || cap == 0) return false;
  *quoted = given[0] == '"';
  if (*quoted) return unquote(given, out, cap);
  size_t n = strlen(given);
  if (n >= cap) return false;
  memcpy(out, given, n + 1);
  return true;
}

static bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_';
}

bool cqlmux_keyspace_name(const char *given, char out[CQLMUX_KEYSPACE_NAME_MAX + 1]) {
  bool quoted;
  if (!cqlmux_identifier_parse(given, out, CQLMUX_KEYSPACE_NAME_MAX + 1, &quoted)) return false;
  for (const char *p = out; *p; p++)
    if (!word_char(*p)) return false;
  return true;
}

int cqlmux_keyspace_replace(char **slot, const char *given) {
  char name[CQLMUX_KEYSPACE_NAME_MAX + 1];
  char *copy = NULL;
  if (given) {
    if (!cqlmux_keyspace_name(given, name)) return CQLMUX_ERR_INVALID_ARGUMENT;
    size_t n = strlen(name) + 1;
    if (!(copy = cqlmux_mem_malloc(NULL, n))) return CQLMUX_ERR_NOMEM;
    memcpy(copy, name, n);
  }
  cqlmux_mem_free(NULL, *slot);
  *slot = copy;
  return CQLMUX_OK;
}

bool cqlmux_value_name(const char *given, char *out, size_t cap) {
  bool quoted;
  if (!cqlmux_identifier_parse(given, out, cap, &quoted)) return false;
  if (!quoted)
    for (char *p = out; *p; p++)
      if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
  return true;
}

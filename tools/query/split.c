/* CQL statement splitting (split.h). */
#include "split.h"

#include <stdbool.h>

/* Where the scanner is: in plain CQL, or inside something a ';' cannot end. */
typedef enum scan_state {
  IN_CQL,
  IN_STRING,       /* '...' */
  IN_IDENTIFIER,   /* "..." */
  IN_DOLLAR,       /* $$...$$ */
  IN_LINE_COMMENT, /* -- or // */
  IN_BLOCK_COMMENT /* / * ... * / */
} scan_state;

typedef struct scanner {
  const char *p, *end;
  scan_state state;
} scanner;

static bool starts(const scanner *sc, char a, char b) {
  return sc->end - sc->p >= 2 && sc->p[0] == a && sc->p[1] == b;
}

static bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* In plain CQL: enters a string, identifier or comment if one starts at p,
 * consuming its opening. Returns whether the characters are content (not
 * blank, not comment). */
static bool step_cql(scanner *sc) {
  if (starts(sc, '-', '-') || starts(sc, '/', '/')) {
    sc->state = IN_LINE_COMMENT;
    sc->p += 2;
    return false;
  }
  if (starts(sc, '/', '*')) {
    sc->state = IN_BLOCK_COMMENT;
    sc->p += 2;
    return false;
  }
  if (starts(sc, '$', '$')) {
    sc->state = IN_DOLLAR;
    sc->p += 2;
    return true;
  }
  char c = *sc->p++;
  if (c == '\'') sc->state = IN_STRING;
  if (c == '"') sc->state = IN_IDENTIFIER;
  return !is_blank(c);
}

/* Inside a quoted run: a doubled quote stays inside, a single one ends it. */
static void step_quoted(scanner *sc, char quote) {
  if (*sc->p == quote) {
    if (starts(sc, quote, quote)) {
      sc->p += 2;
      return;
    }
    sc->state = IN_CQL;
  }
  sc->p++;
}

/* Advances over one token or character; returns whether it is content. */
static bool step(scanner *sc) {
  switch (sc->state) {
  case IN_CQL: return step_cql(sc);
  case IN_STRING: step_quoted(sc, '\''); return true;
  case IN_IDENTIFIER: step_quoted(sc, '"'); return true;
  case IN_DOLLAR:
    if (starts(sc, '$', '$')) {
      sc->state = IN_CQL;
      sc->p += 2;
    } else {
      sc->p++;
    }
    return true;
  case IN_LINE_COMMENT:
    if (*sc->p == '\n') sc->state = IN_CQL;
    sc->p++;
    return false;
  case IN_BLOCK_COMMENT:
    if (starts(sc, '*', '/')) {
      sc->state = IN_CQL;
      sc->p += 2;
    } else {
      sc->p++;
    }
    return false;
  }
  return false;
}

void cql_splitter_init(cql_splitter *s, const char *text, size_t length) {
  s->text = text;
  s->length = length;
  s->pos = 0;
}

int cql_split_next(cql_splitter *s, const char **statement, size_t *length) {
  scanner sc = {s->text + s->pos, s->text + s->length, IN_CQL};
  while (sc.p < sc.end) {
    const char *first = NULL, *last_end = NULL;
    while (sc.p < sc.end && !(sc.state == IN_CQL && *sc.p == ';')) {
      const char *at = sc.p;
      if (step(&sc)) {
        if (!first) first = at;
        last_end = sc.p;
      }
    }
    if (sc.p < sc.end) sc.p++; /* the ';' */
    s->pos = (size_t)(sc.p - s->text);
    if (first) {
      *statement = first;
      *length = (size_t)(last_end - first);
      return 1;
    }
  }
  s->pos = s->length;
  return 0;
}

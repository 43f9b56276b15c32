#include "cluster/contact.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlmux.h"

/* One entry's text, trimmed: [start, start + len). */
typedef struct entry_text {
  const char *start;
  size_t len;
} entry_text;

static int refuse(char *err, size_t cap, const entry_text *e, const char *why) {
  snprintf(err, cap, "contact point \"%.*s\": %s", (int)(e->len > 200 ? 200 : e->len), e->start,
           why);
  return CQLMUX_ERR_INVALID_ARGUMENT;
}

/* "123" within [1, 65535], all digits. */
static bool parse_port(const char *p, size_t n, int *port) {
  if (n == 0 || n > 5) return false;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + (p[i] - '0');
  }
  if (v < 1 || v > 65535) return false;
  *port = v;
  return true;
}

/* Splits one entry into name and port: "host", "host:port", "[v6]",
 * "[v6]:port", or a bare IPv6 literal (more than one ':'). */
static int parse_entry(const entry_text *e, int default_port, cqlmux_contact *out, char *err,
                       size_t cap) {
  const char *p = e->start, *end = e->start + e->len;
  const char *name = p, *name_end = end, *port_text = NULL;
  if (*p == '[') {
    const char *close = memchr(p, ']', e->len);
    if (!close) return refuse(err, cap, e, "unclosed '['");
    name = p + 1, name_end = close;
    if (close + 1 < end) {
      if (close[1] != ':') return refuse(err, cap, e, "text after ']' must be \":port\"");
      port_text = close + 2;
    }
  } else {
    const char *colon = memchr(p, ':', e->len);
    bool single_colon = colon && !memchr(colon + 1, ':', (size_t)(end - colon - 1));
    if (single_colon) name_end = colon, port_text = colon + 1;
    if (memchr(p, ']', e->len)) return refuse(err, cap, e, "']' without '['");
  }
  out->port = default_port;
  if (port_text && !parse_port(port_text, (size_t)(end - port_text), &out->port))
    return refuse(err, cap, e, "port must be a number from 1 to 65535");
  size_t n = (size_t)(name_end - name);
  if (n == 0) return refuse(err, cap, e, "empty host name");
  if (n >= sizeof out->name) return refuse(err, cap, e, "host name too long");
  memcpy(out->name, name, n);
  out->name[n] = '\0';
  return CQLMUX_OK;
}

static bool already_listed(const cqlmux_contact *list, size_t n, const cqlmux_contact *c) {
  for (size_t i = 0; i < n; i++)
    if (list[i].port == c->port && strcasecmp(list[i].name, c->name) == 0) return true;
  return false;
}

/* The next entry of a comma-separated list, blanks trimmed; false at the end. */
static bool next_entry(const char **cursor, entry_text *e) {
  const char *p = *cursor;
  while (*p == ' ' || *p == '\t' || *p == ',') p++;
  if (!*p) return false;
  size_t n = strcspn(p, ",");
  *cursor = p + n;
  while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
  e->start = p, e->len = n;
  return true;
}

int cqlmux_contact_parse(const cqlmux_allocator *alloc, const char *list, int default_port,
                         cqlmux_contact **out, size_t *count, char *err, size_t err_cap) {
  if (!list) return CQLMUX_ERR_INVALID_ARGUMENT;
  size_t cap = 1;
  for (const char *p = list; *p; p++) cap += *p == ',';
  cqlmux_contact *contacts = cqlmux_mem_calloc(alloc, cap, sizeof *contacts);
  if (!contacts) return CQLMUX_ERR_NOMEM;
  size_t n = 0;
  entry_text e;
  const char *cursor = list;
  while (next_entry(&cursor, &e)) {
    int rc = parse_entry(&e, default_port, &contacts[n], err, err_cap);
    if (rc != CQLMUX_OK) {
      cqlmux_mem_free(alloc, contacts);
      return rc;
    }
    if (!already_listed(contacts, n, &contacts[n])) n++;
  }
  if (n == 0) {
    cqlmux_mem_free(alloc, contacts);
    snprintf(err, err_cap, "no contact point given");
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  *out = contacts;
  *count = n;
  return CQLMUX_OK;
}

static void set_port(cqlmux_endpoint *ep, int port) {
  if (ep->addr.ss_family == AF_INET)
    ((struct sockaddr_in *)&ep->addr)->sin_port = htons((uint16_t)port);
  else
    ((struct sockaddr_in6 *)&ep->addr)->sin6_port = htons((uint16_t)port);
}

static void shuffle(cqlmux_endpoint *eps, size_t n, uint64_t random) {
  uint64_t x = random | 1;
  for (size_t i = n; i > 1; i--) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t j = (size_t)(x % i);
    cqlmux_endpoint t = eps[i - 1];
    eps[i - 1] = eps[j];
    eps[j] = t;
  }
}

int cqlmux_contact_resolve(const cqlmux_contact *contact, cqlmux_endpoint *out, size_t cap,
                           uint64_t random, char *err, size_t err_cap) {
  if (cap == 0) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (cqlmux_endpoint_parse(contact->name, contact->port, &out[0]) == CQLMUX_OK) return 1;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  int gai = getaddrinfo(contact->name, NULL, &hints, &res);
  if (gai != 0 || !res) {
    snprintf(err, err_cap, "%s: %s", contact->name, gai ? gai_strerror(gai) : "no address");
    return CQLMUX_ERR_RESOLVE;
  }
  size_t n = 0;
  for (struct addrinfo *a = res; a && n < cap; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    memset(&out[n], 0, sizeof out[n]);
    memcpy(&out[n].addr, a->ai_addr, a->ai_addrlen);
    out[n].addr_len = (socklen_t)a->ai_addrlen;
    set_port(&out[n], contact->port);
    n++;
  }
  freeaddrinfo(res);
  if (n == 0) {
    snprintf(err, err_cap, "%s: no IPv4 or IPv6 address", contact->name);
    return CQLMUX_ERR_RESOLVE;
  }
  shuffle(out, n, random);
  return (int)n;
}

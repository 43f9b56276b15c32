/* Contact points: the list a user configures ("10.0.0.1, db2:9043,
 * [::1]:9044") parsed and checked, then resolved to addresses.
 *
 * Parsing is pure and runs in the config setter, so a bad list is refused
 * where it is written: a port outside 1..65535, an unclosed '[', an empty
 * name. Duplicates (same name and port) are merged.
 *
 * Resolution (getaddrinfo, which may block for seconds) runs on the
 * session's resolver thread, never on the caller of connect nor on an I/O
 * thread. A name resolves to every address it has, shuffled so that
 * clients spread over them. */
#ifndef CQLMUX_CLUSTER_CONTACT_H
#define CQLMUX_CLUSTER_CONTACT_H

#include <stddef.h>
#include <stdint.h>

#include "net/socket.h"
#include "runtime/alloc.h"

#define CQLMUX_CONTACT_NAME_MAX 256

typedef struct cqlmux_contact {
  char name[CQLMUX_CONTACT_NAME_MAX]; /* host name or address literal, no brackets */
  int port;                           /* 1..65535 */
} cqlmux_contact;

/* Parses `list` into a new array (*out, *count; free with cqlmux_mem_free).
 * default_port applies where no ":port" is given. Returns CQLMUX_OK,
 * INVALID_ARGUMENT (with a message in err naming the bad entry) or NOMEM. */
int cqlmux_contact_parse(const cqlmux_allocator *alloc, const char *list, int default_port,
                         cqlmux_contact **out, size_t *count, char *err, size_t err_cap);

/* Resolves one contact to at most `cap` endpoints (every address it has,
 * IPv4 and IPv6, in random order; `random` seeds the shuffle). Returns the
 * number found (>= 1), or a negative CQLMUX_ERR_RESOLVE with the resolver's
 * reason in err. Blocking: call it off the application and I/O threads. */
int cqlmux_contact_resolve(const cqlmux_contact *contact, cqlmux_endpoint *out, size_t cap,
                           uint64_t random, char *err, size_t err_cap);

#endif

/* Non-blocking TCP sockets for connections (owned by one I/O thread).
 *
 * Addresses are numeric (IPv4 or IPv6 literals); host names are resolved by
 * lib/net/resolve.h off the I/O threads before they reach this module. */
#ifndef CQLMUX_NET_SOCKET_H
#define CQLMUX_NET_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* One resolved endpoint. */
typedef struct cqlmux_endpoint {
  struct sockaddr_storage addr;
  socklen_t addr_len;
} cqlmux_endpoint;

/* Parses a numeric IPv4/IPv6 address ("127.0.0.1", "::1", "[::1]") and a
 * port. Returns OK or INVALID_ARGUMENT (not a literal: resolve it instead). */
int cqlmux_endpoint_parse(const char *host, int port, cqlmux_endpoint *out);

/* "ip:port" or "[ip6]:port" into out (always NUL-terminated). */
void cqlmux_endpoint_format(const cqlmux_endpoint *ep, char *out, size_t cap);

/* Starts a non-blocking connect with TCP_NODELAY and SO_KEEPALIVE set.
 * On success returns OK with *fd_out set and *in_progress telling whether
 * completion must be awaited (writability, then cqlmux_socket_connect_result).
 * Errors: CONNECT_FAILED (with errno kept in *sys_errno). */
int cqlmux_socket_connect(const cqlmux_endpoint *ep, int *fd_out, bool *in_progress,
                          int *sys_errno);

/* After writability: OK, or CONNECT_FAILED with the socket's error. */
int cqlmux_socket_connect_result(int fd, int *sys_errno);

/* Outcome of a non-blocking read or write. */
#define CQLMUX_IO_AGAIN (-1000) /* would block: wait for readiness */

/* Sends up to len bytes; returns bytes sent (> 0), CQLMUX_IO_AGAIN, or
 * CONNECTION_CLOSED (errno in *sys_errno). Never raises SIGPIPE. */
ssize_t cqlmux_socket_send(int fd, const void *data, size_t len, int *sys_errno);

/* Reads up to cap bytes; returns bytes read (> 0), CQLMUX_IO_AGAIN, or
 * CONNECTION_CLOSED (0 = orderly shutdown by the peer, or an error). */
ssize_t cqlmux_socket_recv(int fd, void *data, size_t cap, int *sys_errno);

#endif

#include "net/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cqlmux.h"

int cqlmux_endpoint_parse(const char *host, int port, cqlmux_endpoint *out) {
  if (!host || port <= 0 || port > 65535) return CQLMUX_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&out->addr;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    out->addr_len = sizeof *v4;
    return CQLMUX_OK;
  }
  char bare[INET6_ADDRSTRLEN + 2];
  size_t n = strlen(host);
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof bare) {
    memcpy(bare, host + 1, n - 2);
    bare[n - 2] = '\0';
    host = bare;
  }
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->addr;
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    out->addr_len = sizeof *v6;
    return CQLMUX_OK;
  }
  return CQLMUX_ERR_INVALID_ARGUMENT;
}

void cqlmux_endpoint_format(const cqlmux_endpoint *ep, char *out, size_t cap) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (ep->addr.ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&ep->addr;
    inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
    snprintf(out, cap, "%s:%u", ip, ntohs(v4->sin_port));
  } else {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&ep->addr;
    inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
    snprintf(out, cap, "[%s]:%u", ip, ntohs(v6->sin6_port));
  }
}

/* Low latency (no Nagle: requests are coalesced by the connection itself)
 * and dead-peer detection for idle connections between heartbeats. */
static void tune(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
}

int cqlmux_socket_connect(const cqlmux_endpoint *ep, int *fd_out, bool *in_progress,
                          int *sys_errno) {
  *sys_errno = 0;
  int fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *sys_errno = errno;
    return CQLMUX_ERR_CONNECT_FAILED;
  }
  tune(fd);
  if (connect(fd, (const struct sockaddr *)&ep->addr, ep->addr_len) == 0) {
    *in_progress = false;
  } else if (errno == EINPROGRESS) {
    *in_progress = true;
  } else {
    *sys_errno = errno;
    close(fd);
    return CQLMUX_ERR_CONNECT_FAILED;
  }
  *fd_out = fd;
  return CQLMUX_OK;
}

int cqlmux_socket_connect_result(int fd, int *sys_errno) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  *sys_errno = err;
  return err ? CQLMUX_ERR_CONNECT_FAILED : CQLMUX_OK;
}

ssize_t cqlmux_socket_send(int fd, const void *data, size_t len, int *sys_errno) {
  for (;;) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n >= 0) return n > 0 || len == 0 ? n : CQLMUX_IO_AGAIN;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return CQLMUX_IO_AGAIN;
    *sys_errno = errno;
    return CQLMUX_ERR_CONNECTION_CLOSED;
  }
}

ssize_t cqlmux_socket_recv(int fd, void *data, size_t cap, int *sys_errno) {
  for (;;) {
    ssize_t n = recv(fd, data, cap, 0);
    if (n > 0) return n;
    if (n == 0) {
      *sys_errno = 0;
      return CQLMUX_ERR_CONNECTION_CLOSED;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return CQLMUX_IO_AGAIN;
    *sys_errno = errno;
    return CQLMUX_ERR_CONNECTION_CLOSED;
  }
}

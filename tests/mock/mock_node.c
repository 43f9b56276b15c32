/* Nodes of the mock cluster: topology, listening sockets, accepting, node
 * actions (stop, start, restart, add, remove) and prepared statement caches. */
#include "config.h"

#include "mock/mock_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ topology */

static void node_host_id(int index, uint8_t out[16]) {
  static const uint8_t base[16] = {0x6d, 0x6f, 0x63, 0x6b, 0x00, 0x00, 0x40, 0x00,
                                   0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  memcpy(out, base, 16);
  out[14] = (uint8_t)(index >> 8);
  out[15] = (uint8_t)index;
}

static int node_address(cqlmux_mock *m, int index, char out[16]) {
  struct in_addr a;
  if (inet_pton(AF_INET, m->cfg.address, &a) != 1) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (m->cfg.distinct_addresses) a.s_addr = htonl(ntohl(a.s_addr) + (uint32_t)index);
  if (!inet_ntop(AF_INET, &a, out, 16)) return CQLMUX_ERR_INVALID_ARGUMENT;
  return CQLMUX_OK;
}

/* Ring position p of `total` evenly spaced Murmur3 tokens. */
static int64_t ring_token(uint64_t p, uint64_t total) {
  uint64_t step = UINT64_MAX / total;
  return (int64_t)(p * step + 0x8000000000000000ull);
}

static void node_fill(cqlmux_mock *m, mock_node *n, int index, const char *dc, const char *rack) {
  memset(n, 0, sizeof *n);
  n->index = index;
  snprintf(n->dc, sizeof n->dc, "%s", dc);
  snprintf(n->rack, sizeof n->rack, "%s", rack);
  node_host_id(index, n->host_id);
  n->listener.kind = MOCK_WATCH_LISTENER;
  n->listener.fd = -1;
  n->token_count = m->cfg.tokens_per_node;
  n->tokens = mock_xcalloc((size_t)n->token_count, sizeof *n->tokens);
}

int mock_nodes_init(cqlmux_mock *m) {
  int total = 0;
  for (int d = 0; d < m->cfg.dc_count; d++) total += m->cfg.nodes_per_dc[d];
  if (total < 1 || total > CQLMUX_MOCK_MAX_NODES) return CQLMUX_ERR_INVALID_ARGUMENT;
  int index = 0;
  for (int d = 0; d < m->cfg.dc_count; d++) {
    for (int k = 0; k < m->cfg.nodes_per_dc[d]; k++, index++) {
      char rack[32];
      snprintf(rack, sizeof rack, "rack%d", k % m->cfg.racks_per_dc + 1);
      mock_node *n = &m->nodes[index];
      node_fill(m, n, index, m->cfg.dc_names[d], rack);
      int rc = node_address(m, index, n->address);
      if (rc) return rc;
      for (int t = 0; t < n->token_count; t++)
        n->tokens[t] = ring_token((uint64_t)index + (uint64_t)t * (uint64_t)total,
                                  (uint64_t)total * (uint64_t)n->token_count);
      n->up = true;
    }
  }
  m->node_count = total;
  return CQLMUX_OK;
}

/* ------------------------------------------------------------ listening */

mock_node *mock_node_by_listener(cqlmux_mock *m, const mock_watch *w) {
  (void)m;
  return (mock_node *)((const char *)w - offsetof(mock_node, listener));
}

bool mock_node_should_listen(cqlmux_mock *m, const mock_node *n) {
  return n->up && !n->removed && !mock_faults_refuse(m, n->index);
}

int mock_node_listen(cqlmux_mock *m, mock_node *n) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(n->port);
  inet_pton(AF_INET, n->address, &sa.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return CQLMUX_ERR_CONNECT_FAILED;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0) {
    close(fd);
    return CQLMUX_ERR_CONNECT_FAILED;
  }
  socklen_t len = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &len);
  n->port = ntohs(sa.sin_port);
  n->listener.fd = fd;
  if (mock_epoll_set(&m->loops[0], &n->listener, EPOLLIN, true) != 0) {
    close(fd);
    n->listener.fd = -1;
    return CQLMUX_ERR_CONNECT_FAILED;
  }
  return CQLMUX_OK;
}

void mock_node_unlisten(cqlmux_mock *m, mock_node *n) {
  (void)m;
  if (n->listener.fd < 0) return;
  close(n->listener.fd); /* also leaves the epoll set */
  n->listener.fd = -1;
}

void mock_node_accept(cqlmux_mock *m, mock_node *n) {
  for (;;) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int fd = accept4(n->listener.fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
        perror("cqlmux mock: accept");
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char addr[INET_ADDRSTRLEN], name[48];
    inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof addr);
    snprintf(name, sizeof name, "%s:%u", addr, (unsigned)ntohs(peer.sin_port));
    pthread_mutex_lock(&m->mu);
    int64_t id = mock_record_conn(m, n->index, name)->pub.id;
    pthread_mutex_unlock(&m->mu);
    unsigned k = atomic_fetch_add(&m->next_loop, 1) % (unsigned)m->loop_count;
    mock_cmd cmd = {.kind = MOCK_CMD_ADOPT, .fd = fd, .node = n->index, .conn_id = id};
    if (k == 0) {
      mock_conn *c = mock_conn_new(&m->loops[0], fd, n->index, id);
      mock_conn_refresh(c);
    } else {
      mock_post(&m->loops[k], &cmd, false);
    }
  }
}

/* Binds every node before the loops start; with port 0 and shared-port
 * addresses, retries until one port is free on every address. */
int mock_nodes_listen_all(cqlmux_mock *m) {
  for (int attempt = 0; attempt < 32; attempt++) {
    int rc = CQLMUX_OK;
    for (int i = 0; i < m->node_count && !rc; i++) {
      mock_node *n = &m->nodes[i];
      if (m->cfg.distinct_addresses)
        n->port = i == 0 ? m->cfg.port : m->nodes[0].port;
      else
        n->port = m->cfg.port ? (uint16_t)(m->cfg.port + i) : 0;
      rc = mock_node_listen(m, n);
    }
    if (!rc) return CQLMUX_OK;
    for (int i = 0; i < m->node_count; i++) mock_node_unlisten(m, &m->nodes[i]);
    if (m->cfg.port) return rc;
  }
  return CQLMUX_ERR_CONNECT_FAILED;
}

/* ------------------------------------------------------------ actions */

static bool node_valid(cqlmux_mock *m, int node) { return node >= 0 && node < m->node_count; }

static void push_node_event(cqlmux_mock *m, cqlmux_mock_event_type type, const char *change,
                            int about) {
  cqlmux_mock_event ev = {.type = type, .change = change, .about_node = about};
  cqlmux_mock_push_event(m, CQLMUX_MOCK_ANY, &ev);
}

int mock_node_set_up(cqlmux_mock *m, int node, bool up, bool events) {
  pthread_mutex_lock(&m->mu);
  if (!node_valid(m, node)) {
    pthread_mutex_unlock(&m->mu);
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  mock_node *n = &m->nodes[node];
  bool change = !n->removed && n->up != up;
  if (change) {
    n->up = up;
    if (!up) mock_prepared_clear(n);
  }
  pthread_mutex_unlock(&m->mu);
  if (!change) return CQLMUX_OK;
  mock_cmd cmd = {.kind = MOCK_CMD_REFRESH};
  mock_post_all(m, &cmd);
  if (events) push_node_event(m, CQLMUX_MOCK_EVENT_STATUS, up ? "UP" : "DOWN", node);
  return CQLMUX_OK;
}

int cqlmux_mock_node_stop(cqlmux_mock *m, int node) {
  return mock_node_set_up(m, node, false, m->cfg.auto_events);
}

int cqlmux_mock_node_start(cqlmux_mock *m, int node) {
  int rc = mock_node_set_up(m, node, true, m->cfg.auto_events);
  if (rc || mock_on_loop_thread(m)) return rc;
  /* The refresh ran synchronously: the listener is bound unless it failed. */
  pthread_mutex_lock(&m->mu);
  bool ok = m->nodes[node].listener.fd >= 0 || !mock_node_should_listen(m, &m->nodes[node]);
  pthread_mutex_unlock(&m->mu);
  return ok ? CQLMUX_OK : CQLMUX_ERR_CONNECT_FAILED;
}

int cqlmux_mock_node_restart(cqlmux_mock *m, int node, unsigned down_ms) {
  int rc = cqlmux_mock_node_stop(m, node);
  if (rc) return rc;
  if (down_ms == 0) return cqlmux_mock_node_start(m, node);
  mock_cmd cmd = {.kind = MOCK_CMD_TIMER,
                  .timer_kind = MOCK_TIMER_NODE_START,
                  .node = node,
                  .due_us = mock_now_us() + (uint64_t)down_ms * 1000u};
  mock_post(&m->loops[0], &cmd, true);
  return CQLMUX_OK;
}

/* Tokens for a joining node: the middle of the widest gaps of the ring. */
static void node_pick_tokens(cqlmux_mock *m, mock_node *fresh) {
  for (int t = 0; t < fresh->token_count; t++) {
    uint64_t best_gap = 0;
    int64_t best = 0;
    for (int i = 0; i <= m->node_count; i++) {
      const mock_node *a = i < m->node_count ? &m->nodes[i] : fresh;
      if (a->removed) continue;
      for (int j = 0; j < (a == fresh ? t : a->token_count); j++) {
        /* Distance from this token to the next one clockwise. */
        uint64_t gap = UINT64_MAX;
        for (int x = 0; x <= m->node_count; x++) {
          const mock_node *b = x < m->node_count ? &m->nodes[x] : fresh;
          if (b->removed) continue;
          for (int y = 0; y < (b == fresh ? t : b->token_count); y++) {
            uint64_t d = (uint64_t)b->tokens[y] - (uint64_t)a->tokens[j];
            if (d != 0 && d < gap) gap = d;
          }
        }
        if (gap > best_gap) {
          best_gap = gap;
          best = (int64_t)((uint64_t)a->tokens[j] + gap / 2);
        }
      }
    }
    fresh->tokens[t] = best;
  }
}

int cqlmux_mock_node_add(cqlmux_mock *m, const char *dc, const char *rack, int *node_out) {
  if (!dc) return CQLMUX_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&m->mu);
  if (m->node_count >= CQLMUX_MOCK_MAX_NODES) {
    pthread_mutex_unlock(&m->mu);
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  int index = m->node_count;
  mock_node *n = &m->nodes[index];
  node_fill(m, n, index, dc, rack ? rack : "rack1");
  int rc = node_address(m, index, n->address);
  if (rc) {
    mock_free(n->tokens);
    pthread_mutex_unlock(&m->mu);
    return rc;
  }
  node_pick_tokens(m, n);
  n->port = m->cfg.distinct_addresses ? m->nodes[0].port
                                      : (m->cfg.port ? (uint16_t)(m->cfg.port + index) : 0);
  n->up = true;
  m->node_count++;
  pthread_mutex_unlock(&m->mu);
  mock_cmd cmd = {.kind = MOCK_CMD_REFRESH};
  mock_post_all(m, &cmd);
  if (node_out) *node_out = index;
  push_node_event(m, CQLMUX_MOCK_EVENT_TOPOLOGY, "NEW_NODE", index);
  if (mock_on_loop_thread(m)) return CQLMUX_OK;
  pthread_mutex_lock(&m->mu);
  bool ok = n->listener.fd >= 0 || !mock_node_should_listen(m, n);
  pthread_mutex_unlock(&m->mu);
  return ok ? CQLMUX_OK : CQLMUX_ERR_CONNECT_FAILED;
}

int cqlmux_mock_node_remove(cqlmux_mock *m, int node) {
  pthread_mutex_lock(&m->mu);
  if (!node_valid(m, node) || m->nodes[node].removed) {
    pthread_mutex_unlock(&m->mu);
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  m->nodes[node].removed = true;
  m->nodes[node].up = false;
  mock_prepared_clear(&m->nodes[node]);
  pthread_mutex_unlock(&m->mu);
  mock_cmd cmd = {.kind = MOCK_CMD_REFRESH};
  mock_post_all(m, &cmd);
  push_node_event(m, CQLMUX_MOCK_EVENT_TOPOLOGY, "REMOVED_NODE", node);
  return CQLMUX_OK;
}

int cqlmux_mock_node_count(cqlmux_mock *m) {
  pthread_mutex_lock(&m->mu);
  int n = m->node_count;
  pthread_mutex_unlock(&m->mu);
  return n;
}

int cqlmux_mock_node_address(cqlmux_mock *m, int node, char *buf, size_t len, uint16_t *port) {
  pthread_mutex_lock(&m->mu);
  int rc = CQLMUX_OK;
  if (!node_valid(m, node) || !buf) {
    rc = CQLMUX_ERR_INVALID_ARGUMENT;
  } else if (strlen(m->nodes[node].address) >= len) {
    rc = CQLMUX_ERR_BUFFER_TOO_SMALL;
  } else {
    strcpy(buf, m->nodes[node].address);
    if (port) *port = m->nodes[node].port;
  }
  pthread_mutex_unlock(&m->mu);
  return rc;
}

int cqlmux_mock_node_host_id(cqlmux_mock *m, int node, uint8_t out[16]) {
  pthread_mutex_lock(&m->mu);
  int rc = node_valid(m, node) ? CQLMUX_OK : CQLMUX_ERR_INVALID_ARGUMENT;
  if (!rc) memcpy(out, m->nodes[node].host_id, 16);
  pthread_mutex_unlock(&m->mu);
  return rc;
}

/* ------------------------------------------------------------ prepared */

void mock_prepared_clear(mock_node *n) {
  while (n->prepared) {
    mock_prepared *p = n->prepared;
    n->prepared = p->next;
    mock_free(p->id);
    mock_free(p->query);
    mock_free(p);
  }
}

const mock_prepared *mock_prepared_find(const mock_node *n, const uint8_t *id, size_t len) {
  for (const mock_prepared *p = n->prepared; p; p = p->next)
    if (p->id_len == len && memcmp(p->id, id, len) == 0) return p;
  return NULL;
}

void mock_prepared_add(mock_node *n, const uint8_t *id, size_t len, const char *query,
                       size_t query_len) {
  if (mock_prepared_find(n, id, len)) return;
  mock_prepared *p = mock_xcalloc(1, sizeof *p);
  p->id = mock_xmalloc(len);
  memcpy(p->id, id, len);
  p->id_len = len;
  p->query = mock_xstrndup(query ? query : "", query ? query_len : 0);
  p->next = n->prepared;
  n->prepared = p;
}

int cqlmux_mock_node_schema_behind(cqlmux_mock *m, int node, bool behind) {
  pthread_mutex_lock(&m->mu); /* the answers read it under the same lock */
  int rc = node == CQLMUX_MOCK_ANY || node_valid(m, node) ? CQLMUX_OK : CQLMUX_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < m->node_count && rc == CQLMUX_OK; i++)
    if (node == CQLMUX_MOCK_ANY || i == node) m->nodes[i].schema_behind = behind;
  pthread_mutex_unlock(&m->mu);
  return rc;
}

int cqlmux_mock_node_forget_prepared(cqlmux_mock *m, int node) {
  pthread_mutex_lock(&m->mu);
  int rc = CQLMUX_OK;
  if (node == CQLMUX_MOCK_ANY) {
    for (int i = 0; i < m->node_count; i++) mock_prepared_clear(&m->nodes[i]);
  } else if (node_valid(m, node)) {
    mock_prepared_clear(&m->nodes[node]);
  } else {
    rc = CQLMUX_ERR_INVALID_ARGUMENT;
  }
  pthread_mutex_unlock(&m->mu);
  return rc;
}

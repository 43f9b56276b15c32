/* Helpers shared by the mock's Criterion suites. */
#ifndef CQLMUX_TEST_MOCK_H
#define CQLMUX_TEST_MOCK_H

#include <criterion/criterion.h>
#include <string.h>

#include "mock/mock.h"
#include "mock/mock_client.h"
#include "proto/response.h"

/* Starts a mock of `nodes` nodes in one DC on 127.0.0.1 with OS-chosen
 * ports (one per node), so that parallel runs never collide. */
static inline cqlmux_mock *test_mock_start(int nodes, cqlmux_mock_config *cfg_out) {
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.nodes_per_dc[0] = nodes;
  cfg.distinct_addresses = false;
  if (cfg_out) cfg = *cfg_out;
  cqlmux_mock *m = NULL;
  cr_assert_eq(cqlmux_mock_start(&cfg, &m), CQLMUX_OK);
  return m;
}

/* Connects a client to a node, speaking `version`. */
static inline void test_connect(cqlmux_mock *m, int node, mock_client *c, uint8_t version) {
  char addr[64];
  uint16_t port;
  cr_assert_eq(cqlmux_mock_node_address(m, node, addr, sizeof addr, &port), CQLMUX_OK);
  cr_assert_eq(mock_client_connect(c, addr, port, version), 0);
}

/* Connects and completes STARTUP (no auth). */
static inline void test_ready(cqlmux_mock *m, int node, mock_client *c, uint8_t version,
                              const char *compression) {
  test_connect(m, node, c, version);
  cr_assert_eq(mock_client_handshake(c, compression, NULL, NULL, NULL), CQLMUX_OK);
}

static inline void test_recv(mock_client *c, mock_reply *r) {
  int rc = mock_client_recv(c, r, 5000);
  cr_assert_eq(rc, CQLMUX_OK, "recv: %s", cqlmux_strerror(rc));
}

/* Receives a RESULT of a query sent on `stream`. */
static inline void test_recv_result(mock_client *c, int16_t stream, int32_t kind) {
  mock_reply r;
  test_recv(c, &r);
  cr_assert_eq(r.h.stream, stream);
  cr_assert_eq(r.h.opcode, CQLMUX_OP_RESULT, "opcode 0x%02x", r.h.opcode);
  cr_assert_eq(mock_reply_result_kind(&r), kind);
}

#endif

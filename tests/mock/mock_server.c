/* The mock cluster's lifecycle: configuration, start, stop, and the few
 * API calls that belong to no other part (events, hook). */
#include "config.h"

#include "mock/mock_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void cqlmux_mock_config_init(cqlmux_mock_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->dc_count = 1;
  for (int i = 0; i < CQLMUX_MOCK_MAX_DCS; i++) cfg->nodes_per_dc[i] = 1;
  cfg->racks_per_dc = 1;
  cfg->tokens_per_node = 1;
  cfg->cluster_name = "Test Cluster";
  cfg->release_version = "5.0.2";
  cfg->address = "127.0.0.1";
  cfg->distinct_addresses = true;
  cfg->versions = CQLMUX_MOCK_V3 | CQLMUX_MOCK_V4 | CQLMUX_MOCK_V5;
  cfg->lz4 = true;
  cfg->record = true;
  cfg->auto_events = true;
}

static bool config_valid(const cqlmux_mock_config *c) {
  if (c->dc_count < 1 || c->dc_count > CQLMUX_MOCK_MAX_DCS) return false;
  for (int d = 0; d < c->dc_count; d++)
    if (c->nodes_per_dc[d] < 1) return false;
  if (c->racks_per_dc < 1 || c->tokens_per_node < 1 || c->tokens_per_node > 256) return false;
  if (c->threads < 0 || c->threads > 64) return false;
  unsigned known = CQLMUX_MOCK_V3 | CQLMUX_MOCK_V4 | CQLMUX_MOCK_V5;
  if (!c->versions || (c->versions & ~known)) return false;
  if ((c->username == NULL) != (c->password == NULL)) return false;
  return c->address && c->cluster_name && c->release_version;
}

/* Copies the caller's strings so the config outlives them. */
static void config_copy(cqlmux_mock *m, const cqlmux_mock_config *cfg) {
  m->cfg = *cfg;
  m->cfg.parsed_strings = NULL;
  int k = 0;
  m->cfg.cluster_name = m->strings[k++] = mock_xstrdup(cfg->cluster_name);
  m->cfg.release_version = m->strings[k++] = mock_xstrdup(cfg->release_version);
  m->cfg.address = m->strings[k++] = mock_xstrdup(cfg->address);
  m->strings[k++] = NULL;
  m->cfg.username = mock_xstrdup(cfg->username);
  m->cfg.password = mock_xstrdup(cfg->password);
  for (int d = 0; d < cfg->dc_count; d++) {
    char name[16];
    snprintf(name, sizeof name, "dc%d", d + 1);
    m->cfg.dc_names[d] = m->strings[k++] = mock_xstrdup(cfg->dc_names[d] ? cfg->dc_names[d] : name);
  }
}

static int default_threads(const cqlmux_mock_config *cfg) {
  if (cfg->threads) return cfg->threads;
  if (!cfg->null_mode) return 1;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores < 1 ? 1 : cores > 8 ? 8 : (int)cores;
}

static void server_release(cqlmux_mock *m, int loops_inited) {
  for (int i = 0; i < m->node_count; i++) {
    mock_node_unlisten(m, &m->nodes[i]);
    mock_prepared_clear(&m->nodes[i]);
    mock_free(m->nodes[i].tokens);
  }
  for (int i = 0; i < loops_inited; i++) mock_loop_destroy(&m->loops[i]);
  mock_free(m->loops);
  mock_primes_free(m);
  mock_faults_free(m);
  mock_records_free(m);
  mock_system_free(m);
  mock_null_free(m);
  mock_keyspaces_free(m);
  for (size_t i = 0; i < sizeof m->strings / sizeof *m->strings; i++) mock_free(m->strings[i]);
  mock_free((void *)m->cfg.username);
  mock_free((void *)m->cfg.password);
  pthread_mutex_destroy(&m->mu);
  pthread_cond_destroy(&m->cv);
  mock_free(m);
}

int cqlmux_mock_start(const cqlmux_mock_config *cfg, cqlmux_mock **out) {
  if (!cfg || !out || !config_valid(cfg)) return CQLMUX_ERR_INVALID_ARGUMENT;
  cqlmux_mock *m = mock_xcalloc(1, sizeof *m);
  config_copy(m, cfg);
  pthread_mutex_init(&m->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&m->cv, &ca);
  pthread_condattr_destroy(&ca);
  static const uint8_t schema[16] = {0x5c, 0x4e, 0x3a, 0x00, 0x00, 0x00, 0x40, 0x00,
                                     0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
  memcpy(m->schema_version, schema, 16);
  m->loop_count = default_threads(cfg);
  m->loops = mock_xcalloc((size_t)m->loop_count, sizeof *m->loops);
  int inited = 0, running = 0, rc = CQLMUX_OK;
  while (!rc && inited < m->loop_count) {
    rc = mock_loop_init(&m->loops[inited], m, inited);
    if (!rc) inited++;
  }
  if (!rc) rc = mock_system_init(m);
  if (!rc) rc = mock_null_init(m);
  if (!rc) rc = mock_nodes_init(m);
  if (!rc) rc = mock_keyspaces_init(m);
  if (!rc) rc = mock_nodes_listen_all(m);
  while (!rc && running < m->loop_count) {
    rc = mock_loop_start(&m->loops[running]);
    if (!rc) running++;
  }
  if (rc) {
    for (int i = 0; i < running; i++) atomic_store(&m->loops[i].stopping, true);
    for (int i = 0; i < running; i++) mock_loop_stop(&m->loops[i]);
    server_release(m, inited);
    return rc;
  }
  *out = m;
  return CQLMUX_OK;
}

void cqlmux_mock_free(cqlmux_mock *m) {
  if (!m) return;
  for (int i = 0; i < m->loop_count; i++) atomic_store(&m->loops[i].stopping, true);
  for (int i = 0; i < m->loop_count; i++) mock_loop_stop(&m->loops[i]);
  server_release(m, m->loop_count);
}

int cqlmux_mock_push_event(cqlmux_mock *m, int node, const cqlmux_mock_event *ev) {
  if (!m || !ev || ev->type < CQLMUX_MOCK_EVENT_TOPOLOGY || ev->type > CQLMUX_MOCK_EVENT_SCHEMA ||
      !ev->change)
    return CQLMUX_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&m->mu);
  bool ok = (node == CQLMUX_MOCK_ANY || (node >= 0 && node < m->node_count)) &&
            (ev->type == CQLMUX_MOCK_EVENT_SCHEMA ||
             (ev->about_node >= 0 && ev->about_node < m->node_count));
  pthread_mutex_unlock(&m->mu);
  if (!ok) return CQLMUX_ERR_INVALID_ARGUMENT;
  int reached = 0;
  mock_cmd cmd = {.kind = MOCK_CMD_EVENT, .node = node, .connection = CQLMUX_MOCK_ANY,
                  .event = *ev, .result = mock_on_loop_thread(m) ? NULL : &reached};
  mock_post_all(m, &cmd);
  return reached;
}

int cqlmux_mock_send_raw(cqlmux_mock *m, int64_t connection, const void *bytes, size_t len,
                         bool close_after) {
  if (!m || connection <= 0 || (!bytes && len)) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (mock_on_loop_thread(m)) return CQLMUX_ERR_INVALID_STATE;
  int written = 0;
  mock_cmd cmd = {.kind = MOCK_CMD_RAW, .node = CQLMUX_MOCK_ANY, .connection = connection,
                  .raw = bytes, .raw_len = len, .close_after = close_after, .result = &written};
  mock_post_all(m, &cmd);
  return written ? CQLMUX_OK : CQLMUX_ERR_NOT_FOUND;
}

void cqlmux_mock_set_request_hook(cqlmux_mock *m, cqlmux_mock_request_hook hook,
                                  void *user_data) {
  pthread_mutex_lock(&m->mu);
  m->hook = hook;
  m->hook_data = user_data;
  pthread_mutex_unlock(&m->mu);
}

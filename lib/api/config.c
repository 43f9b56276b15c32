#include "api/config.h"

#include <string.h>

#include "api/identifier.h"
#include "cluster/contact.h"
#include "net/loop.h"
#include "net/runtime.h"
#include "runtime/alloc.h"

/* Defaults of ../shared/DESIGN.md and the reference document. */
static void set_defaults(cqlmux_config *c) {
  c->port = 9042;
  c->io_threads = 1;
  c->callback_threads = 1;
  c->light_load_colocation = true;
  c->core_connections = 1;
  c->max_connections = 8;
  c->remote_core_connections = 1;
  c->remote_max_connections = 2;
  c->pool_idle_timeout_ms = 60000;
  c->reconnect_base_ms = 1000;
  c->reconnect_cap_ms = 60000;
  c->topology_debounce_ms = 1000;
  c->schema_metadata = true;
  c->schema_refresh_delay_ms = 200;
  c->schema_agreement_wait_ms = 10000;
  c->max_requests_per_connection = 1024;
  c->high_watermark_percent = 80;
  c->low_watermark_percent = 50;
  /* Like the peers' (cpp-driver queues 8,192 per I/O thread): a burst of
   * 10,000 requests at one node fits while the pool grows. */
  c->queue_size = 16384;
  c->memory_budget = 64u << 20;
  c->completion_queue_bound = 16384;
  c->request_timeout_ms = 12000;
  c->connect_timeout_ms = 5000;
  c->heartbeat_interval_ms = 30000;
  c->heartbeat_timeout_ms = 10000;
  c->tls_verify_peer = true;
  c->tls_verify_hostname = true;
  c->tls_min_version = 0x0303;
  c->io_backend = CQLMUX_IO_BACKEND_DEFAULT;
  c->log_level = CQLMUX_LOG_WARN;
  c->token_aware = true;
  c->shuffle_replicas = true;
  c->retry_policy = cqlmux_retry_policy_default();
  c->prepare_on_all_hosts = true;
  c->prepare_on_up = true;
  c->builtin_timestamps = true;
}

static char *dup_string(const cqlmux_allocator *a, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *copy = cqlmux_mem_malloc(a, n);
  if (copy) memcpy(copy, s, n);
  return copy;
}

/* The owned string fields, so copy and free treat them alike. */
static const size_t string_offsets[] = {
    offsetof(cqlmux_config, contact_points), offsetof(cqlmux_config, username),
    offsetof(cqlmux_config, password),       offsetof(cqlmux_config, keyspace),
    offsetof(cqlmux_config, tls_ca_file),    offsetof(cqlmux_config, tls_cert_file),
    offsetof(cqlmux_config, tls_key_file),   offsetof(cqlmux_config, local_dc),
    offsetof(cqlmux_config, allow_hosts),    offsetof(cqlmux_config, deny_hosts),
    offsetof(cqlmux_config, allow_dcs),      offsetof(cqlmux_config, deny_dcs)};
#define STRING_FIELDS (sizeof string_offsets / sizeof string_offsets[0])

static char **string_field(cqlmux_config *c, size_t i) {
  return (char **)(void *)((char *)c + string_offsets[i]);
}

/* Replaces *slot with a copy of value (NULL clears it). */
static int replace_string(cqlmux_config *c, char **slot, const char *value) {
  char *copy = NULL;
  if (value && !(copy = dup_string(&c->owner, value))) return CQLMUX_ERR_NOMEM;
  cqlmux_mem_free(&c->owner, *slot);
  *slot = copy;
  return CQLMUX_OK;
}

cqlmux_config *cqlmux_config_new_with_allocator(const cqlmux_allocator *allocator) {
  if (!allocator) allocator = cqlmux_default_allocator();
  if (!allocator->malloc || !allocator->realloc || !allocator->free) return NULL;
  cqlmux_config *c = cqlmux_mem_calloc(allocator, 1, sizeof *c);
  if (!c) return NULL;
  set_defaults(c);
  c->allocator = *allocator;
  c->owner = *allocator;
  if (replace_string(c, &c->contact_points, "127.0.0.1") != CQLMUX_OK) {
    cqlmux_mem_free(allocator, c);
    return NULL;
  }
  return c;
}

cqlmux_config *cqlmux_config_new(void) { return cqlmux_config_new_with_allocator(NULL); }

void cqlmux_config_free(cqlmux_config *config) {
  if (!config) return;
  cqlmux_allocator owner = config->owner;
  if (config->password) memset(config->password, 0, strlen(config->password));
  for (size_t i = 0; i < STRING_FIELDS; i++) cqlmux_mem_free(&owner, *string_field(config, i));
  cqlmux_mem_free(&owner, config);
}

cqlmux_config *cqlmux_config_copy(const cqlmux_config *config) {
  cqlmux_config *c = cqlmux_mem_malloc(&config->allocator, sizeof *c);
  if (!c) return NULL;
  *c = *config;
  c->owner = config->allocator;
  bool ok = true;
  for (size_t i = 0; i < STRING_FIELDS; i++) {
    char **field = string_field(c, i);
    const char *source = *string_field((cqlmux_config *)config, i);
    *field = NULL;
    if (source && !(*field = dup_string(&c->owner, source))) ok = false;
  }
  if (!ok) {
    cqlmux_config_free(c);
    return NULL;
  }
  return c;
}

unsigned cqlmux_config_high_watermark(const cqlmux_config *c) {
  unsigned n = (unsigned)((unsigned long long)c->max_requests_per_connection *
                          c->high_watermark_percent / 100);
  return n ? n : 1;
}

unsigned cqlmux_config_low_watermark(const cqlmux_config *c) {
  unsigned n = (unsigned)((unsigned long long)c->max_requests_per_connection *
                          c->low_watermark_percent / 100);
  return n ? n : 1;
}

/* ------------------------------------------------------------------ setters */

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!config || !(cond)) return CQLMUX_ERR_INVALID_ARGUMENT;               \
  } while (0)

int cqlmux_config_set_contact_points(cqlmux_config *config, const char *hosts) {
  CHECK(hosts && *hosts);
  /* Checked now (the port applied later may change; the syntax may not). */
  cqlmux_contact *contacts;
  size_t count;
  char why[300];
  int rc = cqlmux_contact_parse(&config->owner, hosts, config->port, &contacts, &count, why,
                                sizeof why);
  if (rc != CQLMUX_OK) return rc;
  cqlmux_mem_free(&config->owner, contacts);
  return replace_string(config, &config->contact_points, hosts);
}

int cqlmux_config_set_port(cqlmux_config *config, int port) {
  CHECK(port > 0 && port <= 65535);
  config->port = port;
  return CQLMUX_OK;
}

int cqlmux_config_set_protocol_version(cqlmux_config *config, int version) {
  CHECK(version == 0 || version == 4 || version == 5);
  config->protocol_version = version;
  return CQLMUX_OK;
}

int cqlmux_config_set_compression(cqlmux_config *config, cqlmux_compression c) {
  CHECK(c == CQLMUX_COMPRESSION_NONE || c == CQLMUX_COMPRESSION_LZ4);
  config->compression = c;
  return CQLMUX_OK;
}

int cqlmux_config_set_credentials(cqlmux_config *config, const char *username,
                                  const char *password) {
  CHECK((username == NULL) == (password == NULL));
  char *user = NULL, *pass = NULL;
  if (username && (!(user = dup_string(&config->owner, username)) ||
                   !(pass = dup_string(&config->owner, password)))) {
    cqlmux_mem_free(&config->owner, user);
    return CQLMUX_ERR_NOMEM;
  }
  if (config->password) memset(config->password, 0, strlen(config->password));
  cqlmux_mem_free(&config->owner, config->username);
  cqlmux_mem_free(&config->owner, config->password);
  config->username = user;
  config->password = pass;
  return CQLMUX_OK;
}

int cqlmux_config_set_keyspace(cqlmux_config *config, const char *keyspace) {
  char name[CQLMUX_KEYSPACE_NAME_MAX + 1];
  CHECK(!keyspace || cqlmux_keyspace_name(keyspace, name));
  return replace_string(config, &config->keyspace, keyspace ? name : NULL);
}

int cqlmux_config_set_io_threads(cqlmux_config *config, unsigned count) {
  CHECK(count >= 1 && count <= CQLMUX_MAX_IO_THREADS);
  config->io_threads = count;
  return CQLMUX_OK;
}

int cqlmux_config_set_callback_threads(cqlmux_config *config, unsigned count) {
  CHECK(count <= CQLMUX_MAX_CALLBACK_THREADS);
  config->callback_threads = count;
  return CQLMUX_OK;
}

int cqlmux_config_set_light_load_colocation(cqlmux_config *config, int enabled) {
  CHECK(1);
  config->light_load_colocation = enabled != 0;
  return CQLMUX_OK;
}

int cqlmux_config_set_io_backend(cqlmux_config *config, cqlmux_io_backend backend) {
  CHECK(cqlmux_loop_backend_available(backend));
  config->io_backend = backend;
  return CQLMUX_OK;
}

int cqlmux_config_set_connections_per_host(cqlmux_config *config, unsigned core, unsigned max) {
  CHECK(core >= 1 && max >= core && max <= CQLMUX_MAX_CONNECTIONS_PER_HOST);
  config->core_connections = core;
  config->max_connections = max;
  return CQLMUX_OK;
}

int cqlmux_config_set_remote_connections_per_host(cqlmux_config *config, unsigned core,
                                                  unsigned max) {
  CHECK(core >= 1 && max >= core && max <= CQLMUX_MAX_CONNECTIONS_PER_HOST);
  config->remote_core_connections = core;
  config->remote_max_connections = max;
  return CQLMUX_OK;
}

int cqlmux_config_set_pool_idle_timeout(cqlmux_config *config, unsigned ms) {
  CHECK(ms >= 1 && ms <= 86400000u);
  config->pool_idle_timeout_ms = ms;
  return CQLMUX_OK;
}

int cqlmux_config_set_connection_selection(cqlmux_config *config,
                                           cqlmux_connection_selection selection) {
  CHECK(selection == CQLMUX_SELECT_LEAST_LOADED || selection == CQLMUX_SELECT_ROUND_ROBIN ||
        selection == CQLMUX_SELECT_RANDOM);
  config->selection = selection;
  return CQLMUX_OK;
}

int cqlmux_config_set_local_dc(cqlmux_config *config, const char *dc) {
  CHECK(!dc || strlen(dc) < 64);
  return replace_string(config, &config->local_dc, dc && *dc ? dc : NULL);
}

int cqlmux_config_set_remote_hosts_per_dc(cqlmux_config *config, unsigned hosts) {
  CHECK(hosts <= 1024);
  config->remote_hosts_per_dc = hosts;
  return CQLMUX_OK;
}

int cqlmux_config_set_reconnect(cqlmux_config *config, unsigned base_ms, unsigned cap_ms) {
  CHECK(base_ms >= 1 && cap_ms >= base_ms);
  config->reconnect_base_ms = base_ms;
  config->reconnect_cap_ms = cap_ms;
  return CQLMUX_OK;
}

int cqlmux_config_set_topology_debounce(cqlmux_config *config, unsigned ms) {
  CHECK(ms <= 600000u);
  config->topology_debounce_ms = ms;
  return CQLMUX_OK;
}

int cqlmux_config_set_schema_metadata(cqlmux_config *config, int enabled) {
  CHECK(1);
  config->schema_metadata = enabled != 0;
  return CQLMUX_OK;
}

int cqlmux_config_set_schema_refresh_delay(cqlmux_config *config, unsigned ms) {
  CHECK(ms <= 600000u);
  config->schema_refresh_delay_ms = ms;
  return CQLMUX_OK;
}

int cqlmux_config_set_schema_agreement_wait(cqlmux_config *config, unsigned ms) {
  CHECK(ms <= 600000u);
  config->schema_agreement_wait_ms = ms;
  return CQLMUX_OK;
}

int cqlmux_config_set_address_translator(cqlmux_config *config,
                                         cqlmux_address_translator translator, void *user_data) {
  CHECK(1);
  config->translator = translator;
  config->translator_user_data = translator ? user_data : NULL;
  return CQLMUX_OK;
}

int cqlmux_config_set_host_listener(cqlmux_config *config, cqlmux_host_listener listener,
                                    void *user_data) {
  CHECK(1);
  config->host_listener = listener;
  config->host_listener_user_data = listener ? user_data : NULL;
  return CQLMUX_OK;
}

int cqlmux_config_set_max_requests_per_connection(cqlmux_config *config, unsigned max) {
  CHECK(max >= 1 && max <= 32768);
  config->max_requests_per_connection = max;
  return CQLMUX_OK;
}

int cqlmux_config_set_watermarks(cqlmux_config *config, unsigned high_percent,
                                 unsigned low_percent) {
  CHECK(low_percent >= 1 && low_percent < high_percent && high_percent <= 100);
  config->high_watermark_percent = high_percent;
  config->low_watermark_percent = low_percent;
  return CQLMUX_OK;
}

int cqlmux_config_set_queue_size(cqlmux_config *config, unsigned requests) {
  /* Bounded so that the admission limit (high watermark + queue) cannot
   * wrap: "unbounded" is what the memory budget is for. */
  CHECK(requests <= CQLMUX_MAX_QUEUE_SIZE);
  config->queue_size = requests;
  return CQLMUX_OK;
}

int cqlmux_config_set_memory_budget(cqlmux_config *config, size_t bytes) {
  CHECK(1);
  config->memory_budget = bytes;
  return CQLMUX_OK;
}

int cqlmux_config_set_completion_queue_bound(cqlmux_config *config, unsigned bound) {
  CHECK(bound >= 1);
  config->completion_queue_bound = bound;
  return CQLMUX_OK;
}

int cqlmux_config_set_request_timeout(cqlmux_config *config, unsigned ms) {
  CHECK(ms >= 1);
  config->request_timeout_ms = ms;
  return CQLMUX_OK;
}

int cqlmux_config_set_connect_timeout(cqlmux_config *config, unsigned ms) {
  CHECK(ms >= 1);
  config->connect_timeout_ms = ms;
  return CQLMUX_OK;
}

int cqlmux_config_set_heartbeat(cqlmux_config *config, unsigned interval_ms,
                                unsigned timeout_ms) {
  CHECK(interval_ms == 0 || timeout_ms >= 1);
  config->heartbeat_interval_ms = interval_ms;
  config->heartbeat_timeout_ms = timeout_ms;
  return CQLMUX_OK;
}

int cqlmux_config_set_tls(cqlmux_config *config, int enabled, const char *ca_file) {
  CHECK(1);
  int rc = replace_string(config, &config->tls_ca_file, ca_file);
  if (rc == CQLMUX_OK) config->tls_enabled = enabled != 0;
  return rc;
}

int cqlmux_config_set_tls_verify(cqlmux_config *config, int verify_peer, int verify_hostname) {
  CHECK(verify_peer || !verify_hostname);
  config->tls_verify_peer = verify_peer != 0;
  config->tls_verify_hostname = verify_hostname != 0;
  return CQLMUX_OK;
}

int cqlmux_config_set_tls_client_cert(cqlmux_config *config, const char *cert_file,
                                      const char *key_file) {
  CHECK((cert_file == NULL) == (key_file == NULL));
  int rc = replace_string(config, &config->tls_cert_file, cert_file);
  if (rc == CQLMUX_OK) rc = replace_string(config, &config->tls_key_file, key_file);
  return rc;
}

int cqlmux_config_set_tls_min_version(cqlmux_config *config, int version) {
  CHECK(version == 0x0303 || version == 0x0304);
  config->tls_min_version = version;
  return CQLMUX_OK;
}

int cqlmux_config_set_allocator(cqlmux_config *config, const cqlmux_allocator *allocator) {
  CHECK(allocator && allocator->malloc && allocator->realloc && allocator->free);
  config->allocator = *allocator;
  return CQLMUX_OK;
}

int cqlmux_config_set_log_callback(cqlmux_config *config, cqlmux_log_callback callback,
                                   void *user_data) {
  CHECK(1);
  config->log_callback = callback;
  config->log_user_data = user_data;
  return CQLMUX_OK;
}

int cqlmux_config_set_thread_start_callback(cqlmux_config *config,
                                           cqlmux_thread_start_callback callback, void *user_data) {
  CHECK(1);
  config->thread_start = callback;
  config->thread_start_user_data = callback ? user_data : NULL;
  return CQLMUX_OK;
}

int cqlmux_config_set_log_level(cqlmux_config *config, cqlmux_log_level level) {
  CHECK(level >= CQLMUX_LOG_NONE && level <= CQLMUX_LOG_TRACE);
  config->log_level = level;
  return CQLMUX_OK;
}

int cqlmux_config_set_timestamp_generator(cqlmux_config *config,
                                          cqlmux_timestamp_generator generator,
                                          void *user_data) {
  CHECK(1);
  config->builtin_timestamps = false;
  config->timestamp_generator = generator;
  config->timestamp_user_data = generator ? user_data : NULL;
  return CQLMUX_OK;
}

void cqlmux_config_runtime(const cqlmux_config *c, cqlmux_runtime_config *out) {
  cqlmux_runtime_config_defaults(out);
  out->io_threads = c->io_threads;
  out->callback_threads = c->callback_threads;
  out->light_load_colocation = c->light_load_colocation;
  out->backend = c->io_backend;
  /* Twice the read-pause bound: connections stop reading at the bound, so
   * the ring itself (where a full ring stalls the I/O thread) is not reached
   * in normal operation. */
  out->completion_capacity = 2 * (size_t)c->completion_queue_bound;
  out->allocator = &c->allocator;
  out->log_callback = c->log_callback;
  out->log_user_data = c->log_user_data;
  out->log_level = c->log_level;
  out->thread_start.start = c->thread_start;
  out->thread_start.user_data = c->thread_start_user_data;
}

/* ================================================================ routing */

int cqlmux_config_set_token_aware(cqlmux_config *config, int enabled, int shuffle_replicas) {
  CHECK(config);
  config->token_aware = enabled != 0;
  config->shuffle_replicas = shuffle_replicas != 0;
  return CQLMUX_OK;
}

int cqlmux_config_set_remote_for_local_consistency(cqlmux_config *config, int allowed) {
  CHECK(config);
  config->remote_for_local_consistency = allowed != 0;
  return CQLMUX_OK;
}

/* An allow/deny pair: "" counts as no list. */
static int set_lists(cqlmux_config *c, char **allow_slot, char **deny_slot, const char *allow,
                     const char *deny) {
  int rc = replace_string(c, allow_slot, allow && *allow ? allow : NULL);
  if (rc == CQLMUX_OK) rc = replace_string(c, deny_slot, deny && *deny ? deny : NULL);
  return rc;
}

int cqlmux_config_set_host_filter(cqlmux_config *config, const char *allow, const char *deny) {
  CHECK(config);
  return set_lists(config, &config->allow_hosts, &config->deny_hosts, allow, deny);
}

int cqlmux_config_set_dc_filter(cqlmux_config *config, const char *allow, const char *deny) {
  CHECK(config);
  return set_lists(config, &config->allow_dcs, &config->deny_dcs, allow, deny);
}

int cqlmux_config_set_load_balancing(cqlmux_config *config, const cqlmux_load_balancing *policy) {
  CHECK(config);
  CHECK(!policy || !policy->next_host || policy->new_plan);
  if (policy && policy->next_host)
    config->load_balancing = *policy;
  else
    memset(&config->load_balancing, 0, sizeof config->load_balancing);
  return CQLMUX_OK;
}

int cqlmux_config_set_retry_policy(cqlmux_config *config, const cqlmux_retry_policy *policy) {
  CHECK(config);
  CHECK(!policy || policy->decide);
  config->retry_policy = policy ? policy : cqlmux_retry_policy_default();
  return CQLMUX_OK;
}

int cqlmux_config_set_speculative_execution(cqlmux_config *config, unsigned delay_ms,
                                           unsigned max_extra) {
  CHECK(max_extra <= CQLMUX_MAX_SPECULATIVE);
  config->speculative = (cqlmux_speculative){delay_ms, max_extra};
  return CQLMUX_OK;
}

int cqlmux_config_set_prepare_on_hosts(cqlmux_config *config, int on_all_hosts, int on_up) {
  CHECK(config);
  config->prepare_on_all_hosts = on_all_hosts != 0;
  config->prepare_on_up = on_up != 0;
  return CQLMUX_OK;
}

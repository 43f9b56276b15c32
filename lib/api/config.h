/* The session configuration behind the opaque cqlmux_config. The session
 * copies it at creation; the copy is read-only afterwards, so every thread
 * may read it without synchronisation. */
#ifndef CQLMUX_API_CONFIG_H
#define CQLMUX_API_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "cqlmux.h"

/* A speculative execution policy: max_extra 0 is off. */
typedef struct cqlmux_speculative {
  unsigned delay_ms;
  unsigned max_extra;
} cqlmux_speculative;

struct cqlmux_config {
  char *contact_points;
  int port;
  int protocol_version; /* 0 = negotiate */
  cqlmux_compression compression;
  char *username;
  char *password;
  char *keyspace;

  unsigned io_threads;
  unsigned callback_threads;
  bool light_load_colocation;
  cqlmux_io_backend io_backend;

  unsigned core_connections;      /* LOCAL hosts */
  unsigned max_connections;
  unsigned remote_core_connections;
  unsigned remote_max_connections;
  unsigned remote_hosts_per_dc;
  char *local_dc;
  unsigned pool_idle_timeout_ms;
  cqlmux_connection_selection selection;
  unsigned reconnect_base_ms;
  unsigned reconnect_cap_ms;
  unsigned topology_debounce_ms;
  bool schema_metadata;
  unsigned schema_refresh_delay_ms;
  unsigned schema_agreement_wait_ms;
  cqlmux_address_translator translator;
  void *translator_user_data;
  cqlmux_host_listener host_listener;
  void *host_listener_user_data;
  bool token_aware;
  bool shuffle_replicas;
  bool remote_for_local_consistency;
  char *allow_hosts, *deny_hosts, *allow_dcs, *deny_dcs;
  cqlmux_load_balancing load_balancing;
  const cqlmux_retry_policy *retry_policy; /* never NULL */
  bool prepare_on_all_hosts;
  bool prepare_on_up;
  cqlmux_speculative speculative;
  unsigned max_requests_per_connection;
  unsigned high_watermark_percent;
  unsigned low_watermark_percent;
  unsigned queue_size;
  size_t memory_budget;
  unsigned completion_queue_bound;

  unsigned request_timeout_ms;
  unsigned connect_timeout_ms;
  unsigned heartbeat_interval_ms;
  unsigned heartbeat_timeout_ms;

  bool tls_enabled;
  char *tls_ca_file;
  bool tls_verify_peer;
  bool tls_verify_hostname;
  char *tls_cert_file;
  char *tls_key_file;
  int tls_min_version;

  cqlmux_allocator allocator; /* for the session's allocations */
  cqlmux_allocator owner;     /* the one this config and its strings came from */
  cqlmux_log_callback log_callback;
  void *log_user_data;
  cqlmux_thread_start_callback thread_start;
  void *thread_start_user_data;
  cqlmux_log_level log_level;
  /* Client timestamps: the session's own generator (the default), or
   * timestamp_generator (NULL: the server stamps writes). */
  bool builtin_timestamps;
  cqlmux_timestamp_generator timestamp_generator;
  void *timestamp_user_data;
};

/* Deep copy (strings duplicated) through the config's own allocator;
 * NULL when out of memory. Freed with cqlmux_config_free. */
cqlmux_config *cqlmux_config_copy(const cqlmux_config *config);

typedef struct cqlmux_runtime_config cqlmux_runtime_config;

/* The runtime's share of the settings (threads, backend, allocator, log);
 * pointers in *out borrow from c. */
void cqlmux_config_runtime(const cqlmux_config *c, cqlmux_runtime_config *out);

/* In-flight counts derived from max and the watermark percentages (>= 1). */
unsigned cqlmux_config_high_watermark(const cqlmux_config *config);
unsigned cqlmux_config_low_watermark(const cqlmux_config *config);

#endif

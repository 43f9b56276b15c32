#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"
#include "net/loop.h"
#include "net/runtime.h"
#include "rt_util.h"

Test(config, defaults_are_the_documented_ones) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_not_null(c);
  cr_assert_str_eq(c->contact_points, "127.0.0.1");
  cr_assert_eq(c->port, 9042);
  cr_assert_eq(c->io_threads, 1);
  cr_assert_eq(c->callback_threads, 1);
  cr_assert_eq(c->max_requests_per_connection, 1024);
  cr_assert_eq(cqlmux_config_high_watermark(c), 819);
  cr_assert_eq(cqlmux_config_low_watermark(c), 512);
  cr_assert_eq(c->request_timeout_ms, 12000);
  cr_assert_eq(c->heartbeat_interval_ms, 30000);
  cr_assert(c->tls_verify_peer && c->tls_verify_hostname, "TLS verification on by default");
  cr_assert_eq(c->log_level, CQLMUX_LOG_WARN);
  /* The cluster layer's (doc/configuration.md). */
  cr_assert_eq(c->core_connections, 1);
  cr_assert_eq(c->max_connections, 8);
  cr_assert_eq(c->remote_core_connections, 1);
  cr_assert_eq(c->remote_max_connections, 2);
  cr_assert_eq(c->remote_hosts_per_dc, 0);
  cr_assert_null(c->local_dc);
  cr_assert_eq(c->pool_idle_timeout_ms, 60000);
  cr_assert_eq(c->selection, CQLMUX_SELECT_LEAST_LOADED);
  cr_assert_eq(c->reconnect_base_ms, 1000);
  cr_assert_eq(c->reconnect_cap_ms, 60000);
  cr_assert_eq(c->topology_debounce_ms, 1000);
  cr_assert_eq(c->queue_size, 16384, "a burst of 10,000 fits one connection's queue");
  cqlmux_config_free(c);
}

/* Found by an independent client: "127.0.0.1:99999" was taken and became
 * port 34463; an unclosed "[::1" was taken too. */
Test(config, contact_points_are_checked_when_set) {
  cqlmux_config *c = cqlmux_config_new();
  const char *bad[] = {"127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:", "[::1", "[::1]x",
                       "host:12ab", " , ,", "a]:9042"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cr_assert_eq(cqlmux_config_set_contact_points(c, bad[i]), CQLMUX_ERR_INVALID_ARGUMENT, "%s",
                 bad[i]);
    cr_assert_str_eq(c->contact_points, "127.0.0.1", "unchanged after \"%s\"", bad[i]);
  }
  const char *good[] = {"127.0.0.1:65535", "[::1]:9044", "::1", "db.example, 10.0.0.1:9043",
                        "no-such-host.invalid,127.0.0.1"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    cr_assert_eq(cqlmux_config_set_contact_points(c, good[i]), CQLMUX_OK, "%s", good[i]);
  cqlmux_config_free(c);
}

Test(config, cluster_settings_are_range_checked) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_connections_per_host(c, 0, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_connections_per_host(c, 3, 2), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_remote_connections_per_host(c, 2, 1),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_remote_connections_per_host(c, 2, 4), CQLMUX_OK);
  cr_assert_eq(c->remote_max_connections, 4);
  cr_assert_eq(cqlmux_config_set_pool_idle_timeout(c, 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_reconnect(c, 0, 10), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_reconnect(c, 100, 50), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_reconnect(c, 100, 5000), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_connection_selection(c, (cqlmux_connection_selection)7),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_local_dc(c, "dc2"), CQLMUX_OK);
  cr_assert_str_eq(c->local_dc, "dc2");
  cr_assert_eq(cqlmux_config_set_local_dc(c, NULL), CQLMUX_OK);
  cr_assert_null(c->local_dc);
  cqlmux_config_free(c);
}

Test(config, invalid_values_are_rejected_and_leave_the_config_unchanged) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_port(c, 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_port(c, 70000), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(c->port, 9042);
  cr_assert_eq(cqlmux_config_set_protocol_version(c, 3), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_max_requests_per_connection(c, 32769),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_watermarks(c, 50, 80), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_queue_size(c, CQLMUX_MAX_QUEUE_SIZE + 1),
               CQLMUX_ERR_INVALID_ARGUMENT, "a limit that could wrap the admission bound");
  cr_assert_eq(c->queue_size, 16384);
  cr_assert_eq(cqlmux_config_set_queue_size(c, CQLMUX_MAX_QUEUE_SIZE), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_io_threads(c, 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_credentials(c, "user", NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_tls_verify(c, 0, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_contact_points(c, ""), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_str_eq(c->contact_points, "127.0.0.1");
  cr_assert_eq(cqlmux_config_set_port(NULL, 9042), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_config_free(c);
  cqlmux_config_free(NULL);
}

/* Issue 15: a quoted keyspace is unquoted once, a broken one refused. */
Test(config, keyspace_quoted_or_not_is_stored_as_the_server_names_it) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_eq(cqlmux_config_set_keyspace(c, "\"MyKs\""), CQLMUX_OK);
  cr_assert_str_eq(c->keyspace, "MyKs");
  cr_assert_eq(cqlmux_config_set_keyspace(c, "other_ks"), CQLMUX_OK);
  cr_assert_str_eq(c->keyspace, "other_ks");
  cr_assert_eq(cqlmux_config_set_keyspace(c, "\"broken"), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_keyspace(c, "a b"), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_str_eq(c->keyspace, "other_ks");
  cr_assert_eq(cqlmux_config_set_keyspace(c, NULL), CQLMUX_OK);
  cr_assert_null(c->keyspace);
  cqlmux_config_free(c);
}

static int live_allocations;
static void *counting_malloc(size_t n, void *ud) {
  (void)ud;
  live_allocations++;
  return malloc(n);
}
static void *counting_realloc(void *p, size_t n, void *ud) {
  (void)ud;
  if (!p) live_allocations++;
  return realloc(p, n);
}
static void counting_free(void *p, void *ud) {
  (void)ud;
  if (p) live_allocations--;
  free(p);
}

Test(config, copy_is_deep_and_uses_the_configured_allocator) {
  cqlmux_config *c = cqlmux_config_new();
  cqlmux_allocator a = {counting_malloc, counting_realloc, counting_free, NULL};
  cr_assert_eq(cqlmux_config_set_allocator(c, &a), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_credentials(c, "cassandra", "secret"), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_contact_points(c, "10.0.0.1,db.example"), CQLMUX_OK);
  cqlmux_config *copy = cqlmux_config_copy(c);
  cr_assert_not_null(copy);
  cr_assert_eq(live_allocations, 4, "struct + contact points + user + password");
  cr_assert_str_eq(copy->contact_points, "10.0.0.1,db.example");
  cr_assert_neq(copy->password, c->password);
  cqlmux_config_free(c);
  cr_assert_str_eq(copy->username, "cassandra");
  cqlmux_config_free(copy);
  cr_assert_eq(live_allocations, 0);
}

Test(config, runtime_share_of_the_defaults) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_not_null(c);
  cqlmux_runtime_config rc;
  cqlmux_config_runtime(c, &rc);
  cr_assert_eq(rc.io_threads, 1);
  cr_assert_eq(rc.callback_threads, 1);
  cr_assert_eq(rc.backend, CQLMUX_IO_BACKEND_DEFAULT);
  cr_assert_eq(rc.log_level, CQLMUX_LOG_WARN);
  cr_assert_null(rc.log_callback);
  /* The ring outgrows the read-pause bound, so reads pause first. */
  cr_assert_eq(rc.completion_capacity, 2 * (size_t)c->completion_queue_bound);
  cr_assert_eq(cqlmux_config_set_completion_queue_bound(c, 100), CQLMUX_OK);
  cqlmux_config_runtime(c, &rc);
  cr_assert_eq(rc.completion_capacity, 200);
  cqlmux_config_free(c);
  cqlmux_config_free(NULL);
}

static void ignore_log(cqlmux_log_level level, const char *message, void *ud) {
  (void)level;
  (void)message;
  (void)ud;
}

Test(config, runtime_setters_validate_and_store) {
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_config *c = cqlmux_config_new_with_allocator(&a.hook);
  cr_assert_eq(atomic_load(&a.live), 2, "the config and its default contact points");
  cr_assert_eq(cqlmux_config_set_io_threads(c, 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_io_threads(c, CQLMUX_MAX_IO_THREADS + 1),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_io_threads(c, 4), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_callback_threads(c, CQLMUX_MAX_CALLBACK_THREADS + 1),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_callback_threads(c, 0), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_io_backend(c, (cqlmux_io_backend)99),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_io_backend(c, CQLMUX_IO_BACKEND_POLL), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_log_level(c, (cqlmux_log_level)9), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_log_level(c, CQLMUX_LOG_DEBUG), CQLMUX_OK);
  int token;
  cr_assert_eq(cqlmux_config_set_log_callback(c, ignore_log, &token), CQLMUX_OK);
  cr_assert_eq(cqlmux_config_set_io_threads(NULL, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_runtime_config rc;
  cqlmux_config_runtime(c, &rc);
  cr_assert_eq(rc.io_threads, 4);
  cr_assert_eq(rc.callback_threads, 0);
  cr_assert_eq(rc.backend, CQLMUX_IO_BACKEND_POLL);
  cr_assert_eq(rc.log_level, CQLMUX_LOG_DEBUG);
  cr_assert_eq(rc.log_callback, ignore_log);
  cr_assert_eq(rc.log_user_data, &token);
  cr_assert_eq(rc.allocator->malloc, a.hook.malloc);
  cqlmux_config_free(c);
  cr_assert_eq(atomic_load(&a.live), 0);
}

Test(config, bad_allocator_or_nomem_gives_null) {
  cqlmux_allocator broken = {NULL, NULL, NULL, NULL};
  cr_assert_null(cqlmux_config_new_with_allocator(&broken));
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  atomic_store(&a.fail_at, 1);
  cr_assert_null(cqlmux_config_new_with_allocator(&a.hook));
}

Test(config, both_backends_available_on_linux) {
  cr_assert(cqlmux_loop_backend_available(CQLMUX_IO_BACKEND_DEFAULT));
  cr_assert(cqlmux_loop_backend_available(CQLMUX_IO_BACKEND_POLL));
#ifdef __linux__
  cr_assert(cqlmux_loop_backend_available(CQLMUX_IO_BACKEND_EPOLL));
#endif
}

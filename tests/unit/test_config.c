#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"

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
  cr_assert_eq(cqlmux_config_set_io_threads(c, 0), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_credentials(c, "user", NULL), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_tls_verify(c, 0, 1), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_config_set_contact_points(c, ""), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_str_eq(c->contact_points, "127.0.0.1");
  cr_assert_eq(cqlmux_config_set_port(NULL, 9042), CQLMUX_ERR_INVALID_ARGUMENT);
  cqlmux_config_free(c);
  cqlmux_config_free(NULL);
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

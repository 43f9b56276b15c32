/* The public config object and its mapping to the runtime settings. */
#include <criterion/criterion.h>

#include "api/config.h"
#include "net/loop.h"
#include "rt_util.h"

Test(config, defaults) {
  cqlmux_config *c = cqlmux_config_new();
  cr_assert_not_null(c);
  cqlmux_runtime_config rc;
  cqlmux_config_runtime(c, &rc);
  cr_assert_eq(rc.io_threads, 1);
  cr_assert_eq(rc.callback_threads, 1);
  cr_assert_eq(rc.backend, CQLMUX_IO_BACKEND_DEFAULT);
  cr_assert_eq(rc.log_level, CQLMUX_LOG_WARN);
  cr_assert_null(rc.log_callback);
  cqlmux_config_free(c);
  cqlmux_config_free(NULL);
}

static void ignore_log(cqlmux_log_level level, const char *message, void *ud) {
  (void)level;
  (void)message;
  (void)ud;
}

Test(config, setters_validate_and_store) {
  rt_counting_alloc a;
  rt_counting_alloc_init(&a);
  cqlmux_config *c = cqlmux_config_new_with_allocator(&a.hook);
  cr_assert_eq(atomic_load(&a.live), 1);
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

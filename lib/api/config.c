#include "api/config.h"

#include "net/loop.h"
#include "runtime/alloc.h"

static void config_set_defaults(cqlmux_config *c) {
  c->io_threads = 1;
  c->callback_threads = 1;
  c->io_backend = CQLMUX_IO_BACKEND_DEFAULT;
  c->log_callback = NULL;
  c->log_user_data = NULL;
  c->log_level = CQLMUX_LOG_WARN;
}

cqlmux_config *cqlmux_config_new_with_allocator(const cqlmux_allocator *allocator) {
  if (!allocator) allocator = cqlmux_default_allocator();
  if (!allocator->malloc || !allocator->realloc || !allocator->free) return NULL;
  cqlmux_config *c = cqlmux_mem_calloc(allocator, 1, sizeof *c);
  if (!c) return NULL;
  c->allocator = *allocator;
  config_set_defaults(c);
  return c;
}

cqlmux_config *cqlmux_config_new(void) { return cqlmux_config_new_with_allocator(NULL); }

void cqlmux_config_free(cqlmux_config *c) {
  if (!c) return;
  cqlmux_allocator alloc = c->allocator;
  cqlmux_mem_free(&alloc, c);
}

int cqlmux_config_set_io_threads(cqlmux_config *c, unsigned count) {
  if (!c || count < 1 || count > CQLMUX_MAX_IO_THREADS) return CQLMUX_ERR_INVALID_ARGUMENT;
  c->io_threads = count;
  return CQLMUX_OK;
}

int cqlmux_config_set_callback_threads(cqlmux_config *c, unsigned count) {
  if (!c || count > CQLMUX_MAX_CALLBACK_THREADS) return CQLMUX_ERR_INVALID_ARGUMENT;
  c->callback_threads = count;
  return CQLMUX_OK;
}

int cqlmux_config_set_io_backend(cqlmux_config *c, cqlmux_io_backend backend) {
  if (!c || !cqlmux_loop_backend_available(backend)) return CQLMUX_ERR_INVALID_ARGUMENT;
  c->io_backend = backend;
  return CQLMUX_OK;
}

int cqlmux_config_set_log_callback(cqlmux_config *c, cqlmux_log_callback callback,
                                   void *user_data) {
  if (!c) return CQLMUX_ERR_INVALID_ARGUMENT;
  c->log_callback = callback;
  c->log_user_data = user_data;
  return CQLMUX_OK;
}

int cqlmux_config_set_log_level(cqlmux_config *c, cqlmux_log_level level) {
  if (!c || level < CQLMUX_LOG_NONE || level > CQLMUX_LOG_TRACE) return CQLMUX_ERR_INVALID_ARGUMENT;
  c->log_level = level;
  return CQLMUX_OK;
}

void cqlmux_config_runtime(const cqlmux_config *c, cqlmux_runtime_config *out) {
  cqlmux_runtime_config_defaults(out);
  out->io_threads = c->io_threads;
  out->callback_threads = c->callback_threads;
  out->backend = c->io_backend;
  out->allocator = &c->allocator;
  out->log_callback = c->log_callback;
  out->log_user_data = c->log_user_data;
  out->log_level = c->log_level;
}

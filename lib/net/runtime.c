#include "net/runtime.h"

#include <stdatomic.h>
#include <stdbool.h>

#include "runtime/alloc.h"

struct cqlmux_runtime {
  cqlmux_allocator alloc;
  cqlmux_logger logger;
  unsigned nloops;
  cqlmux_loop **loops;
  cqlmux_workers *workers;
  _Atomic unsigned next_loop;
  bool shut_down;
};

void cqlmux_runtime_config_defaults(cqlmux_runtime_config *c) {
  c->io_threads = 1;
  c->callback_threads = 1;
  c->light_load_colocation = false; /* sessions turn it on (cqlmux_config) */
  c->backend = CQLMUX_IO_BACKEND_DEFAULT;
  c->completion_capacity = 0;
  c->allocator = NULL;
  c->log_callback = NULL;
  c->log_user_data = NULL;
  c->log_level = CQLMUX_LOG_WARN;
  c->thread_start = (cqlmux_thread_hook){NULL, NULL};
}

static bool config_valid(const cqlmux_runtime_config *c) {
  return c->io_threads >= 1 && c->io_threads <= CQLMUX_MAX_IO_THREADS &&
         c->callback_threads <= CQLMUX_MAX_CALLBACK_THREADS &&
         cqlmux_loop_backend_available(c->backend) && c->log_level <= CQLMUX_LOG_TRACE &&
         (!c->allocator || (c->allocator->malloc && c->allocator->realloc && c->allocator->free));
}

static int create_loops(cqlmux_runtime *rt, cqlmux_io_backend backend,
                        const cqlmux_thread_hook *thread_start) {
  rt->loops = cqlmux_mem_calloc(&rt->alloc, rt->nloops, sizeof *rt->loops);
  if (!rt->loops) return CQLMUX_ERR_NOMEM;
  for (unsigned i = 0; i < rt->nloops; i++) {
    cqlmux_loop_config lc = {.backend = backend, .alloc = &rt->alloc, .logger = &rt->logger,
                             .index = i, .thread_start = *thread_start};
    int rc = cqlmux_loop_new(&lc, &rt->loops[i]);
    if (rc == CQLMUX_OK) rc = cqlmux_loop_start(rt->loops[i]);
    if (rc != CQLMUX_OK) return rc;
  }
  return CQLMUX_OK;
}

/* Everything after the threads are gone. Loops may be partly created. */
static void release(cqlmux_runtime *rt) {
  for (unsigned i = 0; rt->loops && i < rt->nloops; i++) cqlmux_loop_free(rt->loops[i]);
  cqlmux_workers_free(rt->workers);
  cqlmux_allocator alloc = rt->alloc;
  cqlmux_mem_free(&alloc, rt->loops);
  cqlmux_mem_free(&alloc, rt);
}

int cqlmux_runtime_new(const cqlmux_runtime_config *c, cqlmux_runtime **out) {
  if (!c || !out || !config_valid(c)) return CQLMUX_ERR_INVALID_ARGUMENT;
  const cqlmux_allocator *a = c->allocator ? c->allocator : cqlmux_default_allocator();
  cqlmux_runtime *rt = cqlmux_mem_calloc(a, 1, sizeof *rt);
  if (!rt) return CQLMUX_ERR_NOMEM;
  rt->alloc = *a;
  cqlmux_logger_init(&rt->logger, c->log_callback, c->log_user_data, c->log_level);
  rt->nloops = c->io_threads;
  atomic_init(&rt->next_loop, 0);
  size_t capacity = c->completion_capacity ? c->completion_capacity
                                           : CQLMUX_DEFAULT_COMPLETION_CAPACITY;
  int rc = cqlmux_workers_new_hooked(&rt->alloc, &rt->logger, c->callback_threads, capacity,
                                     &c->thread_start, &rt->workers);
  /* With several I/O threads the workers could follow only one of them. */
  if (rc == CQLMUX_OK)
    cqlmux_workers_colocate(rt->workers, c->light_load_colocation && c->io_threads == 1);
  if (rc == CQLMUX_OK) rc = create_loops(rt, c->backend, &c->thread_start);
  if (rc != CQLMUX_OK) {
    cqlmux_runtime_shutdown(rt, CQLMUX_STOP_IMMEDIATE);
    release(rt);
    return rc;
  }
  cqlmux_log(&rt->logger, CQLMUX_LOG_INFO, "runtime started: %u I/O thread(s), %u callback thread(s)",
             c->io_threads, c->callback_threads);
  *out = rt;
  return CQLMUX_OK;
}

unsigned cqlmux_runtime_loop_count(const cqlmux_runtime *rt) { return rt->nloops; }

cqlmux_loop *cqlmux_runtime_loop(cqlmux_runtime *rt, unsigned index) { return rt->loops[index]; }

cqlmux_loop *cqlmux_runtime_next_loop(cqlmux_runtime *rt) {
  /* relaxed: only spreads placements; no data is published. */
  unsigned n = atomic_fetch_add_explicit(&rt->next_loop, 1, memory_order_relaxed);
  return rt->loops[n % rt->nloops];
}

cqlmux_workers *cqlmux_runtime_workers(cqlmux_runtime *rt) { return rt->workers; }

const cqlmux_allocator *cqlmux_runtime_allocator(const cqlmux_runtime *rt) { return &rt->alloc; }

const cqlmux_logger *cqlmux_runtime_logger(const cqlmux_runtime *rt) { return &rt->logger; }

cqlmux_future *cqlmux_runtime_future_new(cqlmux_runtime *rt) {
  return cqlmux_future_new(&rt->alloc, rt->workers);
}

void cqlmux_runtime_shutdown(cqlmux_runtime *rt, cqlmux_stop_mode mode) {
  if (rt->shut_down) return;
  rt->shut_down = true;
  for (unsigned i = 0; rt->loops && i < rt->nloops; i++)
    if (rt->loops[i]) cqlmux_loop_stop(rt->loops[i], mode);
  for (unsigned i = 0; rt->loops && i < rt->nloops; i++)
    if (rt->loops[i]) cqlmux_loop_join(rt->loops[i]);
  if (rt->workers) cqlmux_workers_stop(rt->workers);
  cqlmux_log(&rt->logger, CQLMUX_LOG_INFO, "runtime shut down (%s)",
             mode == CQLMUX_STOP_GRACEFUL ? "graceful" : "immediate");
}

void cqlmux_runtime_free(cqlmux_runtime *rt) {
  if (!rt) return;
  cqlmux_runtime_shutdown(rt, CQLMUX_STOP_IMMEDIATE);
  release(rt);
}

/* How many requests a second the null-mode mock answers: T client threads,
 * each keeping a pipeline of D queries in flight on its own connection for
 * S seconds. Not a test (nothing is asserted); run by hand:
 *   tests/mock/bench_mock_null [threads] [depth] [seconds] [mock-threads] [version]
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock/mock.h"
#include "mock/mock_client.h"

typedef struct job {
  cqlmux_mock *m;
  int depth;
  uint8_t version;
  double seconds;
  unsigned long long done;
  int error;
} job;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *client(void *arg) {
  job *j = arg;
  char addr[64];
  uint16_t port;
  mock_client c;
  cqlmux_mock_node_address(j->m, 0, addr, sizeof addr, &port);
  if (mock_client_connect(&c, addr, port, j->version) ||
      mock_client_handshake(&c, NULL, NULL, NULL, NULL)) {
    j->error = 1;
    return NULL;
  }
  cqlmux_wbuf batch;
  cqlmux_wbuf_init(&batch, NULL, 0);
  cqlmux_query_params p = {.consistency = CQLMUX_CONSISTENCY_ONE};
  cqlmux_slice q = {(const uint8_t *)"SELECT * FROM ks.t WHERE k = 1", 30};
  for (int i = 0; i < j->depth; i++) {
    cqlmux_request_header h = mock_client_header(&c, (int16_t)i);
    cqlmux_request_query(&batch, &h, q, &p);
  }
  double end = now_s() + j->seconds;
  while (now_s() < end && !j->error) {
    if (mock_client_send(&c, &batch)) j->error = 1;
    for (int i = 0; i < j->depth && !j->error; i++) {
      mock_reply r;
      if (mock_client_recv(&c, &r, 5000)) j->error = 1;
    }
    j->done += (unsigned long long)j->depth;
  }
  cqlmux_wbuf_free(&batch);
  mock_client_close(&c);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  int depth = argc > 2 ? atoi(argv[2]) : 128;
  double seconds = argc > 3 ? atof(argv[3]) : 2.0;
  int mock_threads = argc > 4 ? atoi(argv[4]) : 0;
  uint8_t version = (uint8_t)(argc > 5 ? atoi(argv[5]) : 4);
  if (threads < 1 || threads > 64 || depth < 1 || depth > 32768) return 2;
  cqlmux_mock_config cfg;
  cqlmux_mock_config_init(&cfg);
  cfg.null_mode = true;
  cfg.port = 0;
  cfg.threads = mock_threads;
  cqlmux_mock *m;
  if (cqlmux_mock_start(&cfg, &m)) return 1;
  job *jobs = calloc((size_t)threads, sizeof *jobs);
  pthread_t *t = calloc((size_t)threads, sizeof *t);
  if (!jobs || !t) return 1;
  double start = now_s();
  for (int i = 0; i < threads; i++) {
    jobs[i] = (job){m, depth, version, seconds, 0, 0};
    pthread_create(&t[i], NULL, client, &jobs[i]);
  }
  unsigned long long total = 0;
  int errors = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    total += jobs[i].done;
    errors += jobs[i].error;
  }
  double took = now_s() - start;
  printf("null mode v%u: %d client threads x depth %d: %llu requests in %.2f s = %.0f req/s "
         "(mock answered %llu, errors %d)\n",
         (unsigned)version, threads, depth, total, took, (double)total / took,
         (unsigned long long)cqlmux_mock_null_count(m), errors);
  cqlmux_mock_free(m);
  free(jobs);
  free(t);
  return errors ? 1 : 0;
}

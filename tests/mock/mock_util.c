/* Small helpers of the mock server: allocation, clock, text matching. */
#include "config.h"

#include "mock/mock_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/alloc.h"

static void mock_oom(size_t n) {
  fprintf(stderr, "cqlmux mock: out of memory (%zu bytes)\n", n);
  abort();
}

void *mock_xmalloc(size_t n) {
  void *p = cqlmux_mem_malloc(NULL, n ? n : 1);
  if (!p) mock_oom(n);
  return p;
}

void *mock_xcalloc(size_t count, size_t n) {
  void *p = cqlmux_mem_calloc(NULL, count ? count : 1, n ? n : 1);
  if (!p) mock_oom(count * n);
  return p;
}

void *mock_xrealloc(void *p, size_t n) {
  void *q = cqlmux_mem_realloc(NULL, p, n ? n : 1);
  if (!q) mock_oom(n);
  return q;
}

void mock_free(void *p) { cqlmux_mem_free(NULL, p); }

char *mock_xstrndup(const char *s, size_t n) {
  if (!s) return NULL;
  char *d = mock_xmalloc(n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *mock_xstrdup(const char *s) { return s ? mock_xstrndup(s, strlen(s)) : NULL; }

void mock_wbuf_check(const cqlmux_wbuf *b) {
  if (b->error) {
    fprintf(stderr, "cqlmux mock: buffer error %d (%s)\n", b->error, cqlmux_strerror(b->error));
    abort();
  }
}

uint64_t mock_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool mock_text_match(const char *pattern, const char *text, size_t text_len) {
  if (!pattern) return true;
  if (!text) return false;
  size_t n = strlen(pattern);
  if (n > 0 && pattern[n - 1] == '*') return text_len >= n - 1 && memcmp(pattern, text, n - 1) == 0;
  return text_len == n && memcmp(pattern, text, n) == 0;
}

static uint64_t fnv1a(const char *s, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; i++) {
    h ^= (uint8_t)s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

void mock_query_id(const char *text, size_t len, uint8_t out[16]) {
  uint64_t a = fnv1a(text, len, 0xcbf29ce484222325ull);
  uint64_t b = fnv1a(text, len, 0x84222325cbf29ce4ull ^ len);
  for (int i = 0; i < 8; i++) {
    out[i] = (uint8_t)(a >> (56 - 8 * i));
    out[8 + i] = (uint8_t)(b >> (56 - 8 * i));
  }
}

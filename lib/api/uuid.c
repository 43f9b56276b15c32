/* UUID generation, text form and the version 1 time field (cqlmux.h;
 * layout from RFC 9562). */
#include "api/uuid.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/random.h>
#include <time.h>

#include "cqlmux.h"
#include "runtime/timestamp.h"

/* 100 ns intervals from 1582-10-15 (the Gregorian reform) to 1970-01-01. */
#define GREGORIAN_TO_UNIX_100NS INT64_C(0x01B21DD213814000)
#define UUID_TEXT_LENGTH 36

int cqlmux_random_bytes(void *buf, size_t n) {
  uint8_t *p = buf;
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return CQLMUX_ERR_INVALID_STATE;
    p += got;
    n -= (size_t)got;
  }
  return CQLMUX_OK;
}

int cqlmux_uuid_v4(uint8_t out[16]) {
  if (!out) return CQLMUX_ERR_INVALID_ARGUMENT;
  uint8_t u[16];
  int rc = cqlmux_random_bytes(u, sizeof u);
  if (rc != CQLMUX_OK) return rc;
  u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
  u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* the RFC variant */
  for (int i = 0; i < 16; i++) out[i] = u[i];
  return CQLMUX_OK;
}

/* The v1 clock of the whole process, so that UUIDs of different sessions
 * made one after the other still sort in that order. */
static _Atomic int64_t last_v1_time = INT64_MIN;

static int64_t gregorian_now_100ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 10000000 + ts.tv_nsec / 100 + GREGORIAN_TO_UNIX_100NS;
}

void cqlmux_uuid_v1_make(const uint8_t node[6], uint16_t clock_seq, uint8_t out[16]) {
  int64_t previous;
  uint64_t t = (uint64_t)cqlmux_monotonic_claim(&last_v1_time, gregorian_now_100ns(), &previous);
  out[0] = (uint8_t)(t >> 24); /* time_low */
  out[1] = (uint8_t)(t >> 16);
  out[2] = (uint8_t)(t >> 8);
  out[3] = (uint8_t)t;
  out[4] = (uint8_t)(t >> 40); /* time_mid */
  out[5] = (uint8_t)(t >> 32);
  out[6] = (uint8_t)(((t >> 56) & 0x0f) | 0x10); /* time_high and version 1 */
  out[7] = (uint8_t)(t >> 48);
  out[8] = (uint8_t)(((clock_seq >> 8) & 0x3f) | 0x80); /* the RFC variant */
  out[9] = (uint8_t)clock_seq;
  for (int i = 0; i < 6; i++) out[10 + i] = node[i];
}

int cqlmux_uuid_version(const uint8_t uuid[16]) {
  return uuid ? uuid[6] >> 4 : CQLMUX_ERR_INVALID_ARGUMENT;
}

int cqlmux_uuid_v1_timestamp(const uint8_t uuid[16], int64_t *out) {
  if (!uuid || !out) return CQLMUX_ERR_INVALID_ARGUMENT;
  if (cqlmux_uuid_version(uuid) != 1) return CQLMUX_ERR_TYPE_MISMATCH;
  uint64_t t = (uint64_t)(uuid[6] & 0x0f) << 56 | (uint64_t)uuid[7] << 48 |
               (uint64_t)uuid[4] << 40 | (uint64_t)uuid[5] << 32 | (uint64_t)uuid[0] << 24 |
               (uint64_t)uuid[1] << 16 | (uint64_t)uuid[2] << 8 | uuid[3];
  /* 60 bits: the difference cannot overflow. */
  int64_t unix_100ns = (int64_t)t - GREGORIAN_TO_UNIX_100NS;
  int64_t ms = unix_100ns / 10000;
  if (unix_100ns % 10000 < 0) ms--;
  *out = ms;
  return CQLMUX_OK;
}

/* Byte offsets in the text form where a hyphen stands. */
static bool is_hyphen_offset(size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int cqlmux_uuid_format(const uint8_t uuid[16], char out[CQLMUX_UUID_TEXT_SIZE]) {
  if (!uuid || !out) return CQLMUX_ERR_INVALID_ARGUMENT;
  static const char digits[] = "0123456789abcdef";
  size_t byte = 0;
  for (size_t i = 0; i < UUID_TEXT_LENGTH; i++) {
    if (is_hyphen_offset(i)) {
      out[i] = '-';
      continue;
    }
    out[i] = digits[uuid[byte] >> 4];
    out[++i] = digits[uuid[byte++] & 0x0f];
  }
  out[UUID_TEXT_LENGTH] = '\0';
  return CQLMUX_OK;
}

/* The offset of the first character out of place, or UUID_TEXT_LENGTH. */
static size_t first_bad_character(const char *text) {
  for (size_t i = 0; i < UUID_TEXT_LENGTH; i++) {
    bool ok = is_hyphen_offset(i) ? text[i] == '-' : hex_value(text[i]) >= 0;
    if (!ok) return i;
  }
  return UUID_TEXT_LENGTH;
}

int cqlmux_uuid_parse(const char *text, size_t length, uint8_t out[16], size_t *error_offset) {
  if (!text || !out) return CQLMUX_ERR_INVALID_ARGUMENT;
  size_t bad = length != UUID_TEXT_LENGTH ? length : first_bad_character(text);
  if (bad != UUID_TEXT_LENGTH) {
    if (error_offset) *error_offset = bad;
    return CQLMUX_ERR_INVALID_ARGUMENT;
  }
  size_t byte = 0;
  for (size_t i = 0; i < UUID_TEXT_LENGTH; i++) {
    if (is_hyphen_offset(i)) continue;
    out[byte++] = (uint8_t)(hex_value(text[i]) << 4 | hex_value(text[i + 1]));
    i++;
  }
  return CQLMUX_OK;
}

/* Text of CQL scalar values (scalar.h). */
#include "scalar.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define MS_PER_DAY 86400000LL
#define NS_PER_SECOND 1000000000LL

typedef struct civil_date {
  int64_t year;
  unsigned month; /* 1..12 */
  unsigned day;   /* 1..31 */
} civil_date;

/* Floor division: the calendar needs days before the epoch to round down. */
static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 to a proleptic Gregorian date. Counts from
 * 0000-03-01 so that leap days end each 400-year era (146097 days), whose
 * years are then a closed formula. */
static civil_date civil_from_days(int64_t days) {
  int64_t z = days + 719468; /* days from 0000-03-01 to 1970-01-01 */
  int64_t era = floor_div(z, 146097);
  int64_t day_of_era = z - era * 146097;                                     /* 0..146096 */
  int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
                         day_of_era / 146096) / 365;                          /* 0..399 */
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_from_march = (5 * day_of_year + 2) / 153;                     /* 0..11 */
  civil_date d;
  d.day = (unsigned)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  d.month = (unsigned)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  d.year = year_of_era + era * 400 + (d.month <= 2);
  return d;
}

/* ISO-8601 years: four digits in 0..9999, else a sign and at least four. */
static void add_year(strbuf *sb, int64_t year) {
  if (year > 9999)
    strbuf_addf(sb, "+%lld", (long long)year);
  else if (year < 0)
    strbuf_addf(sb, "-%04lld", (long long)-year);
  else
    strbuf_addf(sb, "%04lld", (long long)year);
}

static void add_civil_date(strbuf *sb, int64_t days_since_epoch) {
  civil_date d = civil_from_days(days_since_epoch);
  add_year(sb, d.year);
  strbuf_addf(sb, "-%02u-%02u", d.month, d.day);
}

void scalar_timestamp(strbuf *sb, int64_t ms) {
  /* days * MS_PER_DAY would overflow near INT64_MIN: floor by the remainder */
  int64_t days = ms / MS_PER_DAY, ms_of_day = ms % MS_PER_DAY;
  if (ms_of_day < 0) {
    ms_of_day += MS_PER_DAY;
    days--;
  }
  add_civil_date(sb, days);
  strbuf_addf(sb, "T%02lld:%02lld:%02lld.%03lldZ", (long long)(ms_of_day / 3600000),
              (long long)(ms_of_day / 60000 % 60), (long long)(ms_of_day / 1000 % 60),
              (long long)(ms_of_day % 1000));
}

void scalar_date(strbuf *sb, uint32_t days) {
  add_civil_date(sb, (int64_t)days - 2147483648LL);
}

void scalar_time(strbuf *sb, int64_t ns) {
  int64_t s = ns / NS_PER_SECOND;
  strbuf_addf(sb, "%02lld:%02lld:%02lld.%09lld", (long long)(s / 3600), (long long)(s / 60 % 60),
              (long long)(s % 60), (long long)(ns % NS_PER_SECOND));
}

/* Appends amount / unit_size with its suffix when that is non-zero, and
 * returns what is left. */
static uint64_t add_unit(strbuf *sb, uint64_t amount, uint64_t unit_size, const char *suffix) {
  if (amount >= unit_size)
    strbuf_addf(sb, "%llu%s", (unsigned long long)(amount / unit_size), suffix);
  return amount % unit_size;
}

/* |x| without overflow at the most negative value. */
static uint64_t magnitude(int64_t x) { return x < 0 ? 0 - (uint64_t)x : (uint64_t)x; }

void scalar_duration(strbuf *sb, int32_t months, int32_t days, int64_t ns) {
  if (months == 0 && days == 0 && ns == 0) {
    strbuf_adds(sb, "0s");
    return;
  }
  if (months < 0 || days < 0 || ns < 0) strbuf_addc(sb, '-');
  add_unit(sb, add_unit(sb, magnitude(months), 12, "y"), 1, "mo");
  add_unit(sb, magnitude(days), 1, "d");
  static const struct { uint64_t size; const char *suffix; } units[] = {
      {3600 * NS_PER_SECOND, "h"}, {60 * NS_PER_SECOND, "m"}, {NS_PER_SECOND, "s"},
      {1000000, "ms"}, {1000, "us"}, {1, "ns"}};
  uint64_t left = magnitude(ns);
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    left = add_unit(sb, left, units[i].size, units[i].suffix);
}

/* The longest run of two or more zero groups (the first on a tie), as
 * RFC 5952 section 4.2 asks; *start = 8 when there is none. */
static void longest_zero_run(const unsigned groups[8], int *start, int *length) {
  *start = 8;
  *length = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && groups[j] == 0) j++;
    if (j - i > *length) {
      *start = i;
      *length = j - i;
    }
    i = j > i ? j : i + 1;
  }
}

static void add_ipv6(strbuf *sb, const uint8_t a[16]) {
  unsigned groups[8];
  for (int i = 0; i < 8; i++) groups[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
  bool v4_mapped = groups[5] == 0xffff;
  for (int i = 0; i < 5; i++) v4_mapped = v4_mapped && groups[i] == 0;
  if (v4_mapped) {
    strbuf_addf(sb, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
    return;
  }
  int zero_start, zero_length;
  longest_zero_run(groups, &zero_start, &zero_length);
  for (int i = 0; i < 8; i++) {
    if (i == zero_start) {
      strbuf_adds(sb, "::");
      i += zero_length - 1;
      continue;
    }
    if (i > 0 && i != zero_start + zero_length) strbuf_addc(sb, ':');
    strbuf_addf(sb, "%x", groups[i]);
  }
}

void scalar_inet(strbuf *sb, const uint8_t *address, size_t length) {
  if (length == 4)
    strbuf_addf(sb, "%u.%u.%u.%u", address[0], address[1], address[2], address[3]);
  else if (length == 16)
    add_ipv6(sb, address);
}

static void add_hex(strbuf *sb, const uint8_t *data, size_t length) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < length; i++) {
    strbuf_addc(sb, digits[data[i] >> 4]);
    strbuf_addc(sb, digits[data[i] & 15]);
  }
}

void scalar_uuid(strbuf *sb, const uint8_t uuid[16]) {
  static const uint8_t group_bytes[] = {4, 2, 2, 2, 6};
  const uint8_t *p = uuid;
  for (size_t g = 0; g < sizeof group_bytes; g++) {
    if (g) strbuf_addc(sb, '-');
    add_hex(sb, p, group_bytes[g]);
    p += group_bytes[g];
  }
}

void scalar_blob(strbuf *sb, const uint8_t *data, size_t length) {
  strbuf_adds(sb, "0x");
  add_hex(sb, data, length);
}

/* Whether text reads back as value at the given precision. */
static bool round_trips(const char *text, double value, bool is_float) {
  return is_float ? strtof(text, NULL) == (float)value : strtod(text, NULL) == value;
}

void scalar_float(strbuf *sb, double value, bool is_float) {
  if (isnan(value)) {
    strbuf_adds(sb, "NaN");
    return;
  }
  if (isinf(value)) {
    strbuf_adds(sb, value > 0 ? "Infinity" : "-Infinity");
    return;
  }
  char text[40];
  int max_digits = is_float ? 9 : 17; /* enough for any float / double */
  for (int digits = 1; digits <= max_digits; digits++) {
    snprintf(text, sizeof text, "%.*g", digits, value);
    if (round_trips(text, value, is_float)) break;
  }
  strbuf_adds(sb, text);
}

void scalar_json_string(strbuf *sb, const char *text, size_t length) {
  strbuf_addc(sb, '"');
  for (size_t i = 0; i < length; i++) {
    unsigned char c = (unsigned char)text[i];
    switch (c) {
    case '"': strbuf_adds(sb, "\\\""); break;
    case '\\': strbuf_adds(sb, "\\\\"); break;
    case '\n': strbuf_adds(sb, "\\n"); break;
    case '\r': strbuf_adds(sb, "\\r"); break;
    case '\t': strbuf_adds(sb, "\\t"); break;
    case '\b': strbuf_adds(sb, "\\b"); break;
    case '\f': strbuf_adds(sb, "\\f"); break;
    default:
      if (c < 0x20)
        strbuf_addf(sb, "\\u%04x", c);
      else
        strbuf_addc(sb, (char)c);
    }
  }
  strbuf_addc(sb, '"');
}

/* Appends text with every `quote` doubled, between two quotes. */
static void add_quoted(strbuf *sb, const char *text, size_t length, char quote) {
  strbuf_addc(sb, quote);
  for (size_t i = 0; i < length; i++) {
    if (text[i] == quote) strbuf_addc(sb, quote);
    strbuf_addc(sb, text[i]);
  }
  strbuf_addc(sb, quote);
}

void scalar_csv_field(strbuf *sb, const char *text, size_t length) {
  bool quote = length == 0;
  for (size_t i = 0; i < length && !quote; i++)
    quote = text[i] == ',' || text[i] == '"' || text[i] == '\r' || text[i] == '\n';
  if (quote)
    add_quoted(sb, text, length, '"');
  else
    strbuf_add(sb, text, length);
}

void scalar_cql_string(strbuf *sb, const char *text, size_t length) {
  add_quoted(sb, text, length, '\'');
}

/* The CQL temporal types (timestamp, date, time) to and from time_t and a
 * UTC struct tm (cqlmux.h). Proleptic Gregorian calendar through days since
 * 1970-01-01, computed here rather than with timegm/gmtime_r: those
 * normalise out-of-range fields, depend on the time_t width, and are not in
 * every libc. */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "cqlmux.h"

#define SECONDS_PER_DAY INT64_C(86400)
#define NS_PER_SECOND INT64_C(1000000000)
#define DAYS_PER_ERA 146097 /* 400 Gregorian years */
#define EPOCH_SHIFT 719468  /* days from 0000-03-01 to 1970-01-01 */

/* Floor division and its remainder (0 <= remainder < d) for d > 0. */
static int64_t floor_div(int64_t n, int64_t d) {
  int64_t q = n / d;
  return (n % d < 0) ? q - 1 : q;
}

static int64_t floor_mod(int64_t n, int64_t d) {
  return n - floor_div(n, d) * d;
}

static bool is_leap(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int64_t year, int month /* 1-12 */) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Days since 1970-01-01 of a valid Gregorian date: eras of 400 years
 * starting on March 1st, so the leap day ends each year. */
static int64_t days_from_civil(int64_t year, int month, int day) {
  year -= month <= 2;
  int64_t era = floor_div(year, 400);
  int64_t year_of_era = year - era * 400;
  int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT;
}

/* The inverse of days_from_civil, into the date fields of *tm. false when
 * the year does not fit tm_year. */
static bool civil_from_days(int64_t days, struct tm *tm) {
  int64_t shifted = days + EPOCH_SHIFT;
  int64_t era = floor_div(shifted, DAYS_PER_ERA);
  int64_t day_of_era = shifted - era * DAYS_PER_ERA;
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_from_march = (5 * day_of_year + 2) / 153;
  int month = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  int64_t year = year_of_era + era * 400 + (month <= 2);
  if (year - 1900 < INT_MIN || year - 1900 > INT_MAX) return false;
  memset(tm, 0, sizeof *tm);
  tm->tm_year = (int)(year - 1900);
  tm->tm_mon = month - 1;
  tm->tm_mday = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  tm->tm_yday = (int)(days - days_from_civil(year, 1, 1));
  tm->tm_wday = (int)floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
  return true;
}

static bool tm_date_valid(const struct tm *tm) {
  if (tm->tm_mon < 0 || tm->tm_mon > 11) return false;
  int64_t year = (int64_t)tm->tm_year + 1900;
  return tm->tm_mday >= 1 && tm->tm_mday <= days_in_month(year, tm->tm_mon + 1);
}

static bool tm_time_valid(const struct tm *tm) {
  return tm->tm_hour >= 0 && tm->tm_hour <= 23 && tm->tm_min >= 0 && tm->tm_min <= 59 &&
         tm->tm_sec >= 0 && tm->tm_sec <= 59;
}

static int64_t tm_days(const struct tm *tm) {
  return days_from_civil((int64_t)tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
}

static int64_t tm_seconds_of_day(const struct tm *tm) {
  return (int64_t)tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
}

static void set_time_of_day(int64_t seconds, struct tm *tm) {
  tm->tm_hour = (int)(seconds / 3600);
  tm->tm_min = (int)(seconds / 60 % 60);
  tm->tm_sec = (int)(seconds % 60);
}

/* An instant in seconds since the epoch into a UTC struct tm. */
static int seconds_to_tm(int64_t seconds, struct tm *out) {
  struct tm tm;
  if (!civil_from_days(floor_div(seconds, SECONDS_PER_DAY), &tm))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  set_time_of_day(floor_mod(seconds, SECONDS_PER_DAY), &tm);
  *out = tm;
  return CQLMUX_OK;
}

static int store_time_t(int64_t seconds, time_t *out) {
  if ((int64_t)(time_t)seconds != seconds) return CQLMUX_ERR_INVALID_ARGUMENT;
  *out = (time_t)seconds;
  return CQLMUX_OK;
}

/* Days since 1970-01-01 as a CQL date, when it fits. */
static int store_date(int64_t days, uint32_t *out) {
  int64_t date = days + (int64_t)CQLMUX_DATE_EPOCH;
  if (date < 0 || date > (int64_t)UINT32_MAX) return CQLMUX_ERR_INVALID_ARGUMENT;
  *out = (uint32_t)date;
  return CQLMUX_OK;
}

/* ------------------------------------------------------------- timestamp */

int cqlmux_timestamp_from_time_t(time_t seconds, int64_t *out) {
  int64_t ms;
  if (!out || __builtin_mul_overflow((int64_t)seconds, 1000, &ms))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  *out = ms;
  return CQLMUX_OK;
}

int cqlmux_timestamp_to_time_t(int64_t milliseconds, time_t *out) {
  if (!out) return CQLMUX_ERR_INVALID_ARGUMENT;
  return store_time_t(floor_div(milliseconds, 1000), out);
}

int cqlmux_timestamp_from_tm(const struct tm *tm, int64_t *out) {
  if (!tm || !out || !tm_date_valid(tm) || !tm_time_valid(tm)) return CQLMUX_ERR_INVALID_ARGUMENT;
  int64_t seconds, ms;
  if (__builtin_mul_overflow(tm_days(tm), SECONDS_PER_DAY, &seconds) ||
      __builtin_add_overflow(seconds, tm_seconds_of_day(tm), &seconds) ||
      __builtin_mul_overflow(seconds, 1000, &ms))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  *out = ms;
  return CQLMUX_OK;
}

int cqlmux_timestamp_to_tm(int64_t milliseconds, struct tm *out) {
  if (!out) return CQLMUX_ERR_INVALID_ARGUMENT;
  return seconds_to_tm(floor_div(milliseconds, 1000), out);
}

/* ------------------------------------------------------------------ date */

int cqlmux_date_from_time_t(time_t seconds, uint32_t *out) {
  if (!out) return CQLMUX_ERR_INVALID_ARGUMENT;
  return store_date(floor_div((int64_t)seconds, SECONDS_PER_DAY), out);
}

int cqlmux_date_to_time_t(uint32_t days, time_t *out) {
  if (!out) return CQLMUX_ERR_INVALID_ARGUMENT;
  return store_time_t(((int64_t)days - (int64_t)CQLMUX_DATE_EPOCH) * SECONDS_PER_DAY, out);
}

int cqlmux_date_from_tm(const struct tm *tm, uint32_t *out) {
  if (!tm || !out || !tm_date_valid(tm)) return CQLMUX_ERR_INVALID_ARGUMENT;
  return store_date(tm_days(tm), out);
}

int cqlmux_date_to_tm(uint32_t days, struct tm *out) {
  if (!out) return CQLMUX_ERR_INVALID_ARGUMENT;
  struct tm tm;
  if (!civil_from_days((int64_t)days - (int64_t)CQLMUX_DATE_EPOCH, &tm))
    return CQLMUX_ERR_INVALID_ARGUMENT;
  *out = tm;
  return CQLMUX_OK;
}

/* ------------------------------------------------------------------ time */

int cqlmux_time_from_time_t(time_t seconds, int64_t *out) {
  if (!out) return CQLMUX_ERR_INVALID_ARGUMENT;
  *out = floor_mod((int64_t)seconds, SECONDS_PER_DAY) * NS_PER_SECOND;
  return CQLMUX_OK;
}

int cqlmux_time_from_tm(const struct tm *tm, int64_t *out) {
  if (!tm || !out || !tm_time_valid(tm)) return CQLMUX_ERR_INVALID_ARGUMENT;
  *out = tm_seconds_of_day(tm) * NS_PER_SECOND;
  return CQLMUX_OK;
}

int cqlmux_time_to_tm(int64_t nanoseconds, struct tm *out) {
  if (!out || nanoseconds < 0 || nanoseconds > CQLMUX_TIME_MAX) return CQLMUX_ERR_INVALID_ARGUMENT;
  return seconds_to_tm(nanoseconds / NS_PER_SECOND, out);
}

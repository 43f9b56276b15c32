/* CQL timestamp, date and time to and from time_t and struct tm (issue 15
 * item 7), through the public API: known dates, round trips over a wide
 * range, and every kind of bad input. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "cqlmux.h"

static struct tm utc(int year, int month, int day, int hour, int min, int sec) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return tm;
}

Test(temporal, known_instants_match_their_calendar_dates) {
  int64_t ms;
  struct tm tm = utc(2024, 2, 29, 13, 45, 30);
  cr_assert_eq(cqlmux_timestamp_from_tm(&tm, &ms), CQLMUX_OK);
  cr_assert_eq(ms, INT64_C(1709214330000));
  tm = utc(1969, 12, 31, 23, 59, 59);
  cr_assert_eq(cqlmux_timestamp_from_tm(&tm, &ms), CQLMUX_OK);
  cr_assert_eq(ms, -1000);
  uint32_t days;
  tm = utc(1970, 1, 1, 0, 0, 0);
  cr_assert_eq(cqlmux_date_from_tm(&tm, &days), CQLMUX_OK);
  cr_assert_eq(days, CQLMUX_DATE_EPOCH);
  tm = utc(2000, 3, 1, 0, 0, 0);
  cr_assert_eq(cqlmux_date_from_tm(&tm, &days), CQLMUX_OK);
  cr_assert_eq(days, CQLMUX_DATE_EPOCH + 11017);
  tm = utc(1582, 10, 15, 0, 0, 0);
  cr_assert_eq(cqlmux_date_from_tm(&tm, &days), CQLMUX_OK);
  cr_assert_eq(days, CQLMUX_DATE_EPOCH - 141427);
}

Test(temporal, to_tm_fills_weekday_and_day_of_year) {
  struct tm tm;
  cr_assert_eq(cqlmux_timestamp_to_tm(INT64_C(1709214330999), &tm), CQLMUX_OK);
  cr_assert_eq(tm.tm_year, 124);
  cr_assert_eq(tm.tm_mon, 1);
  cr_assert_eq(tm.tm_mday, 29);
  cr_assert_eq(tm.tm_hour, 13);
  cr_assert_eq(tm.tm_min, 45);
  cr_assert_eq(tm.tm_sec, 30, "milliseconds dropped");
  cr_assert_eq(tm.tm_wday, 4, "a Thursday");
  cr_assert_eq(tm.tm_yday, 59);
  cr_assert_eq(cqlmux_timestamp_to_tm(-1, &tm), CQLMUX_OK);
  cr_assert_eq(tm.tm_year, 69, "rounds toward the past");
  cr_assert_eq(tm.tm_sec, 59);
  cr_assert_eq(tm.tm_wday, 3);
}

/* Every 7919th day over 1,000,000 years each way of the epoch, and the ends
 * of the date type: date -> tm -> date, and through gmtime_r where it can. */
Test(temporal, dates_round_trip_and_agree_with_gmtime) {
  for (int64_t d = -365242500; d <= 365242500; d += 7919) {
    uint32_t days = (uint32_t)(d + (int64_t)CQLMUX_DATE_EPOCH), back;
    struct tm tm, libc;
    cr_assert_eq(cqlmux_date_to_tm(days, &tm), CQLMUX_OK);
    cr_assert_eq(cqlmux_date_from_tm(&tm, &back), CQLMUX_OK);
    cr_assert_eq(back, days, "day %lld", (long long)d);
    time_t t;
    cr_assert_eq(cqlmux_date_to_time_t(days, &t), CQLMUX_OK);
    cr_assert_not_null(gmtime_r(&t, &libc));
    cr_assert_eq(tm.tm_year, libc.tm_year, "day %lld", (long long)d);
    cr_assert_eq(tm.tm_yday, libc.tm_yday);
    cr_assert_eq(tm.tm_mday, libc.tm_mday);
    cr_assert_eq(tm.tm_wday, libc.tm_wday);
    cr_assert_eq(cqlmux_date_from_time_t(t + 86399, &back), CQLMUX_OK);
    cr_assert_eq(back, days, "any second of the day gives it");
  }
  uint32_t ends[] = {0, UINT32_MAX};
  for (int i = 0; i < 2; i++) {
    struct tm tm;
    uint32_t back;
    cr_assert_eq(cqlmux_date_to_tm(ends[i], &tm), CQLMUX_OK);
    cr_assert_eq(cqlmux_date_from_tm(&tm, &back), CQLMUX_OK);
    cr_assert_eq(back, ends[i]);
  }
}

Test(temporal, timestamps_and_times_round_trip) {
  for (int64_t s = -INT64_C(62135596800); s < INT64_C(253402300800); s += 9999991) {
    int64_t ms, ns;
    time_t t;
    struct tm tm;
    cr_assert_eq(cqlmux_timestamp_from_time_t((time_t)s, &ms), CQLMUX_OK);
    cr_assert_eq(cqlmux_timestamp_to_tm(ms + 999, &tm), CQLMUX_OK);
    int64_t back;
    cr_assert_eq(cqlmux_timestamp_from_tm(&tm, &back), CQLMUX_OK);
    cr_assert_eq(back, ms);
    cr_assert_eq(cqlmux_timestamp_to_time_t(ms + 999, &t), CQLMUX_OK);
    cr_assert_eq((int64_t)t, s);
    cr_assert_eq(cqlmux_time_from_time_t((time_t)s, &ns), CQLMUX_OK);
    cr_assert_eq(cqlmux_time_from_tm(&tm, &back), CQLMUX_OK);
    cr_assert_eq(back, ns, "the time of day of both agree");
    struct tm day;
    cr_assert_eq(cqlmux_time_to_tm(ns + 999999999, &day), CQLMUX_OK);
    cr_assert_eq(day.tm_hour * 3600 + day.tm_min * 60 + day.tm_sec, ns / 1000000000);
    cr_assert_eq(day.tm_year, 70);
  }
  struct tm tm;
  cr_assert_eq(cqlmux_timestamp_to_tm(INT64_MAX, &tm), CQLMUX_OK);
  cr_assert_eq(cqlmux_timestamp_to_tm(INT64_MIN, &tm), CQLMUX_OK);
}

Test(temporal, bad_input_is_refused_and_leaves_the_output_alone) {
  int64_t ms = 5;
  uint32_t days = 5;
  struct tm tm = utc(2023, 2, 29, 0, 0, 0); /* not a leap year */
  cr_assert_eq(cqlmux_timestamp_from_tm(&tm, &ms), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_date_from_tm(&tm, &days), CQLMUX_ERR_INVALID_ARGUMENT);
  struct tm bad[] = {utc(2024, 13, 1, 0, 0, 0), utc(2024, 0, 1, 0, 0, 0),
                     utc(2024, 4, 31, 0, 0, 0), utc(2024, 1, 0, 0, 0, 0),
                     utc(2024, 1, 1, 24, 0, 0), utc(2024, 1, 1, 0, 60, 0),
                     utc(2024, 1, 1, 0, 0, 60), utc(2024, 1, 1, -1, 0, 0)};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(cqlmux_timestamp_from_tm(&bad[i], &ms), CQLMUX_ERR_INVALID_ARGUMENT, "%zu", i);
  cr_assert_eq(ms, 5);
  cr_assert_eq(cqlmux_time_from_tm(&bad[4], &ms), CQLMUX_ERR_INVALID_ARGUMENT);
  tm = utc(2024, 1, 1, 0, 0, 0);
  tm.tm_year = INT_MAX; /* beyond an int64 of milliseconds */
  cr_assert_eq(cqlmux_timestamp_from_tm(&tm, &ms), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_date_from_tm(&tm, &days), CQLMUX_ERR_INVALID_ARGUMENT,
               "beyond 2^31 days");
  cr_assert_eq(cqlmux_timestamp_from_time_t((time_t)(INT64_MAX / 999), &ms),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_date_from_time_t((time_t)(INT64_C(1) << 50), &days),
               CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(days, 5);
  cr_assert_eq(cqlmux_time_to_tm(-1, &tm), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_time_to_tm(CQLMUX_TIME_MAX + 1, &tm), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_time_to_tm(CQLMUX_TIME_MAX, &tm), CQLMUX_OK);
  cr_assert_eq(tm.tm_sec, 59);
  cr_assert_eq(cqlmux_timestamp_from_tm(NULL, &ms), CQLMUX_ERR_INVALID_ARGUMENT);
  cr_assert_eq(cqlmux_date_to_tm(0, NULL), CQLMUX_ERR_INVALID_ARGUMENT);
}

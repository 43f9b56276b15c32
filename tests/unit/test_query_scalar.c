/* cqlmux-query's scalar text (tools/query/scalar.c): each rule of the JSON
 * output and its edges. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "query/scalar.h"

/* The text one formatter call appends, as a C string owned by the test. */
static strbuf sb;
static void reset(void) { strbuf_free(&sb); }
static const char *text(void) { return sb.data ? sb.data : ""; }

#define EXPECT(call, want)                       \
  do {                                           \
    strbuf_clear(&sb);                           \
    call;                                        \
    cr_assert_str_eq(text(), want, "%s: got [%s], want [%s]", #call, text(), want); \
  } while (0)

TestSuite(query_scalar, .fini = reset);

Test(query_scalar, timestamp_is_iso_8601_utc_with_milliseconds) {
  EXPECT(scalar_timestamp(&sb, 1704164645678), "2024-01-02T03:04:05.678Z");
  EXPECT(scalar_timestamp(&sb, 0), "1970-01-01T00:00:00.000Z");
  EXPECT(scalar_timestamp(&sb, -1), "1969-12-31T23:59:59.999Z");
  EXPECT(scalar_timestamp(&sb, 951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT(scalar_timestamp(&sb, 253402300799999), "9999-12-31T23:59:59.999Z");
}

Test(query_scalar, timestamp_years_beyond_four_digits_are_expanded) {
  EXPECT(scalar_timestamp(&sb, 253402300800000), "+10000-01-01T00:00:00.000Z");
  EXPECT(scalar_timestamp(&sb, -62167219200000), "0000-01-01T00:00:00.000Z");
  EXPECT(scalar_timestamp(&sb, -62198755200000), "-0001-01-01T00:00:00.000Z");
  EXPECT(scalar_timestamp(&sb, INT64_MAX), "+292278994-08-17T07:12:55.807Z");
  EXPECT(scalar_timestamp(&sb, INT64_MIN), "-292275055-05-16T16:47:04.192Z");
}

Test(query_scalar, date_counts_from_two_to_the_31) {
  EXPECT(scalar_date(&sb, 2147483648u), "1970-01-01");
  EXPECT(scalar_date(&sb, 2147483648u + 19724), "2024-01-02");
  EXPECT(scalar_date(&sb, 2147483647u), "1969-12-31");
  EXPECT(scalar_date(&sb, 2147483648u + 11016), "2000-02-29");
}

/* The texts Cassandra 5.0's toJson gives for the same days. */
Test(query_scalar, date_negative_and_far_years_as_cassandra_prints_them) {
  EXPECT(scalar_date(&sb, 0), "-5877641-06-23");
  EXPECT(scalar_date(&sb, UINT32_MAX), "+5881580-07-11");
  EXPECT(scalar_date(&sb, 2147483648u - 719893), "-0001-01-01");
  EXPECT(scalar_date(&sb, 2147483648u + 2932897), "+10000-01-01");
  EXPECT(scalar_date(&sb, 2147483648u - 719528), "0000-01-01");
  EXPECT(scalar_date(&sb, 2147483648u - 719529), "-0001-12-31");
}

Test(query_scalar, time_has_nine_fraction_digits) {
  EXPECT(scalar_time(&sb, 0), "00:00:00.000000000");
  EXPECT(scalar_time(&sb, 3723000000004), "01:02:03.000000004");
  EXPECT(scalar_time(&sb, 86399999999999), "23:59:59.999999999");
}

Test(query_scalar, duration_in_cql_form) {
  EXPECT(scalar_duration(&sb, 1, 2, 11045006007008), "1mo2d3h4m5s6ms7us8ns");
  EXPECT(scalar_duration(&sb, 1, 2, 14706007008008), "1mo2d4h5m6s7ms8us8ns");
  EXPECT(scalar_duration(&sb, 1, 2, 10984006007008), "1mo2d3h3m4s6ms7us8ns");
  EXPECT(scalar_duration(&sb, 14, 3, 0), "1y2mo3d");
  EXPECT(scalar_duration(&sb, 12, 0, 1), "1y1ns");
  EXPECT(scalar_duration(&sb, -14, -3, -3600000000000), "-1y2mo3d1h");
  EXPECT(scalar_duration(&sb, 0, 0, -1000), "-1us");
  EXPECT(scalar_duration(&sb, 0, 0, 0), "0s");
  EXPECT(scalar_duration(&sb, INT32_MIN, INT32_MIN, INT64_MIN),
         "-178956970y8mo2147483648d2562047h47m16s854ms775us808ns");
}

Test(query_scalar, ipv4_dotted) {
  static const uint8_t a[4] = {192, 168, 1, 77};
  EXPECT(scalar_inet(&sb, a, 4), "192.168.1.77");
}

static void ipv6(const char *want, const uint16_t groups[8]) {
  uint8_t a[16];
  for (int i = 0; i < 8; i++) {
    a[2 * i] = (uint8_t)(groups[i] >> 8);
    a[2 * i + 1] = (uint8_t)groups[i];
  }
  EXPECT(scalar_inet(&sb, a, 16), want);
}

/* RFC 5952 section 4: lowercase, no leading zeros, the longest zero run
 * (two groups or more, the first on a tie) shortened. */
Test(query_scalar, ipv6_rfc_5952) {
  ipv6("2001:db8::1", (const uint16_t[8]){0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});
  ipv6("::", (const uint16_t[8]){0});
  ipv6("::1", (const uint16_t[8]){0, 0, 0, 0, 0, 0, 0, 1});
  ipv6("1::", (const uint16_t[8]){1, 0, 0, 0, 0, 0, 0, 0});
  ipv6("2001:db8:0:1:1:1:1:1", (const uint16_t[8]){0x2001, 0xdb8, 0, 1, 1, 1, 1, 1});
  ipv6("2001:db8::1:0:0:1", (const uint16_t[8]){0x2001, 0xdb8, 0, 0, 1, 0, 0, 1});
  ipv6("2001:0:0:1::1", (const uint16_t[8]){0x2001, 0, 0, 1, 0, 0, 0, 1});
  ipv6("2001:db8::ff00:42:8329",
       (const uint16_t[8]){0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329});
  ipv6("fe80::abcd:ef01:2345:6789",
       (const uint16_t[8]){0xfe80, 0, 0, 0, 0xabcd, 0xef01, 0x2345, 0x6789});
  ipv6("::ffff:1.2.3.4", (const uint16_t[8]){0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304});
  ipv6("::102:304", (const uint16_t[8]){0, 0, 0, 0, 0, 0, 0x0102, 0x0304});
}

Test(query_scalar, uuid_canonical_lowercase) {
  static const uint8_t u[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
                                0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};
  EXPECT(scalar_uuid(&sb, u), "01234567-89ab-cdef-0123-456789abcdef");
}

Test(query_scalar, blob_as_0x_lowercase_hex) {
  static const uint8_t b[3] = {0x00, 0xAB, 0x10};
  EXPECT(scalar_blob(&sb, b, 3), "0x00ab10");
  EXPECT(scalar_blob(&sb, b, 0), "0x");
}

Test(query_scalar, floats_shortest_text_that_reads_back) {
  EXPECT(scalar_float(&sb, 0.1, false), "0.1");
  EXPECT(scalar_float(&sb, (float)0.1, true), "0.1");
  EXPECT(scalar_float(&sb, (float)0.1, false), "0.10000000149011612");
  EXPECT(scalar_float(&sb, 3.141592653589793, false), "3.141592653589793");
  EXPECT(scalar_float(&sb, 1.5, true), "1.5");
  EXPECT(scalar_float(&sb, 1e20, false), "1e+20");
  EXPECT(scalar_float(&sb, -0.0, false), "-0");
  EXPECT(scalar_float(&sb, 5e-324, false), "5e-324");
  EXPECT(scalar_float(&sb, 1.7976931348623157e308, false), "1.7976931348623157e+308");
  EXPECT(scalar_float(&sb, 3.4028234663852886e38, true), "3.4028235e+38");
}

Test(query_scalar, nan_and_infinities_are_words) {
  EXPECT(scalar_float(&sb, NAN, false), "NaN");
  EXPECT(scalar_float(&sb, INFINITY, true), "Infinity");
  EXPECT(scalar_float(&sb, -INFINITY, false), "-Infinity");
}

Test(query_scalar, json_string_escapes_controls_and_keeps_utf8) {
  EXPECT(scalar_json_string(&sb, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
  EXPECT(scalar_json_string(&sb, "\n\r\t\b\f", 5), "\"\\n\\r\\t\\b\\f\"");
  EXPECT(scalar_json_string(&sb, "\x01\x1f\x7f", 3), "\"\\u0001\\u001f\x7f\"");
  EXPECT(scalar_json_string(&sb, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15),
         "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT(scalar_json_string(&sb, "a\0b", 3), "\"a\\u0000b\"");
  EXPECT(scalar_json_string(&sb, "", 0), "\"\"");
  EXPECT(scalar_json_string(&sb, "</script>", 9), "\"</script>\"");
}

Test(query_scalar, csv_fields_quoted_only_when_needed) {
  EXPECT(scalar_csv_field(&sb, "plain text", 10), "plain text");
  EXPECT(scalar_csv_field(&sb, "a,b", 3), "\"a,b\"");
  EXPECT(scalar_csv_field(&sb, "say \"hi\"", 8), "\"say \"\"hi\"\"\"");
  EXPECT(scalar_csv_field(&sb, "two\r\nlines", 10), "\"two\r\nlines\"");
  EXPECT(scalar_csv_field(&sb, "", 0), "\"\"");
}

Test(query_scalar, cql_string_doubles_quotes) {
  EXPECT(scalar_cql_string(&sb, "it's", 4), "'it''s'");
}

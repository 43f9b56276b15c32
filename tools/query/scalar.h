/* Text of CQL scalar values, as cqlmux-query prints them (in every output
 * format; JSON then quotes what is not a number). Pure functions of C
 * values: no cqlmux types, so each rule is unit-tested on its own
 * (tests/unit/test_query_scalar.c). */
#ifndef CQLMUX_QUERY_SCALAR_H
#define CQLMUX_QUERY_SCALAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* timestamp (ms since the Unix epoch): ISO-8601 UTC with milliseconds,
 * "2024-01-02T03:04:05.678Z". Years outside 0000..9999 are written as
 * ISO-8601 expanded years, the way Java (and so Cassandra) prints them:
 * "+10000-01-01T...", "-0001-12-31T...". */
void scalar_timestamp(strbuf *sb, int64_t ms);

/* date (days with the epoch at 2^31): "YYYY-MM-DD" in the proleptic
 * Gregorian calendar, years as scalar_timestamp writes them. */
void scalar_date(strbuf *sb, uint32_t days);

/* time (ns since midnight, 0 .. 86399999999999): "HH:MM:SS.nnnnnnnnn". */
void scalar_time(strbuf *sb, int64_t ns);

/* duration in CQL form: "1y2mo3d4h5m6s7ms8us9ns", leading "-" when
 * negative, zero units left out as Cassandra does; a zero duration is
 * "0s" (Cassandra would print nothing). */
void scalar_duration(strbuf *sb, int32_t months, int32_t days, int64_t ns);

/* inet: dotted IPv4 (length 4) or RFC 5952 IPv6 (length 16): lowercase,
 * no leading zeros, the longest run of two or more zero groups (the first
 * on a tie) as "::", and ::ffff:0:0/96 in mixed notation. */
void scalar_inet(strbuf *sb, const uint8_t *address, size_t length);

/* uuid, timeuuid: canonical lowercase 8-4-4-4-12. */
void scalar_uuid(strbuf *sb, const uint8_t uuid[16]);

/* blob: "0x" and lowercase hex ("0x" when empty). */
void scalar_blob(strbuf *sb, const uint8_t *data, size_t length);

/* float and double: the shortest decimal text that reads back as the same
 * number ("0.1", "1e+20", "-0"); "NaN", "Infinity" or "-Infinity" for the
 * rest. is_float rounds through float precision. */
void scalar_float(strbuf *sb, double value, bool is_float);

/* A JSON string literal: quotes, \" and \\, control characters escaped
 * (\n \r \t \b \f, else \u00XX); every other byte, UTF-8 included, kept. */
void scalar_json_string(strbuf *sb, const char *text, size_t length);

/* A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a
 * comma, quote, CR or LF, or is empty (an empty string, unlike a null,
 * which is written as nothing by the caller). */
void scalar_csv_field(strbuf *sb, const char *text, size_t length);

/* A CQL string literal: single quotes, with quotes doubled. */
void scalar_cql_string(strbuf *sb, const char *text, size_t length);

#endif

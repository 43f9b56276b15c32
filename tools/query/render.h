/* One CQL value (a result cell, with its type) as text, through the public
 * value API only:
 *   RENDER_JSON  a JSON value, by the rules of cqlmux-query(1): numbers for
 *                int, smallint, tinyint, float, double (NaN and infinities
 *                as strings); exact decimal strings for bigint, counter,
 *                varint, decimal; strings for everything else scalar;
 *                arrays for list, set, vector and tuple, [key, value] pair
 *                arrays for map, objects for UDTs; null.
 *   RENDER_TEXT  what a table or CSV cell shows: scalars as their plain
 *                text (the JSON strings without the quotes), composites as
 *                CQL literals ([1, 2], {'a': 1}, (1, 'x'), {f: 1}) whose
 *                text-like elements are quoted; null as "null" inside
 *                composites and as nothing at the top (the caller decides).
 * An empty value (zero bytes, which Cassandra allows for most types) is ""
 * in JSON and nothing in text. */
#ifndef CQLMUX_QUERY_RENDER_H
#define CQLMUX_QUERY_RENDER_H

#include <cqlmux.h>

#include "strbuf.h"

typedef enum render_style { RENDER_JSON, RENDER_TEXT } render_style;

/* Appends v's text. Returns CQLMUX_OK, or the value API's error when the
 * bytes do not decode (MALFORMED, TRUNCATED ...; sb then holds a partial
 * text the caller should drop). */
int render_value(strbuf *sb, const cqlmux_value *v, render_style style);

/* A column or UDT field name as a JSON object key ("name"). */
void render_json_key(strbuf *sb, const char *name, size_t length);

#endif

/* The columns a connection's answers repeat.
 *
 * The answer to a QUERY (or to an EXECUTE sent without SKIP_METADATA)
 * carries its column specs, names and types, every time. Decoded into each
 * result, they cost the result 56 bytes a column of arena and the decoder a
 * pass over every name and type: an unprepared SELECT of 6 columns outgrew
 * the pooled call's inline arena by a 376-byte block, 1.2 KiB per request
 * in flight instead of under 1. So each connection remembers the last such
 * metadata, as bytes and decoded, in a shared cqlmux_result_meta; an answer
 * whose metadata bytes are the same takes a reference to it (none per
 * request once a pooled call holds it) and only its rows are kept and
 * indexed. Equal bytes decode to equal columns: the metadata encoding
 * delimits itself, so the same bytes end where the remembered ones did.
 *
 * Answers with a paging state or a new metadata id (which change from
 * answer to answer) are never remembered. A connection whose answers bring
 * other columns replaces what it remembers only after MEMO_REPLACE_AFTER
 * such answers in a row, so that alternating queries cost no allocation per
 * answer (each such answer then decodes its own columns, as before).
 *
 * Threads: a memo is its connection's (cqlmux_connection_memo) and is used
 * on that connection's loop thread only; the columns it shares are
 * immutable and reference-counted, read by any thread holding a result. */
#ifndef CQLMUX_API_COLUMNS_MEMO_H
#define CQLMUX_API_COLUMNS_MEMO_H

#include "api/result.h"

/* Decodes an answer into r, as cqlmux_result_fill does, through the memo
 * in *slot (created there on first use, with alloc): a ROWS answer that
 * repeats the remembered metadata shares its columns
 * (cqlmux_result_fill_rows). Loop thread of the slot's connection. */
int cqlmux_columns_memo_fill(void **slot, const cqlmux_allocator *alloc, cqlmux_result *r,
                             uint8_t version, uint8_t opcode, const uint8_t *body, size_t len,
                             cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix);

/* Frees a memo (a connection's memo_release). Results keep the columns
 * they share. Any thread, once the connection is gone. */
void cqlmux_columns_memo_free(void *memo);

#endif

/* A prepared statement as the server described it: its id, the v5 result
 * metadata id, how many values it takes, and the columns it returns.
 * Immutable once built, so any thread may read it; owned by the application
 * (cqlmux_prepared_free).
 *
 * Result metadata. A prepared statement that returns columns is executed
 * with SKIP_METADATA: the server leaves the column specs out of every ROWS
 * answer (about a third of a one-row answer's bytes, and its costliest part
 * to decode), and the result takes them from the cqlmux_result_meta decoded
 * once here. The columns are shared, reference-counted, by the prepared
 * statement and every result using them, so a result stays readable after
 * the application frees the prepared statement. */
#ifndef CQLMUX_API_PREPARED_H
#define CQLMUX_API_PREPARED_H

#include <stddef.h>
#include <stdint.h>

#include <stdatomic.h>

#include "cqlmux.h"
#include "proto/arena.h"
#include "proto/response.h"
#include "runtime/intrusive.h"

typedef struct cqlmux_result_meta {
  _Atomic unsigned refs;             /* changed when a pooled call takes it up or lets it go */
  /* The columns that replaced these (v5 METADATA_CHANGED), or NULL: set
   * once (compare-exchange), holding a reference, never changed after. */
  _Atomic(struct cqlmux_result_meta *) newer;
  char pad_[CQLMUX_CACHE_LINE];      /* ... so off the line the decoder reads on every answer */
  uint8_t *metadata_id;              /* v5 result metadata id of a replacement; NULL first */
  size_t metadata_id_len;
  cqlmux_allocator alloc;
  int32_t columns_count;
  const cqlmux_column_spec *columns; /* into arena and body */
  cqlmux_arena arena;
  uint8_t *body;                     /* a copy of the PREPARED answer, or of a ROWS metadata */
  /* Remembered from a ROWS answer (cqlmux_result_meta_from_metadata): its
   * metadata as decoded (slices into body) and its length in bytes. */
  cqlmux_rows_metadata rows;
  size_t metadata_len;
} cqlmux_result_meta;

/* Decodes the result columns of a PREPARED body (protocol `version`) into a
 * new cqlmux_result_meta with one reference. NULL when the statement
 * returns no columns, or on NOMEM or a decoding error (the statement then
 * simply runs without SKIP_METADATA). */
cqlmux_result_meta *cqlmux_result_meta_new(const cqlmux_allocator *alloc, int version,
                                           const uint8_t *body, size_t len);
/* The columns a ROWS answer flagged METADATA_CHANGED carries (protocol
 * `version`, body copied), with their new metadata id; NULL on NOMEM or a
 * decoding error. */
cqlmux_result_meta *cqlmux_result_meta_from_rows(const cqlmux_allocator *alloc, int version,
                                                 const uint8_t *body, size_t len);
/* The columns of the <metadata> of a ROWS answer, at p (after the kind;
 * len bytes available, the rows after it included): its bytes copied, its
 * decoding in rows and columns (api/columns_memo.h). NULL on NOMEM, a
 * decoding error, or when it names no columns. */
cqlmux_result_meta *cqlmux_result_meta_from_metadata(const cqlmux_allocator *alloc, int version,
                                                     const uint8_t *p, size_t len);
/* m's newest replacement (m itself when none). Any thread, lock-free. */
cqlmux_result_meta *cqlmux_result_meta_current(cqlmux_result_meta *m);
/* Records `newer` (its reference taken over) as what replaced m's newest
 * version; dropped when another thread recorded one first, or when it has
 * the same id. */
void cqlmux_result_meta_replace(cqlmux_result_meta *m, cqlmux_result_meta *newer);
/* Any thread. Release accepts NULL; the last reference frees it. */
void cqlmux_result_meta_retain(cqlmux_result_meta *m);
void cqlmux_result_meta_release(cqlmux_result_meta *m);

/* The bind markers a PREPARED answer describes: names and types, for the
 * client-side checks of binds and for binding by name. Owned by the
 * prepared statement (statements must not outlive it, so they may borrow). */
typedef struct cqlmux_prepared_params {
  int32_t count;
  const cqlmux_column_spec *columns; /* into arena and body; NULL: unknown */
  cqlmux_arena arena;
  uint8_t *body;                     /* a copy of the PREPARED answer */
} cqlmux_prepared_params;

struct cqlmux_prepared {
  cqlmux_allocator alloc;
  uint8_t *id;
  size_t id_len;
  uint8_t *result_metadata_id; /* v5; NULL before */
  size_t result_metadata_id_len;
  size_t parameter_count;
  char *cql;                   /* the text, to prepare again on UNPREPARED */
  cqlmux_result_meta *result_meta; /* NULL: no result columns (no SKIP_METADATA) */
  cqlmux_prepared_params params;   /* columns NULL: binds go unchecked, names unknown */
  /* For token-aware routing (api/routing.h), from the same body: the bind
   * markers of the partition key columns, in key order (pk_count
   * big-endian u16s; pk_count 0: unknown, or the query names no whole
   * key), and the table's keyspace (len 0: unknown). */
  int32_t pk_count;
  const uint8_t *pk_raw;           /* into params.body */
  const char *keyspace;            /* into params.body; not NUL-terminated */
  size_t keyspace_len;
};

/* Copies the given fields into a new prepared statement; NULL on NOMEM. */
cqlmux_prepared *cqlmux_prepared_new(const cqlmux_allocator *alloc, const char *cql,
                                     const uint8_t *id, size_t id_len,
                                     const uint8_t *result_metadata_id,
                                     size_t result_metadata_id_len, size_t parameter_count);

/* Takes the result columns and the bind markers from the PREPARED body
 * (protocol `version`). Either may stay unknown (NOMEM, an undecodable
 * body): the statement then runs without SKIP_METADATA, or without the
 * client-side bind checks and names; it still runs. Called once, on the
 * thread completing the PREPARE, before anyone else sees p. */
void cqlmux_prepared_describe(cqlmux_prepared *p, int version, const uint8_t *body, size_t len);

/* The result metadata id an EXECUTE of p sends (v5): that of its newest
 * columns. */
void cqlmux_prepared_metadata_id(const cqlmux_prepared *p, cqlmux_slice *out);

/* The bind marker `index`, or NULL when unknown or out of range. */
const cqlmux_column_spec *cqlmux_prepared_param(const cqlmux_prepared *p, size_t index);

#endif

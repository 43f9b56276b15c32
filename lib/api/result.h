/* The public cqlmux_result: a decoded RESULT (or the details of an ERROR)
 * that borrows the received bytes.
 *
 * Filled once on the I/O thread that received the answer, then read-only:
 * any thread may read it after the future completes (the future's
 * completion publishes it). It keeps the bytes alive through a reference on
 * the connection's receive buffer, or through a private copy when the bytes
 * came from a decompression or reassembly buffer that is reused; small
 * bodies are always copied, into the arena (CQLMUX_RESULT_SMALL_BODY). */
#ifndef CQLMUX_API_RESULT_H
#define CQLMUX_API_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "cqlmux.h"
#include "proto/arena.h"
#include "proto/envelope.h"
#include "proto/response.h"

typedef struct cqlmux_rbuf cqlmux_rbuf;

/* Sizes, from what the benchmark's workloads use (tools/bench; 1 row x 6
 * columns): a prepared SELECT answered with SKIP_METADATA takes 96 bytes of
 * arena (its 69-byte body copy, then 6 cell offsets), an INSERT's VOID 8.
 * Every pooled call (one per request in flight) carries the inline arena,
 * so it holds those with a little room and no more. A result that does not fit (an
 * unprepared SELECT: its 6 column specs and cell index take 360 bytes next
 * to the body copy) grows the arena by one block; the call keeps that block
 * for its next use (cqlmux_result_recycle), up to CQLMUX_RESULT_ARENA_KEEP,
 * so a steady workload of such results stops allocating after each call's
 * first use. */
#define CQLMUX_RESULT_ARENA_INLINE 128
#define CQLMUX_RESULT_ARENA_KEEP 4096
/* Bodies up to this size are copied into the arena instead of keeping the
 * connection's receive buffer (see result.c). */
#define CQLMUX_RESULT_SMALL_BODY 256

typedef struct cqlmux_result_meta cqlmux_result_meta;

/* The details of an ERROR answer; in the result's arena, since an error
 * needs far more room than a typical result and comes far less often. */
typedef struct cqlmux_result_error {
  cqlmux_error_body body;
  /* NUL-terminated copies for cqlmux_server_error's string fields. */
  const char *write_type;
  const char *keyspace;
  const char *table;
} cqlmux_result_error;

/* A decoded answer. Only what a common result needs is inline (the kind and
 * the rows); the rarer, larger answers live in the arena. */
struct cqlmux_result {
  cqlmux_arena arena;               /* its allocator is the result's */
  /* The columns of a SKIP_METADATA answer (cqlmux_result_omitted_meta),
   * kept alive by this reference. It stays with the pooled
   * call after clear and recycle, so a call reused for the same prepared
   * statement (the common case) changes no reference count: two atomic
   * operations on a shared line less per request. Dropped when the call is
   * used for other columns or destroyed (cqlmux_result_drop_columns). */
  cqlmux_result_meta *meta_ref;
  cqlmux_rbuf *buffer;              /* retained receive buffer, or NULL */
  uint8_t *copy;                    /* private copy of the body, or NULL */
  /* The envelope's tracing id / warnings / custom payload, when it had any:
   * the parsed view and its bytes both copied into the arena. NULL for the
   * common answer, which carries no prefix and so costs nothing here. */
  const cqlmux_body_prefix *prefix;
  int32_t kind;                     /* CQLMUX_RESULT_* when has_result; else 0 */
  bool has_result;                  /* a RESULT was decoded: kind and its member below */
  bool has_error;                   /* an ERROR was decoded: error below */
  /* This answer was asked for with SKIP_METADATA: its columns are
   * meta_ref's. A flag rather than a second pointer (it could only ever
   * equal meta_ref), so that the prefix pointer above costs no size. */
  bool columns_omitted;
  union {
    cqlmux_rows rows;                          /* kind ROWS */
    cqlmux_slice keyspace;                     /* kind SET_KEYSPACE */
    const cqlmux_prepared_msg *prepared;       /* kind PREPARED, in the arena */
    const cqlmux_schema_change *schema_change; /* kind SCHEMA_CHANGE, in the arena */
    const cqlmux_result_error *error;          /* has_error, in the arena */
  };
  _Alignas(CQLMUX_ARENA_ALIGN) uint8_t arena_inline[CQLMUX_RESULT_ARENA_INLINE];
};

void cqlmux_result_init(cqlmux_result *r, const cqlmux_allocator *alloc);

/* The columns of a SKIP_METADATA answer, or NULL. */
static inline cqlmux_result_meta *cqlmux_result_omitted_meta(const cqlmux_result *r) {
  return r->columns_omitted ? r->meta_ref : NULL;
}

/* Decodes a RESULT (opcode RESULT) or ERROR (opcode ERROR) body. When
 * buffer is non-NULL the body lies in it and is retained; otherwise the
 * body is copied. A non-NULL prefix (the envelope's) is copied into the
 * arena (r->prefix). Returns OK, NOMEM or the decoder's error (MALFORMED,
 * TRUNCATED ...); on failure r holds nothing. */
int cqlmux_result_fill(cqlmux_result *r, uint8_t version, uint8_t opcode, const uint8_t *body,
                       size_t len, cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix);

/* Fills r from the rows of a ROWS answer whose metadata was m's (compared
 * byte for byte by the caller, api/columns_memo.h): rows and len are what
 * follows the metadata, in buffer when non-NULL (as for fill). Its columns
 * are m's, which r keeps a reference on (meta_ref). Same errors as fill. */
int cqlmux_result_fill_rows(cqlmux_result *r, cqlmux_result_meta *m, const uint8_t *rows,
                            size_t len, cqlmux_rbuf *buffer, const cqlmux_body_prefix *prefix);

/* Before fill: the answer was asked for with SKIP_METADATA, its columns are
 * those of m (NULL: none); the result holds a reference on m (meta_ref). */
void cqlmux_result_expect_columns(cqlmux_result *r, cqlmux_result_meta *m);

/* Releases what fill took (buffer reference, copy, arena growth); keeps
 * the columns reference for the next use (see meta_ref). */
void cqlmux_result_clear(cqlmux_result *r);

/* The same for a result about to be filled again (a pooled call): one block
 * the arena grew is kept for the next fill, up to CQLMUX_RESULT_ARENA_KEEP
 * bytes. cqlmux_result_clear or cqlmux_arena_free(&r->arena) frees it. */
void cqlmux_result_recycle(cqlmux_result *r);

/* Drops the columns reference kept across uses (before freeing r). */
void cqlmux_result_drop_columns(cqlmux_result *r);

/* "Cassandra error 0x2200 (invalid query): <message>" into out. */
void cqlmux_result_describe_error(const cqlmux_result *r, char *out, size_t cap);

#endif

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
#include "proto/response.h"

typedef struct cqlmux_rbuf cqlmux_rbuf;

/* A typical small result fits here without an allocation: the body copy
 * (CQLMUX_RESULT_SMALL_BODY), its cell index, and for an unprepared
 * statement the specs of a handful of columns (6 columns: ~490 bytes);
 * prepared statements borrow their columns instead (api/prepared.h). Every
 * pooled call carries this much, so it is kept small. */
#define CQLMUX_RESULT_ARENA_INLINE 512
/* Bodies up to this size are copied into the arena instead of keeping the
 * connection's receive buffer (see result.c). */
#define CQLMUX_RESULT_SMALL_BODY 256

typedef struct cqlmux_result_meta cqlmux_result_meta;

struct cqlmux_result {
  const cqlmux_allocator *alloc;
  cqlmux_result_meta *omitted_meta; /* columns of a SKIP_METADATA answer, or NULL */
  /* The reference that keeps omitted_meta alive. It stays with the pooled
   * call after clear, so a call reused for the same prepared statement (the
   * common case) changes no reference count: two atomic operations on a
   * shared line less per request. Dropped when the call is used for other
   * columns or destroyed (cqlmux_result_drop_columns). */
  cqlmux_result_meta *meta_ref;
  bool has_result;               /* msg is a decoded RESULT */
  bool has_error;                /* error is a decoded ERROR */
  union {                        /* an answer is one or the other */
    cqlmux_result_msg msg;
    cqlmux_error_body error;
  };
  cqlmux_rbuf *buffer;           /* retained receive buffer, or NULL */
  uint8_t *copy;                 /* private copy of the body, or NULL */
  cqlmux_arena arena;
  /* NUL-terminated copies for cqlmux_server_error's string fields, in the
   * arena (errors only: a result does not carry room for them). */
  const char *error_write_type;
  const char *error_keyspace;
  const char *error_table;
  _Alignas(max_align_t) uint8_t arena_inline[CQLMUX_RESULT_ARENA_INLINE];
};

void cqlmux_result_init(cqlmux_result *r, const cqlmux_allocator *alloc);

/* Decodes a RESULT (opcode RESULT) or ERROR (opcode ERROR) body. When
 * buffer is non-NULL the body lies in it and is retained; otherwise the
 * body is copied. Returns OK, NOMEM or the decoder's error (MALFORMED,
 * TRUNCATED ...); on failure r holds nothing. */
int cqlmux_result_fill(cqlmux_result *r, uint8_t version, uint8_t opcode, const uint8_t *body,
                       size_t len, cqlmux_rbuf *buffer);

/* Before fill: the answer was asked for with SKIP_METADATA, its columns are
 * those of m; the result takes a reference on m (NULL: none). */
void cqlmux_result_expect_columns(cqlmux_result *r, cqlmux_result_meta *m);

/* Releases what fill took (buffer reference, copy, arena growth); keeps
 * the columns reference for the next use (see meta_ref). */
void cqlmux_result_clear(cqlmux_result *r);

/* Drops the columns reference kept across uses (before freeing r). */
void cqlmux_result_drop_columns(cqlmux_result *r);

/* "Cassandra error 0x2200 (invalid query): <message>" into out. */
void cqlmux_result_describe_error(const cqlmux_result *r, char *out, size_t cap);

#endif

/* Stream-id table of one connection: which request waits on which id.
 *
 * Owned by the connection's I/O thread; no locking. acquire and release are
 * O(1): ids come from a LIFO free list (recently used ids keep their slots
 * warm in cache), and ids never used yet are handed out from a high-water
 * mark, so the slot array (allocated once, zeroed lazily by the kernel) only
 * has pages touched for ids actually used.
 *
 * A request that timed out keeps its id as an ORPHAN: the server may still
 * answer on it, and reusing the id would hand that late answer to a newer
 * request. The id returns to the free list only when the late answer arrives
 * (cqlmux_stream_table_complete reports it as orphaned) or the connection
 * closes. The connection recycles itself when orphans pass its threshold. */
#ifndef CQLMUX_NET_STREAM_TABLE_H
#define CQLMUX_NET_STREAM_TABLE_H

#include <stdint.h>

#include "cqlmux.h"

/* Protocol v3+ ceiling: stream ids 0..32767 (negative ids are server events). */
#define CQLMUX_MAX_STREAMS 32768

typedef struct cqlmux_stream_table {
  void **slots;          /* request per id; NULL when free or orphaned */
  uint8_t *orphaned;     /* 1 where the id waits for a late answer */
  int16_t *free_ids;     /* LIFO stack of released ids */
  int32_t free_count;
  int32_t high_water;    /* ids below this have been handed out before */
  int32_t capacity;      /* ids this table may hand out (<= CQLMUX_MAX_STREAMS) */
  int32_t in_use;        /* ids held by live requests */
  int32_t orphans;       /* ids held by timed-out requests */
  const cqlmux_allocator *alloc;
} cqlmux_stream_table;

/* capacity: 1..CQLMUX_MAX_STREAMS. Returns OK, INVALID_ARGUMENT or NOMEM. */
int cqlmux_stream_table_init(cqlmux_stream_table *t, int32_t capacity,
                             const cqlmux_allocator *alloc);
void cqlmux_stream_table_destroy(cqlmux_stream_table *t);

/* Binds request to a free id and returns it, or -1 when all ids are taken. */
int32_t cqlmux_stream_table_acquire(cqlmux_stream_table *t, void *request);

/* Outcome of an answer arriving on an id. */
typedef enum cqlmux_stream_lookup {
  CQLMUX_STREAM_LIVE,    /* *request is the waiting request; the id is free again */
  CQLMUX_STREAM_ORPHAN,  /* a late answer to a timed-out request; id free again, drop it */
  CQLMUX_STREAM_UNKNOWN  /* no request used this id: a protocol violation */
} cqlmux_stream_lookup;

/* Matches an answer to its request and releases the id. */
cqlmux_stream_lookup cqlmux_stream_table_complete(cqlmux_stream_table *t, int32_t id,
                                                  void **request);

/* The request on id (live only), without releasing it; NULL otherwise. */
void *cqlmux_stream_table_peek(const cqlmux_stream_table *t, int32_t id);

/* Marks a live id's request as timed out: the request is detached (returned)
 * and the id stays reserved until its late answer arrives. */
void *cqlmux_stream_table_orphan(cqlmux_stream_table *t, int32_t id);

/* Calls fn on every live request and frees every id (connection closing). */
void cqlmux_stream_table_drain(cqlmux_stream_table *t, void (*fn)(void *request, void *arg),
                               void *arg);

#endif

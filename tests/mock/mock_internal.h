/* Internals of the mock CQL server shared by its files (not for tests).
 *
 * Ownership and locking:
 *   - Each I/O loop (mock_loop) is one thread with one epoll set. A
 *     connection belongs to exactly one loop and only that loop's thread
 *     touches it (socket, buffers, timers). Loop 0 also owns the listening
 *     sockets and the timers of scripted actions.
 *   - Every other piece of state (nodes, primes, faults, records, prepared
 *     statement caches, the hook) is "scenario" state under server->mu.
 *     Loop threads take it briefly per request; nothing blocks while holding
 *     it, and no loop-owned object is reached through it.
 *   - Other threads act on connections only by posting commands to a loop
 *     (mock_post), and wait for them unless they are loop threads
 *     themselves.
 */
#ifndef CQLMUX_MOCK_INTERNAL_H
#define CQLMUX_MOCK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mock/mock.h"
#include "proto/arena.h"
#include "proto/frame_v5.h"
#include "proto/request_decode.h"
#include "proto/types.h"
#include "proto/wire.h"

/* ------------------------------------------------------------ utilities */

/* Allocation for the mock: through the allocator hook; a test tool has no
 * sane way to go on without memory, so these abort with a message instead. */
void *mock_xmalloc(size_t n);
void *mock_xcalloc(size_t count, size_t n);
void *mock_xrealloc(void *p, size_t n);
void mock_free(void *p);
char *mock_xstrdup(const char *s); /* NULL stays NULL */
char *mock_xstrndup(const char *s, size_t n);
/* Aborts if a wbuf ran out of memory (its sticky error is set). */
void mock_wbuf_check(const cqlmux_wbuf *b);

uint64_t mock_now_us(void); /* CLOCK_MONOTONIC */

/* Query text matching of faults, filters and primes: exact, or prefix when
 * the pattern ends in '*'. A NULL pattern matches everything; a NULL text
 * matches only a NULL pattern. */
bool mock_text_match(const char *pattern, const char *text, size_t text_len);

/* 16-byte id of a query text (two FNV-1a 64 lanes): stands in for
 * Cassandra's MD5 prepared ids, deterministic across runs and nodes. */
void mock_query_id(const char *text, size_t len, uint8_t out[16]);

/* ------------------------------------------------------------ nodes */

typedef enum mock_watch_kind {
  MOCK_WATCH_WAKE = 1,
  MOCK_WATCH_LISTENER,
  MOCK_WATCH_CONN
} mock_watch_kind;

/* First member of everything registered with epoll. */
typedef struct mock_watch {
  mock_watch_kind kind;
  int fd;
} mock_watch;


typedef struct mock_prepared {
  struct mock_prepared *next;
  uint8_t *id;
  size_t id_len;
  char *query; /* the text it was prepared from */
} mock_prepared;

typedef struct mock_node {
  int index;
  char address[16];
  uint16_t port;
  char dc[32];
  char rack[32];
  uint8_t host_id[16];
  int64_t *tokens;
  int token_count;
  bool up;      /* listening (unless refused) and serving */
  bool removed; /* decommissioned: never up again, not a peer */
  bool schema_behind; /* reports a schema version other than the cluster's */
  mock_prepared *prepared;
  /* Loop 0 only (and the starting thread before the loops run): */
  mock_watch listener; /* fd -1 while not listening */
} mock_node;

/* ------------------------------------------------------------ records */

typedef struct mock_conn_record {
  cqlmux_mock_connection pub;
} mock_conn_record;

/* ------------------------------------------------------------ primes */

typedef struct mock_prime mock_prime;

struct mock_prime {
  cqlmux_mock_prime spec;  /* strings and arrays are owned copies */
  cqlmux_arena arena;      /* the column and parameter type trees */
  void *arena_buf;
  const cqlmux_typedesc **column_types; /* column_count */
  const cqlmux_typedesc **param_types;  /* param_count */
  const char **column_names;
  const char **param_names;
  cqlmux_wbuf rows;        /* row_count * column_count [bytes] */
  size_t *row_offsets;     /* row_count + 1 offsets into rows */
};

/* A rows result to encode (mock_body_rows): borrowed pieces. */
/* Bind markers a null-mode PREPARED can declare (one per '?' of the text). */
#define MOCK_NULL_MAX_PARAMS 16

typedef struct mock_rows {
  const char *keyspace, *table;
  size_t column_count;
  const char *const *names;
  const cqlmux_typedesc *const *types;
  int32_t row_count;
  const uint8_t *content;
  size_t content_len;
  bool no_metadata;
  const uint8_t *paging_state; /* non-NULL: more pages */
  size_t paging_len;
  const uint8_t *new_metadata_id; /* ROWS, v5: METADATA_CHANGED with this
                                     MOCK_METADATA_ID_LEN-byte id */
  const uint16_t *pk;             /* PREPARED bind markers: partition key */
  size_t pk_count;
} mock_rows;

#define MOCK_METADATA_ID_LEN 16

/* The answer chosen for a request. */
typedef struct mock_answer {
  const mock_prime *prime; /* the prime that answered (its prefix), or NULL */
  uint8_t opcode;
  int32_t error_code;   /* ERROR answers */
  bool start_framing;   /* v5 STARTUP answered */
  bool close_after;
} mock_answer;

/* ------------------------------------------------------------ faults */

typedef struct mock_fault {
  cqlmux_mock_fault spec; /* strings owned */
  int id;
  bool active;  /* triggered and not ended */
  bool ended;   /* cleared or `times` reached */
  uint64_t seen; /* matching requests counted toward AFTER_REQUESTS */
  uint64_t hits;
  char label[32];  /* scenario text name, "" if none */
} mock_fault;

/* What the fault engine decided for one request. */
typedef enum mock_mangle {
  MOCK_MANGLE_NONE = 0,
  MOCK_MANGLE_MALFORMED,
  MOCK_MANGLE_BAD_OPCODE,
  MOCK_MANGLE_TRUNCATE,
  MOCK_MANGLE_WRONG_STREAM,
  MOCK_MANGLE_OVERSIZED,
  MOCK_MANGLE_BAD_CRC,
  MOCK_MANGLE_BAD_HEADER_CRC
} mock_mangle;

typedef enum mock_disposition {
  MOCK_ANSWER = 0,
  MOCK_DROP,
  MOCK_CLOSE,
  MOCK_CLOSE_RESET
} mock_disposition;

/* A scripted action to run once the server lock is released. */
typedef struct mock_action {
  struct mock_action *next;
  int fault;
  cqlmux_mock_fault_kind kind;
  int node;
  int64_t connection;
  uint32_t arg;
  cqlmux_mock_event event; /* strings owned by the action */
} mock_action;

typedef struct mock_verdict {
  int fault;            /* the first fault that acted (for the record) */
  mock_disposition disposition;
  uint32_t delay_ms;
  bool hold;            /* out of order */
  uint32_t hold_window;
  mock_mangle mangle;
  uint32_t mangle_arg;
  uint32_t close_delay_ms; /* TRUNCATE */
  bool refresh;         /* a state fault started: re-evaluate connections */
  mock_action *actions; /* one-shot actions triggered by this request */
} mock_verdict;

/* ------------------------------------------------------------ responses */

typedef struct mock_resp {
  struct mock_resp *next;
  int16_t stream;
  uint8_t opcode;
  uint8_t flags;
  uint8_t version;       /* 0 = the connection's */
  mock_mangle mangle;
  uint32_t mangle_arg;
  uint32_t close_delay_ms;
  bool start_framing;    /* v5 STARTUP answer: frames from the next one on */
  bool close_after;      /* fatal protocol error: close once sent */
  size_t len;
  uint8_t body[];
} mock_resp;

mock_resp *mock_resp_new(int16_t stream, uint8_t opcode, const uint8_t *body, size_t len);

/* ------------------------------------------------------------ loops */

typedef struct mock_conn mock_conn;
typedef struct mock_loop mock_loop;

typedef enum mock_timer_kind {
  MOCK_TIMER_RESPONSE = 1, /* conn: emit resp */
  MOCK_TIMER_CLOSE,        /* conn: close (after a truncated answer) */
  MOCK_TIMER_NODE_START,   /* loop 0: start node */
  MOCK_TIMER_FAULT         /* loop 0: activate fault */
} mock_timer_kind;

typedef struct mock_timer {
  struct mock_timer *prev, *next;
  uint64_t due_us;
  mock_timer_kind kind;
  mock_conn *conn;
  mock_resp *resp;
  int node;
  int fault;
} mock_timer;

typedef enum mock_cmd_kind {
  MOCK_CMD_REFRESH = 1,  /* re-evaluate reading, node state, listeners */
  MOCK_CMD_CLOSE,        /* close connections in scope */
  MOCK_CMD_EVENT,        /* push an encoded event to registered connections */
  MOCK_CMD_ADOPT,        /* take over an accepted socket */
  MOCK_CMD_TIMER,        /* loop 0: schedule a node start or a fault */
  MOCK_CMD_RELEASE_HELD, /* send held out-of-order answers */
  MOCK_CMD_RAW           /* write raw bytes on one connection */
} mock_cmd_kind;

typedef struct mock_cmd {
  struct mock_cmd *next;
  mock_cmd_kind kind;
  int node;              /* scope; ANY */
  int64_t connection;    /* scope; ANY */
  bool reset;            /* CLOSE: RST instead of FIN */
  int fd;                /* ADOPT */
  int64_t conn_id;       /* ADOPT */
  mock_timer_kind timer_kind; /* TIMER */
  uint64_t due_us;       /* TIMER */
  int fault;             /* TIMER */
  cqlmux_mock_event event; /* EVENT: strings owned by the command */
  int *result;           /* EVENT: connections reached (added to); RAW: 1 once written */
  const uint8_t *raw;    /* RAW: borrowed (RAW is posted synchronously only) */
  size_t raw_len;
  bool close_after;      /* RAW: close the connection once they are sent */
  /* Synchronous posts: the poster waits on the loop's done_cv. */
  bool sync;
  bool done;
} mock_cmd;

struct mock_loop {
  cqlmux_mock *server;
  int index;
  pthread_t thread;
  int epfd;
  mock_watch wake; /* eventfd */
  atomic_bool stopping;
  atomic_uint_fast64_t null_count;
  /* Command queue, under qmu. */
  pthread_mutex_t qmu;
  pthread_cond_t done_cv;
  mock_cmd *queue_head, *queue_tail;
  /* Loop-owned: */
  mock_conn *conns;       /* doubly linked */
  mock_conn *dirty;       /* connections with output to flush (singly linked) */
  mock_conn *graveyard;   /* closed, freed at the end of the turn */
  mock_timer *timers;     /* sorted by due_us */
  mock_timer *timers_tail;
};

/* Posts a command (copied) to a loop and wakes it. From a non-mock thread,
 * sync waits until it ran; from a mock thread it never waits. */
void mock_post(mock_loop *loop, const mock_cmd *cmd, bool sync);
/* Posts to every loop, waiting as mock_post does. */
void mock_post_all(cqlmux_mock *m, const mock_cmd *cmd);
/* Whether the calling thread is one of this server's loops. */
bool mock_on_loop_thread(cqlmux_mock *m);
mock_loop *mock_current_loop(void);

int mock_loop_init(mock_loop *loop, cqlmux_mock *m, int index);
int mock_loop_start(mock_loop *loop);
void mock_loop_stop(mock_loop *loop); /* joins; closes every connection */
void mock_loop_destroy(mock_loop *loop);

/* Loop-thread helpers. */
void mock_timer_add(mock_loop *loop, mock_timer *t);
mock_timer *mock_timer_new(mock_timer_kind kind, uint64_t due_us);
void mock_timer_cancel_conn(mock_loop *loop, mock_conn *c);
void mock_loop_mark_dirty(mock_loop *loop, mock_conn *c);
int mock_epoll_set(mock_loop *loop, mock_watch *w, uint32_t events, bool add);

/* ------------------------------------------------------------ connections */

typedef enum mock_conn_state {
  MOCK_CONN_INITIAL = 0, /* before STARTUP: OPTIONS and STARTUP only */
  MOCK_CONN_AUTHENTICATING,
  MOCK_CONN_READY
} mock_conn_state;

struct mock_conn {
  mock_watch watch;
  mock_loop *loop;
  mock_conn *prev, *next; /* loop->conns */
  mock_conn *dirty_next;
  mock_conn *grave_next;
  bool in_dirty;
  int64_t id;
  int node;
  mock_conn_state state;
  int version;       /* 0 until the first envelope */
  bool lz4;
  bool framed_in;    /* reading v5 frames */
  bool framed_out;   /* writing v5 frames */
  bool reading;      /* EPOLLIN registered */
  bool want_write;   /* EPOLLOUT registered */
  bool closing;      /* close once out is flushed */
  bool close_timer;  /* ... or when a timer says so */
  bool dead;
  bool closed_by_server;
  unsigned registered;
  uint64_t requests;
  cqlmux_wbuf in;    /* bytes read, in[in_off..] not yet parsed */
  size_t in_off;
  cqlmux_wbuf out;   /* bytes to send, out[out_off..] pending */
  size_t out_off;
  cqlmux_frame_v5_decoder fdec; /* once framed_in */
  cqlmux_frame_v5_writer fw;     /* once framed_out: frames envelopes in `out` */
  cqlmux_wbuf scratch; /* v4 decompression */
  mock_resp *held;   /* out-of-order answers, newest first */
  size_t held_count;
  uint32_t held_window;
  bool in_batch;     /* inside one read batch (for out-of-order) */
};

mock_conn *mock_conn_new(mock_loop *loop, int fd, int node, int64_t id);
void mock_conn_free(mock_conn *c);
/* Reads, parses and answers; called on EPOLLIN. */
void mock_conn_on_readable(mock_conn *c);
/* Handles every whole message already read (stops when paused). */
void mock_conn_parse(mock_conn *c);
/* Switches reading (out false) or writing (out true) to v5 frames. */
void mock_conn_start_framing(mock_conn *c, bool out);
/* Holds an out-of-order answer; released reversed per window (0: per batch). */
void mock_conn_hold(mock_conn *c, mock_resp *r, uint32_t window);
void mock_conn_on_writable(mock_conn *c);
/* Sends what is queued (frames the stage first). */
void mock_conn_flush(mock_conn *c);
/* Closes now (queued output is dropped). by_server: recorded as such. */
void mock_conn_close(mock_conn *c, bool by_server, bool reset);
/* Queues an answer (applying its mangling); frees r. */
void mock_conn_emit(mock_conn *c, mock_resp *r);
/* Sends the held out-of-order answers, newest first. */
void mock_conn_release_held(mock_conn *c);
/* Starts or stops reading as the active faults say; closes the connection
 * if its node went down. */
void mock_conn_refresh(mock_conn *c);
/* Queues ev if the connection REGISTERed for its type: returns 1, else 0. */
int mock_conn_push_event(mock_conn *c, const cqlmux_mock_event *ev);

/* Queues an envelope straight from its body (null mode's fast path). */
void mock_conn_emit_body(mock_conn *c, uint8_t version, int16_t stream, uint8_t opcode,
                         const uint8_t *body, size_t len);
/* Sends bytes as they are (no envelope work), e.g. a v1/v2 header. */
void mock_conn_emit_raw(mock_conn *c, const uint8_t *p, size_t n, bool close_after);

/* The request side (mock_handler.c). mock_handle_bytes takes plain
 * envelopes off the front of p: returns the bytes used (> 0), 0 when more
 * are needed, < 0 when the connection is being closed. mock_handle_frame
 * takes the whole envelopes of one v5 frame; mock_handle_bad_frame reacts
 * to a frame that failed to decode (code from cqlmux_frame_v5_decode). */
int mock_handle_bytes(mock_conn *c, const uint8_t *p, size_t n);
void mock_handle_frame(mock_conn *c, const uint8_t *envs, size_t len);
void mock_handle_bad_frame(mock_conn *c, int rc);

/* ------------------------------------------------------------ server */

struct cqlmux_mock {
  cqlmux_mock_config cfg;  /* strings copied */
  char *strings[4 + CQLMUX_MOCK_MAX_DCS]; /* owned copies behind cfg */
  int loop_count;
  mock_loop *loops;
  atomic_uint next_loop;   /* round-robin assignment of accepted sockets */

  pthread_mutex_t mu;      /* scenario state, below */
  pthread_cond_t cv;       /* records changed */
  mock_node nodes[CQLMUX_MOCK_MAX_NODES];
  int node_count;
  int dc_count;
  char dc_names[CQLMUX_MOCK_MAX_NODES][32];
  uint8_t schema_version[16];

  mock_prime **primes;
  size_t prime_count;

  mock_fault **faults;
  size_t fault_count;
  int next_fault_id;

  mock_conn_record *conns;
  size_t conn_count, conn_cap;
  cqlmux_mock_request *requests;
  size_t request_count, request_cap;
  uint64_t next_seq;
  cqlmux_mock_fault_hit *hits;
  size_t hit_count, hit_cap;

  cqlmux_mock_request_hook hook;
  void *hook_data;

  /* Keyspaces (mock_keyspace.c); names and DC names are owned copies. */
  cqlmux_mock_keyspace keyspaces[CQLMUX_MOCK_MAX_KEYSPACES];
  int keyspace_count;

  /* System tables: type trees of their columns (mock_system.c). */
  cqlmux_arena sys_arena;
  void *sys_arena_buf;
  const cqlmux_typedesc *sys_tokens_type;   /* set<text> */
  const cqlmux_typedesc *sys_truncated_type; /* map<uuid,blob> */
  const cqlmux_typedesc *sys_replication_type; /* map<text,text> */

  /* Null mode canned bodies (mock_null.c): rows with and without metadata,
   * PREPARED for v4 and v5 with 0 .. MOCK_NULL_MAX_PARAMS bind markers, VOID. */
  cqlmux_wbuf null_rows, null_rows_nometa, null_void;
  cqlmux_wbuf null_prepared[2][MOCK_NULL_MAX_PARAMS + 1];
};

/* Topology (mock_node.c), server->mu held unless said otherwise. */
int mock_nodes_init(cqlmux_mock *m);
int mock_nodes_listen_all(cqlmux_mock *m); /* before the loops start */
int mock_node_listen(cqlmux_mock *m, mock_node *n);  /* loop 0 */
void mock_node_unlisten(cqlmux_mock *m, mock_node *n); /* loop 0 */
bool mock_node_should_listen(cqlmux_mock *m, const mock_node *n);
void mock_node_accept(cqlmux_mock *m, mock_node *n); /* loop 0, lock not held */
mock_node *mock_node_by_listener(cqlmux_mock *m, const mock_watch *w);
void mock_prepared_clear(mock_node *n);
const mock_prepared *mock_prepared_find(const mock_node *n, const uint8_t *id, size_t len);
void mock_prepared_add(mock_node *n, const uint8_t *id, size_t len, const char *query,
                       size_t query_len);
/* Node actions, lock not held. */
int mock_node_set_up(cqlmux_mock *m, int node, bool up, bool events);

/* Records (mock_record.c), server->mu held. */
mock_conn_record *mock_record_conn(cqlmux_mock *m, int node, const char *peer);
mock_conn_record *mock_conn_record_get(cqlmux_mock *m, int64_t id);
/* Appends a copy of r (strings and id copied too) and numbers it. */
cqlmux_mock_request *mock_record_request(cqlmux_mock *m, const cqlmux_mock_request *r);
void mock_record_hit(cqlmux_mock *m, const mock_fault *f, int node, int64_t conn, int stream,
                     uint64_t seq);
bool mock_filter_match(const cqlmux_mock_filter *f, const cqlmux_mock_request *r);
void mock_records_free(cqlmux_mock *m);

/* Faults (mock_fault.c), server->mu held unless said otherwise. */
typedef struct mock_request_view {
  int node;
  int64_t connection;
  int opcode;
  int stream;
  uint64_t seq;
  bool after_startup;
  const char *query;
  size_t query_len;
} mock_request_view;
void mock_faults_on_request(cqlmux_mock *m, const mock_request_view *req, mock_verdict *v);
bool mock_faults_stop_reading(cqlmux_mock *m, int node, int64_t conn);
bool mock_faults_refuse(cqlmux_mock *m, int node);
mock_fault *mock_fault_find(cqlmux_mock *m, int id);
/* Scenario text labels of faults; lock not held. 0 when unknown. */
void mock_fault_set_label(cqlmux_mock *m, int id, const char *label);
int mock_fault_by_label(cqlmux_mock *m, const char *label);
/* Activates a fault whose time or command came; lock not held. */
void mock_fault_activate(cqlmux_mock *m, int id);
/* Runs triggered one-shot actions and frees the list; lock not held. */
void mock_actions_run(cqlmux_mock *m, mock_action *a);
void mock_faults_free(cqlmux_mock *m);
void mock_event_copy(cqlmux_mock_event *dst, const cqlmux_mock_event *src);
void mock_event_release(cqlmux_mock_event *e);

/* Answers (mock_handler.c), server->mu held. */
struct cqlmux_envelope;
struct cqlmux_request_view;
struct cqlmux_query_params_view;
mock_answer mock_answer_request(mock_conn *c, const struct cqlmux_envelope *env,
                                const struct cqlmux_request_view *req,
                                const cqlmux_mock_request *rec,
                                const struct cqlmux_query_params_view *params, cqlmux_wbuf *b);

/* Response bodies (mock_answer.c). */
struct cqlmux_schema_change;
void mock_body_error(cqlmux_wbuf *b, int version, int32_t code, const char *msg);
void mock_body_unprepared(cqlmux_wbuf *b, int version, const uint8_t *id, size_t len);
void mock_body_supported(cqlmux_mock *m, cqlmux_wbuf *b);
void mock_body_authenticate(cqlmux_wbuf *b);
void mock_body_auth_success(cqlmux_wbuf *b);
void mock_body_void(cqlmux_wbuf *b);
void mock_body_set_keyspace(cqlmux_wbuf *b, const char *ks);
void mock_body_rows(cqlmux_wbuf *b, int version, const mock_rows *r);
void mock_body_prepared(cqlmux_wbuf *b, int version, const uint8_t *id, size_t id_len,
                        const mock_rows *params, const mock_rows *result);
/* The v5 result metadata id of a statement's result columns (NULL: none):
 * a hash of their encoded specs, so it changes whenever they do. */
void mock_result_metadata_id(const mock_rows *result, uint8_t out[MOCK_METADATA_ID_LEN]);
void mock_body_schema_change(cqlmux_wbuf *b, const char *change, const char *target,
                             const char *keyspace, const char *name, const char *args);
void mock_schema_change(struct cqlmux_schema_change *s, const char *change, const char *target,
                        const char *keyspace, const char *name, const char *args);
void mock_body_event(cqlmux_mock *m, cqlmux_wbuf *b, const cqlmux_mock_event *ev);

/* Types and values as text (mock_value.c). */
int mock_type_parse(const char *text, cqlmux_arena *arena, const cqlmux_typedesc **out, char *err,
                    size_t errlen);
int mock_value_parse(const cqlmux_typedesc *t, const char *text, cqlmux_wbuf *b, char *err,
                     size_t errlen);

/* Primes (mock_prime.c), server->mu held. op is the request's opcode. */
const mock_prime *mock_prime_find(cqlmux_mock *m, int node, int op, const char *text,
                                  size_t len);
/* A prime answering EXECUTE of this raw id (prepared_here: the node knows
 * the id from a PREPARE). */
const mock_prime *mock_prime_find_id(cqlmux_mock *m, int node, const uint8_t *id, size_t len,
                                     bool prepared_here);
/* metadata_id: the result metadata id a v5 EXECUTE sent, else NULL. */
mock_answer mock_prime_answer(cqlmux_mock *m, const mock_prime *p, int version,
                              const struct cqlmux_query_params_view *params,
                              const cqlmux_slice *metadata_id, cqlmux_wbuf *b);
/* The prime answering an EXECUTE of this id on the node: by id, or by the
 * text the node prepared it from. NULL when none does. */
const mock_prime *mock_prime_for_execute(cqlmux_mock *m, int node, const uint8_t *id, size_t len);
/* The PREPARED body for a statement (p NULL: unprimed). */
void mock_prime_prepared(const mock_prime *p, int version, const uint8_t *id, size_t id_len,
                         cqlmux_wbuf *b);
void mock_primes_free(cqlmux_mock *m);

/* System tables (mock_system.c), server->mu held: answers SELECTs on
 * system.local / peers / peers_v2 and system_schema; false otherwise. */
bool mock_system_answer(cqlmux_mock *m, int node, int version, const char *text, cqlmux_wbuf *b,
                        mock_answer *a);
int mock_system_init(cqlmux_mock *m);
void mock_system_free(cqlmux_mock *m);

/* Keyspaces (mock_keyspace.c), server->mu held. mock_keyspaces_init
 * copies the configured ones at start. */
int mock_keyspaces_init(cqlmux_mock *m);
void mock_keyspaces_free(cqlmux_mock *m);
const cqlmux_mock_keyspace *mock_keyspace_find(cqlmux_mock *m, const char *name);
/* The replication map as a CQL literal: {'class': '...', 'dc1': '3'}. */
void mock_keyspace_replication_text(const cqlmux_mock_keyspace *ks, char *buf, size_t cap);

/* Routing (mock_routing.c): the token of the partition key bound in
 * `values` (pk_count bind marker indexes); false when a component is
 * missing, null or unset. */
bool mock_routing_token(const uint16_t *pk, size_t pk_count, cqlmux_values_view values,
                        int64_t *token);

/* Null mode (mock_null.c). */
int mock_null_init(cqlmux_mock *m);
void mock_null_free(cqlmux_mock *m);
/* Answers a data request from the canned bodies; false: not one for null mode. */
bool mock_null_answer(mock_conn *c, const struct cqlmux_envelope *env);

#endif

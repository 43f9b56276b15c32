/* cqlmux mock: a scriptable CQL server with fault injection, for tests.
 *
 * One cqlmux_mock is a cluster of N nodes in one or more data centers. Each
 * node listens on its own loopback address (127.0.0.1, 127.0.0.2, ... sharing
 * one port) or on its own port of one address, and speaks the native protocol
 * v3/v4/v5 (v5 framed after the handshake, with or without LZ4) the way
 * Cassandra 5.0 does: OPTIONS, STARTUP, PasswordAuthenticator auth, REGISTER,
 * USE, system.local / system.peers / system.peers_v2 with a consistent
 * topology, primed answers for any other query, and events.
 *
 * On top of that a test scripts faults ("delay the answers to this query on
 * node 2 by 500 ms", "after 100 requests close the connection", "stop
 * answering heartbeats") and reads back what the client really sent: every
 * connection, every request (node, connection, stream id, opcode,
 * consistency, query text or prepared id) and every fault the mock served.
 *
 * The same API drives the `cqlmux-mock` program; the scenario text language
 * (cqlmux_mock_script) is documented in doc/mock-server.md.
 *
 * Quick start:
 *
 *   cqlmux_mock_config cfg;
 *   cqlmux_mock_config_init(&cfg);
 *   cfg.nodes_per_dc[0] = 3;
 *   cqlmux_mock *m;
 *   cqlmux_mock_start(&cfg, &m);                 // 3 nodes, OS-chosen port
 *   char addr[64]; uint16_t port;
 *   cqlmux_mock_node_address(m, 0, addr, sizeof addr, &port);
 *   cqlmux_mock_fault f;
 *   cqlmux_mock_fault_init(&f, CQLMUX_MOCK_IGNORE_HEARTBEAT);
 *   f.node = 1;                                  // node 1 stops answering OPTIONS
 *   cqlmux_mock_fault_add(m, &f, NULL);
 *   ... run the client ...
 *   cqlmux_mock_filter q = CQLMUX_MOCK_FILTER_ANY;
 *   q.node = 1;
 *   q.opcode = CQLMUX_OP_OPTIONS;               // heartbeats, plus any OPTIONS
 *   size_t options = cqlmux_mock_request_count(m, &q); // sent before STARTUP
 *   cqlmux_mock_free(m);                         // (see request.after_startup)
 *
 * Threads. The mock runs `threads` I/O threads of its own (config; default
 * 1, and in null mode one per core up to 8). Thread 0 also owns the listening
 * sockets and the timers of scripted node actions. Every function below may
 * be called from any thread, concurrently; each takes effect before it
 * returns (the connections it acts on are closed, the listener is closed or
 * bound, the event is queued for sending), except when called from inside a
 * mock callback, where actions on connections of other I/O threads are
 * queued and happen shortly after the call returns. The one callback is the
 * request hook (cqlmux_mock_set_request_hook), which documents its thread.
 *
 * Errors are the negative cqlmux_error codes of cqlmux.h: INVALID_ARGUMENT
 * (bad index or parameter), NOT_FOUND (no such fault or connection id),
 * TIMEOUT (the wait functions), CONNECT_FAILED (a socket could not be bound).
 * Running out of memory aborts the process with a message: this is a test
 * tool, and a half-working mock would only make tests lie.
 *
 * Memory: the mock copies every string and array it is given; the caller's
 * copies may be freed after the call.
 */
#ifndef CQLMUX_MOCK_H
#define CQLMUX_MOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmux.h"
#include "proto/opcode.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqlmux_mock cqlmux_mock;

/* "Any node / connection / opcode" in filters, faults and primes. */
#define CQLMUX_MOCK_ANY (-1)

#define CQLMUX_MOCK_MAX_DCS 8
#define CQLMUX_MOCK_MAX_NODES 64

/* Protocol version bits of cqlmux_mock_config.versions. */
#define CQLMUX_MOCK_V3 (1u << 3)
#define CQLMUX_MOCK_V4 (1u << 4)
#define CQLMUX_MOCK_V5 (1u << 5)

/* ======================================================================== */
/* Cluster                                                                   */
/* ======================================================================== */

#define CQLMUX_MOCK_MAX_KEYSPACES 32

/* A keyspace with its replication, as system_schema.keyspaces serves it
 * (replication as Cassandra 5.0 writes it, e.g. {'class':
 * 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'dc1': '3'}) and
 * as cqlmux_mock_replicas places tokens. Tables, types and the other
 * system_schema tables stay empty. */
typedef struct cqlmux_mock_keyspace {
  const char *name;
  bool network_topology;   /* NetworkTopologyStrategy; false: SimpleStrategy */
  int replication_factor;  /* SimpleStrategy */
  int dc_count;            /* NetworkTopologyStrategy: a factor per DC name */
  const char *dc_names[CQLMUX_MOCK_MAX_DCS];
  int dc_factors[CQLMUX_MOCK_MAX_DCS];
  bool durable_writes;     /* true */
} cqlmux_mock_keyspace;

/* Fills ks: `name`, SimpleStrategy with replication factor 1, durable. */
void cqlmux_mock_keyspace_init(cqlmux_mock_keyspace *ks, const char *name);

typedef struct cqlmux_mock_config {
  /* Topology. Node indexes run 0..N-1 in DC order: dc 0's nodes first. */
  int dc_count;                              /* 1 by default */
  int nodes_per_dc[CQLMUX_MOCK_MAX_DCS];     /* 1 each by default */
  const char *dc_names[CQLMUX_MOCK_MAX_DCS]; /* NULL: "dc1", "dc2", ... */
  int racks_per_dc;    /* nodes of a DC spread round-robin over rack1..rackN; 1 */
  int tokens_per_node; /* Murmur3 tokens, evenly spaced and interleaved; 1 */
  const char *cluster_name;    /* "Test Cluster" */
  const char *release_version; /* "5.0.2" */

  /* Addresses. With distinct_addresses (default) node i listens on
   * address+i (127.0.0.1, 127.0.0.2, ...) and all nodes share one port, as
   * real clusters do: system.peers then carries only addresses. Otherwise
   * every node listens on `address` with its own port. Port 0 lets the OS
   * choose (a port free on every address), so parallel tests never collide. */
  const char *address; /* "127.0.0.1"; IPv4 only */
  bool distinct_addresses;
  uint16_t port;

  /* Protocol. `versions` is the set a node accepts (CQLMUX_MOCK_V3 | V4 | V5
   * by default, as Cassandra 5.0); a client asking for another one gets the
   * ERROR 0x000A Cassandra sends, then the connection closes. */
  unsigned versions;
  bool lz4; /* offer and accept LZ4 compression (v4 envelopes, v5 frames); true */

  /* PasswordAuthenticator when username is non-NULL: STARTUP is answered
   * with AUTHENTICATE, AUTH_RESPONSE must carry SASL PLAIN "\0user\0pass". */
  const char *username;
  const char *password;

  /* Unprimed queries get a VOID result (false) or an Invalid query error
   * "No prime for query: ..." (true). */
  bool unprimed_is_error;

  /* I/O threads; 0 = 1 (scripted mode) or one per core up to 8 (null mode). */
  int threads;

  /* Null mode, for benchmarks: QUERY, EXECUTE and BATCH on anything but the
   * system tables are answered with one canned RESULT of 1 row x 6 columns
   * (k text, c1 int, c2 bigint, c3 double, c4 boolean, c5 blob) and PREPARE
   * with a canned PREPARED result (one bind marker per '?' of the text, up
   * to 16, typed c1 int, c2 bigint ... in turn; the same 6 columns),
   * straight from the connection's I/O thread, without priming, faults or
   * recording: only counted (cqlmux_mock_null_count). The handshake, system
   * queries and events behave as in scripted mode. */
  bool null_mode;

  /* Keep request records (true). Off, nothing is recorded about requests
   * (connections and fault hits still are): for long runs in scripted mode. */
  bool record;

  /* Push STATUS_CHANGE DOWN/UP when a node stops/starts (true). */
  bool auto_events;

  /* Keyspaces the cluster starts with (none by default); more come with
   * cqlmux_mock_keyspace_set. */
  const cqlmux_mock_keyspace *keyspaces;
  int keyspace_count; /* at most CQLMUX_MOCK_MAX_KEYSPACES */

  /* Private: strings allocated by cqlmux_mock_config_parse. */
  void *parsed_strings;
} cqlmux_mock_config;

/* Fills cfg with the defaults above (one DC of one node). */
void cqlmux_mock_config_init(cqlmux_mock_config *cfg);

/* Binds every node and starts the I/O threads. On success *out owns the
 * cluster (free with cqlmux_mock_free); on failure nothing is left running
 * and *out is untouched. Errors: INVALID_ARGUMENT (bad config),
 * CONNECT_FAILED (an address or port could not be bound), INVALID_STATE
 * (no epoll/eventfd/thread could be created). */
int cqlmux_mock_start(const cqlmux_mock_config *cfg, cqlmux_mock **out);

/* Stops the threads, closes every socket and frees everything, including
 * the records. NULL is ignored. Must not be called from a mock callback. */
void cqlmux_mock_free(cqlmux_mock *m);

int cqlmux_mock_node_count(cqlmux_mock *m);

/* The address ("127.0.0.2") and port of a node. buf gets a NUL-terminated
 * string. Errors: INVALID_ARGUMENT, BUFFER_TOO_SMALL. */
int cqlmux_mock_node_address(cqlmux_mock *m, int node, char *buf, size_t len, uint16_t *port);

/* The node's host id (16 bytes), as system.local / system.peers report it. */
int cqlmux_mock_node_host_id(cqlmux_mock *m, int node, uint8_t out[16]);

/* Stops a node: closes its listener (connect() is refused) and every
 * connection to it, forgets its prepared statements, and (auto_events)
 * pushes STATUS_CHANGE DOWN to clients registered on the other nodes. */
int cqlmux_mock_node_stop(cqlmux_mock *m, int node);

/* Starts a stopped node on the same address and port; pushes UP. */
int cqlmux_mock_node_start(cqlmux_mock *m, int node);

/* Stop now, start again after down_ms (0: immediately). Returns once stopped. */
int cqlmux_mock_node_restart(cqlmux_mock *m, int node, unsigned down_ms);

/* Adds a node (the next index) to a DC and rack (NULL: rack1), both just
 * names, and starts it on the next address (or port); its tokens split the
 * widest gaps of the ring. The other nodes list it in system.peers and push
 * TOPOLOGY_CHANGE NEW_NODE. *node_out gets its index (may be NULL). Errors:
 * INVALID_ARGUMENT (CQLMUX_MOCK_MAX_NODES reached), CONNECT_FAILED (the node
 * exists but could not bind). */
int cqlmux_mock_node_add(cqlmux_mock *m, const char *dc, const char *rack, int *node_out);

/* Decommissions a node: stops it, drops it from system.peers and pushes
 * TOPOLOGY_CHANGE REMOVED_NODE. Its index stays allocated (never reused). */
int cqlmux_mock_node_remove(cqlmux_mock *m, int node);

/* Forgets the node's prepared statements: the next EXECUTE of them gets
 * ERROR UNPREPARED (0x2500), as after a real node restart. node may be ANY. */
int cqlmux_mock_node_forget_prepared(cqlmux_mock *m, int node);

/* behind: the node reports a schema version other than the cluster's, in
 * its system.local row and in its row of the others' system.peers, as a
 * node that a schema change has not reached yet; false: the cluster's
 * again. node may be ANY. */
int cqlmux_mock_node_schema_behind(cqlmux_mock *m, int node, bool behind);

/* ======================================================================== */
/* Keyspaces and tokens                                                      */
/* ======================================================================== */

/* Creates a keyspace, or replaces the one of the same name, as CREATE /
 * ALTER KEYSPACE would: system_schema.keyspaces serves it at once, the
 * schema version every node reports changes, and a SCHEMA_CHANGE event
 * (CREATED or UPDATED, target KEYSPACE) is pushed to every connection
 * registered for schema events. Returns the number of connections the
 * event was queued on (>= 0), or INVALID_ARGUMENT (no name, a factor below
 * 0 or above CQLMUX_MOCK_MAX_NODES, CQLMUX_MOCK_MAX_KEYSPACES reached). */
int cqlmux_mock_keyspace_set(cqlmux_mock *m, const cqlmux_mock_keyspace *ks);

/* The Murmur3Partitioner token of a partition key (its serialized bytes;
 * a composite key is, per component, a 2-byte big-endian length, the bytes
 * and a 0x00). The mock's own implementation, written from the algorithm
 * (MurmurHash3 x64 128, seed 0, first 64-bit half, tail bytes
 * sign-extended as Cassandra's Java code does): an independent check of
 * the library's. An empty key is the minimum token, INT64_MIN; a hash of
 * INT64_MIN becomes INT64_MAX, as in Cassandra. */
int64_t cqlmux_mock_token(const void *key, size_t len);

/* The nodes that own `token` under the keyspace's replication, in ring
 * order from the token's primary replica: SimpleStrategy takes the first
 * `replication_factor` distinct nodes clockwise; NetworkTopologyStrategy,
 * per DC, the first factor distinct nodes of that DC clockwise. Racks are
 * ignored (Cassandra's NetworkTopologyStrategy spreads replicas over
 * racks first: with racks_per_dc > 1 its choice can differ). Stopped nodes
 * still own their tokens; removed ones do not. Writes at most cap indexes
 * into nodes and returns how many replicas there are (may exceed cap), or
 * NOT_FOUND (no such keyspace), INVALID_ARGUMENT. */
int cqlmux_mock_replicas(cqlmux_mock *m, const char *keyspace, int64_t token, int *nodes,
                         int cap);

/* ======================================================================== */
/* Priming                                                                   */
/* ======================================================================== */

typedef enum cqlmux_mock_result_kind {
  CQLMUX_MOCK_RESULT_VOID = 0,
  CQLMUX_MOCK_RESULT_ROWS,
  CQLMUX_MOCK_RESULT_ERROR,
  CQLMUX_MOCK_RESULT_SET_KEYSPACE,
  CQLMUX_MOCK_RESULT_SCHEMA_CHANGE
} cqlmux_mock_result_kind;

/* A column: name and CQL type as text: native names (ascii bigint blob
 * boolean counter date decimal double duration float inet int smallint text
 * time timestamp timeuuid tinyint uuid varchar varint), list<T>, set<T>,
 * map<K,V>, tuple<A,B,...>, frozen<T>, vector<T,N>. */
typedef struct cqlmux_mock_column {
  const char *name;
  const char *type;
} cqlmux_mock_column;

/* A primed answer. Cell values are text in CQL literal style, parsed by the
 * column type: 42, -1.5, true, 'it''s' or plain text, 0xCAFE (blob),
 * 123e4567-e89b-12d3-a456-426614174000, 127.0.0.1, [1,2] / {1,2} /
 * {'a':1}, (1,'x') for tuples (null inside), '2024-01-31' (date),
 * 1h30m (duration), 12.50 (decimal); timestamps are milliseconds and times
 * nanoseconds; a NULL pointer is a null cell. */
typedef struct cqlmux_mock_prime {
  /* What it answers: QUERY whose text equals `query` (exactly, or as a
   * prefix when query ends with '*'), and EXECUTE of a statement prepared
   * from such a text. With query NULL and prepared_id set, it answers
   * EXECUTE with that raw id on every node (no PREPARE needed). */
  const char *query;
  const uint8_t *prepared_id;
  size_t prepared_id_len;
  int node;            /* only on this node; CQLMUX_MOCK_ANY by default */
  int opcode;          /* ANY (default): answers QUERY, EXECUTE and BATCH, and
                          gives PREPARE its metadata; CQLMUX_OP_PREPARE: answers
                          PREPARE itself (e.g. an ERROR for a bad statement) */

  cqlmux_mock_result_kind kind;

  /* ROWS */
  const char *keyspace, *table; /* metadata; default "ks", "t" */
  size_t column_count;
  const cqlmux_mock_column *columns;
  size_t row_count;
  const char *const *cells;     /* row_count * column_count, row-major */

  /* PREPARE of `query` answers PREPARED with these bind markers (and, for
   * ROWS, the columns above as result metadata). */
  size_t param_count;
  const cqlmux_mock_column *params;

  /* ERROR: any code with its details (the fields the code uses). */
  int32_t error_code;          /* e.g. 0x1200 read timeout */
  const char *error_message;   /* NULL: a generic one */
  int consistency;             /* 0x1000 0x1100 0x1200 0x1300 0x1500; -1
                                  (default): the request's */
  int32_t received, block_for, alive, num_failures;
  bool data_present;           /* 0x1200 0x1300 */
  const char *write_type;      /* 0x1100 0x1500 ("SIMPLE" when NULL) */
  const char *function;        /* 0x1400: keyspace above, this name, */
  const char *arg_types;       /*   and comma-separated argument types */
  /* 0x2400 already exists: keyspace and table above. 0x2500 unprepared:
   * prepared_id above (or the id of `query`). */

  /* SET_KEYSPACE: keyspace. SCHEMA_CHANGE: change ("CREATED"), target
   * ("TABLE"), keyspace, table as the object name. */
  const char *change, *target;

  /* EXECUTE of this statement's id (prepared_id, or the id the mock gives
   * an exact `query`) is answered on every node, even one it was never
   * prepared on. False (default): as in Cassandra, a node answers
   * UNPREPARED for ids it has not prepared itself. */
  bool prepared_everywhere;

  /* The partition key: indexes of the bind markers (params) forming it, in
   * partition key order. PREPARED (v4/v5) declares them as pk_indexes, and
   * an EXECUTE of the statement (or a BATCH whose first member it is) is
   * recorded with the token of its bound key (cqlmux_mock_request.token). */
  size_t pk_count;
  const uint16_t *pk_indexes;

  /* The envelope prefix of its answers (RESULT or ERROR alike): these
   * warnings (WARNING flag), and with echo_custom_payload the request's own
   * custom payload sent back (CUSTOM_PAYLOAD flag), as a server-side query
   * handler may. A BATCH takes them from the prime of its first primed
   * member. Independently of primes, every answer to a request sent with
   * the TRACING flag carries a tracing id (TRACING flag): a time UUID whose
   * last 6 bytes are the request's seq, big-endian (cqlmux_mock_tracing_id). */
  size_t warning_count;
  const char *const *warnings;
  bool echo_custom_payload;
} cqlmux_mock_prime;

/* The tracing id the mock answers a traced request `seq` with. */
void cqlmux_mock_tracing_id(uint64_t seq, uint8_t out[16]);

void cqlmux_mock_prime_init(cqlmux_mock_prime *p, cqlmux_mock_result_kind kind,
                            const char *query);

/* Adds a prime (copied). Later primes win over earlier ones for the same
 * text. Errors: INVALID_ARGUMENT (no query and no id, unknown column type,
 * a cell that does not parse as its type: the message goes to stderr). */
int cqlmux_mock_prime_add(cqlmux_mock *m, const cqlmux_mock_prime *p);

/* Removes every prime. */
void cqlmux_mock_prime_clear(cqlmux_mock *m);

/* Changes the result columns of the prime whose query text is exactly
 * `query` (the latest such prime), as ALTER TABLE ADD / DROP does: its rows
 * keep the cells of columns whose name and type stay, new columns are null.
 * The result metadata id changes with the columns, so a v5 EXECUTE that
 * still sends the old id gets METADATA_CHANGED (see cqlmux-mock(1)). No
 * event is pushed. Errors: NOT_FOUND (no prime has that text),
 * INVALID_ARGUMENT (an unknown type). */
int cqlmux_mock_prime_alter(cqlmux_mock *m, const char *query, const cqlmux_mock_column *columns,
                            size_t column_count);

/* ======================================================================== */
/* Events                                                                    */
/* ======================================================================== */

typedef enum cqlmux_mock_event_type {
  CQLMUX_MOCK_EVENT_TOPOLOGY = 1, /* change: NEW_NODE, REMOVED_NODE */
  CQLMUX_MOCK_EVENT_STATUS,       /* change: UP, DOWN */
  CQLMUX_MOCK_EVENT_SCHEMA        /* change: CREATED, UPDATED, DROPPED */
} cqlmux_mock_event_type;

typedef struct cqlmux_mock_event {
  cqlmux_mock_event_type type;
  const char *change;
  int about_node;        /* TOPOLOGY/STATUS: the node whose address is sent */
  const char *target;    /* SCHEMA: KEYSPACE, TABLE, TYPE, FUNCTION, AGGREGATE */
  const char *keyspace;  /* SCHEMA */
  const char *name;      /* SCHEMA: table/type/function name (not KEYSPACE) */
  const char *args;      /* SCHEMA FUNCTION/AGGREGATE: comma-separated arg types */
} cqlmux_mock_event;

/* Pushes an EVENT (stream -1) on every connection of `node` (or of every
 * node: ANY) that REGISTERed for its type, without touching the topology.
 * Returns the number of connections it was queued on (>= 0) or an error. */
int cqlmux_mock_push_event(cqlmux_mock *m, int node, const cqlmux_mock_event *ev);

/* ======================================================================== */
/* Faults                                                                    */
/* ======================================================================== */

typedef enum cqlmux_mock_fault_kind {
  /* Response faults: act on each matching request while active. */
  CQLMUX_MOCK_DELAY = 1,        /* answer after delay_ms */
  CQLMUX_MOCK_NO_RESPONSE,      /* record the request, never answer it */
  CQLMUX_MOCK_IGNORE_HEARTBEAT, /* NO_RESPONSE for OPTIONS after STARTUP only */
  CQLMUX_MOCK_OUT_OF_ORDER,     /* hold answers and send them reversed: every
                                   `arg` answers, or (arg 0) at the end of each
                                   batch of requests read at once */
  CQLMUX_MOCK_MALFORMED,        /* right header, undecodable body: a RESULT of
                                   kind 0x7FFFFFFF (arg 1: an unknown opcode 0x7F) */
  CQLMUX_MOCK_TRUNCATED,        /* send only the first `arg` bytes of the answer
                                   (0: half; v5: of its frame), then close (or,
                                   delay_ms > 0, close after delay_ms) */
  CQLMUX_MOCK_WRONG_STREAM,     /* answer on stream `arg` (0: request's + 1) */
  CQLMUX_MOCK_BAD_CRC,          /* v5 framed: the answer travels alone in a frame
                                   whose payload CRC32 is wrong (arg 1: header
                                   CRC24). Unframed answers go out intact. */
  CQLMUX_MOCK_CLOSE,            /* close the connection instead of answering
                                   (arg 1: with a TCP reset). Triggered NOW, by
                                   time or by command: closes every connection
                                   in scope, once. */
  CQLMUX_MOCK_OVERSIZED,        /* the answer's envelope header claims `arg`
                                   body bytes (0: 0x7FFFFFFF), more than any
                                   client accepts; v5: in a frame of its own */
  /* State faults: apply to everything in scope from activation until cleared. */
  CQLMUX_MOCK_STOP_READING,     /* stop reading the socket (TCP backpressure) */
  CQLMUX_MOCK_REFUSE,           /* close the node's listener: connect() refused */
  /* One-shot actions: happen once, when triggered. */
  CQLMUX_MOCK_RESTART,          /* restart the node(s), down for `arg` ms */
  CQLMUX_MOCK_PUSH_EVENT        /* push `event` (see cqlmux_mock_push_event) */
} cqlmux_mock_fault_kind;

typedef enum cqlmux_mock_trigger {
  CQLMUX_MOCK_NOW = 0,        /* active at once */
  CQLMUX_MOCK_AFTER_REQUESTS, /* after `after` matching requests in scope were
                                 served normally, the next one triggers it: a
                                 response fault acts on that request,
                                 STOP_READING stops right after it, RESTART and
                                 CLOSE leave it unanswered, PUSH_EVENT follows
                                 its answer, REFUSE closes the listener then */
  CQLMUX_MOCK_AFTER_MS,       /* `after` ms after cqlmux_mock_fault_add */
  CQLMUX_MOCK_ON_COMMAND      /* when cqlmux_mock_fault_fire is called */
} cqlmux_mock_trigger;

typedef struct cqlmux_mock_fault {
  cqlmux_mock_fault_kind kind;
  /* Scope. */
  int node;            /* a node index or ANY */
  int64_t connection;  /* a connection id (cqlmux_mock_connection.id) or ANY */
  /* Which requests it counts and acts on (response faults, AFTER_REQUESTS). */
  int opcode;          /* CQLMUX_OP_* or ANY */
  const char *query;   /* QUERY/PREPARE text, or the text an EXECUTEd id was
                          prepared from; exact, or prefix when ending in '*'.
                          NULL = any request */
  /* When. */
  cqlmux_mock_trigger trigger;
  uint64_t after;      /* requests (AFTER_REQUESTS) or ms (AFTER_MS) */
  /* How long (response faults): the number of requests it acts on, then it
   * ends by itself; 0 = until cleared. */
  uint64_t times;
  /* Parameters. */
  uint32_t delay_ms;
  uint32_t arg;
  cqlmux_mock_event event; /* PUSH_EVENT */
} cqlmux_mock_fault;

/* Fills f: kind, scope ANY, opcode ANY, trigger NOW, times 0, rest zero. */
void cqlmux_mock_fault_init(cqlmux_mock_fault *f, cqlmux_mock_fault_kind kind);

/* Adds a fault (copied); *id_out (may be NULL) gets its id, > 0. A NOW
 * one-shot action or CLOSE runs before this returns. Errors:
 * INVALID_ARGUMENT. */
int cqlmux_mock_fault_add(cqlmux_mock *m, const cqlmux_mock_fault *f, int *id_out);

/* Activates an ON_COMMAND fault (or runs a one-shot action again).
 * Errors: NOT_FOUND. */
int cqlmux_mock_fault_fire(cqlmux_mock *m, int id);

/* Ends a fault: a stopped connection reads again, a refusing node listens
 * again, held out-of-order answers are sent; delayed answers already
 * scheduled still go out. Errors: NOT_FOUND. */
int cqlmux_mock_fault_clear(cqlmux_mock *m, int id);

/* Ends every fault. */
void cqlmux_mock_fault_clear_all(cqlmux_mock *m);

/* How many times the fault acted (requests, connections or actions). */
uint64_t cqlmux_mock_fault_hits(cqlmux_mock *m, int id);

/* Writes `bytes` as they are on connection `id` (cqlmux_mock_connection.id),
 * after the answers already queued on it: the test's own envelopes or v5
 * frames, checksums included (the whole-path fuzzer feeds its input this
 * way). With close_after the connection then closes once they are sent;
 * otherwise it stays open and keeps serving. Returns once the bytes are
 * queued for sending. Not from a mock callback (INVALID_STATE). Errors:
 * INVALID_ARGUMENT, NOT_FOUND (no such open connection). */
int cqlmux_mock_send_raw(cqlmux_mock *m, int64_t id, const void *bytes, size_t len,
                         bool close_after);

/* ======================================================================== */
/* Records                                                                   */
/* ======================================================================== */

typedef struct cqlmux_mock_connection {
  int64_t id;              /* from 1, in accept order over the whole cluster */
  int node;
  char client_address[48]; /* "127.0.0.1:53422" */
  uint64_t opened_us;      /* CLOCK_MONOTONIC microseconds */
  uint64_t closed_us;      /* 0 while open */
  bool closed_by_server;   /* a fault, a node stop, a protocol error */
  int version;             /* negotiated protocol version; 0 before STARTUP */
  bool compressed;         /* LZ4 negotiated */
  bool framed;             /* v5 framing in effect */
  bool authenticated;
  uint64_t requests;       /* envelopes received (null mode: counted at close) */
  unsigned registered;     /* bit (1 << cqlmux_mock_event_type) per REGISTERed type */
} cqlmux_mock_connection;

typedef struct cqlmux_mock_request {
  uint64_t seq;           /* from 1, in arrival order over the whole cluster */
  uint64_t time_us;       /* CLOCK_MONOTONIC microseconds */
  int node;
  int64_t connection;
  int version;
  int stream;
  int opcode;             /* CQLMUX_OP_* */
  uint8_t flags;          /* envelope header flags */
  int consistency;        /* QUERY/EXECUTE/BATCH, else -1 */
  int serial_consistency; /* -1 when absent */
  int32_t page_size;      /* -1 when absent */
  int values;             /* bound values (QUERY/EXECUTE), statements (BATCH) */
  const char *query;      /* QUERY/PREPARE text; EXECUTE: the prepared text
                             when known; BATCH: first statement's; else NULL */
  const uint8_t *prepared_id; /* EXECUTE */
  size_t prepared_id_len;
  const char *keyspace;   /* v5 per-query keyspace, or NULL */
  bool after_startup;     /* sent after STARTUP (an OPTIONS then is a heartbeat) */
  int fault;              /* id of the fault that acted on it, 0 = none */
  int response_opcode;    /* what it was answered with; -1 = not answered */
  int32_t error_code;     /* ERROR answers: the code; else 0 */
  bool has_token;         /* EXECUTE (BATCH: its first member) of a statement
                             whose prime has pk_indexes, all of them bound */
  int64_t token;          /* then the Murmur3 token of its partition key */
} cqlmux_mock_request;

typedef struct cqlmux_mock_fault_hit {
  int fault;
  cqlmux_mock_fault_kind kind;
  int node;               /* ANY for cluster-wide actions */
  int64_t connection;     /* 0 for node actions */
  int stream;             /* -1 when not about a request */
  uint64_t request_seq;   /* 0 when not about a request */
  uint64_t time_us;
} cqlmux_mock_fault_hit;

/* Which records to count or wait for; ANY / NULL fields match all. */
typedef struct cqlmux_mock_filter {
  int node;
  int64_t connection;
  int opcode;
  const char *query;      /* as in faults: exact, or prefix with '*' */
} cqlmux_mock_filter;
#define CQLMUX_MOCK_FILTER_ANY {CQLMUX_MOCK_ANY, CQLMUX_MOCK_ANY, CQLMUX_MOCK_ANY, NULL}

/* Counts recorded requests matching f (NULL = all). */
size_t cqlmux_mock_request_count(cqlmux_mock *m, const cqlmux_mock_filter *f);

/* Copies the index-th recorded request (0 = oldest). Its strings and id
 * point into the mock and stay valid until cqlmux_mock_log_clear or
 * cqlmux_mock_free. Errors: INVALID_ARGUMENT (index out of range). */
int cqlmux_mock_request_at(cqlmux_mock *m, size_t index, cqlmux_mock_request *out);

/* Blocks until at least `count` recorded requests match f, or timeout_ms
 * passes. Returns CQLMUX_OK or CQLMUX_ERR_TIMEOUT. */
int cqlmux_mock_wait_requests(cqlmux_mock *m, const cqlmux_mock_filter *f, size_t count,
                              unsigned timeout_ms);

/* Connections ever accepted (node ANY = all nodes), open or closed. */
size_t cqlmux_mock_connection_count(cqlmux_mock *m, int node);
int cqlmux_mock_connection_at(cqlmux_mock *m, size_t index, cqlmux_mock_connection *out);
/* Looks a connection up by id. Errors: NOT_FOUND. */
int cqlmux_mock_connection_get(cqlmux_mock *m, int64_t id, cqlmux_mock_connection *out);
/* Open connections to a node (ANY = all). */
size_t cqlmux_mock_open_connections(cqlmux_mock *m, int node);
/* Blocks until at least `count` connections to `node` were accepted
 * (open == false) or are open at once (open == true). OK or TIMEOUT. */
int cqlmux_mock_wait_connections(cqlmux_mock *m, int node, size_t count, bool open,
                                 unsigned timeout_ms);

/* Blocks until connection `id` is closed (by either side). OK, TIMEOUT, or
 * NOT_FOUND for an id never accepted. */
int cqlmux_mock_wait_closed(cqlmux_mock *m, int64_t id, unsigned timeout_ms);

size_t cqlmux_mock_fault_hit_count(cqlmux_mock *m);
int cqlmux_mock_fault_hit_at(cqlmux_mock *m, size_t index, cqlmux_mock_fault_hit *out);

/* Drops the request and fault-hit records (connections are kept: open ones
 * are still alive). Counters in null mode are reset too. */
void cqlmux_mock_log_clear(cqlmux_mock *m);

/* Null mode: data requests answered from the canned result, all nodes. */
uint64_t cqlmux_mock_null_count(cqlmux_mock *m);

/* ======================================================================== */
/* Request hook                                                              */
/* ======================================================================== */

/*
 * Called once per recorded request, after it is recorded and before it is
 * answered, on the mock I/O thread that owns the connection (never on the
 * caller's thread), with no mock lock held. `req` is borrowed for the call.
 * It may call any cqlmux_mock_* function except cqlmux_mock_free; faults it
 * adds apply to this very request if they match (e.g. add a CLOSE to drop
 * the connection instead of answering). Actions on connections served by
 * other I/O threads happen shortly after the hook returns. Not called for
 * requests answered in null mode.
 */
typedef void (*cqlmux_mock_request_hook)(cqlmux_mock *m, const cqlmux_mock_request *req,
                                         void *user_data);

/* Installs (or with NULL removes) the hook. */
void cqlmux_mock_set_request_hook(cqlmux_mock *m, cqlmux_mock_request_hook hook,
                                  void *user_data);

/* ======================================================================== */
/* Scenario text                                                             */
/* ======================================================================== */

/* Runs one line of the scenario language on a started mock (prime, alter,
 * fault, fire, clear, stop, start, restart, add, remove, event, forget,
 * keyspace, replicas, clear-log; see cqlmux-mock(1)). Configuration lines (nodes, dc, port, auth ...)
 * are for cqlmux_mock_config_parse. On error a message goes into err
 * (NUL-terminated, may be NULL). Errors: INVALID_ARGUMENT, plus those of the
 * function the line calls. */
int cqlmux_mock_script(cqlmux_mock *m, const char *line, char *err, size_t errlen);

/* Applies one configuration line to cfg. Returns 1 if the line was a
 * configuration line, 0 if it is a runtime line (for cqlmux_mock_script),
 * or INVALID_ARGUMENT with a message in err. Strings it sets in cfg are
 * copies owned by cfg, freed by cqlmux_mock_config_release. */
int cqlmux_mock_config_parse(cqlmux_mock_config *cfg, const char *line, char *err,
                             size_t errlen);

/* Frees the strings cqlmux_mock_config_parse allocated into cfg. */
void cqlmux_mock_config_release(cqlmux_mock_config *cfg);

#ifdef __cplusplus
}
#endif

#endif /* CQLMUX_MOCK_H */

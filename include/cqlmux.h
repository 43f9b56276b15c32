/*
 * cqlmux: an asynchronous client library for Apache Cassandra's native
 * protocol (CQL binary protocol v4 and v5).
 *
 * This is the one public header. Every handle is opaque, every name carries
 * the cqlmux_ / CQLMUX_ prefix, and every function documents, in this order:
 * what it does, who owns what afterwards, what happens on failure, and which
 * error codes it returns. Functions that free accept NULL.
 *
 * Threads. cqlmux runs two kinds of threads of its own:
 *   - I/O threads (config: io_threads, default 1) own sockets, buffers, stream
 *     tables and timers. User code never runs on them unless callback_threads
 *     is 0.
 *   - callback workers (config: callback_threads, default 1) run completion
 *     callbacks. With callback_threads = 0 callbacks run inline on the I/O
 *     thread that decoded the response: lowest latency, but a slow callback
 *     then stalls every connection of that thread.
 * Each callback type below states which thread runs it and what it may call.
 *
 * Copyright 2026 the cqlmux authors. Licensed under the Apache License 2.0.
 */
#ifndef CQLMUX_H
#define CQLMUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "cqlmux_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CQLMUX_API marks the exported symbols; everything else in the library is
 * built with -fvisibility=hidden. */
#if defined(CQLMUX_BUILDING_LIBRARY) && defined(__GNUC__)
#define CQLMUX_API __attribute__((visibility("default")))
#else
#define CQLMUX_API
#endif

/* ======================================================================== */
/* Version                                                                   */
/* ======================================================================== */

/* The version of the library this program runs with, as "MAJOR.MINOR.PATCH".
 * Static storage; never NULL. */
CQLMUX_API const char *cqlmux_version(void);

/* The same as a number comparable with CQLMUX_VERSION_NUM (0xMMmmpp). */
CQLMUX_API unsigned cqlmux_version_num(void);

/* ======================================================================== */
/* Errors                                                                    */
/* ======================================================================== */

/*
 * Every failure is a negative code. Codes in the "usage" band report a
 * mistake in the call; the "codec" band reports bytes that cannot be decoded;
 * the "request" band ends a request without a server answer; the
 * "connection" band ends a connection (and the requests on it); the "server"
 * band carries a CQL ERROR response, whose details are on the future.
 */
typedef enum cqlmux_error {
  CQLMUX_OK = 0,

  /* usage */
  CQLMUX_ERR_INVALID_ARGUMENT = -1,   /* a NULL or out-of-range argument */
  CQLMUX_ERR_NOMEM = -2,              /* the allocator returned NULL */
  CQLMUX_ERR_INVALID_STATE = -3,      /* the object cannot do that now */
  CQLMUX_ERR_WOULD_DEADLOCK = -4,     /* blocking wait on a library thread */
  CQLMUX_ERR_BUFFER_TOO_SMALL = -5,   /* the caller's buffer cannot hold it */
  CQLMUX_ERR_NOT_FOUND = -6,          /* no such column, key or host */
  CQLMUX_ERR_TYPE_MISMATCH = -7,      /* value read or bound as the wrong type */
  CQLMUX_ERR_NOT_READY = -8,          /* the future has not completed yet */
  CQLMUX_ERR_NULL_VALUE = -9,         /* the value read is null */
  CQLMUX_ERR_EMPTY_VALUE = -10,       /* the value read is empty (0 bytes), not null */

  /* codec: bytes that cannot be decoded (from the network or a caller) */
  CQLMUX_ERR_TRUNCATED = -100,        /* a length or count runs past the end */
  CQLMUX_ERR_MALFORMED = -101,        /* an invalid field (opcode, flag, negative length) */
  CQLMUX_ERR_OVERSIZED = -102,        /* larger than the protocol or a configured limit */
  CQLMUX_ERR_BAD_CRC = -103,          /* a v5 frame header or payload checksum failed */
  CQLMUX_ERR_UNSUPPORTED_VERSION = -104, /* a protocol version this library does not speak */
  CQLMUX_ERR_COMPRESSION = -105,      /* compression or decompression failed */

  /* request: ended without a server answer */
  CQLMUX_ERR_BUSY = -200,             /* overload: queue or memory budget full, not sent */
  CQLMUX_ERR_TIMEOUT = -201,          /* no answer within the request timeout */
  CQLMUX_ERR_SHUTDOWN = -202,         /* the session closed before an answer */

  /* connection */
  CQLMUX_ERR_CONNECTION_CLOSED = -300,   /* the connection died with the request on it */
  CQLMUX_ERR_CONNECT_FAILED = -301,      /* TCP connect refused or unreachable */
  CQLMUX_ERR_CONNECT_TIMEOUT = -302,     /* TCP or handshake did not finish in time */
  CQLMUX_ERR_RESOLVE = -303,             /* a host name did not resolve */
  CQLMUX_ERR_PROTOCOL = -304,            /* the peer broke the protocol */
  CQLMUX_ERR_HEARTBEAT_TIMEOUT = -305,   /* an idle connection stopped answering */
  CQLMUX_ERR_AUTH = -310,                /* the server rejected the credentials */
  CQLMUX_ERR_TLS = -320,                 /* TLS handshake or record failure */
  CQLMUX_ERR_TLS_UNTRUSTED = -321,       /* peer certificate not signed by a trusted CA */
  CQLMUX_ERR_TLS_EXPIRED = -322,         /* peer certificate expired or not yet valid */
  CQLMUX_ERR_TLS_HOSTNAME = -323,        /* peer certificate does not name the host */
  CQLMUX_ERR_NO_HOSTS = -330,            /* no host could take the request */

  /* server: the server answered with a CQL ERROR */
  CQLMUX_ERR_SERVER = -400
} cqlmux_error;

/* A static, human-readable description of an error code. Never NULL. */
CQLMUX_API const char *cqlmux_strerror(int error);

/* ======================================================================== */
/* Memory                                                                    */
/* ======================================================================== */

/*
 * Every allocation the library makes goes through one of these, with
 * user_data passed back. The functions must be thread-safe: they are called
 * from application threads, I/O threads and callback workers. malloc and
 * realloc may return NULL; the library then fails that operation with
 * CQLMUX_ERR_NOMEM and leaks nothing.
 */
typedef struct cqlmux_allocator {
  void *(*malloc)(size_t size, void *user_data);
  void *(*realloc)(void *ptr, size_t size, void *user_data);
  void (*free)(void *ptr, void *user_data);
  void *user_data;
} cqlmux_allocator;

/* ======================================================================== */
/* Logging                                                                   */
/* ======================================================================== */

typedef enum cqlmux_log_level {
  CQLMUX_LOG_NONE = 0, /* as a threshold: log nothing */
  CQLMUX_LOG_ERROR = 1,
  CQLMUX_LOG_WARN = 2,
  CQLMUX_LOG_INFO = 3,
  CQLMUX_LOG_DEBUG = 4,
  CQLMUX_LOG_TRACE = 5
} cqlmux_log_level;

/*
 * Receives one formatted, NUL-terminated line (no trailing newline).
 * Thread: any library or application thread, possibly concurrently: the
 * function must be thread-safe. It must not call back into cqlmux. The
 * message is borrowed for the duration of the call. Messages never contain
 * passwords, tokens or private keys.
 */
typedef void (*cqlmux_log_callback)(cqlmux_log_level level, const char *message,
                                    void *user_data);


/* ======================================================================== */
/* Consistency                                                              */
/* ======================================================================== */

/* CQL consistency levels, with their protocol values. */
typedef enum cqlmux_consistency {
  CQLMUX_CONSISTENCY_ANY = 0x0000,
  CQLMUX_CONSISTENCY_ONE = 0x0001,
  CQLMUX_CONSISTENCY_TWO = 0x0002,
  CQLMUX_CONSISTENCY_THREE = 0x0003,
  CQLMUX_CONSISTENCY_QUORUM = 0x0004,
  CQLMUX_CONSISTENCY_ALL = 0x0005,
  CQLMUX_CONSISTENCY_LOCAL_QUORUM = 0x0006,
  CQLMUX_CONSISTENCY_EACH_QUORUM = 0x0007,
  CQLMUX_CONSISTENCY_SERIAL = 0x0008,
  CQLMUX_CONSISTENCY_LOCAL_SERIAL = 0x0009,
  CQLMUX_CONSISTENCY_LOCAL_ONE = 0x000A
} cqlmux_consistency;


/* ======================================================================== */
/* Configuration                                                            */
/* ======================================================================== */

/*
 * A cqlmux_config holds every setting of a session; cqlmux_session_new
 * copies it, so the config may be changed or freed afterwards. Setters return
 * CQLMUX_OK or CQLMUX_ERR_INVALID_ARGUMENT (the config is then unchanged).
 * Strings are copied. Defaults are those of doc/configuration.md.
 */
typedef struct cqlmux_config cqlmux_config;

/* Protocol compression (negotiated in STARTUP; per envelope in v4, per frame in v5). */
typedef enum cqlmux_compression {
  CQLMUX_COMPRESSION_NONE = 0,
  CQLMUX_COMPRESSION_LZ4 = 1
} cqlmux_compression;

/* The event-notification mechanism of the I/O threads. */
typedef enum cqlmux_io_backend {
  CQLMUX_IO_BACKEND_DEFAULT = 0, /* chosen at build time (configure --with-io-backend) */
  CQLMUX_IO_BACKEND_EPOLL = 1,   /* Linux epoll(7); woken through an eventfd */
  CQLMUX_IO_BACKEND_POLL = 2     /* portable poll(2); woken through a pipe */
} cqlmux_io_backend;

/* Returns a config with every default, or NULL when out of memory. The
 * caller owns it: cqlmux_config_free() (accepts NULL). */
CQLMUX_API cqlmux_config *cqlmux_config_new(void);

/* The same, but the config itself and everything the session later
 * allocates go through `allocator`, which is copied (NULL = the C
 * library's). NULL when memory runs out or a function pointer is NULL. */
CQLMUX_API cqlmux_config *cqlmux_config_new_with_allocator(const cqlmux_allocator *allocator);
CQLMUX_API void cqlmux_config_free(cqlmux_config *config);

/* Comma-separated contact points: host names or IP addresses, each with an
 * optional port ("10.0.0.1, db2.example:9043, ::1, [::1]:9044"); default
 * "127.0.0.1". Checked here: INVALID_ARGUMENT for a port outside 1..65535,
 * an unclosed '[', an empty list. Duplicates are merged. Names are resolved
 * at connect on a resolver thread of the session (never on the caller's
 * thread nor an I/O thread), to every address they have, tried in random
 * order. A name that does not resolve is a warning in the log; connect
 * fails only when no contact point can be reached. The session then learns
 * the other nodes from the cluster itself (system.peers_v2). */
CQLMUX_API int cqlmux_config_set_contact_points(cqlmux_config *config, const char *hosts);
/* Native transport port, default 9042. */
CQLMUX_API int cqlmux_config_set_port(cqlmux_config *config, int port);
/* 0 negotiates (v5, then v4 on the server's refusal; default); 4 or 5 forces. */
CQLMUX_API int cqlmux_config_set_protocol_version(cqlmux_config *config, int version);
CQLMUX_API int cqlmux_config_set_compression(cqlmux_config *config, cqlmux_compression c);
/* PasswordAuthenticator credentials (SASL PLAIN). Never logged. */
CQLMUX_API int cqlmux_config_set_credentials(cqlmux_config *config, const char *username,
                                             const char *password);
/* Keyspace every connection starts in (as USE would). Keyspace names, here
 * and in cqlmux_statement_set_keyspace, follow one rule: either the name as
 * Cassandra stores it, taken exactly (case kept: `MyKs` is the keyspace
 * created as "MyKs", not myks), or the same name as a quoted CQL identifier
 * (`"MyKs"`, as other drivers accept), whose quotes are removed. The name
 * itself must be 1 to 48 letters, digits and underscores, as Cassandra
 * requires; anything else (an unclosed quote, a space, a dot) is
 * INVALID_ARGUMENT and changes nothing. NULL clears it. */
CQLMUX_API int cqlmux_config_set_keyspace(cqlmux_config *config, const char *keyspace);

/* Bounds of the thread-count setters. */
#define CQLMUX_MAX_IO_THREADS 64
#define CQLMUX_MAX_CALLBACK_THREADS 256
#define CQLMUX_MAX_QUEUE_SIZE (1u << 24) /* waiting requests per connection */

/* Threads: I/O threads (1 to CQLMUX_MAX_IO_THREADS, default 1), each owning
 * a share of the connections, and callback workers (0 to
 * CQLMUX_MAX_CALLBACK_THREADS, default 1). 0 workers runs every completion
 * callback on the I/O thread that completed it: the lowest latency, but a
 * slow callback then stalls that thread's connections. The backend must be
 * available in this build (INVALID_ARGUMENT otherwise). */
CQLMUX_API int cqlmux_config_set_io_threads(cqlmux_config *config, unsigned count);
CQLMUX_API int cqlmux_config_set_callback_threads(cqlmux_config *config, unsigned count);
CQLMUX_API int cqlmux_config_set_io_backend(cqlmux_config *config, cqlmux_io_backend backend);

/* Light-load co-location (default on; 0 turns it off). With one I/O thread
 * and callback workers, while the I/O thread keeps finding its workers
 * asleep at each hand-off (a few requests in flight), it restricts itself
 * to the CPU it runs on and the workers follow it there, so that waking one
 * another does not have to reach another, idle CPU (the dearest step of a
 * request at low concurrency on virtual machines: doc/performance.md). So
 * does a pool whose threads together use less than half of a CPU (measured
 * every 20 ms) while each hand-off carries a full batch of completions
 * (thousands in flight against a slow server): each completion then stays
 * on one CPU's caches. Otherwise, once the workers are found busy,
 * completions queue up for them, or they spend more than half of their time
 * in callbacks, every thread gets its full CPU mask back. A thread whose mask the
 * thread-start callback changed is never touched; nor is any thread with
 * several I/O threads, inline callbacks, or a single allowed CPU. Returns
 * CQLMUX_OK, or INVALID_ARGUMENT for a NULL config. */
CQLMUX_API int cqlmux_config_set_light_load_colocation(cqlmux_config *config, int enabled);

/* The library's own threads, as a thread-start callback sees them. */
typedef enum cqlmux_thread_kind {
  CQLMUX_THREAD_KIND_IO = 1,      /* an I/O thread; index 0 .. io_threads - 1 */
  CQLMUX_THREAD_KIND_CALLBACK = 2 /* a callback worker; index 0 .. callback_threads - 1 */
} cqlmux_thread_kind;

/* Runs on each of a session's I/O threads and callback workers as it
 * starts, on that thread, before it does any work: the place to pin it to
 * CPUs (pthread_setaffinity_np), change its priority or register it with a
 * profiler. cqlmux sets no affinity itself. Each index of a kind is passed
 * once; the threads start concurrently, so calls for different threads may
 * overlap, and may still be running when cqlmux_session_new returns: keep
 * `user_data` valid for the session's lifetime. The callback must return,
 * and cannot wait on a future there (CQLMUX_ERR_WOULD_DEADLOCK). Default:
 * none. A NULL callback clears it. */
typedef void (*cqlmux_thread_start_callback)(cqlmux_thread_kind kind, unsigned index,
                                             void *user_data);
CQLMUX_API int cqlmux_config_set_thread_start_callback(cqlmux_config *config,
                                                       cqlmux_thread_start_callback callback,
                                                       void *user_data);

/* Connections per host of the local data center: `core` are kept open
 * (default 1); under load the pool grows one connection at a time up to
 * `max` (default 8): when every connection of the
 * pool is at or above the high watermark. A connection above core that has
 * had nothing in flight for the idle timeout is closed. INVALID_ARGUMENT
 * when core is 0, core > max or max > CQLMUX_MAX_CONNECTIONS_PER_HOST. */
#define CQLMUX_MAX_CONNECTIONS_PER_HOST 1024
CQLMUX_API int cqlmux_config_set_connections_per_host(cqlmux_config *config, unsigned core,
                                                       unsigned max);
/* The same for REMOTE hosts (other data centers): default 1 / 2. */
CQLMUX_API int cqlmux_config_set_remote_connections_per_host(cqlmux_config *config,
                                                              unsigned core, unsigned max);
/* How long a connection above core may stay idle before it is closed
 * (default 60000 ms; 1 .. 86400000). */
CQLMUX_API int cqlmux_config_set_pool_idle_timeout(cqlmux_config *config, unsigned ms);

/* How a pool picks among its ready connections (reference: "Connection
 * Selection"). */
typedef enum cqlmux_connection_selection {
  CQLMUX_SELECT_LEAST_LOADED = 0, /* fewest requests in flight and queued (default) */
  CQLMUX_SELECT_ROUND_ROBIN = 1,  /* in turn */
  CQLMUX_SELECT_RANDOM = 2        /* uniformly at random */
} cqlmux_connection_selection;
CQLMUX_API int cqlmux_config_set_connection_selection(cqlmux_config *config,
                                                      cqlmux_connection_selection selection);

/* The local data center: its hosts are LOCAL. NULL or "" (default) takes
 * the data center of the first node the session connects to. */
CQLMUX_API int cqlmux_config_set_local_dc(cqlmux_config *config, const char *dc);
/* How many hosts of each other data center are REMOTE (get a pool, used
 * when no local host is up); the others are IGNORED (no connection at
 * all). Default 0: remote data centers are never used. At most 1024. */
CQLMUX_API int cqlmux_config_set_remote_hosts_per_dc(cqlmux_config *config, unsigned hosts);

/* Reconnection of a host that is DOWN: one attempt at once, then `base_ms`,
 * doubling up to `cap_ms` (defaults 1000 and 60000), each delay drawn
 * within 15 % of its nominal value but never past the cap.
 * INVALID_ARGUMENT when base_ms is 0 or cap_ms < base_ms. */
CQLMUX_API int cqlmux_config_set_reconnect(cqlmux_config *config, unsigned base_ms,
                                           unsigned cap_ms);
/* Topology and status events arriving within this window cost one refresh
 * of system.peers (default 1000 ms; 0 refreshes at once on each event).
 * SCHEMA_CHANGE events have their own window:
 * cqlmux_config_set_schema_refresh_delay. */
CQLMUX_API int cqlmux_config_set_topology_debounce(cqlmux_config *config, unsigned ms);

/* Address translation (NAT, cloud private/public addresses): called with
 * the address a node reports (from system.local / system.peers_v2) and its
 * native port; it writes the address and port to connect to into *out
 * (the library has already copied the reported one there, so returning
 * without a change keeps it). Runs on the I/O thread that reads the
 * topology, when a node is learned: it must not block. NULL: none. */
typedef void (*cqlmux_address_translator)(const struct sockaddr *reported, socklen_t len,
                                          struct sockaddr_storage *out, void *user_data);
CQLMUX_API int cqlmux_config_set_address_translator(cqlmux_config *config,
                                                    cqlmux_address_translator translator,
                                                    void *user_data);
/* Requests in flight per connection: max (default 1024, at most 32768), and
 * the high / low watermarks as percentages of max (default 80 / 50). Above
 * the high watermark new requests wait in a bounded queue per connection
 * (cqlmux_config_set_queue_size; default 16384 requests, whatever max is; 0
 * to CQLMUX_MAX_QUEUE_SIZE): with the defaults one connection takes 819 in
 * flight plus 16384 waiting, so a burst of 10,000 requests at one node
 * completes without BUSY while its pool grows;
 * they drain once in-flight falls below the low watermark (or, while the
 * queue is full, one at a time as long as in-flight is below the high
 * watermark, so that a connection always takes the high watermark plus
 * the queue); beyond the queue, requests fail at once with
 * CQLMUX_ERR_BUSY. */
CQLMUX_API int cqlmux_config_set_max_requests_per_connection(cqlmux_config *config,
                                                              unsigned max);
CQLMUX_API int cqlmux_config_set_watermarks(cqlmux_config *config, unsigned high_percent,
                                            unsigned low_percent);
CQLMUX_API int cqlmux_config_set_queue_size(cqlmux_config *config, unsigned requests);
/* Bytes of queued and in-flight request data a session may hold, counting
 * the write buffers a server has not read yet (default 64 MiB; 0 =
 * unlimited). Beyond it requests fail with CQLMUX_ERR_BUSY. A request's
 * bytes and its copy in a write buffer are both counted while both exist,
 * so the heap they take stays within about twice the budget at worst, and
 * within the budget once the requests are gone (issue 16). */
CQLMUX_API int cqlmux_config_set_memory_budget(cqlmux_config *config, size_t bytes);
/* Completions waiting for a callback worker above which an I/O thread stops
 * reading its sockets until the workers catch up (default 16384). */
CQLMUX_API int cqlmux_config_set_completion_queue_bound(cqlmux_config *config, unsigned bound);

/* Timeouts in milliseconds: per request from submission (default 12000),
 * connect including handshake (default 5000), heartbeat interval on an idle
 * connection (default 30000; 0 disables) and its answer timeout (default
 * 10000). */
CQLMUX_API int cqlmux_config_set_request_timeout(cqlmux_config *config, unsigned ms);
CQLMUX_API int cqlmux_config_set_connect_timeout(cqlmux_config *config, unsigned ms);
CQLMUX_API int cqlmux_config_set_heartbeat(cqlmux_config *config, unsigned interval_ms,
                                           unsigned timeout_ms);

/* TLS: turning it on verifies the server's certificate against ca_file (NULL
 * = the system store) and checks that it names the host, unless
 * cqlmux_config_set_tls_verify says otherwise. Minimum version 0x0303 (TLS
 * 1.2, default) or 0x0304 (TLS 1.3). Files are read at session creation. */
CQLMUX_API int cqlmux_config_set_tls(cqlmux_config *config, int enabled, const char *ca_file);
CQLMUX_API int cqlmux_config_set_tls_verify(cqlmux_config *config, int verify_peer,
                                            int verify_hostname);
CQLMUX_API int cqlmux_config_set_tls_client_cert(cqlmux_config *config, const char *cert_file,
                                                 const char *key_file);
CQLMUX_API int cqlmux_config_set_tls_min_version(cqlmux_config *config, int version);

/* Memory hooks for the session's allocations (copied; see cqlmux_allocator). */
CQLMUX_API int cqlmux_config_set_allocator(cqlmux_config *config,
                                           const cqlmux_allocator *allocator);

/* Where log lines go: `callback` (see cqlmux_log_callback for its thread
 * rules) with `user_data`, or stderr when `callback` is NULL (the default). */
CQLMUX_API int cqlmux_config_set_log_callback(cqlmux_config *config,
                                              cqlmux_log_callback callback, void *user_data);

/* The least severe level still logged, CQLMUX_LOG_NONE to CQLMUX_LOG_TRACE.
 * Default CQLMUX_LOG_WARN. */
CQLMUX_API int cqlmux_config_set_log_level(cqlmux_config *config, cqlmux_log_level level);


/* ======================================================================== */
/* Futures                                                                   */
/* ======================================================================== */

/*
 * A future is the pending result of one request. Every future completes
 * exactly once: with a result, an error, a timeout (CQLMUX_ERR_TIMEOUT) or
 * a shutdown (CQLMUX_ERR_SHUTDOWN); nothing the library does can skip or
 * repeat that.
 *
 * Ownership. The function that returns a future gives the caller one
 * reference, released by cqlmux_future_free(). The library holds its own
 * reference until it has completed the future and run the callback, so the
 * caller may free the future at any time, even before completion (the
 * request still completes, its callback still runs, and the memory is
 * reclaimed afterwards) and even inside the future's own callback.
 *
 * Thread safety. Every function below may be called from any thread,
 * concurrently, on the same future.
 */
typedef struct cqlmux_future cqlmux_future;

/*
 * Completion callback.
 * Thread: when registered before completion, a callback worker runs it (or,
 * with callback_threads = 0, the I/O thread that completed the request). When
 * registered on a future that has already completed, it runs at once,
 * inline, on the thread calling cqlmux_future_set_callback().
 * May call: any cqlmux function that does not block, including submitting
 * new requests, reading this future (error, message, result) and
 * cqlmux_future_free() on this future. Must not call cqlmux_future_wait() or
 * cqlmux_future_wait_timed() (they return CQLMUX_ERR_WOULD_DEADLOCK there)
 * and should return quickly: while it runs, its worker (or I/O thread) does
 * nothing else.
 * Borrowed data: `future` is valid for the duration of the call even if the
 * caller freed its reference already; data read from it stays valid until
 * the last reference is gone.
 */
typedef void (*cqlmux_future_callback)(cqlmux_future *future, void *user_data);

/*
 * Register the callback, run exactly once with `user_data` when the future
 * completes (or at once, on this thread, if it already has; see
 * cqlmux_future_callback). At most one callback per future.
 * Returns CQLMUX_OK, CQLMUX_ERR_INVALID_ARGUMENT (NULL future or callback) or
 * CQLMUX_ERR_INVALID_STATE (a callback was already set; nothing changes).
 */
CQLMUX_API int cqlmux_future_set_callback(cqlmux_future *future,
                                          cqlmux_future_callback callback, void *user_data);

/*
 * Block until the future completes; returns its error code (CQLMUX_OK on
 * success). Returns CQLMUX_ERR_WOULD_DEADLOCK without blocking when called on
 * a library thread or inside any completion callback (even for a future that
 * has completed: the rule does not depend on timing), and
 * CQLMUX_ERR_INVALID_ARGUMENT for NULL.
 */
CQLMUX_API int cqlmux_future_wait(cqlmux_future *future);

/*
 * Like cqlmux_future_wait(), but gives up after `timeout_us` microseconds
 * (0 = just check) and then returns CQLMUX_ERR_NOT_READY: distinct from
 * CQLMUX_ERR_TIMEOUT, which means the request itself timed out. Measured on
 * the monotonic clock.
 */
CQLMUX_API int cqlmux_future_wait_timed(cqlmux_future *future, uint64_t timeout_us);

/* 1 if the future has completed, 0 if not (or NULL). Never blocks. */
CQLMUX_API int cqlmux_future_ready(const cqlmux_future *future);

/* The completion code: CQLMUX_OK or a negative cqlmux_error;
 * CQLMUX_ERR_NOT_READY while pending, CQLMUX_ERR_INVALID_ARGUMENT for NULL.
 * Never blocks. */
CQLMUX_API int cqlmux_future_error(const cqlmux_future *future);

/* A description of the error the future completed with (the server's or
 * connection's message when there was one, else cqlmux_strerror() of the
 * code); NULL while pending, on success, or for NULL. For CQLMUX_ERR_SERVER
 * it reads "Cassandra error 0x2200 (invalid query): <the server's
 * message>". Owned by the future: valid until cqlmux_future_free(). */
CQLMUX_API const char *cqlmux_future_error_message(const cqlmux_future *future);

/*
 * Release the caller's reference. Accepts NULL. Before completion this
 * detaches: the request is not cancelled, it completes and runs its callback
 * as usual, and the memory goes when the library is done with it. Calling it
 * a second time on the same future is an error, except inside that future's
 * callback, where the extra call is ignored.
 */
CQLMUX_API void cqlmux_future_free(cqlmux_future *future);

/* ======================================================================== */
/* Sessions                                                                 */
/* ======================================================================== */

typedef struct cqlmux_session cqlmux_session;
typedef struct cqlmux_statement cqlmux_statement;
typedef struct cqlmux_prepared cqlmux_prepared;
typedef struct cqlmux_result cqlmux_result;

/*
 * Creates a session from a copy of config and starts its threads; no
 * connection is opened until cqlmux_session_connect. On success *out owns
 * the session (free it with cqlmux_session_free). Errors: INVALID_ARGUMENT,
 * NOMEM, TLS (the TLS files cannot be used; nothing is started).
 */
CQLMUX_API int cqlmux_session_new(const cqlmux_config *config, cqlmux_session **out);

/*
 * Connects: resolves the contact points (on a thread of the session),
 * opens the control connection to the first that answers (negotiating the
 * protocol version, TLS, compression and authentication), reads the
 * cluster's nodes and opens a pool to each LOCAL and REMOTE one. The future
 * completes with CQLMUX_OK once the control connection is up and every
 * LOCAL host's pool holds its core connections or has failed its first
 * attempt; or, when no contact point can be reached, with the first
 * attempt's error (CONNECT_FAILED, CONNECT_TIMEOUT, AUTH, TLS_*,
 * UNSUPPORTED_VERSION ...; RESOLVE when no name resolved; NO_HOSTS when no local host
 * answered) and a message naming each contact point and why. Never blocks
 * and never does I/O on the calling thread.
 */
CQLMUX_API cqlmux_future *cqlmux_session_connect(cqlmux_session *session);

/*
 * Submits a statement. The statement is encoded during the call, so it may
 * be changed or freed as soon as this returns. Never blocks and never does
 * I/O: the future completes later with the result, a server error
 * (CQLMUX_ERR_SERVER), or a request error (BUSY when backpressure rejects
 * it, TIMEOUT, CONNECTION_CLOSED, SHUTDOWN, NO_HOSTS). Returns NULL only
 * when no future can be allocated.
 */
CQLMUX_API cqlmux_future *cqlmux_session_execute(cqlmux_session *session,
                                                 const cqlmux_statement *statement);

/* Shorthand: an unprepared statement without values at consistency ONE. */
CQLMUX_API cqlmux_future *cqlmux_session_query(cqlmux_session *session, const char *cql);

/* Prepares cql on a connected host; take the result with
 * cqlmux_future_take_prepared. */
CQLMUX_API cqlmux_future *cqlmux_session_prepare(cqlmux_session *session, const char *cql);

/* The protocol version the session negotiated (4 or 5), 0 before connect
 * succeeds; and whether LZ4 compression is in use (1) or not (0). */
CQLMUX_API int cqlmux_session_protocol_version(const cqlmux_session *session);
CQLMUX_API int cqlmux_session_compression_active(const cqlmux_session *session);

/*
 * Graceful close: new requests fail at once with SHUTDOWN, in-flight ones
 * complete normally, and the future completes once everything submitted
 * before has completed. Connections and threads stay up until
 * cqlmux_session_free, which is then quick and fails nothing.
 */
CQLMUX_API cqlmux_future *cqlmux_session_close(cqlmux_session *session);

/*
 * Immediate close and free: pending requests complete with SHUTDOWN (their
 * callbacks still run exactly once), every library thread is joined, then
 * memory is released. Must not be called from a cqlmux callback (it would
 * join the calling thread); accepts NULL. Futures the application still
 * holds stay valid until freed.
 */
CQLMUX_API void cqlmux_session_free(cqlmux_session *session);

/* ======================================================================== */
/* Statements                                                               */
/* ======================================================================== */

/*
 * A statement is a query text (or a prepared statement) with bound values
 * and options. It is owned by the application, used from one thread at a
 * time, and may be executed any number of times. Values are bound by
 * 0-based index; each bind copies the value. Errors: INVALID_ARGUMENT
 * (index out of range), NOMEM, and TYPE_MISMATCH on a prepared statement
 * when the bind cannot fill that parameter's CQL type (bind_text into an
 * int): the table of the Values section says which bind fills which type;
 * bind_null, _unset, _serialized and _builder fill any.
 * cqlmux_statement_error_message then names the parameter. A failed bind
 * leaves the slot as it was.
 */
CQLMUX_API cqlmux_statement *cqlmux_statement_new(const char *cql, size_t value_count);
/* A statement executing prepared; prepared must outlive the statement. */
CQLMUX_API cqlmux_statement *cqlmux_statement_new_prepared(const cqlmux_prepared *prepared);
CQLMUX_API void cqlmux_statement_free(cqlmux_statement *statement);
/* Why the statement's most recent TYPE_MISMATCH bind or NOT_FOUND name
 * lookup failed, e.g. `parameter 1 ("age") is int:
 * cqlmux_statement_bind_text cannot bind it`; "" before any. NUL-terminated, owned by the statement: valid until
 * its next bind or its free. Never NULL. */
CQLMUX_API const char *cqlmux_statement_error_message(const cqlmux_statement *statement);

/*
 * Binding by name: the index of the value called `name`, to pass to any
 * bind function. Names follow CQL: a name in double quotes ("Age") is
 * taken exactly, any other is folded to lower case (Age is age), as CQL
 * folds unquoted column names and :name markers.
 *   - Prepared statements: the first parameter the server named so (a
 *     column name, or the marker's name for :name markers).
 *   - Simple statements: the value for the :name marker of that name. The
 *     first lookup of a name gives it the lowest slot not yet named, so
 *     look names up in any order, once each or again; the statement then
 *     sends its values with their names (the protocol's "with names"
 *     flag), so every slot must have been named before it runs (else
 *     execute fails with INVALID_ARGUMENT).
 * Errors: INVALID_ARGUMENT (NULL, an empty or broken quoted name, a name
 * over 256 bytes), NOT_FOUND (no such parameter, or every slot of a simple
 * statement already named otherwise; cqlmux_statement_error_message names
 * it), NOMEM. *index is untouched on failure. The statement's thread.
 */
CQLMUX_API int cqlmux_statement_name_index(cqlmux_statement *s, const char *name,
                                           size_t *index);

CQLMUX_API int cqlmux_statement_bind_null(cqlmux_statement *s, size_t index);
/* Leaves the column unchanged on the server (protocol v4+ "not set"). */
CQLMUX_API int cqlmux_statement_bind_unset(cqlmux_statement *s, size_t index);
CQLMUX_API int cqlmux_statement_bind_bool(cqlmux_statement *s, size_t index, int value);
CQLMUX_API int cqlmux_statement_bind_int8(cqlmux_statement *s, size_t index, int8_t value);
CQLMUX_API int cqlmux_statement_bind_int16(cqlmux_statement *s, size_t index, int16_t value);
CQLMUX_API int cqlmux_statement_bind_int32(cqlmux_statement *s, size_t index, int32_t value);
/* bigint, counter, timestamp (ms since epoch), time (ns since midnight). */
CQLMUX_API int cqlmux_statement_bind_int64(cqlmux_statement *s, size_t index, int64_t value);
CQLMUX_API int cqlmux_statement_bind_float(cqlmux_statement *s, size_t index, float value);
CQLMUX_API int cqlmux_statement_bind_double(cqlmux_statement *s, size_t index, double value);
/* text, varchar, ascii: UTF-8 bytes, not NUL-terminated necessarily;
 * invalid UTF-8 is INVALID_ARGUMENT (see also cqlmux_statement_bind_ascii). */
CQLMUX_API int cqlmux_statement_bind_text(cqlmux_statement *s, size_t index, const char *text,
                                          size_t length);
CQLMUX_API int cqlmux_statement_bind_blob(cqlmux_statement *s, size_t index, const void *data,
                                          size_t length);
/* uuid, timeuuid: 16 bytes in network order. */
CQLMUX_API int cqlmux_statement_bind_uuid(cqlmux_statement *s, size_t index,
                                          const uint8_t uuid[16]);
/* Any type, already serialized in the CQL binary format (collections,
 * UDTs, tuples, vectors, decimal ...): the bytes are sent as they are. */
CQLMUX_API int cqlmux_statement_bind_serialized(cqlmux_statement *s, size_t index,
                                                const void *data, size_t length);

CQLMUX_API int cqlmux_statement_set_consistency(cqlmux_statement *s, cqlmux_consistency c);
CQLMUX_API int cqlmux_statement_set_serial_consistency(cqlmux_statement *s,
                                                       cqlmux_consistency c);
/* Rows per page (default 5000; 0 = no paging). */
CQLMUX_API int cqlmux_statement_set_page_size(cqlmux_statement *s, int32_t rows);
/* Continue from a previous result's paging state (copied). */
CQLMUX_API int cqlmux_statement_set_paging_state(cqlmux_statement *s, const void *state,
                                                 size_t length);
/* Client-side write timestamp in microseconds since the epoch. */
CQLMUX_API int cqlmux_statement_set_timestamp(cqlmux_statement *s, int64_t microseconds);
/* Overrides the session's request timeout for this statement (0 = session's). */
CQLMUX_API int cqlmux_statement_set_timeout(cqlmux_statement *s, unsigned ms);
/* Marks the statement safe to retry after a connection failure. */
CQLMUX_API int cqlmux_statement_set_idempotent(cqlmux_statement *s, int idempotent);
/* The routing key (copied): the serialized partition key the token-aware
 * load balancing hashes to find the replicas, for a statement whose key the
 * library cannot see (a simple statement, or a prepared one without the
 * whole partition key among its markers). A one-column key is the value's
 * bytes as the protocol encodes it (an int: 4 bytes big-endian); a
 * composite key is, for each column in key order, a 2-byte big-endian
 * length, the bytes, and a 0 byte. It overrides the key taken from a
 * prepared statement's bound values. The statement keeps the copy; NULL
 * with length 0 clears it. Errors: INVALID_ARGUMENT (s NULL, an empty key,
 * or NULL with a length), NOMEM (the old key is kept). */
CQLMUX_API int cqlmux_statement_set_routing_key(cqlmux_statement *s, const void *key,
                                                size_t length);
/* Protocol v5 per-request keyspace; protocol v4 cannot carry it, so there
 * the statement runs in the session's keyspace (qualify table names). The
 * name follows the rule of cqlmux_config_set_keyspace (INVALID_ARGUMENT
 * otherwise); NULL clears it. */
CQLMUX_API int cqlmux_statement_set_keyspace(cqlmux_statement *s, const char *keyspace);


/* ======================================================================== */
/* Batches                                                                  */
/* ======================================================================== */

/* How Cassandra applies a batch (protocol values). LOGGED writes the batch
 * log first, so every member applies or none does; UNLOGGED skips it;
 * COUNTER is for counter updates, which a LOGGED batch cannot hold. */
typedef enum cqlmux_batch_type {
  CQLMUX_BATCH_LOGGED = 0,
  CQLMUX_BATCH_UNLOGGED = 1,
  CQLMUX_BATCH_COUNTER = 2
} cqlmux_batch_type;

/*
 * A batch: statements, simple or prepared in any mix, each with its own
 * bound values, sent as one BATCH request. The batch's options (below)
 * apply to all of them; the members' own consistency, paging, timestamp,
 * timeout and keyspace are ignored. Members bound by name cannot go in a
 * batch (the protocol has no names there): executing such a batch fails
 * with INVALID_ARGUMENT.
 *
 * Ownership: the application's, used by one thread at a time, like a
 * statement; it allocates with the C library's allocator. The batch
 * borrows its members: each must stay alive until the batch is freed or
 * cleared, and is read (values as bound at that moment) when the batch is
 * executed, so members may be rebound between executions.
 *
 * Errors: INVALID_ARGUMENT (NULL, a value out of range), NOMEM; nothing
 * changes on failure.
 */
typedef struct cqlmux_batch cqlmux_batch;

/* A new, empty batch of that type, or NULL (NOMEM, or a type out of range).
 * Defaults: consistency ONE, no serial consistency, no client timestamp
 * (the coordinator's clock), the session's request timeout. */
CQLMUX_API cqlmux_batch *cqlmux_batch_new(cqlmux_batch_type type);
CQLMUX_API void cqlmux_batch_free(cqlmux_batch *batch);
/* Appends a member (borrowed, see above); at most 65535. */
CQLMUX_API int cqlmux_batch_add(cqlmux_batch *batch, const cqlmux_statement *statement);
/* Forgets every member, keeping the options and the memory. */
CQLMUX_API void cqlmux_batch_clear(cqlmux_batch *batch);
CQLMUX_API size_t cqlmux_batch_count(const cqlmux_batch *batch);
/* The options mean what the statement options of the same names do. */
CQLMUX_API int cqlmux_batch_set_consistency(cqlmux_batch *batch, cqlmux_consistency c);
CQLMUX_API int cqlmux_batch_set_serial_consistency(cqlmux_batch *batch, cqlmux_consistency c);
CQLMUX_API int cqlmux_batch_set_timestamp(cqlmux_batch *batch, int64_t microseconds);
CQLMUX_API int cqlmux_batch_set_timeout(cqlmux_batch *batch, unsigned ms);
CQLMUX_API int cqlmux_batch_set_idempotent(cqlmux_batch *batch, int idempotent);
CQLMUX_API int cqlmux_batch_set_keyspace(cqlmux_batch *batch, const char *keyspace);

/*
 * Submits the batch as one request; as cqlmux_session_execute (the batch
 * is encoded during the call, never blocks, NULL only when no future can
 * be allocated). The future completes with a VOID result (or ROWS for a
 * conditional batch: [applied] and the rows that failed the condition), or
 * with the server's error: for a member the server rejects (a bad value,
 * a missing table) that is the server's message, which names what it
 * could not take. A batch that cannot be encoded (no members, a member
 * bound by name, too large) fails its future with INVALID_ARGUMENT or
 * OVERSIZED at once. Encoding takes one allocation for the member table;
 * the single-statement path is unaffected.
 */
CQLMUX_API cqlmux_future *cqlmux_session_batch(cqlmux_session *session,
                                               const cqlmux_batch *batch);

/* ======================================================================== */
/* Results                                                                  */
/* ======================================================================== */

/* CQL types, with their protocol [option] ids; VECTOR is the custom type
 * org.apache.cassandra.db.marshal.VectorType, recognised by name. */
typedef enum cqlmux_type {
  CQLMUX_TYPE_CUSTOM = 0x0000,
  CQLMUX_TYPE_ASCII = 0x0001,
  CQLMUX_TYPE_BIGINT = 0x0002,
  CQLMUX_TYPE_BLOB = 0x0003,
  CQLMUX_TYPE_BOOLEAN = 0x0004,
  CQLMUX_TYPE_COUNTER = 0x0005,
  CQLMUX_TYPE_DECIMAL = 0x0006,
  CQLMUX_TYPE_DOUBLE = 0x0007,
  CQLMUX_TYPE_FLOAT = 0x0008,
  CQLMUX_TYPE_INT = 0x0009,
  CQLMUX_TYPE_TIMESTAMP = 0x000B,
  CQLMUX_TYPE_UUID = 0x000C,
  CQLMUX_TYPE_TEXT = 0x000D,
  CQLMUX_TYPE_VARINT = 0x000E,
  CQLMUX_TYPE_TIMEUUID = 0x000F,
  CQLMUX_TYPE_INET = 0x0010,
  CQLMUX_TYPE_DATE = 0x0011,
  CQLMUX_TYPE_TIME = 0x0012,
  CQLMUX_TYPE_SMALLINT = 0x0013,
  CQLMUX_TYPE_TINYINT = 0x0014,
  CQLMUX_TYPE_DURATION = 0x0015,
  CQLMUX_TYPE_LIST = 0x0020,
  CQLMUX_TYPE_MAP = 0x0021,
  CQLMUX_TYPE_SET = 0x0022,
  CQLMUX_TYPE_UDT = 0x0030,
  CQLMUX_TYPE_TUPLE = 0x0031,
  CQLMUX_TYPE_VECTOR = 0x0100
} cqlmux_type;

typedef enum cqlmux_result_kind {
  CQLMUX_RESULT_VOID = 0x0001,
  CQLMUX_RESULT_ROWS = 0x0002,
  CQLMUX_RESULT_SET_KEYSPACE = 0x0003,
  CQLMUX_RESULT_PREPARED = 0x0004,
  CQLMUX_RESULT_SCHEMA_CHANGE = 0x0005
} cqlmux_result_kind;

/*
 * The result of a successful request, owned by its future: valid until
 * cqlmux_future_free, and every pointer a getter returns (names, text,
 * bytes) points into the received bytes with that same lifetime; nothing is
 * copied. NULL when the future failed or has not completed.
 */
CQLMUX_API const cqlmux_result *cqlmux_future_result(const cqlmux_future *future);

/* The result's kind (a cqlmux_result_kind), or CQLMUX_ERR_INVALID_ARGUMENT
 * for NULL: no result is not a VOID one. */
CQLMUX_API int cqlmux_result_kind_of(const cqlmux_result *result);
CQLMUX_API size_t cqlmux_result_row_count(const cqlmux_result *result);
CQLMUX_API size_t cqlmux_result_column_count(const cqlmux_result *result);
/* Column name (not NUL-terminated; *length set) or NULL if out of range. */
CQLMUX_API const char *cqlmux_result_column_name(const cqlmux_result *result, size_t column,
                                                 size_t *length);
CQLMUX_API cqlmux_type cqlmux_result_column_type(const cqlmux_result *result, size_t column);
/* Index of the column called name, or CQLMUX_ERR_NOT_FOUND. */
CQLMUX_API int cqlmux_result_column_index(const cqlmux_result *result, const char *name);

/*
 * Cell getters. Each returns CQLMUX_OK, NOT_FOUND (row or column out of
 * range), TYPE_MISMATCH (the column's type is not one the getter reads),
 * MALFORMED (the cell's bytes do not fit its type), NULL_VALUE when the
 * cell is null (test with cqlmux_result_is_null), or EMPTY_VALUE when it
 * holds zero bytes, which Cassandra allows for most types and which is not
 * null. Out-parameters are untouched on failure.
 */
CQLMUX_API int cqlmux_result_is_null(const cqlmux_result *result, size_t row, size_t column);
CQLMUX_API int cqlmux_result_get_bool(const cqlmux_result *r, size_t row, size_t col, int *out);
CQLMUX_API int cqlmux_result_get_int8(const cqlmux_result *r, size_t row, size_t col,
                                      int8_t *out);
CQLMUX_API int cqlmux_result_get_int16(const cqlmux_result *r, size_t row, size_t col,
                                       int16_t *out);
/* int, and date as its raw unsigned day number. */
CQLMUX_API int cqlmux_result_get_int32(const cqlmux_result *r, size_t row, size_t col,
                                       int32_t *out);
/* bigint, counter, timestamp, time. */
CQLMUX_API int cqlmux_result_get_int64(const cqlmux_result *r, size_t row, size_t col,
                                       int64_t *out);
CQLMUX_API int cqlmux_result_get_float(const cqlmux_result *r, size_t row, size_t col,
                                       float *out);
CQLMUX_API int cqlmux_result_get_double(const cqlmux_result *r, size_t row, size_t col,
                                        double *out);
/* text, varchar, ascii: borrowed, not NUL-terminated. */
CQLMUX_API int cqlmux_result_get_text(const cqlmux_result *r, size_t row, size_t col,
                                      const char **text, size_t *length);
CQLMUX_API int cqlmux_result_get_uuid(const cqlmux_result *r, size_t row, size_t col,
                                      uint8_t out[16]);
/* Any column: the cell's serialized bytes (borrowed); *length is -1 for null. */
CQLMUX_API int cqlmux_result_get_serialized(const cqlmux_result *r, size_t row, size_t col,
                                            const uint8_t **data, int32_t *length);

/* Paging: non-zero when more rows follow; the state to pass to
 * cqlmux_statement_set_paging_state (borrowed). */
CQLMUX_API int cqlmux_result_has_more_pages(const cqlmux_result *result);
CQLMUX_API int cqlmux_result_paging_state(const cqlmux_result *result, const uint8_t **state,
                                          size_t *length);

/*
 * Paging helpers. Given the statement that produced `result`, makes it ask
 * for the next page: the result's paging state is copied into the
 * statement, whose values and options stay as they are, so executing it
 * again returns the rows after these. The result may be freed afterwards.
 *
 *   cqlmux_future *f = cqlmux_session_execute(session, st);
 *   while (cqlmux_future_wait(f) == CQLMUX_OK) {
 *     const cqlmux_result *r = cqlmux_future_result(f);
 *     ... read rows ...
 *     int more = cqlmux_statement_set_next_page(st, r) == CQLMUX_OK;
 *     cqlmux_future_free(f);
 *     if (!more) break;
 *     f = cqlmux_session_execute(session, st);
 *   }
 *
 * Returns CQLMUX_OK; NOT_FOUND when the result is the last page (the
 * statement is unchanged); INVALID_ARGUMENT (NULL); NOMEM. The
 * statement's thread; the result may be read by others meanwhile.
 */
CQLMUX_API int cqlmux_statement_set_next_page(cqlmux_statement *statement,
                                              const cqlmux_result *result);
/* The same, then cqlmux_session_execute: the future of the next page, or
 * NULL when there is none (or no memory, or a NULL argument). */
CQLMUX_API cqlmux_future *cqlmux_session_execute_next_page(cqlmux_session *session,
                                                           cqlmux_statement *statement,
                                                           const cqlmux_result *result);

/* Walks the rows of a result by index, for use with the getters above.
 * The struct is the caller's (no allocation); its fields are private.
 *
 *   cqlmux_row_iterator it;
 *   size_t row;
 *   cqlmux_result_rows(result, &it);
 *   while (cqlmux_row_iterator_next(&it, &row)) ... cqlmux_result_get_int32(result, row, 0, &v);
 *
 * A result without rows walks none. Any thread that may read the result. */
typedef struct cqlmux_row_iterator {
  const cqlmux_result *private_result;
  size_t private_next;
} cqlmux_row_iterator;
/* Starts a walk. Returns CQLMUX_OK or INVALID_ARGUMENT (NULL iterator). */
CQLMUX_API int cqlmux_result_rows(const cqlmux_result *result, cqlmux_row_iterator *it);
/* 1 with the next row's index in *row, 0 after the last (or for NULL). */
CQLMUX_API int cqlmux_row_iterator_next(cqlmux_row_iterator *it, size_t *row);

/* Prepared statements: the future of cqlmux_session_prepare hands over its
 * prepared statement once (NULL after, or on failure); free it after every
 * statement using it. */
CQLMUX_API cqlmux_prepared *cqlmux_future_take_prepared(cqlmux_future *future);
CQLMUX_API void cqlmux_prepared_free(cqlmux_prepared *prepared);
CQLMUX_API size_t cqlmux_prepared_parameter_count(const cqlmux_prepared *prepared);

/* Details of a CQLMUX_ERR_SERVER failure: the CQL error code and the fields
 * its body carries (zero where that code has none). Strings are borrowed
 * from the future. For UNAVAILABLE (0x1000) the server sends `required`
 * and `alive`; block_for then repeats `required`, the replicas the
 * consistency level needed, so code reading block_for for every
 * "not enough replicas" error sees the same number. */
typedef struct cqlmux_server_error {
  int32_t code;                  /* e.g. 0x1100 write timeout, 0x2200 invalid */
  cqlmux_consistency consistency;
  int32_t received;
  int32_t block_for;
  int32_t alive;                 /* unavailable: replicas known alive */
  int32_t required;              /* unavailable: replicas the consistency needs */
  int32_t failures;              /* read/write failure */
  int data_present;              /* read timeout / failure */
  const char *write_type;        /* write timeout / failure (NUL-terminated) */
  const char *keyspace;          /* already exists, function failure */
  const char *table;             /* already exists */
  const uint8_t *unprepared_id;  /* unprepared */
  size_t unprepared_id_length;
} cqlmux_server_error;

/* OK and *out filled when the future failed with CQLMUX_ERR_SERVER;
 * INVALID_STATE otherwise. */
CQLMUX_API int cqlmux_future_server_error(const cqlmux_future *future,
                                          cqlmux_server_error *out);

/* ======================================================================== */
/* Warnings, custom payloads and tracing                                     */
/* ======================================================================== */

/*
 * What a server may put in front of an answer: warnings (a batch over
 * batch_size_warn_threshold, a query reading many tombstones, an aggregate
 * over partitions ...), a custom payload (a server-side query handler's
 * map of name to bytes) and, for a request sent with tracing on, the id of
 * its trace. Success answers and CQL errors (CQLMUX_ERR_SERVER) may both
 * carry them; a future completed without an answer (timeout, connection
 * loss, refusal at submission) has none.
 *
 * Each warning is also logged at CQLMUX_LOG_WARN, with the address
 * ("ip:port") of the host that sent it: "server warning from
 * 127.0.0.1:9042: <the server's text>". The line holds the server's text
 * and nothing of the statement's bound values.
 *
 * Ownership and threads: the strings and bytes are borrowed from the
 * future, valid until cqlmux_future_free; any thread may read them once
 * the future has completed. An answer without any of them costs nothing:
 * the request path copies these parts only when the server sent them.
 */

/* Warnings on the future's answer: how many (0 for a pending future, NULL,
 * an answer without warnings, or a future that got no answer). */
CQLMUX_API size_t cqlmux_future_warning_count(const cqlmux_future *future);
/* The index-th warning (0-based), in the server's order: *text (not
 * NUL-terminated) and *length. Errors: NOT_READY (pending),
 * INVALID_ARGUMENT (NULL, index >= the count); the out-parameters are
 * untouched on failure. */
CQLMUX_API int cqlmux_future_warning(const cqlmux_future *future, size_t index,
                                     const char **text, size_t *length);

/* Entries of the custom payload the server sent back (0 when none). */
CQLMUX_API size_t cqlmux_future_custom_payload_count(const cqlmux_future *future);
/* The index-th entry: its name (*name, *name_length, not NUL-terminated)
 * and value (*value, *value_length; a null value has length -1 and value
 * NULL). Any out-parameter may be NULL. Errors as cqlmux_future_warning. */
CQLMUX_API int cqlmux_future_custom_payload_entry(const cqlmux_future *future, size_t index,
                                                  const char **name, size_t *name_length,
                                                  const uint8_t **value, int32_t *value_length);

/* The tracing id (a time UUID) of the future's answer into out. Errors:
 * NOT_READY (pending), INVALID_ARGUMENT (NULL), NOT_FOUND (no tracing id:
 * the request was sent without tracing, got no answer, or the server did
 * not trace it). */
CQLMUX_API int cqlmux_future_tracing_id(const cqlmux_future *future, uint8_t out[16]);

/* Most entries a statement's or batch's custom payload may hold. */
#define CQLMUX_CUSTOM_PAYLOAD_MAX_ENTRIES 64

/* Asks the server to trace the statement's executions (the request's
 * TRACING flag): each answer then carries a tracing id
 * (cqlmux_future_tracing_id), whose trace cqlmux_session_trace reads.
 * on = 0 turns it off again (the default). Tracing costs the server a
 * write per traced step: meant for diagnosing single requests, not for
 * every one. Errors: INVALID_ARGUMENT (NULL). */
CQLMUX_API int cqlmux_statement_set_tracing(cqlmux_statement *s, int on);
/* Adds an entry to the custom payload sent with the statement (the
 * CUSTOM_PAYLOAD flag, for a server-side query handler; Cassandra's
 * default handler ignores it). name is NUL-terminated, 1 to 65535 bytes;
 * value is `length` bytes (NULL only with length 0); both are copied. A
 * name added again gets the new value. Errors: INVALID_ARGUMENT (NULL s,
 * a name or value out of range), BUFFER_TOO_SMALL (already
 * CQLMUX_CUSTOM_PAYLOAD_MAX_ENTRIES names), NOMEM; nothing changes on
 * failure, and cqlmux_statement_error_message says why. */
CQLMUX_API int cqlmux_statement_add_custom_payload(cqlmux_statement *s, const char *name,
                                                   const void *value, size_t length);
/* The same for a batch: the batch's own flag and payload (its members'
 * are not used). Errors as for statements. */
CQLMUX_API int cqlmux_batch_set_tracing(cqlmux_batch *batch, int on);
CQLMUX_API int cqlmux_batch_add_custom_payload(cqlmux_batch *batch, const char *name,
                                               const void *value, size_t length);

/*
 * Reads the trace of a traced request: the row of system_traces.sessions
 * whose session_id is tracing_id, and its rows of system_traces.events.
 * Cassandra writes a trace asynchronously, after it has answered the
 * request, and sets the session row's `duration` last; so this reads the
 * session row, at consistency ONE, until it has a duration, reading again
 * every 10 ms (the session's own I/O timers; no thread sleeps or blocks),
 * for at most max_wait_ms (0: 2000). Then it reads the events, also at
 * consistency ONE, and completes the future.
 *
 * The future completes with CQLMUX_OK once the session row exists (its
 * duration null when it was still incomplete after max_wait_ms); with
 * CQLMUX_ERR_TIMEOUT when no session row appeared in max_wait_ms; or with
 * the error of a read (server error, timeout, shutdown...). It is not a
 * request's future: cqlmux_future_result returns NULL for it; the rows are
 * read with cqlmux_future_trace_session and cqlmux_future_trace_events.
 *
 * Any thread, never blocks; the callback runs as for any future. NULL for
 * a NULL session or id, or when no memory is left.
 */
CQLMUX_API cqlmux_future *cqlmux_session_trace(cqlmux_session *session,
                                               const uint8_t tracing_id[16],
                                               unsigned max_wait_ms);
/* The trace's session row: a ROWS result of system_traces.sessions with
 * one row (columns as the table has them: session_id, client,
 * command, coordinator, coordinator_port, duration (int, microseconds),
 * parameters (map<text,text>), request, started_at ...), read with the
 * usual result getters (by name: cqlmux_result_column_index). NULL unless
 * the future is a trace future completed with CQLMUX_OK. Owned by the
 * future. */
CQLMUX_API const cqlmux_result *cqlmux_future_trace_session(const cqlmux_future *future);
/* The trace's events: a ROWS result of system_traces.events for the id, in
 * event order (columns session_id, event_id (timeuuid), activity, source,
 * source_elapsed (int, microseconds), source_port, thread); every event,
 * in one result (the events of one trace are few). NULL as above. */
CQLMUX_API const cqlmux_result *cqlmux_future_trace_events(const cqlmux_future *future);

/* ======================================================================== */
/* Values                                                                    */
/* ======================================================================== */

/*
 * Every CQL type, both ways.
 *
 * Reading is zero-copy: a cqlmux_value points into the received bytes, and
 * its type descriptor into the result's decoded metadata; both stay valid
 * until the future that owns the result is freed, and reading them never
 * allocates. A result is read-only once its future completed, so any
 * thread may read values concurrently.
 *
 * Writing: scalar types bind directly on a statement; composite values
 * (list, set, map, tuple, user-defined type, vector, nested to any depth)
 * are assembled in a cqlmux_builder and bound from it.
 *
 * CQL type          bind / builder add             read
 * ascii             bind_ascii                     as_text
 * text, varchar     bind_text                      as_text
 * blob              bind_blob                      as_blob
 * boolean           bind_bool                      as_bool
 * tinyint           bind_int8                      as_int8
 * smallint          bind_int16                     as_int16
 * int               bind_int32                     as_int32
 * bigint, counter   bind_int64                     as_int64
 * timestamp         bind_int64 (ms since epoch)    as_timestamp, as_int64
 * time              bind_time (ns since midnight)  as_time, as_int64
 * date              bind_date                      as_date
 * float, double     bind_float, bind_double        as_float, as_double
 * uuid, timeuuid    bind_uuid                      as_uuid
 * inet              bind_inet                      as_inet
 * duration          bind_duration                  as_duration
 * varint            bind_varint, _varint_bytes     as_varint, _varint_bytes, _varint_string
 * decimal           bind_decimal, _decimal_int64   as_decimal, as_decimal_string
 * composites        bind_builder                   cqlmux_value_iterate
 * any               bind_serialized                cqlmux_value.data / length
 *
 * Timestamps, dates and times convert to and from time_t and struct tm with
 * cqlmux_timestamp_*, cqlmux_date_* and cqlmux_time_*; UUIDs come from
 * cqlmux_uuid_v4 and cqlmux_session_uuid_v1 (timeuuid) and go to and from
 * text with cqlmux_uuid_format / cqlmux_uuid_parse (see the end of this
 * header).
 */

/* ---- type descriptors ---------------------------------------------------- */

/*
 * A column's CQL type as a tree: composite types have children (list and
 * set: the element; map: key then value; tuple and UDT: the fields in
 * order; vector: the element). Borrowed from a result: valid until its
 * future is freed. Functions given NULL return 0, NULL or
 * CQLMUX_TYPE_CUSTOM.
 */
typedef struct cqlmux_data_type cqlmux_data_type;

/* The type of a result column, or NULL when the column is out of range or
 * the result has no rows metadata. */
CQLMUX_API const cqlmux_data_type *cqlmux_result_column_data_type(const cqlmux_result *result,
                                                                  size_t column);
/* Which type it is. Vectors are CQLMUX_TYPE_VECTOR; a custom type this
 * library does not know is CQLMUX_TYPE_CUSTOM (see _custom_class). */
CQLMUX_API cqlmux_type cqlmux_data_type_kind(const cqlmux_data_type *type);
/* Children: 1 for list, set and vector, 2 for map, the field count for
 * tuple and UDT, 0 for everything else. */
CQLMUX_API size_t cqlmux_data_type_child_count(const cqlmux_data_type *type);
/* Child i (see above), or NULL when i is out of range. */
CQLMUX_API const cqlmux_data_type *cqlmux_data_type_child(const cqlmux_data_type *type,
                                                          size_t i);
/* UDT field i's name (not NUL-terminated; *length set), or NULL when type
 * is not a UDT or i is out of range. */
CQLMUX_API const char *cqlmux_data_type_field_name(const cqlmux_data_type *type, size_t i,
                                                   size_t *length);
/* A UDT's keyspace and type name (not NUL-terminated; *length set), or NULL
 * when type is not a UDT. */
CQLMUX_API const char *cqlmux_data_type_keyspace(const cqlmux_data_type *type, size_t *length);
CQLMUX_API const char *cqlmux_data_type_name(const cqlmux_data_type *type, size_t *length);
/* 1 when the UDT's names (type and fields) are hex-encoded UTF-8, as
 * Cassandra spells a UDT nested inside a vector type (it travels as a Java
 * class string there); 0 otherwise. */
CQLMUX_API int cqlmux_data_type_names_are_hex(const cqlmux_data_type *type);
/* A vector's dimension (number of elements); 0 for other types. */
CQLMUX_API uint32_t cqlmux_data_type_dimension(const cqlmux_data_type *type);
/* The Java class name of a CQLMUX_TYPE_CUSTOM type (not NUL-terminated;
 * *length set), or NULL for other types. */
CQLMUX_API const char *cqlmux_data_type_custom_class(const cqlmux_data_type *type,
                                                     size_t *length);
/* 1 when the server marked the type frozen (in a class string), else 0. */
CQLMUX_API int cqlmux_data_type_is_frozen(const cqlmux_data_type *type);

/* ---- reading values ------------------------------------------------------ */

/*
 * One value: a result cell or an element of a composite value. All fields
 * are borrowed from the result (valid until its future is freed); the
 * struct itself is the caller's and may be copied freely.
 */
typedef struct cqlmux_value {
  const cqlmux_data_type *type; /* its CQL type */
  const uint8_t *data;          /* the serialized bytes; NULL when null */
  int32_t length;               /* bytes; -1 for null; 0 for empty, which is not null */
} cqlmux_value;

/* The cell at (row, column). Null cells succeed too (length -1). Returns
 * CQLMUX_OK, INVALID_ARGUMENT (NULL out) or NOT_FOUND (row or column out of
 * range, or not a rows result); *out is untouched on failure. */
CQLMUX_API int cqlmux_result_get_value(const cqlmux_result *result, size_t row, size_t column,
                                       cqlmux_value *out);

/* 1 when the value is null, else 0. */
CQLMUX_API int cqlmux_value_is_null(const cqlmux_value *value);

/*
 * Typed readers. Each checks the value's type, then its exact serialized
 * length, and returns:
 *   CQLMUX_OK                    out-parameters set
 *   CQLMUX_ERR_TYPE_MISMATCH     the value's type is not one the reader takes
 *   CQLMUX_ERR_NULL_VALUE        the value is null
 *   CQLMUX_ERR_EMPTY_VALUE       it holds zero bytes (Cassandra allows that for
 *                                most types; text and blob read as "" instead)
 *   CQLMUX_ERR_MALFORMED         wrong length or invalid content
 *   CQLMUX_ERR_INVALID_ARGUMENT  a NULL pointer argument
 * Out-parameters are untouched on failure. Pointers returned are borrowed
 * from the result. None allocates.
 */
CQLMUX_API int cqlmux_value_as_bool(const cqlmux_value *v, int *out);    /* boolean: 0 or 1 */
CQLMUX_API int cqlmux_value_as_int8(const cqlmux_value *v, int8_t *out); /* tinyint */
CQLMUX_API int cqlmux_value_as_int16(const cqlmux_value *v, int16_t *out); /* smallint */
CQLMUX_API int cqlmux_value_as_int32(const cqlmux_value *v, int32_t *out); /* int */
/* bigint, counter, timestamp, time */
CQLMUX_API int cqlmux_value_as_int64(const cqlmux_value *v, int64_t *out);
CQLMUX_API int cqlmux_value_as_float(const cqlmux_value *v, float *out);
CQLMUX_API int cqlmux_value_as_double(const cqlmux_value *v, double *out);
/* text and ascii, checked (UTF-8; ascii: every byte < 128; else MALFORMED).
 * Not NUL-terminated; an empty value reads as length 0. */
CQLMUX_API int cqlmux_value_as_text(const cqlmux_value *v, const char **text, size_t *length);
/* blob (and custom types): the bytes as they are; empty reads as length 0. */
CQLMUX_API int cqlmux_value_as_blob(const cqlmux_value *v, const uint8_t **data,
                                    size_t *length);
/* uuid and timeuuid (which must be a version 1 UUID), in network order. */
CQLMUX_API int cqlmux_value_as_uuid(const cqlmux_value *v, uint8_t out[16]);
/* inet: 4 (IPv4) or 16 (IPv6) address bytes in network order into
 * address[0..*length). */
CQLMUX_API int cqlmux_value_as_inet(const cqlmux_value *v, uint8_t address[16], size_t *length);
/* date: days with the Unix epoch at 2^31 (1970-01-01 is 2147483648), as
 * CQL stores them; subtract 2147483648 for signed days since the epoch. */
CQLMUX_API int cqlmux_value_as_date(const cqlmux_value *v, uint32_t *out);
/* time: nanoseconds since midnight, 0 to 86399999999999 (else MALFORMED). */
CQLMUX_API int cqlmux_value_as_time(const cqlmux_value *v, int64_t *out);
/* timestamp: milliseconds since the Unix epoch. */
CQLMUX_API int cqlmux_value_as_timestamp(const cqlmux_value *v, int64_t *out);
/* duration: the three components, which share one sign. */
CQLMUX_API int cqlmux_value_as_duration(const cqlmux_value *v, int32_t *months, int32_t *days,
                                        int64_t *nanoseconds);
/* varint as an int64; CQLMUX_ERR_OVERSIZED when the number does not fit. */
CQLMUX_API int cqlmux_value_as_varint(const cqlmux_value *v, int64_t *out);
/* varint as its two's complement big-endian bytes (borrowed, at least 1). */
CQLMUX_API int cqlmux_value_as_varint_bytes(const cqlmux_value *v, const uint8_t **data,
                                            size_t *length);
/* decimal: the number is unscaled * 10^-scale, unscaled given as two's
 * complement big-endian bytes (borrowed, at least 1). */
CQLMUX_API int cqlmux_value_as_decimal(const cqlmux_value *v, const uint8_t **unscaled,
                                       size_t *length, int32_t *scale);
/* decimal as text, the way cqlsh and Java's BigDecimal.toString show it
 * ("12345.6789", "-4.2E+4"), NUL-terminated into buffer[0..capacity);
 * *length gets the text's length without the NUL. When capacity is too
 * small: CQLMUX_ERR_BUFFER_TOO_SMALL, and *length gets a capacity that is
 * enough (buffer untouched). 64 bytes hold any decimal with up to 40
 * digits. */
CQLMUX_API int cqlmux_value_as_decimal_string(const cqlmux_value *v, char *buffer,
                                              size_t capacity, size_t *length);
/* varint as its exact decimal text ("-170141183460469231731687303715884105728"),
 * whatever its size, NUL-terminated into buffer[0..capacity); *length gets
 * the text's length without the NUL. Too small a capacity is
 * CQLMUX_ERR_BUFFER_TOO_SMALL with *length set to a capacity that is enough
 * (buffer untouched). 64 bytes hold any varint of up to 40 digits. */
CQLMUX_API int cqlmux_value_as_varint_string(const cqlmux_value *v, char *buffer,
                                             size_t capacity, size_t *length);

/* ---- composite values ---------------------------------------------------- */

/*
 * Walks the elements of a list, set, map, tuple, UDT or vector value,
 * zero-copy:
 *
 *   cqlmux_iterator it;
 *   cqlmux_value elem;
 *   if (cqlmux_value_iterate(&v, &it) == CQLMUX_OK)
 *     while (cqlmux_iterator_next(&it, &elem) == 1) ...;
 *
 * Each element comes typed (elem.type is the child type), may itself be
 * iterated, and may be null inside collections, tuples and UDTs (never in
 * vectors). A map yields key, value, key, value ... (or use
 * cqlmux_iterator_next_pair). Cassandra may omit a tuple's or UDT's
 * trailing null fields: the walk then ends early, and the missing fields
 * are null. The struct is the caller's (no allocation, no cleanup); its
 * fields are private.
 */
typedef struct cqlmux_iterator {
  const uint8_t *private_pos;
  const uint8_t *private_end;
  const cqlmux_data_type *private_type;
  uint32_t private_count;
  uint32_t private_index;
} cqlmux_iterator;

/* Starts a walk over v. An empty collection, tuple or UDT value walks zero
 * elements. Errors: INVALID_ARGUMENT (NULL), TYPE_MISMATCH (not a
 * composite type), NULL_VALUE, EMPTY_VALUE (an empty vector), TRUNCATED
 * (a collection count larger than the bytes could hold); *it is untouched
 * on failure. */
CQLMUX_API int cqlmux_value_iterate(const cqlmux_value *v, cqlmux_iterator *it);
/* Returns 1 with the next element in *elem, 0 at the end, or a negative
 * error: TRUNCATED (an element runs past the value), MALFORMED (bytes left
 * after the last element, a negative length), INVALID_ARGUMENT. */
CQLMUX_API int cqlmux_iterator_next(cqlmux_iterator *it, cqlmux_value *elem);
/* Maps: returns 1 with the next entry's key and value, 0 at the end, a
 * negative error as above, or TYPE_MISMATCH when the iterator walks
 * something other than a map. */
CQLMUX_API int cqlmux_iterator_next_pair(cqlmux_iterator *it, cqlmux_value *key,
                                         cqlmux_value *value);
/* Elements the value holds: list/set/vector elements, map entries, or the
 * fields of the tuple or UDT type. */
CQLMUX_API size_t cqlmux_iterator_size(const cqlmux_iterator *it);
/* Elements returned so far (for a map, keys and values each count). For a
 * tuple or UDT, the field index of the last element returned plus one. */
CQLMUX_API size_t cqlmux_iterator_index(const cqlmux_iterator *it);

/* A UDT value's field called name (NUL-terminated, exact match). A field
 * the value omits (trailing nulls) reads as null. Errors: INVALID_ARGUMENT,
 * TYPE_MISMATCH (not a UDT), NULL_VALUE, NOT_FOUND (no such field), and the
 * iterator's errors; *out is untouched on failure. */
CQLMUX_API int cqlmux_value_field(const cqlmux_value *udt, const char *name, cqlmux_value *out);

/* ---- building values ----------------------------------------------------- */

/*
 * A builder assembles one value in the CQL binary format, composites
 * included: begin a composite, add its elements in order (composites nest
 * to a depth of 64), end it. A map takes key, value, key, value ...; a
 * tuple or UDT its fields in declaration order (fewer fields than the type
 * has are allowed: the rest are null). Binding the result copies it, so a
 * builder can be reset and reused; reuse keeps its memory.
 *
 *   cqlmux_builder *b = cqlmux_builder_new();
 *   cqlmux_builder_begin_collection(b, CQLMUX_TYPE_MAP);      map<text, int>
 *   cqlmux_builder_add_text(b, "a", 1);
 *   cqlmux_builder_add_int32(b, 1);
 *   cqlmux_builder_end(b);
 *   cqlmux_statement_bind_builder(statement, 0, b);
 *
 * A builder is the application's, used by one thread at a time, and
 * allocates with the C library's allocator.
 *
 * Errors. Every function returns CQLMUX_OK or a negative code.
 * INVALID_ARGUMENT (a NULL builder or pointer, a value its type rejects,
 * an element a vector cannot hold) and INVALID_STATE (adding after the
 * value is complete, ending with nothing open, an odd number of map
 * elements, an empty vector) change nothing: the builder is as before the
 * call. NOMEM and OVERSIZED (a value over 2^31-1 bytes, nesting deeper than
 * 64) stick: every later call returns the same code until
 * cqlmux_builder_reset.
 */
typedef struct cqlmux_builder cqlmux_builder;

/* A new, empty builder, or NULL when out of memory. Free it with
 * cqlmux_builder_free (accepts NULL). */
CQLMUX_API cqlmux_builder *cqlmux_builder_new(void);
CQLMUX_API void cqlmux_builder_free(cqlmux_builder *builder);
/* Empties the builder (and clears a sticky error), keeping its memory. */
CQLMUX_API void cqlmux_builder_reset(cqlmux_builder *builder);

/* Composites. kind is CQLMUX_TYPE_LIST, _SET or _MAP (else
 * INVALID_ARGUMENT). */
CQLMUX_API int cqlmux_builder_begin_collection(cqlmux_builder *builder, cqlmux_type kind);
CQLMUX_API int cqlmux_builder_begin_tuple(cqlmux_builder *builder);
CQLMUX_API int cqlmux_builder_begin_udt(cqlmux_builder *builder);
/*
 * A vector. fixed_element_size says how Cassandra lays out its elements:
 * the serialized size of every element when the element type has a fixed
 * size in Cassandra's sense (boolean 1, int and float 4, bigint, double and
 * timestamp 8, uuid and timeuuid 16, and a vector of those: size times
 * dimension), whose elements then go bare; 0 for every other element type
 * (tinyint, smallint, date, time and counter included), whose elements are
 * each prefixed with their length as Cassandra 5.0 does. Adding an element
 * of a different size to a fixed-size vector is INVALID_ARGUMENT, and so is
 * a null element; a nested composite of the wrong size is dropped at its
 * cqlmux_builder_end, which returns INVALID_ARGUMENT.
 */
CQLMUX_API int cqlmux_builder_begin_vector(cqlmux_builder *builder, size_t fixed_element_size);
/* Closes the innermost open composite. */
CQLMUX_API int cqlmux_builder_end(cqlmux_builder *builder);

/* Elements (or the whole value, when nothing is open). The arguments mean
 * what those of the matching cqlmux_statement_bind_* do; text and ascii
 * are checked the same way. */
CQLMUX_API int cqlmux_builder_add_null(cqlmux_builder *builder);
CQLMUX_API int cqlmux_builder_add_bool(cqlmux_builder *builder, int value);
CQLMUX_API int cqlmux_builder_add_int8(cqlmux_builder *builder, int8_t value);
CQLMUX_API int cqlmux_builder_add_int16(cqlmux_builder *builder, int16_t value);
CQLMUX_API int cqlmux_builder_add_int32(cqlmux_builder *builder, int32_t value);
CQLMUX_API int cqlmux_builder_add_int64(cqlmux_builder *builder, int64_t value);
CQLMUX_API int cqlmux_builder_add_float(cqlmux_builder *builder, float value);
CQLMUX_API int cqlmux_builder_add_double(cqlmux_builder *builder, double value);
CQLMUX_API int cqlmux_builder_add_text(cqlmux_builder *builder, const char *text,
                                       size_t length);
CQLMUX_API int cqlmux_builder_add_ascii(cqlmux_builder *builder, const char *text,
                                        size_t length);
CQLMUX_API int cqlmux_builder_add_blob(cqlmux_builder *builder, const void *data,
                                       size_t length);
CQLMUX_API int cqlmux_builder_add_uuid(cqlmux_builder *builder, const uint8_t uuid[16]);
CQLMUX_API int cqlmux_builder_add_inet(cqlmux_builder *builder, const uint8_t *address,
                                       size_t length);
CQLMUX_API int cqlmux_builder_add_date(cqlmux_builder *builder, uint32_t days);
CQLMUX_API int cqlmux_builder_add_time(cqlmux_builder *builder, int64_t nanoseconds);
CQLMUX_API int cqlmux_builder_add_duration(cqlmux_builder *builder, int32_t months,
                                           int32_t days, int64_t nanoseconds);
CQLMUX_API int cqlmux_builder_add_varint(cqlmux_builder *builder, int64_t value);
CQLMUX_API int cqlmux_builder_add_varint_bytes(cqlmux_builder *builder, const uint8_t *data,
                                               size_t length);
CQLMUX_API int cqlmux_builder_add_decimal(cqlmux_builder *builder, const uint8_t *unscaled,
                                          size_t length, int32_t scale);
CQLMUX_API int cqlmux_builder_add_decimal_int64(cqlmux_builder *builder, int64_t unscaled,
                                                int32_t scale);
/* A value already in the CQL binary format, taken as it is (an empty value
 * when length is 0). */
CQLMUX_API int cqlmux_builder_add_serialized(cqlmux_builder *builder, const void *data,
                                             size_t length);

/* The finished value's bytes (borrowed from the builder: valid until its
 * next change, reset or free); *length is -1 for a null value. Errors:
 * INVALID_ARGUMENT, INVALID_STATE (nothing added, or a composite still
 * open), or the sticky error. */
CQLMUX_API int cqlmux_builder_serialized(const cqlmux_builder *builder, const uint8_t **data,
                                         int32_t *length);

/* ---- binding values ------------------------------------------------------ */

/* More scalar binds, beside those of the Statements section. Each copies
 * the value into the statement. Errors: INVALID_ARGUMENT (index out of
 * range, a NULL pointer, or a value the type cannot hold, as noted), NOMEM;
 * the slot is unchanged on failure. */
/* ascii: every byte must be < 128. */
CQLMUX_API int cqlmux_statement_bind_ascii(cqlmux_statement *s, size_t index, const char *text,
                                           size_t length);
/* inet: 4 (IPv4) or 16 (IPv6) address bytes in network order. */
CQLMUX_API int cqlmux_statement_bind_inet(cqlmux_statement *s, size_t index,
                                          const uint8_t *address, size_t length);
/* date: days with the epoch at 2^31 (2147483648 is 1970-01-01). */
CQLMUX_API int cqlmux_statement_bind_date(cqlmux_statement *s, size_t index, uint32_t days);
/* time: nanoseconds since midnight, 0 to 86399999999999. */
CQLMUX_API int cqlmux_statement_bind_time(cqlmux_statement *s, size_t index,
                                          int64_t nanoseconds);
/* duration: the three components must not have mixed signs. */
CQLMUX_API int cqlmux_statement_bind_duration(cqlmux_statement *s, size_t index,
                                              int32_t months, int32_t days,
                                              int64_t nanoseconds);
/* varint from an int64, or from two's complement big-endian bytes (at
 * least 1). */
CQLMUX_API int cqlmux_statement_bind_varint(cqlmux_statement *s, size_t index, int64_t value);
CQLMUX_API int cqlmux_statement_bind_varint_bytes(cqlmux_statement *s, size_t index,
                                                  const uint8_t *data, size_t length);
/* decimal: unscaled * 10^-scale, unscaled as two's complement big-endian
 * bytes (at least 1) or as an int64. */
CQLMUX_API int cqlmux_statement_bind_decimal(cqlmux_statement *s, size_t index,
                                             const uint8_t *unscaled, size_t length,
                                             int32_t scale);
CQLMUX_API int cqlmux_statement_bind_decimal_int64(cqlmux_statement *s, size_t index,
                                                   int64_t unscaled, int32_t scale);
/* The builder's finished value (a copy: the builder may be reset, reused
 * or freed afterwards). Errors: those of cqlmux_builder_serialized, plus
 * INVALID_ARGUMENT and NOMEM as above. */
CQLMUX_API int cqlmux_statement_bind_builder(cqlmux_statement *s, size_t index,
                                             const cqlmux_builder *builder);

/* ======================================================================== */
/* Hosts                                                                     */
/* ======================================================================== */

/*
 * The nodes a session knows: its contact points at first, then every node
 * the cluster reports (system.local and system.peers_v2, read on the
 * session's control connection and refreshed on topology events).
 *
 * Distance: a host in the local data center is LOCAL; up to
 * cqlmux_config_set_remote_hosts_per_dc hosts of each other data center are
 * REMOTE; the rest are IGNORED and get no connection at all.
 *
 * State: UP while at least one connection to it is ready; DOWN when its
 * last connection failed (a server's DOWN event alone does not take down a
 * host that still has a working connection); RECONNECTING while an attempt
 * to bring a DOWN host back is under way. A DOWN host is retried on its own
 * schedule (cqlmux_config_set_reconnect) and requests never wait for it:
 * they go to an UP host.
 */
typedef enum cqlmux_host_state {
  CQLMUX_HOST_UP = 0,
  CQLMUX_HOST_DOWN = 1,
  CQLMUX_HOST_RECONNECTING = 2
} cqlmux_host_state;

typedef enum cqlmux_host_distance {
  CQLMUX_HOST_LOCAL = 0,
  CQLMUX_HOST_REMOTE = 1,
  CQLMUX_HOST_IGNORED = 2
} cqlmux_host_distance;

/* A host as a snapshot sees it (plain values, copied). */
typedef struct cqlmux_host_info {
  char address[64];          /* "ip:port" the session connects to */
  char datacenter[64];       /* "" when not known yet */
  char rack[64];
  char release_version[32];
  uint8_t host_id[16];       /* all zero when not known yet */
  cqlmux_host_state state;
  cqlmux_host_distance distance;
  unsigned connections;      /* pool size: connections ready for requests */
  unsigned in_flight;        /* requests holding a stream id on them */
  size_t token_count;        /* tokens the node owns */
} cqlmux_host_info;

/*
 * Copies the session's current hosts into out (at most `cap` of them) and
 * returns how many hosts there are (which may exceed cap; call again with
 * more room). Any thread, any time after cqlmux_session_new; never blocks
 * on I/O (a short lock protects the copy of names). NULL session: 0.
 */
CQLMUX_API size_t cqlmux_session_hosts(const cqlmux_session *session, cqlmux_host_info *out,
                                       size_t cap);

typedef enum cqlmux_host_event {
  CQLMUX_HOST_ADDED = 1,   /* learned (contact point's node or discovered) */
  CQLMUX_HOST_REMOVED = 2, /* left the cluster (its pool drains, then closes) */
  CQLMUX_HOST_EVENT_UP = 3,
  CQLMUX_HOST_EVENT_DOWN = 4
} cqlmux_host_event;

/*
 * Host listener: told of every ADDED, REMOVED, UP and DOWN, with a copy of
 * the host as it was at that moment (valid during the call only).
 * Thread: a callback worker (the I/O thread that saw the change when the
 * session has 0 callback threads); never concurrently with itself: the
 * calls of one session run one at a time, in the order the changes
 * happened (so per host: ADDED, then UP/DOWN alternating, then REMOVED).
 * It must not block for long and must not wait on a future. `user_data`
 * must outlive the session. NULL: none (default).
 */
typedef void (*cqlmux_host_listener)(cqlmux_host_event event, const cqlmux_host_info *host,
                                     void *user_data);
CQLMUX_API int cqlmux_config_set_host_listener(cqlmux_config *config,
                                               cqlmux_host_listener listener, void *user_data);

/* ======================================================================== */
/* Routing and recovery                                                     */
/* ======================================================================== */

/*
 * Query plans. Every request gets a plan: the hosts it may try, in order,
 * built from immutable snapshots without a lock or an allocation. The
 * default plan is token-aware over DC-aware round robin:
 *
 * - token-aware: when the request has a routing key (from a prepared
 *   statement's partition-key columns, or cqlmux_statement_set_routing_key)
 *   and its keyspace's replication is known, the LOCAL replicas of its
 *   token come first (in a random order by default, else in rotation);
 * - then DC-aware round robin: LOCAL hosts in rotation, then REMOTE hosts
 *   (see cqlmux_config_set_remote_hosts_per_dc), but never REMOTE ones for
 *   LOCAL_ONE, LOCAL_QUORUM or LOCAL_SERIAL unless allowed below.
 *
 * A host without a ready connection is skipped. doc/routing.md explains
 * each policy and how to write one's own.
 */

/* Token-aware routing on (default) or off; `shuffle_replicas` (default
 * on) picks the first replica at random, else in rotation. */
CQLMUX_API int cqlmux_config_set_token_aware(cqlmux_config *config, int enabled,
                                             int shuffle_replicas);
/* Whether requests at a LOCAL_* consistency may go to REMOTE hosts when no
 * LOCAL host can take them (default 0: never). */
CQLMUX_API int cqlmux_config_set_remote_for_local_consistency(cqlmux_config *config,
                                                              int allowed);
/*
 * Allow and deny lists, comma-separated: hosts as "ip" or "ip:port"
 * ("ip" matches every port), data centers by name. NULL or "": no list.
 * A host is used only if it is on the allow list (when there is one) and
 * not on the deny list; any other host is IGNORED (no connection, never in
 * a plan). The lists apply as hosts are discovered. Copied.
 */
CQLMUX_API int cqlmux_config_set_host_filter(cqlmux_config *config, const char *allow,
                                             const char *deny);
CQLMUX_API int cqlmux_config_set_dc_filter(cqlmux_config *config, const char *allow,
                                           const char *deny);

/* Bytes of plan state a custom policy gets per request (zeroed). */
#define CQLMUX_PLAN_STATE_BYTES 32

/* What a custom policy knows of a request when its plan starts. */
typedef struct cqlmux_plan_request {
  const char *keyspace;          /* NUL-terminated; NULL when none is known */
  int64_t token;                 /* the routing key's Murmur3 token, when has_token */
  int has_token;
  cqlmux_consistency consistency;
} cqlmux_plan_request;

/*
 * An application's load-balancing policy, in place of DC-aware round robin
 * (token awareness, when on, still puts the local replicas first and skips
 * them later). `hosts` is the session's host list as of its last change
 * (state and counts as of then: a host without a ready connection is
 * skipped by the driver anyway), the same for every call of one plan.
 * new_plan sets up `state` (CQLMUX_PLAN_STATE_BYTES, zeroed); each
 * next_host returns the index of the next host to try, or -1 when the plan
 * is done (the driver also stops after 4 x count + 4 answers). A host may
 * be returned again; the driver does not dedupe. Threads: any application
 * or I/O thread, concurrently for different requests; they must not block
 * and must not call into the session. Copied; user_data must outlive the
 * session. NULL policy or NULL next_host: the default.
 */
typedef struct cqlmux_load_balancing {
  void (*new_plan)(void *user_data, const cqlmux_plan_request *request,
                   const cqlmux_host_info *hosts, size_t count, void *state);
  long (*next_host)(void *user_data, const cqlmux_host_info *hosts, size_t count, void *state);
  void *user_data;
} cqlmux_load_balancing;
CQLMUX_API int cqlmux_config_set_load_balancing(cqlmux_config *config,
                                                const cqlmux_load_balancing *policy);

/*
 * Runs the statement on this host only ("ip" or "ip:port"), e.g. to read a
 * node's own system tables. No other host is tried; when the host is not
 * known or has no ready connection the request fails with NO_HOSTS.
 * NULL clears it. Copied.
 */
CQLMUX_API int cqlmux_statement_set_host(cqlmux_statement *s, const char *address);

/*
 * Retries. When a request fails after it reached a host (a server error, or
 * its connection failed after sending it) the retry policy decides what
 * happens next. A request that never reached the socket is always sent to
 * the next host of its plan (that is safe for any statement), and an
 * UNPREPARED answer is always re-prepared and re-executed once: neither
 * asks the policy. A request's own timeout (cqlmux_statement_set_timeout)
 * covers all its attempts.
 */
typedef enum cqlmux_retry_decision {
  CQLMUX_RETRY_RETHROW = 0,   /* the error goes to the caller */
  CQLMUX_RETRY_SAME_HOST = 1, /* again on the host that failed */
  CQLMUX_RETRY_NEXT_HOST = 2, /* on the next host of the plan (NO_HOSTS if none) */
  CQLMUX_RETRY_IGNORE = 3     /* success with an empty VOID result */
} cqlmux_retry_decision;

/* What a retry policy is asked about (valid during the call only). */
typedef struct cqlmux_retry_request {
  int error;                         /* CQLMUX_ERR_SERVER, or a connection failure code */
  const cqlmux_server_error *server; /* details of a server error; NULL otherwise */
  int idempotent;                    /* cqlmux_statement_set_idempotent */
  unsigned retries;                  /* retries already made for this request */
  const char *host;                  /* "ip:port" that failed */
  const char *message;               /* the error's text */
  cqlmux_session *session;
} cqlmux_retry_request;

/*
 * A retry policy: `decide` is called on the I/O thread that saw the
 * failure; it must not block and must not wait on a future. `child` and
 * `user_data` are the policy's own (the logging policy keeps the policy it
 * wraps in child). Sessions and statements keep a pointer: the policy must
 * outlive every request that uses it.
 */
typedef struct cqlmux_retry_policy {
  cqlmux_retry_decision (*decide)(const struct cqlmux_retry_policy *policy,
                                  const cqlmux_retry_request *request);
  const struct cqlmux_retry_policy *child;
  void *user_data;
} cqlmux_retry_policy;

/*
 * The default policy (static, never freed), as the other drivers decide:
 * - read timeout: once on the same host, when enough replicas answered but
 *   the data was not among the answers; else rethrow;
 * - unavailable: once on the next host;
 * - write timeout: once when the write type is BATCH_LOG (same host) or the
 *   statement is idempotent (next host);
 * - overloaded, is bootstrapping, truncate error, server error, connection
 *   failure after sending: next host, if the statement is idempotent;
 * - anything else (syntax, invalid, unauthorized, read/write failure ...):
 *   rethrow.
 */
CQLMUX_API const cqlmux_retry_policy *cqlmux_retry_policy_default(void);
/* Never retries (static). */
CQLMUX_API const cqlmux_retry_policy *cqlmux_retry_policy_fallthrough(void);
/* Fills *out with a policy that asks `child` and writes each decision
 * other than RETHROW to the session's log at INFO level. */
CQLMUX_API int cqlmux_retry_policy_logging(cqlmux_retry_policy *out,
                                           const cqlmux_retry_policy *child);
/* The session's policy (NULL: the default). */
CQLMUX_API int cqlmux_config_set_retry_policy(cqlmux_config *config,
                                              const cqlmux_retry_policy *policy);
/* This statement's policy (NULL: the session's). */
CQLMUX_API int cqlmux_statement_set_retry_policy(cqlmux_statement *s,
                                                 const cqlmux_retry_policy *policy);

/*
 * Speculative execution (off by default): an idempotent statement
 * (cqlmux_statement_set_idempotent) still unanswered `delay_ms` after it was
 * sent goes to the next host of its plan too, and again every `delay_ms`, up
 * to `max_extra` extra executions (at most CQLMUX_MAX_SPECULATIVE). The first
 * answer wins (an error wins only when no other execution is left to
 * answer); the others are dropped as they arrive, their stream ids held
 * until then. Extra executions are counted in the metrics
 * (speculative_executions, on the host they went to) and are not retried.
 * max_extra 0: off. The statement's setting wins over the session's.
 */
#define CQLMUX_MAX_SPECULATIVE 16
CQLMUX_API int cqlmux_config_set_speculative_execution(cqlmux_config *config, unsigned delay_ms,
                                                       unsigned max_extra);
CQLMUX_API int cqlmux_statement_set_speculative_execution(cqlmux_statement *s,
                                                          unsigned delay_ms, unsigned max_extra);

/*
 * Prepared statements across the cluster. The session remembers every
 * statement it prepared (by keyspace and text). After a successful PREPARE
 * it prepares the statement on every other UP host (`on_all_hosts`, default
 * on); the PREPARE's future completes once each of them has answered or
 * failed, so a first EXECUTE needs no UNPREPARED round trip wherever it
 * goes. It also prepares every remembered statement on
 * a host that comes UP or joins (`on_up`, default on). An EXECUTE answered
 * UNPREPARED is re-prepared on that host and re-executed, once, whatever
 * the settings.
 */
CQLMUX_API int cqlmux_config_set_prepare_on_hosts(cqlmux_config *config, int on_all_hosts,
                                                  int on_up);

/*
 * Where a completed request went: copies the "ip:port" of the host that
 * gave the final answer (or of the last host tried) into out (NUL-
 * terminated, cut to cap) and returns the number of attempts made (1 when
 * it was never retried); 0 when the request reached no host or the future
 * is not completed.
 */
CQLMUX_API unsigned cqlmux_future_coordinator(const cqlmux_future *future, char *out,
                                              size_t cap);

/* ======================================================================== */
/* Metrics                                                                  */
/* ======================================================================== */

/*
 * Counters, gauges and a latency histogram per session and per host. They
 * are kept all the time (recording is a few relaxed atomic additions on the
 * thread completing the request, lock-free) and read on demand into plain
 * structs. Counters start at 0 when the session is created and only grow;
 * gauges (in_flight, queued, connections_open) are the value at the time of
 * the call. Values read while requests run are each exact or a few requests
 * behind: the snapshot is not one atomic instant.
 *
 * Latency is measured from cqlmux_session_execute (or _prepare, _query) to
 * the completion of the future, before its callback is scheduled, for every
 * request that completes (errors included). It is kept in a log-linear
 * histogram (buckets at most 1/32 of their value wide), and percentiles are
 * read from it: within about 3 % of the exact value.
 */

/* Why requests failed. */
typedef enum cqlmux_metrics_error_kind {
  CQLMUX_METRICS_ERR_TIMEOUT = 0,          /* CQLMUX_ERR_TIMEOUT (no answer in time) */
  CQLMUX_METRICS_ERR_BUSY = 1,             /* CQLMUX_ERR_BUSY (backpressure) */
  CQLMUX_METRICS_ERR_CONNECTION = 2,       /* the connection band: closed, protocol, TLS ... */
  CQLMUX_METRICS_ERR_NO_HOSTS = 3,         /* CQLMUX_ERR_NO_HOSTS */
  CQLMUX_METRICS_ERR_SHUTDOWN = 4,         /* CQLMUX_ERR_SHUTDOWN */
  CQLMUX_METRICS_ERR_SERVER_READ_TIMEOUT = 5,  /* CQL error 0x1200 */
  CQLMUX_METRICS_ERR_SERVER_WRITE_TIMEOUT = 6, /* CQL error 0x1100 */
  CQLMUX_METRICS_ERR_SERVER_UNAVAILABLE = 7,   /* CQL error 0x1000 */
  CQLMUX_METRICS_ERR_SERVER_OVERLOADED = 8,    /* CQL error 0x1001 */
  CQLMUX_METRICS_ERR_SERVER_OTHER = 9,     /* any other CQL error */
  CQLMUX_METRICS_ERR_OTHER = 10,           /* codec, memory, invalid state ... */
  CQLMUX_METRICS_ERROR_KINDS = 11
} cqlmux_metrics_error_kind;

/* A short snake_case name ("timeout", "server_read_timeout" ...), used as
 * the Prometheus label; "unknown" out of range. Static storage. */
CQLMUX_API const char *cqlmux_metrics_error_kind_name(cqlmux_metrics_error_kind kind);

/* Why a request was sent again (counted by the host that failed). */
typedef enum cqlmux_retry_reason {
  CQLMUX_RETRY_REASON_UNSENT = 0,        /* its connection failed before it was sent */
  CQLMUX_RETRY_REASON_READ_TIMEOUT = 1,
  CQLMUX_RETRY_REASON_WRITE_TIMEOUT = 2,
  CQLMUX_RETRY_REASON_UNAVAILABLE = 3,
  CQLMUX_RETRY_REASON_OVERLOADED = 4,    /* overloaded, is bootstrapping, truncate, server error */
  CQLMUX_RETRY_REASON_CONNECTION = 5,    /* its connection failed after it was sent */
  CQLMUX_RETRY_REASON_UNPREPARED = 6,    /* re-prepared and re-executed */
  CQLMUX_RETRY_REASON_OTHER = 7,         /* any other error a policy retried */
  CQLMUX_RETRY_REASONS = 8
} cqlmux_retry_reason;

/* A short snake_case name ("read_timeout" ...), the Prometheus label;
 * "unknown" out of range. Static storage. */
CQLMUX_API const char *cqlmux_retry_reason_name(cqlmux_retry_reason reason);

/* Percentiles of a latency histogram, in microseconds. */
typedef struct cqlmux_latency {
  uint64_t count;
  uint64_t sum_us;   /* of every latency: differences of two reads give rates */
  uint64_t mean_us;
  uint64_t p50_us;
  uint64_t p90_us;
  uint64_t p99_us;
  uint64_t p999_us;
  uint64_t max_us;
} cqlmux_latency;

typedef struct cqlmux_metrics {
  uint64_t requests;        /* completed, with success or error */
  uint64_t errors;          /* of those, failed (the sum of errors_by_kind) */
  uint64_t errors_by_kind[CQLMUX_METRICS_ERROR_KINDS];
  uint64_t timeouts;        /* requests whose timeout fired on a connection */
  uint64_t retries;         /* attempts after the first (see retries_by_reason) */
  uint64_t speculative_executions; /* extra executions started (speculative execution) */
  uint64_t busy_rejections; /* requests refused by a connection's backpressure */
  uint64_t in_flight;       /* gauge: requests holding a stream id */
  uint64_t queued;          /* gauge: requests waiting above the high watermark */
  uint64_t connections_open; /* gauge: connections ready for requests */
  uint64_t bytes_in;        /* received on the connections, as on the wire */
  uint64_t bytes_out;
  uint64_t heartbeats;      /* OPTIONS pings sent on idle connections */
  uint64_t pool_scale_ups;   /* connections opened because every one was at the high watermark */
  uint64_t pool_scale_downs; /* connections above core closed after the idle timeout */
  uint64_t reconnects;       /* attempts to bring a DOWN host back (probes) */
  uint64_t topology_refreshes; /* session only: re-reads of system.local / peers (0 per host) */
  uint64_t retries_by_reason[CQLMUX_RETRY_REASONS]; /* their sum is `retries` */
  uint64_t ignored_errors;   /* errors a retry policy turned into empty results */
  cqlmux_latency latency;
} cqlmux_metrics;

/*
 * Fills *out with the session's totals: the sum over its hosts, plus the
 * requests that failed before reaching any host. Any thread, including
 * callbacks; never blocks. Returns CQLMUX_OK or INVALID_ARGUMENT (NULL).
 */
CQLMUX_API int cqlmux_session_metrics(const cqlmux_session *session, cqlmux_metrics *out);

/* The number of hosts with metrics: the hosts of cqlmux_session_hosts, in
 * the same order (discovered nodes join, removed ones leave; 0 before the
 * first topology is read). */
CQLMUX_API size_t cqlmux_session_host_count(const cqlmux_session *session);

/*
 * The metrics of host `index` (< cqlmux_session_host_count) into *out, and
 * its address ("ip:port", NUL-terminated, truncated to address_cap) into
 * address unless it is NULL. Returns CQLMUX_OK, INVALID_ARGUMENT or NOT_FOUND
 * (index out of range; *out untouched).
 */
CQLMUX_API int cqlmux_session_host_metrics(const cqlmux_session *session, size_t index,
                                           cqlmux_metrics *out, char *address,
                                           size_t address_cap);

/*
 * Renders every metric of the session and of each host in the Prometheus
 * text exposition format (version 0.0.4) into buf: families named
 * cqlmux_session_* (no labels) and cqlmux_host_* (label host="ip:port"),
 * counters with a _total suffix, errors with a kind label, latency as a
 * summary in seconds (quantiles 0.5, 0.9, 0.99, 0.999, with _sum and
 * _count). Any thread; never blocks.
 * *length (if not NULL) receives the length of the whole text, without the
 * terminating NUL. Returns CQLMUX_OK when it fits with its NUL in cap bytes;
 * CQLMUX_ERR_BUFFER_TOO_SMALL otherwise (buf then holds a NUL-terminated
 * prefix when cap > 0; call again with *length + 1 bytes; buf may be NULL
 * with cap 0 to ask for the size); INVALID_ARGUMENT for a NULL session.
 */
CQLMUX_API int cqlmux_session_metrics_prometheus(const cqlmux_session *session, char *buf,
                                                 size_t cap, size_t *length);

/* ====================================================== client timestamps */

/*
 * Client-side write timestamps. By default a session stamps every QUERY,
 * EXECUTE and BATCH that has no timestamp of its own
 * (cqlmux_statement_set_timestamp / cqlmux_batch_set_timestamp win) with
 * microseconds since the Unix epoch from its own generator: strictly
 * increasing across all threads of the session, even when the wall clock
 * is set back (then the values run ahead of the clock by one microsecond
 * per request, and a WARN line, at most one a second, says the clock is
 * more than a second behind).
 *
 * A replacement generator returns microseconds since the epoch, or
 * CQLMUX_TIMESTAMP_NONE to let the server stamp that request. It runs on
 * the thread that submits the request (inside cqlmux_session_execute or
 * cqlmux_session_batch, including from callbacks), possibly on several
 * threads at once, with the user_data given to the config; it must not
 * block and must not call into the session.
 */
#define CQLMUX_TIMESTAMP_NONE INT64_MIN
typedef int64_t (*cqlmux_timestamp_generator)(void *user_data);

/*
 * Replaces the session's timestamp generator: `generator` with `user_data`
 * (borrowed; must outlive every session made from this config), or, when
 * generator is NULL, none: requests without a timestamp of their own are
 * then stamped by the server. Returns CQLMUX_OK, or INVALID_ARGUMENT for a
 * NULL config.
 */
CQLMUX_API int cqlmux_config_set_timestamp_generator(cqlmux_config *config,
                                                     cqlmux_timestamp_generator generator,
                                                     void *user_data);

/* ================================================ timestamp, date and time */

/*
 * Conversions between the CQL temporal types and the C library's: a CQL
 * timestamp is milliseconds since the Unix epoch (int64); a CQL date is
 * days with the epoch at 2^31 (uint32, CQLMUX_DATE_EPOCH is 1970-01-01); a
 * CQL time is nanoseconds since midnight, 0 to CQLMUX_TIME_MAX. Every
 * struct tm is UTC (no time zone, no DST), read strictly: tm_mon 0-11,
 * tm_mday a day of that month, tm_hour 0-23, tm_min and tm_sec 0-59 (no leap
 * second), nothing normalised; tm_wday, tm_yday and tm_isdst are ignored on
 * input and filled (tm_isdst 0) on output. Conversions toward time_t or a
 * struct tm round down (toward the past). Each function leaves *out
 * untouched on failure and returns CQLMUX_OK or INVALID_ARGUMENT (a NULL
 * pointer, a field out of range, or a value the target type cannot hold).
 * Pure functions: any thread.
 */
#define CQLMUX_DATE_EPOCH UINT32_C(2147483648)
#define CQLMUX_TIME_MAX INT64_C(86399999999999)

/* Whole seconds to a timestamp (ms). */
CQLMUX_API int cqlmux_timestamp_from_time_t(time_t seconds, int64_t *out);
/* A timestamp (ms) to whole seconds, rounding down. */
CQLMUX_API int cqlmux_timestamp_to_time_t(int64_t milliseconds, time_t *out);
/* A UTC date and time of day (to the second) to a timestamp (ms). */
CQLMUX_API int cqlmux_timestamp_from_tm(const struct tm *tm, int64_t *out);
/* A timestamp (ms) to its UTC date and time of day; the milliseconds are
 * dropped. */
CQLMUX_API int cqlmux_timestamp_to_tm(int64_t milliseconds, struct tm *out);

/* The date (UTC) of an instant. */
CQLMUX_API int cqlmux_date_from_time_t(time_t seconds, uint32_t *out);
/* A date to the instant of its midnight UTC. */
CQLMUX_API int cqlmux_date_to_time_t(uint32_t days, time_t *out);
/* tm_year, tm_mon and tm_mday to a date; the time fields are ignored. */
CQLMUX_API int cqlmux_date_from_tm(const struct tm *tm, uint32_t *out);
/* A date to a struct tm at midnight. */
CQLMUX_API int cqlmux_date_to_tm(uint32_t days, struct tm *out);

/* The time of day (UTC, to the second) of an instant, in nanoseconds. */
CQLMUX_API int cqlmux_time_from_time_t(time_t seconds, int64_t *out);
/* tm_hour, tm_min and tm_sec to a time (ns); the date fields are ignored. */
CQLMUX_API int cqlmux_time_from_tm(const struct tm *tm, int64_t *out);
/* A time (ns, 0 to CQLMUX_TIME_MAX) to tm_hour, tm_min and tm_sec; the
 * date fields are set to 1970-01-01 and the sub-second part is dropped. */
CQLMUX_API int cqlmux_time_to_tm(int64_t nanoseconds, struct tm *out);

/* ================================================================== UUIDs */

/*
 * UUIDs are 16 bytes in network order, as cqlmux_statement_bind_uuid and
 * cqlmux_value_as_uuid take them. Text is the 36-character 8-4-4-4-12 form.
 */
#define CQLMUX_UUID_TEXT_SIZE 37 /* 36 characters and the NUL */

/*
 * A random (version 4) UUID: 122 bits from the kernel's CSPRNG
 * (getrandom(2)). Any thread. Returns CQLMUX_OK, INVALID_ARGUMENT for a
 * NULL out, or INVALID_STATE when the kernel gives no random bytes
 * (out is then untouched).
 */
CQLMUX_API int cqlmux_uuid_v4(uint8_t out[16]);

/*
 * A time-based (version 1) UUID for a timeuuid column: the time in 100 ns
 * intervals since 1582-10-15, the session's clock sequence and node id
 * (random at session creation, with the multicast bit set as RFC 9562
 * asks of a node id that is not a MAC address). The times are strictly
 * increasing across every session and thread of the process, so UUIDs
 * made one after the other sort in that order as timeuuids; when more than
 * one is asked for within 100 ns, or the wall clock goes back, the time runs
 * ahead of the clock. Any thread, never blocks. Returns CQLMUX_OK or
 * INVALID_ARGUMENT for a NULL argument.
 */
CQLMUX_API int cqlmux_session_uuid_v1(cqlmux_session *session, uint8_t out[16]);

/* The time of a version 1 UUID as a CQL timestamp (ms since the Unix
 * epoch, rounded down), as CQL's toTimestamp() gives it. Returns CQLMUX_OK,
 * TYPE_MISMATCH when the UUID is not version 1, or INVALID_ARGUMENT. */
CQLMUX_API int cqlmux_uuid_v1_timestamp(const uint8_t uuid[16], int64_t *out);

/* The UUID's version (bits 4-7 of byte 6): 1 time-based, 4 random... */
CQLMUX_API int cqlmux_uuid_version(const uint8_t uuid[16]);

/*
 * Writes the UUID as 36 lower-case characters and a NUL into out (at least
 * CQLMUX_UUID_TEXT_SIZE bytes). Returns CQLMUX_OK or INVALID_ARGUMENT.
 */
CQLMUX_API int cqlmux_uuid_format(const uint8_t uuid[16], char out[CQLMUX_UUID_TEXT_SIZE]);

/*
 * Parses the 8-4-4-4-12 text form, hex digits in either case, nothing
 * before or after it (length is the text's length, without any NUL).
 * Returns CQLMUX_OK, or INVALID_ARGUMENT for NULL, a length other than 36,
 * a hyphen missing or misplaced, or a character that is not a hex digit
 * (out untouched); *error_offset (when not NULL) then receives the
 * offset of the first bad character (the length, when the length is
 * wrong).
 */
CQLMUX_API int cqlmux_uuid_parse(const char *text, size_t length, uint8_t out[16],
                                 size_t *error_offset);

/* ======================================================================== */
/* Schema metadata                                                          */
/* ======================================================================== */

/*
 * The session reads the cluster's schema from system_schema (keyspaces,
 * tables, columns, views, types) on its control connection: once while
 * connecting (so a connected session has a snapshot), again after each
 * SCHEMA_CHANGE event (debounced: events within the refresh delay cost one
 * read) and after the control connection moves to another node.
 *
 * Each read publishes an immutable snapshot. cqlmux_session_schema hands
 * out a held reference: everything reached from it (keyspaces, tables,
 * columns, names) stays valid and unchanged until that snapshot is freed
 * with cqlmux_schema_free, however many refreshes happen meanwhile. Every
 * function of this section is safe on any thread, takes no lock (except
 * cqlmux_session_schema's short one) and does no I/O.
 *
 * Names are as system_schema stores them (case-sensitive; a quoted
 * "MyTable" is MyTable, an unquoted mytable is mytable) and lookups match
 * them exactly. Types are CQL text as system_schema gives it, e.g.
 * "frozen<map<text, int>>".
 */
typedef struct cqlmux_schema cqlmux_schema;
typedef struct cqlmux_schema_keyspace cqlmux_schema_keyspace;
typedef struct cqlmux_schema_table cqlmux_schema_table; /* a table or a materialized view */
typedef struct cqlmux_schema_column cqlmux_schema_column;
typedef struct cqlmux_schema_type cqlmux_schema_type;   /* a user-defined type */

typedef enum cqlmux_column_kind {
  CQLMUX_COLUMN_PARTITION_KEY = 0,
  CQLMUX_COLUMN_CLUSTERING = 1,
  CQLMUX_COLUMN_REGULAR = 2,
  CQLMUX_COLUMN_STATIC = 3
} cqlmux_column_kind;

typedef enum cqlmux_clustering_order {
  CQLMUX_CLUSTERING_NONE = 0, /* not a clustering column */
  CQLMUX_CLUSTERING_ASC = 1,
  CQLMUX_CLUSTERING_DESC = 2
} cqlmux_clustering_order;

/* Whether the session reads schema metadata (default 1). 0 reads only
 * system_schema.keyspaces (the replication that token-aware routing needs)
 * and cqlmux_session_schema returns NULL. Returns CQLMUX_OK or
 * INVALID_ARGUMENT for a NULL config. */
CQLMUX_API int cqlmux_config_set_schema_metadata(cqlmux_config *config, int enabled);

/* SCHEMA_CHANGE events arriving within `ms` of the first cost one re-read
 * of the schema (default 200 ms; 0 re-reads at once on each event). This
 * window also paces the re-read of keyspace replication for token-aware
 * routing. Returns CQLMUX_OK, or INVALID_ARGUMENT for a NULL config or ms
 * above 600000. */
CQLMUX_API int cqlmux_config_set_schema_refresh_delay(cqlmux_config *config, unsigned ms);

/* Schema agreement. A CREATE, ALTER or DROP is answered once its
 * coordinator has applied it; the other nodes learn of it moments later,
 * and a statement that reaches one of them first fails ("table ... does
 * not exist"). So the future of a statement answered with a schema change
 * completes only once every node that is UP runs the coordinator's schema
 * version (asked of the coordinator, system.local and system.peers, every
 * 200 ms), or after `ms` (default 10000; 0: at once, without asking). It
 * completes with the statement's own result either way: the change was
 * applied. Returns CQLMUX_OK, or INVALID_ARGUMENT for a NULL config or ms
 * above 600000. */
CQLMUX_API int cqlmux_config_set_schema_agreement_wait(cqlmux_config *config, unsigned ms);

/* 1 when the future completed with success and, if its result is a schema
 * change, every UP node was seen to run the new schema before it did; 0
 * otherwise (still pending, failed, the wait off or run out, or the check
 * could not be made: no connection to the coordinator left, an answer it
 * could not read). Any thread. */
CQLMUX_API int cqlmux_future_schema_in_agreement(const cqlmux_future *future);

/*
 * The current schema snapshot, held for the caller: free it with
 * cqlmux_schema_free. NULL before the first read finished (a session whose
 * connect succeeded has one), when schema metadata is off, or for a NULL
 * session. Any thread; a refresh running meanwhile does not change what
 * the caller holds. A snapshot may be freed after its session, provided
 * the config's allocator still works.
 */
CQLMUX_API const cqlmux_schema *cqlmux_session_schema(cqlmux_session *session);

/*
 * The version of the session's newest snapshot: 0 before the first, then
 * 1, 2 ... one more for each read published (a read that finds nothing
 * changed publishes too). Once it returns N, cqlmux_session_schema returns
 * a snapshot of version N or later. Any thread, lock-free: poll it (with a
 * deadline) to wait for a schema change to be seen. 0 for a NULL session.
 */
CQLMUX_API uint64_t cqlmux_session_schema_version(const cqlmux_session *session);

/* Releases the caller's hold; the snapshot is freed when no holder is
 * left. Accepts NULL. */
CQLMUX_API void cqlmux_schema_free(const cqlmux_schema *schema);

/* The snapshot's version (see cqlmux_session_schema_version). */
CQLMUX_API uint64_t cqlmux_schema_version(const cqlmux_schema *schema);

/* Keyspaces in name order (bytewise). _at returns NULL past the end;
 * find_keyspace returns NULL for an unknown name. */
CQLMUX_API size_t cqlmux_schema_keyspace_count(const cqlmux_schema *schema);
CQLMUX_API const cqlmux_schema_keyspace *cqlmux_schema_keyspace_at(const cqlmux_schema *schema,
                                                                   size_t index);
CQLMUX_API const cqlmux_schema_keyspace *cqlmux_schema_find_keyspace(const cqlmux_schema *schema,
                                                                     const char *name);

/* A keyspace: its name, durable_writes, and its replication map as
 * system_schema.keyspaces has it ("class" and its options, e.g.
 * "replication_factor" or one entry per data center), in key order.
 * replication_at returns CQLMUX_OK with *key and *value (borrowed from the
 * snapshot) or NOT_FOUND past the end (outputs untouched). */
CQLMUX_API const char *cqlmux_schema_keyspace_name(const cqlmux_schema_keyspace *keyspace);
CQLMUX_API int cqlmux_schema_keyspace_durable_writes(const cqlmux_schema_keyspace *keyspace);
CQLMUX_API size_t cqlmux_schema_keyspace_replication_count(
    const cqlmux_schema_keyspace *keyspace);
CQLMUX_API int cqlmux_schema_keyspace_replication_at(const cqlmux_schema_keyspace *keyspace,
                                                     size_t index, const char **key,
                                                     const char **value);

/* The keyspace's tables, materialized views and user-defined types, each
 * in name order; _at returns NULL past the end, find_ NULL for an unknown
 * name. */
CQLMUX_API size_t cqlmux_schema_keyspace_table_count(const cqlmux_schema_keyspace *keyspace);
CQLMUX_API const cqlmux_schema_table *cqlmux_schema_keyspace_table_at(
    const cqlmux_schema_keyspace *keyspace, size_t index);
CQLMUX_API const cqlmux_schema_table *cqlmux_schema_keyspace_find_table(
    const cqlmux_schema_keyspace *keyspace, const char *name);
CQLMUX_API size_t cqlmux_schema_keyspace_view_count(const cqlmux_schema_keyspace *keyspace);
CQLMUX_API const cqlmux_schema_table *cqlmux_schema_keyspace_view_at(
    const cqlmux_schema_keyspace *keyspace, size_t index);
CQLMUX_API const cqlmux_schema_table *cqlmux_schema_keyspace_find_view(
    const cqlmux_schema_keyspace *keyspace, const char *name);
CQLMUX_API size_t cqlmux_schema_keyspace_type_count(const cqlmux_schema_keyspace *keyspace);
CQLMUX_API const cqlmux_schema_type *cqlmux_schema_keyspace_type_at(
    const cqlmux_schema_keyspace *keyspace, size_t index);
CQLMUX_API const cqlmux_schema_type *cqlmux_schema_keyspace_find_type(
    const cqlmux_schema_keyspace *keyspace, const char *name);

/* A table or view: its keyspace's name, its name, and for a view the name
 * of its base table and its WHERE clause (NULL for a table). */
CQLMUX_API const char *cqlmux_schema_table_keyspace(const cqlmux_schema_table *table);
CQLMUX_API const char *cqlmux_schema_table_name(const cqlmux_schema_table *table);
CQLMUX_API const char *cqlmux_schema_table_base_table(const cqlmux_schema_table *table);
CQLMUX_API const char *cqlmux_schema_table_where_clause(const cqlmux_schema_table *table);

/* Its columns in primary-key order: the partition key columns by
 * position, then the clustering columns by position, then the static and
 * regular columns in name order. The first partition_key_count columns
 * form the partition key, the next clustering_count the clustering key.
 * column_at returns NULL past the end, find_column NULL for an unknown
 * name. */
CQLMUX_API size_t cqlmux_schema_table_column_count(const cqlmux_schema_table *table);
CQLMUX_API size_t cqlmux_schema_table_partition_key_count(const cqlmux_schema_table *table);
CQLMUX_API size_t cqlmux_schema_table_clustering_count(const cqlmux_schema_table *table);
CQLMUX_API const cqlmux_schema_column *cqlmux_schema_table_column_at(
    const cqlmux_schema_table *table, size_t index);
CQLMUX_API const cqlmux_schema_column *cqlmux_schema_table_find_column(
    const cqlmux_schema_table *table, const char *name);

/* A column: name, CQL type text, kind, position (in the partition or
 * clustering key, from 0; -1 for static and regular columns, as
 * system_schema.columns has it) and clustering order (NONE unless a
 * clustering column). */
CQLMUX_API const char *cqlmux_schema_column_name(const cqlmux_schema_column *column);
CQLMUX_API const char *cqlmux_schema_column_type(const cqlmux_schema_column *column);
CQLMUX_API cqlmux_column_kind cqlmux_schema_column_kind(const cqlmux_schema_column *column);
CQLMUX_API int cqlmux_schema_column_position(const cqlmux_schema_column *column);
CQLMUX_API cqlmux_clustering_order cqlmux_schema_column_clustering_order(
    const cqlmux_schema_column *column);

/* A user-defined type: its name and fields in declaration order (name and
 * CQL type text); field_name / field_type return NULL past the end. */
CQLMUX_API const char *cqlmux_schema_type_name(const cqlmux_schema_type *type);
CQLMUX_API size_t cqlmux_schema_type_field_count(const cqlmux_schema_type *type);
CQLMUX_API const char *cqlmux_schema_type_field_name(const cqlmux_schema_type *type, size_t index);
CQLMUX_API const char *cqlmux_schema_type_field_type(const cqlmux_schema_type *type, size_t index);

#ifdef __cplusplus
}
#endif

#endif /* CQLMUX_H */

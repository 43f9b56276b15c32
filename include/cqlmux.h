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
/* Configuration                                                             */
/* ======================================================================== */

/*
 * A cqlmux_config collects the settings a session is created with. It is a
 * plain value: setters check and store, nothing starts until the session is
 * created, and the session copies what it needs (the config may be freed or
 * reused afterwards). Not thread-safe: one thread at a time per config.
 * Every setter returns CQLMUX_OK, or CQLMUX_ERR_INVALID_ARGUMENT (NULL config
 * or value out of range) and leaves the config unchanged.
 */
typedef struct cqlmux_config cqlmux_config;

/* The event-notification mechanism of the I/O threads. */
typedef enum cqlmux_io_backend {
  CQLMUX_IO_BACKEND_DEFAULT = 0, /* chosen at build time (configure --with-io-backend) */
  CQLMUX_IO_BACKEND_EPOLL = 1,   /* Linux epoll(7); woken through an eventfd */
  CQLMUX_IO_BACKEND_POLL = 2     /* portable poll(2); woken through a pipe */
} cqlmux_io_backend;

/* Bounds of the thread-count setters. */
#define CQLMUX_MAX_IO_THREADS 64
#define CQLMUX_MAX_CALLBACK_THREADS 256

/* A config holding every default (see each setter). Returns NULL when memory
 * runs out. The caller owns it: cqlmux_config_free(). */
CQLMUX_API cqlmux_config *cqlmux_config_new(void);

/* The same, but the config itself and everything the session later allocates
 * go through `allocator`, which is copied (NULL = the C library's). Whatever
 * its user_data points to must stay usable until the last object allocated
 * through it is freed: futures may outlive their session. Returns NULL when
 * memory runs out or an allocator function pointer is NULL. */
CQLMUX_API cqlmux_config *cqlmux_config_new_with_allocator(const cqlmux_allocator *allocator);

/* Accepts NULL. */
CQLMUX_API void cqlmux_config_free(cqlmux_config *config);

/* I/O threads, each owning a share of the connections: 1 to
 * CQLMUX_MAX_IO_THREADS. Default 1. */
CQLMUX_API int cqlmux_config_set_io_threads(cqlmux_config *config, unsigned count);

/* Callback worker threads: 0 to CQLMUX_MAX_CALLBACK_THREADS. Default 1.
 * 0 runs every completion callback on the I/O thread that completed it: the
 * lowest latency, but a slow callback then stalls that thread's connections. */
CQLMUX_API int cqlmux_config_set_callback_threads(cqlmux_config *config, unsigned count);

/* The I/O backend. Default CQLMUX_IO_BACKEND_DEFAULT. CQLMUX_ERR_INVALID_ARGUMENT
 * also when this build or platform lacks that backend. */
CQLMUX_API int cqlmux_config_set_io_backend(cqlmux_config *config, cqlmux_io_backend backend);

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
 * code); NULL while pending, on success, or for NULL. Owned by the future:
 * valid until cqlmux_future_free(). */
CQLMUX_API const char *cqlmux_future_error_message(const cqlmux_future *future);

/*
 * Release the caller's reference. Accepts NULL. Before completion this
 * detaches: the request is not cancelled, it completes and runs its callback
 * as usual, and the memory goes when the library is done with it. Calling it
 * a second time on the same future is an error, except inside that future's
 * callback, where the extra call is ignored.
 */
CQLMUX_API void cqlmux_future_free(cqlmux_future *future);

#ifdef __cplusplus
}
#endif

#endif /* CQLMUX_H */

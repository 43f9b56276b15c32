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

#ifdef __cplusplus
}
#endif

#endif /* CQLMUX_H */

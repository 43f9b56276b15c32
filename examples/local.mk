# Examples use only the public header and link the installed-style library.
noinst_PROGRAMS += examples/version
examples_version_SOURCES = examples/version.c
examples_version_LDADD = lib/libcqlmux.la

noinst_PROGRAMS += examples/hello
examples_hello_SOURCES = examples/hello.c
examples_hello_LDADD = lib/libcqlmux.la
examples_hello_CFLAGS = $(AM_CFLAGS)

noinst_PROGRAMS += examples/types
examples_types_SOURCES = examples/types.c
examples_types_LDADD = lib/libcqlmux.la
examples_types_CFLAGS = $(AM_CFLAGS)

noinst_PROGRAMS += examples/batch
examples_batch_SOURCES = examples/batch.c
examples_batch_LDADD = lib/libcqlmux.la
examples_batch_CFLAGS = $(AM_CFLAGS)

noinst_PROGRAMS += examples/paging
examples_paging_SOURCES = examples/paging.c
examples_paging_LDADD = lib/libcqlmux.la
examples_paging_CFLAGS = $(AM_CFLAGS)

noinst_PROGRAMS += examples/async
examples_async_SOURCES = examples/async.c
examples_async_LDADD = lib/libcqlmux.la
examples_async_CFLAGS = $(AM_CFLAGS)

noinst_PROGRAMS += examples/prepared_types
examples_prepared_types_SOURCES = examples/prepared_types.c
examples_prepared_types_LDADD = lib/libcqlmux.la
examples_prepared_types_CFLAGS = $(AM_CFLAGS)

noinst_PROGRAMS += examples/tls_auth
examples_tls_auth_SOURCES = examples/tls_auth.c
examples_tls_auth_LDADD = lib/libcqlmux.la
examples_tls_auth_CFLAGS = $(AM_CFLAGS)

noinst_PROGRAMS += examples/busy
examples_busy_SOURCES = examples/busy.c
examples_busy_LDADD = lib/libcqlmux.la
examples_busy_CFLAGS = $(AM_CFLAGS)

noinst_PROGRAMS += examples/metrics_http
examples_metrics_http_SOURCES = examples/metrics_http.c
examples_metrics_http_LDADD = lib/libcqlmux.la
examples_metrics_http_CFLAGS = $(AM_CFLAGS)

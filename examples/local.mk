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

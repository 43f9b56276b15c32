# Examples use only the public header and link the installed-style library.
noinst_PROGRAMS += examples/version
examples_version_SOURCES = examples/version.c
examples_version_LDADD = lib/libcqlmux.la

noinst_PROGRAMS += examples/hello
examples_hello_SOURCES = examples/hello.c
examples_hello_LDADD = lib/libcqlmux.la
examples_hello_CFLAGS = $(AM_CFLAGS)

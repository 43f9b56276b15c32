# Installed tools: the benchmark (issue 7). It links the library's
# convenience archive because raw mode encodes requests with lib/proto, which
# the shared library does not export; driver mode uses the public API only.
bin_PROGRAMS += tools/cqlmux-bench
tools_cqlmux_bench_SOURCES = tools/bench/bench.h tools/bench/main.c tools/bench/measure.c \
	tools/bench/workload.c tools/bench/driver.c tools/bench/raw.c \
	tools/bench/syscalls.c
tools_cqlmux_bench_LDADD = lib/libcqlmux_core.la $(DEPS_LIBS)

# The mock CQL server (doc/mock-server.md, cqlmux-mock(1)): a convenience
# library that the test suites link (its sources stay beside those suites in
# tests/mock/), and the installed cqlmux-mock program on top of it. Neither
# needs Criterion, so both are built with --disable-tests too (the Debian
# package ships cqlmux-mock).
noinst_LTLIBRARIES += tests/mock/libcqlmux_mock.la
tests_mock_libcqlmux_mock_la_SOURCES = \
	tests/mock/mock.h tests/mock/mock_internal.h \
	tests/mock/mock_answer.c tests/mock/mock_conn.c tests/mock/mock_fault.c \
	tests/mock/mock_handler.c tests/mock/mock_keyspace.c tests/mock/mock_loop.c \
	tests/mock/mock_murmur3.c tests/mock/mock_node.c tests/mock/mock_routing.c \
	tests/mock/mock_null.c tests/mock/mock_prime.c tests/mock/mock_record.c \
	tests/mock/mock_script.c tests/mock/mock_server.c tests/mock/mock_system.c tests/mock/mock_util.c \
	tests/mock/mock_value.c
tests_mock_libcqlmux_mock_la_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_libcqlmux_mock_la_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)

bin_PROGRAMS += tools/cqlmux-mock
tools_cqlmux_mock_SOURCES = tools/mock/main.c
tools_cqlmux_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tools_cqlmux_mock_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)
tools_cqlmux_mock_LDADD = tests/mock/libcqlmux_mock.la lib/libcqlmux_core.la $(DEPS_LIBS)
# Run by tools/test-all (mock-python-driver): a third-party driver against it.
EXTRA_DIST += tests/mock/python_driver_check.py

EXTRA_DIST += tools/bench/run-matrix.sh tools/bench/ab.sh tools/bench/plot.gp doc/performance.md doc/performance.png

# `make bench`: the fixed matrix against the mock server's null mode (its own
# process), written into doc/performance.md and doc/performance.png of the
# source tree. CQLMUX_BENCH_SECONDS shortens or lengthens each run.
bench: tools/cqlmux-bench$(EXEEXT) tools/cqlmux-mock$(EXEEXT)
	$(SHELL) $(srcdir)/tools/bench/run-matrix.sh --bench tools/cqlmux-bench \
	  --mock tools/cqlmux-mock --doc $(srcdir)/doc

# `make bench-cassandra`: the select workload against a real Cassandra that
# the script starts (tools/cassandra-local, its own port) and stops.
bench-cassandra: tools/cqlmux-bench$(EXEEXT)
	$(SHELL) $(srcdir)/tools/bench/run-matrix.sh --bench tools/cqlmux-bench --cassandra \
	  --doc $(srcdir)/doc
.PHONY: bench bench-cassandra

# cqlmux-query (issue 17): runs CQL and prints rows as a table, CSV or JSON.
# A plain user of the library: it links the installed shared library and
# includes nothing but <cqlmux.h>.
bin_PROGRAMS += tools/cqlmux-query
tools_cqlmux_query_SOURCES = tools/query/main.c tools/query/options.c tools/query/options.h \
	tools/query/describe.c tools/query/describe.h \
	tools/query/output.c tools/query/output.h tools/query/password.c tools/query/password.h \
	$(QUERY_FORMAT_SOURCES)
tools_cqlmux_query_LDADD = lib/libcqlmux.la
# The value formatting, which the unit tests link as well.
QUERY_FORMAT_SOURCES = tools/query/render.c tools/query/render.h tools/query/scalar.c \
	tools/query/scalar.h tools/query/split.c tools/query/split.h tools/query/strbuf.c \
	tools/query/strbuf.h

# Installed tools: the benchmark (issue 7). It links the library's
# convenience archive because raw mode encodes requests with lib/proto, which
# the shared library does not export; driver mode uses the public API only.
bin_PROGRAMS += tools/cqlmux-bench
tools_cqlmux_bench_SOURCES = tools/bench/bench.h tools/bench/main.c tools/bench/measure.c \
	tools/bench/workload.c tools/bench/driver.c tools/bench/raw.c
tools_cqlmux_bench_LDADD = lib/libcqlmux_core.la $(DEPS_LIBS)

EXTRA_DIST += tools/bench/run-matrix.sh tools/bench/plot.gp doc/performance.md doc/performance.png

# `make bench`: the fixed matrix against the mock server's null mode (its own
# process), written into doc/performance.md and doc/performance.png of the
# source tree. CQLMUX_BENCH_SECONDS shortens or lengthens each run.
if ENABLE_TESTS
bench: tools/cqlmux-bench$(EXEEXT) tests/mock/cqlmux-mock$(EXEEXT)
	$(SHELL) $(srcdir)/tools/bench/run-matrix.sh --bench tools/cqlmux-bench \
	  --mock tests/mock/cqlmux-mock --doc $(srcdir)/doc
else
bench:
	@echo "make bench needs the mock server: configure without --disable-tests" >&2; exit 1
endif

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
	tools/query/output.c tools/query/output.h tools/query/password.c tools/query/password.h \
	$(QUERY_FORMAT_SOURCES)
tools_cqlmux_query_LDADD = lib/libcqlmux.la
# Its manual. man1_MANS rather than dist_man1_MANS, which doc/local.mk
# owns for the other tools' pages; the page is distributed through EXTRA_DIST.
man1_MANS = doc/cqlmux-query.1
EXTRA_DIST += doc/cqlmux-query.1
# The value formatting, which the unit tests link as well.
QUERY_FORMAT_SOURCES = tools/query/render.c tools/query/render.h tools/query/scalar.c \
	tools/query/scalar.h tools/query/split.c tools/query/split.h tools/query/strbuf.c \
	tools/query/strbuf.h

# Issue 7: the latency histogram and the metrics API with its
# Prometheus rendering.
check_PROGRAMS += tests/unit/test_metrics
TESTS += tests/unit/test_metrics
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_metrics_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_metrics_LDADD = $(TEST_LDADD)

# Where a result keeps the bytes it borrows (issue 7: no allocation per
# request, no pinned receive buffer for small results).
check_PROGRAMS += tests/unit/test_result
TESTS += tests/unit/test_result
tests_unit_test_result_SOURCES = tests/unit/test_result.c tests/unit/rt_util.c tests/unit/rt_util.h \
	tests/unit/rows_fixture.c tests/unit/rows_fixture.h
tests_unit_test_result_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_result_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_result_LDADD = $(TEST_LDADD)

# Deferred worker wake-ups (issue 7: one futex wake per batch of completions).
check_PROGRAMS += tests/unit/test_workers_defer
TESTS += tests/unit/test_workers_defer
tests_unit_test_workers_defer_SOURCES = tests/unit/test_workers_defer.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_workers_defer_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_workers_defer_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_workers_defer_LDADD = $(TEST_LDADD)

# The columns a connection's answers repeat, shared instead of decoded into
# every result (issue 18: memory per request in flight of unprepared
# queries).
check_PROGRAMS += tests/unit/test_columns_memo
TESTS += tests/unit/test_columns_memo
tests_unit_test_columns_memo_SOURCES = tests/unit/test_columns_memo.c tests/unit/rt_util.c \
	tests/unit/rt_util.h tests/unit/rows_fixture.c tests/unit/rows_fixture.h
tests_unit_test_columns_memo_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_columns_memo_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_columns_memo_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_colocation
TESTS += tests/unit/test_colocation
tests_unit_test_colocation_SOURCES = tests/unit/test_colocation.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_colocation_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_colocation_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_colocation_LDADD = $(TEST_LDADD)

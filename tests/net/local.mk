# The connection layer against the mock server's faults.
check_PROGRAMS += tests/net/test_session_faults
TESTS += tests/net/test_session_faults
tests_net_test_session_faults_SOURCES = tests/net/test_session_faults.c tests/net/session_fixture.h
tests_net_test_session_faults_CPPFLAGS = $(TEST_CPPFLAGS)
tests_net_test_session_faults_CFLAGS = $(TEST_CFLAGS)
tests_net_test_session_faults_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

# Sessions under sustained load (issue 7): no request lost, metrics add up.
check_PROGRAMS += tests/net/test_session_load
TESTS += tests/net/test_session_load
tests_net_test_session_load_SOURCES = tests/net/test_session_load.c tests/net/session_fixture.h
tests_net_test_session_load_CPPFLAGS = $(TEST_CPPFLAGS)
tests_net_test_session_load_CFLAGS = $(TEST_CFLAGS)
tests_net_test_session_load_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

check_PROGRAMS += tests/net/test_session_regressions
TESTS += tests/net/test_session_regressions
tests_net_test_session_regressions_SOURCES = tests/net/test_session_regressions.c tests/net/session_fixture.h
tests_net_test_session_regressions_CPPFLAGS = $(TEST_CPPFLAGS)
tests_net_test_session_regressions_CFLAGS = $(TEST_CFLAGS)
tests_net_test_session_regressions_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

# Statements and results (issue 15): server details the real node cannot be
# made to send on demand.
check_PROGRAMS += tests/net/test_statements_mock
TESTS += tests/net/test_statements_mock
tests_net_test_statements_mock_SOURCES = tests/net/test_statements_mock.c tests/net/session_fixture.h
tests_net_test_statements_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_net_test_statements_mock_CFLAGS = $(TEST_CFLAGS)
tests_net_test_statements_mock_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

# Warnings, custom payloads and tracing against the mock (issue 15 items 4, 5).
check_PROGRAMS += tests/net/test_prefix_mock
TESTS += tests/net/test_prefix_mock
tests_net_test_prefix_mock_SOURCES = tests/net/test_prefix_mock.c tests/net/session_fixture.h
tests_net_test_prefix_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_net_test_prefix_mock_CFLAGS = $(TEST_CFLAGS)
tests_net_test_prefix_mock_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

# Allocation failure (issue 16): every allocation of a connect-query-
# prepare-page-close cycle fails in turn; each run ends cleanly, leak-free.
check_PROGRAMS += tests/net/test_alloc_failure
TESTS += tests/net/test_alloc_failure
tests_net_test_alloc_failure_SOURCES = tests/net/test_alloc_failure.c tests/net/session_fixture.h
tests_net_test_alloc_failure_CPPFLAGS = $(TEST_CPPFLAGS)
tests_net_test_alloc_failure_CFLAGS = $(TEST_CFLAGS)
tests_net_test_alloc_failure_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

# The whole-path libFuzzer harness (the session against the mock, the input
# as the server's bytes) and its seeds, run by tests/fuzz/run.sh (not by make).
EXTRA_DIST += tests/fuzz/fuzz_session.c tests/fuzz/gen_session_corpus.py \
	tests/fuzz/corpus/fuzz_session

check_PROGRAMS += tests/net/test_session_colocation
TESTS += tests/net/test_session_colocation
tests_net_test_session_colocation_SOURCES = tests/net/test_session_colocation.c tests/net/session_fixture.h
tests_net_test_session_colocation_CPPFLAGS = $(TEST_CPPFLAGS)
tests_net_test_session_colocation_CFLAGS = $(TEST_CFLAGS)
tests_net_test_session_colocation_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

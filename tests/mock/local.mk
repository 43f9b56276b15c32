# The mock CQL server (doc/mock-server.md): a convenience library that test
# suites link, the cqlmux-mock program on top of it, and its own suite.
noinst_LTLIBRARIES += tests/mock/libcqlmux_mock.la
tests_mock_libcqlmux_mock_la_SOURCES = \
	tests/mock/mock.h tests/mock/mock_internal.h \
	tests/mock/mock_answer.c tests/mock/mock_conn.c tests/mock/mock_fault.c \
	tests/mock/mock_handler.c tests/mock/mock_loop.c tests/mock/mock_node.c \
	tests/mock/mock_null.c tests/mock/mock_prime.c tests/mock/mock_record.c \
	tests/mock/mock_script.c tests/mock/mock_server.c tests/mock/mock_system.c tests/mock/mock_util.c \
	tests/mock/mock_value.c
tests_mock_libcqlmux_mock_la_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_libcqlmux_mock_la_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)

# Installed with the tests enabled (the default), so applications can be
# tried against the mock cluster without a build tree.
bin_PROGRAMS += tests/mock/cqlmux-mock
tests_mock_cqlmux_mock_SOURCES = tests/mock/cqlmux_mock_main.c
tests_mock_cqlmux_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_cqlmux_mock_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)
tests_mock_cqlmux_mock_LDADD = tests/mock/libcqlmux_mock.la lib/libcqlmux_core.la $(DEPS_LIBS)

# The mock's own suite, driven by a raw-socket client. (TEST_LDADD already
# links tests/unit/tsan_criterion.c, which lets Criterion run under TSan.)
MOCK_TEST_SOURCES = tests/mock/mock_client.c tests/mock/mock_client.h tests/mock/test_mock.h
MOCK_TEST_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

check_PROGRAMS += tests/mock/test_mock_protocol
TESTS += tests/mock/test_mock_protocol
tests_mock_test_mock_protocol_SOURCES = tests/mock/test_mock_protocol.c $(MOCK_TEST_SOURCES)
tests_mock_test_mock_protocol_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_test_mock_protocol_CFLAGS = $(TEST_CFLAGS)
tests_mock_test_mock_protocol_LDADD = $(MOCK_TEST_LDADD)

check_PROGRAMS += tests/mock/test_mock_faults
TESTS += tests/mock/test_mock_faults
tests_mock_test_mock_faults_SOURCES = tests/mock/test_mock_faults.c $(MOCK_TEST_SOURCES)
tests_mock_test_mock_faults_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_test_mock_faults_CFLAGS = $(TEST_CFLAGS)
tests_mock_test_mock_faults_LDADD = $(MOCK_TEST_LDADD)

check_PROGRAMS += tests/mock/test_mock_clients
TESTS += tests/mock/test_mock_clients
tests_mock_test_mock_clients_SOURCES = tests/mock/test_mock_clients.c $(MOCK_TEST_SOURCES)
tests_mock_test_mock_clients_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_test_mock_clients_CFLAGS = $(TEST_CFLAGS)
tests_mock_test_mock_clients_LDADD = $(MOCK_TEST_LDADD)

check_PROGRAMS += tests/mock/test_mock_prime
TESTS += tests/mock/test_mock_prime
tests_mock_test_mock_prime_SOURCES = tests/mock/test_mock_prime.c $(MOCK_TEST_SOURCES)
tests_mock_test_mock_prime_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_test_mock_prime_CFLAGS = $(TEST_CFLAGS)
tests_mock_test_mock_prime_LDADD = $(MOCK_TEST_LDADD)

check_PROGRAMS += tests/mock/test_mock_script
TESTS += tests/mock/test_mock_script
tests_mock_test_mock_script_SOURCES = tests/mock/test_mock_script.c $(MOCK_TEST_SOURCES)
tests_mock_test_mock_script_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_test_mock_script_CFLAGS = $(TEST_CFLAGS)
tests_mock_test_mock_script_LDADD = $(MOCK_TEST_LDADD)

# Measures the null mode's ceiling by hand; built with the tests, not run.
check_PROGRAMS += tests/mock/bench_mock_null
tests_mock_bench_mock_null_SOURCES = tests/mock/bench_mock_null.c tests/mock/mock_client.c \
	tests/mock/mock_client.h
tests_mock_bench_mock_null_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_bench_mock_null_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)
tests_mock_bench_mock_null_LDADD = tests/mock/libcqlmux_mock.la lib/libcqlmux_core.la $(DEPS_LIBS)

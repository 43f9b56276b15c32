# The mock CQL server's own suites, driven by a raw-socket client. The server
# library and the cqlmux-mock program are built with the tools
# (tools/local.mk): they need no Criterion. (TEST_LDADD already links
# tests/unit/tsan_criterion.c, which lets Criterion run under TSan.)
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

check_PROGRAMS += tests/mock/test_mock_murmur3
TESTS += tests/mock/test_mock_murmur3
tests_mock_test_mock_murmur3_SOURCES = tests/mock/test_mock_murmur3.c
tests_mock_test_mock_murmur3_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_test_mock_murmur3_CFLAGS = $(TEST_CFLAGS)
tests_mock_test_mock_murmur3_LDADD = $(MOCK_TEST_LDADD)

check_PROGRAMS += tests/mock/test_mock_keyspace
TESTS += tests/mock/test_mock_keyspace
tests_mock_test_mock_keyspace_SOURCES = tests/mock/test_mock_keyspace.c $(MOCK_TEST_SOURCES)
tests_mock_test_mock_keyspace_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_test_mock_keyspace_CFLAGS = $(TEST_CFLAGS)
tests_mock_test_mock_keyspace_LDADD = $(MOCK_TEST_LDADD)

check_PROGRAMS += tests/mock/test_mock_routing
TESTS += tests/mock/test_mock_routing
tests_mock_test_mock_routing_SOURCES = tests/mock/test_mock_routing.c $(MOCK_TEST_SOURCES)
tests_mock_test_mock_routing_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_test_mock_routing_CFLAGS = $(TEST_CFLAGS)
tests_mock_test_mock_routing_LDADD = $(MOCK_TEST_LDADD)

check_PROGRAMS += tests/mock/test_mock_metadata
TESTS += tests/mock/test_mock_metadata
tests_mock_test_mock_metadata_SOURCES = tests/mock/test_mock_metadata.c $(MOCK_TEST_SOURCES)
tests_mock_test_mock_metadata_CPPFLAGS = $(TEST_CPPFLAGS)
tests_mock_test_mock_metadata_CFLAGS = $(TEST_CFLAGS)
tests_mock_test_mock_metadata_LDADD = $(MOCK_TEST_LDADD)

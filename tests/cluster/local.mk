# The cluster layer (issue 13) against a mock cluster.
check_PROGRAMS += tests/cluster/test_cluster_mock
TESTS += tests/cluster/test_cluster_mock
tests_cluster_test_cluster_mock_SOURCES = tests/cluster/test_cluster_mock.c tests/cluster/cluster_fixture.h
tests_cluster_test_cluster_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_cluster_test_cluster_mock_CFLAGS = $(TEST_CFLAGS)
tests_cluster_test_cluster_mock_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

# Pure parts of the cluster layer: schedule, contact points, topology rows.
check_PROGRAMS += tests/cluster/test_cluster_units
TESTS += tests/cluster/test_cluster_units
tests_cluster_test_cluster_units_SOURCES = tests/cluster/test_cluster_units.c
tests_cluster_test_cluster_units_CPPFLAGS = $(TEST_CPPFLAGS)
tests_cluster_test_cluster_units_CFLAGS = $(TEST_CFLAGS)
tests_cluster_test_cluster_units_LDADD = $(TEST_LDADD)

# Routing and recovery (issue 14): plans, filters, retries, re-prepare.
check_PROGRAMS += tests/cluster/test_routing_mock
TESTS += tests/cluster/test_routing_mock
tests_cluster_test_routing_mock_SOURCES = tests/cluster/test_routing_mock.c tests/cluster/cluster_fixture.h
tests_cluster_test_routing_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_cluster_test_routing_mock_CFLAGS = $(TEST_CFLAGS)
tests_cluster_test_routing_mock_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

# Token awareness: Murmur3 vectors, replication options, the token map.
check_PROGRAMS += tests/cluster/test_token_units
TESTS += tests/cluster/test_token_units
tests_cluster_test_token_units_SOURCES = tests/cluster/test_token_units.c
tests_cluster_test_token_units_CPPFLAGS = $(TEST_CPPFLAGS)
tests_cluster_test_token_units_CFLAGS = $(TEST_CFLAGS)
tests_cluster_test_token_units_LDADD = $(TEST_LDADD)

# Schema metadata: system_schema rows into snapshots, read through the API.
check_PROGRAMS += tests/cluster/test_schema_units
TESTS += tests/cluster/test_schema_units
tests_cluster_test_schema_units_SOURCES = tests/cluster/test_schema_units.c
tests_cluster_test_schema_units_CPPFLAGS = $(TEST_CPPFLAGS)
tests_cluster_test_schema_units_CFLAGS = $(TEST_CFLAGS)
tests_cluster_test_schema_units_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

# Schema metadata of a session on the mock: connect, refresh, holds, off.
check_PROGRAMS += tests/cluster/test_schema_mock
TESTS += tests/cluster/test_schema_mock
tests_cluster_test_schema_mock_SOURCES = tests/cluster/test_schema_mock.c tests/cluster/cluster_fixture.h
tests_cluster_test_schema_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_cluster_test_schema_mock_CFLAGS = $(TEST_CFLAGS)
tests_cluster_test_schema_mock_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

# Schema agreement after a schema change, against a mock cluster whose
# nodes can report a lagging schema version.
check_PROGRAMS += tests/cluster/test_schema_agreement_mock
TESTS += tests/cluster/test_schema_agreement_mock
tests_cluster_test_schema_agreement_mock_SOURCES = tests/cluster/test_schema_agreement_mock.c \
	tests/cluster/cluster_fixture.h
tests_cluster_test_schema_agreement_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_cluster_test_schema_agreement_mock_CFLAGS = $(TEST_CFLAGS)
tests_cluster_test_schema_agreement_mock_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

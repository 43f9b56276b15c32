# Integration tests talk to a real Cassandra (tools/cassandra-local); they are
# built by `make check` but run by tools/test-all, which starts the server
# each one needs and passes its address in the environment.
check_PROGRAMS += tests/integration/test_handshake_real
INTEGRATION_TESTS += tests/integration/test_handshake_real
tests_integration_test_handshake_real_SOURCES = tests/integration/test_handshake_real.c
tests_integration_test_handshake_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_handshake_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_handshake_real_LDADD = $(TEST_LDADD)

EXTRA_DIST += tests/integration/cassandra-local-check.sh tests/integration/cql_probe.py

check_PROGRAMS += tests/integration/test_session_real
INTEGRATION_TESTS += tests/integration/test_session_real
tests_integration_test_session_real_SOURCES = tests/integration/test_session_real.c
tests_integration_test_session_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_session_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_session_real_LDADD = $(TEST_LDADD)

# The codec against a real Cassandra, through a small blocking client.
check_PROGRAMS += tests/integration/test_codec_real
INTEGRATION_TESTS += tests/integration/test_codec_real
tests_integration_test_codec_real_SOURCES = tests/integration/test_codec_real.c \
	tests/integration/raw_client.c tests/integration/raw_client.h \
	tests/integration/codec_rows.c tests/integration/codec_rows.h \
	tests/integration/serial_main.c
tests_integration_test_codec_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_codec_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_codec_real_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/integration/test_metrics_real
INTEGRATION_TESTS += tests/integration/test_metrics_real
tests_integration_test_metrics_real_SOURCES = tests/integration/test_metrics_real.c
tests_integration_test_metrics_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_metrics_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_metrics_real_LDADD = $(TEST_LDADD)

# Every CQL type through the public API only (binds, builder, readers, iterators).
check_PROGRAMS += tests/integration/test_values_real
INTEGRATION_TESTS += tests/integration/test_values_real
tests_integration_test_values_real_SOURCES = tests/integration/test_values_real.c
tests_integration_test_values_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_values_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_values_real_LDADD = $(TEST_LDADD)

# cqlmux-query against the real Cassandra (tools/test-all runs it in the
# single-node and auth+TLS phases), compared exactly with these files.
EXTRA_DIST += tests/integration/query_real.sh tests/integration/query/all-types.cql \
	tests/integration/query/all-types.json tests/integration/query/some-types.csv \
	tests/integration/query/some-types.table tests/integration/query/describe-table.txt

# The cluster layer against 3 real nodes: discovery, and a node killed or
# stalled under load (tools/test-all's phase_three_nodes).
check_PROGRAMS += tests/integration/test_cluster_real
INTEGRATION_TESTS += tests/integration/test_cluster_real
tests_integration_test_cluster_real_SOURCES = tests/integration/test_cluster_real.c \
	tests/integration/serial_main.c
tests_integration_test_cluster_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_cluster_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_cluster_real_LDADD = $(TEST_LDADD)

# Batches, binding by name, bind checks, keyspaces (issue 15).
check_PROGRAMS += tests/integration/test_statements_real
INTEGRATION_TESTS += tests/integration/test_statements_real
tests_integration_test_statements_real_SOURCES = tests/integration/test_statements_real.c
tests_integration_test_statements_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_statements_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_statements_real_LDADD = $(TEST_LDADD)

# Token awareness against one real node: Murmur3 tokens against the
# server's token(), the token map's keyspaces (tools/test-all's
# phase_single_node).
check_PROGRAMS += tests/integration/test_token_real
INTEGRATION_TESTS += tests/integration/test_token_real
tests_integration_test_token_real_SOURCES = tests/integration/test_token_real.c \
	tests/integration/real_fixture.h
tests_integration_test_token_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_token_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_token_real_LDADD = $(TEST_LDADD)

# Schema metadata against a real server: system_schema.columns as the
# session's SELECT returns it, an ALTER TABLE within 2 s (phase_single_node).
check_PROGRAMS += tests/integration/test_schema_real
INTEGRATION_TESTS += tests/integration/test_schema_real
tests_integration_test_schema_real_SOURCES = tests/integration/test_schema_real.c \
	tests/integration/real_fixture.h
tests_integration_test_schema_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_schema_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_schema_real_LDADD = $(TEST_LDADD)

# A single real node killed and restarted, paused and resumed, under load
# (issue 16): run last in tools/test-all phase_single_node.
check_PROGRAMS += tests/integration/test_faults_real
INTEGRATION_TESTS += tests/integration/test_faults_real
tests_integration_test_faults_real_SOURCES = tests/integration/test_faults_real.c \
	tests/integration/serial_main.c
tests_integration_test_faults_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_integration_test_faults_real_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_faults_real_LDADD = $(TEST_LDADD)

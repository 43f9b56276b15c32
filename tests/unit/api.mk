check_PROGRAMS += tests/unit/test_statement
TESTS += tests/unit/test_statement
tests_unit_test_statement_SOURCES = tests/unit/test_statement.c
tests_unit_test_statement_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_statement_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_statement_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_call
TESTS += tests/unit/test_call
tests_unit_test_call_SOURCES = tests/unit/test_call.c tests/unit/rt_util.c tests/unit/rt_util.h
tests_unit_test_call_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_call_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_call_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_batch
TESTS += tests/unit/test_batch
tests_unit_test_batch_SOURCES = tests/unit/test_batch.c
tests_unit_test_batch_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_batch_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_batch_LDADD = $(TEST_LDADD)

# Client timestamps, temporal conversions and UUIDs (issue 15, items 3 and 7).
check_PROGRAMS += tests/unit/test_timestamp
TESTS += tests/unit/test_timestamp
tests_unit_test_timestamp_SOURCES = tests/unit/test_timestamp.c
tests_unit_test_timestamp_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_timestamp_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_timestamp_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_temporal
TESTS += tests/unit/test_temporal
tests_unit_test_temporal_SOURCES = tests/unit/test_temporal.c
tests_unit_test_temporal_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_temporal_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_temporal_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_uuid
TESTS += tests/unit/test_uuid
tests_unit_test_uuid_SOURCES = tests/unit/test_uuid.c
tests_unit_test_uuid_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_uuid_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_uuid_LDADD = $(TEST_LDADD)

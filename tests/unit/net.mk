check_PROGRAMS += tests/unit/test_stream_table
TESTS += tests/unit/test_stream_table
tests_unit_test_stream_table_SOURCES = tests/unit/test_stream_table.c
tests_unit_test_stream_table_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_stream_table_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_stream_table_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_stream_table
TESTS += tests/unit/test_stream_table
tests_unit_test_stream_table_SOURCES = tests/unit/test_stream_table.c
tests_unit_test_stream_table_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_stream_table_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_stream_table_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_rbuf
TESTS += tests/unit/test_rbuf
tests_unit_test_rbuf_SOURCES = tests/unit/test_rbuf.c
tests_unit_test_rbuf_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_rbuf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rbuf_LDADD = $(TEST_LDADD)

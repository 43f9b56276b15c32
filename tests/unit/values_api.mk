# The public value API (lib/api/value.c, lib/api/builder.c) over results
# made by the codec's response encoder.
check_PROGRAMS += tests/unit/test_values_api
TESTS += tests/unit/test_values_api
tests_unit_test_values_api_SOURCES = tests/unit/test_values_api.c \
	tests/unit/value_table.c tests/unit/value_table.h
tests_unit_test_values_api_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_values_api_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_values_api_LDADD = $(TEST_LDADD)

# cqlmux-query's formatting and statement splitting (tools/query/), on
# their own: scalar text rules, whole values walked through the public value
# API, and the splitter.
QUERY_TEST_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/tools

check_PROGRAMS += tests/unit/test_query_scalar
TESTS += tests/unit/test_query_scalar
tests_unit_test_query_scalar_SOURCES = tests/unit/test_query_scalar.c tools/query/scalar.c \
	tools/query/strbuf.c
tests_unit_test_query_scalar_CPPFLAGS = $(QUERY_TEST_CPPFLAGS)
tests_unit_test_query_scalar_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_query_scalar_LDADD = $(TEST_LDADD) -lm

check_PROGRAMS += tests/unit/test_query_split
TESTS += tests/unit/test_query_split
tests_unit_test_query_split_SOURCES = tests/unit/test_query_split.c tools/query/split.c
tests_unit_test_query_split_CPPFLAGS = $(QUERY_TEST_CPPFLAGS)
tests_unit_test_query_split_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_query_split_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_query_render
TESTS += tests/unit/test_query_render
tests_unit_test_query_render_SOURCES = tests/unit/test_query_render.c tests/unit/value_table.c \
	tests/unit/value_table.h tools/query/render.c tools/query/scalar.c tools/query/strbuf.c
tests_unit_test_query_render_CPPFLAGS = $(QUERY_TEST_CPPFLAGS)
tests_unit_test_query_render_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_query_render_LDADD = $(TEST_LDADD) -lm

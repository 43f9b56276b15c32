check_PROGRAMS += tests/unit/test_tls
TESTS += tests/unit/test_tls
tests_unit_test_tls_SOURCES = tests/unit/test_tls.c \
	tests/unit/tls_fixture.c tests/unit/tls_fixture.h
tests_unit_test_tls_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_tls_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tls_LDADD = $(TEST_LDADD)

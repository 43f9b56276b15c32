check_PROGRAMS += tests/unit/test_version
TESTS += tests/unit/test_version
tests_unit_test_version_SOURCES = tests/unit/test_version.c
tests_unit_test_version_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_version_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_version_LDADD = $(TEST_LDADD)
include tests/unit/net.mk
include tests/unit/api.mk
include tests/unit/tls.mk
include tests/unit/proto_frame.mk
include tests/unit/proto_values.mk
include tests/unit/runtime.mk
include tests/unit/values_api.mk
include tests/unit/metrics.mk
include tests/unit/query.mk

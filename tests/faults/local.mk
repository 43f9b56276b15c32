# The fault suites (issue 16, doc/reliability.md): run by `make check` like
# any suite, and together with the older fault suites by `make check-faults`.
FAULT_TESTS += tests/net/test_session_faults tests/mock/test_mock_faults \
	tests/cluster/test_cluster_mock tests/net/test_session_regressions

check_PROGRAMS += tests/faults/test_faults_mock
TESTS += tests/faults/test_faults_mock
FAULT_TESTS += tests/faults/test_faults_mock
tests_faults_test_faults_mock_SOURCES = tests/faults/test_faults_mock.c \
	tests/faults/faults_fixture.h tests/net/session_fixture.h
tests_faults_test_faults_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_faults_test_faults_mock_CFLAGS = $(TEST_CFLAGS)
tests_faults_test_faults_mock_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

check_PROGRAMS += tests/faults/test_faults_stress
TESTS += tests/faults/test_faults_stress
FAULT_TESTS += tests/faults/test_faults_stress
tests_faults_test_faults_stress_SOURCES = tests/faults/test_faults_stress.c \
	tests/faults/faults_fixture.h tests/net/session_fixture.h
tests_faults_test_faults_stress_CPPFLAGS = $(TEST_CPPFLAGS)
tests_faults_test_faults_stress_CFLAGS = $(TEST_CFLAGS)
tests_faults_test_faults_stress_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

check_PROGRAMS += tests/faults/test_faults_overload
TESTS += tests/faults/test_faults_overload
FAULT_TESTS += tests/faults/test_faults_overload
tests_faults_test_faults_overload_SOURCES = tests/faults/test_faults_overload.c \
	tests/faults/faults_fixture.h tests/net/session_fixture.h
tests_faults_test_faults_overload_CPPFLAGS = $(TEST_CPPFLAGS)
tests_faults_test_faults_overload_CFLAGS = $(TEST_CFLAGS)
tests_faults_test_faults_overload_LDADD = tests/mock/libcqlmux_mock.la $(TEST_LDADD)

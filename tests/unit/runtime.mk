# Runtime suites (issue 4): queues, workers, futures, timers, pools, logging,
# the I/O loop on both backends, the runtime object and the config.
# tsan_criterion.c is empty except in a ThreadSanitizer build, where it lets
# Criterion's sandbox start (see the file).
RUNTIME_TEST_HELPERS = tests/unit/rt_util.c tests/unit/rt_util.h tests/unit/tsan_criterion.c

check_PROGRAMS += tests/unit/test_queues
TESTS += tests/unit/test_queues
tests_unit_test_queues_SOURCES = tests/unit/test_queues.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_queues_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_queues_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_queues_LDADD = $(TEST_LDADD)

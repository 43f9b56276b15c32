# Runtime suites (issue 4): queues, workers, futures, timers, pools, logging,
# the I/O loop on both backends, the runtime object and the config.
RUNTIME_TEST_HELPERS = tests/unit/rt_util.c tests/unit/rt_util.h

# ThreadSanitizer and Criterion: tests/unit/tsan_criterion.c lets Criterion's
# sandbox start under TSan (see the file; it is empty in other builds). Its
# object is linked into every test program through TEST_LDADD: an archive
# member would be dropped, since only libcriterion refers to rand_r. The
# archive exists only to get the object built with the usual flags.
check_LIBRARIES = tests/unit/libtsan_criterion.a
tests_unit_libtsan_criterion_a_SOURCES = tests/unit/tsan_criterion.c
TEST_LDADD += tests/unit/tsan_criterion.$(OBJEXT)

check_PROGRAMS += tests/unit/test_queues
TESTS += tests/unit/test_queues
tests_unit_test_queues_SOURCES = tests/unit/test_queues.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_queues_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_queues_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_queues_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_workers
TESTS += tests/unit/test_workers
tests_unit_test_workers_SOURCES = tests/unit/test_workers.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_workers_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_workers_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_workers_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_future
TESTS += tests/unit/test_future
tests_unit_test_future_SOURCES = tests/unit/test_future.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_future_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_future_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_future_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_timer_heap
TESTS += tests/unit/test_timer_heap
tests_unit_test_timer_heap_SOURCES = tests/unit/test_timer_heap.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_timer_heap_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_timer_heap_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_timer_heap_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_objpool
TESTS += tests/unit/test_objpool
tests_unit_test_objpool_SOURCES = tests/unit/test_objpool.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_objpool_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_objpool_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_objpool_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_log
TESTS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_log_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_log_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_log_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_config_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_config_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_config_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_loop
TESTS += tests/unit/test_loop
tests_unit_test_loop_SOURCES = tests/unit/test_loop.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_loop_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_loop_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_loop_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_runtime
TESTS += tests/unit/test_runtime
tests_unit_test_runtime_SOURCES = tests/unit/test_runtime.c $(RUNTIME_TEST_HELPERS)
tests_unit_test_runtime_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_runtime_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_runtime_LDADD = $(TEST_LDADD)

# The same future tests against the portable wait (striped condition
# variables), which other systems than Linux use: future.c is compiled into
# the test itself with CQLMUX_FUTURE_PORTABLE_WAIT, so its definitions are
# linked instead of the library's (futex) ones.
check_PROGRAMS += tests/unit/test_future_portable
TESTS += tests/unit/test_future_portable
tests_unit_test_future_portable_SOURCES = tests/unit/test_future.c lib/runtime/future.c \
  $(RUNTIME_TEST_HELPERS)
tests_unit_test_future_portable_CPPFLAGS = $(TEST_CPPFLAGS) -DCQLMUX_FUTURE_PORTABLE_WAIT
tests_unit_test_future_portable_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_future_portable_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_budget
TESTS += tests/unit/test_budget
tests_unit_test_budget_SOURCES = tests/unit/test_budget.c
tests_unit_test_budget_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_budget_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_budget_LDADD = $(TEST_LDADD)

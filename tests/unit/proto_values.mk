# Response and value half of the CQL codec (lib/proto types, values, responses).
check_PROGRAMS += tests/unit/test_proto_types tests/unit/test_proto_values \
	tests/unit/test_proto_response
TESTS += tests/unit/test_proto_types tests/unit/test_proto_values \
	tests/unit/test_proto_response

tests_unit_test_proto_types_SOURCES = tests/unit/test_proto_types.c
tests_unit_test_proto_types_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_proto_types_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proto_types_LDADD = $(TEST_LDADD)

tests_unit_test_proto_values_SOURCES = tests/unit/test_proto_values.c
tests_unit_test_proto_values_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_proto_values_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proto_values_LDADD = $(TEST_LDADD)

tests_unit_test_proto_response_SOURCES = tests/unit/test_proto_response.c
tests_unit_test_proto_response_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_proto_response_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proto_response_LDADD = $(TEST_LDADD)

# libFuzzer harnesses and seeds, run by tests/fuzz/run.sh (not by make).
EXTRA_DIST += tests/fuzz/fuzz_result.c tests/fuzz/fuzz_values.c tests/fuzz/gen_corpus_values.c \
	tests/fuzz/corpus/fuzz_result tests/fuzz/corpus/fuzz_values

# RESULT decode microbenchmark (not a test): tests/bench/bench_proto_decode [iterations]
noinst_PROGRAMS += tests/bench/bench_proto_decode
tests_bench_bench_proto_decode_SOURCES = tests/bench/bench_proto_decode.c
tests_bench_bench_proto_decode_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_proto_decode_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)
tests_bench_bench_proto_decode_LDADD = lib/libcqlmux_core.la $(DEPS_LIBS)

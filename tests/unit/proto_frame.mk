# Codec, framing and request half: wire primitives, CRCs, envelopes, v5
# frames, request encoders/decoders; plus the encode microbenchmark.
PROTO_FRAME_TESTS = tests/unit/test_proto_wire tests/unit/test_proto_crc \
	tests/unit/test_proto_envelope tests/unit/test_proto_frame_v5 \
	tests/unit/test_proto_request
check_PROGRAMS += $(PROTO_FRAME_TESTS)
TESTS += $(PROTO_FRAME_TESTS)

tests_unit_test_proto_wire_SOURCES = tests/unit/test_proto_wire.c
tests_unit_test_proto_wire_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_proto_wire_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proto_wire_LDADD = $(TEST_LDADD)

tests_unit_test_proto_crc_SOURCES = tests/unit/test_proto_crc.c
tests_unit_test_proto_crc_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_proto_crc_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proto_crc_LDADD = $(TEST_LDADD)

tests_unit_test_proto_envelope_SOURCES = tests/unit/test_proto_envelope.c
tests_unit_test_proto_envelope_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_proto_envelope_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proto_envelope_LDADD = $(TEST_LDADD)

tests_unit_test_proto_frame_v5_SOURCES = tests/unit/test_proto_frame_v5.c
tests_unit_test_proto_frame_v5_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_proto_frame_v5_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proto_frame_v5_LDADD = $(TEST_LDADD)

tests_unit_test_proto_request_SOURCES = tests/unit/test_proto_request.c
tests_unit_test_proto_request_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_proto_request_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proto_request_LDADD = $(TEST_LDADD)

noinst_PROGRAMS += tests/bench/bench_proto_encode
tests_bench_bench_proto_encode_SOURCES = tests/bench/bench_proto_encode.c
tests_bench_bench_proto_encode_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_proto_encode_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)
tests_bench_bench_proto_encode_LDADD = lib/libcqlmux_core.la $(DEPS_LIBS)

# libFuzzer harnesses and seeds, run by tests/fuzz/run.sh (not by make).
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/fuzz_walk.h tests/fuzz/fuzz_envelope.c \
	tests/fuzz/fuzz_frame_v5.c tests/fuzz/gen_corpus.c \
	tests/fuzz/corpus/fuzz_envelope tests/fuzz/corpus/fuzz_frame_v5

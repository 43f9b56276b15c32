# Test programs. Unit suites run in `make check`; INTEGRATION_TESTS need a
# real Cassandra (see tools/cassandra-local) and run in `make check-integration`.
# The layers call only downward (tests/layering.sh says how it checks).
TESTS += tests/layering.sh
EXTRA_DIST += tests/layering.sh

if ENABLE_TESTS
include tests/unit/local.mk
include tests/integration/local.mk
include tests/net/local.mk
include tests/mock/local.mk
include tests/cluster/local.mk
include tests/faults/local.mk
include tests/soak/local.mk
endif

# Test programs. Unit suites run in `make check`; INTEGRATION_TESTS need a
# real Cassandra (see tools/cassandra-local) and run in `make check-integration`.
if ENABLE_TESTS
include tests/unit/local.mk
include tests/integration/local.mk
include tests/net/local.mk
include tests/mock/local.mk
include tests/cluster/local.mk
endif

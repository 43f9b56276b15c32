# Soak (issue 16): a session under steady load with a fault every few
# seconds, for SOAK_MINUTES (default 10). Built by `make check`, run only
# by `make soak` (never by make check nor .ci/run): it takes minutes.
# doc/reliability.md records a run.
check_PROGRAMS += tests/soak/soak_session
tests_soak_soak_session_SOURCES = tests/soak/soak_session.c
tests_soak_soak_session_CPPFLAGS = $(TEST_CPPFLAGS)
tests_soak_soak_session_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)
tests_soak_soak_session_LDADD = tests/mock/libcqlmux_mock.la lib/libcqlmux_core.la $(DEPS_LIBS)

SOAK_MINUTES = 10
soak: tests/soak/soak_session$(EXEEXT)
	SOAK_MINUTES=$(SOAK_MINUTES) ./tests/soak/soak_session$(EXEEXT)

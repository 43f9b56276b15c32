
EXTRA_DIST += doc/mock-server.md

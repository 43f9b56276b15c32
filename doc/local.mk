
EXTRA_DIST += doc/mock-server.md doc/routing.md doc/tuning.md doc/errors.md doc/threads.md \
	doc/statements.md doc/schema.md doc/reliability.md

# Manual pages. Section 1: written by hand. Section 3: generated from the
# public header at build time (tools/gen-man3: one page per header group,
# and a .so link per function and type), so a new function has its page as
# soon as it is declared; `make check` fails when an exported cqlmux_ symbol
# has none (tools/check-man-pages). Generated pages are not distributed: any
# POSIX sh and awk rebuild them.
dist_man1_MANS = doc/cqlmux-bench.1 doc/cqlmux-mock.1 doc/cqlmux-query.1
# automake defines man3dir only for listed pages; these are generated.
man3dir = $(mandir)/man3
EXTRA_DIST += tools/gen-man3 tools/check-man-pages tools/update-symbols

doc/man3.stamp: $(top_srcdir)/include/cqlmux.h $(top_srcdir)/tools/gen-man3
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/tools/gen-man3 $(top_srcdir)/include/cqlmux.h \
	  doc/man3 $(PACKAGE_VERSION) && touch $@

all-local: doc/man3.stamp

# The pages are whatever the generator made, so install and uninstall go by
# the build directory's doc/man3 (the same list both ways).
install-data-local: doc/man3.stamp
	$(MKDIR_P) '$(DESTDIR)$(man3dir)'
	$(INSTALL_DATA) doc/man3/*.3 '$(DESTDIR)$(man3dir)'

uninstall-local:
	@for page in doc/man3/*.3; do \
	  echo " rm -f '$(DESTDIR)$(man3dir)/`basename $$page`'"; \
	  rm -f "$(DESTDIR)$(man3dir)/`basename $$page`"; \
	done

clean-local:
	rm -rf doc/man3 doc/man3.stamp

# Also: the Debian symbols file lists exactly the library's exports (where
# debian/ is present: the git tree, not the release tarball).
check-local: doc/man3.stamp lib/libcqlmux.la
	$(SHELL) $(top_srcdir)/tools/check-man-pages lib/.libs/libcqlmux.so \
	  $(top_srcdir)/include/cqlmux.h doc/man3 $(top_srcdir)/doc/cqlmux-mock.1 \
	  $(top_srcdir)/tests/mock/mock_script.c $(top_srcdir)/tests/mock/mock.h
	@if test -f $(top_srcdir)/debian/libcqlmux0.symbols; then \
	  $(SHELL) $(top_srcdir)/tools/update-symbols --check lib/.libs/libcqlmux.so; fi

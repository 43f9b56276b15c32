lib_libcqlmux_core_la_SOURCES += \
	lib/net/rbuf.c lib/net/rbuf.h \
	lib/net/socket.c lib/net/socket.h \
	lib/net/stream_table.c lib/net/stream_table.h \
	lib/net/tls.c lib/net/tls.h

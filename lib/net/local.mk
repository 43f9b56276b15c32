lib_libcqlmux_core_la_SOURCES += \
	lib/net/connection.c lib/net/connection.h lib/net/connection_internal.h \
	lib/net/conn_flow.c lib/net/conn_handshake.c lib/net/conn_health.c \
	lib/net/request.h \
	lib/net/loop.c lib/net/loop.h lib/net/loop_backend.h \
	lib/net/loop_epoll.c lib/net/loop_poll.c \
	lib/net/rbuf.c lib/net/rbuf.h \
	lib/net/runtime.c lib/net/runtime.h \
	lib/net/socket.c lib/net/socket.h \
	lib/net/stream_table.c lib/net/stream_table.h \
	lib/net/tls.c lib/net/tls.h

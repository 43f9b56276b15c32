lib_libcqlmux_core_la_SOURCES += \
	lib/net/loop.c lib/net/loop.h lib/net/loop_backend.h \
	lib/net/loop_epoll.c lib/net/loop_poll.c \
	lib/net/runtime.c lib/net/runtime.h

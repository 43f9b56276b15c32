lib_libcqlmux_core_la_SOURCES += \
	lib/net/stream_table.c lib/net/stream_table.h

lib_libcqlmux_core_la_SOURCES += \
	lib/proto/wire.c lib/proto/wire.h \
	lib/proto/opcode.h

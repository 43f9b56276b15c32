lib_libcqlmux_core_la_SOURCES += \
	lib/runtime/alloc.c lib/runtime/alloc.h

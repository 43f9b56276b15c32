lib_libcqlmux_core_la_SOURCES += \
	lib/api/error.c \
	lib/api/version.c

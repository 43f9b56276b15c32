lib_libcqlmux_core_la_SOURCES += \
	lib/api/config.c lib/api/config.h \
	lib/api/error.c \
	lib/api/version.c

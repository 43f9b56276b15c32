lib_libcqlmux_core_la_SOURCES += \
	lib/api/config.c lib/api/config.h \
	lib/api/error.c \
	lib/api/prepared.c lib/api/prepared.h \
	lib/api/statement.c lib/api/statement.h \
	lib/api/version.c

lib_libcqlmux_core_la_SOURCES +=

lib_libcqlmux_core_la_SOURCES += \
	lib/proto/wire.c lib/proto/wire.h \
	lib/proto/opcode.h
lib_libcqlmux_core_la_SOURCES += \
	lib/proto/crc.c lib/proto/crc.h \
	lib/proto/envelope.c lib/proto/envelope.h \
	lib/proto/frame_v5.c lib/proto/frame_v5.h \
	lib/proto/request.c lib/proto/request.h \
	lib/proto/request_decode.c lib/proto/request_decode.h

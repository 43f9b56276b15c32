lib_libcqlmux_core_la_SOURCES += \
	lib/proto/wire.c lib/proto/wire.h \
	lib/proto/opcode.h
lib_libcqlmux_core_la_SOURCES += \
	lib/proto/crc.c lib/proto/crc.h \
	lib/proto/envelope.c lib/proto/envelope.h \
	lib/proto/frame_v5.c lib/proto/frame_v5.h \
	lib/proto/request.c lib/proto/request.h \
	lib/proto/request_decode.c lib/proto/request_decode.h

# Response bodies and CQL values (decode and encode).
lib_libcqlmux_core_la_SOURCES += \
	lib/proto/arena.c lib/proto/arena.h \
	lib/proto/types.c lib/proto/types_class.c lib/proto/types.h lib/proto/types_internal.h \
	lib/proto/values.c lib/proto/values_iter.c lib/proto/values_num.c lib/proto/values.h \
	lib/proto/response.c lib/proto/response_error.c lib/proto/response_event.c \
	lib/proto/response_result.c lib/proto/response.h

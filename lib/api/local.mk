lib_libcqlmux_core_la_SOURCES += \
	lib/api/answer_prefix.c lib/api/answer_prefix.h \
	lib/api/batch.c lib/api/batch.h \
	lib/api/builder.c lib/api/builder.h \
	lib/api/call.c lib/api/call.h \
	lib/api/columns_memo.c lib/api/columns_memo.h \
	lib/api/config.c lib/api/config.h \
	lib/api/identifier.c lib/api/identifier.h \
	lib/api/metrics.c lib/api/metrics.h \
	lib/api/prepared.c lib/api/prepared.h \
	lib/api/prepared_cache.c lib/api/prepared_cache.h \
	lib/api/recovery.c lib/api/recovery.h \
	lib/api/request_extras.c lib/api/request_extras.h \
	lib/api/retry.c lib/api/retry.h \
	lib/api/result.c lib/api/result.h \
	lib/api/routing.c lib/api/routing.h \
	lib/api/schema.c lib/api/schema_agreement.c lib/api/schema_agreement.h \
	lib/api/session.c lib/api/session.h \
	lib/api/session_values.c \
	lib/api/speculation.c lib/api/speculation.h \
	lib/api/statement.c lib/api/statement.h \
	lib/api/temporal.c \
	lib/api/trace.c \
	lib/api/uuid.c lib/api/uuid.h \
	lib/api/value.c lib/api/value.h \
	lib/api/version.c

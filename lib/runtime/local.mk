lib_libcqlmux_core_la_SOURCES += \
	lib/runtime/alloc.c lib/runtime/alloc.h \
	lib/runtime/budget.c lib/runtime/budget.h \
	lib/runtime/clock.c lib/runtime/clock.h \
	lib/runtime/colocation.c lib/runtime/colocation.h \
	lib/runtime/error.c \
	lib/runtime/future.c lib/runtime/future.h \
	lib/runtime/histogram.c lib/runtime/histogram.h \
	lib/runtime/intrusive.h \
	lib/runtime/log.c lib/runtime/log.h \
	lib/runtime/mpsc.c lib/runtime/mpsc.h \
	lib/runtime/objpool.c lib/runtime/objpool.h \
	lib/runtime/request_metrics.c lib/runtime/request_metrics.h \
	lib/runtime/ring.c lib/runtime/ring.h \
	lib/runtime/spin_window.h \
	lib/runtime/split_count.h \
	lib/runtime/task.h \
	lib/runtime/thread_role.c lib/runtime/thread_role.h \
	lib/runtime/timer_heap.c lib/runtime/timer_heap.h \
	lib/runtime/timestamp.c lib/runtime/timestamp.h \
	lib/runtime/workers.c lib/runtime/workers.h

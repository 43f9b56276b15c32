lib_libcqlmux_core_la_SOURCES += \
	lib/cluster/cluster.c lib/cluster/cluster.h lib/cluster/cluster_internal.h \
	lib/cluster/contact.c lib/cluster/contact.h \
	lib/cluster/control.c lib/cluster/control.h \
	lib/cluster/discovery.c \
	lib/cluster/host.c lib/cluster/host.h \
	lib/cluster/filter.c \
	lib/cluster/keyspaces.c lib/cluster/keyspaces.h \
	lib/cluster/murmur3.c lib/cluster/murmur3.h \
	lib/cluster/replicas.c \
	lib/cluster/schema.c lib/cluster/schema.h lib/cluster/schema_internal.h \
	lib/cluster/schema_decode.c lib/cluster/schema_publish.c \
	lib/cluster/token_map.c lib/cluster/token_map.h \
	lib/cluster/listener.c lib/cluster/listener.h \
	lib/cluster/plan.c lib/cluster/plan.h \
	lib/cluster/pool.c lib/cluster/pool.h \
	lib/cluster/reconnect.c lib/cluster/reconnect.h \
	lib/cluster/topology.c lib/cluster/topology.h

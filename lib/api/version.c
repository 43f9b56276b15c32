#include "cqlmux.h"

const char *cqlmux_version(void) { return CQLMUX_VERSION_STRING; }

unsigned cqlmux_version_num(void) { return CQLMUX_VERSION_NUM; }

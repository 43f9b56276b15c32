/* The smallest cqlmux program: compiled with nothing but
 *   cc version.c $(pkg-config --cflags --libs cqlmux)
 * it checks that the headers and the library it runs with agree. */
#include <cqlmux.h>
#include <stdio.h>

int main(void) {
  printf("cqlmux %s (headers %s)\n", cqlmux_version(), CQLMUX_VERSION_STRING);
  if (cqlmux_version_num() != CQLMUX_VERSION_NUM) {
    fprintf(stderr, "library %06x differs from headers %06x\n", cqlmux_version_num(),
            (unsigned)CQLMUX_VERSION_NUM);
    return 1;
  }
  return 0;
}

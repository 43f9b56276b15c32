#include <criterion/criterion.h>
#include <stdio.h>

#include "cqlmux.h"
#include "runtime/alloc.h"

Test(version, header_and_library_agree) {
  cr_assert_str_eq(cqlmux_version(), CQLMUX_VERSION_STRING);
  cr_assert_eq(cqlmux_version_num(), (unsigned)CQLMUX_VERSION_NUM);
  char expect[32];
  snprintf(expect, sizeof expect, "%d.%d.%d", CQLMUX_VERSION_MAJOR, CQLMUX_VERSION_MINOR,
           CQLMUX_VERSION_PATCH);
  cr_assert_str_eq(cqlmux_version(), expect);
  cr_assert_eq(CQLMUX_VERSION_NUM,
               (CQLMUX_VERSION_MAJOR << 16) | (CQLMUX_VERSION_MINOR << 8) | CQLMUX_VERSION_PATCH);
}

Test(errors, every_code_has_a_message) {
  static const int codes[] = {
      CQLMUX_OK, CQLMUX_ERR_INVALID_ARGUMENT, CQLMUX_ERR_NOMEM, CQLMUX_ERR_BUSY,
      CQLMUX_ERR_TIMEOUT, CQLMUX_ERR_TRUNCATED, CQLMUX_ERR_BAD_CRC, CQLMUX_ERR_SERVER};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    cr_assert_str_neq(cqlmux_strerror(codes[i]), "unknown error", "code %d", codes[i]);
  cr_assert_str_eq(cqlmux_strerror(12345), "unknown error");
}

Test(alloc, default_allocator_round_trip) {
  unsigned char *p = cqlmux_mem_calloc(NULL, 16, 4);
  cr_assert_not_null(p);
  for (int i = 0; i < 64; i++) cr_assert_eq(p[i], 0);
  p = cqlmux_mem_realloc(NULL, p, 128);
  cr_assert_not_null(p);
  cqlmux_mem_free(NULL, p);
  cr_assert_null(cqlmux_mem_calloc(NULL, SIZE_MAX / 2, 4));
}

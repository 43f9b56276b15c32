/* The mock's own Murmur3 token against published vectors: keys whose
 * tails hold bytes 0x80..0xFF (where Cassandra's sign extension changes
 * the result), whole 16-byte blocks, and the partitioner's two special
 * cases. The vectors come from driver test suites written against real
 * Cassandra tokens (elixir-cassandra's murmur3_test.exs; a Go driver's
 * TestMurmur3H1ForCassandra; gocql's TestMurmur3H1 for plain text). */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "mock/mock.h"

typedef struct vector {
  const char *key;
  size_t len;
  int64_t token;
} vector;

#define V(lit, tok) {lit, sizeof lit - 1, tok}

static const vector vectors[] = {
    V("123", -7468325962851647638LL),
    V("\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe", -8927430733708461935LL),
    V("\x10\x10\x10\x10\x10\x10\x10\x10", 1446172840243228796LL),
    V("9223372036854775807", 7162290910810015547LL),
    V("\xE2\xE7", -8582699461035929883LL),
    V("\xE2\xE7\xE2\xE7\xE2\xE7\x01", 2222373981930033306LL),
    V("\xFE\xFE\xFE\xFE", 4566408979886474012LL),
    V("\x00\x00\x00\x00", -3485513579396041028LL),
    V("\x00\xFF\xFF\xFF", 123573637386978882LL),
    V("\xFF\x01\x02\x03", -2839127690952877842LL),
    V("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", -2824192546314762522LL),
    V("\x00\x01\x02\x03\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 6463632673159404390LL),
    V("\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE\xFE",
      -1672437813826982685LL),
    V("prefix\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\xc8",
      -278181328349571586LL),
    V("prefix\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\xc8\xc9\xca\xcb\xcc\xcd"
      "\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7",
      2294903531026336836LL),
    V("hello", -3758069500696749310LL), /* 0xcbd8a7b341bd9b02 */
    V("The quick brown fox jumps over the lazy dog.", -3631792323850337591LL),
};

Test(murmur3, published_vectors) {
  for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++)
    cr_expect_eq(cqlmux_mock_token(vectors[i].key, vectors[i].len), vectors[i].token,
                 "vector %zu (%zu bytes): %lld, expected %lld", i, vectors[i].len,
                 (long long)cqlmux_mock_token(vectors[i].key, vectors[i].len),
                 (long long)vectors[i].token);
}

/* A token next to the minimum: the hash is taken as is, not normalized. */
Test(murmur3, near_minimum_token) {
  static const char key[] = "\x00\x10" "C'R\x9f\xb6" "E\xdd\x00\xb8\x83\xec" "9\xae"
                            "D\x8b\xb8\x00\x00\x04\x00\x06jk\x00";
  cr_assert_eq(cqlmux_mock_token(key, sizeof key - 1), -9223371632693506265LL);
}

/* Murmur3Partitioner gives an empty key the minimum token. */
Test(murmur3, empty_key_is_the_minimum_token) {
  cr_assert_eq(cqlmux_mock_token("", 0), INT64_MIN);
}

/* cqlmux-query's statement splitter (tools/query/split.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "query/split.h"

/* Splits text and checks the statements against want (NULL-terminated). */
static void expect_split(const char *text, const char *const *want) {
  cql_splitter s;
  cql_splitter_init(&s, text, strlen(text));
  const char *statement;
  size_t length;
  size_t i = 0;
  for (; cql_split_next(&s, &statement, &length); i++) {
    cr_assert_not_null(want[i], "extra statement %zu: %.*s", i, (int)length, statement);
    cr_assert(length == strlen(want[i]) && memcmp(statement, want[i], length) == 0,
              "statement %zu: got [%.*s], want [%s]", i, (int)length, statement, want[i]);
  }
  cr_assert_null(want[i], "missing statement %zu: %s", i, want[i]);
  cr_assert_eq(cql_split_next(&s, &statement, &length), 0, "the end stays the end");
}

#define SPLIT(text, ...) expect_split(text, (const char *const[]){__VA_ARGS__, NULL})

Test(query_split, semicolons_end_statements_and_blanks_are_trimmed) {
  SPLIT("SELECT 1; SELECT 2;\n  SELECT 3  ", "SELECT 1", "SELECT 2", "SELECT 3");
  SPLIT(";;  ;\n", NULL);
  SPLIT("", NULL);
}

Test(query_split, semicolons_inside_strings_stay) {
  SPLIT("INSERT INTO t (a) VALUES ('x;y'); SELECT 1", "INSERT INTO t (a) VALUES ('x;y')",
        "SELECT 1");
  SPLIT("SELECT 'it''s; here' FROM t; X", "SELECT 'it''s; here' FROM t", "X");
  SPLIT("SELECT '';X", "SELECT ''", "X");
}

Test(query_split, dollar_strings_and_quoted_identifiers) {
  SPLIT("CREATE FUNCTION f() AS $$ return 1; $$; SELECT 2",
        "CREATE FUNCTION f() AS $$ return 1; $$", "SELECT 2");
  SPLIT("SELECT \"a;b\", \"c\"\"d;\" FROM t; Y", "SELECT \"a;b\", \"c\"\"d;\" FROM t", "Y");
  SPLIT("SELECT $$ it's ; $$ ; Z", "SELECT $$ it's ; $$", "Z");
}

Test(query_split, comments_hide_semicolons_and_are_trimmed) {
  SPLIT("-- one; two\nSELECT 1; // three; four\nSELECT 2", "SELECT 1", "SELECT 2");
  SPLIT("/* a; b */ SELECT /* c; */ 1 /* d */; SELECT 2", "SELECT /* c; */ 1", "SELECT 2");
  SPLIT("SELECT '--not a comment;' FROM t; Q", "SELECT '--not a comment;' FROM t", "Q");
  SPLIT("SELECT 1 -- trailing", "SELECT 1");
  SPLIT("-- only a comment;\n/* and another; */", NULL);
}

Test(query_split, an_unterminated_string_or_comment_runs_to_the_end) {
  SPLIT("SELECT 'open; still open", "SELECT 'open; still open");
  SPLIT("SELECT 1; /* open; comment", "SELECT 1");
  SPLIT("SELECT $$ open;", "SELECT $$ open;");
}

Test(query_split, a_lone_slash_or_dash_is_content) {
  SPLIT("SELECT 4/2, -1; X", "SELECT 4/2, -1", "X");
}

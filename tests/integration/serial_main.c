/* main() for the integration suites whose tests share server state (one
 * keyspace, one cluster whose nodes they break): Criterion runs tests in
 * parallel by default, these run one at a time (--jobs on the command line
 * still wins). */
#include <criterion/criterion.h>
#include <criterion/options.h>

int main(int argc, char *argv[]) {
  struct criterion_test_set *tests = criterion_initialize();
  criterion_options.jobs = 1;
  int result = 0;
  if (criterion_handle_args(argc, argv, true)) result = !criterion_run_all_tests(tests);
  criterion_finalize(tests);
  return result;
}

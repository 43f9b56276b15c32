/* The memory budget (runtime/budget.h): bytes charged against a limit,
 * released by other threads, with the releases read only near the limit. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>

#include "runtime/budget.h"

Test(budget, charges_up_to_the_limit_and_refuses_past_it) {
  cqlmux_budget b;
  cqlmux_budget_init(&b, 1000);
  cr_assert(cqlmux_budget_charge(&b, 600));
  cr_assert(cqlmux_budget_charge(&b, 400), "exactly the limit is within it");
  cr_assert_not(cqlmux_budget_exhausted(&b));
  cr_assert_not(cqlmux_budget_charge(&b, 1), "one byte over");
  cr_assert(cqlmux_budget_exhausted(&b));
  cqlmux_budget_release(&b, 1);
  cqlmux_budget_release(&b, 600);
  cr_assert_not(cqlmux_budget_exhausted(&b));
  cr_assert(cqlmux_budget_charge(&b, 600), "released bytes are seen once the estimate is over");
}

Test(budget, no_limit_never_refuses) {
  cqlmux_budget b;
  cqlmux_budget_init(&b, 0);
  cr_assert(cqlmux_budget_charge(&b, (size_t)1 << 40));
  cr_assert_not(cqlmux_budget_exhausted(&b));
}

/* A release counted before the charge it answers (another thread charged,
 * used and released bytes between this charge's add and its read) reads as
 * nothing in use, not as a wrapped huge figure. */
Test(budget, a_release_seen_before_its_charge_is_not_an_exhausted_budget) {
  cqlmux_budget b;
  cqlmux_budget_init(&b, 1000);
  cqlmux_budget_release(&b, 4096);
  atomic_store(&b.released_seen, 4096);
  cr_assert(cqlmux_budget_charge(&b, 10));
  cr_assert_not(cqlmux_budget_exhausted(&b));
}

typedef struct churn {
  cqlmux_budget *b;
  int refused;
} churn;

static void *charge_and_release(void *arg) {
  churn *c = arg;
  for (int i = 0; i < 100000; i++) {
    if (!cqlmux_budget_charge(c->b, 10)) c->refused++;
    cqlmux_budget_release(c->b, 10);
  }
  return NULL;
}

/* Four threads each holding at most 10 bytes never exceed a 40-byte limit. */
Test(budget, threads_within_the_limit_are_never_refused) {
  cqlmux_budget b;
  cqlmux_budget_init(&b, 40);
  churn c[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    c[i] = (churn){&b, 0};
    cr_assert_eq(pthread_create(&t[i], NULL, charge_and_release, &c[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    cr_assert_eq(c[i].refused, 0);
  }
  cr_assert_not(cqlmux_budget_exhausted(&b));
}

Test(budget, fits_counts_the_extra_bytes_against_what_is_in_use) {
  cqlmux_budget b;
  cqlmux_budget_init(&b, 1000);
  cr_assert(cqlmux_budget_charge(&b, 600));
  cr_assert(cqlmux_budget_fits(&b, 400));
  cr_assert_not(cqlmux_budget_fits(&b, 401));
  cqlmux_budget_release(&b, 600);
  cr_assert(cqlmux_budget_fits(&b, 1000));
  cqlmux_budget unlimited;
  cqlmux_budget_init(&unlimited, 0);
  cr_assert(cqlmux_budget_fits(&unlimited, SIZE_MAX));
}

/* Light-load co-location (runtime/colocation.h, runtime/workers.h): a
 * producing I/O thread that keeps having to wake its worker pins itself to
 * its CPU and the worker follows; a busy pool (workers found awake, or a
 * backlog) releases both to their inherited masks, unless its measured CPU
 * share is small and its hand-offs come in full batches, which draws it in
 * and keeps it; a thread whose start callback chose its own affinity is
 * never narrowed.
 *
 * Each scenario runs its producer on a thread of its own that takes the I/O
 * role (cqlmux_thread_begin), as the library's loop threads do. The order is
 * made deterministic by waiting for states (the worker asleep, a task run),
 * never by sleeping. The CPU masks are read back from the threads. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_*, pthread_*affinity_np */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>

#include "runtime/clock.h"
#include "runtime/colocation.h"
#include "runtime/intrusive.h"
#include "runtime/thread_role.h"
#include "runtime/workers.h"
#include "rt_util.h"

#define WAIT_MS 20000
#define ENOUGH_HANDOFFS 32 /* more than the streak that enters light load */
#define LEAVE_HANDOFFS 64  /* the streak that leaves it */
#define BACKLOG 256        /* queued completions that leave it at once */

/* The process's mask, read on the test's main thread before any thread of
 * a scenario starts (a thread reading its own mask would see its pinning). */
static cpu_set_t process_mask;

static void note_process_mask(void) {
  cr_assert_eq(sched_getaffinity(0, sizeof process_mask, &process_mask), 0);
}

static int process_cpus(void) { return CPU_COUNT(&process_mask); }

static int own_cpu_count(void) {
  cpu_set_t set;
  cr_assert_eq(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
  return CPU_COUNT(&set);
}

/* --------------------------------------------------------------- tasks */

/* Records the CPU mask of the worker that runs it. */
typedef struct mask_probe {
  cqlmux_task task;
  _Atomic int cpus; /* 0 until run */
} mask_probe;

static void read_mask(cqlmux_task *task, int status) {
  (void)status;
  mask_probe *p = cqlmux_container_of(task, mask_probe, task);
  atomic_store(&p->cpus, own_cpu_count());
}

/* Keeps its worker busy until released. */
typedef struct blocker {
  cqlmux_task task;
  _Atomic int started;
  _Atomic int release;
} blocker;

static void block_until_released(cqlmux_task *task, int status) {
  (void)status;
  blocker *b = cqlmux_container_of(task, blocker, task);
  atomic_store(&b->started, 1);
  while (!atomic_load(&b->release)) sched_yield();
}

static void nothing(cqlmux_task *task, int status) {
  (void)task;
  (void)status;
}

/* ------------------------------------------------------------ helpers */

static bool wait_until_asleep(cqlmux_workers *w);

/* Occupy the worker. It is woken for this (which ends any streak of awake
 * hand-offs), so the streak the caller counts next starts from zero. */
static void start_blocker(cqlmux_workers *w, blocker *b) {
  cr_assert(wait_until_asleep(w), "the worker never went to sleep");
  cqlmux_task_init(&b->task, block_until_released);
  cqlmux_workers_submit(w, &b->task);
  cr_assert_eq(cqlmux_workers_flush_wakeups(), CQLMUX_HANDOFF_WOKE);
  cr_assert(rt_wait_int_at_least(&b->started, 1, WAIT_MS));
}

static bool wait_until_asleep(cqlmux_workers *w) {
  for (unsigned waited = 0; waited < WAIT_MS * 10; waited++) {
    if (cqlmux_workers_sleeping(w) == cqlmux_workers_threads(w)) return true;
    rt_sleep_us(100); /* polling a state with a deadline, not ordering */
  }
  return false;
}

/* Hand `task` to the worker once it is asleep (so the flush has to wake
 * it), then wait until the task has set *done. */
static void handoff_and_wait(cqlmux_workers *w, cqlmux_task *task, _Atomic int *done) {
  cr_assert(wait_until_asleep(w), "the worker never went to sleep");
  cqlmux_workers_submit(w, task);
  cr_assert_eq(cqlmux_workers_flush_wakeups(), CQLMUX_HANDOFF_WOKE);
  cr_assert(rt_wait_int_at_least(done, 1, WAIT_MS));
}

/* One hand-off to a sleeping worker; its task reports the worker's mask. */
static int handoff_to_sleeping_worker(cqlmux_workers *w) {
  mask_probe probe = {.cpus = 0};
  cqlmux_task_init(&probe.task, read_mask);
  handoff_and_wait(w, &probe.task, &probe.cpus);
  return atomic_load(&probe.cpus);
}

/* The worker's mask, read by a task it runs. */
static int worker_cpus(cqlmux_workers *w) {
  mask_probe probe = {.cpus = 0};
  cqlmux_task_init(&probe.task, read_mask);
  cqlmux_workers_submit(w, &probe.task);
  cqlmux_workers_flush_wakeups();
  cr_assert(rt_wait_int_at_least(&probe.cpus, 1, WAIT_MS));
  return atomic_load(&probe.cpus);
}

typedef struct scenario {
  cqlmux_workers *workers;
  const cqlmux_thread_hook *producer_hook;
  void (*run)(struct scenario *);
} scenario;

static void *producer_main(void *arg) {
  scenario *s = arg;
  cqlmux_thread_begin(CQLMUX_THREAD_IO, 0, s->producer_hook);
  cqlmux_workers_defer_wakeups(true);
  s->run(s);
  cqlmux_workers_defer_wakeups(false);
  return NULL;
}

static void run_scenario_with_ring(void (*run)(scenario *), size_t ring,
                                   const cqlmux_thread_hook *worker_hook,
                                   const cqlmux_thread_hook *producer_hook) {
  note_process_mask();
  cr_assert_geq(process_cpus(), 2, "co-location needs two CPUs to mean anything");
  scenario s = {.producer_hook = producer_hook, .run = run};
  cr_assert_eq(cqlmux_workers_new_hooked(NULL, NULL, 1, ring, worker_hook, &s.workers), CQLMUX_OK);
  cqlmux_workers_colocate(s.workers, true);
  pthread_t producer;
  cr_assert_eq(pthread_create(&producer, NULL, producer_main, &s), 0);
  pthread_join(producer, NULL);
  cqlmux_workers_free(s.workers);
}

static void run_scenario(void (*run)(scenario *), const cqlmux_thread_hook *worker_hook,
                         const cqlmux_thread_hook *producer_hook) {
  run_scenario_with_ring(run, 1024, worker_hook, producer_hook);
}

/* Enter light load: the producer and the worker end up on one CPU. */
static void enter_light_load(scenario *s) {
  int cpus = 0;
  for (int i = 0; i < ENOUGH_HANDOFFS; i++) cpus = handoff_to_sleeping_worker(s->workers);
  cr_assert_eq(own_cpu_count(), 1, "the producer is pinned to its CPU");
  cr_assert_eq(cpus, 1, "the worker followed it");
  cr_assert_eq(cqlmux_colocation_pinned(), cqlmux_colocation_current_cpu());
}

/* The producer back on its inherited mask; then, the blocker released, the
 * worker too (it follows at its next task). */
static void assert_both_released(scenario *s, blocker *b) {
  cr_assert_eq(own_cpu_count(), process_cpus(), "the producer is released");
  cr_assert_eq(cqlmux_colocation_pinned(), CQLMUX_COLOCATION_NONE);
  atomic_store(&b->release, 1);
  cr_assert_eq(worker_cpus(s->workers), process_cpus(), "the worker is released");
}

/* ------------------------------------------------------------- tests */

static void light_load_pins_both(scenario *s) {
  enter_light_load(s);
}

Test(colocation, a_worker_woken_at_every_handoff_moves_to_its_producers_cpu, .timeout = 60) {
  run_scenario(light_load_pins_both, NULL, NULL);
}

/* A worker found awake at LEAVE_HANDOFFS flushes in a row (it is running
 * a task that does not end until released) is busy: both go back to their
 * inherited masks. */
static void busy_worker_releases_both(scenario *s) {
  enter_light_load(s);
  blocker b = {.started = 0, .release = 0};
  start_blocker(s->workers, &b);
  cqlmux_task filler[LEAVE_HANDOFFS];
  for (int i = 0; i < LEAVE_HANDOFFS; i++) {
    cqlmux_task_init(&filler[i], nothing);
    cqlmux_workers_submit(s->workers, &filler[i]);
    cr_assert_eq(cqlmux_workers_flush_wakeups(), CQLMUX_HANDOFF_AWAKE);
    if (i + 1 < LEAVE_HANDOFFS) cr_assert_eq(own_cpu_count(), 1, "released too early, at %d", i);
  }
  assert_both_released(s, &b);
}

Test(colocation, a_worker_found_busy_is_released_with_its_producer, .timeout = 60) {
  run_scenario(busy_worker_releases_both, NULL, NULL);
}

/* Tasks piling up behind a busy worker release both at once, before any
 * streak of awake hand-offs. */
static void backlog_releases_both(scenario *s) {
  enter_light_load(s);
  blocker b = {.started = 0, .release = 0};
  start_blocker(s->workers, &b);
  static cqlmux_task filler[BACKLOG];
  for (int i = 0; i < BACKLOG; i++) {
    cqlmux_task_init(&filler[i], nothing);
    cqlmux_workers_submit(s->workers, &filler[i]);
    /* Deferral flushes every CQLMUX_WORKERS_DEFER_MAX tasks by itself: too
     * few flushes for the streak; the backlog decides. */
    if (i + 1 < BACKLOG) cr_assert_eq(own_cpu_count(), 1, "released too early, at %d", i);
  }
  cqlmux_workers_flush_wakeups();
  assert_both_released(s, &b);
}

Test(colocation, a_backlog_releases_a_pinned_pair_at_once, .timeout = 60) {
  run_scenario(backlog_releases_both, NULL, NULL);
}

/* ------------------------------------------- bulk hand-offs, little CPU */

/* Thousands of requests in flight against a slow server: each flush hands
 * over a full batch (CQLMUX_WORKERS_DEFER_MAX completions) to a worker that
 * is always found awake, and the pair uses a small share of a CPU. The
 * streaks alone would never draw it in (no hand-off wakes the worker) and
 * would release it after LEAVE_HANDOFFS flushes, the backlog after BACKLOG
 * completions; the measured share draws it in within a few windows (20 ms
 * each) and keeps it. The worker is held by a task that sleeps on a
 * semaphore (awake for the pool, no CPU); the producer paces its batches
 * (1 ms apart) to keep its own share small, which is what is measured,
 * not an ordering. */
#define BULK_FLUSHES_MAX 512
#define BULK_FLUSHES_PINNED (2 * LEAVE_HANDOFFS) /* past the streak and the backlog */
#define BULK_RING (BULK_FLUSHES_MAX * CQLMUX_WORKERS_DEFER_MAX)

typedef struct sleeper {
  cqlmux_task task;
  _Atomic int started;
  sem_t release;
} sleeper;

static void sleep_until_released(cqlmux_task *task, int status) {
  (void)status;
  sleeper *z = cqlmux_container_of(task, sleeper, task);
  atomic_store(&z->started, 1);
  while (sem_wait(&z->release) != 0) continue; /* EINTR */
}

static cqlmux_task bulk_tasks[BULK_RING];

static void bulk_handoffs_draw_in_and_keep(scenario *s) {
  sleeper z = {.started = 0};
  cr_assert_eq(sem_init(&z.release, 0, 0), 0);
  cr_assert(wait_until_asleep(s->workers), "the worker never went to sleep");
  cqlmux_task_init(&z.task, sleep_until_released);
  cqlmux_workers_submit(s->workers, &z.task);
  cqlmux_workers_flush_wakeups();
  cr_assert(rt_wait_int_at_least(&z.started, 1, WAIT_MS));
  int pinned_at = -1, flush = 0;
  for (; flush < BULK_FLUSHES_MAX; flush++) {
    /* The last submission of a batch flushes it (deferral's bound). */
    for (int i = 0; i < CQLMUX_WORKERS_DEFER_MAX; i++) {
      cqlmux_task *t = &bulk_tasks[flush * CQLMUX_WORKERS_DEFER_MAX + i];
      cqlmux_task_init(t, nothing);
      cqlmux_workers_submit(s->workers, t);
    }
    bool pinned = cqlmux_colocation_pinned() != CQLMUX_COLOCATION_NONE;
    if (pinned_at < 0 && pinned) pinned_at = flush;
    if (pinned_at >= 0) {
      cr_assert(pinned, "released at flush %d, pinned since %d", flush, pinned_at);
      cr_assert_eq(own_cpu_count(), 1);
      if (flush - pinned_at >= BULK_FLUSHES_PINNED) break;
    }
    rt_sleep_us(1000);
  }
  cr_assert_geq(pinned_at, 0, "never drawn in over %d bulk flushes", BULK_FLUSHES_MAX);
  cr_assert_gt(pinned_at, 0, "drawn in before any measurement");
  sem_post(&z.release);
  cr_assert_eq(worker_cpus(s->workers), 1, "the worker followed");
  sem_destroy(&z.release);
}

Test(colocation, bulk_handoffs_at_a_small_cpu_share_draw_the_pair_in_and_keep_it,
     .timeout = 60) {
  run_scenario_with_ring(bulk_handoffs_draw_in_and_keep, BULK_RING, NULL, NULL);
}

/* ------------------------------------------------ slow callbacks */

/* A task that keeps its worker busy for SLOW_TASK_US of wall clock: a slow
 * callback. */
#define SLOW_TASK_US 20000

typedef struct slow_task {
  cqlmux_task task;
  _Atomic int done;
} slow_task;

static void run_slowly(cqlmux_task *task, int status) {
  (void)status;
  slow_task *t = cqlmux_container_of(task, slow_task, task);
  uint64_t start = cqlmux_clock_now_us();
  while (cqlmux_clock_now_us() - start < SLOW_TASK_US) {
  }
  atomic_store(&t->done, 1);
}

/* One slow task handed to a sleeping worker; returns once it has run. */
static void handoff_slow_task(cqlmux_workers *w) {
  slow_task t = {.done = 0};
  cqlmux_task_init(&t.task, run_slowly);
  handoff_and_wait(w, &t.task, &t.done);
}

/* Every hand-off wakes the worker, but the worker spends nearly all its
 * time in callbacks (20 ms each, against the moments the producer takes to
 * see it asleep and hand it the next): not light load. The worker's share
 * is measured when each idle period ends, so the count of slow hand-offs
 * leaves room for a few long gaps on a loaded machine. */
#define SLOW_HANDOFFS 24

static void slow_callbacks_never_pin(scenario *s) {
  for (int i = 0; i < SLOW_HANDOFFS; i++) handoff_slow_task(s->workers);
  cr_assert_eq(own_cpu_count(), process_cpus(), "a busy worker is not light load");
  cr_assert_eq(cqlmux_colocation_pinned(), CQLMUX_COLOCATION_NONE);
}

Test(colocation, a_worker_busy_most_of_its_time_is_never_drawn_in, .timeout = 60) {
  run_scenario(slow_callbacks_never_pin, NULL, NULL);
}

static void slow_callbacks_release(scenario *s) {
  enter_light_load(s);
  for (int i = 0; i < SLOW_HANDOFFS; i++) handoff_slow_task(s->workers);
  handoff_to_sleeping_worker(s->workers); /* a flush after the last share */
  cr_assert_eq(own_cpu_count(), process_cpus(), "the producer is released");
  cr_assert_eq(worker_cpus(s->workers), process_cpus(), "and the worker");
}

Test(colocation, callbacks_that_take_over_a_pinned_worker_release_it, .timeout = 60) {
  run_scenario(slow_callbacks_release, NULL, NULL);
}

/* ----------------------------------------------- the user's own choice */

static int first_cpu(void) {
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &process_mask)) return cpu;
  cr_assert_fail("no CPU");
  return -1;
}

/* A thread-start callback that pins its thread to the process's first CPU:
 * a mask of the user's, which the library must keep. */
static void pin_to_first_cpu(cqlmux_thread_kind kind, unsigned index, void *user_data) {
  (void)kind;
  (void)index;
  (void)user_data;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first_cpu(), &one);
  cr_assert_eq(pthread_setaffinity_np(pthread_self(), sizeof one, &one), 0);
}

static bool only_on_first_cpu(void) {
  cpu_set_t set;
  cr_assert_eq(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
  return CPU_COUNT(&set) == 1 && CPU_ISSET(first_cpu(), &set);
}

static void user_pinned_producer_keeps_its_mask(scenario *s) {
  cr_assert(!cqlmux_colocation_allowed());
  for (int i = 0; i < ENOUGH_HANDOFFS; i++) handoff_to_sleeping_worker(s->workers);
  cr_assert(only_on_first_cpu(), "the user's mask is kept");
  cr_assert_eq(cqlmux_colocation_pinned(), CQLMUX_COLOCATION_NONE, "the library did not pin");
  cr_assert_eq(worker_cpus(s->workers), process_cpus(), "nothing for the worker to follow");
}

Test(colocation, a_producer_whose_start_callback_set_its_affinity_is_never_narrowed,
     .timeout = 60) {
  note_process_mask();
  cr_assert_geq(process_cpus(), 2);
  cqlmux_thread_hook hook = {pin_to_first_cpu, NULL};
  run_scenario(user_pinned_producer_keeps_its_mask, NULL, &hook);
}

/* What the worker says of itself, from a task it runs. */
typedef struct worker_state {
  cqlmux_task task;
  _Atomic int done;
  bool allowed;
  int pinned;
  bool on_first_cpu;
} worker_state;

static void read_worker_state(cqlmux_task *task, int status) {
  (void)status;
  worker_state *w = cqlmux_container_of(task, worker_state, task);
  w->allowed = cqlmux_colocation_allowed();
  w->pinned = cqlmux_colocation_pinned();
  w->on_first_cpu = only_on_first_cpu();
  atomic_store(&w->done, 1);
}

static void user_pinned_worker_keeps_its_mask(scenario *s) {
  for (int i = 0; i < ENOUGH_HANDOFFS; i++) handoff_to_sleeping_worker(s->workers);
  cr_assert_eq(own_cpu_count(), 1, "the producer is pinned");
  cr_assert_neq(cqlmux_colocation_pinned(), CQLMUX_COLOCATION_NONE);
  worker_state state = {.done = 0};
  cqlmux_task_init(&state.task, read_worker_state);
  cqlmux_workers_submit(s->workers, &state.task);
  cqlmux_workers_flush_wakeups();
  cr_assert(rt_wait_int_at_least(&state.done, 1, WAIT_MS));
  cr_assert(!state.allowed);
  cr_assert_eq(state.pinned, CQLMUX_COLOCATION_NONE, "the library did not move the worker");
  cr_assert(state.on_first_cpu, "the worker keeps the user's mask");
}

Test(colocation, a_worker_whose_start_callback_set_its_affinity_is_never_moved, .timeout = 60) {
  note_process_mask();
  cr_assert_geq(process_cpus(), 2);
  cqlmux_thread_hook hook = {pin_to_first_cpu, NULL};
  run_scenario(user_pinned_worker_keeps_its_mask, &hook, NULL);
}

/* ------------------------------------------------- off and single CPU */

static void never_pinned(scenario *s) {
  for (int i = 0; i < ENOUGH_HANDOFFS; i++) handoff_to_sleeping_worker(s->workers);
  cr_assert_eq(own_cpu_count(), process_cpus());
  cr_assert_eq(worker_cpus(s->workers), process_cpus());
}

static void *producer_without_colocation(void *arg) {
  scenario *s = arg;
  cqlmux_thread_begin(CQLMUX_THREAD_IO, 0, NULL);
  cqlmux_workers_defer_wakeups(true);
  never_pinned(s);
  cqlmux_workers_defer_wakeups(false);
  return NULL;
}

Test(colocation, a_pool_without_colocation_never_pins, .timeout = 60) {
  note_process_mask();
  cr_assert_geq(process_cpus(), 2);
  scenario s = {0};
  cr_assert_eq(cqlmux_workers_new(NULL, NULL, 1, 256, &s.workers), CQLMUX_OK);
  pthread_t producer;
  cr_assert_eq(pthread_create(&producer, NULL, producer_without_colocation, &s), 0);
  pthread_join(producer, NULL);
  cqlmux_workers_free(s.workers);
}

/* A process allowed one CPU: nothing to narrow, and pinning does nothing. */
static void *one_cpu_thread(void *arg) {
  (void)arg;
  cqlmux_thread_begin(CQLMUX_THREAD_IO, 0, NULL);
  cr_assert(!cqlmux_colocation_allowed());
  cqlmux_colocation_pin(cqlmux_colocation_current_cpu());
  cr_assert_eq(cqlmux_colocation_pinned(), CQLMUX_COLOCATION_NONE);
  return NULL;
}

Test(colocation, a_thread_allowed_one_cpu_is_left_alone) {
  note_process_mask();
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first_cpu(), &one);
  cr_assert_eq(sched_setaffinity(0, sizeof one, &one), 0); /* this test's own process */
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, one_cpu_thread, NULL), 0);
  pthread_join(t, NULL);
}

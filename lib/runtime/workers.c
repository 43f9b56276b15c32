#include <config.h>

#include "runtime/workers.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "runtime/alloc.h"
#include "runtime/clock.h"
#include "runtime/colocation.h"
#include "runtime/intrusive.h"
#include "runtime/ring.h"
#include "runtime/spin_window.h"
#include "runtime/thread_role.h"

/* How a worker sleeps and is woken. Each worker has its own slot: a state a
 * producer claims with one CAS, and a semaphore the claimer posts once. One
 * claim, one post, one wait: a wake-up costs a futex wake and a futex wait
 * and nothing else (a shared mutex and condition variable cost twice that
 * here, and the woken worker collided with the producer on the mutex). The
 * CAS decides who owes what, so no token is ever left over for a worker
 * that did not sleep. */
enum { SLOT_AWAKE, SLOT_SLEEPING };

typedef struct worker_slot {
  _Atomic int state; /* SLOT_AWAKE, or SLOT_SLEEPING until a claimer flips it */
  sem_t wake;        /* posted once by whoever flipped the state */
  char pad_[CQLMUX_CACHE_LINE]; /* slots are written by different threads */
} worker_slot;

struct cqlmux_workers {
  cqlmux_ring ring;
  /* Slots in SLOT_SLEEPING, or about to be (a filter: producers look at the
   * slots only when it is not 0). */
  _Atomic unsigned idle;
  _Atomic unsigned next_claim; /* where producers start looking (spreads claims) */
  _Atomic bool stopping; /* stop requested: drain, then exit */
  _Atomic bool stopped;  /* threads joined: submit runs inline */
  _Atomic uint64_t signals;
  /* Light-load co-location (runtime/colocation.h): whether the pool's one
   * producing I/O thread may draw its workers onto its CPU, and the CPU
   * they should run on now (CQLMUX_COLOCATION_NONE: anywhere). */
  _Atomic bool colocate;
  _Atomic int colocate_cpu;
  _Atomic unsigned loaded_workers; /* workers busy more than half their time */
  unsigned nthreads;
  unsigned started;
  pthread_t *threads;
  worker_slot *slots; /* one per thread */
  const cqlmux_allocator *alloc;
  const cqlmux_logger *logger;
  cqlmux_thread_hook hook;
  _Atomic unsigned next_index; /* hands each starting worker its index */
};

/* Flip a sleeping slot awake; the caller then owes it one post. seq_cst:
 * part of the handshake described at wake_one. */
static bool claim_slot(cqlmux_workers *w, worker_slot *slot) {
  int sleeping = SLOT_SLEEPING;
  if (!atomic_compare_exchange_strong(&slot->state, &sleeping, SLOT_AWAKE)) return false;
  atomic_fetch_sub(&w->idle, 1);
  return true;
}

static void post_slot(worker_slot *slot) {
  sem_post(&slot->wake);
}

/* Claim one sleeping worker, if any, and wake it. True if one was.
 *
 * No lost wake-up: a worker stores SLOT_SLEEPING, then increments idle,
 * then looks at the ring; a producer pushes, then loads idle, then the
 * slots (all seq_cst). In the single total order either the worker's look
 * follows the push (it sees the task and does not sleep) or the producer's
 * load of idle follows the increment, and then its load of the slot follows
 * the SLOT_SLEEPING store. */
static bool wake_one(cqlmux_workers *w) {
  if (atomic_load(&w->idle) == 0) return false;
  /* relaxed: only a starting point; the CAS decides. */
  unsigned first = atomic_fetch_add_explicit(&w->next_claim, 1, memory_order_relaxed);
  for (unsigned i = 0; i < w->nthreads; i++) {
    worker_slot *slot = &w->slots[(first + i) % w->nthreads];
    if (atomic_load(&slot->state) == SLOT_SLEEPING && claim_slot(w, slot)) {
      post_slot(slot);
      /* relaxed: a statistic. */
      atomic_fetch_add_explicit(&w->signals, 1, memory_order_relaxed);
      return true;
    }
  }
  return false;
}

/* This thread's deferred wake-ups (workers.h): the pool it pushed to
 * without waking, and how many tasks since the last wake. */
static _Thread_local bool deferring;
static _Thread_local cqlmux_workers *deferred_pool;
static _Thread_local unsigned deferred_tasks;

/* The load as the producing I/O thread sees it at each flush: a worker
 * that had to be woken LIGHT_ENTER hand-offs in a row was idle between
 * them, so the I/O thread pins itself where it runs and draws the workers
 * there; a worker found awake LIGHT_LEAVE hand-offs in a row is busy, and
 * both are released. The wide gap between the two keeps a load near the
 * boundary from switching back and forth (each switch is a system call per
 * thread and a migration). And whatever the streaks say, a backlog of
 * LIGHT_BACKLOG completions waiting for the workers releases them at once:
 * sharing a CPU, they are falling behind (hand-offs that alternate between
 * woken and awake would otherwise keep a busy pool pinned). Nor is a pool
 * whose workers are busy more than half of the time light, however often
 * they sleep between tasks (slow callbacks at a low rate): it is released,
 * and not drawn in while that lasts.
 *
 * The streaks stand in for what matters, whether the pair fits on one CPU
 * at no cost in latency; for bulk hand-offs that is measured instead
 * (measure_pair_load): a pair that used less than CPU_SHARE_LIGHT of a CPU
 * over the last window while its flushes carried BULK_BATCH completions or
 * more on average (thousands in flight against a slow server: no answer
 * waits on the next, so the two threads gain nothing from running side by
 * side) is drawn together however its hand-offs go, and kept there: each
 * completion then crosses no CPU boundary (a third less CPU at 4,096 in
 * flight against a real Cassandra, doc/performance.md). Once a window
 * measures more, the streaks and the backlog decide again. Small batches
 * are left to them: with a few answers per wake-up, the answer the I/O
 * thread reads next may wait on the callback running now, and the two
 * threads gain from overlapping (real Cassandra, 256 and 16 in flight: 1.58
 * and 6.72 us/req with this rule, 1.90 and 7.57 with the share alone). I/O
 * thread only, like deferral. */
#define LIGHT_ENTER 16
#define LIGHT_LEAVE 64
#define LIGHT_BACKLOG 256
static _Thread_local unsigned woke_streak;
static _Thread_local unsigned awake_streak;

#define CPU_SHARE_ONE 1024
#define CPU_SHARE_LIGHT (CPU_SHARE_ONE / 2)
#define CPU_WINDOW_US 20000
#define CPU_CHECK_FLUSHES 16 /* flushes between looks at the clock */
#define BULK_BATCH (3 * CQLMUX_WORKERS_DEFER_MAX / 4)

/* The last window found the pair light (and bulk): see above. */
static _Thread_local bool measured_light;
static _Thread_local unsigned flushes_unchecked;
static _Thread_local uint64_t window_start_us; /* 0: no window open */
static _Thread_local uint64_t window_start_cpu_us;
static _Thread_local uint64_t window_tasks;
static _Thread_local uint64_t window_flushes;

static uint64_t thread_cpu_us(clockid_t clock) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* CPU time of this thread and the pool's workers (two or so system calls:
 * once per window). */
static uint64_t pair_cpu_us(cqlmux_workers *w) {
  uint64_t total = thread_cpu_us(CLOCK_THREAD_CPUTIME_ID);
  for (unsigned i = 0; i < w->started; i++) {
    clockid_t clock;
    if (pthread_getcpuclockid(w->threads[i], &clock) == 0) total += thread_cpu_us(clock);
  }
  return total;
}

/* Ends the window once it is CPU_WINDOW_US old: the pair's CPU use over it,
 * as a share of one CPU, and the completions per flush, classified. */
static void measure_pair_load(cqlmux_workers *w, unsigned tasks) {
  window_tasks += tasks;
  window_flushes++;
  if (++flushes_unchecked < CPU_CHECK_FLUSHES) return;
  flushes_unchecked = 0;
  uint64_t now = cqlmux_clock_now_us();
  if (window_start_us && now - window_start_us < CPU_WINDOW_US) return;
  uint64_t cpu = pair_cpu_us(w);
  if (window_start_us && cpu >= window_start_cpu_us) {
    uint64_t share = (cpu - window_start_cpu_us) * CPU_SHARE_ONE / (now - window_start_us);
    bool bulk = window_tasks >= BULK_BATCH * window_flushes;
    measured_light = share < CPU_SHARE_LIGHT && bulk;
  }
  window_start_us = now;
  window_start_cpu_us = cpu;
  window_tasks = window_flushes = 0;
}

static void co_locate(cqlmux_workers *w, int cpu) {
  cqlmux_colocation_pin(cpu);
  if (cqlmux_colocation_pinned() != cpu) return; /* not allowed, or refused */
  /* relaxed: a placement hint; no data is published through it. */
  atomic_store_explicit(&w->colocate_cpu, cpu, memory_order_relaxed);
}

static void release_pair(cqlmux_workers *w) {
  woke_streak = awake_streak = 0;
  co_locate(w, CQLMUX_COLOCATION_NONE);
}

static void follow_load(cqlmux_workers *w, cqlmux_handoff handoff, unsigned tasks) {
  /* relaxed: set once before the I/O thread starts handing work over. */
  if (!atomic_load_explicit(&w->colocate, memory_order_relaxed)) return;
  if (!cqlmux_colocation_allowed()) return; /* refused once, or never allowed */
  measure_pair_load(w, tasks);
  /* relaxed: a hint from the workers' own measurements. */
  bool loaded = atomic_load_explicit(&w->loaded_workers, memory_order_relaxed) > 0;
  bool pinned = cqlmux_colocation_pinned() != CQLMUX_COLOCATION_NONE;
  bool light = measured_light;
  if (pinned && (loaded || (!light && cqlmux_workers_depth(w) >= LIGHT_BACKLOG))) {
    release_pair(w);
    return;
  }
  if (!pinned && light && !loaded) {
    co_locate(w, cqlmux_colocation_current_cpu());
    return;
  }
  if (handoff == CQLMUX_HANDOFF_WOKE) {
    awake_streak = 0;
    if (++woke_streak >= LIGHT_ENTER && !pinned && !loaded)
      co_locate(w, cqlmux_colocation_current_cpu());
  } else if (handoff == CQLMUX_HANDOFF_AWAKE) {
    woke_streak = 0;
    if (++awake_streak == LIGHT_LEAVE && !light) co_locate(w, CQLMUX_COLOCATION_NONE);
  }
}

/* Worker side: run where the I/O thread asks. The comparison is all a busy
 * worker pays per task; the system call comes only with a change. */
static void follow_colocation(cqlmux_workers *w) {
  /* relaxed: see co_locate. */
  int want = atomic_load_explicit(&w->colocate_cpu, memory_order_relaxed);
  if (want != cqlmux_colocation_pinned()) cqlmux_colocation_pin(want);
}

void cqlmux_workers_colocate(cqlmux_workers *w, bool on) {
  /* relaxed: see follow_load. */
  atomic_store_explicit(&w->colocate, on && w->nthreads > 0, memory_order_relaxed);
}

/* One worker is woken per batch; a worker that finds more work queued
 * wakes the next one (worker_main), so a batch spreads over the pool
 * without the producer paying a wake-up per sleeping worker. */
cqlmux_handoff cqlmux_workers_flush_wakeups(void) {
  cqlmux_workers *w = deferred_pool;
  unsigned n = deferred_tasks;
  deferred_pool = NULL;
  deferred_tasks = 0;
  if (n == 0) return CQLMUX_HANDOFF_NONE;
  /* None once the ring is empty: the worker may already have drained it. */
  cqlmux_handoff handoff = cqlmux_workers_depth(w) > 0 && wake_one(w) ? CQLMUX_HANDOFF_WOKE
                                                                       : CQLMUX_HANDOFF_AWAKE;
  follow_load(w, handoff, n);
  return handoff;
}

void cqlmux_workers_defer_wakeups(bool on) {
  if (!on) cqlmux_workers_flush_wakeups();
  deferring = on;
}

/* After a push: wake a worker now, or count it for the next flush. */
static void wake_after_push(cqlmux_workers *w) {
  if (!deferring) {
    wake_one(w);
    return;
  }
  if (deferred_pool != w) cqlmux_workers_flush_wakeups();
  deferred_pool = w;
  if (++deferred_tasks >= CQLMUX_WORKERS_DEFER_MAX) cqlmux_workers_flush_wakeups();
}

/* Before sleeping, a worker that just ran out of work watches the ring for
 * a while, yielding the CPU between looks: at low concurrency the next
 * completion usually comes soon (the answer to the request its callback
 * just submitted), and finding it saves the producer a futex wake-up and
 * the completion a scheduler wake-up (10-20 us on a virtual machine).
 * Yielding rather than pausing keeps the CPU for the I/O thread and the
 * server on a small machine.
 *
 * How long is learned per worker (runtime/spin_window.h), within
 * WORKER_SPIN_MAX_US, and not at all when the gaps are longer than that (a
 * light load: spinning would only burn CPU). A fixed 30 us missed every
 * answer of a 35 us round trip. */
#define WORKER_SPIN_MAX_US 100
#define WORKER_SPIN_MIN_US 10

/* Worker thread only: each worker runs on its own thread. */
static _Thread_local cqlmux_spin_window worker_window = {8 * WORKER_SPIN_MIN_US, WORKER_SPIN_MIN_US,
                                                         WORKER_SPIN_MAX_US};

/* How busy this worker is, for co-location (follow_load): the share of
 * each cycle (from finding work after an idle period to the end of the next
 * idle period) spent running tasks, averaged with weight 1/8, in 1/1024ths.
 * Measured only at the ends of idle periods, with the clock readings the
 * spin window takes anyway, so a busy worker pays nothing per task. Worker
 * thread only; the pool counts the workers above one half. */
#define BUSY_SHARE_ONE 1024
static _Thread_local uint64_t active_since; /* 0 before the first work */
static _Thread_local uint32_t busy_share_avg;
static _Thread_local bool counted_loaded;

static void note_idle_period_end(cqlmux_workers *w, uint64_t idle_since, uint64_t now) {
  if (active_since != 0 && now > active_since && idle_since >= active_since) {
    uint64_t share = (idle_since - active_since) * BUSY_SHARE_ONE / (now - active_since);
    busy_share_avg = busy_share_avg - busy_share_avg / 8 + (uint32_t)share / 8;
    bool loaded = busy_share_avg > BUSY_SHARE_ONE / 2;
    if (loaded != counted_loaded) {
      /* relaxed: a hint (see follow_load); the count itself stays exact. */
      if (loaded) atomic_fetch_add_explicit(&w->loaded_workers, 1, memory_order_relaxed);
      else atomic_fetch_sub_explicit(&w->loaded_workers, 1, memory_order_relaxed);
      counted_loaded = loaded;
    }
  }
  active_since = now;
}

/* True when work arrived (or a stop) within the window. Not while
 * co-located with the I/O thread (follow_colocation): the worker then shares
 * its producer's CPU, which yields it the CPU right after each hand-off
 * (watch_for_posts in net/loop.c), so a wake-up is a switch on this CPU, no
 * dearer than the yields of a watch; and a watch spins alone while the I/O
 * thread sleeps waiting for the server, CPU the client is charged for (real
 * Cassandra, 16 in flight: 7.35 -> 6.69 us/req, doc/performance.md). */
static bool spin_before_sleep(cqlmux_workers *w, uint64_t idle_since) {
  if (cqlmux_colocation_pinned() != CQLMUX_COLOCATION_NONE) return false;
  uint64_t until = idle_since + cqlmux_spin_window_us(&worker_window);
  for (;;) {
    if (cqlmux_ring_has_claims(&w->ring) || atomic_load(&w->stopping)) {
      uint64_t now = cqlmux_clock_now_us();
      cqlmux_spin_window_record(&worker_window, now - idle_since);
      note_idle_period_end(w, idle_since, now);
      return true;
    }
    if (cqlmux_clock_now_us() >= until) return false;
    sched_yield();
  }
}

static void wait_for_post(worker_slot *slot) {
  while (sem_wait(&slot->wake) != 0) {
    /* EINTR: a signal handler ran; the post is still owed. */
  }
}

static void worker_sleep(cqlmux_workers *w, worker_slot *slot) {
  uint64_t idle_since = cqlmux_clock_now_us();
  if (spin_before_sleep(w, idle_since)) return;
  /* seq_cst, in this order: see wake_one. */
  atomic_store(&slot->state, SLOT_SLEEPING);
  atomic_fetch_add(&w->idle, 1);
  bool claims = cqlmux_ring_has_claims(&w->ring);
  if (claims || atomic_load(&w->stopping)) {
    /* Take the announcement back; if a producer claimed it first, its post
     * is on its way and is consumed here, so none is left for a later sleep. */
    if (!claim_slot(w, slot)) wait_for_post(slot);
    /* A claimed slot we could not pop is a producer between claim and
     * publish: let it run. */
    if (claims) sched_yield();
    return;
  }
  wait_for_post(slot); /* the claimer set the state back to SLOT_AWAKE */
  uint64_t now = cqlmux_clock_now_us();
  cqlmux_spin_window_record(&worker_window, now - idle_since);
  note_idle_period_end(w, idle_since, now);
}

static void *worker_main(void *arg) {
  cqlmux_workers *w = arg;
  /* relaxed: only uniqueness matters, which any read-modify-write gives. */
  unsigned index = atomic_fetch_add_explicit(&w->next_index, 1, memory_order_relaxed);
  worker_slot *slot = &w->slots[index];
  cqlmux_thread_begin(CQLMUX_THREAD_WORKER, index, &w->hook);
  for (;;) {
    follow_colocation(w);
    cqlmux_task *task = cqlmux_ring_pop(&w->ring);
    if (task) {
      /* More work than this worker: pass a wake-up on (deferred batches
       * wake only one worker). seq_cst loads: as in wake_one. */
      if (atomic_load(&w->idle) > 0 && cqlmux_ring_has_claims(&w->ring)) wake_one(w);
      task->run(task, CQLMUX_OK);
      continue;
    }
    if (atomic_load(&w->stopping) && !cqlmux_ring_has_claims(&w->ring)) break;
    worker_sleep(w, slot);
  }
  return NULL;
}

static void backoff(unsigned *attempt) {
  if (++*attempt < 64) {
    sched_yield();
  } else {
    struct timespec ts = {0, 50 * 1000};
    nanosleep(&ts, NULL);
  }
}

void cqlmux_workers_submit(cqlmux_workers *w, cqlmux_task *task) {
  /* acquire: pairs with the release store in stop, after the final drain. */
  if (!w || w->nthreads == 0 || atomic_load_explicit(&w->stopped, memory_order_acquire)) {
    task->run(task, CQLMUX_OK);
    return;
  }
  unsigned attempt = 0;
  while (!cqlmux_ring_push(&w->ring, task)) {
    cqlmux_workers_flush_wakeups(); /* the workers must be awake to make room */
    if (cqlmux_thread_get_role() == CQLMUX_THREAD_WORKER) {
      task->run(task, CQLMUX_OK);
      return;
    }
    backoff(&attempt);
  }
  wake_after_push(w);
}

static int init_slots(cqlmux_workers *w) {
  for (unsigned i = 0; i < w->nthreads; i++) {
    atomic_init(&w->slots[i].state, SLOT_AWAKE);
    if (sem_init(&w->slots[i].wake, 0, 0) != 0) return CQLMUX_ERR_INVALID_STATE;
  }
  return CQLMUX_OK;
}

static int start_threads(cqlmux_workers *w) {
  for (; w->started < w->nthreads; w->started++) {
    if (pthread_create(&w->threads[w->started], NULL, worker_main, w) != 0) {
      cqlmux_log(w->logger, CQLMUX_LOG_ERROR, "cannot start callback worker %u of %u",
                 w->started + 1, w->nthreads);
      return CQLMUX_ERR_INVALID_STATE;
    }
  }
  return CQLMUX_OK;
}

int cqlmux_workers_new(const cqlmux_allocator *alloc, const cqlmux_logger *logger,
                       unsigned threads, size_t capacity, cqlmux_workers **out) {
  return cqlmux_workers_new_hooked(alloc, logger, threads, capacity, NULL, out);
}

int cqlmux_workers_new_hooked(const cqlmux_allocator *alloc, const cqlmux_logger *logger,
                              unsigned threads, size_t capacity, const cqlmux_thread_hook *hook,
                              cqlmux_workers **out) {
  cqlmux_workers *w = cqlmux_mem_calloc(alloc, 1, sizeof *w);
  if (!w) return CQLMUX_ERR_NOMEM;
  w->alloc = alloc;
  w->logger = logger;
  if (hook) w->hook = *hook;
  atomic_init(&w->next_index, 0);
  w->nthreads = threads;
  atomic_init(&w->idle, 0);
  atomic_init(&w->stopping, false);
  atomic_init(&w->stopped, false);
  atomic_init(&w->signals, 0);
  int rc = threads ? cqlmux_ring_init(&w->ring, alloc, capacity) : CQLMUX_OK;
  if (rc != CQLMUX_OK) {
    cqlmux_mem_free(alloc, w);
    return rc;
  }
  atomic_init(&w->next_claim, 0);
  atomic_init(&w->colocate, false);
  atomic_init(&w->colocate_cpu, CQLMUX_COLOCATION_NONE);
  atomic_init(&w->loaded_workers, 0);
  if (threads) {
    w->threads = cqlmux_mem_calloc(alloc, threads, sizeof *w->threads);
    w->slots = cqlmux_mem_calloc(alloc, threads, sizeof *w->slots);
    rc = w->threads && w->slots ? init_slots(w) : CQLMUX_ERR_NOMEM;
    if (rc == CQLMUX_OK) rc = start_threads(w);
  }
  if (rc != CQLMUX_OK) {
    cqlmux_workers_free(w);
    return rc;
  }
  *out = w;
  return CQLMUX_OK;
}

size_t cqlmux_workers_depth(cqlmux_workers *w) {
  return w->nthreads ? cqlmux_ring_depth(&w->ring) : 0;
}

unsigned cqlmux_workers_threads(const cqlmux_workers *w) { return w->nthreads; }

unsigned cqlmux_workers_sleeping(cqlmux_workers *w) {
  /* relaxed: a snapshot for callers that wait for a state, not a handshake. */
  return atomic_load_explicit(&w->idle, memory_order_relaxed);
}

uint64_t cqlmux_workers_signals(cqlmux_workers *w) {
  /* relaxed: a statistic. */
  return atomic_load_explicit(&w->signals, memory_order_relaxed);
}

/* Run what was queued after the workers left (a submit racing with stop). */
static void drain_inline(cqlmux_workers *w) {
  while (cqlmux_ring_has_claims(&w->ring)) {
    cqlmux_task *task = cqlmux_ring_pop(&w->ring);
    if (task) {
      task->run(task, CQLMUX_OK);
    } else {
      sched_yield();
    }
  }
}

void cqlmux_workers_stop(cqlmux_workers *w) {
  if (atomic_load(&w->stopped)) return;
  atomic_store(&w->stopping, true); /* seq_cst: before the slots are read (wake_one) */
  for (unsigned i = 0; i < w->started; i++) {
    if (claim_slot(w, &w->slots[i])) post_slot(&w->slots[i]);
  }
  for (unsigned i = 0; i < w->started; i++) pthread_join(w->threads[i], NULL);
  if (w->nthreads) drain_inline(w);
  /* release: pairs with the acquire load in submit. */
  atomic_store_explicit(&w->stopped, true, memory_order_release);
}

void cqlmux_workers_free(cqlmux_workers *w) {
  if (!w) return;
  cqlmux_workers_stop(w);
  if (w->nthreads) cqlmux_ring_destroy(&w->ring);
  if (w->slots) {
    for (unsigned i = 0; i < w->nthreads; i++) sem_destroy(&w->slots[i].wake);
  }
  cqlmux_mem_free(w->alloc, w->slots);
  cqlmux_mem_free(w->alloc, w->threads);
  cqlmux_mem_free(w->alloc, w);
}

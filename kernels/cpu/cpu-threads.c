/* cpu-threads.c: the persistent worker pool and per-thread scratch (see
 * cpu-threads.h).
 *
 * The caller of ll_cpu_parallel_for works too: it publishes the job, wakes
 * the workers, and every thread claims chunks from one shared counter until
 * none are left. The caller then waits for the chunks that were claimed to
 * finish, never for workers to check in: on a machine where another process
 * holds a core, a worker that is not running simply claims nothing and the
 * caller does the work alone instead of waiting a scheduler tick for it.
 *
 * The counter packs (job number, chunk count, next chunk), so a worker that
 * wakes late can tell a finished job from the current one with a single
 * compare-and-swap, and reads a job's fields only after it has claimed one
 * of its chunks (the job cannot finish, and its fields cannot change, while
 * a claimed chunk is running). Between jobs a worker spins for a short while
 * before it sleeps on a condition variable, because a training step issues a
 * few dozen short parallel regions back to back. */
#include "cpu-threads.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cpu-ops.h"

#define MAX_THREADS 256
#define MAX_CHUNKS  ((1 << 20) - 1)
#define SPIN_NS     100000 /* how long an idle worker polls before it sleeps */

/* next = job << 40 | chunks << 20 | next chunk */
#define JOB_OF(v)    ((v) >> 40)
#define CHUNKS_OF(v) ((int)(((v) >> 20) & MAX_CHUNKS))
#define INDEX_OF(v)  ((int)((v)&MAX_CHUNKS))

static struct {
  pthread_mutex_t busy; /* held by the thread that owns the pool for a region */
  pthread_mutex_t mu;   /* guards sleeping and waking */
  pthread_cond_t work, done;
  int n_threads; /* workers + the caller */
  pthread_t workers[MAX_THREADS];
  bool quit;

  /* the current job */
  LlCpuRangeFn fn;
  void *arg;
  int n, grain;
  _Atomic uint64_t next;
  atomic_int finished; /* chunks done */
} pool = {
    .busy = PTHREAD_MUTEX_INITIALIZER,
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .n_threads = 1,
};

static _Thread_local bool in_region;

static double now_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Claims and runs chunks of job `job` until none are left. */
static void run_chunks(uint64_t job)
{
  uint64_t v = atomic_load(&pool.next);
  for (;;) {
    if (JOB_OF(v) != job || INDEX_OF(v) >= CHUNKS_OF(v))
      return;
    if (!atomic_compare_exchange_weak(&pool.next, &v, v + 1))
      continue;
    int c = INDEX_OF(v), chunks = CHUNKS_OF(v);
    int begin = c * pool.grain, end = begin + pool.grain;
    pool.fn(pool.arg, c, begin, end < pool.n ? end : pool.n);
    if (atomic_fetch_add(&pool.finished, 1) + 1 == chunks) {
      pthread_mutex_lock(&pool.mu);
      pthread_cond_signal(&pool.done);
      pthread_mutex_unlock(&pool.mu);
    }
    v = atomic_load(&pool.next);
  }
}

static void *worker_main(void *data)
{
  uint64_t seen = (uint64_t)(uintptr_t)data;
  in_region = true; /* a worker never opens a nested region */
  for (;;) {
    double t0 = now_ns();
    int spins = 0;
    while (JOB_OF(atomic_load(&pool.next)) == seen) {
      cpu_relax();
      if (++spins % 256 == 0 && now_ns() - t0 > SPIN_NS)
        break;
    }
    pthread_mutex_lock(&pool.mu);
    while (JOB_OF(atomic_load(&pool.next)) == seen && !pool.quit)
      pthread_cond_wait(&pool.work, &pool.mu);
    bool quit = pool.quit;
    pthread_mutex_unlock(&pool.mu);
    if (quit)
      break;
    seen = JOB_OF(atomic_load(&pool.next));
    run_chunks(seen);
  }
  return NULL;
}

static void stop_workers(void)
{
  pthread_mutex_lock(&pool.mu);
  pool.quit = true;
  pthread_cond_broadcast(&pool.work);
  pthread_mutex_unlock(&pool.mu);
  for (int i = 0; i < pool.n_threads - 1; i++)
    pthread_join(pool.workers[i], NULL);
  pool.quit = false;
  pool.n_threads = 1;
}

static void resize(int n)
{
  if (n > MAX_THREADS)
    n = MAX_THREADS;
  pthread_mutex_lock(&pool.busy);
  if (n != pool.n_threads) {
    stop_workers();
    uint64_t job = JOB_OF(atomic_load(&pool.next));
    int started = 0;
    for (int i = 0; i < n - 1; i++) {
      if (pthread_create(&pool.workers[i], NULL, worker_main, (void *)(uintptr_t)job) != 0)
        break; /* fewer workers: still correct, only slower */
      started++;
    }
    pool.n_threads = started + 1;
  }
  pthread_mutex_unlock(&pool.busy);
}

static int cpu_threads = 1;

void ll_cpu_set_threads(int n)
{
  cpu_threads = n < 1 ? 1 : n;
  /* our kernels split their own work; OpenBLAS inside them stays serial */
  openblas_set_num_threads(1);
  resize(cpu_threads);
}

int ll_cpu_get_threads(void) { return cpu_threads; }

int ll_cpu_grain(int n, int per_thread)
{
  int parts = pool.n_threads * (per_thread < 1 ? 1 : per_thread);
  int g = (n + parts - 1) / parts;
  return g < 1 ? 1 : g;
}

void ll_cpu_parallel_for(int n, int grain, LlCpuRangeFn fn, void *arg)
{
  if (grain < 1)
    grain = 1;
  int n_chunks = ll_cpu_n_chunks(n, grain);
  if (n_chunks > MAX_CHUNKS) { /* the counter holds 2^20 chunks: coarser ones */
    grain = (n + MAX_CHUNKS - 1) / MAX_CHUNKS;
    n_chunks = ll_cpu_n_chunks(n, grain);
  }
  if (n_chunks == 0)
    return;
  if (pool.n_threads <= 1 || n_chunks == 1 || in_region || pthread_mutex_trylock(&pool.busy)) {
    for (int c = 0; c < n_chunks; c++) {
      int begin = c * grain, end = begin + grain;
      fn(arg, c, begin, end < n ? end : n);
    }
    return;
  }
  if (pool.n_threads <= 1) { /* resized to one thread meanwhile */
    pthread_mutex_unlock(&pool.busy);
    ll_cpu_parallel_for(n, grain, fn, arg);
    return;
  }
  pool.fn = fn;
  pool.arg = arg;
  pool.n = n;
  pool.grain = grain;
  atomic_store(&pool.finished, 0);
  uint64_t job = (JOB_OF(atomic_load(&pool.next)) + 1) & ((UINT64_C(1) << 24) - 1);
  pthread_mutex_lock(&pool.mu);
  atomic_store(&pool.next, job << 40 | (uint64_t)n_chunks << 20);
  pthread_cond_broadcast(&pool.work);
  pthread_mutex_unlock(&pool.mu);

  in_region = true;
  run_chunks(job);
  in_region = false;

  double t0 = now_ns();
  int spins = 0;
  while (atomic_load(&pool.finished) < n_chunks) {
    cpu_relax();
    if (++spins % 256 == 0 && now_ns() - t0 > SPIN_NS)
      break;
  }
  pthread_mutex_lock(&pool.mu);
  while (atomic_load(&pool.finished) < n_chunks)
    pthread_cond_wait(&pool.done, &pool.mu);
  pthread_mutex_unlock(&pool.mu);
  pthread_mutex_unlock(&pool.busy);
}

typedef struct {
  LlCpuSpanFn fn;
  void *arg;
  size_t n, piece;
} Span;

static void span_range(void *arg, int chunk, int begin, int end)
{
  const Span *s = arg;
  for (int c = begin; c < end; c++) {
    size_t b = (size_t)c * s->piece, e = b + s->piece;
    s->fn(s->arg, b, e < s->n ? e : s->n);
  }
}

void ll_cpu_parallel_span(size_t n, size_t min_n, LlCpuSpanFn fn, void *arg)
{
  if (n == 0)
    return;
  if (pool.n_threads <= 1 || n < min_n || in_region) {
    fn(arg, 0, n);
    return;
  }
  /* four pieces per thread, so a thread slowed by another process is helped out */
  size_t parts = (size_t)pool.n_threads * 4;
  size_t piece = ((n + parts - 1) / parts + 63) & ~(size_t)63;
  Span s = {.fn = fn, .arg = arg, .n = n, .piece = piece};
  ll_cpu_parallel_for((int)((n + piece - 1) / piece), 1, span_range, &s);
}

/* ---- scratch ------------------------------------------------------------------------ */

typedef struct {
  float *p[LL_CPU_SCRATCH_SLOTS];
  size_t n[LL_CPU_SCRATCH_SLOTS];
} Scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local Scratch *scratch;

static void scratch_free(void *data)
{
  Scratch *s = data;
  for (int i = 0; i < LL_CPU_SCRATCH_SLOTS; i++)
    free(s->p[i]);
  free(s);
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

/* The first failure since ll_cpu_take_error last cleared it. */
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;
static char error_msg[256];
static bool error_set;

static void record_error(const char *msg)
{
  pthread_mutex_lock(&error_lock);
  if (!error_set) {
    snprintf(error_msg, sizeof error_msg, "%s", msg);
    error_set = true;
  }
  pthread_mutex_unlock(&error_lock);
}

bool ll_cpu_take_error(char *buf, size_t len)
{
  pthread_mutex_lock(&error_lock);
  bool had = error_set;
  if (had && buf && len)
    snprintf(buf, len, "%s", error_msg);
  error_set = false;
  pthread_mutex_unlock(&error_lock);
  return had;
}

float *ll_cpu_scratch(int slot, size_t floats)
{
  if (!scratch) {
    pthread_once(&scratch_once, scratch_key_init);
    scratch = calloc(1, sizeof *scratch);
    if (!scratch)
      goto oom;
    pthread_setspecific(scratch_key, scratch);
  }
  if (scratch->n[slot] < floats) {
    /* grow by half again, so shapes that creep up do not reallocate each time */
    size_t n = floats + floats / 2;
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    free(scratch->p[slot]);
    scratch->p[slot] = n >= floats && n < SIZE_MAX / 8 ? aligned_alloc(64, bytes) : NULL;
    scratch->n[slot] = scratch->p[slot] ? n : 0;
    if (!scratch->p[slot])
      goto oom;
  }
  return scratch->p[slot];
oom:;
  char msg[160];
  snprintf(msg, sizeof msg, "out of memory for %zu floats (%.1f MiB) of CPU kernel scratch",
           floats, (double)floats * sizeof(float) / (1024.0 * 1024.0));
  record_error(msg);
  return NULL;
}

/* cpu-threads.h: the CPU backend's persistent worker pool and per-thread
 * scratch memory (internal to kernels/cpu).
 *
 * One pool serves every kernel: ll_cpu_set_threads(n) sizes it (n - 1
 * workers plus the calling thread). OpenBLAS is kept single-threaded and the
 * kernels split their own work (ll_cpu_gemm splits a large product into
 * row or column blocks), so two thread pools never compete for the cores.
 *
 * Work is cut into chunks whose boundaries depend only on (n, grain), never
 * on the thread count or on which thread ran a chunk: a kernel that reduces
 * (a weight gradient summed over the batch) keeps one partial per chunk and
 * adds the partials in chunk order, so a run's numbers do not depend on
 * scheduling. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Runs fn(arg, begin, end) over [0, n) cut into chunks of grain items (the
 * last may be shorter), on the pool; returns when every chunk is done. Runs
 * inline when the pool has one thread, when there is a single chunk, when
 * called from inside a parallel region, or when another thread is using the
 * pool. chunk is begin / grain. */
typedef void (*LlCpuRangeFn)(void *arg, int chunk, int begin, int end);
void ll_cpu_parallel_for(int n, int grain, LlCpuRangeFn fn, void *arg);

/* Number of chunks ll_cpu_parallel_for cuts [0, n) into. */
static inline int ll_cpu_n_chunks(int n, int grain) { return n <= 0 ? 0 : (n + grain - 1) / grain; }

/* A grain that gives each thread about `per_thread` chunks of [0, n). */
int ll_cpu_grain(int n, int per_thread);

/* Element-wise work: runs fn(arg, begin, end) over [0, n) in pieces whose
 * boundaries are multiples of 64 elements, on the pool when n >= min_n and
 * inline otherwise. For maps where each element is independent, so the
 * pieces never change a result. */
typedef void (*LlCpuSpanFn)(void *arg, size_t begin, size_t end);
void ll_cpu_parallel_span(size_t n, size_t min_n, LlCpuSpanFn fn, void *arg);

/* Below this many elements a memory-bound map runs on one thread: waking a
 * worker costs more than it saves. */
#define LL_CPU_PAR_MIN 65536

/* Scratch owned by the calling OS thread, at least floats long and 64-byte
 * aligned; slot (0 to LL_CPU_SCRATCH_SLOTS - 1) tells apart buffers used at
 * the same time. It persists (grow only) until the thread exits, so after a
 * first step a training loop allocates nothing. Contents are undefined.
 * When memory for it cannot be had, returns NULL and records the failure
 * for ll_cpu_take_error: the kernel skips its work and the engine fails the
 * run after the step. */
#define LL_CPU_SCRATCH_SLOTS 4
float *ll_cpu_scratch(int slot, size_t floats);

/* The backend's take_error slot: copies the first recorded failure into buf
 * (len bytes), clears it and returns true; false when nothing failed. */
bool ll_cpu_take_error(char *buf, size_t len);

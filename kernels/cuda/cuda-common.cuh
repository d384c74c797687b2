/* cuda-common.cuh: what every .cu file of kernels/cuda shares (C++, CUDA only; C
 * code sees the small per-family headers instead).
 *
 * - LlCudaScope: taken at the top of every backend slot. It serialises the
 *   slots of all host threads (they share one stream and the scratch
 *   buffers, so two trainers must not interleave a two-pass reduction) and
 *   makes the backend's device current on the calling thread.
 * - LL_CUDA_CHECK / LL_CUDA_LAUNCHED / LL_CUBLAS_CHECK: a file:line check
 *   after every CUDA call and launch. Failures are recorded, never abort():
 *   the engine asks the backend's take_error slot and fails the run cleanly.
 * - Launch geometry and deterministic block reductions (fixed trees, no float
 *   atomics: the same inputs give the same bits on the same device).
 */
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "cuda-runtime.h"

#define LL_CUDA_CHECK(call)                                                                     \
  do {                                                                                          \
    cudaError_t ll_err_ = (call);                                                               \
    if (ll_err_ != cudaSuccess)                                                                 \
      ll_cuda_failed(__FILE__, __LINE__, #call, ll_err_);                                       \
  } while (0)

/* After a <<<...>>> launch: catches bad configurations at once; faults inside
 * the kernel surface at the next synchronising call (a download). It sees
 * only this launch's error: ll_cuda_failed consumed every earlier one. */
#define LL_CUDA_LAUNCHED(kernel_name) LL_CUDA_CHECK_NAMED(cudaGetLastError(), kernel_name)
#define LL_CUDA_CHECK_NAMED(call, what)                                                         \
  do {                                                                                          \
    cudaError_t ll_err_ = (call);                                                               \
    if (ll_err_ != cudaSuccess)                                                                 \
      ll_cuda_failed(__FILE__, __LINE__, "launch of " what, ll_err_);                           \
  } while (0)

#define LL_CUBLAS_CHECK(call)                                                                   \
  do {                                                                                          \
    cublasStatus_t ll_st_ = (call);                                                             \
    if (ll_st_ != CUBLAS_STATUS_SUCCESS)                                                        \
      ll_cuda_record_error(__FILE__, __LINE__, #call, cublasGetStatusString(ll_st_));           \
  } while (0)

/* Records a failed CUDA call ("file:line: what: reason") and clears the
 * runtime's last error, so that the next launch check is not blamed for it.
 * A sticky error (a fault inside a kernel) also marks the context lost:
 * every later call fails until the next open resets the device. */
void ll_cuda_failed(const char *file, int line, const char *what, cudaError_t e);

/* Serialises backend slots and binds the device; see the top of this file. */
struct LlCudaScope {
  cudaStream_t stream;
  LlCudaScope() { stream = ll_cuda_enter(); }
  ~LlCudaScope() { ll_cuda_leave(); }
  LlCudaScope(const LlCudaScope &) = delete;
  LlCudaScope &operator=(const LlCudaScope &) = delete;
};

/* Scratch buffers owned by the backend, one per purpose so that an op can
 * hold several; each grows on first need and is then reused. Only valid
 * inside an LlCudaScope. NULL (error recorded) when the device is full. */
enum {
  LL_SCRATCH_REDUCE, /* partial sums of two-pass reductions */
  LL_SCRATCH_STATS,  /* per-channel statistics between kernels */
  LL_SCRATCH_CONV,   /* im2col columns and reordered gradients */
  LL_SCRATCH_SORT,   /* embedding_backward's sorted indices and CUB's temp */
  LL_SCRATCH_COPY,   /* overlapping copies */
  LL_SCRATCH_COUNT
};
void *ll_cuda_scratch(int slot, size_t bytes);

/* The allocations of the current context (ll_cuda_alloc adds, ll_cuda_free
 * removes): after a lost context is reset, the pointers of the old one are
 * gone with it and freeing them is a no-op, not an error. Inside an
 * LlCudaScope. untrack returns false for a pointer it does not hold. */
void ll_cuda_track(void *p);
bool ll_cuda_untrack(void *p);

#define LL_THREADS 256
/* Blocks for a grid-stride loop over n items. Capped: the kernels stride. */
static inline unsigned ll_blocks(size_t n, unsigned threads = LL_THREADS)
{
  size_t b = (n + threads - 1) / threads;
  return b > 65535u * 4u ? 65535u * 4u : (unsigned)b;
}

#define LL_GRID_STRIDE(i, n)                                                                    \
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                       \
       i += (size_t)gridDim.x * blockDim.x)

/* Sum over the block in a fixed tree order; every thread gets the result.
 * sh holds blockDim.x doubles; blockDim.x is a power of two. */
static __device__ inline double ll_block_sum(double v, double *sh)
{
  sh[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s)
      sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  double r = sh[0];
  __syncthreads();
  return r;
}

/* Warp reductions (butterfly: every lane gets the result, fixed order). */
static __device__ inline float ll_warp_max(float v)
{
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

static __device__ inline double ll_warp_sum(double v)
{
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

static __device__ inline float ll_warp_sumf(float v)
{
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

/* ---- deterministic sums over n items, two passes ------------------------------------------ */

/* partials[blockIdx.x] = sum of f(i) over the items of this block's stride. */
template <class F> __global__ void ll_partial_sums_kernel(F f, size_t n, double *partials)
{
  __shared__ double sh[LL_THREADS];
  double acc = 0.0;
  LL_GRID_STRIDE(i, n)
  acc += f(i);
  double s = ll_block_sum(acc, sh);
  if (threadIdx.x == 0)
    partials[blockIdx.x] = s;
}

/* *out = (float)(scale * sum of partials[0..np)), one block. (static: each
 * .cu gets its own copy; the module is built without relocatable device code) */
static __global__ void ll_finish_sum_kernel(const double *partials, int np, float scale,
                                            float *out)
{
  __shared__ double sh[LL_THREADS];
  double acc = 0.0;
  for (int i = threadIdx.x; i < np; i += blockDim.x)
    acc += partials[i];
  double s = ll_block_sum(acc, sh);
  if (threadIdx.x == 0)
    *out = (float)(s * scale);
}

/* *out (device) = (float)(scale * sum over i < n of f(i)); f may also write
 * (gradients) as a side effect, once per i. The grid depends on n only, so the
 * summation order, and the result, are the same on every run. */
template <class F> static void ll_cuda_sum(cudaStream_t st, F f, size_t n, float scale, float *out)
{
  size_t want = (n + LL_THREADS * 8 - 1) / (LL_THREADS * 8);
  unsigned blocks = want > 1024 ? 1024 : want < 1 ? 1 : (unsigned)want;
  double *partials = (double *)ll_cuda_scratch(LL_SCRATCH_REDUCE, blocks * sizeof(double));
  if (!partials)
    return;
  ll_partial_sums_kernel<<<blocks, LL_THREADS, 0, st>>>(f, n, partials);
  LL_CUDA_LAUNCHED("ll_partial_sums_kernel");
  ll_finish_sum_kernel<<<1, LL_THREADS, 0, st>>>(partials, (int)blocks, scale, out);
  LL_CUDA_LAUNCHED("ll_finish_sum_kernel");
}

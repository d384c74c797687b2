/* cuda-channel.cuh: deterministic per-channel sums over x(n, c, inner), for
 * bias_backward and batch normalisation (C++, CUDA only).
 *
 * ll_channel_sums<K>(f) computes, for every channel j, K sums of the values
 * f adds for each of the channel's n * inner elements, in double, into
 * tot(c, K). No atomics: with inner == 1 (a matrix (n, c)) a block of 32
 * channels walks the rows in eight fixed slices; otherwise each channel is
 * cut into `parts` blocks whose partial sums a second kernel adds in order.
 * The split depends on the shape only, so results repeat bit for bit. */
#pragma once

#include "cuda-common.cuh"

/* f(j, at, acc): adds the terms of element at (a flat index into x) of
 * channel j into acc[0..K). */
template <int K, class F>
__global__ void ll_channel_partials_kernel(F f, int n, int c, int inner, int parts,
                                           double *partials) // (c, parts, K)
{
  __shared__ double sh[LL_THREADS];
  size_t m = (size_t)n * inner;
  for (int j = blockIdx.y; j < c; j += gridDim.y) {
    double acc[K];
    for (int q = 0; q < K; q++)
      acc[q] = 0.0;
    for (size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x; t < m;
         t += (size_t)parts * blockDim.x) {
      size_t i = t / inner, k = t - i * inner;
      f(j, (i * c + j) * inner + k, acc);
    }
    for (int q = 0; q < K; q++) {
      double s = ll_block_sum(acc[q], sh);
      if (threadIdx.x == 0)
        partials[((size_t)j * parts + blockIdx.x) * K + q] = s;
    }
  }
}

template <int K>
__global__ void ll_channel_finish_kernel(const double *partials, int c, int parts,
                                         double *tot) // (c, K)
{
  for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < c; j += gridDim.x * blockDim.x)
    for (int q = 0; q < K; q++) {
      double s = 0.0;
      for (int p = 0; p < parts; p++)
        s += partials[((size_t)j * parts + p) * K + q];
      tot[(size_t)j * K + q] = s;
    }
}

/* inner == 1: x(n, c); blockDim (32, 8), a block per 32 channels. */
template <int K, class F>
__global__ void ll_channel_columns_kernel(F f, int n, int c, double *tot) // (c, K)
{
  __shared__ double sh[K][8][33];
  int j = blockIdx.x * 32 + threadIdx.x;
  double acc[K];
  for (int q = 0; q < K; q++)
    acc[q] = 0.0;
  if (j < c)
    for (int r = threadIdx.y; r < n; r += 8)
      f(j, (size_t)r * c + j, acc);
  for (int q = 0; q < K; q++)
    sh[q][threadIdx.y][threadIdx.x] = acc[q];
  __syncthreads();
  if (threadIdx.y == 0 && j < c)
    for (int q = 0; q < K; q++) {
      double s = 0.0;
      for (int y = 0; y < 8; y++)
        s += sh[q][y][threadIdx.x];
      tot[(size_t)j * K + q] = s;
    }
}

template <int K, class F>
static void ll_channel_sums(cudaStream_t st, F f, int n, int c, int inner, double *tot)
{
  if (c <= 0)
    return;
  if (inner == 1) {
    ll_channel_columns_kernel<K><<<(c + 31) / 32, dim3(32, 8), 0, st>>>(f, n, c, tot);
    LL_CUDA_LAUNCHED("ll_channel_columns_kernel");
    return;
  }
  size_t m = (size_t)n * inner;
  size_t want = (m + LL_THREADS * 4 - 1) / (LL_THREADS * 4);
  size_t cap = c >= 1024 ? 1 : 1024 / (size_t)c;
  int parts = (int)(want < 1 ? 1 : want > cap ? cap : want > 64 ? 64 : want);
  double *partials =
    (double *)ll_cuda_scratch(LL_SCRATCH_REDUCE, (size_t)c * parts * K * sizeof(double));
  if (!partials)
    return;
  dim3 grid(parts, c < 65535 ? c : 65535);
  ll_channel_partials_kernel<K><<<grid, LL_THREADS, 0, st>>>(f, n, c, inner, parts, partials);
  LL_CUDA_LAUNCHED("ll_channel_partials_kernel");
  ll_channel_finish_kernel<K><<<(c + 127) / 128, 128, 0, st>>>(partials, c, parts, tot);
  LL_CUDA_LAUNCHED("ll_channel_finish_kernel");
}

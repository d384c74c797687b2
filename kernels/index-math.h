/* index-math.h: index arithmetic shared by the CPU reference and the CUDA
 * kernels, written once so both backends pick the same elements.
 *
 * Plain C, __host__ __device__ under nvcc (as counter-rng.h). The CUDA
 * kernels gather where the CPU scatters (a thread per input element sums the
 * outputs that read it, so backward passes need no atomics and add in a fixed
 * order); the "covering" helpers below are the inverses of the windows. */
#pragma once

#ifndef LL_HOST_DEVICE
#if defined(__CUDACC__)
#define LL_HOST_DEVICE __host__ __device__
#else
#define LL_HOST_DEVICE
#endif
#endif

static inline LL_HOST_DEVICE int ll_floor_div(int a, int b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The table row an embedding index reads: the nearest integer, clamped into
 * [0, vocab); negative and NaN read row 0. */
static inline LL_HOST_DEVICE int ll_embedding_row(float v, int vocab)
{
  if (!(v >= 0.5f)) /* negative, NaN, or rounds to 0 */
    return 0;
  if (v >= (float)vocab - 1.0f)
    return vocab - 1;
  return (int)(v + 0.5f);
}

/* The clipped input range [*lo, *hi) of pooling window o along one axis
 * (kernel k, stride s, padding p, input length n; floor mode). */
static inline LL_HOST_DEVICE void ll_pool_window(int o, int k, int s, int p, int n, int *lo,
                                                 int *hi)
{
  int a = o * s - p, b = a + k;
  *lo = a < 0 ? 0 : a;
  *hi = b > n ? n : b;
}

/* The range [*lo, *hi) of windows o (of on) whose span [o*s - p, o*s - p + k)
 * contains input position i: the inverse of ll_pool_window. */
static inline LL_HOST_DEVICE void ll_pool_covering(int i, int k, int s, int p, int on, int *lo,
                                                   int *hi)
{
  int a = -ll_floor_div(-(i + p - k + 1), s); /* ceil((i + p - k + 1) / s) */
  int b = ll_floor_div(i + p, s) + 1;
  *lo = a < 0 ? 0 : a;
  *hi = b > on ? on : b;
  if (*hi < *lo)
    *hi = *lo;
}

/* The output position o (of on) whose kernel tap t reads input position i in
 * a convolution (o * s - p + t * d == i), or -1 when there is none. */
static inline LL_HOST_DEVICE int ll_conv_tap_output(int i, int t, int s, int p, int d, int on)
{
  int q = i + p - t * d;
  if (q < 0 || q % s)
    return -1;
  q /= s;
  return q < on ? q : -1;
}

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

/* Where output position o of an upsampled axis (length out) reads from the
 * input axis (length in), as PyTorch's interpolate: the lower source *i0 and
 * the upper *i1, weighted 1 - *t and *t. Nearest: floor(o in / out), one
 * source. Bilinear with align_corners = False: s = (o + 0.5) in / out - 0.5
 * in float, clamped at 0; i0 = floor(s), i1 = min(i0 + 1, in - 1). */
static inline LL_HOST_DEVICE void ll_upsample_source(int bilinear, int o, int in, int out, int *i0,
                                                     int *i1, float *t)
{
  if (!bilinear) {
    *i0 = *i1 = (int)(((long long)o * in) / out);
    *t = 0.0f;
    return;
  }
  float s = ((float)o + 0.5f) * ((float)in / (float)out) - 0.5f;
  if (s < 0.0f)
    s = 0.0f;
  *i0 = (int)s;
  *i1 = *i0 + (*i0 < in - 1 ? 1 : 0);
  *t = s - (float)*i0;
}

/* The weight of input position i in output position o (ll_upsample_source's
 * taps added: at the last position both taps are the same one). */
static inline LL_HOST_DEVICE float ll_upsample_weight(int bilinear, int o, int i, int in, int out)
{
  int i0, i1;
  float t;
  ll_upsample_source(bilinear, o, in, out, &i0, &i1, &t);
  return (i0 == i ? 1.0f - t : 0.0f) + (i1 == i ? t : 0.0f);
}

/* The range [*lo, *hi) of output positions that may read input position i
 * (a superset: ll_upsample_weight is 0 for the others), the inverse of
 * ll_upsample_source for a gathering backward. */
static inline LL_HOST_DEVICE void ll_upsample_covering(int i, int in, int out, int *lo, int *hi)
{
  /* bilinear reads i from the outputs whose s lies in (i - 1, i + 1), that
   * is o in ((i - 0.5) out / in - 0.5, (i + 1.5) out / in - 0.5); nearest
   * from [i out / in, (i + 1) out / in); one more on each side for rounding */
  int a = (int)(((long long)(2 * i - 1) * out) / (2LL * in)) - 2;
  int b = (int)(((long long)(2 * i + 3) * out) / (2LL * in)) + 2;
  *lo = a < 0 ? 0 : a;
  *hi = b > out ? out : b;
}

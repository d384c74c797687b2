/* cpu-basic.c: memory, element-wise maps, GEMM (OpenBLAS) and bias. */
#include "cpu-ops.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../counter-rng.h"

void *ll_cpu_alloc(size_t bytes)
{
  /* 64-byte alignment for full-width vector loads */
  size_t rounded = (bytes + 63) & ~(size_t)63;
  void *p = aligned_alloc(64, rounded ? rounded : 64);
  if (p)
    memset(p, 0, rounded ? rounded : 64);
  return p;
}

void ll_cpu_free(void *ptr) { free(ptr); }

void ll_cpu_upload(float *dst, const float *src, size_t n) { memcpy(dst, src, n * sizeof *dst); }

void ll_cpu_download(float *dst, const float *src, size_t n) { memcpy(dst, src, n * sizeof *dst); }

void ll_cpu_fill(float *x, float v, size_t n)
{
  if (v == 0.0f) {
    memset(x, 0, n * sizeof *x);
    return;
  }
  for (size_t i = 0; i < n; i++)
    x[i] = v;
}

void ll_cpu_copy(float *dst, const float *src, size_t n) { memmove(dst, src, n * sizeof *dst); }

void ll_cpu_axpy(float *restrict y, float a, const float *restrict x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] += a * x[i];
}

void ll_cpu_scale(float *x, float a, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] *= a;
}

void ll_cpu_copy2d(float *dst, int ld_dst, const float *src, int ld_src, int rows, int cols,
                   bool accumulate)
{
  for (int r = 0; r < rows; r++) {
    float *d = dst + (size_t)r * ld_dst;
    const float *s = src + (size_t)r * ld_src;
    if (accumulate)
      for (int j = 0; j < cols; j++)
        d[j] += s[j];
    else
      memcpy(d, s, (size_t)cols * sizeof *d);
  }
}

static inline float gelu(float x) { return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)); }

void ll_cpu_act_forward(LlActivation act, float alpha, const float *restrict x, float *restrict y,
                        size_t n)
{
  switch (act) {
  case LL_ACT_RELU:
    for (size_t i = 0; i < n; i++)
      y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    break;
  case LL_ACT_LEAKY_RELU:
    for (size_t i = 0; i < n; i++)
      y[i] = x[i] > 0.0f ? x[i] : alpha * x[i];
    break;
  case LL_ACT_ELU:
    for (size_t i = 0; i < n; i++)
      y[i] = x[i] > 0.0f ? x[i] : alpha * expm1f(x[i]);
    break;
  case LL_ACT_GELU:
    for (size_t i = 0; i < n; i++)
      y[i] = gelu(x[i]);
    break;
  case LL_ACT_SIGMOID:
    for (size_t i = 0; i < n; i++)
      y[i] = 1.0f / (1.0f + expf(-x[i]));
    break;
  case LL_ACT_TANH:
    for (size_t i = 0; i < n; i++)
      y[i] = tanhf(x[i]);
    break;
  case LL_ACT_IDENTITY:
    if (y != x)
      memcpy(y, x, n * sizeof *y);
    break;
  }
}

void ll_cpu_act_backward(LlActivation act, float alpha, const float *restrict x,
                         const float *restrict y, const float *restrict dy, float *restrict dx,
                         size_t n)
{
  switch (act) {
  case LL_ACT_RELU:
    for (size_t i = 0; i < n; i++)
      dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
    break;
  case LL_ACT_LEAKY_RELU:
    for (size_t i = 0; i < n; i++)
      dx[i] += x[i] > 0.0f ? dy[i] : alpha * dy[i];
    break;
  case LL_ACT_ELU:
    for (size_t i = 0; i < n; i++)
      dx[i] += x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + alpha);
    break;
  case LL_ACT_GELU:
    for (size_t i = 0; i < n; i++) {
      float cdf = 0.5f * (1.0f + erff(x[i] * (float)M_SQRT1_2));
      float pdf = expf(-0.5f * x[i] * x[i]) * 0.3989422804014327f;
      dx[i] += dy[i] * (cdf + x[i] * pdf);
    }
    break;
  case LL_ACT_SIGMOID:
    for (size_t i = 0; i < n; i++)
      dx[i] += dy[i] * y[i] * (1.0f - y[i]);
    break;
  case LL_ACT_TANH:
    for (size_t i = 0; i < n; i++)
      dx[i] += dy[i] * (1.0f - y[i] * y[i]);
    break;
  case LL_ACT_IDENTITY:
    for (size_t i = 0; i < n; i++)
      dx[i] += dy[i];
    break;
  }
}

void ll_cpu_sum_squares(const float *x, size_t n, float *out)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double)x[i] * x[i];
  *out = (float)s;
}

void ll_cpu_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc)
{
  if (m == 0 || n == 0)
    return;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ll_cpu_bias_add(float *y, const float *bias, int n, int c, int inner)
{
  for (int i = 0; i < n; i++)
    for (int j = 0; j < c; j++) {
      float *p = y + ((size_t)i * c + j) * inner;
      float b = bias[j];
      for (int k = 0; k < inner; k++)
        p[k] += b;
    }
}

void ll_cpu_bias_backward(const float *dy, float *dbias, int n, int c, int inner)
{
  for (int i = 0; i < n; i++)
    for (int j = 0; j < c; j++) {
      const float *p = dy + ((size_t)i * c + j) * inner;
      float s = 0.0f;
      for (int k = 0; k < inner; k++)
        s += p[k];
      dbias[j] += s;
    }
}

void ll_cpu_dropout_forward(const float *restrict x, float *restrict y, float *restrict mask,
                            size_t n, float p, uint64_t seed, uint64_t offset)
{
  float keep = 1.0f / (1.0f - p);
  for (size_t i = 0; i < n; i++) {
    mask[i] = ll_counter_uniform(seed, offset + i) >= p ? keep : 0.0f;
    y[i] = x[i] * mask[i];
  }
}

void ll_cpu_mul_backward(const float *restrict dy, const float *restrict mask, float *restrict dx,
                         size_t n)
{
  for (size_t i = 0; i < n; i++)
    dx[i] += dy[i] * mask[i];
}

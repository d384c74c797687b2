/* cpu-basic.c: memory, element-wise maps, GEMM (OpenBLAS) and bias. */
#include "cpu-ops.h"

#include <cblas.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../counter-rng.h"
#include "cpu-simd.h"
#include "cpu-threads.h"

/* 64-byte alignment for full-width vector loads. Buffers of 2 MiB and more
 * (the graph's arena, the loader's batches) are aligned to 2 MiB and marked
 * for transparent huge pages (Debian's default mode is "madvise"): one page
 * fault and one TLB entry per 2 MiB instead of 512. The first batch of a
 * 1,024-sample evaluation took 2.9 ms to fill with 4 KiB pages, 0.9-1.4 ms
 * with huge pages. */
void *ll_cpu_alloc(size_t bytes)
{
  const size_t huge = (size_t)2 << 20;
  size_t align = bytes >= huge ? huge : 64;
  size_t rounded = bytes ? (bytes + align - 1) & ~(align - 1) : 64;
  void *p = aligned_alloc(align, rounded);
  if (!p)
    return NULL;
#ifdef MADV_HUGEPAGE
  if (align == huge)
    madvise(p, rounded, MADV_HUGEPAGE); /* advice only: a refusal changes nothing */
#endif
  memset(p, 0, rounded);
  return p;
}

void ll_cpu_free(void *ptr) { free(ptr); }

void ll_cpu_upload(float *dst, const float *src, size_t n) { memcpy(dst, src, n * sizeof *dst); }

void ll_cpu_download(float *dst, const float *src, size_t n) { memcpy(dst, src, n * sizeof *dst); }

/* Element-wise maps split over the pool once they are large (see
 * LL_CPU_PAR_MIN): each element is computed alone, so the split never
 * changes a result. */
typedef struct {
  float *dst;
  const float *src;
  float a;
} Map;

/* Zeroes x[0:n] with non-temporal stores: for buffers far larger than the
 * caches (zeroing every gradient of a step), skipping the read for
 * ownership halves the memory traffic. */
static void zero_streaming(float *x, size_t n)
{
#if defined(__SSE2__)
  size_t i = 0;
  while (i < n && ((uintptr_t)(x + i) & 15))
    x[i++] = 0.0f;
  __m128 z = _mm_setzero_ps();
  for (; i + 4 <= n; i += 4)
    _mm_stream_ps(x + i, z);
  _mm_sfence();
  for (; i < n; i++)
    x[i] = 0.0f;
#else
  memset(x, 0, n * sizeof *x);
#endif
}

static void fill_span(void *arg, size_t b, size_t e)
{
  const Map *m = arg;
  if (m->a == 0.0f) {
    if ((e - b) * sizeof(float) >= ((size_t)4 << 20))
      zero_streaming(m->dst + b, e - b);
    else
      memset(m->dst + b, 0, (e - b) * sizeof *m->dst);
    return;
  }
  for (size_t i = b; i < e; i++)
    m->dst[i] = m->a;
}

void ll_cpu_fill(float *x, float v, size_t n)
{
  Map m = {.dst = x, .a = v};
  ll_cpu_parallel_span(n, 4 * LL_CPU_PAR_MIN, fill_span, &m);
}

static void copy_span(void *arg, size_t b, size_t e)
{
  const Map *m = arg;
  memcpy(m->dst + b, m->src + b, (e - b) * sizeof *m->dst);
}

void ll_cpu_copy(float *dst, const float *src, size_t n)
{
  if (dst == src || n == 0)
    return;
  if (dst + n <= src || src + n <= dst) {
    Map m = {.dst = dst, .src = src};
    ll_cpu_parallel_span(n, 4 * LL_CPU_PAR_MIN, copy_span, &m);
  } else {
    memmove(dst, src, n * sizeof *dst);
  }
}

LL_CPU_CLONES
static void axpy_span(void *arg, size_t b, size_t e)
{
  const Map *m = arg;
  float *restrict y = m->dst;
  const float *restrict x = m->src;
  float a = m->a;
  for (size_t i = b; i < e; i++)
    y[i] += a * x[i];
}

void ll_cpu_axpy(float *y, float a, const float *x, size_t n)
{
  Map m = {.dst = y, .src = x, .a = a};
  ll_cpu_parallel_span(n, LL_CPU_PAR_MIN, axpy_span, &m);
}

LL_CPU_CLONES
static void scale_span(void *arg, size_t b, size_t e)
{
  const Map *m = arg;
  float *restrict x = m->dst;
  float a = m->a;
  for (size_t i = b; i < e; i++)
    x[i] *= a;
}

void ll_cpu_scale(float *x, float a, size_t n)
{
  Map m = {.dst = x, .a = a};
  ll_cpu_parallel_span(n, LL_CPU_PAR_MIN, scale_span, &m);
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

typedef struct {
  LlActivation act;
  float alpha;
  const float *x, *y, *dy;
  float *out; /* y (forward) or dx (backward) */
} Act;

/* The ReLU family reads dy unconditionally and selects, so the loops
 * vectorise instead of branching on the sign of each element. */
LL_CPU_CLONES
static void act_forward_span(void *arg, size_t b, size_t e)
{
  const Act *a = arg;
  const float *restrict x = a->x + b;
  float *restrict y = a->out + b;
  size_t n = e - b;
  float alpha = a->alpha;
  switch (a->act) {
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

void ll_cpu_act_forward(LlActivation act, float alpha, const float *x, float *y, size_t n)
{
  Act a = {.act = act, .alpha = alpha, .x = x, .out = y};
  ll_cpu_parallel_span(n, LL_CPU_PAR_MIN, act_forward_span, &a);
}

LL_CPU_CLONES
static void act_backward_span(void *arg, size_t b, size_t e)
{
  const Act *a = arg;
  const float *restrict x = a->x + b, *restrict y = a->y + b, *restrict dy = a->dy + b;
  float *restrict dx = a->out + b;
  size_t n = e - b;
  float alpha = a->alpha;
  switch (a->act) {
  case LL_ACT_RELU:
    for (size_t i = 0; i < n; i++) {
      float g = dy[i];
      dx[i] += x[i] > 0.0f ? g : 0.0f;
    }
    break;
  case LL_ACT_LEAKY_RELU:
    for (size_t i = 0; i < n; i++) {
      float g = dy[i];
      dx[i] += x[i] > 0.0f ? g : alpha * g;
    }
    break;
  case LL_ACT_ELU:
    for (size_t i = 0; i < n; i++) {
      float g = dy[i], d = g * (y[i] + alpha);
      dx[i] += x[i] > 0.0f ? g : d;
    }
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

void ll_cpu_act_backward(LlActivation act, float alpha, const float *x, const float *y,
                         const float *dy, float *dx, size_t n)
{
  Act a = {.act = act, .alpha = alpha, .x = x, .y = y, .dy = dy, .out = dx};
  ll_cpu_parallel_span(n, LL_CPU_PAR_MIN, act_backward_span, &a);
}

void ll_cpu_sum_squares(const float *x, size_t n, float *out)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double)x[i] * x[i];
  *out = (float)s;
}

typedef struct {
  bool ta, tb, split_m;
  int m, n, k, lda, ldb, ldc;
  float alpha, beta;
  const float *a, *b;
  float *c;
  /* epilogue (ll_cpu_linear_forward): c += bias per column, then max(c, 0) */
  const float *bias;
  bool relu;
} Gemm;

/* The epilogue on rows [r0, r1) and columns [c0, c1) of C: the same float
 * operations as bias_add and the ReLU's pass, so the same results. */
static void gemm_epilogue(const Gemm *g, int r0, int r1, int c0, int c1)
{
  for (int i = r0; i < r1; i++) {
    float *restrict p = g->c + (size_t)i * g->ldc;
    const float *restrict b = g->bias;
    if (b && g->relu)
      for (int j = c0; j < c1; j++) {
        float v = p[j] + b[j];
        p[j] = v > 0.0f ? v : 0.0f;
      }
    else if (b)
      for (int j = c0; j < c1; j++)
        p[j] += b[j];
    else
      for (int j = c0; j < c1; j++)
        p[j] = p[j] > 0.0f ? p[j] : 0.0f;
  }
}

/* Rows (split_m) or columns [begin, end) of C: each element of C is made by
 * one single-threaded SGEMM over the whole of k. */
static void gemm_range(void *arg, int chunk, int begin, int end)
{
  const Gemm *g = arg;
  int len = end - begin;
  if (g->split_m)
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans,
                len, g->n, g->k, g->alpha, g->a + (g->ta ? (size_t)begin : (size_t)begin * g->lda),
                g->lda, g->b, g->ldb, g->beta, g->c + (size_t)begin * g->ldc, g->ldc);
  else
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans,
                g->m, len, g->k, g->alpha, g->a, g->lda,
                g->b + (g->tb ? (size_t)begin * g->ldb : (size_t)begin), g->ldb, g->beta,
                g->c + begin, g->ldc);
  if (g->bias || g->relu) {
    if (g->split_m)
      gemm_epilogue(g, begin, end, 0, g->n);
    else
      gemm_epilogue(g, 0, g->m, begin, end);
  }
}

/* OpenBLAS runs single-threaded (cpu-threads.c); a product worth more than
 * a wake-up is cut into blocks of whole 16-row (or column) panels, one or
 * two per thread */
static void run_gemm(const Gemm *g)
{
  if (g->m == 0 || g->n == 0)
    return;
  int len = g->split_m ? g->m : g->n;
  int grain = len;
  if ((double)g->m * g->n * g->k >= 262144.0 && len >= 32) {
    grain = (ll_cpu_grain(len, 1) + 15) & ~15;
    if (grain < 16)
      grain = 16;
  }
  ll_cpu_parallel_for(len, grain, gemm_range, (void *)g);
}

static Gemm gemm_args(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc)
{
  return (Gemm){.ta = ta,
                .tb = tb,
                .m = m,
                .n = n,
                .k = k,
                .lda = lda,
                .ldb = ldb,
                .ldc = ldc,
                .alpha = alpha,
                .beta = beta,
                .a = a,
                .b = b,
                .c = c,
                .split_m = m >= n};
}

void ll_cpu_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc)
{
  Gemm g = gemm_args(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  run_gemm(&g);
}

void ll_cpu_linear_forward(const float *x, const float *w, const float *bias, float *y, int rows,
                           int in, int out, bool relu)
{
  Gemm g = gemm_args(false, true, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  g.bias = bias;
  g.relu = relu;
  run_gemm(&g);
}

typedef struct {
  float *y;
  const float *bias;
  int c, inner;
} Bias;

static void bias_add_rows(void *arg, int chunk, int begin, int end)
{
  const Bias *a = arg;
  if (a->inner == 1) { /* a dense layer: vectorised along the channels */
    for (int i = begin; i < end; i++) {
      float *restrict p = a->y + (size_t)i * a->c;
      const float *restrict b = a->bias;
      for (int j = 0; j < a->c; j++)
        p[j] += b[j];
    }
    return;
  }
  for (int i = begin; i < end; i++)
    for (int j = 0; j < a->c; j++) {
      float *p = a->y + ((size_t)i * a->c + j) * a->inner;
      float b = a->bias[j];
      for (int k = 0; k < a->inner; k++)
        p[k] += b;
    }
}

void ll_cpu_bias_add(float *y, const float *bias, int n, int c, int inner)
{
  Bias a = {.y = y, .bias = bias, .c = c, .inner = inner};
  size_t per_row = (size_t)c * inner;
  int grain = per_row * n < LL_CPU_PAR_MIN ? n : ll_cpu_grain(n, 2);
  ll_cpu_parallel_for(n, grain, bias_add_rows, &a);
}

/* dbias partials of the samples [begin, end), streamed in memory order:
 * per sample and channel the sum over inner in eight lanes (a fixed order),
 * added sample by sample into the chunk's partial. */
typedef struct {
  const float *dy;
  float *partial; /* (chunks, c) */
  int c, inner;
} BiasBack;

LL_CPU_CLONES
static void bias_backward_samples(void *arg, int chunk, int begin, int end)
{
  const BiasBack *a = arg;
  int c = a->c, inner = a->inner;
  float *part = a->partial + (size_t)chunk * c;
  for (int j = 0; j < c; j++)
    part[j] = 0.0f;
  for (int i = begin; i < end; i++)
    for (int j = 0; j < c; j++) {
      const float *p = a->dy + ((size_t)i * c + j) * inner;
      ll_v8 v = {0};
      int k = 0;
      for (; k + 8 <= inner; k += 8)
        v += ll_ld8(p + k);
      float s = ll_hsum8(v);
      for (; k < inner; k++)
        s += p[k];
      part[j] += s;
    }
}

void ll_cpu_bias_backward(const float *dy, float *dbias, int n, int c, int inner)
{
  if (inner == 1) {
    /* a dense layer: row by row, vectorised along the channels */
    for (int i = 0; i < n; i++) {
      const float *restrict p = dy + (size_t)i * c;
      float *restrict d = dbias;
      for (int j = 0; j < c; j++)
        d[j] += p[j];
    }
    return;
  }
  /* chunks fixed by n alone; their partials are added in chunk order */
  int grain = (size_t)n * c * inner < LL_CPU_PAR_MIN ? n : (n + 15) / 16;
  int chunks = ll_cpu_n_chunks(n, grain);
  BiasBack a = {.dy = dy, .partial = ll_cpu_scratch(3, (size_t)chunks * c), .c = c, .inner = inner};
  if (!a.partial)
    return; /* recorded for take_error */
  ll_cpu_parallel_for(n, grain, bias_backward_samples, &a);
  for (int j = 0; j < c; j++) {
    float s = 0.0f;
    for (int k = 0; k < chunks; k++)
      s += a.partial[(size_t)k * c + j];
    dbias[j] += s;
  }
}

typedef struct {
  const float *x, *dy;
  const float *relu_in; /* relu_mul_backward: the ReLU's input */
  float *y, *mask, *dx;
  LlDropMask drop;
} Drop;

/* The mask of LlDropMask, drawn on 32-bit lanes (the index's low half; its
 * high half is constant within each stretch), 8 lanes in AVX2. relu: the
 * input goes through max(x, 0) first, as ReLU's forward computes it (a
 * constant in each caller, so each keeps one vectorised loop). */
static inline __attribute__((always_inline)) void dropout_range(const Drop *d, size_t b, size_t e,
                                                                bool relu)
{
  const float *restrict x = d->x;
  float *restrict y = d->y, *restrict mask = d->mask;
  uint32_t threshold = d->drop.threshold;
  float keep = d->drop.keep;
  while (b < e) {
    size_t m = ll_counter_stretch(b, e - b);
    uint32_t k0 = ll_counter_k0(d->drop.key), k1 = ll_counter_k1(d->drop.key, (uint32_t)(b >> 32));
    uint32_t lo = (uint32_t)b;
    const float *restrict xs = x + b;
    float *restrict ys = y + b, *restrict ms = mask + b;
    for (size_t i = 0; i < m; i++) {
      uint32_t k = ll_counter_bits24_split(k0, k1, lo + (uint32_t)i);
      float mk = k >= threshold ? keep : 0.0f;
      float v = relu ? (xs[i] > 0.0f ? xs[i] : 0.0f) : xs[i];
      ms[i] = mk;
      ys[i] = v * mk;
    }
    b += m;
  }
}

LL_CPU_CLONES
static void dropout_span(void *arg, size_t b, size_t e) { dropout_range(arg, b, e, false); }

LL_CPU_CLONES
static void relu_dropout_span(void *arg, size_t b, size_t e) { dropout_range(arg, b, e, true); }

static void dropout_run(const float *x, float *y, float *mask, size_t n, float p, uint64_t seed,
                        uint64_t offset, LlCpuSpanFn span)
{
  Drop d = {.x = x, .y = y, .mask = mask, .drop = ll_drop_mask(p, seed, offset)};
  ll_cpu_parallel_span(n, LL_CPU_PAR_MIN / 4, span, &d);
}

void ll_cpu_dropout_forward(const float *x, float *y, float *mask, size_t n, float p, uint64_t seed,
                            uint64_t offset)
{
  dropout_run(x, y, mask, n, p, seed, offset, dropout_span);
}

void ll_cpu_relu_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                                 uint64_t seed, uint64_t offset)
{
  dropout_run(x, y, mask, n, p, seed, offset, relu_dropout_span);
}

LL_CPU_CLONES
static void mul_backward_span(void *arg, size_t b, size_t e)
{
  const Drop *d = arg;
  const float *restrict dy = d->dy, *restrict mask = d->x;
  float *restrict dx = d->dx;
  for (size_t i = b; i < e; i++)
    dx[i] += dy[i] * mask[i];
}

void ll_cpu_mul_backward(const float *dy, const float *mask, float *dx, size_t n)
{
  Drop d = {.dy = dy, .x = mask, .dx = dx};
  ll_cpu_parallel_span(n, LL_CPU_PAR_MIN, mul_backward_span, &d);
}

/* ReLU's backward through its input x (as act_backward's select) of
 * Dropout's (dy * mask), in one pass. */
LL_CPU_CLONES
static void relu_mul_backward_span(void *arg, size_t b, size_t e)
{
  const Drop *d = arg;
  const float *restrict dy = d->dy + b, *restrict mask = d->x + b, *restrict x = d->relu_in + b;
  float *restrict dx = d->dx + b;
  /* the select before the product: GCC if-converts and vectorises this form
   * (with the product inside the select it left a branch per element in the
   * AVX2 clone); dx + 0 * mask = dx, so the sum is the same */
  for (size_t i = 0; i < e - b; i++) {
    float g = dy[i];
    g = x[i] > 0.0f ? g : 0.0f;
    dx[i] += g * mask[i];
  }
}

void ll_cpu_relu_mul_backward(const float *dy, const float *mask, const float *x, float *dx,
                              size_t n)
{
  Drop d = {.dy = dy, .x = mask, .relu_in = x, .dx = dx};
  ll_cpu_parallel_span(n, LL_CPU_PAR_MIN, relu_mul_backward_span, &d);
}

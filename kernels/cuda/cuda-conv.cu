/* cuda-conv.cu: 2-D convolution (Conv1d runs it with h = kh = 1) by im2col
 * and cuBLAS, a chunk of samples at a time.
 *
 * For a chunk of nb samples and one group, im2col writes
 *   col(ckk, nb * ohw), col[q][s * ohw + p]   (ckk = c/groups * kh * kw)
 * so sample s's column matrix is the (ckk, ohw) block at column s * ohw. Then
 *   forward:         y_s(ocg, ohw)   = W_g(ocg, ckk) col_s       (strided batched GEMM)
 *   backward data:   col_s           = W_g^T dy_s                (strided batched GEMM),
 *                    dx += col2im(col), gathered per input pixel (no atomics)
 *   backward filter: dW_g(ocg, ckk) += dyR(ocg, nb*ohw) col^T    (one GEMM, K = nb * ohw)
 * where dyR is dy's group slice reordered to the same column order. The chunk
 * is as many samples as fit in 64 MiB of scratch (the whole batch for the
 * tiny CNN's shapes). */
#include "cuda-conv.h"

#include "../index-math.h"
#include "cuda-common.cuh"

#define CONV_SCRATCH_FLOATS ((size_t)16 << 20)

typedef struct {
  int cg, ocg, ckk, ohw, nb;
} ConvDims;

static ConvDims conv_dims(const LlConvGeom *g)
{
  ConvDims d;
  d.cg = g->c / g->groups;
  d.ocg = g->oc / g->groups;
  d.ckk = d.cg * g->kh * g->kw;
  d.ohw = g->oh * g->ow;
  size_t per = (size_t)(d.ckk + d.ocg) * d.ohw;
  size_t nb = per ? CONV_SCRATCH_FLOATS / per : (size_t)g->n;
  d.nb = (int)(nb < 1 ? 1 : nb > (size_t)g->n ? (size_t)g->n : nb);
  return d;
}

/* The columns and reordered gradients of one chunk, in the backend's own
 * scratch (LL_SCRATCH_CONV), shared by every conv of every graph. */
static size_t conv_scratch_floats(const LlConvGeom *g)
{
  ConvDims d = conv_dims(g);
  return (size_t)(d.ckk + d.ocg) * d.nb * d.ohw;
}

/* The engine's workspace (the ws arguments) is not used: 0 floats, so a
 * graph on the GPU reserves none. */
size_t ll_cuda_conv2d_workspace(const LlConvGeom *g) { return 0; }

/* Row-major C_i = alpha op(A_i) op(B_i) + beta C_i for i < batch (see
 * ll_cuda_gemm for the operand swap). */
static void gemm_batched(bool ta, bool tb, int m, int n, int k, const float *a, int lda,
                         long long sa, const float *b, int ldb, long long sb, float beta,
                         float *c, int ldc, long long sc, int batch)
{
  const float alpha = 1.0f;
  LL_CUBLAS_CHECK(cublasSgemmStridedBatched(ll_cuda_cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                            ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b,
                                            ldb, sb, a, lda, sa, &beta, c, ldc, sc, batch));
}

/* col(ckk, nb*ohw) from samples n0 .. n0+nb of group grp of x(n, c, h, w) */
static __global__ void im2col_kernel(LlConvGeom g, const float *__restrict__ x, int n0, int nb,
                                     int grp, float *__restrict__ col)
{
  int cg = g.c / g.groups, khw = g.kh * g.kw, ohw = g.oh * g.ow;
  size_t total = (size_t)cg * khw * nb * ohw;
  LL_GRID_STRIDE(i, total)
  {
    int p = (int)(i % ohw);
    size_t rest = i / ohw;
    int s = (int)(rest % nb), q = (int)(rest / nb);
    int ci = q / khw, r = q % khw, ki = r / g.kw, kj = r % g.kw;
    int iy = (p / g.ow) * g.sh - g.ph + ki * g.dh;
    int ix = (p % g.ow) * g.sw - g.pw + kj * g.dw;
    float v = 0.0f;
    if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
      v = x[(((size_t)(n0 + s) * g.c + grp * cg + ci) * g.h + iy) * g.w + ix];
    col[i] = v;
  }
}

/* dx(samples n0.., group grp) += the patches in col put back: a thread per
 * input element sums the taps that read it, in (ki, kj) order. */
static __global__ void col2im_add_kernel(LlConvGeom g, const float *__restrict__ col, int n0,
                                         int nb, int grp, float *__restrict__ dx)
{
  int cg = g.c / g.groups, ohw = g.oh * g.ow;
  size_t ld = (size_t)nb * ohw, hw = (size_t)g.h * g.w;
  size_t total = (size_t)nb * cg * hw;
  LL_GRID_STRIDE(i, total)
  {
    int ix = (int)(i % g.w), iy = (int)((i / g.w) % g.h);
    size_t sc = i / hw;
    int ci = (int)(sc % cg), s = (int)(sc / cg);
    float acc = 0.0f;
    for (int ki = 0; ki < g.kh; ki++) {
      int oy = ll_conv_tap_output(iy, ki, g.sh, g.ph, g.dh, g.oh);
      if (oy < 0)
        continue;
      for (int kj = 0; kj < g.kw; kj++) {
        int ox = ll_conv_tap_output(ix, kj, g.sw, g.pw, g.dw, g.ow);
        if (ox < 0)
          continue;
        int q = (ci * g.kh + ki) * g.kw + kj;
        acc += col[(size_t)q * ld + (size_t)s * ohw + oy * g.ow + ox];
      }
    }
    dx[(((size_t)(n0 + s) * g.c + grp * cg + ci)) * hw + iy * g.w + ix] += acc;
  }
}

/* dyr(ocg, nb*ohw) = group grp's slice of dy(n, oc, ohw), samples n0.. */
static __global__ void gather_dy_kernel(const float *__restrict__ dy, int oc, int ocg, int ohw,
                                        int n0, int nb, int grp, float *__restrict__ dyr)
{
  size_t total = (size_t)ocg * nb * ohw;
  LL_GRID_STRIDE(i, total)
  {
    int p = (int)(i % ohw);
    size_t rest = i / ohw;
    int s = (int)(rest % nb), o = (int)(rest / nb);
    dyr[i] = dy[((size_t)(n0 + s) * oc + grp * ocg + o) * ohw + p];
  }
}

void ll_cuda_conv2d_forward(const LlConvGeom *g, const float *x, const float *w, float *y,
                            float *ws)
{
  ConvDims d = conv_dims(g);
  if (g->n <= 0 || d.ohw <= 0 || d.ocg <= 0)
    return;
  LlCudaScope s;
  float *col = (float *)ll_cuda_scratch(LL_SCRATCH_CONV, conv_scratch_floats(g) * 4);
  if (!col)
    return;
  for (int n0 = 0; n0 < g->n; n0 += d.nb) {
    int nb = g->n - n0 < d.nb ? g->n - n0 : d.nb;
    for (int grp = 0; grp < g->groups; grp++) {
      size_t total = (size_t)d.ckk * nb * d.ohw;
      im2col_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(*g, x, n0, nb, grp, col);
      LL_CUDA_LAUNCHED("im2col_kernel");
      float *yg = y + ((size_t)n0 * g->groups + grp) * d.ocg * d.ohw;
      gemm_batched(false, false, d.ocg, d.ohw, d.ckk, w + (size_t)grp * d.ocg * d.ckk, d.ckk, 0,
                   col, nb * d.ohw, d.ohw, 0.0f, yg, d.ohw, (long long)g->oc * d.ohw, nb);
    }
  }
}

void ll_cuda_conv2d_backward_data(const LlConvGeom *g, const float *w, const float *dy,
                                  float *dx, float *ws)
{
  ConvDims d = conv_dims(g);
  if (g->n <= 0 || d.ohw <= 0 || d.ocg <= 0)
    return;
  LlCudaScope s;
  float *col = (float *)ll_cuda_scratch(LL_SCRATCH_CONV, conv_scratch_floats(g) * 4);
  if (!col)
    return;
  for (int n0 = 0; n0 < g->n; n0 += d.nb) {
    int nb = g->n - n0 < d.nb ? g->n - n0 : d.nb;
    for (int grp = 0; grp < g->groups; grp++) {
      const float *dyg = dy + ((size_t)n0 * g->groups + grp) * d.ocg * d.ohw;
      gemm_batched(true, false, d.ckk, d.ohw, d.ocg, w + (size_t)grp * d.ocg * d.ckk, d.ckk, 0,
                   dyg, d.ohw, (long long)g->oc * d.ohw, 0.0f, col, nb * d.ohw, d.ohw, nb);
      size_t total = (size_t)nb * d.cg * g->h * g->w;
      col2im_add_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(*g, col, n0, nb, grp, dx);
      LL_CUDA_LAUNCHED("col2im_add_kernel");
    }
  }
}

void ll_cuda_conv2d_backward_filter(const LlConvGeom *g, const float *x, const float *dy,
                                    float *dw, float *ws)
{
  ConvDims d = conv_dims(g);
  if (g->n <= 0 || d.ohw <= 0 || d.ocg <= 0)
    return;
  LlCudaScope s;
  float *col = (float *)ll_cuda_scratch(LL_SCRATCH_CONV, conv_scratch_floats(g) * 4);
  if (!col)
    return;
  float *dyr = col + (size_t)d.ckk * d.nb * d.ohw;
  const float one = 1.0f;
  for (int n0 = 0; n0 < g->n; n0 += d.nb) {
    int nb = g->n - n0 < d.nb ? g->n - n0 : d.nb;
    int k = nb * d.ohw;
    for (int grp = 0; grp < g->groups; grp++) {
      size_t total = (size_t)d.ckk * k;
      im2col_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(*g, x, n0, nb, grp, col);
      LL_CUDA_LAUNCHED("im2col_kernel");
      total = (size_t)d.ocg * k;
      gather_dy_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(dy, g->oc, d.ocg, d.ohw, n0,
                                                                      nb, grp, dyr);
      LL_CUDA_LAUNCHED("gather_dy_kernel");
      /* row-major dW_g(ocg, ckk) += dyr(ocg, k) col(ckk, k)^T */
      LL_CUBLAS_CHECK(cublasSgemm(ll_cuda_cublas(), CUBLAS_OP_T, CUBLAS_OP_N, d.ckk, d.ocg, k,
                                  &one, col, k, dyr, k, &one, dw + (size_t)grp * d.ocg * d.ckk,
                                  d.ckk));
    }
  }
}

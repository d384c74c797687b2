/* cuda-pool.cu: max and average pooling, the mean over the inner dimension
 * (global average pooling), and upsampling. Forward: a thread per output. Backward:
 * a thread per input element gathers from the windows that cover it
 * (ll_pool_covering), so overlapping windows need no atomics and add in
 * the CPU's order. */
#include "cuda-pool.h"

#include <float.h>

#include "../index-math.h"
#include "cuda-common.cuh"

static __global__ void maxpool_forward_kernel(LlPoolGeom g, const float *__restrict__ x,
                                              float *__restrict__ y, int32_t *__restrict__ argmax)
{
  size_t ohw = (size_t)g.oh * g.ow, total = (size_t)g.n * g.c * ohw;
  LL_GRID_STRIDE(i, total)
  {
    size_t plane = i / ohw;
    int o = (int)(i % ohw), oy = o / g.ow, ox = o % g.ow;
    const float *xp = x + plane * g.h * g.w;
    int y0, y1, x0, x1;
    ll_pool_window(oy, g.kh, g.sh, g.ph, g.h, &y0, &y1);
    ll_pool_window(ox, g.kw, g.sw, g.pw, g.w, &x0, &x1);
    float best = -FLT_MAX;
    int at = y0 * g.w + x0;
    for (int iy = y0; iy < y1; iy++)
      for (int ix = x0; ix < x1; ix++) {
        float v = xp[iy * g.w + ix];
        if (v > best) {
          best = v;
          at = iy * g.w + ix;
        }
      }
    y[i] = xp[at];
    argmax[i] = at;
  }
}

void ll_cuda_maxpool2d_forward(const LlPoolGeom *g, const float *x, float *y, int32_t *argmax)
{
  size_t total = (size_t)g->n * g->c * g->oh * g->ow;
  if (!total)
    return;
  LlCudaScope s;
  maxpool_forward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(*g, x, y, argmax);
  LL_CUDA_LAUNCHED("maxpool_forward_kernel");
}

static __global__ void maxpool_backward_kernel(LlPoolGeom g, const int32_t *__restrict__ argmax,
                                               const float *__restrict__ dy,
                                               float *__restrict__ dx)
{
  size_t hw = (size_t)g.h * g.w, ohw = (size_t)g.oh * g.ow, total = (size_t)g.n * g.c * hw;
  LL_GRID_STRIDE(i, total)
  {
    size_t plane = i / hw;
    int at = (int)(i % hw), iy = at / g.w, ix = at % g.w;
    int oy0, oy1, ox0, ox1;
    ll_pool_covering(iy, g.kh, g.sh, g.ph, g.oh, &oy0, &oy1);
    ll_pool_covering(ix, g.kw, g.sw, g.pw, g.ow, &ox0, &ox1);
    const int32_t *ap = argmax + plane * ohw;
    const float *dyp = dy + plane * ohw;
    float acc = 0.0f;
    bool hit = false;
    for (int oy = oy0; oy < oy1; oy++)
      for (int ox = ox0; ox < ox1; ox++)
        if (ap[oy * g.ow + ox] == at) {
          acc += dyp[oy * g.ow + ox];
          hit = true;
        }
    if (hit)
      dx[i] += acc;
  }
}

void ll_cuda_maxpool2d_backward(const LlPoolGeom *g, const int32_t *argmax, const float *dy,
                                float *dx)
{
  size_t total = (size_t)g->n * g->c * g->h * g->w;
  if (!total || !g->oh || !g->ow)
    return;
  LlCudaScope s;
  maxpool_backward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(*g, argmax, dy, dx);
  LL_CUDA_LAUNCHED("maxpool_backward_kernel");
}

static __global__ void avgpool_forward_kernel(LlPoolGeom g, const float *__restrict__ x,
                                              float *__restrict__ y)
{
  size_t ohw = (size_t)g.oh * g.ow, total = (size_t)g.n * g.c * ohw;
  float inv = 1.0f / (float)(g.kh * g.kw);
  LL_GRID_STRIDE(i, total)
  {
    size_t plane = i / ohw;
    int o = (int)(i % ohw), oy = o / g.ow, ox = o % g.ow;
    const float *xp = x + plane * g.h * g.w;
    int y0, y1, x0, x1;
    ll_pool_window(oy, g.kh, g.sh, g.ph, g.h, &y0, &y1);
    ll_pool_window(ox, g.kw, g.sw, g.pw, g.w, &x0, &x1);
    float acc = 0.0f;
    for (int iy = y0; iy < y1; iy++)
      for (int ix = x0; ix < x1; ix++)
        acc += xp[iy * g.w + ix];
    y[i] = acc * inv;
  }
}

void ll_cuda_avgpool2d_forward(const LlPoolGeom *g, const float *x, float *y)
{
  size_t total = (size_t)g->n * g->c * g->oh * g->ow;
  if (!total)
    return;
  LlCudaScope s;
  avgpool_forward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(*g, x, y);
  LL_CUDA_LAUNCHED("avgpool_forward_kernel");
}

static __global__ void avgpool_backward_kernel(LlPoolGeom g, const float *__restrict__ dy,
                                               float *__restrict__ dx)
{
  size_t hw = (size_t)g.h * g.w, ohw = (size_t)g.oh * g.ow, total = (size_t)g.n * g.c * hw;
  float inv = 1.0f / (float)(g.kh * g.kw);
  LL_GRID_STRIDE(i, total)
  {
    size_t plane = i / hw;
    int at = (int)(i % hw), iy = at / g.w, ix = at % g.w;
    int oy0, oy1, ox0, ox1;
    ll_pool_covering(iy, g.kh, g.sh, g.ph, g.oh, &oy0, &oy1);
    ll_pool_covering(ix, g.kw, g.sw, g.pw, g.ow, &ox0, &ox1);
    const float *dyp = dy + plane * ohw;
    float acc = 0.0f;
    for (int oy = oy0; oy < oy1; oy++)
      for (int ox = ox0; ox < ox1; ox++)
        acc += dyp[oy * g.ow + ox] * inv;
    dx[i] += acc;
  }
}

void ll_cuda_avgpool2d_backward(const LlPoolGeom *g, const float *dy, float *dx)
{
  size_t total = (size_t)g->n * g->c * g->h * g->w;
  if (!total || !g->oh || !g->ow)
    return;
  LlCudaScope s;
  avgpool_backward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(*g, dy, dx);
  LL_CUDA_LAUNCHED("avgpool_backward_kernel");
}

/* A warp per row of x(outer, inner). */
static __global__ void mean_inner_forward_kernel(const float *__restrict__ x,
                                                 float *__restrict__ y, int outer, int inner)
{
  int lane = threadIdx.x & 31;
  float inv = 1.0f / (float)inner;
  for (int o = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; o < outer;
       o += (gridDim.x * blockDim.x) >> 5) {
    const float *xp = x + (size_t)o * inner;
    float acc = 0.0f;
    for (int i = lane; i < inner; i += 32)
      acc += xp[i];
    acc = ll_warp_sumf(acc);
    if (lane == 0)
      y[o] = acc * inv;
  }
}

void ll_cuda_mean_inner_forward(const float *x, float *y, int outer, int inner)
{
  if (outer <= 0 || inner <= 0)
    return;
  LlCudaScope s;
  mean_inner_forward_kernel<<<ll_blocks((size_t)outer * 32), LL_THREADS, 0, s.stream>>>(
    x, y, outer, inner);
  LL_CUDA_LAUNCHED("mean_inner_forward_kernel");
}

static __global__ void mean_inner_backward_kernel(const float *__restrict__ dy,
                                                  float *__restrict__ dx, int inner, size_t total)
{
  float inv = 1.0f / (float)inner;
  LL_GRID_STRIDE(i, total)
  dx[i] += dy[i / inner] * inv;
}

void ll_cuda_mean_inner_backward(const float *dy, float *dx, int outer, int inner)
{
  size_t total = (size_t)outer * inner;
  if (outer <= 0 || inner <= 0)
    return;
  LlCudaScope s;
  mean_inner_backward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(dy, dx, inner,
                                                                            total);
  LL_CUDA_LAUNCHED("mean_inner_backward_kernel");
}

/* ---- upsampling: nearest and bilinear (align_corners = False) ---- */

static __global__ void upsample_forward_kernel(bool bilinear, const float *__restrict__ x,
                                               float *__restrict__ y, int h, int w, int oh, int ow,
                                               size_t total)
{
  LL_GRID_STRIDE(i, total)
  {
    size_t plane = i / ((size_t)oh * ow);
    int o = (int)(i % ((size_t)oh * ow)), oy = o / ow, ox = o % ow, y0, y1, x0, x1;
    float ty, tx;
    ll_upsample_source(bilinear, oy, h, oh, &y0, &y1, &ty);
    ll_upsample_source(bilinear, ox, w, ow, &x0, &x1, &tx);
    const float *r0 = x + (plane * h + y0) * w, *r1 = x + (plane * h + y1) * w;
    y[i] = (1.0f - ty) * ((1.0f - tx) * r0[x0] + tx * r0[x1]) +
           ty * ((1.0f - tx) * r1[x0] + tx * r1[x1]);
  }
}

void ll_cuda_upsample2d_forward(bool bilinear, const float *x, float *y, int planes, int h, int w,
                                int oh, int ow)
{
  size_t total = (size_t)planes * oh * ow;
  if (!total)
    return;
  LlCudaScope s;
  upsample_forward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(bilinear, x, y, h, w, oh,
                                                                         ow, total);
  LL_CUDA_LAUNCHED("upsample_forward_kernel");
}

/* A thread per input element gathers the outputs that read it, in the
 * CPU's order (rows of dy, then columns). */
static __global__ void upsample_backward_kernel(bool bilinear, const float *__restrict__ dy,
                                                float *__restrict__ dx, int h, int w, int oh,
                                                int ow, size_t total)
{
  LL_GRID_STRIDE(i, total)
  {
    size_t plane = i / ((size_t)h * w);
    int at = (int)(i % ((size_t)h * w)), iy = at / w, ix = at % w, oy0, oy1, ox0, ox1;
    ll_upsample_covering(iy, h, oh, &oy0, &oy1);
    ll_upsample_covering(ix, w, ow, &ox0, &ox1);
    float acc = 0.0f;
    for (int oy = oy0; oy < oy1; oy++) {
      float wy = ll_upsample_weight(bilinear, oy, iy, h, oh);
      if (wy == 0.0f)
        continue;
      const float *dyr = dy + (plane * oh + oy) * ow;
      float row = 0.0f;
      for (int ox = ox0; ox < ox1; ox++)
        row += ll_upsample_weight(bilinear, ox, ix, w, ow) * dyr[ox];
      acc += wy * row;
    }
    dx[i] += acc;
  }
}

void ll_cuda_upsample2d_backward(bool bilinear, const float *dy, float *dx, int planes, int h,
                                 int w, int oh, int ow)
{
  size_t total = (size_t)planes * h * w;
  if (!total)
    return;
  LlCudaScope s;
  upsample_backward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(bilinear, dy, dx, h, w,
                                                                          oh, ow, total);
  LL_CUDA_LAUNCHED("upsample_backward_kernel");
}

/* cpu-conv.c: 2-D convolution (Conv1d runs it with h = kh = 1) by im2col and
 * OpenBLAS SGEMM, one sample at a time.
 *
 * Per sample and group, the patches go into col (cg*kh*kw, oh*ow) and the
 * convolution is one SGEMM with the (oc/groups, cg*kh*kw) weights. Taking the
 * samples one by one keeps col in the L2 cache: on the tiny CNN's shapes
 * (batch 128; 1->8, 8->16, 16->16 channels, 3x3 on 8..28 pixels) this was 1.4
 * to 1.7 times faster than putting the columns of many samples side by side
 * for fewer, larger SGEMMs (see tests/bench/bench-conv.c). A 1x1, stride 1,
 * unpadded conv skips im2col: a sample's group slice is its column matrix.
 *
 * The workspace is one sample's col: (c/groups * kh * kw, oh * ow) floats.
 */
#include "cpu-ops.h"

#include <cblas.h>
#include <string.h>

static bool is_pointwise(const LlConvGeom *g)
{
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

size_t ll_cpu_conv2d_workspace(const LlConvGeom *g)
{
  if (is_pointwise(g))
    return 0;
  return (size_t)(g->c / g->groups) * g->kh * g->kw * g->oh * g->ow;
}

static inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* The range [*lo, *hi) of output columns whose input column ox*sw + off lies
 * in [0, w). */
static void valid_range(int off, int sw, int w, int ow, int *lo, int *hi)
{
  int a = -floor_div(off, sw); /* ceil(-off / sw) */
  int b = floor_div(w - 1 - off, sw) + 1;
  *lo = a < 0 ? 0 : a > ow ? ow : a;
  *hi = b > ow ? ow : b < *lo ? *lo : b;
}

/* col(cg*kh*kw, ld)[:, 0:oh*ow] = the patches of one sample's group slice. */
static void im2col(const LlConvGeom *g, const float *x, // (cg, h, w)
                   float *col, size_t ld)
{
  int cg = g->c / g->groups, ow = g->ow;
  for (int c = 0; c < cg; c++) {
    const float *xc = x + (size_t)c * g->h * g->w;
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++) {
        float *row = col + ((size_t)(c * g->kh + ki) * g->kw + kj) * ld;
        int off = kj * g->dw - g->pw, lo, hi;
        valid_range(off, g->sw, g->w, ow, &lo, &hi);
        for (int oy = 0; oy < g->oh; oy++) {
          float *r = row + (size_t)oy * ow;
          int iy = oy * g->sh - g->ph + ki * g->dh;
          if (iy < 0 || iy >= g->h) {
            memset(r, 0, (size_t)ow * sizeof *r);
            continue;
          }
          const float *xr = xc + (size_t)iy * g->w + off;
          for (int ox = 0; ox < lo; ox++)
            r[ox] = 0.0f;
          if (g->sw == 1)
            memcpy(r + lo, xr + lo, (size_t)(hi - lo) * sizeof *r);
          else
            for (int ox = lo; ox < hi; ox++)
              r[ox] = xr[ox * g->sw];
          for (int ox = hi; ox < ow; ox++)
            r[ox] = 0.0f;
        }
      }
  }
}

/* dx(cg, h, w) += the patches in col(cg*kh*kw, ld)[:, 0:oh*ow] put back. */
static void col2im_add(const LlConvGeom *g, const float *col, size_t ld, float *dx)
{
  int cg = g->c / g->groups, ow = g->ow;
  for (int c = 0; c < cg; c++) {
    float *dxc = dx + (size_t)c * g->h * g->w;
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++) {
        const float *row = col + ((size_t)(c * g->kh + ki) * g->kw + kj) * ld;
        int off = kj * g->dw - g->pw, lo, hi;
        valid_range(off, g->sw, g->w, ow, &lo, &hi);
        for (int oy = 0; oy < g->oh; oy++) {
          int iy = oy * g->sh - g->ph + ki * g->dh;
          if (iy < 0 || iy >= g->h)
            continue;
          const float *restrict r = row + (size_t)oy * ow;
          float *restrict xr = dxc + (size_t)iy * g->w + off;
          if (g->sw == 1)
            for (int ox = lo; ox < hi; ox++)
              xr[ox] += r[ox];
          else
            for (int ox = lo; ox < hi; ox++)
              xr[ox * g->sw] += r[ox];
        }
      }
  }
}

void ll_cpu_conv2d_forward(const LlConvGeom *g, const float *x, const float *w, float *y,
                           float *ws)
{
  int cg = g->c / g->groups, ocg = g->oc / g->groups, ckk = cg * g->kh * g->kw;
  int ohw = g->oh * g->ow;
  size_t ghw = (size_t)cg * g->h * g->w;
  for (int n = 0; n < g->n; n++)
    for (int grp = 0; grp < g->groups; grp++) {
      const float *xp = x + ((size_t)n * g->groups + grp) * ghw; /* (cg, h, w) */
      float *yp = y + ((size_t)n * g->groups + grp) * ocg * ohw; /* (ocg, ohw) */
      const float *col = xp;
      if (!is_pointwise(g)) {
        im2col(g, xp, ws, (size_t)ohw);
        col = ws;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ocg, ohw, ckk, 1.0f,
                  w + (size_t)grp * ocg * ckk, ckk, col, ohw, 0.0f, yp, ohw);
    }
}

void ll_cpu_conv2d_backward_data(const LlConvGeom *g, const float *w, const float *dy, float *dx,
                                 float *ws)
{
  int cg = g->c / g->groups, ocg = g->oc / g->groups, ckk = cg * g->kh * g->kw;
  int ohw = g->oh * g->ow;
  size_t ghw = (size_t)cg * g->h * g->w;
  for (int n = 0; n < g->n; n++)
    for (int grp = 0; grp < g->groups; grp++) {
      float *dxp = dx + ((size_t)n * g->groups + grp) * ghw;             /* (cg, h, w) */
      const float *dyp = dy + ((size_t)n * g->groups + grp) * ocg * ohw; /* (ocg, ohw) */
      const float *wg = w + (size_t)grp * ocg * ckk;                     /* (ocg, ckk) */
      if (is_pointwise(g)) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, ohw, ocg, 1.0f, wg, ckk, dyp,
                    ohw, 1.0f, dxp, ohw);
        continue;
      }
      /* col(ckk, ohw) = W_g^T dy, then scattered back onto the input grid */
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, ohw, ocg, 1.0f, wg, ckk, dyp, ohw,
                  0.0f, ws, ohw);
      col2im_add(g, ws, (size_t)ohw, dxp);
    }
}

void ll_cpu_conv2d_backward_filter(const LlConvGeom *g, const float *x, const float *dy,
                                   float *dw, float *ws)
{
  int cg = g->c / g->groups, ocg = g->oc / g->groups, ckk = cg * g->kh * g->kw;
  int ohw = g->oh * g->ow;
  size_t ghw = (size_t)cg * g->h * g->w;
  for (int n = 0; n < g->n; n++)
    for (int grp = 0; grp < g->groups; grp++) {
      const float *xp = x + ((size_t)n * g->groups + grp) * ghw;
      const float *dyp = dy + ((size_t)n * g->groups + grp) * ocg * ohw;
      const float *col = xp;
      if (!is_pointwise(g)) {
        im2col(g, xp, ws, (size_t)ohw);
        col = ws;
      }
      /* dW_g(ocg, ckk) += dy (ocg, ohw) col^T (ohw, ckk) */
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ocg, ckk, ohw, 1.0f, dyp, ohw, col,
                  ohw, 1.0f, dw + (size_t)grp * ocg * ckk, ckk);
    }
}

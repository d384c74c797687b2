/* cpu-pool.c: max and average pooling over 2-D windows, and the mean over
 * the inner dimension (global average pooling).
 *
 * Windows are floor-mode, as PyTorch's default (ceil_mode=False): every
 * window starts inside the padded input and ends inside it, so the average's
 * divisor with count_include_pad is always kh * kw. Max pooling treats padding
 * as -inf; argmax holds the index within the sample-channel plane (iy * w + ix),
 * as PyTorch's return_indices does. */
#include "cpu-ops.h"

#include <float.h>
#include <string.h>

/* The clipped input range [*lo, *hi) of window o along one axis. */
static inline void window(int o, int k, int s, int p, int n, int *lo, int *hi)
{
  int a = o * s - p, b = a + k;
  *lo = a < 0 ? 0 : a;
  *hi = b > n ? n : b;
}

void ll_cpu_maxpool2d_forward(const LlPoolGeom *g, const float *x, float *y, int32_t *argmax)
{
  size_t planes = (size_t)g->n * g->c, hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  for (size_t p = 0; p < planes; p++) {
    const float *xp = x + p * hw;
    float *yp = y + p * ohw;
    int32_t *ap = argmax + p * ohw;
    for (int oy = 0; oy < g->oh; oy++) {
      int y0, y1;
      window(oy, g->kh, g->sh, g->ph, g->h, &y0, &y1);
      for (int ox = 0; ox < g->ow; ox++) {
        int x0, x1;
        window(ox, g->kw, g->sw, g->pw, g->w, &x0, &x1);
        float best = -FLT_MAX;
        int at = y0 * g->w + x0;
        for (int iy = y0; iy < y1; iy++) {
          const float *row = xp + (size_t)iy * g->w;
          for (int ix = x0; ix < x1; ix++)
            if (row[ix] > best) {
              best = row[ix];
              at = iy * g->w + ix;
            }
        }
        yp[oy * g->ow + ox] = xp[at];
        ap[oy * g->ow + ox] = at;
      }
    }
  }
}

void ll_cpu_maxpool2d_backward(const LlPoolGeom *g, const int32_t *argmax, const float *dy,
                               float *dx)
{
  size_t planes = (size_t)g->n * g->c, hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  for (size_t p = 0; p < planes; p++) {
    float *dxp = dx + p * hw;
    const float *dyp = dy + p * ohw;
    const int32_t *ap = argmax + p * ohw;
    for (size_t i = 0; i < ohw; i++)
      dxp[ap[i]] += dyp[i];
  }
}

void ll_cpu_avgpool2d_forward(const LlPoolGeom *g, const float *x, float *y)
{
  size_t planes = (size_t)g->n * g->c, hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  float inv = 1.0f / (float)(g->kh * g->kw);
  for (size_t p = 0; p < planes; p++) {
    const float *xp = x + p * hw;
    float *yp = y + p * ohw;
    for (int oy = 0; oy < g->oh; oy++) {
      int y0, y1;
      window(oy, g->kh, g->sh, g->ph, g->h, &y0, &y1);
      for (int ox = 0; ox < g->ow; ox++) {
        int x0, x1;
        window(ox, g->kw, g->sw, g->pw, g->w, &x0, &x1);
        float s = 0.0f;
        for (int iy = y0; iy < y1; iy++) {
          const float *row = xp + (size_t)iy * g->w;
          for (int ix = x0; ix < x1; ix++)
            s += row[ix];
        }
        yp[oy * g->ow + ox] = s * inv;
      }
    }
  }
}

void ll_cpu_avgpool2d_backward(const LlPoolGeom *g, const float *dy, float *dx)
{
  size_t planes = (size_t)g->n * g->c, hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  float inv = 1.0f / (float)(g->kh * g->kw);
  for (size_t p = 0; p < planes; p++) {
    float *dxp = dx + p * hw;
    const float *dyp = dy + p * ohw;
    for (int oy = 0; oy < g->oh; oy++) {
      int y0, y1;
      window(oy, g->kh, g->sh, g->ph, g->h, &y0, &y1);
      for (int ox = 0; ox < g->ow; ox++) {
        int x0, x1;
        window(ox, g->kw, g->sw, g->pw, g->w, &x0, &x1);
        float d = dyp[oy * g->ow + ox] * inv;
        for (int iy = y0; iy < y1; iy++) {
          float *row = dxp + (size_t)iy * g->w;
          for (int ix = x0; ix < x1; ix++)
            row[ix] += d;
        }
      }
    }
  }
}

void ll_cpu_mean_inner_forward(const float *x, float *y, int outer, int inner)
{
  float inv = 1.0f / (float)inner;
  for (int o = 0; o < outer; o++) {
    const float *xp = x + (size_t)o * inner;
    float s = 0.0f;
    for (int i = 0; i < inner; i++)
      s += xp[i];
    y[o] = s * inv;
  }
}

void ll_cpu_mean_inner_backward(const float *dy, float *dx, int outer, int inner)
{
  float inv = 1.0f / (float)inner;
  for (int o = 0; o < outer; o++) {
    float *dxp = dx + (size_t)o * inner;
    float d = dy[o] * inv;
    for (int i = 0; i < inner; i++)
      dxp[i] += d;
  }
}

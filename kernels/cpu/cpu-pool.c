/* cpu-pool.c: max and average pooling over 2-D windows, the mean over the
 * inner dimension (global average pooling), and upsampling.
 *
 * Windows are floor-mode, as PyTorch's default (ceil_mode=False): every
 * window starts inside the padded input and ends inside it, so the average's
 * divisor with count_include_pad is always kh * kw. Max pooling treats padding
 * as -inf; argmax holds the index within the sample-channel plane (iy * w + ix),
 * as PyTorch's return_indices does. */
#include "cpu-ops.h"

#include <float.h>
#include <stdbool.h>
#include <string.h>

#include "../index-math.h"
#include "cpu-simd.h"
#include "cpu-threads.h"

/* The clipped input range [*lo, *hi) of window o along one axis. */
static inline void window(int o, int k, int s, int p, int n, int *lo, int *hi)
{
  int a = o * s - p, b = a + k;
  *lo = a < 0 ? 0 : a;
  *hi = b > n ? n : b;
}

typedef struct {
  const LlPoolGeom *g;
  const float *x, *dy;
  float *y, *dx;
  int32_t *argmax;
  const int32_t *argmax_c;
} Pool;

/* Planes (sample, channel) run in parallel: each is independent. */
static void pool_parallel(const LlPoolGeom *g, size_t per_plane, LlCpuRangeFn fn, Pool *a)
{
  int planes = g->n * g->c;
  int grain = (size_t)planes * per_plane < LL_CPU_PAR_MIN ? planes : ll_cpu_grain(planes, 4);
  ll_cpu_parallel_for(planes, grain, fn, a);
}

/* 2x2 windows with stride 2 and no padding (the usual downsampling), eight
 * outputs at a time: the same scan order and strict comparisons as the
 * general loop below (best starts at -FLT_MAX, the index at the window's
 * first element), so ties and NaNs pick the same element; y is the element
 * at the index. The tail of a row goes through a zero-padded copy. */
LL_INLINE void max_update(ll_v8 v, ll_v8i idx, ll_v8 *best, ll_v8i *at)
{
  ll_v8i m = v > *best;
  *at = (idx & m) | (*at & ~m);
  *best = (ll_v8)(((ll_v8i)v & m) | ((ll_v8i)*best & ~m));
}

LL_CPU_CLONES
static void maxpool_2x2_plane(const LlPoolGeom *g, const float *xp, float *yp, int32_t *ap)
{
  int w = g->w, ow = g->ow;
  const ll_v8i lane = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int oy = 0; oy < g->oh; oy++) {
    const float *r0 = xp + (size_t)(2 * oy) * w, *r1 = r0 + w;
    for (int ox0 = 0; ox0 < ow; ox0 += 8) {
      /* the last 8 outputs of a row end at the row's end: a row wider than 8
       * takes its last vector overlapping the one before (the same values
       * again), so only rows narrower than 8 go through the buffer */
      int ox = ox0 + 8 > ow && ow >= 8 ? ow - 8 : ox0;
      int n = ow - ox < 8 ? ow - ox : 8;
      float buf[2][16] = {{0}};
      const float *s0 = r0 + 2 * ox, *s1 = r1 + 2 * ox;
      if (n < 8) {
        memcpy(buf[0], s0, 2 * (size_t)n * sizeof(float));
        memcpy(buf[1], s1, 2 * (size_t)n * sizeof(float));
        s0 = buf[0];
        s1 = buf[1];
      }
      ll_v8 a0 = ll_ld8(s0), a1 = ll_ld8(s0 + 8), b0 = ll_ld8(s1), b1 = ll_ld8(s1 + 8);
      ll_v8i i0 = 2 * oy * w + 2 * ox + 2 * lane, at = i0;
      ll_v8 best = {-FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX};
      ll_v8 first = ll_even8(a0, a1);
      max_update(first, i0, &best, &at);
      max_update(ll_odd8(a0, a1), i0 + 1, &best, &at);
      max_update(ll_even8(b0, b1), i0 + w, &best, &at);
      max_update(ll_odd8(b0, b1), i0 + w + 1, &best, &at);
      /* when nothing beat -FLT_MAX the index stayed on the first element */
      ll_v8i keep = at == i0;
      ll_v8 y = (ll_v8)(((ll_v8i)first & keep) | ((ll_v8i)best & ~keep));
      float yv[8];
      int32_t av[8];
      memcpy(yv, &y, sizeof yv);
      memcpy(av, &at, sizeof av);
      if (n == 8) {
        memcpy(yp + oy * ow + ox, yv, sizeof yv);
        memcpy(ap + oy * ow + ox, av, sizeof av);
      } else {
        memcpy(yp + oy * ow + ox, yv, (size_t)n * sizeof(float));
        memcpy(ap + oy * ow + ox, av, (size_t)n * sizeof(int32_t));
      }
    }
  }
}

static void maxpool_forward_planes(void *arg, int chunk, int begin, int end)
{
  const Pool *a = arg;
  const LlPoolGeom *g = a->g;
  size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  bool fast = g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0;
  for (int p = begin; p < end; p++) {
    const float *xp = a->x + p * hw;
    float *yp = a->y + p * ohw;
    int32_t *ap = a->argmax + p * ohw;
    if (fast) {
      maxpool_2x2_plane(g, xp, yp, ap);
      continue;
    }
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

void ll_cpu_maxpool2d_forward(const LlPoolGeom *g, const float *x, float *y, int32_t *argmax)
{
  Pool a = {.g = g, .x = x, .y = y, .argmax = argmax};
  pool_parallel(g, (size_t)g->h * g->w, maxpool_forward_planes, &a);
}

static void maxpool_backward_planes(void *arg, int chunk, int begin, int end)
{
  const Pool *a = arg;
  const LlPoolGeom *g = a->g;
  size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  for (int p = begin; p < end; p++) {
    float *dxp = a->dx + p * hw;
    const float *dyp = a->dy + p * ohw;
    const int32_t *ap = a->argmax_c + p * ohw;
    for (size_t i = 0; i < ohw; i++)
      dxp[ap[i]] += dyp[i];
  }
}

void ll_cpu_maxpool2d_backward(const LlPoolGeom *g, const int32_t *argmax, const float *dy,
                               float *dx)
{
  Pool a = {.g = g, .dy = dy, .dx = dx, .argmax_c = argmax};
  pool_parallel(g, (size_t)g->h * g->w, maxpool_backward_planes, &a);
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

/* ---- upsampling: nearest and bilinear (align_corners = False) ---- */

typedef struct {
  bool bilinear;
  const float *x;
  float *y;
  int h, w, oh, ow;
} Upsample;

/* Output rows [begin, end) of the (planes * oh) rows. */
static void upsample_forward_rows(void *arg, int chunk, int begin, int end)
{
  const Upsample *u = arg;
  for (int r = begin; r < end; r++) {
    int p = r / u->oh, oy = r % u->oh, y0, y1;
    float ty;
    ll_upsample_source(u->bilinear, oy, u->h, u->oh, &y0, &y1, &ty);
    const float *r0 = u->x + ((size_t)p * u->h + y0) * u->w;
    const float *r1 = u->x + ((size_t)p * u->h + y1) * u->w;
    float *out = u->y + (size_t)r * u->ow;
    for (int ox = 0; ox < u->ow; ox++) {
      int x0, x1;
      float tx;
      ll_upsample_source(u->bilinear, ox, u->w, u->ow, &x0, &x1, &tx);
      out[ox] = (1.0f - ty) * ((1.0f - tx) * r0[x0] + tx * r0[x1]) +
                ty * ((1.0f - tx) * r1[x0] + tx * r1[x1]);
    }
  }
}

void ll_cpu_upsample2d_forward(bool bilinear, const float *x, float *y, int planes, int h, int w,
                               int oh, int ow)
{
  Upsample u = {.bilinear = bilinear, .x = x, .y = y, .h = h, .w = w, .oh = oh, .ow = ow};
  int rows = planes * oh;
  ll_cpu_parallel_for(rows, ll_cpu_grain(rows, 4), upsample_forward_rows, &u);
}

/* Input rows [begin, end) of the (planes * h) rows of dx: each element
 * gathers the outputs that read it (ll_upsample_covering), so rows are
 * independent and the sums run in one order whatever the threads. */
static void upsample_backward_rows(void *arg, int chunk, int begin, int end)
{
  const Upsample *u = arg; /* x: dy, y: dx */
  for (int r = begin; r < end; r++) {
    int p = r / u->h, iy = r % u->h, oy0, oy1;
    ll_upsample_covering(iy, u->h, u->oh, &oy0, &oy1);
    float *dxr = u->y + (size_t)r * u->w;
    for (int ix = 0; ix < u->w; ix++) {
      int ox0, ox1;
      ll_upsample_covering(ix, u->w, u->ow, &ox0, &ox1);
      float acc = 0.0f;
      for (int oy = oy0; oy < oy1; oy++) {
        float wy = ll_upsample_weight(u->bilinear, oy, iy, u->h, u->oh);
        if (wy == 0.0f)
          continue;
        const float *dyr = u->x + ((size_t)p * u->oh + oy) * u->ow;
        float row = 0.0f;
        for (int ox = ox0; ox < ox1; ox++) {
          float wx = ll_upsample_weight(u->bilinear, ox, ix, u->w, u->ow);
          row += wx * dyr[ox];
        }
        acc += wy * row;
      }
      dxr[ix] += acc;
    }
  }
}

void ll_cpu_upsample2d_backward(bool bilinear, const float *dy, float *dx, int planes, int h, int w,
                                int oh, int ow)
{
  Upsample u = {.bilinear = bilinear, .x = dy, .y = dx, .h = h, .w = w, .oh = oh, .ow = ow};
  int rows = planes * h;
  ll_cpu_parallel_for(rows, ll_cpu_grain(rows, 4), upsample_backward_rows, &u);
}

/* test-cuda-host.c: what the CUDA kernels share with the CPU reference,
 * checked on the host (no GPU needed): the counter-based generator and the
 * index arithmetic compiled by nvcc give gcc's values, and the gathers the
 * CUDA backward kernels use (a thread per input element collecting the
 * windows or taps that read it) equal the CPU's scatters. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "backend.h"
#include "counter-rng.h"
#include "cpu/cpu-ops.h"
#include "index-math.h"

uint32_t ll_test_nvcc_bits24(uint64_t seed, uint64_t stream, uint64_t index);
int ll_test_nvcc_embedding_row(float v, int vocab);
void ll_test_nvcc_pool_window(int o, int k, int s, int p, int n, int *lo, int *hi);
void ll_test_nvcc_pool_covering(int i, int k, int s, int p, int on, int *lo, int *hi);
int ll_test_nvcc_conv_tap_output(int i, int t, int s, int p, int d, int on);

/* The mask draws (ll_counter_bits24): the same bits from both compilers,
 * uniform, and the CPU dropout mask is them thresholded as the CUDA kernel
 * thresholds them. */
static void test_counter_rng(void)
{
  static const uint64_t seeds[] = {0, 1, 42, 0x9e3779b97f4a7c15ULL, UINT64_MAX};
  static const uint64_t streams[] = {0, 123456, UINT64_MAX};
  static const uint64_t starts[] = {0, 1000, (uint64_t)1 << 32, UINT64_MAX - 5000};
  double sum = 0.0;
  size_t count = 0;
  for (guint s = 0; s < G_N_ELEMENTS(seeds); s++)
    for (guint t = 0; t < G_N_ELEMENTS(streams); t++)
      for (guint b = 0; b < G_N_ELEMENTS(starts); b++)
        for (uint64_t i = starts[b]; i < starts[b] + 4096 && i >= starts[b]; i++) {
          uint32_t k = ll_counter_bits24(ll_counter_key(seeds[s], streams[t]), i);
          uint32_t v = ll_test_nvcc_bits24(seeds[s], streams[t], i);
          if (k != v) {
            g_test_fail_printf("seed %" G_GUINT64_FORMAT " index %" G_GUINT64_FORMAT
                               ": gcc %u, nvcc %u",
                               seeds[s], i, k, v);
            return;
          }
          g_assert_cmpuint(k, <, 1u << 24);
          sum += k / 16777216.0;
          count++;
        }
  g_assert_cmpfloat(fabs(sum / count - 0.5), <, 0.01);
  enum { N = 5000 };
  static float x[N], y[N], mask[N];
  for (int i = 0; i < N; i++)
    x[i] = 1.0f;
  ll_cpu_dropout_forward(x, y, mask, N, 0.25f, 77, 123456);
  for (int i = 0; i < N; i++) {
    float want = ll_test_nvcc_bits24(77, 123456, (uint64_t)i) >= (1u << 22) ? 1.0f / 0.75f : 0.0f;
    g_assert_cmpfloat(mask[i], ==, want);
  }
}

static void test_embedding_row(void)
{
  const int vocab = 13;
  float values[] = {-1e30f, -3.0f, -0.5f, 0.0f,  0.49f, 0.5f, 1.0f, 2.5f,     6.49f,    11.4f,
                    11.5f,  12.0f, 12.4f, 12.6f, 13.0f, 1e9f, NAN,  INFINITY, -INFINITY};
  enum { DIM = 2 };
  float table[13 * DIM], out[DIM];
  for (int r = 0; r < vocab; r++)
    for (int d = 0; d < DIM; d++)
      table[r * DIM + d] = (float)(r * 10 + d);
  for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
    int row = ll_embedding_row(values[i], vocab);
    g_assert_cmpint(row, ==, ll_test_nvcc_embedding_row(values[i], vocab));
    g_assert_cmpint(row, >=, 0);
    g_assert_cmpint(row, <, vocab);
    /* and the CPU kernel reads that row */
    ll_cpu_embedding_forward(table, &values[i], out, 1, vocab, DIM);
    g_assert_cmpfloat(out[0], ==, table[row * DIM]);
  }
  for (float v = -2.0f; v < 16.0f; v += 0.03125f)
    g_assert_cmpint(ll_embedding_row(v, vocab), ==, ll_test_nvcc_embedding_row(v, vocab));
}

/* Every (o, i) pair: i lies in window o's span exactly when o is in the
 * covering range of i; the clipped window is the span within [0, n). */
static void test_pool_covering(void)
{
  for (int k = 1; k <= 5; k++)
    for (int s = 1; s <= 4; s++)
      for (int p = 0; p <= k / 2; p++)
        for (int n = k; n <= 12; n++) {
          int on = (n + 2 * p - k) / s + 1;
          for (int i = 0; i < n; i++) {
            int lo, hi, lo2, hi2;
            ll_pool_covering(i, k, s, p, on, &lo, &hi);
            ll_test_nvcc_pool_covering(i, k, s, p, on, &lo2, &hi2);
            g_assert_cmpint(lo, ==, lo2);
            g_assert_cmpint(hi, ==, hi2);
            for (int o = 0; o < on; o++) {
              int a, b, a2, b2;
              ll_pool_window(o, k, s, p, n, &a, &b);
              ll_test_nvcc_pool_window(o, k, s, p, n, &a2, &b2);
              g_assert_cmpint(a, ==, a2);
              g_assert_cmpint(b, ==, b2);
              gboolean inside = i >= a && i < b;
              gboolean covered = o >= lo && o < hi;
              if (inside != covered)
                g_test_fail_printf("k=%d s=%d p=%d n=%d: input %d, window %d: in window %d, "
                                   "covering says %d",
                                   k, s, p, n, i, o, inside, covered);
            }
          }
        }
}

static void test_conv_taps(void)
{
  for (int k = 1; k <= 5; k++)
    for (int s = 1; s <= 3; s++)
      for (int d = 1; d <= 3; d++)
        for (int p = 0; p <= 3; p++)
          for (int n = 1; n <= 12; n++) {
            int on = (n + 2 * p - d * (k - 1) - 1) / s + 1;
            if (on < 1)
              continue;
            for (int i = 0; i < n; i++)
              for (int t = 0; t < k; t++) {
                int want = -1;
                for (int o = 0; o < on; o++)
                  if (o * s - p + t * d == i)
                    want = o;
                int got = ll_conv_tap_output(i, t, s, p, d, on);
                g_assert_cmpint(got, ==, want);
                g_assert_cmpint(ll_test_nvcc_conv_tap_output(i, t, s, p, d, on), ==, want);
              }
          }
}

/* The CUDA pooling backward, as a gather on the host, against the CPU's scatter. */
static void test_pool_gather(void)
{
  LlPoolGeom cases[] = {{2, 3, 9, 11, 5, 6, 3, 3, 2, 2, 1, 1},
                        {1, 2, 7, 5, 5, 3, 3, 3, 1, 1, 0, 0},
                        {1, 1, 8, 8, 4, 4, 2, 2, 2, 2, 0, 0}};
  GRand *r = g_rand_new_with_seed(5);
  for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
    const LlPoolGeom *g = &cases[c];
    size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
    size_t xs = g->n * g->c * hw, ys = g->n * g->c * ohw;
    g_autofree float *x = g_new(float, xs), *y = g_new(float, ys), *dy = g_new(float, ys);
    g_autofree float *dx_cpu = g_new0(float, xs), *dx_gather = g_new0(float, xs);
    g_autofree int32_t *arg = g_new(int32_t, ys);
    for (size_t i = 0; i < xs; i++)
      x[i] = (float)g_rand_double_range(r, -1, 1);
    for (size_t i = 0; i < ys; i++)
      dy[i] = (float)g_rand_double_range(r, -1, 1);
    for (int pass = 0; pass < 2; pass++) {
      memset(dx_cpu, 0, xs * sizeof(float));
      memset(dx_gather, 0, xs * sizeof(float));
      if (pass == 0) {
        ll_cpu_maxpool2d_forward(g, x, y, arg);
        ll_cpu_maxpool2d_backward(g, arg, dy, dx_cpu);
      } else {
        ll_cpu_avgpool2d_backward(g, dy, dx_cpu);
      }
      float inv = 1.0f / (float)(g->kh * g->kw);
      for (size_t e = 0; e < xs; e++) {
        size_t plane = e / hw;
        int at = (int)(e % hw), iy = at / g->w, ix = at % g->w, oy0, oy1, ox0, ox1;
        ll_pool_covering(iy, g->kh, g->sh, g->ph, g->oh, &oy0, &oy1);
        ll_pool_covering(ix, g->kw, g->sw, g->pw, g->ow, &ox0, &ox1);
        for (int oy = oy0; oy < oy1; oy++)
          for (int ox = ox0; ox < ox1; ox++) {
            size_t o = plane * ohw + oy * g->ow + ox;
            if (pass == 1)
              dx_gather[e] += dy[o] * inv;
            else if (arg[o] == at)
              dx_gather[e] += dy[o];
          }
      }
      for (size_t e = 0; e < xs; e++)
        g_assert_cmpfloat(fabsf(dx_cpu[e] - dx_gather[e]), <=, 1e-6f);
    }
  }
  g_rand_free(r);
}

/* col2im as the CUDA kernel gathers it, against the definition's scatter. */
static void test_col2im_gather(void)
{
  LlConvGeom g = {1, 3, 9, 10, 4, 0, 0, 3, 2, 2, 3, 1, 0, 2, 1, 1};
  g.oh = (g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  g.ow = (g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  int ohw = g.oh * g.ow, ckk = g.c * g.kh * g.kw;
  size_t xs = (size_t)g.c * g.h * g.w;
  g_autofree float *col = g_new(float, (size_t)ckk *ohw);
  g_autofree float *want = g_new0(float, xs), *got = g_new0(float, xs);
  for (int i = 0; i < ckk * ohw; i++)
    col[i] = (float)(i % 17) - 8.0f;
  for (int c = 0; c < g.c; c++)
    for (int ki = 0; ki < g.kh; ki++)
      for (int kj = 0; kj < g.kw; kj++)
        for (int oy = 0; oy < g.oh; oy++)
          for (int ox = 0; ox < g.ow; ox++) {
            int iy = oy * g.sh - g.ph + ki * g.dh, ix = ox * g.sw - g.pw + kj * g.dw;
            if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
              want[(c * g.h + iy) * g.w + ix] +=
                  col[((c * g.kh + ki) * g.kw + kj) * ohw + oy * g.ow + ox];
          }
  for (int c = 0; c < g.c; c++)
    for (int iy = 0; iy < g.h; iy++)
      for (int ix = 0; ix < g.w; ix++)
        for (int ki = 0; ki < g.kh; ki++) {
          int oy = ll_conv_tap_output(iy, ki, g.sh, g.ph, g.dh, g.oh);
          for (int kj = 0; oy >= 0 && kj < g.kw; kj++) {
            int ox = ll_conv_tap_output(ix, kj, g.sw, g.pw, g.dw, g.ow);
            if (ox >= 0)
              got[(c * g.h + iy) * g.w + ix] +=
                  col[((c * g.kh + ki) * g.kw + kj) * ohw + oy * g.ow + ox];
          }
        }
  for (size_t i = 0; i < xs; i++)
    g_assert_cmpfloat(got[i], ==, want[i]);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cuda/host/counter-rng", test_counter_rng);
  g_test_add_func("/cuda/host/embedding-row", test_embedding_row);
  g_test_add_func("/cuda/host/pool-covering", test_pool_covering);
  g_test_add_func("/cuda/host/conv-taps", test_conv_taps);
  g_test_add_func("/cuda/host/pool-gather", test_pool_gather);
  g_test_add_func("/cuda/host/col2im-gather", test_col2im_gather);
  return g_test_run();
}

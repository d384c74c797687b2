/* What the op test (tests/ops, every op against the double-precision
 * reference backend) cannot see of the CPU backend: that its results do not
 * depend on the thread count where the kernels promise it (per-sample work,
 * weight-gradient and loss chunks that depend on the batch only), that the
 * fused dense layer gives the same bits as gemm, bias_add and the ReLU apart,
 * that the 2x2 max-pool fast path picks the same element as the general loop
 * on ties, NaN and infinities, that ReLU's backward never lets through a
 * gradient it does not select (inf), that dropout's mask follows the
 * documented generator element by element at any p, and that a scratch
 * buffer that cannot be had is an error. */
#include <glib.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "backend.h"
#include "cpu/cpu-threads.h"
#include "counter-rng.h"
#include "rng.h"

static LlRng rng;

static float *rand_floats(size_t n)
{
  float *p = g_new(float, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    p[i] = (float)(2.0 * ll_rng_uniform(&rng) - 1.0);
  return p;
}

static void assert_close(const char *what, const float *got, const double *want, size_t n,
                         double atol, double rtol)
{
  for (size_t i = 0; i < n; i++)
    if (!(fabs(got[i] - want[i]) <= atol + rtol * fabs(want[i]))) {
      g_test_message("%s[%zu]: got %.8g, want %.8g", what, i, got[i], want[i]);
      g_test_fail();
      return;
    }
}

/* ---- convolution ---------------------------------------------------------------------- */

typedef struct {
  int c, h, w, oc, k, s, p, d, groups, n;
} Case;

static LlConvGeom geom_of(const Case *k, int kh)
{
  LlConvGeom g = {.n = k->n,
                  .c = k->c,
                  .h = kh == 1 ? 1 : k->h,
                  .w = k->w,
                  .oc = k->oc,
                  .kh = kh,
                  .kw = k->k,
                  .sh = kh == 1 ? 1 : k->s,
                  .sw = k->s,
                  .ph = kh == 1 ? 0 : k->p,
                  .pw = k->p,
                  .dh = kh == 1 ? 1 : k->d,
                  .dw = k->d,
                  .groups = k->groups};
  g.oh = (g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  g.ow = (g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  return g;
}

typedef struct {
  float *y, *dx, *dw;
} ConvOut;

static ConvOut run_conv(const LlConvGeom *g, const float *x, const float *w, const float *dy,
                        const float *dx0, const float *dw0)
{
  const LlBackend *be = ll_cpu_backend();
  size_t nx = (size_t)g->n * g->c * g->h * g->w, ny = (size_t)g->n * g->oc * g->oh * g->ow;
  size_t nw = (size_t)g->oc * (g->c / g->groups) * g->kh * g->kw;
  ConvOut r = {g_new(float, ny ? ny : 1), g_memdup2(dx0, nx * sizeof(float)),
               g_memdup2(dw0, nw * sizeof(float))};
  float *ws = g_new0(float, be->conv2d_workspace(g) + 1);
  /* poison the output: forward must overwrite it all */
  for (size_t i = 0; i < ny; i++)
    r.y[i] = NAN;
  be->conv2d_forward(g, x, w, r.y, ws);
  be->conv2d_backward_data(g, w, dy, r.dx, ws);
  be->conv2d_backward_filter(g, x, dy, r.dw, ws);
  g_free(ws);
  return r;
}

static void conv_out_free(ConvOut *r)
{
  g_free(r->y);
  g_free(r->dx);
  g_free(r->dw);
}

static void check_conv(const Case *k, int kh)
{
  LlConvGeom g = geom_of(k, kh);
  if (g.oh < 1 || g.ow < 1)
    return;
  size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.oc * g.oh * g.ow;
  size_t nw = (size_t)g.oc * (g.c / g.groups) * g.kh * g.kw;
  g_autofree float *x = rand_floats(nx), *w = rand_floats(nw), *dy = rand_floats(ny);
  g_autofree float *dx0 = rand_floats(nx), *dw0 = rand_floats(nw); /* backward accumulates */
  g_test_message("conv c=%d %dx%d oc=%d k=%dx%d s=%d p=%d d=%d groups=%d n=%d", g.c, g.h, g.w, g.oc,
                 g.kh, g.kw, g.sw, g.pw, g.dw, g.groups, g.n);
  ll_cpu_set_threads(1);
  ConvOut one = run_conv(&g, x, w, dy, dx0, dw0);
  for (size_t i = 0; i < ny; i++) /* forward wrote every output */
    g_assert_false(isnan(one.y[i]));
  ll_cpu_set_threads(2);
  ConvOut two = run_conv(&g, x, w, dy, dx0, dw0);
  ConvOut again = run_conv(&g, x, w, dy, dx0, dw0);
  ll_cpu_set_threads(1);
  /* per-sample work, and weight-gradient chunks that depend on the batch
   * only: the same bits on any thread count */
  g_assert_cmpmem(one.y, ny * sizeof(float), two.y, ny * sizeof(float));
  g_assert_cmpmem(one.dx, nx * sizeof(float), two.dx, nx * sizeof(float));
  g_assert_cmpmem(one.dw, nw * sizeof(float), two.dw, nw * sizeof(float));
  g_assert_cmpmem(two.dw, nw * sizeof(float), again.dw, nw * sizeof(float));
  conv_out_free(&one);
  conv_out_free(&two);
  conv_out_free(&again);
}

static void test_conv(void)
{
  static const Case cases[] = {
      /* c, h, w, oc, k, s, p, d, groups, n */
      {1, 28, 28, 8, 3, 1, 0, 1, 1, 3}, /* the tiny CNN's shapes */
      {8, 26, 26, 16, 3, 1, 0, 1, 1, 2},
      {16, 12, 12, 8, 1, 1, 0, 1, 1, 2},
      {16, 8, 8, 16, 3, 1, 0, 1, 1, 37}, /* several weight-gradient chunks */
      {1, 28, 28, 16, 3, 2, 1, 1, 1, 2}, /* the autoencoder's */
      {16, 14, 14, 32, 3, 2, 1, 1, 1, 2},
      {32, 7, 7, 16, 3, 2, 1, 1, 1, 2},
      {2, 5, 6, 3, 3, 1, 0, 1, 1, 2}, /* odd sizes, channel counts not multiples of 4 */
      {3, 7, 5, 5, 3, 2, 1, 1, 1, 2},
      {3, 9, 8, 2, 2, 1, 2, 2, 1, 2},   /* dilation, padding beyond the kernel */
      {4, 7, 9, 6, 3, 2, 2, 2, 2, 2},   /* stride, dilation and groups together */
      {6, 6, 7, 6, 1, 1, 0, 1, 3, 2},   /* grouped 1x1 */
      {3, 11, 10, 2, 1, 2, 0, 1, 1, 2}, /* strided 1x1: phases without taps */
      {2, 10, 9, 3, 4, 3, 1, 1, 1, 2},  /* even kernel, stride 3 */
      {5, 6, 6, 7, 5, 1, 4, 1, 1, 1},   /* padding wider than the kernel */
      {3, 9, 9, 4, 3, 3, 0, 3, 1, 2},   /* dilation equal to the stride */
      {2, 4, 4, 9, 3, 1, 1, 1, 1, 1},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    check_conv(&cases[i], cases[i].k); /* 2-D */
    check_conv(&cases[i], 1);          /* the same as Conv1d (h = kh = 1) */
  }
}

/* linear_forward is gemm, bias_add and the ReLU in one: bit for bit the same
 * as the three slots apart, split by rows (more rows than outputs) and by
 * columns, on one and two threads, with and without bias and ReLU. */
static void test_linear_forward(void)
{
  const LlBackend *be = ll_cpu_backend();
  g_assert_nonnull(be->linear_forward);
  static const int sizes[][3] = {{1024, 256, 784}, {5, 300, 40}, {37, 10, 128}};
  for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
    int rows = sizes[s][0], out = sizes[s][1], in = sizes[s][2];
    g_autofree float *x = rand_floats((size_t)rows * in), *w = rand_floats((size_t)out * in);
    g_autofree float *bias = rand_floats((size_t)out);
    g_autofree float *want = g_new(float, (size_t)rows *out);
    g_autofree float *got = g_new(float, (size_t)rows *out);
    for (int v = 0; v < 4; v++) {
      const float *bv = v & 1 ? bias : NULL;
      bool relu = v & 2;
      for (int threads = 1; threads <= 2; threads++) {
        ll_cpu_set_threads(threads);
        be->gemm(false, true, rows, out, in, 1.0f, x, in, w, in, 0.0f, want, out);
        if (bv)
          be->bias_add(want, bv, rows, out, 1);
        if (relu)
          be->act_forward(LL_ACT_RELU, 0.0f, want, want, (size_t)rows * out);
        be->linear_forward(x, w, bv, got, rows, in, out, relu);
        for (size_t i = 0; i < (size_t)rows * out; i++)
          g_assert_cmpfloat(got[i], ==, want[i]);
      }
    }
  }
  ll_cpu_set_threads(1);
}

/* The cross-entropy loss is the same bits on one and two threads:
 * evaluation-sized batches run on the pool, in chunks fixed by the batch. */
static void test_cross_entropy(void)
{
  const LlBackend *be = ll_cpu_backend();
  static const int sizes[][2] = {{1024, 10}, {128, 10}, {600, 100}, {3, 2}};
  for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
    int rows = sizes[s][0], cols = sizes[s][1];
    g_autofree float *x = rand_floats((size_t)rows * cols), *t = g_new(float, rows);
    for (int r = 0; r < rows; r++)
      t[r] = (float)ll_rng_below(&rng, (uint64_t)cols);
    for (int sm = 0; sm < 2; sm++) {
      float loss[2];
      g_autofree float *d1 = g_new0(float, (size_t)rows *cols);
      g_autofree float *d2 = g_new0(float, (size_t)rows *cols);
      ll_cpu_set_threads(1);
      be->cross_entropy(x, t, rows, cols, sm ? 0.1f : 0.0f, 0.7f, &loss[0], d1);
      ll_cpu_set_threads(2);
      be->cross_entropy(x, t, rows, cols, sm ? 0.1f : 0.0f, 0.7f, &loss[1], d2);
      g_assert_cmpfloat(loss[0], ==, loss[1]);
      g_assert_cmpmem(d1, (size_t)rows * cols * sizeof(float), d2,
                      (size_t)rows * cols * sizeof(float));
    }
  }
  ll_cpu_set_threads(1);
}

/* ---- pooling ---------------------------------------------------------------------------- */

static void test_maxpool_2x2(void)
{
  const LlBackend *be = ll_cpu_backend();
  /* odd widths leave a tail; ties, NaN, -inf and -FLT_MAX must pick the same
   * element as the general loop (first strict maximum from -FLT_MAX) */
  for (int w = 2; w <= 37; w += 5) {
    LlPoolGeom g = {.n = 3, .c = 5, .h = 9, .w = w, .kh = 2, .kw = 2, .sh = 2, .sw = 2};
    g.oh = g.h / 2;
    g.ow = g.w / 2;
    size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.c * g.oh * g.ow;
    g_autofree float *x = rand_floats(nx);
    static const float specials[] = {0.0f, -0.0f, NAN, -INFINITY, -FLT_MAX, 1.0f};
    for (size_t i = 0; i < nx; i++)
      if (ll_rng_uniform(&rng) < 0.4)
        x[i] = specials[ll_rng_below(&rng, G_N_ELEMENTS(specials))];
    g_autofree float *y = g_new(float, ny), *yref = g_new(float, ny);
    g_autofree int32_t *at = g_new(int32_t, ny), *atref = g_new(int32_t, ny);
    for (size_t p = 0; p < (size_t)g.n * g.c; p++)
      for (int oy = 0; oy < g.oh; oy++)
        for (int ox = 0; ox < g.ow; ox++) {
          const float *xp = x + p * g.h * g.w;
          float best = -FLT_MAX;
          int a = 2 * oy * g.w + 2 * ox;
          for (int iy = 2 * oy; iy < 2 * oy + 2; iy++)
            for (int ix = 2 * ox; ix < 2 * ox + 2; ix++)
              if (xp[iy * g.w + ix] > best) {
                best = xp[iy * g.w + ix];
                a = iy * g.w + ix;
              }
          size_t o = p * g.oh * g.ow + (size_t)oy * g.ow + ox;
          atref[o] = a;
          yref[o] = xp[a];
        }
    for (int threads = 1; threads <= 2; threads++) {
      ll_cpu_set_threads(threads);
      be->maxpool2d_forward(&g, x, y, at);
      g_assert_cmpmem(at, ny * sizeof(int32_t), atref, ny * sizeof(int32_t));
      g_assert_cmpmem(y, ny * sizeof(float), yref, ny * sizeof(float));
    }
    ll_cpu_set_threads(1);
  }
}

/* ---- element-wise ------------------------------------------------------------------------- */

/* ReLU and leaky ReLU at +-0, and a gradient of inf where the ReLU does not
 * select it: selecting (not multiplying by 0) keeps inf and NaN out. */
static void test_relu_special_values(void)
{
  const LlBackend *be = ll_cpu_backend();
  size_t n = 300001; /* large enough to be split over threads, odd */
  g_autofree float *x = rand_floats(n), *dy = rand_floats(n), *dx0 = rand_floats(n);
  x[5] = 0.0f;
  x[6] = -0.0f;
  x[7] = -1.0f;
  dy[7] = INFINITY;
  g_autofree double *ref = g_new(double, n);
  for (int threads = 1; threads <= 2; threads++) {
    ll_cpu_set_threads(threads);
    g_autofree float *out = g_new(float, n), *dx = g_memdup2(dx0, n * sizeof(float));
    be->act_forward(LL_ACT_RELU, 0.0f, x, out, n);
    for (size_t i = 0; i < n; i++)
      ref[i] = x[i] > 0.0f ? x[i] : 0.0f;
    assert_close("relu", out, ref, n, 0, 0);
    be->act_backward(LL_ACT_RELU, 0.0f, x, out, dy, dx, n);
    for (size_t i = 0; i < n; i++)
      ref[i] = dx0[i] + (x[i] > 0.0f ? dy[i] : 0.0f);
    assert_close("relu'", dx, ref, n, 0, 0);
  }
  ll_cpu_set_threads(1);
}

static void test_dropout(void)
{
  const LlBackend *be = ll_cpu_backend();
  size_t n = 200003;
  g_autofree float *x = rand_floats(n), *y = g_new(float, n), *mask = g_new(float, n);
  static const float ps[] = {0.0f, 0.05f, 0.5f, 0.3f, 0.999f};
  for (guint k = 0; k < G_N_ELEMENTS(ps); k++)
    for (int threads = 1; threads <= 2; threads++) {
      ll_cpu_set_threads(threads);
      float p = ps[k], keep = 1.0f / (1.0f - p);
      uint64_t seed = 42 + k, offset = 0x123456789ULL * (k + 1);
      be->dropout_forward(x, y, mask, n, p, seed, offset);
      size_t kept = 0;
      for (size_t i = 0; i < n; i++) {
        /* the contract: u = bits / 2^24 from the mask generator, element i of
         * the stream (seed, offset) */
        float u = ll_counter_bits24(ll_counter_key(seed, offset), i) / 16777216.0f;
        float want = u >= p ? keep : 0.0f;
        if (mask[i] != want || y[i] != x[i] * want) {
          g_test_message("dropout p=%g [%zu]: mask %g, want %g", p, i, mask[i], want);
          g_test_fail();
          break;
        }
        kept += mask[i] != 0.0f;
      }
      g_assert_cmpfloat(fabs((double)kept / n - (1.0 - p)), <, 0.01);
    }
  ll_cpu_set_threads(1);
}

/* A kernel's scratch buffer that cannot be had is an error the engine
 * reads from the backend after the step (it used to abort the process). */
static void test_scratch_out_of_memory(void)
{
  const LlBackend *be = ll_cpu_backend();
  char msg[256];
  g_assert_nonnull(be->take_error);
  g_assert_false(be->take_error(msg, sizeof msg));
  g_assert_null(ll_cpu_scratch(0, SIZE_MAX / 8));
  g_assert_true(be->take_error(msg, sizeof msg));
  g_assert_nonnull(strstr(msg, "out of memory for"));
  g_assert_nonnull(strstr(msg, "CPU kernel scratch"));
  g_assert_false(be->take_error(msg, sizeof msg)); /* taken: cleared */
  /* the slot works again afterwards */
  float *p = ll_cpu_scratch(0, 1000);
  g_assert_nonnull(p);
  p[999] = 1.0f;
  g_assert_false(be->take_error(msg, sizeof msg));
}

/* ll_backend_supports answers from the table: the reference has no fused
 * slot, the CPU all three, and a table with half of a pair says no. */
static void test_backend_supports(void)
{
  const LlBackend *ref = ll_ref_backend(), *cpu = ll_cpu_backend();
  for (int op = 0; op < LL_N_OPTIONAL_OPS; op++) {
    g_assert_false(ll_backend_supports(ref, (LlOptionalOp)op));
    g_assert_true(ll_backend_supports(cpu, (LlOptionalOp)op));
  }
  LlBackend half = *cpu;
  half.batchnorm_relu_backward = NULL;
  half.relu_mul_backward = NULL;
  half.linear_forward = NULL;
  g_assert_false(ll_backend_supports(&half, LL_OP_BATCHNORM_RELU));
  g_assert_false(ll_backend_supports(&half, LL_OP_RELU_DROPOUT));
  g_assert_false(ll_backend_supports(&half, LL_OP_LINEAR_RELU));
  g_assert_false(ll_backend_supports(cpu, LL_N_OPTIONAL_OPS));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  ll_rng_seed(&rng, 2024);
  g_test_add_func("/kernels/backend/supports", test_backend_supports);
  g_test_add_func("/kernels/cpu/conv", test_conv);
  g_test_add_func("/kernels/cpu/linear-forward", test_linear_forward);
  g_test_add_func("/kernels/cpu/cross-entropy", test_cross_entropy);
  g_test_add_func("/kernels/cpu/maxpool-2x2", test_maxpool_2x2);
  g_test_add_func("/kernels/cpu/relu-special-values", test_relu_special_values);
  g_test_add_func("/kernels/cpu/dropout", test_dropout);
  g_test_add_func("/kernels/cpu/scratch-out-of-memory", test_scratch_out_of_memory);
  return g_test_run();
}

/* test-parity.c: every op of the CUDA backend, forward and backward, against
 * the CPU reference on random inputs of odd sizes, within atol + |ref| * rtol.
 * Backward slots accumulate, so gradients start from random values, not
 * zero. Exits 77 (meson: skipped) where no GPU can be opened. */
#include <stdio.h>
#include <stdlib.h>

#include "parity-util.h"

#define REF ll_test_ref
#define DEV ll_test_dev

/* ---- memory and element-wise ------------------------------------------------------------ */

static const size_t sizes[] = {1, 7, 1000, 65537};

static void test_elementwise(void)
{
  for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
    size_t n = sizes[s];
    Mirror a = mirror_rand(n, -2, 2), b = mirror_rand(n, -2, 2);
    REF->fill(a.c, 1.5f, n);
    DEV->fill(a.d, 1.5f, n);
    mirror_check("fill 1.5", &a, 0, 0);
    REF->fill(a.c, 0.0f, n);
    DEV->fill(a.d, 0.0f, n);
    mirror_check_exact("fill 0", &a);
    REF->copy(a.c, b.c, n);
    DEV->copy(a.d, b.d, n);
    mirror_check_exact("copy", &a);
    Mirror x = mirror_rand(n, -2, 2);
    REF->axpy(a.c, -0.75f, x.c, n);
    DEV->axpy(a.d, -0.75f, x.d, n);
    mirror_check("axpy", &a, 1e-6, 1e-6);
    REF->scale(a.c, 0.3f, n);
    DEV->scale(a.d, 0.3f, n);
    mirror_check("scale", &a, 1e-6, 1e-6);
    Mirror ss = mirror_rand(1, 5, 6);
    REF->sum_squares(x.c, n, ss.c);
    DEV->sum_squares(x.d, n, ss.d);
    mirror_check("sum_squares", &ss, 1e-6, 1e-6);
    if (n > 3) {
      /* copy has memmove semantics: overlapping ranges, both directions */
      REF->copy(b.c + 3, b.c, n - 3);
      DEV->copy(b.d + 3, b.d, n - 3);
      mirror_check_exact("copy overlapping forward", &b);
      REF->copy(b.c, b.c + 2, n - 2);
      DEV->copy(b.d, b.d + 2, n - 2);
      mirror_check_exact("copy overlapping backward", &b);
    }
    mirror_free(&a);
    mirror_free(&b);
    mirror_free(&x);
    mirror_free(&ss);
  }
}

static void test_copy2d(void)
{
  const int rows = 5, cols = 7, ld_src = 9, ld_dst = 11;
  for (int acc = 0; acc < 2; acc++) {
    Mirror src = mirror_rand((size_t)rows * ld_src, -1, 1);
    Mirror dst = mirror_rand((size_t)rows * ld_dst, -1, 1);
    REF->copy2d(dst.c, ld_dst, src.c, ld_src, rows, cols, acc);
    DEV->copy2d(dst.d, ld_dst, src.d, ld_src, rows, cols, acc);
    mirror_check(acc ? "copy2d accumulate" : "copy2d", &dst, 1e-7, 1e-7);
    mirror_free(&src);
    mirror_free(&dst);
  }
}

static void test_activations(void)
{
  static const struct {
    LlActivation act;
    float alpha;
    const char *name;
  } acts[] = {
      {LL_ACT_RELU, 0, "relu"},         {LL_ACT_LEAKY_RELU, 0.1f, "leaky_relu"},
      {LL_ACT_ELU, 1.3f, "elu"},        {LL_ACT_GELU, 0, "gelu"},
      {LL_ACT_SIGMOID, 0, "sigmoid"},   {LL_ACT_TANH, 0, "tanh"},
      {LL_ACT_IDENTITY, 0, "identity"},
  };
  const size_t n = 4099;
  for (guint i = 0; i < G_N_ELEMENTS(acts); i++) {
    char what[64];
    Mirror x = mirror_rand(n, -4, 4), y = mirror_new(n), dy = mirror_rand(n, -1, 1);
    Mirror dx = mirror_rand(n, -1, 1);
    REF->act_forward(acts[i].act, acts[i].alpha, x.c, y.c, n);
    DEV->act_forward(acts[i].act, acts[i].alpha, x.d, y.d, n);
    g_snprintf(what, sizeof what, "%s forward", acts[i].name);
    mirror_check(what, &y, 1e-6, 1e-5);
    REF->act_backward(acts[i].act, acts[i].alpha, x.c, y.c, dy.c, dx.c, n);
    DEV->act_backward(acts[i].act, acts[i].alpha, x.d, y.d, dy.d, dx.d, n);
    g_snprintf(what, sizeof what, "%s backward", acts[i].name);
    mirror_check(what, &dx, 1e-6, 1e-5);
    mirror_free(&x);
    mirror_free(&y);
    mirror_free(&dy);
    mirror_free(&dx);
  }
}

/* ---- matrices ----------------------------------------------------------------------------- */

static void gemm_case(bool ta, bool tb, int m, int n, int k, int pad, float alpha, float beta)
{
  int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  size_t asz = (size_t)(ta ? k : m) * lda, bsz = (size_t)(tb ? n : k) * ldb;
  Mirror a = mirror_rand(asz, -1, 1), b = mirror_rand(bsz, -1, 1);
  Mirror c = mirror_rand((size_t)m * ldc, -1, 1);
  REF->gemm(ta, tb, m, n, k, alpha, a.c, lda, b.c, ldb, beta, c.c, ldc);
  DEV->gemm(ta, tb, m, n, k, alpha, a.d, lda, b.d, ldb, beta, c.d, ldc);
  char what[96];
  g_snprintf(what, sizeof what, "gemm ta=%d tb=%d m=%d n=%d k=%d", ta, tb, m, n, k);
  mirror_check(what, &c, 2e-6 * sqrt(k) + 1e-6, 1e-5);
  mirror_free(&a);
  mirror_free(&b);
  mirror_free(&c);
}

static void test_gemm(void)
{
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      gemm_case(ta, tb, 13, 17, 29, 3, 0.7f, 0.3f);
      gemm_case(ta, tb, 1, 5, 1, 0, 1.0f, 0.0f);
    }
  /* the reference MLP's first layer, forward and both backward products */
  gemm_case(false, true, 128, 256, 784, 0, 1.0f, 0.0f);
  gemm_case(true, false, 256, 784, 128, 0, 1.0f, 1.0f);
  gemm_case(false, false, 128, 784, 256, 0, 1.0f, 1.0f);
}

static void test_bias(void)
{
  static const int shapes[][3] = {{5, 7, 1}, {3, 4, 33}, {2, 1000, 1}, {64, 16, 784}, {1, 1, 1}};
  for (guint i = 0; i < G_N_ELEMENTS(shapes); i++) {
    int n = shapes[i][0], c = shapes[i][1], inner = shapes[i][2];
    size_t total = (size_t)n * c * inner;
    Mirror y = mirror_rand(total, -1, 1), bias = mirror_rand(c, -1, 1);
    Mirror dbias = mirror_rand(c, -1, 1);
    REF->bias_add(y.c, bias.c, n, c, inner);
    DEV->bias_add(y.d, bias.d, n, c, inner);
    mirror_check("bias_add", &y, 1e-6, 1e-6);
    REF->bias_backward(y.c, dbias.c, n, c, inner);
    DEV->bias_backward(y.d, dbias.d, n, c, inner);
    mirror_check("bias_backward", &dbias, 1e-5 + 1e-6 * n * inner, 1e-5);
    mirror_free(&y);
    mirror_free(&bias);
    mirror_free(&dbias);
  }
}

/* ---- convolution ---------------------------------------------------------------------------- */

static LlConvGeom conv_geom(int n, int c, int h, int w, int oc, int kh, int kw, int sh, int sw,
                            int ph, int pw, int dh, int dw, int groups)
{
  LlConvGeom g = {n, c, h, w, oc, 0, 0, kh, kw, sh, sw, ph, pw, dh, dw, groups};
  g.oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
  g.ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  return g;
}

static void conv_case(const LlConvGeom *g)
{
  char what[160];
  g_snprintf(what, sizeof what,
             "conv n=%d c=%d %dx%d oc=%d k=%dx%d s=%d,%d p=%d,%d d=%d,%d groups=%d", g->n, g->c,
             g->h, g->w, g->oc, g->kh, g->kw, g->sh, g->sw, g->ph, g->pw, g->dh, g->dw, g->groups);
  size_t xs = (size_t)g->n * g->c * g->h * g->w, ys = (size_t)g->n * g->oc * g->oh * g->ow;
  size_t ws_n = (size_t)g->oc * (g->c / g->groups) * g->kh * g->kw;
  Mirror x = mirror_rand(xs, -1, 1), w = mirror_rand(ws_n, -0.5f, 0.5f);
  Mirror y = mirror_rand(ys, -1, 1), dy = mirror_rand(ys, -1, 1);
  Mirror dx = mirror_rand(xs, -1, 1), dw = mirror_rand(ws_n, -1, 1);
  size_t wsr = REF->conv2d_workspace(g), wsd = DEV->conv2d_workspace(g);
  float *ws_ref = REF->alloc((wsr ? wsr : 1) * sizeof(float));
  float *ws_dev = DEV->alloc((wsd ? wsd : 1) * sizeof(float));
  g_assert_nonnull(ws_ref);
  g_assert_nonnull(ws_dev);
  int ckk = g->c / g->groups * g->kh * g->kw;
  double tol = 2e-6 * sqrt(ckk) + 1e-6;

  REF->conv2d_forward(g, x.c, w.c, y.c, ws_ref);
  DEV->conv2d_forward(g, x.d, w.d, y.d, ws_dev);
  g_autofree char *f = g_strconcat(what, " forward", NULL);
  mirror_check(f, &y, tol, 1e-5);

  REF->conv2d_backward_data(g, w.c, dy.c, dx.c, ws_ref);
  DEV->conv2d_backward_data(g, w.d, dy.d, dx.d, ws_dev);
  g_autofree char *bd = g_strconcat(what, " backward data", NULL);
  mirror_check(bd, &dx, tol * 2, 1e-5);

  REF->conv2d_backward_filter(g, x.c, dy.c, dw.c, ws_ref);
  DEV->conv2d_backward_filter(g, x.d, dy.d, dw.d, ws_dev);
  g_autofree char *bf = g_strconcat(what, " backward filter", NULL);
  mirror_check(bf, &dw, 2e-6 * sqrt((double)g->n * g->oh * g->ow) + 1e-6, 1e-5);

  REF->free(ws_ref);
  DEV->free(ws_dev);
  mirror_free(&x);
  mirror_free(&w);
  mirror_free(&y);
  mirror_free(&dy);
  mirror_free(&dx);
  mirror_free(&dw);
}

static void test_conv(void)
{
  LlConvGeom cases[] = {
      conv_geom(3, 4, 9, 11, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      conv_geom(2, 6, 10, 7, 4, 3, 2, 2, 1, 1, 0, 1, 2, 1),
      conv_geom(3, 4, 9, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2),
      conv_geom(5, 16, 7, 7, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1),    /* 1x1 squeeze */
      conv_geom(3, 5, 1, 31, 7, 1, 5, 1, 2, 0, 2, 1, 1, 1),    /* Conv1d */
      conv_geom(2, 3, 8, 8, 3, 3, 3, 1, 1, 2, 2, 2, 2, 3),     /* depthwise, dilated */
      conv_geom(16, 8, 26, 26, 16, 3, 3, 1, 1, 0, 0, 1, 1, 1), /* the tiny CNN's conv2 */
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    conv_case(&cases[i]);
}

/* ---- pooling -----------------------------------------------------------------------------------
 */

static LlPoolGeom pool_geom(int n, int c, int h, int w, int k, int s, int p)
{
  LlPoolGeom g = {n, c, h, w, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1, k, k, s, s, p, p};
  return g;
}

static void test_pool(void)
{
  LlPoolGeom cases[] = {pool_geom(2, 3, 9, 11, 3, 2, 1), pool_geom(3, 2, 8, 8, 2, 2, 0),
                        pool_geom(1, 4, 7, 5, 3, 1, 0), pool_geom(16, 16, 24, 24, 2, 2, 0)};
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    const LlPoolGeom *g = &cases[i];
    size_t xs = (size_t)g->n * g->c * g->h * g->w, ys = (size_t)g->n * g->c * g->oh * g->ow;
    Mirror x = mirror_rand(xs, -1, 1), y = mirror_new(ys), arg = mirror_new(ys);
    Mirror dy = mirror_rand(ys, -1, 1), dx = mirror_rand(xs, -1, 1);
    REF->maxpool2d_forward(g, x.c, y.c, (int32_t *)arg.c);
    DEV->maxpool2d_forward(g, x.d, y.d, (int32_t *)arg.d);
    mirror_check_exact("maxpool forward", &y);
    mirror_check_exact("maxpool argmax", &arg);
    REF->maxpool2d_backward(g, (int32_t *)arg.c, dy.c, dx.c);
    DEV->maxpool2d_backward(g, (int32_t *)arg.d, dy.d, dx.d);
    mirror_check("maxpool backward", &dx, 1e-6, 1e-6);
    REF->avgpool2d_forward(g, x.c, y.c);
    DEV->avgpool2d_forward(g, x.d, y.d);
    mirror_check("avgpool forward", &y, 1e-6, 1e-5);
    REF->avgpool2d_backward(g, dy.c, dx.c);
    DEV->avgpool2d_backward(g, dy.d, dx.d);
    mirror_check("avgpool backward", &dx, 1e-6, 1e-5);
    mirror_free(&x);
    mirror_free(&y);
    mirror_free(&arg);
    mirror_free(&dy);
    mirror_free(&dx);
  }
  static const int mean_shapes[][2] = {{37, 49}, {5, 1}, {3, 1000}, {2048, 169}};
  for (guint i = 0; i < G_N_ELEMENTS(mean_shapes); i++) {
    int outer = mean_shapes[i][0], inner = mean_shapes[i][1];
    Mirror x = mirror_rand((size_t)outer * inner, -1, 1), y = mirror_new(outer);
    Mirror dy = mirror_rand(outer, -1, 1), dx = mirror_rand((size_t)outer * inner, -1, 1);
    REF->mean_inner_forward(x.c, y.c, outer, inner);
    DEV->mean_inner_forward(x.d, y.d, outer, inner);
    mirror_check("mean_inner forward", &y, 1e-6, 1e-5);
    REF->mean_inner_backward(dy.c, dx.c, outer, inner);
    DEV->mean_inner_backward(dy.d, dx.d, outer, inner);
    mirror_check("mean_inner backward", &dx, 1e-7, 1e-6);
    mirror_free(&x);
    mirror_free(&y);
    mirror_free(&dy);
    mirror_free(&dx);
  }
}

/* ---- batch normalisation -------------------------------------------------------------------- */

static void batchnorm_case(int n, int c, int inner, gboolean affine)
{
  char what[96];
  size_t total = (size_t)n * c * inner;
  Mirror x = mirror_rand(total, -2, 3), y = mirror_new(total);
  Mirror gamma = mirror_rand(c, 0.5f, 1.5f), beta = mirror_rand(c, -0.5f, 0.5f);
  Mirror mean = mirror_new(c), invstd = mirror_new(c);
  Mirror rmean = mirror_rand(c, -0.2f, 0.2f), rvar = mirror_rand(c, 0.5f, 1.5f);
  Mirror dy = mirror_rand(total, -1, 1), dx = mirror_rand(total, -1, 1);
  Mirror dgamma = mirror_rand(c, -1, 1), dbeta = mirror_rand(c, -1, 1);
  const float eps = 1e-5f, momentum = 0.1f;
  float *gc = affine ? gamma.c : NULL, *gd = affine ? gamma.d : NULL;
  float *bc = affine ? beta.c : NULL, *bd = affine ? beta.d : NULL;
  float *dgc = affine ? dgamma.c : NULL, *dgd = affine ? dgamma.d : NULL;
  float *dbc = affine ? dbeta.c : NULL, *dbd = affine ? dbeta.d : NULL;
  g_snprintf(what, sizeof what, "batchnorm n=%d c=%d inner=%d affine=%d", n, c, inner, affine);

  REF->batchnorm_forward_train(x.c, y.c, gc, bc, mean.c, invstd.c, rmean.c, rvar.c, n, c, inner,
                               momentum, eps);
  DEV->batchnorm_forward_train(x.d, y.d, gd, bd, mean.d, invstd.d, rmean.d, rvar.d, n, c, inner,
                               momentum, eps);
  g_test_message("%s", what);
  mirror_check("batchnorm train y", &y, 1e-5, 1e-4);
  mirror_check("batchnorm save_mean", &mean, 1e-6, 1e-5);
  mirror_check("batchnorm save_invstd", &invstd, 1e-6, 1e-5);
  mirror_check("batchnorm running_mean", &rmean, 1e-6, 1e-5);
  mirror_check("batchnorm running_var", &rvar, 1e-6, 1e-5);

  REF->batchnorm_backward(x.c, dy.c, gc, mean.c, invstd.c, dx.c, dgc, dbc, n, c, inner);
  DEV->batchnorm_backward(x.d, dy.d, gd, mean.d, invstd.d, dx.d, dgd, dbd, n, c, inner);
  mirror_check("batchnorm backward dx", &dx, 1e-5, 1e-4);
  mirror_check("batchnorm backward dgamma", &dgamma, 1e-5, 1e-4);
  mirror_check("batchnorm backward dbeta", &dbeta, 1e-5, 1e-4);
  /* dx may be NULL: only the affine gradients accumulate */
  REF->batchnorm_backward(x.c, dy.c, gc, mean.c, invstd.c, NULL, dgc, dbc, n, c, inner);
  DEV->batchnorm_backward(x.d, dy.d, gd, mean.d, invstd.d, NULL, dgd, dbd, n, c, inner);
  mirror_check("batchnorm backward (no dx) dgamma", &dgamma, 1e-5, 1e-4);

  REF->batchnorm_forward_eval(x.c, y.c, gc, bc, rmean.c, rvar.c, n, c, inner, eps);
  DEV->batchnorm_forward_eval(x.d, y.d, gd, bd, rmean.d, rvar.d, n, c, inner, eps);
  mirror_check("batchnorm eval y", &y, 1e-5, 1e-5);
  REF->batchnorm_backward_eval(x.c, dy.c, gc, rmean.c, rvar.c, dx.c, dgc, dbc, n, c, inner, eps);
  DEV->batchnorm_backward_eval(x.d, dy.d, gd, rmean.d, rvar.d, dx.d, dgd, dbd, n, c, inner, eps);
  mirror_check("batchnorm backward_eval dx", &dx, 1e-5, 1e-4);
  mirror_check("batchnorm backward_eval dgamma", &dgamma, 1e-5, 1e-4);
  mirror_check("batchnorm backward_eval dbeta", &dbeta, 1e-5, 1e-4);
  REF->batchnorm_backward_eval(x.c, dy.c, gc, rmean.c, rvar.c, NULL, dgc, dbc, n, c, inner, eps);
  DEV->batchnorm_backward_eval(x.d, dy.d, gd, rmean.d, rvar.d, NULL, dgd, dbd, n, c, inner, eps);
  mirror_check("batchnorm backward_eval (no dx) dbeta", &dbeta, 1e-5, 1e-4);

  Mirror *all[] = {&x, &y, &gamma, &beta, &mean, &invstd, &rmean, &rvar, &dy, &dx, &dgamma, &dbeta};
  for (guint i = 0; i < G_N_ELEMENTS(all); i++)
    mirror_free(all[i]);
}

static void test_batchnorm(void)
{
  batchnorm_case(4, 3, 25, TRUE);
  batchnorm_case(7, 5, 1, TRUE);   /* BatchNorm1d on (n, c) */
  batchnorm_case(1, 3, 1, TRUE);   /* one value per channel */
  batchnorm_case(3, 4, 10, FALSE); /* affine = false */
  batchnorm_case(32, 16, 169, TRUE);
  batchnorm_case(2, 1100, 3, TRUE); /* more channels than one block of partials */
}

/* ---- dropout ------------------------------------------------------------------------------- */

static void test_dropout(void)
{
  for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
    size_t n = sizes[s];
    Mirror x = mirror_rand(n, -1, 1), y = mirror_new(n), mask = mirror_new(n);
    Mirror dy = mirror_rand(n, -1, 1), dx = mirror_rand(n, -1, 1);
    REF->dropout_forward(x.c, y.c, mask.c, n, 0.3f, 1234567, 99991);
    DEV->dropout_forward(x.d, y.d, mask.d, n, 0.3f, 1234567, 99991);
    /* the counter-based generator gives the same mask on both, bit for bit */
    mirror_check_exact("dropout mask", &mask);
    mirror_check_exact("dropout y", &y);
    REF->mul_backward(dy.c, mask.c, dx.c, n);
    DEV->mul_backward(dy.d, mask.d, dx.d, n);
    mirror_check("mul_backward", &dx, 1e-7, 1e-6);
    mirror_free(&x);
    mirror_free(&y);
    mirror_free(&mask);
    mirror_free(&dy);
    mirror_free(&dx);
  }
}

/* ---- softmax, losses, argmax ---------------------------------------------------------------- */

static void test_softmax(void)
{
  static const int shapes[][2] = {{7, 10}, {3, 1000}, {1, 1}, {257, 33}};
  for (guint i = 0; i < G_N_ELEMENTS(shapes); i++) {
    int rows = shapes[i][0], cols = shapes[i][1];
    size_t n = (size_t)rows * cols;
    Mirror x = mirror_rand(n, -5, 5), y = mirror_new(n), dy = mirror_rand(n, -1, 1);
    Mirror dx = mirror_rand(n, -1, 1);
    REF->softmax_forward(x.c, y.c, rows, cols);
    DEV->softmax_forward(x.d, y.d, rows, cols);
    mirror_check("softmax forward", &y, 1e-7, 1e-5);
    REF->softmax_backward(y.c, dy.c, dx.c, rows, cols);
    DEV->softmax_backward(y.d, dy.d, dx.d, rows, cols);
    mirror_check("softmax backward", &dx, 1e-6, 1e-5);
    mirror_free(&x);
    mirror_free(&y);
    mirror_free(&dy);
    mirror_free(&dx);
  }
}

static void test_cross_entropy(void)
{
  static const int shapes[][2] = {{13, 10}, {2000, 7}, {1, 3}, {9, 1000}};
  static const float smoothing[] = {0.0f, 0.1f};
  for (guint i = 0; i < G_N_ELEMENTS(shapes); i++)
    for (guint s = 0; s < G_N_ELEMENTS(smoothing); s++) {
      int rows = shapes[i][0], cols = shapes[i][1];
      size_t n = (size_t)rows * cols;
      g_autofree float *t = g_new(float, rows);
      for (int r = 0; r < rows; r++)
        t[r] = (float)g_random_int_range(0, cols);
      Mirror x = mirror_rand(n, -4, 4), target = mirror_from(t, rows);
      Mirror loss = mirror_new(1), dx = mirror_rand(n, -1, 1);
      REF->cross_entropy(x.c, target.c, rows, cols, smoothing[s], 0.5f, loss.c, dx.c);
      DEV->cross_entropy(x.d, target.d, rows, cols, smoothing[s], 0.5f, loss.d, dx.d);
      mirror_check("cross_entropy loss", &loss, 1e-6, 1e-5);
      mirror_check("cross_entropy dlogits", &dx, 1e-7, 1e-5);
      REF->cross_entropy(x.c, target.c, rows, cols, smoothing[s], 1.0f, loss.c, NULL);
      DEV->cross_entropy(x.d, target.d, rows, cols, smoothing[s], 1.0f, loss.d, NULL);
      mirror_check("cross_entropy loss (no gradient)", &loss, 1e-6, 1e-5);
      mirror_free(&x);
      mirror_free(&target);
      mirror_free(&loss);
      mirror_free(&dx);
    }
}

static void test_pointwise_losses(void)
{
  static const size_t ns[] = {1, 1000, 300001};
  for (guint i = 0; i < G_N_ELEMENTS(ns); i++) {
    size_t n = ns[i];
    Mirror p = mirror_rand(n, -6, 6), t = mirror_rand(n, 0, 1);
    Mirror loss = mirror_new(1), d = mirror_rand(n, -1, 1);
    REF->bce_logits(p.c, t.c, n, 0.7f, loss.c, d.c);
    DEV->bce_logits(p.d, t.d, n, 0.7f, loss.d, d.d);
    mirror_check("bce_logits loss", &loss, 1e-6, 1e-5);
    mirror_check("bce_logits dlogits", &d, 1e-7, 1e-5);
    REF->mse(p.c, t.c, n, 1.0f, loss.c, d.c);
    DEV->mse(p.d, t.d, n, 1.0f, loss.d, d.d);
    mirror_check("mse loss", &loss, 1e-6, 1e-5);
    mirror_check("mse dpred", &d, 1e-7, 1e-5);
    REF->l1(p.c, t.c, n, 2.0f, loss.c, d.c);
    DEV->l1(p.d, t.d, n, 2.0f, loss.d, d.d);
    mirror_check("l1 loss", &loss, 1e-6, 1e-5);
    mirror_check("l1 dpred", &d, 1e-7, 1e-5);
    REF->mse(p.c, t.c, n, 1.0f, loss.c, NULL);
    DEV->mse(p.d, t.d, n, 1.0f, loss.d, NULL);
    mirror_check("mse loss (no gradient)", &loss, 1e-6, 1e-5);
    mirror_free(&p);
    mirror_free(&t);
    mirror_free(&loss);
    mirror_free(&d);
  }
}

static void test_argmax(void)
{
  static const int shapes[][2] = {{33, 10}, {5, 100}, {1, 1}, {300, 7}};
  for (guint i = 0; i < G_N_ELEMENTS(shapes); i++) {
    int rows = shapes[i][0], cols = shapes[i][1];
    Mirror x = mirror_rand((size_t)rows * cols, -1, 1), out = mirror_new(rows);
    REF->argmax_rows(x.c, rows, cols, out.c);
    DEV->argmax_rows(x.d, rows, cols, out.d);
    mirror_check_exact("argmax_rows", &out);
    mirror_free(&x);
    mirror_free(&out);
  }
  /* ties: the first maximum wins */
  float tie[] = {1, 3, 3, 0, 2, 2, 2, 2, -1, -1, -1, -1};
  Mirror x = mirror_from(tie, 12), out = mirror_new(3);
  REF->argmax_rows(x.c, 3, 4, out.c);
  DEV->argmax_rows(x.d, 3, 4, out.d);
  mirror_check_exact("argmax_rows ties", &out);
  mirror_free(&x);
  mirror_free(&out);
}

/* ---- sequences ----------------------------------------------------------------------------- */

static void embedding_case(int vocab, int dim, int n, gboolean odd_indices)
{
  g_autofree float *idx = g_new(float, n);
  for (int i = 0; i < n; i++)
    idx[i] = (float)g_random_int_range(0, vocab);
  if (odd_indices && n >= 8) {
    /* out of range, fractional and NaN indices are rounded and clamped */
    idx[0] = -3.0f;
    idx[1] = (float)vocab + 5.7f;
    idx[2] = NAN;
    idx[3] = 0.49f;
    idx[4] = 2.5f;
    idx[5] = (float)vocab - 0.6f;
    idx[6] = idx[7] = 1.0f; /* repeated */
  }
  Mirror table = mirror_rand((size_t)vocab * dim, -1, 1), ix = mirror_from(idx, n);
  Mirror out = mirror_new((size_t)n * dim), dout = mirror_rand((size_t)n * dim, -1, 1);
  Mirror dtable = mirror_rand((size_t)vocab * dim, -1, 1);
  REF->embedding_forward(table.c, ix.c, out.c, n, vocab, dim);
  DEV->embedding_forward(table.d, ix.d, out.d, n, vocab, dim);
  mirror_check_exact("embedding forward", &out);
  REF->embedding_backward(ix.c, dout.c, dtable.c, n, vocab, dim);
  DEV->embedding_backward(ix.d, dout.d, dtable.d, n, vocab, dim);
  mirror_check("embedding backward", &dtable, 1e-6, 1e-5);
  mirror_free(&table);
  mirror_free(&ix);
  mirror_free(&out);
  mirror_free(&dout);
  mirror_free(&dtable);
}

static void test_embedding(void)
{
  embedding_case(11, 7, 40, TRUE);
  embedding_case(1000, 64, 4480, FALSE);
  embedding_case(3, 5, 200, TRUE); /* long runs of equal rows */
}

static void test_lstm(void)
{
  const int n = 5, h = 7;
  Mirror gates = mirror_rand((size_t)n * 4 * h, -2, 2), c_prev = mirror_rand((size_t)n * h, -1, 1);
  Mirror c = mirror_new((size_t)n * h), hh = mirror_new((size_t)n * h);
  REF->lstm_cell_forward(gates.c, c_prev.c, c.c, hh.c, n, h);
  DEV->lstm_cell_forward(gates.d, c_prev.d, c.d, hh.d, n, h);
  mirror_check("lstm forward gates (in place)", &gates, 1e-6, 1e-5);
  mirror_check("lstm forward c", &c, 1e-6, 1e-5);
  mirror_check("lstm forward h", &hh, 1e-6, 1e-5);
  Mirror dh = mirror_rand((size_t)n * h, -1, 1), dc = mirror_rand((size_t)n * h, -1, 1);
  Mirror dgates = mirror_rand((size_t)n * 4 * h, -1, 1),
         dc_prev = mirror_rand((size_t)n * h, -1, 1);
  REF->lstm_cell_backward(gates.c, c_prev.c, c.c, dh.c, dc.c, dgates.c, dc_prev.c, n, h);
  DEV->lstm_cell_backward(gates.d, c_prev.d, c.d, dh.d, dc.d, dgates.d, dc_prev.d, n, h);
  mirror_check("lstm backward dgates", &dgates, 1e-6, 1e-5);
  mirror_check("lstm backward dc_prev", &dc_prev, 1e-6, 1e-5);
  /* dgates may be the gates buffer itself */
  REF->lstm_cell_backward(gates.c, c_prev.c, c.c, dh.c, dc.c, gates.c, dc_prev.c, n, h);
  DEV->lstm_cell_backward(gates.d, c_prev.d, c.d, dh.d, dc.d, gates.d, dc_prev.d, n, h);
  mirror_check("lstm backward dgates over gates", &gates, 1e-6, 1e-5);
  mirror_check("lstm backward dc_prev (second)", &dc_prev, 1e-6, 1e-5);
  Mirror *all[] = {&gates, &c_prev, &c, &hh, &dh, &dc, &dgates, &dc_prev};
  for (guint i = 0; i < G_N_ELEMENTS(all); i++)
    mirror_free(all[i]);
}

static void test_gru(void)
{
  const int n = 5, h = 7;
  Mirror xg = mirror_rand((size_t)n * 3 * h, -2, 2), hg = mirror_rand((size_t)n * 3 * h, -2, 2);
  Mirror h_prev = mirror_rand((size_t)n * h, -1, 1), hn = mirror_new((size_t)n * h);
  Mirror act = mirror_new((size_t)n * 4 * h);
  REF->gru_cell_forward(xg.c, hg.c, h_prev.c, hn.c, act.c, n, h);
  DEV->gru_cell_forward(xg.d, hg.d, h_prev.d, hn.d, act.d, n, h);
  mirror_check("gru forward h", &hn, 1e-6, 1e-5);
  mirror_check("gru forward act", &act, 1e-6, 1e-5);
  Mirror dh = mirror_rand((size_t)n * h, -1, 1), dh_prev = mirror_rand((size_t)n * h, -1, 1);
  /* dxg, dhg may be the forward's xg, hg */
  REF->gru_cell_backward(act.c, h_prev.c, dh.c, xg.c, hg.c, dh_prev.c, n, h);
  DEV->gru_cell_backward(act.d, h_prev.d, dh.d, xg.d, hg.d, dh_prev.d, n, h);
  mirror_check("gru backward dxg", &xg, 1e-6, 1e-5);
  mirror_check("gru backward dhg", &hg, 1e-6, 1e-5);
  mirror_check("gru backward dh_prev", &dh_prev, 1e-6, 1e-5);
  Mirror *all[] = {&xg, &hg, &h_prev, &hn, &act, &dh, &dh_prev};
  for (guint i = 0; i < G_N_ELEMENTS(all); i++)
    mirror_free(all[i]);
}

/* ---- optimizers ---------------------------------------------------------------------------- */

static void test_optimizers(void)
{
  const size_t n = 1001;
  for (int variant = 0; variant < 9; variant++) {
    Mirror p = mirror_rand(n, -1, 1), s1 = mirror_new(n), s2 = mirror_new(n);
    const char *name = "?";
    for (int step = 1; step <= 3; step++) {
      Mirror g = mirror_rand(n, -1, 1);
      switch (variant) {
      case 0:
      case 1:
      case 2:
      case 3: {
        float momentum = variant == 0 ? 0.0f : 0.9f, damp = variant == 3 ? 0.1f : 0.0f;
        bool nesterov = variant == 2;
        name = variant == 0 ? "sgd" : variant == 2 ? "sgd nesterov" : "sgd momentum";
        REF->sgd_update(p.c, g.c, variant ? s1.c : NULL, n, 0.05f, momentum, damp, nesterov, 1e-2f,
                        step == 1);
        DEV->sgd_update(p.d, g.d, variant ? s1.d : NULL, n, 0.05f, momentum, damp, nesterov, 1e-2f,
                        step == 1);
        break;
      }
      case 4:
      case 5:
        name = variant == 4 ? "adam" : "adamw";
        REF->adam_update(p.c, g.c, s1.c, s2.c, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, variant == 5,
                         step);
        DEV->adam_update(p.d, g.d, s1.d, s2.d, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, variant == 5,
                         step);
        break;
      case 6:
      case 7: {
        float momentum = variant == 7 ? 0.5f : 0.0f;
        name = "rmsprop";
        REF->rmsprop_update(p.c, g.c, s1.c, momentum > 0 ? s2.c : NULL, n, 1e-2f, 0.99f, 1e-8f,
                            1e-3f, momentum);
        DEV->rmsprop_update(p.d, g.d, s1.d, momentum > 0 ? s2.d : NULL, n, 1e-2f, 0.99f, 1e-8f,
                            1e-3f, momentum);
        break;
      }
      case 8:
        name = "adagrad";
        REF->adagrad_update(p.c, g.c, s1.c, n, 1e-2f, 1e-10f, 1e-3f);
        DEV->adagrad_update(p.d, g.d, s1.d, n, 1e-2f, 1e-10f, 1e-3f);
        break;
      }
      mirror_free(&g);
    }
    g_test_message("optimizer variant %d (%s)", variant, name);
    mirror_check(name, &p, 1e-6, 1e-5);
    mirror_check(name, &s1, 1e-6, 1e-5);
    mirror_check(name, &s2, 1e-6, 1e-5);
    mirror_free(&p);
    mirror_free(&s1);
    mirror_free(&s2);
  }
}

/* ---- the device's own contract ------------------------------------------------------------ */

static void test_memory(void)
{
  /* a request the device cannot hold returns NULL and leaves no error behind */
  void *huge = DEV->alloc((size_t)1 << 50);
  g_assert_null(huge);
  device_check_no_error("alloc of 1 PiB");
  if (DEV->mem_free)
    g_assert_cmpuint(DEV->mem_free(), >, 0);
  Mirror a = mirror_rand(17, -1, 1);
  if (DEV->synchronize)
    DEV->synchronize();
  mirror_check("upload/download round trip", &a, 0, 0);
  mirror_free(&a);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  if (!ll_test_open_backends())
    return 77;
  g_random_set_seed(7);
  g_test_add_func("/cuda/parity/memory", test_memory);
  g_test_add_func("/cuda/parity/elementwise", test_elementwise);
  g_test_add_func("/cuda/parity/copy2d", test_copy2d);
  g_test_add_func("/cuda/parity/activations", test_activations);
  g_test_add_func("/cuda/parity/gemm", test_gemm);
  g_test_add_func("/cuda/parity/bias", test_bias);
  g_test_add_func("/cuda/parity/conv2d", test_conv);
  g_test_add_func("/cuda/parity/pool", test_pool);
  g_test_add_func("/cuda/parity/batchnorm", test_batchnorm);
  g_test_add_func("/cuda/parity/dropout", test_dropout);
  g_test_add_func("/cuda/parity/softmax", test_softmax);
  g_test_add_func("/cuda/parity/cross-entropy", test_cross_entropy);
  g_test_add_func("/cuda/parity/pointwise-losses", test_pointwise_losses);
  g_test_add_func("/cuda/parity/argmax", test_argmax);
  g_test_add_func("/cuda/parity/embedding", test_embedding);
  g_test_add_func("/cuda/parity/lstm", test_lstm);
  g_test_add_func("/cuda/parity/gru", test_gru);
  g_test_add_func("/cuda/parity/optimizers", test_optimizers);
  return g_test_run();
}

/* Tests of the convolution and pooling blocks: gradients against finite
 * differences, forward passes against direct (naive) reference loops, and
 * shapes, receptive fields and errors. */
#include "gradcheck.h"
#include "spatial.h"

#include <math.h>
#include <string.h>

/* --- gradients ------------------------------------------------------------ */

static void check(const char *type, const char *props, LlShape in, gboolean kinks)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  o.avoid_kinks = kinks;
  g_test_message("%s %s", type, props);
  ll_gradcheck_block(type, props, 1, &in, &o);
}

static void test_conv2d_grad(void)
{
  check("Conv2d", "out_channels=3;kernel=3", SHAPE(2, 5, 6), FALSE);
  check("Conv2d", "out_channels=4;kernel=3;stride=2;padding=1", SHAPE(3, 7, 5), FALSE);
  check("Conv2d", "out_channels=2;kernel=2;dilation=2;bias=false", SHAPE(2, 6, 7), FALSE);
  check("Conv2d", "out_channels=4;kernel=3;groups=2;padding=1;init=kaiming", SHAPE(4, 5, 5), FALSE);
  check("Conv2d", "out_channels=3;kernel=1", SHAPE(4, 3, 5), FALSE);
  check("Conv2d", "out_channels=6;kernel=1;groups=2;init=xavier", SHAPE(4, 3, 3), FALSE);
  check("Conv2d", "out_channels=2;kernel=1;stride=2", SHAPE(3, 5, 5), FALSE);
  check("Conv2d", "out_channels=3;kernel=3;stride=2;padding=2;dilation=2", SHAPE(2, 7, 6), FALSE);
}

static void test_conv1d_grad(void)
{
  check("Conv1d", "out_channels=3;kernel=3", SHAPE(2, 9), FALSE);
  check("Conv1d", "out_channels=4;kernel=3;stride=2;padding=1;groups=2", SHAPE(2, 11), FALSE);
  check("Conv1d", "out_channels=2;kernel=2;dilation=2;bias=false", SHAPE(3, 8), FALSE);
}

static void test_conv_transpose2d_grad(void)
{
  check("ConvTranspose2d", "out_channels=2;kernel=3", SHAPE(3, 4, 5), FALSE);
  check("ConvTranspose2d", "out_channels=2;kernel=3;stride=2;padding=1;output_padding=1",
        SHAPE(3, 4, 3), FALSE);
  check("ConvTranspose2d", "out_channels=3;kernel=2;dilation=2;stride=2;bias=false", SHAPE(2, 3, 3),
        FALSE);
}

static void test_maxpool2d_grad(void)
{
  /* Random normal inputs make ties (within 2 eps) in a window unlikely, and
   * the inputs are seeded: the check is deterministic. */
  check("MaxPool2d", "kernel=2", SHAPE(2, 6, 7), TRUE);
  check("MaxPool2d", "kernel=3;stride=2;padding=1", SHAPE(2, 7, 6), TRUE);
}

static void test_avgpool2d_grad(void)
{
  check("AvgPool2d", "kernel=2", SHAPE(2, 6, 7), FALSE);
  check("AvgPool2d", "kernel=3;stride=2;padding=1", SHAPE(2, 7, 6), FALSE);
}

static void test_global_avg_pool_grad(void)
{
  check("GlobalAvgPool", "", SHAPE(3, 4, 5), FALSE);
  check("GlobalAvgPool", "", SHAPE(3, 7), FALSE);
}

/* --- forward against reference loops ------------------------------------------ */

typedef struct {
  LlGraph *g;
  LlBlock *b;
  const float *x, *w, *bias; /* bias NULL when the block has none */
  int n;
} Fwd;

/* Input "x" -> block "b" with random input and parameters, run forward. */
static Fwd run_forward(const char *type, const char *props, LlShape in, int batch)
{
  GError *error = NULL;
  Fwd f = {.g = ll_graph_new(), .n = batch};
  char buf[64];
  LlBlock *x = ll_graph_add(f.g, "Input", "x", &error);
  g_assert_no_error(error);
  ll_block_set_prop_string(x, "shape", ll_shape_format(&in, buf, sizeof buf), &error);
  g_assert_no_error(error);
  f.b = ll_graph_add(f.g, type, "b", &error);
  g_assert_no_error(error);
  ll_block_connect(f.b, "x");
  g_auto(GStrv) kv = g_strsplit(props, ";", -1);
  for (int i = 0; kv[i]; i++) {
    g_auto(GStrv) p = g_strsplit(kv[i], "=", 2);
    if (p[0] && *p[0]) {
      ll_block_set_prop_string(f.b, p[0], p[1], &error);
      g_assert_no_error(error);
    }
  }
  if (!ll_graph_compile(f.g, ll_cpu_backend(), batch, &error))
    g_error("%s: %s", type, error->message);
  LlRng rng;
  ll_rng_seed(&rng, 99);
  ll_graph_init_params(f.g, &rng);
  for (int p = 0; p < f.b->n_params; p++) {
    size_t n = ll_shape_size(&f.b->params[p].shape);
    for (size_t i = 0; i < n; i++)
      f.b->params[p].data[i] = (float)ll_rng_normal(&rng);
  }
  size_t nx = (size_t)batch * ll_block_out_size(x);
  for (size_t i = 0; i < nx; i++)
    x->out[i] = (float)ll_rng_normal(&rng);
  LlRunCtx ctx = {.be = ll_cpu_backend(), .batch = batch, .training = TRUE};
  ll_graph_forward(f.g, &ctx);
  f.x = x->out;
  LlParam *w = ll_block_param(f.b, "weight"), *bias = ll_block_param(f.b, "bias");
  f.w = w ? w->data : NULL;
  f.bias = bias ? bias->data : NULL;
  return f;
}

static void compare(const Fwd *f, const double *ref)
{
  size_t n = (size_t)f->n * ll_block_out_size(f->b);
  for (size_t i = 0; i < n; i++)
    if (fabs(ref[i] - f->b->out[i]) > 1e-4 + 1e-4 * fabs(ref[i])) {
      g_test_message("%s: out[%zu] = %g, reference %g", f->b->desc->type, i, f->b->out[i], ref[i]);
      g_test_fail();
      return;
    }
}

/* y = conv(x, w) + b with the same arguments as the block (2-D; h = kh = 1
 * for 1-D). */
static void ref_conv(const Fwd *f, const LlConvGeom *g, double *y)
{
  int cg = g->c / g->groups, ocg = g->oc / g->groups;
  for (int n = 0; n < g->n; n++)
    for (int o = 0; o < g->oc; o++)
      for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
          double s = f->bias ? f->bias[o] : 0.0;
          for (int ci = 0; ci < cg; ci++) {
            int c = (o / ocg) * cg + ci;
            for (int ki = 0; ki < g->kh; ki++)
              for (int kj = 0; kj < g->kw; kj++) {
                int iy = oy * g->sh - g->ph + ki * g->dh, ix = ox * g->sw - g->pw + kj * g->dw;
                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                  continue;
                s += (double)f->w[((o * cg + ci) * g->kh + ki) * g->kw + kj] *
                     f->x[((n * g->c + c) * g->h + iy) * g->w + ix];
              }
          }
          y[((n * g->oc + o) * g->oh + oy) * g->ow + ox] = s;
        }
}

static void test_conv2d_forward(void)
{
  static const struct {
    const char *props;
    LlConvGeom g; /* c, h, w, oc, k, s, p, d, groups */
  } cases[] = {
      {"out_channels=3;kernel=3", {.c = 2, .h = 5, .w = 6, .oc = 3, .kh = 3, .sh = 1, .dh = 1}},
      {"out_channels=4;kernel=3;stride=2;padding=1;groups=2",
       {.c = 4, .h = 7, .w = 5, .oc = 4, .kh = 3, .sh = 2, .ph = 1, .dh = 1, .groups = 2}},
      {"out_channels=2;kernel=2;dilation=2;padding=2;bias=false",
       {.c = 3, .h = 6, .w = 4, .oc = 2, .kh = 2, .sh = 1, .ph = 2, .dh = 2}},
      {"out_channels=6;kernel=1;groups=3",
       {.c = 3, .h = 4, .w = 5, .oc = 6, .kh = 1, .sh = 1, .dh = 1, .groups = 3}},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    LlConvGeom g = cases[i].g;
    g.n = 3;
    g.groups = g.groups ? g.groups : 1;
    g.kw = g.kh, g.sw = g.sh, g.pw = g.ph, g.dw = g.dh;
    g.oh = ll_window_out(g.h, g.kh, g.sh, g.ph, g.dh);
    g.ow = ll_window_out(g.w, g.kw, g.sw, g.pw, g.dw);
    Fwd f = run_forward("Conv2d", cases[i].props, SHAPE(g.c, g.h, g.w), g.n);
    g_assert_cmpint(f.b->out_shape.d[1], ==, g.oh);
    g_assert_cmpint(f.b->out_shape.d[2], ==, g.ow);
    g_autofree double *ref = g_new(double, ll_block_out_size(f.b) * g.n);
    ref_conv(&f, &g, ref);
    compare(&f, ref);
    ll_graph_free(f.g);
  }
}

static void test_conv1d_forward(void)
{
  LlConvGeom g = {.n = 2,
                  .c = 4,
                  .h = 1,
                  .w = 11,
                  .oc = 2,
                  .kh = 1,
                  .kw = 3,
                  .sh = 1,
                  .sw = 2,
                  .pw = 1,
                  .dh = 1,
                  .dw = 2,
                  .groups = 2};
  g.oh = 1;
  g.ow = ll_window_out(g.w, g.kw, g.sw, g.pw, g.dw);
  Fwd f = run_forward("Conv1d", "out_channels=2;kernel=3;stride=2;padding=1;dilation=2;groups=2",
                      SHAPE(4, 11), g.n);
  g_assert_cmpint(f.b->out_shape.rank, ==, 2);
  g_assert_cmpint(f.b->out_shape.d[1], ==, g.ow);
  g_assert_cmpint(f.b->params[0].shape.rank, ==, 3);
  g_autofree double *ref = g_new(double, ll_block_out_size(f.b) * g.n);
  ref_conv(&f, &g, ref);
  compare(&f, ref);
  ll_graph_free(f.g);
}

static void test_conv_transpose2d_forward(void)
{
  int n = 2, c = 3, h = 4, w = 3, oc = 2, k = 3, s = 2, p = 1, op = 1, d = 1;
  Fwd f =
      run_forward("ConvTranspose2d", "out_channels=2;kernel=3;stride=2;padding=1;output_padding=1",
                  SHAPE(3, 4, 3), n);
  /* PyTorch's formula: (in - 1) * s - 2p + d (k - 1) + op + 1 */
  int oh = (h - 1) * s - 2 * p + d * (k - 1) + op + 1,
      ow = (w - 1) * s - 2 * p + d * (k - 1) + op + 1;
  g_assert_cmpint(f.b->out_shape.d[0], ==, oc);
  g_assert_cmpint(f.b->out_shape.d[1], ==, oh);
  g_assert_cmpint(f.b->out_shape.d[2], ==, ow);
  LlParam *wp = ll_block_param(f.b, "weight");
  g_assert_cmpint(wp->shape.d[0], ==, c); /* (in, out, k, k) as PyTorch */
  g_assert_cmpint(wp->shape.d[1], ==, oc);
  g_autofree double *ref = g_new0(double, (size_t)n *oc *oh *ow);
  for (int b = 0; b < n; b++)
    for (int o = 0; o < oc; o++)
      for (int i = 0; i < oh * ow; i++)
        ref[(b * oc + o) * oh * ow + i] = f.bias[o];
  /* every input pixel scatters its kernel onto the output */
  for (int b = 0; b < n; b++)
    for (int ci = 0; ci < c; ci++)
      for (int iy = 0; iy < h; iy++)
        for (int ix = 0; ix < w; ix++)
          for (int o = 0; o < oc; o++)
            for (int ki = 0; ki < k; ki++)
              for (int kj = 0; kj < k; kj++) {
                int y = iy * s - p + ki * d, x = ix * s - p + kj * d;
                if (y < 0 || y >= oh || x < 0 || x >= ow)
                  continue;
                ref[((b * oc + o) * oh + y) * ow + x] +=
                    (double)f.x[((b * c + ci) * h + iy) * w + ix] *
                    f.w[((ci * oc + o) * k + ki) * k + kj];
              }
  compare(&f, ref);
  ll_graph_free(f.g);
}

static void ref_pool(const Fwd *f, const LlPoolGeom *g, gboolean max, double *y)
{
  for (int nc = 0; nc < g->n * g->c; nc++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        double s = 0.0, m = -INFINITY;
        for (int ki = 0; ki < g->kh; ki++)
          for (int kj = 0; kj < g->kw; kj++) {
            int iy = oy * g->sh - g->ph + ki, ix = ox * g->sw - g->pw + kj;
            if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
              continue;
            double v = f->x[(nc * g->h + iy) * g->w + ix];
            s += v;
            m = v > m ? v : m;
          }
        y[(nc * g->oh + oy) * g->ow + ox] = max ? m : s / (g->kh * g->kw);
      }
}

static void test_pool_forward(void)
{
  static const char *props[] = {"kernel=2", "kernel=3;stride=2;padding=1", "kernel=3;stride=1"};
  static const int k[] = {2, 3, 3}, s[] = {2, 2, 1}, p[] = {0, 1, 0};
  for (int max = 0; max < 2; max++)
    for (guint i = 0; i < G_N_ELEMENTS(props); i++) {
      LlPoolGeom g = {.n = 2,
                      .c = 3,
                      .h = 7,
                      .w = 6,
                      .kh = k[i],
                      .kw = k[i],
                      .sh = s[i],
                      .sw = s[i],
                      .ph = p[i],
                      .pw = p[i]};
      g.oh = ll_window_out(g.h, g.kh, g.sh, g.ph, 1);
      g.ow = ll_window_out(g.w, g.kw, g.sw, g.pw, 1);
      Fwd f = run_forward(max ? "MaxPool2d" : "AvgPool2d", props[i], SHAPE(3, 7, 6), g.n);
      g_assert_cmpint(f.b->out_shape.d[1], ==, g.oh);
      g_assert_cmpint(f.b->out_shape.d[2], ==, g.ow);
      g_autofree double *ref = g_new(double, ll_block_out_size(f.b) * g.n);
      ref_pool(&f, &g, max, ref);
      compare(&f, ref);
      ll_graph_free(f.g);
    }
  Fwd f = run_forward("GlobalAvgPool", "", SHAPE(3, 4, 5), 2);
  g_assert_cmpint(f.b->out_shape.rank, ==, 1);
  double ref[6];
  for (int i = 0; i < 6; i++) {
    ref[i] = 0.0;
    for (int j = 0; j < 20; j++)
      ref[i] += f.x[i * 20 + j] / 20.0;
  }
  compare(&f, ref);
  ll_graph_free(f.g);
}

/* --- shapes, receptive fields, errors ------------------------------------------ */

static LlGraph *chain(const char *const *blocks, GError **error)
{
  /* blocks: "Type|name|props" ..., NULL; each consumes the previous */
  LlGraph *g = ll_graph_new();
  const char *prev = NULL;
  for (int i = 0; blocks[i]; i++) {
    g_auto(GStrv) p = g_strsplit(blocks[i], "|", 3);
    LlBlock *b = ll_graph_add(g, p[0], p[1], NULL);
    g_assert_nonnull(b);
    if (prev)
      ll_block_connect(b, prev);
    prev = b->name;
    g_auto(GStrv) kv = g_strsplit(p[2] ? p[2] : "", ";", -1);
    for (int j = 0; kv[j]; j++) {
      g_auto(GStrv) pv = g_strsplit(kv[j], "=", 2);
      if (*pv[0])
        g_assert_true(ll_block_set_prop_string(b, pv[0], pv[1], NULL));
    }
  }
  ll_graph_infer(g, error);
  return g;
}

static void assert_shape(LlGraph *g, const char *name, LlShape want, int rf, int jump)
{
  LlBlock *b = ll_graph_find(g, name);
  char got[64], exp[64];
  g_assert_cmpstr(ll_shape_format(&b->out_shape, got, sizeof got), ==,
                  ll_shape_format(&want, exp, sizeof exp));
  g_assert_cmpint(b->rf, ==, rf);
  g_assert_cmpint(b->jump, ==, jump);
}

static void test_shapes(void)
{
  GError *error = NULL;
  static const char *net[] = {
      "Input|x|shape=1,28,28",
      "Conv2d|c1|out_channels=8;kernel=3",
      "Conv2d|c2|out_channels=16;kernel=3",
      "MaxPool2d|p1|kernel=2",
      "Conv2d|c3|out_channels=8;kernel=3;stride=2;padding=1;dilation=2",
      "ConvTranspose2d|up|out_channels=4;kernel=3;stride=2;padding=1;output_padding=1",
      "AvgPool2d|p2|kernel=3;stride=1;padding=1",
      "GlobalAvgPool|gap|",
      NULL,
  };
  g_autoptr(LlGraph) g = chain(net, &error);
  g_assert_no_error(error);
  assert_shape(g, "c1", SHAPE(8, 26, 26), 3, 1);
  assert_shape(g, "c2", SHAPE(16, 24, 24), 5, 1);
  assert_shape(g, "p1", SHAPE(16, 12, 12), 6, 2);
  /* 12 + 2 - 5 = 9, / 2 + 1 = 5; rf 6 + 2 * 2 * 2 = 14, jump 4 */
  assert_shape(g, "c3", SHAPE(8, 5, 5), 14, 4);
  /* (5 - 1) * 2 - 2 + 2 + 1 + 1 = 10; jump 4 / 2 = 2, rf 14 + 2 * 2 = 18 */
  assert_shape(g, "up", SHAPE(4, 10, 10), 18, 2);
  assert_shape(g, "p2", SHAPE(4, 10, 10), 22, 2);
  assert_shape(g, "gap", SHAPE(4), 0, 1);

  LlBlock *c1 = ll_graph_find(g, "c1");
  g_assert_cmpint(c1->flops, ==, 2 * 8 * 26 * 26 * 9);
  g_assert_cmpuint(ll_block_param_count(c1), ==, 8 * 9 + 8);
  g_assert_nonnull(ll_block_param(c1, "weight"));
  g_assert_nonnull(ll_block_param(c1, "bias"));
  LlBlock *up = ll_graph_find(g, "up");
  g_assert_cmpint(up->flops, ==, 2 * 8 * 5 * 5 * 4 * 9);

  static const char *net1d[] = {"Input|x|shape=2,50", "Conv1d|c|out_channels=4;kernel=5;stride=2",
                                "GlobalAvgPool|gap|", NULL};
  g_autoptr(LlGraph) g1 = chain(net1d, &error);
  g_assert_no_error(error);
  assert_shape(g1, "c", SHAPE(4, 23), 5, 2);
  assert_shape(g1, "gap", SHAPE(4), 0, 1);
}

static void expect_error(const char *const *net, const char *needle)
{
  GError *error = NULL;
  g_autoptr(LlGraph) g = chain(net, &error);
  g_assert_error(error, LL_GRAPH_ERROR, error->code);
  g_test_message("%s", error->message);
  if (!strstr(error->message, needle))
    g_error("error \"%s\" lacks \"%s\"", error->message, needle);
  g_error_free(error);
}

static void test_errors(void)
{
  expect_error((const char *[]){"Input|x|shape=2,4,4", "Conv2d|conv3|kernel=5", NULL},
               "block \"conv3\" (Conv2d): kernel 5x5 is larger than its 4x4 input");
  expect_error((const char *[]){"Input|x|shape=2,9,9", "Conv2d|c|kernel=3;dilation=5", NULL},
               "larger than");
  expect_error((const char *[]){"Input|x|shape=2,3", "Conv1d|c|kernel=4", NULL}, "larger than");
  expect_error((const char *[]){"Input|x|shape=2,3,3", "MaxPool2d|p|kernel=4", NULL},
               "larger than");
  expect_error((const char *[]){"Input|x|shape=3,8,8", "Conv2d|c|groups=2", NULL}, "\"groups\"");
  expect_error((const char *[]){"Input|x|shape=4,8,8", "Conv2d|c|groups=4;out_channels=6", NULL},
               "\"groups\"");
  expect_error((const char *[]){"Input|x|shape=64", "Conv2d|c|", NULL}, "(64)");
  expect_error((const char *[]){"Input|x|shape=3,8,8", "Conv1d|c|", NULL}, "(3, 8, 8)");
  expect_error((const char *[]){"Input|x|shape=3,8,8", "MaxPool2d|p|kernel=2;padding=2", NULL},
               "\"padding\"");
  expect_error(
      (const char *[]){"Input|x|shape=3,8,8", "ConvTranspose2d|t|stride=2;output_padding=2", NULL},
      "\"output_padding\"");
  expect_error((const char *[]){"Input|x|shape=64", "GlobalAvgPool|p|", NULL}, "(64)");
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/blocks/conv2d/grad", test_conv2d_grad);
  g_test_add_func("/engine/blocks/conv1d/grad", test_conv1d_grad);
  g_test_add_func("/engine/blocks/conv-transpose2d/grad", test_conv_transpose2d_grad);
  g_test_add_func("/engine/blocks/maxpool2d/grad", test_maxpool2d_grad);
  g_test_add_func("/engine/blocks/avgpool2d/grad", test_avgpool2d_grad);
  g_test_add_func("/engine/blocks/global-avg-pool/grad", test_global_avg_pool_grad);
  g_test_add_func("/engine/blocks/conv2d/forward", test_conv2d_forward);
  g_test_add_func("/engine/blocks/conv1d/forward", test_conv1d_forward);
  g_test_add_func("/engine/blocks/conv-transpose2d/forward", test_conv_transpose2d_forward);
  g_test_add_func("/engine/blocks/pool/forward", test_pool_forward);
  g_test_add_func("/engine/blocks/conv/shapes", test_shapes);
  g_test_add_func("/engine/blocks/conv/errors", test_errors);
  return g_test_run();
}

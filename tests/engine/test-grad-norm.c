/* Gradient checks and behaviour of the normalisation, regularisation and
 * shape blocks: BatchNorm1d/2d, LayerNorm, Upsample, Dropout, Softmax, Flatten, Reshape, Concat
 * and Add, plus a graph where tensors fan out and fan in. */
#include "gradcheck.h"

#include <math.h>
#include <string.h>

static void test_batchnorm1d_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("BatchNorm1d", "", 1, (LlShape[]){SHAPE(5)}, &o);
  ll_gradcheck_block("BatchNorm1d", "momentum=0.3", 1, (LlShape[]){SHAPE(3, 4)}, &o);
  ll_gradcheck_block("BatchNorm1d", "affine=false", 1, (LlShape[]){SHAPE(3, 4)}, &o);
  o.training = FALSE;
  ll_gradcheck_block("BatchNorm1d", "", 1, (LlShape[]){SHAPE(5)}, &o);
  ll_gradcheck_block("BatchNorm1d", "eps=0.01", 1, (LlShape[]){SHAPE(3, 4)}, &o);
}

static void test_batchnorm2d_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("BatchNorm2d", "", 1, (LlShape[]){SHAPE(3, 4, 5)}, &o);
  o.batch = 2;
  ll_gradcheck_block("BatchNorm2d", "affine=false", 1, (LlShape[]){SHAPE(2, 3, 3)}, &o);
  o.training = FALSE;
  ll_gradcheck_block("BatchNorm2d", "", 1, (LlShape[]){SHAPE(3, 4, 5)}, &o);
}

static void test_layernorm_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("LayerNorm", "", 1, (LlShape[]){SHAPE(6)}, &o);
  ll_gradcheck_block("LayerNorm", "dims=2;eps=0.01", 1, (LlShape[]){SHAPE(3, 4)}, &o);
  ll_gradcheck_block("LayerNorm", "elementwise_affine=false", 1, (LlShape[]){SHAPE(2, 5)}, &o);
  o.training = FALSE; /* the same computation: no running statistics */
  ll_gradcheck_block("LayerNorm", "dims=3", 1, (LlShape[]){SHAPE(2, 2, 3)}, &o);
}

static void test_upsample_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("Upsample", "", 1, (LlShape[]){SHAPE(2, 3, 4)}, &o);
  ll_gradcheck_block("Upsample", "mode=bilinear", 1, (LlShape[]){SHAPE(2, 3, 4)}, &o);
  ll_gradcheck_block("Upsample", "mode=bilinear;scale_factor=3", 1, (LlShape[]){SHAPE(1, 2, 3)},
                     &o);
}

/* Builds Input "x" (shape) -> block "bn" of type, compiled on the CPU. */
static LlGraph *single_block_graph(const char *type, const char *in_shape, const char *props,
                                   int batch)
{
  GError *error = NULL;
  LlGraph *g = ll_graph_new();
  LlBlock *x = ll_graph_add(g, "Input", "x", &error);
  g_assert_no_error(error);
  ll_block_set_prop_string(x, "shape", in_shape, &error);
  g_assert_no_error(error);
  LlBlock *b = ll_graph_add(g, type, "b", &error);
  g_assert_no_error(error);
  ll_block_connect(b, "x");
  if (props) {
    g_auto(GStrv) kv = g_strsplit(props, ";", -1);
    for (int i = 0; kv[i]; i++) {
      g_auto(GStrv) p = g_strsplit(kv[i], "=", 2);
      ll_block_set_prop_string(b, p[0], p[1], &error);
      g_assert_no_error(error);
    }
  }
  g->grad_inputs = TRUE;
  ll_graph_compile(g, ll_cpu_backend(), batch, &error);
  g_assert_no_error(error);
  LlRng rng;
  ll_rng_seed(&rng, 1);
  ll_graph_init_params(g, &rng);
  return g;
}

#define ASSERT_NEAR(a, b, tol) g_assert_cmpfloat_with_epsilon((double)(a), (double)(b), (tol))

/* Two training steps on a batch of 4 with two features, checked against
 * values worked out by hand, then evaluation (forward and backward) with
 * the running statistics. */
static void test_batchnorm_running_stats(void)
{
  g_autoptr(LlGraph) g = single_block_graph("BatchNorm1d", "2", NULL, 4);
  LlBlock *x = ll_graph_find(g, "x"), *bn = ll_graph_find(g, "b");
  LlParam *gamma = ll_block_param(bn, "weight"), *beta = ll_block_param(bn, "bias");
  LlParam *rm = ll_block_param(bn, "running_mean"), *rv = ll_block_param(bn, "running_var");
  g_assert_nonnull(gamma);
  g_assert_true(gamma->trainable && beta->trainable);
  g_assert_false(rm->trainable || rv->trainable);
  g_assert_null(rm->grad);
  g_assert_cmpuint(ll_graph_param_count(g), ==, 4);
  /* initial state: weight 1, bias 0, running mean 0, running var 1 */
  g_assert_cmpfloat(gamma->data[1], ==, 1.0f);
  g_assert_cmpfloat(beta->data[1], ==, 0.0f);
  g_assert_cmpfloat(rm->data[0], ==, 0.0f);
  g_assert_cmpfloat(rv->data[0], ==, 1.0f);

  LlRunCtx ctx = {.be = ll_cpu_backend(), .batch = 4, .training = TRUE, .seed = 1, .step = 1};
  /* step 1: feature 0 = {1, 2, 3, 4} (mean 2.5, biased var 1.25, unbiased 5/3),
   *         feature 1 = {0, 0, 2, 6} (mean 2, biased var 6, unbiased 8) */
  const float x1[8] = {1, 0, 2, 0, 3, 2, 4, 6};
  memcpy(x->out, x1, sizeof x1);
  ll_graph_forward(g, &ctx);
  ASSERT_NEAR(bn->out[0], (1 - 2.5) / sqrt(1.25 + 1e-5), 1e-5);
  ASSERT_NEAR(bn->out[6], (4 - 2.5) / sqrt(1.25 + 1e-5), 1e-5);
  ASSERT_NEAR(bn->out[7], (6 - 2.0) / sqrt(6.0 + 1e-5), 1e-5);
  ASSERT_NEAR(rm->data[0], 0.1 * 2.5, 1e-6);
  ASSERT_NEAR(rm->data[1], 0.1 * 2.0, 1e-6);
  ASSERT_NEAR(rv->data[0], 0.9 + 0.1 * 5.0 / 3.0, 1e-6);
  ASSERT_NEAR(rv->data[1], 0.9 + 0.1 * 8.0, 1e-6);

  /* step 2: feature 0 = {2, 4, 6, 8} (mean 5, unbiased var 20/3),
   *         feature 1 = {1, 1, 1, 1} (mean 1, var 0: normalises to 0) */
  const float x2[8] = {2, 1, 4, 1, 6, 1, 8, 1};
  memcpy(x->out, x2, sizeof x2);
  ctx.step = 2;
  ll_graph_forward(g, &ctx);
  ASSERT_NEAR(bn->out[1], 0.0, 1e-6);
  double rm0 = 0.9 * 0.25 + 0.1 * 5.0, rm1 = 0.9 * 0.2 + 0.1 * 1.0;
  double rv0 = 0.9 * (0.9 + 0.5 / 3.0) + 0.1 * 20.0 / 3.0, rv1 = 0.9 * 1.7;
  ASSERT_NEAR(rm->data[0], rm0, 1e-6);
  ASSERT_NEAR(rm->data[1], rm1, 1e-6);
  ASSERT_NEAR(rv->data[0], rv0, 1e-6);
  ASSERT_NEAR(rv->data[1], rv1, 1e-6);

  /* evaluation: y = gamma (x - rm) / sqrt(rv + eps) + beta; statistics frozen */
  gamma->data[0] = 2.0f;
  gamma->data[1] = -1.0f;
  beta->data[0] = 0.5f;
  beta->data[1] = 0.0f;
  const float x3[8] = {1, 1, 0, -2, 3, 0.5f, -1, 4};
  memcpy(x->out, x3, sizeof x3);
  ctx.training = FALSE;
  ll_graph_forward(g, &ctx);
  const double gm[2] = {2.0, -1.0}, bt[2] = {0.5, 0.0}, m[2] = {rm0, rm1}, v[2] = {rv0, rv1};
  for (int i = 0; i < 8; i++) {
    int c = i % 2;
    ASSERT_NEAR(bn->out[i], gm[c] * (x3[i] - m[c]) / sqrt(v[c] + 1e-5) + bt[c], 1e-5);
  }
  ASSERT_NEAR(rm->data[0], rm0, 1e-6);
  ASSERT_NEAR(rv->data[1], rv1, 1e-6);

  /* evaluation backward: the statistics are constants */
  ll_graph_zero_grads(g, &ctx);
  for (int i = 0; i < 8; i++)
    bn->dout[i] = 1.0f + (float)i;
  ll_graph_backward(g, &ctx);
  double dg[2] = {0, 0}, db[2] = {0, 0};
  for (int i = 0; i < 8; i++) {
    int c = i % 2;
    double is = 1.0 / sqrt(v[c] + 1e-5);
    ASSERT_NEAR(x->dout[i], (1.0 + i) * gm[c] * is, 1e-5);
    dg[c] += (1.0 + i) * (x3[i] - m[c]) * is;
    db[c] += 1.0 + i;
  }
  for (int c = 0; c < 2; c++) {
    ASSERT_NEAR(gamma->grad[c], dg[c], 1e-4);
    ASSERT_NEAR(beta->grad[c], db[c], 1e-5);
  }
}

static void test_dropout_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("Dropout", "p=0.3", 1, (LlShape[]){SHAPE(4, 5)}, &o);
  ll_gradcheck_block("Dropout", "p=0", 1, (LlShape[]){SHAPE(6)}, &o);
  o.training = FALSE;
  ll_gradcheck_block("Dropout", "p=0.5", 1, (LlShape[]){SHAPE(4, 5)}, &o);
}

/* Masks are reproducible for a (seed, block, step), differ between steps,
 * blocks and seeds, drop about p of the elements and scale the rest; in
 * evaluation the block is the identity. */
static void test_dropout_mask(void)
{
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  LlBlock *x = ll_graph_add(g, "Input", "x", &error);
  ll_block_set_prop_string(x, "shape", "1000", &error);
  LlBlock *d1 = ll_graph_add(g, "Dropout", "d1", &error);
  LlBlock *d2 = ll_graph_add(g, "Dropout", "d2", &error);
  g_assert_no_error(error);
  ll_block_connect(d1, "x");
  ll_block_connect(d2, "x");
  ll_block_set_prop_string(d1, "p", "0.3", &error);
  ll_block_set_prop_string(d2, "p", "0.3", &error);
  g_assert_no_error(error);
  ll_graph_compile(g, ll_cpu_backend(), 2, &error);
  g_assert_no_error(error);
  size_t n = 2000;
  for (size_t i = 0; i < n; i++)
    x->out[i] = 1.0f + (float)(i % 7);

  LlRunCtx ctx = {.be = ll_cpu_backend(), .batch = 2, .training = TRUE, .seed = 42, .step = 5};
  ll_graph_forward(g, &ctx);
  g_autofree float *first = g_memdup2(d1->out, n * sizeof(float));
  size_t zeros = 0, same_d2 = 0;
  for (size_t i = 0; i < n; i++) {
    if (d1->out[i] == 0.0f)
      zeros++;
    else
      ASSERT_NEAR(d1->out[i], x->out[i] / 0.7f, 1e-5);
    same_d2 += (d1->out[i] == 0.0f) == (d2->out[i] == 0.0f);
  }
  g_assert_cmpuint(zeros, >, 500);
  g_assert_cmpuint(zeros, <, 700);
  g_assert_cmpuint(same_d2, <, n - 100); /* independent masks agree on ~58% */

  ll_graph_forward(g, &ctx);
  g_assert_cmpmem(first, n * sizeof(float), d1->out, n * sizeof(float));

  ctx.step = 6;
  ll_graph_forward(g, &ctx);
  size_t same = 0;
  for (size_t i = 0; i < n; i++)
    same += (first[i] == 0.0f) == (d1->out[i] == 0.0f);
  g_assert_cmpuint(same, <, n - 100);

  ctx.step = 5;
  ctx.seed = 43;
  ll_graph_forward(g, &ctx);
  g_assert_true(memcmp(first, d1->out, n * sizeof(float)) != 0);

  ctx.training = FALSE;
  ll_graph_forward(g, &ctx);
  g_assert_cmpmem(x->out, n * sizeof(float), d1->out, n * sizeof(float));
}

static void test_softmax_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("Softmax", "", 1, (LlShape[]){SHAPE(7)}, &o);
  ll_gradcheck_block("Softmax", "", 1, (LlShape[]){SHAPE(3, 5)}, &o);

  /* rows sum to one */
  g_autoptr(LlGraph) g = single_block_graph("Softmax", "2,5", NULL, 3);
  LlBlock *x = ll_graph_find(g, "x"), *b = ll_graph_find(g, "b");
  for (int i = 0; i < 30; i++)
    x->out[i] = (float)(i % 4) * 3.0f - 4.0f;
  LlRunCtx ctx = {.be = ll_cpu_backend(), .batch = 3, .training = TRUE};
  ll_graph_forward(g, &ctx);
  for (int r = 0; r < 6; r++) {
    double s = 0.0;
    for (int j = 0; j < 5; j++)
      s += b->out[r * 5 + j];
    ASSERT_NEAR(s, 1.0, 1e-6);
  }
}

static void test_flatten_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("Flatten", "", 1, (LlShape[]){SHAPE(2, 3, 4)}, &o);
  g_autoptr(LlGraph) g = single_block_graph("Flatten", "2,3,4", NULL, 1);
  LlBlock *b = ll_graph_find(g, "b");
  g_assert_cmpint(b->out_shape.rank, ==, 1);
  g_assert_cmpint(b->out_shape.d[0], ==, 24);
}

static void test_reshape_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("Reshape", "shape=4,6", 1, (LlShape[]){SHAPE(2, 3, 4)}, &o);
  ll_gradcheck_block("Reshape", "shape=1,3,5", 1, (LlShape[]){SHAPE(15)}, &o);
  g_autoptr(LlGraph) g = single_block_graph("Reshape", "2,3,4", "shape=6,2,2", 2);
  LlBlock *x = ll_graph_find(g, "x"), *b = ll_graph_find(g, "b");
  for (int i = 0; i < 48; i++)
    x->out[i] = (float)i;
  LlRunCtx ctx = {.be = ll_cpu_backend(), .batch = 2, .training = TRUE};
  ll_graph_forward(g, &ctx);
  g_assert_cmpint(b->out_shape.rank, ==, 3);
  g_assert_cmpmem(x->out, 48 * sizeof(float), b->out, 48 * sizeof(float));
}

static void test_concat_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  LlShape in[3] = {SHAPE(2, 3, 4), SHAPE(1, 3, 4), SHAPE(3, 3, 4)};
  ll_gradcheck_block("Concat", "", 3, in, &o);
  LlShape seq[3] = {SHAPE(2, 3), SHAPE(2, 1), SHAPE(2, 4)};
  ll_gradcheck_block("Concat", "axis=1", 3, seq, &o);
  ll_gradcheck_block("Concat", "", 2, (LlShape[]){SHAPE(3), SHAPE(5)}, &o);
}

/* Concat's layout per sample: the inputs one after another along the axis. */
static void test_concat_layout(void)
{
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  LlBlock *a = ll_graph_add(g, "Input", "a", &error);
  LlBlock *b = ll_graph_add(g, "Input", "b", &error);
  LlBlock *c = ll_graph_add(g, "Concat", "c", &error);
  g_assert_no_error(error);
  ll_block_set_prop_string(a, "shape", "1,2,2", &error);
  ll_block_set_prop_string(b, "shape", "2,2,2", &error);
  g_assert_no_error(error);
  ll_block_connect(c, "a");
  ll_block_connect(c, "b");
  ll_graph_compile(g, ll_cpu_backend(), 2, &error);
  g_assert_no_error(error);
  g_assert_cmpint(c->out_shape.d[0], ==, 3);
  for (int i = 0; i < 8; i++)
    a->out[i] = (float)i;
  for (int i = 0; i < 16; i++)
    b->out[i] = 100.0f + (float)i;
  LlRunCtx ctx = {.be = ll_cpu_backend(), .batch = 2, .training = TRUE};
  ll_graph_forward(g, &ctx);
  const float want[24] = {0, 1, 2, 3, 100, 101, 102, 103, 104, 105, 106, 107,
                          4, 5, 6, 7, 108, 109, 110, 111, 112, 113, 114, 115};
  g_assert_cmpmem(c->out, sizeof want, want, sizeof want);
}

static void test_add_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("Add", "", 2, (LlShape[]){SHAPE(2, 3, 4), SHAPE(2, 3, 4)}, &o);
  ll_gradcheck_block("Add", "", 3, (LlShape[]){SHAPE(5), SHAPE(5), SHAPE(5)}, &o);
}

static LlBlock *add_block(LlGraph *g, const char *type, const char *name, const char *props,
                          const char *in0, const char *in1)
{
  GError *error = NULL;
  LlBlock *b = ll_graph_add(g, type, name, &error);
  g_assert_no_error(error);
  if (props) {
    g_auto(GStrv) kv = g_strsplit(props, ";", -1);
    for (int i = 0; kv[i]; i++) {
      g_auto(GStrv) p = g_strsplit(kv[i], "=", 2);
      ll_block_set_prop_string(b, p[0], p[1], &error);
      g_assert_no_error(error);
    }
  }
  if (in0)
    ll_block_connect(b, in0);
  if (in1)
    ll_block_connect(b, in1);
  return b;
}

/* x feeds a and b; a feeds c and d; b feeds c and the second head; c feeds d
 * and a third head: every fan-out must sum its consumers' gradients, whatever
 * order its consumers run backward in. */
static void test_graph_fan_in_out(void)
{
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  add_block(g, "Input", "x", "shape=6", NULL, NULL);
  add_block(g, "Linear", "a", "out_features=4", "x", NULL);
  add_block(g, "Linear", "b", "out_features=4", "x", NULL);
  add_block(g, "Add", "c", NULL, "a", "b");
  add_block(g, "Concat", "d", NULL, "a", "c");
  add_block(g, "BatchNorm1d", "bn", NULL, "d", NULL);
  add_block(g, "Dropout", "drop", "p=0.25", "bn", NULL);
  add_block(g, "Linear", "head1", "out_features=3", "drop", NULL);
  add_block(g, "Softmax", "head2", NULL, "b", NULL);
  add_block(g, "Reshape", "head3", "shape=2,2", "c", NULL);
  ll_graph_infer(g, &error);
  g_assert_no_error(error);
  g_assert_cmpint(ll_graph_find(g, "d")->out_shape.d[0], ==, 8);
  g_assert_cmpint(ll_graph_find(g, "a")->n_consumers, ==, 2);
  g_assert_cmpint(ll_graph_find(g, "b")->n_consumers, ==, 2);
  g_assert_cmpint(ll_graph_find(g, "c")->n_consumers, ==, 2);
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  o.batch = 4;
  ll_gradcheck_graph(g, &o);
  o.training = FALSE;
  ll_gradcheck_graph(g, &o);
}

/* The same on images: x fans out to BatchNorm2d and Concat; Reshape and
 * Flatten meet in an Add. */
static void test_graph_images(void)
{
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  add_block(g, "Input", "x", "shape=2,3,3", NULL, NULL);
  add_block(g, "BatchNorm2d", "bn", NULL, "x", NULL);
  add_block(g, "Concat", "cat", NULL, "x", "bn");
  add_block(g, "Flatten", "flat", NULL, "cat", NULL);
  add_block(g, "Reshape", "re", "shape=36", "cat", NULL);
  add_block(g, "Add", "sum", NULL, "flat", "re");
  add_block(g, "Linear", "head", "out_features=5", "sum", NULL);
  ll_graph_infer(g, &error);
  g_assert_no_error(error);
  g_assert_cmpint(ll_graph_find(g, "cat")->out_shape.d[0], ==, 4);
  g_assert_cmpint(ll_graph_find(g, "bn")->rf, ==, 1);
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_graph(g, &o);
}

/* Builds inputs of the given shapes into a block "bad" and expects infer to
 * fail with a message naming the block and containing `expect`. */
static void expect_infer_error(const char *type, const char *props, int n_in,
                               const char *const *shapes, const char *expect)
{
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  const char *names[] = {"in0", "in1", "in2"};
  for (int k = 0; k < n_in; k++) {
    g_autofree char *p = g_strdup_printf("shape=%s", shapes[k]);
    add_block(g, "Input", names[k], p, NULL, NULL);
  }
  LlBlock *b = add_block(g, type, "bad", NULL, NULL, NULL);
  for (int k = 0; k < n_in; k++)
    ll_block_connect(b, names[k]);
  if (props) {
    g_auto(GStrv) p = g_strsplit(props, "=", 2);
    ll_block_set_prop_string(b, p[0], p[1], &error);
    g_assert_no_error(error);
  }
  g_assert_false(ll_graph_infer(g, &error));
  g_assert_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_SHAPE);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "block \"bad\""));
  g_assert_nonnull(strstr(error->message, expect));
  g_clear_error(&error);
}

static void test_errors(void)
{
  expect_infer_error("Reshape", "shape=4,5", 1, (const char *[]){"2,3,4"}, "(4, 5)");
  expect_infer_error("Reshape", "shape=4,5", 1, (const char *[]){"2,3,4"}, "(2, 3, 4)");
  expect_infer_error("Concat", NULL, 3, (const char *[]){"2,3,4", "1,3,4", "2,3,5"},
                     "input 2 (\"in2\") has shape (2, 3, 5)");
  expect_infer_error("Concat", NULL, 2, (const char *[]){"2,3,4", "12"}, "\"in1\"");
  expect_infer_error("Add", NULL, 3, (const char *[]){"4", "4", "5"},
                     "input 2 (\"in2\") has shape (5)");
  expect_infer_error("Add", NULL, 2, (const char *[]){"2,2", "4"}, "\"in1\"");
  expect_infer_error("BatchNorm2d", NULL, 1, (const char *[]){"5"}, "(C, H, W)");
  expect_infer_error("BatchNorm1d", NULL, 1, (const char *[]){"2,3,4"}, "(F) or (C, L)");

  /* Concat's axis beyond the rank, Dropout's p = 1 */
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  add_block(g, "Input", "x", "shape=4", NULL, NULL);
  add_block(g, "Concat", "cat", "axis=1", "x", "x");
  g_assert_false(ll_graph_infer(g, &error));
  g_assert_nonnull(strstr(error->message, "block \"cat\""));
  g_assert_nonnull(strstr(error->message, "\"axis\""));
  g_clear_error(&error);
  g_autoptr(LlGraph) g2 = ll_graph_new();
  add_block(g2, "Input", "x", "shape=4", NULL, NULL);
  add_block(g2, "Dropout", "drop", "p=1", "x", NULL);
  g_assert_false(ll_graph_infer(g2, &error));
  g_assert_nonnull(strstr(error->message, "block \"drop\""));
  g_assert_nonnull(strstr(error->message, "\"p\""));
  g_clear_error(&error);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/blocks/batchnorm1d/grad", test_batchnorm1d_grad);
  g_test_add_func("/engine/blocks/batchnorm2d/grad", test_batchnorm2d_grad);
  g_test_add_func("/engine/blocks/batchnorm1d/running-stats", test_batchnorm_running_stats);
  g_test_add_func("/engine/blocks/layernorm/grad", test_layernorm_grad);
  g_test_add_func("/engine/blocks/upsample/grad", test_upsample_grad);
  g_test_add_func("/engine/blocks/dropout/grad", test_dropout_grad);
  g_test_add_func("/engine/blocks/dropout/mask", test_dropout_mask);
  g_test_add_func("/engine/blocks/softmax/grad", test_softmax_grad);
  g_test_add_func("/engine/blocks/flatten/grad", test_flatten_grad);
  g_test_add_func("/engine/blocks/reshape/grad", test_reshape_grad);
  g_test_add_func("/engine/blocks/concat/grad", test_concat_grad);
  g_test_add_func("/engine/blocks/concat/layout", test_concat_layout);
  g_test_add_func("/engine/blocks/add/grad", test_add_grad);
  g_test_add_func("/engine/graph/fan-in-out/grad", test_graph_fan_in_out);
  g_test_add_func("/engine/graph/images/grad", test_graph_images);
  g_test_add_func("/engine/blocks/shape-errors", test_errors);
  return g_test_run();
}

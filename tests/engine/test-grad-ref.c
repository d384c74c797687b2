/* test-grad-ref.c: the reference backend's backward ops against central
 * differences of its forward ops, all in double precision.
 *
 * For an op y = f(x1, x2, ...) the check draws fixed random weights R and
 * differentiates L = sum R * y: the analytical gradient is the op's backward
 * with dy = R; the numerical one is (L(x + h) - L(x - h)) / 2h per element,
 * h = 1e-5. In double, truncation (h^2 f''' / 6, about 1e-11) and rounding
 * (1e-16 |L| / h, about 1e-10) leave the difference far below the
 * tolerance: every element must satisfy
 *   |num - ana| <= 1e-6 max(|num|, |ana|, 1e-3)
 * (the floor keeps elements whose gradient is nearly 0 from asking for a
 * relative precision no difference quotient has). A gradient off by 1.0001
 * fails (/engine/ref/grad/detects-1e-4).
 *
 * Non-smooth points, and how the inputs avoid them:
 * - ReLU, LeakyReLU, ELU at 0, L1 at pred = target: inputs are redrawn until
 *   they are at least 1e-3 (100 h) from the kink, so x +- h stays on one side;
 * - max pooling at ties: the inputs are distinct multiples of 1e-3 shuffled,
 *   so the maximum of a window leads the runner-up by 1e-3 and +-h never
 *   changes which element wins;
 * - embedding indices and cross-entropy targets are integers: not
 *   differentiated (the table and the logits are).
 * The block-level checks (test-grad-*.c) run whole graphs on the reference
 * backend, whose tensors are float32: see gradcheck.h for their tolerance. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "ref/ref-ops.h"
#include "rng.h"

#define H_STEP 1e-5
#define RTOL   1e-6
#define FLOOR  1e-3
#define MAX_IN 4

typedef struct Grad Grad;
struct Grad {
  const char *name;
  int n_in;
  double *in[MAX_IN];
  size_t len[MAX_IN];
  bool diff[MAX_IN]; /* differentiate with respect to this input */
  size_t out_len;
  /* out = f(in) (overwrite) */
  void (*fwd)(const Grad *g, double *out);
  /* din[k] += J_k^T dout for every differentiated k (din[k] zeroed) */
  void (*bwd)(const Grad *g, const double *dout, double **din);
  /* the op's parameters */
  LlConvGeom conv;
  LlPoolGeom pool;
  int i[6];
  double d[4];
};

static LlRng rng;

static double *normals(size_t n, double away_from_zero)
{
  double *p = g_new(double, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    do
      p[i] = ll_rng_normal(&rng);
    while (fabs(p[i]) < away_from_zero);
  return p;
}

static double loss_of(const Grad *g, const double *r)
{
  g_autofree double *out = g_new0(double, g->out_len);
  g->fwd(g, out);
  double l = 0.0;
  for (size_t i = 0; i < g->out_len; i++)
    l += r[i] * out[i];
  return l;
}

/* The largest relative error over the checked elements, with the analytical
 * gradient multiplied by scale (1: the op as written). */
static double grad_error(Grad *g, double scale)
{
  g_autofree double *r = normals(g->out_len, 0.0);
  double *din[MAX_IN] = {0};
  for (int k = 0; k < g->n_in; k++)
    if (g->diff[k])
      din[k] = g_new0(double, g->len[k]);
  g->bwd(g, r, din);
  double worst = 0.0;
  for (int k = 0; k < g->n_in; k++) {
    if (!g->diff[k])
      continue;
    for (size_t i = 0; i < g->len[k]; i++) {
      double orig = g->in[k][i];
      g->in[k][i] = orig + H_STEP;
      double lp = loss_of(g, r);
      g->in[k][i] = orig - H_STEP;
      double lm = loss_of(g, r);
      g->in[k][i] = orig;
      double num = (lp - lm) / (2.0 * H_STEP), ana = din[k][i] * scale;
      double err = fabs(num - ana) / fmax(fmax(fabs(num), fabs(ana)), FLOOR);
      if (err > worst) {
        worst = err;
        if (err > RTOL && scale == 1.0)
          g_test_message("%s: d(input %d)[%zu]: numerical %.12g, analytical %.12g", g->name, k, i,
                         num, ana);
      }
    }
    g_free(din[k]);
  }
  return worst;
}

static void check(Grad *g)
{
  double e = grad_error(g, 1.0);
  g_test_message("%s: largest relative error %.3g", g->name, e);
  if (e > RTOL)
    g_test_fail_printf("%s: relative error %.3g > %g", g->name, e, RTOL);
  for (int k = 0; k < g->n_in; k++)
    g_free(g->in[k]);
}

/* ---- element-wise -------------------------------------------------------------------------- */

static void act_fwd(const Grad *g, double *out)
{
  ll_ref_act_forward((LlActivation)g->i[0], g->d[0], g->in[0], out, g->len[0]);
}
static void act_bwd(const Grad *g, const double *dout, double **din)
{
  ll_ref_act_backward((LlActivation)g->i[0], g->d[0], g->in[0], dout, din[0], g->len[0]);
}

static void test_activations(void)
{
  static const struct {
    LlActivation act;
    double alpha;
    const char *name;
  } acts[] = {{LL_ACT_RELU, 0, "relu"},       {LL_ACT_LEAKY_RELU, 0.1, "leaky_relu"},
              {LL_ACT_ELU, 0.7, "elu"},       {LL_ACT_GELU, 0, "gelu"},
              {LL_ACT_SIGMOID, 0, "sigmoid"}, {LL_ACT_TANH, 0, "tanh"},
              {LL_ACT_IDENTITY, 0, "identity"}};
  for (guint a = 0; a < G_N_ELEMENTS(acts); a++) {
    Grad g = {.name = acts[a].name, .n_in = 1, .len = {37}, .diff = {true}, .out_len = 37,
              .fwd = act_fwd, .bwd = act_bwd, .i = {acts[a].act}, .d = {acts[a].alpha}};
    g.in[0] = normals(37, 1e-3); /* off the kinks at 0 */
    check(&g);
  }
}

static void dropout_fwd(const Grad *g, double *out)
{
  g_autofree double *mask = g_new(double, g->len[0]);
  ll_ref_dropout_forward(g->in[0], out, mask, g->len[0], 0.3f, 11, 5);
}
static void dropout_bwd(const Grad *g, const double *dout, double **din)
{
  g_autofree double *mask = g_new(double, g->len[0]), *y = g_new(double, g->len[0]);
  ll_ref_dropout_forward(g->in[0], y, mask, g->len[0], 0.3f, 11, 5);
  ll_ref_mul_backward(dout, mask, din[0], g->len[0]);
}

static void test_dropout(void)
{
  Grad g = {.name = "dropout", .n_in = 1, .len = {41}, .diff = {true}, .out_len = 41,
            .fwd = dropout_fwd, .bwd = dropout_bwd};
  g.in[0] = normals(41, 0);
  check(&g);
}

/* ---- matrices --------------------------------------------------------------------------------- */

/* C(m, n) = op(A) op(B), i = {ta, tb, m, n, k}: dA and dB are gemms too. */
static void gemm_fwd(const Grad *g, double *out)
{
  bool ta = g->i[0], tb = g->i[1];
  int m = g->i[2], n = g->i[3], k = g->i[4];
  ll_ref_gemm(ta, tb, m, n, k, 1.0, g->in[0], ta ? m : k, g->in[1], tb ? k : n, 0.0, out, n);
}
static void gemm_bwd(const Grad *g, const double *dc, double **din)
{
  bool ta = g->i[0], tb = g->i[1];
  int m = g->i[2], n = g->i[3], k = g->i[4];
  /* dop(A) = dC op(B)^T (m, k); dA is that or its transpose */
  if (!ta)
    ll_ref_gemm(false, !tb, m, k, n, 1.0, dc, n, g->in[1], tb ? k : n, 1.0, din[0], k);
  else
    ll_ref_gemm(tb, true, k, m, n, 1.0, g->in[1], tb ? k : n, dc, n, 1.0, din[0], m);
  /* dop(B) = op(A)^T dC (k, n) */
  if (!tb)
    ll_ref_gemm(!ta, false, k, n, m, 1.0, g->in[0], ta ? m : k, dc, n, 1.0, din[1], n);
  else
    ll_ref_gemm(true, ta, n, k, m, 1.0, dc, n, g->in[0], ta ? m : k, 1.0, din[1], k);
}

static void test_gemm(void)
{
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      int m = 3, n = 5, k = 4;
      Grad g = {.name = "gemm", .n_in = 2, .len = {m * k, k * n}, .diff = {true, true},
                .out_len = m * n, .fwd = gemm_fwd, .bwd = gemm_bwd, .i = {ta, tb, m, n, k}};
      g.in[0] = normals(g.len[0], 0);
      g.in[1] = normals(g.len[1], 0);
      check(&g);
    }
}

/* y = x + bias per channel, i = {n, c, inner} */
static void bias_fwd(const Grad *g, double *out)
{
  memcpy(out, g->in[0], g->len[0] * sizeof *out);
  ll_ref_bias_add(out, g->in[1], g->i[0], g->i[1], g->i[2]);
}
static void bias_bwd(const Grad *g, const double *dy, double **din)
{
  ll_ref_axpy(din[0], 1.0, dy, g->len[0]);
  ll_ref_bias_backward(dy, din[1], g->i[0], g->i[1], g->i[2]);
}

static void test_bias(void)
{
  Grad g = {.name = "bias", .n_in = 2, .len = {3 * 4 * 5, 4}, .diff = {true, true},
            .out_len = 60, .fwd = bias_fwd, .bwd = bias_bwd, .i = {3, 4, 5}};
  g.in[0] = normals(60, 0);
  g.in[1] = normals(4, 0);
  check(&g);
}

/* ---- convolution and pooling --------------------------------------------------------------------- */

static void conv_fwd(const Grad *g, double *out) { ll_ref_conv2d_forward(&g->conv, g->in[0], g->in[1], out); }
static void conv_bwd(const Grad *g, const double *dy, double **din)
{
  ll_ref_conv2d_backward_data(&g->conv, g->in[1], dy, din[0]);
  ll_ref_conv2d_backward_filter(&g->conv, g->in[0], dy, din[1]);
}

static void test_conv2d(void)
{
  /* n, c, h, w, oc, -, -, kh, kw, sh, sw, ph, pw, dh, dw, groups */
  LlConvGeom geoms[] = {
      {2, 3, 5, 6, 4, 0, 0, 3, 3, 1, 1, 0, 0, 1, 1, 1},
      {1, 4, 7, 5, 4, 0, 0, 3, 2, 2, 1, 1, 1, 1, 2, 2}, /* stride, padding, dilation, groups */
      {2, 2, 6, 7, 2, 0, 0, 2, 2, 1, 2, 1, 0, 2, 1, 2}, /* depthwise */
      {1, 3, 1, 9, 2, 0, 0, 1, 3, 1, 2, 0, 1, 1, 1, 1}, /* Conv1d */
  };
  for (guint i = 0; i < G_N_ELEMENTS(geoms); i++) {
    LlConvGeom c = geoms[i];
    c.oh = (c.h + 2 * c.ph - c.dh * (c.kh - 1) - 1) / c.sh + 1;
    c.ow = (c.w + 2 * c.pw - c.dw * (c.kw - 1) - 1) / c.sw + 1;
    size_t nx = (size_t)c.n * c.c * c.h * c.w, nw = (size_t)c.oc * (c.c / c.groups) * c.kh * c.kw;
    Grad g = {.name = "conv2d", .n_in = 2, .len = {nx, nw}, .diff = {true, true},
              .out_len = (size_t)c.n * c.oc * c.oh * c.ow, .fwd = conv_fwd, .bwd = conv_bwd,
              .conv = c};
    g.in[0] = normals(nx, 0);
    g.in[1] = normals(nw, 0);
    check(&g);
  }
}

static void maxpool_fwd(const Grad *g, double *out)
{
  g_autofree int32_t *arg = g_new(int32_t, g->out_len);
  ll_ref_maxpool2d_forward(&g->pool, g->in[0], out, arg);
}
static void maxpool_bwd(const Grad *g, const double *dy, double **din)
{
  g_autofree int32_t *arg = g_new(int32_t, g->out_len);
  g_autofree double *y = g_new(double, g->out_len);
  ll_ref_maxpool2d_forward(&g->pool, g->in[0], y, arg);
  ll_ref_maxpool2d_backward(&g->pool, arg, dy, din[0]);
}
static void avgpool_fwd(const Grad *g, double *out) { ll_ref_avgpool2d_forward(&g->pool, g->in[0], out); }
static void avgpool_bwd(const Grad *g, const double *dy, double **din)
{
  ll_ref_avgpool2d_backward(&g->pool, dy, din[0]);
}

/* Distinct values 1e-3 apart, shuffled: no window has a tie within +-h. */
static double *distinct(size_t n)
{
  g_autofree uint32_t *perm = g_new(uint32_t, n);
  for (size_t i = 0; i < n; i++)
    perm[i] = (uint32_t)i;
  ll_rng_shuffle_u32(&rng, perm, n);
  double *p = g_new(double, n);
  for (size_t i = 0; i < n; i++)
    p[i] = (perm[i] - n / 2.0) * 1e-3;
  return p;
}

static void test_pooling(void)
{
  /* n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw */
  LlPoolGeom geoms[] = {{2, 2, 6, 7, 0, 0, 2, 2, 2, 2, 0, 0}, {1, 3, 7, 6, 0, 0, 3, 3, 2, 2, 1, 1},
                        {2, 1, 5, 5, 0, 0, 3, 3, 1, 1, 0, 0}};
  for (guint i = 0; i < G_N_ELEMENTS(geoms); i++) {
    LlPoolGeom p = geoms[i];
    p.oh = (p.h + 2 * p.ph - p.kh) / p.sh + 1;
    p.ow = (p.w + 2 * p.pw - p.kw) / p.sw + 1;
    size_t nx = (size_t)p.n * p.c * p.h * p.w, ny = (size_t)p.n * p.c * p.oh * p.ow;
    Grad m = {.name = "maxpool2d", .n_in = 1, .len = {nx}, .diff = {true}, .out_len = ny,
              .fwd = maxpool_fwd, .bwd = maxpool_bwd, .pool = p};
    m.in[0] = distinct(nx);
    check(&m);
    Grad a = {.name = "avgpool2d", .n_in = 1, .len = {nx}, .diff = {true}, .out_len = ny,
              .fwd = avgpool_fwd, .bwd = avgpool_bwd, .pool = p};
    a.in[0] = normals(nx, 0);
    check(&a);
  }
}

static void mean_fwd(const Grad *g, double *out) { ll_ref_mean_inner_forward(g->in[0], out, g->i[0], g->i[1]); }
static void mean_bwd(const Grad *g, const double *dy, double **din)
{
  ll_ref_mean_inner_backward(dy, din[0], g->i[0], g->i[1]);
}

static void test_mean_inner(void)
{
  Grad g = {.name = "mean_inner", .n_in = 1, .len = {5 * 7}, .diff = {true}, .out_len = 5,
            .fwd = mean_fwd, .bwd = mean_bwd, .i = {5, 7}};
  g.in[0] = normals(35, 0);
  check(&g);
}

/* ---- batch normalisation -------------------------------------------------------------------------- */

/* in = {x (n, c, inner), gamma (c), beta (c), running (2c: mean, var)};
 * i = {n, c, inner, training}. The training forward's statistics depend on
 * x; its running-estimate update writes to a copy. */
static void bn_fwd(const Grad *g, double *out)
{
  int n = g->i[0], c = g->i[1], inner = g->i[2];
  const double *rm = g->in[3], *rv = g->in[3] + c;
  if (!g->i[3]) {
    ll_ref_batchnorm_forward_eval(g->in[0], out, g->in[1], g->in[2], rm, rv, n, c, inner, 1e-5);
    return;
  }
  g_autofree double *stats = g_new(double, 4 * c);
  memcpy(stats + 2 * c, g->in[3], 2 * c * sizeof(double));
  ll_ref_batchnorm_forward_train(g->in[0], out, g->in[1], g->in[2], stats, stats + c,
                                 stats + 2 * c, stats + 3 * c, n, c, inner, 0.1, 1e-5);
}
static void bn_bwd(const Grad *g, const double *dy, double **din)
{
  int n = g->i[0], c = g->i[1], inner = g->i[2];
  const double *rm = g->in[3], *rv = g->in[3] + c;
  if (!g->i[3]) {
    ll_ref_batchnorm_backward_eval(g->in[0], dy, g->in[1], rm, rv, din[0], din[1], din[2], n, c,
                                   inner, 1e-5);
    return;
  }
  g_autofree double *stats = g_new(double, 4 * c), *y = g_new(double, g->len[0]);
  memcpy(stats + 2 * c, g->in[3], 2 * c * sizeof(double));
  ll_ref_batchnorm_forward_train(g->in[0], y, g->in[1], g->in[2], stats, stats + c,
                                 stats + 2 * c, stats + 3 * c, n, c, inner, 0.1, 1e-5);
  ll_ref_batchnorm_backward(g->in[0], dy, g->in[1], stats, stats + c, din[0], din[1], din[2], n,
                            c, inner);
}

static void test_batchnorm(void)
{
  static const int shapes[][3] = {{4, 3, 5}, {7, 2, 1}, {1, 2, 9}};
  for (guint s = 0; s < G_N_ELEMENTS(shapes); s++)
    for (int training = 0; training < 2; training++) {
      int n = shapes[s][0], c = shapes[s][1], inner = shapes[s][2];
      size_t total = (size_t)n * c * inner;
      Grad g = {.name = training ? "batchnorm train" : "batchnorm eval", .n_in = 4,
                .len = {total, c, c, 2 * c}, .diff = {true, true, true, false},
                .out_len = total, .fwd = bn_fwd, .bwd = bn_bwd, .i = {n, c, inner, training}};
      g.in[0] = normals(total, 0);
      g.in[1] = normals(c, 0);
      g.in[2] = normals(c, 0);
      g.in[3] = g_new(double, 2 * c);
      for (int j = 0; j < c; j++) {
        g.in[3][j] = 0.1 * ll_rng_normal(&rng);
        g.in[3][c + j] = 0.5 + ll_rng_uniform(&rng);
      }
      check(&g);
    }
}

/* ---- softmax and losses ------------------------------------------------------------------------------ */

static void softmax_fwd(const Grad *g, double *out) { ll_ref_softmax_forward(g->in[0], out, g->i[0], g->i[1]); }
static void softmax_bwd(const Grad *g, const double *dy, double **din)
{
  g_autofree double *y = g_new(double, g->len[0]);
  ll_ref_softmax_forward(g->in[0], y, g->i[0], g->i[1]);
  ll_ref_softmax_backward(y, dy, din[0], g->i[0], g->i[1]);
}

static void test_softmax(void)
{
  Grad g = {.name = "softmax", .n_in = 1, .len = {4 * 6}, .diff = {true}, .out_len = 24,
            .fwd = softmax_fwd, .bwd = softmax_bwd, .i = {4, 6}};
  g.in[0] = normals(24, 0);
  check(&g);
}

/* The losses are scalars: out(1) = loss; dloss = dout[0] scales the slot's
 * gradient (which is that of the loss with weight d[0]). in = {pred, target};
 * i = {which: 0 cross-entropy, 1 bce, 2 mse, 3 l1, rows, cols}; d = {weight,
 * smoothing}. */
static double loss_eval(const Grad *g, double *dpred)
{
  double w = g->d[0];
  switch (g->i[0]) {
  case 0:
    return ll_ref_cross_entropy(g->in[0], g->in[1], g->i[1], g->i[2], g->d[1], w, dpred);
  case 1:
    return ll_ref_bce_logits(g->in[0], g->in[1], g->len[0], w, dpred);
  case 2:
    return ll_ref_mse(g->in[0], g->in[1], g->len[0], w, dpred);
  default:
    return ll_ref_l1(g->in[0], g->in[1], g->len[0], w, dpred);
  }
}
static void loss_fwd(const Grad *g, double *out) { out[0] = loss_eval(g, NULL); }
static void loss_bwd(const Grad *g, const double *dout, double **din)
{
  g_autofree double *d = g_new0(double, g->len[0]);
  loss_eval(g, d);
  ll_ref_axpy(din[0], dout[0], d, g->len[0]);
}

static void test_losses(void)
{
  static const char *names[] = {"cross_entropy", "bce_logits", "mse", "l1"};
  for (int which = 0; which < 4; which++)
    for (int smooth = 0; smooth < (which == 0 ? 2 : 1); smooth++) {
      int rows = 5, cols = 7;
      size_t n = (size_t)rows * cols;
      Grad g = {.name = names[which], .n_in = 2, .len = {n, which == 0 ? (size_t)rows : n},
                .diff = {true, false}, .out_len = 1, .fwd = loss_fwd, .bwd = loss_bwd,
                .i = {which, rows, cols}, .d = {0.7, smooth ? 0.1 : 0.0}};
      g.in[0] = normals(n, 0);
      g.in[1] = g_new(double, g.len[1]);
      for (size_t i = 0; i < g.len[1]; i++) {
        if (which == 0) {
          g.in[1][i] = (double)ll_rng_below(&rng, cols);
          continue;
        }
        g.in[1][i] = ll_rng_uniform(&rng);
        /* L1's kink at pred = target: keep 1e-3 away */
        while (which == 3 && fabs(g.in[0][i] - g.in[1][i]) < 1e-3)
          g.in[0][i] = ll_rng_normal(&rng);
      }
      check(&g);
    }
}

/* ---- sequences and lookup ----------------------------------------------------------------------------- */

/* in = {table (vocab, dim), idx (n)}; i = {n, vocab, dim} */
static void emb_fwd(const Grad *g, double *out)
{
  ll_ref_embedding_forward(g->in[0], g->in[1], out, g->i[0], g->i[1], g->i[2]);
}
static void emb_bwd(const Grad *g, const double *dy, double **din)
{
  ll_ref_embedding_backward(g->in[1], dy, din[0], g->i[0], g->i[1], g->i[2]);
}

static void test_embedding(void)
{
  int n = 9, vocab = 4, dim = 3; /* more lookups than rows: repeated rows sum */
  Grad g = {.name = "embedding", .n_in = 2, .len = {vocab * dim, n}, .diff = {true, false},
            .out_len = n * dim, .fwd = emb_fwd, .bwd = emb_bwd, .i = {n, vocab, dim}};
  g.in[0] = normals(g.len[0], 0);
  g.in[1] = g_new(double, n);
  for (int i = 0; i < n; i++)
    g.in[1][i] = (double)ll_rng_below(&rng, vocab);
  check(&g);
}

/* LSTM: in = {gate preactivations (n, 4h), c_prev (n, h)}; out = [c, h] */
static void lstm_fwd(const Grad *g, double *out)
{
  int n = g->i[0], hid = g->i[1];
  size_t nh = (size_t)n * hid;
  g_autofree double *gates = g_memdup2(g->in[0], 4 * nh * sizeof(double));
  ll_ref_lstm_cell_forward(gates, g->in[1], out, out + nh, n, hid);
}
static void lstm_bwd(const Grad *g, const double *dout, double **din)
{
  int n = g->i[0], hid = g->i[1];
  size_t nh = (size_t)n * hid;
  g_autofree double *gates = g_memdup2(g->in[0], 4 * nh * sizeof(double));
  g_autofree double *c = g_new(double, nh), *h = g_new(double, nh);
  ll_ref_lstm_cell_forward(gates, g->in[1], c, h, n, hid);
  /* dc (from step t+1) = dout's c part, dh = its h part */
  g_autofree double *dgates = g_new(double, 4 * nh);
  ll_ref_lstm_cell_backward(gates, g->in[1], c, dout + nh, dout, dgates, din[1], n, hid);
  ll_ref_axpy(din[0], 1.0, dgates, 4 * nh);
}

/* GRU: in = {xg (n, 3h), hg (n, 3h), h_prev (n, h)}; out = h */
static void gru_fwd(const Grad *g, double *out)
{
  int n = g->i[0], hid = g->i[1];
  g_autofree double *act = g_new(double, (size_t)4 * n * hid);
  ll_ref_gru_cell_forward(g->in[0], g->in[1], g->in[2], out, act, n, hid);
}
static void gru_bwd(const Grad *g, const double *dh, double **din)
{
  int n = g->i[0], hid = g->i[1];
  size_t nh = (size_t)n * hid;
  g_autofree double *act = g_new(double, 4 * nh), *h = g_new(double, nh);
  g_autofree double *dxg = g_new(double, 3 * nh), *dhg = g_new(double, 3 * nh);
  ll_ref_gru_cell_forward(g->in[0], g->in[1], g->in[2], h, act, n, hid);
  ll_ref_gru_cell_backward(act, g->in[2], dh, dxg, dhg, din[2], n, hid);
  ll_ref_axpy(din[0], 1.0, dxg, 3 * nh);
  ll_ref_axpy(din[1], 1.0, dhg, 3 * nh);
}

static void test_recurrent_cells(void)
{
  int n = 3, hid = 5;
  size_t nh = (size_t)n * hid;
  Grad l = {.name = "lstm_cell", .n_in = 2, .len = {4 * nh, nh}, .diff = {true, true},
            .out_len = 2 * nh, .fwd = lstm_fwd, .bwd = lstm_bwd, .i = {n, hid}};
  l.in[0] = normals(4 * nh, 0);
  l.in[1] = normals(nh, 0);
  check(&l);
  Grad r = {.name = "gru_cell", .n_in = 3, .len = {3 * nh, 3 * nh, nh},
            .diff = {true, true, true}, .out_len = nh, .fwd = gru_fwd, .bwd = gru_bwd,
            .i = {n, hid}};
  r.in[0] = normals(3 * nh, 0);
  r.in[1] = normals(3 * nh, 0);
  r.in[2] = normals(nh, 0);
  check(&r);
}

/* ---- the check itself ----------------------------------------------------------------------------------- */

/* A gradient 1.0001 times too large (a relative error of 1e-4, the size of
 * a float32 forward's noise) fails the check; the exact one passes. */
static void test_detects_1e4(void)
{
  int m = 3, n = 5, k = 4;
  Grad g = {.name = "gemm scaled", .n_in = 2, .len = {m * k, k * n}, .diff = {true, true},
            .out_len = m * n, .fwd = gemm_fwd, .bwd = gemm_bwd, .i = {0, 1, m, n, k}};
  g.in[0] = normals(g.len[0], 0);
  g.in[1] = normals(g.len[1], 0);
  double exact = grad_error(&g, 1.0), scaled = grad_error(&g, 1.0001);
  g_test_message("gemm: relative error %.3g as written, %.3g scaled by 1.0001", exact, scaled);
  g_assert_cmpfloat(exact, <=, RTOL);
  g_assert_cmpfloat(scaled, >, RTOL);
  g_assert_cmpfloat(fabs(scaled - 1e-4), <, 1e-5); /* the scaling is what it measures */
  g_free(g.in[0]);
  g_free(g.in[1]);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  ll_rng_seed(&rng, 20261207);
  g_test_add_func("/engine/ref/grad/activations", test_activations);
  g_test_add_func("/engine/ref/grad/dropout", test_dropout);
  g_test_add_func("/engine/ref/grad/gemm", test_gemm);
  g_test_add_func("/engine/ref/grad/bias", test_bias);
  g_test_add_func("/engine/ref/grad/conv2d", test_conv2d);
  g_test_add_func("/engine/ref/grad/pooling", test_pooling);
  g_test_add_func("/engine/ref/grad/mean-inner", test_mean_inner);
  g_test_add_func("/engine/ref/grad/batchnorm", test_batchnorm);
  g_test_add_func("/engine/ref/grad/softmax", test_softmax);
  g_test_add_func("/engine/ref/grad/losses", test_losses);
  g_test_add_func("/engine/ref/grad/embedding", test_embedding);
  g_test_add_func("/engine/ref/grad/recurrent-cells", test_recurrent_cells);
  g_test_add_func("/engine/ref/grad/detects-1e-4", test_detects_1e4);
  return g_test_run();
}

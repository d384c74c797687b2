/* Optimizers, gradient clipping and learning-rate schedules.
 *
 * Each optimizer takes two steps on a 3-element parameter (a Linear(2 -> 1)
 * block's weight and bias) and is compared with its formulas written out
 * below in double precision, following torch.optim's update rules; the
 * references were checked once against PyTorch 1.13 (the hard-coded values
 * in test_torch_values). */
#include <math.h>
#include <string.h>

#include "graph.h"
#include "optimizer.h"
#include "schedule.h"

/* --- a tiny graph ------------------------------------------------------------------------ */

/* Input "x" (in) -> Linear "a" (hidden) [-> Linear "b" (out) when out > 0] */
static LlGraph *make_graph(int in, int hidden, int out, const char *frozen)
{
  GError *err = NULL;
  LlGraph *g = ll_graph_new();
  LlBlock *x = ll_graph_add(g, "Input", "x", &err);
  g_assert_no_error(err);
  g_autofree char *shape = g_strdup_printf("%d", in);
  g_assert_true(ll_block_set_prop_string(x, "shape", shape, &err));
  LlBlock *a = ll_graph_add(g, "Linear", "a", &err);
  g_assert_no_error(err);
  g_autofree char *h = g_strdup_printf("%d", hidden);
  g_assert_true(ll_block_set_prop_string(a, "out_features", h, &err));
  ll_block_connect(a, "x");
  if (out > 0) {
    LlBlock *b = ll_graph_add(g, "Linear", "b", &err);
    g_assert_no_error(err);
    g_autofree char *o = g_strdup_printf("%d", out);
    g_assert_true(ll_block_set_prop_string(b, "out_features", o, &err));
    ll_block_connect(b, "a");
  }
  for (const char *p = frozen; p && *p; p++)
    ll_graph_find(g, (char[]){*p, 0})->frozen = TRUE;
  g_assert_true(ll_graph_compile(g, ll_cpu_backend(), 1, &err));
  g_assert_no_error(err);
  LlRng rng;
  ll_rng_seed(&rng, 7);
  ll_graph_init_params(g, &rng);
  return g;
}

/* The 3-element parameter of make_graph(2, 1, 0): weight[0], weight[1], bias[0]. */
static float *elem(LlGraph *g, int i, gboolean grad)
{
  LlBlock *a = ll_graph_find(g, "a");
  LlParam *p = &a->params[i < 2 ? 0 : 1];
  return (grad ? p->grad : p->data) + (i < 2 ? i : 0);
}

static void set3(LlGraph *g, gboolean grad, const double v[3])
{
  for (int i = 0; i < 3; i++)
    *elem(g, i, grad) = (float)v[i];
}

/* --- the formulas, in double ------------------------------------------------------------ */

typedef struct {
  double s0[3], s1[3]; /* momentum / exp_avg / square_avg / sum; exp_avg_sq / momentum */
} RefState;

static void ref_step(const LlOptimConfig *c, double p[3], RefState *st, const double g[3],
                     double lr, int step)
{
  for (int i = 0; i < 3; i++) {
    double d = g[i];
    switch (c->kind) {
    case LL_OPT_SGD:
      d += c->weight_decay * p[i];
      if (c->momentum != 0.0) {
        st->s0[i] = step == 1 ? d : c->momentum * st->s0[i] + (1.0 - c->dampening) * d;
        d = c->nesterov ? d + c->momentum * st->s0[i] : st->s0[i];
      }
      p[i] -= lr * d;
      break;
    case LL_OPT_ADAM:
    case LL_OPT_ADAMW: {
      if (c->kind == LL_OPT_ADAMW)
        p[i] *= 1.0 - lr * c->weight_decay;
      else
        d += c->weight_decay * p[i];
      st->s0[i] = c->beta1 * st->s0[i] + (1.0 - c->beta1) * d;
      st->s1[i] = c->beta2 * st->s1[i] + (1.0 - c->beta2) * d * d;
      double mhat = st->s0[i] / (1.0 - pow(c->beta1, step));
      double vhat = st->s1[i] / (1.0 - pow(c->beta2, step));
      p[i] -= lr * mhat / (sqrt(vhat) + c->eps);
      break;
    }
    case LL_OPT_RMSPROP: {
      d += c->weight_decay * p[i];
      st->s0[i] = c->alpha * st->s0[i] + (1.0 - c->alpha) * d * d;
      double r = d / (sqrt(st->s0[i]) + c->eps);
      if (c->momentum > 0.0) {
        st->s1[i] = c->momentum * st->s1[i] + r;
        r = st->s1[i];
      }
      p[i] -= lr * r;
      break;
    }
    case LL_OPT_ADAGRAD:
      d += c->weight_decay * p[i];
      st->s0[i] += d * d;
      p[i] -= lr * d / (sqrt(st->s0[i]) + c->eps);
      break;
    }
  }
}

static const double P0[3] = {0.5, -1.0, 2.0};
static const double G1[3] = {0.1, -0.2, 0.3};
static const double G2[3] = {-0.4, 0.25, 0.05};

/* Two steps (the second at half the rate); returns the parameters after each. */
static void run_two_steps(const LlOptimConfig *c, double lr, float out[2][3])
{
  g_autoptr(LlGraph) g = make_graph(2, 1, 0, NULL);
  GError *err = NULL;
  g_autoptr(LlOptimizer) o = ll_optimizer_new(g, c, &err);
  g_assert_no_error(err);
  set3(g, FALSE, P0);
  const double *gs[2] = {G1, G2};
  for (int s = 0; s < 2; s++) {
    set3(g, TRUE, gs[s]);
    ll_optimizer_step(o, (float)(s == 0 ? lr : lr / 2));
    for (int i = 0; i < 3; i++)
      out[s][i] = *elem(g, i, FALSE);
  }
  g_assert_cmpint(ll_optimizer_get_step(o), ==, 2);
}

typedef struct {
  const char *path;
  LlOptimKind kind;
  double lr, momentum, dampening, weight_decay, alpha;
  gboolean nesterov;
} Case;

static LlOptimConfig case_config(const Case *k)
{
  LlOptimConfig c = ll_optim_config_default(k->kind);
  c.momentum = k->momentum;
  c.dampening = k->dampening;
  c.nesterov = k->nesterov;
  c.weight_decay = k->weight_decay;
  if (k->alpha > 0.0)
    c.alpha = k->alpha;
  return c;
}

static void test_update(gconstpointer data)
{
  const Case *k = data;
  LlOptimConfig c = case_config(k);
  float got[2][3];
  run_two_steps(&c, k->lr, got);

  double p[3];
  memcpy(p, P0, sizeof p);
  RefState st = {0};
  const double *gs[2] = {G1, G2};
  for (int s = 0; s < 2; s++) {
    ref_step(&c, p, &st, gs[s], s == 0 ? k->lr : k->lr / 2, s + 1);
    for (int i = 0; i < 3; i++) {
      if (g_test_verbose())
        g_test_message("step %d p[%d] = %.9g (reference %.9g)", s + 1, i, got[s][i], p[i]);
      g_assert_cmpfloat_with_epsilon(got[s][i], p[i], 1e-6 + 1e-6 * fabs(p[i]));
      /* the parameter moved: the test exercises the update, not a no-op */
      g_assert_cmpfloat(fabs(p[i] - (s == 0 ? P0[i] : got[0][i])), >, 1e-5);
    }
  }
}

static const Case cases[] = {
    {"/engine/optim/sgd/plain", LL_OPT_SGD, 0.1},
    {"/engine/optim/sgd/momentum", LL_OPT_SGD, 0.1, .momentum = 0.9, .dampening = 0.1,
     .weight_decay = 0.01},
    {"/engine/optim/sgd/nesterov", LL_OPT_SGD, 0.1, .momentum = 0.9, .weight_decay = 0.05,
     .nesterov = TRUE},
    {"/engine/optim/adam/plain", LL_OPT_ADAM, 0.01},
    {"/engine/optim/adam/weight-decay", LL_OPT_ADAM, 0.01, .weight_decay = 0.1},
    {"/engine/optim/adamw", LL_OPT_ADAMW, 0.01, .weight_decay = 0.1},
    {"/engine/optim/rmsprop/plain", LL_OPT_RMSPROP, 0.01},
    {"/engine/optim/rmsprop/momentum", LL_OPT_RMSPROP, 0.01, .momentum = 0.9, .weight_decay = 0.1,
     .alpha = 0.9},
    {"/engine/optim/adagrad/plain", LL_OPT_ADAGRAD, 0.1},
    {"/engine/optim/adagrad/weight-decay", LL_OPT_ADAGRAD, 0.1, .weight_decay = 0.1},
};

/* PyTorch 1.13's numbers for three of the cases (same P0, G1, G2, lr then lr/2),
 * so the written-out formulas above are themselves checked. */
static void test_torch_values(void)
{
  static const struct {
    int ci;
    float p2[3];
  } want[] = {
      {2, {0.506925285f, -0.961600602f, 1.893911f}},   /* sgd nesterov */
      {5, {0.492052764f, -0.989319146f, 1.98308933f}}, /* adamw */
      {7, {0.468812585f, -0.961639881f, 1.94684815f}}, /* rmsprop momentum */
  };
  for (guint w = 0; w < G_N_ELEMENTS(want); w++) {
    LlOptimConfig c = case_config(&cases[want[w].ci]);
    float got[2][3];
    run_two_steps(&c, cases[want[w].ci].lr, got);
    for (int i = 0; i < 3; i++)
      g_assert_cmpfloat_with_epsilon(got[1][i], want[w].p2[i], 2e-6);
  }
}

/* --- frozen blocks, errors -------------------------------------------------------------- */

static void fill_grads(LlGraph *g, float v)
{
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    for (int k = 0; k < b->n_params; k++)
      if (b->params[k].trainable)
        for (size_t j = 0; j < ll_shape_size(&b->params[k].shape); j++)
          b->params[k].grad[j] = v;
  }
}

static void check_frozen(const char *frozen, LlOptimKind kind)
{
  g_autoptr(LlGraph) g = make_graph(3, 4, 2, frozen);
  g_autofree float *before = g_memdup2(g->params, g->n_params * sizeof(float));
  LlOptimConfig c = ll_optim_config_default(kind);
  GError *err = NULL;
  g_autoptr(LlOptimizer) o = ll_optimizer_new(g, &c, &err);
  g_assert_no_error(err);
  fill_grads(g, 1.0f);
  ll_optimizer_step(o, 0.1f);
  ll_optimizer_step(o, 0.1f);
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    for (int k = 0; k < b->n_params; k++) {
      LlParam *p = &b->params[k];
      size_t off = (size_t)(p->data - g->params);
      for (size_t j = 0; j < ll_shape_size(&p->shape); j++) {
        if (b->frozen)
          g_assert_cmpfloat(p->data[j], ==, before[off + j]);
        else /* SGD: -0.2; Adam: about -0.2 (two steps of lr sign(g)) */
          g_assert_cmpfloat_with_epsilon(p->data[j], before[off + j] - 0.2f, 1e-5);
      }
    }
  }
  /* the padding between params stays zero */
  for (size_t j = ll_shape_size(&ll_graph_find(g, "a")->params[0].shape); j < 16; j++)
    g_assert_cmpfloat(g->params[j], ==, 0.0f);
}

static void test_frozen(void)
{
  check_frozen("a", LL_OPT_SGD);
  check_frozen("b", LL_OPT_SGD);
  check_frozen("a", LL_OPT_ADAM);
  check_frozen("b", LL_OPT_ADAM);
  check_frozen(NULL, LL_OPT_ADAM);
}

static void test_errors(void)
{
  GError *err = NULL;
  LlOptimConfig c = ll_optim_config_default(LL_OPT_ADAM);

  /* every block frozen */
  g_autoptr(LlGraph) g = make_graph(3, 4, 2, "ab");
  g_assert_null(ll_optimizer_new(g, &c, &err));
  g_assert_error(err, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE);
  g_assert_nonnull(strstr(err->message, "no trainable parameters"));
  g_clear_error(&err);

  /* no params at all */
  g_autoptr(LlGraph) g2 = ll_graph_new();
  g_assert_nonnull(ll_graph_add(g2, "Input", "x", &err));
  LlBlock *r = ll_graph_add(g2, "ReLU", "r", &err);
  g_assert_no_error(err);
  ll_block_connect(r, "x");
  g_assert_null(ll_optimizer_new(g2, &c, &err)); /* not compiled yet */
  g_assert_error(err, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE);
  g_assert_nonnull(strstr(err->message, "not compiled"));
  g_clear_error(&err);
  g_assert_true(ll_graph_compile(g2, ll_cpu_backend(), 2, &err));
  g_assert_null(ll_optimizer_new(g2, &c, &err));
  g_assert_error(err, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE);
  g_clear_error(&err);
  g_assert_cmpfloat(ll_clip_grad_norm(g2, 1.0f), ==, 0.0f);

  /* bad hyperparameters */
  g_autoptr(LlGraph) g3 = make_graph(2, 1, 0, NULL);
  LlOptimConfig bad = ll_optim_config_default(LL_OPT_SGD);
  bad.nesterov = TRUE;
  g_assert_null(ll_optimizer_new(g3, &bad, &err));
  g_assert_error(err, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE);
  g_assert_nonnull(strstr(err->message, "nesterov"));
  g_clear_error(&err);
  bad = ll_optim_config_default(LL_OPT_ADAM);
  bad.beta1 = 1.0;
  g_assert_false(ll_optim_config_validate(&bad, &err));
  g_assert_nonnull(strstr(err->message, "beta1"));
  g_clear_error(&err);
  bad = ll_optim_config_default(LL_OPT_RMSPROP);
  bad.lr = -1.0;
  g_assert_false(ll_optim_config_validate(&bad, &err));
  g_assert_nonnull(strstr(err->message, "lr"));
  g_clear_error(&err);
  bad.lr = NAN;
  g_assert_false(ll_optim_config_validate(&bad, &err));
  g_clear_error(&err);
}

static void test_names(void)
{
  GError *err = NULL;
  for (int k = LL_OPT_SGD; k <= LL_OPT_ADAGRAD; k++) {
    LlOptimKind back;
    g_assert_true(ll_optim_kind_from_name(ll_optim_kind_name(k), &back, &err));
    g_assert_cmpint(back, ==, k);
  }
  LlOptimKind ok;
  g_assert_true(ll_optim_kind_from_name("AdamW", &ok, &err));
  g_assert_cmpint(ok, ==, LL_OPT_ADAMW);
  g_assert_false(ll_optim_kind_from_name("lbfgs", &ok, &err));
  g_assert_nonnull(strstr(err->message, "rmsprop"));
  g_clear_error(&err);
  for (int k = LL_SCHED_CONSTANT; k <= LL_SCHED_ONE_CYCLE; k++) {
    LlScheduleKind back;
    g_assert_true(ll_schedule_kind_from_name(ll_schedule_kind_name(k), &back, &err));
    g_assert_cmpint(back, ==, k);
  }
  LlScheduleKind sk;
  g_assert_true(ll_schedule_kind_from_name("one-cycle", &sk, &err));
  g_assert_cmpint(sk, ==, LL_SCHED_ONE_CYCLE);
  g_assert_false(ll_schedule_kind_from_name("linear", &sk, &err));
  g_assert_nonnull(strstr(err->message, "cosine"));
  g_clear_error(&err);

  /* PyTorch's defaults */
  LlOptimConfig c = ll_optim_config_default(LL_OPT_ADAMW);
  g_assert_cmpfloat(c.weight_decay, ==, 1e-2);
  g_assert_cmpfloat(c.beta2, ==, 0.999);
  c = ll_optim_config_default(LL_OPT_ADAGRAD);
  g_assert_cmpfloat(c.eps, ==, 1e-10);
  g_assert_cmpfloat(c.lr, ==, 1e-2);
  c = ll_optim_config_default(LL_OPT_RMSPROP);
  g_assert_cmpfloat(c.alpha, ==, 0.99);
}

/* --- clipping --------------------------------------------------------------------------- */

static void test_clip(void)
{
  static const double G[3] = {3.0, 4.0, 12.0}; /* norm 13 */
  g_autoptr(LlGraph) g = make_graph(2, 1, 0, NULL);
  set3(g, TRUE, G);
  g_assert_cmpfloat_with_epsilon(ll_clip_grad_norm(g, 20.0f), 13.0f, 1e-5);
  for (int i = 0; i < 3; i++) /* below the limit: untouched */
    g_assert_cmpfloat(*elem(g, i, TRUE), ==, (float)G[i]);
  g_assert_cmpfloat_with_epsilon(ll_clip_grad_norm(g, 6.5f), 13.0f, 1e-5);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon(*elem(g, i, TRUE), G[i] * 6.5 / (13.0 + 1e-6), 1e-6);
  g_assert_cmpfloat_with_epsilon(ll_clip_grad_norm(g, 6.5f), 6.5f, 1e-5);

  /* through the optimizer: SGD with lr 1 moves by the clipped gradient */
  LlOptimConfig c = ll_optim_config_default(LL_OPT_SGD);
  c.clip_norm = 6.5;
  GError *err = NULL;
  g_autoptr(LlOptimizer) o = ll_optimizer_new(g, &c, &err);
  g_assert_no_error(err);
  g_assert_cmpfloat(ll_optimizer_last_grad_norm(o), ==, -1.0f);
  set3(g, FALSE, P0);
  set3(g, TRUE, G);
  ll_optimizer_step(o, 1.0f);
  g_assert_cmpfloat_with_epsilon(ll_optimizer_last_grad_norm(o), 13.0f, 1e-5);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon(*elem(g, i, FALSE), P0[i] - G[i] / 2.0, 1e-5);

  /* frozen blocks do not count */
  g_autoptr(LlGraph) g2 = make_graph(3, 4, 2, "a");
  fill_grads(g2, 100.0f);
  LlBlock *b = ll_graph_find(g2, "b");
  for (int k = 0; k < b->n_params; k++)
    for (size_t j = 0; j < ll_shape_size(&b->params[k].shape); j++)
      b->params[k].grad[j] = 0.5f;
  /* b: weight (2, 4) + bias (2) = 10 elements of 0.5: norm sqrt(2.5) */
  g_assert_cmpfloat_with_epsilon(ll_clip_grad_norm(g2, 100.0f), sqrtf(2.5f), 1e-5);
  g_assert_cmpfloat(ll_graph_find(g2, "a")->params[0].grad[0], ==, 100.0f);
}

/* --- state export and import ------------------------------------------------------------ */

static void check_resume(const LlOptimConfig *c, int n_state, const char *first_name)
{
  static const double *gs[3] = {G1, G2, P0};
  GError *err = NULL;
  /* uninterrupted: three steps */
  g_autoptr(LlGraph) ga = make_graph(2, 1, 0, NULL);
  g_autoptr(LlOptimizer) oa = ll_optimizer_new(ga, c, &err);
  g_assert_no_error(err);
  for (int s = 0; s < 3; s++) {
    set3(ga, TRUE, gs[s]);
    ll_optimizer_step(oa, 0.05f);
  }
  /* two steps, checkpoint, a fresh optimizer loads it and takes the third */
  g_autoptr(LlGraph) gb = make_graph(2, 1, 0, NULL);
  LlOptimizer *ob = ll_optimizer_new(gb, c, &err);
  g_assert_no_error(err);
  for (int s = 0; s < 2; s++) {
    set3(gb, TRUE, gs[s]);
    ll_optimizer_step(ob, 0.05f);
  }
  g_assert_cmpint(ll_optimizer_n_state(ob), ==, n_state);
  if (n_state)
    g_assert_cmpstr(ll_optimizer_state_name(ob, 0), ==, first_name);
  float *saved[2] = {NULL, NULL};
  for (int i = 0; i < n_state; i++) {
    saved[i] = g_new(float, gb->n_params);
    ll_optimizer_state_download(ob, i, saved[i]);
  }
  int64_t step = ll_optimizer_get_step(ob);
  g_assert_cmpint(step, ==, 2);
  ll_optimizer_free(ob);

  g_autoptr(LlOptimizer) oc = ll_optimizer_new(gb, c, &err);
  g_assert_no_error(err);
  for (int i = 0; i < n_state; i++) {
    ll_optimizer_state_upload(oc, i, saved[i]);
    g_free(saved[i]);
  }
  ll_optimizer_set_step(oc, step);
  set3(gb, TRUE, gs[2]);
  ll_optimizer_step(oc, 0.05f);
  g_assert_cmpmem(ga->params, ga->n_params * sizeof(float), gb->params,
                  gb->n_params * sizeof(float));
}

static void test_resume(void)
{
  LlOptimConfig c = ll_optim_config_default(LL_OPT_ADAM);
  check_resume(&c, 2, "exp_avg");
  c = ll_optim_config_default(LL_OPT_SGD);
  c.momentum = 0.9;
  check_resume(&c, 1, "momentum_buffer");
  c.momentum = 0.0;
  check_resume(&c, 0, NULL);
  c = ll_optim_config_default(LL_OPT_RMSPROP);
  c.momentum = 0.5;
  check_resume(&c, 2, "square_avg");
  c = ll_optim_config_default(LL_OPT_ADAGRAD);
  check_resume(&c, 1, "sum");
}

/* --- schedules -------------------------------------------------------------------------- */

#define LR_EQ(c, step, spe, total, want)                                                           \
  g_assert_cmpfloat_with_epsilon(ll_schedule_lr((c), 0.1, (step), (spe), (total)), (want),         \
                                 1e-12 + 1e-9 * fabs(want))

static void test_schedules(void)
{
  GError *err = NULL;
  LlScheduleConfig c = ll_schedule_config_default(LL_SCHED_CONSTANT);
  g_assert_true(ll_schedule_config_validate(&c, &err));
  LR_EQ(&c, 0, 10, 100, 0.1);
  LR_EQ(&c, 99, 10, 100, 0.1);

  /* StepLR(step_size 2, gamma 0.5), 10 batches per epoch */
  c = ll_schedule_config_default(LL_SCHED_STEP);
  c.step_size = 2;
  c.gamma = 0.5;
  g_assert_true(ll_schedule_config_validate(&c, &err));
  LR_EQ(&c, 0, 10, 100, 0.1);
  LR_EQ(&c, 19, 10, 100, 0.1);
  LR_EQ(&c, 20, 10, 100, 0.05);
  LR_EQ(&c, 39, 10, 100, 0.05);
  LR_EQ(&c, 40, 10, 100, 0.025);

  /* MultiStepLR(milestones [1, 3], gamma 0.1), 5 batches per epoch */
  c = ll_schedule_config_default(LL_SCHED_MULTISTEP);
  c.milestones[0] = 1;
  c.milestones[1] = 3;
  c.n_milestones = 2;
  g_assert_true(ll_schedule_config_validate(&c, &err));
  LR_EQ(&c, 4, 5, 100, 0.1);
  LR_EQ(&c, 5, 5, 100, 0.01);
  LR_EQ(&c, 14, 5, 100, 0.01);
  LR_EQ(&c, 15, 5, 100, 0.001);
  LR_EQ(&c, 500, 5, 100, 0.001);

  /* ExponentialLR(gamma 0.9), 3 batches per epoch */
  c = ll_schedule_config_default(LL_SCHED_EXPONENTIAL);
  c.gamma = 0.9;
  LR_EQ(&c, 2, 3, 100, 0.1);
  LR_EQ(&c, 3, 3, 100, 0.09);
  LR_EQ(&c, 7, 3, 100, 0.1 * 0.81);

  /* CosineAnnealingLR(T_max 100, eta_min 0.001), per step */
  c = ll_schedule_config_default(LL_SCHED_COSINE);
  c.min_lr = 0.001;
  LR_EQ(&c, 0, 7, 100, 0.1);
  LR_EQ(&c, 25, 7, 100, 0.001 + 0.099 * (1.0 + cos(M_PI / 4)) / 2);
  LR_EQ(&c, 50, 7, 100, 0.0505);
  LR_EQ(&c, 100, 7, 100, 0.001);
  LR_EQ(&c, 150, 7, 100, 0.001);

  /* OneCycleLR(max_lr 0.5, total 100): starts at 0.5 / 25, peaks at step
   * pct_start * 100 - 1 = 29, ends at 0.02 / 1e4 */
  c = ll_schedule_config_default(LL_SCHED_ONE_CYCLE);
  c.max_lr = 0.5;
  g_assert_true(ll_schedule_config_validate(&c, &err));
  LR_EQ(&c, 0, 10, 100, 0.02);
  LR_EQ(&c, 29, 10, 100, 0.5);
  LR_EQ(&c, 99, 10, 100, 2e-6);
  LR_EQ(&c, 120, 10, 100, 2e-6);
  double rise = 0.5 + (0.02 - 0.5) / 2 * (cos(M_PI * 10.0 / 29.0) + 1.0);
  LR_EQ(&c, 10, 10, 100, rise);
  double fall = 2e-6 + (0.5 - 2e-6) / 2 * (cos(M_PI * (60.0 - 29.0) / 70.0) + 1.0);
  LR_EQ(&c, 60, 10, 100, fall);
  /* PyTorch 1.13's OneCycleLR(max_lr=0.5, total_steps=100) at steps 10 and 60 */
  LR_EQ(&c, 10, 10, 100, 0.1475819742);
  LR_EQ(&c, 60, 10, 100, 0.2946400451);
  c.max_lr = 0.0; /* the base lr is the peak */
  LR_EQ(&c, 29, 10, 100, 0.1);
  LR_EQ(&c, 0, 10, 100, 0.1 / 25);

  /* linear warm-up from 0, on top of a schedule */
  c = ll_schedule_config_default(LL_SCHED_CONSTANT);
  c.warmup_steps = 10;
  LR_EQ(&c, 0, 10, 100, 0.0);
  LR_EQ(&c, 5, 10, 100, 0.05);
  LR_EQ(&c, 10, 10, 100, 0.1);
  c = ll_schedule_config_default(LL_SCHED_COSINE);
  c.warmup_steps = 10;
  LR_EQ(&c, 4, 10, 100, 0.4 * 0.1 * (1.0 + cos(M_PI * 4 / 100)) / 2);
  LR_EQ(&c, 50, 10, 100, 0.05);

  /* bad configurations */
  c = ll_schedule_config_default(LL_SCHED_MULTISTEP);
  c.milestones[0] = 5;
  c.milestones[1] = 3;
  c.n_milestones = 2;
  g_assert_false(ll_schedule_config_validate(&c, &err));
  g_assert_nonnull(strstr(err->message, "milestones"));
  g_clear_error(&err);
  c = ll_schedule_config_default(LL_SCHED_ONE_CYCLE);
  c.pct_start = 1.0;
  g_assert_false(ll_schedule_config_validate(&c, &err));
  g_assert_nonnull(strstr(err->message, "pct_start"));
  g_clear_error(&err);
  c = ll_schedule_config_default(LL_SCHED_STEP);
  c.step_size = 0;
  g_assert_false(ll_schedule_config_validate(&c, &err));
  g_clear_error(&err);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    g_test_add_data_func(cases[i].path, &cases[i], test_update);
  g_test_add_func("/engine/optim/torch-values", test_torch_values);
  g_test_add_func("/engine/optim/frozen", test_frozen);
  g_test_add_func("/engine/optim/errors", test_errors);
  g_test_add_func("/engine/optim/names", test_names);
  g_test_add_func("/engine/optim/clip", test_clip);
  g_test_add_func("/engine/optim/resume", test_resume);
  g_test_add_func("/engine/optim/schedules", test_schedules);
  return g_test_run();
}

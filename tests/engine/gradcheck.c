/* gradcheck.c: finite-difference checking of block backward passes. */
#include "gradcheck.h"

#include <math.h>
#include <string.h>

typedef struct {
  LlGraph *g;
  GPtrArray *heads;
  double **r; /* per head: random weights */
  LlRunCtx ctx;
} Check;

static double loss_of(Check *c)
{
  ll_graph_forward(c->g, &c->ctx);
  double l = 0.0;
  for (guint h = 0; h < c->heads->len; h++) {
    LlBlock *b = g_ptr_array_index(c->heads, h);
    size_t n = (size_t)c->ctx.batch * ll_block_out_size(b);
    for (size_t i = 0; i < n; i++)
      l += c->r[h][i] * (double)b->out[i];
  }
  return l;
}

static void check_tensor(Check *c, const char *what, float *x, const float *ana, size_t n,
                         const LlGradOpts *o, LlRng *rng)
{
  int max = o->max_checks ? o->max_checks : 40;
  int checks = n < (size_t)max ? (int)n : max;
  for (int k = 0; k < checks; k++) {
    size_t i = n <= (size_t)max ? (size_t)k : ll_rng_below(rng, n);
    float orig = x[i];
    /* the step actually taken: x +- eps rounded to float */
    x[i] = (float)(orig + o->eps);
    double xp = x[i], lp = loss_of(c);
    x[i] = (float)(orig - o->eps);
    double xm = x[i], lm = loss_of(c);
    x[i] = orig;
    double num = (lp - lm) / (xp - xm);
    double a = ana[i];
    if (fabs(num - a) > o->atol + o->rtol * fabs(num)) {
      g_test_message("%s[%zu]: numerical %.6g, analytical %.6g", what, i, num, a);
      g_test_fail();
      return;
    }
  }
}

void ll_gradcheck_graph(LlGraph *g, const LlGradOpts *o)
{
  GError *error = NULL;
  const LlBackend *be = o->be ? o->be : ll_ref_backend();
  g->grad_inputs = TRUE;
  if (!ll_graph_compile(g, be, o->batch, &error))
    g_error("compile: %s", error->message);
  LlRng rng;
  ll_rng_seed(&rng, 1234);
  ll_graph_init_params(g, &rng);
  /* Perturb params away from exact init patterns (e.g. BN's ones/zeros) */
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    for (int p = 0; p < b->n_params; p++) {
      if (!b->params[p].trainable)
        continue;
      size_t n = ll_shape_size(&b->params[p].shape);
      for (size_t j = 0; j < n; j++)
        b->params[p].data[j] += (float)(0.1 * ll_rng_normal(&rng));
    }
  }
  Check c = {.g = g, .heads = g_ptr_array_new()};
  c.ctx = (LlRunCtx){
      .be = be, .batch = o->batch, .training = o->training, .seed = 7, .step = 1};
  g_autoptr(GPtrArray) inputs = ll_graph_inputs(g);
  for (guint k = 0; k < inputs->len; k++) {
    LlBlock *in = g_ptr_array_index(inputs, k);
    size_t n = (size_t)o->batch * ll_block_out_size(in);
    for (size_t i = 0; i < n; i++) {
      if (k < LL_MAX_INPUTS && o->int_inputs[k] > 0) {
        in->out[i] = (float)ll_rng_below(&rng, (uint64_t)o->int_inputs[k]);
        continue;
      }
      double v;
      do
        v = ll_rng_normal(&rng);
      while (o->avoid_kinks && fabs(v) < 4 * o->eps);
      in->out[i] = (float)v;
    }
  }
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (b->n_consumers == 0 && b->desc->max_inputs > 0)
      g_ptr_array_add(c.heads, b);
  }
  g_assert_cmpuint(c.heads->len, >, 0);
  c.r = g_new0(double *, c.heads->len);
  for (guint h = 0; h < c.heads->len; h++) {
    LlBlock *b = g_ptr_array_index(c.heads, h);
    size_t n = (size_t)o->batch * ll_block_out_size(b);
    c.r[h] = g_new(double, n);
    for (size_t i = 0; i < n; i++)
      c.r[h][i] = ll_rng_normal(&rng);
  }

  /* analytical */
  loss_of(&c);
  ll_graph_zero_grads(g, &c.ctx);
  for (guint h = 0; h < c.heads->len; h++) {
    LlBlock *b = g_ptr_array_index(c.heads, h);
    size_t n = (size_t)o->batch * ll_block_out_size(b);
    for (size_t i = 0; i < n; i++)
      b->dout[i] = (float)c.r[h][i];
  }
  ll_graph_backward(g, &c.ctx);

  /* snapshot analytical gradients, since loss_of() reruns forward only */
  for (guint k = 0; k < inputs->len; k++) {
    LlBlock *in = g_ptr_array_index(inputs, k);
    if (k < LL_MAX_INPUTS && o->int_inputs[k] > 0)
      continue;
    size_t n = (size_t)o->batch * ll_block_out_size(in);
    g_autofree float *ana = g_memdup2(in->dout, n * sizeof(float));
    g_autofree char *what = g_strdup_printf("d%s", in->name);
    check_tensor(&c, what, in->out, ana, n, o, &rng);
  }
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    for (int p = 0; p < b->n_params; p++) {
      LlParam *prm = &b->params[p];
      if (!prm->trainable)
        continue;
      size_t n = ll_shape_size(&prm->shape);
      g_autofree float *ana = g_memdup2(prm->grad, n * sizeof(float));
      g_autofree char *what = g_strdup_printf("d%s.%s", b->name, prm->name);
      check_tensor(&c, what, prm->data, ana, n, o, &rng);
    }
  }
  for (guint h = 0; h < c.heads->len; h++)
    g_free(c.r[h]);
  g_free(c.r);
  g_ptr_array_unref(c.heads);
}

void ll_gradcheck_block(const char *type, const char *props, int n_in, const LlShape *in,
                        const LlGradOpts *opts)
{
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  for (int k = 0; k < n_in; k++) {
    char name[16], buf[64];
    g_snprintf(name, sizeof name, "x%d", k);
    LlBlock *x = ll_graph_add(g, "Input", name, &error);
    g_assert_no_error(error);
    ll_block_set_prop_string(x, "shape", ll_shape_format(&in[k], buf, sizeof buf), &error);
    g_assert_no_error(error);
  }
  LlBlock *b = ll_graph_add(g, type, "b", &error);
  g_assert_no_error(error);
  for (int k = 0; k < n_in; k++) {
    char name[16];
    g_snprintf(name, sizeof name, "x%d", k);
    ll_block_connect(b, name);
  }
  if (props && *props) {
    g_auto(GStrv) kv = g_strsplit(props, ";", -1);
    for (int i = 0; kv[i]; i++) {
      g_auto(GStrv) p = g_strsplit(kv[i], "=", 2);
      g_assert_nonnull(p[1]);
      ll_block_set_prop_string(b, p[0], p[1], &error);
      g_assert_no_error(error);
    }
  }
  if (!ll_graph_infer(g, &error))
    g_error("%s: %s", type, error->message);
  ll_gradcheck_graph(g, opts);
}

/* Gradient checks, reference forward passes and a learning test of the
 * sequence blocks: RNN, LSTM, GRU and Embedding. */
#include "gradcheck.h"

#include <math.h>
#include <string.h>

/* Odd sizes: T = 6 steps, F = 3 features, H = 5 units, batch 3 */
#define SEQ_T 6
#define SEQ_F 3

static void check_recurrent(const char *type, const char *props)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  o.avoid_kinks = TRUE;
  g_test_message("%s %s", type, props);
  ll_gradcheck_block(type, props, 1, (LlShape[]){SHAPE(SEQ_T, SEQ_F)}, &o);
}

static void test_rnn_grad(void)
{
  check_recurrent("RNN", "hidden_size=5;return_sequences=false");
  check_recurrent("RNN", "hidden_size=5;return_sequences=true");
  check_recurrent("RNN", "hidden_size=5;return_sequences=true;nonlinearity=relu");
  check_recurrent("RNN", "hidden_size=5;return_sequences=false;nonlinearity=relu;bias=false");
}

static void test_lstm_grad(void)
{
  check_recurrent("LSTM", "hidden_size=5;return_sequences=false");
  check_recurrent("LSTM", "hidden_size=5;return_sequences=true");
  check_recurrent("LSTM", "hidden_size=4;return_sequences=true;bias=false;init=xavier");
}

static void test_gru_grad(void)
{
  check_recurrent("GRU", "hidden_size=5;return_sequences=false");
  check_recurrent("GRU", "hidden_size=5;return_sequences=true");
  check_recurrent("GRU", "hidden_size=4;return_sequences=false;bias=false");
}

static void test_embedding_grad(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  o.int_inputs[0] = 11;
  ll_gradcheck_block("Embedding", "num_embeddings=11;embedding_dim=4", 1, (LlShape[]){SHAPE(7)},
                     &o);
  ll_gradcheck_block("Embedding", "num_embeddings=11;embedding_dim=3", 1, (LlShape[]){SHAPE(2, 5)},
                     &o);
}

/* --- reference forward passes ----------------------------------------------------------- */

static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }

/* pre(rows) = W(rows, k) v(k) + (bias ? b : 0) */
static void matvec(const float *w, const double *v, int rows, int k, const float *b, double *out)
{
  for (int r = 0; r < rows; r++) {
    double s = b ? b[r] : 0.0;
    for (int j = 0; j < k; j++)
      s += (double)w[(size_t)r * k + j] * v[j];
    out[r] = s;
  }
}

/* Runs one sample through the PyTorch equations in double; y(T, H). */
static void reference(const char *type, gboolean relu, LlBlock *b, const float *x, int t, int f,
                      int h, double *y)
{
  const float *w_ih = ll_block_param(b, "weight_ih")->data;
  const float *w_hh = ll_block_param(b, "weight_hh")->data;
  LlParam *pb_ih = ll_block_param(b, "bias_ih"), *pb_hh = ll_block_param(b, "bias_hh");
  const float *b_ih = pb_ih ? pb_ih->data : NULL, *b_hh = pb_hh ? pb_hh->data : NULL;
  int g = !strcmp(type, "LSTM") ? 4 : !strcmp(type, "GRU") ? 3 : 1;
  g_autofree double *hs = g_new0(double, h), *cs = g_new0(double, h), *xv = g_new(double, f);
  g_autofree double *xi = g_new(double, g *h), *hh = g_new(double, g *h);
  for (int s = 0; s < t; s++) {
    for (int j = 0; j < f; j++)
      xv[j] = x[s * f + j];
    matvec(w_ih, xv, g * h, f, b_ih, xi);
    matvec(w_hh, hs, g * h, h, b_hh, hh);
    for (int j = 0; j < h; j++) {
      if (g == 1) {
        double p = xi[j] + hh[j];
        hs[j] = relu ? (p > 0 ? p : 0) : tanh(p);
      } else if (g == 4) {
        double i = sig(xi[j] + hh[j]), fg = sig(xi[h + j] + hh[h + j]);
        double gg = tanh(xi[2 * h + j] + hh[2 * h + j]), o = sig(xi[3 * h + j] + hh[3 * h + j]);
        cs[j] = fg * cs[j] + i * gg;
        hs[j] = o * tanh(cs[j]);
      } else {
        double r = sig(xi[j] + hh[j]), z = sig(xi[h + j] + hh[h + j]);
        double n = tanh(xi[2 * h + j] + r * hh[2 * h + j]);
        hs[j] = (1 - z) * n + z * hs[j];
      }
    }
    memcpy(y + (size_t)s * h, hs, (size_t)h * sizeof *y);
  }
}

typedef struct {
  const char *type, *props;
  gboolean relu;
} RefCase;

static void check_reference(gconstpointer data)
{
  const RefCase *rc = data;
  const int t = 7, f = 4, h = 6, batch = 3;
  for (int seq = 0; seq < 2; seq++) {
    GError *error = NULL;
    g_autoptr(LlGraph) g = ll_graph_new();
    LlBlock *in = ll_graph_add(g, "Input", "x", &error);
    g_assert_no_error(error);
    ll_block_set_prop_string(in, "shape", "7,4", &error);
    g_assert_no_error(error);
    LlBlock *b = ll_graph_add(g, rc->type, "rec", &error);
    g_assert_no_error(error);
    ll_block_connect(b, "x");
    g_auto(GStrv) kv = g_strsplit(rc->props, ";", -1);
    for (int i = 0; kv[i]; i++) {
      g_auto(GStrv) p = g_strsplit(kv[i], "=", 2);
      ll_block_set_prop_string(b, p[0], p[1], &error);
      g_assert_no_error(error);
    }
    ll_block_set_prop_string(b, "hidden_size", "6", &error);
    ll_block_set_prop_string(b, "return_sequences", seq ? "true" : "false", &error);
    g_assert_no_error(error);
    g_assert_true(ll_graph_compile(g, ll_cpu_backend(), batch, &error));
    g_assert_no_error(error);
    int gates = !strcmp(rc->type, "LSTM") ? 4 : !strcmp(rc->type, "GRU") ? 3 : 1;
    LlParam *w_ih = ll_block_param(b, "weight_ih");
    g_assert_nonnull(w_ih);
    g_assert_cmpint(w_ih->shape.d[0], ==, gates * h);
    g_assert_cmpint(w_ih->shape.d[1], ==, f);
    g_assert_cmpint(ll_block_param(b, "weight_hh")->shape.d[1], ==, h);
    LlRng rng;
    ll_rng_seed(&rng, 99);
    ll_graph_init_params(g, &rng);
    /* PyTorch's init: every recurrent weight within 1/sqrt(H) */
    for (size_t i = 0; i < ll_shape_size(&w_ih->shape); i++)
      g_assert_cmpfloat(fabsf(w_ih->data[i]), <=, 1.0 / sqrt(h) + 1e-6);
    for (int i = 0; i < batch * t * f; i++)
      in->out[i] = (float)ll_rng_normal(&rng);
    LlRunCtx ctx = {.be = ll_cpu_backend(), .batch = batch, .training = TRUE};
    ll_graph_forward(g, &ctx);
    g_autofree double *ref = g_new(double, t *h);
    for (int n = 0; n < batch; n++) {
      reference(rc->type, rc->relu, b, in->out + (size_t)n * t * f, t, f, h, ref);
      for (int s = seq ? 0 : t - 1; s < t; s++)
        for (int j = 0; j < h; j++) {
          float got = seq ? b->out[((size_t)n * t + s) * h + j] : b->out[(size_t)n * h + j];
          g_assert_cmpfloat_with_epsilon(got, ref[s * h + j], 1e-5);
        }
    }
  }
}

/* --- errors and edge cases -------------------------------------------------------------- */

static void test_shape_error(void)
{
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  LlBlock *in = ll_graph_add(g, "Input", "x", &error);
  ll_block_set_prop_string(in, "shape", "1,8,8", &error);
  g_assert_no_error(error);
  LlBlock *b = ll_graph_add(g, "LSTM", "lstm1", &error);
  ll_block_connect(b, "x");
  g_assert_false(ll_graph_infer(g, &error));
  g_assert_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_SHAPE);
  g_assert_nonnull(strstr(error->message, "lstm1"));
  g_assert_nonnull(strstr(error->message, "(T, F)"));
  g_clear_error(&error);
  g_assert_false(ll_block_set_prop_string(b, "nonlinearity", "relu", &error));
  g_clear_error(&error);
  LlBlock *r = ll_graph_add(g, "RNN", "rnn1", &error);
  g_assert_false(ll_block_set_prop_string(r, "nonlinearity", "sigmoid", &error));
  g_assert_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE);
  g_clear_error(&error);
}

static void test_embedding_out_of_range(void)
{
  const int vocab = 4, dim = 3;
  float table[12], out[6 * 3], dtable[12] = {0}, dout[6 * 3];
  for (int i = 0; i < 12; i++)
    table[i] = (float)i;
  for (int i = 0; i < 18; i++)
    dout[i] = 1.0f;
  const float idx[6] = {-3.0f, 2.0f, 1e9f, NAN, 3.0f, 0.9999f};
  const int row[6] = {0, 2, 3, 0, 3, 1};
  const LlBackend *be = ll_cpu_backend();
  be->embedding_forward(table, idx, out, 6, vocab, dim);
  be->embedding_backward(idx, dout, dtable, 6, vocab, dim);
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < dim; j++)
      g_assert_cmpfloat(out[i * dim + j], ==, table[row[i] * dim + j]);
  const float hits[4] = {2, 1, 1, 2};
  for (int r = 0; r < vocab; r++)
    for (int j = 0; j < dim; j++)
      g_assert_cmpfloat(dtable[r * dim + j], ==, hits[r]);
}

/* PyTorch draws embeddings from N(0, 1) */
static void test_embedding_init(void)
{
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  LlBlock *in = ll_graph_add(g, "Input", "x", &error);
  ll_block_set_prop_string(in, "shape", "5", &error);
  LlBlock *e = ll_graph_add(g, "Embedding", "emb", &error);
  ll_block_connect(e, "x");
  ll_block_set_prop_string(e, "num_embeddings", "1000", &error);
  ll_block_set_prop_string(e, "embedding_dim", "16", &error);
  g_assert_no_error(error);
  g_assert_true(ll_graph_compile(g, ll_cpu_backend(), 2, &error));
  g_assert_cmpint(e->out_shape.rank, ==, 2);
  g_assert_cmpint(e->out_shape.d[1], ==, 16);
  LlRng rng;
  ll_rng_seed(&rng, 3);
  ll_graph_init_params(g, &rng);
  const float *w = ll_block_param(e, "weight")->data;
  double s = 0, s2 = 0;
  for (int i = 0; i < 16000; i++) {
    s += w[i];
    s2 += (double)w[i] * w[i];
  }
  double mean = s / 16000, sd = sqrt(s2 / 16000 - mean * mean);
  g_assert_cmpfloat(fabs(mean), <, 0.05);
  g_assert_cmpfloat(fabs(sd - 1.0), <, 0.05);
}

/* --- learning -------------------------------------------------------------------------- */

/* Does symbol 0 occur in a sequence of one-hot symbols (T = 8, 3 symbols)?
 * Half the sequences hold it once, at a random step; the rest are symbols 1
 * and 2. An LSTM and a Linear head trained with plain SGD must learn it. */
static void test_lstm_learns(void)
{
  enum { T = 8, F = 3, N = 32, STEPS = 600 };
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  LlBlock *in = ll_graph_add(g, "Input", "x", &error);
  ll_block_set_prop_string(in, "shape", "8,3", &error);
  LlBlock *lstm = ll_graph_add(g, "LSTM", "lstm", &error);
  ll_block_connect(lstm, "x");
  ll_block_set_prop_string(lstm, "hidden_size", "12", &error);
  LlBlock *head = ll_graph_add(g, "Linear", "head", &error);
  ll_block_connect(head, "lstm");
  ll_block_set_prop_string(head, "out_features", "2", &error);
  g_assert_no_error(error);
  g_assert_true(ll_graph_compile(g, ll_cpu_backend(), N, &error));
  LlRng rng;
  ll_rng_seed(&rng, 5);
  ll_graph_init_params(g, &rng);
  LlRunCtx ctx = {.be = ll_cpu_backend(), .batch = N, .training = TRUE};
  float target[N], pred[N];
  double first = 0, last = 0;
  int correct = 0;
  const float lr = 0.5f;
  for (int step = 0; step < STEPS; step++) {
    memset(in->out, 0, sizeof(float) * N * T * F);
    for (int n = 0; n < N; n++) {
      target[n] = (float)ll_rng_below(&rng, 2);
      int at = target[n] > 0 ? (int)ll_rng_below(&rng, T) : -1;
      for (int s = 0; s < T; s++) {
        int sym = s == at ? 0 : 1 + (int)ll_rng_below(&rng, 2);
        in->out[((size_t)n * T + s) * F + sym] = 1.0f;
      }
    }
    ll_graph_forward(g, &ctx);
    ll_graph_zero_grads(g, &ctx);
    float loss;
    ctx.be->cross_entropy(head->out, target, N, 2, 0.0f, 1.0f, &loss, head->dout);
    ll_graph_backward(g, &ctx);
    for (size_t i = 0; i < g->n_params; i++)
      g->params[i] -= lr * g->grads[i];
    g_assert_true(isfinite(loss));
    if (step < 20)
      first += loss / 20;
    if (step >= STEPS - 20) {
      last += loss / 20;
      ctx.be->argmax_rows(head->out, N, 2, pred);
      for (int n = 0; n < N; n++)
        correct += pred[n] == target[n];
    }
  }
  double acc = correct / (20.0 * N);
  g_test_message("loss %.4f -> %.4f, accuracy %.3f", first, last, acc);
  g_assert_cmpfloat(first, >, 0.6);
  g_assert_cmpfloat(last, <, 0.25 * first);
  g_assert_cmpfloat(acc, >, 0.9);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/blocks/rnn/grad", test_rnn_grad);
  g_test_add_func("/engine/blocks/lstm/grad", test_lstm_grad);
  g_test_add_func("/engine/blocks/gru/grad", test_gru_grad);
  g_test_add_func("/engine/blocks/embedding/grad", test_embedding_grad);
  static const RefCase refs[] = {
      {"RNN", "nonlinearity=tanh", FALSE}, {"RNN", "nonlinearity=relu", TRUE},
      {"LSTM", "bias=true", FALSE},        {"GRU", "bias=true", FALSE},
      {"GRU", "bias=false", FALSE},
  };
  static const char *const ref_paths[] = {
      "/engine/blocks/rnn/reference-tanh", "/engine/blocks/rnn/reference-relu",
      "/engine/blocks/lstm/reference", "/engine/blocks/gru/reference",
      "/engine/blocks/gru/reference-nobias"};
  for (guint i = 0; i < G_N_ELEMENTS(refs); i++)
    g_test_add_data_func(ref_paths[i], &refs[i], check_reference);
  g_test_add_func("/engine/blocks/recurrent/errors", test_shape_error);
  g_test_add_func("/engine/blocks/embedding/init", test_embedding_init);
  g_test_add_func("/kernels/cpu/embedding/out-of-range", test_embedding_out_of_range);
  g_test_add_func("/engine/blocks/lstm/learns", test_lstm_learns);
  return g_test_run();
}

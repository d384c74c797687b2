/* RNN: an Elman recurrent layer over a batch-first sequence, like
 * torch.nn.RNN(batch_first=True) with one layer, h0 = 0.
 * x (N, T, F) -> y (N, T, H) with return_sequences, else (N, H).
 *   h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),  act = tanh or relu
 *
 * Saved state, time-major (see recurrent.h), for the step's batch N:
 *   xt   (T, N, F)      the input; reused for dx in backward
 *   pre  (T, N, H)      preactivations
 *   dpre (T, N, H)      their gradients (backward)
 *   hs   (T + 1, N, H)  hidden states, hs[0] = h0 = 0
 *   dh   (N, H)         backward's running gradient */
#include "recurrent.h"

enum { P_NONLIN = LL_RNN_N_COMMON };

static const char *const nonlin_choices[] = {"tanh", "relu", NULL};

static const LlPropDesc props[] = {
    LL_RNN_COMMON_PROPS,
    [P_NONLIN] = {"nonlinearity", LL_PROP_CHOICE, "activation of the hidden state", 0,
                  .choices = nonlin_choices},
};

typedef struct {
  float *xt, *pre, *dpre, *hs, *dh;
} RnnSaved;

static RnnSaved rnn_saved(const LlBlock *b, const LlSeqDims *d)
{
  size_t n = (size_t)d->n, nh = n * d->h, tnh = (size_t)d->t * nh;
  RnnSaved s;
  s.xt = b->saved;
  s.pre = s.xt + (size_t)d->t * n * d->f;
  s.dpre = s.pre + tnh;
  s.hs = s.dpre + tnh;
  s.dh = s.hs + tnh + nh;
  return s;
}

static LlActivation rnn_act(const LlBlock *b)
{
  return LL_PROP_C(b, P_NONLIN) == 1 ? LL_ACT_RELU : LL_ACT_TANH;
}

static gboolean rnn_infer(LlBlock *b, GError **error)
{
  if (!ll_recurrent_infer(b, 1, error))
    return FALSE;
  size_t t = (size_t)b->in_shape[0].d[0], f = (size_t)b->in_shape[0].d[1];
  size_t h = (size_t)LL_PROP_I(b, LL_RNN_P_HIDDEN);
  b->saved_per_sample = t * f + 3 * t * h + 2 * h;
  b->flops = (int64_t)(t * (2 * h * (f + h) + 3 * h));
  return TRUE;
}

static void rnn_forward(LlBlock *b, const LlRunCtx *ctx)
{
  const LlBackend *be = ctx->be;
  LlSeqDims d = ll_seq_dims(b, ctx);
  RnnSaved s = rnn_saved(b, &d);
  size_t nh = (size_t)d.n * d.h;
  LlParam *p = b->params;

  ll_seq_to_time_major(be, b->inputs[0]->out, s.xt, d.n, d.t, d.f);
  be->gemm(false, true, d.t * d.n, d.h, d.f, 1.0f, s.xt, d.f, p[LL_RNN_W_IH].data, d.f, 0.0f, s.pre,
           d.h);
  if (b->n_params > LL_RNN_B_HH) {
    be->bias_add(s.pre, p[LL_RNN_B_IH].data, d.t * d.n, d.h, 1);
    be->bias_add(s.pre, p[LL_RNN_B_HH].data, d.t * d.n, d.h, 1);
  }
  be->fill(s.hs, 0.0f, nh);
  for (int t = 0; t < d.t; t++) {
    float *pt = s.pre + t * nh;
    be->gemm(false, true, d.n, d.h, d.h, 1.0f, s.hs + t * nh, d.h, p[LL_RNN_W_HH].data, d.h, 1.0f,
             pt, d.h);
    be->act_forward(rnn_act(b), 0.0f, pt, s.hs + (t + 1) * nh, nh);
  }
  ll_recurrent_output(b, ctx, s.hs);
}

static void rnn_backward(LlBlock *b, const LlRunCtx *ctx)
{
  const LlBackend *be = ctx->be;
  LlSeqDims d = ll_seq_dims(b, ctx);
  RnnSaved s = rnn_saved(b, &d);
  size_t nh = (size_t)d.n * d.h;
  const float *w_hh = b->params[LL_RNN_W_HH].data;

  be->fill(s.dpre, 0.0f, (size_t)d.t * nh); /* act_backward accumulates */
  be->fill(s.dh, 0.0f, nh);
  for (int t = d.t - 1; t >= 0; t--) {
    float *dpt = s.dpre + t * nh;
    ll_recurrent_dout_step(b, ctx, t, s.dh);
    be->act_backward(rnn_act(b), 0.0f, s.pre + t * nh, s.hs + (t + 1) * nh, s.dh, dpt, nh);
    if (t > 0) /* dh_{t-1} = dpre_t W_hh */
      be->gemm(false, false, d.n, d.h, d.h, 1.0f, dpt, d.h, w_hh, d.h, 0.0f, s.dh, d.h);
  }
  ll_recurrent_backward_params(b, ctx, 1, s.dpre, s.dpre, s.hs, s.xt);
}

const LlBlockDesc ll_block_rnn = {
    .type = "RNN",
    .category = "Recurrent",
    .help = "Elman recurrent layer (tanh or relu) over a (T, F) sequence, as torch.nn.RNN.",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = rnn_infer,
    .forward = rnn_forward,
    .backward = rnn_backward,
};

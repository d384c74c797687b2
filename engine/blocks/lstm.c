/* LSTM: a long short-term memory layer over a batch-first sequence, like
 * torch.nn.LSTM(batch_first=True) with one layer, h0 = c0 = 0.
 * x (N, T, F) -> y (N, T, H) with return_sequences, else (N, H), the last
 * step. Gates in PyTorch's order [i f g o]:
 *   pre = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh       (N, 4H)
 *   c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)
 *
 * Saved state, time-major (see recurrent.h), for the step's batch N:
 *   xt    (T, N, F)      the input; reused for dx in backward
 *   gates (T, N, 4H)     activated gates; backward overwrites them with the
 *                        preactivation gradients (so backward runs once per
 *                        forward, as the graph does)
 *   hs    (T + 1, N, H)  hidden states, hs[0] = h0 = 0
 *   cs    (T + 1, N, H)  cell states, cs[0] = c0 = 0
 *   dh, dc, dc_prev (N, H) each: backward's running gradients */
#include "recurrent.h"

static const LlPropDesc props[] = {LL_RNN_COMMON_PROPS};

typedef struct {
  float *xt, *gates, *hs, *cs, *dh, *dc, *dc_prev;
} LstmSaved;

static LstmSaved lstm_saved(const LlBlock *b, const LlSeqDims *d)
{
  size_t n = (size_t)d->n, nh = n * d->h;
  LstmSaved s;
  s.xt = b->saved;
  s.gates = s.xt + (size_t)d->t * n * d->f;
  s.hs = s.gates + (size_t)d->t * 4 * nh;
  s.cs = s.hs + (size_t)(d->t + 1) * nh;
  s.dh = s.cs + (size_t)(d->t + 1) * nh;
  s.dc = s.dh + nh;
  s.dc_prev = s.dc + nh;
  return s;
}

static gboolean lstm_infer(LlBlock *b, GError **error)
{
  if (!ll_recurrent_infer(b, 4, error))
    return FALSE;
  size_t t = (size_t)b->in_shape[0].d[0], f = (size_t)b->in_shape[0].d[1];
  size_t h = (size_t)LL_PROP_I(b, LL_RNN_P_HIDDEN);
  b->saved_per_sample = t * f + t * 4 * h + 2 * (t + 1) * h + 3 * h;
  /* two GEMMs per step plus about 10 element-wise operations per unit */
  b->flops = (int64_t)(t * (2 * 4 * h * (f + h) + 10 * h));
  return TRUE;
}

static void lstm_forward(LlBlock *b, const LlRunCtx *ctx)
{
  const LlBackend *be = ctx->be;
  LlSeqDims d = ll_seq_dims(b, ctx);
  LstmSaved s = lstm_saved(b, &d);
  int g = 4 * d.h;
  size_t nh = (size_t)d.n * d.h, ng = (size_t)d.n * g;
  LlParam *p = b->params;

  ll_seq_to_time_major(be, b->inputs[0]->out, s.xt, d.n, d.t, d.f);
  /* every step's input projection in one GEMM: (T*N, F) x (F, 4H) */
  be->gemm(false, true, d.t * d.n, g, d.f, 1.0f, s.xt, d.f, p[LL_RNN_W_IH].data, d.f, 0.0f, s.gates,
           g);
  if (b->n_params > LL_RNN_B_HH) {
    be->bias_add(s.gates, p[LL_RNN_B_IH].data, d.t * d.n, g, 1);
    be->bias_add(s.gates, p[LL_RNN_B_HH].data, d.t * d.n, g, 1);
  }
  be->fill(s.hs, 0.0f, nh);
  be->fill(s.cs, 0.0f, nh);
  for (int t = 0; t < d.t; t++) {
    float *gt = s.gates + t * ng;
    be->gemm(false, true, d.n, g, d.h, 1.0f, s.hs + t * nh, d.h, p[LL_RNN_W_HH].data, d.h, 1.0f, gt,
             g);
    be->lstm_cell_forward(gt, s.cs + t * nh, s.cs + (t + 1) * nh, s.hs + (t + 1) * nh, d.n, d.h);
  }
  ll_recurrent_output(b, ctx, s.hs);
}

static void lstm_backward(LlBlock *b, const LlRunCtx *ctx)
{
  const LlBackend *be = ctx->be;
  LlSeqDims d = ll_seq_dims(b, ctx);
  LstmSaved s = lstm_saved(b, &d);
  int g = 4 * d.h;
  size_t nh = (size_t)d.n * d.h, ng = (size_t)d.n * g;
  const float *w_hh = b->params[LL_RNN_W_HH].data;

  be->fill(s.dh, 0.0f, nh);
  be->fill(s.dc, 0.0f, nh);
  for (int t = d.t - 1; t >= 0; t--) {
    float *gt = s.gates + t * ng; /* activated gates in, dgates out */
    ll_recurrent_dout_step(b, ctx, t, s.dh);
    be->fill(s.dc_prev, 0.0f, nh);
    be->lstm_cell_backward(gt, s.cs + t * nh, s.cs + (t + 1) * nh, s.dh, s.dc, gt, s.dc_prev, d.n,
                           d.h);
    if (t > 0) /* dh_{t-1} = dgates_t W_hh */
      be->gemm(false, false, d.n, d.h, g, 1.0f, gt, g, w_hh, d.h, 0.0f, s.dh, d.h);
    float *tmp = s.dc;
    s.dc = s.dc_prev;
    s.dc_prev = tmp;
  }
  /* both preactivation sums see the same gradient */
  ll_recurrent_backward_params(b, ctx, 4, s.gates, s.gates, s.hs, s.xt);
}

const LlBlockDesc ll_block_lstm = {
    .type = "LSTM",
    .category = "Recurrent",
    .help = "Long short-term memory layer over a (T, F) sequence, as torch.nn.LSTM.",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = lstm_infer,
    .forward = lstm_forward,
    .backward = lstm_backward,
};

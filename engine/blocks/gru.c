/* GRU: a gated recurrent unit layer over a batch-first sequence, like
 * torch.nn.GRU(batch_first=True) with one layer, h0 = 0.
 * x (N, T, F) -> y (N, T, H) with return_sequences, else (N, H). Gates in
 * PyTorch's order [r z n]:
 *   xg = x_t W_ih^T + b_ih,  hg = h_{t-1} W_hh^T + b_hh     (N, 3H)
 *   r = s(xg_r + hg_r),  z = s(xg_z + hg_z)
 *   n = tanh(xg_n + r * hg_n),  h_t = (1 - z) * n + z * h_{t-1}
 *
 * Saved state, time-major (see recurrent.h), for the step's batch N:
 *   xt  (T, N, F)      the input; reused for dx in backward
 *   xg  (T, N, 3H)     input projections; backward writes dxg over them
 *   hg  (T, N, 3H)     recurrent projections; backward writes dhg over them
 *   act (T, N, 4H)     r, z, n and hg_n of every step
 *   hs  (T + 1, N, H)  hidden states, hs[0] = h0 = 0
 *   dh, dh_prev (N, H) each: backward's running gradients */
#include "recurrent.h"

static const LlPropDesc props[] = {LL_RNN_COMMON_PROPS};

typedef struct {
  float *xt, *xg, *hg, *act, *hs, *dh, *dh_prev;
} GruSaved;

static GruSaved gru_saved(const LlBlock *b, const LlSeqDims *d)
{
  size_t n = (size_t)d->n, nh = n * d->h, tnh = (size_t)d->t * nh;
  GruSaved s;
  s.xt = b->saved;
  s.xg = s.xt + (size_t)d->t * n * d->f;
  s.hg = s.xg + 3 * tnh;
  s.act = s.hg + 3 * tnh;
  s.hs = s.act + 4 * tnh;
  s.dh = s.hs + tnh + nh;
  s.dh_prev = s.dh + nh;
  return s;
}

static gboolean gru_infer(LlBlock *b, GError **error)
{
  if (!ll_recurrent_infer(b, 3, error))
    return FALSE;
  size_t t = (size_t)b->in_shape[0].d[0], f = (size_t)b->in_shape[0].d[1];
  size_t h = (size_t)LL_PROP_I(b, LL_RNN_P_HIDDEN);
  b->saved_per_sample = t * f + t * 10 * h + (t + 1) * h + 2 * h;
  b->flops = (int64_t)(t * (2 * 3 * h * (f + h) + 12 * h));
  return TRUE;
}

static void gru_forward(LlBlock *b, const LlRunCtx *ctx)
{
  const LlBackend *be = ctx->be;
  LlSeqDims d = ll_seq_dims(b, ctx);
  GruSaved s = gru_saved(b, &d);
  int g = 3 * d.h;
  size_t nh = (size_t)d.n * d.h, ng = (size_t)d.n * g;
  LlParam *p = b->params;
  gboolean bias = b->n_params > LL_RNN_B_HH;

  ll_seq_to_time_major(be, b->inputs[0]->out, s.xt, d.n, d.t, d.f);
  be->gemm(false, true, d.t * d.n, g, d.f, 1.0f, s.xt, d.f, p[LL_RNN_W_IH].data, d.f, 0.0f, s.xg,
           g);
  if (bias)
    be->bias_add(s.xg, p[LL_RNN_B_IH].data, d.t * d.n, g, 1);
  be->fill(s.hs, 0.0f, nh);
  for (int t = 0; t < d.t; t++) {
    float *hgt = s.hg + t * ng;
    /* hg_n stays separate from xg_n (r multiplies it), so the recurrent
     * product cannot accumulate into xg as the LSTM's does */
    be->gemm(false, true, d.n, g, d.h, 1.0f, s.hs + t * nh, d.h, p[LL_RNN_W_HH].data, d.h, 0.0f,
             hgt, g);
    if (bias)
      be->bias_add(hgt, p[LL_RNN_B_HH].data, d.n, g, 1);
    be->gru_cell_forward(s.xg + t * ng, hgt, s.hs + t * nh, s.hs + (t + 1) * nh, s.act + t * 4 * nh,
                         d.n, d.h);
  }
  ll_recurrent_output(b, ctx, s.hs);
}

static void gru_backward(LlBlock *b, const LlRunCtx *ctx)
{
  const LlBackend *be = ctx->be;
  LlSeqDims d = ll_seq_dims(b, ctx);
  GruSaved s = gru_saved(b, &d);
  int g = 3 * d.h;
  size_t nh = (size_t)d.n * d.h, ng = (size_t)d.n * g;
  const float *w_hh = b->params[LL_RNN_W_HH].data;

  be->fill(s.dh, 0.0f, nh);
  for (int t = d.t - 1; t >= 0; t--) {
    ll_recurrent_dout_step(b, ctx, t, s.dh);
    be->fill(s.dh_prev, 0.0f, nh);
    float *dhgt = s.hg + t * ng;
    be->gru_cell_backward(s.act + t * 4 * nh, s.hs + t * nh, s.dh, s.xg + t * ng, dhgt, s.dh_prev,
                          d.n, d.h);
    if (t > 0) /* dh_{t-1} += dhg_t W_hh */
      be->gemm(false, false, d.n, d.h, g, 1.0f, dhgt, g, w_hh, d.h, 1.0f, s.dh_prev, d.h);
    float *tmp = s.dh;
    s.dh = s.dh_prev;
    s.dh_prev = tmp;
  }
  ll_recurrent_backward_params(b, ctx, 3, s.xg, s.hg, s.hs, s.xt);
}

const LlBlockDesc ll_block_gru = {
    .type = "GRU",
    .category = "Recurrent",
    .help = "Gated recurrent unit layer over a (T, F) sequence, as torch.nn.GRU.",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = gru_infer,
    .forward = gru_forward,
    .backward = gru_backward,
};

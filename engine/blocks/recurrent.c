/* recurrent.c: shape inference, layout changes and the weight-gradient
 * products shared by the RNN, LSTM and GRU blocks. */
#include "recurrent.h"

LlSeqDims ll_seq_dims(const LlBlock *b, const LlRunCtx *ctx)
{
  return (LlSeqDims){.n = ctx->batch,
                     .t = b->in_shape[0].d[0],
                     .f = b->in_shape[0].d[1],
                     .h = LL_PROP_I(b, LL_RNN_P_HIDDEN),
                     .seq = LL_PROP_B(b, LL_RNN_P_RETSEQ)};
}

gboolean ll_recurrent_infer(LlBlock *b, int gates, GError **error)
{
  const LlShape *in = &b->in_shape[0];
  if (in->rank != 2) {
    char buf[64];
    ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE,
                   "needs a sequence input of shape (T, F) (batch-first), got %s",
                   ll_shape_format(in, buf, sizeof buf));
    return FALSE;
  }
  int t = in->d[0], f = in->d[1], h = LL_PROP_I(b, LL_RNN_P_HIDDEN), gh = gates * h;
  if ((int64_t)gh * (h > f ? h : f) > (int64_t)1 << 30) {
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "property \"hidden_size\" = %d makes the weights too large for %d features", h,
                   f);
    return FALSE;
  }
  b->out_shape =
      LL_PROP_B(b, LL_RNN_P_RETSEQ) ? ll_shape_make(2, (int[]){t, h}) : ll_shape_make(1, &h);
  LlInit init = ll_init_from_choice(LL_PROP_C(b, LL_RNN_P_INIT));
  /* PyTorch draws every recurrent weight and bias from U(-1/sqrt(H), 1/sqrt(H)):
   * fan_in = H for both matrices under the default init. */
  gboolean torch = init == LL_INIT_UNIFORM_FAN_IN;
  ll_block_add_param(b, "weight_ih", ll_shape_make(2, (int[]){gh, f}), init, torch ? h : f, gh,
                     TRUE);
  ll_block_add_param(b, "weight_hh", ll_shape_make(2, (int[]){gh, h}), init, h, gh, TRUE);
  if (LL_PROP_B(b, LL_RNN_P_BIAS)) {
    LlInit binit = torch ? init : LL_INIT_ZEROS;
    ll_block_add_param(b, "bias_ih", ll_shape_make(1, &gh), binit, h, gh, TRUE);
    ll_block_add_param(b, "bias_hh", ll_shape_make(1, &gh), binit, h, gh, TRUE);
  }
  b->rf = 0;
  b->jump = 1;
  return TRUE;
}

void ll_seq_to_time_major(const LlBackend *be, const float *x, float *xt, int n, int t, int f)
{
  for (int s = 0; s < t; s++)
    be->copy2d(xt + (size_t)s * n * f, f, x + (size_t)s * f, t * f, n, f, false);
}

void ll_seq_to_batch_major_acc(const LlBackend *be, const float *xt, float *x, int n, int t, int f)
{
  for (int s = 0; s < t; s++)
    be->copy2d(x + (size_t)s * f, t * f, xt + (size_t)s * n * f, f, n, f, true);
}

void ll_recurrent_output(LlBlock *b, const LlRunCtx *ctx, const float *hs)
{
  LlSeqDims d = ll_seq_dims(b, ctx);
  size_t nh = (size_t)d.n * d.h;
  if (d.seq)
    for (int s = 0; s < d.t; s++)
      ctx->be->copy2d(b->out + (size_t)s * d.h, d.t * d.h, hs + (s + 1) * nh, d.h, d.n, d.h, false);
  else
    ctx->be->copy(b->out, hs + d.t * nh, nh);
}

void ll_recurrent_dout_step(LlBlock *b, const LlRunCtx *ctx, int s, float *dh)
{
  LlSeqDims d = ll_seq_dims(b, ctx);
  if (d.seq)
    ctx->be->copy2d(dh, d.h, b->dout + (size_t)s * d.h, d.t * d.h, d.n, d.h, true);
  else if (s == d.t - 1)
    ctx->be->axpy(dh, 1.0f, b->dout, (size_t)d.n * d.h);
}

void ll_recurrent_backward_params(LlBlock *b, const LlRunCtx *ctx, int gates, const float *dpre,
                                  const float *dhpre, const float *hs, float *xt)
{
  const LlBackend *be = ctx->be;
  LlSeqDims d = ll_seq_dims(b, ctx);
  int rows = d.t * d.n, gh = gates * d.h;
  LlParam *p = b->params;
  /* hs[0 .. T-1] are the states each step's recurrent product read */
  be->gemm(true, false, gh, d.h, rows, 1.0f, dhpre, gh, hs, d.h, 1.0f, p[LL_RNN_W_HH].grad, d.h);
  be->gemm(true, false, gh, d.f, rows, 1.0f, dpre, gh, xt, d.f, 1.0f, p[LL_RNN_W_IH].grad, d.f);
  if (b->n_params > LL_RNN_B_HH) {
    be->bias_backward(dpre, p[LL_RNN_B_IH].grad, rows, gh, 1);
    be->bias_backward(dhpre, p[LL_RNN_B_HH].grad, rows, gh, 1);
  }
  float *dx = b->inputs[0]->dout; /* (N, T, F) or NULL */
  if (dx) {
    be->gemm(false, false, rows, d.f, gh, 1.0f, dpre, gh, p[LL_RNN_W_IH].data, d.f, 0.0f, xt, d.f);
    ll_seq_to_batch_major_acc(be, xt, dx, d.n, d.t, d.f);
  }
}

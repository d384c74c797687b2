/* Linear: y = x W^T + b over the last dimension, like torch.nn.Linear.
 * x (N, ..., in) -> y (N, ..., out); W (out, in), b (out). */
#include "block.h"

enum { P_OUT, P_BIAS, P_INIT };

static const LlPropDesc props[] = {
    [P_OUT] = {"out_features", LL_PROP_INT, "width of the output", 10, 1, 1 << 20},
    [P_BIAS] = {"bias", LL_PROP_BOOL, "learn an additive bias", 1},
    [P_INIT] = {"init", LL_PROP_CHOICE, "weight initialisation (default: PyTorch's uniform)", 3,
                .choices = ll_init_choices},
};

enum { W, B };

static gboolean linear_infer(LlBlock *b, GError **error)
{
  LlShape in = b->in_shape[0];
  int fin = in.d[in.rank - 1], fout = LL_PROP_I(b, P_OUT);
  LlInit init = ll_init_from_choice(LL_PROP_C(b, P_INIT));
  b->out_shape = in;
  b->out_shape.d[in.rank - 1] = fout;
  ll_block_add_param(b, "weight", ll_shape_make(2, (int[]){fout, fin}), init, fin, fout, TRUE);
  if (LL_PROP_B(b, P_BIAS))
    ll_block_add_param(b, "bias", ll_shape_make(1, &fout),
                       init == LL_INIT_UNIFORM_FAN_IN ? init : LL_INIT_ZEROS, fin, fout, TRUE);
  size_t rows = ll_shape_size(&in) / (size_t)fin;
  b->flops = (int64_t)(2 * rows * (size_t)fin * (size_t)fout);
  b->rf = 0;
  b->jump = 1;
  return TRUE;
}

static void linear_forward(LlBlock *b, const LlRunCtx *ctx)
{
  const float *x = b->inputs[0]->out; /* (rows, in) */
  int fin = b->in_shape[0].d[b->in_shape[0].rank - 1], fout = LL_PROP_I(b, P_OUT);
  int rows = (int)(ctx->batch * (ll_shape_size(&b->in_shape[0]) / (size_t)fin));
  const float *bias = b->n_params > B ? b->params[B].data : NULL;
  if (ctx->be->linear_forward) { /* with the ReLU after it when compile fused that */
    ctx->be->linear_forward(x, b->params[W].data, bias, b->out, rows, fin, fout, b->applies_relu);
    return;
  }
  ctx->be->gemm(false, true, rows, fout, fin, 1.0f, x, fin, b->params[W].data, fin, 0.0f, b->out,
                fout);
  if (bias)
    ctx->be->bias_add(b->out, bias, rows, fout, 1);
}

static void linear_backward(LlBlock *b, const LlRunCtx *ctx)
{
  const float *x = b->inputs[0]->out; /* (rows, in) */
  float *dx = b->inputs[0]->dout;     /* (rows, in) or NULL */
  const float *dy = b->dout;          /* (rows, out) */
  int fin = b->in_shape[0].d[b->in_shape[0].rank - 1], fout = LL_PROP_I(b, P_OUT);
  int rows = (int)(ctx->batch * (ll_shape_size(&b->in_shape[0]) / (size_t)fin));
  if (dx)
    ctx->be->gemm(false, false, rows, fin, fout, 1.0f, dy, fout, b->params[W].data, fin, 1.0f, dx,
                  fin);
  ctx->be->gemm(true, false, fout, fin, rows, 1.0f, dy, fout, x, fin, 1.0f, b->params[W].grad, fin);
  if (b->n_params > B)
    ctx->be->bias_backward(dy, b->params[B].grad, rows, fout, 1);
}

const LlBlockDesc ll_block_linear = {
    .type = "Linear",
    .category = "Dense",
    .help = "Fully connected layer over the last dimension: y = x W^T + b.",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = linear_infer,
    .forward = linear_forward,
    .backward = linear_backward,
};

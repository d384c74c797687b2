/* batchnorm.c: forward and backward shared by BatchNorm1d and BatchNorm2d.
 *
 * Training mode normalises with the batch statistics, saves the mean and
 * 1/std per channel for backward and updates the running estimates; eval mode
 * normalises with the running estimates. Saved state: mean (C), invstd (C).
 * Fused with the ReLU (and Dropout) after it (LlBlock.chain_end), it writes
 * their output and takes their gradient instead of its own. */
#include "batchnorm.h"

enum { P_MOMENTUM, P_EPS, P_AFFINE };

const LlPropDesc ll_batchnorm_props[LL_BATCHNORM_N_PROPS] = {
    [P_MOMENTUM] = {"momentum", LL_PROP_FLOAT,
                    "weight of the new batch in the running statistics (PyTorch's convention)", 0.1,
                    0.0, 1.0},
    [P_EPS] = {"eps", LL_PROP_FLOAT, "added to the variance before the square root", 1e-5, 1e-12,
               1.0},
    [P_AFFINE] = {"affine", LL_PROP_BOOL, "learn a per-channel scale (weight) and shift (bias)", 1},
};

/* Channels and values per channel and sample of the input. */
static void geometry(const LlBlock *b, int *c, int *inner)
{
  const LlShape *s = &b->in_shape[0];
  *c = s->d[0];
  *inner = (int)(ll_shape_size(s) / (size_t)s->d[0]);
}

gboolean ll_batchnorm_infer(LlBlock *b, GError **error)
{
  const LlShape *in = &b->in_shape[0];
  char buf[64];
  if (b->desc->variant == 2 && in->rank != 3) {
    ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE, "expects an input of shape (C, H, W), got %s",
                   ll_shape_format(in, buf, sizeof buf));
    return FALSE;
  }
  if (b->desc->variant == 1 && in->rank != 1 && in->rank != 2) {
    ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE,
                   "expects an input of shape (F) or (C, L), got %s; use BatchNorm2d for images",
                   ll_shape_format(in, buf, sizeof buf));
    return FALSE;
  }
  int c, inner;
  geometry(b, &c, &inner);
  LlShape ch = ll_shape_make(1, &c);
  b->out_shape = *in;
  if (LL_PROP_B(b, P_AFFINE)) {
    ll_block_add_param(b, "weight", ch, LL_INIT_ONES, c, c, TRUE);
    ll_block_add_param(b, "bias", ch, LL_INIT_ZEROS, c, c, TRUE);
  }
  ll_block_add_param(b, "running_mean", ch, LL_INIT_ZEROS, c, c, FALSE);
  ll_block_add_param(b, "running_var", ch, LL_INIT_ONES, c, c, FALSE);
  b->saved_fixed = 2 * (size_t)c;
  /* subtract, scale, shift per element (the statistics add about as much in training) */
  b->flops = 4 * (int64_t)ll_shape_size(in);
  ll_block_rf_passthrough(b);
  return TRUE;
}

/* The params in declaration order: [weight, bias,] running_mean, running_var. */
typedef struct {
  LlParam *gamma, *beta, *mean, *var;
} Params;

static Params params_of(LlBlock *b)
{
  int k = LL_PROP_B(b, P_AFFINE) ? 2 : 0;
  return (Params){
      .gamma = k ? &b->params[0] : NULL,
      .beta = k ? &b->params[1] : NULL,
      .mean = &b->params[k],
      .var = &b->params[k + 1],
  };
}

/* The arguments of the fused chain (LlBlock.chain_end) at this step. */
static LlBnRelu chain_args(LlBlock *b, const LlRunCtx *ctx)
{
  int c, inner;
  geometry(b, &c, &inner);
  Params p = params_of(b);
  LlBlock *end = b->chain_end;
  gboolean drop = ctx->training && strcmp(end->desc->type, "ReLU") != 0;
  return (LlBnRelu){
      .n = ctx->batch,
      .c = c,
      .inner = inner,
      .training = ctx->training,
      .gamma = p.gamma ? p.gamma->data : NULL,
      .beta = p.beta ? p.beta->data : NULL,
      .running_mean = p.mean->data,
      .running_var = p.var->data,
      .save_mean = b->saved,
      .save_invstd = b->saved + c,
      .momentum = LL_PROP_F(b, P_MOMENTUM),
      .eps = LL_PROP_F(b, P_EPS),
      .p = drop ? ll_dropout_p(end) : 0.0f,
      .seed = ctx->seed,
      .offset = drop ? ll_dropout_stream(end, ctx->step) : 0,
      .assign_dx = b->inputs[0]->dout_written,
  };
}

void ll_batchnorm_forward(LlBlock *b, const LlRunCtx *ctx)
{
  int c, inner;
  geometry(b, &c, &inner);
  Params p = params_of(b);
  const float *x = b->inputs[0]->out; /* (N, C, inner) */
  const float *gamma = p.gamma ? p.gamma->data : NULL, *beta = p.beta ? p.beta->data : NULL;
  if (b->chain_end) {
    LlBnRelu a = chain_args(b, ctx);
    ctx->be->batchnorm_relu_forward(&a, x, b->chain_end->out);
  } else if (ctx->training)
    ctx->be->batchnorm_forward_train(x, b->out, gamma, beta, b->saved, b->saved + c, p.mean->data,
                                     p.var->data, ctx->batch, c, inner, LL_PROP_F(b, P_MOMENTUM),
                                     LL_PROP_F(b, P_EPS));
  else
    ctx->be->batchnorm_forward_eval(x, b->out, gamma, beta, p.mean->data, p.var->data, ctx->batch,
                                    c, inner, LL_PROP_F(b, P_EPS));
}

void ll_batchnorm_backward(LlBlock *b, const LlRunCtx *ctx)
{
  int c, inner;
  geometry(b, &c, &inner);
  Params p = params_of(b);
  const float *x = b->inputs[0]->out; /* (N, C, inner) */
  float *dx = b->inputs[0]->dout;     /* (N, C, inner) or NULL */
  const float *gamma = p.gamma ? p.gamma->data : NULL;
  float *dgamma = p.gamma ? p.gamma->grad : NULL, *dbeta = p.beta ? p.beta->grad : NULL;
  if (b->chain_end) {
    LlBnRelu a = chain_args(b, ctx);
    ctx->be->batchnorm_relu_backward(&a, x, b->chain_end->out, b->chain_end->dout, dx, dgamma,
                                     dbeta);
  } else if (ctx->training)
    ctx->be->batchnorm_backward(x, b->dout, gamma, b->saved, b->saved + c, dx, dgamma, dbeta,
                                ctx->batch, c, inner);
  else
    ctx->be->batchnorm_backward_eval(x, b->dout, gamma, p.mean->data, p.var->data, dx, dgamma,
                                     dbeta, ctx->batch, c, inner, LL_PROP_F(b, P_EPS));
}

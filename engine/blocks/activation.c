/* activation.c: forward and backward shared by the activation blocks. */
#include "activation.h"

static float act_alpha(const LlBlock *b) { return b->desc->n_props ? LL_PROP_F(b, 0) : 0.0f; }

gboolean ll_activation_infer(LlBlock *b, GError **error)
{
  b->out_shape = b->in_shape[0];
  b->flops = (int64_t)ll_shape_size(&b->out_shape);
  ll_block_rf_passthrough(b);
  return TRUE;
}

void ll_activation_forward(LlBlock *b, const LlRunCtx *ctx)
{
  size_t n = (size_t)ctx->batch * ll_block_out_size(b);
  ctx->be->act_forward(b->desc->variant, act_alpha(b), b->inputs[0]->out, b->out, n);
}

void ll_activation_backward(LlBlock *b, const LlRunCtx *ctx)
{
  if (!b->inputs[0]->dout)
    return;
  size_t n = (size_t)ctx->batch * ll_block_out_size(b);
  ctx->be->act_backward(b->desc->variant, act_alpha(b), b->inputs[0]->out, b->out, b->dout,
                        b->inputs[0]->dout, n);
}

/* Flatten: (C, H, W) or any per-sample shape -> (C * H * W), like
 * torch.nn.Flatten(). The data is already contiguous, so forward is a copy
 * and backward adds the gradient back unchanged. */
#include "block.h"

static gboolean flatten_infer(LlBlock *b, GError **error)
{
  int n = (int)ll_shape_size(&b->in_shape[0]);
  b->out_shape = ll_shape_make(1, &n);
  ll_block_rf_passthrough(b);
  return TRUE;
}

static void flatten_forward(LlBlock *b, const LlRunCtx *ctx)
{
  ctx->be->copy(b->out, b->inputs[0]->out, (size_t)ctx->batch * ll_block_out_size(b));
}

static void flatten_backward(LlBlock *b, const LlRunCtx *ctx)
{
  if (b->inputs[0]->dout)
    ctx->be->axpy(b->inputs[0]->dout, 1.0f, b->dout, (size_t)ctx->batch * ll_block_out_size(b));
}

const LlBlockDesc ll_block_flatten = {
    .type = "Flatten",
    .category = "Shape",
    .help = "Flattens each sample into one dimension, e.g. (C, H, W) to (C*H*W).",
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = flatten_infer,
    .forward = flatten_forward,
    .backward = flatten_backward,
};

/* MaxPool2d: the maximum of each window, like torch.nn.MaxPool2d (padding
 * counts as -inf). x (N, C, H, W) -> y (N, C, OH, OW).
 * Saved state: the argmax of each output (int32, its index in the input
 * plane), which routes the gradient back. */
#include "pool.h"

static gboolean maxpool_infer(LlBlock *b, GError **error)
{
  if (!ll_pool_infer(b, error))
    return FALSE;
  G_STATIC_ASSERT(sizeof(int32_t) == sizeof(float));
  b->saved_per_sample = ll_shape_size(&b->out_shape);
  return TRUE;
}

static void maxpool_forward(LlBlock *b, const LlRunCtx *ctx)
{
  LlPoolGeom g = ll_pool_geom(b, ctx->batch);
  ctx->be->maxpool2d_forward(&g, b->inputs[0]->out, b->out, (int32_t *)b->saved);
}

static void maxpool_backward(LlBlock *b, const LlRunCtx *ctx)
{
  if (!b->inputs[0]->dout)
    return;
  LlPoolGeom g = ll_pool_geom(b, ctx->batch);
  ctx->be->maxpool2d_backward(&g, (const int32_t *)b->saved, b->dout, b->inputs[0]->dout);
}

const LlBlockDesc ll_block_maxpool2d = {
    .type = "MaxPool2d",
    .category = "Pooling",
    .help = "Maximum over each kernel x kernel window: (C, H, W) -> (C, OH, OW).",
    .props = ll_pool_props,
    .n_props = 3,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = maxpool_infer,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
};

/* AvgPool2d: the mean of each window, like torch.nn.AvgPool2d with
 * count_include_pad=True (padding counts as zeros in the divisor).
 * x (N, C, H, W) -> y (N, C, OH, OW). */
#include "pool.h"

static void avgpool_forward(LlBlock *b, const LlRunCtx *ctx)
{
  LlPoolGeom g = ll_pool_geom(b, ctx->batch);
  ctx->be->avgpool2d_forward(&g, b->inputs[0]->out, b->out);
}

static void avgpool_backward(LlBlock *b, const LlRunCtx *ctx)
{
  if (!b->inputs[0]->dout)
    return;
  LlPoolGeom g = ll_pool_geom(b, ctx->batch);
  ctx->be->avgpool2d_backward(&g, b->dout, b->inputs[0]->dout);
}

const LlBlockDesc ll_block_avgpool2d = {
    .type = "AvgPool2d",
    .category = "Pooling",
    .help = "Mean over each kernel x kernel window (padding counts): (C, H, W) -> (C, OH, OW).",
    .props = ll_pool_props,
    .n_props = 3,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = ll_pool_infer,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
};

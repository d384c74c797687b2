/* GlobalAvgPool: the mean of each channel over all positions, like
 * torch.nn.AdaptiveAvgPool2d(1) followed by flatten.
 * x (N, C, H, W) or (N, C, L) -> y (N, C). */
#include "block.h"

#include "spatial.h"

static gboolean gap_infer(LlBlock *b, GError **error)
{
  const LlShape *in = &b->in_shape[0];
  if (in->rank != 2 && in->rank != 3)
    return ll_block_check_rank(b, 3, "(C, H, W) or (C, L)", error);
  b->out_shape = ll_shape_make(1, &in->d[0]);
  b->flops = (int64_t)ll_shape_size(in);
  b->rf = 0; /* the whole input */
  b->jump = 1;
  return TRUE;
}

static int inner_size(const LlBlock *b)
{
  return (int)(ll_shape_size(&b->in_shape[0]) / (size_t)b->in_shape[0].d[0]);
}

static void gap_forward(LlBlock *b, const LlRunCtx *ctx)
{
  int c = b->in_shape[0].d[0];
  ctx->be->mean_inner_forward(b->inputs[0]->out, b->out, ctx->batch * c, inner_size(b));
}

static void gap_backward(LlBlock *b, const LlRunCtx *ctx)
{
  if (!b->inputs[0]->dout)
    return;
  int c = b->in_shape[0].d[0];
  ctx->be->mean_inner_backward(b->dout, b->inputs[0]->dout, ctx->batch * c, inner_size(b));
}

const LlBlockDesc ll_block_global_avg_pool = {
    .type = "GlobalAvgPool",
    .category = "Pooling",
    .help = "Mean of each channel over all positions: (C, H, W) or (C, L) -> (C).",
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = gap_infer,
    .forward = gap_forward,
    .backward = gap_backward,
};

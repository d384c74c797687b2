/* Flatten: (C, H, W) or any per-sample shape -> (C * H * W), like
 * torch.nn.Flatten(). The data is already contiguous, so the block is a
 * view: its output and gradient are its input's (LlBlockDesc.view). */
#include "block.h"

static gboolean flatten_infer(LlBlock *b, GError **error)
{
  int n = (int)ll_shape_size(&b->in_shape[0]);
  b->out_shape = ll_shape_make(1, &n);
  ll_block_rf_passthrough(b);
  return TRUE;
}

const LlBlockDesc ll_block_flatten = {
    .type = "Flatten",
    .category = "Shape",
    .help = "Flattens each sample into one dimension, e.g. (C, H, W) to (C*H*W).",
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = flatten_infer,
    .view = TRUE,
};

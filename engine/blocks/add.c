/* Add: the element-wise sum of 2 to 8 inputs of identical shape (residual
 * connections). Backward hands the output gradient to every input. */
#include "block.h"

static gboolean add_infer(LlBlock *b, GError **error)
{
  for (int k = 1; k < b->n_inputs; k++)
    if (!ll_shape_equal(&b->in_shape[k], &b->in_shape[0])) {
      char s0[64], sk[64];
      ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE,
                     "input %d (\"%s\") has shape %s, but input 0 (\"%s\") has %s: the inputs "
                     "of a sum must have identical shapes",
                     k, b->inputs[k]->name, ll_shape_format(&b->in_shape[k], sk, sizeof sk),
                     b->inputs[0]->name, ll_shape_format(&b->in_shape[0], s0, sizeof s0));
      return FALSE;
    }
  b->out_shape = b->in_shape[0];
  b->flops = (int64_t)(b->n_inputs - 1) * (int64_t)ll_shape_size(&b->out_shape);
  ll_block_rf_merge(b);
  return TRUE;
}

static void add_forward(LlBlock *b, const LlRunCtx *ctx)
{
  size_t n = (size_t)ctx->batch * ll_block_out_size(b);
  ctx->be->copy(b->out, b->inputs[0]->out, n);
  for (int k = 1; k < b->n_inputs; k++)
    ctx->be->axpy(b->out, 1.0f, b->inputs[k]->out, n);
}

static void add_backward(LlBlock *b, const LlRunCtx *ctx)
{
  size_t n = (size_t)ctx->batch * ll_block_out_size(b);
  for (int k = 0; k < b->n_inputs; k++)
    if (b->inputs[k]->dout)
      ctx->be->axpy(b->inputs[k]->dout, 1.0f, b->dout, n);
}

const LlBlockDesc ll_block_add = {
    .type = "Add",
    .category = "Shape",
    .help = "Sums 2 to 8 inputs of identical shape element by element (residual connections).",
    .min_inputs = 2,
    .max_inputs = LL_MAX_INPUTS,
    .infer = add_infer,
    .forward = add_forward,
    .backward = add_backward,
};

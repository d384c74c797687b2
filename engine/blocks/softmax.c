/* Softmax: exp(x) / sum(exp(x)) over the last dimension, like
 * torch.nn.Softmax(dim=-1). For classification, feed the logits to the
 * cross-entropy loss instead: it includes the softmax and is more stable. */
#include "block.h"

static gboolean softmax_infer(LlBlock *b, GError **error)
{
  b->out_shape = b->in_shape[0];
  /* max, exp, sum, divide */
  b->flops = 4 * (int64_t)ll_shape_size(&b->out_shape);
  ll_block_rf_passthrough(b);
  return TRUE;
}

/* rows and cols of the (rows, last) view of the batch */
static void geometry(const LlBlock *b, int batch, int *rows, int *cols)
{
  *cols = b->out_shape.d[b->out_shape.rank - 1];
  *rows = (int)((size_t)batch * ll_block_out_size(b) / (size_t)*cols);
}

static void softmax_forward(LlBlock *b, const LlRunCtx *ctx)
{
  int rows, cols;
  geometry(b, ctx->batch, &rows, &cols);
  ctx->be->softmax_forward(b->inputs[0]->out, b->out, rows, cols);
}

static void softmax_backward(LlBlock *b, const LlRunCtx *ctx)
{
  if (!b->inputs[0]->dout)
    return;
  int rows, cols;
  geometry(b, ctx->batch, &rows, &cols);
  ctx->be->softmax_backward(b->out, b->dout, b->inputs[0]->dout, rows, cols);
}

const LlBlockDesc ll_block_softmax = {
    .type = "Softmax",
    .category = "Activation",
    .help = "Normalises the last dimension into probabilities: exp(x) / sum(exp(x)).",
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = softmax_infer,
    .forward = softmax_forward,
    .backward = softmax_backward,
};

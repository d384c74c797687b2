/* LayerNorm: normalises each sample over its last `dims` dimensions, like
 * torch.nn.LayerNorm(normalized_shape = those sizes): per row of
 * x (N, ..., D) with D the product of the normalised sizes, y = (x - mean)
 * / sqrt(var + eps) * weight + bias with the biased variance. The same in
 * training and evaluation (no running statistics). Parameters carry
 * PyTorch's names and shape (weight and bias of normalized_shape), so
 * checkpoints load into torch.nn.LayerNorm. Saved state: mean and 1/std per
 * row. */
#include "block.h"

enum { P_DIMS, P_EPS, P_AFFINE };

static const LlPropDesc props[] = {
    [P_DIMS] = {"dims", LL_PROP_INT,
                "trailing dimensions normalised together (PyTorch's normalized_shape is the "
                "input's last dims sizes)",
                1, 1, LL_MAX_DIMS},
    [P_EPS] = {"eps", LL_PROP_FLOAT, "added to the variance before the square root", 1e-5, 1e-12,
               1.0},
    [P_AFFINE] = {"elementwise_affine", LL_PROP_BOOL,
                  "learn a per-element scale (weight) and shift (bias)", 1},
};

/* Values normalised together (cols) and such rows per sample. */
static void geometry(const LlBlock *b, int *rows, int *cols)
{
  const LlShape *s = &b->in_shape[0];
  int c = 1;
  for (int k = s->rank - LL_PROP_I(b, P_DIMS); k < s->rank; k++)
    c *= s->d[k];
  *cols = c;
  *rows = (int)(ll_shape_size(s) / (size_t)c);
}

static gboolean layernorm_infer(LlBlock *b, GError **error)
{
  const LlShape *in = &b->in_shape[0];
  int dims = LL_PROP_I(b, P_DIMS);
  if (dims > in->rank) {
    char buf[64];
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "dims is %d but the input %s has only %d dimension%s", dims,
                   ll_shape_format(in, buf, sizeof buf), in->rank, in->rank == 1 ? "" : "s");
    return FALSE;
  }
  int rows, cols;
  geometry(b, &rows, &cols);
  b->out_shape = *in;
  if (LL_PROP_B(b, P_AFFINE)) {
    LlShape norm = ll_shape_make(dims, &in->d[in->rank - dims]);
    ll_block_add_param(b, "weight", norm, LL_INIT_ONES, cols, cols, TRUE);
    ll_block_add_param(b, "bias", norm, LL_INIT_ZEROS, cols, cols, TRUE);
  }
  b->saved_per_sample = 2 * (size_t)rows;
  /* statistics, subtract, scale, shift per element */
  b->flops = 6 * (int64_t)ll_shape_size(in);
  ll_block_rf_passthrough(b);
  return TRUE;
}

static void layernorm_forward(LlBlock *b, const LlRunCtx *ctx)
{
  int rows, cols;
  geometry(b, &rows, &cols);
  rows *= ctx->batch;
  gboolean affine = b->n_params > 0;
  ctx->be->layernorm_forward(b->inputs[0]->out, b->out, affine ? b->params[0].data : NULL,
                             affine ? b->params[1].data : NULL, b->saved, b->saved + rows, rows,
                             cols, LL_PROP_F(b, P_EPS));
}

static void layernorm_backward(LlBlock *b, const LlRunCtx *ctx)
{
  int rows, cols;
  geometry(b, &rows, &cols);
  rows *= ctx->batch;
  gboolean affine = b->n_params > 0;
  ctx->be->layernorm_backward(b->inputs[0]->out, b->dout, affine ? b->params[0].data : NULL,
                              b->saved, b->saved + rows, b->inputs[0]->dout,
                              affine ? b->params[0].grad : NULL, affine ? b->params[1].grad : NULL,
                              rows, cols);
}

const LlBlockDesc ll_block_layernorm = {
    .type = "LayerNorm",
    .category = "Normalisation",
    .help = "Normalises each sample over its last dims dimensions, then scales and shifts.",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = layernorm_infer,
    .forward = layernorm_forward,
    .backward = layernorm_backward,
};

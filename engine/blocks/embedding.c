/* Embedding: a lookup table, like torch.nn.Embedding.
 * idx (N, ...) of integer indices stored as floats -> y (N, ..., D);
 * weight (V, D) drawn from N(0, 1) as PyTorch does.
 *
 * An index outside [0, V) cannot be reported from forward (a step cannot
 * fail), so the kernels round it to the nearest integer and clamp it into the
 * table (NaN reads row 0), and backward sends its gradient to that same row.
 * The data layer is where ranges are checked and reported. The indices get no
 * gradient. */
#include "block.h"

enum { P_NUM, P_DIM };

static const LlPropDesc props[] = {
    [P_NUM] = {"num_embeddings", LL_PROP_INT, "size of the vocabulary (indices 0 .. V-1)", 1000, 1,
               1 << 24},
    [P_DIM] = {"embedding_dim", LL_PROP_INT, "width of each embedding vector", 64, 1, 1 << 16},
};

static gboolean embedding_infer(LlBlock *b, GError **error)
{
  const LlShape *in = &b->in_shape[0];
  int v = LL_PROP_I(b, P_NUM), dim = LL_PROP_I(b, P_DIM);
  if (in->rank >= LL_MAX_DIMS) {
    char buf[64];
    ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE,
                   "input %s has too many dimensions: the output adds embedding_dim, and "
                   "shapes hold at most %d",
                   ll_shape_format(in, buf, sizeof buf), LL_MAX_DIMS);
    return FALSE;
  }
  if ((int64_t)v * dim > (int64_t)1 << 30) {
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "num_embeddings x embedding_dim = %d x %d is too large a table", v, dim);
    return FALSE;
  }
  b->out_shape = *in;
  b->out_shape.d[b->out_shape.rank++] = dim;
  /* Kaiming normal with fan_in 2 has std sqrt(2 / 2) = 1: N(0, 1) */
  ll_block_add_param(b, "weight", ll_shape_make(2, (int[]){v, dim}), LL_INIT_KAIMING, 2, dim, TRUE);
  b->flops = 0;
  b->rf = 0;
  b->jump = 1;
  return TRUE;
}

static void embedding_forward(LlBlock *b, const LlRunCtx *ctx)
{
  int n = (int)((size_t)ctx->batch * ll_shape_size(&b->in_shape[0]));
  ctx->be->embedding_forward(b->params[0].data, b->inputs[0]->out, b->out, n, LL_PROP_I(b, P_NUM),
                             LL_PROP_I(b, P_DIM));
}

static void embedding_backward(LlBlock *b, const LlRunCtx *ctx)
{
  int n = (int)((size_t)ctx->batch * ll_shape_size(&b->in_shape[0]));
  ctx->be->embedding_backward(b->inputs[0]->out, b->dout, b->params[0].grad, n, LL_PROP_I(b, P_NUM),
                              LL_PROP_I(b, P_DIM));
}

const LlBlockDesc ll_block_embedding = {
    .type = "Embedding",
    .category = "Recurrent",
    .help = "Lookup table: integer indices to learned vectors, as torch.nn.Embedding.",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = embedding_infer,
    .forward = embedding_forward,
    .backward = embedding_backward,
};

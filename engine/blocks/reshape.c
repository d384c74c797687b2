/* Reshape: gives each sample a new shape with the same number of elements,
 * like torch.reshape(x, (N, *shape)). Row-major order is kept, so the block
 * is a view: its output and gradient are its input's (LlBlockDesc.view). */
#include "block.h"

enum { P_SHAPE };

static const LlPropDesc props[] = {
    [P_SHAPE] = {"shape", LL_PROP_SHAPE, "new shape of one sample, without the batch", .min = 1,
                 .max = 1 << 20, .def_shape = {1, {784}}},
};

static gboolean reshape_infer(LlBlock *b, GError **error)
{
  const LlShape *to = LL_PROP_S(b, P_SHAPE), *in = &b->in_shape[0];
  if (ll_shape_size(to) != ll_shape_size(in)) {
    char a[64], c[64];
    ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE,
                   "property \"shape\" = %s holds %zu elements, but the input %s holds %zu",
                   ll_shape_format(to, a, sizeof a), ll_shape_size(to),
                   ll_shape_format(in, c, sizeof c), ll_shape_size(in));
    return FALSE;
  }
  b->out_shape = *to;
  ll_block_rf_passthrough(b);
  return TRUE;
}

const LlBlockDesc ll_block_reshape = {
    .type = "Reshape",
    .category = "Shape",
    .help = "Gives each sample a new shape with the same number of elements.",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = reshape_infer,
    .view = TRUE,
};

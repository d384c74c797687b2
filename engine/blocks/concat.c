/* Concat: joins 2 to 8 inputs along one per-sample dimension, like
 * torch.cat(xs, dim=axis + 1). axis = 0 is the channel dimension of images
 * and sequences (the feature dimension of vectors); every other dimension
 * must match.
 *
 * Viewed per input k as (outer, d_k * inner), where outer = N times the
 * dimensions before the axis and inner the dimensions after it, the output
 * row is the inputs' rows side by side: forward and backward are strided
 * 2-D copies. */
#include "block.h"

enum { P_AXIS };

static const LlPropDesc props[] = {
    [P_AXIS] = {"axis", LL_PROP_INT,
                "per-sample dimension to join along (0: channels, or features of a vector)", 0, 0,
                LL_MAX_DIMS - 1},
};

static gboolean concat_infer(LlBlock *b, GError **error)
{
  int axis = LL_PROP_I(b, P_AXIS);
  const LlShape *first = &b->in_shape[0];
  char s0[64], sk[64];
  if (axis >= first->rank) {
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "property \"axis\" = %d does not exist: input 0 (\"%s\") has shape %s", axis,
                   b->inputs[0]->name, ll_shape_format(first, s0, sizeof s0));
    return FALSE;
  }
  b->out_shape = *first;
  for (int k = 1; k < b->n_inputs; k++) {
    const LlShape *s = &b->in_shape[k];
    gboolean ok = s->rank == first->rank;
    for (int i = 0; ok && i < s->rank; i++)
      ok = i == axis || s->d[i] == first->d[i];
    if (!ok) {
      ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE,
                     "input %d (\"%s\") has shape %s, which does not fit input 0 (\"%s\") of "
                     "shape %s: all dimensions but axis %d must match",
                     k, b->inputs[k]->name, ll_shape_format(s, sk, sizeof sk), b->inputs[0]->name,
                     ll_shape_format(first, s0, sizeof s0), axis);
      return FALSE;
    }
    b->out_shape.d[axis] += s->d[axis];
  }
  ll_block_rf_merge(b);
  return TRUE;
}

/* outer: rows per sample of the (outer, d * inner) view; inner: values per
 * step along the axis. */
static void geometry(const LlBlock *b, int *outer, int *inner)
{
  int axis = LL_PROP_I(b, P_AXIS);
  *outer = *inner = 1;
  for (int i = 0; i < axis; i++)
    *outer *= b->out_shape.d[i];
  for (int i = axis + 1; i < b->out_shape.rank; i++)
    *inner *= b->out_shape.d[i];
}

static void concat_forward(LlBlock *b, const LlRunCtx *ctx)
{
  int outer, inner, axis = LL_PROP_I(b, P_AXIS);
  geometry(b, &outer, &inner);
  int ld = b->out_shape.d[axis] * inner, off = 0;
  for (int k = 0; k < b->n_inputs; k++) {
    int cols = b->in_shape[k].d[axis] * inner;
    ctx->be->copy2d(b->out + off, ld, b->inputs[k]->out, cols, ctx->batch * outer, cols, false);
    off += cols;
  }
}

static void concat_backward(LlBlock *b, const LlRunCtx *ctx)
{
  int outer, inner, axis = LL_PROP_I(b, P_AXIS);
  geometry(b, &outer, &inner);
  int ld = b->out_shape.d[axis] * inner, off = 0;
  for (int k = 0; k < b->n_inputs; k++) {
    int cols = b->in_shape[k].d[axis] * inner;
    float *dx = b->inputs[k]->dout; /* (N * outer, cols) or NULL */
    if (dx)
      ctx->be->copy2d(dx, cols, b->dout + off, ld, ctx->batch * outer, cols, true);
    off += cols;
  }
}

const LlBlockDesc ll_block_concat = {
    .type = "Concat",
    .category = "Shape",
    .help = "Joins 2 to 8 inputs along one dimension (channels by default).",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 2,
    .max_inputs = LL_MAX_INPUTS,
    .infer = concat_infer,
    .forward = concat_forward,
    .backward = concat_backward,
};

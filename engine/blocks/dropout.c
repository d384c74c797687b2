/* Dropout: in training, zeroes each element with probability p and scales
 * the rest by 1 / (1 - p) (inverted dropout, like torch.nn.Dropout); in
 * evaluation, the identity.
 *
 * The mask comes from the counter-based generator at (run seed, offset + i),
 * where the offset mixes a hash of the block's name with the step: every
 * block and every step draws a fresh mask, and the same run replays it
 * exactly, on any backend. Saved state: the mask (N, shape), already scaled. */
#include "block.h"

#include "counter-rng.h"

enum { P_P };

static const LlPropDesc props[] = {
    [P_P] = {"p", LL_PROP_FLOAT, "probability of zeroing an element while training, below 1", 0.5,
             0.0, 1.0},
};

static gboolean dropout_infer(LlBlock *b, GError **error)
{
  if (LL_PROP_F(b, P_P) >= 1.0f) {
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "property \"p\" = %g would drop everything; it must be below 1",
                   b->props[P_P].f);
    return FALSE;
  }
  b->out_shape = b->in_shape[0];
  b->saved_per_sample = ll_shape_size(&b->out_shape);
  b->flops = (int64_t)ll_shape_size(&b->out_shape);
  ll_block_rf_passthrough(b);
  return TRUE;
}

/* FNV-1a over the name, then mixed with the step so that consecutive steps
 * land far apart in the generator's index space. */
static uint64_t mask_offset(const LlBlock *b, uint64_t step)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char *p = b->name; *p; p++)
    h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
  return ll_counter_mix(h ^ ll_counter_mix(step + 0x9e3779b97f4a7c15ULL));
}

static void dropout_forward(LlBlock *b, const LlRunCtx *ctx)
{
  size_t n = (size_t)ctx->batch * ll_block_out_size(b);
  const float *x = b->inputs[0]->out; /* (N, shape) */
  if (ctx->training)
    ctx->be->dropout_forward(x, b->out, b->saved, n, LL_PROP_F(b, P_P), ctx->seed,
                             mask_offset(b, ctx->step));
  else
    ctx->be->copy(b->out, x, n);
}

static void dropout_backward(LlBlock *b, const LlRunCtx *ctx)
{
  float *dx = b->inputs[0]->dout; /* (N, shape) or NULL */
  if (!dx)
    return;
  size_t n = (size_t)ctx->batch * ll_block_out_size(b);
  if (ctx->training)
    ctx->be->mul_backward(b->dout, b->saved, dx, n);
  else
    ctx->be->axpy(dx, 1.0f, b->dout, n);
}

const LlBlockDesc ll_block_dropout = {
    .type = "Dropout",
    .category = "Regularisation",
    .help = "Zeroes random elements with probability p while training; identity in evaluation.",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = dropout_infer,
    .forward = dropout_forward,
    .backward = dropout_backward,
};

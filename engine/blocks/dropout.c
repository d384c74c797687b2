/* Dropout: in training, zeroes each element with probability p and scales
 * the rest by 1 / (1 - p) (inverted dropout, like torch.nn.Dropout); in
 * evaluation, the identity.
 *
 * The mask comes from the counter-based generator (counter-rng.h): element
 * i of the stream keyed by the run seed and ll_dropout_stream, which mixes a
 * hash of the block's name with the step. Every block and every step draws
 * a fresh mask, and the same run replays it exactly, on any backend. Saved
 * state: the mask (N, shape), already scaled. */
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

extern const LlBlockDesc ll_block_dropout;

float ll_dropout_p(const LlBlock *b)
{
  g_return_val_if_fail(b->desc == &ll_block_dropout, 0.0f);
  return LL_PROP_F(b, P_P);
}

/* FNV-1a over the name, then mixed with the step so that consecutive steps
 * land far apart in the generator's index space. */
uint64_t ll_dropout_stream(const LlBlock *b, uint64_t step)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char *p = b->name; *p; p++)
    h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
  return ll_counter_mix(h ^ ll_counter_mix(step + 0x9e3779b97f4a7c15ULL));
}

/* With a ReLU absorbed into this block at compile (LlBlock.absorbed), x and
 * dx are the ReLU's input and its gradient, and the ReLU is applied here. */
static void dropout_forward(LlBlock *b, const LlRunCtx *ctx)
{
  size_t n = (size_t)ctx->batch * ll_block_out_size(b);
  gboolean relu = b->inputs[0]->absorbed;
  const float *x = relu ? b->inputs[0]->inputs[0]->out : b->inputs[0]->out; /* (N, shape) */
  float p = LL_PROP_F(b, P_P);
  uint64_t off = ll_dropout_stream(b, ctx->step);
  if (ctx->training && relu)
    ctx->be->relu_dropout_forward(x, b->out, b->saved, n, p, ctx->seed, off);
  else if (ctx->training)
    ctx->be->dropout_forward(x, b->out, b->saved, n, p, ctx->seed, off);
  else if (relu)
    ctx->be->act_forward(LL_ACT_RELU, 0.0f, x, b->out, n);
  else
    ctx->be->copy(b->out, x, n);
}

static void dropout_backward(LlBlock *b, const LlRunCtx *ctx)
{
  gboolean relu = b->inputs[0]->absorbed;
  LlBlock *in = relu ? b->inputs[0]->inputs[0] : b->inputs[0];
  float *dx = in->dout; /* (N, shape) or NULL */
  if (!dx)
    return;
  size_t n = (size_t)ctx->batch * ll_block_out_size(b);
  if (ctx->training && relu)
    ctx->be->relu_mul_backward(b->dout, b->saved, in->out, dx, n);
  else if (ctx->training)
    ctx->be->mul_backward(b->dout, b->saved, dx, n);
  else if (relu)
    ctx->be->act_backward(LL_ACT_RELU, 0.0f, in->out, b->out, b->dout, dx, n);
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

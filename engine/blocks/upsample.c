/* Upsample: enlarges images by an integer factor, like torch.nn.Upsample
 * (scale_factor, mode "nearest" or "bilinear" with align_corners=False,
 * PyTorch's defaults). x (N, C, H, W) -> y (N, C, H * s, W * s). No
 * parameters and no saved state. */
#include "block.h"

#include "spatial.h"

enum { P_SCALE, P_MODE };

static const char *const modes[] = {"nearest", "bilinear", NULL};
enum { NEAREST, BILINEAR };

static const LlPropDesc props[] = {
    [P_SCALE] = {"scale_factor", LL_PROP_INT, "output height and width over the input's", 2, 1, 16},
    [P_MODE] = {"mode", LL_PROP_CHOICE,
                "nearest: copy the closest pixel; bilinear: weigh the four around it "
                "(align_corners=False)",
                NEAREST, .choices = modes},
};

static gboolean upsample_infer(LlBlock *b, GError **error)
{
  const LlShape *in = &b->in_shape[0];
  if (in->rank != 3)
    return ll_block_check_rank(b, 3, "(C, H, W)", error);
  int s = LL_PROP_I(b, P_SCALE);
  if ((int64_t)in->d[1] * s > 1 << 16 || (int64_t)in->d[2] * s > 1 << 16) {
    char buf[64];
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "scale_factor %d makes the input %s larger than 65536 pixels a side", s,
                   ll_shape_format(in, buf, sizeof buf));
    return FALSE;
  }
  b->out_shape = ll_shape_make(3, (int[]){in->d[0], in->d[1] * s, in->d[2] * s});
  gboolean bilinear = LL_PROP_C(b, P_MODE) == BILINEAR;
  /* bilinear: 4 taps, 3 multiply-adds each; nearest: a copy */
  b->flops = (bilinear ? 8 : 1) * (int64_t)ll_shape_size(&b->out_shape);
  /* an output reads one input position, or two adjacent ones per axis */
  int rf_in = b->inputs[0] ? b->inputs[0]->rf : 1, jump_in = b->inputs[0] ? b->inputs[0]->jump : 1;
  if (jump_in < 1)
    jump_in = 1;
  b->rf = rf_in == 0 ? 0 : rf_in + (bilinear ? jump_in : 0);
  b->jump = jump_in / s > 1 ? jump_in / s : 1;
  return TRUE;
}

static void upsample_forward(LlBlock *b, const LlRunCtx *ctx)
{
  const LlShape *in = &b->in_shape[0], *out = &b->out_shape;
  ctx->be->upsample2d_forward(LL_PROP_C(b, P_MODE) == BILINEAR, b->inputs[0]->out, b->out,
                              ctx->batch * in->d[0], in->d[1], in->d[2], out->d[1], out->d[2]);
}

static void upsample_backward(LlBlock *b, const LlRunCtx *ctx)
{
  if (!b->inputs[0]->dout)
    return;
  const LlShape *in = &b->in_shape[0], *out = &b->out_shape;
  ctx->be->upsample2d_backward(LL_PROP_C(b, P_MODE) == BILINEAR, b->dout, b->inputs[0]->dout,
                               ctx->batch * in->d[0], in->d[1], in->d[2], out->d[1], out->d[2]);
}

const LlBlockDesc ll_block_upsample = {
    .type = "Upsample",
    .category = "Pooling",
    .help = "Enlarges images by an integer factor, nearest or bilinear: (C, H, W) -> (C, sH, sW).",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = upsample_infer,
    .forward = upsample_forward,
    .backward = upsample_backward,
};

/* ConvTranspose2d: the transpose (gradient) of a 2-D convolution, like
 * torch.nn.ConvTranspose2d with groups = 1.
 * x (N, C, H, W) -> y (N, OC, OH, OW), OH = (H - 1) * stride - 2 * padding +
 * dilation * (kernel - 1) + output_padding + 1; weight (C, OC, K, K) as
 * PyTorch lays it out, bias (OC).
 *
 * It runs the conv kernels on the swapped geometry of the ordinary conv that
 * maps y's grid to x's: forward is that conv's backward_data, the input
 * gradient its forward, the weight gradient its backward_filter with the
 * roles of input and output gradient exchanged.
 * Saved state: the kernels' workspace, then (N, C, H, W) scratch for the input
 * gradient (the conv forward overwrites, the backward must accumulate). */
#include "block.h"
#include "spatial.h"

enum { P_OUT, P_KERNEL, P_STRIDE, P_PAD, P_OUTPAD, P_DIL, P_BIAS, P_INIT };

static const LlPropDesc props[] = {
    [P_OUT] = {"out_channels", LL_PROP_INT, "channels of the output", 16, 1, 1 << 16},
    [P_KERNEL] = {"kernel", LL_PROP_INT, "kernel size (square)", 3, 1, 1024},
    [P_STRIDE] = {"stride", LL_PROP_INT, "upsampling factor", 1, 1, 1024},
    [P_PAD] = {"padding", LL_PROP_INT, "rows and columns trimmed from each side", 0, 0, 1024},
    [P_OUTPAD] = {"output_padding", LL_PROP_INT,
                  "extra rows and columns on the bottom and right (less than stride or dilation)",
                  0, 0, 1024},
    [P_DIL] = {"dilation", LL_PROP_INT, "spacing between kernel taps", 1, 1, 1024},
    [P_BIAS] = {"bias", LL_PROP_BOOL, "learn an additive bias per output channel", 1},
    [P_INIT] = {"init", LL_PROP_CHOICE, "weight initialisation (default: PyTorch's uniform)", 3,
                .choices = ll_init_choices},
};

enum { W, B };

static int out_len(const LlBlock *b, int n)
{
  return (n - 1) * LL_PROP_I(b, P_STRIDE) - 2 * LL_PROP_I(b, P_PAD) +
         LL_PROP_I(b, P_DIL) * (LL_PROP_I(b, P_KERNEL) - 1) + LL_PROP_I(b, P_OUTPAD) + 1;
}

/* The ordinary conv from y's grid (its input) to x's grid (its output). */
static LlConvGeom swapped_geom(const LlBlock *b, int n)
{
  const LlShape *in = &b->in_shape[0];
  int k = LL_PROP_I(b, P_KERNEL), s = LL_PROP_I(b, P_STRIDE), p = LL_PROP_I(b, P_PAD);
  int d = LL_PROP_I(b, P_DIL);
  return (LlConvGeom){
      .n = n,
      .c = LL_PROP_I(b, P_OUT),
      .h = out_len(b, in->d[1]),
      .w = out_len(b, in->d[2]),
      .oc = in->d[0],
      .oh = in->d[1],
      .ow = in->d[2],
      .kh = k,
      .kw = k,
      .sh = s,
      .sw = s,
      .ph = p,
      .pw = p,
      .dh = d,
      .dw = d,
      .groups = 1,
  };
}

static gboolean convt_infer(LlBlock *b, GError **error)
{
  if (!ll_block_check_rank(b, 3, "(C, H, W)", error))
    return FALSE;
  int s = LL_PROP_I(b, P_STRIDE), d = LL_PROP_I(b, P_DIL), op = LL_PROP_I(b, P_OUTPAD);
  if (op >= s && op >= d) {
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "property \"output_padding\" = %d must be less than the stride (%d) or the "
                   "dilation (%d)",
                   op, s, d);
    return FALSE;
  }
  LlConvGeom g = swapped_geom(b, 1);
  if (g.h < 1 || g.w < 1) {
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "property \"padding\" = %d trims the whole %dx%d output away", g.ph,
                   g.h + 2 * g.ph, g.w + 2 * g.pw);
    return FALSE;
  }
  int k = g.kw;
  LlInit init = ll_init_from_choice(LL_PROP_C(b, P_INIT));
  /* PyTorch takes the fans from weight dims 1 and 0: (OC, C) here */
  int fan_in = g.c * k * k, fan_out = g.oc * k * k;
  b->out_shape = ll_shape_make(3, (int[]){g.c, g.h, g.w});
  ll_block_add_param(b, "weight", ll_shape_make(4, (int[]){g.oc, g.c, k, k}), init, fan_in, fan_out,
                     TRUE);
  if (LL_PROP_B(b, P_BIAS))
    ll_block_add_param(b, "bias", ll_shape_make(1, &g.c),
                       init == LL_INIT_UNIFORM_FAN_IN ? init : LL_INIT_ZEROS, fan_in, fan_out,
                       TRUE);
  b->saved_fixed = ll_cpu_backend()->conv2d_workspace(&g);
  b->saved_per_sample = ll_shape_size(&b->in_shape[0]);
  b->flops = 2 * (int64_t)ll_shape_size(&b->in_shape[0]) * g.c * k * k;
  int rf_in = b->inputs[0] ? b->inputs[0]->rf : 1, jump_in = b->inputs[0] ? b->inputs[0]->jump : 1;
  b->jump = jump_in / s > 1 ? jump_in / s : 1;
  b->rf = rf_in == 0 ? 0 : rf_in + (k - 1) * d * b->jump;
  return TRUE;
}

static void convt_forward(LlBlock *b, const LlRunCtx *ctx)
{
  LlConvGeom g = swapped_geom(b, ctx->batch);
  const float *x = b->inputs[0]->out; /* (N, C, H, W): the conv's output grid */
  size_t ny = (size_t)g.n * g.c * g.h * g.w;
  ctx->be->fill(b->out, 0.0f, ny);
  ctx->be->conv2d_backward_data(&g, b->params[W].data, x, b->out, b->saved);
  if (b->n_params > B)
    ctx->be->bias_add(b->out, b->params[B].data, g.n, g.c, g.h * g.w);
}

static void convt_backward(LlBlock *b, const LlRunCtx *ctx)
{
  LlConvGeom g = swapped_geom(b, ctx->batch);
  const float *x = b->inputs[0]->out; /* (N, C, H, W) */
  float *dx = b->inputs[0]->dout;     /* (N, C, H, W) or NULL */
  const float *dy = b->dout;          /* (N, OC, OH, OW) */
  if (dx) {
    float *tmp = b->saved + b->saved_fixed; /* (N, C, H, W) */
    size_t nx = (size_t)g.n * g.oc * g.oh * g.ow;
    ctx->be->conv2d_forward(&g, dy, b->params[W].data, tmp, b->saved);
    ctx->be->axpy(dx, 1.0f, tmp, nx);
  }
  ctx->be->conv2d_backward_filter(&g, dy, x, b->params[W].grad, b->saved);
  if (b->n_params > B)
    ctx->be->bias_backward(dy, b->params[B].grad, g.n, g.c, g.h * g.w);
}

/* the kernels' workspace, before the per-sample scratch in b->saved */
static size_t convt_workspace(const LlBlock *b, const LlBackend *be)
{
  LlConvGeom g = swapped_geom(b, 1);
  return be->conv2d_workspace(&g);
}

const LlBlockDesc ll_block_conv_transpose2d = {
    .type = "ConvTranspose2d",
    .category = "Convolution",
    .help = "Transposed 2-D convolution (learned upsampling): (C, H, W) -> (out_channels, OH, OW).",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = convt_infer,
    .workspace = convt_workspace,
    .forward = convt_forward,
    .backward = convt_backward,
};

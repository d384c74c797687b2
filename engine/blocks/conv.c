/* conv.c: Conv1d and Conv2d, like torch.nn.Conv1d / Conv2d.
 * x (N, C, [H,] W) -> y (N, OC, [OH,] OW); weight (OC, C/groups, [K,] K),
 * bias (OC). The workspace the kernels need sits in b->saved. */
#include "conv.h"

#include "spatial.h"

enum { P_OUT, P_KERNEL, P_STRIDE, P_PAD, P_DIL, P_GROUPS, P_BIAS, P_INIT };

const LlPropDesc ll_conv_props[] = {
    [P_OUT] = {"out_channels", LL_PROP_INT, "channels of the output", 16, 1, 1 << 16},
    [P_KERNEL] = {"kernel", LL_PROP_INT, "kernel size (square)", 3, 1, 1024},
    [P_STRIDE] = {"stride", LL_PROP_INT, "step between windows", 1, 1, 1024},
    [P_PAD] = {"padding", LL_PROP_INT, "zeros added on each side", 0, 0, 1024},
    [P_DIL] = {"dilation", LL_PROP_INT, "spacing between kernel taps", 1, 1, 1024},
    [P_GROUPS] = {"groups", LL_PROP_INT,
                  "independent channel groups (input and output channels must be multiples)", 1, 1,
                  1 << 16},
    [P_BIAS] = {"bias", LL_PROP_BOOL, "learn an additive bias per output channel", 1},
    [P_INIT] = {"init", LL_PROP_CHOICE, "weight initialisation (default: PyTorch's uniform)", 3,
                .choices = ll_init_choices},
};
G_STATIC_ASSERT(G_N_ELEMENTS(ll_conv_props) == 8);

enum { W, B };

static LlConvGeom conv_geom(const LlBlock *b, int n)
{
  const LlShape *in = &b->in_shape[0];
  gboolean two_d = b->desc->variant == 2;
  int k = LL_PROP_I(b, P_KERNEL), s = LL_PROP_I(b, P_STRIDE), p = LL_PROP_I(b, P_PAD);
  int d = LL_PROP_I(b, P_DIL);
  LlConvGeom g = {
      .n = n,
      .c = in->d[0],
      .h = two_d ? in->d[1] : 1,
      .w = in->d[in->rank - 1],
      .oc = LL_PROP_I(b, P_OUT),
      .kh = two_d ? k : 1,
      .kw = k,
      .sh = two_d ? s : 1,
      .sw = s,
      .ph = two_d ? p : 0,
      .pw = p,
      .dh = two_d ? d : 1,
      .dw = d,
      .groups = LL_PROP_I(b, P_GROUPS),
  };
  g.oh = ll_window_out(g.h, g.kh, g.sh, g.ph, g.dh);
  g.ow = ll_window_out(g.w, g.kw, g.sw, g.pw, g.dw);
  return g;
}

gboolean ll_conv_infer(LlBlock *b, GError **error)
{
  gboolean two_d = b->desc->variant == 2;
  if (!ll_block_check_rank(b, two_d ? 3 : 2, two_d ? "(C, H, W)" : "(C, L)", error))
    return FALSE;
  LlConvGeom g = conv_geom(b, 1);
  if (g.c % g.groups || g.oc % g.groups) {
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "property \"groups\" = %d must divide both the %d input channels and the %d "
                   "output channels (\"out_channels\")",
                   g.groups, g.c, g.oc);
    return FALSE;
  }
  if (!ll_block_check_window(b, g.kw, g.dw, g.pw, two_d ? g.h : 0, g.w, error))
    return FALSE;
  int k = g.kw, cg = g.c / g.groups;
  LlInit init = ll_init_from_choice(LL_PROP_C(b, P_INIT));
  int fan_in = cg * g.kh * g.kw, fan_out = g.oc * g.kh * g.kw;
  if (two_d) {
    b->out_shape = ll_shape_make(3, (int[]){g.oc, g.oh, g.ow});
    ll_block_add_param(b, "weight", ll_shape_make(4, (int[]){g.oc, cg, k, k}), init, fan_in,
                       fan_out, TRUE);
  } else {
    b->out_shape = ll_shape_make(2, (int[]){g.oc, g.ow});
    ll_block_add_param(b, "weight", ll_shape_make(3, (int[]){g.oc, cg, k}), init, fan_in, fan_out,
                       TRUE);
  }
  if (LL_PROP_B(b, P_BIAS))
    ll_block_add_param(b, "bias", ll_shape_make(1, &g.oc),
                       init == LL_INIT_UNIFORM_FAN_IN ? init : LL_INIT_ZEROS, fan_in, fan_out,
                       TRUE);
  /* The CPU kernels' workspace does not grow with the batch. */
  b->saved_fixed = ll_cpu_backend()->conv2d_workspace(&g);
  b->flops = 2 * (int64_t)g.oc * g.oh * g.ow * fan_in;
  ll_block_rf_window(b, k, g.dw, g.sw);
  return TRUE;
}

/* The kernels' workspace does not grow with the batch: sized at batch 1. */
size_t ll_conv_workspace(const LlBlock *b, const LlBackend *be)
{
  LlConvGeom g = conv_geom(b, 1);
  return be->conv2d_workspace(&g);
}

void ll_conv_forward(LlBlock *b, const LlRunCtx *ctx)
{
  LlConvGeom g = conv_geom(b, ctx->batch);
  const float *x = b->inputs[0]->out; /* (N, C, H, W) */
  ctx->be->conv2d_forward(&g, x, b->params[W].data, b->out, b->saved);
  if (b->n_params > B)
    ctx->be->bias_add(b->out, b->params[B].data, g.n, g.oc, g.oh * g.ow);
}

void ll_conv_backward(LlBlock *b, const LlRunCtx *ctx)
{
  LlConvGeom g = conv_geom(b, ctx->batch);
  const float *x = b->inputs[0]->out; /* (N, C, H, W) */
  float *dx = b->inputs[0]->dout;     /* (N, C, H, W) or NULL */
  const float *dy = b->dout;          /* (N, OC, OH, OW) */
  if (dx)
    ctx->be->conv2d_backward_data(&g, b->params[W].data, dy, dx, b->saved);
  ctx->be->conv2d_backward_filter(&g, x, dy, b->params[W].grad, b->saved);
  if (b->n_params > B)
    ctx->be->bias_backward(dy, b->params[B].grad, g.n, g.oc, g.oh * g.ow);
}

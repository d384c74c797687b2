/* pool.c: properties and shape inference shared by the 2-D pooling blocks.
 * Windows are floor-mode (PyTorch's ceil_mode=False). */
#include "pool.h"

#include "spatial.h"

const LlPropDesc ll_pool_props[] = {
    [LL_POOL_P_KERNEL] = {"kernel", LL_PROP_INT, "window size (square)", 2, 1, 1024},
    [LL_POOL_P_STRIDE] = {"stride", LL_PROP_INT, "step between windows (0: the kernel size)", 0, 0,
                          1024, .zero_is = "kernel"},
    [LL_POOL_P_PAD] = {"padding", LL_PROP_INT, "added on each side (at most half the kernel)", 0, 0,
                       512},
};

LlPoolGeom ll_pool_geom(const LlBlock *b, int n)
{
  const LlShape *in = &b->in_shape[0];
  int k = LL_PROP_I(b, LL_POOL_P_KERNEL), s = LL_PROP_I(b, LL_POOL_P_STRIDE);
  int p = LL_PROP_I(b, LL_POOL_P_PAD);
  if (s == 0)
    s = k;
  LlPoolGeom g = {.n = n,
                  .c = in->d[0],
                  .h = in->d[1],
                  .w = in->d[2],
                  .kh = k,
                  .kw = k,
                  .sh = s,
                  .sw = s,
                  .ph = p,
                  .pw = p};
  g.oh = ll_window_out(g.h, k, s, p, 1);
  g.ow = ll_window_out(g.w, k, s, p, 1);
  return g;
}

gboolean ll_pool_infer(LlBlock *b, GError **error)
{
  if (!ll_block_check_rank(b, 3, "(C, H, W)", error))
    return FALSE;
  LlPoolGeom g = ll_pool_geom(b, 1);
  if (2 * g.ph > g.kh) {
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                   "property \"padding\" = %d is more than half the kernel (%d)", g.ph, g.kh);
    return FALSE;
  }
  if (!ll_block_check_window(b, g.kh, 1, g.ph, g.h, g.w, error))
    return FALSE;
  b->out_shape = ll_shape_make(3, (int[]){g.c, g.oh, g.ow});
  b->flops = (int64_t)g.c * g.oh * g.ow * g.kh * g.kw;
  ll_block_rf_window(b, g.kh, 1, g.sh);
  return TRUE;
}

/* spatial.c: shape and receptive-field helpers of the conv and pool blocks. */
#include "spatial.h"

int ll_window_out(int n, int k, int stride, int pad, int dilation)
{
  int span = dilation * (k - 1) + 1;
  if (n + 2 * pad < span)
    return 0;
  return (n + 2 * pad - span) / stride + 1;
}

gboolean ll_block_check_rank(LlBlock *b, int rank, const char *layout, GError **error)
{
  if (b->in_shape[0].rank == rank)
    return TRUE;
  char buf[64];
  ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE, "expects a %s input per sample, got %s", layout,
                 ll_shape_format(&b->in_shape[0], buf, sizeof buf));
  return FALSE;
}

gboolean ll_block_check_window(LlBlock *b, int k, int dilation, int pad, int h, int w,
                               GError **error)
{
  int span = dilation * (k - 1) + 1;
  if (w + 2 * pad >= span && (h == 0 || h + 2 * pad >= span))
    return TRUE;
  g_autofree char *kernel = h ? g_strdup_printf("%dx%d", k, k) : g_strdup_printf("%d", k);
  g_autofree char *input = h ? g_strdup_printf("%dx%d", h, w) : g_strdup_printf("%d", w);
  g_autofree char *dil = dilation > 1
                             ? g_strdup_printf(" (spanning %d with dilation %d)", span, dilation)
                             : g_strdup("");
  g_autofree char *padded = pad > 0
                                ? (h ? g_strdup_printf(" (%dx%d padded)", h + 2 * pad, w + 2 * pad)
                                     : g_strdup_printf(" (%d padded)", w + 2 * pad))
                                : g_strdup("");
  ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE, "kernel %s%s is larger than its %s input%s",
                 kernel, dil, input, padded);
  return FALSE;
}

void ll_block_rf_window(LlBlock *b, int k, int dilation, int stride)
{
  int rf_in = b->inputs[0] ? b->inputs[0]->rf : 1, jump_in = b->inputs[0] ? b->inputs[0]->jump : 1;
  if (jump_in < 1)
    jump_in = 1;
  b->rf = rf_in == 0 ? 0 : rf_in + (k - 1) * dilation * jump_in;
  b->jump = jump_in * stride;
}

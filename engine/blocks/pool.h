/* pool.h: what MaxPool2d and AvgPool2d share: their properties (kernel,
 * stride with 0 meaning the kernel size, padding) and shape inference. */
#pragma once

#include "block.h"

enum { LL_POOL_P_KERNEL, LL_POOL_P_STRIDE, LL_POOL_P_PAD };

extern const LlPropDesc ll_pool_props[]; /* 3 entries */

LlPoolGeom ll_pool_geom(const LlBlock *b, int n);
/* Checks the input (C, H, W) and the window; sets out_shape, flops, rf. */
gboolean ll_pool_infer(LlBlock *b, GError **error);

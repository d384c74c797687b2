/* conv.h: the shared implementation of Conv1d and Conv2d. Each block file
 * holds only its descriptor; desc->variant is the number of spatial
 * dimensions (1: input (C, L), 2: input (C, H, W)). Conv1d runs the 2-D
 * kernels with h = kh = 1. */
#pragma once

#include "block.h"

extern const LlPropDesc ll_conv_props[]; /* 8 entries */

gboolean ll_conv_infer(LlBlock *b, GError **error);
void ll_conv_forward(LlBlock *b, const LlRunCtx *ctx);
void ll_conv_backward(LlBlock *b, const LlRunCtx *ctx);
size_t ll_conv_workspace(const LlBlock *b, const LlBackend *be);

#define LL_CONV_DESC(TYPE, DIMS, HELP)                                                             \
  {                                                                                                \
    .type = TYPE, .category = "Convolution", .help = HELP, .props = ll_conv_props, .n_props = 8,   \
    .min_inputs = 1, .max_inputs = 1, .variant = DIMS, .infer = ll_conv_infer,                     \
    .workspace = ll_conv_workspace, .forward = ll_conv_forward, .backward = ll_conv_backward,      \
  }

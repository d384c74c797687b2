/* batchnorm.h: the shared implementation of BatchNorm1d and BatchNorm2d.
 *
 * Both normalise x(N, C, inner) per channel C; they differ only in the input
 * shapes they accept, which desc->variant tells apart (1 or 2). The
 * properties are, in order: momentum, eps, affine. Parameters and buffers
 * carry PyTorch's names (weight, bias, running_mean, running_var) so
 * checkpoints load into torch.nn.BatchNorm*d. */
#pragma once

#include "block.h"

gboolean ll_batchnorm_infer(LlBlock *b, GError **error);
void ll_batchnorm_forward(LlBlock *b, const LlRunCtx *ctx);
void ll_batchnorm_backward(LlBlock *b, const LlRunCtx *ctx);

#define LL_BATCHNORM_N_PROPS 3
extern const LlPropDesc ll_batchnorm_props[LL_BATCHNORM_N_PROPS];

#define LL_BATCHNORM_DESC(TYPE, VARIANT, HELP)                                                     \
  {                                                                                                \
    .type = TYPE, .category = "Normalisation", .help = HELP, .props = ll_batchnorm_props,          \
    .n_props = LL_BATCHNORM_N_PROPS, .min_inputs = 1, .max_inputs = 1, .variant = VARIANT,         \
    .infer = ll_batchnorm_infer, .forward = ll_batchnorm_forward,                                  \
    .backward = ll_batchnorm_backward,                                                             \
  }

/* activation.h: the shared implementation of the element-wise activation
 * blocks (ReLU, LeakyReLU, ELU, GELU, Sigmoid, Tanh). Each block file holds
 * only its descriptor; desc->variant is its LlActivation, and its optional
 * first property (negative_slope, alpha) is the activation's parameter. */
#pragma once

#include "block.h"

gboolean ll_activation_infer(LlBlock *b, GError **error);
void ll_activation_forward(LlBlock *b, const LlRunCtx *ctx);
void ll_activation_backward(LlBlock *b, const LlRunCtx *ctx);

#define LL_ACTIVATION_DESC(TYPE, ACT, HELP, PROPS, NPROPS)                                         \
  {                                                                                                \
    .type = TYPE, .category = "Activation", .help = HELP, .props = PROPS, .n_props = NPROPS,       \
    .min_inputs = 1, .max_inputs = 1, .variant = ACT, .infer = ll_activation_infer,                \
    .forward = ll_activation_forward, .backward = ll_activation_backward,                          \
  }

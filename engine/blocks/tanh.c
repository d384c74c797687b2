/* Tanh: Hyperbolic tangent. */
#include "activation.h"

const LlBlockDesc ll_block_tanh =
    LL_ACTIVATION_DESC("Tanh", LL_ACT_TANH, "Hyperbolic tangent.", NULL, 0);

/* GELU: x * Phi(x), the exact Gaussian error linear unit. */
#include "activation.h"

const LlBlockDesc ll_block_gelu = LL_ACTIVATION_DESC(
    "GELU", LL_ACT_GELU, "x * Phi(x), the exact Gaussian error linear unit.", NULL, 0);

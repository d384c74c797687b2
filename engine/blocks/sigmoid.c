/* Sigmoid: 1 / (1 + exp(-x)). */
#include "activation.h"

const LlBlockDesc ll_block_sigmoid =
    LL_ACTIVATION_DESC("Sigmoid", LL_ACT_SIGMOID, "1 / (1 + exp(-x)).", NULL, 0);

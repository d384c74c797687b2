/* ReLU: max(x, 0). */
#include "activation.h"

const LlBlockDesc ll_block_relu = LL_ACTIVATION_DESC("ReLU", LL_ACT_RELU, "max(x, 0).", NULL, 0);

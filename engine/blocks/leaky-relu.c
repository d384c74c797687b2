/* LeakyReLU: x for x > 0, negative_slope * x otherwise. */
#include "activation.h"

static const LlPropDesc props[] = {
    {"negative_slope", LL_PROP_FLOAT, "slope for negative inputs", 0.01, 0.0, 1.0},
};
const LlBlockDesc ll_block_leaky_relu = LL_ACTIVATION_DESC(
    "LeakyReLU", LL_ACT_LEAKY_RELU, "x for x > 0, negative_slope * x otherwise.", props, 1);

/* ELU: x for x > 0, alpha * (exp(x) - 1) otherwise. */
#include "activation.h"

static const LlPropDesc props[] = {
    {"alpha", LL_PROP_FLOAT, "value the output saturates to for large negative inputs", 1.0, 0.0,
     100.0},
};
const LlBlockDesc ll_block_elu =
    LL_ACTIVATION_DESC("ELU", LL_ACT_ELU, "x for x > 0, alpha * (exp(x) - 1) otherwise.", props, 1);

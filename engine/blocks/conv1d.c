/* Conv1d: 1-D convolution over (C, L), like torch.nn.Conv1d (see conv.c). */
#include "conv.h"

const LlBlockDesc ll_block_conv1d =
    LL_CONV_DESC("Conv1d", 1, "1-D convolution: (C, L) -> (out_channels, OL).");

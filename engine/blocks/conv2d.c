/* Conv2d: 2-D convolution over (C, H, W), like torch.nn.Conv2d (see conv.c). */
#include "conv.h"

const LlBlockDesc ll_block_conv2d =
    LL_CONV_DESC("Conv2d", 2, "2-D convolution: (C, H, W) -> (out_channels, OH, OW).");

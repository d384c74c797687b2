/* BatchNorm2d: batch normalisation of images (C, H, W) per channel, like
 * torch.nn.BatchNorm2d. */
#include "batchnorm.h"

const LlBlockDesc ll_block_batchnorm2d =
    LL_BATCHNORM_DESC("BatchNorm2d", 2, "Normalises each channel of an image over the batch.");

/* BatchNorm1d: batch normalisation of features (F) or sequences (C, L), like
 * torch.nn.BatchNorm1d. */
#include "batchnorm.h"

const LlBlockDesc ll_block_batchnorm1d = LL_BATCHNORM_DESC(
    "BatchNorm1d", 1, "Normalises each feature (or channel of a sequence) over the batch.");

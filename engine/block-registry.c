/* block-registry.c: every block type LlGraph knows. Adding a block type is
 * one file in blocks/ and one line in each list below. */
#include "block.h"

extern const LlBlockDesc ll_block_input;
extern const LlBlockDesc ll_block_linear;
extern const LlBlockDesc ll_block_relu;
extern const LlBlockDesc ll_block_leaky_relu;
extern const LlBlockDesc ll_block_elu;
extern const LlBlockDesc ll_block_gelu;
extern const LlBlockDesc ll_block_sigmoid;
extern const LlBlockDesc ll_block_tanh;
extern const LlBlockDesc ll_block_conv1d;
extern const LlBlockDesc ll_block_conv2d;
extern const LlBlockDesc ll_block_conv_transpose2d;
extern const LlBlockDesc ll_block_maxpool2d;
extern const LlBlockDesc ll_block_avgpool2d;
extern const LlBlockDesc ll_block_global_avg_pool;

static const LlBlockDesc *const registry[] = {
  &ll_block_input,
  &ll_block_linear,
  &ll_block_relu,
  &ll_block_leaky_relu,
  &ll_block_elu,
  &ll_block_gelu,
  &ll_block_sigmoid,
  &ll_block_tanh,
  &ll_block_conv1d,
  &ll_block_conv2d,
  &ll_block_conv_transpose2d,
  &ll_block_maxpool2d,
  &ll_block_avgpool2d,
  &ll_block_global_avg_pool,
};

const LlBlockDesc *const *ll_block_registry(int *n)
{
  *n = G_N_ELEMENTS(registry);
  return registry;
}

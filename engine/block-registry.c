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
extern const LlBlockDesc ll_block_batchnorm1d;
extern const LlBlockDesc ll_block_batchnorm2d;
extern const LlBlockDesc ll_block_layernorm;
extern const LlBlockDesc ll_block_dropout;
extern const LlBlockDesc ll_block_softmax;
extern const LlBlockDesc ll_block_flatten;
extern const LlBlockDesc ll_block_reshape;
extern const LlBlockDesc ll_block_concat;
extern const LlBlockDesc ll_block_add;
extern const LlBlockDesc ll_block_rnn;
extern const LlBlockDesc ll_block_lstm;
extern const LlBlockDesc ll_block_gru;
extern const LlBlockDesc ll_block_embedding;
extern const LlBlockDesc ll_block_conv1d;
extern const LlBlockDesc ll_block_conv2d;
extern const LlBlockDesc ll_block_conv_transpose2d;
extern const LlBlockDesc ll_block_maxpool2d;
extern const LlBlockDesc ll_block_avgpool2d;
extern const LlBlockDesc ll_block_global_avg_pool;
extern const LlBlockDesc ll_block_upsample;

static const LlBlockDesc *const registry[] = {
    &ll_block_input,
    &ll_block_linear,
    &ll_block_relu,
    &ll_block_leaky_relu,
    &ll_block_elu,
    &ll_block_gelu,
    &ll_block_sigmoid,
    &ll_block_tanh,
    &ll_block_batchnorm1d,
    &ll_block_batchnorm2d,
    &ll_block_layernorm,
    &ll_block_dropout,
    &ll_block_softmax,
    &ll_block_flatten,
    &ll_block_reshape,
    &ll_block_concat,
    &ll_block_add,
    &ll_block_rnn,
    &ll_block_lstm,
    &ll_block_gru,
    &ll_block_embedding,
    &ll_block_conv1d,
    &ll_block_conv2d,
    &ll_block_conv_transpose2d,
    &ll_block_maxpool2d,
    &ll_block_avgpool2d,
    &ll_block_global_avg_pool,
    &ll_block_upsample,
};

const LlBlockDesc *const *ll_block_registry(int *n)
{
  *n = G_N_ELEMENTS(registry);
  return registry;
}

/* Input: where a batch enters the graph. The trainer (or a test) writes the
 * batch into the block's output; the spec binds it to a data field by name. */
#include "block.h"

enum { P_SHAPE };

static const LlPropDesc props[] = {
    [P_SHAPE] = {"shape", LL_PROP_SHAPE,
                 "shape of one sample, without the batch: C,H,W or T,F or F", .min = 1,
                 .max = 1 << 20, .def_shape = {3, {1, 28, 28}}},
};

static gboolean input_infer(LlBlock *b, GError **error)
{
  b->out_shape = *LL_PROP_S(b, P_SHAPE);
  b->rf = 1;
  b->jump = 1;
  return TRUE;
}

const LlBlockDesc ll_block_input = {
    .type = "Input",
    .category = "Input",
    .help = "A graph input: one sample of the given shape per batch row.",
    .props = props,
    .n_props = G_N_ELEMENTS(props),
    .min_inputs = 0,
    .max_inputs = 0,
    .infer = input_infer,
};

/* graph.h: a DAG of blocks, compiled once for a batch size.
 *
 * Life of a graph: add blocks and set their properties (the spec parser does
 * this), resolve (connect names, order, detect cycles), infer (shapes,
 * parameter counts, FLOPs, receptive fields: enough for a summary), compile
 * for a backend and a batch size (one arena holds every parameter, gradient,
 * activation and saved state: a step allocates nothing), init params, then
 * forward / backward as often as needed.
 */
#pragma once

#include "block.h"
#include "rng.h"

G_BEGIN_DECLS

typedef struct LlGraph LlGraph;

struct LlGraph {
  GPtrArray *blocks; /* LlBlock*, in the order they were added */
  GPtrArray *order;  /* LlBlock*, topological, after resolve */
  gboolean inferred;
  gboolean grad_inputs; /* set before compile to get gradients of Input blocks */
  gboolean fuse; /* set before compile: ReLU -> Dropout runs as one pass (LlBlock.absorbed) */
  const LlBlock *error_block; /* the block the last resolve/infer error is about */

  /* after compile */
  const LlBackend *be;
  int batch;
  void *arena;
  size_t arena_floats;
  float *params;    /* every trainable parameter, contiguous */
  float *grads;     /* same layout as params */
  size_t n_params;  /* floats in params */
  size_t n_buffers; /* floats of non-trainable state */
  size_t n_zeroed;  /* floats from grads on that each step clears: the param grads and
                       the douts that are accumulated (LlBlock.dout_written ones lie after) */
  float *outs;      /* start of the outputs and saved state in the arena */

  /* after ll_graph_compile_eval: outputs and saved state for a larger
   * inference batch, in their own allocation (no gradients) */
  void *eval_arena;
  int eval_batch;
};

LlGraph *ll_graph_new(void);
void ll_graph_free(LlGraph *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlGraph, ll_graph_free)

/* Adds a block of a registered type with default properties. */
LlBlock *ll_graph_add(LlGraph *g, const char *type, const char *name, GError **error);
LlBlock *ll_graph_find(LlGraph *g, const char *name);
/* Connects: appends input_name as the block's next input. */
void ll_block_connect(LlBlock *b, const char *input_name);

/* Sets a property from text ("3", "relu", "1,28,28"), checking type and range. */
gboolean ll_block_set_prop_string(LlBlock *b, const char *prop, const char *value, GError **error);
gboolean ll_block_set_prop_value(LlBlock *b, int index, const LlPropValue *v, GError **error);

gboolean ll_graph_resolve(LlGraph *g, GError **error);
gboolean ll_graph_infer(LlGraph *g, GError **error);
/* Resolve and infer as far as they go, for an editor: every block gets a
 * status (LlBlock.status); blocks that read no failed block get their
 * shapes, params and FLOPs, so one wrong block leaves the rest known.
 * Returns FALSE with the first error (g->error_block is its block); the
 * graph is inferred only when it returns TRUE. */
gboolean ll_graph_infer_partial(LlGraph *g, GError **error);
/* Allocates the arena for this backend and batch size. Requires infer. */
gboolean ll_graph_compile(LlGraph *g, const LlBackend *be, int batch, GError **error);
void ll_graph_init_params(LlGraph *g, LlRng *rng);

/* Floats of outputs and saved state for a batch: what inference at that
 * batch needs besides the parameters (needs infer). */
size_t ll_graph_activation_floats(LlGraph *g, int batch);
/* Inference at a larger batch than the training one: allocates outputs and
 * saved state for batch samples (the parameters are shared). Between
 * ll_graph_use_eval(g, TRUE) and (g, FALSE) the blocks' out and saved point
 * there and forward may run with up to g->eval_batch samples; backward must
 * not run. Compiling again drops it. ll_graph_use_eval(g, FALSE) works
 * without one too: it puts every out back in the training arena. */
gboolean ll_graph_compile_eval(LlGraph *g, int batch, GError **error);
void ll_graph_use_eval(LlGraph *g, gboolean on);

/* The Input blocks, in the order they were added. */
GPtrArray *ll_graph_inputs(LlGraph *g);

/* Gives an Input block n samples for the next step. On a backend with host
 * memory the block (and the views of it) point at data, which must stay
 * unchanged until the step ends (ll_graph_use_eval puts them back in the
 * arena); elsewhere it is uploaded. */
void ll_graph_feed(LlGraph *g, LlBlock *input, const float *data, int n);
void ll_graph_forward(LlGraph *g, const LlRunCtx *ctx);
/* Zeroes every dout and every trainable grad. */
void ll_graph_zero_grads(LlGraph *g, const LlRunCtx *ctx);
/* Runs backward in reverse order; the head douts must already hold the
 * loss gradients. */
void ll_graph_backward(LlGraph *g, const LlRunCtx *ctx);

size_t ll_graph_param_count(LlGraph *g); /* trainable floats (needs infer) */
int64_t ll_graph_flops(LlGraph *g);      /* forward per sample (needs infer) */

G_END_DECLS

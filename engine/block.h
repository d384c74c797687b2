/* block.h: a block is the unit the user places on the canvas and the unit
 * of compute.
 *
 * Each block type lives in one file of engine/blocks/ and exports one
 * LlBlockDesc: its typed properties (which the inspector and `layerlab
 * blocks` are generated from), shape inference, and forward and backward
 * side by side. The registry (block-registry.c) lists the descriptors.
 *
 * Shapes here are per sample: the batch dimension N is added when a graph is
 * compiled, and every op receives the batch of the step from LlRunCtx.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "backend.h"

G_BEGIN_DECLS

#define LL_MAX_DIMS   4
#define LL_MAX_PROPS  16
#define LL_MAX_INPUTS 8
#define LL_MAX_PARAMS 8

typedef struct {
  int rank;
  int d[LL_MAX_DIMS];
} LlShape;

size_t ll_shape_size(const LlShape *s);
LlShape ll_shape_make(int rank, const int *dims);
/* "(1, 28, 28)" into buf; returns buf */
char *ll_shape_format(const LlShape *s, char *buf, size_t len);
gboolean ll_shape_equal(const LlShape *a, const LlShape *b);

typedef enum {
  LL_PROP_INT,
  LL_PROP_FLOAT,
  LL_PROP_BOOL,
  LL_PROP_CHOICE, /* one of a fixed list of strings */
  LL_PROP_SHAPE,  /* a list of 1..LL_MAX_DIMS positive ints */
} LlPropType;

typedef struct {
  const char *name;
  LlPropType type;
  const char *help;
  double def;                 /* INT, FLOAT, BOOL: default; CHOICE: index into choices */
  double min, max;            /* INT, FLOAT: inclusive range; SHAPE: range of each entry */
  const char *const *choices; /* CHOICE: NULL-terminated */
  LlShape def_shape;          /* SHAPE: default */
  /* INT, OPTIONAL: 0 stands for this other property's value (a pooling
   * stride of 0 is the kernel size) */
  const char *zero_is;
} LlPropDesc;

typedef struct {
  LlPropType type;
  union {
    int64_t i;
    double f;
    gboolean b;
    int choice;
    LlShape shape;
  };
} LlPropValue;

/* Weight initialisation, chosen per block by its "init" property. */
typedef enum {
  LL_INIT_KAIMING, /* He normal, fan_in, gain sqrt(2) */
  LL_INIT_XAVIER,  /* Glorot uniform */
  LL_INIT_ZEROS,
  LL_INIT_ONES,
  LL_INIT_UNIFORM_FAN_IN, /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default */
} LlInit;

extern const char *const ll_init_choices[]; /* "kaiming", "xavier", "zeros", "default" */
/* Maps the "init" property's choice index to an LlInit for weights. */
LlInit ll_init_from_choice(int choice);

/* A learnable tensor (or, with trainable = FALSE, a buffer such as
 * BatchNorm's running statistics) owned by a block. data and grad point into
 * the graph's arena once it is compiled. */
typedef struct {
  const char *name; /* "weight", "bias", "running_mean" */
  LlShape shape;
  LlInit init;
  int fan_in, fan_out;
  gboolean trainable;
  float *data;
  float *grad; /* NULL for buffers */
} LlParam;

typedef struct LlBlock LlBlock;
/* LL_BLOCK_FAILED: the block itself is wrong (its connections, properties or
 * input shapes); LL_BLOCK_DOWNSTREAM: it reads a failed block, so its shape
 * is not known. */
typedef enum { LL_BLOCK_OK, LL_BLOCK_FAILED, LL_BLOCK_DOWNSTREAM } LlBlockStatus;
typedef struct LlBlockDesc LlBlockDesc;

/* What a step needs to know besides the tensors. */
typedef struct {
  const LlBackend *be;
  int batch; /* samples in this step, at most the compiled batch */
  gboolean training;
  uint64_t seed; /* the run's seed, for dropout */
  uint64_t step; /* global step, so every step draws fresh masks */
} LlRunCtx;

struct LlBlockDesc {
  const char *type;     /* "Conv2d" */
  const char *category; /* "Convolution": the palette groups by it */
  const char *help;     /* one sentence */
  const LlPropDesc *props;
  int n_props;
  int min_inputs, max_inputs; /* Input: 0, 0; Concat: 2, LL_MAX_INPUTS */
  int variant;                /* a constant for implementations shared by several types
                               * (the LlActivation of an activation block) */
  /* The output is input 0's data with another shape (Flatten, Reshape): the
   * compiler points out and dout at the input's, so the block costs no copy
   * and needs no forward or backward. */
  gboolean view;

  /* Checks the properties against the input shapes (b->in_shape), sets
   * b->out_shape, declares params (ll_block_add_param), the saved-state
   * size for backward (b->saved_per_sample, b->saved_fixed), b->flops and
   * the receptive field. Errors name the block and the property. */
  gboolean (*infer)(LlBlock *b, GError **error);
  /* The floats of b->saved_fixed the compiling backend's kernels need, where
   * that depends on the backend (a conv's workspace: infer plans the CPU's,
   * the CUDA backend needs none). ll_graph_compile sets saved_fixed from it.
   * OPTIONAL (NULL: infer's value stands) */
  size_t (*workspace)(const LlBlock *b, const LlBackend *be);
  /* Called after the arena is carved, for blocks that point into it. OPTIONAL */
  void (*bind)(LlBlock *b);
  /* Reads b->inputs[i]->out, writes b->out (and saved state when training). */
  void (*forward)(LlBlock *b, const LlRunCtx *ctx);
  /* Reads b->dout; accumulates into b->inputs[i]->dout (when non-NULL) and
   * the params' grad. NULL for blocks with nothing to propagate. */
  void (*backward)(LlBlock *b, const LlRunCtx *ctx);
};

struct LlBlock {
  const LlBlockDesc *desc;
  char *name;
  LlPropValue props[LL_MAX_PROPS];
  gboolean frozen; /* params not updated (gradients still flow through) */

  /* Connections, by name as in the spec, then resolved. */
  int n_inputs;
  char *input_names[LL_MAX_INPUTS];
  LlBlock *inputs[LL_MAX_INPUTS];
  int n_consumers;

  /* Filled by infer. */
  LlShape in_shape[LL_MAX_INPUTS];
  LlShape out_shape;
  LlParam params[LL_MAX_PARAMS];
  int n_params;
  size_t saved_per_sample; /* floats of saved state per sample */
  size_t saved_fixed;      /* floats of saved state independent of batch */
  int64_t flops;           /* forward, per sample (2 per multiply-add) */
  int rf;                  /* receptive field along one spatial axis; 0: whole input */
  int jump;                /* distance in input pixels between adjacent outputs */

  /* Filled by compile: pointers into the graph's arena. */
  float *out;          /* (N, out_shape) */
  float *dout;         /* (N, out_shape); NULL when nothing upstream needs it */
  float *saved;        /* saved_fixed + N * saved_per_sample */
  gboolean needs_grad; /* backward runs: it or something upstream learns */
  /* Set before compile: the output is read from outside the graph (a loss
   * head, the recorded embedding), so it is never fused away. */
  gboolean keep_output;
  /* Set by compile (with LlGraph.fuse): a ReLU that runs inside its only
   * consumer, a Dropout; its out is not written and it has no dout. */
  gboolean absorbed;
  /* Set by compile (with LlGraph.fuse): a BatchNorm whose only consumer is a
   * ReLU runs that ReLU, and the Dropout the ReLU is absorbed into if any, in
   * its own passes (backend batchnorm_relu_*): it writes chain_end's output
   * and reads chain_end's gradient; its own out is not written and it has no
   * dout. NULL otherwise. */
  LlBlock *chain_end;
  /* Set by compile: the ReLU or Dropout at the end of such a chain, run by
   * the BatchNorm: its own forward and backward are skipped. */
  gboolean chained;
  /* Set by compile (with LlGraph.fuse, backend linear_forward): a Linear
   * whose only consumer is a ReLU applies that ReLU to its own out as it
   * computes it; the ReLU (relu_by_input) shares the Linear's out, skips its
   * forward and runs only its backward, whose mask x > 0 reads the same
   * values. */
  gboolean applies_relu;
  gboolean relu_by_input;
  /* Set by compile: the dout is written, not accumulated, by its only
   * consumer's backward (the BatchNorm of such a chain), so the step does
   * not clear it first. */
  gboolean dout_written;

  /* Set by ll_graph_infer_partial: whether the block's shape, params and
   * FLOPs are known. */
  LlBlockStatus status;
};

/* Property access by index (each block file enumerates its properties in the
 * order of its descriptor). */
#define LL_PROP_I(b, idx) ((int)(b)->props[idx].i)
#define LL_PROP_F(b, idx) ((float)(b)->props[idx].f)
#define LL_PROP_B(b, idx) ((b)->props[idx].b)
#define LL_PROP_C(b, idx) ((b)->props[idx].choice)
#define LL_PROP_S(b, idx) (&(b)->props[idx].shape)

/* A property's value as a reader takes it: "3", "relu", "(1, 28, 28)",
 * and for a 0 that stands for another property "2 (= kernel)". */
char *ll_block_format_prop(const LlBlock *b, int index, char *buf, size_t len);
/* For an INT property whose 0 stands for another property (zero_is): what
 * 0 means here, "2 (= kernel)"; NULL for any other property. */
char *ll_block_format_zero(const LlBlock *b, int index, char *buf, size_t len);

/* Declares a parameter; returns its index. */
int ll_block_add_param(LlBlock *b, const char *name, LlShape shape, LlInit init, int fan_in,
                       int fan_out, gboolean trainable);
LlParam *ll_block_param(LlBlock *b, const char *name);
size_t ll_block_param_count(const LlBlock *b); /* trainable floats */
size_t ll_block_out_size(const LlBlock *b);    /* per sample */

/* Sets the receptive field from the first input, for blocks that keep the
 * spatial grid. Spatial blocks compute their own. */
void ll_block_rf_passthrough(LlBlock *b);
/* For blocks that merge inputs (Add, Concat): the widest input's receptive
 * field (0, the whole input, wins) and the largest jump. */
void ll_block_rf_merge(LlBlock *b);

/* Dropout's mask: its probability p, and the counter generator's stream for
 * block b at a training step (the offset of the backend's dropout slots). */
float ll_dropout_p(const LlBlock *b);
uint64_t ll_dropout_stream(const LlBlock *b, uint64_t step);

/* The error domain for graph and spec errors. */
#define LL_GRAPH_ERROR (ll_graph_error_quark())
GQuark ll_graph_error_quark(void);
typedef enum {
  LL_GRAPH_ERROR_UNKNOWN_BLOCK,
  LL_GRAPH_ERROR_UNKNOWN_PROPERTY,
  LL_GRAPH_ERROR_BAD_VALUE,
  LL_GRAPH_ERROR_CONNECTION,
  LL_GRAPH_ERROR_CYCLE,
  LL_GRAPH_ERROR_SHAPE,
  LL_GRAPH_ERROR_MEMORY,
  LL_GRAPH_ERROR_UNSUPPORTED,
} LlGraphError;

/* Sets an error that starts with the block's name: block "conv3": ... */
void ll_block_error(GError **error, const LlBlock *b, LlGraphError code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* The registry. */
const LlBlockDesc *ll_block_lookup(const char *type);
const LlBlockDesc *const *ll_block_registry(int *n);
const LlPropDesc *ll_block_desc_prop(const LlBlockDesc *d, const char *name, int *index);

G_END_DECLS

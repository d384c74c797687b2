/* optimizer.h: the optimizers (PyTorch's torch.optim semantics) and global
 * gradient-norm clipping over a compiled graph.
 *
 * An optimizer allocates its state once, through the graph's backend, in
 * the layout of g->params (one flat array of g->n_params floats per state
 * kind), and updates the trainable params of the blocks that are not frozen
 * (b->frozen, read when the optimizer is created). Adjacent parameter
 * segments are merged so a step is a handful of fused kernel calls; the
 * padding between params in the arena is zero in data, grad and state, and
 * every update keeps it zero.
 *
 * The trainer calls ll_optimizer_step() once per batch after backward: it
 * clips the gradients first when the config's clip_norm > 0, so the step is
 * the one place where gradients are consumed (an all-reduce slots in before
 * it).
 */
#pragma once

#include "graph.h"

G_BEGIN_DECLS

typedef enum {
  LL_OPT_SGD,
  LL_OPT_ADAM,
  LL_OPT_ADAMW,
  LL_OPT_RMSPROP,
  LL_OPT_ADAGRAD,
} LlOptimKind;

/* The names the spec and the CLI use, indexed by LlOptimKind, NULL-terminated:
 * "sgd", "adam", "adamw", "rmsprop", "adagrad". */
extern const char *const ll_optim_kind_names[];

const char *ll_optim_kind_name(LlOptimKind kind);
/* Case-insensitive; the error lists the known names. */
gboolean ll_optim_kind_from_name(const char *name, LlOptimKind *kind, GError **error);

/* Hyperparameters; each kind reads the fields PyTorch's class takes and
 * ignores the rest. */
typedef struct {
  LlOptimKind kind;
  double lr;
  double momentum;     /* SGD, RMSprop */
  double dampening;    /* SGD */
  gboolean nesterov;   /* SGD: needs momentum > 0 and dampening 0 */
  double weight_decay; /* L2 added to the gradient; AdamW: decoupled, p *= 1 - lr wd */
  double beta1, beta2; /* Adam, AdamW */
  double eps;          /* Adam, AdamW, RMSprop, Adagrad */
  double alpha;        /* RMSprop smoothing constant */
  double clip_norm;    /* global L2 gradient-norm clipping before the step; 0 = off */
} LlOptimConfig;

/* PyTorch's defaults for the kind: SGD lr 1e-3, momentum 0; Adam lr 1e-3,
 * betas (0.9, 0.999), eps 1e-8; AdamW the same with weight_decay 1e-2;
 * RMSprop lr 1e-2, alpha 0.99, eps 1e-8; Adagrad lr 1e-2, eps 1e-10.
 * clip_norm 0. */
LlOptimConfig ll_optim_config_default(LlOptimKind kind);
/* Checks ranges (as PyTorch's constructors do); errors name the field. */
gboolean ll_optim_config_validate(const LlOptimConfig *c, GError **error);

typedef struct LlOptimizer LlOptimizer;

/* Needs a compiled graph with at least one trainable param in a block that
 * is not frozen, and a backend with the kind's update slot. The graph must
 * outlive every step; recompiling it (another batch size) is fine as long as
 * its parameters and backend stay the same (the state lives on that backend). */
LlOptimizer *ll_optimizer_new(LlGraph *g, const LlOptimConfig *c, GError **error);
void ll_optimizer_free(LlOptimizer *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlOptimizer, ll_optimizer_free)

const LlOptimConfig *ll_optimizer_config(const LlOptimizer *o);

/* One update of every unfrozen param from g->grads with learning rate lr
 * (the schedule's value for this step); clips first when clip_norm > 0.
 * Advances the step count. Allocates nothing. */
void ll_optimizer_step(LlOptimizer *o, float lr);
/* The gradient norm before clipping measured by the last step; -1 when
 * clipping is off (the norm is then not computed) or before the first step. */
float ll_optimizer_last_grad_norm(const LlOptimizer *o);

/* Steps taken (PyTorch's state "step"). Set it with the state arrays to
 * resume a run exactly. */
int64_t ll_optimizer_get_step(const LlOptimizer *o);
void ll_optimizer_set_step(LlOptimizer *o, int64_t step);

/* State arrays for checkpoints, named as PyTorch's optimizer state_dict
 * names them: SGD "momentum_buffer" (only with momentum > 0), Adam/AdamW
 * "exp_avg", "exp_avg_sq", RMSprop "square_avg" (+ "momentum_buffer" with
 * momentum > 0), Adagrad "sum". Each holds g->n_params floats in the layout
 * of g->params. */
int ll_optimizer_n_state(const LlOptimizer *o);
const char *ll_optimizer_state_name(const LlOptimizer *o, int i);
void ll_optimizer_state_download(const LlOptimizer *o, int i, float *host);
void ll_optimizer_state_upload(LlOptimizer *o, int i, const float *host);

/* Global L2 norm over the grads of the unfrozen trainable params; when it
 * exceeds max_norm, scales them by max_norm / (norm + 1e-6) (PyTorch's
 * clip_grad_norm_). Returns the norm before clipping; a non-finite norm is
 * returned and nothing is scaled. Needs a compiled graph; returns 0 when
 * nothing is trainable. Allocates a small device scratch per call: the
 * trainer's path is ll_optimizer_step with clip_norm set. */
float ll_clip_grad_norm(LlGraph *g, float max_norm);

G_END_DECLS

/* evaluate.h: the evaluation of a split: loss and metrics over an index
 * list in eval mode, and the analysis payload of an EVAL event (confusion
 * matrix, per-sample predictions, reconstructions, embeddings). The trainer
 * runs it after each epoch (validation) and at the end (test). */
#pragma once

#include "event.h"
#include "heads.h"

G_BEGIN_DECLS

typedef struct {
  double loss;
  double *per_loss;
  double *accuracy; /* per loss, NAN when it has none */
  double *mse;      /* per loss: a regression head's mean squared error, else NAN */
  double **entry;   /* per loss: each output's accuracy (LlLoss.entries), or NULL */
  gboolean binary;  /* the analysis head is binary: */
  double precision, recall, f1, auc; /* of class 1 at threshold 0.5; auc NAN when undefined */
} LlEvalResult;

/* Evaluation runs forward only, so it can take bigger batches than training:
 * fewer, larger GEMMs and fewer per-batch costs. Up to 1024 samples while
 * the activations fit in LL_EVAL_BUDGET (a small model's are a few KiB a
 * sample); a model that cannot go past its training batch within that stays
 * there, so peak memory grows by at most the budget. largest: the most
 * samples one evaluation takes. Returns the eval batch; the training batch
 * when no eval arena was made (note set when compiling one failed). */
int ll_evaluate_batch_size(LlHeads *h, guint largest, GError **note);
/* Loss and accuracy over an index list of pipe's dataset, in eval mode.
 * With ev, also the analysis payload (confusion matrix, reconstructions,
 * embeddings). FALSE when idx is empty. */
gboolean ll_evaluate(LlHeads *h, LlPipeline *pipe, const GArray *idx, LlEvalResult *r, LlEvent *ev);
void ll_eval_result_clear(LlEvalResult *r, guint n_losses);
/* Adds r's metrics to e, named "<prefix>_<what>" (see event.h). */
void ll_eval_add_metrics(const LlHeads *h, LlEvent *e, const char *prefix, const LlEvalResult *r);

G_END_DECLS

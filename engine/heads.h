/* heads.h: what a trainer runs on each batch: the graph's inputs fed, its
 * losses computed, predictions counted. The training loop (trainer.c) and
 * the evaluation (evaluate.c) share it; nothing outside the trainer uses it. */
#pragma once

#include "data.h"
#include "spec.h"

G_BEGIN_DECLS

/* A multi-label BCE head up to this wide reports each output's accuracy. */
#define LL_NAMED_ENTRIES 8

/* One loss of the spec, resolved against the graph and the data. */
typedef struct {
  const LlLossSpec *spec;
  LlBlock *head;
  float *target; /* device, batch x target size */
  LlShape tshape;
  size_t tsize;    /* per sample */
  int classes;     /* cross-entropy: head width */
  char *metric;    /* "accuracy" or "<head>_accuracy", NULL if none */
  gboolean binary; /* BCE on one logit per sample: a binary classifier */
  char **entries;  /* a BCE head of 2..LL_NAMED_ENTRIES outputs: each output's name */
} LlLoss;

/* The graph with its losses and the buffers that run them, for one run. */
typedef struct {
  const LlBackend *be;
  const LlSpec *s; /* bindings, seed, what the evaluations record */
  LlGraph *g;
  GPtrArray *inputs; /* the graph's Input blocks, looked up once */
  GArray *losses;    /* LlLoss */
  float *loss_dev;   /* one float per loss */
  float *argmax_dev;
  float *host_out;    /* batch x max head size */
  LlBlock *embed;     /* whose outputs the evaluations record, or NULL */
  char **class_names; /* the training set's (may be NULL) */
} LlHeads;

/* Copies a batch into the graph's inputs and the loss targets (device). */
void ll_heads_load_batch(LlHeads *h, const LlBatch *batch);
/* Runs the losses on the current forward pass; with grad, seeds the heads'
 * douts. Returns the weighted sum; per-loss values in out (may be NULL). */
double ll_heads_run_losses(LlHeads *h, int n, gboolean grad, double *out);
/* Counts correct predictions of loss l in this batch, adding the samples
 * (or outputs) counted to *total; entry_ok (may be NULL) adds each output's
 * count of a multi-label BCE head. */
int64_t ll_heads_count_correct(LlHeads *h, LlLoss *l, const LlBatch *batch, int64_t *total,
                               int64_t *entry_ok);

G_END_DECLS

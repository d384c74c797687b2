/* analysis.h: the analysis payloads (LL_EVENT_EVAL) of a run, on disk.
 *
 * So that any finished run can be reopened, the trainer writes each EVAL
 * event into the run folder:
 *   analysis/epoch-NNN.json          validation set after epoch NNN (split "val")
 *   analysis/test.json               the test set at the end (split "test")
 * holding the confusion matrix, the classification report (precision,
 * recall, F1, support), the class names, the reconstructions with their
 * samples' indices and the embedded block's name, and next to each, as
 * little-endian float32 NPY:
 *   <stem>-embed.npy (n_embed, embed_dim), <stem>-embed-labels.npy (n_embed)
 *   test-predictions.npy (n, 4): sample index, true class, predicted class,
 *                               confidence (softmax probability)
 */
#pragma once

#include "trainer.h"

G_BEGIN_DECLS

/* The block whose outputs a run records for the t-SNE view:
 * record.embedding_block when the spec names one, else the last hidden block
 * before the classifier (the input of the first cross-entropy head, past any
 * Dropout), else an autoencoder's bottleneck (the smallest output feeding a
 * loss on the input "x"; needs inferred shapes), else the input of the first
 * loss's head. NULL when record.embedding_samples is 0 or nothing fits. */
const char *ll_analysis_embedding_block(const LlSpec *s);
/* The block ll_analysis_embedding_block picks when the spec names none, as
 * a run of s would pick it: with the loss the trainer adds where the spec
 * has none. s is left as it was. */
const char *ll_analysis_default_embedding_block(LlSpec *s);

/* Writes ev (an LL_EVENT_EVAL) into run_dir/analysis/. */
gboolean ll_analysis_save(const char *run_dir, const LlEvent *ev, GError **error);
/* Reads every payload of run_dir back as LlEvents (kind LL_EVENT_EVAL):
 * the validation epochs in order, then the test set. A run without
 * analysis gives an empty array. */
GPtrArray *ll_analysis_load(const char *run_dir, GError **error);

/* The ROC AUC of scores (higher: more likely positive) against labels
 * (> 0.5: positive), computed exactly as the Mann-Whitney statistic: the
 * probability that a random positive scores above a random negative, ties
 * counting one half (average ranks). NAN when either class is absent or a
 * score is NaN. */
double ll_roc_auc(const float *score, const float *label, size_t n);

/* 2-D float32 NPY, C order (shape1 = 0 writes a 1-D array of shape0). */
gboolean ll_npy_write_f32(const char *path, const float *data, int shape0, int shape1,
                          GError **error);
/* Reads a float32 NPY of 1 or 2 dimensions; *shape1 is 1 for 1-D. */
float *ll_npy_read_f32(const char *path, int *shape0, int *shape1, GError **error);

G_END_DECLS

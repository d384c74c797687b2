/* block-output-export.h: a trained model's block outputs, written out for
 * other tools and later stages (block-output-export.c), or handed back for
 * the window's t-SNE of any block. */
#pragma once

#include "spec.h"

G_BEGIN_DECLS

/* Runs the trained model over the training and test sets and writes
 * dir/{train,test}_features.npy ((n, D) float32: block's output) and
 * dir/{train,test}_labels.npy ((n) int32: the "label" field). */
gboolean ll_export_embeddings(const LlSpec *spec, const char *checkpoint, const char *block,
                              const char *dir, GError **error);
/* The outputs of `block` for the first max_n samples of the test set (the
 * training set where the spec has none) in dataset order: features (n, D),
 * labels (n), and whether they index the test set. The window's t-SNE of
 * any block. */
gboolean ll_embed_block_test(const LlSpec *spec, const char *checkpoint, const char *block,
                             int max_n, float **features, int **labels, int *n, int *dim,
                             gboolean *from_test_set, GError **error);
/* Writes block's output for the first n test samples as CSV rows
 * "sample,step,target,output" (the output and target flattened per sample;
 * with sigmoid, the output goes through a logistic first: probabilities). */
gboolean ll_export_outputs_csv(const LlSpec *spec, const char *checkpoint, const char *block,
                               const char *target, int n, gboolean sigmoid, const char *path,
                               GError **error);

G_END_DECLS

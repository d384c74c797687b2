/* dataset-transforms.h: named transforms that derive extra batch fields from
 * a sample, for the presets that train on synthetic targets.
 *
 * The core pipeline (engine/data/pipeline.c) makes "x" and "label"; each
 * transform enabled by the pipeline's configuration then adds its fields:
 *   label_map      "mapped": label mapped through the config's label map
 *                  (E2 even/odd)
 *   rotation_task  "rotation": 0..3 quarter turns applied to x (E6's proxy
 *                  task; square images)
 *   random_field   "random": an integer in [random_min, random_max];
 *                  "label_plus_random": label + random (E15)
 * Transforms run in this order, after x is normalised and augmented; the
 * rotation task draws from the sample's rng before the random field does. */
#pragma once

#include "data.h"

G_BEGIN_DECLS

/* One sample as a transform sees it. */
typedef struct {
  const LlPipelineConfig *c;
  guint32 idx;        /* the sample's index in the dataset */
  gboolean train;     /* a training batch (draws from rng) */
  LlRng *rng;         /* NULL for evaluation batches filled by index alone */
  float *x, *tmp;     /* x (C, H, W) for images, and scratch of its size */
  int C, H, W;        /* 0 when the samples are not images */
  const float *label; /* (label_dim) */
} LlTransformSample;

typedef struct {
  const char *name; /* the configuration's name for it */
  int n_fields;
  const char *fields[2];
  gboolean (*enabled)(const LlPipelineConfig *c);
  /* NULL when d suits the configuration, else why not (g_free it) */
  char *(*check)(const LlDataset *d, const LlPipelineConfig *c);
  /* classes a classifier on field f needs (0: not class indices) */
  int (*classes)(const LlDataset *d, const LlPipelineConfig *c, int f);
  /* writes the sample's value of each field f to *out[f] (may change x) */
  void (*apply)(const LlTransformSample *s, float *const *out);
} LlDatasetTransform;

/* Every transform, in the order they run. */
const LlDatasetTransform *const *ll_dataset_transforms(int *n);

G_END_DECLS

/* dataset-transforms.c: the synthetic targets some presets train on (see
 * dataset-transforms.h). */
#include "dataset-transforms.h"

#include <string.h>

#include "data/data-private.h"

/* ---- label_map: "mapped" ---- */

static gboolean label_map_enabled(const LlPipelineConfig *c)
{
  return c->n_label_map > 0 || c->label_map;
}

static char *label_map_check(const LlDataset *d, const LlPipelineConfig *c)
{
  if (!c->label_map || c->n_label_map <= 0)
    return g_strdup("the label map is empty");
  if (d->label_dim != 1 || d->n_classes <= 0)
    return g_strdup_printf("a label map needs class labels, but the labels are %s",
                           d->label_dim != 1 ? "vectors" : "regression targets");
  for (guint i = 0; i < d->n; i++) {
    int y = (int)d->labels[i];
    if (y < 0 || y >= c->n_label_map || c->label_map[y] < 0)
      return g_strdup_printf("label %d (sample %u) has no mapping in the label map (%d entries)", y,
                             i, c->n_label_map);
  }
  return NULL;
}

static int label_map_classes(const LlDataset *d, const LlPipelineConfig *c, int f)
{
  int mx = 0;
  for (int i = 0; i < c->n_label_map; i++)
    mx = MAX(mx, c->label_map[i]);
  return mx + 1;
}

static void label_map_apply(const LlTransformSample *s, float *const *out)
{
  *out[0] = (float)s->c->label_map[(int)s->label[0]];
}

/* ---- rotation_task: "rotation" ---- */

static gboolean rotation_enabled(const LlPipelineConfig *c) { return c->rotation_task; }

static char *rotation_check(const LlDataset *d, const LlPipelineConfig *c)
{
  char sh[64];
  ll_shape_format(&d->shape, sh, sizeof sh);
  if (d->shape.rank != 3)
    return g_strdup_printf("rotation_task needs images (C, H, W) but the samples are %s", sh);
  if (d->shape.d[1] != d->shape.d[2])
    return g_strdup_printf("the rotation task needs square images but the samples are %s", sh);
  return NULL;
}

static int rotation_classes(const LlDataset *d, const LlPipelineConfig *c, int f) { return 4; }

/* k quarter turns counter-clockwise, as numpy.rot90(x, k, axes=(1, 2));
 * square images. */
static void rot90(float *x, float *tmp, int C, int N, int k)
{
  k &= 3;
  if (!k)
    return;
  for (int c = 0; c < C; c++) {
    const float *s = x + (size_t)c * N * N;
    float *o = tmp + (size_t)c * N * N;
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        int si, sj;
        if (k == 1) {
          si = j;
          sj = N - 1 - i;
        } else if (k == 2) {
          si = N - 1 - i;
          sj = N - 1 - j;
        } else {
          si = N - 1 - j;
          sj = i;
        }
        o[i * N + j] = s[si * N + sj];
      }
  }
  memcpy(x, tmp, sizeof(float) * C * N * N);
}

/* Training batches draw k; evaluation batches hash the sample index, so the
 * proxy task's validation set is the same every epoch. */
static void rotation_apply(const LlTransformSample *s, float *const *out)
{
  int k =
      s->train ? (int)ll_rng_below(s->rng, 4) : (int)(ll_data_mix64(s->idx ^ 0x5107a7e5ULL) & 3);
  rot90(s->x, s->tmp, s->C, s->H, k);
  *out[0] = (float)k;
}

/* ---- random_field: "random", "label_plus_random" ---- */

static gboolean random_enabled(const LlPipelineConfig *c) { return c->random_field; }

static char *random_check(const LlDataset *d, const LlPipelineConfig *c)
{
  if (c->random_min > c->random_max || (gint64)c->random_max - c->random_min > (1 << 24))
    return g_strdup_printf("the random range [%d, %d] is empty or too wide", c->random_min,
                           c->random_max);
  if (d->label_dim != 1)
    return g_strdup_printf("label_plus_random needs one label per sample, but there are %d",
                           d->label_dim);
  return NULL;
}

static int random_classes(const LlDataset *d, const LlPipelineConfig *c, int f)
{
  gboolean cls = c->random_min >= 0;
  if (f == 0)
    return cls ? c->random_max + 1 : 0;
  return cls && d->n_classes > 0 ? d->n_classes + c->random_max : 0;
}

/* The rng when there is one (training, or an evaluation batch given one),
 * else a hash of the sample index. */
static void random_apply(const LlTransformSample *s, float *const *out)
{
  const LlPipelineConfig *c = s->c;
  uint64_t range = (uint64_t)((gint64)c->random_max - c->random_min + 1);
  uint64_t r = s->rng ? ll_rng_below(s->rng, range) : ll_data_mix64(s->idx ^ 0x7a11d0ULL) % range;
  int v = c->random_min + (int)r;
  *out[0] = (float)v;
  *out[1] = s->label[0] + (float)v;
}

static const LlDatasetTransform label_map = {
    .name = "label_map",
    .n_fields = 1,
    .fields = {"mapped"},
    .enabled = label_map_enabled,
    .check = label_map_check,
    .classes = label_map_classes,
    .apply = label_map_apply,
};

static const LlDatasetTransform rotation = {
    .name = "rotation_task",
    .n_fields = 1,
    .fields = {"rotation"},
    .enabled = rotation_enabled,
    .check = rotation_check,
    .classes = rotation_classes,
    .apply = rotation_apply,
};

static const LlDatasetTransform random_field = {
    .name = "random_field",
    .n_fields = 2,
    .fields = {"random", "label_plus_random"},
    .enabled = random_enabled,
    .check = random_check,
    .classes = random_classes,
    .apply = random_apply,
};

static const LlDatasetTransform *const transforms[] = {&label_map, &rotation, &random_field};

const LlDatasetTransform *const *ll_dataset_transforms(int *n)
{
  *n = G_N_ELEMENTS(transforms);
  return transforms;
}

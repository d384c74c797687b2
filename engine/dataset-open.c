/* dataset-open.c: the data section of a spec -> the train and test datasets. */
#include "spec.h"

static LlDataset *limit(LlDataset *d, guint n)
{
  if (d && n && n < d->n)
    d->n = n; /* the arrays stay allocated in full; only the first n are used */
  return d;
}

/* Samples [start, start + count) of d as a dataset of their own. */
static LlDataset *dataset_slice(const LlDataset *d, guint start, guint count)
{
  size_t size = ll_dataset_sample_size(d);
  LlDataset *s = g_new0(LlDataset, 1);
  s->name = g_strdup(d->name);
  s->source = g_strdup(d->source);
  s->n = count;
  s->shape = d->shape;
  if (d->u8)
    s->u8 = g_memdup2(d->u8 + (size_t)start * size, (size_t)count * size);
  if (d->f32)
    s->f32 = g_memdup2(d->f32 + (size_t)start * size, (size_t)count * size * sizeof(float));
  s->label_dim = d->label_dim;
  s->labels = g_memdup2(d->labels + (size_t)start * d->label_dim,
                        (size_t)count * d->label_dim * sizeof(float));
  s->n_classes = d->n_classes;
  s->class_names = g_strdupv(d->class_names);
  s->label_names = g_strdupv(d->label_names);
  return s;
}

gboolean ll_dataset_spec_open(const LlDatasetSpec *ds, uint64_t seed, LlDataset **train,
                              LlDataset **test, GError **error)
{
  *train = *test = NULL;
  switch (ds->kind) {
  case LL_DATASET_IDX_DIR:
    if (!ll_dataset_load_idx_dir(ds->path, train, test, error))
      return FALSE;
    break;
  case LL_DATASET_IDX:
  case LL_DATASET_NPY: {
    gboolean idx = ds->kind == LL_DATASET_IDX;
    /* npy without labels: features only (an autoencoder's data) */
    if (!ds->train_images || (idx && !ds->train_labels)) {
      g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG,
                  "data.dataset: kind \"%s\" needs train_images%s", ll_dataset_kind_names[ds->kind],
                  idx ? " and train_labels" : "");
      return FALSE;
    }
    *train = idx ? ll_dataset_load_idx(ds->train_images, ds->train_labels, error)
                 : ll_dataset_load_npy(ds->train_images, ds->train_labels, error);
    if (!*train)
      return FALSE;
    if (ds->test_images && (ds->test_labels || !ll_dataset_spec_has_labels(ds))) {
      *test = idx ? ll_dataset_load_idx(ds->test_images, ds->test_labels, error)
                  : ll_dataset_load_npy(ds->test_images, ds->test_labels, error);
      if (!*test)
        goto fail;
    }
    break;
  }
  case LL_DATASET_CIFAR:
    if (!ds->train_files || !ds->train_files[0]) {
      g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG,
                  "data.dataset: kind \"cifar\" needs train_files");
      return FALSE;
    }
    if (!(*train =
              ll_dataset_load_cifar((const char *const *)ds->train_files, ds->label_bytes, error)))
      return FALSE;
    if (ds->test_files && ds->test_files[0] &&
        !(*test =
              ll_dataset_load_cifar((const char *const *)ds->test_files, ds->label_bytes, error)))
      goto fail;
    break;
  case LL_DATASET_IMAGE_FOLDER:
    if (!(*train =
              ll_dataset_load_image_folder(ds->path, ds->channels, ds->height, ds->width, error)))
      return FALSE;
    if (ds->test_path && !(*test = ll_dataset_load_image_folder(ds->test_path, ds->channels,
                                                                ds->height, ds->width, error)))
      goto fail;
    break;
  case LL_DATASET_CSV:
    if (!(*train = ll_dataset_load_csv(ds->path, ds->label_column, error)))
      return FALSE;
    if (ds->test_path && !(*test = ll_dataset_load_csv(ds->test_path, ds->label_column, error)))
      goto fail;
    break;
  case LL_DATASET_SYNTHETIC: {
    /* one draw for both splits, so they share the generator's hidden
     * parameters (the blobs' centres, seq-memory's query symbol) */
    LlSynthConfig c = ds->synth;
    c.seed = seed * 2 + 1;
    c.n = ds->synth.n + ds->test_n;
    g_autoptr(LlDataset) all = ll_dataset_synthesize(&c, error);
    if (!all)
      return FALSE;
    *train = dataset_slice(all, 0, ds->synth.n);
    if (ds->test_n)
      *test = dataset_slice(all, ds->synth.n, ds->test_n);
    break;
  }
  }
  limit(*train, ds->limit_train);
  limit(*test, ds->limit_test);
  return TRUE;
fail:
  g_clear_pointer(train, ll_dataset_free);
  g_clear_pointer(test, ll_dataset_free);
  return FALSE;
}

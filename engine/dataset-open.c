/* dataset-open.c: the data section of a spec -> the train and test datasets. */
#include "spec.h"

static LlDataset *limit(LlDataset *d, guint n)
{
  if (d && n && n < d->n)
    d->n = n; /* the arrays stay allocated in full; only the first n are used */
  return d;
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
    if (!ds->train_images || !ds->train_labels) {
      g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG,
                  "data.dataset: kind \"%s\" needs train_images and train_labels",
                  ll_dataset_kind_names[ds->kind]);
      return FALSE;
    }
    *train = idx ? ll_dataset_load_idx(ds->train_images, ds->train_labels, error)
                 : ll_dataset_load_npy(ds->train_images, ds->train_labels, error);
    if (!*train)
      return FALSE;
    if (ds->test_images && ds->test_labels) {
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
    if (!(*train = ll_dataset_load_cifar((const char *const *)ds->train_files, ds->label_bytes,
                                         error)))
      return FALSE;
    if (ds->test_files && ds->test_files[0] &&
        !(*test = ll_dataset_load_cifar((const char *const *)ds->test_files, ds->label_bytes,
                                        error)))
      goto fail;
    break;
  case LL_DATASET_IMAGE_FOLDER:
    if (!(*train = ll_dataset_load_image_folder(ds->path, ds->channels, ds->height, ds->width,
                                                error)))
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
    LlSynthConfig c = ds->synth;
    c.seed = seed * 2 + 1;
    if (!(*train = ll_dataset_synthesize(&c, error)))
      return FALSE;
    if (ds->test_n) {
      c.n = ds->test_n;
      c.seed = seed * 2 + 2;
      if (!(*test = ll_dataset_synthesize(&c, error)))
        goto fail;
    }
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

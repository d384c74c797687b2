/* cifar.c: CIFAR-10 and CIFAR-100 binary batches.
 *
 * Each file is a run of records: the label byte(s) then 3072 pixel bytes,
 * the red, green and blue 32x32 planes in turn, which is already the (C, H,
 * W) order the engine uses. CIFAR-10 has one label byte (0..9); CIFAR-100
 * has two, coarse (0..19) then fine (0..99), and the fine label is used. */
#include "data-private.h"

#include <string.h>

#define CIFAR_PIXELS (3 * 32 * 32)

static const char *const cifar10_names[] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck", NULL};

/* CIFAR-100's fine class names from fine_label_names.txt beside the batches
 * (the binary distribution ships it); NULL when absent or not 100 lines. */
static char **cifar100_names(const char *first_path)
{
  g_autofree char *dir = g_path_get_dirname(first_path);
  g_autofree char *p = g_build_filename(dir, "fine_label_names.txt", NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(p, &text, NULL, NULL))
    return NULL;
  g_auto(GStrv) lines = g_strsplit(g_strstrip(text), "\n", -1);
  if (g_strv_length(lines) != 100)
    return NULL;
  for (int i = 0; i < 100; i++)
    g_strstrip(lines[i]);
  return g_steal_pointer(&lines);
}

LlDataset *ll_dataset_load_cifar(const char *const *paths, int label_bytes, GError **error)
{
  if (label_bytes != 1 && label_bytes != 2) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG,
                "CIFAR label_bytes is %d; it must be 1 (CIFAR-10) or 2 (CIFAR-100)", label_bytes);
    return NULL;
  }
  if (!paths || !paths[0]) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG, "CIFAR: no batch files given");
    return NULL;
  }
  const size_t rec = (size_t)label_bytes + CIFAR_PIXELS;
  const int n_classes = label_bytes == 1 ? 10 : 100;
  int n_files = (int)g_strv_length((char **)paths);
  guint8 **bufs = g_new0(guint8 *, n_files);
  size_t *lens = g_new0(size_t, n_files);
  LlDataset *d = NULL;
  size_t total = 0;
  for (int f = 0; f < n_files; f++) {
    bufs[f] = ll_data_read_file(paths[f], &lens[f], error);
    if (!bufs[f])
      goto out;
    if (lens[f] == 0) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, paths[f], "is empty");
      goto out;
    }
    if (lens[f] % rec != 0) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, paths[f],
                         "size %zu is not a whole number of %zu-byte records (truncated, or not "
                         "CIFAR-%d)",
                         lens[f], rec, n_classes);
      goto out;
    }
    const guint8 *b = bufs[f];
    for (size_t r = 0; r < lens[f] / rec; r++) {
      const guint8 *lab = b + r * rec;
      if (label_bytes == 2 && lab[0] > 19) {
        ll_data_error_file(error, LL_DATA_ERROR_LABEL, paths[f],
                           "record %zu has coarse label %d; CIFAR-100 coarse labels are 0..19", r,
                           lab[0]);
        goto out;
      }
      int y = lab[label_bytes - 1];
      if (y >= n_classes) {
        ll_data_error_file(error, LL_DATA_ERROR_LABEL, paths[f],
                           "record %zu has label %d; CIFAR-%d labels are 0..%d", r, y, n_classes,
                           n_classes - 1);
        goto out;
      }
    }
    total += lens[f] / rec;
  }
  if (total > G_MAXUINT32) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, paths[0], "too many records");
    goto out;
  }
  {
    char *name = g_path_get_basename(paths[0]);
    char *source = g_strjoinv(";", (char **)paths);
    LlShape shape = ll_shape_make(3, (int[]){3, 32, 32});
    d = ll_dataset_alloc(label_bytes == 1 ? "cifar-10" : "cifar-100", source, (guint)total, shape,
                         TRUE, 1, name, error);
    g_free(name);
    g_free(source);
  }
  if (!d)
    goto out;
  size_t k = 0;
  for (int f = 0; f < n_files; f++) {
    for (size_t r = 0; r < lens[f] / rec; r++, k++) {
      const guint8 *b = bufs[f] + r * rec;
      d->labels[k] = b[label_bytes - 1];
      memcpy(d->u8 + k * CIFAR_PIXELS, b + label_bytes, CIFAR_PIXELS);
    }
  }
  d->n_classes = n_classes;
  d->class_names = label_bytes == 1 ? g_strdupv((char **)cifar10_names) : cifar100_names(paths[0]);
out:
  for (int f = 0; f < n_files; f++)
    g_free(bufs[f]);
  g_free(bufs);
  g_free(lens);
  return d;
}

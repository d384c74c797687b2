/* idx.c: IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST), plain or gzipped.
 *
 * Layout (big-endian): two zero bytes, the element type (0x08 = unsigned
 * byte, the only one these datasets use), the number of dimensions, one
 * 32-bit size per dimension, then the elements in C order. Images are
 * (n, rows, cols), labels (n). */
#include "data-private.h"

#include <string.h>

typedef struct {
  guint8 *buf;
  size_t len;
  int ndim;
  guint32 dims[3];
  const guint8 *data; /* past the header */
} IdxFile;

static gboolean idx_read(const char *path, int want_ndim, const char *what, IdxFile *f,
                         GError **error)
{
  memset(f, 0, sizeof *f);
  f->buf = ll_data_read_file(path, &f->len, error);
  if (!f->buf)
    return FALSE;
  if (f->len < 4) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "only %zu bytes, too short for an IDX header", f->len);
    return FALSE;
  }
  const guint8 *m = f->buf;
  if (m[0] != 0 || m[1] != 0) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "wrong magic %02x %02x %02x %02x, not an IDX file", m[0], m[1], m[2], m[3]);
    return FALSE;
  }
  if (m[2] != 0x08) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "element type 0x%02x is not supported (only unsigned bytes, 0x08)", m[2]);
    return FALSE;
  }
  f->ndim = m[3];
  if (f->ndim != want_ndim) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "is %d-dimensional but an IDX %s file is %d-dimensional", f->ndim, what,
                       want_ndim);
    return FALSE;
  }
  size_t header = 4 + 4 * (size_t)f->ndim;
  if (f->len < header) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "truncated in its header (%zu of %zu bytes)", f->len, header);
    return FALSE;
  }
  size_t expect = 1;
  for (int i = 0; i < f->ndim; i++) {
    f->dims[i] = ll_read_be32(m + 4 + 4 * i);
    if (f->dims[i] == 0) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "dimension %d is 0", i);
      return FALSE;
    }
    if (expect > G_MAXSIZE / f->dims[i]) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "announces an absurd size");
      return FALSE;
    }
    expect *= f->dims[i];
  }
  size_t have = f->len - header;
  if (have < expect) {
    if (want_ndim == 3)
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                         "truncated: holds %zu bytes of pixels but the header announces %u "
                         "images of %ux%u (%zu bytes)",
                         have, f->dims[0], f->dims[1], f->dims[2], expect);
    else
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                         "truncated: holds %zu labels but the header announces %u", have,
                         f->dims[0]);
    return FALSE;
  }
  if (have > expect) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "has %zu unexpected bytes after the %u %s the header announces",
                       have - expect, f->dims[0], want_ndim == 3 ? "images" : "labels");
    return FALSE;
  }
  f->data = m + header;
  return TRUE;
}

LlDataset *ll_dataset_load_idx(const char *images_path, const char *labels_path, GError **error)
{
  IdxFile im, lb;
  gboolean ok = idx_read(images_path, 3, "image", &im, error);
  if (ok)
    ok = idx_read(labels_path, 1, "label", &lb, error);
  else
    memset(&lb, 0, sizeof lb);
  LlDataset *d = NULL;
  if (!ok)
    goto out;
  if (lb.dims[0] != im.dims[0]) {
    ll_data_error_file(error, LL_DATA_ERROR_MISMATCH, labels_path,
                       "holds %u labels but the images file holds %u images", lb.dims[0],
                       im.dims[0]);
    goto out;
  }
  if (im.dims[1] > 65536 || im.dims[2] > 65536) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, images_path, "images of %ux%u are too large",
                       im.dims[1], im.dims[2]);
    goto out;
  }
  char *name = g_path_get_basename(images_path);
  LlShape shape = ll_shape_make(3, (int[]){1, (int)im.dims[1], (int)im.dims[2]});
  d = ll_dataset_alloc(name, images_path, im.dims[0], shape, TRUE, 1, images_path, error);
  g_free(name);
  if (!d)
    goto out;
  memcpy(d->u8, im.data, (size_t)im.dims[0] * im.dims[1] * im.dims[2]);
  int max = 0;
  for (guint i = 0; i < d->n; i++) {
    d->labels[i] = lb.data[i];
    max = MAX(max, lb.data[i]);
  }
  d->n_classes = max + 1;
out:
  g_free(im.buf);
  g_free(lb.buf);
  return d;
}

/* "<dir>/<stem>" or "<dir>/<stem>.gz", whichever exists; NULL if neither. */
static char *find_file(const char *dir, const char *const *stems)
{
  for (int i = 0; stems[i]; i++) {
    for (int gz = 0; gz < 2; gz++) {
      g_autofree char *name = g_strconcat(stems[i], gz ? ".gz" : "", NULL);
      char *p = g_build_filename(dir, name, NULL);
      if (g_file_test(p, G_FILE_TEST_IS_REGULAR))
        return p;
      g_free(p);
    }
  }
  return NULL;
}

static LlDataset *load_split(const char *dir, const char *split, const char *alt, GError **error)
{
  g_autofree char *si = g_strdup_printf("%s-images-idx3-ubyte", split);
  g_autofree char *sl = g_strdup_printf("%s-labels-idx1-ubyte", split);
  g_autofree char *ai = g_strdup_printf("%s-images-idx3-ubyte", alt);
  g_autofree char *al = g_strdup_printf("%s-labels-idx1-ubyte", alt);
  g_autofree char *images = find_file(dir, (const char *const[]){si, ai, NULL});
  g_autofree char *labels = find_file(dir, (const char *const[]){sl, al, NULL});
  if (!images || !labels) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_IO, "%s: has no %s[.gz]", dir,
                images ? sl : si);
    return NULL;
  }
  return ll_dataset_load_idx(images, labels, error);
}

static const char *const fashion_names[] = {"T-shirt/top", "Trouser",    "Pullover", "Dress",
                                            "Coat",        "Sandal",     "Shirt",    "Sneaker",
                                            "Bag",         "Ankle boot", NULL};
static const char *const digit_names[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", NULL};
static const char *const kmnist_names[] = {"o",  "ki", "su", "tsu", "na", "ha",
                                           "ma", "ya", "re", "wo",  NULL};

gboolean ll_dataset_load_idx_dir(const char *dir, LlDataset **train, LlDataset **test,
                                 GError **error)
{
  g_autoptr(LlDataset) tr = load_split(dir, "train", "training", error);
  if (!tr)
    return FALSE;
  g_autoptr(LlDataset) te = load_split(dir, "t10k", "test", error);
  if (!te)
    return FALSE;
  if (!ll_shape_equal(&tr->shape, &te->shape)) {
    char a[64], b[64];
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_MISMATCH,
                "%s: the test images are %s but the training images are %s", dir,
                ll_shape_format(&te->shape, a, sizeof a), ll_shape_format(&tr->shape, b, sizeof b));
    return FALSE;
  }
  if (te->n_classes > tr->n_classes) {
    g_autofree char *base = g_path_get_basename(te->source);
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_LABEL,
                "%s: the test labels reach %d but the training labels only 0..%d", base,
                te->n_classes - 1, tr->n_classes - 1);
    return FALSE;
  }
  te->n_classes = tr->n_classes;

  g_autofree char *base = g_path_get_basename(dir);
  const char *const *names = NULL;
  if (tr->n_classes == 10) {
    if (g_str_has_prefix(base, "fashion"))
      names = fashion_names;
    else if (g_str_has_prefix(base, "kmnist"))
      names = kmnist_names;
    else if (g_str_has_prefix(base, "mnist"))
      names = digit_names;
  }
  LlDataset *both[2] = {tr, te};
  for (int i = 0; i < 2; i++) {
    g_free(both[i]->name);
    both[i]->name = g_strdup(base);
    both[i]->class_names = names ? g_strdupv((char **)names) : NULL;
  }
  if (train)
    *train = g_steal_pointer(&tr);
  if (test)
    *test = g_steal_pointer(&te);
  return TRUE;
}

/* IDX loader: good files (plain and gzipped, a dataset folder) and
 * malformed ones, plus the real Fashion-MNIST when it is installed. */
#include "data-test-util.h"

static void put_be32(GByteArray *a, guint32 v)
{
  guint8 b[4] = {v >> 24, v >> 16, v >> 8, v};
  g_byte_array_append(a, b, 4);
}

/* n images of h x w, pixel (i, k) = (7 i + k) mod 256 */
static GByteArray *idx_images(guint n, guint h, guint w)
{
  GByteArray *a = g_byte_array_new();
  g_byte_array_append(a, (guint8[]){0, 0, 8, 3}, 4);
  put_be32(a, n);
  put_be32(a, h);
  put_be32(a, w);
  for (guint i = 0; i < n; i++)
    for (guint k = 0; k < h * w; k++) {
      guint8 v = (guint8)(7 * i + k);
      g_byte_array_append(a, &v, 1);
    }
  return a;
}

/* n labels, label i = i mod 3 */
static GByteArray *idx_labels(guint n)
{
  GByteArray *a = g_byte_array_new();
  g_byte_array_append(a, (guint8[]){0, 0, 8, 1}, 4);
  put_be32(a, n);
  for (guint i = 0; i < n; i++) {
    guint8 v = (guint8)(i % 3);
    g_byte_array_append(a, &v, 1);
  }
  return a;
}

static void check_good(gboolean gz)
{
  g_autofree char *dir = tmp_dir_new();
  g_autoptr(GByteArray) im = idx_images(5, 4, 3);
  g_autoptr(GByteArray) lb = idx_labels(5);
  g_autofree char *pi = write_file(dir, gz ? "im.gz" : "im", im->data, im->len, gz);
  g_autofree char *pl = write_file(dir, gz ? "lb.gz" : "lb", lb->data, lb->len, gz);
  GError *err = NULL;
  g_autoptr(LlDataset) d = ll_dataset_load_idx(pi, pl, &err);
  g_assert_no_error(err);
  g_assert_cmpuint(d->n, ==, 5);
  g_assert_cmpint(d->shape.rank, ==, 3);
  g_assert_cmpint(d->shape.d[0], ==, 1);
  g_assert_cmpint(d->shape.d[1], ==, 4);
  g_assert_cmpint(d->shape.d[2], ==, 3);
  g_assert_cmpint(d->n_classes, ==, 3);
  g_assert_cmpint(d->label_dim, ==, 1);
  g_assert_nonnull(d->u8);
  g_assert_null(d->f32);
  for (guint i = 0; i < 5; i++) {
    g_assert_cmpfloat(d->labels[i], ==, i % 3);
    for (guint k = 0; k < 12; k++)
      g_assert_cmpuint(d->u8[i * 12 + k], ==, (guint8)(7 * i + k));
  }
  tmp_dir_remove(dir);
}

static void test_plain(void) { check_good(FALSE); }
static void test_gzip(void) { check_good(TRUE); }

static void test_dir(void)
{
  g_autofree char *dir = tmp_dir_new();
  g_autoptr(GByteArray) im = idx_images(6, 2, 2);
  g_autoptr(GByteArray) lb = idx_labels(6);
  g_autoptr(GByteArray) tim = idx_images(3, 2, 2);
  g_autoptr(GByteArray) tlb = idx_labels(3);
  g_free(write_file(dir, "train-images-idx3-ubyte.gz", im->data, im->len, TRUE));
  g_free(write_file(dir, "train-labels-idx1-ubyte", lb->data, lb->len, FALSE));
  g_free(write_file(dir, "t10k-images-idx3-ubyte", tim->data, tim->len, FALSE));
  GError *err = NULL;
  LlDataset *tr = NULL, *te = NULL;
  g_assert_false(ll_dataset_load_idx_dir(dir, &tr, &te, &err));
  assert_data_error(err, LL_DATA_ERROR_IO, "t10k-labels-idx1-ubyte");
  g_assert_null(tr);
  g_free(write_file(dir, "t10k-labels-idx1-ubyte.gz", tlb->data, tlb->len, TRUE));
  g_assert_true(ll_dataset_load_idx_dir(dir, &tr, &te, &err));
  g_assert_no_error(err);
  g_assert_cmpuint(tr->n, ==, 6);
  g_assert_cmpuint(te->n, ==, 3);
  g_assert_cmpint(te->n_classes, ==, 3);
  g_autofree char *base = g_path_get_basename(dir);
  g_assert_cmpstr(tr->name, ==, base);
  ll_dataset_free(tr);
  ll_dataset_free(te);
  tmp_dir_remove(dir);
}

/* Writes images and labels, loads, expects `code` and `needle` in the message. */
static void expect_fail(GByteArray *im, GByteArray *lb, gboolean gz, LlDataError code,
                        const char *needle)
{
  g_autofree char *dir = tmp_dir_new();
  g_autofree char *pi = write_file(dir, "imgs-idx3-ubyte", im->data, im->len, FALSE);
  g_autofree char *pl =
      write_file(dir, gz ? "train-labels-idx1-ubyte.gz" : "labs-idx1-ubyte", lb->data, lb->len, gz);
  GError *err = NULL;
  LlDataset *d = ll_dataset_load_idx(pi, pl, &err);
  g_assert_null(d);
  assert_data_error(err, code, needle);
  tmp_dir_remove(dir);
}

static void test_malformed(void)
{
  /* labels and images disagree on the count */
  {
    g_autoptr(GByteArray) im = idx_images(4, 2, 2);
    g_autoptr(GByteArray) lb = idx_labels(3);
    expect_fail(im, lb, TRUE, LL_DATA_ERROR_MISMATCH,
                "train-labels-idx1-ubyte.gz: holds 3 labels but the images file holds 4 images");
  }
  /* wrong magic */
  {
    g_autoptr(GByteArray) im = idx_images(4, 2, 2);
    g_autoptr(GByteArray) lb = idx_labels(4);
    im->data[0] = 0x1f;
    expect_fail(im, lb, FALSE, LL_DATA_ERROR_FORMAT, "imgs-idx3-ubyte: wrong magic");
  }
  /* an element type other than unsigned bytes */
  {
    g_autoptr(GByteArray) im = idx_images(4, 2, 2);
    g_autoptr(GByteArray) lb = idx_labels(4);
    lb->data[2] = 0x0d;
    expect_fail(im, lb, FALSE, LL_DATA_ERROR_FORMAT, "labs-idx1-ubyte: element type 0x0d");
  }
  /* a label file given as the images */
  {
    g_autoptr(GByteArray) im = idx_labels(4);
    g_autoptr(GByteArray) lb = idx_labels(4);
    expect_fail(im, lb, FALSE, LL_DATA_ERROR_FORMAT, "imgs-idx3-ubyte: is 1-dimensional");
  }
  /* truncated pixels */
  {
    g_autoptr(GByteArray) im = idx_images(4, 2, 2);
    g_autoptr(GByteArray) lb = idx_labels(4);
    g_byte_array_set_size(im, im->len - 1);
    expect_fail(im, lb, FALSE, LL_DATA_ERROR_FORMAT, "imgs-idx3-ubyte: truncated");
  }
  /* truncated header */
  {
    g_autoptr(GByteArray) im = idx_images(4, 2, 2);
    g_autoptr(GByteArray) lb = idx_labels(4);
    g_byte_array_set_size(im, 9);
    expect_fail(im, lb, FALSE, LL_DATA_ERROR_FORMAT, "imgs-idx3-ubyte: truncated in its header");
  }
  /* truncated labels, gzipped */
  {
    g_autoptr(GByteArray) im = idx_images(4, 2, 2);
    g_autoptr(GByteArray) lb = idx_labels(4);
    g_byte_array_set_size(lb, lb->len - 2);
    expect_fail(im, lb, TRUE, LL_DATA_ERROR_FORMAT, "train-labels-idx1-ubyte.gz: truncated");
  }
  /* bytes after the data */
  {
    g_autoptr(GByteArray) im = idx_images(4, 2, 2);
    g_autoptr(GByteArray) lb = idx_labels(4);
    g_byte_array_append(im, (guint8[]){1, 2}, 2);
    expect_fail(im, lb, FALSE, LL_DATA_ERROR_FORMAT, "imgs-idx3-ubyte: has 2 unexpected bytes");
  }
  /* a corrupt gzip stream (cut in the middle) */
  {
    g_autofree char *dir = tmp_dir_new();
    g_autoptr(GByteArray) im = idx_images(40, 8, 8);
    g_autoptr(GByteArray) lb = idx_labels(40);
    g_autofree char *pi = write_file(dir, "im.gz", im->data, im->len, TRUE);
    g_autofree char *pl = write_file(dir, "lb", lb->data, lb->len, FALSE);
    gchar *gzdata;
    gsize gzlen;
    g_assert_true(g_file_get_contents(pi, &gzdata, &gzlen, NULL));
    g_free(write_file(dir, "im.gz", gzdata, gzlen / 2, FALSE));
    g_free(gzdata);
    GError *err = NULL;
    g_assert_null(ll_dataset_load_idx(pi, pl, &err));
    assert_data_error(err, LL_DATA_ERROR_FORMAT, "im.gz: ");
    tmp_dir_remove(dir);
  }
  /* a missing file */
  {
    GError *err = NULL;
    g_assert_null(ll_dataset_load_idx("/nonexistent/x-images", "/nonexistent/y", &err));
    assert_data_error(err, LL_DATA_ERROR_IO, "/nonexistent/x-images");
  }
}

static void test_fashion_mnist(void)
{
  if (!g_file_test(LL_FASHION_MNIST_DIR, G_FILE_TEST_IS_DIR)) {
    g_test_skip("Fashion-MNIST is not installed at " LL_FASHION_MNIST_DIR);
    return;
  }
  GError *err = NULL;
  LlDataset *tr = NULL, *te = NULL;
  g_assert_true(ll_dataset_load_idx_dir(LL_FASHION_MNIST_DIR, &tr, &te, &err));
  g_assert_no_error(err);
  g_assert_cmpuint(tr->n, ==, 60000);
  g_assert_cmpuint(te->n, ==, 10000);
  for (int s = 0; s < 2; s++) {
    LlDataset *d = s ? te : tr;
    g_assert_cmpint(d->shape.rank, ==, 3);
    g_assert_cmpint(d->shape.d[0], ==, 1);
    g_assert_cmpint(d->shape.d[1], ==, 28);
    g_assert_cmpint(d->shape.d[2], ==, 28);
    g_assert_cmpint(d->n_classes, ==, 10);
    g_assert_cmpstr(d->name, ==, "fashion-mnist");
    g_assert_nonnull(d->class_names);
    g_assert_cmpstr(d->class_names[9], ==, "Ankle boot");
    /* balanced classes: 6000 / 1000 of each */
    guint count[10] = {0};
    for (guint i = 0; i < d->n; i++)
      count[(int)d->labels[i]]++;
    for (int k = 0; k < 10; k++)
      g_assert_cmpuint(count[k], ==, d->n / 10);
  }
  /* the well-known statistics: mean 0.2860, std 0.3530 of the [0, 1] pixels */
  LlPipelineConfig c = {.normalize = LL_NORM_STANDARDIZE};
  g_autoptr(LlPipeline) p = ll_pipeline_new(tr, &c, NULL, &err);
  g_assert_no_error(err);
  const float *off, *scale;
  g_assert_cmpint(ll_pipeline_norm_stats(p, &off, &scale), ==, 1);
  g_assert_cmpfloat_with_epsilon(off[0] / 255, 0.2860, 1e-4);
  g_assert_cmpfloat_with_epsilon(scale[0] / 255, 0.3530, 1e-4);
  g_autofree char *f1 = ll_dataset_fingerprint(tr);
  g_autofree char *f2 = ll_dataset_fingerprint(te);
  g_assert_cmpuint(strlen(f1), ==, 16);
  g_assert_cmpstr(f1, !=, f2);
  ll_dataset_free(tr);
  ll_dataset_free(te);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/data/idx/plain", test_plain);
  g_test_add_func("/data/idx/gzip", test_gzip);
  g_test_add_func("/data/idx/dir", test_dir);
  g_test_add_func("/data/idx/malformed", test_malformed);
  g_test_add_func("/data/idx/fashion-mnist", test_fashion_mnist);
  return g_test_run();
}

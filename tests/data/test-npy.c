/* NPY features and labels: the dtypes and ranks we read, and the ones we
 * refuse. */
#include "data-test-util.h"

#include <math.h>

/* A .npy v1 file: magic, version 1.0, header padded to 64 bytes, data. */
static char *write_npy(const char *dir, const char *name, const char *descr, gboolean fortran,
                       const char *shape, const void *data, size_t len)
{
  g_autofree char *dict = g_strdup_printf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }",
                                          descr, fortran ? "True" : "False", shape);
  GString *h = g_string_new(dict);
  while ((10 + h->len + 1) % 64)
    g_string_append_c(h, ' ');
  g_string_append_c(h, '\n');
  GByteArray *a = g_byte_array_new();
  g_byte_array_append(a, (const guint8 *)"\x93NUMPY\x01\x00", 8);
  guint8 hl[2] = {h->len & 0xff, h->len >> 8};
  g_byte_array_append(a, hl, 2);
  g_byte_array_append(a, (const guint8 *)h->str, h->len);
  g_byte_array_append(a, data, (guint)len);
  char *p = write_file(dir, name, a->data, a->len, FALSE);
  g_string_free(h, TRUE);
  g_byte_array_unref(a);
  return p;
}

static void test_float32(void)
{
  g_autofree char *dir = tmp_dir_new();
  float x[6 * 3];
  gint64 y[6];
  for (int i = 0; i < 18; i++)
    x[i] = (float)i * 0.5f - 2.0f;
  for (int i = 0; i < 6; i++)
    y[i] = i % 4;
  g_autofree char *px = write_npy(dir, "x.npy", "<f4", FALSE, "(6, 3)", x, sizeof x);
  g_autofree char *py = write_npy(dir, "y.npy", "<i8", FALSE, "(6,)", y, sizeof y);
  GError *err = NULL;
  g_autoptr(LlDataset) d = ll_dataset_load_npy(px, py, &err);
  g_assert_no_error(err);
  g_assert_cmpuint(d->n, ==, 6);
  g_assert_cmpint(d->shape.rank, ==, 1);
  g_assert_cmpint(d->shape.d[0], ==, 3);
  g_assert_nonnull(d->f32);
  g_assert_cmpint(d->n_classes, ==, 4);
  for (int i = 0; i < 18; i++)
    g_assert_cmpfloat(d->f32[i], ==, x[i]);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat(d->labels[i], ==, (float)y[i]);
  tmp_dir_remove(dir);
}

static void test_other_dtypes(void)
{
  g_autofree char *dir = tmp_dir_new();
  GError *err = NULL;
  /* float64 sequences (n, T, F) with float regression targets (n, 2) */
  double x[4 * 5 * 2], y[4 * 2];
  for (int i = 0; i < 40; i++)
    x[i] = sin(i);
  for (int i = 0; i < 8; i++)
    y[i] = i * 0.25;
  g_autofree char *px = write_npy(dir, "seq.npy", "<f8", FALSE, "(4, 5, 2)", x, sizeof x);
  g_autofree char *py = write_npy(dir, "t.npy", "<f8", FALSE, "(4, 2)", y, sizeof y);
  g_autoptr(LlDataset) d = ll_dataset_load_npy(px, py, &err);
  g_assert_no_error(err);
  g_assert_cmpint(d->shape.rank, ==, 2);
  g_assert_cmpint(d->shape.d[0], ==, 5);
  g_assert_cmpint(d->shape.d[1], ==, 2);
  g_assert_cmpint(d->label_dim, ==, 2);
  g_assert_cmpint(d->n_classes, ==, 0);
  g_assert_cmpfloat_with_epsilon(d->f32[7], sin(7), 1e-6);
  g_assert_cmpfloat(d->labels[5], ==, 1.25f);
  /* uint8 images (n, C, H, W) stay bytes; uint8 labels */
  guint8 im[3 * 1 * 2 * 2], lb[3] = {2, 0, 1};
  for (int i = 0; i < 12; i++)
    im[i] = (guint8)(i * 20);
  g_autofree char *pi = write_npy(dir, "im.npy", "|u1", FALSE, "(3, 1, 2, 2)", im, sizeof im);
  g_autofree char *pl = write_npy(dir, "lb.npy", "|u1", FALSE, "(3,)", lb, sizeof lb);
  g_autoptr(LlDataset) e = ll_dataset_load_npy(pi, pl, &err);
  g_assert_no_error(err);
  g_assert_nonnull(e->u8);
  g_assert_cmpint(e->shape.rank, ==, 3);
  g_assert_cmpuint(e->u8[11], ==, 220);
  g_assert_cmpint(e->n_classes, ==, 3);
  /* no labels file: zeros, no classes */
  g_autoptr(LlDataset) f = ll_dataset_load_npy(pi, NULL, &err);
  g_assert_no_error(err);
  g_assert_cmpfloat(f->labels[2], ==, 0);
  tmp_dir_remove(dir);
}

static void test_malformed(void)
{
  g_autofree char *dir = tmp_dir_new();
  GError *err = NULL;
  float x[8] = {0};
  gint32 y4[4] = {0, 1, 2, 3}, y3[3] = {0, 1, 2}, yneg[4] = {0, -1, 0, 0};
  g_autofree char *good = write_npy(dir, "good.npy", "<f4", FALSE, "(4, 2)", x, sizeof x);
  g_autofree char *labels = write_npy(dir, "labels.npy", "<i4", FALSE, "(4,)", y4, sizeof y4);
  struct {
    const char *name, *descr, *shape;
    gboolean fortran;
    size_t len;
    const char *needle;
  } cases[] = {
      {"dtype.npy", "<c8", "(4, 2)", FALSE, sizeof x, "dtype.npy: dtype '<c8' is not supported"},
      {"bigend.npy", ">f4", "(4, 2)", FALSE, sizeof x, "bigend.npy: dtype '>f4'"},
      {"int.npy", "<i4", "(4, 2)", FALSE, sizeof x, "int.npy: features of dtype i4"},
      {"fortran.npy", "<f4", "(4, 2)", TRUE, sizeof x, "fortran.npy: is stored in Fortran order"},
      {"ndim1.npy", "<f4", "(8,)", FALSE, sizeof x, "ndim1.npy: has 1 dimensions"},
      {"ndim5.npy", "<f4", "(4, 1, 1, 2, 1)", FALSE, sizeof x, "ndim5.npy: has 5 dimensions"},
      {"short.npy", "<f4", "(4, 2)", FALSE, sizeof x - 4, "short.npy: truncated"},
      {"long.npy", "<f4", "(2, 2)", FALSE, sizeof x, "long.npy: has 16 unexpected bytes"},
      /* '<f4, 'x', ...: the quote after <f4 opens another string */
      {"noquote.npy", "<f4, 'x", "(4, 2)", FALSE, sizeof x,
       "noquote.npy: the header's descr has no closing quote"},
      {"trailing.npy", "<f4, ", "(4, 2)", FALSE, sizeof x, "trailing.npy: dtype '<f4, ' is not"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *p = write_npy(dir, cases[i].name, cases[i].descr, cases[i].fortran,
                                   cases[i].shape, x, cases[i].len);
    g_assert_null(ll_dataset_load_npy(p, labels, &err));
    assert_data_error(err, LL_DATA_ERROR_FORMAT, cases[i].needle);
  }
  /* labels: count, rank, range */
  g_autofree char *l3 = write_npy(dir, "three.npy", "<i4", FALSE, "(3,)", y3, sizeof y3);
  g_assert_null(ll_dataset_load_npy(good, l3, &err));
  assert_data_error(err, LL_DATA_ERROR_MISMATCH,
                    "three.npy: holds 3 labels but the features file holds 4 samples");
  g_autofree char *l2 = write_npy(dir, "rank3.npy", "<i4", FALSE, "(4, 1, 1)", y4, sizeof y4);
  g_assert_null(ll_dataset_load_npy(good, l2, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "rank3.npy: has 3 dimensions");
  g_autofree char *ln = write_npy(dir, "neg.npy", "<i4", FALSE, "(4,)", yneg, sizeof yneg);
  g_assert_null(ll_dataset_load_npy(good, ln, &err));
  assert_data_error(err, LL_DATA_ERROR_LABEL, "neg.npy: label -1 of sample 1");
  /* non-finite features */
  float xn[8] = {0, 0, 0, NAN, 0, 0, 0, 0};
  g_autofree char *pn = write_npy(dir, "nan.npy", "<f4", FALSE, "(4, 2)", xn, sizeof xn);
  g_assert_null(ll_dataset_load_npy(pn, labels, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "nan.npy: sample 1 holds a non-finite value");
  /* not an NPY file at all */
  g_autofree char *pt = write_file(dir, "text.npy", "hello there, world", 18, FALSE);
  g_assert_null(ll_dataset_load_npy(pt, labels, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "text.npy: wrong magic");
  tmp_dir_remove(dir);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/data/npy/float32", test_float32);
  g_test_add_func("/data/npy/other-dtypes", test_other_dtypes);
  g_test_add_func("/data/npy/malformed", test_malformed);
  return g_test_run();
}

/* CIFAR binary batches: CIFAR-10 over two files, CIFAR-100's fine labels,
 * and malformed batches. */
#include "data-test-util.h"

#define PIX 3072

/* n records starting at record `first`; label r mod classes (CIFAR-100: coarse
 * r mod 20 first), pixel k of record r = (3 r + k) mod 256 */
static GByteArray *cifar_records(int first, int n, int label_bytes)
{
  GByteArray *a = g_byte_array_new();
  for (int r = first; r < first + n; r++) {
    if (label_bytes == 2) {
      guint8 coarse = (guint8)(r % 20), fine = (guint8)(r % 100);
      g_byte_array_append(a, &coarse, 1);
      g_byte_array_append(a, &fine, 1);
    } else {
      guint8 y = (guint8)(r % 10);
      g_byte_array_append(a, &y, 1);
    }
    for (int k = 0; k < PIX; k++) {
      guint8 v = (guint8)(3 * r + k);
      g_byte_array_append(a, &v, 1);
    }
  }
  return a;
}

static void test_cifar10(void)
{
  g_autofree char *dir = tmp_dir_new();
  g_autoptr(GByteArray) a = cifar_records(0, 7, 1);
  g_autoptr(GByteArray) b = cifar_records(7, 5, 1);
  g_autofree char *pa = write_file(dir, "data_batch_1.bin", a->data, a->len, FALSE);
  g_autofree char *pb = write_file(dir, "data_batch_2.bin", b->data, b->len, FALSE);
  GError *err = NULL;
  g_autoptr(LlDataset) d = ll_dataset_load_cifar((const char *[]){pa, pb, NULL}, 1, &err);
  g_assert_no_error(err);
  g_assert_cmpuint(d->n, ==, 12);
  g_assert_cmpint(d->shape.rank, ==, 3);
  g_assert_cmpint(d->shape.d[0], ==, 3);
  g_assert_cmpint(d->shape.d[1], ==, 32);
  g_assert_cmpint(d->shape.d[2], ==, 32);
  g_assert_cmpint(d->n_classes, ==, 10);
  g_assert_cmpstr(d->class_names[3], ==, "cat");
  for (int r = 0; r < 12; r++) {
    g_assert_cmpfloat(d->labels[r], ==, r % 10);
    g_assert_cmpuint(d->u8[(size_t)r * PIX], ==, (guint8)(3 * r));
    g_assert_cmpuint(d->u8[(size_t)r * PIX + 2000], ==, (guint8)(3 * r + 2000));
  }
  tmp_dir_remove(dir);
}

static void test_cifar100(void)
{
  g_autofree char *dir = tmp_dir_new();
  g_autoptr(GByteArray) a = cifar_records(90, 12, 2);
  g_autofree char *pa = write_file(dir, "train.bin", a->data, a->len, FALSE);
  GError *err = NULL;
  g_autoptr(LlDataset) d = ll_dataset_load_cifar((const char *[]){pa, NULL}, 2, &err);
  g_assert_no_error(err);
  g_assert_cmpuint(d->n, ==, 12);
  g_assert_cmpint(d->n_classes, ==, 100);
  for (int r = 0; r < 12; r++) /* the fine label, not the coarse one */
    g_assert_cmpfloat(d->labels[r], ==, (90 + r) % 100);
  tmp_dir_remove(dir);
}

static void test_malformed(void)
{
  g_autofree char *dir = tmp_dir_new();
  GError *err = NULL;
  /* label 12 in CIFAR-10 */
  {
    g_autoptr(GByteArray) a = cifar_records(0, 3, 1);
    a->data[PIX + 1] = 12; /* record 1's label byte */
    g_autofree char *p = write_file(dir, "bad_label.bin", a->data, a->len, FALSE);
    g_assert_null(ll_dataset_load_cifar((const char *[]){p, NULL}, 1, &err));
    assert_data_error(err, LL_DATA_ERROR_LABEL, "bad_label.bin: record 1 has label 12");
  }
  /* a truncated last record, in the second file */
  {
    g_autoptr(GByteArray) a = cifar_records(0, 2, 1);
    g_autoptr(GByteArray) b = cifar_records(0, 2, 1);
    g_byte_array_set_size(b, b->len - 100);
    g_autofree char *pa = write_file(dir, "ok.bin", a->data, a->len, FALSE);
    g_autofree char *pb = write_file(dir, "cut.bin", b->data, b->len, FALSE);
    g_assert_null(ll_dataset_load_cifar((const char *[]){pa, pb, NULL}, 1, &err));
    assert_data_error(err, LL_DATA_ERROR_FORMAT, "cut.bin: size 6046 is not a whole number");
  }
  /* CIFAR-100 coarse label out of range */
  {
    g_autoptr(GByteArray) a = cifar_records(0, 2, 2);
    a->data[0] = 20;
    g_autofree char *p = write_file(dir, "coarse.bin", a->data, a->len, FALSE);
    g_assert_null(ll_dataset_load_cifar((const char *[]){p, NULL}, 2, &err));
    assert_data_error(err, LL_DATA_ERROR_LABEL, "coarse.bin: record 0 has coarse label 20");
  }
  /* CIFAR-100 file read as CIFAR-10: the record size does not divide it */
  {
    g_autoptr(GByteArray) a = cifar_records(0, 3, 2);
    g_autofree char *p = write_file(dir, "c100.bin", a->data, a->len, FALSE);
    g_assert_null(ll_dataset_load_cifar((const char *[]){p, NULL}, 1, &err));
    assert_data_error(err, LL_DATA_ERROR_FORMAT, "c100.bin: ");
  }
  /* empty file, missing file, bad label_bytes */
  {
    g_autofree char *p = write_file(dir, "empty.bin", "", 0, FALSE);
    g_assert_null(ll_dataset_load_cifar((const char *[]){p, NULL}, 1, &err));
    assert_data_error(err, LL_DATA_ERROR_FORMAT, "empty.bin: is empty");
    g_autofree char *q = g_build_filename(dir, "missing.bin", NULL);
    g_assert_null(ll_dataset_load_cifar((const char *[]){q, NULL}, 1, &err));
    assert_data_error(err, LL_DATA_ERROR_IO, "missing.bin");
    g_assert_null(ll_dataset_load_cifar((const char *[]){p, NULL}, 3, &err));
    assert_data_error(err, LL_DATA_ERROR_CONFIG, "label_bytes is 3");
  }
  tmp_dir_remove(dir);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/data/cifar/cifar-10", test_cifar10);
  g_test_add_func("/data/cifar/cifar-100", test_cifar100);
  g_test_add_func("/data/cifar/malformed", test_malformed);
  return g_test_run();
}

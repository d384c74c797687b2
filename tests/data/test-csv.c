/* CSV tables: class, categorical and regression labels; ragged rows,
 * non-numeric cells and a missing label column, with line numbers. */
#include "data-test-util.h"

static LlDataset *load_text(const char *dir, const char *name, const char *text, const char *label,
                            GError **err)
{
  g_autofree char *p = write_file(dir, name, text, strlen(text), FALSE);
  return ll_dataset_load_csv(p, label, err);
}

static void test_good(void)
{
  g_autofree char *dir = tmp_dir_new();
  GError *err = NULL;
  /* integer labels in the middle column, CR-LF, a quoted header, blank lines */
  g_autoptr(LlDataset) a = load_text(dir, "a.csv",
                                     "x1,\"class\",x2\r\n"
                                     "1.5, 0, -2\r\n"
                                     "\r\n"
                                     "2.5,2,1e3\r\n"
                                     "3,1,0.25\r\n",
                                     "class", &err);
  g_assert_no_error(err);
  g_assert_cmpuint(a->n, ==, 3);
  g_assert_cmpint(a->shape.rank, ==, 1);
  g_assert_cmpint(a->shape.d[0], ==, 2);
  g_assert_cmpint(a->n_classes, ==, 3);
  float want[] = {1.5f, -2, 2.5f, 1000, 3, 0.25f};
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat(a->f32[i], ==, want[i]);
  g_assert_cmpfloat(a->labels[1], ==, 2);
  /* categorical labels: classes in byte order */
  g_autoptr(LlDataset) b = load_text(dir, "iris.csv",
                                     "sl,sw,species\n"
                                     "5.1,3.5,setosa\n"
                                     "7.0,3.2,versicolor\n"
                                     "6.3,3.3,\"virginica\"\n"
                                     "4.9,3.0,setosa\n",
                                     "species", &err);
  g_assert_no_error(err);
  g_assert_cmpint(b->n_classes, ==, 3);
  g_assert_cmpstr(b->class_names[2], ==, "virginica");
  g_assert_cmpfloat(b->labels[0], ==, 0);
  g_assert_cmpfloat(b->labels[1], ==, 1);
  g_assert_cmpfloat(b->labels[2], ==, 2);
  g_assert_cmpfloat(b->labels[3], ==, 0);
  /* regression target, the last column by default */
  g_autoptr(LlDataset) c = load_text(dir, "r.csv", "a,y\n1,0.5\n2,-1.5\n", NULL, &err);
  g_assert_no_error(err);
  g_assert_cmpint(c->n_classes, ==, 0);
  g_assert_cmpfloat(c->labels[1], ==, -1.5f);
  tmp_dir_remove(dir);
}

static void test_malformed(void)
{
  g_autofree char *dir = tmp_dir_new();
  GError *err = NULL;
  g_assert_null(load_text(dir, "ragged.csv", "a,b,y\n1,2,0\n3,4,1\n5,1\n", "y", &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT,
                    "ragged.csv: line 4 has 2 fields but the header has 3");
  g_assert_null(load_text(dir, "wide.csv", "a,y\n1,0\n\n1,2,3\n", "y", &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "wide.csv: line 4 has 3 fields");
  g_assert_null(load_text(dir, "text.csv", "a,b,y\n1,2,0\n3,abc,1\n", "y", &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT,
                    "text.csv: line 3, column 'b': 'abc' is not a number");
  g_assert_null(load_text(dir, "empty-cell.csv", "a,b,y\n1,,0\n", "y", &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "empty-cell.csv: line 2, column 'b'");
  g_assert_null(load_text(dir, "nolabel.csv", "a,b,y\n1,2,\n", "y", &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT,
                    "nolabel.csv: line 2: the label column 'y' is empty");
  g_assert_null(load_text(dir, "col.csv", "a,b,y\n1,2,0\n", "label", &err));
  assert_data_error(err, LL_DATA_ERROR_CONFIG,
                    "col.csv: has no column 'label' for the label (columns: a, b, y)");
  g_assert_null(load_text(dir, "head.csv", "a,b,y\n", "y", &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "head.csv: has a header but no data rows");
  g_assert_null(load_text(dir, "blank.csv", "\n\n", "y", &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "blank.csv: is empty");
  g_assert_null(load_text(dir, "only.csv", "y\n1\n", "y", &err));
  assert_data_error(err, LL_DATA_ERROR_CONFIG, "only.csv: has no feature columns");
  tmp_dir_remove(dir);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/data/csv/good", test_good);
  g_test_add_func("/data/csv/malformed", test_malformed);
  return g_test_run();
}

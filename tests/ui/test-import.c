/* test-import.c: File > Import ONNX... in the real window under Xvfb. A
 * model PyTorch exported (tests/fuzz/corpus/onnx/torch-cnn.onnx) opens as an
 * unsaved spec laid out on the canvas, its weights in the run store's
 * imports/ folder named by the spec's init_from; a damaged file is a notice
 * and leaves the canvas as it was. Screenshots go to $LL_SCREENSHOT_DIR. */
#include <gtk/gtk.h>
#include <string.h>

#include "onnx.h"
#include "ui-harness.h"

static LlWindow *win;
static char *corpus; /* tests/fuzz/corpus/onnx */

static LlSpec *spec(void) { return ll_document_get_spec(ll_window_get_document(win)); }

static gboolean has_fc2(void) { return ll_graph_find(spec()->graph, "fc2") != NULL; }

static gboolean notice_is_error(void)
{
  return strstr(ll_window_get_notice(win), "not an ONNX model") != NULL;
}

static void test_torch_model(void)
{
  g_autofree char *path = g_build_filename(corpus, "torch-cnn.onnx", NULL);
  ll_window_import_onnx(win, path);
  g_assert_true(ll_ui_wait_for(has_fc2, 30000));
  ll_ui_spin(300);
  LlSpec *s = spec();
  /* blocks named as PyTorch's modules, laid out, the weights beside the store */
  static const char *const blocks[] = {"x", "c1", "pool", "c2", "fc", "c3", "fc2"};
  for (guint i = 0; i < G_N_ELEMENTS(blocks); i++)
    g_assert_nonnull(ll_graph_find(s->graph, blocks[i]));
  double x0, y0, x1, y1;
  g_assert_true(ll_document_get_position(ll_window_get_document(win), "x", &x0, &y0));
  g_assert_true(ll_document_get_position(ll_window_get_document(win), "fc2", &x1, &y1));
  g_assert_true(x0 != x1 || y0 != y1);
  g_assert_cmpuint(s->init_from->len, ==, 1);
  const LlInitFrom *f = s->init_from->pdata[0];
  g_assert_true(strstr(f->checkpoint, "/imports/torch-cnn-") != NULL);
  g_assert_true(g_file_test(f->checkpoint, G_FILE_TEST_IS_REGULAR));
  g_assert_true(ll_document_get_modified(ll_window_get_document(win)));
  g_assert_nonnull(strstr(ll_window_get_notice(win), "Imported torch-cnn.onnx"));
  ll_ui_screenshot(GTK_WIDGET(win), "import-onnx.png");
}

static void test_damaged(void)
{
  g_autofree char *good = g_build_filename(corpus, "torch-cnn.onnx", NULL);
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(good, &data, &len, NULL));
  g_autofree char *bad = g_build_filename(g_get_tmp_dir(), "damaged.onnx", NULL);
  g_assert_true(g_file_set_contents(bad, data, (gssize)len / 2, NULL));
  guint before = spec()->graph->blocks->len;
  ll_window_import_onnx(win, bad);
  g_assert_true(ll_ui_wait_for(notice_is_error, 30000));
  g_assert_cmpuint(spec()->graph->blocks->len, ==, before);
  g_assert_null(ll_window_get_save_prompt(win));
}

int main(int argc, char **argv)
{
  const char *presets = g_getenv("LAYERLAB_PRESETS_DIR");
  if (!ll_onnx_available())
    return 77; /* built without protobuf-c or the ONNX schema */
  if (!(win = ll_ui_start(&argc, &argv, "import")))
    return 77;
  g_autofree char *resources = presets ? g_path_get_dirname(presets) : NULL;
  g_autofree char *root = resources ? g_path_get_dirname(resources) : NULL;
  corpus = root ? g_build_filename(root, "tests", "fuzz", "corpus", "onnx", NULL) : NULL;
  if (!corpus || !g_file_test(corpus, G_FILE_TEST_IS_DIR))
    return 77;
  g_test_add_func("/ui/import/torch-model", test_torch_model);
  g_test_add_func("/ui/import/damaged", test_damaged);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  g_free(corpus);
  return rc;
}

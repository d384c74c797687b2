/* test-first-hour.c: the README's first hour, in the real window under Xvfb
 * at 1400x900: open, build a CNN, the mistake the window catches (no
 * Flatten before the Linear), train, train again with another learning
 * rate and compare the two, export the comparison as a report. Each step's
 * screenshot goes to $LL_SCREENSHOT_DIR/first-hour-N-*.png (the README's
 * are copies of these). */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "run-report.h"
#include "ui-harness.h"

static LlWindow *win;

static void activate(const char *action, GVariant *param)
{
  g_action_group_activate_action(G_ACTION_GROUP(win), action, param);
}

static gboolean action_enabled(const char *action)
{
  return g_action_group_get_action_enabled(G_ACTION_GROUP(win), action);
}

static LlDocument *doc(void) { return ll_window_get_document(win); }
static LlRunsView *runs(void) { return ll_window_get_runs(win); }
static gboolean stopped(void) { return !ll_window_is_training(win); }
static gboolean runs_idle(void) { return !ll_runs_view_is_busy(runs()); }
static guint n_runs(void) { return g_list_model_get_n_items(ll_runs_view_get_model(runs())); }
static gboolean two_runs(void) { return runs_idle() && n_runs() == 2; }

static char *out_path(const char *name)
{
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  return g_build_filename(dir ? dir : ".", name, NULL);
}

static void shot(const char *name)
{
  ll_ui_spin(400);
  ll_ui_screenshot(GTK_WIDGET(win), name);
}

/* Appends a block after another, as a double-click in the palette does. */
static char *add(const char *type, const char *after)
{
  const char *one[] = {after, NULL};
  ll_canvas_select(ll_window_get_canvas(win), one);
  g_signal_emit_by_name(ll_window_get_palette(win), "block-activated", type);
  return g_strdup(ll_canvas_get_primary(ll_window_get_canvas(win)));
}

/* Trains the spec in the window on the first 3,000 images (so that the test
 * takes seconds), every other setting as it is. */
static void train(void)
{
  LlSpec *s = ll_document_get_spec(doc());
  s->dataset.limit_train = 3000;
  s->dataset.limit_test = 1000;
  s->threads = 1;
  ll_document_settings_changed(doc());
  g_assert_true(action_enabled("train-start"));
  activate("train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  g_assert_true(ll_ui_wait_for(stopped, 300000));
}

static void test_first_hour(void)
{
  gtk_window_set_default_size(GTK_WINDOW(win), 1400, 900);
  /* 1. open: a new spec, its input waiting */
  activate("new", NULL);
  ll_ui_answer_save_prompt(win, "_Discard");
  ll_window_show_page(win, "summary");
  shot("first-hour-1-open.png");

  /* 2. build: two conv blocks, a pool, a Linear for the 10 classes; the
   * Flatten forgotten */
  g_autofree char *conv1 = add("Conv2d", "image");
  g_autofree char *relu1 = add("ReLU", conv1);
  g_autofree char *pool = add("MaxPool2d", relu1);
  g_autofree char *conv2 = add("Conv2d", pool);
  g_autofree char *relu2 = add("ReLU", conv2);
  g_autofree char *linear = add("Linear", relu2);

  /* 3. the mistake caught: the block, the status bar and Start say how to fix it */
  const GError *e = ll_document_get_error(doc());
  g_assert_nonnull(e);
  g_autofree char *fix = g_strdup_printf("insert Flatten before %s", linear);
  g_assert_nonnull(strstr(e->message, fix));
  g_assert_nonnull(strstr(ll_window_get_status(win), fix));
  g_assert_false(action_enabled("train-start"));
  shot("first-hour-2-mistake.png");
  g_autofree char *flat = add("Flatten", relu2);
  g_assert_null(ll_document_get_error(doc()));
  g_assert_true(action_enabled("train-start"));
  ll_window_show_page(win, "training");
  shot("first-hour-3-built.png");

  /* 4. train with a new spec's settings */
  train();
  ll_window_show_page(win, "curves");
  shot("first-hour-4-trained.png");

  /* 5. once more at a tenth of the learning rate, and compare */
  LlSpec *s = ll_document_get_spec(doc());
  double lr = s->optim.lr;
  s->optim.lr = lr / 10;
  ll_document_settings_changed(doc());
  train();
  ll_window_show_page(win, "runs");
  g_assert_true(ll_ui_wait_for(two_runs, 30000));
  GListModel *m = ll_runs_view_get_model(runs());
  g_autoptr(LlRunItem) a = g_list_model_get_item(m, 0);
  g_autoptr(LlRunItem) b = g_list_model_get_item(m, 1);
  const char *ids[] = {ll_run_item_get_info(a)->id, ll_run_item_get_info(b)->id, NULL};
  ll_runs_view_select(runs(), ids);
  g_assert_cmpint(ll_runs_view_get_n_series(runs()), ==, 2);
  g_autofree char *diff = ll_runs_view_get_diff_text(runs());
  g_assert_nonnull(strstr(diff, "training.optimizer.lr"));
  shot("first-hour-5-compare.png");

  /* 6. the comparison as a PDF report, and its first page as a PNG */
  g_autofree char *pdf = out_path("first-hour-report.pdf");
  g_unlink(pdf);
  ll_runs_view_export_report(runs(), pdf);
  g_assert_true(ll_ui_wait_for(runs_idle, 120000));
  g_assert_true(g_file_test(pdf, G_FILE_TEST_IS_REGULAR));
  g_autoptr(GPtrArray) infos = g_ptr_array_new();
  g_ptr_array_add(infos, (gpointer)ll_run_item_get_info(a));
  g_ptr_array_add(infos, (gpointer)ll_run_item_get_info(b));
  g_autofree char *text = ll_run_report_first_page_text(infos);
  g_test_message("%s", text);
  g_assert_null(strpbrk(text, "{}\""));
  g_autofree char *dir = out_path("first-hour-report");
  g_mkdir_with_parents(dir, 0755);
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_run_report_png(infos, dir, 110, written, &error));
  g_assert_no_error(error);
  g_autofree char *page1 = out_path("first-hour-6-report.png");
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(written->pdata[0], &bytes, &len, NULL));
  g_assert_true(g_file_set_contents(page1, bytes, (gssize)len, NULL));
}

/* Xvfb has no session bus; GTK says so once. That is the environment, not a bug. */
int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "first-hour")))
    return 77;
  g_test_add_func("/ui/first-hour/walkthrough", test_first_hour);
  return g_test_run();
}

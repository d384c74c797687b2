/* test-graph-check.c: what the window says about a graph and a run is true:
 * the scrubber counts epochs, an exported PNG has the size entered, an
 * autoencoder's result is its test error. Screenshots go to
 * $LL_SCREENSHOT_DIR (the build dir). */
#include <cairo.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

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

static void open_preset(const char *name) { ll_ui_open_preset(win, name); }

static LlDocument *doc(void) { return ll_window_get_document(win); }
static LlAnalysisView *analysis(void) { return ll_window_get_analysis(win); }
static gboolean stopped(void) { return !ll_window_is_training(win); }

static char *out_path(const char *name)
{
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  return g_build_filename(dir ? dir : ".", name, NULL);
}

static void train_short(const char *preset, int epochs)
{
  open_preset(preset);
  LlSpec *s = ll_document_get_spec(doc());
  s->dataset.limit_train = 1000;
  s->dataset.limit_test = 300;
  s->epochs = epochs;
  s->batch_size = 64;
  s->threads = 1;
  s->early_stopping = FALSE;
  ll_document_settings_changed(doc());
  g_assert_true(action_enabled("train-start"));
  activate("train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  g_assert_true(ll_ui_wait_for(stopped, 120000));
  ll_ui_spin(100);
}

/* The scrubber names the epoch of what it shows, not a count of payloads
 * (a 2-epoch run has 3: two validations and the test set). */
static void test_scrubber(void)
{
  train_short("tiny-cnn", 2);
  g_assert_cmpuint(ll_analysis_view_get_n_payloads(analysis()), ==, 3);
  ll_window_show_page(win, "analysis");
  ll_analysis_view_select_payload(analysis(), 2);
  ll_ui_spin(50);
  g_assert_cmpstr(ll_analysis_view_get_epoch_text(analysis()), ==, "test set, epoch 2 of 2");
  ll_analysis_view_select_payload(analysis(), 0);
  ll_ui_spin(50);
  g_assert_cmpstr(ll_analysis_view_get_epoch_text(analysis()), ==,
                  "validation set, epoch 1 of 2");

  /* a PNG is written at the pixel size entered, whatever the DPI */
  ll_analysis_view_show_page(analysis(), "confusion");
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "graph-check-analysis.png");
  const double dpis[] = {72, 96, 144, 300};
  for (guint i = 0; i < G_N_ELEMENTS(dpis); i++) {
    g_autofree char *png = out_path("graph-check-export.png");
    g_autoptr(GError) error = NULL;
    g_assert_true(ll_analysis_view_export_current(analysis(), png, 1201, 800, dpis[i], &error));
    g_assert_no_error(error);
    cairo_surface_t *img = cairo_image_surface_create_from_png(png);
    g_assert_cmpint(cairo_surface_status(img), ==, CAIRO_STATUS_SUCCESS);
    g_assert_cmpint(cairo_image_surface_get_width(img), ==, 1201);
    g_assert_cmpint(cairo_image_surface_get_height(img), ==, 800);
    cairo_surface_destroy(img);
  }
}

/* An autoencoder's run ends with its test error in the status, not a bare
 * "Training finished." */
static void test_autoencoder_status(void)
{
  train_short("ae-pretrain", 1);
  const char *status = ll_training_panel_get_progress_text(ll_window_get_training_panel(win));
  g_test_message("%s", status);
  g_assert_true(g_str_has_prefix(status, "Training finished: test MSE "));
  double mse = g_ascii_strtod(status + strlen("Training finished: test MSE "), NULL);
  g_assert_cmpfloat(mse, >, 0.0);
  g_assert_cmpfloat(mse, <, 1.0);
}

/* Xvfb has no session bus; GTK says so once. That is the environment, not a bug. */
int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "graph-check")))
    return 77;
  g_test_add_func("/ui/graph-check/scrubber-export", test_scrubber);
  g_test_add_func("/ui/graph-check/autoencoder-status", test_autoencoder_status);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}

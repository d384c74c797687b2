/* test-study-runs.c: a study run from the Study tab, shortened and over
 * seeds: the shortening fields say "as the study says" for 0, a longer
 * stage stays longer, every seed is a row with its seed and its
 * configuration's mean and spread, the metric figure shows every seed and
 * error bars (written as PNG to $LL_SCREENSHOT_DIR), and the analysis view is
 * handed the trial's own spec, not the base spec on the canvas. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "study-figures.h"
#include "ui-harness.h"

static LlWindow *win;

/* A tiny classifier on synthetic blobs: a trial takes a fraction of a second. */
#define BLOBS_SPEC                                                                                 \
  "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"mlp-blobs\",\n"                     \
  " \"graph\": {\"blocks\": [\n"                                                                   \
  "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2]}},\n"                       \
  "  {\"name\": \"fc1\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": "                   \
  "{\"out_features\": 16}},\n"                                                                     \
  "  {\"name\": \"act1\", \"type\": \"ReLU\", \"inputs\": [\"fc1\"]},\n"                           \
  "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"act1\"], \"props\": "                \
  "{\"out_features\": 3}}]},\n"                                                                    \
  " \"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\", \"n\": 600, "      \
  "\"test_n\": 200, \"classes\": 3, \"features\": 2, \"noise\": 1.2}, \"normalize\": \"none\"},\n" \
  " \"losses\": [{\"output\": \"out\", \"target\": \"label\", \"type\": \"cross_entropy\"}],\n"     \
  " \"training\": {\"epochs\": 4, \"batch_size\": 50, \"seed\": 3, \"threads\": 1,\n"              \
  "   \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}}}"

static char *write_study(const char *name, const char *body)
{
  const char *dir = g_getenv("LL_SCREENSHOT_DIR") ?: ".";
  g_autofree char *file = g_strdup_printf("%s.json", name);
  char *path = g_build_filename(dir, file, NULL);
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"%s\", \"spec\": %s,\n%s}", name,
      BLOBS_SPEC, body);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

static LlStudyView *study(void) { return ll_window_get_study(win); }
static gboolean study_done(void) { return !ll_study_view_is_running(study()); }

static void run_and_wait(int epochs, guint trials)
{
  ll_study_view_run(study(), epochs, 0);
  g_assert_true(ll_study_view_is_running(study()));
  g_assert_true(ll_ui_wait_for(study_done, 240000));
  g_assert_cmpuint(ll_study_view_n_finished(study()), ==, trials);
}

static char *cell(guint row, const char *column)
{
  char *t = ll_study_view_cell_text(study(), row, column);
  g_assert_nonnull(t);
  return t;
}

/* The metric figure as a PNG of its export size, for the reader to look at. */
static void export_metric(const char *name)
{
  LlStudyFigures *f = ll_study_view_get_figures(study());
  g_assert_true(ll_study_figures_available(f, LL_STUDY_FIG_METRIC, NULL));
  double w, h;
  ll_study_figures_size(f, LL_STUDY_FIG_METRIC, &w, &h);
  const char *dir = g_getenv("LL_SCREENSHOT_DIR") ?: ".";
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_study_figures_export(f, LL_STUDY_FIG_METRIC, path, NULL, w, h, 96, &error));
  g_assert_no_error(error);
  g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
}

/* Two stages of 4 and 2 epochs with different learning rates, over three
 * seeds, shortened to 2 epochs: 2 and 1, not 2 and 2. */
static void test_stages_over_seeds(void)
{
  g_autofree char *path =
      write_study("seeds-stages", " \"stages\": [{\"name\": \"long\"},\n"
                                  "  {\"name\": \"short\", \"overrides\": {\"training.epochs\": 2,"
                                  " \"training.optimizer.lr\": 0.003}}]");
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_window_open_file(win, path, &error));
  g_assert_no_error(error);
  ll_window_show_page(win, "study");
  /* 0 in the shortening fields reads as words */
  g_autofree char *epochs_text = ll_study_view_shorten_text(study(), FALSE);
  g_autofree char *samples_text = ll_study_view_shorten_text(study(), TRUE);
  g_assert_cmpstr(epochs_text, ==, "as the study says");
  g_assert_cmpstr(samples_text, ==, "as the study says");
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "study-seeds-before.png");

  ll_study_view_set_repeats(study(), 3);
  run_and_wait(2, 6);
  for (guint i = 0; i < 6; i++) {
    g_autofree char *label = cell(i, "trial");
    g_autofree char *seed = cell(i, "seed");
    g_autofree char *ep = cell(i, "epochs");
    g_autofree char *samples = cell(i, "samples");
    g_autofree char *mean = cell(i, "mean");
    g_test_message("%s seed %s: %s epochs, %s samples, %s", label, seed, ep, samples, mean);
    g_assert_cmpstr(label, ==, i < 3 ? "long" : "short");
    g_assert_cmpint(atoi(seed), ==, 3 + (int)i % 3);
    g_assert_cmpstr(ep, ==, i < 3 ? "2" : "1"); /* the longer stage stays longer */
    g_assert_cmpstr(samples, ==, "540");        /* 600 less the 10 % validation split */
    g_assert_nonnull(strstr(mean, "\u00b1"));
    g_assert_true(g_str_has_suffix(mean, "(3)"));
  }
  /* the rows of a stage share its mean; sorting by it keeps seeds together */
  g_assert_true(ll_study_view_sort(study(), "mean", TRUE));
  g_autofree char *m0 = cell(0, "mean");
  g_autofree char *m2 = cell(2, "mean");
  g_autofree char *m5 = cell(5, "mean");
  g_assert_cmpstr(m0, ==, m2);
  g_assert_cmpfloat(g_ascii_strtod(m0, NULL), >=, g_ascii_strtod(m5, NULL));
  ll_study_view_sort(study(), "#", FALSE);

  /* the analysis view was handed the last trial's spec: the short stage's
   * learning rate, shortened epochs and its seed, not the base spec */
  const char *spec = ll_analysis_view_get_spec_json(ll_window_get_analysis(win));
  g_assert_nonnull(spec);
  g_autoptr(LlSpec) ran = ll_spec_load_data(spec, -1, "trial", &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(ran->optim.lr, ==, 0.003);
  g_assert_cmpint(ran->epochs, ==, 1);
  g_assert_cmpint(ran->seed, ==, 5);

  g_assert_true(ll_study_view_show_page(study(), "metric"));
  ll_ui_spin(300);
  ll_ui_screenshot(GTK_WIDGET(win), "study-seeds-stages.png");
  export_metric("study-seeds-stages-metric.png");
  ll_study_view_show_page(study(), "trials");
  ll_ui_spin(100);
  ll_ui_screenshot(GTK_WIDGET(win), "study-seeds-trials.png");
}

/* A sweep whose study file asks for 2 seeds: the field shows it, and the
 * metric panel has every seed as a dot with the mean +- sd. */
static void test_sweep_over_seeds(void)
{
  g_autofree char *path = write_study(
      "seeds-sweep", " \"repeats\": 2,\n"
                     " \"sweep\": {\"mode\": \"grid\", \"axes\": [{\"path\": "
                     "\"training.optimizer.lr\", \"values\": [0.03, 0.003, 0.0003]}]}");
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_window_open_file(win, path, &error));
  g_assert_no_error(error);
  run_and_wait(1, 6);
  LlStudyFigures *f = ll_study_view_get_figures(study());
  g_assert_cmpint(ll_study_figures_metric_points(f, 0), ==, 6);
  g_autofree char *seed = cell(1, "seed");
  g_assert_cmpstr(seed, ==, "4");
  g_assert_true(ll_study_view_show_page(study(), "metric"));
  ll_ui_spin(300);
  ll_ui_screenshot(GTK_WIDGET(win), "study-seeds-sweep.png");
  export_metric("study-seeds-sweep-metric.png");
}

int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "study-runs")))
    return 77;
  g_test_add_func("/ui/study-runs/stages-over-seeds", test_stages_over_seeds);
  g_test_add_func("/ui/study-runs/sweep-over-seeds", test_sweep_over_seeds);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}

/* test-window.c: drives the real workbench window under Xvfb: presets,
 * editing through the palette, inspector and actions, an invalid
 * connection and its undo, and a short training run with pause, resume and
 * stop while the main thread is watched for hangs (the stall target
 * belongs to a benchmark in tests/bench/). Screenshots go to
 * $LL_SCREENSHOT_DIR (the build dir). */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "ui-harness.h"
#include "study-figures.h"

static LlWindow *win;
static gint64 last_beat, max_gap;
static gboolean watching;

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
static LlGraph *graph(void) { return ll_document_get_spec(doc())->graph; }

static guint summary_rows(void)
{
  return g_list_model_get_n_items(ll_summary_view_get_model(ll_window_get_summary(win)));
}

static void select_block(const char *name)
{
  const char *one[] = {name, NULL};
  ll_canvas_select(ll_window_get_canvas(win), one);
}

static void test_presets(void)
{
  g_autoptr(GPtrArray) presets = ll_presets_list();
  g_assert_cmpuint(presets->len, >=, 4);
  for (guint i = 0; i < presets->len; i++) {
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(presets->pdata[i], &text, NULL, NULL));
    gboolean study = strstr(text, "\"layerlab-study\"") != NULL;
    activate("open-path", g_variant_new_string(presets->pdata[i]));
    ll_ui_spin(20);
    /* a study shows its base spec on the canvas and itself in the Study tab */
    g_assert_cmpint(ll_study_view_has_study(ll_window_get_study(win)), ==, study);
    if (!study)
      g_assert_cmpstr(ll_document_get_path(doc()), ==, presets->pdata[i]);
    g_assert_null(ll_document_get_error(doc()));
    g_assert_cmpuint(graph()->blocks->len, >, 1);
    g_assert_cmpuint(summary_rows(), ==, graph()->blocks->len);
    if (!study)
      g_assert_cmpstr(ll_window_get_notice(win), ==, "");
  }
}

/* A study runs from the window: every stage, shortened, with the trials listed. */
static void test_study(void)
{
  open_preset("even-odd-transfer");
  LlStudyView *sv = ll_window_get_study(win);
  g_assert_true(ll_study_view_has_study(sv));
  guint events0 = ll_window_get_events(win);
  ll_study_view_run(sv, 1, 600);
  g_assert_true(ll_study_view_is_running(sv));
  gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
  while (ll_study_view_is_running(sv) && g_get_monotonic_time() < deadline)
    ll_ui_spin(50);
  g_assert_false(ll_study_view_is_running(sv));
  /* pretrain, then frozen, fine-tuned and from scratch */
  g_assert_cmpuint(ll_study_view_n_finished(sv), ==, 4);
  g_assert_cmpuint(ll_window_get_events(win), >, events0);
  ll_ui_screenshot(GTK_WIDGET(win), "window-study.png");
  /* stages: a bar per trial; no heatmap (it says why); the curves */
  LlStudyFigures *f = ll_study_view_get_figures(sv);
  g_assert_nonnull(f);
  g_assert_cmpuint(ll_study_figures_n_trials(f), ==, 4);
  g_assert_true(ll_study_figures_available(f, LL_STUDY_FIG_METRIC, NULL));
  g_assert_false(ll_study_figures_available(f, LL_STUDY_FIG_HEATMAP, NULL));
  g_assert_false(ll_study_view_show_page(sv, "detection"));
  const char *pages[] = {"curves", "metric"};
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++) {
    guint d0 = ll_study_view_figure_draws(sv, pages[i]);
    g_assert_true(ll_study_view_show_page(sv, pages[i]));
    g_assert_true(ll_ui_wait_for_figure_draw(sv, pages[i], d0, 5000));
  }
  ll_ui_screenshot(GTK_WIDGET(win), "study-even-odd-transfer-metric.png");
  ll_study_view_show_page(sv, "trials");
  /* "Open Best Spec" puts the best trial's spec on the canvas in the study's place */
  g_autofree char *best = g_strdup(ll_study_view_best_spec(sv)); /* cleared with the study */
  g_assert_nonnull(best);
  g_assert_true(g_str_has_suffix(best, "best-spec.json"));
  /* the study's folder opens again with its trials and figures (as the CLI leaves one) */
  g_autofree char *dir = g_path_get_dirname(best);
  g_autofree char *again = g_build_filename(dir, "study.json", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_window_open_file(win, again, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(ll_study_view_n_finished(sv), ==, 4);
  g_assert_cmpuint(ll_study_figures_n_trials(ll_study_view_get_figures(sv)), ==, 4);
  g_assert_cmpstr(ll_study_view_best_spec(sv), ==, best);
  g_assert_true(ll_study_view_show_page(sv, "metric"));
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "study-reopened.png");
  GtkWidget *button = ll_ui_find_button(GTK_WIDGET(sv), "Open Best Spec");
  g_assert_nonnull(button);
  g_assert_true(gtk_widget_get_sensitive(button));
  gtk_widget_activate(button); /* a click, animated: "clicked" comes 250 ms later */
  ll_ui_spin(500);
  g_assert_false(ll_study_view_has_study(sv));
  g_assert_cmpstr(ll_document_get_path(ll_window_get_document(win)), ==, best);
  g_assert_nonnull(strstr(ll_window_get_notice(win), "best trial's spec is on the canvas"));
  g_autofree char *spec = NULL;
  g_assert_true(g_file_get_contents(best, &spec, NULL, NULL));
  g_assert_nonnull(strstr(spec, "\"format\": \"layerlab-spec\""));
}

/* Runs a study preset from the Study tab and screenshots each figure page. */
static void run_study_preset(const char *preset, int epochs, guint trials)
{
  open_preset(preset);
  LlStudyView *sv = ll_window_get_study(win);
  ll_study_view_run(sv, epochs, 600);
  gint64 deadline = g_get_monotonic_time() + 240 * G_USEC_PER_SEC;
  guint seen = 0;
  while (ll_study_view_is_running(sv) && g_get_monotonic_time() < deadline) {
    /* the figures follow the trials as they finish */
    if (ll_study_view_n_finished(sv) > seen) {
      seen = ll_study_view_n_finished(sv);
      g_assert_cmpuint(ll_study_figures_n_trials(ll_study_view_get_figures(sv)), >=, seen);
    }
    ll_ui_spin(50);
  }
  g_assert_false(ll_study_view_is_running(sv));
  g_assert_cmpuint(ll_study_view_n_finished(sv), ==, trials);
  g_assert_cmpuint(ll_study_figures_n_trials(ll_study_view_get_figures(sv)), ==, trials);
  const char *pages[] = {"trials", "metric", "heatmap", "curves", "detection"};
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++) {
    guint d0 = ll_study_view_figure_draws(sv, pages[i]);
    if (!ll_study_view_show_page(sv, pages[i]))
      continue; /* detection: only when the study exported outputs */
    if (i > 0 && ll_study_figures_available(ll_study_view_get_figures(sv), i - 1, NULL))
      g_assert_true(ll_ui_wait_for_figure_draw(sv, pages[i], d0, 5000));
    else
      ll_ui_spin(200);
    g_autofree char *shot = g_strdup_printf("study-%s-%s.png", preset, pages[i]);
    ll_ui_screenshot(GTK_WIDGET(win), shot);
  }
  ll_study_view_show_page(sv, "trials");
}

/* A one-axis sweep (metric against the bottleneck size), a sweep over five
 * axes (the heatmap, its axes chosen), and the change-point detection panels. */
/* A written figure: some size, and the format's mark in its first bytes. */
static void assert_figure_file(const char *path, const char *magic)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_assert_cmpuint(len, >, 1000);
  g_assert_nonnull(g_strstr_len(data, MIN(len, 200), magic));
}

static void test_study_figures(void)
{
  run_study_preset("ae-bottleneck-sweep", 3, 7);
  LlStudyView *view = ll_window_get_study(win);
  LlStudyFigures *f = ll_study_view_get_figures(view);
  g_assert_cmpint(ll_study_figures_metric_points(f, 0), ==, 7);
  g_assert_false(ll_study_figures_available(f, LL_STUDY_FIG_HEATMAP, NULL));
  /* Export saves the figure shown, in the format of the name the user picks */
  g_autofree char *dir = g_dir_make_tmp("layerlab-export-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "metric.png", NULL);
  g_autofree char *svg = g_build_filename(dir, "metric.svg", NULL);
  g_assert_true(ll_study_view_show_page(view, "metric"));
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_study_view_export_shown(view, png, &error));
  g_assert_no_error(error);
  g_assert_true(ll_study_view_export_shown(view, svg, &error));
  assert_figure_file(png, "PNG");
  assert_figure_file(svg, "<svg");
  ll_ui_spin(50);
  ll_ui_screenshot(GTK_WIDGET(win), "study-export.png");
  /* the trials table, and a heatmap of a one-axis sweep, are nothing to export */
  g_autofree char *none = g_build_filename(dir, "none.png", NULL);
  g_assert_true(ll_study_view_show_page(view, "trials"));
  g_assert_false(ll_study_view_export_shown(view, none, &error));
  g_assert_nonnull(strstr(error->message, "table"));
  g_clear_error(&error);
  if (ll_study_view_show_page(view, "heatmap")) {
    g_assert_false(ll_study_view_export_shown(view, none, &error));
    g_assert_nonnull(strstr(error->message, "two or more axes"));
    g_clear_error(&error);
  }
  g_assert_false(g_file_test(none, G_FILE_TEST_EXISTS));
  /* a folder that cannot be written: the error, and the window carries on */
  g_assert_true(ll_study_view_show_page(view, "metric"));
  g_assert_false(ll_study_view_export_shown(view, "/nonexistent-dir/metric.png", &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_remove(png);
  g_remove(svg);
  g_rmdir(dir);
  run_study_preset("fmnist-search", 2, 16);
  f = ll_study_view_get_figures(ll_window_get_study(win));
  g_assert_cmpint(ll_study_figures_n_axes(f), ==, 5);
  g_assert_true(ll_study_figures_available(f, LL_STUDY_FIG_HEATMAP, NULL));
  run_study_preset("changepoint", 1, 2);
  f = ll_study_view_get_figures(ll_window_get_study(win));
  g_assert_true(ll_study_figures_available(f, LL_STUDY_FIG_DETECTION, NULL));
  /* E10's encoder stage is ranked by its test_loss: the table's test_accuracy
   * column has nothing for it, and the best trial is the MLP */
  run_study_preset("embeddings-mlp", 1, 2);
  LlStudyView *ev = ll_window_get_study(win);
  g_autofree char *enc = ll_study_view_cell_text(ev, 0, "metric");
  g_autofree char *head = ll_study_view_cell_text(ev, 1, "metric");
  g_assert_cmpstr(enc, ==, "-");
  g_assert_true(g_ascii_isdigit(head[0]));
  g_assert_nonnull(strstr(ll_study_view_best_spec(ev), "best-spec.json"));
  g_autofree char *best_spec = NULL;
  g_assert_true(g_file_get_contents(ll_study_view_best_spec(ev), &best_spec, NULL, NULL));
  g_assert_nonnull(strstr(best_spec, "embeddings-mlp-head"));
  /* the depth stages of E3 are solved to a 100k budget: the table shows how close */
  run_study_preset("mnist-arch-search", 1, 13);
  LlStudyView *sv = ll_window_get_study(win);
  g_autofree char *linear = ll_study_view_cell_text(sv, 0, "params");
  g_autofree char *depth1 = ll_study_view_cell_text(sv, 1, "params");
  g_assert_cmpstr(linear, ==, "7850");
  g_assert_nonnull(strstr(depth1, "% of 100000)"));
  g_test_message("depth 1: %s params", depth1);
  /* sorted by a header: the largest model (the CNN, 207,018) first, then back */
  g_assert_true(ll_study_view_sort(sv, "params", TRUE));
  ll_ui_spin(50);
  g_autofree char *top = ll_study_view_cell_text(sv, 0, "trial");
  g_autofree char *top_params = ll_study_view_cell_text(sv, 0, "params");
  g_assert_cmpstr(top, ==, "cnn");
  g_assert_cmpstr(top_params, ==, "207018");
  g_assert_true(ll_study_view_sort(sv, "#", FALSE));
  ll_ui_spin(50);
  g_autofree char *first = ll_study_view_cell_text(sv, 0, "trial");
  g_assert_cmpstr(first, ==, "linear");
}

static void test_edit(void)
{
  open_preset("tiny-cnn");
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "window-tiny-cnn.png");
  guint n0 = graph()->blocks->len;

  /* the palette lists the registry and filters by search */
  LlPalette *pal = ll_window_get_palette(win);
  int n_types;
  ll_block_registry(&n_types);
  ll_palette_set_search(pal, "");
  g_assert_cmpuint(ll_palette_count_visible(pal), ==, (guint)n_types);
  ll_palette_set_search(pal, "conv");
  g_assert_cmpuint(ll_palette_count_visible(pal), >=, 3);
  g_assert_cmpuint(ll_palette_count_visible(pal), <, (guint)n_types);
  ll_palette_set_search(pal, "");

  /* double-click in the palette adds after the selection, spliced into its
   * edge: logits now reads the dropout */
  select_block("gap");
  g_signal_emit_by_name(pal, "block-activated", "Dropout");
  g_assert_cmpuint(graph()->blocks->len, ==, n0 + 1);
  const char *added = ll_canvas_get_primary(ll_window_get_canvas(win));
  g_assert_nonnull(added);
  LlBlock *b = ll_graph_find(graph(), added);
  g_assert_cmpint(b->n_inputs, ==, 1);
  g_assert_cmpstr(b->input_names[0], ==, "gap");
  g_assert_cmpstr(ll_graph_find(graph(), "logits")->input_names[0], ==, added);
  g_assert_null(ll_document_get_error(doc()));
  g_assert_cmpuint(summary_rows(), ==, n0 + 1);
  g_autoptr(GError) error = NULL;

  /* a property edit through the inspector changes the summary */
  select_block("conv1");
  LlInspector *insp = ll_window_get_inspector(win);
  GtkWidget *oc = ll_inspector_get_editor(insp, "out_channels");
  g_assert_true(GTK_IS_SPIN_BUTTON(oc));
  g_autofree char *totals0 = g_strdup(ll_summary_view_get_totals(ll_window_get_summary(win)));
  gtk_editable_set_text(GTK_EDITABLE(oc), "12");
  g_assert_cmpint(LL_PROP_I(ll_graph_find(graph(), "conv1"), 0), ==, 12);
  g_assert_cmpstr(ll_summary_view_get_totals(ll_window_get_summary(win)), !=, totals0);
  g_assert_cmpstr(ll_inspector_get_message(insp), ==, "");
  /* an invalid value: error style and message, not applied */
  gtk_editable_set_text(GTK_EDITABLE(oc), "-3");
  g_assert_cmpstr(ll_inspector_get_message(insp), !=, "");
  g_assert_true(gtk_widget_has_css_class(oc, "error"));
  g_assert_cmpint(LL_PROP_I(ll_graph_find(graph(), "conv1"), 0), ==, 12);
  gtk_editable_set_text(GTK_EDITABLE(oc), "12");
  g_assert_false(gtk_widget_has_css_class(oc, "error"));

  /* an invalid connection: a Conv2d fed by the 10 logits */
  select_block("logits");
  g_signal_emit_by_name(pal, "block-activated", "Conv2d");
  g_autofree char *conv = g_strdup(ll_canvas_get_primary(ll_window_get_canvas(win)));
  g_assert_nonnull(ll_document_get_error(doc()));
  g_assert_cmpstr(ll_document_get_error_block(doc()), ==, conv);
  g_assert_nonnull(strstr(ll_document_get_error(doc())->message, conv));
  /* the blocks before the error keep their rows */
  g_assert_cmpuint(summary_rows(), ==, graph()->blocks->len);
  g_assert_false(action_enabled("train-start"));
  ll_ui_spin(100);
  ll_ui_screenshot(GTK_WIDGET(win), "window-error.png");
  activate("undo", NULL);
  g_assert_null(ll_document_get_error(doc()));
  g_assert_null(ll_graph_find(graph(), conv));
  g_assert_true(action_enabled("train-start"));
  activate("redo", NULL);
  g_assert_nonnull(ll_graph_find(graph(), conv));
  g_assert_cmpstr(ll_document_get_error_block(doc()), ==, conv);
  /* delete it through the action */
  select_block(conv);
  activate("delete", NULL);
  g_assert_null(ll_graph_find(graph(), conv));
  g_assert_null(ll_document_get_error(doc()));

  /* a cycle is reported on a block too, and undone */
  g_assert_true(ll_document_connect(doc(), "logits", "conv1", &error));
  g_assert_nonnull(ll_document_get_error(doc()));
  g_assert_nonnull(ll_document_get_error_block(doc()));
  activate("undo", NULL);
  g_assert_null(ll_document_get_error(doc()));

  /* copy and paste two blocks: their wire comes along, names are new */
  const char *two[] = {"conv2", "bn2", NULL};
  ll_canvas_select(ll_window_get_canvas(win), two);
  guint n1 = graph()->blocks->len;
  activate("copy", NULL);
  activate("paste", NULL);
  g_assert_cmpuint(graph()->blocks->len, ==, n1 + 2);
  g_auto(GStrv) pasted = ll_canvas_get_selection(ll_window_get_canvas(win));
  g_assert_cmpuint(g_strv_length(pasted), ==, 2);
  LlBlock *pbn = ll_graph_find(graph(), pasted[1]);
  g_assert_cmpstr(pbn->desc->type, ==, "BatchNorm2d");
  g_assert_cmpstr(pbn->input_names[0], ==, pasted[0]);
  activate("undo", NULL);
  g_assert_cmpuint(graph()->blocks->len, ==, n1);

  /* moving is one undoable edit; auto layout and zoom actions */
  double x0, y0, x1, y1;
  ll_document_get_position(doc(), "conv1", &x0, &y0);
  ll_document_begin_move(doc());
  ll_document_set_position(doc(), "conv1", x0 + 100, y0 + 50);
  ll_document_end_move(doc());
  ll_document_get_position(doc(), "conv1", &x1, &y1);
  g_assert_cmpfloat(x1, ==, x0 + 100);
  activate("undo", NULL);
  ll_document_get_position(doc(), "conv1", &x1, &y1);
  g_assert_cmpfloat(x1, ==, x0);
  double z = ll_canvas_get_zoom(ll_window_get_canvas(win));
  activate("zoom-in", NULL);
  g_assert_cmpfloat(ll_canvas_get_zoom(ll_window_get_canvas(win)), >, z);
  activate("zoom-reset", NULL);
  g_assert_cmpfloat(ll_canvas_get_zoom(ll_window_get_canvas(win)), ==, 1.0);
  activate("auto-layout", NULL);
  g_assert_null(ll_document_get_error(doc()));

  /* every edit was autosaved */
  g_autofree char *auto_path = ll_document_autosave_path(doc());
  g_assert_true(g_file_test(auto_path, G_FILE_TEST_EXISTS));
}

static gboolean beat(gpointer data)
{
  gint64 now = g_get_monotonic_time();
  if (watching && last_beat && now - last_beat > max_gap) {
    max_gap = now - last_beat;
    g_test_message("main-loop gap %.1f ms (events %u)", max_gap / 1000.0,
                   ll_window_get_events(win));
  }
  last_beat = now;
  return G_SOURCE_CONTINUE;
}

static gboolean has_points(void)
{
  return ll_curve_view_get_n_points(ll_window_get_curves(win)) >= 5;
}
static gboolean has_epoch(void)
{
  return strstr(ll_training_panel_get_progress_text(ll_window_get_training_panel(win)),
                "epoch 2/") != NULL;
}
static gboolean has_event(void) { return ll_window_get_events(win) > 0; }
static gboolean stopped(void) { return !ll_window_is_training(win); }

/* Every spec preset trains from the window (shortened: a few batches). */
static void test_presets_train(void)
{
  g_autoptr(GPtrArray) presets = ll_presets_list();
  guint trained = 0;
  for (guint i = 0; i < presets->len; i++) {
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(presets->pdata[i], &text, NULL, NULL));
    if (strstr(text, "\"layerlab-study\""))
      continue; /* studies run from the Study tab: /ui/window/study */
    activate("open-path", g_variant_new_string(presets->pdata[i]));
    ll_ui_answer_save_prompt(win, "_Discard"); /* the settings of the last preset */
    ll_ui_spin(20);
    LlSpec *s = ll_document_get_spec(doc());
    s->dataset.limit_train = 400;
    s->dataset.limit_test = 200;
    s->epochs = 1;
    s->batch_size = 32;
    s->threads = 1;
    ll_document_settings_changed(doc());
    activate("train-start", NULL);
    g_assert_true(ll_window_is_training(win));
    g_assert_true(ll_ui_wait_for(stopped, 60000));
    const char *status = ll_training_panel_get_progress_text(ll_window_get_training_panel(win));
    g_test_message("%s: %s", (char *)presets->pdata[i], status);
    g_assert_nonnull(strstr(status, "finished"));
    g_assert_cmpuint(ll_window_get_events(win), >, 2); /* started, epoch, eval, finished */
    trained++;
  }
  g_assert_cmpuint(trained, >=, 6);
}

static void test_train(void)
{
  open_preset("tiny-cnn");
  LlSpec *s = ll_document_get_spec(doc());
  s->dataset.limit_train = 2000;
  s->dataset.limit_test = 500;
  s->epochs = 3;
  s->batch_size = 64;
  s->threads = 1;
  ll_document_settings_changed(doc());
  ll_window_show_page(win, "training");
  ll_window_show_page(win, "curves");
  g_assert_true(action_enabled("train-start"));
  g_timeout_add(5, beat, NULL);
  ll_ui_spin(100);
  max_gap = 0;
  last_beat = 0;
  watching = TRUE;
  gint64 t0 = g_get_monotonic_time();
  activate("train-start", NULL);
  g_test_message("train-start took %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
  g_assert_true(ll_window_is_training(win));
  /* The frame right after Start competes with the trainer thread opening the
   * dataset (on a 2-core box with Xvfb): it is reported, and the hang check
   * holds from the first event on, while batches stream in. */
  g_assert_true(ll_ui_wait_for(has_event, 20000));
  g_test_message("longest gap while the run started: %.1f ms", max_gap / 1000.0);
  max_gap = 0;
  last_beat = 0;
  g_assert_true(ll_ui_wait_for(has_points, 30000));
  activate("train-pause", NULL);
  g_assert_true(ll_window_is_paused(win));
  ll_ui_spin(300);
  guint events = ll_window_get_events(win);
  ll_ui_spin(300);
  /* paused: at most what was already queued arrives */
  g_assert_cmpuint(ll_window_get_events(win), <=, events + 2);
  activate("train-pause", NULL);
  g_assert_false(ll_window_is_paused(win));
  g_assert_true(ll_ui_wait_for(has_epoch, 40000));
  ll_ui_spin(300);
  /* the screenshot renders the whole window off-screen: test work, not the app's */
  watching = FALSE;
  ll_ui_screenshot(GTK_WIDGET(win), "window-training.png");
  last_beat = 0;
  watching = TRUE;
  activate("train-stop", NULL);
  g_assert_true(ll_ui_wait_for(stopped, 20000));
  watching = FALSE;
  g_test_message("longest main-loop gap while training: %.1f ms", max_gap / 1000.0);
  /* A hang check only: a loaded 2-core CI machine stretches gaps to a few
   * hundred ms by chance, so the 50 ms responsiveness target is measured by
   * a benchmark in tests/bench/, not asserted here. */
  g_assert_cmpint(max_gap, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint(ll_curve_view_get_n_points(ll_window_get_curves(win)), >=, 5);
  g_assert_true(action_enabled("train-start"));
  /* the curves export headless through ui/plot */
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  g_autofree char *png = g_build_filename(dir ? dir : ".", "curves.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_curve_view_export(ll_window_get_curves(win), png, &error));
  g_autofree char *svg = g_build_filename(dir ? dir : ".", "curves.svg", NULL);
  g_assert_true(ll_curve_view_export(ll_window_get_curves(win), svg, &error));
}

static LlAnalysisView *analysis(void) { return ll_window_get_analysis(win); }
static gboolean has_test_payload(void)
{
  return stopped() && ll_analysis_view_get_n_payloads(analysis()) >= 3;
}
static gboolean images_ready(void) { return ll_analysis_view_images_ready(analysis()); }
static gboolean tsne_done(void) { return ll_analysis_view_tsne_done(analysis()); }

/* Trains to the end and visits every analysis view, with a screenshot of each. */
static void train_to_end(const char *preset, int epochs)
{
  open_preset(preset);
  LlSpec *s = ll_document_get_spec(doc());
  s->dataset.limit_train = 2000;
  s->dataset.limit_test = 500;
  s->epochs = epochs;
  s->batch_size = 64;
  s->threads = 1;
  s->early_stopping = FALSE;
  ll_document_settings_changed(doc());
  activate("train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  g_assert_true(ll_ui_wait_for(has_test_payload, 90000));
  /* one validation payload per epoch, then the test set's */
  g_assert_cmpuint(ll_analysis_view_get_n_payloads(analysis()), ==, (guint)epochs + 1);
}

static gboolean embedding_idle(void) { return !ll_analysis_view_embedding_busy(analysis()); }

static void test_analysis(void)
{
  train_to_end("tiny-cnn", 2);
  ll_window_show_page(win, "analysis");
  ll_analysis_view_show_page(analysis(), "confusion");
  g_assert_true(ll_ui_wait_for(images_ready, 30000));
  /* the gallery of the diagonal cell of class 1 holds the test samples predicted right */
  int n = ll_analysis_view_open_cell(analysis(), 1, 1);
  g_assert_cmpint(n, >, 0);
  g_assert_cmpint(n, <=, 64);
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "analysis-confusion.png");
  ll_analysis_view_select_payload(analysis(), 0); /* the scrubber: epoch 1's validation */
  ll_ui_spin(100);
  ll_ui_screenshot(GTK_WIDGET(win), "analysis-confusion-epoch1.png");
  ll_analysis_view_select_payload(analysis(), 2);
  ll_analysis_view_show_page(analysis(), "predictions");
  ll_ui_spin(200);
  g_assert_cmpint(ll_analysis_view_get_n_predictions_shown(analysis()), ==, 48);
  ll_ui_screenshot(GTK_WIDGET(win), "analysis-predictions.png");
  ll_analysis_view_show_page(analysis(), "tsne");
  ll_analysis_view_run_tsne(analysis(), FALSE);
  g_assert_true(ll_ui_wait_for(tsne_done, 60000));
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "analysis-tsne.png");
  ll_analysis_view_run_tsne(analysis(), TRUE);
  g_assert_true(ll_ui_wait_for(tsne_done, 20000));
  /* any block: a forward pass with the run's weights, then its embedding */
  guint payloads = ll_analysis_view_get_n_payloads(analysis());
  ll_analysis_view_embed_block(analysis(), "conv2");
  g_assert_true(ll_analysis_view_embedding_busy(analysis()));
  g_assert_true(ll_ui_wait_for(embedding_idle, 60000));
  g_assert_cmpuint(ll_analysis_view_get_n_payloads(analysis()), ==, payloads + 1);
  g_assert_true(ll_ui_wait_for(tsne_done, 60000));
  ll_ui_spin(100);
  ll_ui_screenshot(GTK_WIDGET(win), "analysis-tsne-conv2.png");
  /* every view exports */
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  g_autofree char *svg = g_build_filename(dir ? dir : ".", "analysis-tsne.svg", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_analysis_view_export_current(analysis(), svg, 1000, 700, 96, &error));
  g_assert_no_error(error);

  /* an autoencoder: the reconstructions */
  train_to_end("ae-pretrain", 2);
  ll_window_show_page(win, "analysis");
  ll_analysis_view_show_page(analysis(), "reconstructions");
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "analysis-reconstructions.png");
}

/* Xvfb has no session bus; GTK says so once. That is the environment, not a bug. */
int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "ui")))
    return 77;
  g_test_add_func("/ui/window/presets", test_presets);
  g_test_add_func("/ui/window/edit", test_edit);
  g_test_add_func("/ui/window/study", test_study);
  g_test_add_func("/ui/window/study-figures", test_study_figures);
  g_test_add_func("/ui/window/presets-train", test_presets_train);
  g_test_add_func("/ui/window/train", test_train);
  g_test_add_func("/ui/window/analysis", test_analysis);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}

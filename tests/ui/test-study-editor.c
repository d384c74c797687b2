/* test-study-editor.c: ablations built in the window with its controls
 * alone (no JSON written by the test): E3's width ablation of the tiny CNN
 * and E4's bottleneck sweep of the autoencoder made with "Vary this..." in
 * the inspector and the Study tab's Design, run shortened, with their trials
 * and metric figure; even-odd-transfer edited in the Design (another frozen
 * block, a stage added) and run; a canvas edit reaching the study that runs;
 * undo and redo of study edits; Save writing what `layerlab study` loads.
 * Screenshots of the editor go to $LL_SCREENSHOT_DIR. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "ll-study-editor.h"
#include "study-figures.h"
#include "ui-harness.h"

static LlWindow *win;

static LlStudyView *study(void) { return ll_window_get_study(win); }
static LlStudyEditor *editor(void) { return ll_study_view_get_editor(study()); }

static GtkWidget *control(const char *name)
{
  GtkWidget *w = ll_study_editor_get_control(editor(), name);
  if (!w)
    g_error("no control %s in the study editor", name);
  g_assert_true(gtk_widget_is_sensitive(w));
  return w;
}

/* A button press (what a click or Space on the focused button emits). */
static void click(GtkWidget *b)
{
  g_assert_true(gtk_widget_is_sensitive(b));
  g_signal_emit_by_name(b, "clicked");
  ll_ui_spin(50);
}

/* Types text into an entry and presses Enter. */
static void type_in(const char *name, const char *text)
{
  GtkWidget *e = control(name);
  gtk_widget_grab_focus(e);
  gtk_editable_set_text(GTK_EDITABLE(e), text);
  g_signal_emit_by_name(e, "activate");
  ll_ui_spin(50);
}

static void choose(const char *name, guint item)
{
  gtk_drop_down_set_selected(GTK_DROP_DOWN(control(name)), item);
  ll_ui_spin(50);
}

static void select_block(const char *name)
{
  const char *one[] = {name, NULL};
  ll_canvas_select(ll_window_get_canvas(win), one);
  ll_ui_spin(50);
}

/* The inspector's "Vary this..." for a property of the selected block. */
static void vary(const char *block, const char *prop)
{
  select_block(block);
  GtkWidget *b = ll_inspector_get_vary_button(ll_window_get_inspector(win), prop);
  g_assert_nonnull(b);
  click(b);
}

/* The control in the grid cell right of the label whose text is label. */
static GtkWidget *beside(GtkWidget *root, const char *label)
{
  if (GTK_IS_LABEL(root) && !g_strcmp0(gtk_label_get_text(GTK_LABEL(root)), label) &&
      GTK_IS_GRID(gtk_widget_get_parent(root))) {
    GtkGrid *grid = GTK_GRID(gtk_widget_get_parent(root));
    int col, row;
    gtk_grid_query_child(grid, root, &col, &row, NULL, NULL);
    return gtk_grid_get_child_at(grid, col + 1, row);
  }
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *w = beside(c, label);
    if (w)
      return w;
  }
  return NULL;
}

/* Run study with "Epochs per trial" and "Samples per trial" set, to the end. */
static void run_shortened(int epochs, int samples, guint trials)
{
  GtkWidget *sv = GTK_WIDGET(study());
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(beside(sv, "Epochs per trial")), epochs);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(beside(sv, "Samples per trial")), samples);
  click(ll_ui_find_button(sv, "Run study"));
  g_assert_true(ll_study_view_is_running(study()));
  gint64 deadline = g_get_monotonic_time() + 240 * G_USEC_PER_SEC;
  while (ll_study_view_is_running(study()) && g_get_monotonic_time() < deadline)
    ll_ui_spin(50);
  g_assert_false(ll_study_view_is_running(study()));
  g_assert_cmpuint(ll_study_view_n_finished(study()), ==, trials);
  for (guint i = 0; i < trials; i++) {
    g_autofree char *status = ll_study_view_cell_text(study(), i, "status");
    g_assert_cmpstr(status, ==, "finished");
  }
}

/* The metric figure has every trial and draws. */
static void check_metric_figure(guint trials, const char *shot)
{
  LlStudyFigures *f = ll_study_view_get_figures(study());
  g_assert_nonnull(f);
  g_assert_cmpuint(ll_study_figures_n_trials(f), ==, trials);
  g_assert_true(ll_study_figures_available(f, LL_STUDY_FIG_METRIC, NULL));
  guint d0 = ll_study_view_figure_draws(study(), "metric");
  g_assert_true(ll_study_view_show_page(study(), "metric"));
  g_assert_true(ll_ui_wait_for_figure_draw(study(), "metric", d0, 5000));
  /* Run folded the Design away, so the figure shows */
  ll_ui_screenshot(GTK_WIDGET(win), shot);
  ll_study_view_show_page(study(), "trials");
}

static void assert_summary(const char *part)
{
  const char *s = ll_study_editor_get_summary(editor());
  if (!strstr(s, part))
    g_error("the summary \"%s\" does not say \"%s\"", s, part);
}

/* E3: the tiny CNN's width, from the canvas. */
static void test_e3_width_ablation(void)
{
  ll_ui_open_preset(win, "tiny-cnn");
  g_assert_false(ll_study_view_has_study(study()));
  /* Vary this... on conv1's out_channels makes a sweep of the canvas's spec */
  vary("conv1", "out_channels");
  g_assert_true(ll_study_view_has_study(study()));
  LlStudyEdit *e = ll_study_editor_get_edit(editor());
  g_assert_cmpint(ll_study_edit_n_axes(e), ==, 1);
  g_autofree char *vals = ll_study_edit_axis_values(e, 0);
  g_assert_cmpstr(vals, ==, "32, 64, 128, 256");
  assert_summary("The design makes 4 trials.");
  assert_summary("No time estimate");
  ll_ui_screenshot(GTK_WIDGET(win), "study-editor-vary.png");
  /* a second axis makes a grid, undo takes it away again */
  vary("drop1", "p");
  assert_summary("The design makes 16 trials.");
  /* Ctrl+Z (win.undo) with the focus in the Design undoes the study edit, not the canvas */
  gtk_widget_grab_focus(control("axis-1-values"));
  ll_ui_spin(20);
  guint blocks = ll_document_get_spec(ll_window_get_document(win))->graph->blocks->len;
  g_action_group_activate_action(G_ACTION_GROUP(win), "undo", NULL);
  ll_ui_spin(50);
  g_assert_cmpuint(ll_document_get_spec(ll_window_get_document(win))->graph->blocks->len, ==,
                   blocks);
  g_assert_cmpint(ll_study_edit_n_axes(ll_study_editor_get_edit(editor())), ==, 1);
  assert_summary("The design makes 4 trials.");
  click(control("redo"));
  g_assert_cmpint(ll_study_edit_n_axes(ll_study_editor_get_edit(editor())), ==, 2);
  click(control("axis-1-remove"));
  /* a narrower list, typed into the axis's values */
  type_in("axis-0-values", "4, 8, 16");
  assert_summary("The design makes 3 trials.");
  /* the range controls make values too: 4..16 on a log scale in 3 is 4, 8, 16 */
  type_in("axis-0-from", "4");
  type_in("axis-0-to", "16");
  choose("axis-0-scale", 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(control("axis-0-count")), 3);
  click(control("axis-0-make"));
  g_autofree char *again = ll_study_edit_axis_values(ll_study_editor_get_edit(editor()), 0);
  g_assert_cmpstr(again, ==, "4, 8, 16");
  /* match about 8,000 parameters by solving conv2's width, then take it back */
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(control("budget")), 8000);
  type_in("budget-width", "graph.blocks.conv2.props.out_channels");
  g_autoptr(LlStudy) matched = ll_study_edit_load(ll_study_editor_get_edit(editor()), NULL);
  g_autofree double *x = g_new0(double, 1);
  gint64 params = 0;
  g_autofree char *variant = ll_study_variant_json(matched, x, &params, NULL);
  g_assert_nonnull(variant);
  g_assert_cmpint(params, >, 7000);
  g_assert_cmpint(params, <, 9000);
  click(control("undo"));
  g_assert_null(ll_study_edit_get(ll_study_editor_get_edit(editor()), "param_budget"));
  type_in("metric", "val_accuracy");
  run_shortened(1, 600, 3);
  /* the trials are the three widths */
  for (guint i = 0; i < 3; i++) {
    g_autofree char *label = ll_study_view_cell_text(study(), i, "trial");
    const char *want[] = {"out_channels=4", "out_channels=8", "out_channels=16"};
    g_assert_cmpstr(label, ==, want[i]);
  }
  check_metric_figure(3, "study-editor-e3-metric.png");
  /* the run measured the speed: the estimate says so */
  assert_summary("per trial, as the last run here took");
}

/* E4: the autoencoder's bottleneck, from the canvas. */
static void test_e4_bottleneck_sweep(void)
{
  ll_ui_open_preset(win, "ae-pretrain");
  g_assert_false(ll_study_view_has_study(study()));
  vary("code", "out_features");
  g_assert_true(ll_study_view_has_study(study()));
  type_in("axis-0-values", "2, 8, 32");
  /* an autoencoder is ranked by its loss, lower is better */
  type_in("metric", "test_loss");
  choose("direction", 1);
  g_autoptr(LlStudy) s = ll_study_edit_load(ll_study_editor_get_edit(editor()), NULL);
  g_assert_false(ll_study_maximize(s));
  g_assert_cmpstr(ll_study_metric(s), ==, "test_loss");
  ll_ui_screenshot(GTK_WIDGET(win), "study-editor-sweep.png");
  run_shortened(1, 600, 3);
  for (guint i = 0; i < 3; i++) {
    g_autofree char *label = ll_study_view_cell_text(study(), i, "trial");
    const char *want[] = {"out_features=2", "out_features=8", "out_features=32"};
    g_assert_cmpstr(label, ==, want[i]);
  }
  check_metric_figure(3, "study-editor-e4-metric.png");
}

/* E2: another frozen block and a stage added, in the editor; then run. */
static void test_edit_even_odd_transfer(void)
{
  ll_ui_open_preset(win, "even-odd-transfer");
  g_assert_true(ll_study_view_has_study(study()));
  /* the frozen stage takes enc1 and enc2 only */
  type_in("stage-1-blocks", "enc1, enc2");
  LlStudyEdit *e = ll_study_editor_get_edit(editor());
  JsonNode *fz = ll_study_edit_get(e, "stages.1.frozen");
  g_assert_cmpint(json_array_get_length(json_node_get_array(fz)), ==, 2);
  /* a fifth stage: the encoder's first block, re-initialised (a control) */
  click(control("add-stage"));
  g_assert_cmpint(ll_study_edit_n_stages(ll_study_editor_get_edit(editor())), ==, 5);
  choose("stage-4-from", 1); /* pretrain */
  type_in("stage-4-blocks", "enc1");
  choose("stage-4-how", 2);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(control("stage-4-epochs")), 2);
  ll_ui_spin(50);
  e = ll_study_editor_get_edit(editor());
  g_autofree char *from = NULL, *blocks = NULL;
  gboolean frozen, reinit;
  ll_study_edit_get_stage_init(e, 4, &from, &blocks, &frozen, &reinit);
  g_assert_cmpstr(from, ==, "pretrain");
  g_assert_cmpstr(blocks, ==, "enc1");
  g_assert_true(reinit);
  assert_summary("The design makes 5 trials.");
  ll_ui_screenshot(GTK_WIDGET(win), "study-editor-stages.png");
  /* Save writes a study the command line loads, with the same stages */
  g_autofree char *dir = g_dir_make_tmp("ll-study-editor-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "edited.json", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_study_editor_save_to(editor(), path, &error));
  g_assert_no_error(error);
  g_autoptr(LlStudy) saved = ll_study_load_file(path, &error);
  g_assert_no_error(error);
  g_autofree char *outline = ll_study_outline(saved);
  g_assert_cmpstr(outline, ==, "5 stages: pretrain, frozen, finetuned, scratch, stage5");
  run_shortened(1, 600, 5);
  g_autofree char *last = ll_study_view_cell_text(study(), 4, "trial");
  g_assert_nonnull(strstr(last, "stage5"));
  check_metric_figure(5, "study-editor-stages-metric.png");
  g_unlink(path);
  g_rmdir(dir);
}

/* A canvas edit with a study open is the study's: the run trains it. */
static void test_canvas_edit_reaches_study(void)
{
  ll_ui_open_preset(win, "ae-bottleneck-sweep");
  g_assert_true(ll_study_view_has_study(study()));
  type_in("axis-0-values", "4, 16");
  /* on the canvas: enc1 gets 8 channels (the preset has 16) */
  LlDocument *doc = ll_window_get_document(win);
  select_block("enc1");
  GtkWidget *ch = ll_inspector_get_editor(ll_window_get_inspector(win), "out_channels");
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(ch), 8);
  ll_ui_spin(50);
  g_autofree char *base = ll_study_edit_spec_json(ll_study_editor_get_edit(editor()), -1);
  g_assert_nonnull(strstr(base, "\"out_channels\": 8"));
  /* undoing on the canvas undoes it in the study too */
  ll_document_undo(doc);
  ll_ui_spin(50);
  g_autofree char *back = ll_study_edit_spec_json(ll_study_editor_get_edit(editor()), -1);
  g_assert_null(strstr(back, "\"out_channels\": 8"));
  ll_document_redo(doc);
  ll_ui_spin(50);
  run_shortened(1, 300, 2);
  /* the best trial's spec as it trained has the canvas's 8 channels */
  g_autofree char *best = g_strdup(ll_study_view_best_spec(study()));
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) spec = ll_spec_load_file(best, &error);
  g_assert_no_error(error);
  g_assert_true(ll_graph_infer(spec->graph, &error));
  g_autofree char *json = ll_spec_to_json(spec);
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, json, -1, NULL));
  JsonArray *blocks = json_object_get_array_member(
      json_object_get_object_member(json_node_get_object(json_parser_get_root(p)), "graph"),
      "blocks");
  gint64 channels = 0;
  for (guint i = 0; i < json_array_get_length(blocks); i++) {
    JsonObject *b = json_array_get_object_element(blocks, i);
    if (!g_strcmp0(json_object_get_string_member(b, "name"), "enc1"))
      channels = json_object_get_int_member(json_object_get_object_member(b, "props"),
                                            "out_channels");
  }
  g_assert_cmpint(channels, ==, 8);
}

/* A graph the canvas breaks is reported, and Run refuses rather than run the old one. */
static void test_broken_canvas_not_run(void)
{
  ll_ui_open_preset(win, "tiny-cnn");
  vary("conv1", "out_channels");
  LlDocument *doc = ll_window_get_document(win);
  /* logits reads nothing: the spec no longer loads */
  ll_document_disconnect(doc, "logits", 0);
  ll_ui_spin(50);
  g_assert_nonnull(ll_study_editor_get_spec_error(editor()));
  assert_summary("The spec on the canvas does not load");
  click(ll_ui_find_button(GTK_WIDGET(study()), "Run study"));
  g_assert_false(ll_study_view_is_running(study()));
  ll_document_undo(doc);
  ll_ui_spin(50);
  g_assert_null(ll_study_editor_get_spec_error(editor()));
}

static const char *text_of(const char *name)
{
  return gtk_editable_get_text(GTK_EDITABLE(control(name)));
}

/* The Study tab at a window size, for the reader to look at. */
static void shot_at(int w, int h, const char *name)
{
  gtk_window_set_default_size(GTK_WINDOW(win), w, h);
  ll_ui_spin(400);
  ll_ui_screenshot(GTK_WIDGET(win), name);
}

/* Fields where 0 means a default say it in words, not a bare 0. */
static void test_zero_in_words(void)
{
  ll_ui_open_preset(win, "ae-bottleneck-sweep");
  ll_window_show_page(win, "study");
  g_assert_cmpstr(text_of("trials"), ==, "every grid point");
  g_assert_cmpstr(text_of("prune-after"), ==, "off");
  g_assert_cmpstr(text_of("budget"), ==, "off");
  g_assert_cmpstr(text_of("repeats"), ==, "1");
  shot_at(1024, 640, "study-editor-words-1024.png");
  shot_at(1400, 900, "study-editor-words-1400.png");
  /* random search: 0 trials is the default budget of 20 */
  choose("mode", 1);
  g_assert_cmpstr(text_of("trials"), ==, "the default, 20");
  /* a range of 0 values is a continuous one */
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(control("axis-0-count")), 0);
  ll_ui_spin(20);
  g_assert_cmpstr(text_of("axis-0-count"), ==, "continuous");
  /* the words read back as 0, and a number typed over them is taken */
  const char *typed[] = {"7", "the default, 20"};
  for (int k = 0; k < 2; k++) {
    GtkSpinButton *t = GTK_SPIN_BUTTON(control("trials"));
    gtk_editable_set_text(GTK_EDITABLE(t), typed[k]);
    gtk_spin_button_update(t);
    ll_ui_spin(50);
    JsonNode *n = ll_study_edit_get(ll_study_editor_get_edit(editor()), "sweep.trials");
    g_assert_cmpint(json_node_get_int(n), ==, k ? 0 : 7);
    g_assert_cmpstr(text_of("trials"), ==, typed[k]);
  }
  gtk_window_set_default_size(GTK_WINDOW(win), 1600, 1000);
  ll_ui_spin(100);
}

/* A stage's repeat list and the path it sets, best_of, its metric and
 * the study's seeds are edited in the Design (each undoable); what has no
 * control yet is named; Save writes what opens again as the same JSON. */
static void test_stage_fields(void)
{
  ll_ui_open_preset(win, "cifar-best");
  ll_window_show_page(win, "study");
  g_assert_nonnull(strstr(text_of("stage-0-repeat"), "\"cosine\""));
  g_assert_cmpstr(text_of("stage-0-repeat-path"), ==, "training.schedule");
  g_assert_cmpuint(gtk_drop_down_get_selected(GTK_DROP_DOWN(control("stage-1-best-of"))), ==, 1);
  assert_summary("The design makes 4 trials.");
  /* best_of: none, and back */
  choose("stage-1-best-of", 0);
  g_assert_null(ll_study_edit_get(ll_study_editor_get_edit(editor()), "stages.1.best_of"));
  click(control("undo"));
  g_assert_cmpstr(
      json_node_get_string(ll_study_edit_get(ll_study_editor_get_edit(editor()), "stages.1.best_of")),
      ==, "short");
  g_assert_cmpuint(gtk_drop_down_get_selected(GTK_DROP_DOWN(control("stage-1-best-of"))), ==, 1);
  /* the long stage over two learning rates: two trials */
  gtk_editable_set_text(GTK_EDITABLE(control("stage-1-repeat-path")), "training.optimizer.lr");
  type_in("stage-1-repeat", "0.05, 0.01");
  assert_summary("The design makes 5 trials.");
  g_assert_cmpstr(text_of("stage-1-repeat"), ==, "0.05, 0.01");
  g_assert_cmpstr(text_of("stage-1-repeat-path"), ==, "training.optimizer.lr");
  /* a path the spec has no place for is refused and said */
  type_in("stage-1-repeat-path", "graph.blocks.nosuch.props.p");
  g_assert_cmpstr(ll_study_editor_get_message(editor()), !=, "");
  g_test_message("refused: %s", ll_study_editor_get_message(editor()));
  assert_summary("The design makes 5 trials.");
  /* the stage's own metric, and three seeds per trial */
  type_in("stage-0-metric", "val_loss");
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(control("repeats")), 3);
  ll_ui_spin(50);
  LlStudyEdit *e = ll_study_editor_get_edit(editor());
  g_assert_cmpint(ll_study_edit_repeats(e), ==, 3);
  assert_summary("The design makes 5 trials. Each runs over 3 seeds: 15 runs.");
  g_assert_cmpstr(json_node_get_string(ll_study_edit_get(e, "stages.0.metric")), ==, "val_loss");
  click(control("undo"));
  g_assert_cmpint(ll_study_edit_repeats(ll_study_editor_get_edit(editor())), ==, 1);
  click(control("redo"));
  g_assert_cmpint(ll_study_edit_repeats(ll_study_editor_get_edit(editor())), ==, 3);
  g_assert_cmpstr(text_of("repeats"), ==, "3");
  /* what cannot be edited here is named */
  GtkWidget *fixed = control("fixed");
  g_assert_nonnull(strstr(gtk_label_get_text(GTK_LABEL(fixed)), "export_outputs"));
  shot_at(1400, 900, "study-editor-stage-fields-1400.png");
  ll_ui_screenshot(GTK_WIDGET(editor()), "study-editor-stage-fields-design.png");
  shot_at(1024, 640, "study-editor-stage-fields-1024.png");
  gtk_window_set_default_size(GTK_WINDOW(win), 1600, 1000);
  ll_ui_spin(100);

  /* saved, and opened again: the same JSON, the same controls */
  g_autofree char *dir = g_dir_make_tmp("ll-study-fields-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "fields.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *edited = g_strdup(ll_study_edit_text(ll_study_editor_get_edit(editor())));
  g_assert_true(ll_study_editor_save_to(editor(), path, &error));
  g_assert_no_error(error);
  g_assert_true(ll_window_open_file(win, path, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(ll_study_edit_text(ll_study_editor_get_edit(editor())), ==, edited);
  g_assert_cmpstr(text_of("stage-1-repeat"), ==, "0.05, 0.01");
  g_assert_cmpstr(text_of("repeats"), ==, "3");
  g_assert_cmpuint(gtk_drop_down_get_selected(GTK_DROP_DOWN(control("stage-1-best-of"))), ==, 1);
  g_assert_cmpstr(text_of("stage-0-metric"), ==, "val_loss");

  /* a stage that exports says so beside its controls */
  ll_ui_open_preset(win, "changepoint");
  GtkWidget *f0 = ll_study_editor_get_control(editor(), "stage-0-fixed");
  g_assert_nonnull(f0);
  g_assert_nonnull(strstr(gtk_label_get_text(GTK_LABEL(f0)), "export_outputs"));
  ll_window_show_page(win, "study");
  shot_at(1400, 900, "study-editor-fixed-fields.png");
  ll_ui_screenshot(GTK_WIDGET(editor()), "study-editor-fixed-fields-design.png");
  gtk_window_set_default_size(GTK_WINDOW(win), 1600, 1000);
  ll_ui_spin(100);
  g_unlink(path);
  g_rmdir(dir);
}

int main(int argc, char **argv)
{
  win = ll_ui_start(&argc, &argv, "study-editor");
  if (!win)
    return 77;
  g_test_add_func("/ui/study-editor/e3-width-ablation", test_e3_width_ablation);
  g_test_add_func("/ui/study-editor/e4-bottleneck-sweep", test_e4_bottleneck_sweep);
  g_test_add_func("/ui/study-editor/even-odd-transfer", test_edit_even_odd_transfer);
  g_test_add_func("/ui/study-editor/canvas-edit-reaches-study", test_canvas_edit_reaches_study);
  g_test_add_func("/ui/study-editor/broken-canvas-not-run", test_broken_canvas_not_run);
  g_test_add_func("/ui/study-editor/zero-in-words", test_zero_in_words);
  g_test_add_func("/ui/study-editor/stage-fields", test_stage_fields);
  return g_test_run();
}

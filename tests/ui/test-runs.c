/* test-runs.c: the Runs tab of the real window under Xvfb: three short runs
 * trained through the window appear in the table (refreshed when each ends),
 * filter and sort, two selected overlay their curves and show the setting
 * that differs, the comparison exports, and a run's spec and analysis open.
 * Screenshots go to $LL_SCREENSHOT_DIR (the build dir). */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "curve-plot.h"
#include "onnx.h"
#include "ui-harness.h"

static LlWindow *win;

static void activate(const char *action, GVariant *param)
{
  g_action_group_activate_action(G_ACTION_GROUP(win), action, param);
}

static LlDocument *doc(void) { return ll_window_get_document(win); }
static LlRunsView *runs(void) { return ll_window_get_runs(win); }
static guint n_rows(void) { return g_list_model_get_n_items(ll_runs_view_get_model(runs())); }
static gboolean stopped(void) { return !ll_window_is_training(win); }
static gboolean idle(void) { return !ll_runs_view_is_busy(runs()); }

static guint expected_rows;
static gboolean has_rows(void) { return idle() && n_rows() == expected_rows; }

static LlRunItem *row(guint i) { return g_list_model_get_item(ll_runs_view_get_model(runs()), i); }

/* The row of the run called name (a new reference), or NULL. */
static LlRunItem *find(const char *name)
{
  for (guint i = 0; i < n_rows(); i++) {
    LlRunItem *it = row(i);
    if (!strcmp(ll_run_item_get_text(it, "name"), name))
      return it;
    g_object_unref(it);
  }
  return NULL;
}

static void open_preset(const char *name) { ll_ui_open_preset(win, name); }

/* One short run of tiny-cnn through the window; the Runs tab picks it up by itself. */
static void train(const char *name, double lr, guint64 seed)
{
  open_preset("tiny-cnn");
  LlSpec *s = ll_document_get_spec(doc());
  g_free(s->name);
  s->name = g_strdup(name);
  s->dataset.limit_train = 1000;
  s->dataset.limit_test = 300;
  s->epochs = 3;
  s->batch_size = 50;
  s->threads = 1;
  s->seed = seed;
  s->early_stopping = FALSE;
  s->optim.lr = lr;
  s->schedule.max_lr = 0; /* one-cycle peaks at the optimizer's lr, so lr matters */
  ll_document_settings_changed(doc());
  activate("train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  g_assert_true(ll_ui_wait_for(stopped, 120000));
  expected_rows++;
  g_assert_true(ll_ui_wait_for(has_rows, 20000));
}

static void test_table(void)
{
  expected_rows = 0;
  g_assert_true(ll_ui_wait_for(has_rows, 20000)); /* an empty store to begin with */
  train("lr 0.01", 0.01, 1);
  train("lr 0.1", 0.1, 1);
  train("lr 0.1 seed 2", 0.1, 2);
  ll_window_show_page(win, "runs");
  g_assert_cmpuint(n_rows(), ==, 3);
  /* newest first, every run finished, with its metrics */
  g_autoptr(LlRunItem) first = row(0);
  g_assert_cmpstr(ll_run_item_get_text(first, "name"), ==, "lr 0.1 seed 2");
  for (guint i = 0; i < 3; i++) {
    g_autoptr(LlRunItem) it = row(i);
    g_assert_cmpstr(ll_run_item_get_text(it, "status"), ==, "finished");
    g_assert_nonnull(strstr(ll_run_item_get_text(it, "final"), "acc "));
    g_assert_nonnull(strstr(ll_run_item_get_text(it, "best"), "val acc"));
    g_assert_nonnull(strstr(ll_run_item_get_text(it, "hyper"), "sgd lr"));
    g_assert_cmpstr(ll_run_item_get_text(it, "params"), !=, "\u2014");
  }
  /* the filter matches name, id and status */
  ll_runs_view_set_search(runs(), "0.01");
  g_assert_cmpuint(n_rows(), ==, 1);
  ll_runs_view_set_search(runs(), "FINISHED");
  g_assert_cmpuint(n_rows(), ==, 3);
  ll_runs_view_set_search(runs(), ll_run_item_get_info(first)->id);
  g_assert_cmpuint(n_rows(), ==, 1);
  ll_runs_view_set_search(runs(), "no such run");
  g_assert_cmpuint(n_rows(), ==, 0);
  ll_runs_view_set_search(runs(), "");
  g_assert_cmpuint(n_rows(), ==, 3);
  /* a refresh keeps the rows (and the selection, checked below) */
  ll_runs_view_refresh(runs());
  g_assert_true(ll_ui_wait_for(has_rows, 20000));
}

static void test_compare(void)
{
  g_autoptr(LlRunItem) a = find("lr 0.01");
  g_autoptr(LlRunItem) b = find("lr 0.1");
  g_assert_nonnull(a);
  g_assert_nonnull(b);
  const char *ids[] = {ll_run_item_get_info(a)->id, ll_run_item_get_info(b)->id, NULL};
  ll_runs_view_select(runs(), ids);
  g_assert_cmpint(ll_runs_view_get_n_series(runs()), ==, 2);
  g_autofree char *diff = ll_runs_view_get_diff_text(runs());
  g_test_message("diff:\n%s", diff);
  /* shown newest first: run b, then run a */
  g_assert_nonnull(strstr(diff, "training.optimizer.lr: 0.1 | 0.01\n"));
  g_assert_nonnull(strstr(diff, "name: lr 0.1 | lr 0.01\n"));
  g_assert_null(strstr(diff, "graph.")); /* the same graph */
  g_assert_null(strstr(diff, "training.seed"));
  g_autofree char *abl = ll_runs_view_get_ablation_text(runs());
  g_test_message("ablation:\n%s", abl);
  g_auto(GStrv) lines = g_strsplit(abl, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 4); /* header, two rows, "" */
  g_assert_true(g_str_has_prefix(lines[0], "training.optimizer.lr\truns\ttest acc"));
  /* ranked by the mean test accuracy, best first */
  double acc[2];
  for (int i = 0; i < 2; i++) {
    g_auto(GStrv) cells = g_strsplit(lines[i + 1], "\t", -1);
    g_assert_cmpstr(cells[1], ==, "1");
    acc[i] = g_ascii_strtod(cells[2], NULL);
  }
  g_assert_cmpfloat(acc[0], >=, acc[1]);
  ll_ui_spin(300);
  ll_ui_screenshot(GTK_WIDGET(win), "runs-compare.png");

  /* the selection survives a reload */
  ll_runs_view_refresh(runs());
  g_assert_true(ll_ui_wait_for(idle, 20000));
  g_assert_cmpint(ll_runs_view_get_n_series(runs()), ==, 2);

  /* three runs: the seed varies too; runs that differ only in their seed are
   * repeats of one setting: a row with their mean and spread */
  g_autoptr(LlRunItem) c = find("lr 0.1 seed 2");
  const char *three[] = {ids[0], ids[1], ll_run_item_get_info(c)->id, NULL};
  ll_runs_view_select(runs(), three);
  g_assert_cmpint(ll_runs_view_get_n_series(runs()), ==, 3);
  g_autofree char *diff3 = ll_runs_view_get_diff_text(runs());
  g_assert_nonnull(strstr(diff3, "training.seed: 2 | 1 | 1\n"));
  g_autofree char *abl3 = ll_runs_view_get_ablation_text(runs());
  g_test_message("ablation of three:\n%s", abl3);
  g_assert_true(g_str_has_prefix(abl3, "training.optimizer.lr\truns"));
  g_assert_nonnull(strstr(abl3, "\n0.1\t2\t"));
  g_assert_nonnull(strstr(abl3, "\u00b1"));
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "runs-compare-three.png");

  /* exports, on a worker */
  const char *dir = g_getenv("LL_SCREENSHOT_DIR") ?: ".";
  const char *names[] = {"runs-overlay.png", "runs-overlay.svg", "runs-report.pdf"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *path = g_build_filename(dir, names[i], NULL);
    g_unlink(path);
    if (i < 2)
      ll_runs_view_export_overlay(runs(), path);
    else
      ll_runs_view_export_report(runs(), path);
    g_assert_true(ll_runs_view_is_busy(runs()));
    g_assert_true(ll_ui_wait_for(idle, 60000));
    g_autofree char *wrote = g_strconcat("Wrote ", path, NULL);
    g_assert_cmpstr(ll_runs_view_get_message(runs()), ==, wrote);
    GStatBuf st;
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, >, 1000);
  }
  /* Export Model...: the first selected run as ONNX, which imports again */
  g_autofree char *model = g_build_filename(dir, "runs-model.onnx", NULL);
  g_unlink(model);
  ll_runs_view_export_model(runs(), model);
  g_assert_true(ll_ui_wait_for(idle, 60000));
  if (ll_onnx_available()) {
    g_autofree char *wrote = g_strconcat("Wrote ", model, NULL);
    g_assert_cmpstr(ll_runs_view_get_message(runs()), ==, wrote);
    g_autoptr(GError) error = NULL;
    g_autoptr(LlSpec) back = ll_onnx_import(model, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(LlSpec) ran = ll_spec_load_data(ll_run_item_get_info(a)->spec_json, -1, "run", NULL);
    g_assert_cmpuint(back->graph->blocks->len, ==, ran->graph->blocks->len);
  } else {
    g_assert_nonnull(strstr(ll_runs_view_get_message(runs()), "no ONNX support"));
  }
  g_autofree char *bad = g_build_filename(dir, "runs-overlay.bmp", NULL);
  ll_runs_view_export_overlay(runs(), bad);
  g_assert_true(ll_ui_wait_for(idle, 20000));
  g_assert_true(g_str_has_prefix(ll_runs_view_get_message(runs()), "Export failed"));
}

/* A run recorded straight into the store (no training) whose graph differs from run a: one
 * block fewer, one rewired, one property changed. */
static char *record_edited_run(LlRunItem *a)
{
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, ll_run_item_get_info(a)->spec_json, -1, NULL));
  JsonObject *root = json_node_get_object(json_parser_get_root(p));
  json_object_set_string_member(root, "name", "edited");
  JsonArray *blocks =
      json_object_get_array_member(json_object_get_object_member(root, "graph"), "blocks");
  for (guint i = json_array_get_length(blocks); i-- > 0;) {
    JsonObject *b = json_array_get_object_element(blocks, i);
    const char *name = json_object_get_string_member(b, "name");
    if (!strcmp(name, "drop1")) {
      json_array_remove_element(blocks, i);
    } else if (!strcmp(name, "conv2")) {
      JsonArray *in = json_array_new();
      json_array_add_string_element(in, "relu1");
      json_object_set_array_member(b, "inputs", in);
    } else if (!strcmp(name, "conv1")) {
      json_object_set_int_member(json_object_get_object_member(b, "props"), "out_channels", 12);
    }
  }
  g_autofree char *spec = json_to_string(json_parser_get_root(p), FALSE);
  g_autoptr(GError) error = NULL;
  g_autofree char *root_dir = g_build_filename(g_get_user_data_dir(), "runs", NULL);
  g_autoptr(LlRunStore) store = ll_run_store_open(root_dir, &error);
  g_assert_no_error(error);
  LlRunInfo info = {.name = "edited", .spec_json = spec, .seed = 1, .params_count = 9000};
  char *id = NULL;
  g_assert_true(ll_run_store_create_run(store, &info, &id, NULL, &error));
  g_assert_true(ll_run_store_update_status(store, id, LL_RUN_FAILED, "for the test", &error));
  return id;
}

/* Specs whose graphs differ: a missing block is one line, a changed property its own. */
static void test_graph_diff(void)
{
  g_autoptr(LlRunItem) a = find("lr 0.01");
  g_autofree char *id = record_edited_run(a);
  ll_runs_view_refresh(runs());
  expected_rows = 4;
  g_assert_true(ll_ui_wait_for(has_rows, 20000));
  g_autoptr(LlRunItem) e = find("edited");
  g_assert_cmpstr(ll_run_item_get_text(e, "status"), ==, "failed");
  g_assert_cmpstr(ll_run_item_get_text(e, "final"), ==, "\u2014"); /* no metrics */
  const char *ids[] = {ll_run_item_get_info(a)->id, id, NULL};
  ll_runs_view_select(runs(), ids);
  g_autofree char *diff = ll_runs_view_get_diff_text(runs());
  g_test_message("graph diff:\n%s", diff);
  /* newest first: the edited run, then a */
  g_assert_nonnull(strstr(diff, "graph.blocks[conv1].props.out_channels: 12 | 8\n"));
  g_assert_nonnull(strstr(diff, "graph.blocks[conv2].inputs: [\"relu1\"] | [\"drop1\"]\n"));
  g_assert_nonnull(strstr(diff, "graph.blocks[drop1]: \u2014 | Dropout\n"));
  g_assert_null(strstr(diff, "graph.blocks[drop1]."));
  g_assert_null(strstr(diff, "training.optimizer.lr"));
  g_autofree char *abl = ll_runs_view_get_ablation_text(runs());
  g_test_message("ablation:\n%s", abl);
  g_assert_nonnull(strstr(abl, "\u2014\t"));
  ll_window_show_page(win, "runs");
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "runs-graph-diff.png");

  /* sorting by a column: test accuracy falling, then rising; a run without metrics below all */
  for (int desc = 1; desc >= 0; desc--) {
    ll_runs_view_sort_by(runs(), "final", desc);
    double prev = desc ? 101 : -1;
    for (guint i = 0; i < n_rows(); i++) {
      g_autoptr(LlRunItem) it = row(i);
      const char *t = ll_run_item_get_text(it, "final");
      double acc = g_str_has_prefix(t, "acc ") ? g_ascii_strtod(t + 4, NULL) : -1;
      g_assert_true(desc ? acc <= prev : acc >= prev);
      prev = acc;
    }
  }
  g_autoptr(LlRunItem) worst = row(0), low = row(1);
  g_assert_cmpstr(ll_run_item_get_text(worst, "name"), ==, "edited");
  g_assert_cmpstr(ll_run_item_get_text(low, "name"), ==, "lr 0.01");
  ll_runs_view_sort_by(runs(), "date", TRUE);
  g_autoptr(LlRunItem) newest = row(0);
  g_assert_cmpstr(ll_run_item_get_text(newest, "name"), ==, "edited");
}

static void test_open(void)
{
  g_autoptr(LlRunItem) a = find("lr 0.01");
  /* its spec into the editor, over the edits of the last run's settings */
  g_signal_emit_by_name(runs(), "open-spec", ll_run_item_get_info(a));
  g_assert_true(ll_ui_answer_save_prompt(win, "_Discard"));
  LlSpec *s = ll_document_get_spec(doc());
  g_assert_cmpstr(s->name, ==, "lr 0.01");
  g_assert_cmpfloat(s->optim.lr, ==, 0.01);
  g_assert_cmpint(s->epochs, ==, 3);
  g_assert_null(ll_document_get_error(doc()));
  /* its analysis: one validation payload per epoch and the test set's */
  g_signal_emit_by_name(runs(), "open-analysis", ll_run_item_get_info(a));
  g_assert_cmpuint(ll_analysis_view_get_n_payloads(ll_window_get_analysis(win)), ==, 4);
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "runs-open-analysis.png");
}

/* Xvfb has no session bus; GTK says so once. That is the environment, not a bug. */
/* The first widget under root (root included) of type t, or named name. */
static GtkWidget *find_widget(GtkWidget *root, GType t, const char *name)
{
  if ((t && G_TYPE_CHECK_INSTANCE_TYPE(root, t)) ||
      (name && !g_strcmp0(gtk_widget_get_name(root), name)))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *w = find_widget(c, t, name);
    if (w)
      return w;
  }
  return NULL;
}

static guint n_selected(void)
{
  GtkWidget *view = find_widget(GTK_WIDGET(runs()), GTK_TYPE_COLUMN_VIEW, NULL);
  GtkSelectionModel *m = gtk_column_view_get_model(GTK_COLUMN_VIEW(view));
  g_autoptr(GtkBitset) set = gtk_selection_model_get_selection(m);
  return (guint)gtk_bitset_get_size(set);
}

/* Ctrl+click adds a row to the selection, Shift+click extends it to a
 * range: the table's model selects several (a GtkMultiSelection), and the
 * row click's action (what the click gesture runs, with its modifiers)
 * keeps what was selected. */
static void test_multi_select(void)
{
  ll_window_show_page(win, "runs");
  g_assert_cmpuint(n_rows(), >=, 3);
  GtkWidget *view = find_widget(GTK_WIDGET(runs()), GTK_TYPE_COLUMN_VIEW, NULL);
  g_assert_nonnull(view);
  g_assert_true(GTK_IS_MULTI_SELECTION(gtk_column_view_get_model(GTK_COLUMN_VIEW(view))));
  /* the list inside the column view answers the rows' clicks */
  GtkWidget *list = find_widget(view, GTK_TYPE_LIST_VIEW, NULL);
  g_assert_nonnull(list);
  ll_runs_view_select(runs(), NULL);
  /* click: one row; Ctrl+click (modify): a second; Shift+click (extend): the range */
  g_assert_true(gtk_widget_activate_action(list, "list.select-item", "(ubb)", 0, FALSE, FALSE));
  g_assert_cmpuint(n_selected(), ==, 1);
  g_assert_true(gtk_widget_activate_action(list, "list.select-item", "(ubb)", 2, TRUE, FALSE));
  g_assert_cmpuint(n_selected(), ==, 2);
  g_assert_cmpint(ll_runs_view_get_n_series(runs()), ==, 2);
  g_assert_true(gtk_widget_activate_action(list, "list.select-item", "(ubb)", 0, FALSE, FALSE));
  g_assert_true(gtk_widget_activate_action(list, "list.select-item", "(ubb)", 2, FALSE, TRUE));
  g_assert_cmpuint(n_selected(), ==, 3);
  g_assert_cmpint(ll_runs_view_get_n_series(runs()), ==, 3);
  /* a plain click selects that row alone again */
  g_assert_true(gtk_widget_activate_action(list, "list.select-item", "(ubb)", 1, FALSE, FALSE));
  g_assert_cmpuint(n_selected(), ==, 1);
  ll_runs_view_select(runs(), NULL);
}

static GtkWidget *edit_popover;
static gboolean popover_drawn(void)
{
  return gtk_widget_get_mapped(edit_popover) && gtk_widget_get_width(edit_popover) > 0;
}

/* A run is renamed and given notes and tags in the Runs tab: the popover
 * opens on its values, Save writes them to the store, the table shows the
 * new name and tags, the filter finds the tag, and the comparison names
 * the series by the new name. */
static void test_rename(void)
{
  ll_window_show_page(win, "runs");
  g_autoptr(LlRunItem) a = find("lr 0.01");
  g_assert_nonnull(a);
  g_autofree char *id = g_strdup(ll_run_item_get_info(a)->id);
  const char *ids[] = {id, NULL};
  ll_runs_view_select(runs(), ids);
  GtkWidget *menu = find_widget(GTK_WIDGET(runs()), GTK_TYPE_MENU_BUTTON, NULL);
  g_assert_nonnull(menu);
  gtk_menu_button_popup(GTK_MENU_BUTTON(menu));
  ll_ui_spin(100);
  GtkWidget *pop = GTK_WIDGET(gtk_menu_button_get_popover(GTK_MENU_BUTTON(menu)));
  g_assert_true(gtk_widget_get_visible(pop));
  GtkWidget *name = find_widget(pop, 0, "run-name-entry");
  GtkWidget *tags = find_widget(pop, 0, "run-tags-entry");
  GtkWidget *notes = find_widget(pop, 0, "run-notes-view");
  g_assert_nonnull(name);
  g_assert_nonnull(tags);
  g_assert_nonnull(notes);
  /* it opens on the run's values */
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(name)), ==, "lr 0.01");
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(tags)), ==, "");
  gtk_editable_set_text(GTK_EDITABLE(name), "baseline, small lr");
  gtk_editable_set_text(GTK_EDITABLE(tags), "baseline, keep");
  gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(notes)),
                           "converges slowly; try 0.03", -1);
  edit_popover = pop;
  g_assert_true(ll_ui_wait_for(popover_drawn, 10000));
  ll_ui_spin(200);
  ll_ui_screenshot_over(GTK_WIDGET(win), pop, "runs-rename.png");
  GtkWidget *save = ll_ui_find_button(pop, "Save");
  g_assert_nonnull(save);
  g_signal_emit_by_name(save, "clicked");
  g_assert_true(ll_ui_wait_for(idle, 20000));
  g_assert_false(gtk_widget_get_visible(pop));

  g_assert_null(find("lr 0.01"));
  g_autoptr(LlRunItem) renamed = find("baseline, small lr");
  g_assert_nonnull(renamed);
  g_assert_cmpstr(ll_run_item_get_info(renamed)->id, ==, id);
  g_assert_cmpstr(ll_run_item_get_text(renamed, "tags"), ==, "baseline, keep");
  g_assert_cmpstr(ll_run_item_get_info(renamed)->notes, ==, "converges slowly; try 0.03");
  /* in the store, for the CLI and the reports */
  GError *error = NULL;
  g_autofree char *root = g_build_filename(g_get_user_data_dir(), "runs", NULL);
  g_autoptr(LlRunStore) store = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_autoptr(LlRunInfo) info = NULL;
  g_assert_true(ll_run_store_get(store, id, &info, &error));
  g_assert_cmpstr(info->name, ==, "baseline, small lr");
  g_assert_cmpstr(info->tags[1], ==, "keep");
  /* the filter finds tags */
  ll_runs_view_set_search(runs(), "keep");
  g_assert_cmpuint(n_rows(), ==, 1);
  ll_runs_view_set_search(runs(), "");
  /* the comparison's spec diff and legend follow the run's name */
  g_autoptr(LlRunItem) b = find("lr 0.1");
  const char *two[] = {id, ll_run_item_get_info(b)->id, NULL};
  ll_runs_view_select(runs(), two);
  g_assert_cmpint(ll_runs_view_get_n_series(runs()), ==, 2);
  ll_ui_spin(300);
  ll_ui_screenshot(GTK_WIDGET(win), "runs-renamed.png");

  /* a bad name keeps the popover open with the reason, and changes nothing */
  const char *one[] = {id, NULL};
  ll_runs_view_select(runs(), one);
  gtk_menu_button_popup(GTK_MENU_BUTTON(menu));
  ll_ui_spin(50);
  g_autofree char *too_long = g_strnfill(LL_RUN_NAME_MAX + 1, 'x');
  gtk_editable_set_text(GTK_EDITABLE(name), too_long);
  g_signal_emit_by_name(save, "clicked");
  g_assert_true(gtk_widget_get_visible(pop));
  g_assert_nonnull(strstr(ll_runs_view_get_message(runs()), "at most"));
  gtk_popover_popdown(GTK_POPOVER(pop));
  g_assert_true(ll_ui_wait_for(idle, 20000));
  g_autoptr(LlRunItem) still = find("baseline, small lr");
  g_assert_nonnull(still);
}

/* ---- a run with several heads ---- */

static int series_named(LlCurvePlot *p, const char *name)
{
  for (int i = 0; p && i < ll_curve_plot_n_series(p); i++)
    if (!g_strcmp0(ll_curve_plot_series_name(p, i), name))
      return i;
  return -1;
}

/* Points of the overlay's series name (plot i), -1 without it. */
static int overlay_points(int i, const char *name)
{
  LlCurvePlot *p = ll_runs_view_get_plot(runs(), i);
  int s = series_named(p, name);
  return s < 0 ? -1 : (int)ll_curve_plot_series_len(p, s);
}

/* The window has handled an epoch of the run (the Curves tab has a point per head). */
static gboolean first_epoch(void)
{
  LlCurvePlot *acc = ll_curve_view_get_plot(ll_window_get_curves(win), 1);
  int s = series_named(acc, "digit (val)");
  return s >= 0 && ll_curve_plot_series_len(acc, s) >= 1;
}

static gboolean heads_running(void)
{
  if (!idle())
    return FALSE;
  g_autoptr(LlRunItem) it = find("two-input-sum");
  return it && !strcmp(ll_run_item_get_text(it, "status"), "running");
}

static gboolean heads_shown(void)
{
  return idle() && overlay_points(1, "two-input-sum: digit accuracy") >= 1;
}

static gboolean heads_done(void)
{
  return idle() && overlay_points(1, "two-input-sum: digit accuracy") == 3;
}

/* E15 in the Runs tab: each head's validation metric is a series of its own
 * in the overlay (the digit and the sum head's accuracies, the sum head's
 * MSE beside the losses), while the run trains (the tab follows it, epoch
 * by epoch) and once it has finished. */
static void test_heads_overlay(void)
{
  open_preset("two-input-sum");
  ll_ui_shorten(win, 1500, 400);
  ll_document_get_spec(doc())->epochs = 3;
  ll_document_settings_changed(doc());
  activate("train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  /* Start shows the curves; the user looks at the Runs tab instead */
  ll_window_show_page(win, "runs");
  /* held after its first epoch: the tab has its row, running */
  g_assert_true(ll_ui_wait_for(first_epoch, 120000));
  activate("train-pause", NULL);
  g_assert_true(ll_ui_wait_for(heads_running, 20000));
  g_autoptr(LlRunItem) it = find("two-input-sum");
  const char *ids[] = {ll_run_item_get_info(it)->id, NULL};
  ll_runs_view_select(runs(), ids);
  g_assert_true(ll_ui_wait_for(heads_shown, 20000));
  g_assert_true(ll_window_is_training(win));
  int live = overlay_points(1, "two-input-sum: digit accuracy");
  g_test_message("while training: %d epochs in the overlay", live);
  g_assert_cmpint(overlay_points(1, "two-input-sum: sum accuracy"), ==, live);
  g_assert_cmpint(overlay_points(0, "two-input-sum: sum MSE"), ==, live);
  g_assert_cmpint(overlay_points(0, "two-input-sum"), ==, live); /* the loss, as for any run */
  /* no plain accuracy beside the heads': it is the first head's */
  g_assert_cmpint(overlay_points(1, "two-input-sum"), ==, -1);
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "runs-heads-live.png");
  activate("train-pause", NULL); /* resume */
  g_assert_true(ll_ui_wait_for(stopped, 120000));
  g_assert_true(ll_ui_wait_for(heads_done, 20000));
  g_assert_cmpint(overlay_points(1, "two-input-sum: sum accuracy"), ==, 3);
  g_assert_cmpint(overlay_points(0, "two-input-sum: sum MSE"), ==, 3);
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "runs-heads-finished.png");
}

int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "runs")))
    return 77;
  g_test_add_func("/ui/runs/table", test_table);
  g_test_add_func("/ui/runs/compare", test_compare);
  g_test_add_func("/ui/runs/open", test_open);
  g_test_add_func("/ui/runs/graph-diff", test_graph_diff);
  g_test_add_func("/ui/runs/multi-select", test_multi_select);
  g_test_add_func("/ui/runs/rename", test_rename);
  g_test_add_func("/ui/runs/heads-overlay", test_heads_overlay);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}

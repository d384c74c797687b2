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

/* Trains the spec in the window briefly, as it is. */
static void train_current(int epochs)
{
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

static void train_short(const char *preset, int epochs)
{
  open_preset(preset);
  train_current(epochs);
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
  g_assert_cmpstr(ll_analysis_view_get_epoch_text(analysis()), ==, "validation set, epoch 1 of 2");

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

static LlGraph *graph(void) { return ll_document_get_spec(doc())->graph; }
static LlBlock *block(const char *name) { return ll_graph_find(graph(), name); }
static gboolean data_known(void) { return ll_document_data_known(doc()); }

static void select_block(const char *name)
{
  const char *one[] = {name, NULL};
  ll_canvas_select(ll_window_get_canvas(win), one);
}

/* Adds a block as a double-click in the palette does: after the selection. */
static char *add(const char *type, const char *after)
{
  select_block(after);
  g_signal_emit_by_name(ll_window_get_palette(win), "block-activated", type);
  return g_strdup(ll_canvas_get_primary(ll_window_get_canvas(win)));
}

static void set_prop(const char *b, const char *prop, const char *value)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_document_set_prop(doc(), b, prop, value, &error));
}

static LlSummaryItem *summary_row(const char *name)
{
  GListModel *m = ll_summary_view_get_model(ll_window_get_summary(win));
  for (guint i = 0; i < g_list_model_get_n_items(m); i++) {
    g_autoptr(LlSummaryItem) it = g_list_model_get_item(m, i);
    if (g_str_has_prefix(ll_summary_item_get(it, "name"), name) &&
        strchr(" ", ll_summary_item_get(it, "name")[strlen(name)]))
      return it; /* the model keeps a reference */
  }
  return NULL;
}

/* Input -> Conv2d -> ReLU -> MaxPool2d -> Conv2d -> ReLU -> Linear(10), no
 * Flatten: the window says it cannot train, why, and how to fix it; one
 * wrong block leaves the shapes before it; Flatten added after relu2 goes
 * into the edge. */
static void test_no_flatten(void)
{
  activate("new", NULL);
  ll_ui_answer_save_prompt(win, "_Discard"); /* the edits of the test before */
  ll_ui_spin(50);
  g_autofree char *conv1 = add("Conv2d", "image");
  g_autofree char *relu1 = add("ReLU", conv1);
  g_autofree char *pool = add("MaxPool2d", relu1);
  g_autofree char *conv2 = add("Conv2d", pool);
  g_autofree char *relu2 = add("ReLU", conv2);
  g_autofree char *linear = add("Linear", relu2);
  set_prop(conv2, "out_channels", "16");
  set_prop(linear, "out_features", "10");
  /* before and after the data's fields are read: the same verdict */
  for (int pass = 0; pass < 2; pass++) {
    if (pass)
      g_assert_true(ll_ui_wait_for(data_known, 30000));
    const GError *e = ll_document_get_error(doc());
    g_assert_nonnull(e);
    g_test_message("%s", e->message);
    g_autofree char *fix = g_strdup_printf("insert Flatten before %s", linear);
    g_assert_nonnull(strstr(e->message, fix));
    g_assert_cmpstr(ll_document_get_error_block(doc()), ==, linear);
    g_assert_nonnull(strstr(ll_window_get_status(win), fix));
    g_assert_null(strstr(ll_window_get_status(win), "valid"));
    g_assert_false(action_enabled("train-start"));
    g_assert_nonnull(strstr(ll_window_get_start_tooltip(win), fix));
  }
  /* every shape is known: the summary keeps its figures */
  g_assert_cmpstr(ll_summary_item_get(summary_row(relu2), "shape"), ==, "(16, 11, 11)");
  /* a Linear on (16, 11, 11) mixes the last axis only */
  g_assert_cmpstr(ll_summary_item_get(summary_row(linear), "rf"), ==, "whole last axis");
  /* MaxPool's stride 0 is the kernel, and the block says so */
  char val[48];
  int si;
  g_assert_nonnull(ll_block_desc_prop(block(pool)->desc, "stride", &si));
  g_assert_cmpstr(ll_block_format_prop(block(pool), si, val, sizeof val), ==, "2 (= kernel)");
  /* and so does the inspector: no field shows a 0 that means something else */
  select_block(pool);
  LlInspector *insp = ll_window_get_inspector(win);
  GtkWidget *stride = ll_inspector_get_editor(insp, "stride");
  GtkWidget *kernel = ll_inspector_get_editor(insp, "kernel");
  g_assert_true(GTK_IS_SPIN_BUTTON(stride));
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(stride)), ==, "2 (= kernel)");
  ll_ui_spin(100);
  ll_ui_screenshot(GTK_WIDGET(insp), "graph-check-inspector-stride.png");
  /* a new kernel: the stride follows it, and says so */
  gtk_editable_set_text(GTK_EDITABLE(kernel), "3");
  g_assert_cmpint(LL_PROP_I(block(pool), 0), ==, 3);
  g_assert_cmpint(block(pool)->props[si].i, ==, 0);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(stride)), ==, "3 (= kernel)");
  /* an explicit stride is a number; spinning down to 0 is the kernel again */
  gtk_editable_set_text(GTK_EDITABLE(stride), "1");
  gtk_spin_button_update(GTK_SPIN_BUTTON(stride));
  g_assert_cmpint(block(pool)->props[si].i, ==, 1);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(stride)), ==, "1");
  gtk_spin_button_spin(GTK_SPIN_BUTTON(stride), GTK_SPIN_STEP_BACKWARD, 1);
  g_assert_cmpint(block(pool)->props[si].i, ==, 0);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(stride)), ==, "3 (= kernel)");
  g_assert_cmpstr(ll_inspector_get_message(insp), ==, "");
  /* an edit from elsewhere (here the document) rebuilds the editors the same way */
  set_prop(pool, "kernel", "2");
  stride = ll_inspector_get_editor(insp, "stride");
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(stride)), ==, "2 (= kernel)");
  ll_window_show_page(win, "summary");
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "graph-check-no-flatten.png");

  /* item: one wrong block, the rest known. conv2's kernel does not fit */
  set_prop(conv2, "kernel", "20");
  g_assert_nonnull(ll_document_get_error(doc()));
  g_assert_cmpstr(ll_document_get_error_block(doc()), ==, conv2);
  g_assert_cmpint(block(pool)->status, ==, LL_BLOCK_OK);
  g_assert_cmpint(block(conv2)->status, ==, LL_BLOCK_FAILED);
  g_assert_cmpint(block(relu2)->status, ==, LL_BLOCK_DOWNSTREAM);
  g_assert_cmpint(block(linear)->status, ==, LL_BLOCK_DOWNSTREAM);
  g_assert_cmpuint(g_list_model_get_n_items(ll_summary_view_get_model(ll_window_get_summary(win))),
                   ==, 7);
  g_assert_cmpstr(ll_summary_item_get(summary_row(pool), "shape"), ==, "(16, 13, 13)");
  g_assert_cmpstr(ll_summary_item_get(summary_row(conv1), "params"), ==, "160");
  g_assert_cmpstr(ll_summary_item_get(summary_row(relu2), "shape"), ==, "\u2014");
  g_assert_nonnull(strstr(ll_summary_item_get(summary_row(conv2), "name"), "error"));
  g_assert_nonnull(strstr(ll_summary_item_get(summary_row(linear), "name"), "after the error"));
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "graph-check-partial.png");
  activate("undo", NULL);
  g_assert_cmpint(LL_PROP_I(block(conv2), 1), ==, 3);

  /* Flatten after relu2 is spliced into relu2 -> linear */
  g_autofree char *flat = add("Flatten", relu2);
  g_assert_cmpstr(block(flat)->input_names[0], ==, relu2);
  g_assert_cmpstr(block(linear)->input_names[0], ==, flat);
  g_assert_null(ll_document_get_error(doc()));
  g_assert_true(action_enabled("train-start"));
  g_assert_nonnull(strstr(ll_window_get_status(win), "the graph is valid"));
  /* the wrong class count names the width */
  set_prop(linear, "out_features", "7");
  g_assert_nonnull(
      strstr(ll_document_get_error(doc())->message, "out_features must be 10 for 10 classes"));
  g_assert_false(action_enabled("train-start"));
  set_prop(linear, "out_features", "10");
  g_assert_true(action_enabled("train-start"));

  /* a side branch that feeds nothing is dangling, and the status says so
   * (the loss named, as the Loss row of the training panel does) */
  g_autofree char *chosen = ll_spec_add_default_loss(ll_document_get_spec(doc()), NULL);
  g_assert_nonnull(chosen);
  ll_document_settings_changed(doc());
  g_autofree char *side = add("ReLU", pool); /* pool has one reader: spliced */
  g_assert_cmpstr(block(conv2)->input_names[0], ==, side);
  activate("undo", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *branch = ll_document_add_block(doc(), "Tanh", 600, 40, NULL, &error);
  g_assert_true(ll_document_connect(doc(), flat, branch, &error));
  const char *const *dangling = ll_document_get_dangling(doc());
  g_assert_nonnull(dangling);
  g_assert_cmpstr(dangling[0], ==, branch);
  g_assert_null(dangling[1]);
  g_test_message("%s", ll_window_get_status(win));
  g_assert_nonnull(strstr(ll_window_get_status(win), "dangling: its output is unused"));
  g_assert_null(strstr(ll_window_get_status(win), "the graph is valid"));
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "graph-check-dangling.png");
}

static GtkWidget *panel_child(const char *id)
{
  return GTK_WIDGET(gtk_widget_get_template_child(GTK_WIDGET(ll_window_get_training_panel(win)),
                                                  LL_TYPE_TRAINING_PANEL, id));
}

/* The training panel: defaults that train (a new spec's: Adam at 0.01, one-cycle), the schedule
 * with its parameters and weight decay, "all" for 0 training samples. */
static void test_training_panel(void)
{
  activate("new", NULL);
  ll_ui_answer_save_prompt(win, "_Discard"); /* the edits of the test before */
  ll_ui_spin(50);
  ll_window_show_page(win, "training");
  LlSpec *s = ll_document_get_spec(doc());
  g_assert_cmpint(s->optim.kind, ==, LL_OPT_ADAM);
  g_assert_cmpfloat(s->optim.lr, ==, 0.01);
  g_assert_cmpint(s->schedule.kind, ==, LL_SCHED_ONE_CYCLE);
  g_assert_cmpint(s->epochs, ==, 3);
  g_assert_cmpfloat(gtk_spin_button_get_value(GTK_SPIN_BUTTON(panel_child("lr"))), ==, 0.01);
  g_assert_cmpuint(gtk_drop_down_get_selected(GTK_DROP_DOWN(panel_child("schedule"))), ==,
                   LL_SCHED_ONE_CYCLE);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(panel_child("max_lr"))), ==,
                  "0.01 (= learning rate)");
  g_assert_cmpuint(s->dataset.limit_train, ==, 0);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(panel_child("limit_train"))), ==, "all");
  /* a number, then the word typed back (any case) is every sample again */
  GtkSpinButton *limit = GTK_SPIN_BUTTON(panel_child("limit_train"));
  gtk_spin_button_set_value(limit, 500);
  g_assert_cmpuint(s->dataset.limit_train, ==, 500);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(limit)), ==, "500");
  gtk_editable_set_text(GTK_EDITABLE(limit), "All");
  gtk_spin_button_update(limit);
  g_assert_cmpuint(s->dataset.limit_train, ==, 0);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(limit)), ==, "all");
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(panel_child("weight_decay")), 5e-4);
  g_assert_cmpfloat(fabs(s->optim.weight_decay - 5e-4), <, 1e-9);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(panel_child("schedule")), LL_SCHED_STEP);
  g_assert_cmpint(s->schedule.kind, ==, LL_SCHED_STEP);
  g_assert_true(gtk_widget_get_visible(panel_child("step_row")));
  g_assert_false(gtk_widget_get_visible(panel_child("min_lr_row")));
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(panel_child("step_size")), 3);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(panel_child("gamma")), 0.5);
  g_assert_cmpint(s->schedule.step_size, ==, 3);
  g_assert_cmpfloat(s->schedule.gamma, ==, 0.5);
  /* the one-cycle peak that is the learning rate says so, with its value */
  gtk_drop_down_set_selected(GTK_DROP_DOWN(panel_child("schedule")), LL_SCHED_ONE_CYCLE);
  g_assert_true(gtk_widget_get_visible(panel_child("max_lr_row")));
  g_assert_cmpfloat(s->schedule.max_lr, <=, 0);
  g_autofree char *peak = g_strdup_printf("%g (= learning rate)", s->optim.lr);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(panel_child("max_lr"))), ==, peak);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(panel_child("lr")), 0.02);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(panel_child("max_lr"))), ==,
                  "0.02 (= learning rate)");
  g_assert_cmpfloat(s->schedule.max_lr, <=, 0);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(panel_child("max_lr")), 0.05);
  g_assert_cmpfloat(fabs(s->schedule.max_lr - 0.05), <, 1e-9);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(panel_child("schedule")), LL_SCHED_COSINE);
  g_assert_cmpint(s->schedule.kind, ==, LL_SCHED_COSINE);
  g_assert_true(gtk_widget_get_visible(panel_child("min_lr_row")));
  /* SGD chosen in the panel comes with momentum 0.9 */
  gtk_drop_down_set_selected(GTK_DROP_DOWN(panel_child("optimizer")), LL_OPT_SGD);
  g_assert_cmpint(s->optim.kind, ==, LL_OPT_SGD);
  g_assert_cmpfloat(s->optim.momentum, ==, 0.9);
  g_assert_cmpfloat(fabs(s->optim.weight_decay - 5e-4), <, 1e-9);
  /* the settings survive a save and reload */
  g_autofree char *json = ll_spec_to_json(s);
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) back = ll_spec_load_data(json, -1, "saved", &error);
  g_assert_no_error(error);
  g_assert_cmpint(back->schedule.kind, ==, LL_SCHED_COSINE);
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "graph-check-training-panel.png");
  gtk_window_set_default_size(GTK_WINDOW(win), 1024, 640);
  ll_ui_spin(500);
  ll_ui_screenshot(GTK_WIDGET(win), "graph-check-training-panel-1024.png");
  gtk_window_set_default_size(GTK_WINDOW(win), 1400, 900);
  ll_ui_spin(500);
}

static guint list_find(GListModel *m, const char *s)
{
  for (guint i = 0; i < g_list_model_get_n_items(m); i++)
    if (!g_strcmp0(gtk_string_list_get_string(GTK_STRING_LIST(m), i), s))
      return i;
  return GTK_INVALID_LIST_POSITION;
}

static const char *dd_text(GtkDropDown *dd)
{
  return gtk_string_list_get_string(GTK_STRING_LIST(gtk_drop_down_get_model(dd)),
                                    gtk_drop_down_get_selected(dd));
}

/* t-SNE out of the box: the training panel's Embedding block edits
 * record.embedding_block (undoably); "automatic" names the engine's choice;
 * a run records the chosen block and the t-SNE view picks that one. */
static void test_embedding_block(void)
{
  open_preset("tiny-cnn");
  ll_window_show_page(win, "training");
  LlSpec *s = ll_document_get_spec(doc());
  GtkDropDown *dd = GTK_DROP_DOWN(panel_child("embedding"));
  GListModel *m = gtk_drop_down_get_model(dd);
  g_assert_cmpstr(s->embedding_block, ==, "gap");
  g_assert_cmpstr(dd_text(dd), ==, "gap");
  /* the block before the classifier, as the engine picks it */
  g_assert_cmpstr(gtk_string_list_get_string(GTK_STRING_LIST(m), 0), ==, "automatic (gap)");
  g_assert_cmpuint(list_find(m, "image"), ==, GTK_INVALID_LIST_POSITION); /* inputs are not */
  gtk_drop_down_set_selected(dd, 0);
  g_assert_null(ll_document_get_spec(doc())->embedding_block);
  gtk_drop_down_set_selected(dd, list_find(m, "relu5"));
  s = ll_document_get_spec(doc());
  g_assert_cmpstr(s->embedding_block, ==, "relu5");
  g_assert_true(ll_document_get_modified(doc()));
  activate("undo", NULL);
  g_assert_null(ll_document_get_spec(doc())->embedding_block);
  g_assert_cmpuint(gtk_drop_down_get_selected(dd), ==, 0);
  activate("undo", NULL);
  g_assert_cmpstr(ll_document_get_spec(doc())->embedding_block, ==, "gap");
  g_assert_cmpstr(dd_text(dd), ==, "gap");
  activate("redo", NULL);
  activate("redo", NULL);
  g_assert_cmpstr(ll_document_get_spec(doc())->embedding_block, ==, "relu5");
  g_assert_cmpstr(dd_text(dd), ==, "relu5");
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(ll_window_get_training_panel(win)),
                   "graph-check-embedding-block.png");
  /* the run records relu5, and the t-SNE view shows that block, ready */
  train_current(1);
  g_assert_cmpstr(ll_analysis_view_get_embed_block(analysis()), ==, "relu5");
  /* its "recompute every N epochs" reads "never" for 0, not 0 */
  GtkSpinButton *every = ll_analysis_view_get_every(analysis());
  double every0 = gtk_spin_button_get_value(every);
  gtk_spin_button_set_value(every, 0);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(every)), ==, "never");
  gtk_editable_set_text(GTK_EDITABLE(every), "never");
  gtk_spin_button_update(every);
  g_assert_cmpint(gtk_spin_button_get_value_as_int(every), ==, 0);
  gtk_spin_button_set_value(every, 2);
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(every)), ==, "2");
  gtk_spin_button_set_value(every, every0);
  /* deleting the block makes it automatic again (a spec naming a missing
   * block would not load); undo brings both back */
  const char *relu5[] = {"relu5", NULL};
  ll_canvas_select(ll_window_get_canvas(win), relu5);
  activate("delete", NULL);
  g_assert_null(ll_graph_find(graph(), "relu5"));
  g_assert_null(ll_document_get_spec(doc())->embedding_block);
  g_assert_cmpuint(gtk_drop_down_get_selected(dd), ==, 0);
  g_autofree char *json = ll_spec_to_json(ll_document_get_spec(doc()));
  g_assert_null(strstr(json, "\"relu5\"")); /* named nowhere in the saved spec */
  activate("undo", NULL);
  g_assert_cmpstr(ll_document_get_spec(doc())->embedding_block, ==, "relu5");
  g_assert_cmpstr(dd_text(dd), ==, "relu5");
  /* a new spec has nothing to embed yet: automatic */
  activate("new", NULL);
  ll_ui_answer_save_prompt(win, "_Discard");
  ll_ui_spin(50);
  g_assert_cmpuint(gtk_drop_down_get_selected(dd), ==, 0);
  g_assert_null(ll_document_get_spec(doc())->embedding_block);
}

/* Xvfb has no session bus; GTK says so once. That is the environment, not a bug. */
int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "graph-check")))
    return 77;
  g_test_add_func("/ui/graph-check/no-flatten", test_no_flatten);
  g_test_add_func("/ui/graph-check/training-panel", test_training_panel);
  g_test_add_func("/ui/graph-check/scrubber-export", test_scrubber);
  g_test_add_func("/ui/graph-check/autoencoder-status", test_autoencoder_status);
  g_test_add_func("/ui/graph-check/embedding-block", test_embedding_block);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}

/* test-editing.c: editing that does what it says: a block dropped from the
 * palette onto a wire is spliced into it (the wire lights up while the drag
 * is over it), undone in one step; opening another spec (or New) starts the
 * run views over for it while the Runs tab keeps every run, and an
 * autoencoder's analysis opens on its reconstructions; the Log tab's lines
 * are readable, follow the newest line unless the user scrolled up, and
 * copy. */
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "curve-plot.h"
#include "ll-canvas-geometry.h"
#include "ui-harness.h"

static LlWindow *win;

static LlDocument *doc(void) { return ll_window_get_document(win); }
static LlGraph *graph(void) { return ll_document_get_spec(doc())->graph; }

/* The middle of the wire into block to (its only input), in widget
 * coordinates: halfway along the curve the canvas draws. */
static void wire_middle(const char *from, const char *to, double *wx, double *wy)
{
  double fx, fy, tx, ty;
  g_assert_true(ll_document_get_position(doc(), from, &fx, &fy));
  g_assert_true(ll_document_get_position(doc(), to, &tx, &ty));
  ll_canvas_to_widget(ll_window_get_canvas(win), (fx + tx) / 2 + LL_BLOCK_W / 2,
                      (fy + LL_BLOCK_H + ty) / 2, wx, wy);
}

static gboolean drop(GtkDropTarget *t, const char *type, double x, double y)
{
  GValue v = G_VALUE_INIT;
  g_value_init(&v, G_TYPE_STRING);
  g_value_set_string(&v, type);
  gboolean ok = FALSE;
  g_signal_emit_by_name(t, "drop", &v, x, y, &ok);
  g_value_unset(&v);
  return ok;
}

static void test_drop_on_edge(void)
{
  ll_ui_open_preset(win, "tiny-cnn");
  ll_ui_spin(200);
  LlCanvas *canvas = ll_window_get_canvas(win);
  GtkDropTarget *t = ll_ui_drop_target(GTK_WIDGET(canvas));
  g_assert_nonnull(t);
  guint n0 = graph()->blocks->len;
  double x, y;
  wire_middle("drop1", "conv2", &x, &y);

  /* dragging over the wire lights it up; leaving puts it out */
  GdkDragAction action = 0;
  g_signal_emit_by_name(t, "motion", x, y, &action);
  int input = -1;
  g_assert_cmpstr(ll_canvas_get_drop_edge(canvas, &input), ==, "conv2");
  g_assert_cmpint(input, ==, 0);
  ll_ui_spin(100);
  ll_ui_screenshot(GTK_WIDGET(canvas), "editing-drop-edge.png");
  g_signal_emit_by_name(t, "leave");
  g_assert_null(ll_canvas_get_drop_edge(canvas, NULL));
  /* over a block there is no wire */
  double bx, by;
  ll_document_get_position(doc(), "conv2", &bx, &by);
  ll_canvas_to_widget(canvas, bx + LL_BLOCK_W / 2, by + LL_BLOCK_H / 2, &bx, &by);
  g_signal_emit_by_name(t, "motion", bx, by, &action);
  g_assert_null(ll_canvas_get_drop_edge(canvas, NULL));

  /* the drop splices: the new block reads drop1, conv2 reads the new block */
  g_signal_emit_by_name(t, "motion", x, y, &action);
  g_assert_true(drop(t, "ReLU", x, y));
  g_assert_null(ll_canvas_get_drop_edge(canvas, NULL));
  g_assert_cmpuint(graph()->blocks->len, ==, n0 + 1);
  g_autofree char *added = g_strdup(ll_canvas_get_primary(canvas));
  LlBlock *b = ll_graph_find(graph(), added);
  g_assert_nonnull(b);
  g_assert_cmpstr(b->desc->type, ==, "ReLU");
  g_assert_cmpint(b->n_inputs, ==, 1);
  g_assert_cmpstr(b->input_names[0], ==, "drop1");
  g_assert_cmpstr(ll_graph_find(graph(), "conv2")->input_names[0], ==, added);
  g_assert_null(ll_document_get_error(doc()));
  /* it takes conv2's place, and conv2 moves down: no overlap */
  double ax, ay, cx, cy;
  ll_document_get_position(doc(), added, &ax, &ay);
  ll_document_get_position(doc(), "conv2", &cx, &cy);
  g_assert_cmpfloat(cy - ay, >=, LL_BLOCK_H);

  /* one undo step takes it all back */
  g_action_group_activate_action(G_ACTION_GROUP(win), "undo", NULL);
  g_assert_cmpuint(graph()->blocks->len, ==, n0);
  g_assert_null(ll_graph_find(graph(), added));
  g_assert_cmpstr(ll_graph_find(graph(), "conv2")->input_names[0], ==, "drop1");

  /* a block that takes no input cannot go into a wire: said, nothing changes */
  wire_middle("drop1", "conv2", &x, &y);
  g_assert_false(drop(t, "Input", x, y));
  g_assert_cmpuint(graph()->blocks->len, ==, n0);
  g_assert_cmpstr(ll_graph_find(graph(), "conv2")->input_names[0], ==, "drop1");
  g_assert_nonnull(strstr(ll_window_get_notice(win), "cannot go into a wire"));
}

/* ---- switching documents ---- */

static gboolean stopped(void) { return !ll_window_is_training(win); }
static gboolean runs_idle(void) { return !ll_runs_view_is_busy(ll_window_get_runs(win)); }

/* Trains the open spec for one short epoch, to the end. */
static void train_briefly(void)
{
  ll_ui_shorten(win, 600, 200);
  g_action_group_activate_action(G_ACTION_GROUP(win), "train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  g_assert_true(ll_ui_wait_for(stopped, 240000));
  g_assert_true(ll_ui_wait_for(runs_idle, 30000));
}

static const char *progress_text(void)
{
  return ll_training_panel_get_progress_text(ll_window_get_training_panel(win));
}

static guint n_runs(void)
{
  return g_list_model_get_n_items(ll_runs_view_get_model(ll_window_get_runs(win)));
}

static gboolean runs_list(const char *name)
{
  GListModel *m = ll_runs_view_get_model(ll_window_get_runs(win));
  for (guint i = 0; i < g_list_model_get_n_items(m); i++) {
    g_autoptr(LlRunItem) item = g_list_model_get_item(m, i);
    if (!g_strcmp0(ll_run_item_get_info(item)->name, name))
      return TRUE;
  }
  return FALSE;
}

/* The curves, the progress and the analysis show no run at all: the x
 * range of the loss plot is that of a plot that never had a point (a
 * previous run's faded curve would widen it). */
static void assert_no_run_shown(void)
{
  LlCurveView *cv = ll_window_get_curves(win);
  g_assert_cmpuint(ll_curve_view_get_n_points(cv), ==, 0);
  g_autoptr(LlCurvePlot) fresh = ll_curve_plot_new("loss", "epoch");
  double fx0, fx1, x0, x1;
  ll_curve_plot_get_x_range(fresh, &fx0, &fx1);
  ll_curve_plot_get_x_range(ll_curve_view_get_plot(cv, 0), &x0, &x1);
  g_assert_cmpfloat(x0, ==, fx0);
  g_assert_cmpfloat(x1, ==, fx1);
  ll_curve_plot_get_x_range(ll_curve_view_get_plot(cv, 1), &x0, &x1);
  g_assert_cmpfloat(x0, ==, fx0);
  g_assert_cmpfloat(x1, ==, fx1);
  g_assert_cmpstr(progress_text(), ==, "Not running");
  LlAnalysisView *av = ll_window_get_analysis(win);
  g_assert_cmpuint(ll_analysis_view_get_n_payloads(av), ==, 0);
  g_assert_cmpstr(ll_analysis_view_get_epoch_text(av), ==, "no evaluation yet");
}

static void test_switch_resets(void)
{
  /* A: a classifier, trained */
  ll_ui_open_preset(win, "tiny-cnn");
  train_briefly();
  LlAnalysisView *av = ll_window_get_analysis(win);
  g_assert_cmpuint(ll_curve_view_get_n_points(ll_window_get_curves(win)), >, 0);
  g_assert_true(g_str_has_prefix(progress_text(), "Training finished"));
  g_assert_cmpuint(ll_analysis_view_get_n_payloads(av), >, 0);
  g_assert_cmpstr(ll_analysis_view_get_page(av), ==, "confusion");
  guint runs = n_runs();
  g_assert_cmpuint(runs, >=, 1);
  g_assert_true(runs_list("tiny-cnn"));

  /* B: an autoencoder; nothing of A is shown as B's, A's run stays listed */
  ll_ui_open_preset(win, "ae-pretrain");
  g_assert_cmpstr(ll_document_get_spec(doc())->name, ==, "ae-pretrain");
  assert_no_run_shown();
  g_assert_cmpstr(ll_window_get_notice(win), ==, "");
  ll_ui_spin(100);
  g_assert_cmpuint(n_runs(), ==, runs);
  g_assert_true(runs_list("tiny-cnn"));
  g_autofree char *log = ll_log_view_get_text(ll_window_get_log(win));
  g_assert_nonnull(strstr(log, "opened    ae-pretrain"));

  /* B trained: its analysis opens on the reconstructions */
  train_briefly();
  g_assert_cmpstr(ll_analysis_view_get_page(av), ==, "reconstructions");
  g_assert_cmpuint(n_runs(), ==, runs + 1);
  ll_window_show_page(win, "analysis");
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "editing-autoencoder-analysis.png");

  /* New starts over too */
  g_action_group_activate_action(G_ACTION_GROUP(win), "new", NULL);
  ll_ui_answer_save_prompt(win, "_Discard");
  ll_ui_spin(50);
  g_assert_cmpuint(ll_document_get_spec(doc())->graph->blocks->len, ==, 1);
  assert_no_run_shown();
  g_assert_cmpuint(n_runs(), ==, runs + 1);
  ll_window_show_page(win, "runs");
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(win), "editing-new-runs.png");

  /* the log: one readable line per event, no JSON */
  g_free(log);
  log = ll_log_view_get_text(ll_window_get_log(win));
  g_assert_null(strchr(log, '{'));
  g_assert_nonnull(strstr(log, "epoch     1/1  "));
  g_assert_nonnull(strstr(log, "finished  "));
  g_assert_nonnull(strstr(log, "started   run "));
  ll_window_show_page(win, "log");
  ll_ui_spin(300);
  ll_ui_screenshot(GTK_WIDGET(win), "editing-log-run.png");
}

/* ---- the log ---- */

static LlEvent *event(LlEventKind kind)
{
  LlEvent *e = g_new0(LlEvent, 1);
  e->kind = kind;
  e->metrics = g_array_new(FALSE, FALSE, sizeof(LlMetric));
  return e;
}

static void add_metric(LlEvent *e, const char *name, double value)
{
  LlMetric m = {g_strdup(name), value};
  g_array_append_val(e->metrics, m);
}

static void test_log_format(void)
{
  g_autoptr(GDateTime) t = g_date_time_new_local(2026, 12, 7, 17, 20, 31);
  g_autoptr(LlEvent) ep = event(LL_EVENT_EPOCH);
  ep->epoch = 3;
  ep->epochs = 10;
  add_metric(ep, "train_loss", 0.412345);
  add_metric(ep, "val_loss", NAN); /* not measured: left out */
  add_metric(ep, "val_accuracy", 0.912);
  ep->images_per_second = 1234.4;
  ep->elapsed = 12.34;
  g_autofree char *a = ll_log_format_event(ep, t);
  g_assert_cmpstr(a, ==,
                  "17:20:31  epoch     3/10  train loss 0.4123 \u00b7 val accuracy 91.20% \u00b7 "
                  "1234 images/s \u00b7 12.3 s");

  g_autoptr(LlEvent) st = event(LL_EVENT_STARTED);
  st->run_id = g_strdup("20261207-172031-ab12");
  st->message = g_strdup("tiny-cnn on cpu");
  g_autofree char *b = ll_log_format_event(st, t);
  g_assert_cmpstr(b, ==, "17:20:31  started   run 20261207-172031-ab12: tiny-cnn on cpu");

  g_autoptr(LlEvent) note = event(LL_EVENT_LOG);
  note->message = g_strdup("early stopping\nafter epoch 4");
  g_autofree char *c = ll_log_format_event(note, t);
  g_assert_cmpstr(c, ==, "17:20:31  note      early stopping after epoch 4");

  g_autoptr(LlEvent) fin = event(LL_EVENT_FINISHED);
  add_metric(fin, "test_loss", 0.35);
  add_metric(fin, "test_digit_accuracy", 0.5);
  add_metric(fin, "test_images_per_second", 10654.2);
  fin->elapsed = 60;
  g_autofree char *d = ll_log_format_event(fin, t);
  g_assert_cmpstr(d, ==,
                  "17:20:31  finished  test loss 0.35 \u00b7 test digit accuracy 50.00% \u00b7 "
                  "test images per second 10654 \u00b7 60.0 s");

  g_autoptr(LlEvent) fail = event(LL_EVENT_FAILED);
  fail->message = g_strdup("out of memory");
  g_autofree char *f = ll_log_format_event(fail, t);
  g_assert_cmpstr(f, ==, "17:20:31  failed    out of memory");

  /* batches and payloads are the curves' and the analysis' */
  g_autoptr(LlEvent) batch = event(LL_EVENT_BATCH);
  g_assert_null(ll_log_format_event(batch, t));
  g_autoptr(LlEvent) eval = event(LL_EVENT_EVAL);
  g_assert_null(ll_log_format_event(eval, t));
}

static GtkAdjustment *log_adjustment(void)
{
  GtkWidget *sw = gtk_widget_get_ancestor(
      GTK_WIDGET(ll_log_view_get_text_view(ll_window_get_log(win))), GTK_TYPE_SCROLLED_WINDOW);
  return gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(sw));
}

static gboolean at_bottom(void)
{
  GtkAdjustment *a = log_adjustment();
  /* within the text's bottom margin */
  return gtk_adjustment_get_value(a) + gtk_adjustment_get_page_size(a) >=
         gtk_adjustment_get_upper(a) - 8;
}

/* the 200 lines are laid out (taller than the view) and shown at the bottom */
static gboolean long_at_bottom(void)
{
  GtkAdjustment *a = log_adjustment();
  return gtk_adjustment_get_upper(a) > gtk_adjustment_get_page_size(a) * 4 && at_bottom();
}

static char *copied;

static void on_read(GObject *src, GAsyncResult *res, gpointer data)
{
  copied = gdk_clipboard_read_text_finish(GDK_CLIPBOARD(src), res, NULL);
  if (!copied)
    copied = g_strdup("");
}

static gboolean have_copied(void) { return copied != NULL; }

static void test_log_follow(void)
{
  LlLogView *lv = ll_window_get_log(win);
  ll_window_show_page(win, "log");
  ll_ui_spin(100);
  for (int i = 0; i < 200; i++) {
    g_autofree char *d = g_strdup_printf("line %d", i);
    ll_log_view_add(lv, "note", d);
  }
  /* (the view may glide down: GTK animates scrolling) */
  g_assert_true(ll_ui_wait_for(long_at_bottom, 5000));
  GtkAdjustment *adj = log_adjustment();
  g_assert_true(ll_log_view_get_following(lv));

  /* scrolled up to read (the wheel, as the scrolled window gets it): new
   * lines do not pull the view down */
  GtkEventController *wheel = NULL;
  GtkWidget *sw = gtk_widget_get_ancestor(GTK_WIDGET(ll_log_view_get_text_view(lv)),
                                          GTK_TYPE_SCROLLED_WINDOW);
  GListModel *cs = gtk_widget_observe_controllers(sw);
  for (guint i = 0; i < g_list_model_get_n_items(cs) && !wheel; i++) {
    g_autoptr(GtkEventController) c = g_list_model_get_item(cs, i);
    if (!g_strcmp0(gtk_event_controller_get_name(c), "ll-log-wheel"))
      wheel = c;
  }
  g_object_unref(cs);
  g_assert_nonnull(wheel);
  gboolean handled;
  g_signal_emit_by_name(wheel, "scroll", 0.0, -3.0, &handled);
  gtk_adjustment_set_value(adj, 0);
  g_assert_false(ll_log_view_get_following(lv));
  for (int i = 0; i < 50; i++)
    ll_log_view_add(lv, "note", "more");
  ll_ui_spin(300);
  /* (lines above the view may still be measured: near the top, not at 0) */
  g_assert_cmpfloat(gtk_adjustment_get_value(adj), <, gtk_adjustment_get_page_size(adj));
  g_assert_false(at_bottom());
  g_assert_false(ll_log_view_get_following(lv));

  /* back at the bottom: it follows again */
  gtk_adjustment_set_value(adj, gtk_adjustment_get_upper(adj) - gtk_adjustment_get_page_size(adj));
  for (int i = 0; i < 50; i++)
    ll_log_view_add(lv, "note", "newest");
  g_assert_true(ll_log_view_get_following(lv));
  g_assert_true(ll_ui_wait_for(at_bottom, 5000));
  ll_ui_screenshot(GTK_WIDGET(win), "editing-log.png");

  /* selectable and copyable */
  GtkTextView *tv = ll_log_view_get_text_view(lv);
  g_assert_false(gtk_text_view_get_editable(tv));
  GtkTextBuffer *buf = gtk_text_view_get_buffer(tv);
  GtkTextIter a, b;
  gtk_text_buffer_get_end_iter(buf, &b);
  a = b;
  gtk_text_iter_set_line_offset(&a, 0);
  gtk_text_buffer_select_range(buf, &a, &b);
  g_signal_emit_by_name(tv, "copy-clipboard");
  gdk_clipboard_read_text_async(gtk_widget_get_clipboard(GTK_WIDGET(tv)), NULL, on_read, NULL);
  g_assert_true(ll_ui_wait_for(have_copied, 5000));
  g_assert_true(g_str_has_suffix(copied, "note      newest"));
  g_clear_pointer(&copied, g_free);
  gtk_text_buffer_place_cursor(buf, &b);
}

/* ---- controls keep their size ---- */

/* A button as tall as a button: not stretched to its row. */
static void test_button_heights(void)
{
  ll_window_show_page(win, "curves");
  ll_ui_spin(200);
  GtkWidget *log_y = ll_ui_find_button(GTK_WIDGET(ll_window_get_curves(win)), "Log loss axis");
  g_assert_nonnull(log_y);
  int nat;
  gtk_widget_measure(log_y, GTK_ORIENTATION_VERTICAL, -1, NULL, &nat, NULL, NULL);
  g_test_message("Log loss axis: %d px tall, natural %d", gtk_widget_get_height(log_y), nat);
  g_assert_cmpint(gtk_widget_get_height(log_y), <=, nat);
  g_assert_cmpint(gtk_widget_get_height(log_y), <=, 40);
  ll_ui_screenshot(GTK_WIDGET(ll_window_get_curves(win)), "editing-curves-bar.png");
}

static GtkWidget *find_type(GtkWidget *root, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE(root, type))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *w = find_type(c, type);
    if (w)
      return w;
  }
  return NULL;
}

/* Where the controls are: Start, Stop, the analysis scrubber, and the
 * window's width. */
static void control_bounds(graphene_rect_t r[4])
{
  GtkWidget *panel = GTK_WIDGET(ll_window_get_training_panel(win));
  GtkWidget *w[3] = {ll_ui_find_button(panel, "Start"), ll_ui_find_button(panel, "Stop"),
                     find_type(GTK_WIDGET(ll_window_get_analysis(win)), GTK_TYPE_SCALE)};
  for (int i = 0; i < 3; i++) {
    g_assert_nonnull(w[i]);
    g_assert_true(gtk_widget_compute_bounds(w[i], GTK_WIDGET(win), &r[i]));
  }
  graphene_rect_init(&r[3], 0, 0, gtk_widget_get_width(GTK_WIDGET(win)),
                     gtk_widget_get_height(GTK_WIDGET(win)));
}

/* Texts that change length (status, progress, head metrics, the analysis
 * title and epoch, the status bar) move no control, at the smallest size. */
static void test_steady_controls(void)
{
  gtk_window_set_default_size(GTK_WINDOW(win), 1024, 640);
  ll_ui_open_preset(win, "tiny-cnn");
  ll_window_show_page(win, "training");
  ll_window_show_page(win, "analysis");
  LlTrainingPanel *tp = ll_window_get_training_panel(win);
  LlAnalysisView *av = ll_window_get_analysis(win);
  ll_training_panel_set_status(tp, "Paused.");
  ll_training_panel_set_progress(tp, 0.1, "epoch 1/2");
  ll_analysis_view_set_run(av, "r1", NULL, NULL);
  ll_ui_spin(400);
  graphene_rect_t before[4], after[4];
  control_bounds(before);
  ll_ui_screenshot(GTK_WIDGET(win), "editing-1024x640-short.png");

  const char *long_text =
      "run 20261207-172031-ab12 started: tiny-cnn on CPU: 54000 train, 6000 validation, 10000 "
      "test samples of /usr/share/datasets/a-rather-long-folder-name/fashion-mnist-without-spaces";
  ll_training_panel_set_status(tp, long_text);
  ll_training_panel_set_metrics(tp, long_text);
  ll_training_panel_set_progress(tp, 0.6, long_text);
  ll_analysis_view_set_run(av, "20261207-172031-ab12-and-a-very-long-suffix", NULL, NULL);
  ll_document_add_block(doc(), "ReLU", 40, 40, "gap", NULL); /* a new status bar text */
  ll_ui_spin(400);
  control_bounds(after);
  ll_ui_screenshot(GTK_WIDGET(win), "editing-1024x640-long.png");
  for (int i = 0; i < 4; i++)
    if (!graphene_rect_equal(&before[i], &after[i]))
      g_error("control %d moved: %.0f,%.0f %.0fx%.0f -> %.0f,%.0f %.0fx%.0f", i,
              before[i].origin.x, before[i].origin.y, before[i].size.width,
              before[i].size.height, after[i].origin.x, after[i].origin.y, after[i].size.width,
              after[i].size.height);
  ll_training_panel_set_metrics(tp, NULL);
  gtk_window_set_default_size(GTK_WINDOW(win), 1600, 1000);
  ll_ui_spin(300);
}

static GtkWidget *find_label(GtkWidget *root, const char *text)
{
  if (GTK_IS_LABEL(root) && !g_strcmp0(gtk_label_get_text(GTK_LABEL(root)), text))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *w = find_label(c, text);
    if (w)
      return w;
  }
  return NULL;
}

/* The Runs table at 1600 px: every column in view (Tags not cut off), the
 * names readable. Runs by switch-resets. */
static void test_runs_columns(void)
{
  ll_window_show_page(win, "runs");
  ll_ui_spin(400);
  GtkWidget *view = find_type(GTK_WIDGET(ll_window_get_runs(win)), GTK_TYPE_COLUMN_VIEW);
  g_assert_nonnull(view);
  GtkWidget *sw = gtk_widget_get_ancestor(view, GTK_TYPE_SCROLLED_WINDOW);
  ll_ui_screenshot(GTK_WIDGET(win), "editing-runs-1600.png");
  /* the last column's header ends inside the visible part of the table */
  GtkWidget *tags = find_label(view, "Tags");
  g_assert_nonnull(tags);
  graphene_rect_t r;
  g_assert_true(gtk_widget_compute_bounds(tags, sw, &r));
  g_test_message("runs table: Tags header ends at %.0f of %d", r.origin.x + r.size.width,
                 gtk_widget_get_width(sw));
  g_assert_cmpfloat(r.origin.x + r.size.width, <=, gtk_widget_get_width(sw));
  GtkWidget *name = find_label(view, "ae-pretrain");
  g_assert_nonnull(name);
  g_assert_cmpint(gtk_widget_get_width(name), >=, 120);
}

/* What this file changes, at the smallest and a common size, light and
 * dark: a wire lit under a drag, the Log, the Runs table. */
static void test_screens(void)
{
  static const int sizes[][2] = {{1024, 640}, {1400, 900}};
  ll_ui_open_preset(win, "tiny-cnn");
  LlCanvas *canvas = ll_window_get_canvas(win);
  GtkDropTarget *t = ll_ui_drop_target(GTK_WIDGET(canvas));
  for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
    gtk_window_set_default_size(GTK_WINDOW(win), sizes[k][0], sizes[k][1]);
    ll_ui_spin(400);
    ll_canvas_zoom_to_fit(canvas);
    for (int dark = 0; dark < 2; dark++) {
      ll_ui_set_dark(dark);
      double x, y;
      wire_middle("drop1", "conv2", &x, &y);
      GdkDragAction action = 0;
      g_signal_emit_by_name(t, "motion", x, y, &action);
      g_assert_cmpstr(ll_canvas_get_drop_edge(canvas, NULL), ==, "conv2");
      const char *pages[] = {"log", "runs"};
      for (int p = 0; p < 2; p++) {
        ll_window_show_page(win, pages[p]);
        ll_ui_spin(300);
        g_autofree char *png = g_strdup_printf("editing-%dx%d-%s-%s.png", sizes[k][0],
                                               sizes[k][1], pages[p], dark ? "dark" : "light");
        ll_ui_screenshot(GTK_WIDGET(win), png);
      }
      g_signal_emit_by_name(t, "leave");
    }
    ll_ui_set_dark(FALSE);
  }
  gtk_window_set_default_size(GTK_WINDOW(win), 1600, 1000);
  ll_ui_spin(300);
}

/* ---- autosave: one file per window ---- */

static void test_autosave_per_window(void)
{
  /* two windows, each with an edit of its own (valid graphs: they are saved) */
  ll_ui_open_preset(win, "tiny-cnn");
  g_autofree char *added = ll_document_add_block(doc(), "ReLU", 40, 40, "gap", NULL);
  LlWindow *other = ll_window_new(NULL);
  ll_ui_open_preset(other, "tiny-cnn");
  LlDocument *od = ll_window_get_document(other);
  g_autofree char *o_added = ll_document_add_block(od, "Dropout", 40, 40, "gap", NULL);
  g_assert_nonnull(added);
  g_assert_nonnull(o_added);
  g_assert_null(ll_graph_find(graph(), o_added));
  g_autofree char *mine = ll_document_autosave_path(doc());
  g_autofree char *theirs = ll_document_autosave_path(od);
  g_assert_cmpstr(mine, !=, theirs);
  g_autofree char *a = NULL, *b = NULL;
  g_assert_true(g_file_get_contents(mine, &a, NULL, NULL));
  g_assert_true(g_file_get_contents(theirs, &b, NULL, NULL));
  g_assert_nonnull(strstr(a, added));
  g_assert_null(strstr(a, o_added));
  g_assert_nonnull(strstr(b, o_added));
  g_assert_null(strstr(b, added));
  /* neither is the other's to restore while both are open */
  LlWindow *third = ll_window_new(NULL);
  g_assert_false(ll_window_restore_autosave(third));
  gtk_window_destroy(GTK_WINDOW(third));
  gtk_window_destroy(GTK_WINDOW(other));
}

int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "editing")))
    return 77;
  g_test_add_func("/ui/editing/drop-on-edge", test_drop_on_edge);
  g_test_add_func("/ui/editing/log-format", test_log_format);
  g_test_add_func("/ui/editing/log-follow", test_log_follow);
  g_test_add_func("/ui/editing/switch-resets", test_switch_resets);
  g_test_add_func("/ui/editing/runs-columns", test_runs_columns);
  g_test_add_func("/ui/editing/screens", test_screens);
  g_test_add_func("/ui/editing/autosave-per-window", test_autosave_per_window);
  g_test_add_func("/ui/editing/button-heights", test_button_heights);
  g_test_add_func("/ui/editing/steady-controls", test_steady_controls);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}

/* ll-study-view.c: runs a study on a worker, lists its trials and draws its
 * figures (ui/plot/study-figures) as they finish. */
#include "ll-study-view.h"
#include "ll-plot-style.h"
#include "ll-spin-words.h"
#include "ll-study-editor.h"

#include <math.h>
#include <string.h>

#include "study-figures.h"
#include "json-doc.h"
#include "study-edit.h"
#include "study.h"

/* What the worker sends to the main thread. */
typedef enum { MSG_STARTED, MSG_EVENT, MSG_FINISHED, MSG_DONE } MsgKind;

typedef struct {
  MsgKind kind;
  int index, total;
  char *label, *status, *error;
  double metric, seconds;
  gint64 params;
  LlEvent *event;  /* MSG_EVENT */
  LlTrial *trial;  /* MSG_FINISHED: a copy, for the figures */
  char *text;      /* MSG_DONE: the summary or the error; MSG_EVENT (started): the trial's spec */
  char *best_spec; /* MSG_DONE: <study>/best-spec.json, if a trial finished */
} Msg;

static void msg_free(gpointer p)
{
  Msg *m = p;
  g_free(m->label);
  g_free(m->status);
  g_free(m->error);
  g_free(m->text);
  g_free(m->best_spec);
  if (m->event)
    ll_event_free(m->event);
  ll_trial_free(m->trial);
  g_free(m);
}

/* ---- the results table: a row per finished trial, sortable by any column -------------- */

typedef struct {
  GObject parent_instance;
  int index;
  char *label, *status, *error;
  double metric, seconds;
  gint64 params, budget; /* budget: the parameter budget its width was solved for, 0: none */
  gint64 seed, samples;  /* seed -1: unknown */
  int epochs;
  double mean, sd; /* of its configuration over the seeds that finished (n of them) */
  int n;
} LlTrialRow;

typedef struct {
  GObjectClass parent_class;
} LlTrialRowClass;

G_DEFINE_FINAL_TYPE(LlTrialRow, ll_trial_row, G_TYPE_OBJECT)

static void ll_trial_row_finalize(GObject *o)
{
  LlTrialRow *r = (LlTrialRow *)o;
  g_free(r->label);
  g_free(r->status);
  g_free(r->error);
  G_OBJECT_CLASS(ll_trial_row_parent_class)->finalize(o);
}

static void ll_trial_row_class_init(LlTrialRowClass *k)
{
  G_OBJECT_CLASS(k)->finalize = ll_trial_row_finalize;
}
static void ll_trial_row_init(LlTrialRow *r) {}

enum {
  COL_INDEX,
  COL_LABEL,
  COL_SEED,
  COL_METRIC,
  COL_MEAN,
  COL_STATUS,
  COL_EPOCHS,
  COL_SAMPLES,
  COL_PARAMS,
  COL_SECONDS,
  N_COLS
};

static char *row_text(const LlTrialRow *r, int col)
{
  switch (col) {
  case COL_INDEX: return g_strdup_printf("%d", r->index + 1);
  case COL_LABEL: return g_strdup(r->label);
  case COL_SEED: return r->seed < 0 ? g_strdup("-") : g_strdup_printf("%" G_GINT64_FORMAT, r->seed);
  case COL_STATUS: return g_strdup(r->status);
  case COL_METRIC: return isnan(r->metric) ? g_strdup("-") : g_strdup_printf("%.4f", r->metric);
  case COL_MEAN:
    /* the configuration's mean over its seeds, the spread, how many */
    return !r->n ? g_strdup("-")
                 : g_strdup_printf("%.4f \u00b1 %.4f (%d)", r->mean, r->sd, r->n);
  case COL_EPOCHS: return g_strdup_printf("%d", r->epochs);
  case COL_SAMPLES: return g_strdup_printf("%" G_GINT64_FORMAT, r->samples);
  case COL_PARAMS:
    /* against the parameter budget, as the CLI's bar */
    return r->budget > 0 ? g_strdup_printf("%" G_GINT64_FORMAT " (%.1f %% of %" G_GINT64_FORMAT ")",
                                           r->params, 100.0 * r->params / r->budget, r->budget)
                         : g_strdup_printf("%" G_GINT64_FORMAT, r->params);
  default: return g_strdup_printf("%.1f", r->seconds);
  }
}

/* NAN metrics sort last both ways round would need the direction; they sort as lowest */
static int row_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
  const LlTrialRow *x = a, *y = b;
  int col = GPOINTER_TO_INT(data);
  double u, v;
  switch (col) {
  case COL_LABEL: return g_utf8_collate(x->label ? x->label : "", y->label ? y->label : "");
  case COL_STATUS: return g_strcmp0(x->status, y->status);
  case COL_METRIC:
    u = isnan(x->metric) ? -INFINITY : x->metric;
    v = isnan(y->metric) ? -INFINITY : y->metric;
    break;
  case COL_MEAN:
    u = x->n ? x->mean : -INFINITY;
    v = y->n ? y->mean : -INFINITY;
    break;
  case COL_SEED: u = (double)x->seed, v = (double)y->seed; break;
  case COL_EPOCHS: u = x->epochs, v = y->epochs; break;
  case COL_SAMPLES: u = (double)x->samples, v = (double)y->samples; break;
  case COL_PARAMS: u = (double)x->params, v = (double)y->params; break;
  case COL_SECONDS: u = x->seconds, v = y->seconds; break;
  default: u = x->index, v = y->index;
  }
  return (u > v) - (u < v);
}

static void cell_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
  GtkWidget *l = gtk_label_new(NULL);
  int col = GPOINTER_TO_INT(data);
  gtk_label_set_xalign(GTK_LABEL(l), col == COL_LABEL || col == COL_STATUS ? 0.0f : 1.0f);
  if (col == COL_LABEL) {
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
    gtk_label_set_width_chars(GTK_LABEL(l), 12);
  }
  gtk_list_item_set_child(item, l);
}

static void cell_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
  LlTrialRow *r = gtk_list_item_get_item(item);
  GtkWidget *l = gtk_list_item_get_child(item);
  int col = GPOINTER_TO_INT(data);
  g_autofree char *text = row_text(r, col);
  gtk_label_set_text(GTK_LABEL(l), text);
  /* the label in full, and a failed trial's error */
  g_autofree char *tip =
      r->error ? g_strdup_printf("%s\n%s", r->label, r->error) : g_strdup(r->label);
  gtk_widget_set_tooltip_text(l, tip);
  if (col == COL_STATUS && r->error)
    gtk_widget_add_css_class(l, "error");
  else
    gtk_widget_remove_css_class(l, "error");
}

struct _LlStudyView {
  GtkBox parent_instance;
  GtkLabel *title, *outline, *description, *best;
  GtkSpinButton *epochs, *limit;
  GtkButton *run, *stop;
  GtkProgressBar *progress;
  GtkColumnView *trials;
  GListStore *rows;   /* LlTrialRow */
  GPtrArray *done;    /* LlTrial copies, in the order of rows: their groups over seeds */
  char *trial_spec;   /* the spec the running trial trains */
  GtkNotebook *pages;
  GtkWidget *metric_area, *heat_area, *curves_area, *detection_area, *heat_axes, *heat_note;
  GtkDropDown *heat_rows, *heat_cols;
  GtkButton *export, *open_best;
  LlStudyEditor *editor; /* the design; what Run runs */
  GtkExpander *design;   /* holds the editor */
  GtkFileChooserNative *chooser;
  char *best_spec; /* what Open best spec opens */

  LlStudyFigures *figs; /* the figures' copy of the trials (main thread) */
  guint draws[LL_STUDY_N_FIGS];

  char *path;
  LlStudy *study; /* owned by the worker while it runs */
  GThread *worker;
  GAsyncQueue *queue; /* Msg* */
  volatile int cancel;
  guint tick;
  guint n_finished;
  int run_epochs, run_limit, run_repeats;
};

enum { SIG_TRIAL_EVENT, SIG_OPEN_SPEC, N_SIGNALS };

static void set_best_spec(LlStudyView *self, const char *path);
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LlStudyView, ll_study_view, GTK_TYPE_BOX)

GtkWidget *ll_study_view_new(void) { return g_object_new(LL_TYPE_STUDY_VIEW, NULL); }

static void push(LlStudyView *self, Msg *m) { g_async_queue_push(self->queue, m); }

/* The table's metric column shows the study's metric (a stage ranked by a
 * metric of its own has none there). */
static Msg *trial_msg(MsgKind kind, const LlStudy *s, const LlTrial *t, int total)
{
  Msg *m = g_new0(Msg, 1);
  m->kind = kind;
  m->index = t->index;
  m->total = total;
  m->label = g_strdup(t->label);
  m->status = g_strdup(ll_trial_status_names[t->status]);
  m->error = g_strdup(t->error);
  m->metric = ll_study_trial_metric(s, t);
  m->seconds = t->seconds;
  m->params = t->params;
  return m;
}

static void cb_started(const LlTrial *t, int total, gpointer data)
{
  LlStudyView *self = data;
  push(self, trial_msg(MSG_STARTED, self->study, t, total));
}

static void cb_event(const LlTrial *t, const LlEvent *e, gpointer data)
{
  /* batch events only feed the step curve; every one is cheap to copy */
  Msg *m = g_new0(Msg, 1);
  m->kind = MSG_EVENT;
  m->index = t->index;
  m->event = ll_event_dup(e);
  if (e->kind == LL_EVENT_STARTED) /* the analysis view shows the trial's spec, not the base */
    m->text = g_strdup(t->spec_json);
  push(data, m);
}

static void cb_finished(const LlTrial *t, int total, gpointer data)
{
  LlStudyView *self = data;
  Msg *m = trial_msg(MSG_FINISHED, self->study, t, total);
  m->trial = ll_trial_copy(t, ll_study_n_axes(self->study)); /* the worker owns the study */
  push(self, m);
}

/* "Best trial: LABEL: METRIC = V\nResults: DIR/results.csv" of a study that ran
 * (with repeats: the best mean, its spread and the number of seeds). */
static char *best_summary(const LlStudy *s)
{
  const LlTrial *best = ll_study_best(s);
  double value = ll_study_best_metric(s);
  char metric[96] = "";
  LlTrialGroup g;
  if (best && !isnan(value) && ll_study_best_group(s, &g) && g.n > 1)
    g_snprintf(metric, sizeof metric, ": %s = %.4f \u00b1 %.4f (mean \u00b1 sd of %d seeds)",
               ll_study_metric(s), value, g.sd, g.n_finished);
  else if (best && !isnan(value))
    g_snprintf(metric, sizeof metric, ": %s = %.4f", ll_study_metric(s), value);
  return g_strdup_printf("Best trial: %s%s\nResults: %s/results.csv", best ? best->label : "none",
                         metric, ll_study_dir(s));
}

static gpointer worker(gpointer data)
{
  LlStudyView *self = data;
  LlStudyOptions o = {.epochs = self->run_epochs,
                      .limit = self->run_limit,
                      .repeats = self->run_repeats,
                      .background = TRUE,
                      .cancel = &self->cancel};
  LlStudyCallbacks cb = {cb_started, cb_event, cb_finished};
  GError *error = NULL;
  Msg *done = g_new0(Msg, 1);
  done->kind = MSG_DONE;
  if (ll_study_run(self->study, &o, &cb, self, &error)) {
    done->text = best_summary(self->study);
    done->best_spec = ll_study_best_spec_path(self->study);
  } else {
    done->text = g_strdup_printf("The study stopped: %s", error->message);
    done->error = g_strdup(error->message);
    g_error_free(error);
  }
  push(self, done);
  return NULL;
}

/* ---- figures ---------------------------------------------------------------------------- */

/* the notebook page of each figure (page 0 is the trials list) */
static GtkWidget *figure_area(LlStudyView *self, LlStudyFigure which)
{
  GtkWidget *areas[] = {self->metric_area, self->heat_area, self->curves_area,
                        self->detection_area};
  return areas[which];
}

static void redraw_figures(LlStudyView *self)
{
  for (int i = 0; i < LL_STUDY_N_FIGS; i++)
    gtk_widget_queue_draw(figure_area(self, i));
  /* panels grow with the axes and trials: each page as tall as its figure wants */
  for (int i = 0; self->figs && i < LL_STUDY_N_FIGS; i++) {
    GtkWidget *area = figure_area(self, i);
    double w = MAX(gtk_widget_get_width(area), 540);
    double h = ll_study_figures_height_for_width(self->figs, i, w);
    gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(area), (int)CLAMP(h, 300, 2000));
  }
  int page = gtk_notebook_get_current_page(self->pages);
  gtk_widget_set_sensitive(GTK_WIDGET(self->export),
                           self->figs && page > 0 &&
                               ll_study_figures_available(self->figs, page - 1, NULL));
}

static void draw_figure(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  LlStudyView *self = data;
  LlStudyFigure which = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(area), "figure"));
  if (!self->figs)
    return;
  ll_plot_style_apply(GTK_WIDGET(area), cr);
  ll_study_figures_draw(self->figs, which, cr, width, height);
  self->draws[which]++;
}

static void on_heat_axis(GObject *dd, GParamSpec *pspec, LlStudyView *self)
{
  if (!self->figs)
    return;
  guint a = gtk_drop_down_get_selected(self->heat_rows),
        b = gtk_drop_down_get_selected(self->heat_cols);
  ll_study_figures_set_heatmap_axes(self->figs, (int)a, (int)b);
  const char *why =
      a == b ? "Rows and columns show the same axis: choose two different ones." : NULL;
  gtk_label_set_text(GTK_LABEL(self->heat_note), why ? why : "");
  gtk_widget_set_visible(self->heat_note, why != NULL);
  gtk_widget_queue_draw(self->heat_area);
}

/* New figures for the study (no trials yet); the heatmap's axis choice when
 * it has more than two axes, or a plain note why there is no heatmap. */
static void reset_figures(LlStudyView *self)
{
  g_clear_pointer(&self->figs, ll_study_figures_free);
  if (self->study)
    self->figs = ll_study_figures_new(self->study);
  int n = self->figs ? ll_study_figures_n_axes(self->figs) : 0;
  g_autoptr(GtkStringList) names = gtk_string_list_new(NULL);
  for (int i = 0; i < n; i++)
    gtk_string_list_append(names, ll_study_figures_axis_name(self->figs, i));
  g_signal_handlers_block_by_func(self->heat_rows, on_heat_axis, self);
  g_signal_handlers_block_by_func(self->heat_cols, on_heat_axis, self);
  gtk_drop_down_set_model(self->heat_rows, G_LIST_MODEL(names));
  gtk_drop_down_set_model(self->heat_cols, G_LIST_MODEL(names));
  gtk_drop_down_set_selected(self->heat_rows, 0);
  gtk_drop_down_set_selected(self->heat_cols, n > 1 ? 1 : 0);
  g_signal_handlers_unblock_by_func(self->heat_rows, on_heat_axis, self);
  g_signal_handlers_unblock_by_func(self->heat_cols, on_heat_axis, self);
  gtk_widget_set_visible(self->heat_axes, n > 2);
  g_autoptr(GtkColumnViewColumn) mcol =
      g_list_model_get_item(gtk_column_view_get_columns(self->trials), COL_METRIC);
  gtk_column_view_column_set_title(mcol, self->study ? ll_study_metric(self->study) : "Metric");
  const char *why = NULL;
  if (self->figs && n < 2)
    ll_study_figures_available(self->figs, LL_STUDY_FIG_HEATMAP, &why);
  gtk_widget_set_visible(self->heat_area, why == NULL); /* the note says why there is none */
  gtk_label_set_text(GTK_LABEL(self->heat_note), why ? why : "");
  gtk_widget_set_visible(self->heat_note, why != NULL);
  gtk_widget_set_visible(self->detection_area, FALSE);
  /* figures need room: the side panel widens while a study is open */
  gtk_widget_set_size_request(GTK_WIDGET(self->pages), self->figs ? 380 : -1, -1);
  redraw_figures(self);
}

static void on_page(GtkNotebook *nb, GtkWidget *page, guint num, LlStudyView *self)
{
  gtk_widget_set_sensitive(GTK_WIDGET(self->export),
                           self->figs && num > 0 &&
                               ll_study_figures_available(self->figs, num - 1, NULL));
}

gboolean ll_study_view_export_shown(LlStudyView *self, const char *path, GError **error)
{
  int page = gtk_notebook_get_current_page(self->pages);
  const char *why = "No study is open.";
  if (self->figs && page < 1)
    why = "The Trials page is a table; show a figure's page to export it.";
  if (!self->figs || page < 1 || !ll_study_figures_available(self->figs, page - 1, &why)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Nothing to export: %s", why);
    return FALSE;
  }
  double w, h;
  ll_study_figures_size(self->figs, page - 1, &w, &h);
  GError *err = NULL;
  if (!ll_study_figures_export(self->figs, page - 1, path, NULL, w, h, 144, &err)) {
    gtk_label_set_text(self->best, err->message);
    g_propagate_error(error, err);
    return FALSE;
  }
  g_autofree char *t = g_strdup_printf("Figure saved: %s", path);
  gtk_label_set_text(self->best, t);
  return TRUE;
}

static void on_export_response(GtkNativeDialog *d, int response, LlStudyView *self)
{
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    g_autoptr(GError) error = NULL;
    if (path && !ll_study_view_export_shown(self, path, &error))
      gtk_label_set_text(self->best, error->message);
  }
  g_clear_object(&self->chooser);
}

static void set_best_spec(LlStudyView *self, const char *path)
{
  g_free(self->best_spec);
  self->best_spec = g_strdup(path);
  gtk_widget_set_sensitive(GTK_WIDGET(self->open_best), path != NULL);
  g_autofree char *tip =
      path ? g_strdup_printf("Open %s on the canvas, ready to train or edit", path) : NULL;
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->open_best),
                              tip ? tip : "The best trial's spec, once a trial has finished");
}

const char *ll_study_view_best_spec(LlStudyView *self) { return self->best_spec; }

static void on_open_best(GtkButton *b, LlStudyView *self)
{
  if (self->best_spec)
    g_signal_emit(self, signals[SIG_OPEN_SPEC], 0, self->best_spec);
}

static void on_export(GtkButton *b, LlStudyView *self)
{
  int page = gtk_notebook_get_current_page(self->pages);
  if (!self->figs || page < 1 || self->chooser)
    return;
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  self->chooser =
      gtk_file_chooser_native_new("Export figure", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                  GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  g_autofree char *name = g_strdup_printf("%s.png", ll_study_figure_names[page - 1]);
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser), name);
  g_signal_connect(self->chooser, "response", G_CALLBACK(on_export_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void set_running(LlStudyView *self, gboolean running)
{
  gtk_widget_set_sensitive(GTK_WIDGET(self->run), !running && self->study != NULL);
  gtk_widget_set_sensitive(GTK_WIDGET(self->stop), running);
  gtk_widget_set_sensitive(GTK_WIDGET(self->epochs), !running);
  gtk_widget_set_sensitive(GTK_WIDGET(self->limit), !running);
  /* the design runs as it was when Run was pressed */
  gtk_widget_set_sensitive(GTK_WIDGET(self->editor), !running);
}

/* The seed and mean columns matter once a configuration has several seeds. */
static void show_spread_columns(LlStudyView *self, gboolean show)
{
  GListModel *cols = gtk_column_view_get_columns(self->trials);
  const int which[] = {COL_SEED, COL_MEAN};
  for (guint i = 0; i < G_N_ELEMENTS(which); i++) {
    g_autoptr(GtkColumnViewColumn) col = g_list_model_get_item(cols, (guint)which[i]);
    gtk_column_view_column_set_visible(col, show);
  }
}

/* Every row's configuration mean and spread over its seeds, again (a new
 * seed changes its group's). */
static void update_groups(LlStudyView *self)
{
  if (!self->study)
    return;
  g_autoptr(GArray) groups = ll_trial_groups(self->done, ll_study_metric(self->study));
  gboolean repeats = FALSE;
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->rows));
  for (guint i = 0; i < n && i < self->done->len; i++) {
    LlTrialRow *r = g_list_model_get_item(G_LIST_MODEL(self->rows), i);
    const LlTrial *t = self->done->pdata[i];
    g_object_unref(r); /* the store keeps it */
    for (guint k = 0; k < groups->len; k++) {
      const LlTrialGroup *g = &g_array_index(groups, LlTrialGroup, k);
      if (!ll_trial_same_group(g->first, t))
        continue;
      r->n = g->n_finished;
      r->mean = g->mean;
      r->sd = g->sd;
      repeats |= g->n > 1;
    }
  }
  show_spread_columns(self, repeats || self->run_repeats > 1);
  g_list_model_items_changed(G_LIST_MODEL(self->rows), 0, n, n); /* bound again */
}

static void add_trial_row(LlStudyView *self, const Msg *m)
{
  LlTrialRow *r = g_object_new(ll_trial_row_get_type(), NULL);
  r->index = m->index;
  r->label = g_strdup(m->label);
  r->status = g_strdup(m->status);
  r->error = g_strdup(m->error);
  r->metric = m->metric;
  r->params = m->params;
  r->budget = m->trial ? m->trial->budget : 0;
  r->seconds = m->seconds;
  r->seed = m->trial ? m->trial->seed : -1;
  r->epochs = m->trial ? m->trial->epochs : 0;
  r->samples = m->trial ? m->trial->samples : 0;
  r->mean = r->sd = NAN;
  g_list_store_append(self->rows, r);
  g_object_unref(r);
  if (m->trial)
    g_ptr_array_add(self->done, ll_trial_copy(m->trial, 0));
  update_groups(self);
}

static void join_worker(LlStudyView *self)
{
  if (self->worker) {
    g_thread_join(self->worker);
    self->worker = NULL;
  }
}

/* A study has run (here, or earlier for a reopened folder): the id on the
 * figures, and the per-step outputs its stages exported (detection-*.csv). */
static void finish_figures(LlStudyView *self, const LlStudy *s)
{
  if (!self->figs || !ll_study_dir(s))
    return;
  ll_study_figures_set_stamp(self->figs, ll_study_id(s));
  ll_study_figures_load_outputs(self->figs, ll_study_dir(s), NULL);
  gtk_widget_set_visible(self->detection_area,
                         ll_study_figures_available(self->figs, LL_STUDY_FIG_DETECTION, NULL));
  redraw_figures(self);
}

/* The seconds per trial of the run that ended, for the design's time estimate. */
static void measure_throughput(LlStudyView *self)
{
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->rows));
  double sum = 0;
  guint k = 0;
  for (guint i = 0; i < n; i++) {
    LlTrialRow *r = g_list_model_get_item(G_LIST_MODEL(self->rows), i);
    if (r->seconds > 0)
      sum += r->seconds, k++;
    g_object_unref(r);
  }
  if (k)
    ll_study_editor_set_throughput(self->editor, sum / k, self->run_epochs, self->run_limit);
}

/* Drains the worker's messages, at most ~1 ms of work per frame. */
static gboolean drain(GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  LlStudyView *self = LL_STUDY_VIEW(widget);
  gint64 deadline = g_get_monotonic_time() + 1000;
  Msg *m;
  while (g_get_monotonic_time() < deadline && (m = g_async_queue_try_pop(self->queue))) {
    switch (m->kind) {
    case MSG_STARTED: {
      g_autofree char *t = g_strdup_printf("trial %d of %d: %s", m->index + 1, m->total, m->label);
      gtk_progress_bar_set_text(self->progress, t);
      gtk_progress_bar_set_fraction(self->progress, m->total ? (double)m->index / m->total : 0);
      break;
    }
    case MSG_EVENT:
      if (m->text) {
        g_free(self->trial_spec);
        self->trial_spec = g_steal_pointer(&m->text);
      }
      g_signal_emit(self, signals[SIG_TRIAL_EVENT], 0, m->event);
      break;
    case MSG_FINISHED:
      self->n_finished++;
      add_trial_row(self, m);
      if (self->figs && m->trial) {
        ll_study_figures_add_trial(self->figs, m->trial);
        redraw_figures(self);
      }
      gtk_progress_bar_set_fraction(self->progress,
                                    m->total ? (double)(m->index + 1) / m->total : 1);
      break;
    case MSG_DONE:
      join_worker(self);
      measure_throughput(self);
      finish_figures(self, self->study);
      gtk_label_set_text(self->best, m->text);
      set_best_spec(self, m->best_spec);
      gtk_progress_bar_set_text(self->progress, m->error ? "stopped" : "finished");
      set_running(self, FALSE);
      self->tick = 0;
      msg_free(m);
      return G_SOURCE_REMOVE;
    }
    msg_free(m);
  }
  return G_SOURCE_CONTINUE;
}

/* The study.json of a study folder (<store>/studies/<id>/, as the CLI or an
 * earlier session left it): its finished trials fill the table and the
 * figures, as if it had just run here. */
static void show_earlier_results(LlStudyView *self, const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlStudy) done = ll_study_open_dir(dir, &error);
  if (!done) {
    gtk_label_set_text(self->best, error->message);
    return;
  }
  GPtrArray *trials = ll_study_trials(done);
  int n_axes = ll_study_n_axes(done);
  for (guint i = 0; i < trials->len; i++) {
    const LlTrial *t = g_ptr_array_index(trials, i);
    Msg *m = trial_msg(MSG_FINISHED, done, t, (int)trials->len);
    m->trial = ll_trial_copy(t, n_axes);
    add_trial_row(self, m);
    if (self->figs)
      ll_study_figures_add_trial(self->figs, m->trial);
    msg_free(m);
  }
  self->n_finished = trials->len;
  finish_figures(self, done);
  g_autofree char *summary = best_summary(done);
  g_autofree char *text =
      g_strdup_printf("%s (run earlier; Run study runs it again as a new study)", summary);
  gtk_label_set_text(self->best, text);
  g_autofree char *best_spec = ll_study_best_spec_path(done);
  set_best_spec(self, best_spec);
  gtk_expander_set_expanded(self->design, FALSE); /* the results are what was opened */
  g_autofree char *progress = g_strdup_printf("finished earlier: %u trials", trials->len);
  gtk_progress_bar_set_text(self->progress, progress);
  gtk_progress_bar_set_fraction(self->progress, 1.0);
}

/* The design changed: the study the tab shows (and runs) is the editor's. */
static void show_design(LlStudyView *self)
{
  LlStudyEdit *e = ll_study_editor_get_edit(self->editor);
  LlStudy *s = e ? ll_study_edit_load(e, NULL) : NULL;
  if (!s)
    return;
  g_clear_pointer(&self->study, ll_study_free);
  self->study = s;
  gtk_label_set_text(self->title, ll_study_name(s));
  g_autofree char *outline = ll_study_outline(s);
  gtk_label_set_text(self->outline, outline);
  gtk_label_set_text(self->description, ll_study_description(s));
  reset_figures(self);
  set_running(self, FALSE);
}

static void on_design_changed(LlStudyEditor *editor, LlStudyView *self)
{
  if (!self->worker)
    show_design(self);
}

gboolean ll_study_view_load_edit(LlStudyView *self, LlStudyEdit *e, const char *path,
                                 GError **error)
{
  if (self->worker) {
    ll_study_edit_free(e);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "a study is running: stop it first");
    return FALSE;
  }
  ll_study_view_clear(self);
  self->path = g_strdup(path);
  ll_study_editor_set_edit(self->editor, e, path);
  gtk_expander_set_expanded(self->design, TRUE);
  show_design(self);
  int repeats = self->study ? ll_study_repeats(self->study) : 1;
  self->run_repeats = 0;
  show_spread_columns(self, repeats > 1);
  gtk_progress_bar_set_text(self->progress, "not started");
  gtk_progress_bar_set_fraction(self->progress, 0.0);
  return TRUE;
}

LlStudyEditor *ll_study_view_get_editor(LlStudyView *self) { return self->editor; }

gboolean ll_study_view_load(LlStudyView *self, const char *path, GError **error)
{
  if (self->worker) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "a study is running: stop it first");
    return FALSE;
  }
  g_autofree char *text = NULL;
  gsize len;
  if (!ll_json_read_file(path, &text, &len, error))
    return FALSE;
  g_autofree char *dir = g_path_get_dirname(path);
  LlStudyEdit *e = ll_study_edit_new(text, path, dir, error);
  if (!e)
    return FALSE;
  if (!ll_study_view_load_edit(self, e, path, error))
    return FALSE;
  g_autofree char *trials = g_build_filename(dir, "trials.jsonl", NULL);
  g_autofree char *base = g_path_get_basename(path);
  if (!strcmp(base, "study.json") && g_file_test(trials, G_FILE_TEST_IS_REGULAR))
    show_earlier_results(self, dir);
  return TRUE;
}

char *ll_study_view_base_spec(LlStudyView *self)
{
  return self->study ? ll_study_base_spec_json(self->study) : NULL;
}

gboolean ll_study_view_has_study(LlStudyView *self) { return self->study != NULL; }
gboolean ll_study_view_is_running(LlStudyView *self) { return self->worker != NULL; }
guint ll_study_view_n_finished(LlStudyView *self) { return self->n_finished; }

static const char *const column_names[N_COLS] = {
    "#", "trial", "seed", "metric", "mean", "status", "epochs", "samples", "params", "seconds"};

gboolean ll_study_view_sort(LlStudyView *self, const char *column, gboolean descending)
{
  GListModel *cols = gtk_column_view_get_columns(self->trials);
  for (int c = 0; c < N_COLS; c++)
    if (!strcmp(column_names[c], column)) {
      g_autoptr(GtkColumnViewColumn) col = g_list_model_get_item(cols, (guint)c);
      gtk_column_view_sort_by_column(self->trials, col,
                                     descending ? GTK_SORT_DESCENDING : GTK_SORT_ASCENDING);
      return TRUE;
    }
  return FALSE;
}

char *ll_study_view_cell_text(LlStudyView *self, guint row, const char *column)
{
  /* the rows as shown: through the column view's sorter */
  GListModel *shown = G_LIST_MODEL(gtk_column_view_get_model(self->trials));
  LlTrialRow *r = g_list_model_get_item(shown, row);
  char *text = NULL;
  for (int c = 0; r && c < N_COLS && !text; c++)
    if (!strcmp(column_names[c], column))
      text = row_text(r, c);
  g_clear_object(&r);
  return text;
}

void ll_study_view_clear(LlStudyView *self)
{
  ll_study_view_stop(self);
  join_worker(self);
  Msg *m;
  while ((m = g_async_queue_try_pop(self->queue)))
    msg_free(m);
  g_clear_pointer(&self->study, ll_study_free);
  g_clear_pointer(&self->path, g_free);
  ll_study_editor_set_edit(self->editor, NULL, NULL);
  g_list_store_remove_all(self->rows);
  g_ptr_array_set_size(self->done, 0);
  g_clear_pointer(&self->trial_spec, g_free);
  gtk_label_set_text(self->best, "");
  set_best_spec(self, NULL);
  self->n_finished = 0;
  reset_figures(self);
  set_running(self, FALSE);
}

void ll_study_view_run(LlStudyView *self, int epochs, int limit)
{
  if (!self->study || self->worker)
    return;
  /* a fresh copy of the design as shown, so a second run starts from scratch */
  const char *why = ll_study_editor_get_spec_error(self->editor);
  if (why) {
    g_autofree char *t = g_strdup_printf(
        "Not run: the spec on the canvas does not load (%s). Fix it or undo the edit, so the "
        "study runs what the canvas shows.",
        why);
    gtk_label_set_text(self->best, t);
    return;
  }
  g_autoptr(GError) error = NULL;
  LlStudy *s = ll_study_edit_load(ll_study_editor_get_edit(self->editor), &error);
  if (!s) {
    gtk_label_set_text(self->best, error->message);
    return;
  }
  ll_study_free(self->study);
  self->study = s;
  g_list_store_remove_all(self->rows);
  g_ptr_array_set_size(self->done, 0);
  set_best_spec(self, NULL);
  self->n_finished = 0;
  reset_figures(self);
  self->cancel = 0;
  self->run_epochs = epochs;
  self->run_limit = limit;
  self->run_repeats = ll_study_repeats(s); /* the design's seeds per trial */
  show_spread_columns(self, self->run_repeats > 1);
  gtk_label_set_text(self->best, "");
  gtk_progress_bar_set_fraction(self->progress, 0);
  gtk_progress_bar_set_text(self->progress, "starting");
  self->worker = g_thread_new("ll-study", worker, self);
  set_running(self, TRUE);
  /* the Design folds away so the progress, the table and the figures show */
  gtk_expander_set_expanded(self->design, FALSE);
  if (!self->tick)
    self->tick = gtk_widget_add_tick_callback(GTK_WIDGET(self), drain, NULL, NULL);
}

void ll_study_view_stop(LlStudyView *self)
{
  if (self->worker)
    g_atomic_int_set(&self->cancel, 1);
}

static void on_run(GtkButton *b, LlStudyView *self)
{
  ll_study_view_run(self, gtk_spin_button_get_value_as_int(self->epochs),
                    gtk_spin_button_get_value_as_int(self->limit));
}

static void on_stop(GtkButton *b, LlStudyView *self) { ll_study_view_stop(self); }

void ll_study_view_set_repeats(LlStudyView *self, int repeats)
{
  GtkWidget *w = ll_study_editor_get_control(self->editor, "repeats");
  if (w)
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(w), repeats);
}

const char *ll_study_view_get_trial_spec(LlStudyView *self) { return self->trial_spec; }

char *ll_study_view_shorten_text(LlStudyView *self, gboolean samples)
{
  return g_strdup(gtk_editable_get_text(GTK_EDITABLE(samples ? self->limit : self->epochs)));
}

static void ll_study_view_dispose(GObject *object)
{
  LlStudyView *self = LL_STUDY_VIEW(object);
  /* the notebook's pages go with the template, after the children bound to self */
  if (self->pages)
    g_signal_handlers_disconnect_by_data(self->pages, self);
  ll_study_view_stop(self);
  join_worker(self);
  /* the notebook switches pages as its children go: not to buttons gone before it */
  if (self->pages)
    g_signal_handlers_disconnect_by_data(self->pages, self);
  if (self->tick) {
    gtk_widget_remove_tick_callback(GTK_WIDGET(self), self->tick);
    self->tick = 0;
  }
  g_clear_pointer(&self->study, ll_study_free);
  g_clear_pointer(&self->path, g_free);
  g_clear_pointer(&self->best_spec, g_free);
  g_clear_pointer(&self->trial_spec, g_free);
  g_clear_pointer(&self->figs, ll_study_figures_free);
  if (self->chooser) {
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
  }
  G_OBJECT_CLASS(ll_study_view_parent_class)->dispose(object);
}

static void ll_study_view_finalize(GObject *object)
{
  LlStudyView *self = LL_STUDY_VIEW(object);
  g_async_queue_unref(self->queue);
  g_clear_object(&self->rows);
  g_ptr_array_unref(self->done);
  G_OBJECT_CLASS(ll_study_view_parent_class)->finalize(object);
}

static void ll_study_view_class_init(LlStudyViewClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ll_study_view_dispose;
  oc->finalize = ll_study_view_finalize;
  /* the LlEvent is owned by the view and valid during emission */
  signals[SIG_TRIAL_EVENT] =
      g_signal_new("trial-event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                   G_TYPE_NONE, 1, G_TYPE_POINTER);
  /* "Open best spec": the path of the best trial's spec */
  signals[SIG_OPEN_SPEC] = g_signal_new("open-spec", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  g_type_ensure(LL_TYPE_STUDY_EDITOR);
  gtk_widget_class_set_template_from_resource(wc, "/org/layerlab/LayerLab/ui/ll-study-view.ui");
  gtk_widget_class_bind_template_child(wc, LlStudyView, title);
  gtk_widget_class_bind_template_child(wc, LlStudyView, outline);
  gtk_widget_class_bind_template_child(wc, LlStudyView, description);
  gtk_widget_class_bind_template_child(wc, LlStudyView, best);
  gtk_widget_class_bind_template_child(wc, LlStudyView, epochs);
  gtk_widget_class_bind_template_child(wc, LlStudyView, limit);
  gtk_widget_class_bind_template_child(wc, LlStudyView, run);
  gtk_widget_class_bind_template_child(wc, LlStudyView, stop);
  gtk_widget_class_bind_template_child(wc, LlStudyView, progress);
  gtk_widget_class_bind_template_child(wc, LlStudyView, trials);
  gtk_widget_class_bind_template_child(wc, LlStudyView, pages);
  gtk_widget_class_bind_template_child(wc, LlStudyView, metric_area);
  gtk_widget_class_bind_template_child(wc, LlStudyView, heat_area);
  gtk_widget_class_bind_template_child(wc, LlStudyView, curves_area);
  gtk_widget_class_bind_template_child(wc, LlStudyView, detection_area);
  gtk_widget_class_bind_template_child(wc, LlStudyView, heat_axes);
  gtk_widget_class_bind_template_child(wc, LlStudyView, heat_note);
  gtk_widget_class_bind_template_child(wc, LlStudyView, heat_rows);
  gtk_widget_class_bind_template_child(wc, LlStudyView, heat_cols);
  gtk_widget_class_bind_template_child(wc, LlStudyView, export);
  gtk_widget_class_bind_template_child(wc, LlStudyView, open_best);
  gtk_widget_class_bind_template_child(wc, LlStudyView, editor);
  gtk_widget_class_bind_template_child(wc, LlStudyView, design);
  gtk_widget_class_bind_template_callback(wc, on_export);
  gtk_widget_class_bind_template_callback(wc, on_open_best);
  gtk_widget_class_bind_template_callback(wc, on_run);
  gtk_widget_class_bind_template_callback(wc, on_stop);
}

static void ll_study_view_init(LlStudyView *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  self->queue = g_async_queue_new_full(msg_free);
  /* the table: # label status metric params seconds, each column sortable */
  static const char *const titles[N_COLS] = {"#",       "Trial",  "Seed",    "Metric",
                                             "Mean \u00b1 sd", "Status", "Epochs", "Samples",
                                             "Params",  "Seconds"};
  self->rows = g_list_store_new(ll_trial_row_get_type());
  self->done = g_ptr_array_new_with_free_func((GDestroyNotify)ll_trial_free);
  /* 0 in Epochs and Samples per trial: as the study says, in words */
  ll_spin_button_name_zero(self->epochs, "as the study says");
  ll_spin_button_name_zero(self->limit, "as the study says");
  for (int c = 0; c < N_COLS; c++) {
    GtkListItemFactory *f = gtk_signal_list_item_factory_new();
    g_signal_connect(f, "setup", G_CALLBACK(cell_setup), GINT_TO_POINTER(c));
    g_signal_connect(f, "bind", G_CALLBACK(cell_bind), GINT_TO_POINTER(c));
    GtkColumnViewColumn *col = gtk_column_view_column_new(titles[c], f);
    GtkSorter *sorter = GTK_SORTER(gtk_custom_sorter_new(row_cmp, GINT_TO_POINTER(c), NULL));
    gtk_column_view_column_set_sorter(col, sorter);
    g_object_unref(sorter);
    gtk_column_view_column_set_expand(col, c == COL_LABEL);
    gtk_column_view_column_set_resizable(col, TRUE);
    gtk_column_view_append_column(self->trials, col);
    g_object_unref(col);
  }
  GtkSortListModel *sorted =
      gtk_sort_list_model_new(G_LIST_MODEL(g_object_ref(self->rows)),
                              g_object_ref(gtk_column_view_get_sorter(self->trials)));
  GtkNoSelection *sel = gtk_no_selection_new(G_LIST_MODEL(sorted));
  gtk_column_view_set_model(self->trials, GTK_SELECTION_MODEL(sel));
  g_object_unref(sel);
  for (int i = 0; i < LL_STUDY_N_FIGS; i++) {
    GtkWidget *area = figure_area(self, i);
    g_object_set_data(G_OBJECT(area), "figure", GINT_TO_POINTER(i));
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(area), draw_figure, self, NULL);
  }
  g_signal_connect(self->heat_rows, "notify::selected", G_CALLBACK(on_heat_axis), self);
  g_signal_connect(self->heat_cols, "notify::selected", G_CALLBACK(on_heat_axis), self);
  g_signal_connect(self->pages, "switch-page", G_CALLBACK(on_page), self);
  g_signal_connect(self->editor, "changed", G_CALLBACK(on_design_changed), self);
  set_running(self, FALSE);
}

LlStudyFigures *ll_study_view_get_figures(LlStudyView *self) { return self->figs; }

gboolean ll_study_view_show_page(LlStudyView *self, const char *name)
{
  if (!g_strcmp0(name, "trials")) {
    gtk_notebook_set_current_page(self->pages, 0);
    return TRUE;
  }
  for (int i = 0; i < LL_STUDY_N_FIGS; i++)
    if (!g_strcmp0(name, ll_study_figure_names[i]) &&
        gtk_widget_get_visible(gtk_notebook_get_nth_page(self->pages, i + 1))) {
      gtk_notebook_set_current_page(self->pages, i + 1);
      return TRUE;
    }
  return FALSE;
}

guint ll_study_view_figure_draws(LlStudyView *self, const char *name)
{
  for (int i = 0; i < LL_STUDY_N_FIGS; i++)
    if (!g_strcmp0(name, ll_study_figure_names[i]))
      return self->draws[i];
  return 0;
}

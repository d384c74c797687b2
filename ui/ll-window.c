/* ll-window.c: the workbench window: actions, files, presets, autosave
 * notice, the Save / Discard / Cancel question before unsaved edits go,
 * keyboard (F6 panes, shortcuts window), and the training run drained on the
 * frame clock. */
#include "ll-window-private.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "ll-canvas-geometry.h"
#include "ll-resources.h"
#include "ll-shortcuts.h"
#include "ll-transfer-dialog.h"
#include "ll-study-editor.h"
#include "onnx.h"
#include "study-edit.h"
#include "study.h"
#include "trainer.h"

#define DRAIN_BUDGET_US 1000 /* per frame, so the window never stutters */

struct _LlWindow {
  GtkApplicationWindow parent_instance;
  GtkRevealer *notice_revealer;
  GtkLabel *notice, *statusbar;
  GtkButton *start_button;
  GtkNotebook *bottom, *side;
  LlLogView *log;
  LlPalette *palette;
  LlCanvas *canvas;
  LlInspector *inspector;
  LlSummaryView *summary;
  LlCurveView *curves;
  LlTrainingPanel *training;
  LlStudyView *study;
  LlAnalysisView *analysis;
  LlRunsView *runs;
  GMenu *recent_menu, *presets_menu;

  LlDocument *doc;
  char *clipboard; /* copied blocks, graph JSON */
  GtkFileChooserNative *chooser;

  LlTrainer *trainer;
  guint tick_id;
  gboolean paused, stopping, close_after_stop;
  guint events;
  char *store_root;
  LlTransferDialog *transfer; /* weak: the open "Initialise from Run" dialog */
  char *run_spec_json;        /* the spec the running trainer copied, for its analysis */

  /* a replacement or close waiting for Save / Discard / Cancel (see ask_to_save) */
  struct LlPending *pending;
  GtkWindow *save_prompt; /* the question while it is shown */
  gboolean close_confirmed;
};

G_DEFINE_FINAL_TYPE(LlWindow, ll_window, GTK_TYPE_APPLICATION_WINDOW)

LlDocument *ll_window_get_document(LlWindow *self) { return self->doc; }
LlCanvas *ll_window_get_canvas(LlWindow *self) { return self->canvas; }
LlInspector *ll_window_get_inspector(LlWindow *self) { return self->inspector; }
LlSummaryView *ll_window_get_summary(LlWindow *self) { return self->summary; }
LlCurveView *ll_window_get_curves(LlWindow *self) { return self->curves; }
LlTrainingPanel *ll_window_get_training_panel(LlWindow *self) { return self->training; }
LlPalette *ll_window_get_palette(LlWindow *self) { return self->palette; }
LlAnalysisView *ll_window_get_analysis(LlWindow *self) { return self->analysis; }
LlStudyView *ll_window_get_study(LlWindow *self) { return self->study; }
LlRunsView *ll_window_get_runs(LlWindow *self) { return self->runs; }
LlLogView *ll_window_get_log(LlWindow *self) { return self->log; }
gboolean ll_window_is_training(LlWindow *self) { return self->trainer != NULL; }
gboolean ll_window_is_paused(LlWindow *self) { return self->paused; }
guint ll_window_get_events(LlWindow *self) { return self->events; }

void ll_window_set_store_root(LlWindow *self, const char *root)
{
  g_free(self->store_root);
  self->store_root = g_strdup(root);
  ll_analysis_view_set_store_root(self->analysis, root);
  ll_runs_view_set_store_root(self->runs, root);
  ll_runs_view_refresh(self->runs);
}

const char *ll_window_get_notice(LlWindow *self)
{
  return gtk_revealer_get_reveal_child(self->notice_revealer) ? gtk_label_get_text(self->notice)
                                                              : "";
}

void ll_window_show_page(LlWindow *self, const char *page)
{
  static const char *const bottom[] = {"summary", "curves", "log", "analysis", "runs"};
  static const char *const side[] = {"block", "training", "study"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(page, bottom[i]))
      gtk_notebook_set_current_page(self->bottom, i);
  for (int i = 0; i < 3; i++)
    if (!strcmp(page, side[i]))
      gtk_notebook_set_current_page(self->side, i);
}

static void show_notice(LlWindow *self, const char *text)
{
  gtk_label_set_text(self->notice, text);
  gtk_revealer_set_reveal_child(self->notice_revealer, TRUE);
}

static void on_notice_close(GtkButton *b, LlWindow *self)
{
  gtk_revealer_set_reveal_child(self->notice_revealer, FALSE);
}

/* ---- presets and recent files ---- */

static int by_path(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

GPtrArray *ll_presets_list(void)
{
  /* installed first; the source tree's when run uninstalled (from the build dir) */
  const char *dirs[] = {g_getenv("LAYERLAB_PRESETS_DIR"), LL_INSTALLED_PRESETS_DIR,
                        LL_SOURCE_PRESETS_DIR};
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  for (guint d = 0; d < G_N_ELEMENTS(dirs); d++) {
    if (!dirs[d])
      continue;
    g_autoptr(GDir) dir = g_dir_open(dirs[d], 0, NULL);
    if (!dir)
      continue;
    const char *name;
    GPtrArray *found = g_ptr_array_new();
    while ((name = g_dir_read_name(dir)))
      if (g_str_has_suffix(name, ".json"))
        g_ptr_array_add(found, g_build_filename(dirs[d], name, NULL));
    g_ptr_array_sort(found, by_path);
    for (guint i = 0; i < found->len; i++)
      g_ptr_array_add(out, found->pdata[i]);
    g_ptr_array_free(found, FALSE);
    if (out->len)
      break;
  }
  return out;
}

static void fill_presets_menu(LlWindow *self)
{
  g_menu_remove_all(self->presets_menu);
  g_autoptr(GPtrArray) presets = ll_presets_list();
  for (guint i = 0; i < presets->len; i++) {
    g_autofree char *base = g_path_get_basename(presets->pdata[i]);
    *strrchr(base, '.') = 0;
    GMenuItem *item = g_menu_item_new(base, NULL);
    g_menu_item_set_action_and_target(item, "win.open-path", "s", presets->pdata[i]);
    g_menu_append_item(self->presets_menu, item);
    g_object_unref(item);
  }
}

static void fill_recent_menu(LlWindow *self)
{
  g_menu_remove_all(self->recent_menu);
  GList *items = gtk_recent_manager_get_items(gtk_recent_manager_get_default());
  int n = 0;
  for (GList *l = items; l && n < 8; l = l->next) {
    GtkRecentInfo *info = l->data;
    const char *uri = gtk_recent_info_get_uri(info);
    if (!g_str_has_suffix(uri, ".json") || !gtk_recent_info_has_application(info, "LayerLab"))
      continue;
    g_autofree char *path = g_filename_from_uri(uri, NULL, NULL);
    if (!path || !g_file_test(path, G_FILE_TEST_EXISTS))
      continue;
    g_autofree char *base = g_path_get_basename(path);
    GMenuItem *item = g_menu_item_new(base, NULL);
    g_menu_item_set_action_and_target(item, "win.open-path", "s", path);
    g_menu_append_item(self->recent_menu, item);
    g_object_unref(item);
    n++;
  }
  g_list_free_full(items, (GDestroyNotify)gtk_recent_info_unref);
  if (!n) {
    GMenuItem *item = g_menu_item_new("No recent specs", "win.none");
    g_menu_append_item(self->recent_menu, item);
    g_object_unref(item);
  }
}

static void add_recent(LlWindow *self, const char *path)
{
  g_autofree char *uri = g_filename_to_uri(path, NULL, NULL);
  if (uri)
    gtk_recent_manager_add_item(gtk_recent_manager_get_default(), uri);
  fill_recent_menu(self);
}

/* ---- document state -> window ---- */

const char *ll_window_get_status(LlWindow *self) { return gtk_label_get_text(self->statusbar); }
const char *ll_window_get_start_tooltip(LlWindow *self)
{
  return gtk_widget_get_tooltip_text(GTK_WIDGET(self->start_button));
}

static gboolean unsaved(LlWindow *self);

/* "*": edits no file has, the spec's or the open study's design's. */
static void update_title(LlWindow *self)
{
  LlSpec *s = ll_document_get_spec(self->doc);
  g_autofree char *title = g_strdup_printf("%s%s \u2014 LayerLab", unsaved(self) ? "*" : "",
                                           s->name ? s->name : "untitled");
  gtk_window_set_title(GTK_WINDOW(self), title);
}

static LlStudyEditor *focused_study_editor(LlWindow *self);

static void update_actions(LlWindow *self)
{
  GActionMap *map = G_ACTION_MAP(self);
  gboolean training = self->trainer != NULL;
  /* Editing goes on while a run trains: the trainer works on its own copy
   * of the spec (ll_trainer_new), so every edit stays undoable. With the
   * focus in the study's Design, undo and redo are the study's. */
  LlStudyEditor *editor = focused_study_editor(self);
  LlStudyEdit *se = editor ? ll_study_editor_get_edit(editor) : NULL;
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "undo")),
                              se ? ll_study_edit_can_undo(se) : ll_document_can_undo(self->doc));
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "redo")),
                              se ? ll_study_edit_can_redo(se) : ll_document_can_redo(self->doc));
  const GError *graph_error = ll_document_get_error(self->doc);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "train-start")),
                              !training && !graph_error);
  /* a disabled Start says why */
  g_autofree char *start_tip =
      graph_error && !training
          ? g_strdup_printf("Cannot train: %s", graph_error->message)
          : g_strdup(training ? "Training is running" : "Start training (F5)");
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->start_button), start_tip);
  ll_training_panel_set_start_tooltip(self->training, start_tip);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "train-pause")),
                              training && !self->stopping);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "train-stop")),
                              training && !self->stopping);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "paste")),
                              self->clipboard != NULL);
  ll_training_panel_set_running(self->training, training, self->paused);
}

static void sync_study_spec(LlWindow *self);

static void on_doc_changed(LlDocument *doc, LlWindow *self)
{
  const GError *e = ll_document_get_error(doc);
  LlGraph *g = ll_document_get_spec(doc)->graph;
  if (e) {
    g_autofree char *t = g_strdup_printf("\u26a0 %s", e->message);
    gtk_label_set_text(self->statusbar, t);
    gtk_widget_add_css_class(GTK_WIDGET(self->statusbar), "error");
  } else {
    const LlSummary *s = ll_document_get_summary(doc);
    const char *const *dangling = ll_document_get_dangling(doc);
    char p[32], f[32];
    g_autofree char *list = dangling ? g_strjoinv(", ", (char **)dangling) : NULL;
    g_autofree char *valid =
        !dangling ? g_strdup("the graph is valid")
        : !dangling[1]
            ? g_strdup_printf("the graph trains, but %s is dangling: its output is unused", list)
            : g_strdup_printf("the graph trains, but %s are dangling: their outputs are unused",
                              list);
    g_autofree char *t = g_strdup_printf(
        "%u blocks \u00b7 %s parameters \u00b7 %s FLOPs per sample \u00b7 %s%s", g->blocks->len,
        ll_format_count((double)s->total_params, p, sizeof p),
        ll_format_count((double)s->total_flops, f, sizeof f), dangling ? "\u26a0 " : "", valid);
    gtk_label_set_text(self->statusbar, t);
    gtk_widget_remove_css_class(GTK_WIDGET(self->statusbar), "error");
  }
  update_title(self);
  update_actions(self);
  sync_study_spec(self);
}

/* Another spec took the document's place: the run views (status, progress,
 * curves, analysis) start over for it, so nothing of the spec before is
 * shown as this one's; its runs stay in the Runs tab, and the log keeps its
 * lines with a line saying what was opened. */
static void on_doc_replaced(LlDocument *doc, LlWindow *self)
{
  if (self->trainer || ll_study_view_is_running(self->study))
    return; /* the run in progress keeps its views (the document is only a view of it) */
  ll_training_panel_set_status(self->training, "");
  ll_training_panel_set_metrics(self->training, NULL);
  ll_training_panel_set_progress(self->training, 0, "Not running");
  ll_curve_view_clear(self->curves);
  ll_analysis_view_clear(self->analysis);
  g_clear_pointer(&self->run_spec_json, g_free);
  self->events = 0;
  /* a notice about the spec before is not about this one (what opened it
   * says its own afterwards) */
  gtk_revealer_set_reveal_child(self->notice_revealer, FALSE);
  const LlSpec *s = ll_document_get_spec(doc);
  ll_log_view_add(self->log, "opened", s->name ? s->name : "a new spec");
}

static void on_doc_notify(LlDocument *doc, GParamSpec *p, LlWindow *self)
{
  update_title(self);
  update_actions(self);
}

static void on_selection_changed(LlCanvas *canvas, LlWindow *self)
{
  ll_inspector_set_block(self->inspector, ll_canvas_get_primary(canvas));
}

static void on_canvas_message(LlCanvas *canvas, const char *message, LlWindow *self)
{
  show_notice(self, message);
}

static void on_block_activated(LlPalette *palette, const char *type, LlWindow *self)
{
  double x, y;
  ll_canvas_get_insert_point(self->canvas, &x, &y);
  g_autoptr(GError) error = NULL;
  g_autofree char *name =
      ll_document_add_block(self->doc, type, x, y, ll_canvas_get_primary(self->canvas), &error);
  if (!name) {
    show_notice(self, error->message);
    return;
  }
  const char *one[] = {name, NULL};
  ll_canvas_select(self->canvas, one);
}

static gboolean handle_event(gpointer data, const LlEvent *e, GError **error);

/* A study file (format "layerlab-study") rather than a spec. */
static gboolean is_study_file(const char *path)
{
  g_autofree char *text = NULL;
  if (!ll_json_read_file(path, &text, NULL, NULL))
    return FALSE;
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!ll_json_parser_load(parser, text, -1, path, NULL))
    return FALSE;
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return FALSE;
  const char *format =
      json_object_get_string_member_with_default(json_node_get_object(root), "format", "");
  return g_strcmp0(format, LL_STUDY_FORMAT) == 0;
}

static void on_trial_event(LlStudyView *view, gpointer event, LlWindow *self)
{
  /* the view owns its event during the signal: handle_event copies what it keeps */
  const LlEvent *e = event;
  if (e->kind == LL_EVENT_STARTED)
    ll_curve_view_new_run(self->curves);
  handle_event(self, e, NULL);
}

/* Whether the document may be replaced now: not while a run or a study
 * trains from it. */
static gboolean can_replace(LlWindow *self, GError **error)
{
  if (self->trainer) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "stop the training run before opening a spec");
    return FALSE;
  }
  if (ll_study_view_is_running(self->study)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "stop the running study before opening a file");
    return FALSE;
  }
  return TRUE;
}

/* The canvas no longer shows the study's base spec: the Study tab goes. */
static void leave_study(LlWindow *self)
{
  if (ll_study_view_has_study(self->study)) {
    /* the notice was about the study this spec replaces */
    gtk_label_set_text(self->notice, "");
    gtk_revealer_set_reveal_child(self->notice_revealer, FALSE);
  }
  ll_study_view_clear(self->study);
  gtk_widget_set_visible(gtk_widget_get_ancestor(GTK_WIDGET(self->study), GTK_TYPE_SCROLLED_WINDOW),
                         FALSE);
  update_title(self);
}

gboolean ll_window_open_file(LlWindow *self, const char *path, GError **error)
{
  if (!can_replace(self, error))
    return FALSE;
  if (is_study_file(path)) {
    /* a study: the Study tab runs it; the canvas shows its base spec */
    if (!ll_study_view_load(self->study, path, error))
      return FALSE;
    g_autofree char *base = ll_study_view_base_spec(self->study);
    g_autofree char *name = g_path_get_basename(path);
    if (!base) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: the study names no spec", name);
      ll_study_view_clear(self->study);
      return FALSE;
    }
    if (!ll_document_load_data(self->doc, base, name, error)) {
      ll_study_view_clear(self->study);
      return FALSE;
    }
    /* the canvas's form of the spec is the study's now; that is no edit */
    ll_study_edit_mark_saved(ll_study_editor_get_edit(ll_study_view_get_editor(self->study)));
    update_title(self);
    gtk_widget_set_visible(
        gtk_widget_get_ancestor(GTK_WIDGET(self->study), GTK_TYPE_SCROLLED_WINDOW), TRUE);
    gtk_notebook_set_current_page(self->side, 2);
    show_notice(self, "This is a study: the canvas shows its base spec; run every stage or "
                      "trial from the Study tab.");
  } else {
    if (!ll_document_load_file(self->doc, path, error))
      return FALSE;
    leave_study(self);
  }
  ll_canvas_select(self->canvas, NULL);
  ll_canvas_zoom_to_fit(self->canvas);
  if (!strstr(path, "/presets/"))
    add_recent(self, path);
  return TRUE;
}

gboolean ll_window_restore_autosave(LlWindow *self)
{
  g_autoptr(GPtrArray) left = ll_document_list_autosaves();
  if (!left->len)
    return FALSE;
  g_autoptr(GError) error = NULL;
  if (!ll_document_restore_autosave(self->doc, left->pdata[0], &error)) {
    /* kept for the user, out of the way of the next start */
    g_autofree char *aside = g_strconcat(left->pdata[0], ".broken", NULL);
    g_rename(left->pdata[0], aside);
    g_autofree char *m = g_strdup_printf(
        "The autosaved spec could not be restored: %s (kept as %s)", error->message, aside);
    show_notice(self, m);
    return FALSE;
  }
  /* edits no file has: closing or replacing them asks first */
  g_autofree char *m =
      g_strdup_printf("Restored the spec you were editing (\u201c%s\u201d) from the autosave.",
                      ll_document_get_spec(self->doc)->name);
  show_notice(self, m);
  return TRUE;
}

/* ---- file actions ---- */

/* Presets are read-only templates: saving one asks where. */
static gboolean is_preset(const char *path) { return path && strstr(path, "/presets/"); }

static gboolean save_to(LlWindow *self, const char *path)
{
  g_autoptr(GError) error = NULL;
  if (!ll_document_save_file(self->doc, path, &error)) {
    show_notice(self, error->message);
    return FALSE;
  }
  add_recent(self, path);
  return TRUE;
}

typedef void (*LlThen)(LlWindow *self, gpointer data);

typedef struct LlPending {
  LlThen then;
  gpointer data;
  GDestroyNotify destroy;
} LlPending;

static void pending_free(LlPending *p)
{
  if (p->destroy)
    p->destroy(p->data);
  g_free(p);
}

static void drop_pending(LlWindow *self) { g_clear_pointer(&self->pending, pending_free); }

static void run_pending(LlWindow *self)
{
  LlPending *p = g_steal_pointer(&self->pending);
  if (!p)
    return;
  p->then(self, p->data); /* may destroy the window: p is ours alone */
  pending_free(p);
}

/* A file chooser closed unanswered takes the replacement waiting on it along. */
static void close_chooser(LlWindow *self)
{
  if (self->chooser) {
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    drop_pending(self);
  }
  g_clear_object(&self->chooser);
}

static GtkFileChooserNative *make_chooser(LlWindow *self, const char *title,
                                          GtkFileChooserAction action)
{
  close_chooser(self);
  self->chooser = gtk_file_chooser_native_new(title, GTK_WINDOW(self), action, NULL, NULL);
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "LayerLab specs (*.json)");
  gtk_file_filter_add_pattern(f, "*.json");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), f);
  g_object_unref(f);
  return self->chooser;
}

/* ---- unsaved edits: Save / Discard / Cancel ----
 *
 * Every path that replaces or closes the document (New, Open, a preset or a
 * recent file, a study, a run's spec, the best spec of a study, closing the
 * window, Quit) goes through ask_to_save: with unsaved edits it asks first,
 * and the replacement runs after Save (once the file is written; an untitled
 * spec or a preset asks where) or Discard, never after Cancel. With a study
 * open, the unsaved edits may be the study's design (the canvas's edits of
 * its base spec are the study's too): then the question is about the study
 * and Save writes the study. */

static LlStudyEdit *open_study_edit(LlWindow *self)
{
  return self->study && ll_study_view_has_study(self->study)
             ? ll_study_editor_get_edit(ll_study_view_get_editor(self->study))
             : NULL;
}

/* The open study's design has edits no file has. */
static gboolean study_unsaved(LlWindow *self)
{
  LlStudyEdit *e = open_study_edit(self);
  return e && ll_study_edit_modified(e);
}

static gboolean unsaved(LlWindow *self)
{
  return ll_document_get_modified(self->doc) || study_unsaved(self);
}

/* The spec on the canvas has a file of its own (not a preset). */
static gboolean spec_has_file(LlWindow *self)
{
  const char *path = ll_document_get_path(self->doc);
  return path && !is_preset(path);
}

/* Save writes the open study: its design has unsaved edits, or the spec on
 * the canvas lives in no file but the study's (its base spec or a stage). */
static gboolean saves_study(LlWindow *self)
{
  return open_study_edit(self) && (study_unsaved(self) || !spec_has_file(self));
}

/* Where Save writes the open study without asking: its file, unless that is
 * a preset or the record of a study that ran (study.json beside its trials). */
static const char *study_save_path(LlWindow *self)
{
  const char *path = ll_study_editor_get_path(ll_study_view_get_editor(self->study));
  if (!path || is_preset(path))
    return NULL;
  g_autofree char *base = g_path_get_basename(path);
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *trials = g_build_filename(dir, "trials.jsonl", NULL);
  if (!strcmp(base, "study.json") && g_file_test(trials, G_FILE_TEST_EXISTS))
    return NULL;
  return path;
}

/* The name of the study (study) or the spec, for the question and the file chooser. */
static const char *unsaved_name(LlWindow *self, gboolean study)
{
  JsonNode *n = study ? ll_study_edit_get(open_study_edit(self), "name") : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_string(n)
                                       : ll_document_get_spec(self->doc)->name;
}

static gboolean save_study_to(LlWindow *self, const char *path)
{
  g_autoptr(GError) error = NULL;
  if (!ll_study_editor_save_to(ll_study_view_get_editor(self->study), path, &error)) {
    show_notice(self, error->message);
    return FALSE;
  }
  return TRUE;
}

static void on_save_response(GtkNativeDialog *dialog, int response, LlWindow *self)
{
  gboolean saved = FALSE;
  gboolean study = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dialog), "ll-study"));
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    saved = path && (study ? save_study_to(self, path) : save_to(self, path));
  }
  g_clear_object(&self->chooser);
  /* a replacement waiting on this save goes on only once the file is written */
  if (saved)
    run_pending(self);
  else
    drop_pending(self);
}

/* Asks where to save the spec (study: the open study) and saves it there. */
static void save_as(LlWindow *self, gboolean study)
{
  LlPending *waiting = g_steal_pointer(&self->pending); /* make_chooser drops a chooser's own */
  GtkFileChooserNative *c = make_chooser(self, study ? "Save the study" : "Save the spec",
                                         GTK_FILE_CHOOSER_ACTION_SAVE);
  self->pending = waiting;
  g_object_set_data(G_OBJECT(c), "ll-study", GINT_TO_POINTER(study));
  const char *name = unsaved_name(self, study);
  g_autofree char *file = g_strdup_printf("%s.json", name ? name : "untitled");
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(c), file);
  g_signal_connect(c, "response", G_CALLBACK(on_save_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(c));
}

/* Saves where the spec came from, or asks where; a pending replacement runs
 * once it is written. */
static void save(LlWindow *self)
{
  if (!spec_has_file(self)) {
    save_as(self, FALSE);
    return;
  }
  g_autofree char *p = g_strdup(ll_document_get_path(self->doc));
  if (save_to(self, p))
    run_pending(self);
  else
    drop_pending(self);
}

/* The same for the open study's design. */
static void save_study(LlWindow *self)
{
  const char *path = study_save_path(self);
  if (!path) {
    save_as(self, TRUE);
    return;
  }
  g_autofree char *p = g_strdup(path);
  if (save_study_to(self, p))
    run_pending(self);
  else
    drop_pending(self);
}

/* Save (Ctrl+S, and Save in the question): what the user edited. With a
 * study open that is the study (its base spec and stages are the canvas's
 * edits too), and the spec as well where it has a file of its own. */
static void save_edits(LlWindow *self)
{
  if (!saves_study(self)) {
    save(self);
    return;
  }
  if (ll_document_get_modified(self->doc) && spec_has_file(self)) {
    g_autofree char *p = g_strdup(ll_document_get_path(self->doc));
    if (!save_to(self, p)) {
      drop_pending(self);
      return;
    }
  }
  save_study(self);
}

/* The study was written (from the question, Ctrl+S or the Design's own
 * Save): a spec with no file of its own is saved with it. */
static void on_study_saved(LlStudyEditor *editor, LlWindow *self)
{
  if (!spec_has_file(self))
    ll_document_mark_saved(self->doc);
  update_title(self);
}

enum { LL_RESPONSE_DISCARD = 1 };

static void close_now(LlWindow *self, gpointer data);

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
static void on_save_prompt_response(GtkDialog *dialog, int response, LlWindow *self)
{
  /* the answer may close this window while the dialog is still being
   * clicked: it must not point at its parent then */
  gtk_window_set_transient_for(GTK_WINDOW(dialog), NULL);
  gtk_window_destroy(GTK_WINDOW(dialog)); /* clears save_prompt, a weak pointer */
  if (response == GTK_RESPONSE_ACCEPT) {
    save_edits(self);
  } else if (response == LL_RESPONSE_DISCARD) {
    /* discarded edits do not come back next time (a spec that replaces
     * them forgets the autosave itself, once it has loaded) */
    if (self->pending && self->pending->then == close_now)
      ll_document_forget_autosave(self->doc);
    run_pending(self);
  } else {
    drop_pending(self); /* Cancel, Escape, or the dialog closed */
  }
}

/* before: what is about to happen, for the question ("closing",
 * "opening \u201cmnist-mlp.json\u201d"). */
static void ask_to_save(LlWindow *self, const char *before, LlThen then, gpointer data,
                        GDestroyNotify destroy)
{
  if (!unsaved(self)) {
    then(self, data);
    if (destroy)
      destroy(data);
    return;
  }
  if (self->pending) { /* one question at a time */
    if (self->save_prompt)
      gtk_window_present(self->save_prompt);
    if (destroy)
      destroy(data);
    return;
  }
  self->pending = g_new(LlPending, 1);
  *self->pending = (LlPending){then, data, destroy};
  gboolean study = saves_study(self);
  const char *name = unsaved_name(self, study);
  gboolean has_file = study ? study_save_path(self) != NULL : spec_has_file(self);
  GtkWidget *d = gtk_message_dialog_new(
      GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION,
      GTK_BUTTONS_NONE, "Save changes to %s\u201c%s\u201d before %s?", study ? "the study " : "",
      name ? name : "untitled", before);
  gtk_message_dialog_format_secondary_text(
      GTK_MESSAGE_DIALOG(d), "The %s has edits that are not %s. If you don\u2019t save, they are "
                             "lost.",
      study ? "study\u2019s design" : "spec", has_file ? "saved" : "in any file");
  gtk_dialog_add_button(GTK_DIALOG(d), "_Cancel", GTK_RESPONSE_CANCEL);
  GtkWidget *discard = gtk_dialog_add_button(GTK_DIALOG(d), "_Discard", LL_RESPONSE_DISCARD);
  gtk_widget_add_css_class(discard, "destructive-action");
  GtkWidget *save_b = gtk_dialog_add_button(
      GTK_DIALOG(d), has_file ? "_Save" : "_Save As\u2026", GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class(save_b, "suggested-action");
  gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
  g_signal_connect(d, "response", G_CALLBACK(on_save_prompt_response), self);
  self->save_prompt = GTK_WINDOW(d);
  g_object_add_weak_pointer(G_OBJECT(d), (gpointer *)&self->save_prompt);
  gtk_window_present(GTK_WINDOW(d));
}
G_GNUC_END_IGNORE_DEPRECATIONS

GtkWindow *ll_window_get_save_prompt(LlWindow *self) { return self->save_prompt; }
GtkFileChooserNative *ll_window_get_chooser(LlWindow *self) { return self->chooser; }

/* Opening a file over the document, and what to say once it is open. */
typedef struct {
  char *path, *notice;
} LlOpenRequest;

static void open_request_free(gpointer data)
{
  LlOpenRequest *r = data;
  g_free(r->path);
  g_free(r->notice);
  g_free(r);
}

static void open_now(LlWindow *self, gpointer data)
{
  LlOpenRequest *r = data;
  g_autoptr(GError) error = NULL;
  if (!ll_window_open_file(self, r->path, &error))
    show_notice(self, error->message);
  else if (r->notice)
    show_notice(self, r->notice);
}

/* Every way of opening a file from the window: asks about unsaved edits. */
static void open_asking(LlWindow *self, const char *path, const char *notice)
{
  g_autoptr(GError) error = NULL;
  if (!can_replace(self, &error)) {
    show_notice(self, error->message);
    return;
  }
  LlOpenRequest *r = g_new0(LlOpenRequest, 1);
  r->path = g_strdup(path);
  r->notice = g_strdup(notice);
  g_autofree char *base = g_path_get_basename(path);
  g_autofree char *before = g_strdup_printf("opening \u201c%s\u201d", base);
  ask_to_save(self, before, open_now, r, open_request_free);
}

/* "Open Best Spec" on the Study tab: the best trial's spec replaces the
 * study on the canvas (the study's results stay in its folder). */
static void on_open_best_spec(LlStudyView *view, const char *path, LlWindow *self)
{
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *text = g_strdup_printf(
      "The best trial's spec is on the canvas: train it (F5) or edit it. The study's results "
      "stay in %s.",
      dir);
  open_asking(self, path, text);
}

static void on_open_response(GtkNativeDialog *dialog, int response, LlWindow *self)
{
  g_autofree char *path = NULL;
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    path = file ? g_file_get_path(file) : NULL;
  }
  g_clear_object(&self->chooser);
  if (path)
    open_asking(self, path, NULL);
}

static void new_now(LlWindow *self, gpointer data)
{
  ll_document_reset(self->doc);
  leave_study(self);
  ll_canvas_select(self->canvas, NULL);
}

static void act_new(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  if (!can_replace(self, NULL)) {
    show_notice(self, "Stop the run in progress before starting a new spec.");
    return;
  }
  ask_to_save(self, "starting a new spec", new_now, NULL, NULL);
}

static void act_open(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  GtkFileChooserNative *c = make_chooser(self, "Open a spec", GTK_FILE_CHOOSER_ACTION_OPEN);
  g_signal_connect(c, "response", G_CALLBACK(on_open_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(c));
}

static void act_open_path(GSimpleAction *a, GVariant *p, gpointer data)
{
  open_asking(data, g_variant_get_string(p, NULL), NULL);
}

/* ---- File > Import ONNX... ----
 *
 * The model becomes an unsaved spec on the canvas; its weights go to the run
 * store's imports/ folder, which the spec's training.init_from names. The
 * import runs in a worker: a large model takes a while to read. */

typedef struct {
  char *json, *name, *notice;
} LlImported;

static void imported_free(gpointer data)
{
  LlImported *r = data;
  g_free(r->json);
  g_free(r->name);
  g_free(r->notice);
  g_free(r);
}

static void import_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  char **paths = data; /* the model, the weights to write */
  GError *error = NULL;
  LlSpec *spec = ll_onnx_import(paths[0], paths[1], &error);
  if (!spec) {
    g_task_return_error(task, error);
    return;
  }
  g_task_return_pointer(task, ll_spec_to_json(spec), g_free);
  ll_spec_free(spec);
}

static void open_imported_now(LlWindow *self, gpointer data)
{
  LlImported *r = data;
  g_autoptr(GError) error = NULL;
  if (!ll_document_load_data(self->doc, r->json, r->name, &error)) {
    show_notice(self, error->message);
    return;
  }
  leave_study(self);
  ll_document_mark_modified(self->doc); /* no file holds it yet */
  ll_canvas_select(self->canvas, NULL);
  ll_canvas_zoom_to_fit(self->canvas);
  show_notice(self, r->notice);
}

static void on_imported(GObject *source, GAsyncResult *res, gpointer data)
{
  LlWindow *self = LL_WINDOW(source);
  char **paths = g_task_get_task_data(G_TASK(res));
  GError *error = NULL;
  char *json = g_task_propagate_pointer(G_TASK(res), &error);
  if (!json) {
    show_notice(self, error->message);
    g_error_free(error);
    return;
  }
  LlImported *r = g_new0(LlImported, 1);
  r->json = json;
  r->name = g_path_get_basename(paths[0]);
  r->notice = g_strdup_printf("Imported %s: the spec starts from its weights (training "
                              "init_from %s). Save the spec to keep it.",
                              r->name, paths[1]);
  if (!can_replace(self, &error)) {
    show_notice(self, error->message);
    g_error_free(error);
    imported_free(r);
    return;
  }
  ask_to_save(self, "opening the imported model", open_imported_now, r, imported_free);
}

void ll_window_import_onnx(LlWindow *self, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlRunStore) store = ll_run_store_open(self->store_root, &error);
  g_autofree char *dir =
      store ? g_build_filename(ll_run_store_root(store), "imports", NULL) : NULL;
  if (!store || g_mkdir_with_parents(dir, 0755) != 0) {
    show_notice(self, error ? error->message : "The run store has no room for imported weights.");
    return;
  }
  g_autofree char *base = g_path_get_basename(path);
  if (g_str_has_suffix(base, ".onnx"))
    base[strlen(base) - 5] = '\0';
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
  g_autofree char *file = g_strdup_printf("%s-%s.safetensors", base, stamp);
  char *paths[] = {g_strdup(path), g_build_filename(dir, file, NULL), NULL};
  GTask *task = g_task_new(self, NULL, on_imported, NULL);
  g_task_set_task_data(task, g_strdupv(paths), (GDestroyNotify)g_strfreev);
  g_free(paths[0]);
  g_free(paths[1]);
  g_task_run_in_thread(task, import_thread);
  g_object_unref(task);
  show_notice(self, "Importing the model\u2026");
}

static void on_import_response(GtkNativeDialog *dialog, int response, LlWindow *self)
{
  g_autofree char *path = NULL;
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    path = file ? g_file_get_path(file) : NULL;
  }
  g_clear_object(&self->chooser);
  if (path)
    ll_window_import_onnx(self, path);
}

static void act_import_onnx(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  close_chooser(self);
  self->chooser = gtk_file_chooser_native_new("Import an ONNX model", GTK_WINDOW(self),
                                              GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "ONNX models (*.onnx)");
  gtk_file_filter_add_pattern(f, "*.onnx");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), f);
  g_object_unref(f);
  g_signal_connect(self->chooser, "response", G_CALLBACK(on_import_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void act_save_as(GSimpleAction *a, GVariant *p, gpointer data) { save_as(data, FALSE); }

static void act_save(GSimpleAction *a, GVariant *p, gpointer data) { save_edits(data); }

static void on_export_response(GtkNativeDialog *dialog, int response, LlWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = g_file_get_path(file);
    g_autoptr(GError) error = NULL;
    if (path && !ll_curve_view_export(self->curves, path, &error))
      show_notice(self, error->message);
  }
  g_clear_object(&self->chooser);
}

static void act_export_curves(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  close_chooser(self);
  self->chooser =
      gtk_file_chooser_native_new("Export the curves (.png, .svg or .pdf)", GTK_WINDOW(self),
                                  GTK_FILE_CHOOSER_ACTION_SAVE, NULL, NULL);
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser), "curves.png");
  g_signal_connect(self->chooser, "response", G_CALLBACK(on_export_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

/* ---- edit actions ---- */

/* The study editor when it holds the keyboard focus: Ctrl+Z there undoes study edits. */
static LlStudyEditor *focused_study_editor(LlWindow *self)
{
  if (!self->study)
    return NULL;
  GtkWidget *editor = GTK_WIDGET(ll_study_view_get_editor(self->study));
  GtkWidget *focus = gtk_root_get_focus(GTK_ROOT(self));
  return focus && editor && (focus == editor || gtk_widget_is_ancestor(focus, editor))
             ? LL_STUDY_EDITOR(editor)
             : NULL;
}

static void act_undo(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlStudyEditor *editor = focused_study_editor(data);
  if (editor)
    ll_study_editor_undo(editor);
  else
    ll_document_undo(LL_WINDOW(data)->doc);
}

static void act_redo(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlStudyEditor *editor = focused_study_editor(data);
  if (editor)
    ll_study_editor_redo(editor);
  else
    ll_document_redo(LL_WINDOW(data)->doc);
}

/* ---- the study as the canvas shows it ---- */

/* With a study open, the canvas shows its base spec (or the stage chosen in
 * the editor): every canvas edit is the study's, so Run runs what is shown. */
static void sync_study_spec(LlWindow *self)
{
  if (!ll_study_view_has_study(self->study) || ll_study_view_is_running(self->study))
    return;
  g_autofree char *json = ll_spec_to_json(ll_document_get_spec(self->doc));
  ll_study_editor_set_canvas_spec(ll_study_view_get_editor(self->study), json);
}

static void on_study_design_changed(LlWindow *self)
{
  update_title(self);
  update_actions(self);
}

static void on_show_study_spec(LlStudyEditor *editor, const char *json, LlWindow *self)
{
  g_autoptr(GError) error = NULL;
  if (self->trainer) {
    show_notice(self, "Stop the training run before showing another spec on the canvas.");
    return;
  }
  if (!ll_document_load_data(self->doc, json, "study stage", &error)) {
    show_notice(self, error->message);
    return;
  }
  ll_canvas_select(self->canvas, NULL);
  ll_canvas_zoom_to_fit(self->canvas);
}

/* Makes the spec on the canvas the base of a new sweep (no axes yet) and shows its Study tab. */
static gboolean new_study_from_spec(LlWindow *self)
{
  if (ll_study_view_has_study(self->study))
    return TRUE;
  g_autoptr(GError) error = NULL;
  if (!can_replace(self, &error)) {
    show_notice(self, error->message);
    return FALSE;
  }
  g_autofree char *json = ll_spec_to_json(ll_document_get_spec(self->doc));
  LlStudyEdit *e = ll_study_edit_new_for_spec(json, &error);
  if (!e || !ll_study_view_load_edit(self->study, e, NULL, &error)) {
    g_autofree char *t = g_strdup_printf("No study from this spec: %s", error->message);
    show_notice(self, t);
    return FALSE;
  }
  gtk_widget_set_visible(gtk_widget_get_ancestor(GTK_WIDGET(self->study), GTK_TYPE_SCROLLED_WINDOW),
                         TRUE);
  gtk_notebook_set_current_page(self->side, 2);
  show_notice(self, "A new study of the spec on the canvas: add axes in its Design (or Vary "
                    "this\u2026 on a block's property); canvas edits are edits of its base spec.");
  return TRUE;
}

static void act_new_study(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  if (ll_study_view_has_study(self->study)) {
    gtk_notebook_set_current_page(self->side, 2);
    return;
  }
  new_study_from_spec(self);
}

/* "Vary this..." on a block's property: an axis for it in the open study
 * (a new sweep of the canvas's spec when none is open). */
static void on_vary(LlInspector *inspector, const char *path, const char *current, LlWindow *self)
{
  if (!new_study_from_spec(self))
    return;
  LlStudyEditor *editor = ll_study_view_get_editor(self->study);
  gtk_notebook_set_current_page(self->side, 2);
  if (ll_study_editor_vary(editor, path, current) < 0)
    show_notice(self, ll_study_editor_get_message(editor));
}

static void act_delete(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  g_auto(GStrv) sel = ll_canvas_get_selection(self->canvas);
  ll_document_delete_blocks(self->doc, (const char *const *)sel);
}

static void act_select_all(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  LlGraph *g = ll_document_get_spec(self->doc)->graph;
  g_autofree const char **names = g_new0(const char *, g->blocks->len + 1);
  for (guint i = 0; i < g->blocks->len; i++)
    names[i] = ((LlBlock *)g->blocks->pdata[i])->name;
  ll_canvas_select(self->canvas, names);
}

/* Down and Up on the canvas select along the wires, so that blocks can be
 * picked (and deleted, copied, edited) without a mouse: Down the first block
 * fed by the selected one, Up its first input; with nothing selected, the
 * first or the last block. */
static void select_along(LlWindow *self, gboolean down)
{
  LlGraph *g = ll_document_get_spec(self->doc)->graph;
  if (!g->blocks->len)
    return;
  const char *at = ll_canvas_get_primary(self->canvas);
  LlBlock *cur = at ? ll_graph_find(g, at) : NULL, *next = NULL;
  if (!cur)
    next = g->blocks->pdata[down ? 0 : g->blocks->len - 1];
  else if (!down)
    next = cur->n_inputs ? ll_graph_find(g, cur->input_names[0]) : NULL;
  for (guint i = 0; down && cur && !next && i < g->blocks->len; i++) {
    LlBlock *b = g->blocks->pdata[i];
    for (int k = 0; k < b->n_inputs && !next; k++)
      if (!strcmp(b->input_names[k], cur->name))
        next = b;
  }
  if (!next)
    return; /* the end of the chain */
  const char *one[] = {next->name, NULL};
  ll_canvas_select(self->canvas, one);
}

static void act_select_next(GSimpleAction *a, GVariant *p, gpointer data)
{
  select_along(data, TRUE);
}

static void act_select_previous(GSimpleAction *a, GVariant *p, gpointer data)
{
  select_along(data, FALSE);
}

static void act_copy(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  g_auto(GStrv) sel = ll_canvas_get_selection(self->canvas);
  if (!sel[0])
    return;
  g_free(self->clipboard);
  self->clipboard = ll_document_copy_blocks(self->doc, (const char *const *)sel);
  gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(self)), self->clipboard);
  update_actions(self);
}

static void act_paste(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  if (!self->clipboard)
    return;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = ll_document_paste_blocks(self->doc, self->clipboard, 40, 40, &error);
  if (!names) {
    show_notice(self, error->message);
    return;
  }
  ll_canvas_select(self->canvas, (const char *const *)names);
}

static void act_auto_layout(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  ll_document_auto_layout(self->doc);
  ll_canvas_zoom_to_fit(self->canvas);
}

static void act_zoom_in(GSimpleAction *a, GVariant *p, gpointer data)
{
  ll_canvas_zoom_by(LL_WINDOW(data)->canvas, 1.25);
}

static void act_zoom_out(GSimpleAction *a, GVariant *p, gpointer data)
{
  ll_canvas_zoom_by(LL_WINDOW(data)->canvas, 0.8);
}

static void act_zoom_reset(GSimpleAction *a, GVariant *p, gpointer data)
{
  ll_canvas_zoom_reset(LL_WINDOW(data)->canvas);
}

static void act_zoom_fit(GSimpleAction *a, GVariant *p, gpointer data)
{
  ll_canvas_zoom_to_fit(LL_WINDOW(data)->canvas);
}

static void act_init_from_run(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  if (!self->transfer) {
    self->transfer = ll_transfer_dialog_new(GTK_WINDOW(self), self->doc, self->store_root);
    g_object_add_weak_pointer(G_OBJECT(self->transfer), (gpointer *)&self->transfer);
  }
  gtk_window_present(GTK_WINDOW(self->transfer));
}

GtkWindow *ll_window_get_transfer_dialog(LlWindow *self) { return GTK_WINDOW(self->transfer); }

/* ---- keyboard ---- */

static void act_show_shortcuts(GSimpleAction *a, GVariant *p, gpointer data)
{
  gtk_window_present(ll_shortcuts_window_new(GTK_WINDOW(data)));
}

static void act_search_blocks(GSimpleAction *a, GVariant *p, gpointer data)
{
  ll_palette_focus_search(LL_WINDOW(data)->palette);
}

/* The panes F6 visits in turn: the palette, the canvas, the side notebook
 * (inspector, training, study) and the bottom notebook. */
static int n_panes(LlWindow *self, GtkWidget **panes)
{
  panes[0] = GTK_WIDGET(self->palette);
  panes[1] = GTK_WIDGET(self->canvas);
  panes[2] = GTK_WIDGET(self->side);
  panes[3] = GTK_WIDGET(self->bottom);
  return 4;
}

int ll_window_get_focus_pane(LlWindow *self)
{
  GtkWidget *panes[4], *focus = gtk_root_get_focus(GTK_ROOT(self));
  int n = n_panes(self, panes);
  for (int i = 0; focus && i < n; i++)
    if (focus == panes[i] || gtk_widget_is_ancestor(focus, panes[i]))
      return i;
  return -1;
}

static void focus_pane(LlWindow *self, int delta)
{
  GtkWidget *panes[4];
  int n = n_panes(self, panes), at = ll_window_get_focus_pane(self);
  int next = at < 0 ? (delta > 0 ? 0 : n - 1) : (at + delta + n) % n;
  if (next == 0)
    ll_palette_focus_search(self->palette); /* type to find a block */
  else
    gtk_widget_grab_focus(panes[next]); /* a notebook: its tabs, where the arrows switch pages */
}

static void act_focus_next_pane(GSimpleAction *a, GVariant *p, gpointer data)
{
  focus_pane(data, 1);
}

static void act_focus_previous_pane(GSimpleAction *a, GVariant *p, gpointer data)
{
  focus_pane(data, -1);
}

/* A controller for keys that are not application accelerators (see ll-shortcuts.h). */
typedef struct {
  const char *trigger, *action;
} LlKey;

static GtkEventController *keys_controller(GtkPropagationPhase phase, const LlKey *keys)
{
  GtkEventController *c = gtk_shortcut_controller_new();
  gtk_event_controller_set_name(c, LL_KEYS_CONTROLLER);
  gtk_event_controller_set_propagation_phase(c, phase);
  for (; keys->trigger; keys++)
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(c),
        gtk_shortcut_new(gtk_shortcut_trigger_parse_string(keys->trigger),
                         gtk_named_action_new(keys->action)));
  return c;
}

/* ---- training ---- */

static void format_time(double s, char *buf, size_t len)
{
  if (!isfinite(s) || s < 0)
    g_snprintf(buf, len, "?");
  else if (s < 60)
    g_snprintf(buf, len, "%.0f s", s);
  else if (s < 3600)
    g_snprintf(buf, len, "%d min %02d s", (int)s / 60, (int)s % 60);
  else
    g_snprintf(buf, len, "%d h %02d min", (int)s / 3600, ((int)s % 3600) / 60);
}

/* What a run's test_loss measures: "MSE" when every loss is mean squared
 * error (an autoencoder), "loss" when the losses differ. */
static const char *test_loss_name(const LlSpec *s)
{
  static const char *const names[] = {"cross-entropy", "BCE", "MSE", "mean absolute error"};
  if (!s->losses->len)
    return "loss";
  LlLossKind k = ((const LlLossSpec *)g_ptr_array_index(s->losses, 0))->kind;
  for (guint i = 1; i < s->losses->len; i++)
    if (((const LlLossSpec *)g_ptr_array_index(s->losses, i))->kind != k)
      return "loss";
  return (guint)k < G_N_ELEMENTS(names) ? names[k] : "loss";
}

static void finish_run(LlWindow *self)
{
  if (self->tick_id)
    gtk_widget_remove_tick_callback(GTK_WIDGET(self), self->tick_id);
  self->tick_id = 0;
  /* the thread has published its last event: joining is immediate */
  g_clear_pointer(&self->trainer, ll_trainer_free);
  self->paused = self->stopping = FALSE;
  update_actions(self);
  if (self->close_after_stop)
    gtk_window_destroy(GTK_WINDOW(self));
}

/* The window's LlTrainerListener event slot: a run's events, drained on the
 * frame clock, and a study's trials' (on_trial_event). */
static gboolean handle_event(gpointer data, const LlEvent *e, GError **error)
{
  LlWindow *self = data;
  char eta[32], buf[256];
  self->events++;
  switch (e->kind) {
  case LL_EVENT_STARTED: {
    /* the spec the run trains, not the document: it may have been edited since Start */
    /* a study's trial: the spec it trains (its overrides, shortened), not the base on the canvas */
    const char *trial_spec = self->trainer ? NULL : ll_study_view_get_trial_spec(self->study);
    g_autofree char *spec_json = self->trainer || trial_spec
                                     ? NULL
                                     : ll_spec_to_json(ll_document_get_spec(self->doc));
    ll_analysis_view_set_run(self->analysis, e->run_id, e->checkpoint,
                             self->trainer ? self->run_spec_json
                             : trial_spec  ? trial_spec
                                           : spec_json);
    /* messages can be long: a fixed buffer could cut a UTF-8 sequence */
    g_autofree char *started =
        g_strdup_printf("run %s started: %s", e->run_id ? e->run_id : "(not recorded)",
                        e->message ? e->message : "");
    ll_log_view_add_event(self->log, e);
    ll_training_panel_set_status(self->training, started);
    ll_training_panel_set_metrics(self->training, NULL);
    break;
  }
  case LL_EVENT_BATCH: {
    int spe = MAX(e->steps_per_epoch, 1);
    double x = (double)(e->step - 1) / spe + 1.0 / spe;
    ll_curve_view_add_step(self->curves, x, e->loss);
    int step_in = (int)((e->step - 1) % spe) + 1;
    double frac = ((e->epoch - 1) + (double)step_in / spe) / MAX(e->epochs, 1);
    format_time(e->eta, eta, sizeof eta);
    g_snprintf(buf, sizeof buf,
               "epoch %d/%d \u00b7 step %d/%d \u00b7 %.0f images/s \u00b7 %s left%s", e->epoch,
               e->epochs, step_in, spe, e->images_per_second, eta, self->paused ? " (paused)" : "");
    ll_training_panel_set_progress(self->training, frac, buf);
    break;
  }
  case LL_EVENT_EPOCH: {
    ll_curve_view_add_epoch_event(self->curves, e);
    /* each head's validation metric (several heads, or a binary one's report) */
    g_autofree char *heads = ll_event_heads_text(e, "val");
    if (heads) {
      g_autofree char *text = g_strdup_printf("Validation, epoch %d: %s", e->epoch, heads);
      ll_training_panel_set_metrics(self->training, text);
    }
    ll_log_view_add_event(self->log, e);
    /* the Runs tab, when shown, follows the run: its row and its curves grow each epoch
     * (the trainer wrote the epoch's line before saying so) */
    if (gtk_widget_get_mapped(GTK_WIDGET(self->runs)))
      ll_runs_view_refresh(self->runs);
    break;
  }
  case LL_EVENT_LOG: ll_log_view_add_event(self->log, e); break;
  case LL_EVENT_FINISHED:
  case LL_EVENT_FAILED:
  case LL_EVENT_STOPPED: {
    const char *what = e->kind == LL_EVENT_FINISHED ? "finished"
                       : e->kind == LL_EVENT_FAILED ? "failed"
                                                    : "stopped";
    double acc = ll_event_metric(e, "test_accuracy");
    if (e->kind == LL_EVENT_FAILED) {
      /* whole characters only: a cut UTF-8 sequence is invalid label text */
      g_autofree char *m = g_utf8_substring(e->message ? e->message : "", 0, 200);
      g_snprintf(buf, sizeof buf, "Training failed: %s", m);
    } else if (isfinite(acc))
      g_snprintf(buf, sizeof buf, "Training %s: test accuracy %.2f%%", what, 100 * acc);
    else if (isfinite(ll_event_metric(e, "test_loss")))
      /* a regression or an autoencoder: its test error is its result */
      g_snprintf(buf, sizeof buf, "Training %s: test %s %.4g", what,
                 test_loss_name(ll_document_get_spec(self->doc)), ll_event_metric(e, "test_loss"));
    else
      g_snprintf(buf, sizeof buf, "Training %s.", what);
    ll_log_view_add_event(self->log, e);
    ll_training_panel_set_status(self->training, buf);
    g_autofree char *heads = ll_event_heads_text(e, "test");
    if (heads) {
      g_autofree char *text = g_strdup_printf("Test: %s", heads);
      ll_training_panel_set_metrics(self->training, text); /* the log line has them too */
    }
    ll_training_panel_set_progress(self->training, e->kind == LL_EVENT_FINISHED ? 1.0 : 0.0, buf);
    if (e->kind == LL_EVENT_FAILED)
      show_notice(self, buf);
    ll_runs_view_refresh(self->runs); /* the trainer recorded the run before saying so */
    break;
  }
  case LL_EVENT_EVAL: ll_analysis_view_add_event(self->analysis, ll_event_dup(e)); break;
  }
  return TRUE;
}

static gboolean drain(GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  LlWindow *self = data;
  static const LlTrainerListener window_listener = {.event = handle_event};
  if (!self->trainer ||
      ll_trainer_drain(self->trainer, 0, DRAIN_BUDGET_US, &window_listener, self))
    return G_SOURCE_CONTINUE;
  self->tick_id = 0;
  finish_run(self);
  return G_SOURCE_REMOVE;
}

static void act_train_start(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  if (self->trainer)
    return;
  const GError *gerr = ll_document_get_error(self->doc);
  if (gerr) {
    g_autofree char *m = g_strdup_printf("Fix the graph before training: %s", gerr->message);
    show_notice(self, m);
    return;
  }
  LlTrainOptions opts = {
      .seed = -1,
      .device = ll_training_panel_get_device(self->training),
      .store_root = self->store_root,
      .spec_path = ll_document_get_path(self->doc),
      .background = TRUE, /* the window's frames come first */
  };
  self->trainer = ll_trainer_new(ll_document_get_spec(self->doc), &opts);
  g_free(self->run_spec_json);
  self->run_spec_json = ll_spec_to_json(ll_document_get_spec(self->doc));
  g_autoptr(GError) error = NULL;
  if (!ll_trainer_start(self->trainer, &error)) {
    g_clear_pointer(&self->trainer, ll_trainer_free);
    show_notice(self, error->message);
    return;
  }
  self->events = 0;
  self->paused = self->stopping = FALSE;
  ll_curve_view_new_run(self->curves);
  ll_training_panel_set_progress(self->training, 0, "Starting\u2026");
  ll_window_show_page(self, "curves");
  self->tick_id = gtk_widget_add_tick_callback(GTK_WIDGET(self), drain, self, NULL);
  update_actions(self);
}

static void act_train_pause(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  if (!self->trainer)
    return;
  self->paused = !self->paused;
  if (self->paused) {
    ll_trainer_pause(self->trainer);
    ll_training_panel_set_status(self->training, "Paused.");
  } else {
    ll_trainer_resume(self->trainer);
    ll_training_panel_set_status(self->training, "Resumed.");
  }
  update_actions(self);
}

static void act_train_stop(GSimpleAction *a, GVariant *p, gpointer data)
{
  LlWindow *self = data;
  if (!self->trainer || self->stopping)
    return;
  if (self->paused)
    ll_trainer_resume(self->trainer);
  ll_trainer_stop(self->trainer); /* the thread stops at the next step; drain sees STOPPED */
  self->stopping = TRUE;
  ll_training_panel_set_status(self->training, "Stopping\u2026");
  update_actions(self);
}

/* ---- closing while training ---- */

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
static void on_close_response(GtkDialog *dialog, int response, LlWindow *self)
{
  gtk_window_destroy(GTK_WINDOW(dialog));
  if (response == GTK_RESPONSE_ACCEPT && self->trainer) {
    self->close_after_stop = TRUE;
    act_train_stop(NULL, NULL, self);
  }
}

static void close_now(LlWindow *self, gpointer data)
{
  self->close_confirmed = TRUE; /* the edits are saved or discarded: do not ask again */
  gtk_window_close(GTK_WINDOW(self));
}

static gboolean on_close_request(GtkWindow *window, gpointer data)
{
  LlWindow *self = LL_WINDOW(window);
  if (self->close_after_stop)
    return TRUE; /* already stopping; the window closes when the run has ended */
  if (!self->close_confirmed && unsaved(self)) {
    ask_to_save(self, "closing", close_now, NULL, NULL);
    return TRUE;
  }
  self->close_confirmed = FALSE; /* "Keep Training" below keeps the window and its question */
  if (!self->trainer)
    return FALSE;
  GtkWidget *d = gtk_message_dialog_new(window, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                        GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                        "A training run is in progress");
  gtk_message_dialog_format_secondary_text(
      GTK_MESSAGE_DIALOG(d), "Stop it and close the window? The run is recorded as stopped, with "
                             "its last checkpoint.");
  gtk_dialog_add_buttons(GTK_DIALOG(d), "_Keep Training", GTK_RESPONSE_CANCEL, "_Stop and Close",
                         GTK_RESPONSE_ACCEPT, NULL);
  g_signal_connect(d, "response", G_CALLBACK(on_close_response), self);
  gtk_window_present(GTK_WINDOW(d));
  return TRUE;
}
G_GNUC_END_IGNORE_DEPRECATIONS

/* ---- life cycle ---- */

static const GActionEntry win_actions[] = {
    {"new", act_new},
    {"new-study", act_new_study},
    {"open", act_open},
    {"open-path", act_open_path, "s"},
    {"import-onnx", act_import_onnx},
    {"save", act_save},
    {"save-as", act_save_as},
    {"export-curves", act_export_curves},
    {"undo", act_undo},
    {"redo", act_redo},
    {"delete", act_delete},
    {"copy", act_copy},
    {"paste", act_paste},
    {"select-all", act_select_all},
    {"select-next-block", act_select_next},
    {"select-previous-block", act_select_previous},
    {"auto-layout", act_auto_layout},
    {"zoom-in", act_zoom_in},
    {"zoom-out", act_zoom_out},
    {"zoom-reset", act_zoom_reset},
    {"zoom-fit", act_zoom_fit},
    {"init-from-run", act_init_from_run},
    {"train-start", act_train_start},
    {"train-pause", act_train_pause},
    {"train-stop", act_train_stop},
    {"show-shortcuts", act_show_shortcuts},
    {"search-blocks", act_search_blocks},
    {"focus-next-pane", act_focus_next_pane},
    {"focus-previous-pane", act_focus_previous_pane},
};

static void ll_window_dispose(GObject *object)
{
  LlWindow *self = LL_WINDOW(object);
  if (self->tick_id)
    gtk_widget_remove_tick_callback(GTK_WIDGET(self), self->tick_id);
  self->tick_id = 0;
  g_clear_pointer(&self->trainer, ll_trainer_free); /* stops and joins */
  close_chooser(self);
  if (self->save_prompt)
    gtk_window_destroy(self->save_prompt);
  drop_pending(self);
  if (self->transfer)
    gtk_window_destroy(GTK_WINDOW(self->transfer));
  if (self->doc)
    g_signal_handlers_disconnect_by_data(self->doc, self);
  gtk_widget_dispose_template(GTK_WIDGET(self), LL_TYPE_WINDOW);
  g_clear_object(&self->doc);
  G_OBJECT_CLASS(ll_window_parent_class)->dispose(object);
}

static void ll_window_finalize(GObject *object)
{
  LlWindow *self = LL_WINDOW(object);
  g_free(self->clipboard);
  g_free(self->store_root);
  g_free(self->run_spec_json);
  G_OBJECT_CLASS(ll_window_parent_class)->finalize(object);
}

static void ll_window_class_init(LlWindowClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ll_window_dispose;
  oc->finalize = ll_window_finalize;
  /* references the GResource so the linker keeps it (and its constructor) */
  (void)ll_get_resource();
  g_type_ensure(LL_TYPE_PALETTE);
  g_type_ensure(LL_TYPE_CANVAS);
  g_type_ensure(LL_TYPE_INSPECTOR);
  g_type_ensure(LL_TYPE_SUMMARY_VIEW);
  g_type_ensure(LL_TYPE_CURVE_VIEW);
  g_type_ensure(LL_TYPE_LOG_VIEW);
  g_type_ensure(LL_TYPE_TRAINING_PANEL);
  g_type_ensure(LL_TYPE_STUDY_VIEW);
  gtk_widget_class_set_template_from_resource(wc, "/org/layerlab/LayerLab/ui/ll-window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, LlWindow, name)
  CHILD(notice_revealer);
  CHILD(start_button);
  CHILD(notice);
  CHILD(statusbar);
  CHILD(bottom);
  CHILD(side);
  CHILD(log);
  CHILD(palette);
  CHILD(canvas);
  CHILD(inspector);
  CHILD(summary);
  CHILD(curves);
  CHILD(training);
  CHILD(study);
  CHILD(recent_menu);
  CHILD(presets_menu);
#undef CHILD
  gtk_widget_class_bind_template_callback(wc, on_notice_close);
}

/* The Runs tab's buttons: a recorded run's analysis, or its spec in the editor. */
static void on_run_open_analysis(LlRunsView *runs, gpointer run, LlWindow *self)
{
  g_autoptr(GError) error = NULL;
  if (self->trainer || ll_study_view_is_running(self->study))
    show_notice(self, "The analysis follows the run in progress: stop it to open another.");
  else if (!ll_analysis_view_load_run(self->analysis, run, &error))
    show_notice(self, error->message);
  else
    ll_window_show_page(self, "analysis");
}

/* A recorded run's spec: its text and the run's name. */
static void open_run_spec_now(LlWindow *self, gpointer data)
{
  char **spec_and_name = data;
  g_autoptr(GError) error = NULL;
  if (!ll_document_load_data(self->doc, spec_and_name[0], spec_and_name[1], &error)) {
    show_notice(self, error->message);
    return;
  }
  leave_study(self);
  ll_canvas_select(self->canvas, NULL);
  ll_canvas_zoom_to_fit(self->canvas);
}

static void on_run_open_spec(LlRunsView *runs, gpointer data, LlWindow *self)
{
  const LlRunInfo *run = data;
  if (!can_replace(self, NULL)) {
    show_notice(self, "Stop the run in progress before opening another spec.");
    return;
  }
  if (!run->spec_json) {
    show_notice(self, "This run recorded no spec.");
    return;
  }
  char **spec_and_name = g_new0(char *, 3);
  spec_and_name[0] = g_strdup(run->spec_json);
  spec_and_name[1] = g_strdup(run->name);
  g_autofree char *before = g_strdup_printf("opening the spec of run \u201c%s\u201d", run->name);
  ask_to_save(self, before, open_run_spec_now, spec_and_name, (GDestroyNotify)g_strfreev);
}

/* A notebook page whose minimum size does not push the window's panes
 * over each other: what does not fit scrolls instead. */
static GtkWidget *scrolled_page(GtkWidget *child)
{
  GtkWidget *sw = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_AUTOMATIC,
                                 GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), child);
  return sw;
}

/* The analysis views need room: give the bottom notebook most of the height
 * when its page comes up (the user can drag the divider back). */
static void on_bottom_page(GtkNotebook *nb, GtkWidget *page, guint n, LlWindow *self)
{
  /* the page is a scrolled window, the view inside its viewport */
  if (!gtk_widget_is_ancestor(GTK_WIDGET(self->analysis), page) &&
      !gtk_widget_is_ancestor(GTK_WIDGET(self->runs), page))
    return;
  GtkWidget *paned = gtk_widget_get_ancestor(GTK_WIDGET(nb), GTK_TYPE_PANED);
  int h = paned ? gtk_widget_get_height(paned) : 0;
  if (h > 0 && gtk_paned_get_position(GTK_PANED(paned)) > h * 0.4)
    gtk_paned_set_position(GTK_PANED(paned), (int)(h * 0.3));
}

static void ll_window_init(LlWindow *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  g_action_map_add_action_entries(G_ACTION_MAP(self), win_actions, G_N_ELEMENTS(win_actions), self);
  self->doc = ll_document_new();
  g_object_set(self->doc, "autosave", TRUE, NULL);
  g_signal_connect(self->doc, "changed", G_CALLBACK(on_doc_changed), self);
  g_signal_connect(self->doc, "replaced", G_CALLBACK(on_doc_replaced), self);
  g_signal_connect(self->doc, "notify::modified", G_CALLBACK(on_doc_notify), self);
  g_signal_connect(self->doc, "notify::can-undo", G_CALLBACK(on_doc_notify), self);
  ll_canvas_set_document(self->canvas, self->doc);
  ll_inspector_set_document(self->inspector, self->doc);
  ll_summary_view_set_document(self->summary, self->doc);
  ll_training_panel_set_document(self->training, self->doc);
  g_signal_connect(self->canvas, "selection-changed", G_CALLBACK(on_selection_changed), self);
  g_signal_connect(self->canvas, "message", G_CALLBACK(on_canvas_message), self);
  g_signal_connect(self->palette, "block-activated", G_CALLBACK(on_block_activated), self);
  g_signal_connect(self->study, "trial-event", G_CALLBACK(on_trial_event), self);
  g_signal_connect(self->study, "open-spec", G_CALLBACK(on_open_best_spec), self);
  g_signal_connect(ll_study_view_get_editor(self->study), "show-spec",
                   G_CALLBACK(on_show_study_spec), self);
  g_signal_connect(self->inspector, "vary", G_CALLBACK(on_vary), self);
  g_signal_connect_swapped(ll_study_view_get_editor(self->study), "changed",
                           G_CALLBACK(on_study_design_changed), self);
  g_signal_connect(ll_study_view_get_editor(self->study), "saved", G_CALLBACK(on_study_saved),
                   self);
  g_signal_connect_swapped(self, "notify::focus-widget", G_CALLBACK(update_actions), self);
  gtk_widget_set_visible(gtk_widget_get_ancestor(GTK_WIDGET(self->study), GTK_TYPE_SCROLLED_WINDOW),
                         FALSE);
  g_signal_connect(self, "close-request", G_CALLBACK(on_close_request), NULL);

  /* editing keys belong to the canvas, so Delete in a text field still deletes text */
  static const LlKey canvas_keys[] = {{"Delete", "win.delete"},
                                      {"BackSpace", "win.delete"},
                                      {"<Control>c", "win.copy"},
                                      {"<Control>v", "win.paste"},
                                      {"<Control>a", "win.select-all"},
                                      {"Down", "win.select-next-block"},
                                      {"Up", "win.select-previous-block"},
                                      {NULL}};
  gtk_widget_add_controller(GTK_WIDGET(self->canvas),
                            keys_controller(GTK_PHASE_BUBBLE, canvas_keys));
  /* F6 moves between the panes; captured at the window, before GtkPaned's own
   * F6, which only cycles the two children of one divider */
  static const LlKey pane_keys[] = {
      {"F6", "win.focus-next-pane"}, {"<Shift>F6", "win.focus-previous-pane"}, {NULL}};
  gtk_widget_add_controller(GTK_WIDGET(self), keys_controller(GTK_PHASE_CAPTURE, pane_keys));

  /* the analysis views: a page of the bottom notebook, after the log */
  self->analysis = LL_ANALYSIS_VIEW(ll_analysis_view_new());
  gtk_notebook_append_page(self->bottom, scrolled_page(GTK_WIDGET(self->analysis)),
                           gtk_label_new("Analysis"));
  g_signal_connect(self->bottom, "switch-page", G_CALLBACK(on_bottom_page), self);
  /* the run history and comparison, refreshed whenever a run ends */
  self->runs = LL_RUNS_VIEW(ll_runs_view_new());
  gtk_notebook_append_page(self->bottom, scrolled_page(GTK_WIDGET(self->runs)),
                           gtk_label_new("Runs"));
  g_signal_connect(self->runs, "open-analysis", G_CALLBACK(on_run_open_analysis), self);
  g_signal_connect(self->runs, "open-spec", G_CALLBACK(on_run_open_spec), self);
  ll_runs_view_refresh(self->runs);

  fill_presets_menu(self);
  fill_recent_menu(self);
  on_doc_changed(self->doc, self);
}

void ll_window_close_all(GtkApplication *app)
{
  /* a window that closes at once leaves the application's list: walk a copy */
  GList *windows = g_list_copy(gtk_application_get_windows(app));
  for (GList *l = windows; l; l = l->next)
    g_object_ref(l->data);
  for (GList *l = windows; l; l = l->next)
    gtk_window_close(l->data);
  g_list_free_full(windows, g_object_unref);
}

LlWindow *ll_window_new(GtkApplication *app)
{
  return g_object_new(LL_TYPE_WINDOW, "application", app, NULL);
}

/* ll-window-private.h: the window's parts, for tests that drive it. */
#pragma once

#include "ll-analysis-view.h"
#include "ll-canvas.h"
#include "ll-curve-view.h"
#include "ll-document.h"
#include "ll-inspector.h"
#include "ll-log-view.h"
#include "ll-palette.h"
#include "ll-runs-view.h"
#include "ll-summary-view.h"
#include "ll-study-view.h"
#include "ll-training-panel.h"
#include "ll-window.h"

G_BEGIN_DECLS

LlDocument *ll_window_get_document(LlWindow *self);
LlCanvas *ll_window_get_canvas(LlWindow *self);
LlInspector *ll_window_get_inspector(LlWindow *self);
LlSummaryView *ll_window_get_summary(LlWindow *self);
LlCurveView *ll_window_get_curves(LlWindow *self);
LlTrainingPanel *ll_window_get_training_panel(LlWindow *self);
LlStudyView *ll_window_get_study(LlWindow *self);
LlPalette *ll_window_get_palette(LlWindow *self);
LlAnalysisView *ll_window_get_analysis(LlWindow *self);
LlRunsView *ll_window_get_runs(LlWindow *self);
LlLogView *ll_window_get_log(LlWindow *self);
/* Shows a page of the bottom notebook ("summary", "curves", "log", "analysis", "runs") or the side
 * one ("block", "training", "study": shown while a study is open). */
void ll_window_show_page(LlWindow *self, const char *page);
gboolean ll_window_is_training(LlWindow *self);
gboolean ll_window_is_paused(LlWindow *self);
/* Where runs are recorded (NULL: the XDG data dir). */
void ll_window_set_store_root(LlWindow *self, const char *root);
/* The status bar's text, and the Start button's tooltip (why it is disabled). */
const char *ll_window_get_status(LlWindow *self);
const char *ll_window_get_start_tooltip(LlWindow *self);
/* The text of the notice bar ("" when hidden). */
const char *ll_window_get_notice(LlWindow *self);
/* The open "Initialise from Run" dialog (win.init-from-run), or NULL. */
GtkWindow *ll_window_get_transfer_dialog(LlWindow *self);
/* The Save / Discard / Cancel question while it is shown, else NULL. */
GtkWindow *ll_window_get_save_prompt(LlWindow *self);
/* The open file chooser (Open, Save As, Export Curves), or NULL. */
GtkFileChooserNative *ll_window_get_chooser(LlWindow *self);
/* The pane that holds the keyboard focus: 0 palette, 1 canvas, 2 side
 * notebook, 3 bottom notebook, -1 none (F6 and Shift+F6 move it). */
int ll_window_get_focus_pane(LlWindow *self);
/* File > Import ONNX... on path, without the file chooser: the import runs
 * in a worker, then the model opens as an unsaved spec (asking about
 * unsaved edits first); errors go to the notice bar. */
void ll_window_import_onnx(LlWindow *self, const char *path);
/* Events handled since the last run started. */
guint ll_window_get_events(LlWindow *self);

G_END_DECLS

/* ll-runs-view.h: the run history and comparison: every run of the store in
 * a sortable, filterable table (read on a worker), and for the selected runs
 * their val_loss / val_accuracy curves (each head's, for a run with several
 * heads) overlaid on shared axes, a diff of
 * their specs (path by path, only where they differ) and an ablation table
 * of the final metrics against the settings that vary. Buttons open a run's
 * analysis or its spec (signals the window answers), and export the
 * comparison as a PDF report or the overlay as PNG / SVG / PDF. */
#pragma once

#include <gtk/gtk.h>

#include "run-store.h"

G_BEGIN_DECLS

/* One row of the table: a run and what its metrics.jsonl says. Immutable once
 * loaded, so workers may read it. */
#define LL_TYPE_RUN_ITEM (ll_run_item_get_type())
G_DECLARE_FINAL_TYPE(LlRunItem, ll_run_item, LL, RUN_ITEM, GObject)

const LlRunInfo *ll_run_item_get_info(LlRunItem *item);
/* A display field: "name", "date", "params", "hyper", "final", "best", "time", "status",
 * "id", "tags". */
const char *ll_run_item_get_text(LlRunItem *item, const char *field);

#define LL_TYPE_RUNS_VIEW (ll_runs_view_get_type())
G_DECLARE_FINAL_TYPE(LlRunsView, ll_runs_view, LL, RUNS_VIEW, GtkBox)

/* Signals:
 *   "open-analysis" (const LlRunInfo *run): show this finished run's analysis.
 *   "open-spec" (const LlRunInfo *run): load its spec_json into the editor. */
GtkWidget *ll_runs_view_new(void);
/* Where runs are recorded (NULL: the XDG data dir). Does not reload. */
void ll_runs_view_set_store_root(LlRunsView *self, const char *root);
/* Re-reads the store and every metrics.jsonl on a worker; the selection is kept by id. */
void ll_runs_view_refresh(LlRunsView *self);
/* TRUE while a reload or an export runs on a worker. */
gboolean ll_runs_view_is_busy(LlRunsView *self);

/* For tests (and the window). The rows shown: LlRunItem, filtered and sorted. */
GListModel *ll_runs_view_get_model(LlRunsView *self);
void ll_runs_view_set_search(LlRunsView *self, const char *text);
/* Sorts by a column, by its field name (see ll_run_item_get_text). */
void ll_runs_view_sort_by(LlRunsView *self, const char *field, gboolean descending);
/* Selects the runs with these ids (NULL-terminated; NULL clears). */
void ll_runs_view_select(LlRunsView *self, const char *const *ids);
/* Series in the val_loss overlay (one per selected run, and one per
 * regression head of a run with several heads). */
int ll_runs_view_get_n_series(LlRunsView *self);
/* The overlay plots: 0 validation loss (and each regression head's MSE), 1
 * validation accuracy (each classification head's, for a run with several
 * heads), or NULL while nothing is selected. */
struct LlCurvePlot *ll_runs_view_get_plot(LlRunsView *self, int i);
/* The spec diff, one "path: value A | value B | ..." line per differing setting. */
char *ll_runs_view_get_diff_text(LlRunsView *self);
/* The ablation table as tab-separated lines, the header first. */
char *ll_runs_view_get_ablation_text(LlRunsView *self);
/* Sets run id's name, notes and tags (comma-separated) in the store, as
 * the Name, Notes, Tags popover does, and reloads. */
gboolean ll_runs_view_edit_run(LlRunsView *self, const char *id, const char *name,
                               const char *notes, const char *tags, GError **error);
/* The last status line ("Wrote ...", errors). */
const char *ll_runs_view_get_message(LlRunsView *self);
/* Exports on a worker; the result shows in the status line (see is_busy). */
void ll_runs_view_export_report(LlRunsView *self, const char *path);
void ll_runs_view_export_overlay(LlRunsView *self, const char *path);
/* The first selected run's model (its best checkpoint, else its last) as
 * ONNX, as `layerlab export RUN --onnx` writes it. */
void ll_runs_view_export_model(LlRunsView *self, const char *path);

G_END_DECLS

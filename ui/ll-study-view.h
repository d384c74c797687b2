/* ll-study-view.h: a study (stages or a sweep) opened in the window: its
 * outline, Run / Stop, and the trials as they finish. The study runs on a
 * worker thread (ll_study_run); its trainers' events come back to the main
 * thread through a queue drained on the frame clock, and are re-emitted as
 * "trial-event" so the window's curves follow the running trial. The
 * figures (metric vs axis, heatmap, small-multiple curves, detection) are
 * drawn by ui/plot/study-figures on notebook pages beside the trial list. */
#pragma once

#include <gtk/gtk.h>

#include "trainer.h"

G_BEGIN_DECLS

#define LL_TYPE_STUDY_VIEW (ll_study_view_get_type())
G_DECLARE_FINAL_TYPE(LlStudyView, ll_study_view, LL, STUDY_VIEW, GtkBox)

GtkWidget *ll_study_view_new(void);
/* Loads a study file; on success the view shows it (and forgets the previous one). */
gboolean ll_study_view_load(LlStudyView *self, const char *path, GError **error);
/* Shows the study e holds (taken) in the editor; path: its file, or NULL. */
typedef struct LlStudyEdit LlStudyEdit;
gboolean ll_study_view_load_edit(LlStudyView *self, LlStudyEdit *e, const char *path,
                                 GError **error);
/* The design editor above Run (the study's axes or stages). */
typedef struct _LlStudyEditor LlStudyEditor;
LlStudyEditor *ll_study_view_get_editor(LlStudyView *self);
/* The base spec of the loaded study, as JSON text (NULL when none is loaded). */
char *ll_study_view_base_spec(LlStudyView *self);
void ll_study_view_clear(LlStudyView *self);
gboolean ll_study_view_has_study(LlStudyView *self);
gboolean ll_study_view_is_running(LlStudyView *self);
/* Shortened runs, as the CLI's --epochs and --limit (0: the study's own),
 * each trial over as many seeds as the design's "Seeds per trial" says (the
 * study's "repeats", an undoable edit; ll_study_view_set_repeats sets it as
 * the user would). */
void ll_study_view_run(LlStudyView *self, int epochs, int limit);
void ll_study_view_set_repeats(LlStudyView *self, int repeats);
/* The text of the Epochs (or, with samples, Samples) per trial field (for tests). */
char *ll_study_view_shorten_text(LlStudyView *self, gboolean samples);
/* The spec the running (or last) trial trains, as JSON (NULL before one
 * started): what the analysis view reads the trial's samples with. */
const char *ll_study_view_get_trial_spec(LlStudyView *self);
void ll_study_view_stop(LlStudyView *self);
/* The best trial's spec (<study>/best-spec.json) once the study has run,
 * else NULL; the "Open best spec" button emits "open-spec" (a path) with it. */
const char *ll_study_view_best_spec(LlStudyView *self);
/* Trials finished so far (for tests). */
guint ll_study_view_n_finished(LlStudyView *self);
/* The text of a cell of the Trials table as shown (sorted as the user chose;
 * column "#", "trial", "seed", "status", "metric", "mean" (the configuration's
 * "mean ± sd (n)" over its seeds), "epochs", "samples", "params" or
 * "seconds"), and sorting
 * it by a column as a click on its header does (for tests). */
char *ll_study_view_cell_text(LlStudyView *self, guint row, const char *column);
gboolean ll_study_view_sort(LlStudyView *self, const char *column, gboolean descending);
/* The figures drawn on the Metric vs axis, Heatmap, Curves and Detection
 * pages (NULL when no study is open); owned by the view. */
typedef struct LlStudyFigures LlStudyFigures;
LlStudyFigures *ll_study_view_get_figures(LlStudyView *self);
/* Shows page "trials", "metric", "heatmap", "curves" or "detection" (FALSE:
 * no such page, or hidden); how often a figure's page has drawn (for tests). */
gboolean ll_study_view_show_page(LlStudyView *self, const char *name);
guint ll_study_view_figure_draws(LlStudyView *self, const char *name);
/* Saves the figure on the page shown to path (PNG, SVG or PDF by its
 * extension, at the page's size and 144 dpi), as Export does once the user
 * has picked a file; says so (or the error) under the table. FALSE with
 * error when the page holds no figure that can be drawn. */
gboolean ll_study_view_export_shown(LlStudyView *self, const char *path, GError **error);

G_END_DECLS

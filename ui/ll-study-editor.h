/* ll-study-editor.h: the design of the open study, editable in the Study
 * tab: a sweep's axes (a value list, or a range on a linear or log scale
 * with a count), its search mode, trial budget and pruning, the metric and
 * its direction, parameter-budget matching; a study of stages' stages (what
 * each starts from, frozen or fine-tuned or re-initialised, its dataset,
 * epochs and loss). Every edit goes through LlStudyEdit (engine/study-edit),
 * so it is undoable and the text is always a study `layerlab study` runs;
 * "changed" tells the Study tab to take the new design, "saved" that it
 * was written to a file. */
#pragma once

#include <gtk/gtk.h>

#include "study-edit.h"

G_BEGIN_DECLS

#define LL_TYPE_STUDY_EDITOR (ll_study_editor_get_type())
G_DECLARE_FINAL_TYPE(LlStudyEditor, ll_study_editor, LL, STUDY_EDITOR, GtkBox)

GtkWidget *ll_study_editor_new(void);
/* Takes e (NULL: nothing to edit); path: the file it came from, or NULL. */
void ll_study_editor_set_edit(LlStudyEditor *self, LlStudyEdit *e, const char *path);
LlStudyEdit *ll_study_editor_get_edit(LlStudyEditor *self);
const char *ll_study_editor_get_path(LlStudyEditor *self);
/* The canvas's spec changed: it becomes the study's (the spec the editor
 * shows on the canvas). An error (a graph that does not load) is shown and
 * kept: ll_study_editor_get_spec_error says why the study cannot run. */
void ll_study_editor_set_canvas_spec(LlStudyEditor *self, const char *spec_json);
const char *ll_study_editor_get_spec_error(LlStudyEditor *self);
/* Seconds per trial measured by the last run (0: none), and its settings,
 * for the time estimate. */
void ll_study_editor_set_throughput(LlStudyEditor *self, double seconds_per_trial, int epochs,
                                    int limit);
/* The trial count and time estimate as shown. */
const char *ll_study_editor_get_summary(LlStudyEditor *self);
/* Adds an axis for path with the values "Vary this..." offers (current: the
 * value now, as JSON); shows the message of a refusal. Returns its index or -1. */
int ll_study_editor_vary(LlStudyEditor *self, const char *path, const char *current);
/* The message under the editor (the last refusal, or "" ). */
const char *ll_study_editor_get_message(LlStudyEditor *self);
/* Undo and redo a study edit (the buttons, and Ctrl+Z while the editor has the focus). */
void ll_study_editor_undo(LlStudyEditor *self);
void ll_study_editor_redo(LlStudyEditor *self);
/* Writes the study (Save Study... once a file is chosen); emits "saved". */
gboolean ll_study_editor_save_to(LlStudyEditor *self, const char *path, GError **error);
/* A control by its name (tests drive the window through these, as a user
 * would): "undo", "redo", "save", "metric", "direction", "mode", "trials",
 * "prune-after", "prune-metric", "budget", "budget-width", "budget-apply",
 * "new-axis-path", "add-axis", "axis-N-path", "axis-N-values", "axis-N-from",
 * "axis-N-to", "axis-N-scale", "axis-N-count", "axis-N-make", "axis-N-remove",
 * "add-stage", "stage-N-from", "stage-N-blocks", "stage-N-how",
 * "stage-N-dataset", "stage-N-epochs", "stage-N-loss", "stage-N-repeat",
 * "stage-N-repeat-path", "stage-N-best-of", "stage-N-metric", "stage-N-show",
 * "stage-N-remove", "repeats" (seeds per trial); and the labels that name
 * what cannot be edited here yet: "fixed" (the study), "stage-N-fixed". */
GtkWidget *ll_study_editor_get_control(LlStudyEditor *self, const char *name);

G_END_DECLS

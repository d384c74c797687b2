/* study-edit.h: a study as the window edits it, with undo and redo.
 *
 * The edited study is its JSON tree (self-contained: specs inlined, as
 * ll_study_to_json writes it). Every edit changes the tree, then loads the
 * result with ll_study_load_data: an edit the loader refuses is undone at
 * once and its error returned, so the text is always a study that
 * `layerlab study` runs. Undo and redo keep the whole text before and
 * after each edit (studies are small). */
#pragma once

#include "study.h"

G_BEGIN_DECLS

typedef struct LlStudyEdit LlStudyEdit;

/* A study file (or a study's text) to edit; base_dir resolves its relative
 * spec paths. The edit starts from the self-contained form. */
LlStudyEdit *ll_study_edit_new(const char *json, const char *display_name, const char *base_dir,
                               GError **error);
/* "New Study from this spec": a grid sweep over the spec (JSON text) with no
 * axes yet, ranked by val_accuracy (maximize) for classifiers, else val_loss. */
LlStudyEdit *ll_study_edit_new_for_spec(const char *spec_json, GError **error);
void ll_study_edit_free(LlStudyEdit *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlStudyEdit, ll_study_edit_free)

/* The study as JSON text (what Save writes), and loaded (a new LlStudy). */
const char *ll_study_edit_text(const LlStudyEdit *e);
LlStudy *ll_study_edit_load(const LlStudyEdit *e, GError **error);
/* Edits since the last save (ll_study_edit_mark_saved). */
gboolean ll_study_edit_modified(const LlStudyEdit *e);
void ll_study_edit_mark_saved(LlStudyEdit *e);
gboolean ll_study_edit_save(LlStudyEdit *e, const char *path, GError **error);

gboolean ll_study_edit_can_undo(const LlStudyEdit *e);
gboolean ll_study_edit_can_redo(const LlStudyEdit *e);
void ll_study_edit_undo(LlStudyEdit *e);
void ll_study_edit_redo(LlStudyEdit *e);

/* How many trials the design makes (a grid's points capped by its trial
 * budget, random/TPE's budget, each stage's repeats), or -1 with the reason
 * (a grid over a continuous range). */
gint64 ll_study_edit_count_trials(const LlStudyEdit *e, GError **error);

/* ---- the whole study ---------------------------------------------------------------- */

gboolean ll_study_edit_is_sweep(const LlStudyEdit *e);
/* The member at a dotted path of the study (sweep.mode, metric, stages.1.name), or NULL. */
JsonNode *ll_study_edit_get(const LlStudyEdit *e, const char *path);
gboolean ll_study_edit_set_name(LlStudyEdit *e, const char *name, GError **error);
gboolean ll_study_edit_set_metric(LlStudyEdit *e, const char *metric, gboolean maximize,
                                  GError **error);
/* budget 0 turns parameter-budget matching off. */
gboolean ll_study_edit_set_budget(LlStudyEdit *e, gint64 budget, const char *solve_width,
                                  GError **error);

/* The seeds every trial runs over (the study's "repeats", 1..100; 1: no repeats). */
int ll_study_edit_repeats(const LlStudyEdit *e);
gboolean ll_study_edit_set_repeats(LlStudyEdit *e, int repeats, GError **error);

/* ---- the base spec (what the canvas shows) ------------------------------------------- */

/* The spec the canvas shows: the study's base spec, or stage `stage`'s own
 * (stage -1: the base spec, or the first stage's spec when there is none). */
char *ll_study_edit_spec_json(const LlStudyEdit *e, int stage);
/* Replaces that spec by the canvas's (not an undoable study edit: the
 * canvas's own undo covers it, and undoing study edits keeps it). */
gboolean ll_study_edit_set_spec_json(LlStudyEdit *e, int stage, const char *spec_json,
                                     GError **error);
/* The stage whose spec the canvas shows (-1: the base spec). */
int ll_study_edit_spec_stage(const LlStudyEdit *e);
void ll_study_edit_set_spec_stage(LlStudyEdit *e, int stage);

/* ---- sweeps ------------------------------------------------------------------------- */

int ll_study_edit_n_axes(const LlStudyEdit *e);
/* Axis i as text: its path, and "v1, v2, ..." (a value list) or "lo..hi" with
 * its kind (a continuous range); NULL past the end. */
char *ll_study_edit_axis_path(const LlStudyEdit *e, int i);
char *ll_study_edit_axis_values(const LlStudyEdit *e, int i);
/* Adds an axis (or replaces the one with that path) with values "v1, v2, ..."
 * (commas; each parsed as JSON, else taken as a string). Returns its index. */
int ll_study_edit_add_axis(LlStudyEdit *e, const char *path, const char *values, GError **error);
gboolean ll_study_edit_set_axis_values(LlStudyEdit *e, int i, const char *values, GError **error);
gboolean ll_study_edit_set_axis_path(LlStudyEdit *e, int i, const char *path, GError **error);
/* A range lo..hi: count > 1 makes that many values (evenly spaced, in log
 * space for log; whole numbers when lo and hi are), count 0 a continuous
 * range for random and TPE search (int when lo and hi are whole and linear). */
gboolean ll_study_edit_set_axis_range(LlStudyEdit *e, int i, double lo, double hi,
                                      gboolean log_scale, int count, GError **error);
gboolean ll_study_edit_remove_axis(LlStudyEdit *e, int i, GError **error);
/* trials 0: all grid points (grid) or 20 (random, TPE). */
gboolean ll_study_edit_set_search(LlStudyEdit *e, LlSearchMode mode, int trials, GError **error);
/* after_epochs 0 turns pruning off. */
gboolean ll_study_edit_set_pruning(LlStudyEdit *e, int after_epochs, const char *metric,
                                   int min_trials, GError **error);

/* Sensible values for a property a user wants to vary ("Vary this..."), as
 * "v1, v2, ..." for ll_study_edit_add_axis: widths 32, 64, 128, 256; a
 * learning rate 1e-4..1e-2 on a log scale (4 values); an activation's type
 * the activation types; a probability 0, 0.1, 0.25, 0.5; else the value
 * halved, as is and doubled. current is the property's value as JSON. */
char *ll_study_vary_values(const char *path, const char *current);

/* ---- stages ------------------------------------------------------------------------- */

int ll_study_edit_n_stages(const LlStudyEdit *e);
char *ll_study_edit_stage_name(const LlStudyEdit *e, int i);
/* Appends a stage that trains the base spec (or the last stage's spec) from
 * random weights; name NULL: "stage N". Returns its index. */
int ll_study_edit_add_stage(LlStudyEdit *e, const char *name, GError **error);
gboolean ll_study_edit_remove_stage(LlStudyEdit *e, int i, GError **error);
/* What stage i starts from: from_stage NULL for random weights; else that
 * earlier stage's best run, the blocks "b1, b2" (NULL or "": all that
 * match), frozen or fine-tuned; reinit: the same blocks re-initialised at
 * random (the control). */
gboolean ll_study_edit_set_stage_init(LlStudyEdit *e, int i, const char *from_stage,
                                      const char *blocks, gboolean frozen, gboolean reinit,
                                      GError **error);
/* What stage i starts from, as set_stage_init takes it (from_stage NULL: random weights). */
void ll_study_edit_get_stage_init(const LlStudyEdit *e, int i, char **from_stage, char **blocks,
                                  gboolean *frozen, gboolean *reinit);
/* The stage's dataset folder/file (data.dataset.path), epochs and the type
 * of its first loss; NULL/0 keep what its spec says. */
gboolean ll_study_edit_set_stage_dataset(LlStudyEdit *e, int i, const char *path, GError **error);
gboolean ll_study_edit_set_stage_epochs(LlStudyEdit *e, int i, int epochs, GError **error);
gboolean ll_study_edit_set_stage_loss(LlStudyEdit *e, int i, const char *loss_type,
                                      GError **error);
/* Stage i's "repeat": one trial per value of "v1, v2, ..." (read as axis
 * values are); path: the spec path each trial sets to its value (an
 * override "$value"), NULL or "" where the stage uses "$value" elsewhere
 * (init_from's "first"). values NULL or "": one trial, and the override
 * the value set goes too. The path is tried with the first value. */
gboolean ll_study_edit_set_stage_repeat(LlStudyEdit *e, int i, const char *values,
                                        const char *path, GError **error);
/* As set_stage_repeat takes them ("" for none). */
void ll_study_edit_get_stage_repeat(const LlStudyEdit *e, int i, char **values, char **path);
/* "best_of": the overrides of that earlier stage's best trial apply first
 * (NULL or "": none). */
gboolean ll_study_edit_set_stage_best_of(LlStudyEdit *e, int i, const char *stage,
                                         GError **error);
/* The metric that ranks stage i's trials (NULL or "": the study's). */
gboolean ll_study_edit_set_stage_metric(LlStudyEdit *e, int i, const char *metric,
                                        GError **error);
/* The fields of stage i (i -1: of the study) that the editor has no
 * control for, as the file names them ("export_outputs",
 * "overrides.training.schedule", "init_from.first", "groups"; names and
 * descriptions, never editable here, are left out); Save keeps them as
 * they are. NULL when there are none, else free with g_strfreev. */
char **ll_study_edit_fixed_fields(const LlStudyEdit *e, int i);
/* The value stage i trains with at a spec path (its override, else its spec's). */
JsonNode *ll_study_edit_stage_value(const LlStudyEdit *e, int i, const char *spec_path);

G_END_DECLS

/* study.h: many runs of one spec, as one experiment (format "layerlab-study",
 * version 1; docs/study-format.md documents every field).
 *
 * A study names a base spec and either a chain of stages (pretrain, then
 * transfer into a classifier, ...) or a sweep over axes (paths into the spec,
 * a grid, random or TPE search). Every variant is made by editing the spec's
 * JSON text and loading it again, so it passes the normal validation and its
 * errors name the path that was overridden. Each trial is a normal run in the
 * run store; the study keeps its own folder <root>/studies/<id>/ with
 * study.json (self-contained: specs inlined), trials.jsonl (one line per
 * trial) and results.csv, and can be resumed. */
#pragma once

#include <json-glib/json-glib.h>

#include "trainer.h"

G_BEGIN_DECLS

#define LL_STUDY_FORMAT  "layerlab-study"
#define LL_STUDY_VERSION 1

/* A deep copy (json_node_copy shares the objects and arrays it holds). */
JsonNode *ll_json_node_dup(JsonNode *n);

/* ---- overrides: editing a spec's JSON by path ---------------------------------- */

/* Sets the member at path ("training.optimizer.lr", "graph.blocks.fc1.props.out_features",
 * "graph.blocks.*.props.negative_slope": every block whose type has that property) in a
 * spec's JSON tree to a copy of value. Missing intermediate objects are created. Errors
 * name the path. */
gboolean ll_spec_json_set(JsonNode *spec_root, const char *path, JsonNode *value, GError **error);
/* The same on text: returns the edited spec as JSON text. */
char *ll_spec_json_override(const char *spec_json, const char *path, JsonNode *value,
                            GError **error);

/* ---- search spaces ------------------------------------------------------------------ */

typedef enum {
  LL_AXIS_VALUES,      /* an explicit list (a grid axis; a choice in random/TPE) */
  LL_AXIS_UNIFORM,     /* float in [lo, hi] */
  LL_AXIS_LOG_UNIFORM, /* float in [lo, hi], sampled in log space */
  LL_AXIS_INT,         /* integer in [lo, hi] */
} LlAxisKind;

typedef struct {
  char *path;
  LlAxisKind kind;
  double lo, hi;
  GPtrArray *values; /* JsonNode*, for LL_AXIS_VALUES */
} LlAxis;

typedef enum { LL_SEARCH_GRID, LL_SEARCH_RANDOM, LL_SEARCH_TPE } LlSearchMode;
extern const char *const ll_search_mode_names[]; /* "grid", "random", "tpe" */

/* A point in the search space: per axis, the value (numeric axes) or the
 * index into values (LL_AXIS_VALUES). */
typedef struct {
  double *x;
  double objective; /* NAN: failed or pruned (ignored by TPE) */
} LlObservation;

/* The number of grid points (product of the axes' sizes; an int axis counts
 * hi - lo + 1), or -1 with an error when an axis is continuous. */
gint64 ll_search_grid_size(const LlAxis *axes, int n_axes, GError **error);
/* Grid point i (row-major: the last axis changes fastest) into x. */
void ll_search_grid_point(const LlAxis *axes, int n_axes, gint64 i, double *x);
/* Suggests trial number `trial` (random and TPE), deterministic in seed and
 * history. TPE: random for the first n_startup trials, then the Tree-structured
 * Parzen Estimator (gamma 0.25, 24 candidates from the good model, max l/g). */
void ll_search_suggest(const LlAxis *axes, int n_axes, LlSearchMode mode,
                       const LlObservation *history, int n_history, gboolean maximize,
                       uint64_t seed, int trial, double *x);
/* The JSON value axis a takes at x. */
JsonNode *ll_axis_value(const LlAxis *a, double x);

/* ---- the study ---------------------------------------------------------------------- */

typedef enum {
  LL_TRIAL_PENDING,
  LL_TRIAL_FINISHED,
  LL_TRIAL_PRUNED,
  LL_TRIAL_FAILED,
} LlTrialStatus;
extern const char *const ll_trial_status_names[]; /* "pending", "finished", "pruned", "failed" */

typedef struct {
  int index;          /* 0-based, in the order trials run */
  char *key;          /* stable id for resuming: "pretrain", "transfer[2]", "t7" */
  char *stage;        /* stage name, or "sweep" */
  char *label;        /* "transfer N=2", "lr=0.01 type=adam" */
  JsonObject *values; /* setting name -> value (axis paths, or "value" of a repeat) */
  char *run_id;
  gint64 params;
  gint64 budget; /* the parameter budget its width was solved for, 0: none */
  double metric; /* its stage's metric (the study's unless the stage names one), NAN if none */
  JsonObject *metrics; /* final metrics (test_*), last epoch's val_* and train_* */
  GArray *curve;       /* double: the pruning metric per epoch */
  LlTrialStatus status;
  double seconds;
  char *error;
  char *checkpoint;      /* final checkpoint */
  double *x;             /* sweep: the point, per axis (see LlObservation) */
  JsonObject *overrides; /* path -> value this trial applied (stage or axes) */
  int repeat;            /* 0-based: which of the study's "repeats" (seeds) it is */
  gint64 seed;           /* the training seed it ran with, -1: unknown */
  int epochs;            /* the epochs it trained (after shortening, pruning), 0: unknown */
  gint64 samples;        /* the training samples of each epoch, 0: unknown */
  char *spec_json;       /* the spec it trains, as it trains (not in trials.jsonl) */
} LlTrial;

/* A deep copy (n_axes: the length of x, for sweeps), for another thread. */
LlTrial *ll_trial_copy(const LlTrial *t, int n_axes);
void ll_trial_free(LlTrial *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlTrial, ll_trial_free)

/* Trials that differ only in their seed (the study's "repeats") as one row:
 * a metric's mean and spread over the repeats that finished. */
typedef struct {
  const LlTrial *first; /* the lowest repeat of the group (borrowed) */
  int n;                /* trials in the group */
  int n_finished;       /* of them finished with a finite metric */
  double mean, sd;      /* NAN without one; sd: sample standard deviation, 0 for one */
  double min, max;
} LlTrialGroup;

/* The groups of trials (LlTrial*, any order) in the order their first trial
 * appears; metric: the member of LlTrial.metrics to average (NULL:
 * LlTrial.metric). Pruned and failed trials count in n only. */
GArray *ll_trial_groups(GPtrArray *trials, const char *metric);
/* Sorts groups best mean first (groups without one last, in their order). */
void ll_trial_groups_rank(GArray *groups, gboolean maximize);
/* Whether two trials are repeats of one configuration. */
gboolean ll_trial_same_group(const LlTrial *a, const LlTrial *b);

typedef struct LlStudy LlStudy;

/* Loads a study file. Relative spec paths are relative to the study file. */
LlStudy *ll_study_load_file(const char *path, GError **error);
LlStudy *ll_study_load_data(const char *data, gssize len, const char *display_name,
                            const char *base_dir, GError **error);
/* A sweep over a spec file with no axes yet (the command line adds them). */
LlStudy *ll_study_new_for_spec(const char *spec_path, GError **error);
void ll_study_free(LlStudy *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlStudy, ll_study_free)

const char *ll_study_name(const LlStudy *s);
const char *ll_study_description(const LlStudy *s);
gboolean ll_study_is_sweep(const LlStudy *s);
/* The base spec as JSON text (what the window shows on its canvas). */
char *ll_study_base_spec_json(const LlStudy *s);
/* "3 stages: pretrain, frozen, finetuned" or "grid over 2 axes, 12 trials" */
char *ll_study_outline(const LlStudy *s);
const char *ll_study_metric(const LlStudy *s);
/* The metric LlTrial.curve holds per epoch (the pruning metric, default val_loss). */
const char *ll_study_curve_metric(const LlStudy *s);
gboolean ll_study_maximize(const LlStudy *s);
/* Sweep axes (the CLI may add or replace them; a path given again replaces its axis). */
int ll_study_n_axes(const LlStudy *s);
const LlAxis *ll_study_axis(const LlStudy *s, int i);
/* "v1,v2,..." (each parsed as JSON, else taken as a string) */
gboolean ll_study_add_axis_values(LlStudy *s, const char *path, const char *csv, GError **error);
/* "lo:hi" (ints: an int range, else uniform) or "lo:hi:log" */
gboolean ll_study_add_axis_range(LlStudy *s, const char *path, const char *range, GError **error);
void ll_study_set_mode(LlStudy *s, LlSearchMode mode);
void ll_study_set_trials(LlStudy *s, int trials);
/* "repeats": every trial runs k times, repeat r with the training seed of its
 * spec plus r (1..LL_STUDY_MAX_REPEATS). */
#define LL_STUDY_MAX_REPEATS 100
int ll_study_repeats(const LlStudy *s);
void ll_study_set_repeats(LlStudy *s, int repeats);
/* The study as self-contained JSON (specs inlined), as written to study.json. */
char *ll_study_to_json(const LlStudy *s);

/* The spec text of a sweep variant (values per axis as from ll_search_*),
 * after groups and the parameter budget are applied; params_out (may be NULL)
 * receives its parameter count. For tests and the window's preview. */
char *ll_study_variant_json(LlStudy *s, const double *x, gint64 *params_out, GError **error);

typedef struct {
  const char *store_root; /* NULL: the XDG data dir */
  int epochs; /* > 0: the longest trial trains this many epochs, every other one in
               * proportion to its own (rounded, at least 1): a stage twice as long as
               * another stays about twice as long */
  int limit;  /* > 0: data.dataset.limit_train and limit_test become at most this (a
               * stage that uses fewer samples keeps its own limit) */
  int repeats; /* > 0 overrides the study's "repeats" */
  const char *resume;     /* a study id: skip its finished trials */
  const char *device;
  volatile int *cancel; /* set to nonzero to stop after (or during) the current trial */
  gboolean background;  /* trials run at lower priority (see LlTrainOptions) */
} LlStudyOptions;

typedef struct {
  void (*trial_started)(const LlTrial *t, int total, gpointer data);
  /* every event of the trial's trainer (epoch, batch, log, ...) */
  void (*trial_event)(const LlTrial *t, const LlEvent *e, gpointer data);
  void (*trial_finished)(const LlTrial *t, int total, gpointer data);
} LlStudyCallbacks;

/* Runs the trials one after another in the calling thread (each trainer has
 * its own thread). Returns FALSE with an error when the study cannot start
 * or was cancelled; trials that fail are recorded and the study goes on. */
gboolean ll_study_run(LlStudy *s, const LlStudyOptions *opts, const LlStudyCallbacks *cb,
                      gpointer data, GError **error);
/* After ll_study_run: the id, the folder, the trials (LlTrial*), the best. */
const char *ll_study_id(const LlStudy *s);
const char *ll_study_dir(const LlStudy *s);
GPtrArray *ll_study_trials(const LlStudy *s);
const LlTrial *ll_study_best(const LlStudy *s);
/* The study's metric for t (what its results table shows; a stage ranked by
 * a metric of its own keeps that in LlTrial.metric), NAN when t has none. */
double ll_study_trial_metric(const LlStudy *s, const LlTrial *t);
/* The name of the metric in t->metric: its stage's own, or the study's. */
const char *ll_study_stage_metric(const LlStudy *s, const LlTrial *t);
/* The best trial's value of the study's metric (NAN without a best trial);
 * with repeats, the mean over the best configuration's seeds (the best trial
 * is then that configuration's best seed). */
double ll_study_best_metric(const LlStudy *s);
/* The group (repeats over seeds) of the best trial; FALSE without one. */
gboolean ll_study_best_group(const LlStudy *s, LlTrialGroup *out);
/* <dir>/best-spec.json: the best trial's spec as it trained (written with
 * results.csv), or NULL while there is none. */
char *ll_study_best_spec_path(const LlStudy *s);
/* A finished (or stopped) study read back from its folder: study.json and
 * trials.jsonl; id, dir, trials and best as after ll_study_run (to draw its
 * figures again). Errors name the folder. */
LlStudy *ll_study_open_dir(const char *dir, GError **error);
/* <store_root>/studies/<id>: the folder of a study of the store, for an id
 * typed on the command line (--resume, report --study). The id is checked
 * (ll_store_id_check: no path), the folder must exist inside the store. */
char *ll_study_store_dir(const char *store_root, const char *id, GError **error);

G_END_DECLS

/* study-figures.h: the figures of a study, headless (cairo + engine types,
 * no GTK), drawn from its trials (LlTrial, live or read back from
 * trials.jsonl) and the per-step outputs its stages export:
 *
 *   metric     a sweep: the study's metric against each axis value (log x for
 *              log-uniform axes or values spanning two decades; with two axes,
 *              one line per value of the other); stages: a bar per trial,
 *              coloured by stage;
 *   heatmap    the metric over two axes (mean over the others), the value in
 *              each cell, a colour bar (darker is better), the best cell
 *              outlined, cells without a result hatched;
 *   curves     a small panel per trial with its per-epoch curve, one y range;
 *   detection  output probability against step for a few test sequences with
 *              the true change point marked, a panel per model (the
 *              "sample,step,target,output" CSVs of export_outputs).
 *
 * `layerlab study`/`sweep`/`report --study` write them to <study>/figures/;
 * the window's Study tab paints the same functions. */
#pragma once

#include "plot-common.h"
#include "study.h"

G_BEGIN_DECLS

typedef enum {
  LL_STUDY_FIG_METRIC,
  LL_STUDY_FIG_HEATMAP,
  LL_STUDY_FIG_CURVES,
  LL_STUDY_FIG_DETECTION,
  LL_STUDY_N_FIGS
} LlStudyFigure;
extern const char *const ll_study_figure_names[]; /* "metric", "heatmap", "curves", "detection" */

typedef struct LlStudyFigures LlStudyFigures;

/* Takes the study's name, metric, direction and axes, and its trials so far
 * (ll_study_trials, copied). The study is not kept. */
LlStudyFigures *ll_study_figures_new(const LlStudy *s);
void ll_study_figures_free(LlStudyFigures *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlStudyFigures, ll_study_figures_free)

/* Adds (a copy of) a trial that finished; replaces one with the same index. */
void ll_study_figures_add_trial(LlStudyFigures *f, const LlTrial *t);
void ll_study_figures_clear_trials(LlStudyFigures *f);
guint ll_study_figures_n_trials(const LlStudyFigures *f);
/* Reads every CSV in dir whose header is "sample,step,target,output"
 * (detection-lstm.csv, ...): a detection panel each. Files that do not parse
 * are reported in error and skipped; returns FALSE if any did not. */
gboolean ll_study_figures_load_outputs(LlStudyFigures *f, const char *dir, GError **error);
/* The study id printed on the figures (NULL: none). */
void ll_study_figures_set_stamp(LlStudyFigures *f, const char *study_id);

/* The heatmap's axes (indices into the study's axes; rows a, columns b). */
void ll_study_figures_set_heatmap_axes(LlStudyFigures *f, int a, int b);
int ll_study_figures_n_axes(const LlStudyFigures *f);
/* A short name for axis i ("code.out_features" for graph.blocks.code.props.out_features). */
const char *ll_study_figures_axis_name(const LlStudyFigures *f, int i);

/* Whether the figure has anything to show; if not, why (for the window). */
gboolean ll_study_figures_available(const LlStudyFigures *f, LlStudyFigure which, const char **why);
/* A good size for the exported figure, in 96-DPI pixels. */
void ll_study_figures_size(const LlStudyFigures *f, LlStudyFigure which, double *width,
                           double *height);
/* A good height for the figure drawn width wide (the window's pages). */
double ll_study_figures_height_for_width(const LlStudyFigures *f, LlStudyFigure which,
                                         double width);
/* Draws into (0, 0, width, height) of cr; an unavailable figure says why. */
void ll_study_figures_draw(LlStudyFigures *f, LlStudyFigure which, cairo_t *cr, double width,
                           double height);
/* One figure to a PNG, SVG or PDF file (format NULL: the extension). */
gboolean ll_study_figures_export(LlStudyFigures *f, LlStudyFigure which, const char *path,
                                 const char *format, double width, double height, double dpi,
                                 GError **error);
/* Every available figure as dir/<name>.png and .svg (dir is created); the
 * paths written are appended to written (may be NULL). */
gboolean ll_study_figures_export_all(LlStudyFigures *f, const char *dir, GPtrArray *written,
                                     GError **error);
/* A study folder's figures drawn again into <study_dir>/figures/ (study.json,
 * trials.jsonl and the exported CSVs). */
gboolean ll_study_export_figures_dir(const char *study_dir, GPtrArray *written, GError **error);

/* For tests and hit testing: the points of the metric plot (finished or
 * pruned trials with a metric) on axis panel `axis`, and where trial index
 * lands in a figure of width x height (FALSE: not drawn). */
int ll_study_figures_metric_points(LlStudyFigures *f, int axis);
gboolean ll_study_figures_metric_point(LlStudyFigures *f, double width, double height, int axis,
                                       int trial_index, double *px, double *py);
/* The heatmap's grid: rows x cols, the cell value (NAN: none), the cell's rectangle. */
void ll_study_figures_heatmap_shape(LlStudyFigures *f, int *rows, int *cols);
double ll_study_figures_heatmap_value(LlStudyFigures *f, int row, int col);
gboolean ll_study_figures_heatmap_cell(LlStudyFigures *f, double width, double height, int row,
                                       int col, LlPlotRect *out);

G_END_DECLS

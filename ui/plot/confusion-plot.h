/* confusion-plot.h: a confusion matrix heatmap (counts or row-normalised
 * rates) with class names on both axes, a colour bar, and the
 * classification report (per-class precision, recall, F1, support; macro
 * and weighted averages; accuracy) beside it. Cairo only. */
#pragma once

#include <stdint.h>

#include "plot-common.h"

G_BEGIN_DECLS

typedef struct LlConfusionPlot LlConfusionPlot;

LlConfusionPlot *ll_confusion_plot_new(void);
void ll_confusion_plot_free(LlConfusionPlot *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlConfusionPlot, ll_confusion_plot_free)

/* Copies the matrix (n x n, row = true class) and the report (each may be
 * NULL: recomputed from the matrix). names: n strings or NULL (numbers). */
void ll_confusion_plot_set_data(LlConfusionPlot *p, int n, const int64_t *counts,
                                char *const *names);
/* A binary classifier's matrix (n 2, class 1 positive at threshold 0.5):
 * the report adds the positive class's precision, recall and F1 and the
 * ROC AUC (NAN: not known). Cleared by set_data. */
void ll_confusion_plot_set_binary(LlConfusionPlot *p, double roc_auc);
/* The text of the binary lines ("" when not binary), for tests. */
const char *ll_confusion_plot_get_binary_text(LlConfusionPlot *p);
void ll_confusion_plot_set_title(LlConfusionPlot *p, const char *title);
void ll_confusion_plot_set_stamp(LlConfusionPlot *p, const char *run_id);
void ll_confusion_plot_set_normalized(LlConfusionPlot *p, gboolean rates);
void ll_confusion_plot_set_show_report(LlConfusionPlot *p, gboolean show);
/* Outlines a cell (row < 0: none). */
void ll_confusion_plot_set_selected(LlConfusionPlot *p, int row, int col);

void ll_confusion_plot_draw(LlConfusionPlot *p, cairo_t *cr, double width, double height);
/* The cell under (px, py), for a plot drawn at width x height. */
gboolean ll_confusion_plot_cell_at(LlConfusionPlot *p, double width, double height, double px,
                                   double py, int *row, int *col);
/* Where cell (row, col) lies (for tests and hit testing). */
void ll_confusion_plot_cell_rect(LlConfusionPlot *p, double width, double height, int row, int col,
                                 LlPlotRect *out);
/* The report's numbers for class k (or k = n: macro, n + 1: weighted). */
void ll_confusion_plot_report_row(LlConfusionPlot *p, int k, double *precision, double *recall,
                                  double *f1, int64_t *support);
gboolean ll_confusion_plot_export(LlConfusionPlot *p, const char *path, const char *format,
                                  double width, double height, double dpi, GError **error);

G_END_DECLS

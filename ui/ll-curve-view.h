/* ll-curve-view.h: live training curves. A thin GTK adapter over two
 * LlCurvePlots (ui/plot/curve-plot.h): loss (per step and per epoch) and
 * accuracy (per epoch), with a log-y toggle, an EMA smoothing slider, a
 * hover readout, scroll zoom and drag pan along x (double-click fits).
 * The previous run stays visible, faded. */
#pragma once

#include <gtk/gtk.h>

#include "trainer.h"

G_BEGIN_DECLS

#define LL_TYPE_CURVE_VIEW (ll_curve_view_get_type())
G_DECLARE_FINAL_TYPE(LlCurveView, ll_curve_view, LL, CURVE_VIEW, GtkBox)

GtkWidget *ll_curve_view_new(void);
/* A run starts: the current curves become the faded previous run. */
void ll_curve_view_new_run(LlCurveView *self);
/* Another document: no curves at all, the previous run's neither. */
void ll_curve_view_clear(LlCurveView *self);
/* x is in epochs (fractional for steps). NAN values are skipped. */
void ll_curve_view_add_step(LlCurveView *self, double x, double loss);
void ll_curve_view_add_epoch(LlCurveView *self, double epoch, double train_loss, double val_loss,
                             double train_acc, double val_acc);
/* An LL_EVENT_EPOCH: its losses and accuracies, and each head's validation
 * metric (ll_metric_parse_head) as a series of its own: accuracies beside
 * the others (then no separate "validation" series: it is the first head's),
 * MSEs in the loss plot. */
void ll_curve_view_add_epoch_event(LlCurveView *self, const LlEvent *e);
/* Points received since the run started (all series). */
guint ll_curve_view_get_n_points(LlCurveView *self);
void ll_curve_view_set_log_y(LlCurveView *self, gboolean log_y);
void ll_curve_view_set_smoothing(LlCurveView *self, double weight);
/* Writes both plots side by side to a PNG, SVG or PDF file. */
gboolean ll_curve_view_export(LlCurveView *self, const char *path, GError **error);
/* For tests: plot i (0 loss, 1 accuracy) and its drawing area. */
struct LlCurvePlot *ll_curve_view_get_plot(LlCurveView *self, int i);
GtkWidget *ll_curve_view_get_area(LlCurveView *self, int i);

G_END_DECLS

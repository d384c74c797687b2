/* curve-plot.h: training curves drawn on a bare cairo_t.
 *
 * No GTK here, so the same code paints the window (through LlCurveView) and
 * exports PNG, SVG or PDF headless. A plot holds named series of (x, y)
 * points; drawing decimates each series to about one min/max pair per pixel
 * column and optionally smooths it with a debiased EMA (TensorBoard's). */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct LlCurvePlot LlCurvePlot;

LlCurvePlot *ll_curve_plot_new(const char *title, const char *x_label);
void ll_curve_plot_free(LlCurvePlot *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlCurvePlot, ll_curve_plot_free)

/* Adds a series; returns its index. rgb in 0..1. `markers` draws a dot at
 * each point (per-epoch series); `smooth` lets the EMA apply to it. */
int ll_curve_plot_add_series(LlCurvePlot *p, const char *name, double r, double g, double b,
                             gboolean markers, gboolean smooth);
void ll_curve_plot_append(LlCurvePlot *p, int series, double x, double y);
guint ll_curve_plot_series_len(const LlCurvePlot *p, int series);
void ll_curve_plot_clear(LlCurvePlot *p, int series);
int ll_curve_plot_n_series(const LlCurvePlot *p);
const char *ll_curve_plot_series_name(const LlCurvePlot *p, int series);
/* Moves every series' points into its faded "previous run" copy (dropping the
 * one before), leaving the series empty for the next run. */
void ll_curve_plot_start_new_run(LlCurvePlot *p);
/* Empties every series and its previous run, and fits the view again. */
void ll_curve_plot_clear_all(LlCurvePlot *p);

void ll_curve_plot_set_log_y(LlCurvePlot *p, gboolean log_y);
gboolean ll_curve_plot_get_log_y(const LlCurvePlot *p);
/* EMA weight in [0, 0.999]; 0: raw points. */
void ll_curve_plot_set_smoothing(LlCurvePlot *p, double weight);
/* The visible x range; x0 >= x1 returns to fitting the data. */
void ll_curve_plot_set_x_range(LlCurvePlot *p, double x0, double x1);
/* The x range currently shown (the fitted one when none is set). */
void ll_curve_plot_get_x_range(const LlCurvePlot *p, double *x0, double *x1);

/* The y range drawn at that size (log10 units on a log axis). */
void ll_curve_plot_get_y_range(LlCurvePlot *p, double width, double height, double *y0, double *y1);
/* Draws into (0, 0, width, height) of cr. */
void ll_curve_plot_draw(LlCurvePlot *p, cairo_t *cr, double width, double height);
/* The plot area's x coordinate of data x, and back (for zoom and pan). */
double ll_curve_plot_x_to_data(const LlCurvePlot *p, double width, double px);
/* Marks a hover position (px < 0: none); the next draw shows the readout. */
void ll_curve_plot_set_hover(LlCurvePlot *p, double px);
/* The readout text at the hover position ("step 1.25: train 0.53, ..."), or NULL. */
char *ll_curve_plot_hover_text(LlCurvePlot *p, double width);

/* The run id stamped on the figure (NULL: none). */
void ll_curve_plot_set_stamp(LlCurvePlot *p, const char *run_id);
/* Writes the plot to a PNG, SVG or PDF file: format "png", "svg", "pdf" or
 * NULL (the name's extension); width x height in 96-DPI pixels (points for
 * the vector formats); PNG rendered at dpi. */
gboolean ll_curve_plot_export_full(LlCurvePlot *p, const char *path, const char *format,
                                   double width, double height, double dpi, GError **error);
/* Writes the plot to a PNG, SVG or PDF file, by the name's extension. */
gboolean ll_curve_plot_export(LlCurvePlot *p, const char *path, int width, int height,
                              GError **error);

G_END_DECLS

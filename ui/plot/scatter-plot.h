/* scatter-plot.h: a 2-D scatter of labelled points (t-SNE, PCA) with axes,
 * a class legend, pan and zoom, on a bare cairo_t.
 *
 * Two ways to paint the points: vector (one rectangle per point, filled
 * per class: the export path, exact in SVG and PDF) and raster (points
 * written straight into an image surface's pixels, then painted: what the
 * window uses, holding well under a frame for 70,000 points; see
 * tests/bench/bench-scatter.c). */
#pragma once

#include "plot-common.h"

G_BEGIN_DECLS

typedef struct LlScatterPlot LlScatterPlot;

LlScatterPlot *ll_scatter_plot_new(const char *title);
void ll_scatter_plot_free(LlScatterPlot *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlScatterPlot, ll_scatter_plot_free)

/* Copies n points (x, y) with labels in [0, n_classes) (others are grey);
 * names: n_classes strings or NULL. Fits the view. */
void ll_scatter_plot_set_points(LlScatterPlot *p, const float *xy, // (n, 2)
                                const int *labels, int n, int n_classes, char *const *names);
/* Replaces the coordinates only (a new frame of the same points); the view
 * refits unless the user zoomed or panned. */
void ll_scatter_plot_update_xy(LlScatterPlot *p, const float *xy, int n);
int ll_scatter_plot_len(const LlScatterPlot *p);
void ll_scatter_plot_set_title(LlScatterPlot *p, const char *title);
void ll_scatter_plot_set_subtitle(LlScatterPlot *p, const char *subtitle);
void ll_scatter_plot_set_axis_labels(LlScatterPlot *p, const char *x, const char *y);
void ll_scatter_plot_set_stamp(LlScatterPlot *p, const char *run_id);
void ll_scatter_plot_set_raster(LlScatterPlot *p, gboolean raster);

/* View: fit to the data; zoom by factor about pixel (px, py); pan by pixels. */
void ll_scatter_plot_fit(LlScatterPlot *p);
void ll_scatter_plot_zoom(LlScatterPlot *p, double width, double height, double px, double py,
                          double factor);
void ll_scatter_plot_pan(LlScatterPlot *p, double width, double height, double dx, double dy);

/* The nearest point within max_px of (px, py), or -1. */
int ll_scatter_plot_point_at(LlScatterPlot *p, double width, double height, double px, double py,
                             double max_px);
/* Rings point i (-1: none). */
void ll_scatter_plot_set_hover(LlScatterPlot *p, int i);
/* The plot area for a figure of width x height. */
void ll_scatter_plot_area(LlScatterPlot *p, double width, double height, LlPlotRect *out);

void ll_scatter_plot_draw(LlScatterPlot *p, cairo_t *cr, double width, double height);
/* Exports with the vector path (raster off) whatever the screen uses. */
gboolean ll_scatter_plot_export(LlScatterPlot *p, const char *path, const char *format,
                                double width, double height, double dpi, GError **error);

G_END_DECLS

/* ll-plot-style.h: the colour scheme a plot widget draws in on screen,
 * taken from the widget's style (light or dark): its text colour and the
 * theme's view background. Exports keep the light scheme (plot-common). */
#pragma once

#include <gtk/gtk.h>

#include "plot-common.h"

G_BEGIN_DECLS

/* The scheme of w's style. */
void ll_plot_style_of(GtkWidget *w, LlPlotScheme *scheme);
/* Sets w's scheme on cr: every draw function over ui/plot calls it first. */
void ll_plot_style_apply(GtkWidget *w, cairo_t *cr);

G_END_DECLS

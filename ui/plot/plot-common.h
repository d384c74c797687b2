/* plot-common.h: what every plot shares, on a bare cairo_t (no GTK): nice
 * tick steps, tick labels, numeric axes with grid, title, legend, class
 * colours, the run-id stamp, and export to PNG (size and DPI), SVG or PDF.
 * One copy of the axes and legend code, so every figure reads the same. */
#pragma once

#include <cairo.h>
#include <glib.h>
#include <pango/pangocairo.h>

G_BEGIN_DECLS

typedef struct {
  double x, y, w, h;
} LlPlotRect;

typedef struct {
  const char *name;
  double rgb[3];
} LlLegendEntry;

typedef struct {
  double x0, x1, y0, y1; /* data ranges; y in log10 units when log_y */
  gboolean log_y;
  const char *x_label, *y_label; /* may be NULL */
  gboolean x_integer;            /* whole-number ticks (epochs) unless zoomed into one or two */
  gboolean log_x;                /* x0, x1 in log10 units; ll_plot_map_x takes the value */
  /* categorical x: category i sits at x = i (x0, x1 about -0.5, n - 0.5), labelled
   * by its name instead of numeric ticks */
  const char *const *x_categories;
  int n_x_categories;
  /* numeric x ticks at these values instead of nice steps (the values an
   * axis of a sweep takes: 2, 4, 8, ... on a log axis) */
  const double *x_ticks;
  int n_x_ticks;
} LlPlotAxes;

/* The colours a figure is drawn in, besides its data colours: on screen
 * the widget's (light or dark style), in exported files report-friendly
 * light unless the user picks otherwise. Every renderer takes its inks from
 * the scheme set on its cairo_t, so one figure code serves both. */
typedef struct {
  double bg[3]; /* the figure's background */
  double fg[3]; /* text; ticks, grid, frames and panels are mixed from fg and bg */
} LlPlotScheme;

extern const LlPlotScheme ll_plot_scheme_light, ll_plot_scheme_dark;

typedef enum {
  LL_INK_BG,    /* the background */
  LL_INK_TEXT,  /* titles, labels, captions */
  LL_INK_MUTED, /* tick labels, notes, the run stamp */
  LL_INK_FRAME, /* plot frames, outlines */
  LL_INK_GRID,  /* grid lines, faint rules */
  LL_INK_PANEL, /* a legend's or tooltip's box */
} LlPlotInk;

/* Draws what follows on cr in scheme (copied; NULL: the light scheme). */
void ll_plot_set_scheme(cairo_t *cr, const LlPlotScheme *scheme);
/* The scheme set on cr; the export scheme when none was (a figure for a file). */
const LlPlotScheme *ll_plot_get_scheme(cairo_t *cr);
/* ink in cr's scheme, as rgb or as cr's source with alpha. */
void ll_plot_ink_rgb(cairo_t *cr, LlPlotInk ink, double rgb[3]);
void ll_plot_ink(cairo_t *cr, LlPlotInk ink, double alpha);
/* The scheme exported figures use when the caller names none (initially
 * the light one; the window's export option changes it). */
void ll_plot_set_export_scheme(const LlPlotScheme *scheme);

/* A categorical colour for class i (Tableau 10, then evenly spread hues). */
void ll_plot_class_color(int i, double rgb[3]);
/* A step of 1, 2 or 5 times a power of ten giving about target ticks. */
double ll_plot_nice_step(double range, int target);
/* "0.25", "1.2e+05"; log: v is log10 of the value. */
void ll_plot_format_tick(double v, gboolean log, char *buf, size_t len);

/* A layout in the plots' font ("Sans 8" scaled by size). Unref it. */
PangoLayout *ll_plot_layout(cairo_t *cr, double size);
/* Draws s with its box anchored at (ax, ay) in [0,1] of its size. */
void ll_plot_text(cairo_t *cr, PangoLayout *layout, double x, double y, const char *s, double ax,
                  double ay);
/* The same, rotated a quarter turn counter-clockwise (y-axis labels). */
void ll_plot_text_vertical(cairo_t *cr, PangoLayout *layout, double x, double y, const char *s);
void ll_plot_text_size(PangoLayout *layout, const char *s, int *w, int *h);
/* Bold title at (x, y) (top-left). */
void ll_plot_title(cairo_t *cr, PangoLayout *layout, double x, double y, const char *title);

/* A sequential colour for t in [0, 1]: white to dark blue, monotone in
 * lightness (so the order survives greyscale print). */
void ll_plot_ramp(double t, double rgb[3]);
/* A vertical colour bar of ll_plot_ramp in bar, ticks and labels on its right
 * for values lo..hi; reversed: the dark end (t = 1) stands for lo. */
void ll_plot_colorbar(cairo_t *cr, PangoLayout *layout, const LlPlotRect *bar, double lo, double hi,
                      gboolean reversed);

/* The data-to-pixel maps of an axes frame. */
double ll_plot_map_x(const LlPlotAxes *ax, const LlPlotRect *area, double x);
double ll_plot_map_y(const LlPlotAxes *ax, const LlPlotRect *area, double y);
/* Grid, ticks with labels on the left and bottom, frame and axis labels
 * (outside area: leave about 58 px left and 32 px below). */
void ll_plot_draw_axes(cairo_t *cr, PangoLayout *layout, const LlPlotRect *area,
                       const LlPlotAxes *ax);

/* Legend entries as swatch + name. horizontal: one row right-aligned so it
 * ends at x (y is the top); otherwise a column starting at (x, y), in a
 * light box. Returns the width used. */
double ll_plot_legend(cairo_t *cr, PangoLayout *layout, const LlLegendEntry *entries, int n,
                      double x, double y, gboolean horizontal);
/* The width a vertical legend of these entries needs. */
double ll_plot_legend_width(PangoLayout *layout, const LlLegendEntry *entries, int n);

/* "run 20261123-174501-3f2a" in small grey type at the bottom right. */
void ll_plot_stamp(cairo_t *cr, double width, double height, const char *run_id);

typedef void (*LlPlotDrawFunc)(gpointer data, cairo_t *cr, double width, double height);

/* Draws one figure of width x height (pixels at 96 DPI; points for SVG and
 * PDF) into path. format "png", "svg" or "pdf"; NULL takes the path's
 * extension. PNG is rendered at dpi (96: one pixel per unit). */
gboolean ll_plot_export(const char *path, const char *format, double width, double height,
                        double dpi, LlPlotDrawFunc draw, gpointer data, GError **error);
/* The same in scheme (NULL: the export scheme). */
gboolean ll_plot_export_scheme(const char *path, const char *format, double width, double height,
                               double dpi, const LlPlotScheme *scheme, LlPlotDrawFunc draw,
                               gpointer data, GError **error);

/* A multi-page PDF: begin, then draw pages and call ll_plot_pdf_next_page
 * between them, then end (which reports any error). */
cairo_t *ll_plot_pdf_begin(const char *path, double width, double height);
void ll_plot_pdf_next_page(cairo_t *cr);
gboolean ll_plot_pdf_end(cairo_t *cr, const char *path, GError **error);

G_END_DECLS

/* ll-plot-style.c: see ll-plot-style.h. */
#include "ll-plot-style.h"

#include <math.h>

void ll_plot_style_of(GtkWidget *w, LlPlotScheme *scheme)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS /* GTK 4.10 moves these to gtk_widget_get_color */
      GtkStyleContext *ctx = gtk_widget_get_style_context(w);
  GdkRGBA fg, bg;
  gtk_style_context_get_color(ctx, &fg);
  gboolean dark = (fg.red + fg.green + fg.blue) / 3 > 0.5; /* light text: a dark style */
  /* the background of views (lists, text) in GTK's themes; a neutral one
   * where the theme names none */
  if (!gtk_style_context_lookup_color(ctx, "view_bg_color", &bg) &&
      !gtk_style_context_lookup_color(ctx, "theme_base_color", &bg))
    bg = dark ? (GdkRGBA){0.14f, 0.14f, 0.14f, 1} : (GdkRGBA){1, 1, 1, 1};
  G_GNUC_END_IGNORE_DEPRECATIONS
  double fgv[3] = {fg.red, fg.green, fg.blue}, bgv[3] = {bg.red, bg.green, bg.blue};
  /* a theme whose named background disagrees with its text (a custom
   * colour on top of another theme) gets the neutral one */
  double lf = (fgv[0] + fgv[1] + fgv[2]) / 3, lb = (bgv[0] + bgv[1] + bgv[2]) / 3;
  if (fabs(lf - lb) < 0.35)
    for (int k = 0; k < 3; k++)
      bgv[k] = dark ? 0.14 : 1.0;
  for (int k = 0; k < 3; k++) {
    scheme->fg[k] = fgv[k];
    scheme->bg[k] = bgv[k];
  }
}

void ll_plot_style_apply(GtkWidget *w, cairo_t *cr)
{
  LlPlotScheme s;
  ll_plot_style_of(w, &s);
  ll_plot_set_scheme(cr, &s);
}

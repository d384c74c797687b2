/* plot-common.c: ticks, axes, legend, colours, stamp and export, shared by
 * every plot in ui/plot. */
#include "plot-common.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <string.h>

/* ---- colour schemes ---------------------------------------------------------------------- */

const LlPlotScheme ll_plot_scheme_light = {{1, 1, 1}, {0.1, 0.1, 0.1}};
const LlPlotScheme ll_plot_scheme_dark = {{0.16, 0.16, 0.16}, {0.93, 0.93, 0.93}};

static LlPlotScheme export_scheme = {{1, 1, 1}, {0.1, 0.1, 0.1}};
static const cairo_user_data_key_t scheme_key;

void ll_plot_set_scheme(cairo_t *cr, const LlPlotScheme *scheme)
{
  LlPlotScheme *copy = g_memdup2(scheme ? scheme : &ll_plot_scheme_light, sizeof *copy);
  cairo_set_user_data(cr, &scheme_key, copy, g_free);
}

const LlPlotScheme *ll_plot_get_scheme(cairo_t *cr)
{
  const LlPlotScheme *s = cairo_get_user_data(cr, &scheme_key);
  return s ? s : &export_scheme; /* a figure drawn for a file */
}

void ll_plot_set_export_scheme(const LlPlotScheme *scheme)
{
  export_scheme = scheme ? *scheme : ll_plot_scheme_light;
}

void ll_plot_ink_rgb(cairo_t *cr, LlPlotInk ink, double rgb[3])
{
  /* how far from the background towards the text colour each ink lies */
  static const double toward_fg[] = {
      [LL_INK_BG] = 0.0,    [LL_INK_TEXT] = 1.0,  [LL_INK_MUTED] = 0.68,
      [LL_INK_FRAME] = 0.5, [LL_INK_GRID] = 0.12, [LL_INK_PANEL] = 0.03,
  };
  const LlPlotScheme *s = ll_plot_get_scheme(cr);
  double t = toward_fg[CLAMP(ink, LL_INK_BG, LL_INK_PANEL)];
  for (int k = 0; k < 3; k++)
    rgb[k] = s->bg[k] + (s->fg[k] - s->bg[k]) * t;
}

void ll_plot_ink(cairo_t *cr, LlPlotInk ink, double alpha)
{
  double rgb[3];
  ll_plot_ink_rgb(cr, ink, rgb);
  cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
}

void ll_plot_class_color(int i, double rgb[3])
{
  static const guint32 tab10[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                  0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
  if (i >= 0 && i < 10) {
    rgb[0] = ((tab10[i] >> 16) & 0xff) / 255.0;
    rgb[1] = ((tab10[i] >> 8) & 0xff) / 255.0;
    rgb[2] = (tab10[i] & 0xff) / 255.0;
    return;
  }
  /* golden-ratio hues, alternating lightness, for the classes past ten */
  double h = fmod(0.13 + i * 0.618033988749895, 1.0), s = 0.65, v = (i % 2) ? 0.75 : 0.95;
  int k = (int)(h * 6);
  double f = h * 6 - k, p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  double r[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
  memcpy(rgb, r[k % 6], sizeof r[0]);
}

double ll_plot_nice_step(double range, int target)
{
  if (!(range > 0) || !isfinite(range))
    return 1.0;
  double raw = range / MAX(target, 1);
  double mag = pow(10, floor(log10(raw)));
  double n = raw / mag;
  return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * mag;
}

void ll_plot_format_tick(double v, gboolean log, char *buf, size_t len)
{
  if (log)
    v = pow(10, v);
  if (fabs(v) < 1e-12)
    v = 0;
  if (fabs(v) >= 1e5 || (fabs(v) < 1e-3 && v != 0))
    g_snprintf(buf, len, "%.1e", v);
  else
    g_snprintf(buf, len, "%.4g", v);
}

PangoLayout *ll_plot_layout(cairo_t *cr, double size)
{
  PangoLayout *layout = pango_cairo_create_layout(cr);
  PangoFontDescription *font = pango_font_description_from_string("Sans");
  pango_font_description_set_size(font, (int)(size * PANGO_SCALE));
  pango_layout_set_font_description(layout, font);
  pango_font_description_free(font);
  return layout;
}

void ll_plot_text_size(PangoLayout *layout, const char *s, int *w, int *h)
{
  pango_layout_set_attributes(layout, NULL);
  pango_layout_set_text(layout, s, -1);
  pango_layout_get_pixel_size(layout, w, h);
}

void ll_plot_text(cairo_t *cr, PangoLayout *layout, double x, double y, const char *s, double ax,
                  double ay)
{
  int tw, th;
  ll_plot_text_size(layout, s, &tw, &th);
  cairo_move_to(cr, x - ax * tw, y - ay * th);
  pango_cairo_show_layout(cr, layout);
}

void ll_plot_text_vertical(cairo_t *cr, PangoLayout *layout, double x, double y, const char *s)
{
  int tw, th;
  ll_plot_text_size(layout, s, &tw, &th);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, -G_PI / 2);
  cairo_move_to(cr, -tw / 2.0, 0);
  pango_cairo_update_layout(cr, layout);
  pango_cairo_show_layout(cr, layout);
  cairo_restore(cr);
  pango_cairo_update_layout(cr, layout);
}

void ll_plot_title(cairo_t *cr, PangoLayout *layout, double x, double y, const char *title)
{
  g_autofree char *esc = g_markup_escape_text(title ? title : "", -1);
  g_autofree char *m = g_strdup_printf("<b>%s</b>", esc);
  pango_layout_set_markup(layout, m, -1);
  ll_plot_ink(cr, LL_INK_TEXT, 1);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, layout);
  pango_layout_set_attributes(layout, NULL); /* the bold must not leak into later text */
}

double ll_plot_map_x(const LlPlotAxes *ax, const LlPlotRect *a, double x)
{
  double v = ax->log_x ? log10(MAX(x, 1e-300)) : x;
  return a->x + (v - ax->x0) / (ax->x1 - ax->x0) * a->w;
}

void ll_plot_ramp(double t, double rgb[3])
{
  t = CLAMP(t, 0.0, 1.0);
  static const double stops[4][3] = {
      {0.97, 0.98, 1.0}, {0.62, 0.79, 0.88}, {0.19, 0.51, 0.74}, {0.03, 0.19, 0.42}};
  double x = t * 3;
  int i = MIN((int)x, 2);
  double f = x - i;
  for (int k = 0; k < 3; k++)
    rgb[k] = stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f;
}

void ll_plot_colorbar(cairo_t *cr, PangoLayout *layout, const LlPlotRect *bar, double lo, double hi,
                      gboolean reversed)
{
  char buf[48];
  cairo_save(cr);
  int steps = 64;
  for (int i = 0; i < steps; i++) {
    double rgb[3], t = (i + 0.5) / steps; /* i = 0 at the bottom (lo) */
    ll_plot_ramp(reversed ? 1 - t : t, rgb);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, bar->x, bar->y + bar->h * (1 - (i + 1.0) / steps), bar->w,
                    bar->h / steps + 0.5);
    cairo_fill(cr);
  }
  if (!(hi > lo)) {
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    ll_plot_format_tick(lo, FALSE, buf, sizeof buf);
    ll_plot_text(cr, layout, bar->x + bar->w + 5, bar->y + bar->h / 2, buf, 0.0, 0.5);
    cairo_restore(cr);
    return;
  }
  double st = ll_plot_nice_step(hi - lo, MAX(2, (int)(bar->h / 45)));
  cairo_set_line_width(cr, 1);
  ll_plot_ink(cr, LL_INK_MUTED, 1);
  for (double v = ceil(lo / st - 1e-9) * st; v <= hi + st * 1e-9; v += st) {
    double y = bar->y + bar->h * (1 - (v - lo) / (hi - lo));
    ll_plot_format_tick(v, FALSE, buf, sizeof buf);
    cairo_move_to(cr, bar->x + bar->w, floor(y) + 0.5);
    cairo_line_to(cr, bar->x + bar->w + 3, floor(y) + 0.5);
    cairo_stroke(cr);
    ll_plot_text(cr, layout, bar->x + bar->w + 5, y, buf, 0.0, 0.5);
  }
  cairo_restore(cr);
}

double ll_plot_map_y(const LlPlotAxes *ax, const LlPlotRect *a, double y)
{
  double v = ax->log_y ? log10(MAX(y, 1e-12)) : y;
  return a->y + a->h - (v - ax->y0) / (ax->y1 - ax->y0) * a->h;
}

void ll_plot_draw_axes(cairo_t *cr, PangoLayout *layout, const LlPlotRect *a, const LlPlotAxes *ax)
{
  char buf[48];
  cairo_save(cr);
  cairo_set_line_width(cr, 1);
  double ys = ll_plot_nice_step(ax->y1 - ax->y0, MAX(2, (int)(a->h / 40)));
  for (double v = ceil(ax->y0 / ys) * ys; v <= ax->y1 + ys * 1e-9; v += ys) {
    double y = a->y + a->h - (v - ax->y0) / (ax->y1 - ax->y0) * a->h;
    ll_plot_ink(cr, LL_INK_GRID, 1);
    cairo_move_to(cr, a->x, floor(y) + 0.5);
    cairo_line_to(cr, a->x + a->w, floor(y) + 0.5);
    cairo_stroke(cr);
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    cairo_move_to(cr, a->x - 3, floor(y) + 0.5);
    cairo_line_to(cr, a->x, floor(y) + 0.5);
    cairo_stroke(cr);
    ll_plot_format_tick(v, ax->log_y, buf, sizeof buf);
    ll_plot_text(cr, layout, a->x - 5, y, buf, 1.0, 0.5);
  }
  double xs = ll_plot_nice_step(ax->x1 - ax->x0, MAX(2, (int)(a->w / 70)));
  if (ax->x_integer && xs < 1.0 && ax->x1 - ax->x0 >= 2.0) /* zoomed in: fractions */
    xs = 1.0;
  if (ax->log_x) /* a tick per decade (more decades than fit: every few) */
    xs = MAX(1.0, ceil((ax->x1 - ax->x0) / MAX(2, (int)(a->w / 70))));
  double cright = -INFINITY; /* where the last name ends: names that would overlap are skipped */
  for (int i = 0; i < ax->n_x_categories; i++) {
    double x = a->x + (i - ax->x0) / (ax->x1 - ax->x0) * a->w;
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    cairo_move_to(cr, floor(x) + 0.5, a->y + a->h);
    cairo_line_to(cr, floor(x) + 0.5, a->y + a->h + 3);
    cairo_stroke(cr);
    int tw, th;
    ll_plot_text_size(layout, ax->x_categories[i], &tw, &th);
    if (x - tw / 2.0 < cright + 4)
      continue;
    ll_plot_text(cr, layout, x, a->y + a->h + 4, ax->x_categories[i], 0.5, 0.0);
    cright = x + tw / 2.0;
  }
  /* numeric ticks: the given values, 1-2-5 steps within a log axis of under
   * two decades, a tick per decade (or every few) over more, or nice steps */
  g_autoptr(GArray) xt = g_array_new(FALSE, FALSE, sizeof(double)); /* in axis units */
  if (ax->n_x_ticks) {
    for (int i = 0; i < ax->n_x_ticks; i++) {
      double v = ax->log_x ? log10(MAX(ax->x_ticks[i], 1e-300)) : ax->x_ticks[i];
      g_array_append_val(xt, v);
    }
  } else if (ax->log_x && ax->x1 - ax->x0 < 2 && !ax->n_x_categories) {
    static const double m125[] = {1, 2, 5};
    for (double k = floor(ax->x0); k <= ceil(ax->x1); k++)
      for (int i = 0; i < 3; i++) {
        double v = k + log10(m125[i]);
        if (v >= ax->x0 && v <= ax->x1)
          g_array_append_val(xt, v);
      }
  } else if (!ax->n_x_categories) {
    for (double v = ceil(ax->x0 / xs) * xs; v <= ax->x1 + xs * 1e-9; v += xs)
      g_array_append_val(xt, v);
  }
  double right = -INFINITY;
  for (guint i = 0; i < xt->len; i++) {
    double v = g_array_index(xt, double, i);
    double x = a->x + (v - ax->x0) / (ax->x1 - ax->x0) * a->w;
    ll_plot_ink(cr, LL_INK_GRID, 1);
    cairo_move_to(cr, floor(x) + 0.5, a->y);
    cairo_line_to(cr, floor(x) + 0.5, a->y + a->h);
    cairo_stroke(cr);
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    cairo_move_to(cr, floor(x) + 0.5, a->y + a->h);
    cairo_line_to(cr, floor(x) + 0.5, a->y + a->h + 3);
    cairo_stroke(cr);
    ll_plot_format_tick(v, ax->log_x, buf, sizeof buf);
    int tw, th;
    ll_plot_text_size(layout, buf, &tw, &th);
    if (x - tw / 2.0 < right + 4)
      continue; /* crowded (the values of a sweep): keep the first */
    ll_plot_text(cr, layout, x, a->y + a->h + 4, buf, 0.5, 0.0);
    right = x + tw / 2.0;
  }
  ll_plot_ink(cr, LL_INK_FRAME, 1);
  cairo_rectangle(cr, a->x + 0.5, a->y + 0.5, a->w - 1, a->h - 1);
  cairo_stroke(cr);
  ll_plot_ink(cr, LL_INK_TEXT, 1);
  if (ax->x_label)
    ll_plot_text(cr, layout, a->x + a->w / 2, a->y + a->h + 17, ax->x_label, 0.5, 0.0);
  if (ax->y_label)
    ll_plot_text_vertical(cr, layout, a->x - 52, a->y + a->h / 2, ax->y_label);
  cairo_restore(cr);
}

double ll_plot_legend_width(PangoLayout *layout, const LlLegendEntry *e, int n)
{
  int wmax = 0;
  for (int i = 0; i < n; i++) {
    int tw, th;
    ll_plot_text_size(layout, e[i].name, &tw, &th);
    wmax = MAX(wmax, tw);
  }
  return wmax + 30;
}

double ll_plot_legend(cairo_t *cr, PangoLayout *layout, const LlLegendEntry *e, int n, double x,
                      double y, gboolean horizontal)
{
  cairo_save(cr);
  if (horizontal) {
    double lx = x;
    for (int i = n - 1; i >= 0; i--) {
      int tw, th;
      ll_plot_text_size(layout, e[i].name, &tw, &th);
      lx -= tw;
      ll_plot_ink(cr, LL_INK_TEXT, 1);
      cairo_move_to(cr, lx, y);
      pango_cairo_show_layout(cr, layout);
      lx -= 16;
      cairo_set_source_rgb(cr, e[i].rgb[0], e[i].rgb[1], e[i].rgb[2]);
      cairo_rectangle(cr, lx, y + th / 2.0 - 3, 12, 6);
      cairo_fill(cr);
      lx -= 10;
    }
    cairo_restore(cr);
    return x - lx;
  }
  double w = ll_plot_legend_width(layout, e, n);
  int tw, th;
  ll_plot_text_size(layout, "Ag", &tw, &th);
  double row = th + 3;
  ll_plot_ink(cr, LL_INK_PANEL, 0.9);
  cairo_rectangle(cr, x, y, w, n * row + 8);
  cairo_fill_preserve(cr);
  ll_plot_ink(cr, LL_INK_FRAME, 0.6);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (int i = 0; i < n; i++) {
    double ry = y + 4 + i * row;
    cairo_set_source_rgb(cr, e[i].rgb[0], e[i].rgb[1], e[i].rgb[2]);
    cairo_rectangle(cr, x + 6, ry + th / 2.0 - 4, 10, 8);
    cairo_fill(cr);
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    ll_plot_text(cr, layout, x + 22, ry, e[i].name, 0.0, 0.0);
  }
  cairo_restore(cr);
  return w;
}

void ll_plot_stamp(cairo_t *cr, double width, double height, const char *run_id)
{
  if (!run_id)
    return;
  cairo_save(cr);
  PangoLayout *l = ll_plot_layout(cr, 6.5);
  g_autofree char *s = g_strdup_printf("LayerLab run %s", run_id);
  ll_plot_ink(cr, LL_INK_MUTED, 1);
  ll_plot_text(cr, l, width - 4, height - 2, s, 1.0, 1.0);
  g_object_unref(l);
  cairo_restore(cr);
}

static gboolean status_ok(cairo_status_t st, const char *path, GError **error)
{
  if (st == CAIRO_STATUS_SUCCESS)
    return TRUE;
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", path, cairo_status_to_string(st));
  return FALSE;
}

gboolean ll_plot_export(const char *path, const char *format, double width, double height,
                        double dpi, LlPlotDrawFunc draw, gpointer data, GError **error)
{
  return ll_plot_export_scheme(path, format, width, height, dpi, NULL, draw, data, error);
}

gboolean ll_plot_export_scheme(const char *path, const char *format, double width, double height,
                               double dpi, const LlPlotScheme *scheme, LlPlotDrawFunc draw,
                               gpointer data, GError **error)
{
  const char *ext = format ? format : strrchr(path, '.') ? strrchr(path, '.') + 1 : "";
  cairo_surface_t *surface;
  gboolean png = !g_ascii_strcasecmp(ext, "png");
  double scale = png && dpi > 0 ? dpi / 96.0 : 1.0;
  if (png)
    /* less a rounding error: width = pixels * 96 / dpi gives back the pixels */
    surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)ceil(width * scale - 1e-6),
                                         (int)ceil(height * scale - 1e-6));
  else if (!g_ascii_strcasecmp(ext, "svg"))
    surface = cairo_svg_surface_create(path, width, height);
  else if (!g_ascii_strcasecmp(ext, "pdf"))
    surface = cairo_pdf_surface_create(path, width, height);
  else {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: export as png, svg or pdf", path);
    return FALSE;
  }
  cairo_t *cr = cairo_create(surface);
  cairo_scale(cr, scale, scale);
  if (scheme)
    ll_plot_set_scheme(cr, scheme);
  draw(data, cr, width, height);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_flush(surface);
  if (st == CAIRO_STATUS_SUCCESS && png)
    st = cairo_surface_write_to_png(surface, path);
  cairo_surface_finish(surface);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  return status_ok(st, path, error);
}

cairo_t *ll_plot_pdf_begin(const char *path, double width, double height)
{
  cairo_surface_t *s = cairo_pdf_surface_create(path, width, height);
  cairo_t *cr = cairo_create(s);
  cairo_surface_destroy(s);
  return cr;
}

void ll_plot_pdf_next_page(cairo_t *cr) { cairo_show_page(cr); }

gboolean ll_plot_pdf_end(cairo_t *cr, const char *path, GError **error)
{
  cairo_show_page(cr);
  cairo_surface_t *s = cairo_get_target(cr);
  cairo_surface_finish(s);
  cairo_status_t st = cairo_status(cr);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_status(s);
  cairo_destroy(cr);
  return status_ok(st, path, error);
}

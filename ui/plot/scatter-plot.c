/* scatter-plot.c: points by class, axes, legend, pan/zoom, hover. */
#include "scatter-plot.h"

#include <math.h>
#include <string.h>

struct LlScatterPlot {
  char *title, *subtitle, *xl, *yl, *stamp;
  float *xy;
  int *labels;
  int n, n_classes;
  char **names;
  double x0, x1, y0, y1; /* the view */
  gboolean user_view, raster;
  int hover;
  cairo_surface_t *cache; /* raster target, reused while the size holds */
};

enum { ML = 60, MR = 12, MT = 40, MB = 40 };

LlScatterPlot *ll_scatter_plot_new(const char *title)
{
  LlScatterPlot *p = g_new0(LlScatterPlot, 1);
  p->title = g_strdup(title);
  p->xl = g_strdup("dimension 1");
  p->yl = g_strdup("dimension 2");
  p->hover = -1;
  p->x1 = p->y1 = 1;
  return p;
}

void ll_scatter_plot_free(LlScatterPlot *p)
{
  if (!p)
    return;
  g_free(p->title);
  g_free(p->subtitle);
  g_free(p->xl);
  g_free(p->yl);
  g_free(p->stamp);
  g_free(p->xy);
  g_free(p->labels);
  g_strfreev(p->names);
  if (p->cache)
    cairo_surface_destroy(p->cache);
  g_free(p);
}

void ll_scatter_plot_fit(LlScatterPlot *p)
{
  double lx = INFINITY, hx = -INFINITY, ly = INFINITY, hy = -INFINITY;
  for (int i = 0; i < p->n; i++) {
    double x = p->xy[2 * i], y = p->xy[2 * i + 1];
    if (!isfinite(x) || !isfinite(y))
      continue;
    lx = MIN(lx, x);
    hx = MAX(hx, x);
    ly = MIN(ly, y);
    hy = MAX(hy, y);
  }
  if (!isfinite(lx)) {
    lx = ly = 0;
    hx = hy = 1;
  }
  double px = MAX((hx - lx) * 0.05, 1e-6), py = MAX((hy - ly) * 0.05, 1e-6);
  p->x0 = lx - px;
  p->x1 = hx + px;
  p->y0 = ly - py;
  p->y1 = hy + py;
  p->user_view = FALSE;
}

void ll_scatter_plot_set_points(LlScatterPlot *p, const float *xy, const int *labels, int n,
                                int n_classes, char *const *names)
{
  g_free(p->xy);
  g_free(p->labels);
  g_strfreev(p->names);
  p->n = MAX(n, 0);
  p->xy = g_memdup2(xy, sizeof(float) * 2 * MAX(n, 1));
  p->labels = g_new0(int, MAX(n, 1));
  if (labels)
    memcpy(p->labels, labels, sizeof(int) * n);
  p->n_classes = n_classes;
  p->names = g_new0(char *, n_classes + 1);
  gboolean more = names != NULL; /* names may be shorter (NULL-terminated) */
  for (int i = 0; i < n_classes; i++) {
    more = more && names[i];
    p->names[i] = more ? g_strdup(names[i]) : g_strdup_printf("class %d", i);
  }
  p->hover = -1;
  ll_scatter_plot_fit(p);
}

void ll_scatter_plot_update_xy(LlScatterPlot *p, const float *xy, int n)
{
  g_return_if_fail(n == p->n);
  memcpy(p->xy, xy, sizeof(float) * 2 * n);
  if (!p->user_view)
    ll_scatter_plot_fit(p);
}

int ll_scatter_plot_len(const LlScatterPlot *p) { return p->n; }

static void set_str(char **s, const char *v)
{
  g_free(*s);
  *s = g_strdup(v);
}

void ll_scatter_plot_set_title(LlScatterPlot *p, const char *t) { set_str(&p->title, t); }
void ll_scatter_plot_set_subtitle(LlScatterPlot *p, const char *t) { set_str(&p->subtitle, t); }
void ll_scatter_plot_set_stamp(LlScatterPlot *p, const char *id) { set_str(&p->stamp, id); }
void ll_scatter_plot_set_raster(LlScatterPlot *p, gboolean raster) { p->raster = raster; }
void ll_scatter_plot_set_hover(LlScatterPlot *p, int i) { p->hover = i; }

void ll_scatter_plot_set_axis_labels(LlScatterPlot *p, const char *x, const char *y)
{
  set_str(&p->xl, x);
  set_str(&p->yl, y);
}

/* The legend's width decides the plot area, so measure it with a scratch context. */
static double legend_width(LlScatterPlot *p)
{
  if (p->n_classes <= 0)
    return 0;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create(s);
  PangoLayout *l = ll_plot_layout(cr, 8);
  double w = 0;
  for (int i = 0; i < p->n_classes; i++) {
    int tw, th;
    ll_plot_text_size(l, p->names[i], &tw, &th);
    w = MAX(w, tw);
  }
  g_object_unref(l);
  cairo_destroy(cr);
  cairo_surface_destroy(s);
  return w + 30 + 12;
}

void ll_scatter_plot_area(LlScatterPlot *p, double width, double height, LlPlotRect *out)
{
  double lw = legend_width(p);
  *out = (LlPlotRect){ML, MT, MAX(width - ML - MR - lw, 20), MAX(height - MT - MB, 20)};
}

void ll_scatter_plot_zoom(LlScatterPlot *p, double width, double height, double px, double py,
                          double factor)
{
  LlPlotRect a;
  ll_scatter_plot_area(p, width, height, &a);
  double cx = p->x0 + (px - a.x) / a.w * (p->x1 - p->x0);
  double cy = p->y1 - (py - a.y) / a.h * (p->y1 - p->y0);
  p->x0 = cx + (p->x0 - cx) / factor;
  p->x1 = cx + (p->x1 - cx) / factor;
  p->y0 = cy + (p->y0 - cy) / factor;
  p->y1 = cy + (p->y1 - cy) / factor;
  p->user_view = TRUE;
}

void ll_scatter_plot_pan(LlScatterPlot *p, double width, double height, double dx, double dy)
{
  LlPlotRect a;
  ll_scatter_plot_area(p, width, height, &a);
  double ux = -dx / a.w * (p->x1 - p->x0), uy = dy / a.h * (p->y1 - p->y0);
  p->x0 += ux;
  p->x1 += ux;
  p->y0 += uy;
  p->y1 += uy;
  p->user_view = TRUE;
}

int ll_scatter_plot_point_at(LlScatterPlot *p, double width, double height, double px, double py,
                             double max_px)
{
  LlPlotRect a;
  ll_scatter_plot_area(p, width, height, &a);
  double sx = a.w / (p->x1 - p->x0), sy = a.h / (p->y1 - p->y0);
  int best = -1;
  double bd = max_px * max_px;
  for (int i = 0; i < p->n; i++) {
    double x = a.x + (p->xy[2 * i] - p->x0) * sx - px;
    double y = a.y + a.h - (p->xy[2 * i + 1] - p->y0) * sy - py;
    double d = x * x + y * y;
    if (d < bd) {
      bd = d;
      best = i;
    }
  }
  return best;
}

static void class_rgb(LlScatterPlot *p, int label, double rgb[3])
{
  if (label >= 0 && label < p->n_classes)
    ll_plot_class_color(label, rgb);
  else
    rgb[0] = rgb[1] = rgb[2] = 0.6;
}

/* Points straight into pixels: 2x2 squares (3x3 below 5,000 points). */
static void draw_raster(LlScatterPlot *p, cairo_t *cr, const LlPlotRect *a)
{
  int w = (int)ceil(a->w), h = (int)ceil(a->h);
  if (!p->cache || cairo_image_surface_get_width(p->cache) != w ||
      cairo_image_surface_get_height(p->cache) != h) {
    if (p->cache)
      cairo_surface_destroy(p->cache);
    p->cache = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  }
  cairo_surface_flush(p->cache);
  guint8 *px = cairo_image_surface_get_data(p->cache);
  int stride = cairo_image_surface_get_stride(p->cache);
  memset(px, 0, (size_t)stride * h);
  guint32 colors[256];
  int nc = MIN(p->n_classes, 255);
  for (int k = 0; k <= nc; k++) {
    double rgb[3];
    class_rgb(p, k < nc ? k : -1, rgb);
    colors[k] = 0xff000000u | ((guint32)(rgb[0] * 255) << 16) | ((guint32)(rgb[1] * 255) << 8) |
                (guint32)(rgb[2] * 255);
  }
  int r = p->n < 5000 ? 3 : 2;
  double sx = a->w / (p->x1 - p->x0), sy = a->h / (p->y1 - p->y0);
  for (int i = 0; i < p->n; i++) {
    int x = (int)((p->xy[2 * i] - p->x0) * sx), y = (int)(a->h - (p->xy[2 * i + 1] - p->y0) * sy);
    if (x < 0 || y < 0 || x + r > w || y + r > h)
      continue;
    int lab = p->labels[i];
    guint32 c = colors[lab >= 0 && lab < nc ? lab : nc];
    for (int dy = 0; dy < r; dy++) {
      guint32 *row = (guint32 *)(px + (size_t)(y + dy) * stride) + x;
      for (int dx = 0; dx < r; dx++)
        row[dx] = c;
    }
  }
  cairo_surface_mark_dirty(p->cache);
  cairo_set_source_surface(cr, p->cache, a->x, a->y);
  cairo_paint(cr);
}

static void draw_vector(LlScatterPlot *p, cairo_t *cr, const LlPlotRect *a)
{
  double r = p->n < 5000 ? 3.0 : 2.0;
  double sx = a->w / (p->x1 - p->x0), sy = a->h / (p->y1 - p->y0);
  /* one path per class: a fill per class, not per point */
  for (int k = -1; k < p->n_classes; k++) {
    double rgb[3];
    class_rgb(p, k, rgb);
    gboolean any = FALSE;
    for (int i = 0; i < p->n; i++) {
      int lab = p->labels[i];
      gboolean in = k < 0 ? (lab < 0 || lab >= p->n_classes) : lab == k;
      if (!in)
        continue;
      double x = a->x + (p->xy[2 * i] - p->x0) * sx,
             y = a->y + a->h - (p->xy[2 * i + 1] - p->y0) * sy;
      if (x < a->x - r || x > a->x + a->w || y < a->y - r || y > a->y + a->h)
        continue;
      cairo_rectangle(cr, x - r / 2, y - r / 2, r, r);
      any = TRUE;
    }
    if (any) {
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      cairo_fill(cr);
    }
  }
}

void ll_scatter_plot_draw(LlScatterPlot *p, cairo_t *cr, double width, double height)
{
  cairo_save(cr);
  ll_plot_ink(cr, LL_INK_BG, 1);
  cairo_rectangle(cr, 0, 0, width, height);
  cairo_fill(cr);
  PangoLayout *l = ll_plot_layout(cr, 8);
  ll_plot_title(cr, l, ML, 6, p->title);
  if (p->subtitle) {
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    ll_plot_text(cr, l, ML, 22, p->subtitle, 0.0, 0.0);
  }
  LlPlotRect a;
  ll_scatter_plot_area(p, width, height, &a);
  LlPlotAxes ax = {p->x0, p->x1, p->y0, p->y1, FALSE, p->xl, p->yl};
  ll_plot_draw_axes(cr, l, &a, &ax);
  cairo_save(cr);
  cairo_rectangle(cr, a.x, a.y, a.w, a.h);
  cairo_clip(cr);
  if (p->raster)
    draw_raster(p, cr, &a);
  else
    draw_vector(p, cr, &a);
  if (p->hover >= 0 && p->hover < p->n) {
    double x = ll_plot_map_x(&ax, &a, p->xy[2 * p->hover]);
    double y = ll_plot_map_y(&ax, &a, p->xy[2 * p->hover + 1]);
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    cairo_set_line_width(cr, 1.5);
    cairo_arc(cr, x, y, 6, 0, 2 * G_PI);
    cairo_stroke(cr);
  }
  cairo_restore(cr);
  if (p->n == 0) {
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    ll_plot_text(cr, l, a.x + a.w / 2, a.y + a.h / 2, "No embedding yet", 0.5, 0.5);
  }
  if (p->n_classes > 0) {
    g_autofree LlLegendEntry *e = g_new0(LlLegendEntry, p->n_classes);
    for (int i = 0; i < p->n_classes; i++) {
      e[i].name = p->names[i];
      ll_plot_class_color(i, e[i].rgb);
    }
    ll_plot_legend(cr, l, e, p->n_classes, a.x + a.w + 10, a.y, FALSE);
  }
  g_object_unref(l);
  ll_plot_stamp(cr, width, height, p->stamp);
  cairo_restore(cr);
}

static void draw_cb(gpointer data, cairo_t *cr, double w, double h)
{
  LlScatterPlot *p = data;
  gboolean raster = p->raster;
  int hover = p->hover;
  p->raster = FALSE;
  p->hover = -1;
  ll_scatter_plot_draw(p, cr, w, h);
  p->raster = raster;
  p->hover = hover;
}

gboolean ll_scatter_plot_export(LlScatterPlot *p, const char *path, const char *format,
                                double width, double height, double dpi, GError **error)
{
  return ll_plot_export(path, format, width, height, dpi, draw_cb, p, error);
}

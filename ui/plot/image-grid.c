/* image-grid.c: tiles of images with captions and frames. */
#include "image-grid.h"

#include <math.h>
#include <string.h>

typedef struct {
  cairo_surface_t *img; /* RGB24, h x w */
  int w, h;
  char *caption;
  gboolean framed;
  double frame[3];
} Tile;

struct LlImageGrid {
  char *title, *stamp, *empty;
  GArray *tiles; /* Tile */
  int cols;
  char **headers;
  LlLegendEntry *legend;
  int n_legend;
  double heat_lo, heat_hi; /* the heat tiles' shared range, shown as a scale when lo < hi */
  char *heat_label;
};

enum { TOP = 30, PAD = 8, CAPTION = 14 };

static void tile_clear(gpointer data)
{
  Tile *t = data;
  cairo_surface_destroy(t->img);
  g_free(t->caption);
}

LlImageGrid *ll_image_grid_new(const char *title)
{
  LlImageGrid *g = g_new0(LlImageGrid, 1);
  g->title = g_strdup(title);
  g->tiles = g_array_new(FALSE, TRUE, sizeof(Tile));
  g_array_set_clear_func(g->tiles, tile_clear);
  return g;
}

static void legend_clear(LlImageGrid *g)
{
  for (int i = 0; i < g->n_legend; i++)
    g_free((char *)g->legend[i].name);
  g_clear_pointer(&g->legend, g_free);
  g->n_legend = 0;
}

void ll_image_grid_free(LlImageGrid *g)
{
  if (!g)
    return;
  g_array_unref(g->tiles);
  g_strfreev(g->headers);
  legend_clear(g);
  g_free(g->title);
  g_free(g->stamp);
  g_free(g->empty);
  g_free(g->heat_label);
  g_free(g);
}

void ll_image_grid_clear(LlImageGrid *g) { g_array_set_size(g->tiles, 0); }

void ll_image_grid_set_title(LlImageGrid *g, const char *title)
{
  g_free(g->title);
  g->title = g_strdup(title);
}

void ll_image_grid_set_stamp(LlImageGrid *g, const char *run_id)
{
  g_free(g->stamp);
  g->stamp = g_strdup(run_id);
}

void ll_image_grid_set_heat_scale(LlImageGrid *g, double lo, double hi, const char *label)
{
  g->heat_lo = lo;
  g->heat_hi = hi;
  g_free(g->heat_label);
  g->heat_label = g_strdup(label);
}

void ll_image_grid_set_empty_text(LlImageGrid *g, const char *text)
{
  g_free(g->empty);
  g->empty = g_strdup(text);
}

void ll_image_grid_set_columns(LlImageGrid *g, int cols, const char *const *headers)
{
  g->cols = MAX(cols, 0);
  g_clear_pointer(&g->headers, g_strfreev);
  if (headers && cols > 0) {
    g->headers = g_new0(char *, cols + 1);
    for (int i = 0; i < cols; i++)
      g->headers[i] = g_strdup(headers[i]);
  }
}

void ll_image_grid_set_legend(LlImageGrid *g, const LlLegendEntry *entries, int n)
{
  legend_clear(g);
  g->legend = g_new0(LlLegendEntry, MAX(n, 1));
  for (int i = 0; i < n; i++) {
    g->legend[i] = entries[i];
    g->legend[i].name = g_strdup(entries[i].name);
  }
  g->n_legend = n;
}

static void heat(double t, double rgb[3])
{
  t = CLAMP(t, 0.0, 1.0);
  rgb[0] = MIN(1.0, t * 2.5);
  rgb[1] = CLAMP(t * 2.5 - 1.0, 0.0, 1.0);
  rgb[2] = CLAMP(t * 3.0 - 2.0, 0.0, 1.0);
}

int ll_image_grid_add(LlImageGrid *g, const float *chw, int c, int h, int w, double vmin,
                      double vmax, LlImageMap map, const char *caption, const double *frame_rgb)
{
  Tile t = {0};
  t.w = w;
  t.h = h;
  t.img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_surface_flush(t.img);
  guint8 *px = cairo_image_surface_get_data(t.img);
  int stride = cairo_image_surface_get_stride(t.img);
  double span = vmax > vmin ? vmax - vmin : 1.0;
  size_t plane = (size_t)h * w;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double rgb[3];
      size_t at = (size_t)y * w + x;
      if (map == LL_IMAGE_HEAT) {
        double m = 0;
        for (int k = 0; k < c; k++)
          m += chw[k * plane + at];
        heat((m / c - vmin) / span, rgb);
      } else {
        for (int k = 0; k < 3; k++)
          rgb[k] = CLAMP((chw[(c >= 3 ? k : 0) * plane + at] - vmin) / span, 0.0, 1.0);
      }
      guint32 v = ((guint32)(rgb[0] * 255 + 0.5) << 16) | ((guint32)(rgb[1] * 255 + 0.5) << 8) |
                  (guint32)(rgb[2] * 255 + 0.5);
      *(guint32 *)(px + (size_t)y * stride + x * 4) = v;
    }
  cairo_surface_mark_dirty(t.img);
  t.caption = g_strdup(caption);
  if (frame_rgb) {
    t.framed = TRUE;
    memcpy(t.frame, frame_rgb, sizeof t.frame);
  }
  g_array_append_val(g->tiles, t);
  return (int)g->tiles->len - 1;
}

int ll_image_grid_len(const LlImageGrid *g) { return (int)g->tiles->len; }

guint8 *ll_image_grid_tile_rgb(const LlImageGrid *g, int i, int *w, int *h, const char **caption)
{
  if (i < 0 || i >= (int)g->tiles->len)
    return NULL;
  const Tile *t = &g_array_index(g->tiles, Tile, i);
  const guint8 *px = cairo_image_surface_get_data(t->img);
  int stride = cairo_image_surface_get_stride(t->img);
  guint8 *out = g_new(guint8, (size_t)t->w * t->h * 3);
  for (int y = 0; y < t->h; y++)
    for (int x = 0; x < t->w; x++) {
      guint32 v = *(const guint32 *)(px + (size_t)y * stride + x * 4);
      guint8 *o = out + ((size_t)y * t->w + x) * 3;
      o[0] = (v >> 16) & 0xff;
      o[1] = (v >> 8) & 0xff;
      o[2] = v & 0xff;
    }
  *w = t->w;
  *h = t->h;
  if (caption)
    *caption = t->caption;
  return out;
}

typedef struct {
  int cols, rows;
  double x0, y0, tile, cell_w, cell_h;
} Geometry;

static void geometry(LlImageGrid *g, double width, double height, Geometry *o)
{
  int n = (int)g->tiles->len;
  double top = TOP + (g->n_legend ? 16 : 0) + (g->headers ? 16 : 0);
  double avail_w = width - 2 * PAD, avail_h = height - top - PAD - 10;
  int aspect_w = n ? g_array_index(g->tiles, Tile, 0).w : 1;
  int aspect_h = n ? g_array_index(g->tiles, Tile, 0).h : 1;
  double ar = (double)aspect_w / MAX(aspect_h, 1);
  if (g->cols > 0) {
    o->cols = g->cols;
    o->rows = (n + o->cols - 1) / MAX(o->cols, 1);
  } else {
    /* the most columns that keep every tile visible at the largest size */
    double best = 0;
    o->cols = 1;
    for (int c = 1; c <= MAX(n, 1); c++) {
      int r = (n + c - 1) / c;
      double s = MIN(avail_w / c - PAD, (avail_h / MAX(r, 1) - CAPTION - PAD) * ar);
      if (s > best) {
        best = s;
        o->cols = c;
      }
    }
    o->rows = (n + o->cols - 1) / o->cols;
  }
  double tw =
      MIN(avail_w / MAX(o->cols, 1) - PAD, (avail_h / MAX(o->rows, 1) - CAPTION - PAD) * ar);
  o->tile = MAX(tw, 4);
  o->cell_w = o->tile + PAD;
  o->cell_h = o->tile / ar + CAPTION + PAD;
  o->x0 = PAD + MAX(0, (avail_w - o->cell_w * o->cols) / 2);
  o->y0 = top;
}

int ll_image_grid_tile_at(LlImageGrid *g, double width, double height, double px, double py)
{
  Geometry o;
  geometry(g, width, height, &o);
  int c = (int)floor((px - o.x0) / o.cell_w), r = (int)floor((py - o.y0) / o.cell_h);
  if (px < o.x0 || py < o.y0 || c >= o.cols || r >= o.rows)
    return -1;
  int i = r * o.cols + c;
  return i < (int)g->tiles->len ? i : -1;
}

void ll_image_grid_draw(LlImageGrid *g, cairo_t *cr, double width, double height)
{
  cairo_save(cr);
  ll_plot_ink(cr, LL_INK_BG, 1);
  cairo_rectangle(cr, 0, 0, width, height);
  cairo_fill(cr);
  PangoLayout *l = ll_plot_layout(cr, 8);
  ll_plot_title(cr, l, 10, 8, g->title);
  if (g->n_legend)
    ll_plot_legend(cr, l, g->legend, g->n_legend, width - 10, 10, TRUE);
  if (g->heat_lo < g->heat_hi && g->tiles->len) {
    /* label lo [ramp] hi, right-aligned in the title row */
    char a[32], b[32];
    ll_plot_format_tick(g->heat_lo, FALSE, a, sizeof a);
    ll_plot_format_tick(g->heat_hi, FALSE, b, sizeof b);
    int tw, th;
    ll_plot_text_size(l, b, &tw, &th);
    double bw = 120, x1 = width - 10 - tw - 4, x0 = x1 - bw, y = 10;
    for (int i = 0; i < 60; i++) {
      double rgb[3];
      heat((i + 0.5) / 60, rgb);
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      cairo_rectangle(cr, x0 + bw * i / 60, y + 2, bw / 60 + 0.5, th - 4);
      cairo_fill(cr);
    }
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    ll_plot_text(cr, l, x1 + 4, y, b, 0, 0);
    ll_plot_text(cr, l, x0 - 4, y, a, 1, 0);
    int aw, ah;
    ll_plot_text_size(l, a, &aw, &ah);
    if (g->heat_label)
      ll_plot_text(cr, l, x0 - 10 - aw, y, g->heat_label, 1, 0);
  }
  if (!g->tiles->len) {
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    ll_plot_text(cr, l, width / 2, height / 2, g->empty ? g->empty : "Nothing to show yet", 0.5,
                 0.5);
  }
  Geometry o;
  geometry(g, width, height, &o);
  if (g->headers)
    for (int c = 0; c < o.cols; c++) {
      ll_plot_ink(cr, LL_INK_TEXT, 1);
      ll_plot_text(cr, l, o.x0 + c * o.cell_w + o.tile / 2, o.y0 - 15, g->headers[c], 0.5, 0.0);
    }
  PangoLayout *cap = ll_plot_layout(cr, CLAMP(o.tile / 9, 5.5, 8));
  for (guint i = 0; i < g->tiles->len; i++) {
    Tile *t = &g_array_index(g->tiles, Tile, i);
    int r = (int)i / o.cols, c = (int)i % o.cols;
    double x = o.x0 + c * o.cell_w, y = o.y0 + r * o.cell_h;
    double s = o.tile / t->w;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, s, s);
    cairo_set_source_surface(cr, t->img, 0, 0);
    /* nearest neighbour: 28x28 images stay crisp when enlarged */
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, t->w, t->h);
    cairo_fill(cr);
    cairo_restore(cr);
    if (t->framed) {
      cairo_set_source_rgb(cr, t->frame[0], t->frame[1], t->frame[2]);
      cairo_set_line_width(cr, 2.5);
      cairo_rectangle(cr, x - 1.25, y - 1.25, o.tile + 2.5, t->h * s + 2.5);
      cairo_stroke(cr);
    }
    if (t->caption) {
      pango_layout_set_width(cap, (int)(o.cell_w * PANGO_SCALE));
      pango_layout_set_ellipsize(cap, PANGO_ELLIPSIZE_END);
      pango_layout_set_markup(cap, t->caption, -1);
      int tw, th;
      pango_layout_get_pixel_size(cap, &tw, &th);
      ll_plot_ink(cr, LL_INK_TEXT, 1);
      cairo_move_to(cr, x + o.tile / 2 - tw / 2.0, y + t->h * s + 1);
      pango_cairo_show_layout(cr, cap);
    }
  }
  g_object_unref(cap);
  g_object_unref(l);
  ll_plot_stamp(cr, width, height, g->stamp);
  cairo_restore(cr);
}

static void draw_cb(gpointer data, cairo_t *cr, double w, double h)
{
  ll_image_grid_draw(data, cr, w, h);
}

gboolean ll_image_grid_export(LlImageGrid *g, const char *path, const char *format, double width,
                              double height, double dpi, GError **error)
{
  return ll_plot_export(path, format, width, height, dpi, draw_cb, g, error);
}

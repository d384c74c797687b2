/* ll-canvas.c: drawing (GtkSnapshot -> cairo) and the pointer gestures of
 * the graph editor. Geometry is in canvas units; the view maps them to the
 * widget by zoom and offset: widget = canvas * zoom + offset. */
#include "ll-canvas.h"

#include <math.h>
#include <string.h>

#include "ll-canvas-geometry.h"

#define PORT_R 6.0

typedef enum { DRAG_NONE, DRAG_MOVE, DRAG_CONNECT, DRAG_RUBBER, DRAG_PAN } DragMode;

struct _LlCanvas {
  GtkWidget parent_instance;
  LlDocument *doc;
  gulong changed_id;
  GPtrArray *selection; /* char*, the primary one last */
  double zoom, off_x, off_y;
  gboolean space_down;
  gboolean fitted;
  gboolean auto_fit; /* keep fitting on resize until the user zooms or pans */
  int fit_w, fit_h;

  DragMode mode;
  double drag_x, drag_y; /* start, widget coordinates */
  double cur_x, cur_y;   /* now, widget coordinates */
  double pan_x0, pan_y0; /* offset when a pan began */
  char *connect_from;
  GArray *move_start; /* double pairs: start positions of the selection */
  /* the wire a palette drag is over (its consumer and input port), drawn
   * highlighted: the drop splices the block into it */
  char *drop_edge_to;
  int drop_edge_input;
  /* the wires and blocks as drawn, in canvas units: laying out every
   * block's text is most of a frame, and a resize (which zooms to fit) or
   * a pan moves the same drawing; NULL once anything in it changed */
  GskRenderNode *scene;
  gboolean scene_dark;
  guint n_scene_draws;
};

G_DEFINE_FINAL_TYPE(LlCanvas, ll_canvas, GTK_TYPE_WIDGET)

enum { SIGNAL_SELECTION_CHANGED, SIGNAL_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

GtkWidget *ll_canvas_new(void) { return g_object_new(LL_TYPE_CANVAS, NULL); }

/* Something the drawing shows changed (not only where it is shown). */
static void redraw(LlCanvas *self)
{
  g_clear_pointer(&self->scene, gsk_render_node_unref);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static LlBlock *block_at(LlCanvas *self, double cx, double cy);

static void to_canvas(LlCanvas *self, double wx, double wy, double *cx, double *cy)
{
  *cx = (wx - self->off_x) / self->zoom;
  *cy = (wy - self->off_y) / self->zoom;
}

void ll_canvas_to_widget(LlCanvas *self, double cx, double cy, double *wx, double *wy)
{
  *wx = cx * self->zoom + self->off_x;
  *wy = cy * self->zoom + self->off_y;
}

static LlGraph *graph(LlCanvas *self)
{
  return self->doc ? ll_document_get_spec(self->doc)->graph : NULL;
}

static gboolean block_rect(LlCanvas *self, const LlBlock *b, double *x, double *y)
{
  return ll_document_get_position(self->doc, b->name, x, y);
}

static gboolean is_selected(LlCanvas *self, const char *name)
{
  for (guint i = 0; i < self->selection->len; i++)
    if (!strcmp(self->selection->pdata[i], name))
      return TRUE;
  return FALSE;
}

static void selection_changed(LlCanvas *self)
{
  g_signal_emit(self, signals[SIGNAL_SELECTION_CHANGED], 0);
  redraw(self);
}

void ll_canvas_select(LlCanvas *self, const char *const *names)
{
  g_ptr_array_set_size(self->selection, 0);
  for (; names && *names; names++)
    g_ptr_array_add(self->selection, g_strdup(*names));
  selection_changed(self);
}

GStrv ll_canvas_get_selection(LlCanvas *self)
{
  GStrv v = g_new0(char *, self->selection->len + 1);
  for (guint i = 0; i < self->selection->len; i++)
    v[i] = g_strdup(self->selection->pdata[i]);
  return v;
}

const char *ll_canvas_get_primary(LlCanvas *self)
{
  return self->selection->len ? self->selection->pdata[self->selection->len - 1] : NULL;
}

double ll_canvas_get_zoom(LlCanvas *self) { return self->zoom; }
guint ll_canvas_get_n_scene_draws(LlCanvas *self) { return self->n_scene_draws; }

static void set_zoom_at(LlCanvas *self, double zoom, double wx, double wy)
{
  zoom = CLAMP(zoom, 0.15, 4.0);
  self->auto_fit = FALSE;
  double cx, cy;
  to_canvas(self, wx, wy, &cx, &cy);
  self->zoom = zoom;
  self->off_x = wx - cx * zoom;
  self->off_y = wy - cy * zoom;
  gtk_widget_queue_draw(GTK_WIDGET(self)); /* the same scene, moved */
}

void ll_canvas_zoom_by(LlCanvas *self, double factor)
{
  set_zoom_at(self, self->zoom * factor, gtk_widget_get_width(GTK_WIDGET(self)) / 2.0,
              gtk_widget_get_height(GTK_WIDGET(self)) / 2.0);
}

void ll_canvas_zoom_reset(LlCanvas *self)
{
  set_zoom_at(self, 1.0, gtk_widget_get_width(GTK_WIDGET(self)) / 2.0,
              gtk_widget_get_height(GTK_WIDGET(self)) / 2.0);
}

void ll_canvas_zoom_to_fit(LlCanvas *self)
{
  LlGraph *g = graph(self);
  int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
  if (!g || !g->blocks->len || w < 50 || h < 50)
    return;
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  for (guint i = 0; i < g->blocks->len; i++) {
    double x, y;
    block_rect(self, g->blocks->pdata[i], &x, &y);
    x0 = MIN(x0, x);
    y0 = MIN(y0, y);
    x1 = MAX(x1, x + LL_BLOCK_W);
    y1 = MAX(y1, y + LL_BLOCK_H + 24);
  }
  double z = MIN((w - 40) / (x1 - x0), (h - 40) / (y1 - y0));
  self->zoom = CLAMP(z, 0.15, 1.25);
  self->off_x = (w - (x1 - x0) * self->zoom) / 2 - x0 * self->zoom;
  self->off_y = (h - (y1 - y0) * self->zoom) / 2 - y0 * self->zoom;
  self->fitted = TRUE;
  self->fit_w = w;
  self->fit_h = h;
  gtk_widget_queue_draw(GTK_WIDGET(self)); /* the same scene, moved */
}

/* Whether a block placed at (x, y) would touch one already there (with
 * half the layout's gaps between them). */
static gboolean spot_taken(LlCanvas *self, double x, double y)
{
  LlGraph *g = graph(self);
  for (guint i = 0; g && i < g->blocks->len; i++) {
    double bx, by;
    if (block_rect(self, g->blocks->pdata[i], &bx, &by) &&
        fabs(bx - x) < LL_BLOCK_W + LL_BLOCK_GAP_X / 2 &&
        fabs(by - y) < LL_BLOCK_H + LL_BLOCK_GAP_Y / 2)
      return TRUE;
  }
  return FALSE;
}

void ll_canvas_free_spot(LlCanvas *self, double *x, double *y)
{
  const double sx = LL_BLOCK_W / 4 + LL_BLOCK_GAP_X / 4, sy = LL_BLOCK_H / 2 + LL_BLOCK_GAP_Y / 2;
  /* rings of candidates around (x, y), the nearest free one of the first
   * ring that has one */
  for (int k = 0; k < 64; k++) {
    double best = G_MAXDOUBLE, bx = *x, by = *y;
    for (int i = -k; i <= k; i++)
      for (int j = -k; j <= k; j++) {
        if (MAX(ABS(i), ABS(j)) != k)
          continue;
        double cx = *x + i * sx, cy = *y + j * sy, d = hypot(i * sx, j * sy);
        if (d < best && !spot_taken(self, cx, cy)) {
          best = d;
          bx = cx;
          by = cy;
        }
      }
    if (best < G_MAXDOUBLE) {
      *x = bx;
      *y = by;
      return;
    }
  }
}

void ll_canvas_get_insert_point(LlCanvas *self, double *x, double *y)
{
  const char *p = ll_canvas_get_primary(self);
  if (p && self->doc && ll_document_get_position(self->doc, p, x, y)) {
    /* below the selection, past any block already there */
    do
      *y += LL_BLOCK_H + LL_BLOCK_GAP_Y;
    while (spot_taken(self, *x, *y));
    return;
  }
  to_canvas(self, gtk_widget_get_width(GTK_WIDGET(self)) / 2.0 - LL_BLOCK_W / 2,
            gtk_widget_get_height(GTK_WIDGET(self)) / 2.0 - LL_BLOCK_H / 2, x, y);
  ll_canvas_free_spot(self, x, y);
}

/* ---- hit testing (canvas units) ---- */

static LlBlock *block_at(LlCanvas *self, double cx, double cy)
{
  LlGraph *g = graph(self);
  for (int i = g ? (int)g->blocks->len - 1 : -1; i >= 0; i--) {
    LlBlock *b = g->blocks->pdata[i];
    double x, y;
    block_rect(self, b, &x, &y);
    if (cx >= x - PORT_R && cx <= x + LL_BLOCK_W + PORT_R && cy >= y - PORT_R &&
        cy <= y + LL_BLOCK_H + PORT_R)
      return b;
  }
  return NULL;
}

static gboolean near(double ax, double ay, double bx, double by, double r)
{
  return (ax - bx) * (ax - bx) + (ay - by) * (ay - by) <= r * r;
}

/* ---- drawing ---- */

static void category_color(const char *category, double rgb[3])
{
  guint h = g_str_hash(category);
  double hue = (h % 360) / 360.0, s = 0.45, v = 0.78;
  int i = (int)(hue * 6);
  double f = hue * 6 - i, p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  double tab[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
  memcpy(rgb, tab[i % 6], sizeof tab[0]);
}

static void format_props(const LlBlock *b, char *buf, size_t len)
{
  buf[0] = 0;
  int shown = 0;
  for (int i = 0; i < b->desc->n_props && shown < 3; i++) {
    const LlPropDesc *d = &b->desc->props[i];
    if (!strcmp(d->name, "init"))
      continue;
    char val[48];
    ll_block_format_prop(b, i, val, sizeof val);
    size_t used = strlen(buf);
    g_snprintf(buf + used, len - used, "%s%s=%s", shown ? "  " : "", d->name, val);
    shown++;
  }
}

static gboolean is_dangling(LlCanvas *self, const char *name)
{
  const char *const *d = ll_document_get_dangling(self->doc);
  return d && g_strv_contains(d, name);
}

static void show_text(cairo_t *cr, PangoLayout *l, const char *markup, double x, double y,
                      double width, gboolean right)
{
  pango_layout_set_markup(l, markup, -1);
  pango_layout_set_width(l, (int)(width * PANGO_SCALE));
  pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
  pango_layout_set_alignment(l, right ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, l);
}

static void edge_path(cairo_t *cr, double x0, double y0, double x1, double y1)
{
  double dy = MAX(fabs(y1 - y0) * 0.5, 40);
  cairo_move_to(cr, x0, y0);
  cairo_curve_to(cr, x0, y0 + dy, x1, y1 - dy, x1, y1);
}

/* The ends of the wire into input k of b (canvas units). */
static gboolean edge_ends(LlCanvas *self, LlBlock *b, int k, double *x0, double *y0, double *x1,
                          double *y1)
{
  LlBlock *src = ll_graph_find(graph(self), b->input_names[k]);
  double x, y, sx, sy;
  if (!src)
    return FALSE;
  block_rect(self, b, &x, &y);
  block_rect(self, src, &sx, &sy);
  double spread = (k - (b->n_inputs - 1) / 2.0) * 14;
  *x0 = sx + LL_BLOCK_W / 2;
  *y0 = sy + LL_BLOCK_H;
  *x1 = x + LL_BLOCK_W / 2 + spread;
  *y1 = y;
  return TRUE;
}

/* The wire under (cx, cy), canvas units: its consumer and input port.
 * Blocks come first: a point on a block is not on a wire. The curve is the
 * one edge_path draws, sampled as a polyline. */
static LlBlock *edge_at(LlCanvas *self, double cx, double cy, int *input)
{
  LlGraph *g = graph(self);
  if (!g || block_at(self, cx, cy))
    return NULL;
  const double tol = 10.0 / self->zoom;
  LlBlock *best = NULL;
  double best_d = tol;
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g->blocks->pdata[i];
    for (int k = 0; k < b->n_inputs; k++) {
      double x0, y0, x1, y1;
      if (!edge_ends(self, b, k, &x0, &y0, &x1, &y1))
        continue;
      double dy = MAX(fabs(y1 - y0) * 0.5, 40);
      double px = x0, py = y0;
      for (int s = 1; s <= 32; s++) {
        double t = s / 32.0, u = 1 - t;
        /* the cubic Bezier (x0,y0) (x0,y0+dy) (x1,y1-dy) (x1,y1) */
        double qx = u * u * u * x0 + 3 * u * u * t * x0 + 3 * u * t * t * x1 + t * t * t * x1;
        double qy = u * u * u * y0 + 3 * u * u * t * (y0 + dy) + 3 * u * t * t * (y1 - dy) +
                    t * t * t * y1;
        double ex = qx - px, ey = qy - py, len2 = ex * ex + ey * ey;
        double f = len2 > 0 ? CLAMP(((cx - px) * ex + (cy - py) * ey) / len2, 0, 1) : 0;
        double d = hypot(cx - (px + f * ex), cy - (py + f * ey));
        if (d < best_d) {
          best_d = d;
          best = b;
          *input = k;
        }
        px = qx;
        py = qy;
      }
    }
  }
  return best;
}

static void set_drop_edge(LlCanvas *self, LlBlock *to, int input)
{
  if (!g_strcmp0(self->drop_edge_to, to ? to->name : NULL) &&
      (!to || self->drop_edge_input == input))
    return;
  g_free(self->drop_edge_to);
  self->drop_edge_to = to ? g_strdup(to->name) : NULL;
  self->drop_edge_input = input;
  redraw(self);
}

const char *ll_canvas_get_drop_edge(LlCanvas *self, int *input)
{
  if (input)
    *input = self->drop_edge_input;
  return self->drop_edge_to;
}

/* The style's darkness: the scene is drawn in its colours. */
static gboolean is_dark(LlCanvas *self)
{
  GtkWidget *w = GTK_WIDGET(self);
  GdkRGBA fg;
#if GTK_CHECK_VERSION(4, 10, 0)
  gtk_widget_get_color(w, &fg);
#else
  gtk_style_context_get_color(gtk_widget_get_style_context(w), &fg);
#endif
  return (fg.red + fg.green + fg.blue) / 3 > 0.5;
}

/* The background and its dot grid, in widget coordinates. */
static void draw_background(LlCanvas *self, cairo_t *cr, int width, int height, gboolean dark)
{
  double bg = dark ? 0.16 : 0.97, ink = dark ? 0.92 : 0.1;
  cairo_set_source_rgb(cr, bg, bg, bg);
  cairo_paint(cr);
  /* dot grid every 40 canvas units */
  double step = 40 * self->zoom;
  if (step > 8) {
    cairo_set_source_rgba(cr, ink, ink, ink, 0.12);
    for (double x = fmod(self->off_x, step); x < width; x += step)
      for (double y = fmod(self->off_y, step); y < height; y += step)
        cairo_rectangle(cr, x, y, 1.5, 1.5);
    cairo_fill(cr);
  }
}

/* The wires, the blocks and the error callout, in canvas units. */
static void draw_scene(LlCanvas *self, LlGraph *g, cairo_t *cr, gboolean dark)
{
  double box = dark ? 0.23 : 1.0, ink = dark ? 0.92 : 0.1;
  cairo_save(cr);
  PangoLayout *l = pango_cairo_create_layout(cr);
  PangoFontDescription *font = pango_font_description_from_string("Sans 9");
  pango_layout_set_font_description(l, font);

  /* wires */
  cairo_set_line_width(cr, 2.0);
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g->blocks->pdata[i];
    for (int k = 0; k < b->n_inputs; k++) {
      double x0, y0, x1, y1;
      if (!edge_ends(self, b, k, &x0, &y0, &x1, &y1))
        continue;
      edge_path(cr, x0, y0, x1, y1);
      if (self->drop_edge_to && !strcmp(self->drop_edge_to, b->name) &&
          self->drop_edge_input == k) {
        /* the wire a dragged block would go into: a halo around a bold line */
        cairo_set_source_rgba(cr, 0.2, 0.45, 0.9, 0.3);
        cairo_set_line_width(cr, 14.0);
        cairo_stroke_preserve(cr);
        cairo_set_source_rgb(cr, 0.2, 0.45, 0.9);
        cairo_set_line_width(cr, 4.0);
        cairo_stroke(cr);
        cairo_set_line_width(cr, 2.0);
      } else {
        cairo_set_source_rgba(cr, ink, ink, ink, 0.55);
        cairo_stroke(cr);
      }
    }
  }
  const char *err_block = ll_document_get_error_block(self->doc);
  const GError *err = ll_document_get_error(self->doc);
  const LlBlock *err_b = NULL;
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g->blocks->pdata[i];
    double x, y;
    block_rect(self, b, &x, &y);
    gboolean bad = err_block && !strcmp(err_block, b->name);
    gboolean after = b->status == LL_BLOCK_DOWNSTREAM;
    gboolean dangling = is_dangling(self, b->name);
    gboolean sel = is_selected(self, b->name);
    if (bad)
      err_b = b;
    double rgb[3];
    category_color(b->desc->category, rgb);
    /* body */
    cairo_new_sub_path(cr);
    double r = 6;
    cairo_arc(cr, x + LL_BLOCK_W - r, y + r, r, -G_PI / 2, 0);
    cairo_arc(cr, x + LL_BLOCK_W - r, y + LL_BLOCK_H - r, r, 0, G_PI / 2);
    cairo_arc(cr, x + r, y + LL_BLOCK_H - r, r, G_PI / 2, G_PI);
    cairo_arc(cr, x + r, y + r, r, G_PI, 1.5 * G_PI);
    cairo_close_path(cr);
    if (bad)
      cairo_set_source_rgb(cr, dark ? 0.45 : 1.0, dark ? 0.12 : 0.88, dark ? 0.12 : 0.88);
    else
      cairo_set_source_rgb(cr, box, box, box);
    cairo_fill_preserve(cr);
    cairo_set_line_width(cr, sel || bad ? 2.5 : after || dangling ? 1.8 : 1.0);
    if (bad)
      cairo_set_source_rgb(cr, 0.85, 0.1, 0.1);
    else if (after)
      cairo_set_source_rgb(cr, 0.85, 0.45, 0.1); /* reads the failing block: not known */
    else if (dangling && !sel)
      cairo_set_source_rgb(cr, 0.85, 0.45, 0.0);
    else if (sel)
      cairo_set_source_rgb(cr, 0.2, 0.45, 0.9);
    else
      cairo_set_source_rgba(cr, ink, ink, ink, 0.35);
    cairo_stroke(cr);
    /* category stripe */
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, x + 1.5, y + 6, 4, LL_BLOCK_H - 12);
    cairo_fill(cr);
    /* text */
    cairo_set_source_rgb(cr, ink, ink, ink);
    /* the type keeps its width; the name takes what is left, ellipsized */
    g_autofree char *type = g_markup_printf_escaped("<span alpha='65%%'>%s</span>", b->desc->type);
    pango_layout_set_width(l, -1);
    pango_layout_set_markup(l, type, -1);
    int type_w;
    pango_layout_get_pixel_size(l, &type_w, NULL);
    type_w = MIN(type_w, (int)(LL_BLOCK_W * 0.5));
    show_text(cr, l, type, x + LL_BLOCK_W - 8 - type_w, y + 4, type_w, TRUE);
    g_autofree char *name =
        g_markup_printf_escaped("<b>%s</b>%s", b->name, b->frozen ? " \u2744" : "");
    show_text(cr, l, name, x + 10, y + 4, LL_BLOCK_W - 26 - type_w, FALSE);
    char props[160];
    format_props(b, props, sizeof props);
    g_autofree char *pm = g_markup_printf_escaped("<small>%s</small>", props);
    show_text(cr, l, pm, x + 10, y + 23, LL_BLOCK_W - 16, FALSE);
    /* the output shape where it is known: every block upstream of an
     * error keeps it; the failing block and those after it say so */
    if (b->status == LL_BLOCK_OK && b->out_shape.rank > 0) {
      char shape[64];
      ll_shape_format(&b->out_shape, shape, sizeof shape);
      g_autofree char *sm = g_markup_printf_escaped("<small>\u2192 %s</small>", shape);
      cairo_set_source_rgb(cr, dark ? 0.55 : 0.1, dark ? 0.8 : 0.45, dark ? 0.55 : 0.2);
      show_text(cr, l, sm, x + 10, y + 41, LL_BLOCK_W - 16, FALSE);
    } else if (b->status != LL_BLOCK_OK) {
      const char *what = b->status == LL_BLOCK_FAILED ? "\u2192 error" : "\u2192 ? (after the error)";
      g_autofree char *sm = g_markup_printf_escaped("<small>%s</small>", what);
      cairo_set_source_rgb(cr, 0.8, b->status == LL_BLOCK_FAILED ? 0.1 : 0.4, 0.1);
      show_text(cr, l, sm, x + 10, y + 41, LL_BLOCK_W - 16, FALSE);
    }
    if (is_dangling(self, b->name)) {
      cairo_set_source_rgb(cr, 0.85, 0.45, 0.0);
      show_text(cr, l, "<small>\u26a0 dangling: its output is unused</small>", x + 10,
                y + LL_BLOCK_H + 6, LL_BLOCK_W + 40, FALSE);
    }
    /* ports (pango leaves a current point: start a fresh path) */
    cairo_new_path(cr);
    cairo_set_line_width(cr, 1.5);
    if (b->desc->max_inputs > 0) {
      cairo_arc(cr, x + LL_BLOCK_W / 2, y, PORT_R * 0.8, 0, 2 * G_PI);
      cairo_set_source_rgb(cr, box, box, box);
      cairo_fill_preserve(cr);
      cairo_set_source_rgb(cr, 0.3, 0.5, 0.85);
      cairo_stroke(cr);
    }
    cairo_arc(cr, x + LL_BLOCK_W / 2, y + LL_BLOCK_H, PORT_R * 0.8, 0, 2 * G_PI);
    cairo_set_source_rgb(cr, 0.3, 0.5, 0.85);
    cairo_fill(cr);
  }
  /* the error message, over everything else */
  if (err_b && err) {
    double x, y;
    block_rect(self, err_b, &x, &y);
    g_autofree char *msg = g_markup_escape_text(err->message, -1);
    pango_layout_set_markup(l, msg, -1);
    pango_layout_set_width(l, 300 * PANGO_SCALE);
    pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_NONE);
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, PANGO_ALIGN_LEFT);
    int tw, th;
    pango_layout_get_pixel_size(l, &tw, &th);
    double bx = x + LL_BLOCK_W + 12, by = y;
    cairo_set_source_rgb(cr, 0.8, 0.1, 0.1);
    cairo_rectangle(cr, bx, by, tw + 12, th + 8);
    cairo_fill(cr);
    cairo_new_path(cr);
    cairo_move_to(cr, bx, by + 10);
    cairo_line_to(cr, bx - 10, by + 16);
    cairo_line_to(cr, bx, by + 22);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_move_to(cr, bx + 6, by + 4);
    pango_cairo_show_layout(cr, l);
  }
  pango_font_description_free(font);
  g_object_unref(l);
  cairo_restore(cr);
}

/* The wire or the band being dragged, in widget coordinates. */
static void draw_overlay(LlCanvas *self, LlGraph *g, cairo_t *cr)
{
  if (self->mode == DRAG_CONNECT && self->connect_from) {
    LlBlock *src = ll_graph_find(g, self->connect_from);
    if (src) {
      double sx, sy;
      block_rect(self, src, &sx, &sy);
      cairo_set_source_rgb(cr, 0.2, 0.45, 0.9);
      cairo_set_line_width(cr, 2.0);
      edge_path(cr, (sx + LL_BLOCK_W / 2) * self->zoom + self->off_x,
                (sy + LL_BLOCK_H) * self->zoom + self->off_y, self->cur_x, self->cur_y);
      cairo_stroke(cr);
    }
  } else if (self->mode == DRAG_RUBBER) {
    cairo_rectangle(cr, MIN(self->drag_x, self->cur_x), MIN(self->drag_y, self->cur_y),
                    fabs(self->cur_x - self->drag_x), fabs(self->cur_y - self->drag_y));
    cairo_set_source_rgba(cr, 0.2, 0.45, 0.9, 0.15);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 0.2, 0.45, 0.9, 0.8);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
  }
}

/* What the scene may cover, in canvas units: the blocks, the wires bulging
 * above and below them (edge_path's control points), the text under a
 * dangling block and the error callout to the right of its block. */
static graphene_rect_t scene_bounds(LlCanvas *self, LlGraph *g)
{
  double x0 = 0, y0 = 0, x1 = 1, y1 = 1;
  for (guint i = 0; i < g->blocks->len; i++) {
    double x, y;
    block_rect(self, g->blocks->pdata[i], &x, &y);
    x0 = i ? MIN(x0, x) : x;
    y0 = i ? MIN(y0, y) : y;
    x1 = i ? MAX(x1, x + LL_BLOCK_W) : x + LL_BLOCK_W;
    y1 = i ? MAX(y1, y + LL_BLOCK_H) : y + LL_BLOCK_H;
  }
  double bulge = (y1 - y0) * 0.5 + 60;
  double right = ll_document_get_error(self->doc) ? 360 : 80;
  double below = ll_document_get_error(self->doc) ? MAX(bulge, 400) : bulge;
  return GRAPHENE_RECT_INIT(x0 - 80, y0 - bulge, x1 - x0 + 80 + right, y1 - y0 + bulge + below);
}

static void ll_canvas_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
  LlCanvas *self = LL_CANVAS(widget);
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  if (self->doc && w > 50 && h > 50 &&
      (!self->fitted || (self->auto_fit && (w != self->fit_w || h != self->fit_h)))) {
    ll_canvas_zoom_to_fit(self);
    self->auto_fit = TRUE;
  }
  gboolean dark = is_dark(self);
  graphene_rect_t all = GRAPHENE_RECT_INIT(0, 0, w, h);
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &all);
  draw_background(self, cr, w, h, dark);
  cairo_destroy(cr);
  LlGraph *g = graph(self);
  if (!g)
    return;
  /* the scene is drawn once and moved and scaled as the view pans, zooms
   * or is resized (a recording, so it stays sharp at any zoom) */
  if (self->scene && self->scene_dark != dark)
    g_clear_pointer(&self->scene, gsk_render_node_unref);
  if (!self->scene) {
    GtkSnapshot *s = gtk_snapshot_new();
    graphene_rect_t bounds = scene_bounds(self, g);
    cr = gtk_snapshot_append_cairo(s, &bounds);
    draw_scene(self, g, cr, dark);
    cairo_destroy(cr);
    self->scene = gtk_snapshot_free_to_node(s);
    self->scene_dark = dark;
    self->n_scene_draws++;
  }
  gtk_snapshot_push_clip(snapshot, &all);
  gtk_snapshot_save(snapshot);
  gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(self->off_x, self->off_y));
  gtk_snapshot_scale(snapshot, self->zoom, self->zoom);
  if (self->scene)
    gtk_snapshot_append_node(snapshot, self->scene);
  gtk_snapshot_restore(snapshot);
  if (self->mode == DRAG_CONNECT || self->mode == DRAG_RUBBER) {
    cr = gtk_snapshot_append_cairo(snapshot, &all);
    draw_overlay(self, g, cr);
    cairo_destroy(cr);
  }
  gtk_snapshot_pop(snapshot);
}

/* ---- gestures ---- */

static void drag_begin(GtkGestureDrag *gesture, double x, double y, LlCanvas *self)
{
  gtk_widget_grab_focus(GTK_WIDGET(self));
  self->drag_x = self->cur_x = x;
  self->drag_y = self->cur_y = y;
  self->mode = DRAG_NONE;
  if (!self->doc)
    return;
  guint button = gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(gesture));
  if (button == GDK_BUTTON_MIDDLE || (button == GDK_BUTTON_PRIMARY && self->space_down)) {
    self->mode = DRAG_PAN;
    self->pan_x0 = self->off_x;
    self->pan_y0 = self->off_y;
    return;
  }
  if (button != GDK_BUTTON_PRIMARY)
    return;
  double cx, cy;
  to_canvas(self, x, y, &cx, &cy);
  LlBlock *b = block_at(self, cx, cy);
  GdkModifierType mods =
      gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(gesture));
  gboolean extend = (mods & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) != 0;
  if (!b) {
    self->mode = DRAG_RUBBER;
    if (!extend && self->selection->len) {
      g_ptr_array_set_size(self->selection, 0);
      selection_changed(self);
    }
    return;
  }
  double bx, by;
  block_rect(self, b, &bx, &by);
  double r = PORT_R * 1.8;
  if (near(cx, cy, bx + LL_BLOCK_W / 2, by + LL_BLOCK_H, r)) {
    self->mode = DRAG_CONNECT;
    g_free(self->connect_from);
    self->connect_from = g_strdup(b->name);
    return;
  }
  if (b->n_inputs > 0 && near(cx, cy, bx + LL_BLOCK_W / 2, by, r)) {
    /* pick the last wire up: it follows the pointer from its source */
    g_free(self->connect_from);
    self->connect_from = g_strdup(b->input_names[b->n_inputs - 1]);
    ll_document_disconnect(self->doc, b->name, b->n_inputs - 1);
    self->mode = DRAG_CONNECT;
    return;
  }
  if (extend) {
    if (is_selected(self, b->name)) {
      for (guint i = 0; i < self->selection->len; i++)
        if (!strcmp(self->selection->pdata[i], b->name))
          g_ptr_array_remove_index(self->selection, i--);
    } else {
      g_ptr_array_add(self->selection, g_strdup(b->name));
    }
    selection_changed(self);
  } else if (!is_selected(self, b->name)) {
    const char *one[] = {b->name, NULL};
    ll_canvas_select(self, one);
  } else {
    /* make it the primary one */
    for (guint i = 0; i < self->selection->len; i++)
      if (!strcmp(self->selection->pdata[i], b->name))
        g_ptr_array_remove_index(self->selection, i--);
    g_ptr_array_add(self->selection, g_strdup(b->name));
    selection_changed(self);
  }
  self->mode = DRAG_MOVE;
  ll_document_begin_move(self->doc);
  g_array_set_size(self->move_start, 0);
  for (guint i = 0; i < self->selection->len; i++) {
    double p[2];
    ll_document_get_position(self->doc, self->selection->pdata[i], &p[0], &p[1]);
    g_array_append_vals(self->move_start, p, 2);
  }
}

static void drag_update(GtkGestureDrag *gesture, double dx, double dy, LlCanvas *self)
{
  self->cur_x = self->drag_x + dx;
  self->cur_y = self->drag_y + dy;
  switch (self->mode) {
  case DRAG_PAN:
    self->auto_fit = FALSE;
    self->off_x = self->pan_x0 + dx;
    self->off_y = self->pan_y0 + dy;
    break;
  case DRAG_MOVE:
    for (guint i = 0; i < self->selection->len && 2 * i + 1 < self->move_start->len; i++)
      ll_document_set_position(self->doc, self->selection->pdata[i],
                               g_array_index(self->move_start, double, 2 * i) + dx / self->zoom,
                               g_array_index(self->move_start, double, 2 * i + 1) +
                                   dy / self->zoom);
    break;
  default: break;
  }
  if (self->mode == DRAG_MOVE)
    redraw(self);
  else /* a pan, or the wire or band being dragged: drawn over the scene */
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void drag_end(GtkGestureDrag *gesture, double dx, double dy, LlCanvas *self)
{
  DragMode mode = self->mode;
  self->mode = DRAG_NONE;
  if (mode == DRAG_MOVE) {
    ll_document_end_move(self->doc);
  } else if (mode == DRAG_CONNECT && self->connect_from) {
    double cx, cy;
    to_canvas(self, self->cur_x, self->cur_y, &cx, &cy);
    LlBlock *b = block_at(self, cx, cy);
    if (b && strcmp(b->name, self->connect_from)) {
      g_autoptr(GError) error = NULL;
      g_autofree char *to = g_strdup(b->name);
      if (!ll_document_connect(self->doc, self->connect_from, to, &error))
        g_signal_emit(self, signals[SIGNAL_MESSAGE], 0, error->message);
    }
    g_clear_pointer(&self->connect_from, g_free);
  } else if (mode == DRAG_RUBBER) {
    double x0, y0, x1, y1;
    to_canvas(self, MIN(self->drag_x, self->cur_x), MIN(self->drag_y, self->cur_y), &x0, &y0);
    to_canvas(self, MAX(self->drag_x, self->cur_x), MAX(self->drag_y, self->cur_y), &x1, &y1);
    LlGraph *g = graph(self);
    gboolean any = FALSE;
    for (guint i = 0; g && i < g->blocks->len; i++) {
      LlBlock *b = g->blocks->pdata[i];
      double x, y;
      block_rect(self, b, &x, &y);
      if (x < x1 && x + LL_BLOCK_W > x0 && y < y1 && y + LL_BLOCK_H > y0 &&
          !is_selected(self, b->name)) {
        g_ptr_array_add(self->selection, g_strdup(b->name));
        any = TRUE;
      }
    }
    if (any)
      selection_changed(self);
  }
  redraw(self);
}

static gboolean on_scroll(GtkEventControllerScroll *c, double dx, double dy, LlCanvas *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(c));
  if (mods & GDK_CONTROL_MASK) {
    double px = self->cur_x, py = self->cur_y;
    set_zoom_at(self, self->zoom * pow(1.1, -dy), px, py);
  } else {
    self->auto_fit = FALSE;
    self->off_x -= dx * 30;
    self->off_y -= dy * 30;
    gtk_widget_queue_draw(GTK_WIDGET(self));
  }
  return TRUE;
}

static void on_motion(GtkEventControllerMotion *c, double x, double y, LlCanvas *self)
{
  if (self->mode == DRAG_NONE) {
    self->cur_x = x;
    self->cur_y = y;
  }
}

static gboolean on_key_pressed(GtkEventControllerKey *c, guint keyval, guint code,
                               GdkModifierType state, LlCanvas *self)
{
  if (keyval == GDK_KEY_space) {
    self->space_down = TRUE;
    return TRUE;
  }
  return FALSE;
}

static void on_key_released(GtkEventControllerKey *c, guint keyval, guint code,
                            GdkModifierType state, LlCanvas *self)
{
  if (keyval == GDK_KEY_space)
    self->space_down = FALSE;
}

/* A palette drag over the canvas: the wire under the pointer lights up. */
static GdkDragAction on_drop_motion(GtkDropTarget *target, double x, double y, LlCanvas *self)
{
  double cx, cy;
  int input = 0;
  to_canvas(self, x, y, &cx, &cy);
  set_drop_edge(self, self->doc ? edge_at(self, cx, cy, &input) : NULL, input);
  return GDK_ACTION_COPY;
}

static void on_drop_leave(GtkDropTarget *target, LlCanvas *self) { set_drop_edge(self, NULL, 0); }

/* A block type dropped from the palette: onto a wire it goes into that
 * wire; elsewhere it is added where it falls (never on top of a block). */
static gboolean on_drop(GtkDropTarget *target, const GValue *value, double x, double y,
                        LlCanvas *self)
{
  set_drop_edge(self, NULL, 0);
  if (!self->doc || !G_VALUE_HOLDS_STRING(value))
    return FALSE;
  const char *type = g_value_get_string(value);
  double cx, cy;
  to_canvas(self, x, y, &cx, &cy);
  int input = 0;
  LlBlock *to = edge_at(self, cx, cy, &input);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  if (to) {
    g_autofree char *to_name = g_strdup(to->name);
    name = ll_document_splice_block(self->doc, type, to_name, input, &error);
  } else {
    cx -= LL_BLOCK_W / 2;
    cy -= LL_BLOCK_H / 2;
    ll_canvas_free_spot(self, &cx, &cy);
    name = ll_document_add_block(self->doc, type, cx, cy, NULL, &error);
  }
  if (!name) {
    g_signal_emit(self, signals[SIGNAL_MESSAGE], 0, error->message);
    return FALSE;
  }
  const char *one[] = {name, NULL};
  ll_canvas_select(self, one);
  return TRUE;
}

static void on_doc_changed(LlDocument *doc, LlCanvas *self)
{
  /* forget selected blocks that no longer exist */
  LlGraph *g = graph(self);
  gboolean dropped = FALSE;
  for (guint i = 0; i < self->selection->len; i++)
    if (!ll_graph_find(g, self->selection->pdata[i])) {
      g_ptr_array_remove_index(self->selection, i--);
      dropped = TRUE;
    }
  if (dropped)
    selection_changed(self);
  redraw(self);
}

void ll_canvas_set_document(LlCanvas *self, LlDocument *doc)
{
  if (self->doc) {
    g_signal_handler_disconnect(self->doc, self->changed_id);
    g_clear_object(&self->doc);
  }
  self->doc = g_object_ref(doc);
  self->changed_id = g_signal_connect(doc, "changed", G_CALLBACK(on_doc_changed), self);
  self->fitted = FALSE;
  ll_canvas_select(self, NULL);
}

static void ll_canvas_dispose(GObject *object)
{
  LlCanvas *self = LL_CANVAS(object);
  if (self->doc) {
    g_signal_handler_disconnect(self->doc, self->changed_id);
    g_clear_object(&self->doc);
  }
  G_OBJECT_CLASS(ll_canvas_parent_class)->dispose(object);
}

static void ll_canvas_finalize(GObject *object)
{
  LlCanvas *self = LL_CANVAS(object);
  g_ptr_array_unref(self->selection);
  g_array_unref(self->move_start);
  g_free(self->connect_from);
  g_free(self->drop_edge_to);
  g_clear_pointer(&self->scene, gsk_render_node_unref);
  G_OBJECT_CLASS(ll_canvas_parent_class)->finalize(object);
}

static void ll_canvas_measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat,
                              int *min_base, int *nat_base)
{
  *min = o == GTK_ORIENTATION_HORIZONTAL ? 200 : 150; /* two rows of blocks */
  *nat = 800;
}

static void ll_canvas_class_init(LlCanvasClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ll_canvas_dispose;
  oc->finalize = ll_canvas_finalize;
  wc->snapshot = ll_canvas_snapshot;
  wc->measure = ll_canvas_measure;
  gtk_widget_class_set_css_name(wc, "ll-canvas");
  signals[SIGNAL_SELECTION_CHANGED] =
      g_signal_new("selection-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void ll_canvas_init(LlCanvas *self)
{
  GtkWidget *w = GTK_WIDGET(self);
  self->selection = g_ptr_array_new_with_free_func(g_free);
  self->move_start = g_array_new(FALSE, FALSE, sizeof(double));
  self->zoom = 1.0;
  gtk_widget_set_focusable(w, TRUE);
  gtk_widget_set_overflow(w, GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_hexpand(w, TRUE);
  gtk_widget_set_vexpand(w, TRUE);

  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), 0);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(drag_end), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(drag));

  GtkEventController *scroll =
      gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
  gtk_widget_add_controller(w, scroll);

  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
  gtk_widget_add_controller(w, motion);

  GtkEventController *key = gtk_event_controller_key_new();
  g_signal_connect(key, "key-pressed", G_CALLBACK(on_key_pressed), self);
  g_signal_connect(key, "key-released", G_CALLBACK(on_key_released), self);
  gtk_widget_add_controller(w, key);

  GtkDropTarget *drop = gtk_drop_target_new(G_TYPE_STRING, GDK_ACTION_COPY);
  g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
  g_signal_connect(drop, "enter", G_CALLBACK(on_drop_motion), self);
  g_signal_connect(drop, "motion", G_CALLBACK(on_drop_motion), self);
  g_signal_connect(drop, "leave", G_CALLBACK(on_drop_leave), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(drop));
}

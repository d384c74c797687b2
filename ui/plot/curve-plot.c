/* curve-plot.c: axes, decimated and smoothed series, legend and hover
 * readout, with cairo and pango-cairo only. */
#include "curve-plot.h"

#include "plot-common.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

typedef struct {
  char *name;
  double rgb[3];
  gboolean markers, smooth;
  GArray *x, *y;           /* double, in arrival order (x non-decreasing) */
  GArray *prev_x, *prev_y; /* the previous run, drawn faded */
  /* the smoothed y, extended as points arrive (the EMA of old points never
   * changes while the weight stays the same): valid for sm->len points */
  GArray *sm;
  double sm_weight, sm_last, sm_debias;
} Series;

struct LlCurvePlot {
  char *title, *x_label;
  GPtrArray *series; /* Series* */
  gboolean log_y;
  double smoothing;
  double view_x0, view_x1; /* view_x0 >= view_x1: fit */
  double hover_px;
  char *stamp; /* run id printed on the figure, or NULL */
};

enum { MARGIN_L = 58, MARGIN_R = 14, MARGIN_T = 28, MARGIN_B = 34 };

static void series_free(gpointer data)
{
  Series *s = data;
  g_free(s->name);
  g_array_unref(s->x);
  g_array_unref(s->y);
  g_array_unref(s->prev_x);
  g_array_unref(s->prev_y);
  if (s->sm)
    g_array_unref(s->sm);
  g_free(s);
}

LlCurvePlot *ll_curve_plot_new(const char *title, const char *x_label)
{
  LlCurvePlot *p = g_new0(LlCurvePlot, 1);
  p->title = g_strdup(title);
  p->x_label = g_strdup(x_label);
  p->series = g_ptr_array_new_with_free_func(series_free);
  p->hover_px = -1;
  return p;
}

void ll_curve_plot_free(LlCurvePlot *p)
{
  if (!p)
    return;
  g_free(p->title);
  g_free(p->x_label);
  g_free(p->stamp);
  g_ptr_array_unref(p->series);
  g_free(p);
}

int ll_curve_plot_add_series(LlCurvePlot *p, const char *name, double r, double g, double b,
                             gboolean markers, gboolean smooth)
{
  Series *s = g_new0(Series, 1);
  s->name = g_strdup(name);
  s->rgb[0] = r;
  s->rgb[1] = g;
  s->rgb[2] = b;
  s->markers = markers;
  s->smooth = smooth;
  s->x = g_array_new(FALSE, FALSE, sizeof(double));
  s->y = g_array_new(FALSE, FALSE, sizeof(double));
  s->prev_x = g_array_new(FALSE, FALSE, sizeof(double));
  s->prev_y = g_array_new(FALSE, FALSE, sizeof(double));
  g_ptr_array_add(p->series, s);
  return (int)p->series->len - 1;
}

void ll_curve_plot_append(LlCurvePlot *p, int series, double x, double y)
{
  g_return_if_fail(series >= 0 && (guint)series < p->series->len);
  if (!isfinite(x) || !isfinite(y))
    return;
  Series *s = g_ptr_array_index(p->series, series);
  g_array_append_val(s->x, x);
  g_array_append_val(s->y, y);
}

guint ll_curve_plot_series_len(const LlCurvePlot *p, int series)
{
  g_return_val_if_fail(series >= 0 && (guint)series < p->series->len, 0);
  return ((Series *)g_ptr_array_index(p->series, series))->x->len;
}

int ll_curve_plot_n_series(const LlCurvePlot *p) { return (int)p->series->len; }

const char *ll_curve_plot_series_name(const LlCurvePlot *p, int series)
{
  g_return_val_if_fail(series >= 0 && (guint)series < p->series->len, NULL);
  return ((Series *)g_ptr_array_index(p->series, series))->name;
}

void ll_curve_plot_clear(LlCurvePlot *p, int series)
{
  Series *s = g_ptr_array_index(p->series, series);
  g_array_set_size(s->x, 0);
  g_array_set_size(s->y, 0);
  if (s->sm)
    g_array_set_size(s->sm, 0); /* the smoothed cache starts over */
}

void ll_curve_plot_clear_all(LlCurvePlot *p)
{
  for (guint i = 0; i < p->series->len; i++) {
    Series *s = g_ptr_array_index(p->series, i);
    ll_curve_plot_clear(p, (int)i);
    g_array_set_size(s->prev_x, 0);
    g_array_set_size(s->prev_y, 0);
  }
  p->view_x0 = p->view_x1 = 0;
}

void ll_curve_plot_start_new_run(LlCurvePlot *p)
{
  for (guint i = 0; i < p->series->len; i++) {
    Series *s = g_ptr_array_index(p->series, i);
    if (!s->x->len)
      continue;
    GArray *t = s->prev_x;
    s->prev_x = s->x;
    s->x = t;
    t = s->prev_y;
    s->prev_y = s->y;
    s->y = t;
    g_array_set_size(s->x, 0);
    g_array_set_size(s->y, 0);
    if (s->sm)
      g_array_set_size(s->sm, 0);
  }
  p->view_x0 = p->view_x1 = 0;
}

void ll_curve_plot_set_log_y(LlCurvePlot *p, gboolean log_y) { p->log_y = log_y; }
gboolean ll_curve_plot_get_log_y(const LlCurvePlot *p) { return p->log_y; }

void ll_curve_plot_set_smoothing(LlCurvePlot *p, double weight)
{
  p->smoothing = CLAMP(weight, 0.0, 0.999);
}

void ll_curve_plot_set_x_range(LlCurvePlot *p, double x0, double x1)
{
  p->view_x0 = x0;
  p->view_x1 = x1;
}

static void data_x_range(const LlCurvePlot *p, double *x0, double *x1)
{
  double lo = INFINITY, hi = -INFINITY;
  for (guint i = 0; i < p->series->len; i++) {
    Series *s = g_ptr_array_index(p->series, i);
    GArray *arrs[2] = {s->x, s->prev_x};
    for (int a = 0; a < 2; a++)
      if (arrs[a]->len) {
        lo = MIN(lo, g_array_index(arrs[a], double, 0));
        hi = MAX(hi, g_array_index(arrs[a], double, arrs[a]->len - 1));
      }
  }
  if (!isfinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-9)
    hi = lo + 1;
  *x0 = lo;
  *x1 = hi;
}

void ll_curve_plot_get_x_range(const LlCurvePlot *p, double *x0, double *x1)
{
  if (p->view_x0 < p->view_x1) {
    *x0 = p->view_x0;
    *x1 = p->view_x1;
  } else {
    data_x_range(p, x0, x1);
  }
}

/* The displayed values: the debiased EMA of y (as TensorBoard smooths:
 * last = w*last + (1-w)*y, divided by 1 - w^n so the start is not pulled to 0). */
static double *smoothed(const LlCurvePlot *p, const Series *s, GArray *y)
{
  double *out = g_new(double, MAX(y->len, 1));
  double w = s->smooth ? p->smoothing : 0.0, last = 0.0, debias = 0.0;
  for (guint i = 0; i < y->len; i++) {
    double v = g_array_index(y, double, i);
    if (w <= 0.0) {
      out[i] = v;
      continue;
    }
    last = last * w + (1.0 - w) * v;
    debias = debias * w + (1.0 - w);
    out[i] = last / debias;
  }
  return out;
}

/* The current run's smoothed values, brought up to date (cached). */
static const double *smoothed_current(const LlCurvePlot *p, Series *s)
{
  double w = s->smooth ? p->smoothing : 0.0;
  if (w <= 0.0)
    return (const double *)s->y->data;
  if (!s->sm)
    s->sm = g_array_new(FALSE, FALSE, sizeof(double));
  if (s->sm_weight != w || s->sm->len > s->y->len) {
    g_array_set_size(s->sm, 0);
    s->sm_weight = w;
    s->sm_last = s->sm_debias = 0.0;
  }
  for (guint i = s->sm->len; i < s->y->len; i++) {
    s->sm_last = s->sm_last * w + (1.0 - w) * g_array_index(s->y, double, i);
    s->sm_debias = s->sm_debias * w + (1.0 - w);
    double v = s->sm_last / s->sm_debias;
    g_array_append_val(s->sm, v);
  }
  return (const double *)s->sm->data;
}

typedef struct {
  double x0, x1, y0, y1; /* data ranges (y in log10 when log_y) */
  double w, h;           /* plot area size */
  gboolean log_y;
} Frame;

static double fy(const Frame *f, double y)
{
  double v = f->log_y ? log10(MAX(y, 1e-12)) : y;
  return MARGIN_T + f->h - (v - f->y0) / (f->y1 - f->y0) * f->h;
}

static double fx(const Frame *f, double x)
{
  return MARGIN_L + (x - f->x0) / (f->x1 - f->x0) * f->w;
}

static void fit_y(LlCurvePlot *p, Frame *f)
{
  double lo = INFINITY, hi = -INFINITY;
  /* the current run's points set the range; the faded previous run's only
   * while the current one has none (its early losses would flatten the new run) */
  gboolean current = FALSE;
  for (guint i = 0; i < p->series->len; i++)
    current |= ((Series *)g_ptr_array_index(p->series, i))->x->len > 0;
  for (guint i = 0; i < p->series->len; i++) {
    Series *s = g_ptr_array_index(p->series, i);
    GArray *xs[2] = {s->x, s->prev_x}, *ys[2] = {s->y, s->prev_y};
    for (int a = 0; a < (current ? 1 : 2); a++)
      for (guint k = 0; k < xs[a]->len; k++) {
        double x = g_array_index(xs[a], double, k), y = g_array_index(ys[a], double, k);
        if (x < f->x0 || x > f->x1 || (p->log_y && y <= 0))
          continue;
        double v = p->log_y ? log10(y) : y;
        lo = MIN(lo, v);
        hi = MAX(hi, v);
      }
  }
  if (!isfinite(lo)) {
    lo = p->log_y ? -1 : 0;
    hi = p->log_y ? 0 : 1;
  }
  double pad = (hi - lo) * 0.06;
  if (pad < 1e-9)
    pad = p->log_y ? 0.1 : MAX(fabs(hi) * 0.1, 0.05);
  f->y0 = lo - pad;
  f->y1 = hi + pad;
  if (!p->log_y && lo >= 0 && f->y0 < 0)
    f->y0 = 0;
}

static void make_frame(LlCurvePlot *p, double width, double height, Frame *f)
{
  ll_curve_plot_get_x_range(p, &f->x0, &f->x1);
  f->w = MAX(width - MARGIN_L - MARGIN_R, 10);
  f->h = MAX(height - MARGIN_T - MARGIN_B, 10);
  f->log_y = p->log_y;
  fit_y(p, f);
}

/* One polyline through at most a min/max pair per pixel column. */
/* Dense curves are drawn per pixel column: the extent of the points that
 * fall in a column (min..max) as one filled band, and a polyline through
 * each column's mean. Stroking the raw min/max zigzag instead makes cairo
 * rasterise a few thousand sharp joins a frame (57 ms for 100,000 points at
 * 1200 px, against the 8 ms budget); a line through one sample per column
 * (the last) still zigzags over the band's height on noisy per-step losses,
 * and cairo's cost grows with the height its edges span: the mean follows
 * the trend, which is what the line is for (the band shows the spread). */
typedef struct {
  int n;
  double *col, *lo, *hi, *mid; /* per occupied column, in x order; mid: the mean */
} Columns;

static void columns_clear(Columns *c)
{
  g_free(c->col);
  g_free(c->lo);
  g_free(c->hi);
  g_free(c->mid);
}

static Columns columns_of(const Frame *f, GArray *xs, const double *ys)
{
  Columns c = {0};
  guint cap = MIN(xs->len, (guint)(f->w + 8) * 2 + 16);
  c.col = g_new(double, cap);
  c.lo = g_new(double, cap);
  c.hi = g_new(double, cap);
  c.mid = g_new(double, cap);
  int cur = INT_MIN, count = 0;
  /* fx and fy with their divisions hoisted: this loop sees every point */
  double sx = f->w / (f->x1 - f->x0), sy = f->h / (f->y1 - f->y0);
  double bx = MARGIN_L - f->x0 * sx, by = MARGIN_T + f->h + f->y0 * sy;
  const double *x = (const double *)xs->data;
  for (guint i = 0; i < xs->len; i++) {
    double y = by - (f->log_y ? log10(MAX(ys[i], 1e-12)) : ys[i]) * sy;
    double t = bx + x[i] * sx;
    int col = (int)t; /* floor without a libm call (points left of the plot go negative) */
    col -= t < col;
    if (col != cur || c.n == 0) {
      if (c.n)
        c.mid[c.n - 1] /= count;
      if ((guint)c.n == cap) {
        cap *= 2;
        c.col = g_renew(double, c.col, cap);
        c.lo = g_renew(double, c.lo, cap);
        c.hi = g_renew(double, c.hi, cap);
        c.mid = g_renew(double, c.mid, cap);
      }
      cur = col;
      count = 1;
      c.col[c.n] = col + 0.5;
      c.lo[c.n] = c.hi[c.n] = c.mid[c.n] = y;
      c.n++;
    } else {
      int k = c.n - 1;
      c.lo[k] = MIN(c.lo[k], y);
      c.hi[k] = MAX(c.hi[k], y);
      c.mid[k] += y; /* a sum until the column ends */
      count++;
    }
  }
  if (c.n)
    c.mid[c.n - 1] /= count;
  return c;
}

/* The min..max band of the columns (in screen y, lo is the top). */
static void fill_band(cairo_t *cr, const Columns *c)
{
  if (c->n < 1)
    return;
  cairo_move_to(cr, c->col[0] - 0.5, c->lo[0] - 0.5);
  for (int i = 0; i < c->n; i++)
    cairo_line_to(cr, c->col[i] + 0.5, c->lo[i] - 0.5);
  for (int i = c->n - 1; i >= 0; i--)
    cairo_line_to(cr, c->col[i] - 0.5, c->hi[i] + 0.5);
  cairo_close_path(cr);
  cairo_fill(cr);
}

static void stroke_mid(cairo_t *cr, const Columns *c)
{
  for (int i = 0; i < c->n; i++)
    (i ? cairo_line_to : cairo_move_to)(cr, c->col[i], c->mid[i]);
  cairo_stroke(cr);
}

typedef enum {
  DRAW_BAND,      /* the extent of the points in each column only */
  DRAW_LINE,      /* the line, and the band behind it where columns hold several points */
  DRAW_LINE_ONLY, /* the line alone (a smoothed line over its raw points' band) */
} DrawMode;

/* The line through the points; where a column holds several of them, their
 * extent as a band behind it, so spikes stay visible. */
static void draw_decimated(cairo_t *cr, const Frame *f, GArray *xs, const double *ys, DrawMode mode)
{
  Columns c = columns_of(f, xs, ys);
  gboolean dense = (guint)c.n < xs->len, band_only = mode == DRAW_BAND;
  if (band_only || (dense && mode == DRAW_LINE)) {
    cairo_save(cr);
    if (!band_only) {
      double r, g, b, a;
      if (cairo_pattern_get_rgba(cairo_get_source(cr), &r, &g, &b, &a) == CAIRO_STATUS_SUCCESS)
        cairo_set_source_rgba(cr, r, g, b, a * 0.35);
    }
    fill_band(cr, &c);
    cairo_restore(cr);
  }
  if (!band_only)
    stroke_mid(cr, &c);
  columns_clear(&c);
}

static void draw_series(LlCurvePlot *p, cairo_t *cr, const Frame *f, Series *s, gboolean prev)
{
  GArray *xs = prev ? s->prev_x : s->x, *yarr = prev ? s->prev_y : s->y;
  if (!xs->len)
    return;
  g_autofree double *prev_ys = prev ? smoothed(p, s, yarr) : NULL;
  const double *ys = prev ? prev_ys : smoothed_current(p, s);
  double alpha = prev ? 0.28 : 1.0;
  gboolean raw_band = s->smooth && p->smoothing > 0 && !prev;
  if (raw_band) {
    /* the raw points stay visible behind the smoothed line, as in TensorBoard */
    cairo_set_source_rgba(cr, s->rgb[0], s->rgb[1], s->rgb[2], 0.22);
    cairo_set_line_width(cr, 1.0);
    draw_decimated(cr, f, xs, (const double *)yarr->data, DRAW_BAND);
  }
  cairo_set_source_rgba(cr, s->rgb[0], s->rgb[1], s->rgb[2], alpha);
  cairo_set_line_width(cr, prev ? 1.2 : 1.8);
  if (prev)
    cairo_set_dash(cr, (double[]){4, 3}, 2, 0);
  /* over the raw band, the smoothed line's own band (its spread within a
   * pixel column) would add nothing visible: one fill less per frame */
  draw_decimated(cr, f, xs, ys, raw_band ? DRAW_LINE_ONLY : DRAW_LINE);
  cairo_set_dash(cr, NULL, 0, 0);
  if (s->markers)
    for (guint i = 0; i < xs->len; i++) {
      cairo_arc(cr, fx(f, g_array_index(xs, double, i)), fy(f, ys[i]), prev ? 2.0 : 3.0, 0,
                2 * G_PI);
      cairo_fill(cr);
    }
}

/* Index of the last point with x <= at, or -1. */
static int point_at(GArray *xs, double at)
{
  int lo = 0, hi = (int)xs->len - 1, best = -1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (g_array_index(xs, double, mid) <= at) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

double ll_curve_plot_x_to_data(const LlCurvePlot *p, double width, double px)
{
  double x0, x1;
  ll_curve_plot_get_x_range(p, &x0, &x1);
  double w = MAX(width - MARGIN_L - MARGIN_R, 10);
  return x0 + (px - MARGIN_L) / w * (x1 - x0);
}

void ll_curve_plot_set_hover(LlCurvePlot *p, double px) { p->hover_px = px; }

char *ll_curve_plot_hover_text(LlCurvePlot *p, double width)
{
  if (p->hover_px < MARGIN_L)
    return NULL;
  double at = ll_curve_plot_x_to_data(p, width, p->hover_px);
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "%s %.3g", p->x_label, at);
  gboolean any = FALSE;
  for (guint i = 0; i < p->series->len; i++) {
    Series *se = g_ptr_array_index(p->series, i);
    int k = point_at(se->x, at);
    if (k < 0)
      continue;
    const double *ys = smoothed_current(p, se);
    g_string_append_printf(s, "\n%s: %.4g", se->name, ys[k]);
    any = TRUE;
  }
  if (!any)
    return g_string_free(s, TRUE), NULL;
  return g_string_free(s, FALSE);
}

void ll_curve_plot_get_y_range(LlCurvePlot *p, double width, double height, double *y0, double *y1)
{
  Frame f;
  make_frame(p, width, height, &f);
  *y0 = f.y0;
  *y1 = f.y1;
}

void ll_curve_plot_draw(LlCurvePlot *p, cairo_t *cr, double width, double height)
{
  Frame f;
  make_frame(p, width, height, &f);
  cairo_save(cr);
  PangoLayout *layout = ll_plot_layout(cr, 8);

  /* background and frame */
  ll_plot_ink(cr, LL_INK_BG, 1);
  cairo_rectangle(cr, 0, 0, width, height);
  cairo_fill(cr);
  LlPlotRect area = {MARGIN_L, MARGIN_T, f.w, f.h};
  /* the x axis of every curve is the epoch: whole-number ticks */
  LlPlotAxes axes = {f.x0, f.x1, f.y0, f.y1, p->log_y, p->x_label, NULL, TRUE};
  ll_plot_draw_axes(cr, layout, &area, &axes);
  g_autofree char *title = g_strdup_printf("%s%s", p->title, p->log_y ? " (log)" : "");
  ll_plot_title(cr, layout, MARGIN_L, 6, title);

  /* legend, right-aligned in the top margin */
  g_autofree LlLegendEntry *entries = g_new0(LlLegendEntry, p->series->len + 1);
  int ne = 0;
  gboolean any_prev = FALSE;
  for (guint i = 0; i < p->series->len; i++) {
    Series *s = g_ptr_array_index(p->series, i);
    any_prev |= s->prev_x->len > 0;
    if (!s->x->len && !s->prev_x->len)
      continue;
    entries[ne].name = s->name;
    memcpy(entries[ne].rgb, s->rgb, sizeof s->rgb);
    ne++;
  }
  if (any_prev) {
    /* the faded lines: the text colour as faded as they are drawn */
    double fg[3], bg[3];
    ll_plot_ink_rgb(cr, LL_INK_TEXT, fg);
    ll_plot_ink_rgb(cr, LL_INK_BG, bg);
    entries[ne].name = "previous run (faded)";
    for (int k = 0; k < 3; k++)
      entries[ne].rgb[k] = bg[k] + (fg[k] - bg[k]) * 0.35;
    ne++;
  }
  /* it would run into the title (many series, long names, a narrow plot): a boxed column
   * inside the plot instead, drawn over the series below */
  double legend_w = 0;
  for (int i = 0; i < ne; i++) {
    int tw, th;
    ll_plot_text_size(layout, entries[i].name, &tw, &th);
    legend_w += tw + 26;
  }
  int title_w, title_h;
  ll_plot_text_size(layout, title, &title_w, &title_h);
  gboolean inside = ne > 0 && MARGIN_L + 1.2 * title_w + 16 + legend_w > width - MARGIN_R;
  if (!inside)
    ll_plot_legend(cr, layout, entries, ne, width - MARGIN_R, 7, TRUE);
  ll_plot_stamp(cr, width, height, p->stamp);

  /* series, clipped to the plot area */
  cairo_save(cr);
  cairo_rectangle(cr, MARGIN_L, MARGIN_T, f.w, f.h);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (guint i = 0; i < p->series->len; i++)
    draw_series(p, cr, &f, g_ptr_array_index(p->series, i), TRUE);
  for (guint i = 0; i < p->series->len; i++)
    draw_series(p, cr, &f, g_ptr_array_index(p->series, i), FALSE);
  cairo_restore(cr);
  if (inside) {
    /* in the right-hand corner the curves end away from: top when they end low (losses),
     * bottom when they end high (accuracies) */
    double ends = 0;
    int n_ends = 0;
    for (guint i = 0; i < p->series->len; i++) {
      Series *s = g_ptr_array_index(p->series, i);
      if (s->y->len) {
        ends += fy(&f, g_array_index(s->y, double, s->y->len - 1));
        n_ends++;
      }
    }
    int tw, th;
    ll_plot_text_size(layout, "Ag", &tw, &th);
    double lw = ll_plot_legend_width(layout, entries, ne), lh = ne * (th + 3) + 8;
    if (any_prev && lw > f.w - 12) {
      entries[ne - 1].name = "previous run";
      lw = ll_plot_legend_width(layout, entries, ne);
    }
    gboolean top = !n_ends || ends / n_ends > MARGIN_T + f.h / 2;
    /* inside the plot area even when it is narrower than the legend: never
     * over the y axis's labels (a narrow window) */
    cairo_save(cr);
    cairo_rectangle(cr, MARGIN_L, MARGIN_T, f.w, f.h);
    cairo_clip(cr);
    ll_plot_legend(cr, layout, entries, ne, MAX(MARGIN_L + 4, MARGIN_L + f.w - lw - 6),
                   top ? MARGIN_T + 6 : MARGIN_T + f.h - lh - 6, FALSE);
    cairo_restore(cr);
  }

  /* hover readout */
  g_autofree char *readout = ll_curve_plot_hover_text(p, width);
  if (readout && p->hover_px <= MARGIN_L + f.w) {
    ll_plot_ink(cr, LL_INK_TEXT, 0.6);
    cairo_move_to(cr, floor(p->hover_px) + 0.5, MARGIN_T);
    cairo_line_to(cr, floor(p->hover_px) + 0.5, MARGIN_T + f.h);
    cairo_stroke(cr);
    pango_layout_set_text(layout, readout, -1);
    int tw, th;
    pango_layout_get_pixel_size(layout, &tw, &th);
    double bx = p->hover_px + 8;
    if (bx + tw + 8 > MARGIN_L + f.w)
      bx = p->hover_px - tw - 16;
    ll_plot_ink(cr, LL_INK_PANEL, 0.95);
    cairo_rectangle(cr, bx, MARGIN_T + 6, tw + 8, th + 6);
    cairo_fill_preserve(cr);
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    cairo_stroke(cr);
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    cairo_move_to(cr, bx + 4, MARGIN_T + 9);
    pango_cairo_show_layout(cr, layout);
  }
  g_object_unref(layout);
  cairo_restore(cr);
}

static void draw_for_export(gpointer data, cairo_t *cr, double width, double height)
{
  LlCurvePlot *p = data;
  double saved = p->hover_px;
  p->hover_px = -1;
  ll_curve_plot_draw(p, cr, width, height);
  p->hover_px = saved;
}

gboolean ll_curve_plot_export(LlCurvePlot *p, const char *path, int width, int height,
                              GError **error)
{
  return ll_plot_export(path, NULL, width, height, 96, draw_for_export, p, error);
}

gboolean ll_curve_plot_export_full(LlCurvePlot *p, const char *path, const char *format,
                                   double width, double height, double dpi, GError **error)
{
  return ll_plot_export(path, format, width, height, dpi, draw_for_export, p, error);
}

void ll_curve_plot_set_stamp(LlCurvePlot *p, const char *run_id)
{
  g_free(p->stamp);
  p->stamp = g_strdup(run_id);
}

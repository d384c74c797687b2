/* confusion-plot.c: heatmap, class names, colour bar and report. */
#include "confusion-plot.h"

#include <math.h>
#include <string.h>

struct LlConfusionPlot {
  int n;
  int64_t *counts;
  char **names;
  double *precision, *recall, *f1; /* n + 2: classes, macro, weighted */
  int64_t *support;                /* n + 2 */
  char *title, *stamp;
  gboolean rates, report;
  int sel_row, sel_col;
  gboolean binary;
  double auc;
  char *binary_text; /* "positive class ...: precision ..." and "ROC AUC ..." lines */
};

/* Where the report goes: beside the matrix, under it, or (no room for
 * either without shrinking the matrix below three quarters of what it gets
 * alone) only its accuracy line beside the colour bar, or nothing. */
typedef enum { REPORT_NONE, REPORT_RIGHT, REPORT_BELOW, REPORT_ACCURACY } ReportAt;

typedef struct {
  LlPlotRect grid; /* the cells */
  double cell;
  LlPlotRect bar; /* colour bar */
  ReportAt report;
  double report_x, report_y; /* top left of the report table or accuracy line */
} Layout;

enum { REPORT_W = 292, STAMP_H = 14 };

LlConfusionPlot *ll_confusion_plot_new(void)
{
  LlConfusionPlot *p = g_new0(LlConfusionPlot, 1);
  p->report = TRUE;
  p->sel_row = -1;
  p->title = g_strdup("Confusion matrix");
  return p;
}

static void clear_data(LlConfusionPlot *p)
{
  g_clear_pointer(&p->counts, g_free);
  g_clear_pointer(&p->names, g_strfreev);
  g_clear_pointer(&p->precision, g_free);
  g_clear_pointer(&p->recall, g_free);
  g_clear_pointer(&p->f1, g_free);
  g_clear_pointer(&p->support, g_free);
  g_clear_pointer(&p->binary_text, g_free);
  p->binary = FALSE;
  p->n = 0;
}

void ll_confusion_plot_free(LlConfusionPlot *p)
{
  if (!p)
    return;
  clear_data(p);
  g_free(p->title);
  g_free(p->stamp);
  g_free(p);
}

void ll_confusion_plot_set_data(LlConfusionPlot *p, int n, const int64_t *counts,
                                char *const *names)
{
  clear_data(p);
  if (n <= 0 || !counts)
    return;
  p->n = n;
  p->counts = g_memdup2(counts, sizeof(int64_t) * n * n);
  p->names = g_new0(char *, n + 1);
  gboolean more = names != NULL; /* names may be shorter (NULL-terminated) */
  for (int i = 0; i < n; i++) {
    more = more && names[i];
    p->names[i] = more ? g_strdup(names[i]) : g_strdup_printf("%d", i);
  }
  /* the report as scikit-learn's classification_report computes it */
  p->precision = g_new0(double, n + 2);
  p->recall = g_new0(double, n + 2);
  p->f1 = g_new0(double, n + 2);
  p->support = g_new0(int64_t, n + 2);
  int64_t total = 0;
  for (int k = 0; k < n; k++) {
    int64_t tp = counts[k * n + k], col = 0, row = 0;
    for (int m = 0; m < n; m++) {
      col += counts[m * n + k];
      row += counts[k * n + m];
    }
    p->support[k] = row;
    p->precision[k] = col ? (double)tp / col : 0.0;
    p->recall[k] = row ? (double)tp / row : 0.0;
    double s = p->precision[k] + p->recall[k];
    p->f1[k] = s > 0 ? 2 * p->precision[k] * p->recall[k] / s : 0.0;
    total += row;
  }
  double *cols[3] = {p->precision, p->recall, p->f1};
  for (int c = 0; c < 3; c++) {
    for (int k = 0; k < n; k++) {
      cols[c][n] += cols[c][k] / n;
      cols[c][n + 1] += total ? cols[c][k] * p->support[k] / total : 0.0;
    }
  }
  p->support[n] = p->support[n + 1] = total;
  if (p->sel_row >= n || p->sel_col >= n)
    p->sel_row = -1;
}

void ll_confusion_plot_set_binary(LlConfusionPlot *p, double roc_auc)
{
  if (p->n != 2)
    return;
  p->binary = TRUE;
  p->auc = roc_auc;
  g_free(p->binary_text);
  g_autofree char *auc =
      isfinite(roc_auc) ? g_strdup_printf("%.4f", roc_auc) : g_strdup("undefined (one class only)");
  p->binary_text = g_strdup_printf("positive class %s (logit > 0, p > 0.5):\n"
                                   "precision %.4f  recall %.4f  F1 %.4f\nROC AUC %s",
                                   p->names[1], p->precision[1], p->recall[1], p->f1[1], auc);
}

const char *ll_confusion_plot_get_binary_text(LlConfusionPlot *p)
{
  return p->binary_text ? p->binary_text : "";
}

void ll_confusion_plot_set_title(LlConfusionPlot *p, const char *title)
{
  g_free(p->title);
  p->title = g_strdup(title);
}

void ll_confusion_plot_set_stamp(LlConfusionPlot *p, const char *run_id)
{
  g_free(p->stamp);
  p->stamp = g_strdup(run_id);
}

void ll_confusion_plot_set_normalized(LlConfusionPlot *p, gboolean rates) { p->rates = rates; }
void ll_confusion_plot_set_show_report(LlConfusionPlot *p, gboolean show) { p->report = show; }

void ll_confusion_plot_set_selected(LlConfusionPlot *p, int row, int col)
{
  p->sel_row = row;
  p->sel_col = col;
}

void ll_confusion_plot_report_row(LlConfusionPlot *p, int k, double *precision, double *recall,
                                  double *f1, int64_t *support)
{
  g_return_if_fail(k >= 0 && k < p->n + 2);
  *precision = p->precision[k];
  *recall = p->recall[k];
  *f1 = p->f1[k];
  *support = p->support[k];
}

/* The width the class names need on the left axis. */
static int names_width(LlConfusionPlot *p, PangoLayout *l)
{
  int wmax = 0;
  for (int i = 0; i < p->n; i++) {
    int tw, th;
    ll_plot_text_size(l, p->names[i], &tw, &th);
    wmax = MAX(wmax, tw);
  }
  return wmax;
}

/* The height draw_report takes (rows of th + 4 px). */
static double report_height(LlConfusionPlot *p, double row)
{
  return row + 3 + (p->n + 2) * row + 4 + 6 + (p->binary_text ? 4.4 : 1.0) * row;
}

static void make_layout(LlConfusionPlot *p, PangoLayout *l, double width, double height, Layout *o)
{
  int nw = names_width(p, l), tw, th;
  ll_plot_text_size(l, "Ag", &tw, &th);
  double row = th + 4, rh = report_height(p, row);
  double left = nw + 30, top = 34, bottom = nw + 30, bar_w = 56, gap = 10;
  double avail_h = height - top - bottom;
  /* the matrix alone, with the report beside it, with the report under it */
  double alone = MIN(width - left - bar_w - gap, avail_h);
  double beside = MIN(alone, width - left - bar_w - REPORT_W - gap);
  double below = MIN(alone, avail_h - rh - STAMP_H);
  double enough = 0.75 * MIN(alone, 160);
  double side = alone;
  o->report = REPORT_NONE;
  if (p->report && p->n > 0) {
    if (beside >= enough && top + rh + STAMP_H <= height) {
      o->report = REPORT_RIGHT;
      side = beside;
    } else if (below >= enough && width >= gap + REPORT_W) {
      o->report = REPORT_BELOW;
      side = below;
    } else {
      g_autofree char *acc = g_strdup_printf("accuracy %.4f", 1.0);
      ll_plot_text_size(l, acc, &tw, &th);
      if (left + alone + 12 + bar_w + tw + gap <= width)
        o->report = REPORT_ACCURACY;
    }
  }
  side = MAX(side, 20);
  int n = MAX(p->n, 1);
  o->cell = side / n;
  o->grid = (LlPlotRect){left, top, o->cell * n, o->cell * n};
  o->bar = (LlPlotRect){left + o->grid.w + 12, top, 12, o->grid.h};
  o->report_x = o->report == REPORT_BELOW ? gap : o->bar.x + bar_w;
  o->report_y = o->report == REPORT_BELOW ? top + o->grid.h + bottom : top;
}

static double cell_value(LlConfusionPlot *p, int r, int c, double *max_out)
{
  int n = p->n;
  if (p->rates) {
    int64_t row = p->support[r];
    *max_out = 1.0;
    return row ? (double)p->counts[r * n + c] / row : 0.0;
  }
  int64_t mx = 1;
  for (int i = 0; i < n * n; i++)
    mx = MAX(mx, p->counts[i]);
  *max_out = (double)mx;
  return (double)p->counts[r * n + c];
}

#define ramp ll_plot_ramp

void ll_confusion_plot_cell_rect(LlConfusionPlot *p, double width, double height, int row, int col,
                                 LlPlotRect *out)
{
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create(s);
  PangoLayout *l = ll_plot_layout(cr, 8);
  Layout o;
  make_layout(p, l, width, height, &o);
  *out = (LlPlotRect){o.grid.x + col * o.cell, o.grid.y + row * o.cell, o.cell, o.cell};
  g_object_unref(l);
  cairo_destroy(cr);
  cairo_surface_destroy(s);
}

gboolean ll_confusion_plot_cell_at(LlConfusionPlot *p, double width, double height, double px,
                                   double py, int *row, int *col)
{
  if (p->n <= 0)
    return FALSE;
  LlPlotRect r0;
  ll_confusion_plot_cell_rect(p, width, height, 0, 0, &r0);
  int c = (int)floor((px - r0.x) / r0.w), r = (int)floor((py - r0.y) / r0.h);
  if (px < r0.x || py < r0.y || r >= p->n || c >= p->n)
    return FALSE;
  *row = r;
  *col = c;
  return TRUE;
}

static double accuracy(LlConfusionPlot *p)
{
  int64_t diag = 0;
  for (int k = 0; k < p->n; k++)
    diag += p->counts[k * p->n + k];
  return p->support[p->n] ? (double)diag / p->support[p->n] : 0.0;
}

static void draw_report(LlConfusionPlot *p, cairo_t *cr, PangoLayout *l, double x, double y)
{
  const char *heads[] = {"class", "precision", "recall", "F1", "support"};
  double colx[] = {0, 128, 184, 232, 282};
  int tw, th;
  ll_plot_text_size(l, "Ag", &tw, &th);
  double row = th + 4;
  ll_plot_ink(cr, LL_INK_TEXT, 1);
  for (int i = 0; i < 5; i++)
    ll_plot_text(cr, l, x + colx[i], y, heads[i], i ? 1.0 : 0.0, 0.0);
  cairo_set_line_width(cr, 1);
  ll_plot_ink(cr, LL_INK_FRAME, 1);
  cairo_move_to(cr, x, floor(y + row) + 0.5);
  cairo_line_to(cr, x + colx[4], floor(y + row) + 0.5);
  cairo_stroke(cr);
  char buf[64];
  double yy = y + row + 3;
  for (int k = 0; k < p->n + 2; k++) {
    if (k == p->n) {
      ll_plot_ink(cr, LL_INK_FRAME, 1);
      cairo_move_to(cr, x, floor(yy + 1) + 0.5);
      cairo_line_to(cr, x + colx[4], floor(yy + 1) + 0.5);
      cairo_stroke(cr);
      yy += 4;
    }
    const char *name = k < p->n ? p->names[k] : k == p->n ? "macro avg" : "weighted avg";
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    g_autofree char *nm = g_utf8_substring(name, 0, MIN(g_utf8_strlen(name, -1), 22));
    ll_plot_text(cr, l, x, yy, nm, 0.0, 0.0);
    double v[3] = {p->precision[k], p->recall[k], p->f1[k]};
    for (int i = 0; i < 3; i++) {
      g_snprintf(buf, sizeof buf, "%.3f", v[i]);
      ll_plot_text(cr, l, x + colx[i + 1], yy, buf, 1.0, 0.0);
    }
    g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, p->support[k]);
    ll_plot_text(cr, l, x + colx[4], yy, buf, 1.0, 0.0);
    yy += row;
  }
  int64_t diag = 0;
  for (int k = 0; k < p->n; k++)
    diag += p->counts[k * p->n + k];
  g_snprintf(buf, sizeof buf, "accuracy %.4f  (%" G_GINT64_FORMAT " / %" G_GINT64_FORMAT ")",
             accuracy(p), diag, p->support[p->n]);
  ll_plot_text(cr, l, x, yy + 6, buf, 0.0, 0.0);
  if (p->binary_text) {
    g_auto(GStrv) lines = g_strsplit(p->binary_text, "\n", -1);
    for (int i = 0; lines[i]; i++)
      ll_plot_text(cr, l, x, yy + 6 + (i + 1.4) * row, lines[i], 0.0, 0.0);
  }
}

void ll_confusion_plot_draw(LlConfusionPlot *p, cairo_t *cr, double width, double height)
{
  cairo_save(cr);
  ll_plot_ink(cr, LL_INK_BG, 1);
  cairo_rectangle(cr, 0, 0, width, height);
  cairo_fill(cr);
  PangoLayout *l = ll_plot_layout(cr, 8);
  g_autofree char *title =
      g_strdup_printf("%s%s", p->title, p->rates ? " (row-normalised)" : " (counts)");
  ll_plot_title(cr, l, 10, 8, title);
  if (p->n <= 0) {
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    /* wrapped to the width, centred */
    pango_layout_set_width(l, (int)MAX(width - 20, 40) * PANGO_SCALE);
    pango_layout_set_wrap(l, PANGO_WRAP_WORD);
    pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
    pango_layout_set_text(
        l, "No confusion matrix: the run has no classification loss, or no evaluation yet", -1);
    int tw, th;
    pango_layout_get_pixel_size(l, &tw, &th);
    cairo_move_to(cr, 10, height / 2 - th / 2.0);
    pango_cairo_show_layout(cr, l);
    g_object_unref(l);
    ll_plot_stamp(cr, width, height, p->stamp);
    cairo_restore(cr);
    return;
  }
  Layout o;
  make_layout(p, l, width, height, &o);
  int n = p->n;
  char buf[32];
  gboolean labels_in_cells = o.cell >= 22;
  PangoLayout *cl = ll_plot_layout(cr, CLAMP(o.cell / 4.5, 5, 9));
  for (int r = 0; r < n; r++)
    for (int c = 0; c < n; c++) {
      double mx, v = cell_value(p, r, c, &mx), rgb[3], t = mx > 0 ? v / mx : 0;
      ramp(t, rgb);
      double x = o.grid.x + c * o.cell, y = o.grid.y + r * o.cell;
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      cairo_rectangle(cr, x, y, o.cell + 0.5, o.cell + 0.5);
      cairo_fill(cr);
      if (labels_in_cells) {
        if (p->rates)
          g_snprintf(buf, sizeof buf, "%.2f", v);
        else
          g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, p->counts[r * n + c]);
        double g = t > 0.45 ? 1.0 : 0.1;
        cairo_set_source_rgb(cr, g, g, g);
        ll_plot_text(cr, cl, x + o.cell / 2, y + o.cell / 2, buf, 0.5, 0.5);
      }
    }
  g_object_unref(cl);
  cairo_set_line_width(cr, 1);
  ll_plot_ink(cr, LL_INK_FRAME, 1);
  cairo_rectangle(cr, o.grid.x + 0.5, o.grid.y + 0.5, o.grid.w - 1, o.grid.h - 1);
  cairo_stroke(cr);
  if (p->sel_row >= 0 && p->sel_row < n && p->sel_col >= 0 && p->sel_col < n) {
    cairo_set_source_rgb(cr, 0.95, 0.55, 0.0);
    cairo_set_line_width(cr, 2.5);
    cairo_rectangle(cr, o.grid.x + p->sel_col * o.cell + 1.25,
                    o.grid.y + p->sel_row * o.cell + 1.25, o.cell - 2.5, o.cell - 2.5);
    cairo_stroke(cr);
  }
  /* class names: true classes down the left, predicted along the bottom (rotated) */
  ll_plot_ink(cr, LL_INK_TEXT, 1);
  for (int k = 0; k < n; k++) {
    ll_plot_text(cr, l, o.grid.x - 5, o.grid.y + (k + 0.5) * o.cell, p->names[k], 1.0, 0.5);
    int tw, th;
    ll_plot_text_size(l, p->names[k], &tw, &th);
    cairo_save(cr);
    cairo_translate(cr, o.grid.x + (k + 0.5) * o.cell - th / 2.0, o.grid.y + o.grid.h + 5);
    cairo_rotate(cr, G_PI / 2);
    cairo_move_to(cr, 0, -th);
    pango_cairo_update_layout(cr, l);
    pango_cairo_show_layout(cr, l);
    cairo_restore(cr);
    pango_cairo_update_layout(cr, l);
  }
  int nw = names_width(p, l);
  ll_plot_text_vertical(cr, l, o.grid.x - nw - 24, o.grid.y + o.grid.h / 2, "true class");
  ll_plot_text(cr, l, o.grid.x + o.grid.w / 2, o.grid.y + o.grid.h + nw + 12, "predicted class",
               0.5, 0.0);
  /* colour bar with ticks from the shared tick code */
  double mx;
  cell_value(p, 0, 0, &mx);
  ll_plot_colorbar(cr, l, &o.bar, 0, mx, FALSE);
  if (o.report == REPORT_RIGHT || o.report == REPORT_BELOW)
    draw_report(p, cr, l, o.report_x, o.report_y);
  else if (o.report == REPORT_ACCURACY) {
    g_snprintf(buf, sizeof buf, "accuracy %.4f", accuracy(p));
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    ll_plot_text(cr, l, o.report_x, o.report_y, buf, 0.0, 0.0);
  }
  g_object_unref(l);
  ll_plot_stamp(cr, width, height, p->stamp);
  cairo_restore(cr);
}

static void draw_cb(gpointer data, cairo_t *cr, double w, double h)
{
  ll_confusion_plot_draw(data, cr, w, h);
}

gboolean ll_confusion_plot_export(LlConfusionPlot *p, const char *path, const char *format,
                                  double width, double height, double dpi, GError **error)
{
  return ll_plot_export(path, format, width, height, dpi, draw_cb, p, error);
}

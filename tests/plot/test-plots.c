/* The plots render what must be there, headless: confusion cell colours
 * ordered as the counts, tick labels, a legend entry per class, SVG that
 * parses, PDFs with the expected page count (figures and the run report). */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "analysis.h"
#include "confusion-plot.h"
#include "curve-plot.h"
#include "image-grid.h"
#include "run-report.h"
#include "scatter-plot.h"

typedef void (*DrawFn)(gpointer p, cairo_t *cr, double w, double h);

static cairo_surface_t *render(DrawFn draw, gpointer p, int w, int h)
{
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create(s);
  draw(p, cr, w, h);
  cairo_destroy(cr);
  cairo_surface_flush(s);
  return s;
}

static guint32 pixel(cairo_surface_t *s, int x, int y)
{
  guint8 *d = cairo_image_surface_get_data(s);
  return *(guint32 *)(d + (size_t)y * cairo_image_surface_get_stride(s) + x * 4) & 0xffffff;
}

static double lightness(guint32 p)
{
  return 0.299 * ((p >> 16) & 255) + 0.587 * ((p >> 8) & 255) + 0.114 * (p & 255);
}

/* Pixels in a rectangle that are not the white background. */
static int ink(cairo_surface_t *s, int x0, int y0, int x1, int y1)
{
  int n = 0;
  for (int y = MAX(y0, 0); y < y1 && y < cairo_image_surface_get_height(s); y++)
    for (int x = MAX(x0, 0); x < x1 && x < cairo_image_surface_get_width(s); x++)
      n += pixel(s, x, y) != 0xffffff;
  return n;
}

static guint32 rgb_pixel(const double rgb[3])
{
  return ((guint32)(rgb[0] * 255 + 0.5) << 16) | ((guint32)(rgb[1] * 255 + 0.5) << 8) |
         (guint32)(rgb[2] * 255 + 0.5);
}

static gboolean has_color(cairo_surface_t *s, int x0, int y0, int x1, int y1, guint32 want)
{
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) {
      guint32 p = pixel(s, x, y);
      int dr = abs((int)((p >> 16) & 255) - (int)((want >> 16) & 255));
      int dg = abs((int)((p >> 8) & 255) - (int)((want >> 8) & 255));
      int db = abs((int)(p & 255) - (int)(want & 255));
      if (dr <= 2 && dg <= 2 && db <= 2)
        return TRUE;
    }
  return FALSE;
}

static void confusion_draw(gpointer p, cairo_t *cr, double w, double h)
{
  ll_confusion_plot_draw(p, cr, w, h);
}

static void test_confusion_colors(void)
{
  /* counts all distinct, so every pair of cells must order */
  int64_t m[9] = {50, 3, 7, 1, 40, 12, 9, 2, 30};
  char *names[] = {"cat", "dog", "bird", NULL};
  g_autoptr(LlConfusionPlot) p = ll_confusion_plot_new();
  ll_confusion_plot_set_data(p, 3, m, names);
  int W = 900, H = 500;
  cairo_surface_t *s = render(confusion_draw, p, W, H);
  double light[9];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) {
      LlPlotRect rc;
      ll_confusion_plot_cell_rect(p, W, H, r, c, &rc);
      light[r * 3 + c] = lightness(pixel(s, (int)rc.x + 3, (int)rc.y + 3)); /* off the text */
    }
  for (int i = 0; i < 9; i++)
    for (int j = 0; j < 9; j++)
      if (m[i] > m[j])
        g_assert_cmpfloat(light[i], <, light[j]);
  /* class names on the left of the grid: ink there */
  LlPlotRect r0;
  ll_confusion_plot_cell_rect(p, W, H, 0, 0, &r0);
  g_assert_cmpint(ink(s, 0, (int)r0.y, (int)r0.x - 2, (int)(r0.y + 3 * r0.h)), >, 50);
  /* hit testing agrees with the layout */
  int row = -1, col = -1;
  g_assert_true(
      ll_confusion_plot_cell_at(p, W, H, r0.x + r0.w * 1.5, r0.y + r0.h * 2.5, &row, &col));
  g_assert_cmpint(row, ==, 2);
  g_assert_cmpint(col, ==, 1);
  g_assert_false(ll_confusion_plot_cell_at(p, W, H, 1, 1, &row, &col));
  /* the report: macro F1 is the mean of the per-class F1 */
  double pr, rc, f1, f1sum = 0;
  int64_t sup;
  for (int k = 0; k < 3; k++) {
    ll_confusion_plot_report_row(p, k, &pr, &rc, &f1, &sup);
    f1sum += f1;
  }
  ll_confusion_plot_report_row(p, 0, &pr, &rc, &f1, &sup);
  g_assert_cmpfloat_with_epsilon(pr, 50.0 / 60, 1e-12);
  g_assert_cmpfloat_with_epsilon(rc, 50.0 / 60, 1e-12);
  g_assert_cmpint(sup, ==, 60);
  ll_confusion_plot_report_row(p, 3, &pr, &rc, &f1, &sup);
  g_assert_cmpfloat_with_epsilon(f1, f1sum / 3, 1e-12);
  g_assert_cmpint(sup, ==, 154);
  /* row-normalised: cell (1,1) 40/53 is darker than (0,0) 50/60? no: 0.833 > 0.755 */
  ll_confusion_plot_set_normalized(p, TRUE);
  cairo_surface_t *s2 = render(confusion_draw, p, W, H);
  LlPlotRect a, b;
  ll_confusion_plot_cell_rect(p, W, H, 0, 0, &a);
  ll_confusion_plot_cell_rect(p, W, H, 1, 1, &b);
  g_assert_cmpfloat(lightness(pixel(s2, (int)a.x + 3, (int)a.y + 3)), <,
                    lightness(pixel(s2, (int)b.x + 3, (int)b.y + 3)));
  cairo_surface_destroy(s2);
  cairo_surface_destroy(s);
}

static void scatter_draw(gpointer p, cairo_t *cr, double w, double h)
{
  ll_scatter_plot_draw(p, cr, w, h);
}

static void make_points(int n, int k, float **xy, int **lab)
{
  *xy = g_new(float, 2 * n);
  *lab = g_new(int, n);
  for (int i = 0; i < n; i++) {
    (*lab)[i] = i % k;
    double a = 2 * G_PI * (i % k) / k;
    (*xy)[2 * i] = (float)(10 * cos(a) + sin(i * 12.9898) * 1.5);
    (*xy)[2 * i + 1] = (float)(10 * sin(a) + cos(i * 78.233) * 1.5);
  }
}

static void test_scatter_legend_and_ticks(void)
{
  int n = 3000, k = 7;
  g_autofree float *xy = NULL;
  g_autofree int *lab = NULL;
  make_points(n, k, &xy, &lab);
  g_autoptr(LlScatterPlot) p = ll_scatter_plot_new("scatter");
  ll_scatter_plot_set_points(p, xy, lab, n, k, NULL);
  int W = 800, H = 500;
  LlPlotRect a;
  ll_scatter_plot_area(p, W, H, &a);
  for (int raster = 0; raster < 2; raster++) {
    ll_scatter_plot_set_raster(p, raster);
    cairo_surface_t *s = render(scatter_draw, p, W, H);
    /* the legend (right of the plot area) holds every class's swatch */
    for (int c = 0; c < k; c++) {
      double rgb[3];
      ll_plot_class_color(c, rgb);
      g_assert_true(has_color(s, (int)(a.x + a.w + 10), (int)a.y, W, H, rgb_pixel(rgb)));
      /* and the points of each class are drawn inside the area */
      g_assert_true(
          has_color(s, (int)a.x, (int)a.y, (int)(a.x + a.w), (int)(a.y + a.h), rgb_pixel(rgb)));
    }
    /* tick labels: ink left of the area and below it */
    g_assert_cmpint(ink(s, 0, (int)a.y, (int)a.x - 4, (int)(a.y + a.h)), >, 100);
    g_assert_cmpint(ink(s, (int)a.x, (int)(a.y + a.h + 4), (int)(a.x + a.w), H - 12), >, 100);
    cairo_surface_destroy(s);
  }
  /* hover finds the point nearest the cursor */
  int hit = ll_scatter_plot_point_at(p, W, H, a.x + a.w / 2, a.y + a.h / 2, 1e9);
  g_assert_cmpint(hit, >=, 0);
  /* zoom about a point keeps that point still */
  ll_scatter_plot_zoom(p, W, H, a.x + a.w / 2, a.y + a.h / 2, 2.0);
  int hit2 = ll_scatter_plot_point_at(p, W, H, a.x + a.w / 2, a.y + a.h / 2, 1e9);
  g_assert_cmpint(hit2, ==, hit);
}

static void curve_draw(gpointer p, cairo_t *cr, double w, double h)
{
  ll_curve_plot_draw(p, cr, w, h);
}

static void test_curve_ticks_and_legend(void)
{
  g_autoptr(LlCurvePlot) p = ll_curve_plot_new("Loss", "epoch");
  int a = ll_curve_plot_add_series(p, "train", 0.12, 0.47, 0.71, TRUE, FALSE);
  int b = ll_curve_plot_add_series(p, "validation", 1.0, 0.5, 0.05, TRUE, FALSE);
  for (int i = 1; i <= 10; i++) {
    ll_curve_plot_append(p, a, i, 1.0 / i);
    ll_curve_plot_append(p, b, i, 1.2 / i);
  }
  cairo_surface_t *s = render(curve_draw, p, 640, 400);
  /* y tick labels left of x = 58, x tick labels under the area */
  g_assert_cmpint(ink(s, 0, 30, 54, 360), >, 100);
  g_assert_cmpint(ink(s, 60, 368, 620, 382), >, 100);
  /* the legend swatches in the top margin */
  g_assert_true(has_color(s, 300, 0, 640, 26, rgb_pixel((double[]){0.12, 0.47, 0.71})));
  g_assert_true(has_color(s, 300, 0, 640, 26, rgb_pixel((double[]){1.0, 0.5, 0.05})));
  cairo_surface_destroy(s);
}

static int count_pdf_pages(const char *path)
{
  g_autofree char *buf = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &buf, &len, NULL));
  g_assert_true(len > 8 && !memcmp(buf, "%PDF-", 5));
  int n = 0;
  /* memmem: the streams hold NUL bytes */
  for (const char *p = buf; (p = memmem(p, len - (p - buf), "/Type /Page", 11)); p += 11)
    if (p[11] != 's')
      n++;
  return n;
}

static void parse_svg(const char *path)
{
  g_autofree char *buf = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &buf, &len, NULL));
  GMarkupParser parser = {0};
  GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, NULL, NULL);
  g_autoptr(GError) error = NULL;
  /* skip the XML declaration, which GMarkup does not take */
  const char *start = strstr(buf, "<svg");
  g_assert_nonnull(start);
  g_assert_true(g_markup_parse_context_parse(ctx, start, -1, &error));
  g_assert_true(g_markup_parse_context_end_parse(ctx, &error));
  g_assert_no_error(error);
  g_markup_parse_context_free(ctx);
}

static void test_export_formats(void)
{
  g_autofree char *dir = g_dir_make_tmp("ll-plot-XXXXXX", NULL);
  int64_t m[4] = {5, 1, 2, 6};
  g_autoptr(LlConfusionPlot) p = ll_confusion_plot_new();
  ll_confusion_plot_set_data(p, 2, m, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *svg = g_build_filename(dir, "c.svg", NULL);
  g_autofree char *pdf = g_build_filename(dir, "c.pdf", NULL);
  g_autofree char *png = g_build_filename(dir, "c.png", NULL);
  g_assert_true(ll_confusion_plot_export(p, svg, NULL, 700, 400, 96, &error));
  g_assert_true(ll_confusion_plot_export(p, pdf, NULL, 700, 400, 96, &error));
  g_assert_true(ll_confusion_plot_export(p, png, NULL, 700, 400, 192, &error));
  g_assert_no_error(error);
  parse_svg(svg);
  g_assert_cmpint(count_pdf_pages(pdf), ==, 1);
  /* PNG at 192 DPI: twice the pixels */
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, 1400);
  g_assert_cmpint(cairo_image_surface_get_height(s), ==, 800);
  cairo_surface_destroy(s);
  /* an unknown format is an error, not a crash */
  g_autofree char *bad = g_build_filename(dir, "c.bmp", NULL);
  g_assert_false(ll_confusion_plot_export(p, bad, NULL, 10, 10, 96, &error));
  g_assert_nonnull(error);
  g_remove(svg);
  g_remove(pdf);
  g_remove(png);
  g_rmdir(dir);
}

/* A run folder made by hand: spec, two epochs of metrics, analysis with a
 * confusion matrix, reconstructions and embeddings. */
static const char *spec_json =
    "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"tiny\",\n"
    " \"graph\": {\"blocks\": [\n"
    "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2]}},\n"
    "  {\"name\": \"h\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": {\"out_features\": "
    "4}},\n"
    "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"h\"], \"props\": "
    "{\"out_features\": 3}}]},\n"
    " \"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\", \"n\": 90, "
    "\"classes\": 3, \"features\": 2}},\n"
    " \"losses\": [{\"output\": \"out\", \"target\": \"label\", \"type\": \"cross_entropy\"}]}\n";

static void rm_rf(const char *path)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    GDir *d = g_dir_open(path, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
      g_autofree char *p = g_build_filename(path, n, NULL);
      rm_rf(p);
    }
    if (d)
      g_dir_close(d);
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

static LlRunInfo *fake_run(const char *dir, const char *id)
{
  g_mkdir_with_parents(dir, 0755);
  g_autofree char *mp = g_build_filename(dir, "metrics.jsonl", NULL);
  g_assert_true(g_file_set_contents(
      mp,
      "{\"event\": \"epoch\", \"epoch\": 1, \"train_loss\": 0.9, \"val_loss\": 0.8, "
      "\"val_accuracy\": 0.6}\n{\"event\": \"epoch\", \"epoch\": 2, \"train_loss\": 0.5, "
      "\"val_loss\": 0.55, \"val_accuracy\": 0.8}\n",
      -1, NULL));
  LlEvent ev = {.kind = LL_EVENT_EVAL, .split = "test", .epoch = 2, .n_classes = 3};
  int64_t conf[9] = {20, 2, 1, 3, 18, 2, 0, 4, 25};
  double zero[3] = {0};
  int64_t sup[3] = {23, 23, 29};
  ev.confusion = conf;
  ev.precision = ev.recall = ev.f1 = zero;
  ev.support = sup;
  float rin[2 * 16], rout[2 * 16];
  for (int i = 0; i < 32; i++) {
    rin[i] = (float)(i % 7) / 7;
    rout[i] = rin[i] * 0.9f;
  }
  ev.n_recon = 2;
  ev.recon_shape = (LlShape){3, {1, 4, 4}};
  ev.recon_input = rin;
  ev.recon_output = rout;
  float emb[60 * 3];
  int lab[60], idx[60];
  for (int i = 0; i < 60; i++) {
    lab[i] = idx[i] = i % 3;
    for (int d = 0; d < 3; d++)
      emb[i * 3 + d] = (float)((d == lab[i]) * 5 + sin(i * 3.1 + d));
  }
  ev.n_embed = 60;
  ev.embed_dim = 3;
  ev.embeddings = emb;
  ev.embed_labels = lab;
  ev.embed_index = idx;
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_analysis_save(dir, &ev, &error));
  LlRunInfo *r = ll_run_info_new();
  r->id = g_strdup(id);
  r->dir = g_strdup(dir);
  r->name = g_strdup("tiny");
  r->spec_json = g_strdup(spec_json);
  r->hyperparams_json = g_strdup("{\"lr\": 0.01}");
  return r;
}

static void test_run_report(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-report-XXXXXX", NULL);
  g_autofree char *d1 = g_build_filename(root, "r1", NULL);
  g_autofree char *d2 = g_build_filename(root, "r2", NULL);
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)ll_run_info_free);
  g_ptr_array_add(runs, fake_run(d1, "20260101-000000-aaaa"));
  g_autoptr(GError) error = NULL;
  g_autofree char *pdf = g_build_filename(root, "report.pdf", NULL);
  g_assert_true(ll_run_report_pdf(runs, pdf, &error));
  g_assert_no_error(error);
  /* summary, architecture, curves, confusion, reconstructions, t-SNE */
  g_assert_cmpint(count_pdf_pages(pdf), ==, 6);
  /* a comparison: summary + 3 overlays + 5 per run */
  g_ptr_array_add(runs, fake_run(d2, "20260101-000001-bbbb"));
  g_assert_true(ll_run_report_pdf(runs, pdf, &error));
  g_assert_cmpint(count_pdf_pages(pdf), ==, 1 + 3 + 2 * 5);
  /* every figure, as SVG that parses */
  g_autofree char *figs = g_build_filename(root, "figs", NULL);
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
  g_assert_true(ll_run_export_figures(runs->pdata[0], figs, "svg", written, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(written->len, ==, 6); /* loss, accuracy, architecture, confusion, recon, t-SNE */
  for (guint i = 0; i < written->len; i++)
    parse_svg(written->pdata[i]);
  rm_rf(root);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/plot/confusion/colors-report-hit", test_confusion_colors);
  g_test_add_func("/plot/scatter/legend-ticks-zoom", test_scatter_legend_and_ticks);
  g_test_add_func("/plot/curve/ticks-legend", test_curve_ticks_and_legend);
  g_test_add_func("/plot/export/formats", test_export_formats);
  g_test_add_func("/plot/report/pages", test_run_report);
  return g_test_run();
}

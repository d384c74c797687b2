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
#include "study-figures.h"

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

/* In a plot narrower than its legend (a 1024x640 window with the Study pane
 * open) the legend stays inside the plot area: its swatches never land on
 * the y axis's labels, which stay readable. */
static void test_curve_narrow_legend(void)
{
  g_autoptr(LlCurvePlot) p = ll_curve_plot_new("Loss", "epoch");
  const double rgb[3][3] = {{0.12, 0.47, 0.71}, {1.0, 0.5, 0.05}, {0.17, 0.63, 0.17}};
  const char *names[] = {"train (step)", "train", "validation"};
  int s[3];
  for (int k = 0; k < 3; k++)
    s[k] = ll_curve_plot_add_series(p, names[k], rgb[k][0], rgb[k][1], rgb[k][2], TRUE, FALSE);
  for (int i = 1; i <= 4; i++)
    for (int k = 0; k < 3; k++)
      ll_curve_plot_append(p, s[k], i, (1.0 + k) / i);
  ll_curve_plot_start_new_run(p);
  for (int i = 1; i <= 2; i++)
    for (int k = 0; k < 3; k++)
      ll_curve_plot_append(p, s[k], i, (1.0 + k) / i);
  cairo_surface_t *surf = render(curve_draw, p, 190, 260);
  for (int k = 0; k < 3; k++)
    g_assert_false(has_color(surf, 0, 0, 57, 260, rgb_pixel(rgb[k])));
  g_assert_cmpint(ink(surf, 0, 30, 54, 220), >, 50); /* the y tick labels */
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  if (dir) {
    g_autofree char *png = g_build_filename(dir, "curve-narrow-legend.png", NULL);
    cairo_surface_write_to_png(surf, png);
  }
  cairo_surface_destroy(surf);
}

/* The faded previous run has a legend entry and leaves the y range to the
 * current run (its early losses of 10 would flatten a run near 1). */
static void test_curve_previous_run(void)
{
  g_autoptr(LlCurvePlot) p = ll_curve_plot_new("Loss", "epoch");
  int a = ll_curve_plot_add_series(p, "train", 0.12, 0.47, 0.71, TRUE, FALSE);
  for (int i = 1; i <= 10; i++)
    ll_curve_plot_append(p, a, i, 10.0 / i);
  ll_curve_plot_start_new_run(p);
  double y0, y1;
  ll_curve_plot_get_y_range(p, 640, 400, &y0, &y1); /* nothing new yet: the previous run's */
  g_assert_cmpfloat(y1, >, 9);
  for (int i = 1; i <= 5; i++)
    ll_curve_plot_append(p, a, i, 1.0 + 0.1 / i);
  ll_curve_plot_get_y_range(p, 640, 400, &y0, &y1);
  g_assert_cmpfloat(y1, <, 1.5);
  g_assert_cmpfloat(y0, >, 0.8);
  cairo_surface_t *s = render(curve_draw, p, 640, 400);
  double faded[3] = {1 + (0.1 - 1) * 0.35, 1 + (0.1 - 1) * 0.35, 1 + (0.1 - 1) * 0.35};
  g_assert_true(has_color(s, 300, 0, 640, 26, rgb_pixel(faded))); /* its legend swatch */
  g_assert_true(has_color(s, 300, 0, 640, 26, rgb_pixel((double[]){0.12, 0.47, 0.71})));
  cairo_surface_destroy(s);
}

static void grid_draw(gpointer p, cairo_t *cr, double w, double h)
{
  ll_image_grid_draw(p, cr, w, h);
}

/* The reconstruction error maps share one range and show it as a scale. */
static void test_recon_error_scale(void)
{
  LlEvent ev = {.kind = LL_EVENT_EVAL, .n_recon = 3, .recon_shape = {3, {1, 8, 8}}};
  float in[3 * 64], out[3 * 64];
  for (int i = 0; i < 3 * 64; i++) {
    in[i] = (i % 64) / 63.0f;
    out[i] = in[i] * (0.5f + 0.2f * (i / 64)); /* a different error per sample */
  }
  ev.recon_input = in;
  ev.recon_output = out;
  g_autoptr(LlImageGrid) g = ll_image_grid_new("Reconstructions");
  ll_recon_grid_fill_wide(g, &ev, TRUE);
  cairo_surface_t *s = render(grid_draw, g, 640, 400);
  int warm = 0; /* the ramp's red and orange in the title row, right of the middle */
  for (int y = 0; y < 28; y++)
    for (int x = 320; x < 640; x++) {
      guint32 p = pixel(s, x, y);
      warm += ((p >> 16) & 255) > 200 && ((p >> 8) & 255) < 200 && (p & 255) < 60;
    }
  g_assert_cmpint(warm, >, 100);
  cairo_surface_destroy(s);
  /* a grid without error maps has none */
  ll_recon_grid_fill_wide(g, NULL, TRUE);
  s = render(grid_draw, g, 640, 400);
  warm = 0;
  for (int y = 0; y < 28; y++)
    for (int x = 320; x < 640; x++) {
      guint32 p = pixel(s, x, y);
      warm += ((p >> 16) & 255) > 200 && ((p >> 8) & 255) < 200 && (p & 255) < 60;
    }
  g_assert_cmpint(warm, ==, 0);
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

/* The confusion plot fits any size it is given: the report goes beside
 * the matrix, under it, or is cut to the accuracy line, and nothing is drawn
 * outside the figure (a binary run's report is the tallest). */
static void test_confusion_fits(void)
{
  int64_t m[4] = {156, 2, 69, 73};
  const char *names[] = {"even", "odd", NULL};
  g_autoptr(LlConfusionPlot) p = ll_confusion_plot_new();
  ll_confusion_plot_set_data(p, 2, m, (char **)names);
  ll_confusion_plot_set_binary(p, 0.93);
  ll_confusion_plot_set_stamp(p, "20261207-120000-abcd");
  static const int sizes[][2] = {{420, 178}, {300, 520}, {700, 300}, {1200, 800}, {240, 160}};
  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
    int w = sizes[i][0], h = sizes[i][1];
    cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, NULL);
    cairo_t *cr = cairo_create(rec);
    ll_confusion_plot_draw(p, cr, w, h);
    cairo_destroy(cr);
    double x, y, iw, ih;
    cairo_recording_surface_ink_extents(rec, &x, &y, &iw, &ih);
    cairo_surface_destroy(rec);
    if (x < -1 || y < -1 || x + iw > w + 1 || y + ih > h + 1)
      g_error("confusion plot at %dx%d draws %.0f,%.0f %.0fx%.0f", w, h, x, y, iw, ih);
    /* the matrix takes what the report leaves it, never less than 3/4 of
     * what it would get alone (up to 160 px) */
    LlPlotRect c0, c1;
    ll_confusion_plot_cell_rect(p, w, h, 0, 0, &c0);
    ll_confusion_plot_cell_rect(p, w, h, 1, 1, &c1);
    g_assert_cmpfloat(c1.x + c1.w, <=, w);
    g_assert_cmpfloat(c1.y + c1.h, <=, h);
    g_test_message("%dx%d: matrix %.0f px", w, h, 2 * c0.w);
  }
  /* wide enough: the report beside; narrow and tall: the report under the
   * matrix, whose cells are then as wide as the figure allows */
  cairo_surface_t *wide = render(confusion_draw, p, 1200, 500);
  LlPlotRect c;
  ll_confusion_plot_cell_rect(p, 1200, 500, 1, 1, &c);
  g_assert_cmpint(ink(wide, (int)(c.x + c.w + 80), 40, 1200, 200), >, 500);
  cairo_surface_destroy(wide);
  cairo_surface_t *tall = render(confusion_draw, p, 320, 640);
  ll_confusion_plot_cell_rect(p, 320, 640, 1, 1, &c);
  g_assert_cmpint(ink(tall, 10, (int)(c.y + c.h + 60), 310, 620), >, 500);
  g_assert_cmpfloat(2 * c.w, >=, 0.75 * 160);
  cairo_surface_destroy(tall);
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

/* A report's first page reads as a summary: words and units, no JSON, no
 * paths of this machine; one run's page and a comparison's. The pages go to
 * $LL_SCREENSHOT_DIR/report-one and report-comparison to be looked at. */
static void test_report_first_page(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-report-XXXXXX", NULL);
  g_autofree char *d1 = g_build_filename(root, "r1", NULL);
  g_autofree char *d2 = g_build_filename(root, "r2", NULL);
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)ll_run_info_free);
  LlRunInfo *r1 = fake_run(d1, "20260101-000000-aaaa");
  r1->status = LL_RUN_FINISHED;
  r1->device = g_strdup("cpu");
  r1->duration_s = 192;
  r1->created_us = (gint64)1796472000 * 1000000; /* 2026-12-05 12:00 UTC */
  r1->metrics_json = g_strdup("{\"test_accuracy\": 0.8125, \"test_loss\": 0.51}");
  g_ptr_array_add(runs, r1);
  g_autofree char *one = ll_run_report_first_page_text(runs);
  g_test_message("%s", one);
  const char *want[] = {"Run report: tiny",
                        "started 2026-12-05 12:00 UTC",
                        "finished after 3 min 12 s on cpu",
                        "blobs (synthetic): ",
                        "3 blocks, 27 trainable parameters, 40 FLOPs per sample",
                        "Adam, learning rate ",
                        "Batches of ",
                        "Test accuracy | 81.25 % | \u2013 | \u2013",
                        "Validation accuracy | 80.00 % | 80.00 % | 2",
                        "Validation loss | 0.5500 | 0.5500 | 2",
                        "Training loss | 0.5000"};
  for (guint i = 0; i < G_N_ELEMENTS(want); i++)
    if (!strstr(one, want[i]))
      g_error("the first page lacks \"%s\"", want[i]);
  /* no JSON, no folder of this machine */
  g_assert_null(strpbrk(one, "{}\""));
  g_assert_null(strstr(one, root));

  LlRunInfo *r2 = fake_run(d2, "20260101-000001-bbbb");
  g_free(r2->name);
  r2->name = g_strdup("tiny, lr 0.01");
  g_ptr_array_add(runs, r2);
  g_autofree char *cmp = ll_run_report_first_page_text(runs);
  g_test_message("%s", cmp);
  const char *cwant[] = {"Comparison of 2 runs",
                         "Run | tiny | tiny, lr 0.01",
                         "Result | finished after 3 min 12 s on cpu | ",
                         "Test accuracy | 81.25 % | \u2013",
                         "Validation accuracy | 80.00 % (best 80.00 % at epoch 2) | 80.00 %",
                         "Training | Adam, learning rate "};
  for (guint i = 0; i < G_N_ELEMENTS(cwant); i++)
    if (!strstr(cmp, cwant[i]))
      g_error("the comparison's first page lacks \"%s\"", cwant[i]);
  g_assert_null(strpbrk(cmp, "{}\""));
  g_assert_null(strstr(cmp, root));

  /* both rendered, to look at */
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  g_autoptr(GError) error = NULL;
  for (int k = 0; k < 2; k++) {
    g_autofree char *out =
        g_build_filename(dir ? dir : root, k ? "report-comparison" : "report-one", NULL);
    g_mkdir_with_parents(out, 0755);
    g_autoptr(GPtrArray) pick = g_ptr_array_new();
    for (guint i = 0; i <= (guint)k; i++)
      g_ptr_array_add(pick, runs->pdata[i]);
    g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(ll_run_report_png(pick, out, 110, written, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(written->len, >=, 1);
    cairo_surface_t *png = cairo_image_surface_create_from_png(written->pdata[0]);
    g_assert_cmpint(cairo_image_surface_get_width(png), ==, (int)ceil(842 * 110 / 72.0));
    cairo_surface_destroy(png);
  }
  rm_rf(root);
}

/* ---- study figures -------------------------------------------------------------- */

/* A sweep over lr (log-uniform) and width; the spec is never trained here. */
static LlStudy *sweep_study(const char *direction, const char *metric)
{
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"t\", \"metric\": \"%s\","
      " \"direction\": \"%s\", \"spec\": {\"format\": \"layerlab-spec\", \"version\": 1,"
      " \"graph\": {\"blocks\": [{\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": "
      "[4]}},"
      " {\"name\": \"fc1\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": "
      "{\"out_features\": 2}}]}},"
      " \"sweep\": {\"mode\": \"grid\", \"axes\": ["
      " {\"path\": \"training.optimizer.lr\", \"values\": [0.1, 0.01, 0.001]},"
      " {\"path\": \"graph.blocks.fc1.props.out_features\", \"values\": [2, 4, 8]}]}}",
      metric, direction);
  g_autoptr(GError) error = NULL;
  LlStudy *s = ll_study_load_data(text, -1, "t.json", ".", &error);
  g_assert_no_error(error);
  return s;
}

/* A finished trial of the sweep at (lr, width) with metric m. */
static void add_trial(LlStudyFigures *f, int index, double lr, int width, double m,
                      LlTrialStatus status, int epochs)
{
  LlTrial t = {0};
  t.index = index;
  t.key = g_strdup_printf("t%d", index);
  t.stage = "sweep";
  t.label = g_strdup_printf("lr=%g out_features=%d", lr, width);
  t.values = json_object_new();
  json_object_set_double_member(t.values, "training.optimizer.lr", lr);
  if (width > 0)
    json_object_set_int_member(t.values, "graph.blocks.fc1.props.out_features", width);
  t.metrics = json_object_new();
  t.overrides = json_object_new();
  t.metric = status == LL_TRIAL_FAILED ? NAN : m;
  t.status = status;
  t.curve = g_array_new(FALSE, FALSE, sizeof(double));
  for (int e = 0; e < epochs; e++) {
    double v = 1.0 / (e + 1) + m;
    g_array_append_val(t.curve, v);
  }
  ll_study_figures_add_trial(f, &t);
  g_free(t.key);
  g_free(t.label);
  json_object_unref(t.values);
  json_object_unref(t.metrics);
  json_object_unref(t.overrides);
  g_array_unref(t.curve);
}

typedef struct {
  LlStudyFigures *f;
  LlStudyFigure which;
} FigArgs;

static void fig_draw(gpointer p, cairo_t *cr, double w, double h)
{
  FigArgs *a = p;
  ll_study_figures_draw(a->f, a->which, cr, w, h);
}

static gboolean greyish(guint32 p)
{
  int r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
  return abs(r - g) <= 3 && abs(g - b) <= 3;
}

/* Cells coloured in the order of their metric (darker is better, either
 * direction), no result hatched grey, the best cell outlined. */
static void test_study_heatmap(void)
{
  for (int dir = 0; dir < 2; dir++) {
    gboolean maximize = dir == 0;
    g_autoptr(LlStudy) s = sweep_study(maximize ? "maximize" : "minimize", "val_accuracy");
    g_autoptr(LlStudyFigures) f = ll_study_figures_new(s);
    g_assert_false(ll_study_figures_available(f, LL_STUDY_FIG_HEATMAP, NULL));
    const double lrs[] = {0.1, 0.01, 0.001};
    const int widths[] = {2, 4, 8};
    int k = 0;
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 3; c++, k++) {
        if (r == 2 && c == 2)
          continue; /* never ran */
        add_trial(f, k, lrs[r], widths[c], 0.5 + 0.037 * ((k * 5) % 9),
                  r == 0 && c == 1 ? LL_TRIAL_FAILED : LL_TRIAL_FINISHED, 3);
      }
    g_assert_true(ll_study_figures_available(f, LL_STUDY_FIG_HEATMAP, NULL));
    int R, C;
    ll_study_figures_heatmap_shape(f, &R, &C);
    g_assert_cmpint(R, ==, 3);
    g_assert_cmpint(C, ==, 3);
    int W = 800, H = 600;
    FigArgs a = {f, LL_STUDY_FIG_HEATMAP};
    cairo_surface_t *surf = render(fig_draw, &a, W, H);
    /* rows are lr sorted ascending: row 0 is 0.001 */
    double vals[9];
    guint32 px[9];
    int best = -1;
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 3; c++) {
        LlPlotRect cell;
        g_assert_true(ll_study_figures_heatmap_cell(f, W, H, r, c, &cell));
        vals[r * 3 + c] = ll_study_figures_heatmap_value(f, r, c);
        px[r * 3 + c] = pixel(surf, (int)(cell.x + cell.w * 0.2), (int)(cell.y + cell.h * 0.2));
        if (isfinite(vals[r * 3 + c]) &&
            (best < 0 || (maximize ? vals[r * 3 + c] > vals[best] : vals[r * 3 + c] < vals[best])))
          best = r * 3 + c;
      }
    int n_missing = 0;
    for (int i = 0; i < 9; i++) {
      if (!isfinite(vals[i])) {
        n_missing++;
        g_assert_true(greyish(px[i])); /* grey hatch, not the blue ramp */
        continue;
      }
      g_assert_false(greyish(px[i]));
      for (int j = 0; j < 9; j++)
        if (isfinite(vals[j]) && (maximize ? vals[i] > vals[j] : vals[i] < vals[j]))
          g_assert_cmpfloat(lightness(px[i]), <, lightness(px[j]));
    }
    g_assert_cmpint(n_missing, ==, 2); /* the failed trial and the one never run */
    LlPlotRect bc;
    ll_study_figures_heatmap_cell(f, W, H, best / 3, best % 3, &bc);
    double orange[3] = {0.95, 0.5, 0.0};
    g_assert_true(has_color(surf, (int)bc.x, (int)(bc.y + bc.h / 2) - 2, (int)bc.x + 4,
                            (int)(bc.y + bc.h / 2) + 2, rgb_pixel(orange)));
    cairo_surface_destroy(surf);
  }
}

/* One point per trial with a result, where the axes put it; a doubling axis is logarithmic. */
static void test_study_metric_points(void)
{
  g_autoptr(LlStudy) s = sweep_study("minimize", "test_loss");
  g_autoptr(LlStudyFigures) f = ll_study_figures_new(s);
  const int widths[] = {2, 4, 8, 16, 32, 64, 128};
  for (int i = 0; i < 7; i++)
    add_trial(f, i, 0.01, widths[i], 0.3 - 0.01 * i, LL_TRIAL_FINISHED, 2);
  add_trial(f, 7, 0.01, 8, NAN, LL_TRIAL_FAILED, 0);
  g_assert_cmpint(ll_study_figures_metric_points(f, 0), ==, 7);
  g_assert_cmpint(ll_study_figures_metric_points(f, 1), ==, 7);
  int W = 900, H = 420;
  FigArgs a = {f, LL_STUDY_FIG_METRIC};
  cairo_surface_t *surf = render(fig_draw, &a, W, H);
  double xs[7], y;
  for (int i = 0; i < 7; i++) {
    g_assert_true(ll_study_figures_metric_point(f, W, H, 1, i, &xs[i], &y));
    double blue[3]; /* one series: lr takes one value; the best is ringed, its dot still blue */
    ll_plot_class_color(0, blue);
    g_assert_true(
        has_color(surf, (int)xs[i] - 1, (int)y - 1, (int)xs[i] + 2, (int)y + 2, rgb_pixel(blue)));
  }
  g_assert_false(ll_study_figures_metric_point(f, W, H, 1, 7, &xs[0], &y)); /* failed */
  for (int i = 2; i < 7; i++) /* evenly spaced: log x */
    g_assert_cmpfloat(fabs((xs[i] - xs[i - 1]) - (xs[1] - xs[0])), <, 1.0);
  cairo_surface_destroy(surf);
}

/* Draws draw(p) on a cairo_t in scheme (NULL: none set, as for a file). */
typedef struct {
  DrawFn draw;
  gpointer p;
  const LlPlotScheme *scheme;
} Schemed;

static void schemed_draw(gpointer data, cairo_t *cr, double w, double h)
{
  Schemed *a = data;
  if (a->scheme)
    ll_plot_set_scheme(cr, a->scheme);
  a->draw(a->p, cr, w, h);
}

/* Pixels of s brighter than almost white. */
static double white_share(cairo_surface_t *s)
{
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s), n = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      n += lightness(pixel(s, x, y)) > 245;
  return (double)n / (w * h);
}

/* Every figure draws in the scheme its cairo_t carries: the dark one gives a
 * dark background and light text, no white panels; with no scheme set (a
 * file) the figure is the light, report-friendly one. */
static void test_schemes(void)
{
  g_autoptr(LlCurvePlot) curve = ll_curve_plot_new("Loss", "epoch");
  int a = ll_curve_plot_add_series(curve, "train", 0.12, 0.47, 0.71, TRUE, FALSE);
  for (int i = 1; i <= 10; i++)
    ll_curve_plot_append(curve, a, i, 1.0 / i);
  g_autoptr(LlScatterPlot) scatter = ll_scatter_plot_new("t-SNE");
  g_autofree float *xy = NULL;
  g_autofree int *lab = NULL;
  make_points(500, 4, &xy, &lab);
  ll_scatter_plot_set_points(scatter, xy, lab, 500, 4, NULL);
  g_autoptr(LlImageGrid) grid = ll_image_grid_new("Predictions");
  float img[16 * 16];
  for (int i = 0; i < 256; i++)
    img[i] = (i % 16) / 15.0f * 0.2f; /* dark images: only the figure could be white */
  for (int i = 0; i < 6; i++)
    ll_image_grid_add(grid, img, 1, 16, 16, 0, 1, LL_IMAGE_GREY_OR_RGB, "caption", NULL);
  g_autoptr(LlConfusionPlot) conf = ll_confusion_plot_new();
  int64_t m[4] = {5, 1, 2, 6};
  ll_confusion_plot_set_data(conf, 2, m, NULL);
  g_autoptr(LlStudy) st = sweep_study("minimize", "test_loss");
  g_autoptr(LlStudyFigures) f = ll_study_figures_new(st);
  for (int i = 0; i < 4; i++)
    add_trial(f, i, 0.01, 2 << i, 0.3 - 0.01 * i, LL_TRIAL_FINISHED, 2);
  FigArgs fa = {f, LL_STUDY_FIG_METRIC};
  struct {
    const char *name;
    DrawFn draw;
    gpointer p;
    gboolean data_white; /* the data itself may be white (the matrix's empty cells) */
  } figs[] = {{"curve", curve_draw, curve, FALSE},
              {"scatter", scatter_draw, scatter, FALSE},
              {"grid", (DrawFn)ll_image_grid_draw, grid, FALSE},
              {"confusion", confusion_draw, conf, TRUE},
              {"study", fig_draw, &fa, FALSE}};
  for (guint i = 0; i < G_N_ELEMENTS(figs); i++) {
    Schemed dark = {figs[i].draw, figs[i].p, &ll_plot_scheme_dark};
    Schemed file = {figs[i].draw, figs[i].p, NULL};
    cairo_surface_t *d = render(schemed_draw, &dark, 640, 400);
    cairo_surface_t *l = render(schemed_draw, &file, 640, 400);
    g_test_message("%s: %.4f of the dark figure is white", figs[i].name, white_share(d));
    g_assert_cmpfloat(lightness(pixel(d, 2, 2)), <, 60);
    g_assert_cmpfloat(lightness(pixel(l, 2, 2)), >, 250);
    if (!figs[i].data_white)
      g_assert_cmpfloat(white_share(d), <, 0.002);
    /* the title's text is light on dark, dark on light */
    int light_text = 0, dark_text = 0;
    for (int y = 4; y < 24; y++)
      for (int x = 4; x < 200; x++) {
        light_text += lightness(pixel(d, x, y)) > 180;
        dark_text += lightness(pixel(l, x, y)) < 80;
      }
    g_assert_cmpint(light_text, >, 20);
    g_assert_cmpint(dark_text, >, 20);
    cairo_surface_destroy(d);
    cairo_surface_destroy(l);
  }
  /* exports: light unless the export scheme is changed */
  g_autofree char *dir = g_dir_make_tmp("ll-plot-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "curve.png", NULL);
  g_autoptr(GError) error = NULL;
  for (int k = 0; k < 2; k++) {
    ll_plot_set_export_scheme(k ? &ll_plot_scheme_dark : NULL);
    g_assert_true(ll_curve_plot_export(curve, png, 400, 300, &error));
    g_assert_no_error(error);
    cairo_surface_t *s = cairo_image_surface_create_from_png(png);
    double bg = lightness(pixel(s, 2, 2));
    g_assert_true(k ? bg < 60 : bg > 250);
    cairo_surface_destroy(s);
  }
  ll_plot_set_export_scheme(NULL);
  g_remove(png);
  g_rmdir(dir);
}

/* Curves: a panel per trial, pruned ones in orange; detection CSVs read (and
 * bad ones reported); every figure exports as PNG and SVG that parses. */
static void test_study_export(void)
{
  g_autoptr(LlStudy) s = sweep_study("maximize", "val_accuracy");
  g_autoptr(LlStudyFigures) f = ll_study_figures_new(s);
  add_trial(f, 0, 0.1, 2, 0.6, LL_TRIAL_FINISHED, 3);
  add_trial(f, 1, 0.01, 4, 0.7, LL_TRIAL_FINISHED, 3);
  add_trial(f, 2, 0.001, 8, 0.4, LL_TRIAL_PRUNED, 1);
  g_assert_true(ll_study_figures_available(f, LL_STUDY_FIG_CURVES, NULL));
  FigArgs a = {f, LL_STUDY_FIG_CURVES};
  cairo_surface_t *surf = render(fig_draw, &a, 900, 300);
  double orange[3];
  ll_plot_class_color(1, orange);
  g_assert_true(has_color(surf, 0, 0, 900, 300, rgb_pixel(orange)));
  cairo_surface_destroy(surf);

  g_autofree char *dir = g_dir_make_tmp("ll-study-XXXXXX", NULL);
  g_autofree char *csv = g_build_filename(dir, "detection-lstm.csv", NULL);
  GString *rows = g_string_new("sample,step,target,output\n");
  for (int smp = 0; smp < 3; smp++)
    for (int t = 0; t < 20; t++)
      g_string_append_printf(rows, "%d,%d,%d,%.3f\n", smp, t, t >= 5 + smp * 4,
                             1 / (1 + exp(-(t - 5 - smp * 4.0))));
  g_assert_true(g_file_set_contents(csv, rows->str, -1, NULL));
  g_string_free(rows, TRUE);
  g_assert_false(ll_study_figures_available(f, LL_STUDY_FIG_DETECTION, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_study_figures_load_outputs(f, dir, &error));
  g_assert_no_error(error);
  g_assert_true(ll_study_figures_available(f, LL_STUDY_FIG_DETECTION, NULL));
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *figs = g_build_filename(dir, "figures", NULL);
  g_assert_true(ll_study_figures_export_all(f, figs, written, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(written->len, ==, 8); /* metric, heatmap, curves, detection x png, svg */
  for (guint i = 0; i < written->len; i++) {
    const char *p = written->pdata[i];
    if (g_str_has_suffix(p, ".svg")) {
      parse_svg(p);
    } else {
      cairo_surface_t *png = cairo_image_surface_create_from_png(p);
      g_assert_cmpint(cairo_surface_status(png), ==, CAIRO_STATUS_SUCCESS);
      g_assert_cmpint(cairo_image_surface_get_width(png), >, 600);
      cairo_surface_destroy(png);
    }
    g_remove(p);
  }
  g_rmdir(figs);
  /* a malformed detection file names itself and its line */
  g_assert_true(
      g_file_set_contents(csv, "sample,step,target,output\n0,1,0,0.5\n0,x,1,0.2\n", -1, NULL));
  g_assert_false(ll_study_figures_load_outputs(f, dir, &error));
  g_assert_nonnull(strstr(error->message, "detection-lstm.csv: line 3"));
  g_remove(csv);
  g_rmdir(dir);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/plot/confusion/colors-report-hit", test_confusion_colors);
  g_test_add_func("/plot/scatter/legend-ticks-zoom", test_scatter_legend_and_ticks);
  g_test_add_func("/plot/curve/ticks-legend", test_curve_ticks_and_legend);
  g_test_add_func("/plot/curve/narrow-legend", test_curve_narrow_legend);
  g_test_add_func("/plot/confusion/fits", test_confusion_fits);
  g_test_add_func("/plot/export/formats", test_export_formats);
  g_test_add_func("/plot/report/pages", test_run_report);
  g_test_add_func("/plot/report/first-page", test_report_first_page);
  g_test_add_func("/plot/study/heatmap", test_study_heatmap);
  g_test_add_func("/plot/study/metric-points", test_study_metric_points);
  g_test_add_func("/plot/study/export", test_study_export);
  g_test_add_func("/plot/style/schemes", test_schemes);
  g_test_add_func("/plot/curve/previous-run", test_curve_previous_run);
  g_test_add_func("/plot/recon/error-scale", test_recon_error_scale);
  return g_test_run();
}

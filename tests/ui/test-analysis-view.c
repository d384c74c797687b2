/* test-analysis-view.c: the analysis views of a trained run in the real window
 * under Xvfb: every view that maps a point, cell or tile to a sample (the
 * confusion-cell gallery, the predictions, the t-SNE hover of the recorded
 * embeddings and of any block's, the reconstructions) shows that very
 * sample: the pixels it draws are the dataset's at the index it recorded. */
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "run-report.h"
#include "ui-harness.h"

static LlWindow *win;
static LlDataset *train_ds, *test_ds; /* opened by the test itself, from the spec */

static LlAnalysisView *analysis(void) { return ll_window_get_analysis(win); }
static LlDocument *doc(void) { return ll_window_get_document(win); }
static gboolean stopped(void) { return !ll_window_is_training(win); }
static gboolean images_ready(void) { return ll_analysis_view_images_ready(analysis()); }
static gboolean tsne_done(void) { return ll_analysis_view_tsne_done(analysis()); }
static gboolean embedding_idle(void) { return !ll_analysis_view_embedding_busy(analysis()); }
static int want_payloads;
static gboolean has_payloads(void)
{
  return stopped() && ll_analysis_view_get_n_payloads(analysis()) >= (guint)want_payloads;
}

/* After the window has drawn what changed. */
static void screenshot(const char *name)
{
  ll_ui_spin(300);
  ll_ui_screenshot(GTK_WIDGET(win), name);
}

/* Trains preset for one epoch on a small part of Fashion-MNIST and opens the
 * same datasets here, independently of the view. The spec names no block to
 * record (the run records the default one); embedding_samples 0: none. */
static void train(const char *preset, int embedding_samples)
{
  ll_ui_open_preset(win, preset);
  LlSpec *s = ll_document_get_spec(doc());
  g_clear_pointer(&s->embedding_block, g_free);
  s->embedding_samples = embedding_samples;
  s->dataset.limit_train = 1500;
  s->dataset.limit_test = 400;
  s->epochs = 1;
  s->batch_size = 64;
  s->threads = 1;
  s->early_stopping = FALSE;
  ll_document_settings_changed(doc());
  g_clear_pointer(&train_ds, ll_dataset_free);
  g_clear_pointer(&test_ds, ll_dataset_free);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_dataset_spec_open(&s->dataset, s->seed, &train_ds, &test_ds, &error));
  g_assert_nonnull(test_ds);
  g_action_group_activate_action(G_ACTION_GROUP(win), "train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  want_payloads = 2; /* epoch 1's validation, then the test set */
  g_assert_true(ll_ui_wait_for(has_payloads, 120000));
  ll_window_show_page(win, "analysis");
}

/* The dataset an event's indices refer to, as the trainer recorded them. */
static const LlDataset *dataset_of(const LlEvent *e)
{
  return e->from_test_set ? test_ds : train_ds;
}

/* Tile `tile` of grid shows sample `index` of d: its pixels are the
 * dataset's (grey u8 images shown over [0, 1] map back exactly). */
static void assert_tile_is(LlImageGrid *grid, int tile, const LlDataset *d, int index)
{
  g_assert_cmpint(index, >=, 0);
  g_assert_cmpint(index, <, (int)d->n);
  int w, h;
  g_autofree guint8 *rgb = ll_image_grid_tile_rgb(grid, tile, &w, &h, NULL);
  g_assert_nonnull(rgb);
  g_assert_cmpint(d->shape.d[0], ==, 1);
  g_assert_cmpint(w, ==, d->shape.d[2]);
  g_assert_cmpint(h, ==, d->shape.d[1]);
  const guint8 *px = d->u8 + (size_t)index * w * h;
  for (int k = 0; k < w * h; k++)
    if (rgb[3 * k] != px[k])
      g_error("tile %d shows another image than sample %d: pixel %d is %d, not %d", tile, index, k,
              rgb[3 * k], px[k]);
}

/* The index written in a tile's caption ("... #123"). */
static int caption_index(LlImageGrid *grid, int tile)
{
  int w, h;
  const char *cap = NULL;
  g_autofree guint8 *rgb = ll_image_grid_tile_rgb(grid, tile, &w, &h, &cap);
  g_assert_nonnull(cap);
  const char *hash = strrchr(cap, '#');
  g_assert_nonnull(hash);
  return atoi(hash + 1);
}

/* Hovers points of the t-SNE of payload e and checks each one's image. */
static void check_tsne_hover(const LlEvent *e)
{
  g_assert_nonnull(e);
  g_assert_true(ll_analysis_view_get_tsne_payload(analysis()) == e);
  LlImageGrid *hover = ll_analysis_view_get_grid(analysis(), "hover");
  const LlDataset *d = dataset_of(e);
  int checked = 0;
  for (int i = 0; i < e->n_embed; i += MAX(1, e->n_embed / 40)) {
    ll_analysis_view_hover_point(analysis(), i);
    g_assert_cmpint(ll_image_grid_len(hover), ==, 1);
    int index = e->embed_index[i];
    /* the recorded index is that sample's: its label is the point's */
    g_assert_cmpint((int)d->labels[index], ==, e->embed_labels[i]);
    assert_tile_is(hover, 0, d, index);
    checked++;
  }
  g_assert_cmpint(checked, >=, 20);
  ll_analysis_view_hover_point(analysis(), -1);
}

static void test_samples(void)
{
  train("fmnist-cnn", 2000);
  ll_analysis_view_show_page(analysis(), "confusion"); /* opens the datasets for the images */
  g_assert_true(ll_ui_wait_for(images_ready, 30000));
  guint n = ll_analysis_view_get_n_payloads(analysis());
  const LlEvent *val = ll_analysis_view_get_payload(analysis(), 0);
  const LlEvent *te = ll_analysis_view_get_payload(analysis(), n - 1);
  g_assert_cmpstr(te->split, ==, "test");
  g_assert_true(te->from_test_set); /* the spec has a test set */
  g_assert_false(val->from_test_set);
  g_assert_cmpint(te->n_pred, ==, (int)test_ds->n);
  /* no record.embedding_block: the block before the classifier, past its Dropout */
  g_assert_cmpstr(val->embed_block, ==, "relu3");
  g_assert_cmpstr(te->embed_block, ==, "relu3");

  /* predictions: tile i is test sample pred_index[i] */
  ll_analysis_view_show_page(analysis(), "predictions");
  ll_ui_spin(100);
  LlImageGrid *preds = ll_analysis_view_get_grid(analysis(), "predictions");
  g_assert_cmpint(ll_image_grid_len(preds), ==, 48);
  for (int i = 0; i < ll_image_grid_len(preds); i++)
    assert_tile_is(preds, i, test_ds, te->pred_index[i]);

  /* the gallery of each diagonal cell: samples of that true and predicted class */
  ll_analysis_view_show_page(analysis(), "confusion");
  LlImageGrid *gallery = ll_analysis_view_get_grid(analysis(), "gallery");
  int shown = 0;
  for (int k = 0; k < te->n_classes; k++) {
    int tiles = ll_analysis_view_open_cell(analysis(), k, k);
    for (int t = 0; t < tiles; t++) {
      int index = caption_index(gallery, t);
      gboolean in_cell = FALSE;
      for (int i = 0; i < te->n_pred; i++)
        in_cell |= te->pred_index[i] == index && te->pred_true[i] == k && te->pred_class[i] == k;
      g_assert_true(in_cell);
      g_assert_cmpint((int)test_ds->labels[index], ==, k);
      assert_tile_is(gallery, t, test_ds, index);
      shown++;
    }
  }
  g_assert_cmpint(shown, >, 20);

  /* t-SNE (PCA: instant) of the recorded embeddings: the validation split
   * indexes the training set, the test payload the test set */
  ll_analysis_view_show_page(analysis(), "tsne");
  for (guint p = 0; p < n; p++) {
    ll_analysis_view_select_payload(analysis(), p);
    ll_analysis_view_run_tsne(analysis(), TRUE);
    g_assert_true(ll_ui_wait_for(tsne_done, 30000));
    check_tsne_hover(ll_analysis_view_get_payload(analysis(), p));
  }

  /* any block's outputs, computed with the run's weights: Flatten, as a user would */
  ll_analysis_view_embed_block(analysis(), "flat");
  g_assert_true(ll_ui_wait_for(embedding_idle, 60000));
  g_assert_cmpuint(ll_analysis_view_get_n_payloads(analysis()), ==, n + 1);
  g_assert_true(ll_ui_wait_for(tsne_done, 60000));
  const LlEvent *blk = ll_analysis_view_get_payload(analysis(), n);
  g_assert_cmpstr(blk->embed_block, ==, "flat");
  g_assert_true(blk->from_test_set);
  g_assert_cmpint(blk->n_embed, ==, (int)test_ds->n);
  check_tsne_hover(blk);
  /* titles for a reader: what, which samples, which epoch; no internal state */
  g_assert_cmpstr(ll_analysis_view_get_title(analysis(), "tsne"), ==,
                  "t-SNE of flat, test set, epoch 1");
  g_assert_cmpstr(ll_analysis_view_get_title(analysis(), "confusion"), ==,
                  "Confusion matrix, test set, epoch 1");
  ll_analysis_view_hover_point(analysis(), 3);
  screenshot("analysis-tsne-hover.png");
  ll_analysis_view_hover_point(analysis(), -1);
}

static const char *tsne_status(void) { return ll_analysis_view_get_tsne_status(analysis()); }

/* The t-SNE works out of the box: a run that records nothing embeds the
 * picker's block (by default the one before the classifier) on Recompute,
 * and the Embed button stays put whatever the picker shows. */
static void test_tsne_default(void)
{
  train("fmnist-cnn", 0);
  guint n = ll_analysis_view_get_n_payloads(analysis());
  g_assert_cmpint(ll_analysis_view_get_payload(analysis(), n - 1)->n_embed, ==, 0);
  ll_analysis_view_show_page(analysis(), "tsne");
  ll_ui_spin(100);
  GtkWidget *embed = ll_analysis_view_get_embed_button(analysis());
  graphene_rect_t at, moved;
  g_assert_true(gtk_widget_compute_bounds(embed, GTK_WIDGET(analysis()), &at));
  ll_analysis_view_set_embed_block(analysis(), "fc");
  ll_ui_spin(100);
  g_assert_true(gtk_widget_compute_bounds(embed, GTK_WIDGET(analysis()), &moved));
  g_assert_cmpfloat(moved.origin.x, ==, at.origin.x);
  ll_analysis_view_set_embed_block(analysis(), "relu3");
  ll_ui_spin(100);
  g_assert_true(gtk_widget_compute_bounds(embed, GTK_WIDGET(analysis()), &moved));
  g_assert_cmpfloat(moved.origin.x, ==, at.origin.x);
  /* Recompute with nothing recorded */
  ll_analysis_view_run_tsne(analysis(), TRUE);
  g_assert_null(strstr(tsne_status(), "record.embedding_block"));
  g_assert_true(ll_ui_wait_for(embedding_idle, 60000));
  g_assert_true(ll_ui_wait_for(tsne_done, 60000));
  const LlEvent *e = ll_analysis_view_get_tsne_payload(analysis());
  g_assert_nonnull(e);
  g_assert_cmpstr(e->embed_block, ==, "relu3");
  g_assert_cmpint(e->n_embed, ==, (int)test_ds->n);
  g_assert_true(g_str_has_prefix(tsne_status(), "t-SNE of"));
  screenshot("analysis-tsne-default.png");
}

/* The lightness (0..255) of pixel (x, y) of w as drawn. */
static double widget_lightness(GtkWidget *w, int x, int y)
{
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  g_assert_cmpint(width, >, x);
  g_assert_cmpint(height, >, y);
  GdkTexture *t = ll_ui_render(w);
  g_autofree guint8 *px = g_new(guint8, (size_t)width * height * 4);
  gdk_texture_download(t, px, (size_t)width * 4);
  const guint8 *q = px + ((size_t)y * width + x) * 4; /* B, G, R, A */
  g_object_unref(t);
  return 0.299 * q[2] + 0.587 * q[1] + 0.114 * q[0];
}

static gboolean area_shown(void)
{
  GtkWidget *a = ll_analysis_view_get_plot_area(analysis());
  return gtk_widget_get_mapped(a) && gtk_widget_get_width(a) > 10;
}

static void set_dark(gboolean dark)
{
  ll_ui_set_dark(dark);
  ll_ui_spin(300);
}

/* Plots follow the style on screen (a dark background in the dark style)
 * and export light for a report unless the user asks for screen colours. */
static void test_dark_style(void)
{
  if (ll_analysis_view_get_n_payloads(analysis()) == 0)
    train("fmnist-cnn", 2000);
  ll_window_show_page(win, "analysis");
  ll_analysis_view_show_page(analysis(), "confusion");
  ll_analysis_view_open_cell(analysis(), 1, 1);
  g_assert_true(ll_ui_wait_for(area_shown, 5000));
  ll_ui_spin(200);
  GtkWidget *area = ll_analysis_view_get_plot_area(analysis());
  g_assert_cmpfloat(widget_lightness(area, 3, 3), >, 230);
  screenshot("analysis-light.png");
  set_dark(TRUE);
  g_assert_cmpfloat(widget_lightness(area, 3, 3), <, 80);
  screenshot("analysis-dark.png");
  ll_analysis_view_show_page(analysis(), "tsne");
  g_assert_true(ll_ui_wait_for(area_shown, 5000));
  ll_ui_spin(200);
  g_assert_cmpfloat(widget_lightness(ll_analysis_view_get_plot_area(analysis()), 3, 3), <, 80);
  screenshot("analysis-tsne-dark.png");
  ll_window_show_page(win, "curves");
  screenshot("curves-dark.png");
  ll_window_show_page(win, "analysis");
  /* the exported figure stays light */
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  g_autofree char *png = g_build_filename(dir ? dir : ".", "analysis-export-dark-style.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_analysis_view_export_current(analysis(), png, 800, 600, 96, &error));
  g_assert_no_error(error);
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  const guint8 *d = cairo_image_surface_get_data(s);
  g_assert_cmpint(d[0] + d[1] + d[2], >, 3 * 245);
  cairo_surface_destroy(s);
  set_dark(FALSE);
  g_assert_cmpfloat(widget_lightness(ll_analysis_view_get_plot_area(analysis()), 3, 3), >, 230);
}

/* The run report of the newest run, every page as PNG (report-pageN.png
 * in the screenshot folder) besides the PDF: looked at, and the first page
 * goes to the README. */
static void test_report_pages(void)
{
  if (ll_analysis_view_get_n_payloads(analysis()) == 0)
    train("fmnist-cnn", 2000);
  g_autofree char *root = g_build_filename(g_get_user_data_dir(), "runs", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LlRunStore) store = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = NULL;
  g_assert_true(ll_run_store_list(store, &runs, &error));
  g_assert_cmpuint(runs->len, >, 0);
  LlRunInfo *newest = runs->pdata[0]; /* the list is newest first */
  g_autoptr(GPtrArray) one = g_ptr_array_new();
  g_ptr_array_add(one, newest);
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func(g_free);
  g_assert_true(ll_run_report_png(one, dir ? dir : ".", 110, pages, &error));
  g_assert_no_error(error);
  /* summary, architecture, curves, confusion matrix (and the t-SNE when recorded) */
  g_assert_cmpuint(pages->len, >=, 4);
  for (guint i = 0; i < pages->len; i++) {
    cairo_surface_t *s = cairo_image_surface_create_from_png(pages->pdata[i]);
    g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
    g_assert_cmpint(cairo_image_surface_get_width(s), ==, 1287); /* A4 landscape at 110 DPI */
    cairo_surface_destroy(s);
    g_test_message("report page: %s", (const char *)pages->pdata[i]);
  }
  g_autofree char *pdf = g_build_filename(dir ? dir : ".", "report.pdf", NULL);
  g_assert_true(ll_run_report_pdf(one, pdf, &error));
}

/* Pearson correlation of a tile's grey levels with sample index of d. */
static double tile_correlation(LlImageGrid *grid, int tile, const LlDataset *d, int index)
{
  int w, h;
  g_autofree guint8 *rgb = ll_image_grid_tile_rgb(grid, tile, &w, &h, NULL);
  g_assert_nonnull(rgb);
  g_assert_cmpint(w * h, ==, (int)ll_dataset_sample_size(d));
  const guint8 *px = d->u8 + (size_t)index * w * h;
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = w * h;
  for (int k = 0; k < w * h; k++) {
    double a = rgb[3 * k], b = px[k];
    sa += a;
    sb += b;
    saa += a * a;
    sbb += b * b;
    sab += a * b;
  }
  double cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n;
  return cov / sqrt(MAX(va * vb, 1e-12));
}

static void test_reconstructions(void)
{
  train("ae-pretrain", 2000);
  ll_analysis_view_show_page(analysis(), "reconstructions");
  guint n = ll_analysis_view_get_n_payloads(analysis());
  for (guint p = 0; p < n; p++) {
    ll_analysis_view_select_payload(analysis(), p);
    ll_ui_spin(50);
    const LlEvent *e = ll_analysis_view_get_payload(analysis(), p);
    g_assert_cmpint(e->n_recon, >, 0);
    g_assert_nonnull(e->recon_index);
    LlImageGrid *grid = ll_analysis_view_get_grid(analysis(), "reconstructions");
    /* the first row holds the inputs, shown over the grid's shared grey range */
    for (int k = 0; k < e->n_recon; k++) {
      const LlDataset *d = dataset_of(e);
      g_assert_cmpint(caption_index(grid, k), ==, e->recon_index[k]);
      double r = tile_correlation(grid, k, d, e->recon_index[k]);
      if (r < 0.999)
        g_error("reconstruction %d of payload %u is not sample %d (correlation %.4f)", k, p,
                e->recon_index[k], r);
    }
  }
  screenshot("analysis-reconstructions-index.png");
}

int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "analysis")))
    return 77;
  g_test_add_func("/ui/analysis/samples", test_samples);
  g_test_add_func("/ui/analysis/reconstructions", test_reconstructions);
  g_test_add_func("/ui/analysis/tsne-default", test_tsne_default);
  g_test_add_func("/ui/analysis/dark-style", test_dark_style);
  g_test_add_func("/ui/analysis/report-pages", test_report_pages);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  ll_dataset_free(train_ds);
  ll_dataset_free(test_ds);
  return rc;
}

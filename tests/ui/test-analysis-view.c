/* test-analysis-view.c: the analysis views of a trained run in the real window
 * under Xvfb: every view that maps a point, cell or tile to a sample (the
 * confusion-cell gallery, the predictions, the t-SNE hover of the recorded
 * embeddings and of any block's, the reconstructions) shows that very
 * sample: the pixels it draws are the dataset's at the index it recorded.
 * Also every head's result: a binary classifier's matrix and ROC AUC, E15's
 * two heads and their loss weights, E8's two queries. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "confusion-plot.h"
#include "curve-plot.h"
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
static void train_open(int embedding_samples)
{
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

static void train(const char *preset, int embedding_samples)
{
  ll_ui_open_preset(win, preset);
  train_open(embedding_samples);
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

/* The newest run of the store the window records into, in a one-run list. */
static GPtrArray *newest_run(void)
{
  g_autofree char *root = g_build_filename(g_get_user_data_dir(), "runs", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LlRunStore) store = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  GPtrArray *runs = NULL;
  g_assert_true(ll_run_store_list(store, &runs, &error));
  g_assert_cmpuint(runs->len, >, 0);
  /* the list is newest first */
  g_ptr_array_set_size(runs, 1);
  return runs;
}

/* The run report of the newest run, every page as PNG (report-pageN.png
 * in the screenshot folder) besides the PDF: looked at, and the first page
 * goes to the README. */
static void test_report_pages(void)
{
  if (ll_analysis_view_get_n_payloads(analysis()) == 0)
    train("fmnist-cnn", 2000);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) one = newest_run();
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

/* The newest run's report as PNG pages in <screenshots>/<folder>/, to be
 * looked at. */
static void report_pages(const char *folder)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) one = newest_run();
  const char *shots = g_getenv("LL_SCREENSHOT_DIR");
  g_autofree char *dir = g_build_filename(shots ? shots : ".", folder, NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func(g_free);
  g_assert_true(ll_run_report_png(one, dir, 80, pages, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(pages->len, >=, 3);
}

/* A binary classifier (Fashion-MNIST even / odd, BCE on one logit) gets its
 * 2 x 2 matrix with precision, recall, F1 and the ROC AUC, in the analysis
 * view, the training panel and the report. */
static void test_binary_matrix(void)
{
  g_autofree char *json = g_strdup_printf(
      "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"even-odd-binary\",\n"
      " \"graph\": {\"blocks\": [\n"
      "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [1, 28, 28]}},\n"
      "  {\"name\": \"flat\", \"type\": \"Flatten\", \"inputs\": [\"x\"]},\n"
      "  {\"name\": \"h\", \"type\": \"Linear\", \"inputs\": [\"flat\"], \"props\": "
      "{\"out_features\": 32}},\n"
      "  {\"name\": \"a\", \"type\": \"ReLU\", \"inputs\": [\"h\"]},\n"
      "  {\"name\": \"odd\", \"type\": \"Linear\", \"inputs\": [\"a\"], \"props\": "
      "{\"out_features\": 1}}]},\n"
      " \"data\": {\"dataset\": {\"kind\": \"idx-dir\", \"path\": \"%s\"},\n"
      "   \"validation_split\": 0.1, \"normalize\": \"zero-one\", \"label_map\": "
      "\"even-odd\"},\n"
      " \"losses\": [{\"output\": \"odd\", \"target\": \"mapped\", \"type\": "
      "\"bce_logits\"}],\n"
      " \"training\": {\"epochs\": 1, \"batch_size\": 64, \"seed\": 1,\n"
      "   \"optimizer\": {\"type\": \"adam\", \"lr\": 0.003}}}\n",
      LL_FASHION_MNIST_DIR);
  g_autofree char *dir = g_dir_make_tmp("ll-binary-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "even-odd-binary.json", NULL);
  g_assert_true(g_file_set_contents(path, json, -1, NULL));
  g_action_group_activate_action(G_ACTION_GROUP(win), "open-path", g_variant_new_string(path));
  ll_ui_answer_save_prompt(win, "_Discard");
  ll_ui_spin(50);
  g_assert_cmpstr(ll_document_get_spec(doc())->name, ==, "even-odd-binary");
  train_open(200);
  guint n = ll_analysis_view_get_n_payloads(analysis());
  const LlEvent *te = ll_analysis_view_get_payload(analysis(), n - 1);
  g_assert_cmpstr(te->split, ==, "test");
  g_assert_true(te->binary);
  g_assert_cmpint(te->n_classes, ==, 2);
  /* the matrix's classes are even and odd, not the dataset's first two
   * (the recorded embeddings' labels are the dataset's classes) */
  g_assert_null(te->class_names);
  g_assert_cmpint(te->n_embed, ==, 200);
  int64_t total = 0;
  for (int i = 0; i < 4; i++)
    total += te->confusion[i];
  g_assert_cmpint(total, ==, 400); /* limit_test */
  g_test_message("binary: tn %" G_GINT64_FORMAT " fp %" G_GINT64_FORMAT " fn %" G_GINT64_FORMAT
                 " tp %" G_GINT64_FORMAT ", AUC %.4f",
                 te->confusion[0], te->confusion[1], te->confusion[2], te->confusion[3],
                 te->roc_auc);
  /* one epoch on 1,350 images separates even from odd classes far above chance */
  g_assert_cmpfloat(te->roc_auc, >, 0.8);
  g_assert_cmpfloat(te->roc_auc, <=, 1.0);
  ll_analysis_view_select_payload(analysis(), n - 1);
  ll_analysis_view_show_page(analysis(), "confusion");
  const char *text = ll_confusion_plot_get_binary_text(ll_analysis_view_get_confusion(analysis()));
  g_test_message("%s", text);
  g_assert_nonnull(strstr(text, "ROC AUC"));
  g_assert_nonnull(strstr(text, "precision"));
  const char *metrics = ll_training_panel_get_metrics(ll_window_get_training_panel(win));
  g_test_message("panel: %s", metrics);
  g_assert_nonnull(strstr(metrics, "Test: "));
  g_assert_nonnull(strstr(metrics, "ROC AUC"));
  g_assert_nonnull(strstr(metrics, "F1"));
  screenshot("analysis-binary-confusion.png");
  /* the report's confusion page carries the same lines */
  report_pages("binary-report");
  g_unlink(path);
  g_rmdir(dir);
}

static int series_named(LlCurvePlot *p, const char *name)
{
  for (int i = 0; i < ll_curve_plot_n_series(p); i++)
    if (!g_strcmp0(ll_curve_plot_series_name(p, i), name))
      return i;
  return -1;
}

static gboolean runs_idle(void) { return !ll_runs_view_is_busy(ll_window_get_runs(win)); }

/* E15: the digit head and the sum head each report under their names, in
 * the training panel, the curves and the Runs table; each loss's weight is
 * set in the panel, an edit that undoes. */
static void test_two_heads(void)
{
  train("two-input-sum", 0);
  LlTrainingPanel *panel = ll_window_get_training_panel(win);
  const char *metrics = ll_training_panel_get_metrics(panel);
  g_test_message("panel: %s", metrics);
  g_assert_nonnull(strstr(metrics, "digit accuracy"));
  g_assert_nonnull(strstr(metrics, "sum accuracy"));
  g_assert_nonnull(strstr(metrics, "sum MSE"));
  /* the curves: a validation series per head */
  LlCurveView *cv = ll_window_get_curves(win);
  LlCurvePlot *acc = ll_curve_view_get_plot(cv, 1), *loss = ll_curve_view_get_plot(cv, 0);
  int digit = series_named(acc, "digit (val)"), sum = series_named(acc, "sum (val)");
  int mse = series_named(loss, "sum MSE (val)");
  g_assert_cmpint(digit, >=, 0);
  g_assert_cmpint(sum, >=, 0);
  g_assert_cmpint(mse, >=, 0);
  g_assert_cmpuint(ll_curve_plot_series_len(acc, digit), ==, 1);
  g_assert_cmpuint(ll_curve_plot_series_len(acc, sum), ==, 1);
  g_assert_cmpuint(ll_curve_plot_series_len(loss, mse), ==, 1);
  ll_window_show_page(win, "curves");
  ll_window_show_page(win, "training");
  screenshot("two-heads-curves.png");
  /* the Runs table: both heads of the newest run */
  LlRunsView *rv = ll_window_get_runs(win);
  ll_runs_view_refresh(rv);
  g_assert_true(ll_ui_wait_for(runs_idle, 20000));
  GListModel *model = ll_runs_view_get_model(rv);
  g_assert_cmpuint(g_list_model_get_n_items(model), >, 0);
  const char *heads = NULL;
  for (guint i = 0; i < g_list_model_get_n_items(model) && !heads; i++) {
    g_autoptr(LlRunItem) it = g_list_model_get_item(model, i);
    const char *name = ll_run_item_get_text(it, "name");
    if (!g_strcmp0(name, "two-input-sum"))
      heads = ll_run_item_get_text(it, "heads");
  }
  g_test_message("runs table: %s", heads);
  g_assert_nonnull(heads);
  g_assert_nonnull(strstr(heads, "digit accuracy"));
  g_assert_nonnull(strstr(heads, "sum accuracy"));
  ll_window_show_page(win, "runs");
  screenshot("two-heads-runs.png");
  report_pages("two-heads-report");
  /* the loss weights: one row per loss, an undoable edit */
  LlSpec *s = ll_document_get_spec(doc());
  GtkSpinButton *w1 = ll_training_panel_get_loss_weight(panel, 1);
  g_assert_nonnull(w1);
  g_assert_nonnull(ll_training_panel_get_loss_weight(panel, 0));
  g_assert_null(ll_training_panel_get_loss_weight(panel, 2));
  g_assert_cmpfloat(gtk_spin_button_get_value(w1), ==, 0.1);
  gtk_spin_button_set_value(w1, 0.5);
  g_assert_cmpfloat(((LlLossSpec *)g_ptr_array_index(s->losses, 1))->weight, ==, 0.5);
  g_assert_true(ll_document_get_modified(doc()));
  g_assert_true(ll_document_can_undo(doc()));
  ll_document_undo(doc());
  s = ll_document_get_spec(doc());
  g_assert_cmpfloat(((LlLossSpec *)g_ptr_array_index(s->losses, 1))->weight, ==, 0.1);
  w1 = ll_training_panel_get_loss_weight(panel, 1);
  g_assert_cmpfloat(gtk_spin_button_get_value(w1), ==, 0.1);
  ll_document_redo(doc());
  s = ll_document_get_spec(doc());
  g_assert_cmpfloat(((LlLossSpec *)g_ptr_array_index(s->losses, 1))->weight, ==, 0.5);
  g_assert_cmpfloat(gtk_spin_button_get_value(ll_training_panel_get_loss_weight(panel, 1)), ==,
                    0.5);
  /* the spec the next run trains (and Save writes) has it */
  g_autofree char *json = ll_spec_to_json(s);
  g_assert_nonnull(strstr(json, "\"weight\": 0.5"));
  ll_window_show_page(win, "curves");
  ll_window_show_page(win, "training");
  screenshot("two-heads-panel.png");
}

/* E8: one BCE head answering two queries shows each query's accuracy. */
static void test_query_heads(void)
{
  train("seq-memory", 0);
  const char *metrics = ll_training_panel_get_metrics(ll_window_get_training_panel(win));
  g_test_message("panel: %s", metrics);
  g_assert_nonnull(strstr(metrics, "answers.appeared accuracy"));
  g_assert_nonnull(strstr(metrics, "answers.then_next accuracy"));
  LlCurvePlot *acc = ll_curve_view_get_plot(ll_window_get_curves(win), 1);
  int a = series_named(acc, "answers.appeared (val)"),
      b = series_named(acc, "answers.then_next (val)");
  g_assert_cmpint(a, >=, 0);
  g_assert_cmpint(b, >=, 0);
  g_assert_cmpuint(ll_curve_plot_series_len(acc, a), ==, 1);
  g_assert_cmpuint(ll_curve_plot_series_len(acc, b), ==, 1);
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
  g_test_add_func("/ui/analysis/binary-matrix", test_binary_matrix);
  g_test_add_func("/ui/analysis/two-heads", test_two_heads);
  g_test_add_func("/ui/analysis/query-heads", test_query_heads);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  ll_dataset_free(train_ds);
  ll_dataset_free(test_ds);
  return rc;
}

/* ll-analysis-view.c: confusion, gallery, reconstructions, predictions and
 * t-SNE pages over the ui/plot renderers, with an epoch scrubber. */
#include "ll-analysis-view.h"
#include "ll-plot-style.h"

#include <math.h>
#include <string.h>

#include "analysis.h"
#include "block-output-export.h"
#include "confusion-plot.h"
#include "data.h"
#include "image-grid.h"
#include "pca.h"
#include "run-report.h"
#include "scatter-plot.h"
#include "study.h"

#include <glib/gstdio.h>
#include "device.h"
#include "spec.h"
#include "tsne.h"

enum { PAGE_CONFUSION, PAGE_RECON, PAGE_PRED, PAGE_TSNE };
enum { GALLERY_MAX = 64, PRED_SHOWN = 48, TSNE_MAX = 5000 };

/* A t-SNE running on a worker thread; the main thread polls `latest`. */
typedef struct {
  float *x; /* (n, d) */
  int *labels;
  int n, d;
  gboolean pca_only;
  float *warm; /* (n, 2) previous layout or NULL */
  GMutex lock;
  float *latest; /* (n, 2), under lock */
  int iter, max_iter;
  double kl;
  gboolean changed, done;
  char *error;
  gint cancel;
  gint refs; /* the worker's task and the view each hold one */
} TsneJob;

struct _LlAnalysisView {
  GtkBox parent_instance;
  GtkLabel *title, *epoch_label, *tsne_status, *gallery_note;
  GtkScale *scrub;
  GtkAdjustment *scrub_adj;
  GtkToggleButton *rates;
  GtkCheckButton *pca_only;
  GtkDropDown *embed_block; /* a block of the run's graph */
  GtkStringList *embed_blocks;
  GtkWidget *embed_button;
  gboolean embedding; /* a block's embeddings are being computed */
  GtkSpinButton *every, *exp_w, *exp_h, *exp_dpi;
  GtkCheckButton *exp_screen; /* export in the window's colours, not the light ones */
  GtkNotebook *pages;
  GtkWidget *conf_area, *gallery_area, *recon_area, *pred_area, *tsne_area;

  LlConfusionPlot *conf;
  LlImageGrid *gallery, *recon, *preds;
  LlScatterPlot *scatter;
  LlImageGrid *hover_grid; /* the hovered t-SNE point's sample */

  GPtrArray *payloads; /* LlEvent* */
  int current;
  gboolean follow; /* the scrubber follows the newest payload */
  char *titles[4]; /* each page's figure title */
  char *run_id, *run_dir, *spec_json, *store_root;
  int sel_row, sel_col;

  LlDataset *train_ds, *test_ds; /* for sample images; loaded on a worker */
  gboolean ds_loading, ds_failed;

  TsneJob *tsne;
  guint tsne_poll;
  gboolean tsne_finished;
  float *tsne_layout;                 /* the last finished layout, for warm starts */
  int tsne_n, tsne_epoch, tsne_index; /* payload the layout belongs to */
  int hover;
  double drag_x, drag_y, ptr_x, ptr_y;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE(LlAnalysisView, ll_analysis_view, GTK_TYPE_BOX)

GtkWidget *ll_analysis_view_new(void) { return g_object_new(LL_TYPE_ANALYSIS_VIEW, NULL); }

static void tsne_job_unref(TsneJob *j)
{
  if (!g_atomic_int_dec_and_test(&j->refs))
    return;
  g_free(j->x);
  g_free(j->labels);
  g_free(j->warm);
  g_free(j->latest);
  g_free(j->error);
  g_mutex_clear(&j->lock);
  g_free(j);
}

static LlEvent *current(LlAnalysisView *self)
{
  if (self->current < 0 || self->current >= (int)self->payloads->len)
    return NULL;
  return self->payloads->pdata[self->current];
}

/* The payload the t-SNE layout shows, or NULL. */
static LlEvent *tsne_payload(LlAnalysisView *self)
{
  return self->tsne_index >= 0 && self->tsne_index < (int)self->payloads->len
             ? self->payloads->pdata[self->tsne_index]
             : NULL;
}

/* The newest payload with per-sample predictions (the test set's). */
static LlEvent *test_payload(LlAnalysisView *self)
{
  for (int i = (int)self->payloads->len - 1; i >= 0; i--) {
    LlEvent *e = self->payloads->pdata[i];
    if (e->n_pred > 0)
      return e;
  }
  return NULL;
}

/* The dataset a payload's sample indices (pred_index, embed_index,
 * recon_index) refer to: the payload says which, whatever its split (a
 * validation split and a test set held out of the training set index the
 * training set; a block's embeddings index the test set where there is one). */
static const LlDataset *event_dataset(LlAnalysisView *self, const LlEvent *e)
{
  return e && e->from_test_set ? self->test_ds : self->train_ds;
}

/* Sample i of d as floats (C, H, W) in [0, 1], or NULL without images. */
static float *sample_image(const LlDataset *d, int i, int *c, int *h, int *w)
{
  if (!d || i < 0 || (guint)i >= d->n || d->shape.rank != 3)
    return NULL;
  *c = d->shape.d[0];
  *h = d->shape.d[1];
  *w = d->shape.d[2];
  size_t size = ll_shape_size(&d->shape);
  float *out = g_new(float, size);
  for (size_t k = 0; k < size; k++)
    out[k] = d->u8 ? d->u8[(size_t)i * size + k] / 255.0f : d->f32[(size_t)i * size + k];
  return out;
}

static const char *class_name(const LlEvent *e, int k, char *buf, size_t len)
{
  if (e && e->class_names && k >= 0 && k < (int)g_strv_length(e->class_names))
    return e->class_names[k];
  g_snprintf(buf, len, "%d", k);
  return buf;
}

/* ---- the pages' contents --------------------------------------------------------------- */

static void fill_gallery(LlAnalysisView *self)
{
  ll_image_grid_clear(self->gallery);
  LlEvent *te = test_payload(self);
  if (self->sel_row < 0) {
    ll_image_grid_set_title(self->gallery, "Gallery");
    ll_image_grid_set_empty_text(self->gallery, "Click a cell of the matrix");
    return;
  }
  char a[32], b[32];
  g_autofree char *title =
      g_strdup_printf("true %s, predicted %s: by confidence",
                      class_name(te ? te : current(self), self->sel_row, a, sizeof a),
                      class_name(te ? te : current(self), self->sel_col, b, sizeof b));
  ll_image_grid_set_title(self->gallery, title);
  if (!te) {
    ll_image_grid_set_empty_text(self->gallery,
                                 "Per-sample predictions come with the test evaluation at the end");
    return;
  }
  if (!self->test_ds && !self->train_ds) {
    ll_image_grid_set_empty_text(self->gallery, self->ds_failed ? "The dataset could not be opened"
                                                                : "Loading the dataset\u2026");
    return;
  }
  g_autoptr(GArray) hits = g_array_new(FALSE, FALSE, sizeof(int));
  for (int i = 0; i < te->n_pred; i++)
    if (te->pred_true[i] == self->sel_row && te->pred_class[i] == self->sel_col)
      g_array_append_val(hits, i);
  /* most confident first: an insertion-free partial order is enough for 64 of them */
  int *h = (int *)hits->data;
  for (guint i = 0; i < MIN(hits->len, (guint)GALLERY_MAX); i++) {
    guint best = i;
    for (guint k = i + 1; k < hits->len; k++)
      if (te->pred_conf[h[k]] > te->pred_conf[h[best]])
        best = k;
    int t = h[i];
    h[i] = h[best];
    h[best] = t;
  }
  const LlDataset *d = event_dataset(self, te);
  for (guint i = 0; i < MIN(hits->len, (guint)GALLERY_MAX); i++) {
    int c, hh, w;
    g_autofree float *img = sample_image(d, te->pred_index[h[i]], &c, &hh, &w);
    if (!img) {
      ll_image_grid_set_empty_text(self->gallery, "This dataset has no images to show");
      break;
    }
    g_autofree char *cap = g_strdup_printf("%.3f  #%d", te->pred_conf[h[i]], te->pred_index[h[i]]);
    ll_image_grid_add(self->gallery, img, c, hh, w, 0, 1, LL_IMAGE_GREY_OR_RGB, cap, NULL);
  }
  if (!hits->len)
    ll_image_grid_set_empty_text(self->gallery, "No test sample in this cell");
  g_autofree char *note = g_strdup_printf("%u samples in the cell, %u shown", hits->len,
                                          MIN(hits->len, (guint)GALLERY_MAX));
  gtk_label_set_text(self->gallery_note, note);
}

static void fill_predictions(LlAnalysisView *self)
{
  ll_image_grid_clear(self->preds);
  LlEvent *te = test_payload(self);
  if (!te) {
    ll_image_grid_set_empty_text(self->preds, "Sample predictions come with the test evaluation "
                                              "at the end of training");
    return;
  }
  const LlDataset *d = event_dataset(self, te);
  if (!d) {
    ll_image_grid_set_empty_text(self->preds, self->ds_failed ? "The dataset could not be opened"
                                                              : "Loading the dataset\u2026");
    return;
  }
  static const double wrong[3] = {0.85, 0.1, 0.1};
  for (int i = 0; i < MIN(te->n_pred, PRED_SHOWN); i++) {
    int c, h, w;
    g_autofree float *img = sample_image(d, te->pred_index[i], &c, &h, &w);
    if (!img) {
      ll_image_grid_set_empty_text(self->preds, "This dataset has no images to show");
      break;
    }
    char a[32], b[32];
    gboolean ok = te->pred_class[i] == te->pred_true[i];
    g_autofree char *pe = g_markup_escape_text(class_name(te, te->pred_class[i], a, sizeof a), -1);
    g_autofree char *tr = g_markup_escape_text(class_name(te, te->pred_true[i], b, sizeof b), -1);
    g_autofree char *cap =
        ok ? g_strdup_printf("%s", pe)
           : g_strdup_printf("<span foreground='#c01010'>%s</span> (%s)", pe, tr);
    ll_image_grid_add(self->preds, img, c, h, w, 0, 1, LL_IMAGE_GREY_OR_RGB, cap,
                      ok ? NULL : wrong);
  }
}

static void fill_hover(LlAnalysisView *self);

/* The samples a payload holds, for a reader: "test set", "validation set". */
static const char *split_name(const LlEvent *e)
{
  if (!g_strcmp0(e->split, "test"))
    return "test set";
  if (!g_strcmp0(e->split, "block")) /* a block's outputs: the test set, or the training set */
    return e->from_test_set ? "test set" : "training set";
  return "validation set";
}

/* A figure's title: what, then which samples at which epoch. */
static void set_title(LlAnalysisView *self, int page, const char *what, const LlEvent *e)
{
  g_free(self->titles[page]);
  self->titles[page] =
      e ? g_strdup_printf("%s, %s, epoch %d", what, split_name(e), e->epoch) : g_strdup(what);
}

static void update_views(LlAnalysisView *self)
{
  LlEvent *e = current(self);
  char buf[128];
  if (e)
    /* epochs, not payloads: a run's test payload and any block embeddings
     * come after its last epoch's, so a payload count would read 12/12 for
     * 10 epochs */
    g_snprintf(buf, sizeof buf, "%s, epoch %d of %d", split_name(e), e->epoch, e->epochs);
  else
    g_snprintf(buf, sizeof buf, "no evaluation yet");
  gtk_label_set_text(self->epoch_label, buf);
  if (e && e->confusion) {
    ll_confusion_plot_set_data(self->conf, e->n_classes, e->confusion, e->class_names);
    if (e->binary)
      ll_confusion_plot_set_binary(self->conf, e->roc_auc);
  } else
    ll_confusion_plot_set_data(self->conf, 0, NULL, NULL);
  set_title(self, PAGE_CONFUSION, "Confusion matrix", e);
  ll_confusion_plot_set_title(self->conf, self->titles[PAGE_CONFUSION]);
  ll_confusion_plot_set_selected(self->conf, self->sel_row, self->sel_col);
  ll_recon_grid_fill_wide(self->recon, e, TRUE); /* the bottom pane is wide and short */
  set_title(self, PAGE_RECON, "Reconstructions", e);
  ll_image_grid_set_title(self->recon, self->titles[PAGE_RECON]);
  ll_image_grid_set_empty_text(self->recon, e ? "This run records no reconstructions (it has no "
                                                "loss on the input x, or record."
                                                "reconstruction_samples is 0)"
                                              : "No evaluation yet");
  fill_gallery(self);
  fill_predictions(self);
  fill_hover(self);
  const char *id = self->run_id;
  ll_confusion_plot_set_stamp(self->conf, id);
  ll_image_grid_set_stamp(self->recon, id);
  ll_image_grid_set_stamp(self->preds, id);
  ll_image_grid_set_stamp(self->gallery, id);
  ll_scatter_plot_set_stamp(self->scatter, id);
  gtk_widget_queue_draw(self->conf_area);
  gtk_widget_queue_draw(self->gallery_area);
  gtk_widget_queue_draw(self->recon_area);
  gtk_widget_queue_draw(self->pred_area);
  gtk_widget_queue_draw(self->tsne_area);
}

/* ---- dataset for images ------------------------------------------------------------------ */

typedef struct {
  LlDataset *train, *test;
} Datasets;

static void datasets_free(gpointer p)
{
  Datasets *d = p;
  ll_dataset_free(d->train);
  ll_dataset_free(d->test);
  g_free(d);
}

static void open_datasets_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
  ll_thread_yield_to_ui();
  const char *json = data;
  GError *error = NULL;
  g_autoptr(LlSpec) s = ll_spec_load_data(json, -1, "spec", &error);
  Datasets *d = g_new0(Datasets, 1);
  if (!s || !ll_dataset_spec_open(&s->dataset, s->seed, &d->train, &d->test, &error)) {
    datasets_free(d);
    g_task_return_error(task, error);
    return;
  }
  g_task_return_pointer(task, d, datasets_free);
}

static void datasets_done(GObject *src, GAsyncResult *res, gpointer data)
{
  LlAnalysisView *self = LL_ANALYSIS_VIEW(src);
  self->ds_loading = FALSE;
  g_autoptr(GError) error = NULL;
  Datasets *d = g_task_propagate_pointer(G_TASK(res), &error);
  if (!d) {
    self->ds_failed = TRUE;
    g_message("analysis: no sample images: %s", error->message);
  } else {
    self->train_ds = d->train;
    self->test_ds = d->test;
    g_free(d);
  }
  update_views(self);
}

static void ensure_datasets(LlAnalysisView *self)
{
  if (self->train_ds || self->ds_loading || self->ds_failed || !self->spec_json)
    return;
  self->ds_loading = TRUE;
  GTask *task = g_task_new(self, NULL, datasets_done, NULL);
  g_task_set_task_data(task, g_strdup(self->spec_json), g_free);
  g_task_run_in_thread(task, open_datasets_thread);
  g_object_unref(task);
}

/* ---- t-SNE --------------------------------------------------------------------------------- */

static void tsne_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
  ll_thread_yield_to_ui();
  TsneJob *j = data;
  GError *error = NULL;
  if (j->pca_only || j->d <= 2) {
    g_autofree float *xy = g_new0(float, (size_t)j->n * 2);
    if (j->d <= 2) {
      for (int i = 0; i < j->n; i++)
        for (int k = 0; k < j->d; k++)
          xy[2 * i + k] = j->x[i * j->d + k];
    } else if (!ll_pca(j->x, j->n, j->d, 2, xy, NULL, &error)) {
      g_mutex_lock(&j->lock);
      j->error = g_strdup(error->message);
      j->done = TRUE;
      g_mutex_unlock(&j->lock);
      g_error_free(error);
      g_task_return_boolean(task, FALSE);
      return;
    }
    g_mutex_lock(&j->lock);
    memcpy(j->latest, xy, sizeof(float) * 2 * j->n);
    j->changed = j->done = TRUE;
    g_mutex_unlock(&j->lock);
    g_task_return_boolean(task, TRUE);
    return;
  }
  LlTsneConfig cfg;
  ll_tsne_config_init(&cfg);
  cfg.perplexity = MIN(30.0, (j->n - 2) / 3.0);
  cfg.pca_dims = MIN(50, j->d);
  if (j->warm) {
    /* recomputed from the previous layout: no exaggeration, fewer steps */
    cfg.exaggeration_iters = 0;
    cfg.max_iter = 300;
  }
  LlTsne *t = j->warm ? ll_tsne_new_warm(j->x, j->n, j->d, &cfg, j->warm, &error)
                      : ll_tsne_new(j->x, j->n, j->d, &cfg, &error);
  if (!t) {
    g_mutex_lock(&j->lock);
    j->error = g_strdup(error->message);
    j->done = TRUE;
    g_mutex_unlock(&j->lock);
    g_error_free(error);
    g_task_return_boolean(task, FALSE);
    return;
  }
  j->max_iter = cfg.max_iter;
  while (!g_atomic_int_get(&j->cancel) && ll_tsne_step(t, 10) > 0) {
    g_mutex_lock(&j->lock);
    memcpy(j->latest, ll_tsne_embedding(t), sizeof(float) * 2 * j->n);
    j->iter = ll_tsne_iter(t);
    j->changed = TRUE;
    g_mutex_unlock(&j->lock);
  }
  double kl = ll_tsne_kl(t);
  g_mutex_lock(&j->lock);
  j->kl = kl;
  j->done = TRUE;
  g_mutex_unlock(&j->lock);
  ll_tsne_free(t);
  g_task_return_boolean(task, TRUE);
}

static gboolean tsne_poll(gpointer data)
{
  LlAnalysisView *self = data;
  TsneJob *j = self->tsne;
  if (!j)
    return G_SOURCE_REMOVE;
  g_mutex_lock(&j->lock);
  gboolean changed = j->changed, done = j->done;
  char status[200];
  if (j->error) {
    g_autofree char *err = g_utf8_substring(j->error, 0, 150); /* whole characters only */
    g_snprintf(status, sizeof status, "t-SNE failed: %s", err);
  } else if (j->pca_only)
    g_snprintf(status, sizeof status, "PCA of %d points, %d dimensions%s", j->n, j->d,
               done ? "" : " \u2026");
  else if (done)
    g_snprintf(status, sizeof status, "t-SNE of %d points (%s): %d iterations, KL %.3f", j->n,
               j->n > 1000 ? "Barnes-Hut" : "exact", j->iter, j->kl);
  else
    g_snprintf(status, sizeof status, "t-SNE of %d points: iteration %d / %d\u2026", j->n, j->iter,
               j->max_iter);
  if (changed) {
    if (ll_scatter_plot_len(self->scatter) == j->n)
      ll_scatter_plot_update_xy(self->scatter, j->latest, j->n);
    j->changed = FALSE;
  }
  if (done && !j->error) {
    g_free(self->tsne_layout);
    self->tsne_layout = g_memdup2(j->latest, sizeof(float) * 2 * j->n);
    self->tsne_n = j->n;
  }
  g_mutex_unlock(&j->lock);
  gtk_label_set_text(self->tsne_status, status);
  ll_scatter_plot_set_subtitle(self->scatter, status);
  gtk_widget_queue_draw(self->tsne_area);
  if (done) {
    self->tsne_finished = TRUE;
    self->tsne_poll = 0;
    self->tsne = NULL;
    tsne_job_unref(j);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void tsne_cancel(LlAnalysisView *self)
{
  if (self->tsne) {
    g_atomic_int_set(&self->tsne->cancel, 1);
    tsne_job_unref(self->tsne);
  }
  self->tsne = NULL;
  if (self->tsne_poll)
    g_source_remove(self->tsne_poll);
  self->tsne_poll = 0;
}

static void set_scrub_range(LlAnalysisView *self);

/* ---- embeddings of any block: a forward pass with the run's weights ---------------------- */

typedef struct {
  char *spec_json, *run_dir, *block;
  /* the block's outputs for the first test samples (TSNE_MAX at most), in dataset order */
  float *features; /* (n, dim) */
  int *labels;
  int n, dim;
  gboolean from_test_set; /* the indices 0..n-1 refer to the test set (else the training set) */
} BlockJob;

static void block_job_free(gpointer p)
{
  BlockJob *j = p;
  g_free(j->spec_json);
  g_free(j->run_dir);
  g_free(j->block);
  g_free(j->features);
  g_free(j->labels);
  g_free(j);
}

static void block_embed_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
  ll_thread_yield_to_ui();
  BlockJob *j = data;
  GError *error = NULL;
  g_autoptr(LlSpec) spec = ll_spec_load_data(j->spec_json, -1, "the run's spec", &error);
  g_autofree char *ckpt = NULL;
  const char *files[] = {"final.safetensors", "best.safetensors", "last.safetensors"};
  for (guint i = 0; spec && !ckpt && i < G_N_ELEMENTS(files); i++) {
    char *p = g_build_filename(j->run_dir, files[i], NULL);
    if (g_file_test(p, G_FILE_TEST_EXISTS))
      ckpt = p;
    else
      g_free(p);
  }
  if (spec && !ckpt)
    g_set_error(&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "the run has no checkpoint yet");
  if (ckpt)
    ll_embed_block_test(spec, ckpt, j->block, TSNE_MAX, &j->features, &j->labels, &j->n, &j->dim,
                        &j->from_test_set, &error);
  if (error)
    g_task_return_error(task, error);
  else
    g_task_return_boolean(task, TRUE);
}

/* A payload of its own for a block's embeddings: the current payload's
 * confusion matrix and class names stay (the scrubber shows it), its
 * per-sample records go, since they index another split. */
static LlEvent *block_payload(const LlEvent *cur, BlockJob *j)
{
  LlEvent *ev = cur ? ll_event_dup(cur) : g_new0(LlEvent, 1);
  ev->kind = LL_EVENT_EVAL;
  g_free(ev->split);
  ev->split = g_strdup("block");
  g_clear_pointer(&ev->recon_input, g_free);
  g_clear_pointer(&ev->recon_output, g_free);
  g_clear_pointer(&ev->recon_index, g_free);
  ev->n_recon = 0;
  g_clear_pointer(&ev->pred_index, g_free);
  g_clear_pointer(&ev->pred_true, g_free);
  g_clear_pointer(&ev->pred_class, g_free);
  g_clear_pointer(&ev->pred_conf, g_free);
  ev->n_pred = 0;
  g_free(ev->embeddings);
  g_free(ev->embed_labels);
  g_free(ev->embed_index);
  g_free(ev->embed_block);
  ev->embed_block = g_strdup(j->block);
  ev->n_embed = j->n;
  ev->embed_dim = j->dim;
  ev->embeddings = g_steal_pointer(&j->features);
  ev->embed_labels = g_steal_pointer(&j->labels);
  ev->embed_index = g_new(int, MAX(j->n, 1));
  for (int i = 0; i < j->n; i++)
    ev->embed_index[i] = i;
  ev->from_test_set = j->from_test_set;
  return ev;
}

static void block_embed_done(GObject *src, GAsyncResult *res, gpointer data)
{
  LlAnalysisView *self = LL_ANALYSIS_VIEW(src);
  BlockJob *j = g_task_get_task_data(G_TASK(res));
  g_autoptr(GError) error = NULL;
  self->embedding = FALSE;
  if (!g_task_propagate_boolean(G_TASK(res), &error)) {
    g_autofree char *m =
        g_strdup_printf("Embedding block \u201c%s\u201d failed: %s", j->block, error->message);
    gtk_label_set_text(self->tsne_status, m);
    return;
  }
  LlEvent *ev = block_payload(current(self), j);
  if (!ev->class_names && self->test_ds && self->test_ds->class_names)
    ev->class_names = g_strdupv(self->test_ds->class_names);
  g_ptr_array_add(self->payloads, ev);
  self->current = (int)self->payloads->len - 1;
  self->follow = FALSE;
  set_scrub_range(self);
  update_views(self);
  ll_analysis_view_run_tsne(self, gtk_check_button_get_active(self->pca_only));
}

/* Computes the embeddings of `block` (a forward pass over the test set with
 * the run's saved weights) on a worker, then its t-SNE. */
void ll_analysis_view_embed_block(LlAnalysisView *self, const char *block)
{
  if (self->embedding || !self->spec_json || !self->run_dir) {
    gtk_label_set_text(self->tsne_status, self->embedding ? "already computing embeddings"
                                                          : "no finished run to take weights from");
    return;
  }
  BlockJob *j = g_new0(BlockJob, 1);
  j->spec_json = g_strdup(self->spec_json);
  j->run_dir = g_strdup(self->run_dir);
  j->block = g_strdup(block);
  self->embedding = TRUE;
  g_autofree char *m =
      g_strdup_printf("Computing the outputs of \u201c%s\u201d on the test set\u2026", block);
  gtk_label_set_text(self->tsne_status, m);
  GTask *task = g_task_new(self, NULL, block_embed_done, NULL);
  g_task_set_task_data(task, j, block_job_free);
  g_task_run_in_thread(task, block_embed_thread);
  g_object_unref(task);
}

gboolean ll_analysis_view_embedding_busy(LlAnalysisView *self) { return self->embedding; }

/* The block chosen in the picker, or NULL. */
static const char *chosen_block(LlAnalysisView *self)
{
  guint k = gtk_drop_down_get_selected(self->embed_block);
  return k == GTK_INVALID_LIST_POSITION ? NULL : gtk_string_list_get_string(self->embed_blocks, k);
}

/* Embed: the recorded embeddings when they are the chosen block's, else a
 * forward pass with the run's weights. */
static void on_embed_block(GtkButton *b, LlAnalysisView *self)
{
  const char *block = chosen_block(self);
  LlEvent *e = current(self);
  if (!block || (e && e->n_embed >= 5 && !g_strcmp0(e->embed_block, block))) {
    ll_analysis_view_run_tsne(self, gtk_check_button_get_active(self->pca_only));
    return;
  }
  ll_analysis_view_embed_block(self, block);
}

/* The blocks of the run's graph, for the block picker; the one the run
 * records (or would) chosen. */
static void fill_block_list(LlAnalysisView *self)
{
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->embed_blocks));
  gtk_string_list_splice(self->embed_blocks, 0, n, NULL);
  if (!self->spec_json)
    return;
  g_autoptr(LlSpec) s = ll_spec_load_data(self->spec_json, -1, "the run's spec", NULL);
  if (!s)
    return;
  if (!s->graph->inferred)
    ll_graph_infer(s->graph, NULL); /* the bottleneck of an autoencoder is found by shape */
  const char *recorded = ll_analysis_embedding_block(s);
  guint chosen = GTK_INVALID_LIST_POSITION;
  for (guint i = 0; i < s->graph->order->len; i++) {
    LlBlock *b = g_ptr_array_index(s->graph->order, i);
    if (b->desc->max_inputs == 0)
      continue;
    if (!g_strcmp0(b->name, recorded))
      chosen = g_list_model_get_n_items(G_LIST_MODEL(self->embed_blocks));
    gtk_string_list_append(self->embed_blocks, b->name);
  }
  gtk_drop_down_set_selected(self->embed_block, chosen);
}

void ll_analysis_view_set_embed_block(LlAnalysisView *self, const char *block)
{
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->embed_blocks));
  for (guint i = 0; i < n; i++)
    if (!g_strcmp0(gtk_string_list_get_string(self->embed_blocks, i), block))
      gtk_drop_down_set_selected(self->embed_block, i);
}

const char *ll_analysis_view_get_embed_block(LlAnalysisView *self) { return chosen_block(self); }

GtkWidget *ll_analysis_view_get_embed_button(LlAnalysisView *self) { return self->embed_button; }

GtkSpinButton *ll_analysis_view_get_every(LlAnalysisView *self) { return self->every; }

struct LlConfusionPlot *ll_analysis_view_get_confusion(LlAnalysisView *self) { return self->conf; }

GtkWidget *ll_analysis_view_get_plot_area(LlAnalysisView *self)
{
  GtkWidget *areas[] = {self->conf_area, self->recon_area, self->pred_area, self->tsne_area};
  return areas[CLAMP(gtk_notebook_get_current_page(self->pages), 0, 3)];
}

const char *ll_analysis_view_get_title(LlAnalysisView *self, const char *page)
{
  static const char *const names[] = {"confusion", "reconstructions", "predictions", "tsne"};
  for (int i = 0; i < 4; i++)
    if (!g_strcmp0(page, names[i]))
      return self->titles[i] ? self->titles[i] : "";
  return NULL;
}

const char *ll_analysis_view_get_tsne_status(LlAnalysisView *self)
{
  return gtk_label_get_text(self->tsne_status);
}

void ll_analysis_view_run_tsne(LlAnalysisView *self, gboolean pca_only)
{
  LlEvent *e = current(self);
  tsne_cancel(self);
  self->tsne_finished = FALSE;
  if (!e || e->n_embed < 5) {
    /* nothing recorded (an older run, or record.embedding_samples 0): the
     * chosen block's outputs from the run's weights, where there are some */
    const char *block = chosen_block(self);
    if (e && block && self->run_dir && self->spec_json && !self->embedding) {
      ll_analysis_view_embed_block(self, block);
      return;
    }
    ll_scatter_plot_set_points(self->scatter, NULL, NULL, 0, 0, NULL);
    gtk_label_set_text(self->tsne_status,
                       e ? "This evaluation has no embeddings: choose a block and press Embed"
                         : "The t-SNE of a block's outputs comes with the first evaluation");
    gtk_widget_queue_draw(self->tsne_area);
    return;
  }
  int n = MIN(e->n_embed, TSNE_MAX);
  TsneJob *j = g_new0(TsneJob, 1);
  j->refs = 2; /* this view's and the task's */
  g_mutex_init(&j->lock);
  j->n = n;
  j->d = e->embed_dim;
  j->pca_only = pca_only;
  j->x = g_memdup2(e->embeddings, sizeof(float) * n * j->d);
  j->latest = g_new0(float, (size_t)n * 2);
  /* warm start from the previous layout of the same points */
  if (!pca_only && self->tsne_layout && self->tsne_n == n && self->tsne_index != self->current)
    j->warm = g_memdup2(self->tsne_layout, sizeof(float) * 2 * n);
  g_autofree float *zero = g_new0(float, (size_t)n * 2);
  self->hover = -1; /* the points change */
  ll_scatter_plot_set_points(self->scatter, j->warm ? j->warm : zero, e->embed_labels, n,
                             ll_embedding_classes(e), e->class_names);
  ll_scatter_plot_set_axis_labels(self->scatter, pca_only ? "PC 1" : "t-SNE 1",
                                  pca_only ? "PC 2" : "t-SNE 2");
  g_autofree char *what = g_strdup_printf("%s of %s", pca_only ? "PCA" : "t-SNE",
                                          e->embed_block ? e->embed_block : "the embeddings");
  set_title(self, PAGE_TSNE, what, e);
  ll_scatter_plot_set_title(self->scatter, self->titles[PAGE_TSNE]);
  self->tsne_index = self->current;
  self->tsne_epoch = e->epoch;
  self->tsne = j;
  GTask *task = g_task_new(NULL, NULL, NULL, NULL);
  g_task_set_task_data(task, j, (GDestroyNotify)tsne_job_unref);
  g_task_run_in_thread(task, tsne_thread);
  g_object_unref(task);
  self->tsne_poll = g_timeout_add(50, tsne_poll, self);
}

gboolean ll_analysis_view_tsne_done(LlAnalysisView *self) { return self->tsne_finished; }

/* ---- events, runs --------------------------------------------------------------------------- */

static void set_scrub_range(LlAnalysisView *self)
{
  int n = (int)self->payloads->len;
  gtk_adjustment_configure(self->scrub_adj, MAX(self->current, 0), 0, MAX(n - 1, 0) + 1, 1, 1, 1);
  gtk_widget_set_sensitive(GTK_WIDGET(self->scrub), n > 1);
}

const char *ll_analysis_view_get_spec_json(LlAnalysisView *self) { return self->spec_json; }

void ll_analysis_view_set_run(LlAnalysisView *self, const char *run_id, const char *run_dir,
                              const char *spec_json)
{
  tsne_cancel(self);
  g_ptr_array_set_size(self->payloads, 0);
  self->current = -1;
  self->follow = TRUE;
  self->sel_row = self->sel_col = -1;
  g_free(self->run_id);
  g_free(self->run_dir);
  g_free(self->spec_json);
  self->run_id = g_strdup(run_id);
  self->run_dir = g_strdup(run_dir);
  self->spec_json = g_strdup(spec_json);
  fill_block_list(self);
  g_clear_pointer(&self->train_ds, ll_dataset_free);
  g_clear_pointer(&self->test_ds, ll_dataset_free);
  self->ds_failed = FALSE;
  g_clear_pointer(&self->tsne_layout, g_free);
  self->tsne_n = 0;
  self->tsne_finished = FALSE;
  ll_scatter_plot_set_points(self->scatter, NULL, NULL, 0, 0, NULL);
  g_autofree char *t = g_strdup_printf("Run %s", run_id ? run_id : "(not recorded)");
  gtk_label_set_text(self->title, t);
  gtk_label_set_ellipsize(self->title, PANGO_ELLIPSIZE_START);
  gtk_label_set_text(self->tsne_status, "");
  set_scrub_range(self);
  update_views(self);
}

static void select_payload(LlAnalysisView *self, int index)
{
  self->current = CLAMP(index, 0, (int)self->payloads->len - 1);
  update_views(self);
  LlEvent *e = current(self);
  if (e && gtk_notebook_get_current_page(self->pages) == PAGE_TSNE && e->n_embed >= 5 &&
      self->tsne_index != self->current)
    ll_analysis_view_run_tsne(self, gtk_check_button_get_active(self->pca_only));
}

void ll_analysis_view_clear(LlAnalysisView *self)
{
  ll_analysis_view_set_run(self, NULL, NULL, NULL);
  gtk_label_set_text(self->title, "No run yet");
  gtk_label_set_ellipsize(self->title, PANGO_ELLIPSIZE_END);
}

/* A run's analysis opens on what it has: the confusion matrix of a
 * classifier, the reconstructions of an autoencoder. */
static void open_on(LlAnalysisView *self, const LlEvent *e)
{
  if (e && e->confusion)
    gtk_notebook_set_current_page(self->pages, PAGE_CONFUSION);
  else if (e && e->n_recon > 0)
    gtk_notebook_set_current_page(self->pages, PAGE_RECON);
}

void ll_analysis_view_add_event(LlAnalysisView *self, LlEvent *ev)
{
  g_ptr_array_add(self->payloads, ev);
  if (self->payloads->len == 1)
    open_on(self, ev);
  if (ev->n_pred > 0)
    ensure_datasets(self);
  if (self->follow) {
    self->current = (int)self->payloads->len - 1;
    set_scrub_range(self);
    update_views(self);
    /* recompute the t-SNE every N epochs, warm-started, while its page is up */
    int every = gtk_spin_button_get_value_as_int(self->every);
    if (ev->n_embed >= 5 && gtk_notebook_get_current_page(self->pages) == PAGE_TSNE && every > 0 &&
        (ev->epoch % every == 0 || !g_strcmp0(ev->split, "test")))
      ll_analysis_view_run_tsne(self, gtk_check_button_get_active(self->pca_only));
  } else {
    set_scrub_range(self);
  }
}

gboolean ll_analysis_view_load_run(LlAnalysisView *self, const LlRunInfo *run, GError **error)
{
  g_autoptr(GPtrArray) a = ll_analysis_load(run->dir, error);
  if (!a)
    return FALSE;
  ll_analysis_view_set_run(self, run->id, run->dir, run->spec_json);
  self->follow = FALSE;
  for (guint i = 0; i < a->len; i++)
    g_ptr_array_add(self->payloads, g_steal_pointer(&a->pdata[i]));
  g_ptr_array_set_free_func(a, NULL);
  self->current = (int)self->payloads->len - 1;
  self->follow = TRUE;
  open_on(self, current(self));
  ensure_datasets(self);
  set_scrub_range(self);
  update_views(self);
  return TRUE;
}

void ll_analysis_view_set_store_root(LlAnalysisView *self, const char *root)
{
  g_free(self->store_root);
  self->store_root = g_strdup(root);
}

guint ll_analysis_view_get_n_payloads(LlAnalysisView *self) { return self->payloads->len; }
const char *ll_analysis_view_get_epoch_text(LlAnalysisView *self)
{
  return gtk_label_get_text(self->epoch_label);
}

void ll_analysis_view_select_payload(LlAnalysisView *self, guint index)
{
  self->follow = index + 1 >= self->payloads->len;
  gtk_adjustment_set_value(self->scrub_adj, index);
  select_payload(self, (int)index);
}

void ll_analysis_view_show_page(LlAnalysisView *self, const char *page)
{
  static const char *const names[] = {"confusion", "reconstructions", "predictions", "tsne"};
  for (int i = 0; i < 4; i++)
    if (!strcmp(page, names[i]))
      gtk_notebook_set_current_page(self->pages, i);
}

const char *ll_analysis_view_get_page(LlAnalysisView *self)
{
  static const char *const names[] = {"confusion", "reconstructions", "predictions", "tsne"};
  int i = gtk_notebook_get_current_page(self->pages);
  return i >= 0 && i < (int)G_N_ELEMENTS(names) ? names[i] : NULL;
}

int ll_analysis_view_open_cell(LlAnalysisView *self, int row, int col)
{
  self->sel_row = row;
  self->sel_col = col;
  update_views(self);
  return ll_image_grid_len(self->gallery);
}

int ll_analysis_view_get_n_predictions_shown(LlAnalysisView *self)
{
  return ll_image_grid_len(self->preds);
}

gboolean ll_analysis_view_images_ready(LlAnalysisView *self)
{
  return self->train_ds != NULL && !self->ds_loading;
}

const LlEvent *ll_analysis_view_get_payload(LlAnalysisView *self, guint index)
{
  return index < self->payloads->len ? self->payloads->pdata[index] : NULL;
}

const LlEvent *ll_analysis_view_get_tsne_payload(LlAnalysisView *self)
{
  return tsne_payload(self);
}

LlImageGrid *ll_analysis_view_get_grid(LlAnalysisView *self, const char *which)
{
  if (!g_strcmp0(which, "gallery"))
    return self->gallery;
  if (!g_strcmp0(which, "predictions"))
    return self->preds;
  if (!g_strcmp0(which, "reconstructions"))
    return self->recon;
  return !g_strcmp0(which, "hover") ? self->hover_grid : NULL;
}

/* ---- drawing and input ------------------------------------------------------------------------
 */

static void draw_conf(GtkDrawingArea *a, cairo_t *cr, int w, int h, gpointer data)
{
  ll_plot_style_apply(GTK_WIDGET(a), cr);
  ll_confusion_plot_draw(LL_ANALYSIS_VIEW(data)->conf, cr, w, h);
}

static void draw_grid(GtkDrawingArea *a, cairo_t *cr, int w, int h, gpointer data)
{
  ll_plot_style_apply(GTK_WIDGET(a), cr);
  ll_image_grid_draw(data, cr, w, h);
}

/* The hovered point's sample: its image, titled by its class. */
static void fill_hover(LlAnalysisView *self)
{
  ll_image_grid_clear(self->hover_grid);
  LlEvent *e = tsne_payload(self);
  if (self->hover < 0 || !e || !e->embed_index || self->hover >= e->n_embed)
    return;
  const LlDataset *d = event_dataset(self, e);
  int c, hh, ww, index = e->embed_index[self->hover];
  g_autofree float *img = sample_image(d, index, &c, &hh, &ww);
  char b[32];
  ll_image_grid_set_title(self->hover_grid,
                          class_name(e, e->embed_labels[self->hover], b, sizeof b));
  g_autofree char *cap = index >= 0 ? g_strdup_printf("#%d", index) : NULL;
  if (img)
    ll_image_grid_add(self->hover_grid, img, c, hh, ww, 0, 1, LL_IMAGE_GREY_OR_RGB, cap, NULL);
  else
    ll_image_grid_set_empty_text(self->hover_grid,
                                 d || self->ds_failed ? "no image" : "loading\u2026");
}

static void draw_tsne(GtkDrawingArea *a, cairo_t *cr, int w, int h, gpointer data)
{
  LlAnalysisView *self = data;
  ll_plot_style_apply(GTK_WIDGET(a), cr);
  ll_scatter_plot_set_hover(self->scatter, self->hover);
  ll_scatter_plot_draw(self->scatter, cr, w, h);
  /* the hovered sample's image, top right of the plot area */
  LlEvent *e = tsne_payload(self);
  if (self->hover < 0 || !e || !e->embed_index || self->hover >= e->n_embed)
    return;
  LlPlotRect ar;
  ll_scatter_plot_area(self->scatter, w, h, &ar);
  cairo_save(cr);
  cairo_translate(cr, ar.x + ar.w - 130, ar.y + 6);
  cairo_rectangle(cr, 0, 0, 124, 150);
  cairo_clip(cr);
  ll_image_grid_draw(self->hover_grid, cr, 124, 150);
  cairo_restore(cr);
  ll_plot_ink(cr, LL_INK_FRAME, 1);
  cairo_rectangle(cr, ar.x + ar.w - 129.5, ar.y + 6.5, 123, 149);
  cairo_stroke(cr);
}

static void on_conf_click(GtkGestureClick *g, int n, double x, double y, gpointer data)
{
  LlAnalysisView *self = data;
  int w = gtk_widget_get_width(self->conf_area), h = gtk_widget_get_height(self->conf_area);
  int r, c;
  if (ll_confusion_plot_cell_at(self->conf, w, h, x, y, &r, &c))
    ll_analysis_view_open_cell(self, r, c);
}

void ll_analysis_view_hover_point(LlAnalysisView *self, int point)
{
  self->hover = point;
  if (point >= 0)
    ensure_datasets(self);
  fill_hover(self);
  gtk_widget_queue_draw(self->tsne_area);
}

static void on_tsne_motion(GtkEventControllerMotion *m, double x, double y, gpointer data)
{
  LlAnalysisView *self = data;
  int w = gtk_widget_get_width(self->tsne_area), h = gtk_widget_get_height(self->tsne_area);
  self->ptr_x = x;
  self->ptr_y = y;
  int i = ll_scatter_plot_point_at(self->scatter, w, h, x, y, 6);
  if (i != self->hover)
    ll_analysis_view_hover_point(self, i);
}

static gboolean on_tsne_scroll(GtkEventControllerScroll *s, double dx, double dy, gpointer data)
{
  LlAnalysisView *self = data;
  int w = gtk_widget_get_width(self->tsne_area), h = gtk_widget_get_height(self->tsne_area);
  /* about the pointer, which the motion controller tracks */
  ll_scatter_plot_zoom(self->scatter, w, h, self->ptr_x, self->ptr_y, pow(1.2, -dy));
  gtk_widget_queue_draw(self->tsne_area);
  return TRUE;
}

static void on_tsne_drag_begin(GtkGestureDrag *g, double x, double y, gpointer data)
{
  LlAnalysisView *self = data;
  self->drag_x = self->drag_y = 0;
}

static void on_tsne_drag_update(GtkGestureDrag *g, double ox, double oy, gpointer data)
{
  LlAnalysisView *self = data;
  int w = gtk_widget_get_width(self->tsne_area), h = gtk_widget_get_height(self->tsne_area);
  ll_scatter_plot_pan(self->scatter, w, h, ox - self->drag_x, oy - self->drag_y);
  self->drag_x = ox;
  self->drag_y = oy;
  gtk_widget_queue_draw(self->tsne_area);
}

static void on_tsne_double(GtkGestureClick *g, int n, double x, double y, gpointer data)
{
  LlAnalysisView *self = data;
  if (n == 2) {
    ll_scatter_plot_fit(self->scatter);
    gtk_widget_queue_draw(self->tsne_area);
  }
}

static void on_scrub(GtkAdjustment *adj, gpointer data)
{
  LlAnalysisView *self = data;
  int i = (int)lround(gtk_adjustment_get_value(adj));
  if (i == self->current || !self->payloads->len)
    return;
  self->follow = i + 1 >= (int)self->payloads->len;
  select_payload(self, i);
}

static void on_rates(GtkToggleButton *b, gpointer data)
{
  LlAnalysisView *self = data;
  ll_confusion_plot_set_normalized(self->conf, gtk_toggle_button_get_active(b));
  gtk_widget_queue_draw(self->conf_area);
}

static void on_recompute(GtkButton *b, gpointer data)
{
  LlAnalysisView *self = data;
  ll_analysis_view_run_tsne(self, gtk_check_button_get_active(self->pca_only));
}

static void on_page(GtkNotebook *nb, GtkWidget *page, guint n, gpointer data)
{
  LlAnalysisView *self = data;
  if (n == PAGE_PRED || n == PAGE_CONFUSION)
    ensure_datasets(self);
  LlEvent *e = current(self);
  if (n == PAGE_TSNE && e && e->n_embed >= 5 && !self->tsne && self->tsne_index != self->current)
    ll_analysis_view_run_tsne(self, gtk_check_button_get_active(self->pca_only));
}

/* ---- export ------------------------------------------------------------------------------------
 */

gboolean ll_analysis_view_export_current(LlAnalysisView *self, const char *path, double width,
                                         double height, double dpi, GError **error)
{
  /* the renderers lay out in units of 1/96 in and scale PNGs by dpi/96: a
   * figure of width/dpi by height/dpi inches is written as width x height
   * pixels */
  dpi = dpi > 0 ? dpi : 96.0;
  width *= 96.0 / dpi;
  height *= 96.0 / dpi;
  switch (gtk_notebook_get_current_page(self->pages)) {
  case PAGE_CONFUSION:
    return ll_confusion_plot_export(self->conf, path, NULL, width, height, dpi, error);
  case PAGE_RECON: return ll_image_grid_export(self->recon, path, NULL, width, height, dpi, error);
  case PAGE_PRED: return ll_image_grid_export(self->preds, path, NULL, width, height, dpi, error);
  default: return ll_scatter_plot_export(self->scatter, path, NULL, width, height, dpi, error);
  }
}

static void report_error(LlAnalysisView *self, const char *what, GError *error)
{
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  g_autofree char *m = g_strdup_printf("%s: %s", what, error->message);
  GtkWidget *d = gtk_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                        GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                        GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", m);
  g_signal_connect(d, "response", G_CALLBACK(gtk_window_destroy), NULL);
  gtk_window_present(GTK_WINDOW(d));
}

typedef enum { EXPORT_VIEW, EXPORT_ALL, EXPORT_REPORT } ExportKind;

static void on_chooser_response(GtkNativeDialog *dialog, int response, gpointer data)
{
  LlAnalysisView *self = data;
  ExportKind kind = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dialog), "kind"));
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = g_file_get_path(f);
    g_autoptr(GError) error = NULL;
    gboolean ok = TRUE;
    /* figures for a report are light unless the user asks for the window's colours */
    LlPlotScheme screen;
    ll_plot_style_of(GTK_WIDGET(self), &screen);
    ll_plot_set_export_scheme(gtk_check_button_get_active(self->exp_screen) ? &screen : NULL);
    if (kind == EXPORT_VIEW) {
      ok = ll_analysis_view_export_current(self, path, gtk_spin_button_get_value(self->exp_w),
                                           gtk_spin_button_get_value(self->exp_h),
                                           gtk_spin_button_get_value(self->exp_dpi), &error);
    } else {
      g_autoptr(LlRunStore) store = ll_run_store_open(self->store_root, &error);
      g_autoptr(LlRunInfo) run = NULL;
      ok = store && self->run_id && ll_run_store_get(store, self->run_id, &run, &error);
      if (ok && kind == EXPORT_ALL)
        ok = ll_run_export_figures(run, path, "png", NULL, &error);
      else if (ok) {
        g_autoptr(GPtrArray) runs = g_ptr_array_new();
        g_ptr_array_add(runs, run);
        ok = ll_run_report_pdf(runs, path, &error);
      }
      if (!ok && !error)
        g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "this run is not recorded");
    }
    ll_plot_set_export_scheme(NULL);
    if (!ok)
      report_error(self, "Export failed", error);
  }
  g_clear_object(&self->chooser);
}

static void start_export(LlAnalysisView *self, ExportKind kind)
{
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  g_clear_object(&self->chooser);
  self->chooser = gtk_file_chooser_native_new(
      kind == EXPORT_ALL ? "Export all figures to a folder" : "Export",
      GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
      kind == EXPORT_ALL ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER : GTK_FILE_CHOOSER_ACTION_SAVE,
      NULL, NULL);
  g_object_set_data(G_OBJECT(self->chooser), "kind", GINT_TO_POINTER(kind));
  if (kind != EXPORT_ALL) {
    g_autofree char *name = g_strdup_printf("%s%s", self->run_id ? self->run_id : "figure",
                                            kind == EXPORT_REPORT ? "-report.pdf" : ".pdf");
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser), name);
  }
  g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void on_export_view(GtkButton *b, gpointer d) { start_export(d, EXPORT_VIEW); }
static void on_export_all(GtkButton *b, gpointer d) { start_export(d, EXPORT_ALL); }
static void on_export_report(GtkButton *b, gpointer d) { start_export(d, EXPORT_REPORT); }

/* ---- construction ------------------------------------------------------------------------------
 */

static GtkWidget *area_for(GtkDrawingAreaDrawFunc fn, gpointer data)
{
  GtkWidget *a = gtk_drawing_area_new();
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(a), fn, data, NULL);
  gtk_widget_set_hexpand(a, TRUE);
  gtk_widget_set_vexpand(a, TRUE);
  gtk_widget_set_size_request(a, 200, 160);
  return a;
}

/* Recompute every 0 epochs is never, and says so. */
static gboolean on_every_output(GtkSpinButton *spin, gpointer unused)
{
  if (gtk_spin_button_get_value_as_int(spin) != 0)
    return FALSE;
  gtk_editable_set_text(GTK_EDITABLE(spin), "never");
  return TRUE;
}

static int on_every_input(GtkSpinButton *spin, double *value, gpointer unused)
{
  if (g_ascii_strcasecmp(gtk_editable_get_text(GTK_EDITABLE(spin)), "never"))
    return FALSE;
  *value = 0;
  return TRUE;
}

static GtkSpinButton *spin(GtkWidget *box, const char *label, double lo, double hi, double v,
                           const char *tip)
{
  if (label)
    gtk_box_append(GTK_BOX(box), gtk_label_new(label));
  GtkWidget *s = gtk_spin_button_new_with_range(lo, hi, 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(s), v);
  gtk_widget_set_tooltip_text(s, tip);
  gtk_box_append(GTK_BOX(box), s);
  return GTK_SPIN_BUTTON(s);
}

static GtkWidget *button(GtkWidget *box, const char *label, const char *tip, GCallback cb,
                         gpointer data)
{
  GtkWidget *b = gtk_button_new_with_label(label);
  gtk_widget_set_tooltip_text(b, tip);
  g_signal_connect(b, "clicked", cb, data);
  gtk_box_append(GTK_BOX(box), b);
  return b;
}

/* A menu button whose popover holds box (vertical), closed by any button
 * in it that starts something. */
static GtkWidget *menu_button(const char *label, const char *icon, const char *tip, GtkWidget *box)
{
  GtkWidget *mb = gtk_menu_button_new();
  if (icon)
    gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(mb), icon);
  else
    gtk_menu_button_set_label(GTK_MENU_BUTTON(mb), label);
  gtk_accessible_update_property(GTK_ACCESSIBLE(mb), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_widget_set_tooltip_text(mb, tip);
  GtkWidget *pop = gtk_popover_new();
  gtk_popover_set_child(GTK_POPOVER(pop), box);
  gtk_menu_button_set_popover(GTK_MENU_BUTTON(mb), pop);
  return mb;
}

static void popdown_from(GtkButton *b, gpointer unused)
{
  GtkWidget *pop = gtk_widget_get_ancestor(GTK_WIDGET(b), GTK_TYPE_POPOVER);
  if (pop)
    gtk_popover_popdown(GTK_POPOVER(pop));
}

/* A labelled row of the export menu's grid. */
static GtkSpinButton *grid_spin(GtkGrid *grid, int row, const char *label, const char *unit,
                                double lo, double hi, double v, const char *tip)
{
  GtkWidget *l = gtk_label_new(label);
  gtk_label_set_xalign(GTK_LABEL(l), 1);
  gtk_grid_attach(grid, l, 0, row, 1, 1);
  GtkWidget *s = gtk_spin_button_new_with_range(lo, hi, 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(s), v);
  gtk_widget_set_tooltip_text(s, tip);
  gtk_grid_attach(grid, s, 1, row, 1, 1);
  if (unit) {
    l = gtk_label_new(unit);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_grid_attach(grid, l, 2, row, 1, 1);
  }
  return GTK_SPIN_BUTTON(s);
}

/* Export, folded into a menu so the header fits a narrow pane: the
 * figure's size, its colours, and the three exports. */
static GtkWidget *export_menu(LlAnalysisView *self)
{
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  GtkGrid *grid = GTK_GRID(gtk_grid_new());
  gtk_grid_set_row_spacing(grid, 6);
  gtk_grid_set_column_spacing(grid, 6);
  self->exp_w = grid_spin(grid, 0, "Width", "px", 200, 8000, 1200,
                          "Figure width in pixels: a PNG is written this wide; SVG and PDF get "
                          "the same layout, width \u00d7 96 / DPI points");
  self->exp_h = grid_spin(grid, 1, "Height", "px", 150, 8000, 800, "Figure height in pixels");
  self->exp_dpi = grid_spin(grid, 2, "Resolution", "DPI", 48, 600, 144,
                            "Text and lines are sized for this DPI (the figure is width / DPI "
                            "inches wide); the pixel size stays as entered");
  gtk_box_append(GTK_BOX(box), GTK_WIDGET(grid));
  self->exp_screen = GTK_CHECK_BUTTON(gtk_check_button_new_with_label("In the window's colours"));
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->exp_screen),
                              "Export in the window's colours (dark figures in the dark style) "
                              "instead of the light ones a printed report wants");
  gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->exp_screen));
  static const struct {
    const char *label, *tip;
    void (*cb)(GtkButton *, gpointer);
  } exports[] = {
      {"Export View\u2026", "This view as PNG, SVG or PDF (by the file name)", on_export_view},
      {"Export All Figures\u2026", "Every figure of the run, as PNG, into a folder", on_export_all},
      {"Report PDF\u2026", "A multi-page PDF report of the run", on_export_report},
  };
  for (guint i = 0; i < G_N_ELEMENTS(exports); i++) {
    GtkWidget *b = gtk_button_new_with_label(exports[i].label);
    gtk_widget_set_tooltip_text(b, exports[i].tip);
    g_signal_connect(b, "clicked", G_CALLBACK(popdown_from), NULL);
    g_signal_connect(b, "clicked", G_CALLBACK(exports[i].cb), self);
    gtk_box_append(GTK_BOX(box), b);
  }
  return menu_button("Export", NULL, "Export this view, every figure or a PDF report", box);
}

/* The t-SNE's settings, in a menu so its row fits a narrow pane: PCA
 * instead of t-SNE, and how often it recomputes while training. */
static GtkWidget *tsne_menu(LlAnalysisView *self)
{
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  self->pca_only =
      GTK_CHECK_BUTTON(gtk_check_button_new_with_label("PCA only (the first two components)"));
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->pca_only),
                              "The first two principal components: instant");
  gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->pca_only));
  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  self->every = spin(row, "While training, recompute every", 0, 100, 1,
                     "While training, recompute every N epochs (0 shows as \u201cnever\u201d)");
  g_signal_connect(self->every, "output", G_CALLBACK(on_every_output), NULL);
  g_signal_connect(self->every, "input", G_CALLBACK(on_every_input), NULL);
  gtk_spin_button_set_numeric(self->every, FALSE); /* numeric would refuse the word */
  gtk_editable_set_width_chars(GTK_EDITABLE(self->every), 5);
  gtk_box_append(GTK_BOX(row), gtk_label_new("epochs"));
  gtk_box_append(GTK_BOX(box), row);
  return menu_button("t-SNE options", "emblem-system-symbolic",
                     "Options: PCA instead of t-SNE; how often to recompute while training", box);
}

static void ll_analysis_view_dispose(GObject *o)
{
  LlAnalysisView *self = LL_ANALYSIS_VIEW(o);
  tsne_cancel(self);
  g_clear_object(&self->chooser);
  G_OBJECT_CLASS(ll_analysis_view_parent_class)->dispose(o);
}

static void ll_analysis_view_finalize(GObject *o)
{
  LlAnalysisView *self = LL_ANALYSIS_VIEW(o);
  g_ptr_array_unref(self->payloads);
  ll_confusion_plot_free(self->conf);
  ll_image_grid_free(self->gallery);
  ll_image_grid_free(self->recon);
  ll_image_grid_free(self->preds);
  ll_scatter_plot_free(self->scatter);
  ll_image_grid_free(self->hover_grid);
  ll_dataset_free(self->train_ds);
  ll_dataset_free(self->test_ds);
  g_free(self->tsne_layout);
  for (int i = 0; i < 4; i++)
    g_free(self->titles[i]);
  g_free(self->run_id);
  g_free(self->run_dir);
  g_free(self->spec_json);
  g_free(self->store_root);
  G_OBJECT_CLASS(ll_analysis_view_parent_class)->finalize(o);
}

static void ll_analysis_view_class_init(LlAnalysisViewClass *klass)
{
  G_OBJECT_CLASS(klass)->dispose = ll_analysis_view_dispose;
  G_OBJECT_CLASS(klass)->finalize = ll_analysis_view_finalize;
}

static void ll_analysis_view_init(LlAnalysisView *self)
{
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing(GTK_BOX(self), 4);
  self->payloads = g_ptr_array_new_with_free_func((GDestroyNotify)ll_event_free);
  self->current = -1;
  self->follow = TRUE;
  self->sel_row = self->sel_col = -1;
  self->hover = -1;
  self->tsne_index = -1;
  self->conf = ll_confusion_plot_new();
  self->gallery = ll_image_grid_new("Gallery");
  self->recon = ll_image_grid_new("Reconstructions");
  self->preds = ll_image_grid_new("Sample predictions (first 48 test samples)");
  static const LlLegendEntry wrong[] = {{"wrong: predicted (true)", {0.85, 0.1, 0.1}}};
  ll_image_grid_set_legend(self->preds, wrong, 1);
  self->scatter = ll_scatter_plot_new("t-SNE");
  self->hover_grid = ll_image_grid_new("");
  ll_scatter_plot_set_raster(self->scatter, TRUE); /* 70k points in ~3 ms; bench-scatter */

  /* the header, two rows that fit the narrowest pane (about 400 px): the
   * run and the export menu, then the epoch scrubber with its label; the
   * label keeps its width whatever it says, so the scrubber never moves */
  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_start(bar, 6);
  gtk_widget_set_margin_end(bar, 6);
  gtk_widget_set_margin_top(bar, 4);
  self->title = GTK_LABEL(gtk_label_new("No run"));
  gtk_widget_add_css_class(GTK_WIDGET(self->title), "heading");
  gtk_label_set_ellipsize(self->title, PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign(self->title, 0);
  gtk_widget_set_hexpand(GTK_WIDGET(self->title), TRUE);
  gtk_box_append(GTK_BOX(bar), GTK_WIDGET(self->title));
  gtk_box_append(GTK_BOX(bar), export_menu(self));
  gtk_box_append(GTK_BOX(self), bar);
  bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_start(bar, 6);
  gtk_widget_set_margin_end(bar, 6);
  self->scrub_adj = gtk_adjustment_new(0, 0, 1, 1, 1, 1);
  self->scrub = GTK_SCALE(gtk_scale_new(GTK_ORIENTATION_HORIZONTAL, self->scrub_adj));
  gtk_scale_set_digits(self->scrub, 0);
  gtk_scale_set_draw_value(self->scrub, FALSE);
  gtk_widget_set_hexpand(GTK_WIDGET(self->scrub), TRUE);
  gtk_widget_add_css_class(GTK_WIDGET(self->scrub), "ll-compact"); /* the row stays low */
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->scrub),
                              "Move through the evaluations of every epoch");
  g_signal_connect(self->scrub_adj, "value-changed", G_CALLBACK(on_scrub), self);
  gtk_box_append(GTK_BOX(bar), GTK_WIDGET(self->scrub));
  self->epoch_label = GTK_LABEL(gtk_label_new(""));
  gtk_label_set_ellipsize(self->epoch_label, PANGO_ELLIPSIZE_END);
  gtk_label_set_width_chars(self->epoch_label, 26);
  gtk_label_set_max_width_chars(self->epoch_label, 26);
  gtk_label_set_xalign(self->epoch_label, 1);
  gtk_box_append(GTK_BOX(bar), GTK_WIDGET(self->epoch_label));
  gtk_box_append(GTK_BOX(self), bar);

  self->pages = GTK_NOTEBOOK(gtk_notebook_new());
  gtk_notebook_set_scrollable(self->pages, TRUE); /* the tabs never widen the pane */
  gtk_widget_set_vexpand(GTK_WIDGET(self->pages), TRUE);
  gtk_box_append(GTK_BOX(self), GTK_WIDGET(self->pages));

  /* confusion + gallery */
  GtkWidget *cbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *ctl = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  self->rates = GTK_TOGGLE_BUTTON(gtk_toggle_button_new_with_label("Row-normalised"));
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->rates), "Counts or rates per true class");
  g_signal_connect(self->rates, "toggled", G_CALLBACK(on_rates), self);
  gtk_box_append(GTK_BOX(ctl), GTK_WIDGET(self->rates));
  GtkWidget *hint = gtk_label_new("Click a cell: its test samples, most confident first.");
  gtk_label_set_ellipsize(GTK_LABEL(hint), PANGO_ELLIPSIZE_END);
  gtk_box_append(GTK_BOX(ctl), hint);
  self->gallery_note = GTK_LABEL(gtk_label_new(""));
  gtk_label_set_ellipsize(self->gallery_note, PANGO_ELLIPSIZE_END);
  gtk_box_append(GTK_BOX(ctl), GTK_WIDGET(self->gallery_note));
  gtk_box_append(GTK_BOX(cbox), ctl);
  GtkWidget *paned = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
  self->conf_area = area_for(draw_conf, self);
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "pressed", G_CALLBACK(on_conf_click), self);
  gtk_widget_add_controller(self->conf_area, GTK_EVENT_CONTROLLER(click));
  self->gallery_area = area_for(draw_grid, self->gallery);
  gtk_paned_set_start_child(GTK_PANED(paned), self->conf_area);
  gtk_paned_set_end_child(GTK_PANED(paned), self->gallery_area);
  gtk_paned_set_position(GTK_PANED(paned), 700);
  gtk_widget_set_vexpand(paned, TRUE);
  gtk_box_append(GTK_BOX(cbox), paned);
  gtk_notebook_append_page(self->pages, cbox, gtk_label_new("Confusion"));

  self->recon_area = area_for(draw_grid, self->recon);
  gtk_notebook_append_page(self->pages, self->recon_area, gtk_label_new("Reconstructions"));
  self->pred_area = area_for(draw_grid, self->preds);
  gtk_notebook_append_page(self->pages, self->pred_area, gtk_label_new("Predictions"));

  /* t-SNE */
  GtkWidget *tbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *tctl = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  button(tctl, "Recompute",
         "t-SNE of the current epoch's embeddings (warm-started from the "
         "last layout)",
         G_CALLBACK(on_recompute), self);
  gtk_box_append(GTK_BOX(tctl), tsne_menu(self));
  /* the picker last, so a long block name moves nothing */
  self->embed_button =
      button(tctl, "Embed", "Compute the chosen block's outputs on the test set, then their t-SNE",
             G_CALLBACK(on_embed_block), self);
  gtk_widget_set_margin_start(self->embed_button, 12);
  self->embed_blocks = gtk_string_list_new(NULL);
  self->embed_block = GTK_DROP_DOWN(gtk_drop_down_new(G_LIST_MODEL(self->embed_blocks), NULL));
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->embed_block),
                              "The block whose outputs are embedded: the one the run records "
                              "every epoch (record.embedding_block, by default the block before "
                              "the classifier or an autoencoder's bottleneck), or any other (a "
                              "forward pass over the test set with the run's saved weights)");
  gtk_box_append(GTK_BOX(tctl), GTK_WIDGET(self->embed_block));
  gtk_box_append(GTK_BOX(tbox), tctl);
  self->tsne_status = GTK_LABEL(gtk_label_new(""));
  gtk_label_set_xalign(self->tsne_status, 0);
  gtk_label_set_ellipsize(self->tsne_status, PANGO_ELLIPSIZE_END);
  gtk_box_append(GTK_BOX(tbox), GTK_WIDGET(self->tsne_status));
  self->tsne_area = area_for(draw_tsne, self);
  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(on_tsne_motion), self);
  gtk_widget_add_controller(self->tsne_area, motion);
  GtkEventController *scroll =
      gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect(scroll, "scroll", G_CALLBACK(on_tsne_scroll), self);
  gtk_widget_add_controller(self->tsne_area, scroll);
  GtkGesture *drag = gtk_gesture_drag_new();
  g_signal_connect(drag, "drag-begin", G_CALLBACK(on_tsne_drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(on_tsne_drag_update), self);
  gtk_widget_add_controller(self->tsne_area, GTK_EVENT_CONTROLLER(drag));
  GtkGesture *dbl = gtk_gesture_click_new();
  g_signal_connect(dbl, "pressed", G_CALLBACK(on_tsne_double), self);
  gtk_widget_add_controller(self->tsne_area, GTK_EVENT_CONTROLLER(dbl));
  gtk_box_append(GTK_BOX(tbox), self->tsne_area);
  gtk_notebook_append_page(self->pages, tbox, gtk_label_new("t-SNE"));
  g_signal_connect(self->pages, "switch-page", G_CALLBACK(on_page), self);
  update_views(self);
}

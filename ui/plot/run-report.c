/* run-report.c: a run's figures and its PDF report, from the run folder. */
#include "run-report.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "analysis.h"
#include "json-doc.h"
#include "pca.h"
#include "spec.h"
#include "tsne.h"

enum { FIG_W = 800, FIG_H = 520 };

/* ---- curves ------------------------------------------------------------------------------ */

/* Each epoch line of metrics.jsonl as a JsonObject (array owns them). */
static GPtrArray *read_epochs(const char *dir)
{
  GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  g_autofree char *path = g_build_filename(dir, "metrics.jsonl", NULL);
  g_autofree char *text = NULL;
  if (!dir || !g_file_get_contents(path, &text, NULL, NULL))
    return a;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    if (!*lines[i])
      continue;
    g_autoptr(JsonParser) p = json_parser_new();
    if (!ll_json_parser_load(p, lines[i], -1, "metrics.jsonl", NULL))
      continue; /* a line cut by a crash */
    JsonNode *root = json_parser_get_root(p);
    if (root && JSON_NODE_HOLDS_OBJECT(root))
      g_ptr_array_add(a, json_object_ref(json_node_get_object(root)));
  }
  return a;
}

static void add_metric(LlCurvePlot *p, GPtrArray *epochs, const char *key, const char *name,
                       int color)
{
  double rgb[3];
  ll_plot_class_color(color, rgb);
  int s = -1;
  for (guint i = 0; i < epochs->len; i++) {
    JsonObject *o = epochs->pdata[i];
    if (!json_object_has_member(o, key) || !json_object_has_member(o, "epoch"))
      continue;
    if (s < 0)
      s = ll_curve_plot_add_series(p, name, rgb[0], rgb[1], rgb[2], TRUE, FALSE);
    ll_curve_plot_append(p, s, (double)json_object_get_int_member(o, "epoch"),
                         json_object_get_double_member(o, key));
  }
}

/* The validation metrics of each head (ll_metric_parse_head) that the
 * epochs hold, in their order of first appearance (g_free each). */
static GPtrArray *val_head_metrics(GPtrArray *epochs)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < epochs->len; i++) {
    g_autoptr(GList) members = json_object_get_members(epochs->pdata[i]);
    for (GList *l = members; l; l = l->next) {
      g_autofree char *split = NULL;
      if (ll_metric_parse_head(l->data, &split, NULL, NULL) && !strcmp(split, "val") &&
          !g_ptr_array_find_with_equal_func(keys, l->data, g_str_equal, NULL))
        g_ptr_array_add(keys, g_strdup(l->data));
    }
  }
  return keys;
}

void ll_run_curves(const LlRunInfo *run, LlCurvePlot **loss, LlCurvePlot **accuracy)
{
  g_autoptr(GPtrArray) ep = read_epochs(run->dir);
  *loss = ll_curve_plot_new("Loss", "epoch");
  *accuracy = ll_curve_plot_new("Accuracy", "epoch");
  add_metric(*loss, ep, "train_loss", "train", 0);
  add_metric(*loss, ep, "val_loss", "validation", 1);
  add_metric(*accuracy, ep, "train_accuracy", "train", 0);
  /* each head as a series of its own (as the window draws them): accuracies
   * beside the first head's training accuracy, MSEs beside the losses */
  g_autoptr(GPtrArray) heads = val_head_metrics(ep);
  gboolean head_acc = FALSE;
  for (guint i = 0; i < heads->len; i++) {
    const char *key = heads->pdata[i];
    g_autofree char *head = NULL, *kind = NULL;
    ll_metric_parse_head(key, NULL, &head, &kind);
    gboolean acc = !strcmp(kind, "accuracy");
    head_acc |= acc;
    g_autofree char *name = g_strdup_printf(acc ? "%s (val)" : "%s MSE (val)", head);
    add_metric(acc ? *accuracy : *loss, ep, key, name, 2 + (int)i);
  }
  if (!head_acc)
    add_metric(*accuracy, ep, "val_accuracy", "validation", 1);
  ll_curve_plot_set_stamp(*loss, run->id);
  ll_curve_plot_set_stamp(*accuracy, run->id);
}

static void metric_words(const char *key, double v, char **name, char **value);

LlCurvePlot *ll_runs_overlay(GPtrArray *runs, const char *metric)
{
  g_autofree char *title = NULL, *unused = NULL;
  metric_words(metric, 0, &title, &unused);
  LlCurvePlot *p = ll_curve_plot_new(title, "epoch");
  GString *ids = g_string_new(NULL);
  for (guint r = 0; r < runs->len; r++) {
    LlRunInfo *run = runs->pdata[r];
    g_autoptr(GPtrArray) ep = read_epochs(run->dir);
    double rgb[3];
    ll_plot_class_color((int)r, rgb);
    g_autofree char *name = g_strdup_printf("%s (%s)", run->name ? run->name : "run", run->id);
    int s = ll_curve_plot_add_series(p, name, rgb[0], rgb[1], rgb[2], TRUE, FALSE);
    for (guint i = 0; i < ep->len; i++) {
      JsonObject *o = ep->pdata[i];
      if (json_object_has_member(o, metric) && json_object_has_member(o, "epoch"))
        ll_curve_plot_append(p, s, (double)json_object_get_int_member(o, "epoch"),
                             json_object_get_double_member(o, metric));
    }
    g_string_append_printf(ids, "%s%s", r ? ", " : "", run->id);
  }
  ll_curve_plot_set_stamp(p, ids->str);
  g_string_free(ids, TRUE);
  return p;
}

/* ---- reconstructions, embeddings ------------------------------------------------------------ */

void ll_recon_grid_fill(LlImageGrid *g, const LlEvent *ev)
{
  ll_recon_grid_fill_wide(g, ev, FALSE);
}

void ll_recon_grid_fill_wide(LlImageGrid *g, const LlEvent *ev, gboolean wide)
{
  ll_image_grid_clear(g);
  ll_image_grid_set_heat_scale(g, 0, 0, NULL);
  const char *heads[] = {"input", "output", "|error|"};
  ll_image_grid_set_columns(g, wide ? MAX(ev ? ev->n_recon : 0, 1) : 3, wide ? NULL : heads);
  if (!ev || ev->n_recon <= 0)
    return;
  const LlShape *s = &ev->recon_shape;
  int c = s->rank >= 3 ? s->d[0] : 1, h = s->rank >= 2 ? s->d[s->rank - 2] : 1,
      w = s->d[s->rank - 1];
  size_t size = ll_shape_size(s);
  /* one grey range for input and output, so their brightness compares */
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < (size_t)ev->n_recon * size; i++) {
    lo = MIN(lo, MIN(ev->recon_input[i], ev->recon_output[i]));
    hi = MAX(hi, MAX(ev->recon_input[i], ev->recon_output[i]));
  }
  g_autofree float *err = g_new(float, size);
  /* every error map shares one range, shown as a scale */
  ll_image_grid_set_heat_scale(g, 0, MAX(hi - lo, 1e-6) * 0.5, "|input \u2212 output|");
  if (wide) {
    /* one row each of inputs, outputs and errors; a column per sample */
    for (int row = 0; row < 3; row++)
      for (int k = 0; k < ev->n_recon; k++) {
        const float *in = ev->recon_input + k * size, *out = ev->recon_output + k * size;
        double mse = 0;
        for (size_t i = 0; i < size; i++) {
          err[i] = fabsf(in[i] - out[i]);
          mse += (double)err[i] * err[i];
        }
        int at = ev->recon_index ? ev->recon_index[k] : -1;
        g_autofree char *cap = row == 2  ? g_strdup_printf("MSE %.4f", mse / size)
                               : at >= 0 ? g_strdup_printf("%s #%d", heads[row], at)
                                         : g_strdup_printf("%s %d", heads[row], k + 1);
        ll_image_grid_add(g,
                          row == 0   ? in
                          : row == 1 ? out
                                     : err,
                          c, h, w, row == 2 ? 0 : lo, row == 2 ? MAX(hi - lo, 1e-6) * 0.5 : hi,
                          row == 2 ? LL_IMAGE_HEAT : LL_IMAGE_GREY_OR_RGB, cap, NULL);
      }
    return;
  }
  for (int k = 0; k < ev->n_recon; k++) {
    const float *in = ev->recon_input + k * size, *out = ev->recon_output + k * size;
    double mse = 0;
    for (size_t i = 0; i < size; i++) {
      err[i] = fabsf(in[i] - out[i]);
      mse += (double)err[i] * err[i];
    }
    int at = ev->recon_index ? ev->recon_index[k] : -1;
    g_autofree char *cap =
        at >= 0 ? g_strdup_printf("sample #%d", at) : g_strdup_printf("sample %d", k + 1);
    g_autofree char *ecap = g_strdup_printf("MSE %.4f", mse / size);
    ll_image_grid_add(g, in, c, h, w, lo, hi, LL_IMAGE_GREY_OR_RGB, cap, NULL);
    ll_image_grid_add(g, out, c, h, w, lo, hi, LL_IMAGE_GREY_OR_RGB, NULL, NULL);
    ll_image_grid_add(g, err, c, h, w, 0, MAX(hi - lo, 1e-6) * 0.5, LL_IMAGE_HEAT, ecap, NULL);
  }
}

int ll_embedding_classes(const LlEvent *ev)
{
  if (ev->n_classes > 0)
    return ev->n_classes;
  int mx = -1;
  for (int i = 0; ev->embed_labels && i < ev->n_embed; i++)
    mx = MAX(mx, ev->embed_labels[i]);
  if (ev->class_names)
    mx = MAX(mx, (int)g_strv_length(ev->class_names) - 1);
  return mx + 1;
}

int ll_embedding_layout(const LlEvent *ev, int max_points, gboolean pca_only, float **xy,
                        GError **error)
{
  int n = MIN(ev->n_embed, max_points), d = ev->embed_dim;
  if (n < 5 || d < 1) {
    g_set_error(error, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT, "too few embeddings (%d)", n);
    return 0;
  }
  *xy = g_new0(float, (size_t)n * 2);
  if (pca_only || d <= 2) {
    if (d == 1) {
      for (int i = 0; i < n; i++)
        (*xy)[2 * i] = ev->embeddings[i];
      return n;
    }
    if (d == 2) {
      memcpy(*xy, ev->embeddings, sizeof(float) * 2 * n);
      return n;
    }
    if (!ll_pca(ev->embeddings, n, d, 2, *xy, NULL, error)) {
      g_clear_pointer(xy, g_free);
      return 0;
    }
    return n;
  }
  LlTsneConfig c;
  ll_tsne_config_init(&c);
  c.perplexity = MIN(30.0, (n - 2) / 3.0);
  c.pca_dims = MIN(50, d);
  g_autoptr(LlTsne) t = ll_tsne_new(ev->embeddings, n, d, &c, error);
  if (!t) {
    g_clear_pointer(xy, g_free);
    return 0;
  }
  while (ll_tsne_step(t, 50) > 0)
    ;
  memcpy(*xy, ll_tsne_embedding(t), sizeof(float) * 2 * n);
  return n;
}

/* ---- architecture ------------------------------------------------------------------------- */

void ll_architecture_draw(const char *spec_json, cairo_t *cr, double width, double height,
                          const char *run_id)
{
  cairo_save(cr);
  ll_plot_ink(cr, LL_INK_BG, 1);
  cairo_paint(cr);
  PangoLayout *l = ll_plot_layout(cr, 8);
  ll_plot_title(cr, l, 10, 8, "Architecture");
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) s = spec_json ? ll_spec_load_data(spec_json, -1, "spec", &error) : NULL;
  if (!s || !ll_graph_resolve(s->graph, &error)) {
    cairo_set_source_rgb(cr, 0.5, 0.1, 0.1);
    ll_plot_text(cr, l, 20, 40, error ? error->message : "no spec recorded", 0, 0);
    g_object_unref(l);
    cairo_restore(cr);
    return;
  }
  ll_graph_infer(s->graph, NULL); /* shapes where they infer; boxes drawn regardless */
  GPtrArray *order = s->graph->order;
  int n = (int)order->len;
  g_autoptr(GHashTable) depth = g_hash_table_new(NULL, NULL);
  int max_depth = 0;
  for (int i = 0; i < n; i++) {
    LlBlock *b = order->pdata[i];
    int dd = 0;
    for (int k = 0; k < b->n_inputs; k++)
      if (b->inputs[k])
        dd = MAX(dd, GPOINTER_TO_INT(g_hash_table_lookup(depth, b->inputs[k])) + 1);
    g_hash_table_insert(depth, b, GINT_TO_POINTER(dd));
    max_depth = MAX(max_depth, dd);
  }
  g_autofree int *per = g_new0(int, (gsize)max_depth + 1);
  g_autofree int *slot = g_new0(int, (gsize)MAX(n, 1));
  for (int i = 0; i < n; i++)
    slot[i] = per[GPOINTER_TO_INT(g_hash_table_lookup(depth, order->pdata[i]))]++;
  int widest = 1;
  for (int d = 0; d <= max_depth; d++)
    widest = MAX(widest, per[d]);
  /* top to bottom by depth; siblings side by side */
  double top = 36, row_h = MIN(56, (height - top - 20) / (max_depth + 1));
  double box_h = MIN(34, row_h - 10), box_w = MIN(200, (width - 40) / widest - 16);
  g_autofree double *bx = g_new(double, (gsize)MAX(n, 1)), *by = g_new(double, (gsize)MAX(n, 1));
  for (int i = 0; i < n; i++) {
    int d = GPOINTER_TO_INT(g_hash_table_lookup(depth, order->pdata[i]));
    double span = per[d] * (box_w + 16);
    bx[i] = width / 2 - span / 2 + slot[i] * (box_w + 16) + 8;
    by[i] = top + d * row_h;
  }
  cairo_set_line_width(cr, 1.2);
  ll_plot_ink(cr, LL_INK_MUTED, 1);
  for (int i = 0; i < n; i++) {
    LlBlock *b = order->pdata[i];
    for (int k = 0; k < b->n_inputs; k++)
      for (int j = 0; j < n; j++)
        if (order->pdata[j] == b->inputs[k]) {
          cairo_move_to(cr, bx[j] + box_w / 2, by[j] + box_h);
          cairo_line_to(cr, bx[i] + box_w / 2, by[i]);
          cairo_stroke(cr);
        }
  }
  PangoLayout *small = ll_plot_layout(cr, MIN(8, box_h / 4.2));
  for (int i = 0; i < n; i++) {
    LlBlock *b = order->pdata[i];
    double rgb[3];
    ll_plot_class_color((int)(g_str_hash(b->desc->category ? b->desc->category : "") % 10), rgb);
    cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.18);
    cairo_rectangle(cr, bx[i], by[i], box_w, box_h);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, rgb[0] * 0.7, rgb[1] * 0.7, rgb[2] * 0.7);
    cairo_stroke(cr);
    char shape[64] = "";
    for (int k = 0; k < b->out_shape.rank; k++)
      g_snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%d", k ? "×" : "",
                 b->out_shape.d[k]);
    g_autofree char *label = g_strdup_printf("%s: %s\n%s", b->name, b->desc->type, shape);
    pango_layout_set_width(small, (int)((box_w - 6) * PANGO_SCALE));
    pango_layout_set_ellipsize(small, PANGO_ELLIPSIZE_END);
    pango_layout_set_alignment(small, PANGO_ALIGN_CENTER);
    pango_layout_set_text(small, label, -1);
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    int tw, th;
    pango_layout_get_pixel_size(small, &tw, &th);
    cairo_move_to(cr, bx[i] + 3, by[i] + box_h / 2 - th / 2.0);
    pango_cairo_show_layout(cr, small);
  }
  g_object_unref(small);
  g_object_unref(l);
  ll_plot_stamp(cr, width, height, run_id);
  cairo_restore(cr);
}

/* ---- export -----------------------------------------------------------------------------------
 */

typedef struct {
  const LlRunInfo *run;
} ArchData;

static void arch_cb(gpointer data, cairo_t *cr, double w, double h)
{
  const LlRunInfo *run = data;
  ll_architecture_draw(run->spec_json, cr, w, h, run->id);
}

static LlEvent *pick_final(GPtrArray *a)
{
  return a && a->len ? a->pdata[a->len - 1] : NULL; /* the test set's when there is one */
}

/* dir/stem.fmt, unless it exists and may not be replaced. */
static gboolean out_file(const char *dir, const char *stem, const char *fmt, gboolean overwrite,
                         GPtrArray *written, char **path, GError **error)
{
  *path = g_strdup_printf("%s/%s.%s", dir, stem, fmt);
  if (!overwrite && g_file_test(*path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST, "%s already exists (not replaced)", *path);
    return FALSE;
  }
  if (written)
    g_ptr_array_add(written, g_strdup(*path));
  return TRUE;
}

gboolean ll_run_export_figures(const LlRunInfo *run, const char *dir, const char *format,
                               GPtrArray *written, GError **error)
{
  return ll_run_export_figures_full(run, dir, format, TRUE, written, error);
}

gboolean ll_run_export_figures_full(const LlRunInfo *run, const char *dir, const char *format,
                                    gboolean overwrite, GPtrArray *written, GError **error)
{
  const char *fmt = format ? format : "png";
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: cannot create the folder", dir);
    return FALSE;
  }
  double dpi = 144;
  char *path = NULL;
  g_autoptr(LlCurvePlot) loss = NULL, acc = NULL;
  ll_run_curves(run, &loss, &acc);
  gboolean ok = out_file(dir, "loss", fmt, overwrite, written, &path, error) &&
                ll_curve_plot_export_full(loss, path, fmt, FIG_W, FIG_H, dpi, error);
  g_free(path);
  if (ok && ll_curve_plot_n_series(acc) > 0) {
    ok = out_file(dir, "accuracy", fmt, overwrite, written, &path, error) &&
         ll_curve_plot_export_full(acc, path, fmt, FIG_W, FIG_H, dpi, error);
    g_free(path);
  }
  if (ok) {
    ok = out_file(dir, "architecture", fmt, overwrite, written, &path, error) &&
         ll_plot_export(path, fmt, FIG_W, FIG_H, dpi, arch_cb, (gpointer)run, error);
    g_free(path);
  }
  g_autoptr(GPtrArray) an = ok ? ll_analysis_load(run->dir, error) : NULL;
  ok = ok && an;
  LlEvent *fin = pick_final(an);
  if (ok && fin && fin->confusion) {
    g_autoptr(LlConfusionPlot) cp = ll_confusion_plot_new();
    ll_confusion_plot_set_data(cp, fin->n_classes, fin->confusion, fin->class_names);
    if (fin->binary)
      ll_confusion_plot_set_binary(cp, fin->roc_auc);
    g_autofree char *t = g_strdup_printf("Confusion matrix, %s set", fin->split);
    ll_confusion_plot_set_title(cp, t);
    ll_confusion_plot_set_stamp(cp, run->id);
    ok = out_file(dir, "confusion", fmt, overwrite, written, &path, error) &&
         ll_confusion_plot_export(cp, path, fmt, FIG_W + 300, FIG_H + 60, dpi, error);
    g_free(path);
  }
  if (ok && fin && fin->n_recon > 0) {
    g_autoptr(LlImageGrid) g = ll_image_grid_new("Reconstructions");
    ll_recon_grid_fill(g, fin);
    ll_image_grid_set_stamp(g, run->id);
    ok = out_file(dir, "reconstructions", fmt, overwrite, written, &path, error) &&
         ll_image_grid_export(g, path, fmt, 420, 100 + 110 * fin->n_recon, dpi, error);
    g_free(path);
  }
  if (ok && fin && fin->n_embed >= 5) {
    g_autofree float *xy = NULL;
    GError *terr = NULL;
    int n = ll_embedding_layout(fin, 2000, FALSE, &xy, &terr);
    if (n > 0) {
      g_autoptr(LlScatterPlot) sp = ll_scatter_plot_new("t-SNE of the recorded embeddings");
      ll_scatter_plot_set_points(sp, xy, fin->embed_labels, n, ll_embedding_classes(fin),
                                 fin->class_names);
      ll_scatter_plot_set_axis_labels(sp, "t-SNE 1", "t-SNE 2");
      g_autofree char *sub =
          g_strdup_printf("%d points of the %s set, %d dimensions", n, fin->split, fin->embed_dim);
      ll_scatter_plot_set_subtitle(sp, sub);
      ll_scatter_plot_set_stamp(sp, run->id);
      ok = out_file(dir, "tsne", fmt, overwrite, written, &path, error) &&
           ll_scatter_plot_export(sp, path, fmt, FIG_W, FIG_H, dpi, error);
      g_free(path);
    } else {
      g_error_free(terr);
    }
  }
  return ok;
}

/* ---- report ------------------------------------------------------------------------------------
 */

enum { PAGE_W = 842, PAGE_H = 595 }; /* A4 landscape, points */

/* "SGD with momentum 0.9 and Nesterov, learning rate 0.05, weight decay 0.0005" */
static char *optimizer_words(const LlOptimConfig *o)
{
  static const char *const names[] = {
      [LL_OPT_SGD] = "SGD",         [LL_OPT_ADAM] = "Adam",       [LL_OPT_ADAMW] = "AdamW",
      [LL_OPT_RMSPROP] = "RMSprop", [LL_OPT_ADAGRAD] = "Adagrad",
  };
  GString *w = g_string_new(names[o->kind]);
  if ((o->kind == LL_OPT_SGD || o->kind == LL_OPT_RMSPROP) && o->momentum > 0)
    g_string_append_printf(w, " with momentum %g%s", o->momentum, o->nesterov ? " (Nesterov)" : "");
  g_string_append_printf(w, ", learning rate %g", o->lr);
  if (o->weight_decay > 0)
    g_string_append_printf(w, ", weight decay %g", o->weight_decay);
  if (o->clip_norm > 0)
    g_string_append_printf(w, ", gradients clipped to norm %g", o->clip_norm);
  return g_string_free(w, FALSE);
}

/* "one-cycle schedule up to 0.1 over 3 epochs (30 % of the steps rising)",
 * "constant learning rate" */
static char *schedule_words(const LlScheduleConfig *c, double lr, int epochs)
{
  GString *w = g_string_new(NULL);
  switch (c->kind) {
  case LL_SCHED_CONSTANT: g_string_append(w, "constant learning rate"); break;
  case LL_SCHED_STEP:
    g_string_append_printf(w, "learning rate \u00d7 %g every %d epochs", c->gamma, c->step_size);
    break;
  case LL_SCHED_MULTISTEP:
    g_string_append_printf(w, "learning rate \u00d7 %g at epochs", c->gamma);
    for (int i = 0; i < c->n_milestones; i++)
      g_string_append_printf(w, "%s %d", i ? "," : "", c->milestones[i]);
    break;
  case LL_SCHED_EXPONENTIAL:
    g_string_append_printf(w, "learning rate \u00d7 %g each epoch", c->gamma);
    break;
  case LL_SCHED_COSINE:
    g_string_append_printf(w, "cosine schedule down to %g over %d epoch%s", c->min_lr, epochs,
                           epochs == 1 ? "" : "s");
    break;
  case LL_SCHED_ONE_CYCLE:
    g_string_append_printf(w,
                           "one-cycle schedule up to %g over %d epoch%s (%.0f %% of the steps "
                           "rising)",
                           c->max_lr > 0 ? c->max_lr : lr, epochs, epochs == 1 ? "" : "s",
                           c->pct_start * 100);
    break;
  }
  if (c->warmup_steps > 0)
    g_string_append_printf(w, ", linear warm-up over %d steps", c->warmup_steps);
  return g_string_free(w, FALSE);
}

/* "1 h 02 min", "3 min 12 s", "41.5 s" */
static char *duration_words(double s)
{
  if (!(s > 0))
    return g_strdup("not recorded");
  if (s < 60)
    return g_strdup_printf("%.1f s", s);
  if (s < 3600)
    return g_strdup_printf("%d min %02d s", (int)s / 60, (int)s % 60);
  return g_strdup_printf("%d h %02d min", (int)s / 3600, (int)s % 3600 / 60);
}

/* "1,234,567" */
static char *thousands(gint64 v)
{
  g_autofree char *d = g_strdup_printf("%" G_GINT64_FORMAT, v < 0 ? -v : v);
  GString *w = g_string_new(v < 0 ? "-" : "");
  size_t n = strlen(d);
  for (size_t i = 0; i < n; i++) {
    if (i && (n - i) % 3 == 0)
      g_string_append_c(w, ',');
    g_string_append_c(w, d[i]);
  }
  return g_string_free(w, FALSE);
}

/* The dataset by name and its splits as the trainer makes them, or a note. */
static char *data_words(const LlSpec *s)
{
  static const char *const synth[] = {"blobs", "spirals", "change points", "sequence memory"};
  gboolean synthetic = s->dataset.kind == LL_DATASET_SYNTHETIC;
  const char *path = synthetic         ? synth[CLAMP(s->dataset.synth.kind, 0, 3)]
                     : s->dataset.path ? s->dataset.path
                                       : s->dataset.train_images;
  g_autofree char *base = path ? g_path_get_basename(path) : NULL;
  static const char *const kinds[] = {"IDX folder", "IDX files", "CIFAR binary", "image folder",
                                      "NPY files",  "CSV",       "synthetic"};
  const char *kind = kinds[CLAMP(s->dataset.kind, 0, (int)G_N_ELEMENTS(kinds) - 1)];
  g_autofree char *name = base ? g_strdup_printf("%s (%s)", base, kind) : g_strdup(kind);
  LlDataset *train = NULL, *test = NULL;
  if (!ll_dataset_spec_open(&s->dataset, s->seed, &train, &test, NULL))
    return g_strdup_printf("%s; its files are not available here", name);
  GArray *tr = NULL, *va = NULL;
  ll_split_indices(train->n, s->validation_split, s->seed, &tr, &va);
  guint n_train = tr->len, n_val = va->len, n_test = test ? test->n : 0;
  if (!test) { /* the trainer holds out 10 % of the rest as the test set */
    GArray *a = NULL, *b = NULL;
    ll_split_indices(tr->len, 0.1, s->seed + 7, &a, &b);
    n_train = a->len;
    n_test = b->len;
    g_array_unref(a);
    g_array_unref(b);
  }
  g_autofree char *t = thousands(n_train), *v = thousands(n_val), *e = thousands(n_test);
  char *out = g_strdup_printf("%s: %s training, %s validation, %s test samples%s", name, t, v, e,
                              test ? "" : " (held out of the training set)");
  g_array_unref(tr);
  g_array_unref(va);
  ll_dataset_free(train);
  ll_dataset_free(test);
  return out;
}

/* A metric for a reader: its name in words, and the value with its unit. */
static void metric_words(const char *key, double v, char **name, char **value)
{
  const char *split = g_str_has_prefix(key, "test_")    ? "Test"
                      : g_str_has_prefix(key, "val_")   ? "Validation"
                      : g_str_has_prefix(key, "train_") ? "Training"
                                                        : "";
  gboolean acc = g_str_has_suffix(key, "accuracy");
  g_autofree char *w = g_strdelimit(ll_metric_label(key), "_", ' ');
  *name = g_strdup_printf("%s%s%s", split, *split ? " " : "", w);
  *value = !isfinite(v) ? g_strdup("\u2013")
           : acc        ? g_strdup_printf("%.2f %%", v * 100)
                        : g_strdup_printf("%.4f", v);
}

/* One row of a run's metrics table, in words with units. */
typedef struct {
  char *key;        /* "test_accuracy" */
  char *name;       /* "Test accuracy" */
  char *final;      /* "88.84 %" */
  char *best;       /* "89.10 %", or a dash */
  char *best_epoch; /* "3", or a dash */
} MetricRow;

static void metric_row_free(MetricRow *r)
{
  g_free(r->key);
  g_free(r->name);
  g_free(r->final);
  g_free(r->best);
  g_free(r->best_epoch);
  g_free(r);
}

/* The metrics table of a run: each metric's final value (the run's final
 * metrics, else its last epoch) and its best epoch in metrics.jsonl (the
 * highest accuracy, the lowest loss). Every report's metrics come from here:
 * a metric added to the order below shows on every first page. */
static GPtrArray *metric_rows(const LlRunInfo *run)
{
  static const char *const order[] = {"test_accuracy", "test_loss",      "val_accuracy",
                                      "val_loss",      "train_accuracy", "train_loss"};
  GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)metric_row_free);
  g_autoptr(GPtrArray) ep = read_epochs(run->dir);
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < G_N_ELEMENTS(order); i++)
    g_ptr_array_add(keys, g_strdup(order[i]));
  g_autoptr(JsonParser) mp = json_parser_new();
  JsonObject *fin = NULL;
  if (run->metrics_json && ll_json_parser_load(mp, run->metrics_json, -1, "metrics", NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(mp)))
    fin = json_node_get_object(json_parser_get_root(mp));
  /* then each head's test metric and a binary head's report, and each
   * head's validation metric with its best epoch */
  g_autoptr(GList) fin_keys = fin ? json_object_get_members(fin) : NULL;
  for (GList *k = fin_keys; k; k = k->next)
    if (ll_metric_is_head_report(k->data, "test"))
      g_ptr_array_add(keys, g_strdup(k->data));
  g_autoptr(GPtrArray) val_heads = val_head_metrics(ep);
  for (guint i = 0; i < val_heads->len; i++)
    g_ptr_array_add(keys, g_strdup(val_heads->pdata[i]));
  for (guint i = 0; i < keys->len; i++) {
    const char *key = keys->pdata[i];
    gboolean acc = ll_metric_higher_is_better(key);
    double last = NAN, best = NAN;
    int best_epoch = 0;
    for (guint e = 0; e < ep->len; e++) {
      JsonObject *o = ep->pdata[e];
      if (!json_object_has_member(o, key))
        continue;
      double v = json_object_get_double_member(o, key);
      last = v;
      if (isnan(best) || (acc ? v > best : v < best)) {
        best = v;
        best_epoch = (int)json_object_get_int_member_with_default(o, "epoch", 0);
      }
    }
    if (fin && json_object_has_member(fin, key))
      last = json_object_get_double_member(fin, key);
    if (isnan(last))
      continue;
    MetricRow *r = g_new0(MetricRow, 1);
    g_autofree char *bname = NULL;
    r->key = g_strdup(key);
    metric_words(key, last, &r->name, &r->final);
    metric_words(key, best, &bname, &r->best);
    r->best_epoch = best_epoch ? g_strdup_printf("%d", best_epoch) : g_strdup("\u2013");
    g_ptr_array_add(rows, r);
  }
  return rows;
}

/* "8 blocks, 5,530 trainable parameters, 0.121 MFLOPs per sample. Loss:
 * cross-entropy of logits against label." */
static char *model_words(LlSpec *s, const LlRunInfo *run)
{
  gboolean ok = s->graph->inferred || ll_graph_infer(s->graph, NULL);
  g_autofree char *params =
      thousands(ok ? (gint64)ll_graph_param_count(s->graph) : run->params_count);
  double flops = ok ? (double)ll_graph_flops(s->graph) : 0;
  static const char *const loss_words[] = {"cross-entropy", "binary cross-entropy",
                                           "mean squared error", "mean absolute error"};
  GString *lw = g_string_new(NULL);
  for (guint i = 0; i < s->losses->len; i++) {
    const LlLossSpec *ls = g_ptr_array_index(s->losses, i);
    g_string_append_printf(lw, "%s%s of %s against %s", i ? "; " : "",
                           loss_words[CLAMP(ls->kind, 0, 3)], ls->output, ls->target);
  }
  g_autofree char *losses = g_string_free(lw, FALSE);
  /* in the unit that keeps 1 to 3 digits before the point */
  const char *unit = flops >= 1e9   ? "GFLOPs"
                     : flops >= 1e6 ? "MFLOPs"
                     : flops >= 1e3 ? "kFLOPs"
                                    : "FLOPs";
  double scale = flops >= 1e9 ? 1e9 : flops >= 1e6 ? 1e6 : flops >= 1e3 ? 1e3 : 1;
  g_autofree char *fl =
      flops > 0 ? g_strdup_printf(", %.3g %s per sample", flops / scale, unit) : g_strdup("");
  return g_strdup_printf("%u blocks, %s trainable parameters%s. Loss: %s.", s->graph->blocks->len,
                         params, fl, *losses ? losses : "chosen when training starts");
}

/* "Adam, learning rate 0.001; cosine schedule down to 0 over 10 epochs.
 * Batches of 128, 10 epochs, seed 1." */
static char *training_words(const LlSpec *s)
{
  g_autofree char *opt = optimizer_words(&s->optim);
  g_autofree char *sched = schedule_words(&s->schedule, s->optim.lr, s->epochs);
  return g_strdup_printf("%s; %s. Batches of %d, %d epoch%s, seed %" G_GUINT64_FORMAT "%s.", opt,
                         sched, s->batch_size, s->epochs, s->epochs == 1 ? "" : "s", s->seed,
                         s->early_stopping ? ", stopping early when the validation stalls" : "");
}

/* "finished after 3 min 12 s on cpu" */
static char *result_words(const LlRunInfo *run)
{
  g_autofree char *d = duration_words(run->duration_s);
  g_autofree char *dur = run->duration_s > 0 ? g_strdup_printf(" after %s", d) : NULL;
  g_autofree char *dev =
      run->device && *run->device ? g_strdup_printf(" on %s", run->device) : NULL;
  return g_strdup_printf("%s%s%s", ll_run_status_to_string(run->status), dur ? dur : "",
                         dev ? dev : "");
}

static char *started_words(const LlRunInfo *run)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(run->created_us / 1000000);
  return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M UTC") : g_strdup("");
}

static const char *run_title(const LlRunInfo *run, const LlSpec *s)
{
  return run->name && *run->name ? run->name : s && s->name ? s->name : run->id;
}

/* The words of a report's first page, as drawn: for one run, the title, the
 * line under it, the Data, Model and Training paragraphs and the metrics
 * table (a row "name | final | best | best epoch" each); for several, the
 * comparison table (a row "label | run 1 | run 2 ..." each). */
static GPtrArray *first_page_lines(GPtrArray *runs, GPtrArray **table)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
  *table = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  if (runs->len == 1) {
    LlRunInfo *run = runs->pdata[0];
    g_autoptr(LlSpec) s =
        run->spec_json ? ll_spec_load_data(run->spec_json, -1, "spec", NULL) : NULL;
    g_autofree char *when = started_words(run), *res = result_words(run);
    g_ptr_array_add(lines, g_strdup_printf("Run report: %s", run_title(run, s)));
    g_ptr_array_add(lines, g_strdup_printf("Run %s, started %s, %s", run->id, when, res));
    for (int k = 0; k < 3; k++)
      g_ptr_array_add(lines, !s       ? g_strdup("The run's spec is not recorded.")
                             : k == 0 ? data_words(s)
                             : k == 1 ? model_words(s, run)
                                      : training_words(s));
    g_autoptr(GPtrArray) rows = metric_rows(run);
    for (guint i = 0; i < rows->len; i++) {
      MetricRow *r = rows->pdata[i];
      char *cells[] = {g_strdup(r->name), g_strdup(r->final), g_strdup(r->best),
                       g_strdup(r->best_epoch), NULL};
      g_ptr_array_add(*table, g_memdup2(cells, sizeof cells));
    }
    return lines;
  }
  g_ptr_array_add(lines, g_strdup_printf("Comparison of %u runs", runs->len));
  guint n = runs->len;
  /* the facts of each run, then one row per metric any of them has */
  enum { R_RUN, R_ID, R_STARTED, R_RESULT, R_DATA, R_MODEL, R_TRAINING, R_FIXED };
  static const char *const labels[] = {"Run",  "Id",    "Started", "Result",
                                       "Data", "Model", "Training"};
  g_autoptr(GPtrArray) metrics = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
  g_autoptr(GPtrArray) keys = g_ptr_array_new(); /* borrowed from metrics */
  for (int r = 0; r < R_FIXED; r++) {
    char **row = g_new0(char *, n + 2);
    row[0] = g_strdup(labels[r]);
    g_ptr_array_add(*table, row);
  }
  for (guint k = 0; k < n; k++) {
    LlRunInfo *run = runs->pdata[k];
    g_autoptr(LlSpec) s =
        run->spec_json ? ll_spec_load_data(run->spec_json, -1, "spec", NULL) : NULL;
    char **cell[R_FIXED];
    for (int r = 0; r < R_FIXED; r++)
      cell[r] = &((char **)(*table)->pdata[r])[k + 1];
    *cell[R_RUN] = g_strdup(run_title(run, s));
    *cell[R_ID] = g_strdup(run->id);
    *cell[R_STARTED] = started_words(run);
    *cell[R_RESULT] = result_words(run);
    *cell[R_DATA] = s ? data_words(s) : g_strdup("not recorded");
    *cell[R_MODEL] = s ? model_words(s, run) : g_strdup("not recorded");
    *cell[R_TRAINING] = s ? training_words(s) : g_strdup("not recorded");
    GPtrArray *rows = metric_rows(run);
    g_ptr_array_add(metrics, rows);
    for (guint i = 0; i < rows->len; i++) {
      const char *key = ((MetricRow *)rows->pdata[i])->key;
      gboolean seen = FALSE;
      for (guint j = 0; j < keys->len && !seen; j++)
        seen = !strcmp(keys->pdata[j], key);
      if (!seen)
        g_ptr_array_add(keys, (gpointer)key);
    }
  }
  for (guint j = 0; j < keys->len; j++) {
    char **row = g_new0(char *, n + 2);
    for (guint k = 0; k < n; k++) {
      GPtrArray *rows = metrics->pdata[k];
      const MetricRow *m = NULL;
      for (guint i = 0; i < rows->len && !m; i++)
        if (!strcmp(((MetricRow *)rows->pdata[i])->key, keys->pdata[j]))
          m = rows->pdata[i];
      if (m && !row[0])
        row[0] = g_strdup(m->name);
      row[k + 1] =
          !m ? g_strdup("\u2013")
          : strcmp(m->best_epoch, "\u2013")
              ? g_strdup_printf("%s (best %s at epoch %s)", m->final, m->best, m->best_epoch)
              : g_strdup(m->final);
    }
    g_ptr_array_add(*table, row);
  }
  char **tags = g_new0(char *, n + 2), **notes = g_new0(char *, n + 2);
  tags[0] = g_strdup("Tags");
  notes[0] = g_strdup("Notes");
  for (guint k = 0; k < n; k++) {
    LlRunInfo *run = runs->pdata[k];
    tags[k + 1] = ll_run_tags_to_string((const char *const *)run->tags);
    /* long notes are cut, so that the table stays on its page */
    const char *nt = run->notes ? run->notes : "";
    g_autofree char *head = g_utf8_substring(nt, 0, 300);
    notes[k + 1] = g_utf8_strlen(nt, -1) > 300 ? g_strconcat(head, "\u2026", NULL) : g_strdup(nt);
  }
  /* rows that say something only */
  char **extra[] = {tags, notes};
  for (int e = 0; e < 2; e++) {
    gboolean any = FALSE;
    for (guint k = 0; k < n; k++)
      any |= *extra[e][k + 1] != 0;
    if (any)
      g_ptr_array_add(*table, extra[e]);
    else
      g_strfreev(extra[e]);
  }
  return lines;
}

char *ll_run_report_first_page_text(GPtrArray *runs)
{
  g_autoptr(GPtrArray) table = NULL;
  g_autoptr(GPtrArray) lines = first_page_lines(runs, &table);
  GString *t = g_string_new(NULL);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf(t, "%s\n", (char *)lines->pdata[i]);
  for (guint i = 0; i < table->len; i++) {
    g_autofree char *row = g_strjoinv(" | ", table->pdata[i]);
    g_string_append_printf(t, "%s\n", row);
  }
  return g_string_free(t, FALSE);
}

/* The first page of a one-run report: what ran on what, and how it did. */
static void run_summary_page(cairo_t *cr, GPtrArray *runs)
{
  ll_plot_ink(cr, LL_INK_BG, 1);
  cairo_paint(cr);
  g_autoptr(GPtrArray) table = NULL;
  g_autoptr(GPtrArray) lines = first_page_lines(runs, &table);
  PangoLayout *big = ll_plot_layout(cr, 15), *l = ll_plot_layout(cr, 9),
              *head = ll_plot_layout(cr, 10);
  ll_plot_title(cr, big, 40, 28, lines->pdata[0]);
  ll_plot_ink(cr, LL_INK_MUTED, 1);
  ll_plot_text(cr, l, 40, 56, lines->pdata[1], 0, 0);

  /* left: data, model, training, as sentences */
  PangoLayout *para = ll_plot_layout(cr, 9);
  pango_layout_set_wrap(para, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_width(para, (int)(330 * PANGO_SCALE));
  double y = 90;
  const char *heads[] = {"Data", "Model", "Training"};
  for (int k = 0; k < 3; k++) {
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    ll_plot_title(cr, head, 40, y, heads[k]);
    y += 18;
    pango_layout_set_text(para, lines->pdata[2 + k], -1);
    int tw, th;
    pango_layout_get_pixel_size(para, &tw, &th);
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    cairo_move_to(cr, 40, y);
    pango_cairo_show_layout(cr, para);
    y += th + 16;
  }

  /* right: the metrics, final and best with its epoch */
  double x0 = 420, cols[] = {0, 170, 250, 330};
  ll_plot_title(cr, head, x0, 90, "Results");
  const char *th_[] = {"metric", "final", "best", "best epoch"};
  ll_plot_ink(cr, LL_INK_MUTED, 1);
  for (int c = 0; c < 4; c++)
    ll_plot_text(cr, l, x0 + cols[c] + (c ? 60 : 0), 110, th_[c], c ? 1.0 : 0.0, 0.0);
  double ty = 128;
  for (guint i = 0; i < table->len; i++) {
    char **cells = table->pdata[i];
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    for (int c = 0; c < 4; c++)
      ll_plot_text(cr, l, x0 + cols[c] + (c ? 60 : 0), ty, cells[c], c ? 1.0 : 0.0, 0.0);
    ll_plot_ink(cr, LL_INK_GRID, 1);
    cairo_set_line_width(cr, 0.5);
    cairo_move_to(cr, x0, ty - 3);
    cairo_line_to(cr, x0 + cols[3] + 60, ty - 3);
    cairo_stroke(cr);
    ty += 18;
  }
  ll_plot_ink(cr, LL_INK_MUTED, 1);
  PangoLayout *note = ll_plot_layout(cr, 7.5);
  pango_layout_set_wrap(note, PANGO_WRAP_WORD);
  pango_layout_set_width(note, (int)((cols[3] + 60) * PANGO_SCALE));
  pango_layout_set_text(note,
                        "Accuracy in per cent of the samples; losses as the run's loss "
                        "functions compute them (mean per sample). With several heads, each "
                        "head's accuracy (classification) or mean squared error (regression) "
                        "under its name; a binary head's precision, recall and F1 are of class 1 "
                        "at threshold 0.5. Best: the epoch with the lowest loss or error, or the "
                        "highest accuracy, on that split.",
                        -1);
  cairo_move_to(cr, x0, ty + 6);
  pango_cairo_show_layout(cr, note);
  g_object_unref(note);
  g_object_unref(para);
  g_object_unref(head);
  g_object_unref(big);
  g_object_unref(l);
}

/* The first page of a comparison: a column per run, a row per fact and
 * per metric, in words with units. */
static void comparison_page(cairo_t *cr, GPtrArray *runs)
{
  ll_plot_ink(cr, LL_INK_BG, 1);
  cairo_paint(cr);
  g_autoptr(GPtrArray) table = NULL;
  g_autoptr(GPtrArray) lines = first_page_lines(runs, &table);
  PangoLayout *big = ll_plot_layout(cr, 15), *l = ll_plot_layout(cr, 8.5);
  ll_plot_ink(cr, LL_INK_TEXT, 1);
  ll_plot_title(cr, big, 40, 28, lines->pdata[0]);
  double x0 = 175, colw = (PAGE_W - 40 - x0) / MAX(runs->len, 1);
  pango_layout_set_wrap(l, PANGO_WRAP_WORD);
  pango_layout_set_width(l, (int)((x0 - 48) * PANGO_SCALE));
  /* small print when many runs share the page */
  PangoLayout *cell = ll_plot_layout(cr, runs->len > 4 ? 6.5 : 7.5);
  pango_layout_set_wrap(cell, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_width(cell, (int)((colw - 10) * PANGO_SCALE));
  double y = 64;
  for (guint r = 0; r < table->len; r++) {
    char **row = table->pdata[r];
    int lw, lh; /* a label may wrap too */
    ll_plot_text_size(l, row[0] ? row[0] : "", &lw, &lh);
    double hmax = MAX(12, lh);
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    for (guint k = 0; k < runs->len; k++) {
      pango_layout_set_text(cell, row[k + 1] ? row[k + 1] : "", -1);
      int tw, th;
      pango_layout_get_pixel_size(cell, &tw, &th);
      cairo_move_to(cr, x0 + k * colw, y);
      pango_cairo_show_layout(cr, cell);
      hmax = MAX(hmax, th);
    }
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    ll_plot_text(cr, l, 40, y, row[0] ? row[0] : "", 0, 0);
    y += hmax + 7;
    ll_plot_ink(cr, LL_INK_GRID, 1);
    cairo_set_line_width(cr, 0.5);
    cairo_move_to(cr, 40, y - 4);
    cairo_line_to(cr, PAGE_W - 40, y - 4);
    cairo_stroke(cr);
  }
  g_object_unref(cell);
  g_object_unref(big);
  g_object_unref(l);
}

static void page_stamp(cairo_t *cr, GPtrArray *runs)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < runs->len; i++)
    g_string_append_printf(s, "%s%s", i ? ", " : "", ((LlRunInfo *)runs->pdata[i])->id);
  ll_plot_stamp(cr, PAGE_W, PAGE_H, s->str);
  g_string_free(s, TRUE);
}

/* Where the report's pages go: a multi-page PDF, or a PNG per page. */
typedef struct {
  cairo_t *cr;
  const char *png_dir; /* NULL: PDF */
  double scale;
  int page;
  GPtrArray *written;
  GError **error;
  gboolean ok;
} Pager;

static void png_page_out(Pager *pg)
{
  g_autofree char *path = g_strdup_printf("%s/report-page%d.png", pg->png_dir, ++pg->page);
  cairo_status_t st = cairo_surface_write_to_png(cairo_get_target(pg->cr), path);
  if (st != CAIRO_STATUS_SUCCESS && pg->ok) {
    g_set_error(pg->error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", path,
                cairo_status_to_string(st));
    pg->ok = FALSE;
  }
  if (pg->written)
    g_ptr_array_add(pg->written, g_steal_pointer(&path));
}

static void next_page(Pager *pg)
{
  if (!pg->png_dir) {
    ll_plot_pdf_next_page(pg->cr);
    return;
  }
  png_page_out(pg);
  cairo_save(pg->cr);
  ll_plot_ink(pg->cr, LL_INK_BG, 1);
  cairo_paint(pg->cr);
  cairo_restore(pg->cr);
}

static gboolean report(GPtrArray *runs, const char *path, const char *png_dir, double dpi,
                       GPtrArray *written, GError **error)
{
  g_return_val_if_fail(runs && runs->len > 0, FALSE);
  /* every run's analysis first: a run folder that cannot be read fails the
   * report before the PDF is begun */
  g_autoptr(GPtrArray) analyses = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
  for (guint k = 0; k < runs->len; k++) {
    GPtrArray *an = ll_analysis_load(((LlRunInfo *)runs->pdata[k])->dir, error);
    if (!an)
      return FALSE;
    g_ptr_array_add(analyses, an);
  }
  Pager pg = {.png_dir = png_dir, .written = written, .error = error, .ok = TRUE};
  cairo_t *cr;
  if (png_dir) {
    double scale = dpi > 0 ? dpi / 72.0 : 1.0; /* pages are in points */
    cairo_surface_t *surf = cairo_image_surface_create(
        CAIRO_FORMAT_RGB24, (int)ceil(PAGE_W * scale), (int)ceil(PAGE_H * scale));
    cr = cairo_create(surf);
    cairo_surface_destroy(surf);
    cairo_scale(cr, scale, scale);
  } else {
    cr = ll_plot_pdf_begin(path, PAGE_W, PAGE_H);
  }
  pg.cr = cr;
  if (runs->len == 1)
    run_summary_page(cr, runs);
  else
    comparison_page(cr, runs);
  page_stamp(cr, runs);
  if (runs->len > 1) {
    g_autoptr(GPtrArray) metrics = g_ptr_array_new_with_free_func(g_free);
    const char *base[] = {"val_loss", "val_accuracy", "train_loss"};
    for (guint m = 0; m < G_N_ELEMENTS(base); m++)
      g_ptr_array_add(metrics, g_strdup(base[m]));
    /* and each head's validation metric that any of the runs has */
    for (guint k = 0; k < runs->len; k++) {
      g_autoptr(GPtrArray) ep = read_epochs(((LlRunInfo *)runs->pdata[k])->dir);
      g_autoptr(GPtrArray) heads = val_head_metrics(ep);
      for (guint i = 0; i < heads->len; i++)
        if (!g_ptr_array_find_with_equal_func(metrics, heads->pdata[i], g_str_equal, NULL))
          g_ptr_array_add(metrics, g_strdup(heads->pdata[i]));
    }
    for (guint m = 0; m < metrics->len; m++) {
      g_autoptr(LlCurvePlot) p = ll_runs_overlay(runs, metrics->pdata[m]);
      next_page(&pg);
      ll_curve_plot_draw(p, cr, PAGE_W, PAGE_H);
    }
  }
  for (guint k = 0; k < runs->len; k++) {
    LlRunInfo *run = runs->pdata[k];
    next_page(&pg);
    ll_architecture_draw(run->spec_json, cr, PAGE_W, PAGE_H, run->id);
    g_autoptr(LlCurvePlot) loss = NULL, acc = NULL;
    ll_run_curves(run, &loss, &acc);
    next_page(&pg);
    ll_curve_plot_draw(loss, cr, PAGE_W, PAGE_H / 2.0);
    cairo_save(cr);
    cairo_translate(cr, 0, PAGE_H / 2.0);
    ll_curve_plot_draw(acc, cr, PAGE_W, PAGE_H / 2.0);
    cairo_restore(cr);
    LlEvent *fin = pick_final(analyses->pdata[k]);
    if (fin && fin->confusion) {
      g_autoptr(LlConfusionPlot) cp = ll_confusion_plot_new();
      ll_confusion_plot_set_data(cp, fin->n_classes, fin->confusion, fin->class_names);
      if (fin->binary)
        ll_confusion_plot_set_binary(cp, fin->roc_auc);
      g_autofree char *t = g_strdup_printf("Confusion matrix, %s set", fin->split);
      ll_confusion_plot_set_title(cp, t);
      ll_confusion_plot_set_stamp(cp, run->id);
      next_page(&pg);
      ll_confusion_plot_draw(cp, cr, PAGE_W, PAGE_H);
    }
    if (fin && fin->n_recon > 0) {
      g_autoptr(LlImageGrid) g = ll_image_grid_new("Reconstructions");
      ll_recon_grid_fill(g, fin);
      ll_image_grid_set_stamp(g, run->id);
      next_page(&pg);
      ll_image_grid_draw(g, cr, PAGE_W, PAGE_H);
    }
    if (fin && fin->n_embed >= 5) {
      g_autofree float *xy = NULL;
      int n = ll_embedding_layout(fin, 2000, FALSE, &xy, NULL);
      if (n > 0) {
        g_autoptr(LlScatterPlot) sp = ll_scatter_plot_new("t-SNE of the recorded embeddings");
        ll_scatter_plot_set_points(sp, xy, fin->embed_labels, n, ll_embedding_classes(fin),
                                   fin->class_names);
        ll_scatter_plot_set_axis_labels(sp, "t-SNE 1", "t-SNE 2");
        ll_scatter_plot_set_stamp(sp, run->id);
        next_page(&pg);
        ll_scatter_plot_draw(sp, cr, PAGE_W, PAGE_H);
      }
    }
  }
  if (!png_dir)
    return ll_plot_pdf_end(cr, path, error);
  png_page_out(&pg);
  cairo_destroy(cr);
  return pg.ok;
}

gboolean ll_run_report_pdf(GPtrArray *runs, const char *path, GError **error)
{
  return report(runs, path, NULL, 0, NULL, error);
}

gboolean ll_run_report_png(GPtrArray *runs, const char *dir, double dpi, GPtrArray *written,
                           GError **error)
{
  return report(runs, NULL, dir, dpi, written, error);
}

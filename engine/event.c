/* event.c: trainer events: freeing, copying, metric names and JSON lines. */
#include "event.h"

#include <math.h>
#include <string.h>

#include "json-writer.h"

void ll_event_free(LlEvent *e)
{
  if (!e)
    return;
  g_free(e->run_id);
  if (e->metrics) {
    for (guint i = 0; i < e->metrics->len; i++)
      g_free(g_array_index(e->metrics, LlMetric, i).name);
    g_array_unref(e->metrics);
  }
  g_free(e->message);
  g_free(e->checkpoint);
  g_strfreev(e->class_names);
  g_free(e->confusion);
  g_free(e->precision);
  g_free(e->recall);
  g_free(e->f1);
  g_free(e->support);
  g_free(e->recon_input);
  g_free(e->recon_output);
  g_free(e->recon_index);
  g_free(e->embed_block);
  g_free(e->embeddings);
  g_free(e->embed_labels);
  g_free(e->embed_index);
  g_free(e->split);
  g_free(e->pred_index);
  g_free(e->pred_true);
  g_free(e->pred_class);
  g_free(e->pred_conf);
  g_free(e);
}

static gpointer dup_n(const void *p, size_t bytes) { return p ? g_memdup2(p, bytes) : NULL; }

LlEvent *ll_event_dup(const LlEvent *e)
{
  LlEvent *d = g_new(LlEvent, 1);
  *d = *e;
  d->run_id = g_strdup(e->run_id);
  d->message = g_strdup(e->message);
  d->checkpoint = g_strdup(e->checkpoint);
  d->metrics = g_array_new(FALSE, TRUE, sizeof(LlMetric));
  for (guint i = 0; e->metrics && i < e->metrics->len; i++) {
    LlMetric m = g_array_index(e->metrics, LlMetric, i);
    m.name = g_strdup(m.name);
    g_array_append_val(d->metrics, m);
  }
  size_t c = (size_t)MAX(e->n_classes, 0);
  d->class_names = g_strdupv(e->class_names);
  d->confusion = dup_n(e->confusion, c * c * sizeof(int64_t));
  d->precision = dup_n(e->precision, c * sizeof(double));
  d->recall = dup_n(e->recall, c * sizeof(double));
  d->f1 = dup_n(e->f1, c * sizeof(double));
  d->support = dup_n(e->support, c * sizeof(int64_t));
  d->roc_auc = e->roc_auc;
  size_t recon = (size_t)MAX(e->n_recon, 0) * ll_shape_size(&e->recon_shape) * sizeof(float);
  d->recon_input = dup_n(e->recon_input, recon);
  d->recon_output = dup_n(e->recon_output, recon);
  d->recon_index = dup_n(e->recon_index, (size_t)MAX(e->n_recon, 0) * sizeof(int));
  d->embed_block = g_strdup(e->embed_block);
  size_t emb = (size_t)MAX(e->n_embed, 0);
  d->embeddings = dup_n(e->embeddings, emb * (size_t)MAX(e->embed_dim, 0) * sizeof(float));
  d->embed_labels = dup_n(e->embed_labels, emb * sizeof(int));
  d->embed_index = dup_n(e->embed_index, emb * sizeof(int));
  d->split = g_strdup(e->split);
  size_t np = (size_t)MAX(e->n_pred, 0);
  d->pred_index = dup_n(e->pred_index, np * sizeof(int));
  d->pred_true = dup_n(e->pred_true, np * sizeof(int));
  d->pred_class = dup_n(e->pred_class, np * sizeof(int));
  d->pred_conf = dup_n(e->pred_conf, np * sizeof(float));
  return d;
}

LlEvent *ll_event_new(LlEventKind kind)
{
  LlEvent *e = g_new0(LlEvent, 1);
  e->kind = kind;
  e->roc_auc = NAN;
  e->metrics = g_array_new(FALSE, TRUE, sizeof(LlMetric));
  return e;
}

void ll_event_add_metric(LlEvent *e, const char *name, double value)
{
  LlMetric m = {g_strdup(name), value};
  g_array_append_val(e->metrics, m);
}

double ll_event_metric(const LlEvent *e, const char *name)
{
  for (guint i = 0; e->metrics && i < e->metrics->len; i++)
    if (!strcmp(g_array_index(e->metrics, LlMetric, i).name, name))
      return g_array_index(e->metrics, LlMetric, i).value;
  return NAN;
}

gboolean ll_metric_higher_is_better(const char *name)
{
  static const char *const up[] = {"accuracy", "auc", "f1", "precision", "recall"};
  for (size_t i = 0; i < G_N_ELEMENTS(up); i++)
    if (g_str_has_suffix(name, up[i]))
      return TRUE;
  return FALSE;
}

gboolean ll_metric_parse_head(const char *name, char **split, char **head, char **kind)
{
  static const char *const splits[] = {"train_", "val_", "test_"};
  static const char *const kinds[] = {"_accuracy", "_mse"};
  for (size_t i = 0; i < G_N_ELEMENTS(splits); i++) {
    if (!g_str_has_prefix(name, splits[i]))
      continue;
    const char *rest = name + strlen(splits[i]);
    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
      size_t lr = strlen(rest), lk = strlen(kinds[k]);
      if (lr <= lk || !g_str_has_suffix(rest, kinds[k]))
        continue;
      if (split)
        *split = g_strndup(splits[i], strlen(splits[i]) - 1);
      if (head)
        *head = g_strndup(rest, lr - lk);
      if (kind)
        *kind = g_strdup(kinds[k] + 1);
      return TRUE;
    }
  }
  return FALSE;
}

const char *const ll_binary_metric_names[4] = {"precision", "recall", "f1", "auc"};

gboolean ll_metric_is_head_report(const char *name, const char *split)
{
  size_t n = strlen(split);
  if (strncmp(name, split, n) || name[n] != '_')
    return FALSE;
  for (size_t i = 0; i < G_N_ELEMENTS(ll_binary_metric_names); i++)
    if (!strcmp(name + n + 1, ll_binary_metric_names[i]))
      return TRUE;
  g_autofree char *sp = NULL;
  return ll_metric_parse_head(name, &sp, NULL, NULL) && !strcmp(sp, split);
}

char *ll_metric_label(const char *name)
{
  g_autofree char *head = NULL, *kind = NULL;
  if (ll_metric_parse_head(name, NULL, &head, &kind))
    return g_strdup_printf("%s %s", head, !strcmp(kind, "mse") ? "MSE" : kind);
  const char *u = strchr(name, '_');
  const char *what = u ? u + 1 : name;
  if (!strcmp(what, "auc"))
    return g_strdup("ROC AUC");
  if (!strcmp(what, "f1"))
    return g_strdup("F1");
  return g_strdup(what);
}

char *ll_metric_format(const char *name, double value)
{
  if (!isfinite(value))
    return g_strdup("\u2014");
  if (g_str_has_suffix(name, "accuracy"))
    return g_strdup_printf("%.2f%%", 100 * value);
  return g_strdup_printf("%.4g", value);
}

char *ll_event_heads_text(const LlEvent *e, const char *split)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; e->metrics && i < e->metrics->len; i++) {
    const LlMetric *m = &g_array_index(e->metrics, LlMetric, i);
    if (!ll_metric_is_head_report(m->name, split))
      continue;
    g_autofree char *label = ll_metric_label(m->name), *v = ll_metric_format(m->name, m->value);
    g_string_append_printf(s, "%s%s %s", s->len ? " \u00b7 " : "", label, v);
  }
  return s->len ? g_string_free(s, FALSE) : (g_string_free(s, TRUE), NULL);
}

static const char *const event_names[] = {"started", "batch",    "epoch",  "eval",
                                          "log",     "finished", "failed", "stopped"};

char *ll_event_to_json(const LlEvent *e)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  w.inline_depth[0] = TRUE; /* everything on one line (JSONL) */
  ll_json_begin_object(&w);
  ll_json_key(&w, "event");
  ll_json_string(&w, event_names[e->kind]);
  if (e->run_id) {
    ll_json_key(&w, "run_id");
    ll_json_string(&w, e->run_id);
  }
  if (e->kind == LL_EVENT_BATCH || e->kind == LL_EVENT_EPOCH) {
    ll_json_key(&w, "epoch");
    ll_json_int(&w, e->epoch);
    ll_json_key(&w, "step");
    ll_json_int(&w, e->step);
  }
  if (e->kind == LL_EVENT_BATCH) {
    ll_json_key(&w, "loss");
    ll_json_float(&w, e->loss);
    ll_json_key(&w, "lr");
    ll_json_float(&w, e->lr);
  }
  for (guint i = 0; e->metrics && i < e->metrics->len; i++) {
    LlMetric *m = &g_array_index(e->metrics, LlMetric, i);
    ll_json_key(&w, m->name);
    ll_json_float(&w, m->value);
  }
  if (e->kind == LL_EVENT_EPOCH || e->kind == LL_EVENT_FINISHED) {
    ll_json_key(&w, "images_per_second");
    ll_json_double(&w, round(e->images_per_second * 10) / 10);
    ll_json_key(&w, "elapsed");
    ll_json_double(&w, round(e->elapsed * 1000) / 1000);
  }
  if (e->kind == LL_EVENT_EVAL && e->split) {
    ll_json_key(&w, "split");
    ll_json_string(&w, e->split);
    ll_json_key(&w, "epoch");
    ll_json_int(&w, e->epoch);
  }
  if (e->kind == LL_EVENT_EVAL && e->confusion && e->precision && e->recall && e->f1) {
    ll_json_key(&w, "confusion_matrix");
    ll_json_begin_array(&w, TRUE);
    for (int r = 0; r < e->n_classes; r++) {
      ll_json_begin_array(&w, TRUE);
      for (int c = 0; c < e->n_classes; c++)
        ll_json_int(&w, e->confusion[r * e->n_classes + c]);
      ll_json_end_array(&w);
    }
    ll_json_end_array(&w);
    const char *keys[] = {"precision", "recall", "f1"};
    double *vals[] = {e->precision, e->recall, e->f1};
    for (int k = 0; k < 3; k++) {
      ll_json_key(&w, keys[k]);
      ll_json_begin_array(&w, TRUE);
      for (int c = 0; c < e->n_classes; c++)
        ll_json_double(&w, round(vals[k][c] * 10000) / 10000);
      ll_json_end_array(&w);
    }
    if (e->binary && isfinite(e->roc_auc)) {
      ll_json_key(&w, "roc_auc");
      ll_json_double(&w, round(e->roc_auc * 10000) / 10000);
    }
  }
  if (e->message) {
    ll_json_key(&w, e->kind == LL_EVENT_FAILED ? "error" : "message");
    ll_json_string(&w, e->message);
  }
  if (e->checkpoint) {
    ll_json_key(&w, "checkpoint");
    ll_json_string(&w, e->checkpoint);
  }
  ll_json_end_object(&w);
  char *s = ll_json_writer_finish(&w);
  s[strlen(s) - 1] = '\0';
  return s;
}

/* trainer.c: the training thread: data, graph, optimizer, epochs, early
 * stopping, checkpoints, evaluation, and the events that report them. */
#include "trainer.h"

#include <math.h>
#include <string.h>

#include "analysis.h"
#include "checkpoint.h"
#include "device.h"
#include "json-writer.h"
#include "transfer.h"

static double now(void) { return g_get_monotonic_time() / 1e6; }

/* ---- events ------------------------------------------------------------------ */

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

static LlEvent *event_new(LlEventKind kind)
{
  LlEvent *e = g_new0(LlEvent, 1);
  e->kind = kind;
  e->roc_auc = NAN;
  e->metrics = g_array_new(FALSE, TRUE, sizeof(LlMetric));
  return e;
}

static void event_metric(LlEvent *e, const char *name, double v)
{
  LlMetric m = {g_strdup(name), v};
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

static const char *const binary_metrics[] = {"precision", "recall", "f1", "auc"};

gboolean ll_metric_is_head_report(const char *name, const char *split)
{
  size_t n = strlen(split);
  if (strncmp(name, split, n) || name[n] != '_')
    return FALSE;
  for (size_t i = 0; i < G_N_ELEMENTS(binary_metrics); i++)
    if (!strcmp(name + n + 1, binary_metrics[i]))
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

/* ---- the job -------------------------------------------------------------------------- */

struct LlTrainer {
  LlSpec *spec;
  LlTrainOptions opts;
  char *spec_path, *device, *resume, *store_root, *run_name;
  GThread *thread;
  GAsyncQueue *events;
  gint stop, pause, snapshot, running;
  GMutex lock;
  GCond cond;
};

typedef struct {
  const LlLossSpec *spec;
  LlBlock *head;
  float *target; /* device, batch x target size */
  LlShape tshape;
  size_t tsize; /* per sample */
  int classes;  /* cross-entropy: head width */
  char *metric; /* "accuracy" or "<head>_accuracy", NULL if none */
  gboolean binary; /* BCE on one logit per sample: a binary classifier */
  char **entries;  /* a BCE head of 2..LL_NAMED_ENTRIES outputs: each output's name */
} Loss;

/* A multi-label BCE head up to this wide reports each output's accuracy. */
#define LL_NAMED_ENTRIES 8

typedef struct {
  LlTrainer *t;
  LlSpec *s;
  const LlBackend *be;
  LlDataset *train, *test;
  GArray *train_idx, *val_idx, *test_idx;
  LlPipeline *pipe;
  LlLoader *train_loader;
  LlGraph *g;
  GPtrArray *inputs; /* the graph's Input blocks, looked up once */
  LlBlock *embed;    /* whose outputs the evaluations record, or NULL */
  LlOptimizer *opt;
  GArray *losses;  /* Loss */
  float *loss_dev; /* one float per loss */
  float *argmax_dev;
  float *host_out; /* batch x max head size */
  LlRunStore *store;
  char *run_id, *run_dir;
  gboolean last_recorded; /* the store's checkpoint field names last.safetensors */
  int start_epoch;
  int epochs_done; /* completed epochs, for the checkpoint a stop writes */
  int64_t step;
  double t0;
  int64_t images;
  double train_seconds;
} Job;

static void publish(Job *j, LlEvent *e)
{
  e->run_id = g_strdup(j->run_id);
  g_async_queue_push(j->t->events, e);
}

/* Writes an EVAL event into the run folder (analysis/, see analysis.h) and
 * publishes it. A failed write fails the run (the event is freed): a run
 * never reports what its folder does not hold. */
static gboolean publish_eval(Job *j, LlEvent *ev, GError **error)
{
  if (j->store && j->run_dir && !ll_analysis_save(j->run_dir, ev, error)) {
    g_prefix_error(error, "could not save the analysis of the %s set: ",
                   ev->split && !strcmp(ev->split, "test") ? "test" : "validation");
    ll_event_free(ev);
    return FALSE;
  }
  publish(j, ev);
  return TRUE;
}

static void log_line(Job *j, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void log_line(Job *j, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  LlEvent *e = event_new(LL_EVENT_LOG);
  e->message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  publish(j, e);
}

static gboolean check_bindings(Job *j, GError **error)
{
  g_autoptr(GPtrArray) ins = ll_graph_inputs(j->g);
  for (guint i = 0; i < ins->len; i++) {
    LlBlock *b = g_ptr_array_index(ins, i);
    const char *field = g_hash_table_lookup(j->s->bindings, b->name);
    LlShape fs;
    char a[64], c[64];
    if (!ll_pipeline_field_shape(j->pipe, field, &fs)) {
      g_autofree char *list = ll_pipeline_field_list(j->pipe);
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "inputs: block \"%s\" reads field \"%s\", which this data does not have "
                  "(fields: %s)",
                  b->name, field, list);
      return FALSE;
    }
    if (ll_shape_size(&fs) != ll_block_out_size(b)) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "block \"%s\" (Input): property \"shape\" is %s but the data field \"%s\" "
                  "has shape %s",
                  b->name, ll_shape_format(&b->out_shape, a, sizeof a), field,
                  ll_shape_format(&fs, c, sizeof c));
      return FALSE;
    }
  }
  if (j->s->losses->len == 0) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING,
                "the spec has no losses: add one under \"losses\" (which block's output is "
                "compared with which target)");
    return FALSE;
  }
  /* shapes, classes and value ranges of every loss: the check the window
   * runs on every edit, here against the data as it is */
  LlFieldInfo fields[16];
  int n_fields = ll_pipeline_get_fields(j->pipe, fields, G_N_ELEMENTS(fields));
  if (!ll_spec_check_losses(j->s, fields, n_fields, NULL, error))
    return FALSE;
  int n_ce = 0;
  for (guint i = 0; i < j->s->losses->len; i++) {
    const LlLossSpec *ls = g_ptr_array_index(j->s->losses, i);
    Loss l = {.spec = ls, .head = ll_graph_find(j->g, ls->output)};
    ll_pipeline_field_shape(j->pipe, ls->target, &l.tshape);
    l.tsize = ll_shape_size(&l.tshape);
    if (ls->kind == LL_LOSS_CROSS_ENTROPY) {
      l.classes = (int)ll_block_out_size(l.head);
      l.metric = g_strdup(n_ce++ == 0 ? "accuracy" : NULL);
    } else if (ls->kind == LL_LOSS_BCE_LOGITS) {
      l.metric = g_strdup(n_ce++ == 0 ? "accuracy" : NULL);
    } else if (l.tsize == 1 && ll_pipeline_field_classes(j->pipe, ls->target) > 0) {
      /* a regression head on an integer target (E15's digit + number): its
       * accuracy is how often the rounded prediction equals the target */
      l.metric = g_strdup_printf("%s_accuracy", l.head->name);
    }
    if (!l.metric && (ls->kind == LL_LOSS_CROSS_ENTROPY || ls->kind == LL_LOSS_BCE_LOGITS))
      l.metric = g_strdup_printf("%s_accuracy", l.head->name);
    if (ls->kind == LL_LOSS_BCE_LOGITS) {
      l.binary = l.tsize == 1;
      if (l.tsize >= 2 && l.tsize <= LL_NAMED_ENTRIES) {
        char **names = j->train->label_names;
        gboolean named =
            names && !strcmp(ls->target, "label") && g_strv_length(names) == (guint)l.tsize;
        l.entries = g_new0(char *, l.tsize + 1);
        for (size_t k = 0; k < l.tsize; k++)
          l.entries[k] = named ? g_strdup(names[k]) : g_strdup_printf("%zu", k);
      }
    }
    g_array_append_val(j->losses, l);
  }
  return TRUE;
}

/* Copies a batch into the graph's inputs and the loss targets (device). */
static void load_batch(Job *j, const LlBatch *batch)
{
  for (guint i = 0; i < j->inputs->len; i++) {
    LlBlock *b = g_ptr_array_index(j->inputs, i);
    const char *field = g_hash_table_lookup(j->s->bindings, b->name);
    ll_graph_feed(j->g, b, ll_batch_field(batch, field, NULL), batch->n);
  }
  for (guint i = 0; i < j->losses->len; i++) {
    Loss *l = &g_array_index(j->losses, Loss, i);
    float *src = ll_batch_field(batch, l->spec->target, NULL);
    j->be->upload(l->target, src, (size_t)batch->n * l->tsize);
  }
}

/* Runs the losses on the current forward pass; with grad, seeds the heads'
 * douts. Returns the weighted sum; per-loss values in out (may be NULL). */
static double run_losses(Job *j, int n, gboolean grad, double *out)
{
  for (guint i = 0; i < j->losses->len; i++) {
    Loss *l = &g_array_index(j->losses, Loss, i);
    float w = (float)l->spec->weight;
    float *d = grad ? l->head->dout : NULL;
    size_t elems = (size_t)n * l->tsize;
    switch (l->spec->kind) {
    case LL_LOSS_CROSS_ENTROPY:
      j->be->cross_entropy(l->head->out, l->target, n, l->classes, (float)l->spec->label_smoothing,
                           w, &j->loss_dev[i], d);
      break;
    case LL_LOSS_BCE_LOGITS:
      j->be->bce_logits(l->head->out, l->target, elems, w, &j->loss_dev[i], d);
      break;
    case LL_LOSS_MSE: j->be->mse(l->head->out, l->target, elems, w, &j->loss_dev[i], d); break;
    case LL_LOSS_L1: j->be->l1(l->head->out, l->target, elems, w, &j->loss_dev[i], d); break;
    }
  }
  float host[64];
  guint nl = MIN(j->losses->len, G_N_ELEMENTS(host));
  j->be->download(host, j->loss_dev, nl);
  double total = 0.0;
  for (guint i = 0; i < nl; i++) {
    total += host[i];
    if (out)
      out[i] = host[i];
  }
  return total;
}

/* Counts correct predictions of loss l in this batch; entry_ok (may be
 * NULL) adds each output's count of a multi-label BCE head. */
static int64_t count_correct(Job *j, Loss *l, const LlBatch *batch, int64_t *total,
                             int64_t *entry_ok)
{
  const float *target = ll_batch_field(batch, l->spec->target, NULL);
  int n = batch->n;
  int64_t ok = 0;
  if (l->spec->kind == LL_LOSS_CROSS_ENTROPY) {
    j->be->argmax_rows(l->head->out, n, l->classes, j->argmax_dev);
    j->be->download(j->host_out, j->argmax_dev, (size_t)n);
    for (int i = 0; i < n; i++)
      ok += j->host_out[i] == target[i];
    *total += n;
  } else if (l->spec->kind == LL_LOSS_BCE_LOGITS) {
    size_t elems = (size_t)n * l->tsize;
    j->be->download(j->host_out, l->head->out, elems);
    for (size_t i = 0; i < elems; i++) {
      gboolean hit = (j->host_out[i] > 0.0f) == (target[i] > 0.5f);
      ok += hit;
      if (entry_ok)
        entry_ok[i % l->tsize] += hit;
    }
    *total += (int64_t)elems;
  } else {
    /* regression on an integer target: the rounded prediction must hit it */
    j->be->download(j->host_out, l->head->out, (size_t)n);
    for (int i = 0; i < n; i++)
      ok += lrintf(j->host_out[i]) == lrintf(target[i]);
    *total += n;
  }
  return ok;
}

typedef struct {
  double loss;
  double *per_loss;
  double *accuracy; /* per loss, NAN when it has none */
  double *mse;      /* per loss: a regression head's mean squared error, else NAN */
  double **entry;   /* per loss: each output's accuracy (Loss.entries), or NULL */
  gboolean binary;  /* the analysis head is binary: */
  double precision, recall, f1, auc; /* of class 1 at threshold 0.5; auc NAN when undefined */
} EvalResult;

/* Evaluation runs forward only, so it can take bigger batches than training:
 * fewer, larger GEMMs and fewer per-batch costs. Up to 1024 samples while
 * the activations fit in LL_EVAL_BUDGET (a small model's are a few KiB a
 * sample); a model that cannot go past its training batch within that stays
 * there, so peak memory grows by at most the budget. Returns the eval batch
 * (the training batch when no eval arena was made). */
#define LL_EVAL_BUDGET (16u << 20)
static int choose_eval_batch(Job *j)
{
  int b = 1024, train = j->g->batch;
  guint n = MAX(j->val_idx ? j->val_idx->len : 0, j->test_idx ? j->test_idx->len : 0);
  n = MAX(n, j->test ? j->test->n : 0);
  while (b > train &&
         (b / 2 >= (int)n || ll_graph_activation_floats(j->g, b) * sizeof(float) > LL_EVAL_BUDGET))
    b /= 2;
  if (b <= train)
    return train;
  g_autoptr(GError) error = NULL;
  if (!ll_graph_compile_eval(j->g, b, &error)) {
    log_line(j, "evaluating in training batches: %s", error->message);
    return train;
  }
  return b;
}

/* Adds classification head l's predictions on this batch to ev's confusion
 * matrix and, while ev->n_pred wants more (the test split), to its
 * per-sample predictions with the predicted class's softmax probability.
 * host_out already holds the head's argmax when have_argmax (count_correct
 * just computed it). seen: samples of the evaluation before this batch. */
static void record_predictions(Job *j, LlEvent *ev, Loss *l, const LlBatch *batch,
                               const GArray *idx, int64_t seen, gboolean have_argmax)
{
  int n = batch->n, c = l->classes;
  if (!have_argmax) {
    j->be->argmax_rows(l->head->out, n, c, j->argmax_dev);
    j->be->download(j->host_out, j->argmax_dev, (size_t)n);
  }
  const float *t = ll_batch_field(batch, l->spec->target, NULL);
  int keep = (int)CLAMP(ev->n_pred - seen, 0, (int64_t)n);
  for (int i = 0; i < n; i++) {
    int tr = (int)t[i], pr = (int)j->host_out[i];
    if (tr >= 0 && tr < ev->n_classes && pr >= 0 && pr < ev->n_classes)
      ev->confusion[tr * ev->n_classes + pr]++;
    if (i < keep) {
      int at = (int)seen + i;
      ev->pred_index[at] = (int)g_array_index(idx, guint32, at);
      ev->pred_true[at] = tr;
      ev->pred_class[at] = pr;
    }
  }
  if (keep == 0)
    return;
  /* the logits to host (over the argmax): 1 / sum_k exp(z_k - z_best) */
  j->be->download(j->host_out, l->head->out, (size_t)keep * c);
  for (int i = 0; i < keep; i++) {
    const float *z = j->host_out + (size_t)i * c;
    int at = (int)seen + i, pr = ev->pred_class[at];
    if (pr < 0 || pr >= c) {
      ev->pred_conf[at] = 0.0f;
      continue;
    }
    float sum = 0.0f;
    for (int k = 0; k < c; k++)
      sum += expf(z[k] - z[pr]);
    ev->pred_conf[at] = sum > 0.0f ? 1.0f / sum : 0.0f; /* 0 for NaN logits */
  }
}

/* Appends a binary head's logits and targets on this batch. */
static void collect_binary(Job *j, Loss *l, const LlBatch *batch, GArray *score, GArray *label)
{
  const float *t = ll_batch_field(batch, l->spec->target, NULL);
  guint at = score->len;
  g_array_set_size(score, at + (guint)batch->n);
  j->be->download(&g_array_index(score, float, at), l->head->out, (size_t)batch->n);
  g_array_append_vals(label, t, (guint)batch->n);
}

/* A binary head's report over the split (class 1 positive, logit > 0 at
 * threshold 0.5) into r, and with ev its 2 x 2 matrix and, while ev->n_pred
 * wants them, the per-sample predictions in the order of idx. */
static void binary_report(const GArray *score, const GArray *label, const GArray *idx,
                          EvalResult *r, LlEvent *ev)
{
  int64_t cm[4] = {0}; /* row = true class: tn, fp, fn, tp */
  const float *s = (const float *)score->data, *y = (const float *)label->data;
  for (guint i = 0; i < score->len; i++) {
    int tr = y[i] > 0.5f, pr = s[i] > 0.0f;
    cm[tr * 2 + pr]++;
    if (ev && (int)i < ev->n_pred) {
      double p = 1.0 / (1.0 + exp(-(double)s[i]));
      ev->pred_index[i] = (int)g_array_index(idx, guint32, i);
      ev->pred_true[i] = tr;
      ev->pred_class[i] = pr;
      ev->pred_conf[i] = isnan(p) ? 0.0f : (float)(pr ? p : 1.0 - p);
    }
  }
  int64_t tp = cm[3], fp = cm[1], fn = cm[2];
  r->binary = TRUE;
  r->precision = tp + fp ? (double)tp / (double)(tp + fp) : 0.0;
  r->recall = tp + fn ? (double)tp / (double)(tp + fn) : 0.0;
  r->f1 = r->precision + r->recall > 0 ? 2 * r->precision * r->recall / (r->precision + r->recall)
                                       : 0.0;
  r->auc = ll_roc_auc(s, y, score->len);
  if (ev && ev->confusion) {
    memcpy(ev->confusion, cm, sizeof cm);
    ev->roc_auc = r->auc;
  }
}

/* The summed squared error of a regression head on this batch. */
static double squared_error(Job *j, Loss *l, const LlBatch *batch)
{
  const float *t = ll_batch_field(batch, l->spec->target, NULL);
  size_t elems = (size_t)batch->n * l->tsize;
  j->be->download(j->host_out, l->head->out, elems);
  double sum = 0.0;
  for (size_t i = 0; i < elems; i++) {
    double d = (double)j->host_out[i] - (double)t[i];
    sum += d * d;
  }
  return sum;
}

/* Loss and accuracy over an index list, in eval mode. With ev, also the
 * analysis payload (confusion matrix, reconstructions, embeddings). */
static gboolean evaluate(Job *j, const GArray *idx, EvalResult *r, LlEvent *ev)
{
  guint nl = j->losses->len;
  r->per_loss = g_new0(double, nl);
  r->accuracy = g_new0(double, nl);
  r->mse = g_new0(double, nl);
  r->entry = g_new0(double *, nl);
  r->auc = NAN;
  r->loss = 0.0;
  g_autofree int64_t *ok = g_new0(int64_t, nl);
  g_autofree int64_t *tot = g_new0(int64_t, nl);
  g_autofree double *sq = g_new0(double, nl);
  g_autofree int64_t **entry_ok = g_new0(int64_t *, nl);
  for (guint i = 0; i < nl; i++)
    if (g_array_index(j->losses, Loss, i).entries)
      entry_ok[i] = g_new0(int64_t, g_array_index(j->losses, Loss, i).tsize);
  int64_t seen = 0;
  /* the head the analysis shows: the first cross-entropy head, else the
   * first binary one */
  Loss *first_ce = NULL;
  for (guint i = 0; i < nl; i++)
    if (g_array_index(j->losses, Loss, i).spec->kind == LL_LOSS_CROSS_ENTROPY) {
      first_ce = &g_array_index(j->losses, Loss, i);
      break;
    }
  for (guint i = 0; !first_ce && i < nl; i++)
    if (g_array_index(j->losses, Loss, i).binary)
      first_ce = &g_array_index(j->losses, Loss, i);
  g_autoptr(GArray) bscore = NULL, blabel = NULL;
  if (first_ce && first_ce->binary) {
    bscore = g_array_sized_new(FALSE, FALSE, sizeof(float), idx->len);
    blabel = g_array_sized_new(FALSE, FALSE, sizeof(float), idx->len);
  }
  Loss *recon = NULL;
  for (guint i = 0; i < nl; i++) {
    Loss *l = &g_array_index(j->losses, Loss, i);
    if (!strcmp(l->spec->target, "x") && l->spec->kind != LL_LOSS_CROSS_ENTROPY)
      recon = l;
  }
  LlBlock *emb = j->embed;
  if (ev) {
    if (first_ce) {
      ev->binary = first_ce->binary;
      ev->n_classes = first_ce->binary ? 2 : first_ce->classes;
      ev->confusion = g_new0(int64_t, (size_t)ev->n_classes * ev->n_classes);
      if (j->train->class_names && !strcmp(first_ce->spec->target, "label") &&
          (!ev->binary || g_strv_length(j->train->class_names) == 2))
        ev->class_names = g_strdupv(j->train->class_names);
      if (ev->split && !strcmp(ev->split, "test")) {
        /* per-sample predictions, so the views can show the test images behind a cell */
        ev->n_pred = (int)idx->len;
        ev->pred_index = g_new(int, ev->n_pred);
        ev->pred_true = g_new(int, ev->n_pred);
        ev->pred_class = g_new(int, ev->n_pred);
        ev->pred_conf = g_new(float, ev->n_pred);
      }
    }
    if (recon && j->s->reconstruction_samples > 0) {
      ev->n_recon = MIN(j->s->reconstruction_samples, (int)idx->len);
      ev->recon_shape = recon->tshape;
      ev->recon_input = g_new(float, (size_t)ev->n_recon * recon->tsize);
      ev->recon_output = g_new(float, (size_t)ev->n_recon * recon->tsize);
      ev->recon_index = g_new(int, ev->n_recon);
    }
    if (emb && j->s->embedding_samples > 0) {
      ev->n_embed = MIN(j->s->embedding_samples, (int)idx->len);
      ev->embed_dim = (int)ll_block_out_size(emb);
      ev->embeddings = g_new(float, (size_t)ev->n_embed * ev->embed_dim);
      ev->embed_labels = g_new0(int, ev->n_embed);
      ev->embed_index = g_new0(int, ev->n_embed);
      ev->embed_block = g_strdup(emb->name);
      /* the points are coloured by class even when no head classifies
       * (autoencoders); where one does, class_names name its matrix's
       * classes (a binary or mapped target's are not the dataset's) */
      if (!ev->class_names && !ev->confusion && j->train->class_names)
        ev->class_names = g_strdupv(j->train->class_names);
    }
  }
  /* inference in larger batches where ll_graph_compile_eval made room */
  int eval_batch = j->g->eval_arena ? j->g->eval_batch : j->g->batch;
  g_autoptr(LlLoader) loader =
      ll_loader_new(j->pipe, idx, eval_batch, FALSE, FALSE, FALSE, j->s->seed);
  /* on the CPU the forward pass keeps every core busy: a loader thread
   * converting the next batch meanwhile only preempts one of its threads
   * (MLP test evaluation: median 197k -> 225k img/s filled inline) */
  if (j->be->host_memory)
    ll_loader_set_inline(loader, TRUE, j->be->host_parallel_for);
  if (j->g->eval_arena)
    ll_graph_use_eval(j->g, TRUE);
  ll_loader_start_epoch(loader, 0);
  const LlBatch *batch;
  LlRunCtx ctx = {.be = j->be, .training = FALSE, .seed = j->s->seed};
  g_autofree double *pl = g_new0(double, nl);
  while ((batch = ll_loader_next(loader))) {
    ctx.batch = batch->n;
    load_batch(j, batch);
    ll_graph_forward(j->g, &ctx);
    run_losses(j, batch->n, FALSE, pl);
    for (guint i = 0; i < nl; i++) {
      r->per_loss[i] += pl[i] * batch->n;
      r->loss += pl[i] * batch->n;
      Loss *l = &g_array_index(j->losses, Loss, i);
      gboolean have_argmax = FALSE;
      if (l->metric) {
        ok[i] += count_correct(j, l, batch, &tot[i], entry_ok[i]);
        have_argmax = l->spec->kind == LL_LOSS_CROSS_ENTROPY;
      }
      if (l == first_ce && l->binary)
        collect_binary(j, l, batch, bscore, blabel);
      else if (ev && l == first_ce)
        record_predictions(j, ev, l, batch, idx, seen, have_argmax);
      if (l->spec->kind == LL_LOSS_MSE || l->spec->kind == LL_LOSS_L1)
        sq[i] += squared_error(j, l, batch);
    }
    if (ev && ev->n_recon && seen < ev->n_recon) {
      int take = (int)MIN((int64_t)batch->n, ev->n_recon - seen);
      const float *x = ll_batch_field(batch, recon->spec->target, NULL);
      memcpy(ev->recon_input + seen * recon->tsize, x, (size_t)take * recon->tsize * 4);
      j->be->download(ev->recon_output + seen * recon->tsize, recon->head->out,
                      (size_t)take * recon->tsize);
      for (int i = 0; i < take; i++)
        ev->recon_index[seen + i] = (int)g_array_index(idx, guint32, seen + i);
    }
    if (ev && ev->n_embed && seen < ev->n_embed) {
      int take = (int)MIN((int64_t)batch->n, ev->n_embed - seen);
      j->be->download(ev->embeddings + seen * ev->embed_dim, emb->out,
                      (size_t)take * ev->embed_dim);
      const float *lab = ll_batch_field(batch, "label", NULL);
      for (int i = 0; i < take; i++) {
        ev->embed_labels[seen + i] = lab ? (int)lab[i] : 0;
        ev->embed_index[seen + i] = (int)g_array_index(idx, guint32, seen + i);
      }
    }
    seen += batch->n;
  }
  /* back to the training arena, and off the loader's buffers, freed next */
  ll_graph_use_eval(j->g, FALSE);
  if (seen == 0) {
    for (guint i = 0; i < nl; i++)
      g_free(entry_ok[i]);
    return FALSE;
  }
  r->loss /= (double)seen;
  for (guint i = 0; i < nl; i++) {
    Loss *l = &g_array_index(j->losses, Loss, i);
    r->per_loss[i] /= (double)seen;
    r->accuracy[i] = tot[i] ? (double)ok[i] / (double)tot[i] : NAN;
    gboolean regression = l->spec->kind == LL_LOSS_MSE || l->spec->kind == LL_LOSS_L1;
    r->mse[i] = regression ? sq[i] / ((double)seen * (double)l->tsize) : NAN;
    if (entry_ok[i]) {
      r->entry[i] = g_new(double, l->tsize);
      for (size_t k = 0; k < l->tsize; k++)
        r->entry[i][k] = (double)entry_ok[i][k] / (double)seen;
      g_free(entry_ok[i]);
    }
  }
  if (bscore)
    binary_report(bscore, blabel, idx, r, ev);
  if (ev && ev->confusion) {
    int c = ev->n_classes;
    ev->precision = g_new0(double, c);
    ev->recall = g_new0(double, c);
    ev->f1 = g_new0(double, c);
    ev->support = g_new0(int64_t, c);
    for (int k = 0; k < c; k++) {
      int64_t tp = ev->confusion[k * c + k], col = 0, row = 0;
      for (int m = 0; m < c; m++) {
        col += ev->confusion[m * c + k];
        row += ev->confusion[k * c + m];
      }
      ev->support[k] = row;
      ev->precision[k] = col ? (double)tp / col : 0.0;
      ev->recall[k] = row ? (double)tp / row : 0.0;
      double pr = ev->precision[k] + ev->recall[k];
      ev->f1[k] = pr > 0 ? 2 * ev->precision[k] * ev->recall[k] / pr : 0.0;
    }
  }
  return TRUE;
}

static void eval_result_clear(EvalResult *r, guint n_losses)
{
  g_free(r->per_loss);
  g_free(r->accuracy);
  g_free(r->mse);
  for (guint i = 0; r->entry && i < n_losses; i++)
    g_free(r->entry[i]);
  g_free(r->entry);
}

static void add_eval_metrics(Job *j, LlEvent *e, const char *prefix, const EvalResult *r)
{
  char name[160];
  g_snprintf(name, sizeof name, "%s_loss", prefix);
  event_metric(e, name, r->loss);
  for (guint i = 0; i < j->losses->len; i++) {
    Loss *l = &g_array_index(j->losses, Loss, i);
    if (j->losses->len > 1) {
      g_snprintf(name, sizeof name, "%s_loss_%s", prefix, l->head->name);
      event_metric(e, name, r->per_loss[i]);
    }
    if (l->metric && !isnan(r->accuracy[i])) {
      g_snprintf(name, sizeof name, "%s_%s", prefix, l->metric);
      event_metric(e, name, r->accuracy[i]);
      /* with several heads, the first classifier's accuracy under its name too */
      if (j->losses->len > 1 && !strcmp(l->metric, "accuracy")) {
        g_snprintf(name, sizeof name, "%s_%s_accuracy", prefix, l->head->name);
        event_metric(e, name, r->accuracy[i]);
      }
    }
    if (j->losses->len > 1 && !isnan(r->mse[i])) {
      g_snprintf(name, sizeof name, "%s_%s_mse", prefix, l->head->name);
      event_metric(e, name, r->mse[i]);
    }
    for (size_t k = 0; r->entry[i] && k < l->tsize; k++) {
      g_snprintf(name, sizeof name, "%s_%s.%s_accuracy", prefix, l->head->name, l->entries[k]);
      event_metric(e, name, r->entry[i][k]);
    }
  }
  if (r->binary) {
    double v[] = {r->precision, r->recall, r->f1, r->auc};
    for (size_t k = 0; k < G_N_ELEMENTS(v); k++)
      if (isfinite(v[k])) {
        g_snprintf(name, sizeof name, "%s_%s", prefix, binary_metrics[k]);
        event_metric(e, name, v[k]);
      }
  }
}

/* ---- checkpoints --------------------------------------------------------------------- */

static gboolean save_checkpoint(Job *j, const char *file, int epoch, gboolean with_optimizer,
                                char **path_out, GError **error)
{
  g_autofree char *path = g_build_filename(j->run_dir, file, NULL);
  g_autoptr(GHashTable) meta = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert(meta, "format", g_strdup("layerlab-checkpoint"));
  g_hash_table_insert(meta, "spec_hash", ll_spec_hash(j->s));
  g_hash_table_insert(meta, "spec", ll_spec_to_json(j->s));
  g_hash_table_insert(meta, "epoch", g_strdup_printf("%d", epoch));
  g_hash_table_insert(meta, "step", g_strdup_printf("%" G_GINT64_FORMAT, j->step));
  g_hash_table_insert(meta, "seed", g_strdup_printf("%" G_GUINT64_FORMAT, j->s->seed));
  if (j->run_id)
    g_hash_table_insert(meta, "run_id", g_strdup(j->run_id));
  g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func((GDestroyNotify)ll_named_tensor_free);
  if (with_optimizer) {
    g_hash_table_insert(meta, "optimizer_step",
                        g_strdup_printf("%" G_GINT64_FORMAT, ll_optimizer_get_step(j->opt)));
    for (int i = 0; i < ll_optimizer_n_state(j->opt); i++) {
      LlNamedTensor *nt = g_new0(LlNamedTensor, 1);
      nt->name = g_strdup_printf("optimizer.%s", ll_optimizer_state_name(j->opt, i));
      nt->shape = ll_shape_make(1, (int[]){(int)j->g->n_params});
      nt->data = g_new(float, j->g->n_params);
      ll_optimizer_state_download(j->opt, i, nt->data);
      g_ptr_array_add(extra, nt);
    }
  }
  if (!ll_checkpoint_save(path, j->g, meta, extra, error))
    return FALSE;
  if (path_out)
    *path_out = g_steal_pointer(&path);
  return TRUE;
}

/* last.safetensors, where --resume continues; the store names it as the
 * run's checkpoint from the first one on, so that a run that crashes later
 * still points at its weights. */
static gboolean save_last(Job *j, int epoch, GError **error)
{
  g_autofree char *path = NULL;
  if (!save_checkpoint(j, "last.safetensors", epoch, TRUE, &path, error))
    return FALSE;
  if (j->store && j->run_id && !j->last_recorded) {
    if (!ll_run_store_set_checkpoint(j->store, j->run_id, path, error))
      return FALSE;
    j->last_recorded = TRUE;
  }
  return TRUE;
}

static gboolean apply_init_from(Job *j, GError **error)
{
  for (guint i = 0; i < j->s->init_from->len; i++) {
    const LlInitFrom *f = g_ptr_array_index(j->s->init_from, i);
    if (f->reinit) {
      log_line(j, "init_from[%u]: keeping the random initialisation (control run)", i);
      continue;
    }
    g_autofree char *path = ll_run_store_resolve_checkpoint(j->store, f->checkpoint, error);
    if (!path)
      return FALSE;
    g_autoptr(GHashTable) only = NULL;
    LlLoadOptions lo = ll_init_from_load_options(f, &only);
    LlLoadReport rep;
      if (!ll_checkpoint_load(path, j->g, &lo, &rep, error)) {
      ll_load_report_clear(&rep);
      return FALSE;
    }
    log_line(j, "init_from %s: loaded %u tensors, %u missing, %u unexpected, %u mismatched", path,
             rep.loaded ? rep.loaded->len : 0, rep.missing ? rep.missing->len : 0,
             rep.unexpected ? rep.unexpected->len : 0, rep.mismatched ? rep.mismatched->len : 0);
    guint loaded = rep.loaded ? rep.loaded->len : 0;
    ll_load_report_clear(&rep);
    if (loaded == 0) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "training.init_from[%u]: no tensor of %s matches the graph's blocks (use "
                  "\"map\" when names differ)",
                  i, path);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean apply_resume(Job *j, GError **error)
{
  g_autofree char *path = ll_run_store_resolve_last_checkpoint(j->store, j->t->resume, error);
  if (!path)
    return FALSE;
  LlLoadOptions lo = {.partial = FALSE};
  LlLoadReport rep;
  gboolean ok = ll_checkpoint_load(path, j->g, &lo, &rep, error);
  ll_load_report_clear(&rep);
  if (!ok)
    return FALSE;
  g_autoptr(GHashTable) meta = NULL;
  if (!ll_checkpoint_read_metadata(path, &meta, error))
    return FALSE;
  const char *ep = g_hash_table_lookup(meta, "epoch"), *st = g_hash_table_lookup(meta, "step"),
             *ost = g_hash_table_lookup(meta, "optimizer_step");
  j->start_epoch = ep ? atoi(ep) : 0;
  j->step = st ? g_ascii_strtoll(st, NULL, 10) : 0;
  if (!j->opt) {
    log_line(j, "evaluating %s (trained for %d epochs)", path, j->start_epoch);
    return TRUE;
  }
  for (int i = 0; i < ll_optimizer_n_state(j->opt); i++) {
    g_autofree char *name = g_strdup_printf("optimizer.%s", ll_optimizer_state_name(j->opt, i));
    LlShape shape;
    g_autofree float *data = NULL;
    GError *terr = NULL;
    if (!ll_checkpoint_read_tensor(path, name, &shape, &data, &terr)) {
      log_line(j, "resume: %s has no optimizer state \"%s\"; it starts fresh", path, name);
      g_error_free(terr);
      continue;
    }
    if (ll_shape_size(&shape) != j->g->n_params) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "%s: optimizer state \"%s\" does not fit this graph", path, name);
      return FALSE;
    }
    size_t bad = 0;
    for (size_t k = 0; k < j->g->n_params; k++)
      bad += !isfinite(data[k]);
    if (bad) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "%s: optimizer state \"%s\" holds %zu NaN or infinite values: it cannot be "
                  "resumed",
                  path, name, bad);
      return FALSE;
    }
    ll_optimizer_state_upload(j->opt, i, data);
  }
  if (ost)
    ll_optimizer_set_step(j->opt, g_ascii_strtoll(ost, NULL, 10));
  log_line(j, "resumed from %s after epoch %d (step %" G_GINT64_FORMAT ")", path, j->start_epoch,
           j->step);
  return TRUE;
}

/* The run's name in the store: the one asked for, the spec's, or (a spec
 * that names itself nothing) the spec file's name. */
static char *run_name(const LlTrainer *t, const LlSpec *s)
{
  if (t->run_name && *t->run_name)
    return g_strdup(t->run_name);
  gboolean unnamed = !s->name || !*s->name || !strcmp(s->name, LL_SPEC_DEFAULT_NAME);
  if (!unnamed || !t->spec_path)
    return g_strdup(s->name);
  g_autofree char *base = g_path_get_basename(t->spec_path);
  if (g_str_has_suffix(base, ".json"))
    base[strlen(base) - 5] = '\0';
  return g_steal_pointer(&base);
}

/* ---- setup ---------------------------------------------------------------------------- */

static gboolean job_setup(Job *j, GError **error)
{
  LlSpec *s = j->s;
  j->t0 = now();
  j->losses = g_array_new(FALSE, TRUE, sizeof(Loss));
  g_autofree char *device_note = NULL;
  if (!(j->be = ll_device_backend_full(s->device, &device_note, error)))
    return FALSE;
  if (device_note)
    log_line(j, "%s", device_note);
  if (j->be == ll_cpu_backend())
    ll_cpu_set_threads(s->threads > 0 ? s->threads : (int)g_get_num_processors());

  if (!j->t->opts.no_store) {
    if (!(j->store = ll_run_store_open(j->t->store_root, error)))
      return FALSE;
  }
  if (!ll_dataset_spec_open(&s->dataset, s->seed, &j->train, &j->test, error))
    return FALSE;
  ll_split_indices(j->train->n, s->validation_split, s->seed, &j->train_idx, &j->val_idx);
  if (!j->test) {
    /* no separate test set: hold out 10% of what is left for training */
    GArray *rest = j->train_idx, *tr = NULL, *te = NULL;
    ll_split_indices(rest->len, 0.1, s->seed + 7, &tr, &te);
    j->train_idx = g_array_sized_new(FALSE, FALSE, sizeof(guint32), tr->len);
    j->test_idx = g_array_sized_new(FALSE, FALSE, sizeof(guint32), te->len);
    for (guint i = 0; i < tr->len; i++)
      g_array_append_val(j->train_idx, g_array_index(rest, guint32, g_array_index(tr, guint32, i)));
    for (guint i = 0; i < te->len; i++)
      g_array_append_val(j->test_idx, g_array_index(rest, guint32, g_array_index(te, guint32, i)));
    g_array_unref(rest);
    g_array_unref(tr);
    g_array_unref(te);
  }
  if (j->train_idx->len == 0) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "the training split is empty: %s has %u samples and validation_split (%g) or "
                "the test split takes them all",
                j->train->name, j->train->n, s->validation_split);
    return FALSE;
  }
  if (j->train_idx->len < (guint)s->batch_size) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "training.batch_size: %d is larger than the %u training samples", s->batch_size,
                j->train_idx->len);
    return FALSE;
  }
  if (!(j->pipe = ll_pipeline_new(j->train, &s->pipeline, j->train_idx, error)))
    return FALSE;
  j->g = s->graph;
  j->inputs = ll_graph_inputs(j->g);
  if (!ll_graph_infer(j->g, error))
    return FALSE;
  if (s->losses->len == 0) {
    g_autofree char *chosen = ll_spec_add_default_loss(s, error);
    if (!chosen)
      return FALSE;
    log_line(j, "%s", chosen);
  }
  if (!check_bindings(j, error))
    return FALSE;
  /* fused passes (a ReLU inside its Dropout, a BatchNorm running the ReLU
   * after it) skip writing some outputs: not those the losses and the
   * analysis read */
  for (guint i = 0; i < j->losses->len; i++)
    g_array_index(j->losses, Loss, i).head->keep_output = TRUE;
  /* record.embedding_block, or the block before the classifier (or an
   * autoencoder's bottleneck), so the t-SNE view works out of the box */
  const char *recorded = ll_analysis_embedding_block(s);
  j->embed = recorded ? ll_graph_find(j->g, recorded) : NULL;
  if (j->embed)
    j->embed->keep_output = TRUE;
  j->g->fuse = TRUE;
  if (!ll_graph_compile(j->g, j->be, s->batch_size, error))
    return FALSE;
  LlRng rng;
  ll_rng_seed(&rng, s->seed);
  ll_graph_init_params(j->g, &rng);
  if (!ll_device_check(j->be, error))
    return FALSE;
  gboolean eval_only = j->t->opts.eval_only;
  if (!eval_only && !(j->opt = ll_optimizer_new(j->g, &s->optim, error)))
    return FALSE;
  int max_batch = MAX(s->batch_size, choose_eval_batch(j));
  size_t max_out = (size_t)max_batch;
  for (guint i = 0; i < j->losses->len; i++) {
    Loss *l = &g_array_index(j->losses, Loss, i);
    l->target = j->be->alloc((size_t)max_batch * l->tsize * sizeof(float));
    max_out = MAX(max_out, (size_t)max_batch * ll_block_out_size(l->head));
    if (!l->target) {
      g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_MEMORY, "out of device memory for targets");
      return FALSE;
    }
  }
  j->loss_dev = j->be->alloc(64 * sizeof(float));
  j->argmax_dev = j->be->alloc((size_t)max_batch * sizeof(float));
  j->host_out = g_new(float, max_out);

  /* the weights to start from are loaded (and checked) before the run is
   * recorded: a checkpoint that cannot be used adds no failed run */
  if (!eval_only && !apply_init_from(j, error))
    return FALSE;
  if (j->t->resume && !apply_resume(j, error))
    return FALSE;
  if (j->store && !eval_only) {
    LlRunInfo info = {0};
    g_autofree char *spec_json = ll_spec_to_json(s);
    g_autofree char *hash = ll_spec_hash(s);
    g_autofree char *fp = ll_dataset_fingerprint(j->train);
    g_autofree char *name = run_name(j->t, s);
    info.name = name;
    info.spec_hash = hash;
    info.spec_json = spec_json;
    info.seed = s->seed;
    info.dataset_fingerprint = fp;
    info.device = (char *)j->be->device_name;
    info.status = LL_RUN_RUNNING;
    info.params_count = (gint64)ll_graph_param_count(j->g);
    g_autofree char *hp =
        g_strdup_printf("{\"epochs\": %d, \"batch_size\": %d, \"optimizer\": \"%s\", \"lr\": %g, "
                        "\"weight_decay\": %g}",
                        s->epochs, s->batch_size, ll_optim_kind_name(s->optim.kind), s->optim.lr,
                        s->optim.weight_decay);
    info.hyperparams_json = hp;
    if (!ll_run_store_create_run(j->store, &info, &j->run_id, &j->run_dir, error))
      return FALSE;
  } else if (!eval_only) {
    j->run_dir = g_dir_make_tmp("layerlab-run-XXXXXX", error);
    if (!j->run_dir)
      return FALSE;
  }
  j->train_loader = ll_loader_new(j->pipe, j->train_idx, s->batch_size, TRUE, TRUE, TRUE, s->seed);
  LlEvent *e = event_new(LL_EVENT_STARTED);
  e->epochs = s->epochs;
  e->steps_per_epoch = ll_loader_batches_per_epoch(j->train_loader);
  g_autofree char *fields = ll_pipeline_field_list(j->pipe);
  e->message = g_strdup_printf("%s on %s: %u train, %u validation, %u test samples of %s; %zu "
                               "parameters",
                               s->name, j->be->device_name, j->train_idx->len, j->val_idx->len,
                               j->test ? j->test->n : j->test_idx->len, j->train->name,
                               ll_graph_param_count(j->g));
  e->checkpoint = g_strdup(j->run_dir);
  /* what a shortened run used (a study records it per trial) */
  event_metric(e, "train_samples", j->train_idx->len);
  event_metric(e, "val_samples", j->val_idx->len);
  publish(j, e);
  return TRUE;
}

static void job_clear(Job *j)
{
  if (j->train_loader)
    ll_loader_free(j->train_loader);
  if (j->opt)
    ll_optimizer_free(j->opt);
  if (j->losses) {
    for (guint i = 0; i < j->losses->len; i++) {
      Loss *l = &g_array_index(j->losses, Loss, i);
      if (l->target)
        j->be->free(l->target);
      g_free(l->metric);
      g_strfreev(l->entries);
    }
    g_array_unref(j->losses);
  }
  if (j->loss_dev)
    j->be->free(j->loss_dev);
  if (j->argmax_dev)
    j->be->free(j->argmax_dev);
  g_free(j->host_out);
  if (j->pipe)
    ll_pipeline_free(j->pipe);
  if (j->inputs)
    g_ptr_array_unref(j->inputs);
  if (j->train_idx)
    g_array_unref(j->train_idx);
  if (j->val_idx)
    g_array_unref(j->val_idx);
  if (j->test_idx)
    g_array_unref(j->test_idx);
  ll_dataset_free(j->train);
  ll_dataset_free(j->test);
  if (j->store)
    ll_run_store_close(j->store);
  g_free(j->run_id);
  g_free(j->run_dir);
}

/* ---- the loop ----------------------------------------------------------------------------- */

static gboolean wait_if_paused(LlTrainer *t)
{
  g_mutex_lock(&t->lock);
  while (g_atomic_int_get(&t->pause) && !g_atomic_int_get(&t->stop))
    g_cond_wait_until(&t->cond, &t->lock, g_get_monotonic_time() + 100 * G_TIME_SPAN_MILLISECOND);
  g_mutex_unlock(&t->lock);
  return !g_atomic_int_get(&t->stop);
}

static gboolean metric_better(const char *metric, double v, double best, double min_delta)
{
  if (isnan(best))
    return !isnan(v);
  if (ll_metric_higher_is_better(metric))
    return v > best + min_delta;
  return v < best - min_delta;
}

typedef enum { RUN_FINISHED, RUN_STOPPED, RUN_FAILED } RunEnd;

static RunEnd job_train(Job *j, GError **error)
{
  LlSpec *s = j->s;
  LlTrainer *t = j->t;
  int spe = ll_loader_batches_per_epoch(j->train_loader);
  int64_t total_steps = (int64_t)spe * s->epochs;
  double best = NAN;
  int bad_epochs = 0;
  size_t state_floats = j->g->n_params + j->g->n_buffers;
  g_autofree float *best_state = NULL;
  guint nl = j->losses->len;
  g_autofree double *pl = g_new0(double, nl);
  j->t0 = now();
  j->epochs_done = j->start_epoch;
  for (int epoch = j->start_epoch + 1; epoch <= s->epochs; epoch++) {
    ll_loader_start_epoch(j->train_loader, epoch);
    double ep_t0 = now(), ep_loss = 0.0, acc_loss = 0.0, last_pub = 0.0;
    int64_t ep_n = 0, acc_steps = 0, ok = 0, tot = 0;
    const LlBatch *batch;
    Loss *acc_loss_head = NULL;
    for (guint i = 0; i < nl; i++)
      if (g_array_index(j->losses, Loss, i).metric &&
          g_array_index(j->losses, Loss, i).spec->kind <= LL_LOSS_BCE_LOGITS) {
        acc_loss_head = &g_array_index(j->losses, Loss, i);
        break;
      }
    while ((batch = ll_loader_next(j->train_loader))) {
      if (!wait_if_paused(t))
        return RUN_STOPPED;
      j->step++;
      double lr = ll_schedule_lr(&s->schedule, s->optim.lr, j->step - 1, spe, total_steps);
      LlRunCtx ctx = {.be = j->be,
                      .batch = batch->n,
                      .training = TRUE,
                      .seed = s->seed,
                      .step = (uint64_t)j->step};
      load_batch(j, batch);
      ll_graph_forward(j->g, &ctx);
      ll_graph_zero_grads(j->g, &ctx);
      double loss = run_losses(j, batch->n, TRUE, NULL);
      /* run_losses downloaded: a failure of this step or the last one shows now */
      if (!ll_device_check(j->be, error))
        return RUN_FAILED;
      if (!isfinite(loss)) {
        g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                    "the loss became %s at epoch %d, step %" G_GINT64_FORMAT
                    ": training diverged. The learning rate (%g) is probably too high: lower it, "
                    "or enable gradient clipping (training.clip_norm)",
                    isnan(loss) ? "NaN" : "infinite", epoch, j->step, lr);
        return RUN_FAILED;
      }
      if (acc_loss_head)
        ok += count_correct(j, acc_loss_head, batch, &tot, NULL);
      ll_graph_backward(j->g, &ctx);
      /* ll_optimizer_step clips the gradients itself when clip_norm > 0 */
      ll_optimizer_step(j->opt, (float)lr);
      ep_loss += loss * batch->n;
      ep_n += batch->n;
      acc_loss += loss;
      acc_steps++;
      j->images += batch->n;
      double tnow = now();
      if (tnow - last_pub > 0.05 || ep_n >= (int64_t)spe * s->batch_size) {
        LlEvent *e = event_new(LL_EVENT_BATCH);
        e->epoch = epoch;
        e->epochs = s->epochs;
        e->step = j->step;
        e->steps_per_epoch = spe;
        e->loss = acc_loss / (double)acc_steps;
        e->lr = lr;
        e->elapsed = tnow - j->t0;
        double per_step = (tnow - ep_t0) / (double)(ep_n / batch->capacity + 1);
        e->images_per_second = ep_n / MAX(tnow - ep_t0, 1e-9);
        e->eta = per_step * (double)(total_steps - j->step);
        publish(j, e);
        acc_loss = 0.0;
        acc_steps = 0;
        last_pub = tnow;
      }
      if (g_atomic_int_compare_and_exchange(&t->snapshot, 1, 0)) {
        g_autofree char *p = NULL;
        GError *serr = NULL;
        if (save_checkpoint(j, "snapshot.safetensors", epoch - 1, TRUE, &p, &serr))
          log_line(j, "snapshot written to %s", p);
        else {
          log_line(j, "snapshot failed: %s", serr->message);
          g_error_free(serr);
        }
      }
    }
    double ep_time = now() - ep_t0;
    j->train_seconds += ep_time;
    j->epochs_done = epoch;
    LlEvent *e = event_new(LL_EVENT_EPOCH);
    e->epoch = epoch;
    e->epochs = s->epochs;
    e->step = j->step;
    e->steps_per_epoch = spe;
    event_metric(e, "train_loss", ep_loss / (double)MAX(ep_n, 1));
    if (tot)
      event_metric(e, "train_accuracy", (double)ok / (double)tot);
    EvalResult vr = {0};
    LlEvent *vev = NULL;
    if (j->val_idx->len) {
      vev = event_new(LL_EVENT_EVAL);
      vev->split = g_strdup("val");
      vev->epoch = epoch;
      vev->epochs = s->epochs;
      if (evaluate(j, j->val_idx, &vr, vev)) {
        add_eval_metrics(j, e, "val", &vr);
      } else {
        ll_event_free(vev);
        vev = NULL;
      }
    }
    eval_result_clear(&vr, nl);
    if (!ll_device_check(j->be, error)) {
      ll_event_free(e);
      return RUN_FAILED;
    }
    e->images_per_second = (double)ep_n / MAX(ep_time, 1e-9);
    e->elapsed = now() - j->t0;
    e->eta = (now() - j->t0) / (epoch - j->start_epoch) * (s->epochs - epoch);
    /* early stopping and best weights */
    double v = ll_event_metric(e, s->es_metric);
    gboolean improved =
        metric_better(s->es_metric, v, best, s->early_stopping ? s->es_min_delta : 0);
    if (improved) {
      best = v;
      bad_epochs = 0;
      if (!best_state)
        best_state = g_new(float, state_floats);
      j->be->download(best_state, j->g->params, state_floats);
    } else {
      bad_epochs++;
    }
    /* the epoch's files, then its events: a write that fails (a full disk)
     * fails the run, so that nothing is reported that was not saved */
    gboolean saved =
        (!improved || save_checkpoint(j, "best.safetensors", epoch, FALSE, NULL, error)) &&
        (!(s->checkpoint_every > 0 && (epoch % s->checkpoint_every == 0 || epoch == s->epochs)) ||
         save_last(j, epoch, error));
    if (saved && j->store) {
      g_autofree char *line = ll_event_to_json(e);
      saved = ll_run_store_append_metrics_line(j->run_dir, line, error);
    }
    if (!saved) {
      ll_event_free(e);
      ll_event_free(vev);
      return RUN_FAILED;
    }
    publish(j, e);
    if (vev && !publish_eval(j, g_steal_pointer(&vev), error))
      return RUN_FAILED;
    if (s->early_stopping && bad_epochs >= s->es_patience) {
      log_line(j, "early stopping after epoch %d: %s has not improved for %d epochs (best %.5g)",
               epoch, s->es_metric, bad_epochs, best);
      break;
    }
    if (g_atomic_int_get(&t->stop))
      return RUN_STOPPED;
  }
  if (best_state && s->early_stopping && s->es_restore_best) {
    j->be->upload(j->g->params, best_state, state_floats);
    log_line(j, "restored the weights of the best epoch (%s %.5g)", s->es_metric, best);
  }
  return RUN_FINISHED;
}

/* FALSE, logged, when the backend recorded a failure during `what`. */
static gboolean device_ok(Job *j, const char *what)
{
  GError *derr = NULL;
  if (ll_device_check(j->be, &derr))
    return TRUE;
  log_line(j, "%s failed: %s", what, derr->message);
  g_error_free(derr);
  return FALSE;
}

/* The end of a run that trained (or of an evaluation): the test set, the
 * final checkpoint, then the result in the store, in that order, so that
 * the store never records metrics of weights that were not saved. Publishes
 * the test EVAL and the FINISHED events; FALSE when any of it failed. */
static gboolean job_finish(Job *j, GError **error)
{
  LlTrainer *t = j->t;
  LlEvent *ev = event_new(LL_EVENT_EVAL);
  ev->split = g_strdup("test");
  ev->epoch = j->epochs_done;
  ev->epochs = j->s->epochs;
  ev->from_test_set = j->test != NULL;
  GArray *test_idx = j->test_idx;
  g_autoptr(GArray) all = NULL;
  LlPipeline *test_pipe = j->pipe;
  g_autoptr(LlPipeline) own_pipe = NULL;
  if (j->test) {
    /* the test set uses the training set's normalisation statistics */
    if (!(own_pipe = ll_pipeline_new_like(j->pipe, j->test, error))) {
      ll_event_free(ev);
      return FALSE;
    }
    test_pipe = own_pipe;
    all = g_array_sized_new(FALSE, FALSE, sizeof(guint32), j->test->n);
    for (guint32 i = 0; i < j->test->n; i++)
      g_array_append_val(all, i);
    test_idx = all;
  }
  EvalResult tr = {0};
  g_autoptr(LlEvent) fin = event_new(LL_EVENT_FINISHED);
  gboolean tested = FALSE;
  if (test_idx->len > 0) {
    LlPipeline *keep = j->pipe;
    j->pipe = test_pipe;
    double te0 = now();
    if (evaluate(j, test_idx, &tr, ev) && device_ok(j, "the test evaluation")) {
      tested = TRUE;
      add_eval_metrics(j, fin, "test", &tr);
      /* inference throughput over the test set (loading included), for benchmarks */
      event_metric(fin, "test_images_per_second",
                   round(test_idx->len / MAX(now() - te0, 1e-9) * 10) / 10);
    }
    j->pipe = keep;
  }
  eval_result_clear(&tr, j->losses->len);
  if (!tested) {
    ll_event_free(g_steal_pointer(&ev));
    if (t->opts.eval_only) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "nothing to evaluate: the test split of %s is empty", j->train->name);
      return FALSE;
    }
    if (test_idx->len == 0)
      log_line(j, "no test set: the test split of %s is empty (%u sample%s before the splits), "
                  "so the run has no test metrics",
               j->train->name, j->train->n, j->train->n == 1 ? "" : "s");
  }
  g_autofree char *ckpt = NULL;
  if (t->opts.eval_only)
    ckpt = g_strdup(t->resume);
  else if (!save_checkpoint(j, "final.safetensors", j->s->epochs, FALSE, &ckpt, error)) {
    ll_event_free(ev);
    return FALSE;
  }
  if (ev && !publish_eval(j, g_steal_pointer(&ev), error))
    return FALSE;
  fin->checkpoint = g_strdup(ckpt);
  fin->images_per_second = j->images / MAX(j->train_seconds, 1e-9);
  fin->elapsed = now() - j->t0;
  if (j->store && j->run_id) {
    g_autofree char *line = ll_event_to_json(fin);
    if (!ll_run_store_finish_run(j->store, j->run_id, line, ckpt, error))
      return FALSE;
  }
  publish(j, g_steal_pointer(&fin));
  return TRUE;
}

static gpointer trainer_thread(gpointer data)
{
  LlTrainer *t = data;
  Job j = {.t = t, .s = t->spec};
  if (t->opts.background) /* this thread and its loader and kernel workers */
    ll_thread_yield_to_ui();
  GError *error = NULL;
  RunEnd end = RUN_FAILED;
  if (job_setup(&j, &error))
    end = t->opts.eval_only ? RUN_FINISHED : job_train(&j, &error);
  if (end == RUN_FINISHED && !job_finish(&j, &error))
    end = RUN_FAILED;
  if (end == RUN_STOPPED) {
    LlEvent *e = event_new(LL_EVENT_STOPPED);
    GError *serr = NULL;
    char *p = NULL;
    if (j.g && j.opt && save_checkpoint(&j, "last.safetensors", j.epochs_done, TRUE, &p, &serr)) {
      e->checkpoint = p;
      e->message = g_strdup("stopped by the user");
    } else {
      e->message = g_strdup_printf("stopped by the user; the checkpoint could not be written: %s",
                                   serr ? serr->message : "no graph");
      g_clear_error(&serr);
    }
    if (j.store && j.run_id) {
      if (p)
        ll_run_store_set_checkpoint(j.store, j.run_id, p, NULL);
      ll_run_store_update_status(j.store, j.run_id, LL_RUN_STOPPED, p ? NULL : e->message, NULL);
    }
    publish(&j, e);
  } else if (end == RUN_FAILED) {
    LlEvent *e = event_new(LL_EVENT_FAILED);
    e->message = g_strdup(error ? error->message : "unknown error");
    e->spec_mismatch = error && g_error_matches(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISMATCH);
    if (j.store && j.run_id)
      ll_run_store_update_status(j.store, j.run_id, LL_RUN_FAILED, e->message, NULL);
    publish(&j, e);
  }
  g_clear_error(&error);
  j.g = NULL; /* owned by the spec */
  job_clear(&j);
  g_atomic_int_set(&t->running, 0);
  return NULL;
}

/* ---- public ------------------------------------------------------------------------------ */

LlTrainer *ll_trainer_new(const LlSpec *spec, const LlTrainOptions *opts)
{
  LlTrainer *t = g_new0(LlTrainer, 1);
  /* a private deep copy: saving and re-reading is the one exact copy we have */
  g_autofree char *json = ll_spec_to_json(spec);
  t->spec = ll_spec_load_data(json, -1, "spec", NULL);
  g_assert(t->spec);
  for (guint i = 0; i < spec->graph->blocks->len; i++) {
    LlBlock *src = g_ptr_array_index(spec->graph->blocks, i);
    ll_graph_find(t->spec->graph, src->name)->frozen = src->frozen;
  }
  if (opts)
    t->opts = *opts;
  t->spec_path = g_strdup(t->opts.spec_path);
  t->device = g_strdup(t->opts.device);
  t->resume = g_strdup(t->opts.resume);
  t->store_root = g_strdup(t->opts.store_root);
  t->run_name = g_strdup(t->opts.run_name);
  if (t->opts.epochs > 0)
    t->spec->epochs = t->opts.epochs;
  if (t->opts.batch_size > 0)
    t->spec->batch_size = t->opts.batch_size;
  if (t->opts.seed >= 0 && opts)
    t->spec->seed = (uint64_t)t->opts.seed;
  if (t->device) {
    g_free(t->spec->device);
    t->spec->device = g_strdup(t->device);
  }
  t->events = g_async_queue_new_full((GDestroyNotify)ll_event_free);
  g_mutex_init(&t->lock);
  g_cond_init(&t->cond);
  return t;
}

gboolean ll_trainer_start(LlTrainer *t, GError **error)
{
  g_return_val_if_fail(!t->thread, FALSE);
  g_atomic_int_set(&t->running, 1);
  t->thread = g_thread_try_new("ll-trainer", trainer_thread, t, error);
  if (!t->thread)
    g_atomic_int_set(&t->running, 0);
  return t->thread != NULL;
}

LlEvent *ll_trainer_pop(LlTrainer *t, guint64 timeout_us)
{
  if (timeout_us == 0)
    return g_async_queue_try_pop(t->events);
  return g_async_queue_timeout_pop(t->events, timeout_us);
}

void ll_trainer_pause(LlTrainer *t) { g_atomic_int_set(&t->pause, 1); }

void ll_trainer_resume(LlTrainer *t)
{
  g_atomic_int_set(&t->pause, 0);
  g_mutex_lock(&t->lock);
  g_cond_broadcast(&t->cond);
  g_mutex_unlock(&t->lock);
}

void ll_trainer_stop(LlTrainer *t)
{
  g_atomic_int_set(&t->stop, 1);
  ll_trainer_resume(t);
}

void ll_trainer_snapshot(LlTrainer *t) { g_atomic_int_set(&t->snapshot, 1); }

gboolean ll_trainer_is_running(LlTrainer *t) { return g_atomic_int_get(&t->running); }

void ll_trainer_join(LlTrainer *t)
{
  if (t->thread) {
    g_thread_join(t->thread);
    t->thread = NULL;
  }
}

void ll_trainer_free(LlTrainer *t)
{
  if (!t)
    return;
  ll_trainer_stop(t);
  ll_trainer_join(t);
  g_async_queue_unref(t->events);
  g_mutex_clear(&t->lock);
  g_cond_clear(&t->cond);
  ll_spec_free(t->spec);
  g_free(t->spec_path);
  g_free(t->device);
  g_free(t->resume);
  g_free(t->store_root);
  g_free(t->run_name);
  g_free(t);
}

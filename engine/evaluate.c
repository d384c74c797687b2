/* evaluate.c: the evaluation of a split (evaluate.h). */
#include "evaluate.h"

#include <math.h>
#include <string.h>

#include "analysis.h" /* ll_roc_auc */

#define LL_EVAL_BUDGET (16u << 20)
int ll_evaluate_batch_size(LlHeads *h, guint largest, GError **note)
{
  int b = 1024, train = h->g->batch;
  while (b > train && (b / 2 >= (int)largest ||
                       ll_graph_activation_floats(h->g, b) * sizeof(float) > LL_EVAL_BUDGET))
    b /= 2;
  if (b <= train)
    return train;
  if (!ll_graph_compile_eval(h->g, b, note))
    return train;
  return b;
}

/* Adds classification head l's predictions on this batch to ev's confusion
 * matrix and, while ev->n_pred wants more (the test split), to its
 * per-sample predictions with the predicted class's softmax probability.
 * host_out already holds the head's argmax when have_argmax (ll_heads_count_correct
 * just computed it). seen: samples of the evaluation before this batch. */
static void record_predictions(LlHeads *h, LlEvent *ev, LlLoss *l, const LlBatch *batch,
                               const GArray *idx, int64_t seen, gboolean have_argmax)
{
  int n = batch->n, c = l->classes;
  if (!have_argmax) {
    h->be->argmax_rows(l->head->out, n, c, h->argmax_dev);
    h->be->download(h->host_out, h->argmax_dev, (size_t)n);
  }
  const float *t = ll_batch_field(batch, l->spec->target, NULL);
  int keep = (int)CLAMP(ev->n_pred - seen, 0, (int64_t)n);
  for (int i = 0; i < n; i++) {
    int tr = (int)t[i], pr = (int)h->host_out[i];
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
  h->be->download(h->host_out, l->head->out, (size_t)keep * c);
  for (int i = 0; i < keep; i++) {
    const float *z = h->host_out + (size_t)i * c;
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
static void collect_binary(LlHeads *h, LlLoss *l, const LlBatch *batch, GArray *score,
                           GArray *label)
{
  const float *t = ll_batch_field(batch, l->spec->target, NULL);
  guint at = score->len;
  g_array_set_size(score, at + (guint)batch->n);
  h->be->download(&g_array_index(score, float, at), l->head->out, (size_t)batch->n);
  g_array_append_vals(label, t, (guint)batch->n);
}

/* A binary head's report over the split (class 1 positive, logit > 0 at
 * threshold 0.5) into r, and with ev its 2 x 2 matrix and, while ev->n_pred
 * wants them, the per-sample predictions in the order of idx. */
static void binary_report(const GArray *score, const GArray *label, const GArray *idx,
                          LlEvalResult *r, LlEvent *ev)
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
static double squared_error(LlHeads *h, LlLoss *l, const LlBatch *batch)
{
  const float *t = ll_batch_field(batch, l->spec->target, NULL);
  size_t elems = (size_t)batch->n * l->tsize;
  h->be->download(h->host_out, l->head->out, elems);
  double sum = 0.0;
  for (size_t i = 0; i < elems; i++) {
    double d = (double)h->host_out[i] - (double)t[i];
    sum += d * d;
  }
  return sum;
}

gboolean ll_evaluate(LlHeads *h, LlPipeline *pipe, const GArray *idx, LlEvalResult *r, LlEvent *ev)
{
  guint nl = h->losses->len;
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
    if (g_array_index(h->losses, LlLoss, i).entries)
      entry_ok[i] = g_new0(int64_t, g_array_index(h->losses, LlLoss, i).tsize);
  int64_t seen = 0;
  /* the head the analysis shows: the first cross-entropy head, else the
   * first binary one */
  LlLoss *first_ce = NULL;
  for (guint i = 0; i < nl; i++)
    if (g_array_index(h->losses, LlLoss, i).spec->kind == LL_LOSS_CROSS_ENTROPY) {
      first_ce = &g_array_index(h->losses, LlLoss, i);
      break;
    }
  for (guint i = 0; !first_ce && i < nl; i++)
    if (g_array_index(h->losses, LlLoss, i).binary)
      first_ce = &g_array_index(h->losses, LlLoss, i);
  g_autoptr(GArray) bscore = NULL, blabel = NULL;
  if (first_ce && first_ce->binary) {
    bscore = g_array_sized_new(FALSE, FALSE, sizeof(float), idx->len);
    blabel = g_array_sized_new(FALSE, FALSE, sizeof(float), idx->len);
  }
  LlLoss *recon = NULL;
  for (guint i = 0; i < nl; i++) {
    LlLoss *l = &g_array_index(h->losses, LlLoss, i);
    if (!strcmp(l->spec->target, "x") && l->spec->kind != LL_LOSS_CROSS_ENTROPY)
      recon = l;
  }
  LlBlock *emb = h->embed;
  if (ev) {
    if (first_ce) {
      ev->binary = first_ce->binary;
      ev->n_classes = first_ce->binary ? 2 : first_ce->classes;
      ev->confusion = g_new0(int64_t, (size_t)ev->n_classes * ev->n_classes);
      if (h->class_names && !strcmp(first_ce->spec->target, "label") &&
          (!ev->binary || g_strv_length(h->class_names) == 2))
        ev->class_names = g_strdupv(h->class_names);
      if (ev->split && !strcmp(ev->split, "test")) {
        /* per-sample predictions, so the views can show the test images behind a cell */
        ev->n_pred = (int)idx->len;
        ev->pred_index = g_new(int, ev->n_pred);
        ev->pred_true = g_new(int, ev->n_pred);
        ev->pred_class = g_new(int, ev->n_pred);
        ev->pred_conf = g_new(float, ev->n_pred);
      }
    }
    if (recon && h->s->reconstruction_samples > 0) {
      ev->n_recon = MIN(h->s->reconstruction_samples, (int)idx->len);
      ev->recon_shape = recon->tshape;
      ev->recon_input = g_new(float, (size_t)ev->n_recon * recon->tsize);
      ev->recon_output = g_new(float, (size_t)ev->n_recon * recon->tsize);
      ev->recon_index = g_new(int, ev->n_recon);
    }
    if (emb && h->s->embedding_samples > 0) {
      ev->n_embed = MIN(h->s->embedding_samples, (int)idx->len);
      ev->embed_dim = (int)ll_block_out_size(emb);
      ev->embeddings = g_new(float, (size_t)ev->n_embed * ev->embed_dim);
      ev->embed_labels = g_new0(int, ev->n_embed);
      ev->embed_index = g_new0(int, ev->n_embed);
      ev->embed_block = g_strdup(emb->name);
      /* the points are coloured by class even when no head classifies
       * (autoencoders); where one does, class_names name its matrix's
       * classes (a binary or mapped target's are not the dataset's) */
      if (!ev->class_names && !ev->confusion && h->class_names)
        ev->class_names = g_strdupv(h->class_names);
    }
  }
  /* inference in larger batches where ll_graph_compile_eval made room */
  int eval_batch = h->g->eval_arena ? h->g->eval_batch : h->g->batch;
  g_autoptr(LlLoader) loader =
      ll_loader_new(pipe, idx, eval_batch, FALSE, FALSE, FALSE, h->s->seed);
  /* on the CPU the forward pass keeps every core busy: a loader thread
   * converting the next batch meanwhile only preempts one of its threads
   * (MLP test evaluation: median 197k -> 225k img/s filled inline) */
  if (h->be->host_memory)
    ll_loader_set_inline(loader, TRUE, h->be->host_parallel_for);
  if (h->g->eval_arena)
    ll_graph_use_eval(h->g, TRUE);
  ll_loader_start_epoch(loader, 0);
  const LlBatch *batch;
  LlRunCtx ctx = {.be = h->be, .training = FALSE, .seed = h->s->seed};
  g_autofree double *pl = g_new0(double, nl);
  while ((batch = ll_loader_next(loader))) {
    ctx.batch = batch->n;
    ll_heads_load_batch(h, batch);
    ll_graph_forward(h->g, &ctx);
    ll_heads_run_losses(h, batch->n, FALSE, pl);
    for (guint i = 0; i < nl; i++) {
      r->per_loss[i] += pl[i] * batch->n;
      r->loss += pl[i] * batch->n;
      LlLoss *l = &g_array_index(h->losses, LlLoss, i);
      gboolean have_argmax = FALSE;
      if (l->metric) {
        ok[i] += ll_heads_count_correct(h, l, batch, &tot[i], entry_ok[i]);
        have_argmax = l->spec->kind == LL_LOSS_CROSS_ENTROPY;
      }
      if (l == first_ce && l->binary)
        collect_binary(h, l, batch, bscore, blabel);
      else if (ev && l == first_ce)
        record_predictions(h, ev, l, batch, idx, seen, have_argmax);
      if (l->spec->kind == LL_LOSS_MSE || l->spec->kind == LL_LOSS_L1)
        sq[i] += squared_error(h, l, batch);
    }
    if (ev && ev->n_recon && seen < ev->n_recon) {
      int take = (int)MIN((int64_t)batch->n, ev->n_recon - seen);
      const float *x = ll_batch_field(batch, recon->spec->target, NULL);
      memcpy(ev->recon_input + seen * recon->tsize, x, (size_t)take * recon->tsize * 4);
      h->be->download(ev->recon_output + seen * recon->tsize, recon->head->out,
                      (size_t)take * recon->tsize);
      for (int i = 0; i < take; i++)
        ev->recon_index[seen + i] = (int)g_array_index(idx, guint32, seen + i);
    }
    if (ev && ev->n_embed && seen < ev->n_embed) {
      int take = (int)MIN((int64_t)batch->n, ev->n_embed - seen);
      h->be->download(ev->embeddings + seen * ev->embed_dim, emb->out,
                      (size_t)take * ev->embed_dim);
      /* coloured by the classes the analysed head tells apart (its target,
       * e.g. even/odd: the matrix's classes and the legend's), where it holds
       * one class per sample; else by the dataset's label */
      LlShape ts;
      const float *lab = first_ce ? ll_batch_field(batch, first_ce->spec->target, &ts) : NULL;
      if (!lab || ll_shape_size(&ts) != 1)
        lab = ll_batch_field(batch, "label", NULL);
      for (int i = 0; i < take; i++) {
        ev->embed_labels[seen + i] = lab ? (int)lab[i] : 0;
        ev->embed_index[seen + i] = (int)g_array_index(idx, guint32, seen + i);
      }
    }
    seen += batch->n;
  }
  /* back to the training arena, and off the loader's buffers, freed next */
  ll_graph_use_eval(h->g, FALSE);
  if (seen == 0) {
    for (guint i = 0; i < nl; i++)
      g_free(entry_ok[i]);
    return FALSE;
  }
  r->loss /= (double)seen;
  for (guint i = 0; i < nl; i++) {
    LlLoss *l = &g_array_index(h->losses, LlLoss, i);
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

void ll_eval_result_clear(LlEvalResult *r, guint n_losses)
{
  g_free(r->per_loss);
  g_free(r->accuracy);
  g_free(r->mse);
  for (guint i = 0; r->entry && i < n_losses; i++)
    g_free(r->entry[i]);
  g_free(r->entry);
}

void ll_eval_add_metrics(const LlHeads *h, LlEvent *e, const char *prefix, const LlEvalResult *r)
{
  char name[160];
  g_snprintf(name, sizeof name, "%s_loss", prefix);
  ll_event_add_metric(e, name, r->loss);
  for (guint i = 0; i < h->losses->len; i++) {
    LlLoss *l = &g_array_index(h->losses, LlLoss, i);
    if (h->losses->len > 1) {
      g_snprintf(name, sizeof name, "%s_loss_%s", prefix, l->head->name);
      ll_event_add_metric(e, name, r->per_loss[i]);
    }
    if (l->metric && !isnan(r->accuracy[i])) {
      g_snprintf(name, sizeof name, "%s_%s", prefix, l->metric);
      ll_event_add_metric(e, name, r->accuracy[i]);
      /* with several heads, the first classifier's accuracy under its name too */
      if (h->losses->len > 1 && !strcmp(l->metric, "accuracy")) {
        g_snprintf(name, sizeof name, "%s_%s_accuracy", prefix, l->head->name);
        ll_event_add_metric(e, name, r->accuracy[i]);
      }
    }
    if (h->losses->len > 1 && !isnan(r->mse[i])) {
      g_snprintf(name, sizeof name, "%s_%s_mse", prefix, l->head->name);
      ll_event_add_metric(e, name, r->mse[i]);
    }
    for (size_t k = 0; r->entry[i] && k < l->tsize; k++) {
      g_snprintf(name, sizeof name, "%s_%s.%s_accuracy", prefix, l->head->name, l->entries[k]);
      ll_event_add_metric(e, name, r->entry[i][k]);
    }
  }
  if (r->binary) {
    double v[] = {r->precision, r->recall, r->f1, r->auc};
    for (size_t k = 0; k < G_N_ELEMENTS(v); k++)
      if (isfinite(v[k])) {
        g_snprintf(name, sizeof name, "%s_%s", prefix, ll_binary_metric_names[k]);
        ll_event_add_metric(e, name, v[k]);
      }
  }
}

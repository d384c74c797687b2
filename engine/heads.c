/* heads.c: feeding a batch, running the losses, counting hits (heads.h). */
#include "heads.h"

#include <math.h>

void ll_heads_load_batch(LlHeads *h, const LlBatch *batch)
{
  for (guint i = 0; i < h->inputs->len; i++) {
    LlBlock *b = g_ptr_array_index(h->inputs, i);
    const char *field = g_hash_table_lookup(h->s->bindings, b->name);
    ll_graph_feed(h->g, b, ll_batch_field(batch, field, NULL), batch->n);
  }
  for (guint i = 0; i < h->losses->len; i++) {
    LlLoss *l = &g_array_index(h->losses, LlLoss, i);
    float *src = ll_batch_field(batch, l->spec->target, NULL);
    h->be->upload(l->target, src, (size_t)batch->n * l->tsize);
  }
}

double ll_heads_run_losses(LlHeads *h, int n, gboolean grad, double *out)
{
  for (guint i = 0; i < h->losses->len; i++) {
    LlLoss *l = &g_array_index(h->losses, LlLoss, i);
    float w = (float)l->spec->weight;
    float *d = grad ? l->head->dout : NULL;
    size_t elems = (size_t)n * l->tsize;
    switch (l->spec->kind) {
    case LL_LOSS_CROSS_ENTROPY:
      h->be->cross_entropy(l->head->out, l->target, n, l->classes, (float)l->spec->label_smoothing,
                           w, &h->loss_dev[i], d);
      break;
    case LL_LOSS_BCE_LOGITS:
      h->be->bce_logits(l->head->out, l->target, elems, w, &h->loss_dev[i], d);
      break;
    case LL_LOSS_MSE: h->be->mse(l->head->out, l->target, elems, w, &h->loss_dev[i], d); break;
    case LL_LOSS_L1: h->be->l1(l->head->out, l->target, elems, w, &h->loss_dev[i], d); break;
    }
  }
  float host[64];
  guint nl = MIN(h->losses->len, G_N_ELEMENTS(host));
  h->be->download(host, h->loss_dev, nl);
  double total = 0.0;
  for (guint i = 0; i < nl; i++) {
    total += host[i];
    if (out)
      out[i] = host[i];
  }
  return total;
}

int64_t ll_heads_count_correct(LlHeads *h, LlLoss *l, const LlBatch *batch, int64_t *total,
                               int64_t *entry_ok)
{
  const float *target = ll_batch_field(batch, l->spec->target, NULL);
  int n = batch->n;
  int64_t ok = 0;
  if (l->spec->kind == LL_LOSS_CROSS_ENTROPY) {
    h->be->argmax_rows(l->head->out, n, l->classes, h->argmax_dev);
    h->be->download(h->host_out, h->argmax_dev, (size_t)n);
    for (int i = 0; i < n; i++)
      ok += h->host_out[i] == target[i];
    *total += n;
  } else if (l->spec->kind == LL_LOSS_BCE_LOGITS) {
    size_t elems = (size_t)n * l->tsize;
    h->be->download(h->host_out, l->head->out, elems);
    for (size_t i = 0; i < elems; i++) {
      gboolean hit = (h->host_out[i] > 0.0f) == (target[i] > 0.5f);
      ok += hit;
      if (entry_ok)
        entry_ok[i % l->tsize] += hit;
    }
    *total += (int64_t)elems;
  } else {
    /* regression on an integer target: the rounded prediction must hit it */
    h->be->download(h->host_out, l->head->out, (size_t)n);
    for (int i = 0; i < n; i++)
      ok += lrintf(h->host_out[i]) == lrintf(target[i]);
    *total += n;
  }
  return ok;
}

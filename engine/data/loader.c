/* loader.c: batches prepared on a loader thread.
 *
 * Two batch buffers (double buffering): while the caller trains on the batch
 * it holds, the thread fills the other. Each slot is FREE, FILLING (the
 * thread works on it unlocked), READY (holds batch `index` of the current
 * epoch) or HELD (the caller's). Batches are handed out strictly in order.
 * Starting an epoch bumps a generation counter, so a batch being filled for
 * the previous epoch is thrown away when it lands.
 *
 * Determinism does not depend on timing: the epoch's order is the index
 * list shuffled by an LlRng seeded with seed + epoch, and batch b of epoch e
 * is filled with an LlRng seeded from (seed, e, b) alone.
 *
 * An inline loader (ll_loader_set_inline) has no thread: ll_loader_next
 * fills the batch on the caller's thread, into the first slot. The same
 * batches, for a consumer that keeps every core busy itself. */
#include "data-private.h"

#include <string.h>

typedef enum { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_HELD } SlotState;

typedef struct {
  LlBatch *b;
  SlotState st;
  int index;
} Slot;

struct LlLoader {
  const LlPipeline *p;
  guint32 *base;  /* the index list given, (n) */
  guint32 *order; /* this epoch's order, (n) */
  guint n;
  int batch;
  gboolean shuffle, drop_last, train;
  gboolean inline_fill; /* no thread: ll_loader_next fills */
  LlParallelFor par;    /* with inline_fill, splits evaluation batches */
  uint64_t seed;
  int n_batches;

  GMutex m;
  GCond cond;
  GThread *thread;
  Slot slots[2];
  guint gen;
  int epoch;
  gboolean started, quit;
  int next_fill, next_return;
  guint32 *work; /* the thread's copy of its batch's indices, (batch) */
};

static uint64_t batch_seed(uint64_t seed, int epoch, int index)
{
  return ll_data_mix64(seed ^ ll_data_mix64(((uint64_t)(guint32)epoch << 32) | (guint32)index));
}

/* Samples in batch bi (the last may be short). */
static int batch_count(const LlLoader *l, int bi)
{
  return (int)MIN((guint)l->batch, l->n - (guint)bi * (guint)l->batch);
}

/* Fills batch bi of an epoch from its indices: a training batch with its
 * own rng, an evaluation batch from the sample indices alone (so a sample's
 * "random" value does not depend on its batch). */
static void fill(const LlLoader *l, const guint32 *indices, int epoch, int bi, LlBatch *b)
{
  if (!l->train) {
    ll_pipeline_fill_eval(l->p, indices, batch_count(l, bi), b, l->par);
    return;
  }
  LlRng r;
  ll_rng_seed(&r, batch_seed(l->seed, epoch, bi));
  ll_pipeline_fill(l->p, indices, batch_count(l, bi), TRUE, &r, b);
}

static gpointer loader_thread(gpointer data)
{
  LlLoader *l = data;
  g_mutex_lock(&l->m);
  while (!l->quit) {
    Slot *s = NULL;
    if (l->started && l->next_fill < l->n_batches)
      for (int i = 0; i < 2 && !s; i++)
        if (l->slots[i].st == SLOT_FREE)
          s = &l->slots[i];
    if (!s) {
      g_cond_wait(&l->cond, &l->m);
      continue;
    }
    int bi = l->next_fill++, epoch = l->epoch;
    guint gen = l->gen;
    /* the indices are copied: a new epoch may reshuffle the order meanwhile */
    memcpy(l->work, l->order + (size_t)bi * l->batch, sizeof(guint32) * batch_count(l, bi));
    s->st = SLOT_FILLING;
    g_mutex_unlock(&l->m);

    fill(l, l->work, epoch, bi, s->b);

    g_mutex_lock(&l->m);
    if (gen == l->gen) {
      s->st = SLOT_READY;
      s->index = bi;
    } else {
      s->st = SLOT_FREE;
    }
    g_cond_broadcast(&l->cond);
  }
  g_mutex_unlock(&l->m);
  return NULL;
}

LlLoader *ll_loader_new(const LlPipeline *p, const GArray *indices, int batch, gboolean shuffle,
                        gboolean drop_last, gboolean train, uint64_t seed)
{
  g_return_val_if_fail(p != NULL && batch > 0, NULL);
  const LlDataset *d = ll_pipeline_dataset(p);
  LlLoader *l = g_new0(LlLoader, 1);
  l->p = p;
  l->n = indices ? indices->len : d->n;
  l->base = g_new(guint32, MAX(l->n, 1));
  for (guint i = 0; i < l->n; i++) {
    l->base[i] = indices ? g_array_index(indices, guint32, i) : i;
    if (l->base[i] >= d->n) {
      g_critical("ll_loader_new: index %u is past the dataset's %u samples", l->base[i], d->n);
      g_free(l->base);
      g_free(l);
      return NULL;
    }
  }
  l->order = g_new(guint32, MAX(l->n, 1));
  l->batch = batch;
  l->shuffle = shuffle;
  l->drop_last = drop_last;
  l->train = train;
  l->seed = seed;
  l->n_batches = (int)(drop_last ? l->n / (guint)batch : (l->n + (guint)batch - 1) / (guint)batch);
  l->work = g_new(guint32, batch);
  for (int i = 0; i < 2; i++) {
    l->slots[i].b = ll_batch_new();
    l->slots[i].b->capacity = batch; /* the first fill allocates for a full batch */
  }
  g_mutex_init(&l->m);
  g_cond_init(&l->cond);
  return l;
}

void ll_loader_set_inline(LlLoader *l, gboolean on, LlParallelFor par)
{
  g_return_if_fail(l->thread == NULL);
  l->inline_fill = on;
  l->par = on ? par : NULL;
}

static void start_epoch_locked(LlLoader *l, int epoch)
{
  memcpy(l->order, l->base, sizeof(guint32) * l->n);
  if (l->shuffle) {
    LlRng r;
    ll_rng_seed(&r, l->seed + (uint64_t)(gint64)epoch);
    ll_rng_shuffle_u32(&r, l->order, l->n);
  }
  l->gen++;
  l->epoch = epoch;
  l->started = TRUE;
  if (!l->thread && !l->inline_fill)
    l->thread = g_thread_new("ll-loader", loader_thread, l);
  l->next_fill = 0;
  l->next_return = 0;
  for (int i = 0; i < 2; i++)
    if (l->slots[i].st != SLOT_FILLING)
      l->slots[i].st = SLOT_FREE;
  g_cond_broadcast(&l->cond);
}

void ll_loader_start_epoch(LlLoader *l, int epoch)
{
  g_mutex_lock(&l->m);
  start_epoch_locked(l, epoch);
  g_mutex_unlock(&l->m);
}

const LlBatch *ll_loader_next(LlLoader *l)
{
  g_mutex_lock(&l->m);
  if (!l->started)
    start_epoch_locked(l, 0);
  if (l->inline_fill) {
    g_mutex_unlock(&l->m);
    if (l->next_return >= l->n_batches)
      return NULL;
    int bi = l->next_return++;
    fill(l, l->order + (size_t)bi * l->batch, l->epoch, bi, l->slots[0].b);
    return l->slots[0].b;
  }
  for (int i = 0; i < 2; i++)
    if (l->slots[i].st == SLOT_HELD) {
      l->slots[i].st = SLOT_FREE;
      g_cond_broadcast(&l->cond);
    }
  Slot *s = NULL;
  if (l->next_return < l->n_batches) {
    for (;;) {
      for (int i = 0; i < 2 && !s; i++)
        if (l->slots[i].st == SLOT_READY && l->slots[i].index == l->next_return)
          s = &l->slots[i];
      if (s)
        break;
      g_cond_wait(&l->cond, &l->m);
    }
    s->st = SLOT_HELD;
    l->next_return++;
  }
  g_mutex_unlock(&l->m);
  return s ? s->b : NULL;
}

int ll_loader_batches_per_epoch(const LlLoader *l) { return l->n_batches; }

void ll_loader_free(LlLoader *l)
{
  if (!l)
    return;
  g_mutex_lock(&l->m);
  l->quit = TRUE;
  g_cond_broadcast(&l->cond);
  g_mutex_unlock(&l->m);
  if (l->thread)
    g_thread_join(l->thread);
  g_mutex_clear(&l->m);
  g_cond_clear(&l->cond);
  for (int i = 0; i < 2; i++)
    ll_batch_free(l->slots[i].b);
  g_free(l->base);
  g_free(l->order);
  g_free(l->work);
  g_free(l);
}

/* The loader thread: every index once per epoch, the same order for the
 * same seed, a new order each epoch, drop_last, the same batches without a
 * thread (inline), and clean shutdown at any point. Labels hold the sample index so batches reveal
 * their samples. */
#include "data-test-util.h"

static LlDataset *indexed(guint n)
{
  LlDataset *d = test_images(n, 1, 4, 4, 2, 1);
  for (guint i = 0; i < n; i++)
    d->labels[i] = (float)i;
  d->n_classes = (int)n;
  return d;
}

/* The sample indices of one epoch, in order (and batch sizes into sizes). */
static GArray *epoch_order(LlLoader *l, int epoch, GArray *sizes)
{
  GArray *v = g_array_new(FALSE, FALSE, sizeof(guint32));
  ll_loader_start_epoch(l, epoch);
  const LlBatch *b;
  while ((b = ll_loader_next(l))) {
    float *lab = ll_batch_field(b, "label", NULL);
    for (int i = 0; i < b->n; i++) {
      guint32 k = (guint32)lab[i];
      g_array_append_val(v, k);
    }
    if (sizes)
      g_array_append_val(sizes, b->n);
  }
  g_assert_null(ll_loader_next(l)); /* stays at the end */
  return v;
}

static gboolean same(const GArray *a, const GArray *b)
{
  return a->len == b->len && memcmp(a->data, b->data, a->len * sizeof(guint32)) == 0;
}

static void test_covers_epoch(void)
{
  g_autoptr(LlDataset) d = indexed(103);
  g_autoptr(LlPipeline) p = ll_pipeline_new(d, &(LlPipelineConfig){0}, NULL, NULL);
  g_autoptr(LlLoader) l = ll_loader_new(p, NULL, 10, TRUE, FALSE, TRUE, 42);
  g_assert_cmpint(ll_loader_batches_per_epoch(l), ==, 11);
  for (int e = 0; e < 3; e++) {
    g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(int));
    g_autoptr(GArray) o = epoch_order(l, e, sizes);
    g_assert_cmpuint(o->len, ==, 103);
    g_assert_cmpuint(sizes->len, ==, 11);
    g_assert_cmpint(g_array_index(sizes, int, 10), ==, 3);
    g_autofree guint8 *seen = g_new0(guint8, 103);
    for (guint i = 0; i < o->len; i++)
      seen[g_array_index(o, guint32, i)]++;
    for (int i = 0; i < 103; i++)
      g_assert_cmpuint(seen[i], ==, 1);
  }
}

static void test_order(void)
{
  g_autoptr(LlDataset) d = indexed(64);
  g_autoptr(LlPipeline) p = ll_pipeline_new(d, &(LlPipelineConfig){0}, NULL, NULL);
  g_autoptr(LlLoader) a = ll_loader_new(p, NULL, 8, TRUE, FALSE, TRUE, 7);
  g_autoptr(LlLoader) b = ll_loader_new(p, NULL, 8, TRUE, FALSE, TRUE, 7);
  g_autoptr(LlLoader) c = ll_loader_new(p, NULL, 8, TRUE, FALSE, TRUE, 8);
  g_autoptr(GArray) a0 = epoch_order(a, 0, NULL);
  g_autoptr(GArray) a1 = epoch_order(a, 1, NULL);
  g_autoptr(GArray) b1 = epoch_order(b, 1, NULL); /* epochs can be taken in any order */
  g_autoptr(GArray) b0 = epoch_order(b, 0, NULL);
  g_autoptr(GArray) c0 = epoch_order(c, 0, NULL);
  g_autoptr(GArray) a0again = epoch_order(a, 0, NULL);
  g_assert_true(same(a0, b0));
  g_assert_true(same(a1, b1));
  g_assert_true(same(a0, a0again));
  g_assert_false(same(a0, a1));
  g_assert_false(same(a0, c0));

  /* without shuffling: the index list as given */
  GArray *sub = g_array_new(FALSE, FALSE, sizeof(guint32));
  g_array_append_vals(sub, (guint32[]){5, 3, 60, 9, 1}, 5);
  g_autoptr(LlLoader) n = ll_loader_new(p, sub, 2, FALSE, FALSE, FALSE, 1);
  g_autoptr(GArray) no = epoch_order(n, 4, NULL);
  g_assert_true(same(no, sub));
  g_array_unref(sub);
}

static void test_drop_last(void)
{
  g_autoptr(LlDataset) d = indexed(103);
  g_autoptr(LlPipeline) p = ll_pipeline_new(d, &(LlPipelineConfig){0}, NULL, NULL);
  g_autoptr(LlLoader) l = ll_loader_new(p, NULL, 10, TRUE, TRUE, TRUE, 1);
  g_assert_cmpint(ll_loader_batches_per_epoch(l), ==, 10);
  g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(int));
  g_autoptr(GArray) o = epoch_order(l, 0, sizes);
  g_assert_cmpuint(o->len, ==, 100);
  for (guint i = 0; i < sizes->len; i++)
    g_assert_cmpint(g_array_index(sizes, int, i), ==, 10);
  g_autofree guint8 *seen = g_new0(guint8, 103);
  for (guint i = 0; i < o->len; i++)
    g_assert_cmpuint(seen[g_array_index(o, guint32, i)]++, ==, 0);
  /* fewer samples than a batch: no batches at all */
  GArray *few = g_array_new(FALSE, FALSE, sizeof(guint32));
  g_array_append_vals(few, (guint32[]){1, 2, 3}, 3);
  g_autoptr(LlLoader) f = ll_loader_new(p, few, 10, TRUE, TRUE, TRUE, 1);
  g_assert_cmpint(ll_loader_batches_per_epoch(f), ==, 0);
  ll_loader_start_epoch(f, 0);
  g_assert_null(ll_loader_next(f));
  g_array_unref(few);
}

static void test_augmented_batches(void)
{
  /* train batches with augmentation are the same across loaders with one
   * seed, whatever the thread's timing */
  g_autoptr(LlDataset) d = test_images(50, 3, 8, 8, 5, 3);
  LlPipelineConfig c = {.normalize = LL_NORM_ZERO_ONE,
                        .crop_padding = 2,
                        .hflip = TRUE,
                        .cutout = 2,
                        .rotate_degrees = 10};
  g_autoptr(LlPipeline) p = ll_pipeline_new(d, &c, NULL, NULL);
  g_autoptr(LlLoader) a = ll_loader_new(p, NULL, 16, TRUE, FALSE, TRUE, 99);
  g_autoptr(LlLoader) b = ll_loader_new(p, NULL, 16, TRUE, FALSE, TRUE, 99);
  for (int e = 0; e < 2; e++) {
    ll_loader_start_epoch(a, e);
    ll_loader_start_epoch(b, e);
    const LlBatch *ba, *bb;
    int batches = 0;
    while ((ba = ll_loader_next(a))) {
      if (batches % 2)
        g_usleep(500); /* let the threads drift apart */
      bb = ll_loader_next(b);
      g_assert_nonnull(bb);
      g_assert_cmpint(ba->n, ==, bb->n);
      LlShape s;
      float *xa = ll_batch_field(ba, "x", &s), *xb = ll_batch_field(bb, "x", NULL);
      g_assert_cmpint(s.d[0], ==, 3);
      g_assert_cmpmem(xa, sizeof(float) * ba->n * 192, xb, sizeof(float) * bb->n * 192);
      batches++;
    }
    g_assert_null(ll_loader_next(b));
    g_assert_cmpint(batches, ==, 4);
  }
}

/* An inline loader (no thread) hands out the same batches as a threaded
 * one: training batches with augmentation over two epochs, a restart
 * mid-epoch, and evaluation batches with a short last one. */
static void test_inline(void)
{
  g_autoptr(LlDataset) d = test_images(45, 3, 8, 8, 5, 3);
  LlPipelineConfig c = {.normalize = LL_NORM_ZERO_ONE, .crop_padding = 2, .hflip = TRUE};
  g_autoptr(LlPipeline) p = ll_pipeline_new(d, &c, NULL, NULL);
  for (int train = 0; train < 2; train++) {
    g_autoptr(LlLoader) a = ll_loader_new(p, NULL, 16, train, FALSE, train, 3);
    g_autoptr(LlLoader) b = ll_loader_new(p, NULL, 16, train, FALSE, train, 3);
    ll_loader_set_inline(b, TRUE, NULL);
    for (int e = 0; e < 3; e++) {
      ll_loader_start_epoch(a, e);
      ll_loader_start_epoch(b, e);
      if (e == 1) { /* a batch taken, then the epoch restarted */
        g_assert_nonnull(ll_loader_next(a));
        g_assert_nonnull(ll_loader_next(b));
        ll_loader_start_epoch(a, e);
        ll_loader_start_epoch(b, e);
      }
      const LlBatch *ba, *bb;
      int batches = 0;
      while ((ba = ll_loader_next(a))) {
        bb = ll_loader_next(b);
        g_assert_nonnull(bb);
        g_assert_cmpint(ba->n, ==, bb->n);
        g_assert_cmpint(ba->n, ==, batches < 2 ? 16 : 13);
        float *xa = ll_batch_field(ba, "x", NULL), *xb = ll_batch_field(bb, "x", NULL);
        g_assert_cmpmem(xa, sizeof(float) * ba->n * 192, xb, sizeof(float) * bb->n * 192);
        float *la = ll_batch_field(ba, "label", NULL), *lb = ll_batch_field(bb, "label", NULL);
        g_assert_cmpmem(la, sizeof(float) * ba->n, lb, sizeof(float) * bb->n);
        batches++;
      }
      g_assert_null(ll_loader_next(b));
      g_assert_cmpint(batches, ==, 3);
    }
  }
}

/* A parallel-for that runs the chunks backwards, as a pool may. */
static void backwards_for(int n, int grain, void (*fn)(void *, int, int, int), void *arg)
{
  for (int c = (n + grain - 1) / grain - 1; c >= 0; c--)
    fn(arg, c, c * grain, MIN(n, (c + 1) * grain));
}

/* Evaluation batches depend on the sample alone: split over a parallel-for
 * in any order, or cut into batches of another size, every sample gets the
 * same pixels, label and "random" value. */
static void test_eval_by_sample(void)
{
  enum { N = 300 };
  g_autoptr(LlDataset) d = indexed(N);
  LlPipelineConfig c = {
      .normalize = LL_NORM_ZERO_ONE, .random_field = TRUE, .random_min = -3, .random_max = 9};
  g_autoptr(LlPipeline) p = ll_pipeline_new(d, &c, NULL, NULL);
  /* per loader k: random[k * N + s], pixels[(k * N + s) * 16 ...] */
  g_autofree float *random = g_new(float, 3 * N);
  g_autofree float *pixels = g_new(float, 3 * N * 16);
  const int sizes[3] = {128, 128, 7};
  for (int k = 0; k < 3; k++) {
    g_autoptr(LlLoader) l = ll_loader_new(p, NULL, sizes[k], FALSE, FALSE, FALSE, 5);
    if (k == 1)
      ll_loader_set_inline(l, TRUE, backwards_for);
    const LlBatch *b;
    while ((b = ll_loader_next(l))) {
      float *lab = ll_batch_field(b, "label", NULL), *rnd = ll_batch_field(b, "random", NULL);
      float *x = ll_batch_field(b, "x", NULL);
      g_assert_nonnull(rnd);
      for (int i = 0; i < b->n; i++) {
        int s = (int)lab[i];
        random[k * N + s] = rnd[i];
        memcpy(pixels + (k * N + s) * 16, x + i * 16, 16 * sizeof(float));
      }
    }
  }
  for (int k = 1; k < 3; k++) {
    g_assert_cmpmem(random, N * sizeof(float), random + k * N, N * sizeof(float));
    g_assert_cmpmem(pixels, N * 16 * sizeof(float), pixels + k * N * 16, N * 16 * sizeof(float));
  }
  int lo = 99, hi = -99;
  for (int s = 0; s < N; s++) {
    lo = MIN(lo, (int)random[s]);
    hi = MAX(hi, (int)random[s]);
  }
  g_assert_cmpint(lo, ==, -3);
  g_assert_cmpint(hi, ==, 9);
}

static void test_free_mid_epoch(void)
{
  g_autoptr(LlDataset) d = indexed(500);
  g_autoptr(LlPipeline) p = ll_pipeline_new(d, &(LlPipelineConfig){.hflip = TRUE}, NULL, NULL);
  /* freed before any epoch, right after starting, and after a few batches */
  ll_loader_free(ll_loader_new(p, NULL, 7, TRUE, FALSE, TRUE, 1));
  LlLoader *l = ll_loader_new(p, NULL, 7, TRUE, FALSE, TRUE, 1);
  ll_loader_start_epoch(l, 0);
  ll_loader_free(l);
  for (int k = 1; k < 20; k++) {
    l = ll_loader_new(p, NULL, 7, TRUE, FALSE, TRUE, (uint64_t)k);
    ll_loader_start_epoch(l, 0);
    for (int i = 0; i < k; i++)
      g_assert_nonnull(ll_loader_next(l));
    ll_loader_free(l);
  }
  /* restarting mid-epoch gives the full new epoch */
  g_autoptr(LlLoader) a = ll_loader_new(p, NULL, 7, TRUE, FALSE, TRUE, 5);
  g_autoptr(LlLoader) b = ll_loader_new(p, NULL, 7, TRUE, FALSE, TRUE, 5);
  ll_loader_start_epoch(a, 0);
  for (int i = 0; i < 3; i++)
    ll_loader_next(a);
  g_autoptr(GArray) ra = epoch_order(a, 1, NULL);
  g_autoptr(GArray) rb = epoch_order(b, 1, NULL);
  g_assert_true(same(ra, rb));
  /* next without start_epoch starts epoch 0 */
  g_autoptr(LlLoader) c = ll_loader_new(p, NULL, 7, FALSE, FALSE, FALSE, 5);
  const LlBatch *first = ll_loader_next(c);
  g_assert_nonnull(first);
  g_assert_cmpfloat(ll_batch_field(first, "label", NULL)[0], ==, 0);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/data/loader/covers-epoch", test_covers_epoch);
  g_test_add_func("/data/loader/order", test_order);
  g_test_add_func("/data/loader/drop-last", test_drop_last);
  g_test_add_func("/data/loader/augmented-batches", test_augmented_batches);
  g_test_add_func("/data/loader/inline", test_inline);
  g_test_add_func("/data/loader/eval-by-sample", test_eval_by_sample);
  g_test_add_func("/data/loader/free-mid-epoch", test_free_mid_epoch);
  return g_test_run();
}

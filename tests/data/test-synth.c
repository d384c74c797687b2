/* Synthetic generators (deterministic in the seed, the documented
 * structure), seeded splits and fingerprints. */
#include "data-test-util.h"

#include <math.h>

static LlDataset *synth(LlSynthConfig c)
{
  GError *err = NULL;
  LlDataset *d = ll_dataset_synthesize(&c, &err);
  g_assert_no_error(err);
  return d;
}

/* Same seed, same data; another seed, other data. */
static void check_determinism(LlSynthConfig c)
{
  g_autoptr(LlDataset) a = synth(c);
  g_autoptr(LlDataset) b = synth(c);
  c.seed += 1;
  g_autoptr(LlDataset) other = synth(c);
  g_autofree char *fa = ll_dataset_fingerprint(a);
  g_autofree char *fb = ll_dataset_fingerprint(b);
  g_autofree char *fo = ll_dataset_fingerprint(other);
  g_assert_cmpuint(strlen(fa), ==, 16);
  g_assert_cmpstr(fa, ==, fb);
  g_assert_cmpstr(fa, !=, fo);
  g_assert_cmpmem(a->f32, sizeof(float) * a->n * ll_dataset_sample_size(a), b->f32,
                  sizeof(float) * b->n * ll_dataset_sample_size(b));
}

static void test_blobs(void)
{
  LlSynthConfig c = {
      .kind = LL_SYNTH_BLOBS, .n = 300, .n_classes = 3, .features = 4, .noise = 0.1, .seed = 7};
  check_determinism(c);
  g_autoptr(LlDataset) d = synth(c);
  g_assert_cmpint(d->shape.rank, ==, 1);
  g_assert_cmpint(d->shape.d[0], ==, 4);
  g_assert_cmpint(d->n_classes, ==, 3);
  /* balanced, and with small noise each class sits near its centre: the
   * per-class spread is about the noise */
  for (int k = 0; k < 3; k++) {
    double mean[4] = {0}, var = 0;
    int cnt = 0;
    for (guint i = 0; i < d->n; i++)
      if ((int)d->labels[i] == k) {
        cnt++;
        for (int f = 0; f < 4; f++)
          mean[f] += d->f32[i * 4 + f];
      }
    g_assert_cmpint(cnt, ==, 100);
    for (int f = 0; f < 4; f++)
      mean[f] /= cnt;
    for (guint i = 0; i < d->n; i++)
      if ((int)d->labels[i] == k)
        for (int f = 0; f < 4; f++)
          var += pow(d->f32[i * 4 + f] - mean[f], 2);
    var /= cnt * 4;
    g_assert_cmpfloat(sqrt(var), >, 0.07);
    g_assert_cmpfloat(sqrt(var), <, 0.13);
  }
}

static void test_spirals(void)
{
  LlSynthConfig c = {.kind = LL_SYNTH_SPIRALS, .n = 200, .n_classes = 2, .noise = 0, .seed = 3};
  check_determinism(c);
  g_autoptr(LlDataset) d = synth(c);
  g_assert_cmpint(d->shape.d[0], ==, 2);
  /* noise 0: every point lies on its arm, radius 0.1 + 0.9 t and angle
   * 2 pi k / K + 3 pi t */
  for (guint i = 0; i < d->n; i++) {
    double x = d->f32[2 * i], y = d->f32[2 * i + 1], r = hypot(x, y);
    double t = (r - 0.1) / 0.9, th = G_PI * (double)d->labels[i] + 3 * G_PI * t;
    g_assert_cmpfloat(t, >=, -1e-5);
    g_assert_cmpfloat(t, <, 1 + 1e-5);
    g_assert_cmpfloat(fabs(x - r * cos(th)) + fabs(y - r * sin(th)), <, 1e-4);
  }
}

static void test_changepoint(void)
{
  LlSynthConfig c = {.kind = LL_SYNTH_CHANGEPOINT, .n = 200, .steps = 12, .noise = 0.2, .seed = 11};
  check_determinism(c);
  g_autoptr(LlDataset) d = synth(c);
  g_assert_cmpint(d->shape.rank, ==, 2);
  g_assert_cmpint(d->shape.d[0], ==, 12);
  g_assert_cmpint(d->shape.d[1], ==, 1);
  g_assert_cmpint(d->label_dim, ==, 12);
  /* labels step from 0 to 1 once, at a step in 1..T-1; the mean jumps by at
   * least 1 there (noise 0.2: the step means differ clearly) */
  double jump = 0;
  for (guint i = 0; i < d->n; i++) {
    const float *l = d->labels + i * 12, *x = d->f32 + i * 12;
    g_assert_cmpfloat(l[0], ==, 0);
    g_assert_cmpfloat(l[11], ==, 1);
    int tau = 0;
    for (int t = 1; t < 12; t++) {
      g_assert_cmpfloat(l[t], >=, l[t - 1]);
      if (l[t] > l[t - 1])
        tau = t;
    }
    double before = 0, after = 0;
    for (int t = 0; t < 12; t++)
      *(t < tau ? &before : &after) += x[t];
    jump += fabs(after / (12 - tau) - before / tau);
  }
  g_assert_cmpfloat(jump / d->n, >, 1.0);
}

static void test_seq_memory(void)
{
  LlSynthConfig c = {.kind = LL_SYNTH_SEQ_MEMORY, .n = 600, .steps = 10, .vocab = 6, .seed = 5};
  check_determinism(c);
  g_autoptr(LlDataset) d = synth(c);
  g_assert_cmpint(d->shape.d[0], ==, 10);
  g_assert_cmpint(d->shape.d[1], ==, 6);
  g_assert_cmpint(d->label_dim, ==, 2);
  /* find q: the symbol present in every positive sample */
  int q = -1;
  for (int s = 0; s < 5 && q < 0; s++) {
    gboolean all = TRUE;
    for (guint i = 0; i < d->n && all; i++) {
      if (d->labels[2 * i] == 0)
        continue;
      gboolean has = FALSE;
      for (int t = 0; t < 10; t++)
        has |= d->f32[(i * 10 + t) * 6 + s] == 1;
      all = has;
    }
    if (all)
      q = s;
  }
  g_assert_cmpint(q, >=, 0);
  int counts[3] = {0};
  for (guint i = 0; i < d->n; i++) {
    gboolean seen = FALSE, then = FALSE;
    for (int t = 0; t < 10; t++) {
      int sym = -1, ones = 0;
      for (int v = 0; v < 6; v++)
        if (d->f32[(i * 10 + t) * 6 + v] == 1) {
          sym = v;
          ones++;
        }
      g_assert_cmpint(ones, ==, 1); /* one-hot */
      then |= seen && sym == q + 1;
      seen |= sym == q;
    }
    g_assert_cmpfloat(d->labels[2 * i], ==, seen);
    g_assert_cmpfloat(d->labels[2 * i + 1], ==, then);
    counts[(int)(d->labels[2 * i] + d->labels[2 * i + 1])]++;
  }
  for (int k = 0; k < 3; k++) /* about a third each */
    g_assert_cmpint(counts[k], >, 150);
}

static void test_bad_config(void)
{
  GError *err = NULL;
  LlSynthConfig bad[] = {
      {.kind = LL_SYNTH_BLOBS, .n = 10, .n_classes = 1, .features = 2},
      {.kind = LL_SYNTH_BLOBS, .n = 10, .n_classes = 2, .features = 0},
      {.kind = LL_SYNTH_SPIRALS, .n = 0, .n_classes = 2},
      {.kind = LL_SYNTH_SPIRALS, .n = 10, .n_classes = 2, .noise = -1},
      {.kind = LL_SYNTH_CHANGEPOINT, .n = 10, .steps = 1},
      {.kind = LL_SYNTH_SEQ_MEMORY, .n = 10, .steps = 5, .vocab = 2},
      {.kind = (LlSynthKind)42, .n = 10},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_null(ll_dataset_synthesize(&bad[i], &err));
    g_assert_error(err, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG);
    g_clear_error(&err);
  }
}

static void test_split(void)
{
  GArray *tr, *va, *tr2, *va2, *tr3, *va3;
  ll_split_indices(1000, 0.2, 42, &tr, &va);
  ll_split_indices(1000, 0.2, 42, &tr2, &va2);
  ll_split_indices(1000, 0.2, 43, &tr3, &va3);
  g_assert_cmpuint(va->len, ==, 200);
  g_assert_cmpuint(tr->len, ==, 800);
  g_assert_cmpmem(va->data, va->len * 4, va2->data, va2->len * 4);
  g_assert_false(memcmp(va->data, va3->data, va->len * 4) == 0);
  /* a partition of [0, n) */
  g_autofree guint8 *seen = g_new0(guint8, 1000);
  for (guint i = 0; i < tr->len; i++)
    seen[g_array_index(tr, guint32, i)]++;
  for (guint i = 0; i < va->len; i++)
    seen[g_array_index(va, guint32, i)]++;
  for (int i = 0; i < 1000; i++)
    g_assert_cmpuint(seen[i], ==, 1);
  GArray *arrays[] = {tr, va, tr2, va2, tr3, va3};
  for (guint i = 0; i < G_N_ELEMENTS(arrays); i++)
    g_array_unref(arrays[i]);
  ll_split_indices(10, 0.0, 1, &tr, &va);
  g_assert_cmpuint(tr->len, ==, 10);
  g_assert_cmpuint(va->len, ==, 0);
  g_array_unref(tr);
  g_array_unref(va);
}

static void test_fingerprint(void)
{
  LlSynthConfig c = {.kind = LL_SYNTH_BLOBS, .n = 50, .n_classes = 2, .features = 3, .seed = 1};
  g_autoptr(LlDataset) d = synth(c);
  g_autofree char *f1 = ll_dataset_fingerprint(d);
  d->labels[7] = 1 - d->labels[7];
  g_autofree char *f2 = ll_dataset_fingerprint(d);
  d->labels[7] = 1 - d->labels[7];
  d->f32[3] += 1e-3f;
  g_autofree char *f3 = ll_dataset_fingerprint(d);
  d->f32[3] -= 1e-3f;
  g_autofree char *f4 = ll_dataset_fingerprint(d);
  g_assert_cmpstr(f1, !=, f2);
  g_assert_cmpstr(f1, !=, f3);
  g_assert_cmpstr(f1, ==, f4);
  for (int i = 0; i < 16; i++)
    g_assert_true(g_ascii_isxdigit(f1[i]));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/data/synth/blobs", test_blobs);
  g_test_add_func("/data/synth/spirals", test_spirals);
  g_test_add_func("/data/synth/changepoint", test_changepoint);
  g_test_add_func("/data/synth/seq-memory", test_seq_memory);
  g_test_add_func("/data/synth/bad-config", test_bad_config);
  g_test_add_func("/data/split", test_split);
  g_test_add_func("/data/fingerprint", test_fingerprint);
  return g_test_run();
}

/* The batch pipeline: fields and shapes, normalisation values,
 * augmentation (determinism, shape, what each one does), the rotation task,
 * the label map and the random targets. */
#include "data-test-util.h"

#include <math.h>

static LlPipeline *pipeline(const LlDataset *d, const LlPipelineConfig *c, const GArray *stats)
{
  GError *err = NULL;
  LlPipeline *p = ll_pipeline_new(d, c, stats, &err);
  g_assert_no_error(err);
  return p;
}

static void expect_config_error(const LlDataset *d, const LlPipelineConfig *c, const char *needle)
{
  GError *err = NULL;
  g_assert_null(ll_pipeline_new(d, c, NULL, &err));
  assert_data_error(err, LL_DATA_ERROR_CONFIG, needle);
}

static guint32 *iota(int n)
{
  guint32 *v = g_new(guint32, n);
  for (int i = 0; i < n; i++)
    v[i] = (guint32)i;
  return v;
}

static void test_fields(void)
{
  g_autoptr(LlDataset) d = test_images(8, 1, 4, 4, 4, 1);
  int map[] = {0, 1, 0, 1};
  LlPipelineConfig c = {.normalize = LL_NORM_ZERO_ONE,
                        .rotation_task = TRUE,
                        .label_map = g_memdup2(map, sizeof map),
                        .n_label_map = 4,
                        .random_field = TRUE,
                        .random_min = 0,
                        .random_max = 3};
  g_autoptr(LlPipeline) p = pipeline(d, &c, NULL);
  ll_pipeline_config_clear(&c);
  g_assert_null(c.label_map);
  g_autofree char *list = ll_pipeline_field_list(p);
  g_assert_cmpstr(list, ==,
                  "x (1, 4, 4), label (1), mapped (1), rotation (1), random (1), "
                  "label_plus_random (1)");
  LlShape s;
  g_assert_true(ll_pipeline_field_shape(p, "x", &s));
  g_assert_true(ll_shape_equal(&s, &d->shape));
  g_assert_false(ll_pipeline_field_shape(p, "y", &s));
  g_assert_cmpint(ll_pipeline_field_classes(p, "label"), ==, 4);
  g_assert_cmpint(ll_pipeline_field_classes(p, "mapped"), ==, 2);
  g_assert_cmpint(ll_pipeline_field_classes(p, "rotation"), ==, 4);
  g_assert_cmpint(ll_pipeline_field_classes(p, "random"), ==, 4);
  g_assert_cmpint(ll_pipeline_field_classes(p, "label_plus_random"), ==, 7);
  g_assert_cmpint(ll_pipeline_field_classes(p, "x"), ==, 0);
  g_assert_cmpint(ll_pipeline_field_classes(p, "nope"), ==, -1);

  /* a batch has the same fields; capacity grows, n follows the fill */
  g_autoptr(LlBatch) b = ll_batch_new();
  g_autofree guint32 *idx = iota(8);
  LlRng r;
  ll_rng_seed(&r, 1);
  ll_pipeline_fill(p, idx, 5, TRUE, &r, b);
  g_assert_cmpint(b->n, ==, 5);
  g_assert_cmpint(b->capacity, >=, 5);
  g_assert_cmpuint(b->names->len, ==, 6);
  g_assert_nonnull(ll_batch_field(b, "label_plus_random", &s));
  g_assert_cmpint(s.rank, ==, 1);
  g_assert_null(ll_batch_field(b, "nope", NULL));
  ll_pipeline_fill(p, idx, 8, TRUE, &r, b);
  g_assert_cmpint(b->capacity, >=, 8);
  float *lab = ll_batch_field(b, "label", NULL);
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat(lab[i], ==, i % 4);

  /* plain tables: x (F), label (1) only */
  LlSynthConfig sc = {.kind = LL_SYNTH_BLOBS, .n = 10, .n_classes = 2, .features = 3, .seed = 1};
  g_autoptr(LlDataset) t = ll_dataset_synthesize(&sc, NULL);
  LlPipelineConfig none = {0};
  g_autoptr(LlPipeline) pt = pipeline(t, &none, NULL);
  g_autofree char *tl = ll_pipeline_field_list(pt);
  g_assert_cmpstr(tl, ==, "x (3), label (1)");
  /* sequences with vector labels */
  LlSynthConfig cc = {.kind = LL_SYNTH_CHANGEPOINT, .n = 4, .steps = 6, .seed = 1};
  g_autoptr(LlDataset) cp = ll_dataset_synthesize(&cc, NULL);
  g_autoptr(LlPipeline) pc = pipeline(cp, &none, NULL);
  g_autofree char *cl = ll_pipeline_field_list(pc);
  g_assert_cmpstr(cl, ==, "x (6, 1), label (6)");
}

static void test_normalize(void)
{
  /* 3 samples of (2, 1, 2): channel 0 and channel 1 values chosen by hand */
  g_autoptr(LlDataset) d = test_images(3, 2, 1, 2, 3, 1);
  guint8 v[3][4] = {{0, 10, 100, 100}, {20, 30, 100, 140}, {255, 255, 7, 7}};
  memcpy(d->u8, v, sizeof v);
  g_autofree guint32 *idx = iota(3);
  g_autoptr(LlBatch) b = ll_batch_new();

  LlPipelineConfig c = {.normalize = LL_NORM_NONE};
  g_autoptr(LlPipeline) p0 = pipeline(d, &c, NULL);
  ll_pipeline_fill(p0, idx, 3, FALSE, NULL, b);
  float *x = ll_batch_field(b, "x", NULL);
  g_assert_cmpfloat(x[4 + 3], ==, 140);
  g_assert_cmpfloat(x[8], ==, 255);

  c.normalize = LL_NORM_ZERO_ONE;
  g_autoptr(LlPipeline) p1 = pipeline(d, &c, NULL);
  ll_pipeline_fill(p1, idx, 3, FALSE, NULL, b);
  x = ll_batch_field(b, "x", NULL);
  g_assert_cmpfloat_with_epsilon(x[1], 10.0 / 255, 1e-7);
  g_assert_cmpfloat(x[8], ==, 1.0f);

  /* statistics over samples 0 and 1 only: channel 0 = {0, 10, 20, 30},
   * mean 15, std sqrt(125); channel 1 = {100, 100, 100, 140}, mean 110,
   * std sqrt(300) */
  c.normalize = LL_NORM_STANDARDIZE;
  GArray *stats = g_array_new(FALSE, FALSE, sizeof(guint32));
  g_array_append_vals(stats, (guint32[]){0, 1}, 2);
  g_autoptr(LlPipeline) p2 = pipeline(d, &c, stats);
  g_array_unref(stats);
  const float *off, *sc;
  g_assert_cmpint(ll_pipeline_norm_stats(p2, &off, &sc), ==, 2);
  g_assert_cmpfloat_with_epsilon(off[0], 15, 1e-5);
  g_assert_cmpfloat_with_epsilon(sc[0], sqrt(125), 1e-5);
  g_assert_cmpfloat_with_epsilon(off[1], 110, 1e-5);
  g_assert_cmpfloat_with_epsilon(sc[1], sqrt(300), 1e-5);
  ll_pipeline_fill(p2, idx, 3, FALSE, NULL, b);
  x = ll_batch_field(b, "x", NULL);
  g_assert_cmpfloat_with_epsilon(x[0], -15 / sqrt(125), 1e-5);
  g_assert_cmpfloat_with_epsilon(x[7], 30 / sqrt(300), 1e-5);
  g_assert_cmpfloat_with_epsilon(x[8], 240 / sqrt(125), 1e-4); /* sample 2, not in the stats */

  /* float tables: per feature; zero-one is min-max */
  LlSynthConfig s = {
      .kind = LL_SYNTH_BLOBS, .n = 200, .n_classes = 2, .features = 3, .noise = 1, .seed = 9};
  g_autoptr(LlDataset) t = ll_dataset_synthesize(&s, NULL);
  g_autofree guint32 *all = iota(200);
  g_autoptr(LlBatch) bt = ll_batch_new();
  c.normalize = LL_NORM_STANDARDIZE;
  g_autoptr(LlPipeline) pt = pipeline(t, &c, NULL);
  ll_pipeline_fill(pt, all, 200, FALSE, NULL, bt);
  x = ll_batch_field(bt, "x", NULL);
  for (int f = 0; f < 3; f++) {
    double m = 0, q = 0;
    for (int i = 0; i < 200; i++)
      m += x[i * 3 + f];
    m /= 200;
    for (int i = 0; i < 200; i++)
      q += pow(x[i * 3 + f] - m, 2);
    g_assert_cmpfloat(fabs(m), <, 1e-5);
    g_assert_cmpfloat(fabs(sqrt(q / 200) - 1), <, 1e-4);
  }
  c.normalize = LL_NORM_ZERO_ONE;
  g_autoptr(LlPipeline) pz = pipeline(t, &c, NULL);
  ll_pipeline_fill(pz, all, 200, FALSE, NULL, bt);
  x = ll_batch_field(bt, "x", NULL);
  for (int f = 0; f < 3; f++) {
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < 200; i++) {
      lo = MIN(lo, x[i * 3 + f]);
      hi = MAX(hi, x[i * 3 + f]);
    }
    g_assert_cmpfloat_with_epsilon(lo, 0, 1e-6);
    g_assert_cmpfloat_with_epsilon(hi, 1, 1e-6);
  }
}

/* x of samples idx[0..n) with cfg; rng seeded with seed (train) */
static float *fill_x(const LlDataset *d, const LlPipelineConfig *c, int n, gboolean train,
                     uint64_t seed)
{
  g_autoptr(LlPipeline) p = pipeline(d, c, NULL);
  g_autoptr(LlBatch) b = ll_batch_new();
  g_autofree guint32 *idx = iota(n);
  LlRng r;
  ll_rng_seed(&r, seed);
  ll_pipeline_fill(p, idx, n, train, &r, b);
  LlShape s;
  float *x = ll_batch_field(b, "x", &s);
  g_assert_true(ll_shape_equal(&s, &d->shape)); /* augmentation keeps the shape */
  return g_memdup2(x, sizeof(float) * n * ll_dataset_sample_size(d));
}

static void test_augment_determinism(void)
{
  g_autoptr(LlDataset) d = test_images(16, 3, 10, 10, 4, 2);
  size_t bytes = sizeof(float) * 16 * 300;
  LlPipelineConfig c = {.normalize = LL_NORM_STANDARDIZE,
                        .crop_padding = 2,
                        .hflip = TRUE,
                        .cutout = 3,
                        .rotate_degrees = 15};
  g_autofree float *a = fill_x(d, &c, 16, TRUE, 1);
  g_autofree float *b = fill_x(d, &c, 16, TRUE, 1);
  g_autofree float *other = fill_x(d, &c, 16, TRUE, 2);
  g_assert_cmpmem(a, bytes, b, bytes);
  g_assert_false(memcmp(a, other, bytes) == 0);
  /* evaluation batches are not augmented */
  LlPipelineConfig plain = {.normalize = LL_NORM_STANDARDIZE};
  g_autofree float *e = fill_x(d, &c, 16, FALSE, 1);
  g_autofree float *ref = fill_x(d, &plain, 16, FALSE, 1);
  g_assert_cmpmem(e, bytes, ref, bytes);
  g_assert_false(memcmp(a, ref, bytes) == 0);
}

static float px(const float *x, int w, int y, int xx) { return x[y * w + xx]; }

static void test_augment_ops(void)
{
  const int H = 6, W = 7, N = 64;
  g_autoptr(LlDataset) d = test_images(N, 1, H, W, 2, 3);
  for (size_t i = 0; i < (size_t)N * H * W; i++) /* no zeros, so padding is visible */
    d->u8[i] = (guint8)MAX(d->u8[i], 1);
  g_autofree float *orig = fill_x(d, &(LlPipelineConfig){0}, N, FALSE, 0);

  /* flip: each sample is itself or its mirror, and both happen */
  g_autofree float *fl = fill_x(d, &(LlPipelineConfig){.hflip = TRUE}, N, TRUE, 5);
  int flipped = 0;
  for (int s = 0; s < N; s++) {
    const float *o = orig + s * H * W, *f = fl + s * H * W;
    gboolean same = memcmp(o, f, sizeof(float) * H * W) == 0, mirror = TRUE;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        mirror &= px(f, W, y, x) == px(o, W, y, W - 1 - x);
    g_assert_true(same || mirror);
    flipped += !same;
  }
  g_assert_cmpint(flipped, >, N / 4);
  g_assert_cmpint(flipped, <, 3 * N / 4);

  /* crop: a shift by (dy, dx) in [-2, 2] with zeros coming in */
  g_autofree float *cr = fill_x(d, &(LlPipelineConfig){.crop_padding = 2}, N, TRUE, 6);
  int shifted = 0;
  for (int s = 0; s < N; s++) {
    const float *o = orig + s * H * W, *c = cr + s * H * W;
    gboolean found = FALSE;
    for (int dy = -2; dy <= 2 && !found; dy++)
      for (int dx = -2; dx <= 2 && !found; dx++) {
        gboolean ok = TRUE;
        for (int y = 0; y < H && ok; y++)
          for (int x = 0; x < W && ok; x++) {
            int sy = y + dy, sx = x + dx;
            float want = sy >= 0 && sy < H && sx >= 0 && sx < W ? px(o, W, sy, sx) : 0;
            ok = px(c, W, y, x) == want;
          }
        if (ok) {
          found = TRUE;
          shifted += dy || dx;
        }
      }
    g_assert_true(found);
  }
  g_assert_cmpint(shifted, >, N / 2);

  /* cutout: at most side^2 pixels become 0, at least one, the rest kept */
  g_autofree float *cu = fill_x(d, &(LlPipelineConfig){.cutout = 3}, N, TRUE, 7);
  for (int s = 0; s < N; s++) {
    int zeros = 0;
    for (int i = 0; i < H * W; i++) {
      float v = cu[s * H * W + i];
      if (v == 0)
        zeros++;
      else
        g_assert_cmpfloat(v, ==, orig[s * H * W + i]);
    }
    g_assert_cmpint(zeros, >=, 1);
    g_assert_cmpint(zeros, <=, 9);
  }

  /* rotation of a uniform image: the centre keeps its value, corners go
   * dark for large angles, and the mean never grows */
  g_autoptr(LlDataset) u = test_images(8, 1, 9, 9, 2, 4);
  memset(u->u8, 100, 8 * 81);
  g_autofree float *ro = fill_x(u, &(LlPipelineConfig){.rotate_degrees = 45}, 8, TRUE, 8);
  for (int s = 0; s < 8; s++) {
    g_assert_cmpfloat_with_epsilon(ro[s * 81 + 4 * 9 + 4], 100, 1e-3);
    double m = 0;
    for (int i = 0; i < 81; i++)
      m += ro[s * 81 + i];
    g_assert_cmpfloat(m / 81, <=, 100 + 1e-3);
  }
}

/* numpy.rot90(x, k) for one (n, n) plane */
static float rot_ref(const float *x, int n, int k, int i, int j)
{
  for (int t = 0; t < k; t++) { /* out(i, j) = in(j, n - 1 - i) per quarter turn */
    int si = j, sj = n - 1 - i;
    i = si;
    j = sj;
  }
  return x[i * n + j];
}

static void test_rotation_task(void)
{
  const int N = 40, S = 5;
  g_autoptr(LlDataset) d = test_images(N, 2, S, S, 3, 5);
  g_autofree float *orig = fill_x(d, &(LlPipelineConfig){0}, N, FALSE, 0);
  LlPipelineConfig c = {.rotation_task = TRUE};
  g_autoptr(LlPipeline) p = pipeline(d, &c, NULL);
  g_autoptr(LlBatch) b = ll_batch_new();
  g_autofree guint32 *idx = iota(N);
  for (int train = 1; train >= 0; train--) {
    LlRng r;
    ll_rng_seed(&r, 11);
    ll_pipeline_fill(p, idx, N, train, &r, b);
    float *x = ll_batch_field(b, "x", NULL), *rot = ll_batch_field(b, "rotation", NULL);
    int seen[4] = {0};
    for (int s = 0; s < N; s++) {
      int k = (int)rot[s];
      g_assert_cmpint(k, >=, 0);
      g_assert_cmpint(k, <=, 3);
      seen[k]++;
      for (int ch = 0; ch < 2; ch++)
        for (int i = 0; i < S; i++)
          for (int j = 0; j < S; j++)
            g_assert_cmpfloat(x[(s * 2 + ch) * S * S + i * S + j], ==,
                              rot_ref(orig + (s * 2 + ch) * S * S, S, k, i, j));
    }
    for (int k = 0; k < 4; k++)
      g_assert_cmpint(seen[k], >, 0);
  }
  /* evaluation quarter turns depend on the sample only */
  float first[40];
  memcpy(first, ll_batch_field(b, "rotation", NULL), sizeof first);
  LlRng r2;
  ll_rng_seed(&r2, 999);
  ll_pipeline_fill(p, idx, N, FALSE, &r2, b);
  g_assert_cmpmem(first, sizeof first, ll_batch_field(b, "rotation", NULL), sizeof first);
  /* square images only */
  g_autoptr(LlDataset) rect = test_images(4, 1, 4, 6, 2, 1);
  expect_config_error(rect, &c,
                      "the rotation task needs square images but the samples are (1, 4, 6)");
}

static void test_label_map(void)
{
  g_autoptr(LlDataset) d = test_images(10, 1, 2, 2, 5, 1); /* labels 0..4 */
  int map[] = {1, 0, 1, 0, 1};
  LlPipelineConfig c = {.label_map = map, .n_label_map = 5};
  g_autoptr(LlPipeline) p = pipeline(d, &c, NULL);
  g_autoptr(LlBatch) b = ll_batch_new();
  g_autofree guint32 *idx = iota(10);
  ll_pipeline_fill(p, idx, 10, FALSE, NULL, b);
  float *m = ll_batch_field(b, "mapped", NULL), *l = ll_batch_field(b, "label", NULL);
  for (int i = 0; i < 10; i++)
    g_assert_cmpfloat(m[i], ==, map[(int)l[i]]);
  /* label 4 has no entry; or a -1 entry */
  c.n_label_map = 4;
  expect_config_error(d, &c, "label 4 (sample 4) has no mapping");
  int holes[] = {1, 0, -1, 0, 1};
  LlPipelineConfig h = {.label_map = holes, .n_label_map = 5};
  expect_config_error(d, &h, "label 2 (sample 2) has no mapping");
  /* regression targets cannot be mapped */
  LlSynthConfig s = {.kind = LL_SYNTH_CHANGEPOINT, .n = 4, .steps = 3, .seed = 1};
  g_autoptr(LlDataset) cp = ll_dataset_synthesize(&s, NULL);
  expect_config_error(cp, &(LlPipelineConfig){.label_map = map, .n_label_map = 5},
                      "a label map needs class labels");
}

static void test_random_targets(void)
{
  g_autoptr(LlDataset) d = test_images(200, 1, 2, 2, 3, 1);
  LlPipelineConfig c = {.random_field = TRUE, .random_min = 2, .random_max = 5};
  g_autoptr(LlPipeline) p = pipeline(d, &c, NULL);
  g_autoptr(LlBatch) b = ll_batch_new();
  g_autofree guint32 *idx = iota(200);
  LlRng r;
  ll_rng_seed(&r, 3);
  ll_pipeline_fill(p, idx, 200, TRUE, &r, b);
  float *rnd = ll_batch_field(b, "random", NULL),
        *lpr = ll_batch_field(b, "label_plus_random", NULL);
  int seen[4] = {0};
  for (int i = 0; i < 200; i++) {
    g_assert_cmpfloat(rnd[i], >=, 2);
    g_assert_cmpfloat(rnd[i], <=, 5);
    g_assert_cmpfloat(rnd[i], ==, floorf(rnd[i]));
    g_assert_cmpfloat(lpr[i], ==, rnd[i] + (float)(i % 3));
    seen[(int)rnd[i] - 2]++;
  }
  for (int k = 0; k < 4; k++)
    g_assert_cmpint(seen[k], >, 20);
  /* without an rng (evaluation) the draw is a function of the sample */
  ll_pipeline_fill(p, idx, 200, FALSE, NULL, b);
  float keep[200];
  memcpy(keep, ll_batch_field(b, "random", NULL), sizeof keep);
  ll_pipeline_fill(p, idx, 200, FALSE, NULL, b);
  g_assert_cmpmem(keep, sizeof keep, ll_batch_field(b, "random", NULL), sizeof keep);
  expect_config_error(d,
                      &(LlPipelineConfig){.random_field = TRUE, .random_min = 3, .random_max = 1},
                      "the random range [3, 1] is empty");
}

static void test_config_errors(void)
{
  LlSynthConfig s = {.kind = LL_SYNTH_BLOBS, .n = 10, .n_classes = 2, .features = 3, .seed = 1};
  g_autoptr(LlDataset) t = ll_dataset_synthesize(&s, NULL);
  expect_config_error(t, &(LlPipelineConfig){.crop_padding = 2},
                      "blobs: crop_padding needs images (C, H, W) but the samples are (3)");
  expect_config_error(t, &(LlPipelineConfig){.hflip = TRUE}, "hflip needs images");
  g_autoptr(LlDataset) d = test_images(4, 1, 8, 8, 2, 1);
  expect_config_error(d, &(LlPipelineConfig){.rotate_degrees = 200}, "rotate_degrees is 200");
  expect_config_error(d, &(LlPipelineConfig){.cutout = -1}, "cutout is -1");
  expect_config_error(d, &(LlPipelineConfig){.crop_padding = 9}, "crop_padding is 9");
  GArray *none = g_array_new(FALSE, FALSE, sizeof(guint32));
  GError *err = NULL;
  g_assert_null(
      ll_pipeline_new(d, &(LlPipelineConfig){.normalize = LL_NORM_STANDARDIZE}, none, &err));
  assert_data_error(err, LL_DATA_ERROR_CONFIG, "no samples to take normalisation statistics");
  g_array_unref(none);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/data/pipeline/fields", test_fields);
  g_test_add_func("/data/pipeline/normalize", test_normalize);
  g_test_add_func("/data/pipeline/augment-determinism", test_augment_determinism);
  g_test_add_func("/data/pipeline/augment-ops", test_augment_ops);
  g_test_add_func("/data/pipeline/rotation-task", test_rotation_task);
  g_test_add_func("/data/pipeline/label-map", test_label_map);
  g_test_add_func("/data/pipeline/random-targets", test_random_targets);
  g_test_add_func("/data/pipeline/config-errors", test_config_errors);
  return g_test_run();
}

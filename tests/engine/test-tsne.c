/* PCA and t-SNE.
 *
 * PCA: a known rank-3 table (both the covariance and the Gram route)
 * must keep every pairwise distance and report its variance in order.
 * t-SNE: five well-separated Gaussian blobs in 20-D must stay separate
 * in 2-D (leave-one-out 5-NN accuracy), for the exact and the Barnes-Hut
 * gradients, with the KL divergence falling; plus determinism, warm
 * starts, the Barnes-Hut estimate against theta 0, and bad input. */
#include <math.h>
#include <string.h>

#include "pca.h"
#include "rng.h"
#include "tsne.h"

/* ---- data ---------------------------------------------------------------- */

/* (n, d): rank-3 structure with scales 10, 4, 1 plus noise of 1e-3. */
static float *low_rank(int n, int d, uint64_t seed)
{
  LlRng r;
  ll_rng_seed(&r, seed);
  double basis[3][256];
  for (int c = 0; c < 3; c++)
    for (int f = 0; f < d; f++)
      basis[c][f] = ll_rng_normal(&r) / sqrt(d);
  float *x = g_new(float, (size_t)n *d);
  const double scale[3] = {10, 4, 1};
  for (int i = 0; i < n; i++) {
    double a[3];
    for (int c = 0; c < 3; c++)
      a[c] = scale[c] * ll_rng_normal(&r);
    for (int f = 0; f < d; f++) {
      double v = 5.0 + 1e-3 * ll_rng_normal(&r); /* an offset the centring removes */
      for (int c = 0; c < 3; c++)
        v += a[c] * basis[c][f];
      x[(size_t)i * d + f] = (float)v;
    }
  }
  return x;
}

/* (n, d): n / classes points around each of `classes` centres spread
 * 12 sd apart on average; labels (n). */
static float *blobs(int n, int d, int classes, uint64_t seed, int *labels)
{
  LlRng r;
  ll_rng_seed(&r, seed);
  double *centre = g_new(double, (size_t)classes *d);
  for (int i = 0; i < classes * d; i++)
    centre[i] = 6.0 * ll_rng_normal(&r);
  float *x = g_new(float, (size_t)n *d);
  for (int i = 0; i < n; i++) {
    labels[i] = i % classes;
    for (int f = 0; f < d; f++)
      x[(size_t)i * d + f] = (float)(centre[labels[i] * d + f] + ll_rng_normal(&r));
  }
  g_free(centre);
  return x;
}

/* Leave-one-out k-NN accuracy of the labels in the 2-D layout. */
static double knn_accuracy(const float *y, const int *labels, int n, int k, int classes)
{
  int correct = 0;
  float *bd = g_new(float, k);
  int *bl = g_new(int, k);
  for (int i = 0; i < n; i++) {
    int m = 0;
    for (int j = 0; j < n; j++) {
      if (j == i)
        continue;
      float dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      float dd = dx * dx + dy * dy;
      if (m < k || dd < bd[m - 1]) {
        int s = m < k ? m++ : m - 1;
        while (s > 0 && bd[s - 1] > dd) {
          bd[s] = bd[s - 1];
          bl[s] = bl[s - 1];
          s--;
        }
        bd[s] = dd;
        bl[s] = labels[j];
      }
    }
    int votes[16] = {0}, best = 0;
    for (int a = 0; a < m; a++)
      votes[bl[a]]++;
    for (int c = 1; c < classes; c++)
      if (votes[c] > votes[best])
        best = c;
    correct += best == labels[i];
  }
  g_free(bd);
  g_free(bl);
  return (double)correct / n;
}

/* ---- PCA ----------------------------------------------------------------- */

static void check_low_rank(int n, int d)
{
  g_autofree float *x = low_rank(n, d, 7);
  int k = 5;
  g_autofree float *s = g_new(float, (size_t)n *k);
  float ev[5];
  GError *err = NULL;
  g_assert_true(ll_pca(x, n, d, k, s, ev, &err));
  g_assert_no_error(err);
  /* variance ratios in decreasing order; three components hold it all */
  for (int c = 1; c < k; c++)
    g_assert_cmpfloat(ev[c], <=, ev[c - 1]);
  g_assert_cmpfloat(ev[0] + ev[1] + ev[2], >, 0.9999);
  g_assert_cmpfloat(ev[0], >, 0.7);
  g_assert_cmpfloat(ev[3], <, 1e-5);
  /* the rank-3 projection keeps the distances between points */
  for (int i = 0; i < n; i += 3) {
    int j = (i * 7 + 1) % n;
    double dx = 0, ds = 0;
    for (int f = 0; f < d; f++) {
      double t = x[(size_t)i * d + f] - x[(size_t)j * d + f];
      dx += t * t;
    }
    for (int c = 0; c < 3; c++) {
      double t = s[(size_t)i * k + c] - s[(size_t)j * k + c];
      ds += t * t;
    }
    g_assert_cmpfloat(fabs(sqrt(dx) - sqrt(ds)), <, 1e-2 + 1e-3 * sqrt(dx));
  }
  /* scores are centred and uncorrelated, variance in the reported order */
  double cov[3][3] = {{0}};
  for (int i = 0; i < n; i++)
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++)
        cov[a][b] += (double)s[(size_t)i * k + a] * s[(size_t)i * k + b];
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++)
      if (a != b)
        g_assert_cmpfloat(fabs(cov[a][b]), <, 1e-3 * cov[0][0]);
  g_assert_cmpfloat(cov[0][0], >, cov[1][1]);
  g_assert_cmpfloat(cov[1][1], >, cov[2][2]);
  g_assert_cmpfloat(fabs(cov[1][1] / cov[0][0] - ev[1] / ev[0]), <, 1e-3);
}

static void test_pca_covariance(void) { check_low_rank(400, 30); }
static void test_pca_gram(void) { check_low_rank(40, 120); }

static void test_pca_errors(void)
{
  float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  float out[12];
  GError *err = NULL;
  g_assert_false(ll_pca(x, 4, 3, 4, out, NULL, &err)); /* k > d */
  g_assert_error(err, LL_PCA_ERROR, LL_PCA_ERROR_INPUT);
  g_clear_error(&err);
  g_assert_false(ll_pca(x, 1, 3, 1, out, NULL, &err)); /* one sample */
  g_assert_error(err, LL_PCA_ERROR, LL_PCA_ERROR_INPUT);
  g_clear_error(&err);
  x[5] = NAN;
  g_assert_false(ll_pca(x, 4, 3, 2, out, NULL, &err));
  g_assert_error(err, LL_PCA_ERROR, LL_PCA_ERROR_INPUT);
  g_assert_nonnull(strstr(err->message, "sample 1"));
  g_clear_error(&err);
}

/* ---- t-SNE --------------------------------------------------------------- */

static void check_blobs(LlTsneMethod method)
{
  int n = 500, d = 20, classes = 5;
  int labels[500];
  g_autofree float *x = blobs(n, d, classes, 3, labels);
  LlTsneConfig c;
  ll_tsne_config_init(&c);
  c.method = method;
  c.threads = 2;
  GError *err = NULL;
  g_autoptr(LlTsne) t = ll_tsne_new(x, n, d, &c, &err);
  g_assert_no_error(err);
  g_assert_cmpint(ll_tsne_method(t), ==, method);
  double kl0 = ll_tsne_kl(t);
  g_assert_cmpint(ll_tsne_step(t, c.exaggeration_iters), ==, c.exaggeration_iters);
  double prev = ll_tsne_kl(t);
  g_assert_cmpfloat(prev, <, kl0);
  /* after early exaggeration the KL divergence only falls */
  while (!ll_tsne_finished(t)) {
    g_assert_cmpint(ll_tsne_step(t, 150), ==, 150);
    double kl = ll_tsne_kl(t);
    g_assert_cmpfloat(kl, <=, prev + 1e-4);
    prev = kl;
  }
  g_assert_cmpint(ll_tsne_iter(t), ==, 1000);
  g_assert_cmpint(ll_tsne_step(t, 10), ==, 0);
  g_assert_cmpfloat(prev, <, 0.6 * kl0);
  double acc = knn_accuracy(ll_tsne_embedding(t), labels, n, 5, classes);
  g_test_message("method %d: KL %.4f -> %.4f, 5-NN accuracy %.3f", method, kl0, prev, acc);
  g_assert_cmpfloat(acc, >=, 0.95);
}

static void test_blobs_exact(void) { check_blobs(LL_TSNE_EXACT); }
static void test_blobs_barnes_hut(void) { check_blobs(LL_TSNE_BARNES_HUT); }

/* Same seed -> the same layout, whatever the number of threads; another
 * seed -> another layout. */
static void test_deterministic(void)
{
  int n = 300, d = 10;
  int labels[300];
  g_autofree float *x = blobs(n, d, 3, 11, labels);
  float *runs[3];
  for (int r = 0; r < 3; r++) {
    LlTsneConfig c;
    ll_tsne_config_init(&c);
    c.method = LL_TSNE_BARNES_HUT;
    c.init = LL_TSNE_INIT_RANDOM;
    c.max_iter = 300;
    c.seed = r == 2 ? 43 : 42;
    c.threads = r == 1 ? 1 : 2;
    GError *err = NULL;
    g_autoptr(LlTsne) t = ll_tsne_new(x, n, d, &c, &err);
    g_assert_no_error(err);
    while (ll_tsne_step(t, 70) > 0) {
    }
    runs[r] = g_memdup2(ll_tsne_embedding(t), sizeof(float) * 2 * n);
  }
  g_assert_cmpmem(runs[0], sizeof(float) * 2 * n, runs[1], sizeof(float) * 2 * n);
  g_assert_true(memcmp(runs[0], runs[2], sizeof(float) * 2 * n) != 0);
  for (int r = 0; r < 3; r++)
    g_free(runs[r]);
}

/* A warm start begins at the given layout and, without exaggeration,
 * stays near a layout that is already good. */
static void test_warm_start(void)
{
  int n = 200, d = 10, classes = 4;
  int labels[200];
  g_autofree float *x = blobs(n, d, classes, 5, labels);
  LlTsneConfig c;
  ll_tsne_config_init(&c);
  c.max_iter = 600;
  GError *err = NULL;
  g_autoptr(LlTsne) cold = ll_tsne_new(x, n, d, &c, &err);
  g_assert_no_error(err);
  while (ll_tsne_step(cold, 100) > 0) {
  }
  const float *layout = ll_tsne_embedding(cold);
  double kl_cold = ll_tsne_kl(cold);

  c.exaggeration_iters = 0;
  c.max_iter = 50;
  g_autoptr(LlTsne) warm = ll_tsne_new_warm(x, n, d, &c, layout, &err);
  g_assert_no_error(err);
  g_assert_cmpint(ll_tsne_iter(warm), ==, 0);
  g_assert_cmpmem(ll_tsne_embedding(warm), sizeof(float) * 2 * n, layout, sizeof(float) * 2 * n);
  g_assert_cmpfloat(fabs(ll_tsne_kl(warm) - kl_cold), <, 1e-9);
  g_assert_cmpint(ll_tsne_step(warm, 50), ==, 50);
  /* it moved little compared with the layout's extent, and stays good */
  const float *y = ll_tsne_embedding(warm);
  double moved = 0, extent = 0;
  for (int i = 0; i < 2 * n; i++) {
    moved += fabs(y[i] - layout[i]);
    extent += fabs(layout[i]);
  }
  g_assert_cmpfloat(moved, <, 0.1 * extent);
  g_assert_cmpfloat(ll_tsne_kl(warm), <, kl_cold + 0.02);
  g_assert_cmpfloat(knn_accuracy(y, labels, n, 5, classes), >=, 0.95);
}

/* The Barnes-Hut normaliser at theta 0.5 is close to the exact one (theta 0
 * opens every cell) on the same affinities and layout. */
static void test_barnes_hut_accuracy(void)
{
  int n = 800, d = 20;
  int *labels = g_new(int, n);
  g_autofree float *x = blobs(n, d, 6, 9, labels);
  LlTsneConfig c;
  ll_tsne_config_init(&c);
  c.method = LL_TSNE_BARNES_HUT;
  c.max_iter = 400;
  GError *err = NULL;
  g_autoptr(LlTsne) t = ll_tsne_new(x, n, d, &c, &err);
  g_assert_no_error(err);
  while (ll_tsne_step(t, 100) > 0) {
  }
  double kl_bh = ll_tsne_kl(t);
  c.theta = 0;
  c.max_iter = 0;
  g_autoptr(LlTsne) t0 = ll_tsne_new_warm(x, n, d, &c, ll_tsne_embedding(t), &err);
  g_assert_no_error(err);
  double kl_exact = ll_tsne_kl(t0);
  g_test_message("KL theta 0.5 %.5f, theta 0 %.5f", kl_bh, kl_exact);
  g_assert_cmpfloat(fabs(kl_bh - kl_exact), <, 5e-3);
  g_free(labels);
}

static void test_errors(void)
{
  float x[40];
  for (int i = 0; i < 40; i++)
    x[i] = (float)(i % 7);
  LlTsneConfig c;
  ll_tsne_config_init(&c);
  GError *err = NULL;

  g_assert_null(ll_tsne_new(x, 3, 2, &c, &err)); /* n < 4 */
  g_assert_error(err, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT);
  g_clear_error(&err);

  g_assert_null(ll_tsne_new(x, 20, 2, &c, &err)); /* perplexity 30 for 20 points */
  g_assert_error(err, LL_TSNE_ERROR, LL_TSNE_ERROR_CONFIG);
  g_assert_nonnull(strstr(err->message, "perplexity"));
  g_clear_error(&err);

  c.perplexity = 5;
  c.theta = 1.5;
  g_assert_null(ll_tsne_new(x, 20, 2, &c, &err));
  g_assert_error(err, LL_TSNE_ERROR, LL_TSNE_ERROR_CONFIG);
  g_assert_nonnull(strstr(err->message, "theta"));
  g_clear_error(&err);
  c.theta = 0.5;

  x[13] = NAN;
  g_assert_null(ll_tsne_new(x, 20, 2, &c, &err));
  g_assert_error(err, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT);
  g_assert_nonnull(strstr(err->message, "point 6"));
  g_clear_error(&err);
  x[13] = INFINITY;
  g_assert_null(ll_tsne_new(x, 20, 2, &c, &err));
  g_assert_error(err, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT);
  g_clear_error(&err);
  x[13] = 1;

  float init[40] = {0};
  init[7] = NAN;
  g_assert_null(ll_tsne_new_warm(x, 20, 2, &c, init, &err));
  g_assert_error(err, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT);
  g_clear_error(&err);
  g_assert_null(ll_tsne_new_warm(x, 20, 2, &c, NULL, &err));
  g_assert_error(err, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT);
  g_clear_error(&err);

  /* the same data is fine once the settings fit; duplicate points too */
  g_autoptr(LlTsne) t = ll_tsne_new(x, 20, 2, &c, &err);
  g_assert_no_error(err);
  ll_tsne_step(t, 20);
  for (int i = 0; i < 40; i++)
    g_assert_true(isfinite(ll_tsne_embedding(t)[i]));
  g_assert_true(isfinite(ll_tsne_kl(t)));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/pca/low-rank-covariance", test_pca_covariance);
  g_test_add_func("/engine/pca/low-rank-gram", test_pca_gram);
  g_test_add_func("/engine/pca/errors", test_pca_errors);
  g_test_add_func("/engine/tsne/blobs-exact", test_blobs_exact);
  g_test_add_func("/engine/tsne/blobs-barnes-hut", test_blobs_barnes_hut);
  g_test_add_func("/engine/tsne/deterministic", test_deterministic);
  g_test_add_func("/engine/tsne/warm-start", test_warm_start);
  g_test_add_func("/engine/tsne/barnes-hut-accuracy", test_barnes_hut_accuracy);
  g_test_add_func("/engine/tsne/errors", test_errors);
  return g_test_run();
}

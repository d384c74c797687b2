/* pca.c: exact PCA through a symmetric eigensolver (see pca.h). */
#include "pca.h"

#include <math.h>
#include <string.h>

#include "host-linalg.h"

G_DEFINE_QUARK(ll - pca - error - quark, ll_pca_error)

/* Rows of centred data formed at a time (keeps the double copy small). */
#define PCA_BLOCK 1024

/* The k largest eigenpairs of the symmetric s (m, m; upper triangle in row
 * order, which is the lower one in LAPACK's column order; destroyed).
 * values (k) in decreasing order; vectors (m, k) row-major, column c
 * belonging to values[c]. */
static gboolean top_eigen(double *s, int m, int k, double *values, double *vectors, GError **error)
{
  int found = 0;
  double *w = g_new(double, m);
  double *z = g_new(double, (size_t)m *k);
  int info = ll_host_dsyevr_range(s, m, m - k + 1, m, &found, w, z);
  gboolean ok = info == 0 && found == k;
  if (!ok) {
    g_set_error(error, LL_PCA_ERROR, LL_PCA_ERROR_LAPACK,
                "PCA: the eigensolver (dsyevr) failed (info %d, %d of %d eigenpairs)", info, found,
                k);
  } else {
    /* dsyevr returns ascending values: reverse into decreasing order */
    for (int c = 0; c < k; c++) {
      values[c] = w[k - 1 - c];
      for (int r = 0; r < m; r++)
        vectors[(size_t)r * k + c] = z[(size_t)(k - 1 - c) * m + r];
    }
  }
  g_free(w);
  g_free(z);
  return ok;
}

gboolean ll_pca(const float *x, int n, int d, int k, float *out, float *explained, GError **error)
{
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  if (x == NULL || out == NULL || n < 2 || d < 1 || k < 1 || k > MIN(n, d)) {
    g_set_error(error, LL_PCA_ERROR, LL_PCA_ERROR_INPUT,
                "PCA: needs at least 2 samples and 1 <= components <= min(samples, features) "
                "(samples %d, features %d, components %d)",
                n, d, k);
    return FALSE;
  }
  size_t nd = (size_t)n * d;
  for (size_t i = 0; i < nd; i++) {
    if (!isfinite(x[i])) {
      g_set_error(error, LL_PCA_ERROR, LL_PCA_ERROR_INPUT,
                  "PCA: sample %zu, feature %zu is not a finite number", i / d, i % d);
      return FALSE;
    }
  }

  double *mean = g_new0(double, d);
  for (int i = 0; i < n; i++)
    for (int f = 0; f < d; f++)
      mean[f] += x[(size_t)i * d + f];
  for (int f = 0; f < d; f++)
    mean[f] /= n;

  gboolean ok;
  double *values = g_new(double, k);
  double total = 0;
  if (d <= n) {
    /* covariance (times n - 1) C = Xc^T Xc, (d, d), accumulated over row blocks */
    double *cov = g_new0(double, (size_t)d *d);
    double *buf = g_new(double, (size_t)PCA_BLOCK *d);
    for (int r0 = 0; r0 < n; r0 += PCA_BLOCK) {
      int rows = MIN(PCA_BLOCK, n - r0);
      for (int i = 0; i < rows; i++)
        for (int f = 0; f < d; f++)
          buf[(size_t)i * d + f] = x[(size_t)(r0 + i) * d + f] - mean[f];
      ll_host_dsyrk_upper(true, d, rows, 1.0, buf, d, 1.0, cov, d);
    }
    for (int f = 0; f < d; f++)
      total += cov[(size_t)f * d + f];
    double *v = g_new(double, (size_t)d *k); // (d, k)
    ok = top_eigen(cov, d, k, values, v, error);
    if (ok) {
      /* scores = Xc V, block by block */
      double *s = g_new(double, (size_t)PCA_BLOCK *k);
      for (int r0 = 0; r0 < n; r0 += PCA_BLOCK) {
        int rows = MIN(PCA_BLOCK, n - r0);
        for (int i = 0; i < rows; i++)
          for (int f = 0; f < d; f++)
            buf[(size_t)i * d + f] = x[(size_t)(r0 + i) * d + f] - mean[f];
        ll_host_dgemm(false, false, rows, k, d, 1.0, buf, d, v, k, 0.0, s, k);
        for (size_t i = 0; i < (size_t)rows * k; i++)
          out[(size_t)r0 * k + i] = (float)s[i];
      }
      g_free(s);
    }
    g_free(v);
    g_free(buf);
    g_free(cov);
  } else {
    /* more features than samples: Gram matrix G = Xc Xc^T, (n, n), over
     * column blocks; scores are G's eigenvectors times sqrt(eigenvalue) */
    double *gram = g_new0(double, (size_t)n *n);
    int bc = MAX(1, MIN(d, (int)((1 << 22) / n)));
    double *buf = g_new(double, (size_t)n *bc);
    for (int f0 = 0; f0 < d; f0 += bc) {
      int cols = MIN(bc, d - f0);
      for (int i = 0; i < n; i++)
        for (int f = 0; f < cols; f++)
          buf[(size_t)i * cols + f] = x[(size_t)i * d + f0 + f] - mean[f0 + f];
      ll_host_dsyrk_upper(false, n, cols, 1.0, buf, cols, 1.0, gram, n);
    }
    g_free(buf);
    for (int i = 0; i < n; i++)
      total += gram[(size_t)i * n + i];
    double *u = g_new(double, (size_t)n *k); // (n, k)
    ok = top_eigen(gram, n, k, values, u, error);
    if (ok) {
      for (int c = 0; c < k; c++) {
        double sv = sqrt(MAX(values[c], 0.0));
        for (int i = 0; i < n; i++)
          out[(size_t)i * k + c] = (float)(u[(size_t)i * k + c] * sv);
      }
    }
    g_free(u);
    g_free(gram);
  }

  if (ok) {
    /* sign: the score of largest magnitude is positive */
    for (int c = 0; c < k; c++) {
      float big = 0;
      for (int i = 0; i < n; i++) {
        float v = out[(size_t)i * k + c];
        if (fabsf(v) > fabsf(big))
          big = v;
      }
      if (big < 0)
        for (int i = 0; i < n; i++)
          out[(size_t)i * k + c] = -out[(size_t)i * k + c];
    }
    if (explained)
      for (int c = 0; c < k; c++)
        explained[c] = total > 0 ? (float)(MAX(values[c], 0.0) / total) : 0.0f;
  }
  g_free(values);
  g_free(mean);
  return ok;
}

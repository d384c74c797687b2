/* pca.h: principal component analysis of a float table.
 *
 * Exact: the covariance (d <= n) or Gram matrix (d > n) is formed in double
 * with OpenBLAS and its top k eigenpairs come from LAPACK's dsyevr (bundled
 * in OpenBLAS), so the result is deterministic and needs no seed. Each
 * component's sign is fixed so that its score of largest magnitude is
 * positive (scikit-learn's svd_flip on U).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LL_PCA_ERROR (ll_pca_error_quark())
GQuark ll_pca_error_quark(void);
typedef enum {
  LL_PCA_ERROR_INPUT,  /* sizes out of range, NaN or infinity in the data */
  LL_PCA_ERROR_LAPACK, /* the eigensolver failed */
} LlPcaError;

/* Centres x and projects it on its top k principal components.
 * explained, when not NULL, gets each component's explained variance
 * ratio (its variance over the total), in decreasing order.
 * Needs n >= 2 and 1 <= k <= min(n, d). */
gboolean ll_pca(const float *x, // (n, d)
                int n, int d, int k,
                float *out,       // (n, k)
                float *explained, // (k) or NULL
                GError **error);

G_END_DECLS

/* host-linalg.h: dense linear algebra on host memory, for the engine's
 * analyses (PCA, t-SNE's neighbour search).
 *
 * Thin calls into OpenBLAS and its LAPACK, so that only kernels/ links BLAS:
 * the engine includes this header, never cblas.h. Row-major throughout, the
 * arguments mean what BLAS's mean, and the results are OpenBLAS's bits. These
 * run on the calling thread (with OpenBLAS's own threads, if it has any); they
 * are not backend slots, because their data never lives on a device.
 *
 * Plain C: no GLib. */
#pragma once

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* c(m, n) = alpha op(a) op(b) + beta c, float; op = transpose when ta / tb */
void ll_host_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc);
/* The same in double precision. */
void ll_host_dgemm(bool ta, bool tb, int m, int n, int k, double alpha, const double *a, int lda,
                   const double *b, int ldb, double beta, double *c, int ldc);
/* The upper triangle of c(n, n) = alpha a a^T + beta c, with a(n, k); with
 * trans, alpha a^T a + beta c with a(k, n). */
void ll_host_dsyrk_upper(bool trans, int n, int k, double alpha, const double *a, int lda,
                         double beta, double *c, int ldc);
/* Eigenpairs il..iu (1-based, in ascending order of eigenvalue) of the
 * symmetric s(m, m), of which the upper triangle in row order is read (s is
 * destroyed): LAPACK's dsyevr. Writes the iu - il + 1 eigenvalues to w (at
 * least m entries of room) in ascending order, their eigenvectors to z as
 * iu - il + 1 rows of m (LAPACK's column order), and the number found to
 * *found. Returns LAPACK's info (0: success; -1000 when out of memory). */
int ll_host_dsyevr_range(double *s, int m, int il, int iu, int *found, double *w, double *z);

#ifdef __cplusplus
}
#endif
